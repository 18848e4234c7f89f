// Package finding turns check results into findings with a lifecycle, the unit security
// officers manage: a failing check on one endpoint is a finding that is open until a later run
// passes (fixed), opens again if it fails again (reopened), or is accepted by a named approver
// with a reason until an expiry, after which it is open again. Overdue clocks follow the
// remediation deadlines agencies are held to (critical 15 days, high 30 days).
//
// The package is pure: Apply is a function from the previous state, one run's results and the
// time to the next state, so the lifecycle is table-tested and replayable.
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/khien-vn/khien/internal/check"
)

// Status is where a finding is in its lifecycle.
type Status string

// Lifecycle statuses.
const (
	Open     Status = "open"
	Fixed    Status = "fixed"
	Reopened Status = "reopened"
	Accepted Status = "accepted"
)

// Statuses lists the statuses.
var Statuses = []Status{Open, Fixed, Reopened, Accepted}

// Acceptance records a risk accepted by a named approver until an expiry.
type Acceptance struct {
	By      string
	Reason  string
	At      time.Time
	Expires time.Time
}

// Finding is the state of one check on one endpoint of one resource over time.
type Finding struct {
	Fingerprint string // stable: hash of check, resource and endpoint
	Check       string
	Resource    string
	Endpoint    string
	Severity    check.Severity
	Status      Status
	Last        check.Status // the latest result seen (fail, pass, error, not_applicable)
	Reason      check.Text   // of the latest failing result
	Evidence    map[string]any
	FirstSeen   time.Time // first failure
	LastSeen    time.Time // latest result of any kind
	OpenedAt    time.Time // when it last became open or reopened: the overdue clock starts here
	FixedAt     time.Time
	Reopens     int
	RunID       string // the run that last changed or saw it
	Acceptance  *Acceptance
}

// Fingerprint identifies a check on an endpoint of a resource across runs.
func Fingerprint(checkID, resource, endpoint string) string {
	h := sha256.Sum256([]byte(checkID + "\x00" + resource + "\x00" + endpoint))
	return hex.EncodeToString(h[:16])
}

// SLA is how long a finding of a severity may stay open before it is overdue; zero means no
// deadline.
func SLA(s check.Severity) time.Duration {
	switch s {
	case check.Critical:
		return 15 * 24 * time.Hour
	case check.High:
		return 30 * 24 * time.Hour
	}
	return 0
}

// Due returns when f becomes overdue, and false when it has no deadline or is not open.
func (f Finding) Due() (time.Time, bool) {
	sla := SLA(f.Severity)
	if sla == 0 || !f.IsOpen() {
		return time.Time{}, false
	}
	return f.OpenedAt.Add(sla), true
}

// Overdue reports whether f is open past its deadline at now.
func (f Finding) Overdue(now time.Time) bool {
	due, ok := f.Due()
	return ok && now.After(due)
}

// IsOpen reports whether f needs fixing: open or reopened (an expired acceptance is open too,
// once Effective has been applied).
func (f Finding) IsOpen() bool { return f.Status == Open || f.Status == Reopened }

// Effective returns f as it stands at now: an acceptance past its expiry no longer holds, and
// the finding is open again from the expiry on.
func (f Finding) Effective(now time.Time) Finding {
	if f.Status == Accepted && f.Acceptance != nil && !now.Before(f.Acceptance.Expires) {
		f.Status = Open
		f.OpenedAt = f.Acceptance.Expires
	}
	return f
}

// Change says what one run did to a finding, for "new / resolved / persisting" views.
type Change string

// Changes a run can make.
const (
	New        Change = "new"
	Resolved   Change = "resolved"
	Persisting Change = "persisting"
	Reopening  Change = "reopened"
	Unchanged  Change = "unchanged" // passes that were passing, errors, not applicable
)

// Apply folds one result into the previous state of its finding (prev is nil when there is
// none) and returns the new state and what changed. A pass with no previous finding returns
// nil: only failures make findings. Errors and not-applicable results change no status: a host
// that could not be reached has not been fixed.
func Apply(prev *Finding, r check.Result, sev check.Severity, runID string, now time.Time) (*Finding, Change) {
	if prev == nil {
		if r.Status != check.Fail {
			return nil, Unchanged
		}
		return &Finding{
			Fingerprint: Fingerprint(r.Check, r.Resource, r.Endpoint),
			Check:       r.Check, Resource: r.Resource, Endpoint: r.Endpoint, Severity: sev,
			Status: Open, Last: r.Status, Reason: r.Reason, Evidence: r.Evidence,
			FirstSeen: now, LastSeen: now, OpenedAt: now, RunID: runID,
		}, New
	}
	f := prev.Effective(now)
	f.Severity, f.Last, f.LastSeen, f.RunID = sev, r.Status, now, runID
	switch r.Status {
	case check.Fail:
		f.Reason, f.Evidence = r.Reason, r.Evidence
		switch f.Status {
		case Fixed:
			f.Status, f.OpenedAt, f.FixedAt = Reopened, now, time.Time{}
			f.Reopens++
			return &f, Reopening
		default: // open, reopened, or accepted and still within its expiry
			return &f, Persisting
		}
	case check.Pass:
		if f.Status == Fixed {
			return &f, Unchanged
		}
		f.Status, f.FixedAt, f.Acceptance = Fixed, now, nil
		return &f, Resolved
	}
	return &f, Unchanged
}

// Accept records an accepted risk on f. It refuses a fixed finding, an empty approver or
// reason, and an expiry that is not in the future.
func Accept(f Finding, a Acceptance) (Finding, error) {
	switch {
	case f.Status == Fixed:
		return f, errFixed
	case a.By == "":
		return f, errNoApprover
	case len(a.Reason) < 10:
		return f, errNoReason
	case !a.Expires.After(a.At):
		return f, errExpiry
	case a.Expires.Sub(a.At) > 366*24*time.Hour:
		return f, errTooLong
	}
	f.Status, f.Acceptance = Accepted, &a
	return f, nil
}
