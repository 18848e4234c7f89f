package audit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// gatedStore is a memStore whose whole-log reading takes the entries as they are when it
// begins, then waits at the gate; it counts readings.
type gatedStore struct {
	*memStore
	entered chan struct{} // a reading began
	gate    chan struct{} // closed to let readings go on
	mu      sync.Mutex
	reads   int
}

func (g *gatedStore) EachAuditEntry(ctx context.Context, fn func(Entry) error) (Head, error) {
	g.mu.Lock()
	g.reads++
	g.mu.Unlock()
	snap := &memStore{es: append([]Entry(nil), g.es...), head: g.head}
	g.entered <- struct{}{}
	<-g.gate
	return snap.EachAuditEntry(ctx, fn)
}

func recorded(t *testing.T, n int) (*memStore, *Log) {
	t.Helper()
	st := &memStore{}
	log := NewLog(st, tree{"HN": ""}, func() time.Time { return t0 })
	for range n {
		if _, err := log.Record(t.Context(), Record{Action: "system.update", ObjectType: "system", ObjectID: "s", Org: "HN"}); err != nil {
			t.Fatal(err)
		}
	}
	return st, log
}

// TestVerifyIsRemembered: each Verify reads the log again (an edit made after one check is
// found by the next), and LastVerification says what the latest found.
func TestVerifyIsRemembered(t *testing.T) {
	st, log := recorded(t, 3)
	if _, ok := log.LastVerification(); ok {
		t.Fatal("a verification is remembered before any was made")
	}
	if n, err := log.Verify(t.Context()); n != 3 || err != nil {
		t.Fatalf("Verify = %d, %v", n, err)
	}
	if v, ok := log.LastVerification(); !ok || v.Entries != 3 || v.Err != nil || v.Finished.IsZero() {
		t.Errorf("LastVerification = %+v, %v", v, ok)
	}
	st.es[1].Action = "system.delete"
	if _, err := log.Verify(t.Context()); err == nil {
		t.Fatal("Verify after an edit found nothing: it answered from the check before the edit")
	}
	v, ok := log.LastVerification()
	be, isBroken := errors.AsType[*BrokenError](v.Err)
	if !ok || !isBroken || be.Seq != 2 || v.Entries != 1 {
		t.Errorf("LastVerification after the edit = %+v, %v; want entry 2 named after 1 entry", v, ok)
	}
}

// TestVerifyShares: callers that ask while a check runs wait for it, then share one check
// that starts after them; none gets the answer of the check that was running when it asked.
func TestVerifyShares(t *testing.T) {
	ms, _ := recorded(t, 2)
	g := &gatedStore{memStore: ms, entered: make(chan struct{}, 8), gate: make(chan struct{})}
	log := NewLog(g, tree{"HN": ""}, func() time.Time { return t0 })
	asked := make(chan struct{}, 8)
	log.waiting = func() { asked <- struct{}{} }

	first := make(chan error, 1)
	go func() { _, err := log.Verify(t.Context()); first <- err }()
	<-asked
	<-g.entered // the first check is reading
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() { _, err := log.Verify(t.Context()); errs <- err })
	}
	for range 3 {
		<-asked
	}
	ms.es[0].Actor = "user:mallory" // after the three asked, before any of them is answered
	close(g.gate)
	if err := <-first; err != nil {
		t.Errorf("the first check, which began before the edit, = %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if be, ok := errors.AsType[*BrokenError](err); !ok || be.Seq != 1 {
			t.Errorf("a caller that asked during the first check got %v; want entry 1 named", err)
		}
	}
	if g.reads != 2 {
		t.Errorf("%d readings of the log for 4 callers, want 2 (one running, one shared by those who waited)", g.reads)
	}
}

// TestVerifyWaitEndsWithTheCaller: a caller waiting for a running check gives up with its
// context, and a check whose caller gave up is not remembered.
func TestVerifyWaitEndsWithTheCaller(t *testing.T) {
	ms, _ := recorded(t, 1)
	g := &gatedStore{memStore: ms, entered: make(chan struct{}, 4), gate: make(chan struct{})}
	log := NewLog(g, tree{"HN": ""}, func() time.Time { return t0 })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { _, err := log.Verify(ctx); done <- err }()
	<-g.entered
	waiter, stop := context.WithCancel(t.Context())
	stop()
	if _, err := log.Verify(waiter); !errors.Is(err, context.Canceled) {
		t.Errorf("a caller whose context ended while waiting got %v", err)
	}
	cancel()
	close(g.gate)
	<-done
	if v, ok := log.LastVerification(); ok {
		t.Errorf("a check whose caller gave up is remembered: %+v", v)
	}
}

// TestVerifyEveryReportsABrokenChain: the server's periodic check logs a broken chain.
func TestVerifyEveryReportsABrokenChain(t *testing.T) {
	st, log := recorded(t, 2)
	st.es[1].Before = `{"tampered":true}`
	var buf bytes.Buffer
	var mu sync.Mutex
	h := slog.NewTextHandler(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) }), nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { log.VerifyEvery(ctx, time.Hour, slog.New(h)); close(done) }()
	for {
		if _, ok := log.LastVerification(); ok {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), "level=ERROR") || !strings.Contains(buf.String(), "audit entry 2") {
		t.Errorf("the periodic check logged %q; want an error naming entry 2", buf.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestVerifiedTakesAnyCheck: Verified answers from the latest check, and before the first
// it waits for the one under way instead of reading the log once more (a server's first
// page load while its start-up check runs).
func TestVerifiedTakesAnyCheck(t *testing.T) {
	ms, _ := recorded(t, 2)
	g := &gatedStore{memStore: ms, entered: make(chan struct{}, 8), gate: make(chan struct{})}
	log := NewLog(g, tree{"HN": ""}, func() time.Time { return t0 })
	asked := make(chan struct{}, 8)
	log.waiting = func() { asked <- struct{}{} }
	first := make(chan error, 1)
	go func() { _, err := log.Verify(t.Context()); first <- err }()
	<-asked
	<-g.entered
	got := make(chan Verification, 1)
	go func() {
		v, err := log.Verified(t.Context())
		if err != nil {
			t.Error(err)
		}
		got <- v
	}()
	<-asked // Verified found no check finished and waits for the running one
	close(g.gate)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if v := <-got; v.Entries != 2 || v.Err != nil {
		t.Errorf("Verified = %+v", v)
	}
	if _, err := log.Verified(t.Context()); err != nil {
		t.Fatal(err)
	}
	if g.reads != 1 {
		t.Errorf("%d readings of the log, want 1: Verified shares any finished check", g.reads)
	}
}
