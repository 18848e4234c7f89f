package assess_test

import (
	"context"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/errs"
)

func TestPruneResults(t *testing.T) {
	w := newWorld(t)
	old := w.assess(t, r2)
	w.clock.Advance(10 * 24 * time.Hour)
	mid := w.assess(t, r2)
	w.clock.Advance(10 * 24 * time.Hour)
	latest := w.assess(t, r2)

	if _, err := w.svc.PruneResults(t.Context(), 0); !errs.Is(err, errs.Invalid) {
		t.Errorf("PruneResults(0) = %v, want an Invalid error", err)
	}
	// Every run of r2 touched its findings; the oldest is superseded and older than 15 days.
	got, err := w.svc.PruneResults(t.Context(), 15*24*time.Hour)
	if err != nil || got.Runs != 1 || got.Results == 0 {
		t.Fatalf("PruneResults(15 days) = %+v, %v; want the oldest run pruned", got, err)
	}
	if _, err := w.svc.RunResults(t.Context(), old.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("RunResults(oldest) = %v, want NotFound after pruning", err)
	}
	for _, r := range []assess.RunSummary{mid, latest} {
		if rs, err := w.svc.RunResults(t.Context(), r.ID); err != nil || len(rs) == 0 {
			t.Errorf("RunResults(%s) = %d results, %v; want them kept", r.ID, len(rs), err)
		}
	}
}

// The scheduler prunes when retention is set, before its first batch.
func TestSchedulerPrunes(t *testing.T) {
	w := newWorld(t)
	old := w.assess(t, r2)
	w.clock.Advance(10 * 24 * time.Hour)
	w.assess(t, r2)

	s := assess.NewScheduler(w.svc, "server-a")
	s.Retain = 24 * time.Hour
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := w.svc.RunResults(t.Context(), old.ID); errs.Is(err, errs.NotFound) {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("the scheduler did not prune the old run's results")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}
