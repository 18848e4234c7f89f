// Package queuetest is the contract of queue.Queue written as tests. Both backends run it
// (queue/local over SQLite and PostgreSQL, queue/jetstream against a NATS server), so what
// the scheduler and the workers rely on holds whichever queue is configured. Like slogtest,
// it is imported by tests only.
package queuetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/queue"
)

// Queue is what the contract needs of a backend: the queue, how many jobs it holds and its
// dead jobs.
type Queue interface {
	queue.Queue
	// Waiting counts the jobs not yet done: waiting, or in a worker's hands.
	Waiting(ctx context.Context) (int, error)
	Dead(ctx context.Context, limit int) ([]queue.DeadJob, error)
}

// Features describes how the queues under test were opened, and what a backend can do that
// the contract cannot do for it.
type Features struct {
	// MaxAttempts is the attempt limit the queues were opened with. Keep it at 2 or 3: the
	// tests wait out the back-off between attempts (queue.Backoff: about 2 seconds).
	MaxAttempts int
	// AckWait is how long a job may go without word from its worker before it is handed out
	// again, as the queues were opened with. Keep it to a few seconds.
	AckWait time.Duration
	// Kill, when set, makes q stop as a killed process would: no more acknowledgements, no
	// renewals, nothing handed back. Without it, the test of a killed worker is skipped.
	Kill func(q Queue)
}

// Run runs the whole contract, one subtest per documented behaviour. backend must make an
// empty queue for its t (a fresh schema, stream or file, removed when t ends) and return a
// function that opens a handle on it, as another process would; handles are closed when t
// ends.
func Run(t *testing.T, backend func(t *testing.T) func() Queue, f Features) {
	if f.MaxAttempts < 2 || f.AckWait <= 0 {
		t.Fatalf("queuetest.Run: Features%+v: MaxAttempts must be at least 2 and AckWait set", f)
	}
	tests := []struct {
		name string
		test func(t *testing.T, open func() Queue, f Features)
	}{
		{"DeliversEveryJob", testDeliversEveryJob},
		{"OnlyItsKinds", testOnlyItsKinds},
		{"KeyWaitingIsNotQueuedTwice", testKeyWaitingIsNotQueuedTwice},
		{"InvalidJobEnqueuesNothing", testInvalidJob},
		{"InvalidWork", testInvalidWork},
		{"RetriedAfterError", testRetriedAfterError},
		{"PanicIsAnError", testPanicIsAnError},
		{"DeadAfterMaxAttempts", testDeadAfterMaxAttempts},
		{"PermanentIsDeadAtOnce", testPermanentIsDeadAtOnce},
		{"ConcurrencyLimit", testConcurrencyLimit},
		{"StopWaitsAndHandsBack", testStopWaitsAndHandsBack},
		{"SharedByHandles", testSharedByHandles},
		{"KilledWorkerJobComesBack", testKilledWorker},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, backend(t), f)
		})
	}
}

// timeout bounds every wait of the contract.
const timeout = 30 * time.Second

// recorder is a handler that records what it was given.
type recorder struct {
	mu   sync.Mutex
	jobs []queue.Job
	seen chan struct{} // poked on each job
	fn   func(ctx context.Context, j queue.Job) error
}

func newRecorder(fn func(ctx context.Context, j queue.Job) error) *recorder {
	return &recorder{seen: make(chan struct{}, 1000), fn: fn}
}

func (r *recorder) handle(ctx context.Context, j queue.Job) error {
	r.mu.Lock()
	r.jobs = append(r.jobs, j)
	r.mu.Unlock()
	var err error
	if r.fn != nil {
		err = r.fn(ctx, j)
	}
	r.seen <- struct{}{}
	return err
}

func (r *recorder) got() []queue.Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.jobs)
}

// waitFor waits until the recorder has seen n jobs.
func (r *recorder) waitFor(t *testing.T, n int) []queue.Job {
	t.Helper()
	deadline := time.After(timeout)
	for len(r.got()) < n {
		select {
		case <-r.seen:
		case <-deadline:
			t.Fatalf("handled %d jobs in %s, want %d: %s", len(r.got()), timeout, n, keys(r.got()))
		}
	}
	return r.got()
}

// quiet checks that the recorder sees no more than n jobs for d.
func (r *recorder) quiet(t *testing.T, n int, d time.Duration) {
	t.Helper()
	time.Sleep(d)
	if got := r.got(); len(got) > n {
		t.Errorf("handled %d jobs, want %d: %s", len(got), n, keys(got))
	}
}

func keys(js []queue.Job) string {
	var s []string
	for _, j := range js {
		s = append(s, fmt.Sprintf("%s/%s#%d", j.Kind, j.Key, j.Attempt))
	}
	return strings.Join(s, " ")
}

// work runs q.Work in the background until t ends (or stop is called) and checks that it
// returns nil.
func work(t *testing.T, q Queue, kinds []string, n int, h queue.Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Work(ctx, kinds, n, h) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Work() = %v, want nil once stopped", err)
				}
			case <-time.After(timeout):
				t.Errorf("Work did not return within %s of being stopped", timeout)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func enqueue(t *testing.T, q Queue, jobs ...queue.Job) {
	t.Helper()
	if err := q.Enqueue(t.Context(), jobs...); err != nil {
		t.Fatalf("Enqueue(%s) = %v", keys(jobs), err)
	}
}

func job(kind string, i int) queue.Job {
	return queue.Job{Kind: kind, Key: fmt.Sprintf("key-%03d", i), Payload: fmt.Appendf(nil, `{"n":%d}`, i)}
}

func dead(t *testing.T, q Queue, n int) []queue.DeadJob {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		d, err := q.Dead(t.Context(), 100)
		if err != nil {
			t.Fatalf("Dead() = %v", err)
		}
		if len(d) >= n || time.Now().After(deadline) {
			return d
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func testDeliversEveryJob(t *testing.T, open func() Queue, _ Features) {
	q := open()
	var jobs []queue.Job
	for i := range 25 {
		jobs = append(jobs, job("test.deliver", i))
	}
	enqueue(t, q, jobs...)
	if n, err := q.Waiting(t.Context()); err != nil || n != len(jobs) {
		t.Errorf("Waiting() = %d, %v before any work; want %d", n, err, len(jobs))
	}
	r := newRecorder(nil)
	work(t, q, []string{"test.deliver"}, 4, r.handle)
	got := r.waitFor(t, len(jobs))
	r.quiet(t, len(jobs), 300*time.Millisecond)
	if n, err := q.Waiting(t.Context()); err != nil || n != 0 {
		t.Errorf("Waiting() = %d, %v once all were done; want 0", n, err)
	}
	byKey := map[string]queue.Job{}
	for _, j := range got {
		byKey[j.Key] = j
	}
	for _, want := range jobs {
		j, ok := byKey[want.Key]
		if !ok || j.Kind != want.Kind || string(j.Payload) != string(want.Payload) || j.Attempt != 1 {
			t.Errorf("job %s delivered as %+v (%v), want %s with attempt 1", want.Key, j, ok, want.Payload)
		}
	}
}

func testOnlyItsKinds(t *testing.T, open func() Queue, _ Features) {
	q := open()
	enqueue(t, q, job("test.a", 1), job("test.b", 2), job("test.a", 3))
	a := newRecorder(nil)
	work(t, q, []string{"test.a"}, 2, a.handle)
	a.waitFor(t, 2)
	a.quiet(t, 2, 300*time.Millisecond)
	for _, j := range a.got() {
		if j.Kind != "test.a" {
			t.Errorf("a worker of test.a got %s", keys([]queue.Job{j}))
		}
	}
	b := newRecorder(nil)
	work(t, q, []string{"test.b", "test.c"}, 2, b.handle)
	if got := b.waitFor(t, 1); got[0].Kind != "test.b" || got[0].Key != "key-002" {
		t.Errorf("a worker of test.b got %s", keys(got))
	}
}

func testKeyWaitingIsNotQueuedTwice(t *testing.T, open func() Queue, _ Features) {
	q := open()
	enqueue(t, q, job("test.dup", 1))
	enqueue(t, q, job("test.dup", 1), job("test.dup", 2))
	r := newRecorder(nil)
	work(t, q, []string{"test.dup"}, 2, r.handle)
	r.waitFor(t, 2)
	r.quiet(t, 2, 500*time.Millisecond)
}

func testInvalidJob(t *testing.T, open func() Queue, _ Features) {
	q := open()
	for _, bad := range []queue.Job{{Kind: "Test Bad", Key: "k"}, {Kind: "test.nokey"}} {
		if err := q.Enqueue(t.Context(), job("test.valid", 1), bad); err == nil {
			t.Errorf("Enqueue(%+v) = nil, want an error", bad)
		}
	}
	r := newRecorder(nil)
	work(t, q, []string{"test.valid"}, 1, r.handle)
	r.quiet(t, 0, 500*time.Millisecond)
}

func testInvalidWork(t *testing.T, open func() Queue, _ Features) {
	q := open()
	h := func(context.Context, queue.Job) error { return nil }
	for _, tt := range []struct {
		kinds []string
		n     int
	}{{nil, 1}, {[]string{"Bad Kind"}, 1}, {[]string{"test.ok"}, 0}} {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		if err := q.Work(ctx, tt.kinds, tt.n, h); err == nil {
			t.Errorf("Work(%q, %d) = nil, want an error", tt.kinds, tt.n)
		}
		cancel()
	}
}

func testRetriedAfterError(t *testing.T, open func() Queue, _ Features) {
	q := open()
	enqueue(t, q, job("test.retry", 1))
	r := newRecorder(func(_ context.Context, j queue.Job) error {
		if j.Attempt == 1 {
			return errors.New("the database is away")
		}
		return nil
	})
	work(t, q, []string{"test.retry"}, 1, r.handle)
	got := r.waitFor(t, 2)
	if got[0].Attempt != 1 || got[1].Attempt != 2 || got[1].Key != got[0].Key || string(got[1].Payload) != string(got[0].Payload) {
		t.Errorf("deliveries %s, want key-001 at attempts 1 and 2", keys(got))
	}
	r.quiet(t, 2, 500*time.Millisecond)
}

func testPanicIsAnError(t *testing.T, open func() Queue, _ Features) {
	q := open()
	enqueue(t, q, job("test.panic", 1))
	r := newRecorder(func(_ context.Context, j queue.Job) error {
		if j.Attempt == 1 {
			panic("a bug")
		}
		return nil
	})
	work(t, q, []string{"test.panic"}, 1, r.handle)
	if got := r.waitFor(t, 2); got[1].Attempt != 2 {
		t.Errorf("deliveries %s, want a second after the panic", keys(got))
	}
}

func testDeadAfterMaxAttempts(t *testing.T, open func() Queue, f Features) {
	q := open()
	enqueue(t, q, job("test.dead", 1), job("test.dead", 2))
	r := newRecorder(func(_ context.Context, j queue.Job) error {
		if j.Key == "key-001" {
			return fmt.Errorf("attempt %d failed", j.Attempt)
		}
		return nil
	})
	work(t, q, []string{"test.dead"}, 2, r.handle)
	r.waitFor(t, f.MaxAttempts+1)
	d := dead(t, q, 1)
	if len(d) != 1 || d[0].Key != "key-001" || d[0].Kind != "test.dead" || string(d[0].Payload) != `{"n":1}` ||
		!strings.Contains(d[0].Reason, fmt.Sprintf("attempt %d failed", f.MaxAttempts)) || d[0].At.IsZero() {
		t.Errorf("Dead() = %+v, want key-001 failed at attempt %d", d, f.MaxAttempts)
	}
	r.quiet(t, f.MaxAttempts+1, 3*time.Second) // no attempt past the limit
}

func testPermanentIsDeadAtOnce(t *testing.T, open func() Queue, _ Features) {
	q := open()
	enqueue(t, q, job("test.permanent", 1))
	r := newRecorder(func(context.Context, queue.Job) error {
		return queue.Permanent(errors.New("no such resource"))
	})
	work(t, q, []string{"test.permanent"}, 1, r.handle)
	r.waitFor(t, 1)
	if d := dead(t, q, 1); len(d) != 1 || !strings.Contains(d[0].Reason, "no such resource") {
		t.Errorf("Dead() = %+v, want the job with its reason", d)
	}
	r.quiet(t, 1, 3*time.Second)
}

func testConcurrencyLimit(t *testing.T, open func() Queue, _ Features) {
	q := open()
	var jobs []queue.Job
	for i := range 8 {
		jobs = append(jobs, job("test.limit", i))
	}
	enqueue(t, q, jobs...)
	var running, peak atomic.Int32
	gate := make(chan struct{})
	r := newRecorder(func(context.Context, queue.Job) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-gate
		return nil
	})
	work(t, q, []string{"test.limit"}, 3, r.handle)
	deadline := time.Now().Add(timeout)
	for running.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a fourth would have started by now
	if p := peak.Load(); p != 3 {
		t.Errorf("%d handlers ran at once, want 3", p)
	}
	close(gate)
	r.waitFor(t, len(jobs))
	if p := peak.Load(); p > 3 {
		t.Errorf("%d handlers ran at once, want at most 3", p)
	}
}

func testStopWaitsAndHandsBack(t *testing.T, open func() Queue, f Features) {
	q := open()
	enqueue(t, q, job("test.stop", 1))
	started := make(chan struct{})
	var returned atomic.Bool
	first := newRecorder(func(ctx context.Context, _ queue.Job) error {
		close(started)
		<-ctx.Done()
		time.Sleep(100 * time.Millisecond) // cleaning up
		returned.Store(true)
		return ctx.Err()
	})
	stop := work(t, q, []string{"test.stop"}, 1, first.handle)
	select {
	case <-started:
	case <-time.After(timeout):
		t.Fatal("job not delivered")
	}
	stop()
	if !returned.Load() {
		t.Error("Work returned before its handler")
	}
	// Handed back at once: well before the ack wait runs out or a retry's back-off.
	second := newRecorder(nil)
	began := time.Now()
	work(t, open(), []string{"test.stop"}, 1, second.handle)
	got := second.waitFor(t, 1)
	if got[0].Key != "key-001" || got[0].Attempt != 2 {
		t.Errorf("after the stop, delivered %s; want key-001 at attempt 2", keys(got))
	}
	if took := time.Since(began); took > f.AckWait+time.Second {
		t.Errorf("the interrupted job came back after %s, want it handed back at once", took)
	}
}

func testSharedByHandles(t *testing.T, open func() Queue, _ Features) {
	producer := open()
	var jobs []queue.Job
	for i := range 40 {
		jobs = append(jobs, job("test.shared", i))
	}
	enqueue(t, producer, jobs...)
	r := newRecorder(func(context.Context, queue.Job) error {
		time.Sleep(5 * time.Millisecond)
		return nil
	})
	for range 3 {
		work(t, open(), []string{"test.shared"}, 2, r.handle)
	}
	got := r.waitFor(t, len(jobs))
	r.quiet(t, len(jobs), 500*time.Millisecond)
	seen := map[string]int{}
	for _, j := range got {
		seen[j.Key]++
	}
	for _, j := range jobs {
		if seen[j.Key] != 1 {
			t.Errorf("%s handled %d times by the handles together, want once", j.Key, seen[j.Key])
		}
	}
}

func testKilledWorker(t *testing.T, open func() Queue, f Features) {
	if f.Kill == nil {
		t.Skip("the backend cannot kill a handle")
	}
	victim := open()
	enqueue(t, victim, job("test.kill", 1))
	started := make(chan struct{})
	release := make(chan struct{})
	hung := newRecorder(func(context.Context, queue.Job) error {
		close(started)
		<-release // hangs, as a process stopped by the kernel does, whatever its context says
		return nil
	})
	// The victim's Work is not checked: a killed handle may well report that it cannot work.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		victim.Work(ctx, []string{"test.kill"}, 1, hung.handle)
	}()
	t.Cleanup(func() {
		close(release)
		cancel()
		select {
		case <-done:
		case <-time.After(timeout):
			t.Errorf("the killed handle's Work did not return within %s of being stopped", timeout)
		}
	})
	select {
	case <-started:
	case <-time.After(timeout):
		t.Fatal("job not delivered")
	}
	f.Kill(victim)
	began := time.Now()
	survivor := newRecorder(nil)
	work(t, open(), []string{"test.kill"}, 1, survivor.handle)
	got := survivor.waitFor(t, 1)
	if got[0].Key != "key-001" || got[0].Attempt != 2 {
		t.Errorf("after the kill, delivered %s; want key-001 at attempt 2", keys(got))
	}
	if took := time.Since(began); took < f.AckWait/2 {
		t.Errorf("the killed worker's job came back after %s, before its ack wait of %s", took, f.AckWait)
	}
}
