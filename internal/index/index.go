// Package index computes Khiên's cybersecurity assurance index (chỉ số bảo đảm an ninh mạng):
// a score from 0 to 100 for every system and every organization of the tree, rolled up over its
// subtree, with its grade, five GCI-shaped pillars, the weakest-link caps that bound it, the plain
// counts people manage by, and the ranked actions that would raise it most, each computed exactly
// by running the formula again with the change applied.
//
// The package is a pure function, Compute(Input, Method, asOf): it reads only the facts it is
// given (organizations, systems, resources with their last assessment, failing findings,
// controls and attestations, incidents, authority requests, removed systems) and the rules as
// data (Method), and does no I/O and reads no clock: time comes in as asOf. The same inputs give
// the same Result bit for bit, on any machine and any later day, so a stored snapshot can be
// recomputed and compared. docs/index.md describes the model with a worked example.
package index

import (
	"cmp"
	"slices"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/inventory"
)

// Severity indices into tallies, most serious first.
const (
	sevCritical = iota
	sevHigh
	sevMedium
	sevLow
	nSev
)

func sevIndex(s check.Severity) int {
	switch s {
	case check.Critical:
		return sevCritical
	case check.High:
		return sevHigh
	case check.Medium:
		return sevMedium
	case check.Low:
		return sevLow
	}
	return -1
}

// Resource states.
const (
	resFresh   = "fresh"
	resStale   = "stale"
	resNever   = "never"
	resNothing = "nothing_applicable"
)

type engine struct {
	m    Method
	asOf time.Time
	sw   [nSev]float64

	orgs  []*orgNode
	byOrg map[string]int
	order []int // preorder: parents first, siblings by code

	sys   []*sysFacts // by id
	bySys map[string]int

	controls []control.Control
	ctlByID  map[string]int
	orgCtl   []int // indices of organization controls in controls
	atts     map[attKey][]control.Attestation

	incs []*incFacts

	warnings []check.Text
}

type attKey struct {
	scope   control.Scope
	subject string
}

type orgNode struct {
	org      Org
	parent   int
	children []int
	depth    int
	own      []int // all own systems, by id
	subtree  []int // eligible systems of the subtree, by id

	level int          // control.OrgLevel of its own eligible systems
	met   map[int]bool // organization controls met, by index into engine.controls

	// Aggregates of the base computation.
	w, sum     float64
	sysPart    float64
	hasSys     bool
	oc         OrgControls
	ctlScore   float64
	hasCtl     bool
	capCount   [nCapKinds]int
	raw, index float64

	rank, peers int

	removed        []RemovedSystem
	deadlines      []Deadline // own incidents and requests, all states
	coop           [4]int     // met, late, overdue, pending over the subtree
	ownCounts, sub Counts
}

type resFacts struct {
	r          Resource
	state      string
	freshUntil time.Time
	n          [nSev]int // applicable: passing + failing
	open, acc  [nSev]int // failing, and of those accepted
}

type findFacts struct {
	f        Finding
	res      int // index into sysFacts.res
	sev      int
	accepted bool
	opened   time.Time // when the overdue and known-exploited clocks started
	kev      bool      // counts towards the known-exploited cap
}

type sysFacts struct {
	s        System
	org      int // node index, or -1
	weight   float64
	eligible bool
	internet bool
	never    bool

	res      []resFacts
	findings []findFacts

	openCrit, openHigh int
	kevOpen            int // findings that count towards the known-exploited cap
	counts             Counts

	required []int // indices into engine.controls
	met      []bool
	states   []control.State
	attests  []control.Attestation // the attestation deciding each, if any
	metCount int

	incLate, incBreach, incSecret []int // indices into engine.incs

	base sysScore
}

type incFacts struct {
	i                        Incident
	org, sys                 int
	inWindow                 bool
	late, lateBreach, secret bool
	deadlines                []Deadline
}

// Compute computes the index of every organization and system of in at asOf under method m.
// It never fails: facts it cannot place (a system of an unknown organization, a finding of an
// unknown resource, a cycle in the tree) are left out or repaired and reported in Warnings.
// m should have passed Method.Validate.
func Compute(in Input, m Method, asOf time.Time) Result {
	e := build(in, m, asOf.UTC())
	e.score()
	return e.result()
}

func build(in Input, m Method, asOf time.Time) *engine {
	e := &engine{m: m, asOf: asOf, byOrg: map[string]int{}, bySys: map[string]int{}, atts: map[attKey][]control.Attestation{}}
	e.sw = [nSev]float64{m.SeverityWeights.Critical, m.SeverityWeights.High, m.SeverityWeights.Medium, m.SeverityWeights.Low}
	e.buildOrgs(in.Orgs)
	e.buildSystems(in.Systems)
	e.buildResources(in.Resources, in.Findings)
	e.buildControls(in.Controls, in.Attestations)
	e.buildIncidents(in.Incidents, in.Requests)
	e.buildRemoved(in.Removed)
	return e
}

func (e *engine) warn(vi, en string) { e.warnings = append(e.warnings, check.Text{VI: vi, EN: en}) }

func (e *engine) buildOrgs(in []Org) {
	orgs := slices.Clone(in)
	slices.SortStableFunc(orgs, func(a, b Org) int { return cmp.Compare(a.Code, b.Code) })
	for _, o := range orgs {
		if _, dup := e.byOrg[o.Code]; dup {
			e.warn("Mã cơ quan "+o.Code+" xuất hiện nhiều lần; chỉ dùng lần đầu.", "organization "+o.Code+" appears more than once; the first is used")
			continue
		}
		e.byOrg[o.Code] = len(e.orgs)
		e.orgs = append(e.orgs, &orgNode{org: o, parent: -1, met: map[int]bool{}})
	}
	for _, n := range e.orgs {
		if n.org.Parent == "" {
			continue
		}
		if p, ok := e.byOrg[n.org.Parent]; ok {
			n.parent = p
		} else {
			e.warn("Cơ quan "+n.org.Code+" có cơ quan cấp trên "+n.org.Parent+" không có trong cây; coi là gốc.",
				"organization "+n.org.Code+" has parent "+n.org.Parent+", which is not in the tree; it is treated as a root")
		}
	}
	// Break cycles at the smallest code of each, so every node has a root.
	state := make([]int, len(e.orgs)) // 0 unseen, 1 on the current path, 2 done
	for i := range e.orgs {
		var path []int
		cur := i
		for cur != -1 && state[cur] == 0 {
			state[cur] = 1
			path = append(path, cur)
			cur = e.orgs[cur].parent
		}
		if cur != -1 && state[cur] == 1 {
			cycle := path[slices.Index(path, cur):]
			cut := slices.Min(cycle)
			e.warn("Cây cơ quan có vòng lặp qua "+e.orgs[cut].org.Code+"; cắt tại đó.",
				"the organization tree has a cycle through "+e.orgs[cut].org.Code+"; it is cut there")
			e.orgs[cut].parent = -1
		}
		for _, p := range path {
			state[p] = 2
		}
	}
	var roots []int
	for i, n := range e.orgs {
		if n.parent == -1 {
			roots = append(roots, i)
		} else {
			e.orgs[n.parent].children = append(e.orgs[n.parent].children, i)
		}
	}
	var walk func(i, depth int)
	walk = func(i, depth int) {
		e.orgs[i].depth = depth
		e.order = append(e.order, i)
		for _, c := range e.orgs[i].children {
			walk(c, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
}

func (e *engine) levelWeight(level int) float64 {
	if level < 1 || level > 5 {
		return 0
	}
	return e.m.LevelWeights[level-1]
}

func (e *engine) stageWeight(s inventory.Stage) (float64, bool) {
	w := e.m.StageWeights
	switch s {
	case inventory.StagePlanning:
		return w.Planning, true
	case inventory.StageDesign:
		return w.Design, true
	case inventory.StageBuild:
		return w.Build, true
	case inventory.StageTest:
		return w.Test, true
	case inventory.StageOperation:
		return w.Operation, true
	case inventory.StageRetired:
		return w.Retired, true
	}
	return 0, false
}

func (e *engine) buildSystems(in []System) {
	systems := slices.Clone(in)
	slices.SortStableFunc(systems, func(a, b System) int { return cmp.Compare(a.ID, b.ID) })
	for _, s := range systems {
		if _, dup := e.bySys[s.ID]; dup {
			e.warn("Hệ thống "+s.ID+" xuất hiện nhiều lần; chỉ dùng lần đầu.", "system "+s.ID+" appears more than once; the first is used")
			continue
		}
		sf := &sysFacts{s: s, org: -1}
		if o, ok := e.byOrg[s.Org]; ok {
			sf.org = o
		} else {
			e.warn("Hệ thống "+s.ID+" thuộc cơ quan "+s.Org+" không có trong cây; không tính vào chỉ số cơ quan nào.",
				"system "+s.ID+" belongs to "+s.Org+", which is not in the tree; it counts in no organization's index")
		}
		sw, ok := e.stageWeight(s.Stage)
		if !ok {
			e.warn("Hệ thống "+s.ID+" có giai đoạn không hợp lệ; không tính.", "system "+s.ID+" has an unknown stage; it does not count")
		}
		if s.Level < 1 || s.Level > 5 {
			e.warn("Hệ thống "+s.ID+" có cấp độ ngoài 1–5; không tính.", "system "+s.ID+" has a level outside 1–5; it does not count")
		}
		sf.weight = float64(e.levelWeight(s.Level) * sw)
		sf.eligible = sf.weight > 0 && sf.org >= 0
		e.bySys[s.ID] = len(e.sys)
		e.sys = append(e.sys, sf)
		if sf.org >= 0 {
			e.orgs[sf.org].own = append(e.orgs[sf.org].own, len(e.sys)-1)
		}
	}
}

func (e *engine) buildResources(resources []Resource, findings []Finding) {
	rs := slices.Clone(resources)
	slices.SortStableFunc(rs, func(a, b Resource) int { return cmp.Compare(a.ID, b.ID) })
	where := map[string][2]int{} // resource id → system index, resource index
	for _, r := range rs {
		if _, dup := where[r.ID]; dup {
			e.warn("Tài nguyên "+r.ID+" xuất hiện nhiều lần; chỉ dùng lần đầu.", "resource "+r.ID+" appears more than once; the first is used")
			continue
		}
		si, ok := e.bySys[r.System]
		if !ok {
			e.warn("Tài nguyên "+r.ID+" thuộc hệ thống "+r.System+" không có; bỏ qua.", "resource "+r.ID+" belongs to system "+r.System+", which is not in the input; it is ignored")
			continue
		}
		sf := e.sys[si]
		rf := resFacts{r: r}
		rf.n = [nSev]int{r.Passing.Critical, r.Passing.High, r.Passing.Medium, r.Passing.Low}
		cadence := r.Cadence
		if cadence <= 0 {
			cadence = time.Duration(e.m.Freshness.DefaultCadenceHours) * time.Hour
		}
		switch {
		case r.LastAssessed.IsZero() || r.LastAssessed.After(e.asOf):
			rf.state = resNever
		default:
			rf.freshUntil = r.LastAssessed.Add(cadence + time.Duration(e.m.Freshness.GraceHours)*time.Hour).UTC()
			rf.state = resFresh
			if e.asOf.After(rf.freshUntil) {
				rf.state = resStale
			}
		}
		switch (inventory.Resource{ID: r.ID}).Kind() {
		case inventory.KindDNS, inventory.KindURL, inventory.KindIP, inventory.KindCIDR:
			sf.internet = true
		}
		where[r.ID] = [2]int{si, len(sf.res)}
		sf.res = append(sf.res, rf)
	}
	fs := slices.Clone(findings)
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Resource, b.Resource), cmp.Compare(a.Check, b.Check),
			cmp.Compare(a.Endpoint, b.Endpoint), cmp.Compare(a.Fingerprint, b.Fingerprint))
	})
	seen := map[string]bool{}
	for _, f := range fs {
		at, ok := where[f.Resource]
		if !ok {
			e.warn("Phát hiện "+f.Fingerprint+" thuộc tài nguyên "+f.Resource+" không có; bỏ qua.", "finding "+f.Fingerprint+" is about resource "+f.Resource+", which is not in the input; it is ignored")
			continue
		}
		key := f.Resource + "\x00" + f.Check + "\x00" + f.Endpoint
		if seen[key] || f.FirstSeen.After(e.asOf) {
			continue
		}
		seen[key] = true
		sev := sevIndex(f.Severity)
		if sev < 0 {
			continue // info and unknown severities weigh nothing
		}
		sf := e.sys[at[0]]
		ff := findFacts{f: f, res: at[1], sev: sev, opened: f.OpenedAt}
		if ff.opened.IsZero() {
			ff.opened = f.FirstSeen
		}
		if !f.AcceptedUntil.IsZero() {
			if e.asOf.Before(f.AcceptedUntil) {
				ff.accepted = true
			} else if f.AcceptedUntil.After(ff.opened) {
				ff.opened = f.AcceptedUntil // an expired acceptance reopens it from its expiry
			}
		}
		rf := &sf.res[at[1]]
		rf.n[sev]++
		rf.open[sev]++
		if ff.accepted {
			rf.open[sev]--
			rf.acc[sev]++
		}
		sf.findings = append(sf.findings, ff)
	}
	for _, sf := range e.sys {
		sf.never = true
		for i := range sf.res {
			if sf.res[i].state != resNever {
				sf.never = false
			}
		}
		e.systemFacts(sf)
	}
}

// systemFacts derives a system's counters from its resources and findings.
func (e *engine) systemFacts(sf *sysFacts) {
	sla := [nSev]time.Duration{
		sevCritical: time.Duration(e.m.SLADays.Critical) * 24 * time.Hour,
		sevHigh:     time.Duration(e.m.SLADays.High) * 24 * time.Hour,
	}
	kevAge := time.Duration(e.m.Caps.KnownExploitedDays) * 24 * time.Hour
	kevSystem := sf.internet && sf.s.Level >= e.m.Caps.KnownExploitedMinLevel
	c := &sf.counts
	for i := range sf.findings {
		ff := &sf.findings[i]
		if ff.accepted {
			c.AcceptedRisks++
			continue
		}
		switch ff.sev {
		case sevCritical:
			sf.openCrit++
		case sevHigh:
			sf.openHigh++
		}
		if d := sla[ff.sev]; d > 0 && e.asOf.After(ff.opened.Add(d)) {
			if ff.sev == sevCritical {
				c.OverdueCritical++
			} else {
				c.OverdueHigh++
			}
		}
		if ff.f.KnownExploited {
			c.KnownExploited++
			if kevSystem && e.asOf.Sub(ff.opened) > kevAge {
				ff.kev = true
				sf.kevOpen++
			}
		}
	}
	c.OpenCritical, c.OpenHigh = sf.openCrit, sf.openHigh
	stale := 0
	for _, r := range sf.res {
		if r.state == resStale || r.state == resNever {
			stale++
		}
	}
	if sf.s.Stage != inventory.StageRetired {
		c.Systems = 1
		c.StaleResources = stale
		if sf.never {
			c.NeverAssessed = 1
		}
		if sf.s.Stage == inventory.StageOperation && !sf.s.LevelApproved {
			c.NoDossier = 1
		}
	}
	if sf.eligible {
		c.Eligible = 1
		if len(sf.res) > 0 && stale == 0 && sf.openCrit == 0 && sf.openHigh == 0 {
			c.Passing = 1
		}
	}
}

func (e *engine) buildControls(controls []control.Control, atts []control.Attestation) {
	e.controls = controls
	e.ctlByID = make(map[string]int, len(controls))
	for i, c := range controls {
		if _, ok := e.ctlByID[c.ID]; !ok {
			e.ctlByID[c.ID] = i
		}
		if c.Scope == control.ScopeOrganization && c.InForce(e.asOf) {
			e.orgCtl = append(e.orgCtl, i)
		}
	}
	// Group the attestations by subject: one sorted copy, sliced per subject.
	sorted := slices.Clone(atts)
	slices.SortStableFunc(sorted, func(a, b control.Attestation) int {
		as, ac := a.Subject()
		bs, bc := b.Subject()
		return cmp.Or(cmp.Compare(as, bs), cmp.Compare(ac, bc))
	})
	for i := 0; i < len(sorted); {
		scope, subject := sorted[i].Subject()
		j := i + 1
		for j < len(sorted) {
			if s, c := sorted[j].Subject(); s != scope || c != subject {
				break
			}
			j++
		}
		e.atts[attKey{scope, subject}] = sorted[i:j:j]
		i = j
	}
	for _, sf := range e.sys {
		as := e.atts[attKey{control.ScopeSystem, sf.s.ID}]
		n := 0
		for i := range controls {
			if controls[i].AppliesToSystem(sf.s.Level, sf.s.DataClasses, e.asOf) {
				n++
			}
		}
		sf.required, sf.met = make([]int, 0, n), make([]bool, 0, n)
		sf.states, sf.attests = make([]control.State, 0, n), make([]control.Attestation, 0, n)
		for i := range controls {
			c := &controls[i]
			if !c.AppliesToSystem(sf.s.Level, sf.s.DataClasses, e.asOf) {
				continue
			}
			a, st := control.Find(as, c.ID, control.ScopeSystem, sf.s.ID, e.asOf)
			sf.required = append(sf.required, i)
			sf.met = append(sf.met, st == control.StateApproved)
			sf.states = append(sf.states, st)
			sf.attests = append(sf.attests, a)
			if st == control.StateApproved {
				sf.metCount++
			}
		}
	}
	for _, n := range e.orgs {
		var levels []int
		for _, si := range n.own {
			if sf := e.sys[si]; sf.eligible {
				levels = append(levels, sf.s.Level)
			}
		}
		n.level = control.OrgLevel(levels...)
		as := e.atts[attKey{control.ScopeOrganization, n.org.Code}]
		for _, ci := range e.orgCtl {
			_, st := control.Find(as, controls[ci].ID, control.ScopeOrganization, n.org.Code, e.asOf)
			n.met[ci] = st == control.StateApproved
		}
	}
}

// deadline judges one legal clock at asOf. A step taken after asOf had not happened yet.
func (e *engine) deadline(kind, ref, org, system string, due, done time.Time) Deadline {
	d := Deadline{Kind: kind, Ref: ref, Org: org, System: system, Due: due.UTC()}
	if !done.IsZero() && !done.After(e.asOf) {
		d.Done = done.UTC()
	}
	switch {
	case !d.Done.IsZero() && !d.Done.After(due):
		d.State = DeadlineMet
	case !d.Done.IsZero():
		d.State = DeadlineLate
	case e.asOf.After(due):
		d.State = DeadlineOverdue
	default:
		d.State = DeadlinePending
	}
	d.Text = deadlineText(d)
	return d
}

func (e *engine) buildIncidents(incidents []Incident, requests []Request) {
	lookback := time.Duration(e.m.Deadlines.LookbackDays) * 24 * time.Hour
	hours := func(h int) time.Duration { return time.Duration(h) * time.Hour }
	inWindow := func(t time.Time) bool { return !t.After(e.asOf) && e.asOf.Sub(t) < lookback }
	is := slices.Clone(incidents)
	slices.SortStableFunc(is, func(a, b Incident) int {
		return cmp.Or(a.DiscoveredAt.Compare(b.DiscoveredAt), cmp.Compare(a.ID, b.ID))
	})
	for _, inc := range is {
		if inc.DiscoveredAt.After(e.asOf) {
			continue
		}
		f := &incFacts{i: inc, org: -1, sys: -1, inWindow: inWindow(inc.DiscoveredAt)}
		if o, ok := e.byOrg[inc.Org]; ok {
			f.org = o
		} else {
			e.warn("Sự cố "+inc.ID+" thuộc cơ quan "+inc.Org+" không có trong cây.", "incident "+inc.ID+" belongs to "+inc.Org+", which is not in the tree")
		}
		if s, ok := e.bySys[inc.System]; ok {
			f.sys = s
		}
		late := func(d Deadline) bool { return d.State == DeadlineLate || d.State == DeadlineOverdue }
		if inc.Serious {
			n := e.deadline("incident_notice", inc.ID, inc.Org, inc.System, inc.DiscoveredAt.Add(hours(e.m.Deadlines.IncidentNoticeHours)), inc.ReportedAt)
			r := e.deadline("incident_report", inc.ID, inc.Org, inc.System, inc.DiscoveredAt.Add(hours(e.m.Deadlines.IncidentReportHours)), inc.FullReportAt)
			f.deadlines = append(f.deadlines, n, r)
			f.late = late(n) || late(r)
		}
		if inc.PersonalData {
			b := e.deadline("breach_notice", inc.ID, inc.Org, inc.System, inc.DiscoveredAt.Add(hours(e.m.Deadlines.BreachNoticeHours)), inc.NotifiedAt)
			f.deadlines = append(f.deadlines, b)
			f.lateBreach = late(b)
		}
		f.secret = inc.StateSecretLeak
		if !f.inWindow {
			f.late, f.lateBreach, f.secret = false, false, false
		}
		idx := len(e.incs)
		e.incs = append(e.incs, f)
		if f.sys >= 0 {
			sf := e.sys[f.sys]
			if f.late {
				sf.incLate = append(sf.incLate, idx)
			}
			if f.lateBreach {
				sf.incBreach = append(sf.incBreach, idx)
			}
			if f.secret {
				sf.incSecret = append(sf.incSecret, idx)
			}
		}
		if f.org >= 0 && f.inWindow {
			e.orgs[f.org].deadlines = append(e.orgs[f.org].deadlines, f.deadlines...)
		}
	}
	rs := slices.Clone(requests)
	slices.SortStableFunc(rs, func(a, b Request) int { return cmp.Or(a.ReceivedAt.Compare(b.ReceivedAt), cmp.Compare(a.ID, b.ID)) })
	for _, r := range rs {
		if !inWindow(r.ReceivedAt) {
			continue
		}
		h := e.m.Deadlines.RequestHours
		if r.Urgent {
			h = e.m.Deadlines.UrgentRequestHours
		}
		d := e.deadline("request", r.ID, r.Org, "", r.ReceivedAt.Add(hours(h)), r.AnsweredAt)
		if o, ok := e.byOrg[r.Org]; ok {
			e.orgs[o].deadlines = append(e.orgs[o].deadlines, d)
		} else {
			e.warn("Yêu cầu "+r.ID+" gửi cơ quan "+r.Org+" không có trong cây.", "request "+r.ID+" is addressed to "+r.Org+", which is not in the tree")
		}
	}
}

func (e *engine) buildRemoved(removed []RemovedSystem) {
	window := time.Duration(e.m.RemovedDays) * 24 * time.Hour
	rs := slices.Clone(removed)
	slices.SortStableFunc(rs, func(a, b RemovedSystem) int { return cmp.Or(a.RemovedAt.Compare(b.RemovedAt), cmp.Compare(a.ID, b.ID)) })
	for _, r := range rs {
		if r.RemovedAt.After(e.asOf) || e.asOf.Sub(r.RemovedAt) >= window {
			continue
		}
		r.RemovedAt = r.RemovedAt.UTC()
		o, ok := e.byOrg[r.Org]
		if !ok {
			e.warn("Hệ thống đã xóa "+r.ID+" thuộc cơ quan "+r.Org+" không có trong cây.", "removed system "+r.ID+" belonged to "+r.Org+", which is not in the tree")
			continue
		}
		for ; o != -1; o = e.orgs[o].parent {
			e.orgs[o].removed = append(e.orgs[o].removed, r)
		}
	}
}
