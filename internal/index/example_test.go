package index

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/inventory"
)

// The worked example of docs/index.md: the province of Sông Hồng with its Office and its
// Department of Health, and three systems. Every figure asserted here is computed by hand in
// the document; change both together.

var exampleAsOf = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

var loadCatalog = sync.OnceValues(control.Load)

func catalog(t testing.TB) []control.Control {
	t.Helper()
	cat, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return cat.Controls
}

// approved is an approved attestation of control for an organization or system code.
func approved(controlID string, scope control.Scope, subject string) control.Attestation {
	a := control.Attestation{
		ID: "att-" + subject + "-" + controlID, Control: controlID,
		DeclaredBy: "Cán bộ chuyên trách", DeclaredAt: at("2026-09-01T08:00:00Z"),
		Evidence:  []control.EvidenceFile{control.NewEvidenceFile(controlID+".pdf", []byte(subject+controlID))},
		Review:    &control.Review{By: "Trưởng phòng", At: at("2026-09-03T08:00:00Z"), Approved: true},
		ValidFrom: at("2026-09-01T08:00:00Z"), ValidUntil: at("2027-03-01T00:00:00Z"),
	}
	if scope == control.ScopeSystem {
		a.System = subject
	} else {
		a.Org = subject
	}
	return a
}

func exampleInput(t testing.TB) Input {
	in := Input{
		Orgs: []Org{
			{Code: "SH", Name: "UBND tỉnh Sông Hồng"},
			{Code: "SH.VP", Name: "Văn phòng UBND tỉnh", Parent: "SH"},
			{Code: "SH.YT", Name: "Sở Y tế", Parent: "SH"},
		},
		Systems: []System{
			{ID: "sh-dichvucong", Org: "SH.VP", Name: "Cổng dịch vụ công", Level: 3, Stage: inventory.StageOperation, LevelApproved: true,
				DataClasses: []inventory.DataClass{inventory.DataPersonal}},
			{ID: "sh-cong-ttdt", Org: "SH.VP", Name: "Cổng thông tin điện tử", Level: 2, Stage: inventory.StageOperation},
			{ID: "sh-yte-hoso", Org: "SH.YT", Name: "Hồ sơ sức khỏe điện tử", Level: 3, Stage: inventory.StageTest,
				DataClasses: []inventory.DataClass{inventory.DataPersonal}},
		},
		Resources: []Resource{
			{ID: "dns:dichvucong.songhong.gov.vn.test", System: "sh-dichvucong", LastAssessed: at("2026-11-30T18:00:00Z"), Cadence: 24 * time.Hour,
				Passing: Tally{High: 3, Medium: 13, Low: 2}},
			{ID: "url:https://dichvucong.songhong.gov.vn.test/", System: "sh-dichvucong", LastAssessed: at("2026-11-30T18:00:00Z"), Cadence: 24 * time.Hour,
				Passing: Tally{Critical: 2, High: 4, Medium: 6, Low: 4}},
			{ID: "ip:192.0.2.10", System: "sh-dichvucong", LastAssessed: at("2026-11-20T06:00:00Z"), Cadence: 24 * time.Hour,
				Passing: Tally{Critical: 1, High: 2}},
			{ID: "dns:songhong.gov.vn.test", System: "sh-cong-ttdt", LastAssessed: at("2026-11-30T20:00:00Z"), Cadence: 24 * time.Hour,
				Passing: Tally{Critical: 1, High: 2, Medium: 10, Low: 10}},
			{ID: "url:https://hoso.yte.songhong.gov.vn.test/", System: "sh-yte-hoso", LastAssessed: at("2026-11-30T22:00:00Z"), Cadence: 24 * time.Hour,
				Passing: Tally{High: 5, Medium: 5}},
		},
		Findings: []Finding{
			{Fingerprint: "f-weak-cipher", Resource: "dns:dichvucong.songhong.gov.vn.test", Check: "tls.cipher.weak",
				Endpoint: "dichvucong.songhong.gov.vn.test|192.0.2.20:443", Severity: check.High,
				FirstSeen: at("2026-11-10T08:00:00Z"), OpenedAt: at("2026-11-10T08:00:00Z")},
			{Fingerprint: "f-tls10", Resource: "dns:dichvucong.songhong.gov.vn.test", Check: "tls.protocol.tls10",
				Endpoint: "dichvucong.songhong.gov.vn.test|192.0.2.20:443", Severity: check.Medium,
				FirstSeen: at("2026-10-01T08:00:00Z"), OpenedAt: at("2026-10-01T08:00:00Z"), AcceptedUntil: at("2027-01-15T00:00:00Z")},
			{Fingerprint: "f-kev", Resource: "dns:songhong.gov.vn.test", Check: KnownExploitedCheck,
				Endpoint: "songhong.gov.vn.test|192.0.2.30:443", Severity: check.Critical,
				FirstSeen: at("2026-11-05T08:00:00Z"), OpenedAt: at("2026-11-05T08:00:00Z"), KnownExploited: true},
		},
		Controls: catalog(t),
		Incidents: []Incident{
			{ID: "SC-2026-07", Org: "SH.YT", System: "sh-yte-hoso", PersonalData: true,
				DiscoveredAt: at("2026-10-02T08:00:00Z"), NotifiedAt: at("2026-10-05T16:00:00Z")},
		},
		Requests: []Request{
			{ID: "YC-101", Org: "SH.VP", ReceivedAt: at("2026-11-10T09:00:00Z"), AnsweredAt: at("2026-11-10T15:00:00Z")},
			{ID: "YC-102", Org: "SH.YT", ReceivedAt: at("2026-11-20T08:00:00Z"), Urgent: true, AnsweredAt: at("2026-11-20T13:00:00Z")},
		},
		Removed: []RemovedSystem{
			{ID: "sh-yte-cu", Org: "SH.YT", Name: "Phần mềm hồ sơ cũ", Level: 2, Stage: inventory.StageOperation,
				RemovedAt: at("2026-11-15T10:00:00Z"), By: "Phạm Thu Hà", Reason: "thay bằng sh-yte-hoso"},
		},
	}
	sysAtt := map[string][]string{
		"sh-dichvucong": {"sys.level.approved", "sys.rules.issued", "sys.design.security", "sys.build.test_before_use",
			"sys.build.no_real_data", "sys.build.outsourcing", "sys.op.patching", "sys.op.backup", "sys.op.restore_test",
			"sys.op.logging", "sys.op.monitoring", "sys.op.malware", "sys.op.vuln_scan", "sys.op.pentest",
			"sys.net.segmentation", "sys.net.perimeter", "sys.net.ids", "sys.server.hardening"},
		"sh-cong-ttdt": {"sys.rules.issued", "sys.design.security", "sys.build.test_before_use", "sys.build.no_real_data",
			"sys.op.patching", "sys.op.backup", "sys.op.logging", "sys.op.malware", "sys.op.vuln_scan", "sys.net.segmentation"},
		"sh-yte-hoso": {"sys.rules.issued", "sys.design.security", "sys.build.test_before_use", "sys.build.no_real_data",
			"sys.build.outsourcing", "sys.op.patching", "sys.op.backup", "sys.op.logging", "sys.op.malware"},
	}
	orgAtt := map[string][]string{
		"SH": {"org.policy.approved", "org.policy.reviewed", "org.unit.designated", "org.head.responsible",
			"org.incident.plan", "org.people.training", "org.budget"},
		"SH.VP": {"org.policy.approved", "org.policy.reviewed", "org.unit.designated", "org.head.responsible",
			"org.incident.plan", "org.people.training", "org.people.offboarding", "org.assessment.periodic", "org.incident.drill"},
		"SH.YT": {"org.policy.approved", "org.unit.designated", "org.head.responsible", "org.incident.plan", "org.people.offboarding"},
	}
	for sys, ids := range sysAtt {
		for _, id := range ids {
			in.Attestations = append(in.Attestations, approved(id, control.ScopeSystem, sys))
		}
	}
	for org, ids := range orgAtt {
		for _, id := range ids {
			in.Attestations = append(in.Attestations, approved(id, control.ScopeOrganization, org))
		}
	}
	// A rejected attestation counts for nothing.
	rejected := approved("sys.server.admin_mfa", control.ScopeSystem, "sh-dichvucong")
	rejected.Review.Approved, rejected.Review.Comment = false, "ảnh chụp không cho thấy xác thực đa yếu tố cho quản trị từ xa"
	in.Attestations = append(in.Attestations, rejected)
	return in
}

func oneDecimal(x float64) string { return fmt.Sprintf("%.1f", float64(Tenths(x))/10) }

// TestWorkedExample checks the hand computation of docs/index.md, figure by figure.
func TestWorkedExample(t *testing.T) {
	r := Compute(exampleInput(t), DefaultMethod(), exampleAsOf)
	if len(r.Warnings) > 0 {
		t.Errorf("warnings: %v", r.Warnings)
	}
	systems := []struct {
		id                       string
		technical, controls, idx string
		grade                    Grade
	}{
		{"sh-dichvucong", "62.7", "66.7", "64.3", Meets},
		{"sh-cong-ttdt", "40.0", "50.0", "44.0", Fails},
		{"sh-yte-hoso", "100.0", "33.3", "50.0", Meets},
	}
	for _, want := range systems {
		s, ok := r.System(want.id)
		if !ok {
			t.Fatalf("no result for %s", want.id)
		}
		if got := [3]string{oneDecimal(s.Technical), oneDecimal(s.Controls), oneDecimal(s.Index)}; got != [3]string{want.technical, want.controls, want.idx} || s.Grade != want.grade {
			t.Errorf("%s: technical, controls, score = %v %s; want %s %s %s %s", want.id, got, s.Grade, want.technical, want.controls, want.idx, want.grade)
		}
	}
	a, _ := r.System("sh-dichvucong")
	// Resources come by id: dns:, ip:, url:.
	var got []string
	for _, r := range a.Resources {
		got = append(got, r.State+" "+oneDecimal(r.Score))
	}
	if fmt.Sprint(got) != "[fresh 88.0 stale 0.0 fresh 100.0]" {
		t.Errorf("resources of sh-dichvucong = %v, want [fresh 88.0 stale 0.0 fresh 100.0]", got)
	}
	if oneDecimal(a.TechnicalUncapped) != "62.7" || a.ControlsRequired != 27 || a.ControlsMet != 18 {
		t.Errorf("sh-dichvucong: technical %v, controls %d/%d", a.TechnicalUncapped, a.ControlsMet, a.ControlsRequired)
	}
	b, _ := r.System("sh-cong-ttdt")
	if oneDecimal(b.TechnicalUncapped) != "83.3" || len(b.Caps) != 2 || b.Caps[0].Kind != CapOpenCritical || b.Caps[1].Kind != CapNoDossier {
		t.Errorf("sh-cong-ttdt: technical before caps %s, caps %+v", oneDecimal(b.TechnicalUncapped), b.Caps)
	}
	if b.Counts.OverdueCritical != 1 {
		t.Errorf("sh-cong-ttdt: the critical finding opened 26 days ago is overdue; counts %+v", b.Counts)
	}
	c, _ := r.System("sh-yte-hoso")
	if oneDecimal(c.Uncapped) != "73.3" || len(c.Caps) != 1 || c.Caps[0].Kind != CapLateBreach {
		t.Errorf("sh-yte-hoso: before caps %s, caps %+v", oneDecimal(c.Uncapped), c.Caps)
	}

	orgs := []struct {
		code                   string
		systems, controls, raw string
		idx                    string
		grade                  Grade
		rank, peers            int
		capKind                CapKind
	}{
		{"SH.VP", "57.5", "75.0", "61.0", "60.0", Meets, 1, 2, CapNoDossier},
		{"SH.YT", "50.0", "41.7", "48.3", "48.3", Fails, 2, 2, CapLateBreach},
		{"SH", "55.6", "100.0", "64.5", "64.5", Meets, 1, 1, ""},
	}
	for _, want := range orgs {
		o, ok := r.Org(want.code)
		if !ok {
			t.Fatalf("no result for %s", want.code)
		}
		got := [4]string{oneDecimal(o.Systems), oneDecimal(o.Controls.Score), oneDecimal(o.Uncapped), oneDecimal(o.Index)}
		if got != [4]string{want.systems, want.controls, want.raw, want.idx} || o.Grade != want.grade || o.Rank != want.rank || o.Peers != want.peers {
			t.Errorf("%s: systems, controls, uncapped, index = %v %s rank %d/%d; want %s %s %s %s %s rank %d/%d",
				want.code, got, o.Grade, o.Rank, o.Peers, want.systems, want.controls, want.raw, want.idx, want.grade, want.rank, want.peers)
		}
		switch {
		case want.capKind == "" && len(o.Caps) != 0:
			t.Errorf("%s: caps %+v, want none", want.code, o.Caps)
		case want.capKind != "" && (len(o.Caps) != 1 || o.Caps[0].Kind != want.capKind):
			t.Errorf("%s: caps %+v, want %s", want.code, o.Caps, want.capKind)
		}
	}

	sh, _ := r.Org("SH")
	if sh.Tenths != 645 || sh.Weight != 8 || len(sh.SubtreeCaps) != 2 {
		t.Errorf("SH: tenths %d, weight %v, subtree caps %d", sh.Tenths, sh.Weight, len(sh.SubtreeCaps))
	}
	// Contributions add up to the uncapped index.
	sum := 0.0
	for _, c := range sh.Contributions {
		sum += c.Points
	}
	if oneDecimal(sum) != "64.5" || len(sh.Contributions) != 3 {
		t.Errorf("SH contributions %+v sum to %v", sh.Contributions, sum)
	}
	wantActions := []struct {
		kind        ActionKind
		what, delta string
	}{
		{ActionFixFinding, "f-kev", "3.2"},
		{ActionFixFinding, "f-weak-cipher", "0.8"},
		{ActionAttestControl, "sys.app.account_review", "0.6"},
	}
	if len(sh.Actions) != 10 {
		t.Errorf("SH has %d actions, want 10", len(sh.Actions))
	}
	for i, w := range wantActions {
		if i >= len(sh.Actions) {
			break
		}
		a := sh.Actions[i]
		if a.Kind != w.kind || a.Finding+a.Control != w.what || oneDecimal(a.Delta) != w.delta {
			t.Errorf("SH action %d = %s %s%s %s, want %s %s %s", i, a.Kind, a.Finding, a.Control, oneDecimal(a.Delta), w.kind, w.what, w.delta)
		}
	}
	vp, _ := r.Org("SH.VP")
	if len(vp.Actions) != 1 || vp.Actions[0].Kind != ActionApproveLevel || vp.Actions[0].System != "sh-cong-ttdt" || oneDecimal(vp.Actions[0].Delta) != "1.0" {
		t.Errorf("SH.VP actions = %+v, want approving the dossier of sh-cong-ttdt, +1.0", vp.Actions)
	}
	yt, _ := r.Org("SH.YT")
	if len(yt.Actions) != 7 || oneDecimal(yt.Actions[0].Delta) != "1.7" || yt.Actions[0].Org != "SH.YT" {
		t.Errorf("SH.YT actions = %+v, want 7 organization controls, +1.7 each", yt.Actions)
	}
	pillars := map[Pillar]string{}
	for _, p := range sh.Pillars {
		pillars[p.Pillar] = oneDecimal(p.Points)
	}
	if pillars[PillarLegal] != "13.0" || pillars[PillarCooperation] != "6.7" {
		t.Errorf("SH pillars = %v, want legal 13.0 and cooperation 6.7", pillars)
	}
	if len(yt.Removed) != 1 || len(sh.Removed) != 1 || len(vp.Removed) != 0 {
		t.Errorf("the removed system shows at SH.YT and SH only: %d %d %d", len(yt.Removed), len(sh.Removed), len(vp.Removed))
	}
	if len(yt.Deadlines) != 2 {
		t.Errorf("SH.YT deadlines = %+v, want the late breach notice and the late urgent request", yt.Deadlines)
	}
}
