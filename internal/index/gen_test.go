package index

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/inventory"
)

// The generator builds random but plausible inventories from a seed, so that property tests
// and benchmarks are deterministic: the same seed gives the same Input on every run.

type genSize struct {
	orgs, systems int
	maxDepth      int
	incidents     int
}

var genAsOf = time.Date(2026, 12, 15, 6, 0, 0, 0, time.UTC)

func generate(tb testing.TB, seed uint64, size genSize) Input {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x6b6869656e))
	g := &generator{rng: rng, controls: catalog(tb)}
	return g.input(size)
}

type generator struct {
	rng      *rand.Rand
	controls []control.Control
	nAtt     int
}

func (g *generator) pick(n int) int { return g.rng.IntN(n) }

func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

// ago returns asOf minus a random duration up to max.
func (g *generator) ago(max time.Duration) time.Time {
	return genAsOf.Add(-time.Duration(g.rng.Int64N(int64(max))))
}

var genStages = []inventory.Stage{
	inventory.StagePlanning, inventory.StageDesign, inventory.StageBuild, inventory.StageTest,
	inventory.StageOperation, inventory.StageOperation, inventory.StageOperation, inventory.StageOperation, inventory.StageRetired,
}

var genSeverities = []check.Severity{check.Critical, check.High, check.High, check.Medium, check.Medium, check.Medium, check.Low, check.Low, check.Info}

var genChecks = []string{"tls.protocol.tls10", "tls.cipher.weak", "tls.cert.expired", "http.hsts.missing", "http.csp.missing",
	"exposure.git", "exposure.service.database", "dns.caa.missing", "mail.dmarc.missing", KnownExploitedCheck}

func (g *generator) input(size genSize) Input {
	in := Input{Controls: g.controls}
	depth := map[string]int{}
	for i := range size.orgs {
		o := Org{Code: fmt.Sprintf("O%04d", i), Name: fmt.Sprintf("Cơ quan %d", i)}
		if i > 0 {
			for {
				p := in.Orgs[g.pick(len(in.Orgs))]
				if depth[p.Code] < size.maxDepth {
					o.Parent, depth[o.Code] = p.Code, depth[p.Code]+1
					break
				}
			}
		}
		in.Orgs = append(in.Orgs, o)
	}
	for i := range size.systems {
		s := g.system(fmt.Sprintf("s%05d", i), in.Orgs[g.pick(len(in.Orgs))].Code)
		in.Systems = append(in.Systems, s)
		g.resources(&in, s, false)
		g.attest(&in, s)
	}
	for _, o := range in.Orgs {
		for _, c := range control.ForOrg(g.controls, 5, genAsOf) {
			if g.chance(0.6) {
				in.Attestations = append(in.Attestations, g.attestation(c, control.ScopeOrganization, o.Code))
			}
		}
	}
	for i := range size.incidents {
		s := in.Systems[g.pick(len(in.Systems))]
		inc := Incident{ID: fmt.Sprintf("INC-%d", i), Org: s.Org, Serious: g.chance(0.5), PersonalData: g.chance(0.4),
			StateSecretLeak: g.chance(0.05), DiscoveredAt: g.ago(400 * 24 * time.Hour)}
		if g.chance(0.7) {
			inc.System = s.ID
		}
		for _, t := range []*time.Time{&inc.ReportedAt, &inc.FullReportAt, &inc.NotifiedAt} {
			if g.chance(0.8) {
				*t = inc.DiscoveredAt.Add(time.Duration(g.rng.Int64N(int64(100 * time.Hour))))
			}
		}
		in.Incidents = append(in.Incidents, inc)
		r := Request{ID: fmt.Sprintf("REQ-%d", i), Org: in.Orgs[g.pick(len(in.Orgs))].Code, ReceivedAt: g.ago(300 * 24 * time.Hour), Urgent: g.chance(0.3)}
		if g.chance(0.9) {
			r.AnsweredAt = r.ReceivedAt.Add(time.Duration(g.rng.Int64N(int64(30 * time.Hour))))
		}
		in.Requests = append(in.Requests, r)
	}
	return in
}

func (g *generator) system(id, org string) System {
	s := System{ID: id, Org: org, Name: "Hệ thống " + id, Level: 1 + g.pick(5), Stage: genStages[g.pick(len(genStages))], LevelApproved: g.chance(0.7)}
	for _, d := range inventory.DataClasses {
		if g.chance(0.3) {
			s.DataClasses = append(s.DataClasses, d)
		}
	}
	return s
}

var genKinds = []string{"dns:%s.test", "url:https://%s.test/", "ip:192.0.2.%d", "db:%s", "host:%s"}

// resources adds 0–4 resources to s with their findings; never makes them all unassessed.
func (g *generator) resources(in *Input, s System, never bool) {
	n := g.pick(5)
	for k := range n {
		var id string
		switch f := genKinds[g.pick(len(genKinds))]; f {
		case "ip:192.0.2.%d":
			id = fmt.Sprintf("ip:10.%d.%d.%d", len(in.Resources)/65536, len(in.Resources)/256%256, len(in.Resources)%256)
		default:
			id = fmt.Sprintf(f, fmt.Sprintf("%s-r%d", s.ID, k))
		}
		r := Resource{ID: id, System: s.ID, Cadence: []time.Duration{0, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}[g.pick(4)],
			Passing: Tally{Critical: g.pick(4), High: g.pick(6), Medium: g.pick(10), Low: g.pick(10)}}
		if never {
			r.Passing = Tally{}
			in.Resources = append(in.Resources, r)
			continue
		}
		switch x := g.rng.Float64(); {
		case x < 0.1: // never assessed
			r.Passing = Tally{}
		case x < 0.25: // stale
			r.LastAssessed = g.ago(60 * 24 * time.Hour).Add(-10 * 24 * time.Hour)
		default:
			r.LastAssessed = g.ago(6 * time.Hour)
		}
		in.Resources = append(in.Resources, r)
		if r.LastAssessed.IsZero() {
			continue
		}
		for j := range g.pick(6) {
			ch := genChecks[g.pick(len(genChecks))]
			f := Finding{Fingerprint: fmt.Sprintf("%s#%d", id, j), Resource: id, Check: ch, Endpoint: fmt.Sprintf("ep%d", j),
				Severity: genSeverities[g.pick(len(genSeverities))], KnownExploited: ch == KnownExploitedCheck || g.chance(0.05)}
			if ch == KnownExploitedCheck {
				f.Severity, f.Confirmed = check.Critical, g.chance(0.5)
			}
			f.OpenedAt = g.ago(60 * 24 * time.Hour)
			f.FirstSeen = f.OpenedAt.Add(-time.Duration(g.rng.Int64N(int64(30 * 24 * time.Hour))))
			if g.chance(0.2) {
				f.AcceptedUntil = genAsOf.Add(time.Duration(g.rng.Int64N(int64(120*24*time.Hour))) - 40*24*time.Hour)
			}
			in.Findings = append(in.Findings, f)
		}
	}
}

func (g *generator) attest(in *Input, s System) {
	for _, c := range control.ForSystem(g.controls, s.Level, s.DataClasses, genAsOf) {
		if g.chance(0.55) {
			in.Attestations = append(in.Attestations, g.attestation(c, control.ScopeSystem, s.ID))
		}
	}
}

// attestation makes an attestation that is valid at asOf most of the time, and otherwise
// pending, rejected, lapsed or not yet valid.
func (g *generator) attestation(c control.Control, scope control.Scope, subject string) control.Attestation {
	g.nAtt++
	declared := g.ago(200 * 24 * time.Hour)
	a := control.Attestation{ID: fmt.Sprintf("a%06d", g.nAtt), Control: c.ID, DeclaredBy: "người khai", DeclaredAt: declared,
		Evidence:  []control.EvidenceFile{{Name: "e.pdf", SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
		Review:    &control.Review{By: "người duyệt", At: declared.Add(48 * time.Hour), Approved: true},
		ValidFrom: declared, ValidUntil: genAsOf.Add(90 * 24 * time.Hour)}
	switch x := g.rng.Float64(); {
	case x < 0.08:
		a.Review = nil
	case x < 0.15:
		a.Review.Approved, a.Review.Comment = false, "thiếu bằng chứng"
	case x < 0.22:
		a.ValidUntil = genAsOf.Add(-24 * time.Hour)
	case x < 0.25:
		a.ValidFrom = genAsOf.Add(24 * time.Hour)
	}
	if scope == control.ScopeSystem {
		a.System = subject
	} else {
		a.Org = subject
	}
	return a
}

// withFix returns in with one finding fixed: gone from the failing findings, counted as passing.
func withFix(in Input, fingerprint string) Input {
	out := in
	out.Findings = nil
	var fixed Finding
	for _, f := range in.Findings {
		if f.Fingerprint == fingerprint {
			fixed = f
			continue
		}
		out.Findings = append(out.Findings, f)
	}
	out.Resources = slices.Clone(in.Resources)
	for i, r := range out.Resources {
		if r.ID != fixed.Resource {
			continue
		}
		switch fixed.Severity {
		case check.Critical:
			r.Passing.Critical++
		case check.High:
			r.Passing.High++
		case check.Medium:
			r.Passing.Medium++
		case check.Low:
			r.Passing.Low++
		}
		out.Resources[i] = r
	}
	return out
}

// withAttestation returns in with control attested and approved for a subject, valid at asOf.
func withAttestation(in Input, controlID string, scope control.Scope, subject string, asOf time.Time) Input {
	out := in
	a := control.Attestation{ID: "new", Control: controlID, DeclaredBy: "x", DeclaredAt: asOf.Add(-time.Hour),
		Review: &control.Review{By: "y", At: asOf.Add(-time.Minute), Approved: true}, ValidFrom: asOf.Add(-time.Hour)}
	if scope == control.ScopeSystem {
		a.System = subject
	} else {
		a.Org = subject
	}
	out.Attestations = append(slices.Clone(in.Attestations), a)
	return out
}

// withApproval returns in with the level of system id approved.
func withApproval(in Input, id string) Input {
	out := in
	out.Systems = slices.Clone(in.Systems)
	for i := range out.Systems {
		if out.Systems[i].ID == id {
			out.Systems[i].LevelApproved = true
		}
	}
	return out
}

// withAction applies an action to in.
func withAction(in Input, a Action, asOf time.Time) Input {
	switch a.Kind {
	case ActionFixFinding:
		return withFix(in, a.Finding)
	case ActionApproveLevel:
		return withApproval(in, a.System)
	case ActionAttestControl:
		if a.Org != "" {
			return withAttestation(in, a.Control, control.ScopeOrganization, a.Org, asOf)
		}
		return withAttestation(in, a.Control, control.ScopeSystem, a.System, asOf)
	}
	panic("unknown action " + a.Kind)
}
