package index

import (
	"slices"

	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/inventory"
)

// The arithmetic below is written so that it gives the same bits everywhere: every product that
// feeds a sum is converted explicitly (float64(a*b)), which the Go specification says rounds it
// and so forbids fusing it into a multiply-add, and every sum runs in a fixed order (systems and
// resources by id, severities from critical to low). Tallies are integers, so a fixed finding or
// an added attestation changes counts, not the order of a sum.

// The organization-level caps, in the order they are listed.
const (
	capNoDossier = iota
	capKEV
	capLate
	capBreach
	capSecret
	nCapKinds
)

var capKinds = [nCapKinds]CapKind{CapNoDossier, CapKnownExploited, CapLateIncident, CapLateBreach, CapStateSecretLeak}

func (e *engine) capValue(k int) float64 {
	c := e.m.Caps
	return [nCapKinds]float64{c.NoDossier, c.KnownExploited, c.LateIncident, c.LateBreachNotice, c.StateSecretLeak}[k]
}

// capOf returns the strictest cap of the kinds counted, 100 when none.
func (e *engine) capOf(counts [nCapKinds]int) float64 {
	v := 100.0
	for k, n := range counts {
		if n > 0 {
			v = min(v, e.capValue(k))
		}
	}
	return v
}

// change is one action applied to a system's facts; the zero change is none.
type change struct {
	kind     ActionKind
	res, sev int  // fix: the finding's resource and severity
	accepted bool // fix: the finding was an accepted risk
	kev      bool // fix: the finding counted towards the known-exploited cap
	ctl      int  // attest: index into sysFacts.required
}

// sysScore is a system's score and the parts it is made of.
type sysScore struct {
	techRaw, tech float64
	capT          float64 // the technical cap, 100 when none
	ctl           float64
	hasCtl        bool
	raw, score    float64
	noDossier     bool
	kev           bool
	capS          float64 // the strictest system cap, 100 when none
}

// resourceScore is 100 × (1 − failing weight ÷ applicable weight) of one resource's tallies,
// and false when nothing applicable weighs anything.
func (e *engine) resourceScore(n, open, acc [nSev]int) (score, applicable, failing float64, ok bool) {
	for i := range nSev {
		applicable += float64(e.sw[i] * float64(n[i]))
		failing += float64(e.sw[i] * float64(open[i]))
		failing += float64(e.sw[i] * float64(e.m.AcceptedRisk*float64(acc[i])))
	}
	if applicable == 0 {
		return 0, 0, failing, false
	}
	return max(0, float64(100*(1-failing/applicable))), applicable, failing, true
}

// scoreSystem computes a system's score from its facts with ch applied.
func (e *engine) scoreSystem(sf *sysFacts, ch change) sysScore {
	var s sysScore
	var sum float64
	counted := 0
	for i := range sf.res {
		r := &sf.res[i]
		if r.state != resFresh {
			counted++ // stale or never assessed: fails everything, scores 0
			continue
		}
		open, acc := r.open, r.acc
		if ch.kind == ActionFixFinding && ch.res == i {
			if ch.accepted {
				acc[ch.sev]--
			} else {
				open[ch.sev]--
			}
		}
		t, _, _, ok := e.resourceScore(r.n, open, acc)
		if !ok {
			continue
		}
		sum += t
		counted++
	}
	if counted > 0 {
		s.techRaw = sum / float64(counted)
	}
	openCrit, openHigh, kev := sf.openCrit, sf.openHigh, sf.kevOpen
	if ch.kind == ActionFixFinding && !ch.accepted {
		switch ch.sev {
		case sevCritical:
			openCrit--
		case sevHigh:
			openHigh--
		}
		if ch.kev {
			kev--
		}
	}
	s.capT = 100
	if openCrit > 0 {
		s.capT = min(s.capT, e.m.TechnicalCaps.OpenCritical)
	}
	if openHigh > 0 {
		s.capT = min(s.capT, e.m.TechnicalCaps.OpenHigh)
	}
	s.tech = min(s.techRaw, s.capT)

	met := sf.metCount
	if ch.kind == ActionAttestControl {
		met++
	}
	s.raw = s.tech
	if n := len(sf.required); n > 0 {
		s.hasCtl = true
		s.ctl = 100 * float64(met) / float64(n)
		s.raw = float64(e.m.System.Technical*s.tech) + float64(e.m.System.Controls*s.ctl)
	}
	if sf.never {
		s.raw = 0 // unknown is not assured: attestations alone do not make a system assured
	}
	s.noDossier = sf.s.Stage == inventory.StageOperation && !sf.s.LevelApproved && ch.kind != ActionApproveLevel
	s.kev = kev > 0
	s.capS = 100
	if s.noDossier {
		s.capS = min(s.capS, e.m.Caps.NoDossier)
	}
	if s.kev {
		s.capS = min(s.capS, e.m.Caps.KnownExploited)
	}
	if len(sf.incLate) > 0 {
		s.capS = min(s.capS, e.m.Caps.LateIncident)
	}
	if len(sf.incBreach) > 0 {
		s.capS = min(s.capS, e.m.Caps.LateBreachNotice)
	}
	if len(sf.incSecret) > 0 {
		s.capS = min(s.capS, e.m.Caps.StateSecretLeak)
	}
	s.score = min(s.raw, s.capS)
	return s
}

// orgControls computes an organization's own controls score: for each level ℓ from 1 to its
// level, the share of the controls required at ℓ that are met; the score is the lowest share.
// Taking the lowest makes the basics count first (an advanced control does not make up for a
// missing basic one) and guarantees that a higher level never raises the score, so adding a
// system can never raise an index. extra, when not -1, is a control index counted as met.
func (e *engine) orgControls(n *orgNode, extra int) OrgControls {
	oc := OrgControls{Level: n.level}
	minShare := 2.0
	for l := 1; l <= n.level; l++ {
		ls := LevelShare{Level: l}
		for _, ci := range e.orgCtl {
			c := e.controls[ci]
			if !c.AppliesAt(l) {
				continue
			}
			ls.Required++
			if n.met[ci] || ci == extra {
				ls.Met++
			} else if l == n.level {
				oc.Missing = append(oc.Missing, c.ID)
			}
		}
		if ls.Required == 0 {
			continue
		}
		oc.Levels = append(oc.Levels, ls)
		if share := float64(ls.Met) / float64(ls.Required); share < minShare {
			minShare, oc.BindingLevel = share, l
		}
	}
	if len(oc.Levels) > 0 {
		oc.Defined = true
		oc.Score = 100 * minShare
	}
	return oc
}

// blend is the organization formula before caps. With no system to count, the organization is
// rated on its own controls alone; with no control required, on its systems alone.
func (e *engine) blend(sysPart float64, hasSys bool, ctl float64, hasCtl bool) float64 {
	switch {
	case hasSys && hasCtl:
		return float64(e.m.Org.Systems*sysPart) + float64(e.m.Org.Controls*ctl)
	case hasSys:
		return sysPart
	case hasCtl:
		return ctl
	}
	return 0
}

// nodeSum sums the weighted scores of n's subtree in id order, with system over scored s.
func (e *engine) nodeSum(n *orgNode, over int, s float64) float64 {
	var sum float64
	for _, si := range n.subtree {
		sc := e.sys[si].base.score
		if si == over {
			sc = s
		}
		sum += float64(e.sys[si].weight * sc)
	}
	return sum
}

// nodeIndex is the organization formula from a subtree sum, a controls score and cap counts.
func (e *engine) nodeIndex(n *orgNode, sum, ctl float64, hasCtl bool, caps [nCapKinds]int) (sysPart, raw, index float64) {
	if n.hasSys {
		sysPart = sum / n.w
	}
	raw = e.blend(sysPart, n.hasSys, ctl, hasCtl)
	return sysPart, raw, min(raw, e.capOf(caps))
}

// score computes every system's and organization's base score.
func (e *engine) score() {
	for _, sf := range e.sys {
		sf.base = e.scoreSystem(sf, change{})
	}
	// Subtree lists, in id order because systems are visited in id order.
	for si, sf := range e.sys {
		if !sf.eligible {
			continue
		}
		for o := sf.org; o != -1; o = e.orgs[o].parent {
			e.orgs[o].subtree = append(e.orgs[o].subtree, si)
		}
	}
	ownCaps := make([][nCapKinds]int, len(e.orgs))
	for i, n := range e.orgs {
		for _, si := range n.own {
			sf := e.sys[si]
			if !sf.eligible {
				continue
			}
			if sf.base.noDossier {
				ownCaps[i][capNoDossier]++
			}
			if sf.base.kev {
				ownCaps[i][capKEV]++
			}
		}
	}
	for _, f := range e.incs {
		if f.org < 0 {
			continue
		}
		if f.late {
			ownCaps[f.org][capLate]++
		}
		if f.lateBreach {
			ownCaps[f.org][capBreach]++
		}
		if f.secret {
			ownCaps[f.org][capSecret]++
		}
	}
	// Children before parents: walk the preorder backwards.
	subCaps := slices.Clone(ownCaps)
	for k := len(e.order) - 1; k >= 0; k-- {
		i := e.order[k]
		n := e.orgs[i]
		for _, si := range n.own {
			n.ownCounts.add(e.sys[si].counts)
		}
		n.sub = n.ownCounts
		for _, c := range n.children {
			n.sub.add(e.orgs[c].sub)
			for j := range nCapKinds {
				subCaps[i][j] += subCaps[c][j]
			}
			for j := range n.coop {
				n.coop[j] += e.orgs[c].coop[j]
			}
		}
		for _, d := range n.deadlines {
			n.coop[coopIndex(d.State)]++
		}
		n.ownCounts.share()
		n.sub.share()
	}
	for i, n := range e.orgs {
		n.capCount = ownCaps[i]
		if e.m.Caps.Reach == ReachSubtree {
			n.capCount = subCaps[i]
		}
		for _, si := range n.subtree {
			n.w += e.sys[si].weight
		}
		n.hasSys = n.w > 0
		n.sum = e.nodeSum(n, -1, 0)
		n.oc = e.orgControls(n, -1)
		n.ctlScore, n.hasCtl = n.oc.Score, n.oc.Defined
		n.sysPart, n.raw, n.index = e.nodeIndex(n, n.sum, n.ctlScore, n.hasCtl, n.capCount)
	}
}

func coopIndex(s DeadlineState) int {
	switch s {
	case DeadlineMet:
		return 0
	case DeadlineLate:
		return 1
	case DeadlineOverdue:
		return 2
	}
	return 3
}

func (c *Counts) add(d Counts) {
	c.Systems += d.Systems
	c.Eligible += d.Eligible
	c.Passing += d.Passing
	c.NeverAssessed += d.NeverAssessed
	c.NoDossier += d.NoDossier
	c.StaleResources += d.StaleResources
	c.OpenCritical += d.OpenCritical
	c.OpenHigh += d.OpenHigh
	c.OverdueCritical += d.OverdueCritical
	c.OverdueHigh += d.OverdueHigh
	c.KnownExploited += d.KnownExploited
	c.AcceptedRisks += d.AcceptedRisks
}

func (c *Counts) share() {
	c.PassingShare = 0
	if c.Eligible > 0 {
		c.PassingShare = float64(c.Passing) / float64(c.Eligible)
	}
}

// pillarAcc accumulates one pillar's weighted items.
type pillarAcc struct {
	num, den float64
	items    int
}

func (p *pillarAcc) item(value, weight float64) {
	p.num += float64(value * weight)
	p.den += weight
	p.items++
}

// pillarOf returns the pillar a control counts in.
func (e *engine) pillarOf(c control.Control) (Pillar, bool) {
	if p, ok := e.m.Pillars.Controls[c.ID]; ok {
		return p, true
	}
	p, ok := e.m.Pillars.Groups[c.Group]
	return p, ok
}

// pillarIndex maps the four control pillars to accumulator slots.
func pillarIndex(p Pillar) int {
	switch p {
	case PillarLegal:
		return 0
	case PillarTechnical:
		return 1
	case PillarOrganizational:
		return 2
	case PillarCapacity:
		return 3
	}
	return -1
}

// systemPillars accumulates a system's items into the four control pillars.
func (e *engine) systemPillars(sf *sysFacts) [4]pillarAcc {
	var acc [4]pillarAcc
	w := sf.weight
	approved := 0.0
	if sf.s.LevelApproved {
		approved = 1
	}
	acc[0].item(approved, w)
	techReq, techMet := 0, 0
	for k, ci := range sf.required {
		p, ok := e.pillarOf(e.controls[ci])
		if !ok {
			continue
		}
		met := 0.0
		if sf.met[k] {
			met = 1
		}
		if p == PillarTechnical {
			techReq++
			techMet += int(met)
			continue
		}
		if i := pillarIndex(p); i >= 0 {
			acc[i].item(met, w)
		}
	}
	v := sf.base.tech / 100
	if techReq > 0 {
		v = float64(e.m.System.Technical*v) + float64(e.m.System.Controls*(float64(techMet)/float64(techReq)))
	}
	if sf.never {
		v = 0
	}
	acc[1].item(v, w)
	return acc
}
