package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/finding"
)

const (
	// findingColumns are read back into a finding.Finding; family, system, severity_rank and
	// due are written besides, for filtering and sorting.
	findingColumns = `fingerprint, check_id, resource, endpoint, severity, status, last_result,
		reason_vi, reason_en, evidence, first_seen, last_seen, opened_at, fixed_at, reopens, run_id,
		accepted_by, accepted_reason, accepted_at, accepted_expires`
	findingOrder = `severity_rank DESC, resource, check_id, endpoint, fingerprint`

	qFinding       = `SELECT ` + findingColumns + ` FROM findings WHERE fingerprint = ?`
	qUpsertFinding = `INSERT INTO findings (` + findingColumns + `, family, system, severity_rank, due)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (fingerprint) DO UPDATE SET
		severity = excluded.severity, status = excluded.status, last_result = excluded.last_result,
		reason_vi = excluded.reason_vi, reason_en = excluded.reason_en, evidence = excluded.evidence,
		last_seen = excluded.last_seen, opened_at = excluded.opened_at, fixed_at = excluded.fixed_at,
		reopens = excluded.reopens, run_id = excluded.run_id, accepted_by = excluded.accepted_by,
		accepted_reason = excluded.accepted_reason, accepted_at = excluded.accepted_at,
		accepted_expires = excluded.accepted_expires, system = excluded.system,
		severity_rank = excluded.severity_rank, due = excluded.due`
	qAcceptFinding = `UPDATE findings SET status = ?, opened_at = ?, accepted_by = ?, accepted_reason = ?,
		accepted_at = ?, accepted_expires = ?, due = ? WHERE fingerprint = ?`

	eventColumns = `fingerprint, at, run_id, change, status_before, status_after, actor, note`
	qAddEvent    = `INSERT INTO finding_events (` + eventColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qEvents      = `SELECT ` + eventColumns + ` FROM finding_events WHERE fingerprint = ? ORDER BY at, seq`

	// statusAt is a finding's status after its last event at or before the argument, NULL if
	// it had none by then.
	statusAt = `(SELECT e.status_after FROM finding_events e WHERE e.fingerprint = findings.fingerprint
		AND e.at <= ? ORDER BY e.at DESC, e.seq DESC LIMIT 1)`

	// Conditions on a finding's status at a time given as their argument. An acceptance that
	// has run out is open, as finding.Effective says.
	condOpen     = `(status IN ('open', 'reopened') OR (status = 'accepted' AND accepted_expires <= ?))`
	condAccepted = `status = 'accepted' AND accepted_expires > ?`
	// condOverdue needs no status: due is NULL for a fixed finding, and an accepted one's due
	// lies after its expiry, by when it is open again.
	condOverdue = `due < ?`
	condUnder   = `system IN (SELECT id FROM systems WHERE org IN (SELECT code FROM subtree))`
)

func scanFinding(row scanner) (finding.Finding, error) {
	var (
		f           finding.Finding
		ev          string
		by, reason  string
		at, expires time.Time
	)
	err := row.Scan(&f.Fingerprint, &f.Check, &f.Resource, &f.Endpoint, &f.Severity, &f.Status, &f.Last,
		&f.Reason.VI, &f.Reason.EN, &ev, timeCol{&f.FirstSeen}, timeCol{&f.LastSeen}, timeCol{&f.OpenedAt},
		timeCol{&f.FixedAt}, &f.Reopens, &f.RunID, &by, &reason, timeCol{&at}, timeCol{&expires})
	if err != nil {
		return f, err
	}
	if by != "" || !expires.IsZero() {
		f.Acceptance = &finding.Acceptance{By: by, Reason: reason, At: at, Expires: expires}
	}
	f.Evidence, err = decodeEvidence(ev)
	return f, err
}

func (s *Store) findingArgs(f finding.Finding, system string) []any {
	var (
		by, reason  string
		at, expires any
	)
	if a := f.Acceptance; a != nil {
		by, reason, at, expires = a.By, a.Reason, s.nullTime(a.At), s.nullTime(a.Expires)
	}
	return []any{f.Fingerprint, f.Check, f.Resource, f.Endpoint, string(f.Severity), string(f.Status), string(f.Last),
		f.Reason.VI, f.Reason.EN, encodeEvidence(f.Evidence), s.time(f.FirstSeen), s.time(f.LastSeen),
		s.time(f.OpenedAt), s.nullTime(f.FixedAt), f.Reopens, f.RunID, by, reason, at, expires,
		family(f.Check), system, f.Severity.Rank(), s.nullTime(dueAt(f))}
}

// family is the prefix of a check id: "tls" for "tls.protocol.tls10".
func family(checkID string) string {
	f, _, _ := strings.Cut(checkID, ".")
	return f
}

// dueAt is when f is overdue if it is still open then: for an open finding its deadline, for
// an accepted one the deadline it will have once the acceptance expires (finding.Effective
// opens it at the expiry). Zero when there is no deadline.
func dueAt(f finding.Finding) time.Time {
	sla := finding.SLA(f.Severity)
	switch {
	case sla == 0:
		return time.Time{}
	case f.IsOpen():
		return f.OpenedAt.Add(sla)
	case f.Status == finding.Accepted && f.Acceptance != nil:
		return f.Acceptance.Expires.Add(sla)
	}
	return time.Time{}
}

func (s *Store) addEvent(ctx context.Context, tx *sql.Tx, e assess.Event) error {
	_, err := tx.ExecContext(ctx, s.q(qAddEvent), e.Fingerprint, s.time(e.At), nullString(e.RunID), string(e.Change),
		string(e.Before), string(e.After), e.Actor, e.Note)
	if err != nil {
		return fmt.Errorf("event %s of %s: %w", e.Change, e.Fingerprint, err)
	}
	return nil
}

func scanEvent(row scanner) (assess.Event, error) {
	var (
		e     assess.Event
		runID sql.NullString
	)
	err := row.Scan(&e.Fingerprint, timeCol{&e.At}, &runID, &e.Change, &e.Before, &e.After, &e.Actor, &e.Note)
	e.RunID = runID.String
	return e, err
}

func findingNotFound(fp string) error { return errs.E(errs.NotFound, "finding %q not found", fp) }

// Finding returns the finding as stored, or an error of kind NotFound.
func (s *Store) Finding(ctx context.Context, fingerprint string) (finding.Finding, error) {
	f, err := s.finding(ctx, s.db, fingerprint)
	if err != nil {
		return finding.Finding{}, s.fail(err, fmt.Sprintf("read finding %q", fingerprint))
	}
	return f, nil
}

func (s *Store) finding(ctx context.Context, q queryer, fingerprint string) (finding.Finding, error) {
	f, err := scanFinding(q.QueryRowContext(ctx, s.q(qFinding), fingerprint))
	if errors.Is(err, sql.ErrNoRows) {
		return finding.Finding{}, findingNotFound(fingerprint)
	}
	return f, err
}

// Findings returns one page of the findings f selects as they stand at f.At, and how many it
// selects. A status, severity or missing time that makes no sense is Invalid.
func (s *Store) Findings(ctx context.Context, f assess.FindingFilter) ([]finding.Finding, int, error) {
	w, err := s.findingFilter(f)
	if err != nil {
		return nil, 0, err
	}
	items, total, err := list(ctx, s, "list findings", "findings", findingColumns, findingOrder, w, bounded(f.Page), scanFinding)
	if err != nil {
		return nil, 0, err
	}
	for i := range items {
		items[i] = items[i].Effective(f.At)
	}
	return items, total, nil
}

func (s *Store) findingFilter(f assess.FindingFilter) (filter, error) {
	var w filter
	if f.At.IsZero() {
		return w, errs.Field("at", "the time to evaluate findings at is required")
	}
	at := s.time(f.At)
	if f.Under != "" {
		w.under(f.Under)
		w.conds = append(w.conds, condUnder)
	}
	if f.Resource != "" {
		w.add("resource = ?", f.Resource)
	}
	if f.System != "" {
		w.add("system = ?", f.System)
	}
	if f.Family != "" {
		w.add("family = ?", f.Family)
	}
	if f.Check != "" {
		w.add("check_id = ?", f.Check)
	}
	if f.Severity != "" {
		if f.Severity.Rank() < 0 {
			return w, errs.Field("severity", "%q is not one of critical, high, medium, low, info", f.Severity)
		}
		w.add("severity = ?", string(f.Severity))
	}
	switch f.Status {
	case "":
	case finding.Open:
		w.add(condOpen, at)
	case finding.Accepted:
		w.add(condAccepted, at)
	case finding.Reopened, finding.Fixed:
		w.add("status = ?", string(f.Status))
	default:
		return w, errs.Field("status", "%q is not one of open, reopened, accepted, fixed", f.Status)
	}
	if f.Overdue {
		w.add(condOverdue, at)
	}
	return w, nil
}

// FindingHistory returns the events of a finding, oldest first, or NotFound.
func (s *Store) FindingHistory(ctx context.Context, fingerprint string) ([]assess.Event, error) {
	var out []assess.Event
	err := s.read(ctx, fmt.Sprintf("read history of finding %q", fingerprint), func(tx *sql.Tx) error {
		if ok, err := s.exists(ctx, tx, `SELECT 1 FROM findings WHERE fingerprint = ?`, fingerprint); err != nil {
			return err
		} else if !ok {
			return findingNotFound(fingerprint)
		}
		var err error
		out, err = collect(ctx, s, tx, scanEvent, qEvents, fingerprint)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AcceptFinding records an accepted risk on a finding as it stands at a.At, with
// finding.Accept, and the event; an acceptance that had run out meanwhile is recorded as
// expired first. It returns the accepted finding.
func (s *Store) AcceptFinding(ctx context.Context, fingerprint string, a finding.Acceptance) (finding.Finding, error) {
	if a.At.IsZero() {
		return finding.Finding{}, errs.Field("at", "an acceptance needs the time it was given")
	}
	a.At, a.Expires = micro(a.At), micro(a.Expires)
	var out finding.Finding
	err := s.write(ctx, fmt.Sprintf("accept finding %q", fingerprint), func(tx *sql.Tx) error {
		f, err := s.finding(ctx, tx, fingerprint)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(qLockResource), f.Resource, s.time(a.At)); err != nil {
			return err
		}
		if f, err = s.finding(ctx, tx, fingerprint); err != nil { // as it is under the lock
			return err
		}
		before := f.Status
		if e, ok := expiry(f, a.At, ""); ok {
			if err := s.addEvent(ctx, tx, e); err != nil {
				return err
			}
			before = e.After
		}
		accepted, err := finding.Accept(f.Effective(a.At), a)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(qAcceptFinding), string(accepted.Status), s.time(accepted.OpenedAt),
			a.By, a.Reason, s.time(a.At), s.time(a.Expires), s.nullTime(dueAt(accepted)), fingerprint)
		if err != nil {
			return err
		}
		out = accepted
		return s.addEvent(ctx, tx, assess.Event{Fingerprint: fingerprint, At: a.At, Change: assess.ChangeAccepted,
			Before: before, After: accepted.Status, Actor: a.By, Note: a.Reason})
	})
	if err != nil {
		return finding.Finding{}, err
	}
	return out, nil
}

// Diff compares the findings of one scope as they stood at two points, from the findings'
// histories. The findings are given as stored (their latest state), in listing order.
func (s *Store) Diff(ctx context.Context, q assess.DiffQuery) (assess.Diff, error) {
	scopes := 0
	for _, v := range []string{q.Resource, q.System, q.Under} {
		if v != "" {
			scopes++
		}
	}
	if scopes != 1 {
		return assess.Diff{}, errs.Field("scope", "give exactly one of resource, system and organization (under)")
	}
	var d assess.Diff
	err := s.read(ctx, "diff findings", func(tx *sql.Tx) error {
		var err error
		if d.From, err = s.diffEnd(ctx, tx, "from", q.From, q.FromRun, q.Resource); err != nil {
			return err
		}
		if d.To, err = s.diffEnd(ctx, tx, "to", q.To, q.ToRun, q.Resource); err != nil {
			return err
		}
		switch {
		case d.To.IsZero():
			return errs.Field("to", "give the time or the run to compare with")
		case d.From.After(d.To):
			return errs.Field("from", "%s is after %s; give the earlier point first",
				d.From.Format(time.RFC3339), d.To.Format(time.RFC3339))
		}

		var w filter
		args := []any{s.nullTime(d.From), s.time(d.To)} // the two statusAt, before the WHERE
		if q.Under != "" {
			w.with = subtree
			args = append([]any{q.Under}, args...)
			w.conds = append(w.conds, condUnder)
		}
		if q.Resource != "" {
			w.add("resource = ?", q.Resource)
		}
		if q.System != "" {
			w.add("system = ?", q.System)
		}
		query := w.with + `SELECT ` + findingColumns + `, ` + statusAt + `, ` + statusAt +
			` FROM findings` + w.where() + ` ORDER BY ` + findingOrder
		rows, err := tx.QueryContext(ctx, s.q(query), append(args, w.args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var before, after sql.NullString
			f, err := scanFinding(diffRow{rows, &before, &after})
			if err != nil {
				return err
			}
			failing := func(s sql.NullString) bool { return s.Valid && s.String != string(finding.Fixed) }
			switch {
			case failing(before) && failing(after):
				d.Persisting = append(d.Persisting, f)
			case failing(before):
				d.Resolved = append(d.Resolved, f)
			case failing(after) && before.Valid:
				d.Reopened = append(d.Reopened, f)
			case failing(after):
				d.New = append(d.New, f)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return assess.Diff{}, err
	}
	return d, nil
}

// diffRow scans a finding followed by its status at the two ends of a diff.
type diffRow struct {
	rows          *sql.Rows
	before, after *sql.NullString
}

func (r diffRow) Scan(dest ...any) error {
	return r.rows.Scan(append(slices.Clip(dest), r.before, r.after)...)
}

// diffEnd resolves one end of a diff: a time, or the end of a run (which must be of the
// resource, when the scope is one).
func (s *Store) diffEnd(ctx context.Context, tx *sql.Tx, name string, t time.Time, runID, resource string) (time.Time, error) {
	if runID == "" {
		return micro(t), nil
	}
	if !t.IsZero() {
		return time.Time{}, errs.Field(name, "give a time or a run, not both")
	}
	r, err := scanRun(tx.QueryRowContext(ctx, s.q(qRun), runID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, runNotFound(runID)
	case err != nil:
		return time.Time{}, err
	case resource != "" && r.Resource != resource:
		return time.Time{}, errs.Field(name+"_run", "run %q assessed %s, not %s", runID, r.Resource, resource)
	}
	return r.Finished, nil
}
