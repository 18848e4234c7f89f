// Package local is the default job queue: jobs are rows of the store's jobs table, leased by
// workers for a while and renewed while their handler runs. It needs nothing beyond the
// store, so the single binary (`khien serve` on SQLite) runs its own workers; several
// processes sharing a PostgreSQL store share its jobs the same way. A process killed with a
// job in hand stops renewing its lease, and the job is leased again once that runs out.
package local

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/queue"
)

// Store keeps the jobs table; store/sqlite and store/postgres implement it. Every method is
// one transaction or statement, safe for concurrent use by several processes.
type Store interface {
	// EnqueueJobs stores jobs, ready at now, all or none. A job whose kind and key are those
	// of a job not yet done (waiting or leased) is dropped.
	EnqueueJobs(ctx context.Context, jobs []queue.Job, now time.Time) error
	// LeaseJobs leases to owner, until now+ttl, up to limit jobs of the given kinds that are
	// ready at now and not leased (or whose lease ran out), the longest waiting first. Each
	// lease counts an attempt: Leased.Attempt is the job's attempt number.
	LeaseJobs(ctx context.Context, owner string, kinds []string, now time.Time, ttl time.Duration, limit int) ([]Leased, error)
	// ExtendJobs moves the leases that owner holds on the jobs ids to until.
	ExtendJobs(ctx context.Context, owner string, ids []string, until time.Time) error
	// FinishJob deletes a job that is done; a job already deleted is no error.
	FinishJob(ctx context.Context, id string) error
	// RetryJob gives back a job that owner leased, ready again at at, recording reason.
	RetryJob(ctx context.Context, id, owner string, at time.Time, reason string) error
	// BuryJob sets aside as dead a job that owner leased, recording reason.
	BuryJob(ctx context.Context, id, owner string, at time.Time, reason string) error
	// DeadJobs returns up to limit dead jobs, the latest first.
	DeadJobs(ctx context.Context, limit int) ([]queue.DeadJob, error)
	// WaitingJobs counts the jobs not yet done: waiting, or leased by a worker.
	WaitingJobs(ctx context.Context) (int, error)
}

// Leased is a job a worker holds.
type Leased struct {
	ID string // the row's id
	queue.Job
}

// Options tune a Queue; zero values take the defaults.
type Options struct {
	// Owner names this process in leases (default: host name, process id and a random suffix).
	Owner string
	// Lease is how long a job is reserved for its worker without renewal; the worker renews
	// it every third of that while the handler runs (default queue.DefaultAckWait).
	Lease time.Duration
	// MaxAttempts is how many times a job is leased before it is set aside as dead (default
	// queue.DefaultMaxAttempts).
	MaxAttempts int
	// Poll is how often an idle worker looks for jobs that another process enqueued or that
	// became ready (default 1s). Jobs enqueued through this Queue wake its workers at once.
	Poll time.Duration
	// Now gives the time (tests fix it); nil is time.Now.
	Now func() time.Time
	// Log receives failures to reach the store and jobs set aside; nil discards.
	Log *slog.Logger
}

// Queue is the local queue over a Store. It is safe for concurrent use.
type Queue struct {
	st   Store
	o    Options
	wake chan struct{} // poked by Enqueue: jobs are waiting
}

var _ queue.Queue = (*Queue)(nil)

// New returns a queue over st.
func New(st Store, o Options) *Queue {
	if o.Owner == "" {
		host, _ := os.Hostname()
		o.Owner = fmt.Sprintf("%s-%d-%s", cmp.Or(host, "khien"), os.Getpid(), strings.ToLower(rand.Text()[:6]))
	}
	o.Lease = cmp.Or(o.Lease, queue.DefaultAckWait)
	o.MaxAttempts = cmp.Or(o.MaxAttempts, queue.DefaultMaxAttempts)
	o.Poll = cmp.Or(o.Poll, time.Second)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	o.Log = o.Log.With("component", "queue", "queue", "local")
	return &Queue{st: st, o: o, wake: make(chan struct{}, 1)}
}

// Enqueue stores jobs in the jobs table, all or none.
func (q *Queue) Enqueue(ctx context.Context, jobs ...queue.Job) error {
	for _, j := range jobs {
		if err := j.Valid(); err != nil {
			return errs.Wrap(errs.Invalid, err, "%s", err.Error())
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	if err := q.st.EnqueueJobs(ctx, jobs, q.now()); err != nil {
		return fmt.Errorf("enqueue %d jobs: %w", len(jobs), err)
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

// Dead returns up to limit jobs set aside as dead, the latest first.
func (q *Queue) Dead(ctx context.Context, limit int) ([]queue.DeadJob, error) {
	return q.st.DeadJobs(ctx, limit)
}

// Waiting returns how many jobs are not yet done: waiting, or in a worker's hands.
func (q *Queue) Waiting(ctx context.Context) (int, error) {
	return q.st.WaitingJobs(ctx)
}

func (q *Queue) now() time.Time { return q.o.Now().UTC() }

// Work leases jobs of kinds, n at a time at most, and runs h on each; see queue.Queue. While
// the store cannot be reached it tries again, backing off up to Poll×30.
func (q *Queue) Work(ctx context.Context, kinds []string, n int, h queue.Handler) error {
	if err := queue.ValidKinds(kinds); err != nil {
		return err
	}
	if n < 1 {
		return fmt.Errorf("work on %s: %d handlers at once; want at least one", strings.Join(kinds, ","), n)
	}
	w := &worker{q: q, h: h, held: map[string]bool{}, slots: queue.NewSlots(n)}
	hbCtx, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
	var beat sync.WaitGroup
	beat.Go(func() { w.heartbeat(hbCtx) })
	defer func() {
		w.running.Wait()
		stopBeat()
		beat.Wait()
	}()

	failures := 0
	for {
		free := w.slots.Take(ctx, n)
		if free == 0 {
			return nil
		}
		leased, err := q.st.LeaseJobs(ctx, q.o.Owner, kinds, q.now(), q.o.Lease, free)
		w.slots.Release(free - len(leased))
		if ctx.Err() != nil {
			for _, l := range leased { // leased as the worker stopped: give them back
				w.settle(l, queue.ErrInterrupted)
			}
			return nil
		}
		for _, l := range leased { // each holds one of the slots taken above
			w.start(ctx, l)
		}
		if err != nil {
			failures++
			wait := min(q.o.Poll<<min(failures, 5), 30*q.o.Poll)
			q.o.Log.Warn("cannot lease jobs; trying again", "err", err, "retry_in", wait.String())
			if !sleep(ctx, wait) {
				return nil
			}
			continue
		}
		if failures > 0 {
			q.o.Log.Info("leasing jobs again")
			failures = 0
		}
		if len(leased) < free { // nothing more waiting: idle until poked or polled
			select {
			case <-q.wake:
			case <-time.After(q.o.Poll):
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// worker is one call of Work.
type worker struct {
	q       *Queue
	h       queue.Handler
	slots   queue.Slots // one per running handler
	running sync.WaitGroup

	mu   sync.Mutex
	held map[string]bool // ids of the jobs whose leases this worker renews
}

// start runs the handler of l in its own goroutine, which holds a slot.
func (w *worker) start(ctx context.Context, l Leased) {
	w.mu.Lock()
	w.held[l.ID] = true
	w.mu.Unlock()
	w.running.Go(func() {
		defer w.slots.Release(1)
		defer func() {
			w.mu.Lock()
			delete(w.held, l.ID)
			w.mu.Unlock()
		}()
		if l.Attempt > w.q.o.MaxAttempts {
			// Leased that often without an answer: its workers died with it in hand.
			w.settle(l, queue.Permanent(fmt.Errorf("no answer after %d attempts: its workers stopped while running it", l.Attempt-1)))
			return
		}
		if l.Attempt > 1 {
			w.q.o.Log.Info("job delivered again", "job_kind", l.Kind, "job_key", l.Key, "attempt", l.Attempt)
		}
		w.settle(l, queue.Call(ctx, w.h, l.Job))
	})
}

// settle records the outcome of a job. The store may be unreachable: then the lease runs out
// and the job is leased again, which the handler's idempotence makes harmless.
func (w *worker) settle(l Leased, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q := w.q
	now := q.now()
	var serr error
	switch {
	case err == nil:
		serr = q.st.FinishJob(ctx, l.ID)
	case queue.Interrupted(err):
		// The worker is stopping: hand the job out again at once.
		serr = q.st.RetryJob(ctx, l.ID, q.o.Owner, now, "interrupted: the worker stopped")
	case queue.IsPermanent(err) || l.Attempt >= q.o.MaxAttempts:
		q.o.Log.Error("job set aside as dead", "job_kind", l.Kind, "job_key", l.Key, "attempt", l.Attempt, "err", err)
		serr = q.st.BuryJob(ctx, l.ID, q.o.Owner, now, err.Error())
	default:
		wait := queue.Backoff(l.Attempt)
		q.o.Log.Warn("job failed; it will be retried", "job_kind", l.Kind, "job_key", l.Key, "attempt", l.Attempt,
			"retry_in", wait.Round(time.Second).String(), "err", err)
		serr = q.st.RetryJob(ctx, l.ID, q.o.Owner, now.Add(wait), err.Error())
	}
	if serr != nil {
		q.o.Log.Warn("job outcome not saved; its lease will run out and it runs again", "job_key", l.Key, "err", serr)
	}
}

// heartbeat renews the leases of the running jobs every third of a lease until ctx ends.
func (w *worker) heartbeat(ctx context.Context) {
	t := time.NewTicker(w.q.o.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		ids := make([]string, 0, len(w.held))
		for id := range w.held {
			ids = append(ids, id)
		}
		w.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, w.q.o.Lease/3)
		err := w.q.st.ExtendJobs(rctx, w.q.o.Owner, ids, w.q.now().Add(w.q.o.Lease))
		cancel()
		if err != nil {
			w.q.o.Log.Warn("cannot renew job leases", "jobs", len(ids), "err", err)
		}
	}
}

// sleep waits for d or ctx, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
