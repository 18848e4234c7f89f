// Package gate answers whether a system may enter a lifecycle stage — above all, whether it may
// go into operation — and why not. Decree 331/2026 (Art. 30.6) and Directive 57 require that a
// system not yet secure is not put into use: the gate turns that into rules an administrator
// keeps as data (Policy), checked against stored facts (assessments, findings, attestations),
// with named, approved, expiring exceptions.
//
// Decide is pure: the same system, facts, policy, exceptions and time give the same Decision,
// and every Decision carries what a record of it needs (the policy id, every reason with its
// evidence, the exceptions that waived reasons). The service that calls it stores every
// decision, allowed or not.
package gate

import (
	"cmp"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/finding"
	"github.com/khien-vn/khien/internal/inventory"
)

//go:embed policy.yaml
var defaultPolicyYAML []byte

// Policy is the gate's rules: for each stage that is guarded, a rule per security level.
type Policy struct {
	ID     string        `json:"id" yaml:"id"`
	Stages []StagePolicy `json:"stages" yaml:"stages"`
}

// StagePolicy guards entry into one stage.
type StagePolicy struct {
	Stage  inventory.Stage `json:"stage" yaml:"stage"`
	Levels []LevelRule     `json:"levels" yaml:"levels"`
}

// LevelRule is what a system of one security level needs to enter the stage.
type LevelRule struct {
	Level int `json:"level" yaml:"level"`
	// MaxAssessmentAgeDays: every resource of the system assessed within this many days; 0
	// means no assessment is required.
	MaxAssessmentAgeDays     int  `json:"max_assessment_age_days" yaml:"max_assessment_age_days"`
	BlockOpenCritical        bool `json:"block_open_critical" yaml:"block_open_critical"`
	BlockOpenHigh            bool `json:"block_open_high" yaml:"block_open_high"`
	RequireMandatoryControls bool `json:"require_mandatory_controls" yaml:"require_mandatory_controls"`
	RequireLevelApproved     bool `json:"require_level_approved" yaml:"require_level_approved"`
}

// DefaultPolicy returns policy khien-gate-2026.1 (the embedded policy.yaml): entering operation
// needs every resource assessed within 30 days, no open critical finding (nor an open high one
// from level 3), every mandatory control of the level attested and approved, and an approved
// level dossier.
func DefaultPolicy() Policy {
	p, err := ParsePolicy(defaultPolicyYAML)
	if err != nil {
		panic("gate: embedded policy does not parse: " + err.Error()) // a test keeps it parsing
	}
	return p
}

// ParsePolicy parses a policy file strictly and validates it.
func ParsePolicy(b []byte) (Policy, error) {
	var p Policy
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return Policy{}, fmt.Errorf("gate policy: %w", err)
	}
	return p, p.Validate()
}

// Validate checks that each guarded stage is a known stage, listed once, with one rule for each
// of the levels 1 to 5 and no negative age.
func (p Policy) Validate() error {
	var problems []string
	if strings.TrimSpace(p.ID) == "" {
		problems = append(problems, "id is required")
	}
	seen := map[inventory.Stage]bool{}
	for _, sp := range p.Stages {
		if !slices.Contains(inventory.Stages, sp.Stage) {
			problems = append(problems, fmt.Sprintf("stage %q is unknown", sp.Stage))
		}
		if seen[sp.Stage] {
			problems = append(problems, fmt.Sprintf("stage %s is listed twice", sp.Stage))
		}
		seen[sp.Stage] = true
		levels := map[int]bool{}
		for _, l := range sp.Levels {
			if l.Level < 1 || l.Level > 5 || levels[l.Level] {
				problems = append(problems, fmt.Sprintf("stage %s: level %d is outside 1–5 or listed twice", sp.Stage, l.Level))
			}
			levels[l.Level] = true
			if l.MaxAssessmentAgeDays < 0 {
				problems = append(problems, fmt.Sprintf("stage %s level %d: max_assessment_age_days must not be negative", sp.Stage, l.Level))
			}
		}
		if len(levels) != 5 {
			problems = append(problems, fmt.Sprintf("stage %s: give a rule for each of the levels 1 to 5", sp.Stage))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("gate policy %s: %s", p.ID, strings.Join(problems, "; "))
	}
	return nil
}

// Rule returns the rule for entering stage at level, and whether the stage is guarded at all.
func (p Policy) Rule(stage inventory.Stage, level int) (LevelRule, bool) {
	for _, sp := range p.Stages {
		if sp.Stage != stage {
			continue
		}
		for _, l := range sp.Levels {
			if l.Level == level {
				return l, true
			}
		}
		// A guarded stage with no rule for this level: the strictest rule of the stage.
		return strictest(sp.Levels), true
	}
	return LevelRule{}, false
}

func strictest(rules []LevelRule) LevelRule {
	s := LevelRule{}
	for _, r := range rules {
		if r.MaxAssessmentAgeDays > 0 && (s.MaxAssessmentAgeDays == 0 || r.MaxAssessmentAgeDays < s.MaxAssessmentAgeDays) {
			s.MaxAssessmentAgeDays = r.MaxAssessmentAgeDays
		}
		s.BlockOpenCritical = s.BlockOpenCritical || r.BlockOpenCritical
		s.BlockOpenHigh = s.BlockOpenHigh || r.BlockOpenHigh
		s.RequireMandatoryControls = s.RequireMandatoryControls || r.RequireMandatoryControls
		s.RequireLevelApproved = s.RequireLevelApproved || r.RequireLevelApproved
	}
	return s
}

// Code names a reason a system may not enter a stage. Codes are stable: exceptions name them.
type Code string

// Reasons.
const (
	LevelInvalid     Code = "level_invalid"      // the system's security level is not 1–5
	LevelNotApproved Code = "level_not_approved" // the level dossier is not approved
	NoResource       Code = "no_resource"        // nothing registered that could be assessed
	NotAssessed      Code = "not_assessed"       // a resource was never assessed
	AssessmentStale  Code = "assessment_stale"   // a resource was last assessed too long ago
	OpenCritical     Code = "open_critical"      // an open critical finding
	OpenHigh         Code = "open_high"          // an open high finding
	ControlMissing   Code = "control_missing"    // a mandatory control not attested, approved and valid
)

// Codes lists the reason codes.
var Codes = []Code{LevelInvalid, LevelNotApproved, NoResource, NotAssessed, AssessmentStale, OpenCritical, OpenHigh, ControlMissing}

// Reason is one thing that blocks entry, with the fact behind it. Subject names what it is
// about: a resource, a finding's fingerprint, a control id.
type Reason struct {
	Code     Code              `json:"code"`
	Subject  string            `json:"subject,omitempty"`
	VI       string            `json:"vi"`
	EN       string            `json:"en"`
	Evidence map[string]string `json:"evidence,omitempty"`
}

// Assessed is when a resource of the system was last assessed (the end of the latest run that
// observed it); zero if never.
type Assessed struct {
	Resource string    `json:"resource"`
	At       time.Time `json:"at,omitzero"`
}

// Facts are what the gate reads about the system.
type Facts struct {
	Resources    []Assessed            `json:"resources"`
	Findings     []finding.Finding     `json:"findings"` // the system's findings as stored
	Controls     []control.Control     `json:"controls"` // the control catalog
	Attestations []control.Attestation `json:"attestations"`
}

// Exception lets a system pass despite named reasons, approved by a named person with a
// justification, until it expires. Reasons name codes ("open_high": every open high finding) or
// one subject of a code ("open_high:<fingerprint>", "control_missing:sys.op.restore_test").
type Exception struct {
	ID            string          `json:"id"`
	System        string          `json:"system"`
	Stage         inventory.Stage `json:"stage,omitempty"` // empty: any stage
	Reasons       []string        `json:"reasons"`
	Approver      string          `json:"approver"`
	Justification string          `json:"justification"`
	ApprovedAt    time.Time       `json:"approved_at"`
	Expires       time.Time       `json:"expires"`
}

// MaxExceptionDays is the longest an exception may run; renew it with a new justification.
const MaxExceptionDays = 180

// Validate checks an exception before it is stored: a system, known reasons, an approver, a
// justification of at least 20 characters, and an expiry after its approval and at most
// MaxExceptionDays later. Every problem is reported.
func (x Exception) Validate() error {
	var problems []error
	if strings.TrimSpace(x.System) == "" {
		problems = append(problems, errs.Field("system", "is required"))
	}
	if x.Stage != "" && !slices.Contains(inventory.Stages, x.Stage) {
		problems = append(problems, errs.Field("stage", "%q is not a stage", x.Stage))
	}
	if len(x.Reasons) == 0 {
		problems = append(problems, errs.Field("reasons", "name the reasons the exception covers"))
	}
	for _, r := range x.Reasons {
		code, _, _ := strings.Cut(r, ":")
		if !slices.Contains(Codes, Code(code)) {
			problems = append(problems, errs.Field("reasons", "%q is not a gate reason code", r))
		}
	}
	if strings.TrimSpace(x.Approver) == "" {
		problems = append(problems, errs.Field("approver", "an exception needs a named approver"))
	}
	if len([]rune(strings.TrimSpace(x.Justification))) < 20 {
		problems = append(problems, errs.Field("justification", "say why, in at least 20 characters"))
	}
	switch {
	case x.ApprovedAt.IsZero():
		problems = append(problems, errs.Field("approved_at", "is required"))
	case !x.Expires.After(x.ApprovedAt):
		problems = append(problems, errs.Field("expires", "must be after the approval"))
	case x.Expires.Sub(x.ApprovedAt) > MaxExceptionDays*24*time.Hour:
		problems = append(problems, errs.Field("expires", "an exception may run %d days at most", MaxExceptionDays))
	}
	return errors.Join(problems...)
}

// Active reports whether x applies to system entering stage at t: valid, for that system and
// stage, approved by t and not expired.
func (x Exception) Active(system string, stage inventory.Stage, t time.Time) bool {
	return x.System == system && (x.Stage == "" || x.Stage == stage) && !x.ApprovedAt.After(t) && t.Before(x.Expires) && x.Validate() == nil
}

// Covers reports whether x names r, by code or by code and subject.
func (x Exception) Covers(r Reason) bool {
	for _, name := range x.Reasons {
		if name == string(r.Code) || r.Subject != "" && name == string(r.Code)+":"+r.Subject {
			return true
		}
	}
	return false
}

// Decision is the gate's answer, with everything a record of it needs.
type Decision struct {
	System  string          `json:"system"`
	From    inventory.Stage `json:"from"`
	Stage   inventory.Stage `json:"stage"`
	Level   int             `json:"level"`
	Policy  string          `json:"policy"`
	AsOf    time.Time       `json:"as_of"`
	Allowed bool            `json:"allowed"`
	// Reasons block entry; Waived would have, but an active exception covers them.
	Reasons           []Reason `json:"reasons"`
	Waived            []Reason `json:"waived,omitempty"`
	ExceptionsApplied []string `json:"exceptions_applied,omitempty"`
	// Checked lists the rules evaluated, so a record shows what passed as well as what failed.
	Checked []Code     `json:"checked"`
	Text    check.Text `json:"text"`
}

// Decide answers whether sys may enter stage at asOf under p, given the facts and the exceptions
// on record. Facts dated after asOf do not count (a finding first seen later, an attestation
// approved later), so a past decision can be replayed.
func Decide(sys inventory.System, stage inventory.Stage, f Facts, p Policy, exceptions []Exception, asOf time.Time) Decision {
	asOf = asOf.UTC()
	d := Decision{System: sys.ID, From: sys.Stage, Stage: stage, Level: sys.Level, Policy: p.ID, AsOf: asOf, Reasons: []Reason{}, Checked: []Code{}}
	rule, guarded := p.Rule(stage, sys.Level)
	var found []Reason
	if guarded {
		found = evaluate(sys, f, rule, asOf, &d.Checked)
	}
	var active []Exception
	for _, x := range exceptions {
		if x.Active(sys.ID, stage, asOf) {
			active = append(active, x)
		}
	}
	slices.SortFunc(active, func(a, b Exception) int { return cmp.Compare(a.ID, b.ID) })
	applied := map[string]bool{}
	for _, r := range found {
		i := slices.IndexFunc(active, func(x Exception) bool { return x.Covers(r) })
		if i < 0 {
			d.Reasons = append(d.Reasons, r)
			continue
		}
		r.Evidence = cloneWith(r.Evidence, "exception", active[i].ID)
		d.Waived = append(d.Waived, r)
		applied[active[i].ID] = true
	}
	for id := range applied {
		d.ExceptionsApplied = append(d.ExceptionsApplied, id)
	}
	slices.Sort(d.ExceptionsApplied)
	d.Allowed = len(d.Reasons) == 0
	d.Text = summary(d, guarded)
	return d
}

func cloneWith(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

// evaluate applies one level rule, in a fixed order, and lists every reason found.
func evaluate(sys inventory.System, f Facts, rule LevelRule, asOf time.Time, checked *[]Code) []Reason {
	var out []Reason
	day := func(t time.Time) string { return t.UTC().Format("02/01/2006") }
	if sys.Level < 1 || sys.Level > 5 {
		*checked = append(*checked, LevelInvalid)
		out = append(out, Reason{Code: LevelInvalid, VI: fmt.Sprintf("Cấp độ %d không hợp lệ: xác định cấp độ 1–5 trước.", sys.Level),
			EN: fmt.Sprintf("Security level %d is not valid: determine a level from 1 to 5 first.", sys.Level)})
	}
	if rule.RequireLevelApproved {
		*checked = append(*checked, LevelNotApproved)
		if !sys.LevelApproved {
			out = append(out, Reason{Code: LevelNotApproved,
				VI: "Hồ sơ đề xuất cấp độ chưa được phê duyệt (Nghị định 331/2026, Điều 30.6).",
				EN: "The security-level dossier is not approved (Decree 331/2026, Art. 30.6)."})
		}
	}
	if maxAge := rule.MaxAssessmentAgeDays; maxAge > 0 {
		*checked = append(*checked, NoResource, NotAssessed, AssessmentStale)
		limit := time.Duration(maxAge) * 24 * time.Hour
		res := slices.Clone(f.Resources)
		slices.SortFunc(res, func(a, b Assessed) int { return cmp.Compare(a.Resource, b.Resource) })
		if len(res) == 0 {
			out = append(out, Reason{Code: NoResource,
				VI: "Hệ thống chưa có tài nguyên nào để đánh giá: đăng ký tên miền, địa chỉ hoặc máy chủ của hệ thống rồi đánh giá.",
				EN: "The system has no resource to assess: register its domain names, addresses or hosts and assess them."})
		}
		for _, r := range res {
			switch {
			case r.At.IsZero() || r.At.After(asOf):
				out = append(out, Reason{Code: NotAssessed, Subject: r.Resource,
					VI: fmt.Sprintf("Tài nguyên %s chưa từng được đánh giá.", r.Resource),
					EN: fmt.Sprintf("Resource %s has never been assessed.", r.Resource)})
			case asOf.Sub(r.At) > limit:
				out = append(out, Reason{Code: AssessmentStale, Subject: r.Resource,
					VI:       fmt.Sprintf("Tài nguyên %s được đánh giá lần cuối ngày %s, quá %d ngày.", r.Resource, day(r.At), maxAge),
					EN:       fmt.Sprintf("Resource %s was last assessed on %s, more than %d days ago.", r.Resource, r.At.UTC().Format(time.DateOnly), maxAge),
					Evidence: map[string]string{"last_assessed": r.At.UTC().Format(time.RFC3339)}})
			}
		}
	}
	if rule.BlockOpenCritical || rule.BlockOpenHigh {
		if rule.BlockOpenCritical {
			*checked = append(*checked, OpenCritical)
		}
		if rule.BlockOpenHigh {
			*checked = append(*checked, OpenHigh)
		}
		fs := slices.Clone(f.Findings)
		slices.SortFunc(fs, func(a, b finding.Finding) int {
			return cmp.Or(cmp.Compare(b.Severity.Rank(), a.Severity.Rank()), cmp.Compare(a.Resource, b.Resource),
				cmp.Compare(a.Check, b.Check), cmp.Compare(a.Endpoint, b.Endpoint), cmp.Compare(a.Fingerprint, b.Fingerprint))
		})
		for _, fd := range fs {
			if fd.FirstSeen.After(asOf) {
				continue
			}
			e := fd.Effective(asOf)
			if !e.IsOpen() || versionInferredKEV(e) {
				continue
			}
			var code Code
			var sevVI string
			switch {
			case e.Severity == check.Critical && rule.BlockOpenCritical:
				code, sevVI = OpenCritical, "nghiêm trọng"
			case e.Severity == check.High && rule.BlockOpenHigh:
				code, sevVI = OpenHigh, "cao"
			default:
				continue
			}
			ev := map[string]string{"check": e.Check, "resource": e.Resource, "opened_at": e.OpenedAt.UTC().Format(time.RFC3339)}
			if e.Endpoint != "" {
				ev["endpoint"] = e.Endpoint
			}
			out = append(out, Reason{Code: code, Subject: e.Fingerprint,
				VI:       fmt.Sprintf("Phát hiện mức %s chưa khắc phục: %s trên %s (từ %s).", sevVI, e.Check, e.Resource, day(e.OpenedAt)),
				EN:       fmt.Sprintf("Open %s finding: %s on %s (since %s).", e.Severity, e.Check, e.Resource, e.OpenedAt.UTC().Format(time.DateOnly)),
				Evidence: ev})
		}
	}
	if rule.RequireMandatoryControls {
		*checked = append(*checked, ControlMissing)
		for _, c := range f.Controls {
			if !c.Mandatory || !c.AppliesToSystem(sys.Level, sys.DataClasses, asOf) {
				continue
			}
			a, st := control.Find(f.Attestations, c.ID, control.ScopeSystem, sys.ID, asOf)
			if st == control.StateApproved {
				continue
			}
			vi, en := control.Describe(a, st)
			ev := map[string]string{"state": string(st)}
			if a.ID != "" {
				ev["attestation"] = a.ID
			}
			out = append(out, Reason{Code: ControlMissing, Subject: c.ID,
				VI:       fmt.Sprintf("Biện pháp bắt buộc %s «%s»: %s.", c.ID, c.Title.VI, vi),
				EN:       fmt.Sprintf("Mandatory control %s \"%s\": %s.", c.ID, c.Title.EN, en),
				Evidence: ev})
		}
	}
	return out
}

func summary(d Decision, guarded bool) check.Text {
	stageVI := map[inventory.Stage]string{inventory.StagePlanning: "lập kế hoạch", inventory.StageDesign: "thiết kế", inventory.StageBuild: "xây dựng",
		inventory.StageTest: "thử nghiệm", inventory.StageOperation: "vận hành", inventory.StageRetired: "ngừng sử dụng"}[d.Stage]
	switch {
	case !guarded:
		return check.Text{VI: fmt.Sprintf("Được phép: chính sách %s không đặt điều kiện cho giai đoạn %s.", d.Policy, stageVI),
			EN: fmt.Sprintf("Allowed: policy %s sets no condition for entering %s.", d.Policy, d.Stage)}
	case d.Allowed && len(d.Waived) > 0:
		return check.Text{VI: fmt.Sprintf("Được phép chuyển sang %s theo ngoại lệ %s (%d lý do được miễn).", stageVI, strings.Join(d.ExceptionsApplied, ", "), len(d.Waived)),
			EN: fmt.Sprintf("Allowed to enter %s under exception %s (%d reason(s) waived).", d.Stage, strings.Join(d.ExceptionsApplied, ", "), len(d.Waived))}
	case d.Allowed:
		return check.Text{VI: fmt.Sprintf("Được phép chuyển sang %s: đáp ứng mọi điều kiện của chính sách %s.", stageVI, d.Policy),
			EN: fmt.Sprintf("Allowed to enter %s: every condition of policy %s is met.", d.Stage, d.Policy)}
	}
	return check.Text{VI: fmt.Sprintf("Chưa được chuyển sang %s: %d lý do chặn.", stageVI, len(d.Reasons)),
		EN: fmt.Sprintf("Not allowed to enter %s: %d blocking reason(s).", d.Stage, len(d.Reasons))}
}

// versionInferredKEV reports a known-exploited finding read from a version banner only:
// distributions backport fixes without changing the version they show, so such a finding may
// not keep a system out of operation on its own. It stays a finding, counts in the index, and
// blocks once a safe probe confirms it ("confidence": "confirmed").
func versionInferredKEV(f finding.Finding) bool {
	if f.Check != "vuln.known_exploited" {
		return false
	}
	c, _ := f.Evidence["confidence"].(string)
	return c == "version-inferred"
}
