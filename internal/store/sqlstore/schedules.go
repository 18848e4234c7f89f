package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

const (
	scheduleColumns = `resource, next_due, last_run, cadence_seconds, reason, unreachable_runs, clean_since`

	qSchedule = `SELECT ` + scheduleColumns + ` FROM schedules WHERE resource = ?`
	// qSaveSchedule releases the lease only if the saving owner (the last two arguments) holds
	// it. Every SET expression sees the row as it was, so both CASEs test the old owner.
	qSaveSchedule = `INSERT INTO schedules (` + scheduleColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (resource) DO UPDATE SET next_due = excluded.next_due, last_run = excluded.last_run,
		cadence_seconds = excluded.cadence_seconds, reason = excluded.reason,
		unreachable_runs = excluded.unreachable_runs, clean_since = excluded.clean_since,
		lease_owner = CASE WHEN schedules.lease_owner = ? THEN NULL ELSE schedules.lease_owner END,
		lease_until = CASE WHEN schedules.lease_owner = ? THEN NULL ELSE schedules.lease_until END`

	// qDueCandidates lists resources that look due at the first argument; another server may
	// lease them first, which qLease finds out.
	qDueCandidates = `SELECT r.id, sy.level FROM resources r
		JOIN systems sy ON sy.id = r.system
		LEFT JOIN schedules sc ON sc.resource = r.id
		WHERE r.scope IN ('` + string(inventory.ScopeVerified) + `', '` + string(inventory.ScopeAssigned) + `')
		AND sy.stage <> '` + string(inventory.StageRetired) + `'
		AND (sc.resource IS NULL OR (sc.next_due <= ? AND (sc.lease_until IS NULL OR sc.lease_until <= ?)))
		ORDER BY CASE WHEN sc.resource IS NULL THEN 0 ELSE 1 END, sc.next_due, r.id
		LIMIT ?`

	// qLease leases one resource, in one statement that both backends run atomically: it
	// creates the schedule of a resource never assessed, or takes the lease of one whose
	// schedule is still due and whose lease is free or has run out. Under PostgreSQL a
	// concurrent lease waits for the row and re-checks the condition on the committed row, so
	// of two servers one leases and the other gets no row; SQLite writes one at a time.
	// Re-checking next_due is what keeps a server that listed the resource before another
	// finished assessing it from assessing it again in the same slot.
	qLease = `INSERT INTO schedules (resource, next_due, lease_owner, lease_until) VALUES (?, ?, ?, ?)
		ON CONFLICT (resource) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
		WHERE schedules.next_due <= ? AND (schedules.lease_until IS NULL OR schedules.lease_until <= ?)
		RETURNING ` + scheduleColumns
)

func scanSchedule(row scanner) (assess.Schedule, error) {
	var (
		sc      assess.Schedule
		cadence int64
	)
	err := row.Scan(&sc.Resource, timeCol{&sc.NextDue}, timeCol{&sc.LastRun}, &cadence, &sc.Reason,
		&sc.UnreachableRuns, timeCol{&sc.CleanSince})
	sc.Cadence = time.Duration(cadence) * time.Second
	return sc, err
}

// Schedule returns when resource is next due, or NotFound if it has never been scheduled.
func (s *Store) Schedule(ctx context.Context, resource string) (assess.Schedule, error) {
	sc, err := scanSchedule(s.db.QueryRowContext(ctx, s.q(qSchedule), resource))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return assess.Schedule{}, errs.E(errs.NotFound, "resource %q has no schedule: it has never been assessed", resource)
	case err != nil:
		return assess.Schedule{}, s.fail(err, fmt.Sprintf("read schedule of %s", resource))
	}
	return sc, nil
}

// SaveSchedule stores sc, releasing the lease if owner holds it; an empty owner leaves the
// lease alone. The cadence is kept to the second.
func (s *Store) SaveSchedule(ctx context.Context, sc assess.Schedule, owner string) error {
	switch {
	case sc.Resource == "":
		return errs.Field("resource", "a schedule needs its resource")
	case sc.NextDue.IsZero():
		return errs.Field("next_due", "a schedule needs the time the resource is next due")
	}
	return s.write(ctx, fmt.Sprintf("save schedule of %s", sc.Resource), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(qSaveSchedule), sc.Resource, s.time(sc.NextDue), s.nullTime(sc.LastRun),
			int64(sc.Cadence/time.Second), sc.Reason, sc.UnreachableRuns, s.nullTime(sc.CleanSince),
			nullString(owner), nullString(owner))
		return err
	})
}

// LeaseDue leases to owner, until now+ttl, up to limit resources due at now (limit 0 means
// 50, capped at 1000). See assess.Store for which resources are due. Each lease is its own
// statement, so leasing many resources holds no lock across them.
func (s *Store) LeaseDue(ctx context.Context, owner string, now time.Time, ttl time.Duration, limit int) ([]assess.Due, error) {
	switch {
	case owner == "":
		return nil, errs.Field("owner", "a lease needs the name of its owner")
	case now.IsZero():
		return nil, errs.Field("now", "a lease needs the current time")
	case ttl <= 0:
		return nil, errs.Field("ttl", "a lease must last some time, got %s", ttl)
	}
	p := bounded(inventory.Page{Limit: limit})
	now = micro(now)
	until := now.Add(ttl)
	type candidate struct {
		id    string
		level int
	}
	// Twice as many as wanted, since servers leasing at once take some of each other's.
	candidates, err := collect(ctx, s, s.db, func(row scanner) (candidate, error) {
		var c candidate
		err := row.Scan(&c.id, &c.level)
		return c, err
	}, qDueCandidates, s.time(now), s.time(now), 2*p.limit)
	if err != nil {
		return nil, s.fail(err, "list due resources")
	}
	var out []assess.Due
	for _, c := range candidates {
		if len(out) == p.limit {
			break
		}
		sc, err := scanSchedule(s.db.QueryRowContext(ctx, s.q(qLease), c.id, s.time(now), owner, s.time(until),
			s.time(now), s.time(now)))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue // leased by another server, or assessed meanwhile
		case err != nil:
			return nil, s.fail(err, fmt.Sprintf("lease %s", c.id)) // the leases taken run out
		}
		out = append(out, assess.Due{Resource: c.id, Level: c.level, Schedule: sc, LeaseUntil: until})
	}
	return out, nil
}
