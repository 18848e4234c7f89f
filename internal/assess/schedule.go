package assess

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/queue"
)

// The cadences NextDue chooses from.
const (
	CadenceDaily     = 24 * time.Hour     // security levels 1–3
	CadenceHighLevel = 6 * time.Hour      // security levels 4–5
	CadenceAtRisk    = 12 * time.Hour     // at most, while a critical or known-exploited finding is open
	CadenceMax       = 7 * 24 * time.Hour // at least weekly, however clean or unreachable
)

// How long a resource must have been clean before it is assessed less often.
const (
	CleanWeek  = 7 * 24 * time.Hour
	CleanMonth = 30 * 24 * time.Hour
)

// Health is what the next assessment of a resource is planned from.
type Health struct {
	Level          int  // the security level of its system, 1–5
	OpenCritical   bool // a critical finding is open
	KnownExploited bool // an open finding is a vulnerability known to be exploited
	// UnreachableRuns counts the latest runs in a row that could observe nothing.
	UnreachableRuns int
	// CleanFor is how long the resource has been seen with no open finding; zero if it has one.
	CleanFor time.Duration
}

// NextDue returns how long after a run the resource is assessed again, and why, by the first
// rule that applies:
//
//  1. A critical or known-exploited finding is open: the level's cadence, but at least every
//     12 hours (levels 1–3 go from daily to 12 hours; 4–5 stay at 6). Risk comes before
//     reachability: a host that went dark with a critical finding open is looked for again.
//  2. The host could not be observed: the level's cadence doubled for each unreachable run in
//     a row, at most weekly.
//  3. Clean for 30 days: weekly for levels 1–3, daily for 4–5. Clean for a week: every 3 days
//     for levels 1–3, every 12 hours for 4–5. Levels 4–5 are never stretched past 4 times
//     their cadence: what matters most is watched most.
//  4. Otherwise the level's cadence: daily for levels 1–3, every 6 hours for 4–5.
func NextDue(h Health) (time.Duration, string) {
	high := h.Level >= 4
	base, basis := CadenceDaily, fmt.Sprintf("security level %d", h.Level)
	if high {
		base = CadenceHighLevel
	}
	switch {
	case h.KnownExploited || h.OpenCritical:
		what := "an open critical finding"
		if h.KnownExploited {
			what = "an open known-exploited vulnerability"
		}
		d := min(base, CadenceAtRisk)
		return d, fmt.Sprintf("%s, %s: every %s", basis, what, every(d))
	case h.UnreachableRuns > 0:
		d := CadenceMax
		if n := h.UnreachableRuns; n < 16 && base<<n < CadenceMax {
			d = base << n
		}
		return d, fmt.Sprintf("%s, unreachable %s in a row: backing off to every %s", basis, plural(h.UnreachableRuns, "run"), every(d))
	case h.CleanFor >= CleanMonth:
		d := CadenceMax
		if high {
			d = 4 * base
		}
		return d, fmt.Sprintf("%s, nothing open for 30 days: every %s", basis, every(d))
	case h.CleanFor >= CleanWeek:
		d := 3 * base
		if high {
			d = 2 * base
		}
		return d, fmt.Sprintf("%s, nothing open for a week: every %s", basis, every(d))
	}
	return base, fmt.Sprintf("%s: every %s", basis, every(base))
}

// every says a cadence in words: "6 hours", "day", "3 days".
func every(d time.Duration) string {
	switch {
	case d == 24*time.Hour:
		return "day"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	}
	return d.String()
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// nextSchedule plans the assessment after run from the schedule before it. An unreachable run
// says nothing about findings, so it keeps the clean streak as it was.
func nextSchedule(prev Schedule, level int, run RunSummary) Schedule {
	sc := Schedule{Resource: run.Resource, LastRun: run.Finished, CleanSince: prev.CleanSince}
	switch {
	case run.Status == RunUnreachable:
		sc.UnreachableRuns = prev.UnreachableRuns + 1
	case run.Counts.Open > 0:
		sc.CleanSince = time.Time{}
	case sc.CleanSince.IsZero():
		sc.CleanSince = run.Finished
	}
	h := Health{Level: level, OpenCritical: run.Counts.OpenCritical > 0, KnownExploited: run.Counts.KnownExploited > 0,
		UnreachableRuns: sc.UnreachableRuns}
	if !sc.CleanSince.IsZero() && run.Counts.Open == 0 {
		h.CleanFor = run.Finished.Sub(sc.CleanSince)
	}
	sc.Cadence, sc.Reason = NextDue(h)
	sc.NextDue = run.Finished.Add(sc.Cadence)
	return sc
}

// Scheduler assesses resources when they are due. Several servers may run one on the same
// store: each resource is leased to one of them at a time (Store.LeaseDue), so none is
// assessed twice in one slot, and a lease that a crashed server held runs out.
type Scheduler struct {
	svc *Service
	// Owner names this server in leases; unique among the servers sharing a store.
	Owner string
	// Tick is how often due resources are looked for when none are waiting.
	Tick time.Duration
	// Lease is how long a leased resource is reserved. Each assessment is cut off at three
	// quarters of it, so that it ends while the lease holds.
	Lease time.Duration
	// Batch is how many resources are leased at a time.
	Batch int
	// Concurrency is how many leased resources are assessed at once. Politeness per target
	// address is the scope guard's budget, not this.
	Concurrency int
	// RetryAfter is how soon a resource whose assessment failed (not the host: Khiên, or the
	// resource left scope) is due again.
	RetryAfter time.Duration
	// Queue, when set, receives one job per leased resource (DueJob) instead of this server
	// assessing it; workers run the jobs with Service.HandleJob, which records each slot's
	// run once and releases the lease. The lease then also covers the wait in the queue: if
	// it runs out first, the slot is enqueued again under the same key and run id, which the
	// queue and the store make harmless. Concurrency does not apply.
	Queue queue.Queue
	// Retain, when positive, is how long per-check results are kept: every PruneEvery the
	// scheduler removes results of runs older than that (Service.PruneResults says what is
	// kept). Zero keeps everything.
	Retain     time.Duration
	PruneEvery time.Duration

	lastPrune time.Time
}

// NewScheduler returns a Scheduler over svc with the defaults: a one-minute tick, 15-minute
// leases, batches of 100, 8 at once, retry after 15 minutes. An empty owner is made from the
// host name, the process id and a random suffix.
func NewScheduler(svc *Service, owner string) *Scheduler {
	if owner == "" {
		host, _ := os.Hostname()
		owner = fmt.Sprintf("%s-%d-%s", cmp.Or(host, "khien"), os.Getpid(), strings.ToLower(rand.Text()[:6]))
	}
	return &Scheduler{svc: svc, Owner: owner, Tick: time.Minute, Lease: 15 * time.Minute, Batch: 100,
		Concurrency: 8, RetryAfter: 15 * time.Minute, PruneEvery: 6 * time.Hour}
}

// maybePrune prunes old results when retention is on and PruneEvery has passed since the last
// time. Several servers sharing a store may prune at once: deleting is idempotent.
func (s *Scheduler) maybePrune(ctx context.Context) {
	now := s.svc.now()
	if s.Retain <= 0 || (!s.lastPrune.IsZero() && now.Sub(s.lastPrune) < s.PruneEvery) {
		return
	}
	s.lastPrune = now
	if _, err := s.svc.PruneResults(ctx, s.Retain); err != nil && ctx.Err() == nil {
		s.svc.log.Error("prune old results", "err", err)
	}
}

// Run assesses due resources until ctx is done: one batch after another while resources are
// waiting, then once per Tick. It returns nil when ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.Tick)
	defer t.Stop()
	for {
		s.maybePrune(ctx)
		n, err := s.RunOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.svc.log.Error("scheduled assessments", "err", err)
		}
		if err != nil || n < s.Batch {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	}
}

// RunOnce leases one batch of due resources, assesses them, saves when each is next due and
// releases its lease; or, with a Queue, enqueues them. It returns how many it leased.
func (s *Scheduler) RunOnce(ctx context.Context) (int, error) {
	due, err := s.svc.store.LeaseDue(ctx, s.Owner, s.svc.now().UTC(), s.Lease, s.Batch)
	if err != nil {
		return 0, fmt.Errorf("lease due resources: %w", err)
	}
	if s.Queue != nil {
		jobs := make([]queue.Job, len(due))
		for i, d := range due {
			jobs[i] = DueJob(d, s.Owner)
		}
		if err := s.Queue.Enqueue(ctx, jobs...); err != nil {
			// The leases run out and the resources are due again.
			return len(due), fmt.Errorf("enqueue %d due resources: %w", len(due), err)
		}
		return len(due), nil
	}
	forEach(ctx, s.Concurrency, len(due), func(i int) { s.one(ctx, due[i]) })
	return len(due), nil
}

// one assesses a leased resource. When that fails the lease is released with the resource due
// again after RetryAfter, or at once if this server is shutting down.
func (s *Scheduler) one(ctx context.Context, d Due) {
	actx, cancel := context.WithTimeout(ctx, s.Lease*3/4)
	defer cancel()
	_, err := s.svc.assessDue(actx, d, s.Owner)
	if err == nil {
		return
	}
	now := s.svc.now().UTC()
	sc := d.Schedule
	sc.Resource, sc.NextDue = d.Resource, now.Add(s.RetryAfter)
	msg, _ := errs.Message(err)
	sc.Reason = "retry after a failed assessment: " + msg
	if ctx.Err() != nil {
		sc.NextDue, sc.Reason = now, "assessment interrupted: due again at once"
	} else {
		s.svc.log.Warn("scheduled assessment failed", "resource", d.Resource, "err", err)
	}
	// ctx may be done: the lease is released with a context of its own.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer rcancel()
	if err := s.svc.store.SaveSchedule(rctx, sc, s.Owner); err != nil {
		s.svc.log.Warn("lease not released; it runs out", "resource", d.Resource, "err", err)
	}
}
