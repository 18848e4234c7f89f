package index

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/inventory"
)

// maxListedCaps bounds the caps listed per organization; the totals are kept.
const maxListedCaps = 20

func (e *engine) result() Result {
	res := Result{Method: e.m.ID, AsOf: e.asOf, Orgs: []OrgResult{}, Systems: []SystemResult{}}
	cands := make([][]candidate, len(e.sys))
	for si := range e.sys {
		cands[si] = e.systemCandidates(si)
	}
	for si, sf := range e.sys {
		res.Systems = append(res.Systems, e.systemResult(sf, cands[si]))
	}
	e.rank()
	for _, ni := range e.order {
		res.Orgs = append(res.Orgs, e.orgResult(ni, cands))
	}
	res.Warnings = e.warnings
	return res
}

func (e *engine) grade(tenths int) Grade {
	for _, b := range e.m.Bands {
		if tenths >= Tenths(b.Min) {
			return b.Grade
		}
	}
	return Fails
}

func (e *engine) gradeText(g Grade) (vi, en string) {
	for _, b := range e.m.Bands {
		if b.Grade == g {
			return b.VI, b.EN
		}
	}
	return string(g), string(g)
}

// rank ranks each organization among its siblings by its stored figure; ties share a rank.
func (e *engine) rank() {
	var roots []int
	for i, n := range e.orgs {
		if n.parent == -1 {
			roots = append(roots, i)
		}
	}
	groups := [][]int{roots}
	for _, n := range e.orgs {
		groups = append(groups, n.children)
	}
	for _, g := range groups {
		tenths := make([]int, len(g))
		for k, i := range g {
			tenths[k] = Tenths(e.orgs[i].index)
		}
		slices.Sort(tenths)
		for _, i := range g {
			t := Tenths(e.orgs[i].index)
			// 1 + the number of peers with a higher figure.
			e.orgs[i].rank = 1 + len(tenths) - upperBound(tenths, t)
			e.orgs[i].peers = len(g)
		}
	}
}

func upperBound(sorted []int, x int) int {
	i, _ := slices.BinarySearch(sorted, x+1)
	return i
}

func stageText(s inventory.Stage) (vi, en string) {
	switch s {
	case inventory.StagePlanning:
		return "lập kế hoạch", "planning"
	case inventory.StageDesign:
		return "thiết kế", "design"
	case inventory.StageBuild:
		return "xây dựng", "build"
	case inventory.StageTest:
		return "thử nghiệm", "test"
	case inventory.StageOperation:
		return "vận hành", "operation"
	case inventory.StageRetired:
		return "ngừng sử dụng", "retired"
	}
	return string(s), string(s)
}

func dateVI(t time.Time) string { return t.UTC().Format("15:04 02/01/2006") }
func dateEN(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func (e *engine) systemResult(sf *sysFacts, cands []candidate) SystemResult {
	b := sf.base
	r := SystemResult{
		System: sf.s.ID, Org: sf.s.Org, Name: sf.s.Name, Level: sf.s.Level, Stage: sf.s.Stage, Weight: sf.weight,
		Index: b.score, Tenths: Tenths(b.score), Uncapped: b.raw,
		Technical: b.tech, TechnicalUncapped: b.techRaw, Controls: b.ctl, HasControls: b.hasCtl,
		ControlsRequired: len(sf.required), ControlsMet: sf.metCount,
		NeverAssessed: sf.never, InternetFacing: sf.internet, Passing: sf.counts.Passing == 1,
		Resources: []ResourceResult{}, ControlStates: []ControlState{}, Counts: sf.counts,
	}
	r.Grade = e.grade(r.Tenths)
	for i := range sf.res {
		r.Resources = append(r.Resources, e.resourceResult(&sf.res[i]))
	}
	for k, ci := range sf.required {
		c := e.controls[ci]
		a, st := sf.attests[k], sf.states[k]
		vi, en := control.Describe(a, st)
		r.ControlStates = append(r.ControlStates, ControlState{Control: c.ID, Met: sf.met[k], State: string(st), Attestation: a.ID,
			Text: check.Text{VI: c.Title.VI + ": " + vi, EN: c.Title.EN + ": " + en}})
	}
	r.Caps = e.systemCaps(sf)
	r.Actions = e.systemActions(sf, cands)
	r.Explanation = e.systemExplanation(sf, r)
	return r
}

func (e *engine) resourceResult(rf *resFacts) ResourceResult {
	rr := ResourceResult{ID: rf.r.ID, State: rf.state, LastAssessed: rf.r.LastAssessed.UTC(), FreshUntil: rf.freshUntil}
	if rf.r.LastAssessed.IsZero() {
		rr.LastAssessed = time.Time{}
	}
	switch rf.state {
	case resNever:
		rr.Counted = true
		rr.Reason = check.Text{VI: "Chưa từng được đánh giá: tính là không đạt mọi kiểm tra (chưa rõ thì chưa bảo đảm).",
			EN: "Never assessed: counts as failing every check (unknown is not assured)."}
	case resStale:
		rr.Counted = true
		rr.Reason = check.Text{
			VI: fmt.Sprintf("Đánh giá gần nhất lúc %s, quá hạn từ %s: tính là không đạt mọi kiểm tra.", dateVI(rf.r.LastAssessed), dateVI(rf.freshUntil)),
			EN: fmt.Sprintf("Last assessed %s, overdue since %s: counts as failing every check.", dateEN(rf.r.LastAssessed), dateEN(rf.freshUntil))}
	default:
		score, a, f, ok := e.resourceScore(rf.n, rf.open, rf.acc)
		rr.Applicable, rr.Failing = a, f
		if !ok {
			rr.State = resNothing
			rr.Reason = check.Text{VI: "Không có kiểm tra nào áp dụng được: không tính vào điểm kỹ thuật.",
				EN: "No check applies: not counted in the technical score."}
			break
		}
		rr.Score, rr.Counted = score, true
		svi, sen := num(score)
		fvi, fen := weightText(f)
		avi, aen := weightText(a)
		rr.Reason = check.Text{
			VI: fmt.Sprintf("Đánh giá lúc %s: trọng số không đạt %s trên %s áp dụng → %s.", dateVI(rf.r.LastAssessed), fvi, avi, svi),
			EN: fmt.Sprintf("Assessed %s: failing weight %s of %s applicable → %s.", dateEN(rf.r.LastAssessed), fen, aen, sen)}
	}
	return rr
}

// systemCaps lists the caps that bound a system, each with the fact behind it.
func (e *engine) systemCaps(sf *sysFacts) []Cap {
	var caps []Cap
	b := sf.base
	if sf.openCrit > 0 {
		v, vs := e.m.TechnicalCaps.OpenCritical, fmt.Sprint(e.m.TechnicalCaps.OpenCritical)
		caps = append(caps, Cap{Kind: CapOpenCritical, Value: v, System: sf.s.ID, Reason: check.Text{
			VI: fmt.Sprintf("Điểm kỹ thuật tối đa %s: còn %d phát hiện mức nghiêm trọng chưa khắc phục.", vs, sf.openCrit),
			EN: fmt.Sprintf("Technical score at most %s: %d critical finding(s) open.", vs, sf.openCrit)}})
	}
	if sf.openHigh > 0 {
		v, vs := e.m.TechnicalCaps.OpenHigh, fmt.Sprint(e.m.TechnicalCaps.OpenHigh)
		caps = append(caps, Cap{Kind: CapOpenHigh, Value: v, System: sf.s.ID, Reason: check.Text{
			VI: fmt.Sprintf("Điểm kỹ thuật tối đa %s: còn %d phát hiện mức cao chưa khắc phục.", vs, sf.openHigh),
			EN: fmt.Sprintf("Technical score at most %s: %d high finding(s) open.", vs, sf.openHigh)}})
	}
	if b.noDossier {
		caps = append(caps, e.noDossierCap(sf))
	}
	if b.kev {
		caps = append(caps, e.kevCap(sf))
	}
	for _, i := range sf.incLate {
		caps = append(caps, e.incidentCap(capLate, e.incs[i]))
	}
	for _, i := range sf.incBreach {
		caps = append(caps, e.incidentCap(capBreach, e.incs[i]))
	}
	for _, i := range sf.incSecret {
		caps = append(caps, e.incidentCap(capSecret, e.incs[i]))
	}
	return caps
}

func (e *engine) noDossierCap(sf *sysFacts) Cap {
	vs := fmt.Sprint(e.m.Caps.NoDossier)
	return Cap{Kind: CapNoDossier, Value: e.m.Caps.NoDossier, System: sf.s.ID, Reason: check.Text{
		VI: fmt.Sprintf("Tối đa %s: hệ thống %s đang vận hành khi hồ sơ cấp độ chưa được phê duyệt (Nghị định 331/2026, Điều 30.6).", vs, sf.s.ID),
		EN: fmt.Sprintf("At most %s: system %s is in operation without an approved level dossier (Decree 331/2026, Art. 30.6).", vs, sf.s.ID)}}
}

func (e *engine) kevCap(sf *sysFacts) Cap {
	var oldest *findFacts
	for i := range sf.findings {
		if f := &sf.findings[i]; f.kev && (oldest == nil || f.opened.Before(oldest.opened)) {
			oldest = f
		}
	}
	vs := fmt.Sprint(e.m.Caps.KnownExploited)
	how := check.Text{VI: "suy ra từ phiên bản", EN: "inferred from a version"}
	if oldest.f.Confirmed {
		how = check.Text{VI: "đã xác nhận", EN: "confirmed"}
	}
	return Cap{Kind: CapKnownExploited, Value: e.m.Caps.KnownExploited, System: sf.s.ID, Finding: oldest.f.Fingerprint, Reason: check.Text{
		VI: fmt.Sprintf("Tối đa %s: hệ thống cấp độ %d có tài nguyên trên Internet còn %d lỗ hổng đã bị khai thác trong thực tế mở quá %d ngày (lâu nhất: %s trên %s, %s, từ %s).",
			vs, sf.s.Level, sf.kevOpen, e.m.Caps.KnownExploitedDays, oldest.f.Check, oldest.f.Resource, how.VI, dateVI(oldest.opened)),
		EN: fmt.Sprintf("At most %s: level-%d system facing the Internet has %d known-exploited vulnerabilit(ies) open for more than %d days (oldest: %s on %s, %s, since %s).",
			vs, sf.s.Level, sf.kevOpen, e.m.Caps.KnownExploitedDays, oldest.f.Check, oldest.f.Resource, how.EN, dateEN(oldest.opened))}}
}

func (e *engine) incidentCap(kind int, f *incFacts) Cap {
	v := e.capValue(kind)
	vs := fmt.Sprint(v)
	c := Cap{Kind: capKinds[kind], Value: v, System: f.i.System, Incident: f.i.ID}
	switch kind {
	case capLate:
		c.Reason = check.Text{
			VI: fmt.Sprintf("Tối đa %s: sự cố nghiêm trọng %s (phát hiện %s) không được báo cáo Bộ Công an trong %d giờ / %d giờ (Nghị định 331/2026, Điều 31.2.d).",
				vs, f.i.ID, dateVI(f.i.DiscoveredAt), e.m.Deadlines.IncidentNoticeHours, e.m.Deadlines.IncidentReportHours),
			EN: fmt.Sprintf("At most %s: serious incident %s (discovered %s) was not reported to the Ministry of Public Security within %d h / %d h (Decree 331/2026, Art. 31.2.d).",
				vs, f.i.ID, dateEN(f.i.DiscoveredAt), e.m.Deadlines.IncidentNoticeHours, e.m.Deadlines.IncidentReportHours)}
	case capBreach:
		c.Reason = check.Text{
			VI: fmt.Sprintf("Tối đa %s: vi phạm dữ liệu cá nhân %s (phát hiện %s) không được thông báo trong %d giờ (Luật 91/2025, Điều 23).",
				vs, f.i.ID, dateVI(f.i.DiscoveredAt), e.m.Deadlines.BreachNoticeHours),
			EN: fmt.Sprintf("At most %s: personal-data breach %s (discovered %s) was not notified within %d h (Law 91/2025, Art. 23).",
				vs, f.i.ID, dateEN(f.i.DiscoveredAt), e.m.Deadlines.BreachNoticeHours)}
	case capSecret:
		c.Reason = check.Text{
			VI: fmt.Sprintf("Tối đa %s: sự cố %s (phát hiện %s) làm lộ, lọt tài liệu bí mật nhà nước.", vs, f.i.ID, dateVI(f.i.DiscoveredAt)),
			EN: fmt.Sprintf("At most %s: incident %s (discovered %s) leaked state-secret material.", vs, f.i.ID, dateEN(f.i.DiscoveredAt))}
	}
	return c
}

func (e *engine) systemExplanation(sf *sysFacts, r SystemResult) []check.Text {
	var out []check.Text
	add := func(vi, en string) { out = append(out, check.Text{VI: vi, EN: en}) }
	b := sf.base
	svi, sen := stageText(sf.s.Stage)
	wvi, wen := weightText(sf.weight)
	if sf.weight > 0 {
		add(fmt.Sprintf("Cấp độ %d, giai đoạn %s: trọng số %s trong chỉ số của cơ quan.", sf.s.Level, svi, wvi),
			fmt.Sprintf("Level %d, %s stage: weight %s in its organizations' indexes.", sf.s.Level, sen, wen))
	} else {
		add(fmt.Sprintf("Cấp độ %d, giai đoạn %s: không tính vào chỉ số của cơ quan.", sf.s.Level, svi),
			fmt.Sprintf("Level %d, %s stage: does not count in its organizations' indexes.", sf.s.Level, sen))
	}
	if sf.never {
		add("Chưa có tài nguyên nào được đánh giá: điểm 0. Chưa rõ thì chưa bảo đảm; xác nhận biện pháp quản lý chỉ được tính khi hệ thống đã được đánh giá kỹ thuật.",
			"No resource has been assessed: score 0. Unknown is not assured; attested controls count only once the system has been assessed.")
	}
	counted := 0
	for _, rr := range r.Resources {
		if rr.Counted {
			counted++
		}
	}
	tvi, ten := num(b.techRaw)
	switch {
	case len(sf.res) == 0:
		add("Chưa đăng ký tài nguyên nào: điểm kỹ thuật 0.", "No resource registered: technical score 0.")
	case counted == 0:
		add("Không tài nguyên nào có kiểm tra áp dụng được: điểm kỹ thuật 0.", "No resource has an applicable check: technical score 0.")
	default:
		add(fmt.Sprintf("Điểm kỹ thuật %s: trung bình của %d tài nguyên (tài nguyên quá hạn hoặc chưa đánh giá tính 0).", tvi, counted),
			fmt.Sprintf("Technical score %s: the mean of %d resource(s) (overdue or never assessed ones count 0).", ten, counted))
	}
	if b.tech < b.techRaw {
		cvi, cen := num(b.tech)
		add(fmt.Sprintf("Điểm kỹ thuật bị giới hạn ở %s do còn phát hiện nghiêm trọng hoặc cao chưa khắc phục.", cvi),
			fmt.Sprintf("Technical score capped at %s while critical or high findings are open.", cen))
	}
	if b.hasCtl {
		cvi, cen := num(b.ctl)
		add(fmt.Sprintf("Biện pháp quản lý: %d/%d biện pháp bắt buộc ở cấp độ %d đã được xác nhận và duyệt còn hiệu lực → %s.", sf.metCount, len(sf.required), sf.s.Level, cvi),
			fmt.Sprintf("Controls: %d of %d controls required at level %d attested, approved and valid → %s.", sf.metCount, len(sf.required), sf.s.Level, cen))
		if !sf.never {
			tv, te := num(b.tech)
			rv, re := num(b.raw)
			tw, twe := weightText(e.m.System.Technical)
			cw, cwe := weightText(e.m.System.Controls)
			add(fmt.Sprintf("Điểm hệ thống = %s × %s + %s × %s = %s.", tw, tv, cw, cvi, rv),
				fmt.Sprintf("System score = %s × %s + %s × %s = %s.", twe, te, cwe, cen, re))
		}
	}
	for _, c := range r.Caps {
		if c.Kind != CapOpenCritical && c.Kind != CapOpenHigh {
			out = append(out, c.Reason)
		}
	}
	if b.score < b.raw {
		v, en := num(b.score)
		add(fmt.Sprintf("Điểm bị giới hạn ở %s.", v), fmt.Sprintf("The score is capped at %s.", en))
	}
	gvi, gen := e.gradeText(r.Grade)
	fv, fe := num(b.score)
	add(fmt.Sprintf("Kết quả: %s — %s.", fv, gvi), fmt.Sprintf("Result: %s — %s.", fe, gen))
	return out
}

func deadlineText(d Deadline) check.Text {
	var what check.Text
	switch d.Kind {
	case "incident_notice":
		what = check.Text{VI: "thông báo ban đầu sự cố " + d.Ref, EN: "initial notice of incident " + d.Ref}
	case "incident_report":
		what = check.Text{VI: "báo cáo nguyên nhân, phạm vi, khắc phục sự cố " + d.Ref, EN: "cause, scope and remedy report of incident " + d.Ref}
	case "breach_notice":
		what = check.Text{VI: "thông báo vi phạm dữ liệu cá nhân " + d.Ref, EN: "personal-data breach notice " + d.Ref}
	default:
		what = check.Text{VI: "trả lời yêu cầu " + d.Ref + " của cơ quan có thẩm quyền", EN: "answer to authority request " + d.Ref}
	}
	switch d.State {
	case DeadlineMet:
		return check.Text{VI: fmt.Sprintf("Đúng hạn: %s (hạn %s, thực hiện %s).", what.VI, dateVI(d.Due), dateVI(d.Done)),
			EN: fmt.Sprintf("On time: %s (due %s, done %s).", what.EN, dateEN(d.Due), dateEN(d.Done))}
	case DeadlineLate:
		return check.Text{VI: fmt.Sprintf("Trễ hạn: %s (hạn %s, thực hiện %s).", what.VI, dateVI(d.Due), dateVI(d.Done)),
			EN: fmt.Sprintf("Late: %s (due %s, done %s).", what.EN, dateEN(d.Due), dateEN(d.Done))}
	case DeadlineOverdue:
		return check.Text{VI: fmt.Sprintf("Quá hạn, chưa thực hiện: %s (hạn %s).", what.VI, dateVI(d.Due)),
			EN: fmt.Sprintf("Overdue, not done: %s (due %s).", what.EN, dateEN(d.Due))}
	}
	return check.Text{VI: fmt.Sprintf("Sắp đến hạn: %s (hạn %s).", what.VI, dateVI(d.Due)),
		EN: fmt.Sprintf("Due soon: %s (due %s).", what.EN, dateEN(d.Due))}
}

func (e *engine) orgResult(ni int, cands [][]candidate) OrgResult {
	n := e.orgs[ni]
	r := OrgResult{
		Org: n.org.Code, Name: n.org.Name, Depth: n.depth,
		Index: n.index, Tenths: Tenths(n.index), Uncapped: n.raw,
		Systems: n.sysPart, Weight: n.w, HasSystems: n.hasSys, Controls: n.oc,
		Own: n.ownCounts, Subtree: n.sub, Contributions: []Contribution{}, Rank: n.rank, Peers: n.peers,
	}
	if n.parent >= 0 {
		r.Parent = e.orgs[n.parent].org.Code
	}
	r.Grade = e.grade(r.Tenths)
	r.Contributions = e.contributions(ni)
	r.Caps, r.SubtreeCaps = e.orgCaps(ni)
	r.Pillars, r.PillarTotal = e.pillars(ni)
	r.Actions = e.orgActions(ni, cands)
	r.Removed = n.removed
	for _, d := range n.deadlines {
		if d.State != DeadlineMet {
			r.Deadlines = append(r.Deadlines, d)
		}
	}
	r.Explanation = e.orgExplanation(ni, &r)
	return r
}

func (e *engine) contributions(ni int) []Contribution {
	n := e.orgs[ni]
	out := []Contribution{}
	share := e.m.Org.Systems
	if !n.hasCtl {
		share = 1
	}
	if n.hasSys {
		for _, si := range n.own {
			sf := e.sys[si]
			if !sf.eligible {
				continue
			}
			pts := float64(share*float64(sf.weight*sf.base.score)) / n.w
			svi, sen := stageText(sf.s.Stage)
			wvi, wen := weightText(sf.weight)
			scv, sce := num(sf.base.score)
			pv, pe := num(pts)
			out = append(out, Contribution{Kind: "system", ID: sf.s.ID, Name: sf.s.Name, Level: sf.s.Level, Stage: sf.s.Stage,
				Weight: sf.weight, Score: sf.base.score, Points: pts, Reason: check.Text{
					VI: fmt.Sprintf("Hệ thống %s, cấp độ %d, %s (trọng số %s): điểm %s, đóng góp %s điểm.", sf.s.Name, sf.s.Level, svi, wvi, scv, pv),
					EN: fmt.Sprintf("System %s, level %d, %s (weight %s): score %s, contributes %s points.", sf.s.Name, sf.s.Level, sen, wen, sce, pe)}})
		}
		for _, ci := range n.children {
			c := e.orgs[ci]
			if !c.hasSys {
				continue
			}
			pts := float64(share*float64(c.w*c.sysPart)) / n.w
			wvi, wen := weightText(c.w)
			scv, sce := num(c.sysPart)
			pv, pe := num(pts)
			out = append(out, Contribution{Kind: "org", ID: c.org.Code, Name: c.org.Name, Weight: c.w, Score: c.sysPart, Points: pts, Reason: check.Text{
				VI: fmt.Sprintf("Các hệ thống thuộc %s (tổng trọng số %s): điểm bình quân %s, đóng góp %s điểm.", c.org.Name, wvi, scv, pv),
				EN: fmt.Sprintf("Systems under %s (total weight %s): mean score %s, contributes %s points.", c.org.Name, wen, sce, pe)}})
		}
	}
	if n.hasCtl {
		ctlShare := e.m.Org.Controls
		if !n.hasSys {
			ctlShare = 1
		}
		pts := float64(ctlShare * n.ctlScore)
		ov, oe := num(n.ctlScore)
		wv, we := weightText(ctlShare)
		pv, pe := num(pts)
		out = append(out, Contribution{Kind: "controls", Name: n.org.Name, Weight: ctlShare, Score: n.ctlScore, Points: pts, Reason: check.Text{
			VI: fmt.Sprintf("Biện pháp quản lý của cơ quan: %s × %s = %s điểm.", wv, ov, pv),
			EN: fmt.Sprintf("The organization's own controls: %s × %s = %s points.", we, oe, pe)}})
	}
	return out
}

// orgCaps lists the caps applied to an organization and, when caps reach only the owner, the
// conditions further down its subtree; at most maxListedCaps each, strictest first.
func (e *engine) orgCaps(ni int) (applied, below []Cap) {
	var all, sub []Cap
	inSubtree := map[int]bool{}
	var mark func(i int)
	mark = func(i int) {
		inSubtree[i] = true
		for _, c := range e.orgs[i].children {
			mark(c)
		}
	}
	mark(ni)
	for _, si := range e.orgs[ni].subtree {
		sf := e.sys[si]
		var cs []Cap
		if sf.base.noDossier {
			cs = append(cs, e.noDossierCap(sf))
		}
		if sf.base.kev {
			cs = append(cs, e.kevCap(sf))
		}
		if e.inReach(ni, sf) {
			all = append(all, cs...)
		} else {
			sub = append(sub, cs...)
		}
	}
	for _, f := range e.incs {
		if f.org < 0 || !inSubtree[f.org] {
			continue
		}
		var cs []Cap
		if f.late {
			cs = append(cs, e.incidentCap(capLate, f))
		}
		if f.lateBreach {
			cs = append(cs, e.incidentCap(capBreach, f))
		}
		if f.secret {
			cs = append(cs, e.incidentCap(capSecret, f))
		}
		if e.m.Caps.Reach == ReachSubtree || f.org == ni {
			all = append(all, cs...)
		} else {
			sub = append(sub, cs...)
		}
	}
	order := func(a, b Cap) int {
		return cmp.Or(cmp.Compare(a.Value, b.Value), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.System, b.System), cmp.Compare(a.Incident, b.Incident))
	}
	slices.SortStableFunc(all, order)
	slices.SortStableFunc(sub, order)
	if len(all) > maxListedCaps {
		all = all[:maxListedCaps]
	}
	if len(sub) > maxListedCaps {
		sub = sub[:maxListedCaps]
	}
	return all, sub
}

func (e *engine) pillars(ni int) ([]PillarScore, float64) {
	n := e.orgs[ni]
	var acc [4]pillarAcc
	for _, si := range n.subtree {
		sp := e.systemPillars(e.sys[si])
		for i := range acc {
			acc[i].num += sp[i].num
			acc[i].den += sp[i].den
			acc[i].items += sp[i].items
		}
	}
	ow := e.levelWeight(n.level)
	for _, ci := range e.orgCtl {
		c := e.controls[ci]
		if !c.AppliesAt(n.level) {
			continue
		}
		p, ok := e.pillarOf(c)
		if !ok {
			continue
		}
		met := 0.0
		if n.met[ci] {
			met = 1
		}
		if i := pillarIndex(p); i >= 0 {
			acc[i].item(met, ow)
		}
	}
	names := [4]check.Text{
		{VI: "Pháp lý – tuân thủ: hồ sơ cấp độ được duyệt và biện pháp pháp lý đã xác nhận", EN: "Legal compliance: approved level dossiers and attested legal controls"},
		{VI: "Kỹ thuật: kết quả đánh giá kỹ thuật và biện pháp kỹ thuật đã xác nhận", EN: "Technical: assessment results and attested technical controls"},
		{VI: "Tổ chức: biện pháp tổ chức đã xác nhận", EN: "Organizational: attested organizational controls"},
		{VI: "Năng lực: đào tạo, chứng chỉ, diễn tập đã xác nhận", EN: "Capacity: attested training, certification and drills"},
	}
	var out []PillarScore
	total := 0.0
	for i, p := range Pillars[:4] {
		ps := PillarScore{Pillar: p, Items: acc[i].items}
		if acc[i].den > 0 {
			ps.Points = float64(20*acc[i].num) / acc[i].den
		}
		pv, pe := num(ps.Points)
		ps.Reason = check.Text{VI: fmt.Sprintf("%s: %s/20 trên %d mục (có trọng số theo cấp độ).", names[i].VI, pv, ps.Items),
			EN: fmt.Sprintf("%s: %s/20 over %d item(s) (weighted by level).", names[i].EN, pe, ps.Items)}
		out = append(out, ps)
		total += ps.Points
	}
	met, late, overdue := n.coop[0], n.coop[1], n.coop[2]
	due := met + late + overdue
	coop := PillarScore{Pillar: PillarCooperation, Items: due, Points: 20}
	if due > 0 {
		coop.Points = float64(20*float64(met)) / float64(due)
	}
	pv, pe := num(coop.Points)
	coop.Reason = check.Text{
		VI: fmt.Sprintf("Phối hợp: %d/%d nghĩa vụ báo cáo sự cố và trả lời yêu cầu của cơ quan có thẩm quyền đúng hạn trong 12 tháng → %s/20.", met, due, pv),
		EN: fmt.Sprintf("Cooperation: %d of %d incident reports and authority requests on time over the last 12 months → %s/20.", met, due, pe)}
	if due == 0 {
		coop.Reason = check.Text{VI: "Phối hợp: không có nghĩa vụ nào đến hạn trong 12 tháng, không có gì trễ → 20/20.",
			EN: "Cooperation: nothing fell due over the last 12 months, nothing is late → 20/20."}
	}
	out = append(out, coop)
	total += coop.Points
	return out, total
}

func (e *engine) orgExplanation(ni int, r *OrgResult) []check.Text {
	n := e.orgs[ni]
	var out []check.Text
	add := func(vi, en string) { out = append(out, check.Text{VI: vi, EN: en}) }
	sv, se := num(n.sysPart)
	ov, oe := num(n.ctlScore)
	rv, re := num(n.raw)
	wv, we := weightText(n.w)
	switch {
	case n.hasSys && n.hasCtl:
		a, ae := weightText(e.m.Org.Systems)
		b, be := weightText(e.m.Org.Controls)
		add(fmt.Sprintf("Chỉ số = %s × %s (bình quân điểm hệ thống theo cấp độ, tổng trọng số %s) + %s × %s (biện pháp quản lý của cơ quan) = %s.", a, sv, wv, b, ov, rv),
			fmt.Sprintf("Index = %s × %s (level-weighted mean of system scores, total weight %s) + %s × %s (the organization's own controls) = %s.", ae, se, we, be, oe, re))
	case n.hasSys:
		add(fmt.Sprintf("Chỉ số = %s: bình quân điểm hệ thống theo cấp độ (chưa có biện pháp quản lý nào bắt buộc).", rv),
			fmt.Sprintf("Index = %s: the level-weighted mean of system scores (no organization control is required).", re))
	case n.hasCtl:
		add(fmt.Sprintf("Không có hệ thống nào đang xây dựng, thử nghiệm hoặc vận hành: chỉ số bằng điểm biện pháp quản lý của cơ quan, %s.", ov),
			fmt.Sprintf("No system in build, test or operation: the index is the organization's own controls score, %s.", oe))
	default:
		add("Không có dữ liệu để đánh giá: chỉ số 0.", "Nothing to rate: index 0.")
	}
	if oc := n.oc; oc.Defined {
		var parts, partsEN []string
		for _, l := range oc.Levels {
			parts = append(parts, fmt.Sprintf("cấp %d: %d/%d", l.Level, l.Met, l.Required))
			partsEN = append(partsEN, fmt.Sprintf("level %d: %d/%d", l.Level, l.Met, l.Required))
		}
		add(fmt.Sprintf("Biện pháp quản lý của cơ quan (cấp %d, theo hệ thống cấp độ cao nhất của cơ quan): %s; điểm là tỷ lệ thấp nhất (cấp %d) = %s — biện pháp nâng cao không bù cho biện pháp cơ bản còn thiếu.",
			oc.Level, strings.Join(parts, ", "), oc.BindingLevel, ov),
			fmt.Sprintf("Organization controls (level %d, its highest own system level): %s; the score is the lowest share (level %d) = %s — advanced controls do not make up for missing basic ones.",
				oc.Level, strings.Join(partsEN, ", "), oc.BindingLevel, oe))
	}
	if n.index < n.raw {
		iv, ie := num(n.index)
		add(fmt.Sprintf("Giới hạn điểm yếu nhất áp dụng sau khi tổng hợp: chỉ số còn %s.", iv),
			fmt.Sprintf("Weakest-link caps, applied after aggregation: the index is %s.", ie))
	}
	for _, c := range r.Caps {
		out = append(out, c.Reason)
	}
	if len(r.SubtreeCaps) > 0 {
		add(fmt.Sprintf("Các đơn vị cấp dưới có %d điều kiện giới hạn (áp dụng cho đơn vị đó; ở đây thể hiện qua điểm hệ thống bị giới hạn).", countBelow(e, ni)),
			fmt.Sprintf("Units below have %d capping condition(s) (applied to them; here they show through the capped system scores).", countBelow(e, ni)))
	}
	for _, rs := range n.removed {
		svi, sen := stageText(rs.Stage)
		add(fmt.Sprintf("Hệ thống %s (%s, cấp độ %d, %s) của %s đã bị xóa khỏi danh mục lúc %s bởi %s%s; không còn được tính.", rs.ID, rs.Name, rs.Level, svi, rs.Org, dateVI(rs.RemovedAt), rs.By, reasonSuffix(rs.Reason)),
			fmt.Sprintf("System %s (%s, level %d, %s) of %s was removed from the inventory at %s by %s%s; it no longer counts.", rs.ID, rs.Name, rs.Level, sen, rs.Org, dateEN(rs.RemovedAt), rs.By, reasonSuffix(rs.Reason)))
	}
	gvi, gen := e.gradeText(r.Grade)
	iv, ie := num(n.index)
	add(fmt.Sprintf("Kết quả: %s — %s; xếp thứ %d/%d trong các đơn vị cùng cấp.", iv, gvi, n.rank, n.peers),
		fmt.Sprintf("Result: %s — %s; ranked %d of %d among its peers.", ie, gen, n.rank, n.peers))
	return out
}

func reasonSuffix(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// countBelow counts the capping conditions in the subtree not applied to ni.
func countBelow(e *engine, ni int) int {
	n := 0
	for _, si := range e.orgs[ni].subtree {
		sf := e.sys[si]
		if e.inReach(ni, sf) {
			continue
		}
		if sf.base.noDossier {
			n++
		}
		if sf.base.kev {
			n++
		}
	}
	for _, f := range e.incs {
		if f.org < 0 || f.org == ni || e.m.Caps.Reach == ReachSubtree || !e.isBelow(f.org, ni) {
			continue
		}
		for _, b := range []bool{f.late, f.lateBreach, f.secret} {
			if b {
				n++
			}
		}
	}
	return n
}

func (e *engine) isBelow(o, ni int) bool {
	for o = e.orgs[o].parent; o != -1; o = e.orgs[o].parent {
		if o == ni {
			return true
		}
	}
	return false
}
