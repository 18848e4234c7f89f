package assess_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/queue"
	"github.com/khien-vn/khien/internal/queue/local"
)

// These tests run the scheduler in queue mode: it enqueues one job per due resource on the
// local queue over the world's SQLite file, and workers run the jobs with HandleJob.

// drain runs workers on q until every resource of ids has one run and its schedule saved,
// then stops them.
func (w *world) drain(t *testing.T, q queue.Queue, svc *assess.Service, ids ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := q.Work(ctx, []string{assess.JobKind}, 3, svc.HandleJob); err != nil {
			t.Error(err)
		}
	})
	defer func() {
		cancel()
		wg.Wait()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for _, id := range ids {
		for {
			runs, err := svc.Runs(t.Context(), id, 0)
			if err != nil {
				t.Fatal(err)
			}
			// Done means the run recorded and the schedule saved: cancelling the workers
			// between the two would leave the job to be delivered again, not this slot done.
			if len(runs) > 0 {
				if sc, err := svc.Schedule(t.Context(), id); err == nil && sc.LastRun.Equal(runs[0].Finished) {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not assessed by the workers", id)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func newQueue(w *world) *local.Queue {
	return local.New(w.db, local.Options{Now: w.clock.Now, Poll: 10 * time.Millisecond})
}

func TestSchedulerEnqueuesWorkersAssess(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	q := newQueue(w)
	s := assess.NewScheduler(w.svc, "server-a")
	s.Queue = q
	if n, err := s.RunOnce(ctx); err != nil || n != 3 {
		t.Fatalf("RunOnce() = %d, %v; want the 3 resources in scope enqueued", n, err)
	}
	for _, h := range w.hosts {
		if n := h.dials.Load(); n != 0 {
			t.Fatalf("the scheduler observed %s itself", h.ip)
		}
	}
	// The lease holds while the jobs wait: another server leases nothing.
	other := assess.NewScheduler(w.svc, "server-b")
	other.Queue = q
	if n, err := other.RunOnce(ctx); err != nil || n != 0 {
		t.Errorf("another server's RunOnce() = %d, %v; want nothing while the jobs wait", n, err)
	}

	w.drain(t, q, w.svc, r2, r3, r5)
	for _, id := range []string{r2, r3, r5} {
		runs, err := w.svc.Runs(ctx, id, 0)
		if err != nil || len(runs) != 1 || runs[0].Trigger != assess.TriggerSchedule {
			t.Fatalf("runs of %s = %+v, %v; want one scheduled run", id, runs, err)
		}
		sc, err := w.svc.Schedule(ctx, id)
		if err != nil || !sc.LastRun.Equal(runs[0].Finished) || !sc.NextDue.After(t0) {
			t.Errorf("schedule of %s after its job = %+v, %v", id, sc, err)
		}
		if want := assess.SlotRunID(id, t0); runs[0].ID != want {
			t.Errorf("run of %s is %s, want its slot's id %s", id, runs[0].ID, want)
		}
	}
	// Saved and released: nothing is due in this slot any more.
	if n, err := other.RunOnce(ctx); err != nil || n != 0 {
		t.Errorf("RunOnce() after the jobs = %d, %v; want nothing due", n, err)
	}
	w.clock.Advance(6*time.Hour + time.Minute)
	if n, err := other.RunOnce(ctx); err != nil || n != 1 {
		t.Errorf("RunOnce() 6 hours on = %d, %v; want the level-5 resource", n, err)
	}
}

// TestJobDeliveredAgain: a second delivery of a job records nothing and observes nothing;
// one whose first delivery recorded the run but not the schedule completes the schedule.
func TestJobDeliveredAgain(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	q := newQueue(w)
	s := assess.NewScheduler(w.svc, "server-a")
	s.Queue = q
	due, err := w.db.LeaseDue(ctx, "server-a", t0, time.Hour, 10)
	if err != nil || len(due) != 3 {
		t.Fatalf("LeaseDue = %d, %v", len(due), err)
	}
	var d assess.Due
	for _, x := range due {
		if x.Resource == r2 {
			d = x
		}
	}
	j := assess.DueJob(d, "server-a")
	j.Attempt = 1
	if err := w.svc.HandleJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	first, _ := w.svc.Schedule(ctx, r2)
	j.Attempt = 2
	if err := w.svc.HandleJob(ctx, j); err != nil {
		t.Fatalf("second delivery = %v", err)
	}
	if n := w.hosts["127.0.0.2"].dials.Load(); n != 1 {
		t.Errorf("%s observed %d times for one job delivered twice, want once", r2, n)
	}
	if sc, _ := w.svc.Schedule(ctx, r2); sc != first {
		t.Errorf("the second delivery moved the schedule: %+v, was %+v", sc, first)
	}

	// The first delivery's schedule was lost (the database went away after the run was
	// recorded): the next delivery plans it, still without observing the host again.
	if err := w.db.SaveSchedule(ctx, d.Schedule, ""); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.HandleJob(ctx, j); err != nil {
		t.Fatalf("delivery after a lost schedule = %v", err)
	}
	if sc, _ := w.svc.Schedule(ctx, r2); sc != first {
		t.Errorf("schedule planned again = %+v, want %+v", sc, first)
	}
	if runs, _ := w.svc.Runs(ctx, r2, 0); len(runs) != 1 || w.hosts["127.0.0.2"].dials.Load() != 1 {
		t.Errorf("%d runs and %d observations after three deliveries, want 1 and 1", len(runs), w.hosts["127.0.0.2"].dials.Load())
	}
}

// TestLeaseRunsOutWhileQueued: when jobs wait longer than the lease, the scheduler leases the
// same slot again and enqueues it again under the same key: still one run per slot.
func TestLeaseRunsOutWhileQueued(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	q := newQueue(w)
	s := assess.NewScheduler(w.svc, "server-a")
	s.Queue = q
	if n, err := s.RunOnce(ctx); err != nil || n != 3 {
		t.Fatalf("RunOnce() = %d, %v", n, err)
	}
	w.clock.Advance(s.Lease + time.Minute)
	if n, err := s.RunOnce(ctx); err != nil || n != 3 {
		t.Fatalf("RunOnce() once the leases ran out = %d, %v; want the same 3 again", n, err)
	}
	w.drain(t, q, w.svc, r2, r3, r5)
	time.Sleep(100 * time.Millisecond) // a second job would run now
	for _, id := range []string{r2, r3, r5} {
		if runs, _ := w.svc.Runs(ctx, id, 0); len(runs) != 1 {
			t.Errorf("%s has %d runs for one slot enqueued twice, want 1", id, len(runs))
		}
	}
}

func TestHandleJobPermanentFailures(t *testing.T) {
	w := newWorld(t)
	job := func(resource, runID string) queue.Job {
		b, _ := json.Marshal(map[string]string{"resource": resource, "trigger": "schedule", "run_id": runID})
		return queue.Job{Kind: assess.JobKind, Key: runID, Payload: b, Attempt: 1}
	}
	sum := w.assess(t, r3)
	tests := []struct {
		name string
		j    queue.Job
		want string
	}{
		{"malformed", queue.Job{Kind: assess.JobKind, Key: "k", Payload: []byte(`{"resource":`)}, "malformed payload"},
		{"no run id", job(r2, ""), "malformed payload"},
		{"unknown resource", job("ip:127.0.0.99", "run-1"), "not found"},
		{"out of scope", job(r4, "run-2"), "unverified"},
		{"run id of another resource", job(r2, sum.ID), "not ip:127.0.0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := w.svc.HandleJob(t.Context(), tt.j)
			if !queue.IsPermanent(err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("HandleJob = %v, want a permanent error containing %q", err, tt.want)
			}
		})
	}
	if errs.KindOf(w.svc.HandleJob(t.Context(), job(r4, "run-3"))) != errs.OutOfScope {
		t.Error("the permanent error lost its kind")
	}
}
