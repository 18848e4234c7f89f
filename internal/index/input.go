package index

import (
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/finding"
	"github.com/khien-vn/khien/internal/inventory"
)

// Input is every fact the index is computed from, as stored at one time. A store persists it
// (or rebuilds it for a past date from what it held then); Compute on the same Input, Method
// and asOf gives the same Result, bit for bit. The order of the slices does not matter: Compute
// sorts what it reads. Facts dated after asOf are ignored, so an Input holding later facts still
// gives the index as it stood at asOf.
type Input struct {
	Orgs      []Org      `json:"orgs"`
	Systems   []System   `json:"systems"`
	Resources []Resource `json:"resources"`
	// Findings are the failing checks: open, reopened, or accepted (with their expiry). Fixed
	// findings are not here; their checks count in their resource's Passing tally.
	Findings []Finding `json:"findings"`
	// Controls is the control catalog the attestations are read against, stored with the
	// inputs so that a past index does not change when the catalog grows.
	Controls     []control.Control     `json:"controls"`
	Attestations []control.Attestation `json:"attestations"`
	Incidents    []Incident            `json:"incidents"`
	Requests     []Request             `json:"requests"`
	// Removed lists systems taken out of the inventory, for the explanation.
	Removed []RemovedSystem `json:"removed"`
}

// Org is a node of the organization tree.
type Org struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
}

// System is an information system as the index sees it.
type System struct {
	ID            string                `json:"id"`
	Org           string                `json:"org"`
	Name          string                `json:"name"`
	Level         int                   `json:"level"`
	Stage         inventory.Stage       `json:"stage"`
	LevelApproved bool                  `json:"level_approved"`
	DataClasses   []inventory.DataClass `json:"data_classes,omitempty"`
}

// Tally counts checks by severity.
type Tally struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
}

// Resource is one assessed resource of a system.
type Resource struct {
	ID     string `json:"id"` // unified identifier: "dns:…", "url:…", "ip:…", "cidr:…", "host:…", "db:…"
	System string `json:"system"`
	// LastAssessed is the end of the latest run that observed the resource (an unreachable run
	// observed nothing); zero when it never was.
	LastAssessed time.Time `json:"last_assessed,omitzero"`
	// Cadence is how often it is due (the scheduler's); zero means the method's default.
	Cadence time.Duration `json:"cadence,omitempty"`
	// Passing counts the checks whose latest verdict on an endpoint of the resource is pass,
	// by severity. With the failing Findings they make the applicable checks; not applicable
	// and error results count in neither.
	Passing Tally `json:"passing"`
}

// Finding is one failing check on one endpoint.
type Finding struct {
	Fingerprint string         `json:"fingerprint"`
	Resource    string         `json:"resource"`
	Check       string         `json:"check"`
	Endpoint    string         `json:"endpoint,omitempty"`
	Severity    check.Severity `json:"severity"`
	FirstSeen   time.Time      `json:"first_seen"`
	OpenedAt    time.Time      `json:"opened_at"` // when it last became open: the overdue clock
	// AcceptedUntil is the expiry of an accepted risk; zero when the risk is not accepted.
	AcceptedUntil  time.Time `json:"accepted_until,omitzero"`
	KnownExploited bool      `json:"known_exploited,omitempty"`
	Confirmed      bool      `json:"confirmed,omitempty"` // observed, not inferred from a version
}

// KnownExploitedCheck is the check that reports a vulnerability known to be exploited (the
// same id as assess.KnownExploitedCheck).
const KnownExploitedCheck = "vuln.known_exploited"

// FromFinding turns a stored finding into the index's form, and false when it is not failing
// (fixed). Its known-exploited flag follows assess.KnownExploited: the vuln.known_exploited
// check, or evidence saying "known_exploited": true; it is confirmed when the evidence's
// confidence is "confirmed".
func FromFinding(f finding.Finding) (Finding, bool) {
	if f.Status == finding.Fixed {
		return Finding{}, false
	}
	kev, _ := f.Evidence["known_exploited"].(bool)
	conf, _ := f.Evidence["confidence"].(string)
	out := Finding{
		Fingerprint: f.Fingerprint, Resource: f.Resource, Check: f.Check, Endpoint: f.Endpoint,
		Severity: f.Severity, FirstSeen: f.FirstSeen, OpenedAt: f.OpenedAt,
		KnownExploited: kev || f.Check == KnownExploitedCheck, Confirmed: conf == "confirmed",
	}
	if f.Status == finding.Accepted && f.Acceptance != nil {
		out.AcceptedUntil = f.Acceptance.Expires
	}
	return out, true
}

// Incident is a security incident as the index's caps and cooperation pillar see it. The legal
// clocks run from discovery (NĐ 331 Đ31.2.d; Luật 91/2025 Đ23).
type Incident struct {
	ID     string `json:"id"`
	Org    string `json:"org"`              // the organization responsible
	System string `json:"system,omitempty"` // the system hit, if one
	// Serious incidents must be notified to the Ministry of Public Security within 24 hours and
	// reported (cause, scope, remedy) within 72 hours.
	Serious bool `json:"serious,omitempty"`
	// PersonalData breaches must be notified to the personal-data authority within 72 hours.
	PersonalData bool `json:"personal_data,omitempty"`
	// StateSecretLeak is a confirmed leak of state-secret material.
	StateSecretLeak bool      `json:"state_secret_leak,omitempty"`
	DiscoveredAt    time.Time `json:"discovered_at"`
	ReportedAt      time.Time `json:"reported_at,omitzero"`    // initial notice (24 h)
	FullReportAt    time.Time `json:"full_report_at,omitzero"` // cause, scope and remedy (72 h)
	NotifiedAt      time.Time `json:"notified_at,omitzero"`    // personal-data breach notice (72 h)
}

// Request is a request from a competent authority (data, content removal, an identity answer)
// that must be answered within 24 hours, or 3 in an emergency (NĐ 333 Đ16.3–16.4).
type Request struct {
	ID         string    `json:"id"`
	Org        string    `json:"org"`
	ReceivedAt time.Time `json:"received_at"`
	Urgent     bool      `json:"urgent,omitempty"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
}

// RemovedSystem is a system taken out of the inventory. Removing a system changes the index, so
// the removal is shown in the explanation of its organization and those above it.
type RemovedSystem struct {
	ID        string          `json:"id"`
	Org       string          `json:"org"`
	Name      string          `json:"name"`
	Level     int             `json:"level"`
	Stage     inventory.Stage `json:"stage"`
	RemovedAt time.Time       `json:"removed_at"`
	By        string          `json:"by"`
	Reason    string          `json:"reason,omitempty"`
}
