package index

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/finding"
	"github.com/khien-vn/khien/internal/inventory"
)

// Each rule of the model on the smallest input that shows it. The base is one organization with
// one level-3 system in operation, approved, one fresh resource with 10 passing medium checks,
// and no controls in the catalog (so that scores are the technical score alone).

var t0 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func base() Input {
	return Input{
		Orgs:      []Org{{Code: "P", Name: "Tỉnh"}, {Code: "P.D", Name: "Sở", Parent: "P"}},
		Systems:   []System{{ID: "s", Org: "P.D", Name: "Hệ thống", Level: 3, Stage: inventory.StageOperation, LevelApproved: true}},
		Resources: []Resource{{ID: "dns:s.test", System: "s", LastAssessed: t0.Add(-time.Hour), Cadence: 24 * time.Hour, Passing: Tally{Medium: 10}}},
	}
}

func finding1(sev check.Severity, opened time.Time) Finding {
	return Finding{Fingerprint: "f1", Resource: "dns:s.test", Check: "tls.cipher.weak", Severity: sev, FirstSeen: opened, OpenedAt: opened}
}

func sysScore1(t *testing.T, in Input, m Method, asOf time.Time) *SystemResult {
	t.Helper()
	r := Compute(in, m, asOf)
	s, ok := r.System("s")
	if !ok {
		t.Fatal("no system s")
	}
	return s
}

func approx(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestTechnicalRules(t *testing.T) {
	m := DefaultMethod()
	tests := []struct {
		name string
		edit func(*Input)
		asOf time.Time
		want float64
	}{
		{"all passing", func(*Input) {}, t0, 100},
		{"one medium failing of 11", func(in *Input) { in.Findings = []Finding{finding1(check.Medium, t0.Add(-48*time.Hour))} }, t0, 100 * (1 - 2.0/22)},
		{"accepted medium counts half", func(in *Input) {
			f := finding1(check.Medium, t0.Add(-48*time.Hour))
			f.AcceptedUntil = t0.Add(time.Hour)
			in.Findings = []Finding{f}
		}, t0, 100 * (1 - 1.0/22)},
		{"expired acceptance counts in full", func(in *Input) {
			f := finding1(check.Medium, t0.Add(-48*time.Hour))
			f.AcceptedUntil = t0
			in.Findings = []Finding{f}
		}, t0, 100 * (1 - 2.0/22)},
		{"open critical caps at 40", func(in *Input) { in.Findings = []Finding{finding1(check.Critical, t0.Add(-time.Hour))} }, t0, 40},
		{"open high caps at 70", func(in *Input) { in.Findings = []Finding{finding1(check.High, t0.Add(-time.Hour))} }, t0, 70},
		{"accepted critical does not cap", func(in *Input) {
			f := finding1(check.Critical, t0.Add(-time.Hour))
			f.AcceptedUntil = t0.Add(24 * time.Hour)
			in.Findings = []Finding{f}
		}, t0, 100 * (1 - 5.0/30)},
		{"info weighs nothing", func(in *Input) { in.Findings = []Finding{finding1(check.Info, t0.Add(-time.Hour))} }, t0, 100},
		{"fresh until cadence plus grace", func(*Input) {}, t0.Add(47 * time.Hour), 100},
		{"stale after cadence plus grace fails everything", func(*Input) {}, t0.Add(47*time.Hour + time.Second), 0},
		{"no cadence uses the default (a week)", func(in *Input) { in.Resources[0].Cadence = 0 }, t0.Add(7 * 24 * time.Hour), 100},
		{"never assessed scores 0", func(in *Input) { in.Resources[0].LastAssessed = time.Time{} }, t0, 0},
		{"assessed after asOf has not happened yet", func(in *Input) { in.Resources[0].LastAssessed = t0.Add(time.Hour) }, t0, 0},
		{"no resource scores 0", func(in *Input) { in.Resources = nil }, t0, 0},
		{"a stale resource counts 0 in the mean", func(in *Input) {
			in.Resources = append(in.Resources, Resource{ID: "ip:192.0.2.1", System: "s", LastAssessed: t0.Add(-30 * 24 * time.Hour), Cadence: 24 * time.Hour, Passing: Tally{Low: 1}})
		}, t0, 50},
		{"a resource with nothing applicable is left out", func(in *Input) {
			in.Resources = append(in.Resources, Resource{ID: "db:x", System: "s", LastAssessed: t0.Add(-time.Hour)})
		}, t0, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.edit(&in)
			s := sysScore1(t, in, m, tt.asOf)
			if !approx(s.Index, tt.want) {
				t.Errorf("score = %v, want %v\n%v", s.Index, tt.want, s.Explanation)
			}
		})
	}
}

func TestOverdueClockFollowsAcceptance(t *testing.T) {
	f := finding1(check.High, t0.Add(-60*24*time.Hour))
	f.AcceptedUntil = t0.Add(-10 * 24 * time.Hour) // expired 10 days ago: the 30-day clock restarted then
	in := base()
	in.Findings = []Finding{f}
	s := sysScore1(t, in, DefaultMethod(), t0)
	if s.Counts.OpenHigh != 1 || s.Counts.OverdueHigh != 0 {
		t.Errorf("counts %+v: open, not yet overdue", s.Counts)
	}
	s = sysScore1(t, in, DefaultMethod(), t0.Add(21*24*time.Hour))
	if s.Counts.OverdueHigh != 1 {
		t.Errorf("counts %+v: overdue 30 days after the acceptance expired", s.Counts)
	}
}

func TestKnownExploitedCap(t *testing.T) {
	kev := func(opened time.Time) Finding {
		f := finding1(check.Critical, opened)
		f.Check, f.KnownExploited = KnownExploitedCheck, true
		return f
	}
	tests := []struct {
		name   string
		edit   func(*Input)
		capped bool
	}{
		{"open 15 days on an Internet-facing level-3 system", func(in *Input) { in.Findings = []Finding{kev(t0.Add(-15 * 24 * time.Hour))} }, true},
		{"open exactly 14 days", func(in *Input) { in.Findings = []Finding{kev(t0.Add(-14 * 24 * time.Hour))} }, false},
		{"level 2", func(in *Input) {
			in.Systems[0].Level = 2
			in.Findings = []Finding{kev(t0.Add(-30 * 24 * time.Hour))}
		}, false},
		{"not Internet-facing", func(in *Input) {
			in.Resources[0].ID = "host:agent-1"
			f := kev(t0.Add(-30 * 24 * time.Hour))
			f.Resource = "host:agent-1"
			in.Findings = []Finding{f}
		}, false},
		{"accepted", func(in *Input) {
			f := kev(t0.Add(-30 * 24 * time.Hour))
			f.AcceptedUntil = t0.Add(time.Hour)
			in.Findings = []Finding{f}
		}, false},
		{"known exploited by evidence on another check", func(in *Input) {
			f := finding1(check.High, t0.Add(-20*24*time.Hour))
			f.KnownExploited = true
			in.Findings = []Finding{f}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.edit(&in)
			r := Compute(in, DefaultMethod(), t0)
			s, _ := r.System("s")
			d, _ := r.Org("P.D")
			p, _ := r.Org("P")
			hasCap := func(cs []Cap) bool {
				return slices.ContainsFunc(cs, func(c Cap) bool { return c.Kind == CapKnownExploited })
			}
			if hasCap(s.Caps) != tt.capped || hasCap(d.Caps) != tt.capped {
				t.Errorf("capped = %v (system) %v (owner), want %v", hasCap(s.Caps), hasCap(d.Caps), tt.capped)
			}
			if tt.capped && (s.Index > 60 || d.Index > 60 || hasCap(p.Caps) || !hasCap(p.SubtreeCaps)) {
				t.Errorf("system %v, owner %v; the parent lists it below without applying it: %v %v", s.Index, d.Index, p.Caps, p.SubtreeCaps)
			}
		})
	}
}

func TestIncidentCaps(t *testing.T) {
	disc := t0.Add(-10 * 24 * time.Hour)
	tests := []struct {
		name string
		inc  Incident
		want float64 // the owner's index
	}{
		{"serious, notified and reported on time", Incident{Serious: true, ReportedAt: disc.Add(23 * time.Hour), FullReportAt: disc.Add(71 * time.Hour)}, 100},
		{"serious, notice late", Incident{Serious: true, ReportedAt: disc.Add(25 * time.Hour), FullReportAt: disc.Add(71 * time.Hour)}, 50},
		{"serious, report late", Incident{Serious: true, ReportedAt: disc.Add(time.Hour), FullReportAt: disc.Add(73 * time.Hour)}, 50},
		{"serious, never reported", Incident{Serious: true}, 50},
		{"not serious, never reported", Incident{}, 100},
		{"breach notified in 72 h", Incident{PersonalData: true, NotifiedAt: disc.Add(72 * time.Hour)}, 100},
		{"breach notified late", Incident{PersonalData: true, NotifiedAt: disc.Add(73 * time.Hour)}, 50},
		{"breach notice after asOf is not done yet", Incident{PersonalData: true, NotifiedAt: t0.Add(time.Hour)}, 50},
		{"state-secret leak", Incident{StateSecretLeak: true}, 30},
		{"older than 12 months", Incident{Serious: true, DiscoveredAt: t0.Add(-366 * 24 * time.Hour)}, 100},
		{"discovered after asOf", Incident{StateSecretLeak: true, DiscoveredAt: t0.Add(time.Hour)}, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			inc := tt.inc
			inc.ID, inc.Org, inc.System = "I1", "P.D", "s"
			if inc.DiscoveredAt.IsZero() {
				inc.DiscoveredAt = disc
			}
			in.Incidents = []Incident{inc}
			r := Compute(in, DefaultMethod(), t0)
			d, _ := r.Org("P.D")
			s, _ := r.System("s")
			if !approx(d.Index, tt.want) || !approx(s.Index, tt.want) {
				t.Errorf("owner %v, system %v; want %v", d.Index, s.Index, tt.want)
			}
			if p, _ := r.Org("P"); !approx(p.Index, tt.want) {
				// The parent has no controls and one system: it sees the capped system score.
				t.Errorf("parent %v, want %v through the system's score", p.Index, tt.want)
			}
		})
	}
}

func TestCapReach(t *testing.T) {
	in := base()
	in.Systems = append(in.Systems, System{ID: "s2", Org: "P", Name: "Tỉnh", Level: 3, Stage: inventory.StageOperation, LevelApproved: true})
	in.Resources = append(in.Resources, Resource{ID: "dns:s2.test", System: "s2", LastAssessed: t0.Add(-time.Hour), Cadence: 24 * time.Hour, Passing: Tally{High: 1}})
	in.Incidents = []Incident{{ID: "I1", Org: "P.D", Serious: true, DiscoveredAt: t0.Add(-5 * 24 * time.Hour)}}
	m := DefaultMethod()
	owner := Compute(in, m, t0)
	p, _ := owner.Org("P")
	if p.Index != 100 || len(p.SubtreeCaps) != 1 {
		t.Errorf("owner reach: the parent is not capped by a unit's incident: %v, below %d", p.Index, len(p.SubtreeCaps))
	}
	m.Caps.Reach = ReachSubtree
	sub := Compute(in, m, t0)
	p, _ = sub.Org("P")
	if p.Index != 50 || len(p.Caps) != 1 {
		t.Errorf("subtree reach: the parent is capped too: %v, caps %d", p.Index, len(p.Caps))
	}
}

func TestNoDossierCap(t *testing.T) {
	in := base()
	in.Systems[0].LevelApproved = false
	r := Compute(in, DefaultMethod(), t0)
	s, _ := r.System("s")
	d, _ := r.Org("P.D")
	if s.Index != 60 || d.Index != 60 || len(d.Actions) != 1 || d.Actions[0].Kind != ActionApproveLevel || d.Actions[0].After != 100 {
		t.Errorf("system %v, owner %v, actions %+v", s.Index, d.Index, d.Actions)
	}
	in.Systems[0].Stage = inventory.StageTest
	if s := sysScore1(t, in, DefaultMethod(), t0); s.Index != 100 {
		t.Errorf("a system in test needs no approved dossier yet: %v", s.Index)
	}
}

func TestStageWeights(t *testing.T) {
	for _, tt := range []struct {
		stage  inventory.Stage
		weight float64
	}{
		{inventory.StagePlanning, 0}, {inventory.StageDesign, 0}, {inventory.StageBuild, 2}, {inventory.StageTest, 2},
		{inventory.StageOperation, 4}, {inventory.StageRetired, 0},
	} {
		in := base()
		in.Systems[0].Stage = tt.stage
		r := Compute(in, DefaultMethod(), t0)
		d, _ := r.Org("P.D")
		if d.Weight != tt.weight || d.HasSystems != (tt.weight > 0) {
			t.Errorf("%s: weight %v, want %v", tt.stage, d.Weight, tt.weight)
		}
	}
}

// TestControlsRules uses the real catalog.
func TestControlsRules(t *testing.T) {
	ctl := catalog(t)
	orgL1 := control.ForOrg(ctl, 1, t0)
	sysL3 := control.ForSystem(ctl, 3, nil, t0)
	attestAll := func(in *Input, cs []control.Control, scope control.Scope, subject string) {
		for _, c := range cs {
			in.Attestations = append(in.Attestations, approved(c.ID, scope, subject))
		}
	}
	t.Run("never assessed: attestations alone give 0", func(t *testing.T) {
		in := base()
		in.Controls = ctl
		in.Resources[0].LastAssessed = time.Time{}
		attestAll(&in, sysL3, control.ScopeSystem, "s")
		if s := sysScore1(t, in, DefaultMethod(), t0); s.Index != 0 || s.Controls != 100 {
			t.Errorf("score %v, controls %v", s.Index, s.Controls)
		}
	})
	t.Run("system score blends technical and controls", func(t *testing.T) {
		in := base()
		in.Controls = ctl
		attestAll(&in, sysL3[:len(sysL3)/2], control.ScopeSystem, "s")
		s := sysScore1(t, in, DefaultMethod(), t0)
		want := 0.6*100 + 0.4*100*float64(len(sysL3)/2)/float64(len(sysL3))
		if !approx(s.Index, want) {
			t.Errorf("score %v, want %v", s.Index, want)
		}
	})
	t.Run("organization with no system is rated on its controls", func(t *testing.T) {
		in := base()
		in.Controls = ctl
		attestAll(&in, orgL1, control.ScopeOrganization, "P")
		r := Compute(in, DefaultMethod(), t0)
		p, _ := r.Org("P")
		// P owns no system: level 1, all level-1 controls attested. Its subtree has s: technical
		// 100, no control attested, 0.6 × 100 = 60. P = 0.8 × 60 + 0.2 × 100.
		if p.Controls.Score != 100 || p.Controls.Level != 1 || !approx(p.Index, 68) {
			t.Errorf("P: controls %+v, index %v", p.Controls, p.Index)
		}
		in.Systems = nil
		in.Resources = nil
		r = Compute(in, DefaultMethod(), t0)
		p, _ = r.Org("P")
		if p.HasSystems || p.Index != 100 {
			t.Errorf("without systems the index is the controls score: %v", p.Index)
		}
		d, _ := r.Org("P.D")
		if d.Index != 0 || d.Controls.Score != 0 {
			t.Errorf("P.D, nothing attested and no system: %v", d.Index)
		}
	})
	t.Run("basics first: the lowest level share is the score", func(t *testing.T) {
		in := base()
		in.Controls = ctl
		// P.D is level 3 (its system). Attest every level-3-only control and all but one basic.
		for _, c := range control.ForOrg(ctl, 3, t0) {
			if c.ID != "org.policy.approved" {
				in.Attestations = append(in.Attestations, approved(c.ID, control.ScopeOrganization, "P.D"))
			}
		}
		r := Compute(in, DefaultMethod(), t0)
		d, _ := r.Org("P.D")
		want := 100 * float64(len(orgL1)-1) / float64(len(orgL1))
		if d.Controls.BindingLevel != 1 || !approx(d.Controls.Score, want) {
			t.Errorf("controls %+v, want level 1 binding at %v", d.Controls, want)
		}
	})
}

func TestGrades(t *testing.T) {
	m := DefaultMethod()
	e := &engine{m: m}
	for _, tt := range []struct {
		score float64
		want  Grade
	}{
		{100, Excellent}, {90, Excellent}, {89.96, Excellent}, {89.94, Good}, {75, Good}, {74.9, Meets}, {50, Meets},
		{49.96, Meets}, {49.94, Fails}, {0, Fails},
	} {
		if got := e.grade(Tenths(tt.score)); got != tt.want {
			t.Errorf("grade(%v) = %s, want %s", tt.score, got, tt.want)
		}
	}
}

// TestLaterFactsIgnored: facts dated after asOf do not change the index at asOf, so inputs read
// later than asOf still give the figure of asOf.
func TestLaterFactsIgnored(t *testing.T) {
	in := exampleInput(t)
	m := DefaultMethod()
	want := jsonOf(t, Compute(in, m, exampleAsOf))
	later := exampleAsOf.Add(time.Hour)
	in.Attestations = append(in.Attestations, func() control.Attestation {
		a := approved("org.people.certified", control.ScopeOrganization, "SH.VP")
		a.ID, a.DeclaredAt, a.ValidFrom = "later", later, later
		a.Review.At = later
		return a
	}())
	in.Findings = append(in.Findings, Finding{Fingerprint: "later", Resource: "url:https://hoso.yte.songhong.gov.vn.test/", Check: "exposure.git",
		Severity: check.Critical, FirstSeen: later, OpenedAt: later})
	in.Incidents = append(in.Incidents, Incident{ID: "later", Org: "SH", StateSecretLeak: true, DiscoveredAt: later})
	in.Requests = append(in.Requests, Request{ID: "later", Org: "SH", ReceivedAt: later})
	in.Removed = append(in.Removed, RemovedSystem{ID: "later", Org: "SH", RemovedAt: later})
	if got := jsonOf(t, Compute(in, m, exampleAsOf)); !bytes.Equal(got, want) {
		t.Error("facts after asOf changed the index at asOf")
	}
}

func TestRepairsAndWarnings(t *testing.T) {
	in := base()
	in.Orgs = append(in.Orgs, Org{Code: "X", Parent: "Y"}, Org{Code: "C1", Parent: "C2"}, Org{Code: "C2", Parent: "C1"}, Org{Code: "P"})
	in.Systems = append(in.Systems, System{ID: "lost", Org: "nowhere", Level: 2, Stage: inventory.StageOperation})
	in.Findings = append(in.Findings, Finding{Fingerprint: "f", Resource: "dns:unknown.test", Severity: check.High})
	r := Compute(in, DefaultMethod(), t0)
	if len(r.Orgs) != 5 {
		t.Errorf("%d organizations, want 5 (the duplicate dropped, orphans and a cut cycle kept as roots)", len(r.Orgs))
	}
	for _, want := range []string{"appears more than once", "treated as a root", "cycle", "counts in no organization", "not in the input"} {
		if !slices.ContainsFunc(r.Warnings, func(w check.Text) bool { return strings.Contains(w.EN, want) }) {
			t.Errorf("no warning containing %q in %v", want, r.Warnings)
		}
	}
}

func TestMethod(t *testing.T) {
	m := DefaultMethod()
	if m.ID != "khien-2026.1" || m.Validate() != nil {
		t.Fatalf("default method %s: %v", m.ID, m.Validate())
	}
	// The overdue clocks are the finding lifecycle's.
	if time.Duration(m.SLADays.Critical)*24*time.Hour != finding.SLA(check.Critical) || time.Duration(m.SLADays.High)*24*time.Hour != finding.SLA(check.High) {
		t.Error("the method's SLA days differ from finding.SLA")
	}
	bad := []struct{ name, from, to, want string }{
		{"unknown field", "actions: 10", "actions: 10\nbonus: 5", "field bonus not found"},
		{"blend not 1", "system: {technical: 0.6, controls: 0.4}", "system: {technical: 0.7, controls: 0.4}", "must be 1"},
		{"cap above 100", "no_dossier: 60", "no_dossier: 160", "caps.no_dossier must be from 0 to 100"},
		{"unknown reach", "  reach: owner\n", "  reach: everyone\n", "caps.reach"},
		{"bands not descending", "{min: 75, grade: good", "{min: 95, grade: good", "highest min down"},
		{"unknown pillar", "policy: legal", "policy: moral", "pillars"},
		{"negative weight", "critical: 10, high: 5", "critical: -10, high: 5", "severity_weights.critical"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(string(defaultMethodYAML), tt.from, tt.to, 1)
			if src == string(defaultMethodYAML) {
				t.Fatalf("%q not in the method file", tt.from)
			}
			if _, err := ParseMethod([]byte(src)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseMethod = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestOutlook(t *testing.T) {
	cur := DefaultMethod()
	next := DefaultMethod()
	next.ID, next.EffectiveFrom = "khien-2027.1", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	next.Caps.Reach = ReachSubtree
	next.Org = OrgBlend{Systems: 0.7, Controls: 0.3}
	in := exampleInput(t)

	now, future, err := Outlook(in, []Method{next, cur}, exampleAsOf)
	if err != nil || now.Method != cur.ID || future == nil || future.Method != next.ID {
		t.Fatalf("Outlook = %s, %v, %v", now.Method, future, err)
	}
	a, _ := now.Org("SH")
	b, _ := future.Org("SH")
	if a.Tenths != 645 || b.Tenths == a.Tenths {
		t.Errorf("SH now %d, under the scheduled method %d", a.Tenths, b.Tenths)
	}
	// Once the new method is in force, it is the current one and nothing is scheduled.
	now, future, _ = Outlook(in, []Method{next, cur}, next.EffectiveFrom)
	if now.Method != next.ID || future != nil {
		t.Errorf("after it takes effect: %s, %v", now.Method, future)
	}
	if _, _, err := Outlook(in, []Method{next}, exampleAsOf); err == nil {
		t.Error("no method in force must be an error")
	}
}

func TestFromFinding(t *testing.T) {
	f := finding.Finding{Fingerprint: "x", Check: "vuln.known_exploited", Resource: "dns:a.test", Severity: check.Critical,
		Status: finding.Accepted, Acceptance: &finding.Acceptance{Expires: t0}, Evidence: map[string]any{"confidence": "confirmed"}}
	got, ok := FromFinding(f)
	if !ok || !got.KnownExploited || !got.Confirmed || !got.AcceptedUntil.Equal(t0) {
		t.Errorf("FromFinding = %+v %v", got, ok)
	}
	f = finding.Finding{Check: "http.server.version", Status: finding.Open, Evidence: map[string]any{"known_exploited": true}}
	if got, _ := FromFinding(f); !got.KnownExploited || got.Confirmed {
		t.Errorf("known exploited by evidence: %+v", got)
	}
	if _, ok := FromFinding(finding.Finding{Status: finding.Fixed}); ok {
		t.Error("a fixed finding is not failing")
	}
}
