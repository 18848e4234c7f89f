package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/finding"
	"github.com/khien-vn/khien/internal/inventory"
)

// The store keeps what assessment produces as well as the inventory.
var _ assess.Store = (*Store)(nil)

const (
	runColumns = `id, resource, system, triggered_by, status, started, finished,
		n_pass, n_fail, n_error, n_not_applicable, n_new, n_resolved, n_reopened, n_persisting,
		n_open, n_open_critical, n_known_exploited`

	qRun = `SELECT ` + runColumns + ` FROM runs WHERE id = ?`
	// qInsertRun inserts nothing when the run is stored already: that is how RecordRun knows
	// it is seeing a run again, even one committed by another transaction a moment ago.
	qInsertRun = `INSERT INTO runs (id, resource, system, triggered_by, status, started, finished)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
	qRunCounts = `UPDATE runs SET n_pass = ?, n_fail = ?, n_error = ?, n_not_applicable = ?,
		n_new = ?, n_resolved = ?, n_reopened = ?, n_persisting = ?,
		n_open = ?, n_open_critical = ?, n_known_exploited = ? WHERE id = ?`
	qRuns = `SELECT ` + runColumns + ` FROM runs WHERE resource = ? ORDER BY started DESC, id DESC LIMIT ?`

	qInsertResult = `INSERT INTO results (run_id, resource, check_id, endpoint, status, reason_vi, reason_en, evidence, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qRunResults = `SELECT resource, check_id, endpoint, status, reason_vi, reason_en, evidence, at
		FROM results WHERE run_id = ? ORDER BY check_id, endpoint`

	// qLockResource takes the row lock of a resource's schedule, creating the row (due at once,
	// as a resource without one is) if need be. Every write to a resource's findings takes it
	// first, so that on PostgreSQL they happen one after another instead of folding results
	// into states another transaction is replacing. SQLite runs one writer at a time anyway.
	qLockResource = `INSERT INTO schedules (resource, next_due) VALUES (?, ?)
		ON CONFLICT (resource) DO UPDATE SET lease_owner = schedules.lease_owner`
	qResourceFindings = `SELECT ` + findingColumns + ` FROM findings WHERE resource = ?`
	// qMoveFindings keeps the system column of a resource's findings that of its latest run,
	// so that a resource moved to another system takes its findings along.
	qMoveFindings = `UPDATE findings SET system = ? WHERE resource = ? AND system <> ?`
)

func scanRun(row scanner) (assess.RunSummary, error) {
	var (
		r assess.RunSummary
		c = &r.Counts
	)
	err := row.Scan(&r.ID, &r.Resource, &r.System, &r.Trigger, &r.Status, timeCol{&r.Started}, timeCol{&r.Finished},
		&c.Pass, &c.Fail, &c.Error, &c.NotApplicable, &c.New, &c.Resolved, &c.Reopened, &c.Persisting,
		&c.Open, &c.OpenCritical, &c.KnownExploited)
	return r, err
}

func runNotFound(id string) error { return errs.E(errs.NotFound, "run %q not found", id) }

// RecordRun stores a run, all its results and what they do to the resource's findings, in
// one transaction; recording a stored run id again returns the stored summary and changes
// nothing. See assess.Store for the contract.
func (s *Store) RecordRun(ctx context.Context, run assess.Run, results []check.Result, severities map[string]check.Severity) (assess.RunSummary, error) {
	run.Started, run.Finished = micro(run.Started), micro(run.Finished)
	if err := validRun(run, results, severities); err != nil {
		return assess.RunSummary{}, err
	}
	results = dedupe(results)
	var sum assess.RunSummary
	err := s.write(ctx, fmt.Sprintf("record run %q", run.ID), func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(qLockResource), run.Resource, s.time(run.Finished)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(qInsertRun), run.ID, run.Resource, run.System, string(run.Trigger),
			string(run.Status), s.time(run.Started), s.time(run.Finished))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 { // recorded before: a job delivered again
			stored, err := scanRun(tx.QueryRowContext(ctx, s.q(qRun), run.ID))
			if err != nil {
				return err
			}
			if stored.Resource != run.Resource {
				return errs.E(errs.Conflict, "run %q was recorded for %s, not %s", run.ID, stored.Resource, run.Resource)
			}
			sum = stored
			return nil
		}
		sum, err = s.fold(ctx, tx, run, results, severities)
		return err
	})
	if err != nil {
		return assess.RunSummary{}, err
	}
	return sum, nil
}

// fold writes a new run's results and folds them into the resource's findings at run.Finished.
func (s *Store) fold(ctx context.Context, tx *sql.Tx, run assess.Run, results []check.Result, severities map[string]check.Severity) (assess.RunSummary, error) {
	sum := assess.RunSummary{Run: run}
	c := &sum.Counts
	for _, r := range results {
		_, err := tx.ExecContext(ctx, s.q(qInsertResult), run.ID, r.Resource, r.Check, r.Endpoint, string(r.Status),
			r.Reason.VI, r.Reason.EN, encodeEvidence(r.Evidence), s.time(cmpOr(r.At, run.Started)))
		if err != nil {
			return sum, fmt.Errorf("result %s %s: %w", r.Check, r.Endpoint, err)
		}
		switch r.Status {
		case check.Pass:
			c.Pass++
		case check.Fail:
			c.Fail++
		case check.Error:
			c.Error++
		case check.NotApplicable:
			c.NotApplicable++
		}
	}

	stored, err := collect(ctx, s, tx, scanFinding, qResourceFindings, run.Resource)
	if err != nil {
		return sum, err
	}
	byPrint := make(map[string]finding.Finding, len(stored))
	for _, f := range stored {
		byPrint[f.Fingerprint] = f
	}
	now := run.Finished
	for _, r := range results {
		fp := finding.Fingerprint(r.Check, r.Resource, r.Endpoint)
		var prev *finding.Finding
		if f, ok := byPrint[fp]; ok {
			if now.Before(f.LastSeen) {
				continue // a run recorded late does not move its finding back
			}
			prev = &f
		}
		next, change := finding.Apply(prev, r, severities[r.Check], run.ID, now)
		if next == nil {
			continue
		}
		if _, err := tx.ExecContext(ctx, s.q(qUpsertFinding), s.findingArgs(*next, run.System)...); err != nil {
			return sum, fmt.Errorf("finding %s %s: %w", r.Check, r.Endpoint, err)
		}
		for _, e := range runEvents(prev, *next, change, run.ID, now) {
			if err := s.addEvent(ctx, tx, e); err != nil {
				return sum, err
			}
		}
		byPrint[fp] = *next
		switch change {
		case finding.New:
			c.New++
		case finding.Resolved:
			c.Resolved++
		case finding.Reopening:
			c.Reopened++
		case finding.Persisting:
			c.Persisting++
		}
	}
	if _, err := tx.ExecContext(ctx, s.q(qMoveFindings), run.System, run.Resource, run.System); err != nil {
		return sum, err
	}
	for _, f := range byPrint {
		f = f.Effective(now)
		if !f.IsOpen() {
			continue
		}
		c.Open++
		if f.Severity == check.Critical {
			c.OpenCritical++
		}
		if assess.KnownExploited(f) {
			c.KnownExploited++
		}
	}
	_, err = tx.ExecContext(ctx, s.q(qRunCounts), c.Pass, c.Fail, c.Error, c.NotApplicable, c.New, c.Resolved,
		c.Reopened, c.Persisting, c.Open, c.OpenCritical, c.KnownExploited, run.ID)
	return sum, err
}

// runEvents returns the history events of one fold: the expiry of an acceptance the fold
// found run out, and the finding's new, resolved or reopened status. A persisting failure is
// no event; the run's results record it.
func runEvents(prev *finding.Finding, next finding.Finding, change finding.Change, runID string, at time.Time) []assess.Event {
	var out []assess.Event
	var before finding.Status
	if prev != nil {
		before = prev.Status
		if e, ok := expiry(*prev, at, runID); ok {
			out = append(out, e)
			before = e.After
		}
	}
	switch change {
	case finding.New, finding.Resolved, finding.Reopening:
		out = append(out, assess.Event{Fingerprint: next.Fingerprint, At: at, RunID: runID, Change: change,
			Before: before, After: next.Status})
	}
	return out
}

// expiry returns the event of f's acceptance running out, if it has by at. It is dated at the
// expiry, when it happened, though recorded later.
func expiry(f finding.Finding, at time.Time, runID string) (assess.Event, bool) {
	eff := f.Effective(at)
	if eff.Status == f.Status {
		return assess.Event{}, false
	}
	return assess.Event{Fingerprint: f.Fingerprint, At: f.Acceptance.Expires, RunID: runID, Change: assess.ChangeExpired,
		Before: f.Status, After: eff.Status, Actor: f.Acceptance.By}, true
}

// validRun checks a run and its results before anything is written.
func validRun(run assess.Run, results []check.Result, severities map[string]check.Severity) error {
	switch {
	case strings.TrimSpace(run.ID) == "":
		return errs.Field("id", "a run needs an id")
	case run.Resource == "":
		return errs.Field("resource", "a run needs the resource it assessed")
	case run.System == "":
		return errs.Field("system", "a run needs the system of its resource")
	case !run.Trigger.Valid():
		return errs.Field("trigger", "%q is not one of schedule, manual", run.Trigger)
	case !run.Status.Valid():
		return errs.Field("status", "%q is not one of complete, unreachable", run.Status)
	case run.Started.IsZero():
		return errs.Field("started", "a run needs the time it started")
	case run.Finished.Before(run.Started):
		return errs.Field("finished", "the run finished at %s, before it started at %s",
			run.Finished.Format(time.RFC3339), run.Started.Format(time.RFC3339))
	}
	for i, r := range results {
		switch {
		case r.Resource != run.Resource:
			return errs.Field("results", "result %d (%s) is about %s, not the run's resource %s", i+1, r.Check, r.Resource, run.Resource)
		case r.Check == "" || r.Endpoint == "":
			return errs.Field("results", "result %d has no check id or no endpoint", i+1)
		case statusWeight(r.Status) < 0:
			return errs.Field("results", "result %d (%s) has status %q, not one of pass, fail, error, not_applicable", i+1, r.Check, r.Status)
		}
		if sev, ok := severities[r.Check]; !ok || sev.Rank() < 0 {
			return errs.Field("severities", "check %q has no valid severity (got %q)", r.Check, sev)
		}
	}
	return nil
}

// dedupe keeps one result per check and endpoint, the first of the most telling status
// (fail, then error, then pass): a family that reports twice should not lose a failure, and
// the store keys results by check and endpoint.
func dedupe(rs []check.Result) []check.Result {
	type key struct{ check, endpoint string }
	at := make(map[key]int, len(rs))
	out := make([]check.Result, 0, len(rs))
	for _, r := range rs {
		k := key{r.Check, r.Endpoint}
		if i, ok := at[k]; ok {
			if statusWeight(r.Status) > statusWeight(out[i].Status) {
				out[i] = r
			}
			continue
		}
		at[k] = len(out)
		out = append(out, r)
	}
	return out
}

func statusWeight(s check.Status) int {
	switch s {
	case check.Fail:
		return 3
	case check.Error:
		return 2
	case check.Pass:
		return 1
	case check.NotApplicable:
		return 0
	}
	return -1
}

// Run returns the run id with its counts, or an error of kind NotFound.
func (s *Store) Run(ctx context.Context, id string) (assess.RunSummary, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, s.q(qRun), id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return assess.RunSummary{}, runNotFound(id)
	case err != nil:
		return assess.RunSummary{}, s.fail(err, fmt.Sprintf("read run %q", id))
	}
	return r, nil
}

// Runs returns the latest runs of resource, newest first. limit 0 means 50; it is capped at 1000.
func (s *Store) Runs(ctx context.Context, resource string, limit int) ([]assess.RunSummary, error) {
	p := bounded(inventory.Page{Limit: limit})
	runs, err := collect(ctx, s, s.db, scanRun, qRuns, resource, p.limit)
	if err != nil {
		return nil, s.fail(err, fmt.Sprintf("list runs of %s", resource))
	}
	return runs, nil
}

// RunResults returns every result of the run, by check id and endpoint, or NotFound.
func (s *Store) RunResults(ctx context.Context, runID string) ([]check.Result, error) {
	var out []check.Result
	err := s.read(ctx, fmt.Sprintf("read results of run %q", runID), func(tx *sql.Tx) error {
		if ok, err := s.exists(ctx, tx, `SELECT 1 FROM runs WHERE id = ?`, runID); err != nil {
			return err
		} else if !ok {
			return runNotFound(runID)
		}
		var err error
		if out, err = collect(ctx, s, tx, scanResult, qRunResults, runID); err != nil || len(out) > 0 {
			return err
		}
		var counted int
		if err := tx.QueryRowContext(ctx, s.q(qRunCounted), runID).Scan(&counted); err != nil {
			return err
		}
		if counted > 0 {
			return errs.E(errs.NotFound, "the results of run %q were removed by the retention policy; its counts and the findings it touched remain", runID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func scanResult(row scanner) (check.Result, error) {
	var (
		r  check.Result
		ev string
	)
	if err := row.Scan(&r.Resource, &r.Check, &r.Endpoint, &r.Status, &r.Reason.VI, &r.Reason.EN, &ev, timeCol{&r.At}); err != nil {
		return r, err
	}
	var err error
	r.Evidence, err = decodeEvidence(ev)
	return r, err
}

// encodeEvidence stores evidence as a JSON object, and none as the empty string. Evidence
// that JSON cannot hold (a NaN, a channel) is replaced by a note saying so rather than losing
// the whole run.
func encodeEvidence(ev map[string]any) string {
	if len(ev) == 0 {
		return ""
	}
	b, err := json.Marshal(ev)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"unencodable_evidence": err.Error()})
	}
	return string(b)
}

// decodeEvidence reads what encodeEvidence stored. Values come back as JSON gives them:
// numbers as float64, lists as []any.
func decodeEvidence(s string) (map[string]any, error) {
	if s == "" {
		return nil, nil
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(s), &ev); err != nil {
		return nil, fmt.Errorf("stored evidence: %w", err)
	}
	return ev, nil
}

// micro is t as the store keeps it: UTC, to the microsecond.
func micro(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// cmpOr returns t, or def when t is zero.
func cmpOr(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}
