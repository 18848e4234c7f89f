package index

import (
	_ "embed"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/khien-vn/khien/internal/check"
)

//go:embed methods/khien-2026.1.yaml
var defaultMethodYAML []byte

// Method is the rules of the index as data: weights, caps, deadlines, bands and pillars, with an
// id that every stored index records and the date from which it applies. An administrator may
// schedule a new method; until its EffectiveFrom the old one applies, and Outlook shows both.
type Method struct {
	ID            string     `json:"id" yaml:"id"`
	EffectiveFrom time.Time  `json:"effective_from" yaml:"effective_from"`
	Title         check.Text `json:"title" yaml:"title"`

	SeverityWeights SeverityWeights `json:"severity_weights" yaml:"severity_weights"`
	// AcceptedRisk is the share of a failure an accepted risk counts for, until it expires.
	AcceptedRisk  float64       `json:"accepted_risk" yaml:"accepted_risk"`
	Freshness     Freshness     `json:"freshness" yaml:"freshness"`
	TechnicalCaps TechnicalCaps `json:"technical_caps" yaml:"technical_caps"`
	System        SystemBlend   `json:"system" yaml:"system"`
	Org           OrgBlend      `json:"org" yaml:"org"`
	// LevelWeights[0] is the weight of a level-1 system.
	LevelWeights [5]float64   `json:"level_weights" yaml:"level_weights"`
	StageWeights StageWeights `json:"stage_weights" yaml:"stage_weights"`
	Caps         Caps         `json:"caps" yaml:"caps"`
	Deadlines    Deadlines    `json:"deadlines" yaml:"deadlines"`
	SLADays      SLADays      `json:"sla_days" yaml:"sla_days"`
	Bands        []Band       `json:"bands" yaml:"bands"`
	Pillars      PillarMap    `json:"pillars" yaml:"pillars"`
	Actions      int          `json:"actions" yaml:"actions"`
	RemovedDays  int          `json:"removed_days" yaml:"removed_days"`
}

// SeverityWeights is the weight of a failing check of each severity.
type SeverityWeights struct {
	Critical float64 `json:"critical" yaml:"critical"`
	High     float64 `json:"high" yaml:"high"`
	Medium   float64 `json:"medium" yaml:"medium"`
	Low      float64 `json:"low" yaml:"low"`
}

// Freshness says how long an assessment stands.
type Freshness struct {
	GraceHours          int `json:"grace_hours" yaml:"grace_hours"`
	DefaultCadenceHours int `json:"default_cadence_hours" yaml:"default_cadence_hours"`
}

// TechnicalCaps caps a system's technical score while a finding of a severity is open.
type TechnicalCaps struct {
	OpenCritical float64 `json:"open_critical" yaml:"open_critical"`
	OpenHigh     float64 `json:"open_high" yaml:"open_high"`
}

// SystemBlend weighs a system's technical and controls scores; they sum to 1.
type SystemBlend struct {
	Technical float64 `json:"technical" yaml:"technical"`
	Controls  float64 `json:"controls" yaml:"controls"`
}

// OrgBlend weighs an organization's systems and its own controls; they sum to 1.
type OrgBlend struct {
	Systems  float64 `json:"systems" yaml:"systems"`
	Controls float64 `json:"controls" yaml:"controls"`
}

// StageWeights is how much a system counts in each lifecycle stage.
type StageWeights struct {
	Planning  float64 `json:"planning" yaml:"planning"`
	Design    float64 `json:"design" yaml:"design"`
	Build     float64 `json:"build" yaml:"build"`
	Test      float64 `json:"test" yaml:"test"`
	Operation float64 `json:"operation" yaml:"operation"`
	Retired   float64 `json:"retired" yaml:"retired"`
}

// Reach says which organizations a weakest-link cap applies to.
type Reach string

// Reaches.
const (
	// ReachOwner caps the organization that owns the system or the incident; the organizations
	// above it feel the condition through the system's capped score, in proportion.
	ReachOwner Reach = "owner"
	// ReachSubtree caps every organization above it as well.
	ReachSubtree Reach = "subtree"
)

// Caps are the weakest-link caps, applied after aggregation.
type Caps struct {
	Reach                  Reach   `json:"reach" yaml:"reach"`
	NoDossier              float64 `json:"no_dossier" yaml:"no_dossier"`
	LateIncident           float64 `json:"late_incident" yaml:"late_incident"`
	LateBreachNotice       float64 `json:"late_breach_notice" yaml:"late_breach_notice"`
	StateSecretLeak        float64 `json:"state_secret_leak" yaml:"state_secret_leak"`
	KnownExploited         float64 `json:"known_exploited" yaml:"known_exploited"`
	KnownExploitedDays     int     `json:"known_exploited_days" yaml:"known_exploited_days"`
	KnownExploitedMinLevel int     `json:"known_exploited_min_level" yaml:"known_exploited_min_level"`
}

// Deadlines are the legal clocks of incidents and authority requests.
type Deadlines struct {
	IncidentNoticeHours int `json:"incident_notice_hours" yaml:"incident_notice_hours"`
	IncidentReportHours int `json:"incident_report_hours" yaml:"incident_report_hours"`
	BreachNoticeHours   int `json:"breach_notice_hours" yaml:"breach_notice_hours"`
	RequestHours        int `json:"request_hours" yaml:"request_hours"`
	UrgentRequestHours  int `json:"urgent_request_hours" yaml:"urgent_request_hours"`
	LookbackDays        int `json:"lookback_days" yaml:"lookback_days"`
}

// SLADays is how long a finding of a severity may stay open before it is overdue.
type SLADays struct {
	Critical int `json:"critical" yaml:"critical"`
	High     int `json:"high" yaml:"high"`
}

// Band maps the presented figure to a grade: the first band whose Min it reaches.
type Band struct {
	Min   float64 `json:"min" yaml:"min"`
	Grade Grade   `json:"grade" yaml:"grade"`
	VI    string  `json:"vi" yaml:"vi"`
	EN    string  `json:"en" yaml:"en"`
}

// PillarMap assigns controls to pillars: by id first, then by group.
type PillarMap struct {
	Groups   map[string]Pillar `json:"groups" yaml:"groups"`
	Controls map[string]Pillar `json:"controls" yaml:"controls"`
}

// DefaultMethod returns method khien-2026.1, the embedded methods/khien-2026.1.yaml.
func DefaultMethod() Method {
	m, err := ParseMethod(defaultMethodYAML)
	if err != nil {
		panic("index: embedded method does not parse: " + err.Error()) // a test keeps it parsing
	}
	return m
}

// ParseMethod parses a method file strictly (unknown fields are errors) and validates it.
func ParseMethod(b []byte) (Method, error) {
	var m Method
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return Method{}, fmt.Errorf("index method: %w", err)
	}
	m.EffectiveFrom = m.EffectiveFrom.UTC()
	if err := m.Validate(); err != nil {
		return Method{}, err
	}
	return m, nil
}

// Validate checks that the method can be computed with: an id, weights that are finite and not
// negative, blends that sum to 1, caps within 0–100, positive deadlines, bands from highest to
// 0, known grades and pillars. Every problem is reported.
func (m Method) Validate() error {
	var p []string
	bad := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	if strings.TrimSpace(m.ID) == "" {
		bad("id is required")
	}
	if m.EffectiveFrom.IsZero() {
		bad("effective_from is required")
	}
	nonNeg := func(name string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			bad("%s must be a number not below 0, got %v", name, v)
		}
	}
	for name, v := range map[string]float64{
		"severity_weights.critical": m.SeverityWeights.Critical, "severity_weights.high": m.SeverityWeights.High,
		"severity_weights.medium": m.SeverityWeights.Medium, "severity_weights.low": m.SeverityWeights.Low,
		"stage_weights.planning": m.StageWeights.Planning, "stage_weights.design": m.StageWeights.Design,
		"stage_weights.build": m.StageWeights.Build, "stage_weights.test": m.StageWeights.Test,
		"stage_weights.operation": m.StageWeights.Operation, "stage_weights.retired": m.StageWeights.Retired,
		"system.technical": m.System.Technical, "system.controls": m.System.Controls,
		"org.systems": m.Org.Systems, "org.controls": m.Org.Controls,
	} {
		nonNeg(name, v)
	}
	for i, v := range m.LevelWeights {
		nonNeg(fmt.Sprintf("level_weights[%d]", i), v)
	}
	if m.AcceptedRisk < 0 || m.AcceptedRisk > 1 || math.IsNaN(m.AcceptedRisk) {
		bad("accepted_risk must be from 0 to 1, got %v", m.AcceptedRisk)
	}
	if math.Abs(m.System.Technical+m.System.Controls-1) > 1e-9 {
		bad("system.technical + system.controls must be 1")
	}
	if math.Abs(m.Org.Systems+m.Org.Controls-1) > 1e-9 {
		bad("org.systems + org.controls must be 1")
	}
	for name, v := range map[string]float64{
		"technical_caps.open_critical": m.TechnicalCaps.OpenCritical, "technical_caps.open_high": m.TechnicalCaps.OpenHigh,
		"caps.no_dossier": m.Caps.NoDossier, "caps.late_incident": m.Caps.LateIncident,
		"caps.late_breach_notice": m.Caps.LateBreachNotice, "caps.state_secret_leak": m.Caps.StateSecretLeak,
		"caps.known_exploited": m.Caps.KnownExploited,
	} {
		if !(v >= 0 && v <= 100) {
			bad("%s must be from 0 to 100, got %v", name, v)
		}
	}
	if m.Caps.Reach != ReachOwner && m.Caps.Reach != ReachSubtree {
		bad("caps.reach must be owner or subtree, got %q", m.Caps.Reach)
	}
	if m.Caps.KnownExploitedMinLevel < 1 || m.Caps.KnownExploitedMinLevel > 5 {
		bad("caps.known_exploited_min_level must be 1 to 5")
	}
	for name, v := range map[string]int{
		"freshness.default_cadence_hours": m.Freshness.DefaultCadenceHours,
		"deadlines.incident_notice_hours": m.Deadlines.IncidentNoticeHours, "deadlines.incident_report_hours": m.Deadlines.IncidentReportHours,
		"deadlines.breach_notice_hours": m.Deadlines.BreachNoticeHours, "deadlines.request_hours": m.Deadlines.RequestHours,
		"deadlines.urgent_request_hours": m.Deadlines.UrgentRequestHours, "deadlines.lookback_days": m.Deadlines.LookbackDays,
		"sla_days.critical": m.SLADays.Critical, "sla_days.high": m.SLADays.High,
	} {
		if v <= 0 {
			bad("%s must be positive", name)
		}
	}
	if m.Freshness.GraceHours < 0 || m.Caps.KnownExploitedDays < 0 || m.RemovedDays < 0 || m.Actions < 0 {
		bad("freshness.grace_hours, caps.known_exploited_days, removed_days and actions must not be negative")
	}
	if len(m.Bands) == 0 || m.Bands[len(m.Bands)-1].Min != 0 {
		bad("bands must end with a band of min 0")
	}
	for i, b := range m.Bands {
		if !slices.Contains(Grades, b.Grade) {
			bad("bands[%d]: grade %q is not one of %v", i, b.Grade, Grades)
		}
		if i > 0 && !(b.Min < m.Bands[i-1].Min) {
			bad("bands must go from the highest min down")
		}
		if b.VI == "" || b.EN == "" {
			bad("bands[%d] needs vi and en", i)
		}
	}
	for _, pm := range []map[string]Pillar{m.Pillars.Groups, m.Pillars.Controls} {
		for k, v := range pm {
			if !slices.Contains(Pillars, v) || v == PillarCooperation {
				bad("pillars: %s: %q is not one of legal, technical, organizational, capacity", k, v)
			}
		}
	}
	if len(p) == 0 {
		return nil
	}
	slices.Sort(p)
	return fmt.Errorf("index method %s: %s", m.ID, strings.Join(p, "; "))
}

// MethodAt returns the method in force at t: the one with the latest EffectiveFrom not after t.
func MethodAt(methods []Method, t time.Time) (Method, bool) {
	var best Method
	found := false
	for _, m := range methods {
		if m.EffectiveFrom.After(t) {
			continue
		}
		if !found || m.EffectiveFrom.After(best.EffectiveFrom) || m.EffectiveFrom.Equal(best.EffectiveFrom) && m.ID > best.ID {
			best, found = m, true
		}
	}
	return best, found
}

// NextMethod returns the method scheduled next after t: the earliest EffectiveFrom after t.
func NextMethod(methods []Method, t time.Time) (Method, bool) {
	var best Method
	found := false
	for _, m := range methods {
		if !m.EffectiveFrom.After(t) {
			continue
		}
		if !found || m.EffectiveFrom.Before(best.EffectiveFrom) || m.EffectiveFrom.Equal(best.EffectiveFrom) && m.ID > best.ID {
			best, found = m, true
		}
	}
	return best, found
}

// Outlook computes the index at asOf under the method in force then and, when a later method is
// scheduled, under that one too: what each organization will see once it takes effect, shown
// before it does. The future result is computed from the same inputs at the same asOf; only the
// rules differ. It fails when no method is in force at asOf.
func Outlook(in Input, methods []Method, asOf time.Time) (current Result, future *Result, err error) {
	m, ok := MethodAt(methods, asOf)
	if !ok {
		return Result{}, nil, fmt.Errorf("no index method is in force on %s", asOf.UTC().Format(time.DateOnly))
	}
	current = Compute(in, m, asOf)
	if next, ok := NextMethod(methods, asOf); ok {
		r := Compute(in, next, asOf)
		future = &r
	}
	return current, future, nil
}
