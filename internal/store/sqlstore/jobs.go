package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/queue"
	"github.com/khien-vn/khien/internal/queue/local"
)

// The store keeps the local queue's jobs.
var _ local.Store = (*Store)(nil)

const (
	// qEnqueueJob drops a job whose kind and key are those of a job not yet done: the partial
	// unique index jobs_waiting is the arbiter, on both backends.
	qEnqueueJob = `INSERT INTO jobs (id, kind, job_key, payload, ready_at, enqueued) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (kind, job_key) WHERE state = 'ready' DO NOTHING`
	// qJobCandidates lists jobs that look free; another worker may lease them first, which
	// qLeaseJob finds out. Its kinds are appended as IN (?, …).
	qJobCandidates = `SELECT id FROM jobs WHERE state = 'ready' AND ready_at <= ?
		AND (lease_until IS NULL OR lease_until <= ?) AND kind IN `
	// qLeaseJob leases one job in one statement, re-checking that it is still free: of two
	// workers that listed it, one gets the row and the other none (PostgreSQL re-evaluates
	// the condition on the row the first committed; SQLite writes one at a time).
	qLeaseJob = `UPDATE jobs SET attempts = attempts + 1, lease_owner = ?, lease_until = ?
		WHERE id = ? AND state = 'ready' AND ready_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
		RETURNING kind, job_key, payload, attempts`
	qExtendJobs = `UPDATE jobs SET lease_until = ? WHERE lease_owner = ? AND state = 'ready' AND id IN `
	qFinishJob  = `DELETE FROM jobs WHERE id = ?`
	qRetryJob   = `UPDATE jobs SET ready_at = ?, reason = ?, lease_owner = NULL, lease_until = NULL
		WHERE id = ? AND lease_owner = ? AND state = 'ready'`
	qBuryJob = `UPDATE jobs SET state = 'dead', dead_at = ?, reason = ?, lease_owner = NULL, lease_until = NULL
		WHERE id = ? AND lease_owner = ? AND state = 'ready'`
	qWaitingJobs = `SELECT count(*) FROM jobs WHERE state = 'ready'`
	qDeadJobs    = `SELECT kind, job_key, payload, attempts, reason, dead_at FROM jobs WHERE state = 'dead'
		ORDER BY dead_at DESC, id LIMIT ?`
)

// placeholders returns "(?, ?, …)" for n arguments.
func placeholders(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// EnqueueJobs stores jobs, ready at now, in one transaction; see local.Store.
func (s *Store) EnqueueJobs(ctx context.Context, jobs []queue.Job, now time.Time) error {
	for _, j := range jobs {
		if err := j.Valid(); err != nil {
			return errs.Wrap(errs.Invalid, err, "%s", err.Error())
		}
	}
	now = micro(now)
	return s.write(ctx, fmt.Sprintf("enqueue %d jobs", len(jobs)), func(tx *sql.Tx) error {
		for _, j := range jobs {
			payload := j.Payload
			if payload == nil {
				payload = []byte{}
			}
			if _, err := tx.ExecContext(ctx, s.q(qEnqueueJob), strings.ToLower(rand.Text()), j.Kind, j.Key, payload,
				s.time(now), s.time(now)); err != nil {
				return fmt.Errorf("job %s %s: %w", j.Kind, j.Key, err)
			}
		}
		return nil
	})
}

// LeaseJobs leases up to limit free jobs of kinds to owner until now+ttl; see local.Store.
// Each lease is its own statement, so leasing many jobs holds no lock across them.
func (s *Store) LeaseJobs(ctx context.Context, owner string, kinds []string, now time.Time, ttl time.Duration, limit int) ([]local.Leased, error) {
	switch {
	case owner == "":
		return nil, errs.Field("owner", "a lease needs the name of its owner")
	case len(kinds) == 0:
		return nil, errs.Field("kinds", "name at least one kind of job to lease")
	case ttl <= 0:
		return nil, errs.Field("ttl", "a lease must last some time, got %s", ttl)
	case limit <= 0:
		return nil, nil
	}
	now = micro(now)
	until := now.Add(ttl)
	args := []any{s.time(now), s.time(now)}
	for _, k := range kinds {
		args = append(args, k)
	}
	// Twice as many as wanted, in random order, since workers leasing at once take some of
	// each other's and would otherwise all queue up on the oldest row.
	query := qJobCandidates + placeholders(len(kinds)) + ` ORDER BY ready_at, id LIMIT ?`
	ids, err := collect(ctx, s, s.db, func(row scanner) (string, error) {
		var id string
		err := row.Scan(&id)
		return id, err
	}, query, append(args, 2*limit)...)
	if err != nil {
		return nil, s.fail(err, "list ready jobs")
	}
	mrand.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	var out []local.Leased
	for _, id := range ids {
		if len(out) == limit {
			break
		}
		l := local.Leased{ID: id}
		err := s.db.QueryRowContext(ctx, s.q(qLeaseJob), owner, s.time(until), id, s.time(now), s.time(now)).
			Scan(&l.Kind, &l.Key, &l.Payload, &l.Attempt)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue // leased by another worker meanwhile
		case err != nil:
			return out, s.fail(err, "lease job "+id) // the leases taken run out
		}
		out = append(out, l)
	}
	return out, nil
}

// ExtendJobs moves owner's leases on ids to until.
func (s *Store) ExtendJobs(ctx context.Context, owner string, ids []string, until time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{s.time(micro(until)), owner}
	for _, id := range ids {
		args = append(args, id)
	}
	return s.write(ctx, fmt.Sprintf("renew %d job leases", len(ids)), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(qExtendJobs+placeholders(len(ids))), args...)
		return err
	})
}

// FinishJob deletes a job that is done.
func (s *Store) FinishJob(ctx context.Context, id string) error {
	return s.write(ctx, "finish job "+id, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(qFinishJob), id)
		return err
	})
}

// RetryJob gives back a job owner leased, ready again at at.
func (s *Store) RetryJob(ctx context.Context, id, owner string, at time.Time, reason string) error {
	return s.write(ctx, "retry job "+id, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(qRetryJob), s.time(micro(at)), reason, id, owner)
		return err
	})
}

// BuryJob sets aside as dead a job owner leased.
func (s *Store) BuryJob(ctx context.Context, id, owner string, at time.Time, reason string) error {
	return s.write(ctx, "bury job "+id, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(qBuryJob), s.time(micro(at)), reason, id, owner)
		return err
	})
}

// DeadJobs returns up to limit dead jobs, the latest first (limit 0 means 50, capped at 1000).
func (s *Store) DeadJobs(ctx context.Context, limit int) ([]queue.DeadJob, error) {
	if limit <= 0 {
		limit = 50
	}
	out, err := collect(ctx, s, s.db, func(row scanner) (queue.DeadJob, error) {
		var d queue.DeadJob
		err := row.Scan(&d.Kind, &d.Key, &d.Payload, &d.Attempt, &d.Reason, timeCol{&d.At})
		return d, err
	}, qDeadJobs, min(limit, 1000))
	if err != nil {
		return nil, s.fail(err, "list dead jobs")
	}
	return out, nil
}

// WaitingJobs counts the jobs not yet done.
func (s *Store) WaitingJobs(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, qWaitingJobs).Scan(&n); err != nil {
		return 0, s.fail(err, "count waiting jobs")
	}
	return n, nil
}
