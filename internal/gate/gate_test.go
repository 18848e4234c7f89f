package gate

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/finding"
	"github.com/khien-vn/khien/internal/inventory"
)

var now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

var loadCatalog = sync.OnceValues(control.Load)

func controls(t *testing.T) []control.Control {
	t.Helper()
	cat, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return cat.Controls
}

// ready returns a level-3 system in test and facts that satisfy the default policy for
// entering operation: one resource assessed yesterday, no open finding, every mandatory control
// of level 3 attested and approved.
func ready(t *testing.T) (inventory.System, Facts) {
	sys := inventory.System{ID: "sh-dvc", Org: "SH", Name: "Cổng dịch vụ công", Level: 3, Stage: inventory.StageTest, LevelApproved: true}
	f := Facts{Resources: []Assessed{{Resource: "dns:dvc.test", At: now.Add(-days(1))}}, Controls: controls(t)}
	for _, c := range control.ForSystem(f.Controls, 3, nil, now) {
		if !c.Mandatory {
			continue
		}
		f.Attestations = append(f.Attestations, control.Attestation{ID: "a-" + c.ID, Control: c.ID, System: sys.ID,
			DeclaredBy: "Nam", DeclaredAt: now.Add(-days(20)), Evidence: []control.EvidenceFile{control.NewEvidenceFile("x.pdf", []byte(c.ID))},
			Review: &control.Review{By: "Hoa", At: now.Add(-days(19)), Approved: true}, ValidFrom: now.Add(-days(20)), ValidUntil: now.Add(days(100))})
	}
	return sys, f
}

func open(sev check.Severity, fp string, opened time.Time) finding.Finding {
	return finding.Finding{Fingerprint: fp, Check: "tls.cipher.weak", Resource: "dns:dvc.test", Endpoint: "dvc.test|192.0.2.1:443",
		Severity: sev, Status: finding.Open, FirstSeen: opened, OpenedAt: opened}
}

func codes(rs []Reason) []string {
	var out []string
	for _, r := range rs {
		s := string(r.Code)
		if r.Subject != "" {
			s += ":" + r.Subject
		}
		out = append(out, s)
	}
	return out
}

func TestDefaultPolicy(t *testing.T) {
	p := DefaultPolicy()
	if p.ID != "khien-gate-2026.1" {
		t.Fatalf("id %s", p.ID)
	}
	for level := 1; level <= 5; level++ {
		r, ok := p.Rule(inventory.StageOperation, level)
		if !ok || r.MaxAssessmentAgeDays != 30 || !r.BlockOpenCritical || r.BlockOpenHigh != (level >= 3) || !r.RequireMandatoryControls || !r.RequireLevelApproved {
			t.Errorf("level %d: %+v", level, r)
		}
	}
	if _, ok := p.Rule(inventory.StageTest, 3); ok {
		t.Error("entering test is not guarded by default")
	}
}

func TestParsePolicyRejects(t *testing.T) {
	for _, tt := range []struct{ name, from, to, want string }{
		{"unknown field", "require_level_approved: true}", "require_level_approved: true, bypass: true}", "field bypass not found"},
		{"unknown stage", "stage: operation", "stage: production", `stage "production" is unknown`},
		{"missing level", "      - {level: 5,", "      - {level: 4,", "listed twice"},
		{"negative age", "{level: 1, max_assessment_age_days: 30", "{level: 1, max_assessment_age_days: -1", "must not be negative"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(string(defaultPolicyYAML), tt.from, tt.to, 1)
			if src == string(defaultPolicyYAML) {
				t.Fatalf("%q not in the policy file", tt.from)
			}
			if _, err := ParsePolicy([]byte(src)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParsePolicy = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestRules has one case per rule of the default policy, each on an otherwise ready system.
func TestRules(t *testing.T) {
	tests := []struct {
		name  string
		stage inventory.Stage
		edit  func(*inventory.System, *Facts)
		want  []string // blocking reasons, in order; empty means allowed
	}{
		{"ready", inventory.StageOperation, func(*inventory.System, *Facts) {}, nil},
		{"entering an unguarded stage", inventory.StageBuild, func(s *inventory.System, f *Facts) {
			s.LevelApproved, f.Resources, f.Attestations = false, nil, nil
		}, nil},
		{"level not approved", inventory.StageOperation, func(s *inventory.System, _ *Facts) { s.LevelApproved = false }, []string{"level_not_approved"}},
		{"invalid level", inventory.StageOperation, func(s *inventory.System, _ *Facts) { s.Level = 0 }, []string{"level_invalid"}},
		{"no resource", inventory.StageOperation, func(_ *inventory.System, f *Facts) { f.Resources = nil }, []string{"no_resource"}},
		{"resource never assessed", inventory.StageOperation, func(_ *inventory.System, f *Facts) {
			f.Resources = append(f.Resources, Assessed{Resource: "ip:192.0.2.1"})
		}, []string{"not_assessed:ip:192.0.2.1"}},
		{"assessed after asOf counts as not yet", inventory.StageOperation, func(_ *inventory.System, f *Facts) {
			f.Resources[0].At = now.Add(time.Hour)
		}, []string{"not_assessed:dns:dvc.test"}},
		{"assessed exactly 30 days ago", inventory.StageOperation, func(_ *inventory.System, f *Facts) { f.Resources[0].At = now.Add(-days(30)) }, nil},
		{"assessed 31 days ago", inventory.StageOperation, func(_ *inventory.System, f *Facts) { f.Resources[0].At = now.Add(-days(31)) }, []string{"assessment_stale:dns:dvc.test"}},
		{"open critical", inventory.StageOperation, func(_ *inventory.System, f *Facts) {
			f.Findings = []finding.Finding{open(check.Critical, "c1", now.Add(-days(2)))}
		}, []string{"open_critical:c1"}},
		{"known exploited, confirmed, blocks", inventory.StageOperation, func(_ *inventory.System, f *Facts) {
			fd := open(check.Critical, "k1", now.Add(-days(2)))
			fd.Check, fd.Evidence = "vuln.known_exploited", map[string]any{"confidence": "confirmed"}
			f.Findings = []finding.Finding{fd}
		}, []string{"open_critical:k1"}},
		{"known exploited, inferred from a version only, does not block on its own", inventory.StageOperation, func(_ *inventory.System, f *Facts) {
			fd := open(check.Critical, "k2", now.Add(-days(2)))
			fd.Check, fd.Evidence = "vuln.known_exploited", map[string]any{"confidence": "version-inferred"}
			f.Findings = []finding.Finding{fd}
		}, nil},
		{"open high at level 3", inventory.StageOperation, func(_ *inventory.System, f *Facts) {
			f.Findings = []finding.Finding{open(check.High, "h1", now.Add(-days(2)))}
		}, []string{"open_high:h1"}},
		{"open high at level 2 does not block", inventory.StageOperation, func(s *inventory.System, f *Facts) {
			s.Level = 2
			f.Findings = []finding.Finding{open(check.High, "h1", now.Add(-days(2)))}
		}, nil},
		{"open medium does not block", inventory.StageOperation, func(_ *inventory.System, f *Facts) {
			f.Findings = []finding.Finding{open(check.Medium, "m1", now.Add(-days(2)))}
		}, nil},
		{"fixed critical does not block", inventory.StageOperation, func(_ *inventory.System, f *Facts) {
			fd := open(check.Critical, "c1", now.Add(-days(9)))
			fd.Status, fd.FixedAt = finding.Fixed, now.Add(-days(1))
			f.Findings = []finding.Finding{fd}
		}, nil},
		{"accepted critical does not block", inventory.StageOperation, func(_ *inventory.System, f *Facts) {
			fd := open(check.Critical, "c1", now.Add(-days(9)))
			fd.Status, fd.Acceptance = finding.Accepted, &finding.Acceptance{By: "Đức", Reason: "thay thế trong quý 1", At: now.Add(-days(5)), Expires: now.Add(days(20))}
			f.Findings = []finding.Finding{fd}
		}, nil},
		{"expired acceptance blocks again", inventory.StageOperation, func(_ *inventory.System, f *Facts) {
			fd := open(check.Critical, "c1", now.Add(-days(40)))
			fd.Status, fd.Acceptance = finding.Accepted, &finding.Acceptance{By: "Đức", Reason: "thay thế trong quý 1", At: now.Add(-days(39)), Expires: now.Add(-days(1))}
			f.Findings = []finding.Finding{fd}
		}, []string{"open_critical:c1"}},
		{"finding first seen after asOf is not there yet", inventory.StageOperation, func(_ *inventory.System, f *Facts) {
			f.Findings = []finding.Finding{open(check.Critical, "c1", now.Add(time.Hour))}
		}, nil},
		{"mandatory control missing", inventory.StageOperation, func(_ *inventory.System, f *Facts) {
			f.Attestations = slices.DeleteFunc(f.Attestations, func(a control.Attestation) bool { return a.Control == "sys.op.restore_test" })
		}, []string{"control_missing:sys.op.restore_test"}},
		{"mandatory control rejected", inventory.StageOperation, func(_ *inventory.System, f *Facts) {
			for i := range f.Attestations {
				if f.Attestations[i].Control == "sys.op.backup" {
					f.Attestations[i].Review = &control.Review{By: "Hoa", At: now.Add(-days(19)), Comment: "thiếu nhật ký sao lưu"}
				}
			}
		}, []string{"control_missing:sys.op.backup"}},
		{"mandatory control lapsed", inventory.StageOperation, func(_ *inventory.System, f *Facts) {
			for i := range f.Attestations {
				if f.Attestations[i].Control == "sys.op.backup" {
					f.Attestations[i].ValidUntil = now
				}
			}
		}, []string{"control_missing:sys.op.backup"}},
		{"a control mandatory only with state secrets", inventory.StageOperation, func(s *inventory.System, _ *Facts) {
			s.DataClasses = []inventory.DataClass{inventory.DataStateSecret}
		}, []string{"control_missing:sys.data.secret_isolation"}},
		{"every reason at once, in a fixed order", inventory.StageOperation, func(s *inventory.System, f *Facts) {
			s.LevelApproved = false
			f.Resources[0].At = now.Add(-days(45))
			f.Findings = []finding.Finding{open(check.High, "h1", now.Add(-days(2))), open(check.Critical, "c1", now.Add(-days(2)))}
			f.Attestations = slices.DeleteFunc(f.Attestations, func(a control.Attestation) bool { return a.Control == "sys.net.ids" })
		}, []string{"level_not_approved", "assessment_stale:dns:dvc.test", "open_critical:c1", "open_high:h1", "control_missing:sys.net.ids"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys, f := ready(t)
			tt.edit(&sys, &f)
			d := Decide(sys, tt.stage, f, DefaultPolicy(), nil, now)
			got := codes(d.Reasons)
			if !slices.Equal(got, tt.want) || d.Allowed != (len(tt.want) == 0) {
				t.Fatalf("Decide = allowed %v %v, want %v\n%s", d.Allowed, got, tt.want, d.Text.EN)
			}
			for _, r := range d.Reasons {
				if r.VI == "" || r.EN == "" {
					t.Errorf("reason %s has no text in both languages", r.Code)
				}
			}
		})
	}
}

func exception(id string, reasons ...string) Exception {
	return Exception{ID: id, System: "sh-dvc", Stage: inventory.StageOperation, Reasons: reasons, Approver: "Nguyễn Văn Hùng, Chủ tịch UBND tỉnh",
		Justification: "Dịch vụ công bắt buộc vận hành từ 01/12; nhà cung cấp vá trong 10 ngày", ApprovedAt: now.Add(-days(1)), Expires: now.Add(days(10))}
}

// TestExceptions covers the exception path: what an exception waives, and when it does not apply.
func TestExceptions(t *testing.T) {
	blocked := func(s *inventory.System, f *Facts) {
		f.Findings = []finding.Finding{open(check.High, "h1", now.Add(-days(2))), open(check.High, "h2", now.Add(-days(2)))}
		f.Attestations = slices.DeleteFunc(f.Attestations, func(a control.Attestation) bool { return a.Control == "sys.op.restore_test" })
	}
	expired := exception("x-old", "open_high")
	expired.ApprovedAt, expired.Expires = now.Add(-days(30)), now
	future := exception("x-future", "open_high")
	future.ApprovedAt = now.Add(time.Hour)
	otherSystem := exception("x-other", "open_high", "control_missing")
	otherSystem.System = "sh-khac"
	otherStage := exception("x-test", "open_high", "control_missing")
	otherStage.Stage = inventory.StageTest
	anyStage := exception("x-any", "open_high", "control_missing")
	anyStage.Stage = ""
	noApprover := exception("x-anon", "open_high", "control_missing")
	noApprover.Approver = ""
	tests := []struct {
		name        string
		exceptions  []Exception
		wantReasons []string
		wantWaived  []string
		wantApplied []string
	}{
		{"no exception", nil, []string{"open_high:h1", "open_high:h2", "control_missing:sys.op.restore_test"}, nil, nil},
		{"covers every reason", []Exception{exception("x1", "open_high", "control_missing:sys.op.restore_test")},
			nil, []string{"open_high:h1", "open_high:h2", "control_missing:sys.op.restore_test"}, []string{"x1"}},
		{"covers only some reasons: still denied for the others", []Exception{exception("x1", "open_high")},
			[]string{"control_missing:sys.op.restore_test"}, []string{"open_high:h1", "open_high:h2"}, []string{"x1"}},
		{"covers one finding by its subject", []Exception{exception("x1", "open_high:h2", "control_missing")},
			[]string{"open_high:h1"}, []string{"open_high:h2", "control_missing:sys.op.restore_test"}, []string{"x1"}},
		{"two exceptions together", []Exception{exception("x2", "control_missing"), exception("x1", "open_high")},
			nil, []string{"open_high:h1", "open_high:h2", "control_missing:sys.op.restore_test"}, []string{"x1", "x2"}},
		{"expired exception does not apply", []Exception{expired},
			[]string{"open_high:h1", "open_high:h2", "control_missing:sys.op.restore_test"}, nil, nil},
		{"exception approved after asOf does not apply yet", []Exception{future},
			[]string{"open_high:h1", "open_high:h2", "control_missing:sys.op.restore_test"}, nil, nil},
		{"exception for another system does not apply", []Exception{otherSystem},
			[]string{"open_high:h1", "open_high:h2", "control_missing:sys.op.restore_test"}, nil, nil},
		{"exception for another stage does not apply", []Exception{otherStage},
			[]string{"open_high:h1", "open_high:h2", "control_missing:sys.op.restore_test"}, nil, nil},
		{"exception for any stage applies", []Exception{anyStage},
			nil, []string{"open_high:h1", "open_high:h2", "control_missing:sys.op.restore_test"}, []string{"x-any"}},
		{"exception without an approver does not apply", []Exception{noApprover},
			[]string{"open_high:h1", "open_high:h2", "control_missing:sys.op.restore_test"}, nil, nil},
		{"unused exception is not listed as applied", []Exception{exception("x1", "open_critical")},
			[]string{"open_high:h1", "open_high:h2", "control_missing:sys.op.restore_test"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys, f := ready(t)
			blocked(&sys, &f)
			d := Decide(sys, inventory.StageOperation, f, DefaultPolicy(), tt.exceptions, now)
			if got := codes(d.Reasons); !slices.Equal(got, tt.wantReasons) {
				t.Errorf("reasons = %v, want %v", got, tt.wantReasons)
			}
			if got := codes(d.Waived); !slices.Equal(got, tt.wantWaived) {
				t.Errorf("waived = %v, want %v", got, tt.wantWaived)
			}
			if !slices.Equal(d.ExceptionsApplied, tt.wantApplied) || d.Allowed != (len(tt.wantReasons) == 0) {
				t.Errorf("applied = %v allowed %v, want %v", d.ExceptionsApplied, d.Allowed, tt.wantApplied)
			}
			for _, w := range d.Waived {
				if w.Evidence["exception"] == "" {
					t.Errorf("waived %s does not name its exception", w.Code)
				}
			}
		})
	}
}

func TestExceptionValidate(t *testing.T) {
	for _, tt := range []struct {
		name  string
		edit  func(*Exception)
		field string
	}{
		{"valid", func(*Exception) {}, ""},
		{"no approver", func(x *Exception) { x.Approver = " " }, "approver"},
		{"short justification", func(x *Exception) { x.Justification = "cần gấp" }, "justification"},
		{"no reasons", func(x *Exception) { x.Reasons = nil }, "reasons"},
		{"unknown reason", func(x *Exception) { x.Reasons = []string{"everything"} }, "reasons"},
		{"expiry before approval", func(x *Exception) { x.Expires = x.ApprovedAt }, "expires"},
		{"too long", func(x *Exception) { x.Expires = x.ApprovedAt.Add(days(MaxExceptionDays + 1)) }, "expires"},
		{"unknown stage", func(x *Exception) { x.Stage = "production" }, "stage"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x := exception("x", "open_high")
			tt.edit(&x)
			err := x.Validate()
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("Validate = %v", err)
			case tt.field != "" && (!errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tt.field+":")):
				t.Fatalf("Validate = %v, want invalid %s", err, tt.field)
			}
		})
	}
}

// TestDecisionRecord: a decision holds what a record needs, is the same for the same inputs, and
// survives JSON.
func TestDecisionRecord(t *testing.T) {
	sys, f := ready(t)
	f.Findings = []finding.Finding{open(check.Critical, "c1", now.Add(-days(2)))}
	ex := []Exception{exception("x1", "open_critical")}
	hcm := time.FixedZone("ICT", 7*3600)
	a := Decide(sys, inventory.StageOperation, f, DefaultPolicy(), ex, now)
	b := Decide(sys, inventory.StageOperation, f, DefaultPolicy(), ex, now.In(hcm))
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatalf("the same inputs give different decisions:\n%s\n%s", ja, jb)
	}
	if !a.Allowed || a.Policy != "khien-gate-2026.1" || a.From != inventory.StageTest || a.System != "sh-dvc" || len(a.Checked) == 0 ||
		!strings.Contains(a.Text.EN, "x1") || a.Waived[0].Evidence["check"] != "tls.cipher.weak" {
		t.Errorf("decision = %s", ja)
	}
	var back Decision
	if err := json.Unmarshal(ja, &back); err != nil {
		t.Fatal(err)
	}
	if jback, _ := json.Marshal(back); string(jback) != string(ja) {
		t.Error("a recorded decision does not survive JSON")
	}
}
