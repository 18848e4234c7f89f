package index

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
)

// Grade is the annual-evaluation grade an index falls in.
type Grade string

// The four grades of cadre evaluation.
const (
	Excellent Grade = "excellent" // hoàn thành xuất sắc
	Good      Grade = "good"      // hoàn thành tốt
	Meets     Grade = "meets"     // hoàn thành
	Fails     Grade = "fails"     // không hoàn thành
)

// Grades lists the grades, best first.
var Grades = []Grade{Excellent, Good, Meets, Fails}

// Pillar is one of the five GCI-shaped pillars of the leader's report.
type Pillar string

// The pillars, 20 points each.
const (
	PillarLegal          Pillar = "legal"          // pháp lý – tuân thủ
	PillarTechnical      Pillar = "technical"      // kỹ thuật
	PillarOrganizational Pillar = "organizational" // tổ chức
	PillarCapacity       Pillar = "capacity"       // năng lực
	PillarCooperation    Pillar = "cooperation"    // phối hợp
)

// Pillars lists the pillars in report order.
var Pillars = []Pillar{PillarLegal, PillarTechnical, PillarOrganizational, PillarCapacity, PillarCooperation}

// Tenths is the official, stored figure of a score: the full-precision value rounded half away
// from zero to one decimal and kept as an integer number of tenths (723 is 72.3), so that
// comparing, ranking and grading never depend on binary floating point.
func Tenths(score float64) int { return int(math.Round(score * 10)) }

// Result is the index of every organization and system at one time under one method.
type Result struct {
	Method   string         `json:"method"`
	AsOf     time.Time      `json:"as_of"`
	Orgs     []OrgResult    `json:"orgs"`    // every node, parents first, siblings by code
	Systems  []SystemResult `json:"systems"` // every system of the input, by id
	Warnings []check.Text   `json:"warnings,omitempty"`
}

// Org returns the result of the organization code.
func (r *Result) Org(code string) (*OrgResult, bool) {
	for i := range r.Orgs {
		if r.Orgs[i].Org == code {
			return &r.Orgs[i], true
		}
	}
	return nil, false
}

// System returns the result of the system id.
func (r *Result) System(id string) (*SystemResult, bool) {
	for i := range r.Systems {
		if r.Systems[i].System == id {
			return &r.Systems[i], true
		}
	}
	return nil, false
}

// Snapshot is what a history keeps of one organization's index per day: enough to draw its
// trend and its rank, and to check a recomputation of that day (Index bit for bit, Tenths
// exactly).
type Snapshot struct {
	Org     string    `json:"org"`
	AsOf    time.Time `json:"as_of"`
	Method  string    `json:"method"`
	Index   float64   `json:"index"`
	Tenths  int       `json:"tenths"`
	Grade   Grade     `json:"grade"`
	Rank    int       `json:"rank"`
	Peers   int       `json:"peers"`
	Subtree Counts    `json:"subtree"`
}

// Snapshots returns the snapshot of every organization, in the result's order.
func (r *Result) Snapshots() []Snapshot {
	out := make([]Snapshot, 0, len(r.Orgs))
	for _, o := range r.Orgs {
		out = append(out, Snapshot{Org: o.Org, AsOf: r.AsOf, Method: r.Method, Index: o.Index, Tenths: o.Tenths,
			Grade: o.Grade, Rank: o.Rank, Peers: o.Peers, Subtree: o.Subtree})
	}
	return out
}

// OrgResult is one organization's index, rolled up over its subtree, with its explanation.
type OrgResult struct {
	Org    string `json:"org"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
	Depth  int    `json:"depth"`

	// Index is the full-precision value, 0–100, after caps; Tenths is the stored figure and
	// Grade is read from it.
	Index  float64 `json:"index"`
	Tenths int     `json:"tenths"`
	Grade  Grade   `json:"grade"`
	// Uncapped is the index before the weakest-link caps.
	Uncapped float64 `json:"uncapped"`
	// Systems is the level- and stage-weighted mean of the subtree's system scores, over Weight;
	// HasSystems is false when no system of the subtree counts.
	Systems    float64     `json:"systems"`
	Weight     float64     `json:"weight"`
	HasSystems bool        `json:"has_systems"`
	Controls   OrgControls `json:"controls"`

	Pillars     []PillarScore `json:"pillars"`
	PillarTotal float64       `json:"pillar_total"`

	Contributions []Contribution  `json:"contributions"`
	Caps          []Cap           `json:"caps,omitempty"`         // applied here
	SubtreeCaps   []Cap           `json:"subtree_caps,omitempty"` // conditions below, not applied here
	Own           Counts          `json:"own"`                    // the organization's own systems
	Subtree       Counts          `json:"subtree"`                // its whole subtree
	Actions       []Action        `json:"actions,omitempty"`
	Removed       []RemovedSystem `json:"removed,omitempty"`
	Deadlines     []Deadline      `json:"deadlines,omitempty"` // its own incidents and requests not met on time, or still due
	Rank          int             `json:"rank"`                // among its siblings, by Tenths; ties share a rank
	Peers         int             `json:"peers"`               // siblings, itself included
	Explanation   []check.Text    `json:"explanation"`
}

// OrgControls is an organization's own controls score: for each level up to the organization's,
// the share of that level's required controls attested, and the lowest of those shares.
type OrgControls struct {
	Level        int          `json:"level"` // the organization's level (control.OrgLevel)
	Score        float64      `json:"score"` // 0–100
	Defined      bool         `json:"defined"`
	BindingLevel int          `json:"binding_level,omitempty"` // the level whose share is the score
	Levels       []LevelShare `json:"levels,omitempty"`
	Missing      []string     `json:"missing,omitempty"` // required at Level and not met
}

// LevelShare is how many of the organization controls required at a level are met.
type LevelShare struct {
	Level    int `json:"level"`
	Required int `json:"required"`
	Met      int `json:"met"`
}

// PillarScore is one pillar, 0–20.
type PillarScore struct {
	Pillar Pillar     `json:"pillar"`
	Points float64    `json:"points"`
	Items  int        `json:"items"` // facts read: systems, controls, deadlines
	Reason check.Text `json:"reason"`
}

// Contribution is the part of an organization's uncapped index that comes from one of its own
// systems, from the subtree of one of its children, or from its own controls. The points add up
// to the uncapped index.
type Contribution struct {
	Kind   string          `json:"kind"` // "system", "org" (a child's subtree) or "controls"
	ID     string          `json:"id,omitempty"`
	Name   string          `json:"name,omitempty"`
	Level  int             `json:"level,omitempty"`
	Stage  inventory.Stage `json:"stage,omitempty"`
	Weight float64         `json:"weight"`
	Score  float64         `json:"score"`
	Points float64         `json:"points"`
	Reason check.Text      `json:"reason"`
}

// CapKind names a cap.
type CapKind string

// Caps.
const (
	CapOpenCritical    CapKind = "open_critical"      // technical score
	CapOpenHigh        CapKind = "open_high"          // technical score
	CapNoDossier       CapKind = "no_dossier"         // system and organization
	CapKnownExploited  CapKind = "known_exploited"    // system and organization
	CapLateIncident    CapKind = "late_incident"      // system and organization
	CapLateBreach      CapKind = "late_breach_notice" // system and organization
	CapStateSecretLeak CapKind = "state_secret_leak"  // system and organization
)

// Cap is a weakest-link cap and the fact that triggered it.
type Cap struct {
	Kind     CapKind    `json:"kind"`
	Value    float64    `json:"value"`
	System   string     `json:"system,omitempty"`
	Finding  string     `json:"finding,omitempty"`
	Incident string     `json:"incident,omitempty"`
	Reason   check.Text `json:"reason"`
}

// Counts are the plain numbers people manage by.
type Counts struct {
	Systems  int `json:"systems"`  // not retired
	Eligible int `json:"eligible"` // counting in the index (build, test, operation)
	// Passing: eligible systems with every resource assessed within its cadence and no open
	// critical or high finding.
	Passing         int     `json:"passing"`
	PassingShare    float64 `json:"passing_share"` // Passing / Eligible; 0 when none is eligible
	NeverAssessed   int     `json:"never_assessed"`
	NoDossier       int     `json:"no_dossier"` // in operation without an approved level
	StaleResources  int     `json:"stale_resources"`
	OpenCritical    int     `json:"open_critical"`
	OpenHigh        int     `json:"open_high"`
	OverdueCritical int     `json:"overdue_critical"`
	OverdueHigh     int     `json:"overdue_high"`
	KnownExploited  int     `json:"known_exploited"` // open findings known to be exploited
	AcceptedRisks   int     `json:"accepted_risks"`
}

// ActionKind names what an action changes.
type ActionKind string

// Actions that can be computed exactly from stored facts.
const (
	ActionFixFinding    ActionKind = "fix_finding"
	ActionAttestControl ActionKind = "attest_control"
	ActionApproveLevel  ActionKind = "approve_level"
)

// Action is one change and exactly how much it would raise an index: the index is computed again
// with the change applied (the finding fixed, the control attested and approved, the level
// dossier approved), not estimated.
type Action struct {
	Kind     ActionKind `json:"kind"`
	System   string     `json:"system,omitempty"`
	Org      string     `json:"org,omitempty"` // for an organization control
	Finding  string     `json:"finding,omitempty"`
	Resource string     `json:"resource,omitempty"`
	Check    string     `json:"check,omitempty"`
	Endpoint string     `json:"endpoint,omitempty"`
	// Similar counts other findings whose fix would have exactly the same effect (the same
	// severity on the same resource); one is shown for all.
	Similar int        `json:"similar,omitempty"`
	Control string     `json:"control,omitempty"`
	Before  float64    `json:"before"`
	After   float64    `json:"after"`
	Delta   float64    `json:"delta"`
	Text    check.Text `json:"text"`
}

// DeadlineState is where a legal deadline stands.
type DeadlineState string

// Deadline states.
const (
	DeadlineMet     DeadlineState = "met"
	DeadlineLate    DeadlineState = "late"    // done after the deadline
	DeadlineOverdue DeadlineState = "overdue" // not done, past the deadline
	DeadlinePending DeadlineState = "pending" // not done, not yet due
)

// Deadline is one legal clock of an incident or an authority request.
type Deadline struct {
	Kind   string        `json:"kind"` // incident_notice, incident_report, breach_notice, request
	Ref    string        `json:"ref"`  // the incident or request id
	Org    string        `json:"org"`
	System string        `json:"system,omitempty"`
	Due    time.Time     `json:"due"`
	Done   time.Time     `json:"done,omitzero"`
	State  DeadlineState `json:"state"`
	Text   check.Text    `json:"text"`
}

// SystemResult is one system's score with its explanation.
type SystemResult struct {
	System string          `json:"system"`
	Org    string          `json:"org"`
	Name   string          `json:"name"`
	Level  int             `json:"level"`
	Stage  inventory.Stage `json:"stage"`
	// Weight is the system's weight in its organizations' means: level weight × stage weight.
	Weight float64 `json:"weight"`

	Index    float64 `json:"index"`
	Tenths   int     `json:"tenths"`
	Grade    Grade   `json:"grade"`
	Uncapped float64 `json:"uncapped"`
	// Technical is after the technical caps; TechnicalUncapped before.
	Technical         float64 `json:"technical"`
	TechnicalUncapped float64 `json:"technical_uncapped"`
	Controls          float64 `json:"controls"`
	HasControls       bool    `json:"has_controls"`
	ControlsRequired  int     `json:"controls_required"`
	ControlsMet       int     `json:"controls_met"`

	NeverAssessed  bool `json:"never_assessed"`
	InternetFacing bool `json:"internet_facing"`
	Passing        bool `json:"passing"`

	Resources     []ResourceResult `json:"resources"`
	ControlStates []ControlState   `json:"control_states"`
	Caps          []Cap            `json:"caps,omitempty"`
	Counts        Counts           `json:"counts"`
	Actions       []Action         `json:"actions,omitempty"`
	Explanation   []check.Text     `json:"explanation"`
}

// ResourceResult is one resource's technical score.
type ResourceResult struct {
	ID    string `json:"id"`
	State string `json:"state"` // fresh, stale, never, nothing_applicable
	// Score is 100 × (1 − failing weight ÷ applicable weight); 0 when stale or never assessed.
	Score        float64    `json:"score"`
	Counted      bool       `json:"counted"` // in the system's technical mean
	Applicable   float64    `json:"applicable"`
	Failing      float64    `json:"failing"`
	LastAssessed time.Time  `json:"last_assessed,omitzero"`
	FreshUntil   time.Time  `json:"fresh_until,omitzero"`
	Reason       check.Text `json:"reason"`
}

// ControlState is where one required control of a system stands.
type ControlState struct {
	Control     string     `json:"control"`
	Met         bool       `json:"met"`
	State       string     `json:"state"`
	Attestation string     `json:"attestation,omitempty"`
	Text        check.Text `json:"text"`
}

// num formats a score with one decimal: a decimal comma in Vietnamese, a point in English.
func num(x float64) (vi, en string) {
	en = strconv.FormatFloat(float64(Tenths(x))/10, 'f', 1, 64)
	return strings.Replace(en, ".", ",", 1), en
}

// weight formats a weight or factor without trailing zeros.
func weightText(x float64) (vi, en string) {
	en = strconv.FormatFloat(x, 'f', -1, 64)
	return strings.Replace(en, ".", ",", 1), en
}
