package index

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/khien-vn/khien/internal/check"
)

// candidate is one action on one system (or one organization control) with the system's score
// after it, computed by running the system formula on the changed facts.
type candidate struct {
	kind    ActionKind
	sys     int // system index; -1 for an organization control
	org     int // organization control: the node
	ctl     int // organization control: index into engine.controls; attest: index into sysFacts.required
	find    int // fix: index into sysFacts.findings
	similar int
	ch      change
	score   float64        // the system's score with the change
	removed [nCapKinds]int // organization cap conditions the change takes away
}

var kindOrder = map[ActionKind]int{ActionFixFinding: 0, ActionAttestControl: 1, ActionApproveLevel: 2}

// systemCandidates lists the actions on a system that change its score or lift a cap. Fixing
// any of several findings of the same severity, acceptance and exploitation on one resource has
// exactly the same effect, so one stands for all of them (Action.Similar).
func (e *engine) systemCandidates(si int) []candidate {
	sf := e.sys[si]
	var out []candidate
	consider := func(c candidate) {
		s := e.scoreSystem(sf, c.ch)
		c.score = s.score
		if sf.base.noDossier && !s.noDossier {
			c.removed[capNoDossier] = 1
		}
		if sf.base.kev && !s.kev {
			c.removed[capKEV] = 1
		}
		if c.score > sf.base.score || c.removed != [nCapKinds]int{} {
			out = append(out, c)
		}
	}
	type signature struct {
		res, sev      int
		accepted, kev bool
	}
	first := map[signature]int{}
	count := map[signature]int{}
	var reps []int
	for i, ff := range sf.findings {
		k := signature{ff.res, ff.sev, ff.accepted, ff.kev}
		if _, ok := first[k]; !ok {
			first[k] = i
			reps = append(reps, i)
		}
		count[k]++
	}
	for _, i := range reps {
		ff := &sf.findings[i]
		k := signature{ff.res, ff.sev, ff.accepted, ff.kev}
		consider(candidate{kind: ActionFixFinding, sys: si, find: i, similar: count[k] - 1,
			ch: change{kind: ActionFixFinding, res: ff.res, sev: ff.sev, accepted: ff.accepted, kev: ff.kev}})
	}
	for k := range sf.required {
		if !sf.met[k] {
			consider(candidate{kind: ActionAttestControl, sys: si, ctl: k, ch: change{kind: ActionAttestControl, ctl: k}})
		}
	}
	if !sf.s.LevelApproved {
		consider(candidate{kind: ActionApproveLevel, sys: si, ch: change{kind: ActionApproveLevel}})
	}
	return out
}

// key is what ties between equal deltas are broken by, so that the order never depends on
// anything but the inputs.
type key struct {
	kind                                                   int
	system, org, resource, check, endpoint, finding, ctlID string
}

func (e *engine) key(c *candidate) key {
	k := key{kind: kindOrder[c.kind]}
	if c.sys < 0 {
		k.org, k.ctlID = e.orgs[c.org].org.Code, e.controls[c.ctl].ID
		return k
	}
	sf := e.sys[c.sys]
	k.system = sf.s.ID
	switch c.kind {
	case ActionFixFinding:
		f := &sf.findings[c.find].f
		k.resource, k.check, k.endpoint, k.finding = f.Resource, f.Check, f.Endpoint, f.Fingerprint
	case ActionAttestControl:
		k.ctlID = e.controls[sf.required[c.ctl]].ID
	}
	return k
}

func compareKey(a, b key) int {
	return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.system, b.system), cmp.Compare(a.org, b.org),
		cmp.Compare(a.resource, b.resource), cmp.Compare(a.check, b.check), cmp.Compare(a.endpoint, b.endpoint),
		cmp.Compare(a.finding, b.finding), cmp.Compare(a.ctlID, b.ctlID))
}

// ranked is a candidate with the gain it brings to one index.
type ranked struct {
	c           *candidate
	gain, after float64
	k           key
}

// top keeps the n best candidates by gain, ties broken by key.
type top struct {
	n    int
	list []ranked
}

func better(a, b ranked) bool {
	if a.gain != b.gain {
		return a.gain > b.gain
	}
	return compareKey(a.k, b.k) < 0
}

func (t *top) offer(e *engine, c *candidate, gain, after float64) {
	if t.n == 0 || gain <= 0 {
		return
	}
	r := ranked{c: c, gain: gain, after: after}
	if len(t.list) == t.n && t.list[t.n-1].gain > gain {
		return // cheap rejection before building the key
	}
	r.k = e.key(c)
	if len(t.list) == t.n && !better(r, t.list[t.n-1]) {
		return
	}
	if t.list == nil {
		t.list = make([]ranked, 0, t.n+1)
	}
	i, _ := slices.BinarySearchFunc(t.list, r, func(x, y ranked) int {
		if better(x, y) {
			return -1
		}
		return 1
	})
	t.list = slices.Insert(t.list, i, r)
	if len(t.list) > t.n {
		t.list = t.list[:t.n]
	}
}

// systemActions ranks a system's own candidates by how much they raise its score.
func (e *engine) systemActions(sf *sysFacts, cands []candidate) []Action {
	t := top{n: e.m.Actions}
	for k := range cands {
		t.offer(e, &cands[k], cands[k].score-sf.base.score, cands[k].score)
	}
	var out []Action
	for _, r := range t.list {
		out = append(out, e.action(r.c, sf.base.score, r.after))
	}
	return out
}

func (e *engine) inReach(ni int, sf *sysFacts) bool {
	return e.m.Caps.Reach == ReachSubtree || sf.org == ni
}

// orgActions ranks the actions in an organization's subtree by exactly how much they raise its
// index. Every candidate is first ranked with the subtree sum updated in place; the best are
// then computed again from scratch, summing the subtree in its fixed order with the changed
// system's new score, which gives the same bits as Compute on inputs with the change applied.
func (e *engine) orgActions(ni int, cands [][]candidate) []Action {
	n := e.orgs[ni]
	if e.m.Actions == 0 {
		return nil
	}
	first := top{n: 2 * e.m.Actions}
	for _, si := range n.subtree {
		sf := e.sys[si]
		reach := e.inReach(ni, sf)
		for k := range cands[si] {
			c := &cands[si][k]
			sum := n.sum - float64(sf.weight*sf.base.score) + float64(sf.weight*c.score)
			caps := n.capCount
			if reach {
				for j := range caps {
					caps[j] -= c.removed[j]
				}
			}
			_, _, idx := e.nodeIndex(n, sum, n.ctlScore, n.hasCtl, caps)
			first.offer(e, c, idx-n.index, idx)
		}
	}
	var own []candidate
	for _, ci := range e.orgCtl {
		if !n.met[ci] && requiredUpTo(e.controls[ci].AppliesAt, n.level) {
			own = append(own, candidate{kind: ActionAttestControl, sys: -1, org: ni, ctl: ci})
		}
	}
	for k := range own {
		oc := e.orgControls(n, own[k].ctl)
		_, _, idx := e.nodeIndex(n, n.sum, oc.Score, oc.Defined, n.capCount)
		first.offer(e, &own[k], idx-n.index, idx)
	}
	exact := top{n: e.m.Actions}
	for _, r := range first.list {
		c := r.c
		var idx float64
		if c.sys >= 0 {
			sf := e.sys[c.sys]
			caps := n.capCount
			if e.inReach(ni, sf) {
				for j := range caps {
					caps[j] -= c.removed[j]
				}
			}
			_, _, idx = e.nodeIndex(n, e.nodeSum(n, c.sys, c.score), n.ctlScore, n.hasCtl, caps)
		} else {
			oc := e.orgControls(n, c.ctl)
			_, _, idx = e.nodeIndex(n, n.sum, oc.Score, oc.Defined, n.capCount)
		}
		exact.offer(e, c, idx-n.index, idx)
	}
	var out []Action
	for _, r := range exact.list {
		out = append(out, e.action(r.c, n.index, r.after))
	}
	return out
}

func requiredUpTo(applies func(int) bool, level int) bool {
	for l := 1; l <= level; l++ {
		if applies(l) {
			return true
		}
	}
	return false
}

// action describes a ranked candidate.
func (e *engine) action(c *candidate, before, after float64) Action {
	k := e.key(c)
	a := Action{Kind: c.kind, System: k.system, Org: k.org, Finding: k.finding, Resource: k.resource, Check: k.check,
		Endpoint: k.endpoint, Control: k.ctlID, Similar: c.similar, Before: before, After: after, Delta: after - before}
	a.Text = e.actionText(a)
	return a
}

func (e *engine) actionText(a Action) check.Text {
	var t check.Text
	sysName := func(id string) string {
		if i, ok := e.bySys[id]; ok && e.sys[i].s.Name != "" {
			return e.sys[i].s.Name
		}
		return id
	}
	switch a.Kind {
	case ActionFixFinding:
		where := a.Resource
		if a.Endpoint != "" && a.Endpoint != a.Resource {
			where += " (" + a.Endpoint + ")"
		}
		t.VI = fmt.Sprintf("Khắc phục %s trên %s", a.Check, where)
		t.EN = fmt.Sprintf("Fix %s on %s", a.Check, where)
		if a.Similar > 0 {
			t.VI += fmt.Sprintf(" (hoặc một trong %d phát hiện cùng mức trên tài nguyên này)", a.Similar)
			t.EN += fmt.Sprintf(" (or any one of %d similar findings on this resource)", a.Similar)
		}
	case ActionAttestControl:
		title := check.Text{VI: a.Control, EN: a.Control}
		if i, ok := e.ctlByID[a.Control]; ok {
			title = e.controls[i].Title
		}
		if a.Org != "" {
			t.VI = fmt.Sprintf("Xác nhận có bằng chứng và duyệt biện pháp %s «%s» của cơ quan", a.Control, title.VI)
			t.EN = fmt.Sprintf("Attest with evidence and approve %s \"%s\" for the organization", a.Control, title.EN)
		} else {
			t.VI = fmt.Sprintf("Xác nhận có bằng chứng và duyệt biện pháp %s «%s» cho hệ thống %s", a.Control, title.VI, sysName(a.System))
			t.EN = fmt.Sprintf("Attest with evidence and approve %s \"%s\" for system %s", a.Control, title.EN, sysName(a.System))
		}
	case ActionApproveLevel:
		t.VI = fmt.Sprintf("Phê duyệt hồ sơ đề xuất cấp độ của hệ thống %s", sysName(a.System))
		t.EN = fmt.Sprintf("Approve the security-level dossier of system %s", sysName(a.System))
	}
	dvi, den := deltaText(a.Delta)
	bvi, ben := num(a.Before)
	avi, aen := num(a.After)
	t.VI += fmt.Sprintf(": %s điểm (%s → %s)", dvi, bvi, avi)
	t.EN += fmt.Sprintf(": %s points (%s → %s)", den, ben, aen)
	return t
}

func deltaText(d float64) (vi, en string) {
	if Tenths(d) == 0 {
		return "+<0,1", "+<0.1"
	}
	vi, en = num(d)
	return "+" + vi, "+" + en
}
