package assess

import (
	"context"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/finding"
	"github.com/khien-vn/khien/internal/inventory"
)

// Store keeps what assessment produces: runs with every result, the findings those results
// fold into, each finding's history, and when each resource is next due. store/sqlite and
// store/postgres implement it (both pass storetest.RunAssessment). Contract:
//   - a missing run or finding gives errs.NotFound; a malformed argument gives errs.Invalid
//     naming its field;
//   - every write is one transaction;
//   - methods are safe for concurrent use, from several processes sharing one database.
type Store interface {
	// RecordRun stores run and all its results (pass, error and not_applicable included), folds
	// each result into its finding with finding.Apply at run.Finished, and appends the history
	// events, in one transaction. severities must hold the severity of every result's check.
	//
	// It is idempotent: recording a run id that is already stored changes nothing and returns
	// the stored summary, so a job delivered twice records once. A result older than its
	// finding's last sighting (a run recorded late) is stored but does not move the finding
	// back. Runs of one resource are folded one after another.
	RecordRun(ctx context.Context, run Run, results []check.Result, severities map[string]check.Severity) (RunSummary, error)
	// Run returns one run with its counts.
	Run(ctx context.Context, id string) (RunSummary, error)
	// Runs returns the latest runs of a resource, newest first; limit 0 means 50, capped at 1000.
	Runs(ctx context.Context, resource string, limit int) ([]RunSummary, error)
	// RunResults returns every result of a run, by check and endpoint. The results of a run
	// removed by PruneResults give errs.NotFound saying so.
	RunResults(ctx context.Context, runID string) ([]check.Result, error)
	// PruneResults deletes the per-check results (the bulk of the store: every pass with its
	// evidence) of runs finished before before. It keeps every run with its counts, every
	// finding with its history, the latest run of each resource (what the index reads) and
	// any run a finding was last folded from, so no finding loses its evidence. It works in
	// small transactions and may be interrupted and run again.
	PruneResults(ctx context.Context, before time.Time) (Pruned, error)

	// Finding returns a finding as stored; apply finding.Effective to see it at a time.
	Finding(ctx context.Context, fingerprint string) (finding.Finding, error)
	// Findings returns one page of the findings f selects, as they stand at f.At (an expired
	// acceptance is open), and how many it selects. Order: severity (critical first), then
	// resource, check and endpoint.
	Findings(ctx context.Context, f FindingFilter) ([]finding.Finding, int, error)
	// FindingHistory returns the events of a finding, oldest first.
	FindingHistory(ctx context.Context, fingerprint string) ([]Event, error)
	// AcceptFinding records an accepted risk with finding.Accept at a.At and appends the event.
	AcceptFinding(ctx context.Context, fingerprint string, a finding.Acceptance) (finding.Finding, error)
	// Diff compares the findings in a scope as they stood at two times or after two runs.
	Diff(ctx context.Context, q DiffQuery) (Diff, error)

	// LeaseDue leases, for ttl, up to limit resources that are due at now: in scope (verified or
	// assigned), of a system that is not retired, never assessed or with a schedule due and
	// not leased by anyone. A resource is leased to one owner at a time, and a resource whose
	// schedule moved past now meanwhile is not leased, so two servers never assess one
	// resource in the same slot. Never-assessed resources come first, then the most overdue.
	LeaseDue(ctx context.Context, owner string, now time.Time, ttl time.Duration, limit int) ([]Due, error)
	// SaveSchedule stores when a resource is next due. If owner holds its lease, the lease is
	// released; an empty owner (an on-demand run) leaves any lease alone.
	SaveSchedule(ctx context.Context, sc Schedule, owner string) error
	// Schedule returns the schedule of a resource.
	Schedule(ctx context.Context, resource string) (Schedule, error)
}

// Trigger says why a run happened.
type Trigger string

// Triggers.
const (
	TriggerSchedule Trigger = "schedule"
	TriggerManual   Trigger = "manual" // on demand: POST /api/v1/assessments, khien scan
)

// Valid reports whether t is a known trigger.
func (t Trigger) Valid() bool { return t == TriggerSchedule || t == TriggerManual }

// RunStatus says how a run went as a whole.
type RunStatus string

// Run statuses.
const (
	// RunComplete: the families observed what they could; the results say the rest.
	RunComplete RunStatus = "complete"
	// RunUnreachable: every family that was allowed to look failed to observe anything. The
	// findings keep their status (a host that cannot be reached has not been fixed) and the
	// schedule backs off.
	RunUnreachable RunStatus = "unreachable"
)

// Valid reports whether s is a known run status.
func (s RunStatus) Valid() bool { return s == RunComplete || s == RunUnreachable }

// Run is one assessment of one resource.
type Run struct {
	ID       string
	Resource string
	System   string // the resource's system at the time of the run
	Trigger  Trigger
	Status   RunStatus
	Started  time.Time
	Finished time.Time
}

// Counts sums up a run. The store computes them; they are stored with the run.
type Counts struct {
	// Results by status.
	Pass, Fail, Error, NotApplicable int
	// What the run did to findings.
	New, Resolved, Reopened, Persisting int
	// The resource's findings that are open after the run (at its end; accepted risks are not
	// open), those of them critical, and those that are known exploited.
	Open, OpenCritical, KnownExploited int
}

// RunSummary is a stored run with its counts.
type RunSummary struct {
	Run
	Counts Counts
}

// KnownExploitedCheck is the check that reports software with a vulnerability known to be
// exploited (the KEV feed). Its open findings make a host be assessed more often.
const KnownExploitedCheck = "vuln.known_exploited"

// KnownExploited reports whether f is about a vulnerability known to be exploited: a finding
// of KnownExploitedCheck, or one whose evidence says "known_exploited": true.
func KnownExploited(f finding.Finding) bool {
	if f.Check == KnownExploitedCheck {
		return true
	}
	v, _ := f.Evidence["known_exploited"].(bool)
	return v
}

// FindingFilter selects findings. Empty fields do not filter.
type FindingFilter struct {
	Resource string
	System   string
	Under    string // findings of systems owned in this organization subtree
	// Status: "open" selects open and reopened findings and accepted ones whose acceptance
	// has expired at At; "accepted" only acceptances still valid at At; "reopened", "fixed".
	Status   finding.Status
	Severity check.Severity
	Family   string // the check id's prefix: "tls" selects tls.*
	Check    string // one check id
	// Overdue selects findings open past their deadline (finding.SLA) at At.
	Overdue bool
	// At is the time statuses and deadlines are evaluated at. Required.
	At time.Time
	inventory.Page
}

// ChangeAccepted and ChangeExpired are the events that are not a run's doing: an approver
// accepted the risk, or an acceptance ran out (recorded by the next run or acceptance that
// sees it, at the expiry time).
const (
	ChangeAccepted finding.Change = "accepted"
	ChangeExpired  finding.Change = "expired"
)

// Event is one step in a finding's history. Runs record new, resolved and reopened findings
// and expired acceptances; persisting failures are not events (the run's results hold them).
type Event struct {
	Fingerprint string
	At          time.Time
	RunID       string // empty for an acceptance
	Change      finding.Change
	Before      finding.Status // empty for a new finding
	After       finding.Status
	Actor       string // the approver of an acceptance
	Note        string // the reason of an acceptance
}

// DiffQuery says what to compare. Exactly one of Resource, System and Under gives the scope.
// Each end is a time or a run id (the run's end); From may be left zero (and FromRun empty)
// to compare with before anything was seen.
type DiffQuery struct {
	Resource string
	System   string
	Under    string // organization subtree

	FromRun, ToRun string
	From, To       time.Time
}

// Diff is what changed in a scope between two points. A finding is failing at a point when it
// is open, reopened or accepted there (an accepted risk still fails its check).
type Diff struct {
	From, To time.Time
	// New failed at To and had never been seen failing by From.
	New []finding.Finding
	// Reopened failed at To and was fixed at From.
	Reopened []finding.Finding
	// Resolved failed at From and was fixed at To.
	Resolved []finding.Finding
	// Persisting failed at both.
	Persisting []finding.Finding
}

// Schedule is when a resource is next assessed, and why.
type Schedule struct {
	Resource string
	NextDue  time.Time
	LastRun  time.Time
	Cadence  time.Duration
	Reason   string
	// UnreachableRuns counts the latest runs in a row that observed nothing.
	UnreachableRuns int
	// CleanSince is when the resource was first seen with no open finding, in the current
	// unbroken stretch of such runs; zero while it has open findings.
	CleanSince time.Time
}

// Due is a resource leased to be assessed now.
type Due struct {
	Resource   string
	Level      int      // the security level of its system
	Schedule   Schedule // as it stood when leased; zero times for a resource never assessed
	LeaseUntil time.Time
}

// Pruned counts what PruneResults removed.
type Pruned struct {
	Runs    int   // runs whose results were removed
	Results int64 // result rows removed
}
