package jetstream_test

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/queue"
	"github.com/khien-vn/khien/internal/queue/jetstream"
	"github.com/khien-vn/khien/internal/queue/queuetest"
)

// These tests run against the NATS server of KHIEN_TEST_NATS, each under a prefix of its own
// whose streams and bucket are deleted when it ends.

var features = queuetest.Features{MaxAttempts: 2, AckWait: 2 * time.Second}

// fresh returns a function that opens queues on a new prefix, each closed when t ends; the
// prefix's streams and bucket are deleted then.
func fresh(t *testing.T) func() *jetstream.Queue {
	url := queuetest.NATS(t)
	o := jetstream.Options{Prefix: queuetest.Name(), AckWait: features.AckWait, MaxAttempts: features.MaxAttempts}
	first := true
	return func() *jetstream.Queue {
		q, err := jetstream.Open(t.Context(), url, o)
		if err != nil {
			t.Fatal(err)
		}
		if first { // deleted last, once every handle is closed
			first = false
			t.Cleanup(func() {
				q, err := jetstream.Open(context.Background(), url, o)
				if err != nil {
					t.Errorf("reopen to delete: %v", err)
					return
				}
				defer q.Close()
				if err := q.Delete(context.Background()); err != nil {
					t.Errorf("delete streams of %s: %v", o.Prefix, err)
				}
			})
		}
		t.Cleanup(func() { q.Close() })
		return q
	}
}

func TestContract(t *testing.T) {
	f := features
	f.Kill = func(q queuetest.Queue) { q.(*jetstream.Queue).Close() }
	queuetest.Run(t, func(t *testing.T) func() queuetest.Queue {
		open := fresh(t)
		return func() queuetest.Queue { return open() }
	}, f)
}

// TestDeadLetterWhenWorkersKeepDying: a job whose every delivery dies with its worker is
// moved to the dead letters by a worker that hears the server's advisory.
func TestDeadLetterWhenWorkersKeepDying(t *testing.T) {
	open := fresh(t)
	producer := open()
	if err := producer.Enqueue(t.Context(), queue.Job{Kind: "test.doomed", Key: "k1", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		close(release)
		cancel()
		wg.Wait()
	})
	// work starts a worker on test.doomed whose handlers hang, and returns the attempt
	// numbers it was given.
	work := func(q *jetstream.Queue) <-chan int {
		got := make(chan int, 1)
		wg.Go(func() {
			q.Work(ctx, []string{"test.doomed"}, 1, func(_ context.Context, j queue.Job) error {
				got <- j.Attempt
				<-release
				return nil
			})
		})
		return got
	}
	for attempt := 1; attempt <= features.MaxAttempts; attempt++ {
		victim := open()
		select {
		case got := <-work(victim):
			if got != attempt {
				t.Fatalf("delivery %d came as attempt %d", attempt, got)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("delivery %d did not come", attempt)
		}
		victim.Close() // killed with the job in hand
	}
	// A worker that is up when the deliveries run out moves the job; it never gets it.
	survivor := work(open())
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := producer.Dead(t.Context(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(d) == 1 {
			if d[0].Key != "k1" || d[0].Kind != "test.doomed" || d[0].Attempt != features.MaxAttempts ||
				!strings.Contains(d[0].Reason, "no answer") {
				t.Errorf("Dead() = %+v", d)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("job not dead-lettered once its deliveries were spent")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n, err := producer.Waiting(t.Context()); err != nil || n != 0 {
		t.Errorf("Waiting() = %d, %v; want the dead job gone from the work queue", n, err)
	}
	select {
	case a := <-survivor:
		t.Errorf("the spent job was delivered again (attempt %d)", a)
	default:
	}
}

// TestLimiterSharedAcrossProcesses: two connections (two workers) opening connections to
// one address as fast as they can keep to the one rate between them.
func TestLimiterSharedAcrossProcesses(t *testing.T) {
	open := fresh(t)
	const rate, burst = 40.0, 4
	a := netip.MustParseAddr("127.0.0.9")
	var granted atomic.Int32
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 2 {
		l, err := open().Limiter(t.Context(), rate, burst)
		if err != nil {
			t.Fatal(err)
		}
		for range 8 {
			wg.Go(func() {
				for l.Wait(ctx, a) == nil {
					granted.Add(1)
				}
			})
		}
	}
	wg.Wait()
	// In one second: the burst, then one per interval.
	if n := granted.Load(); n > int32(rate)+burst || n < int32(rate)/2 {
		t.Errorf("%d connections granted in a second at %g a second with a burst of %d", n, rate, burst)
	}
	// Another address has a budget of its own.
	l, err := open().Limiter(t.Context(), rate, burst)
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	for i := range burst {
		if err := l.Wait(t.Context(), netip.MustParseAddr("::1")); err != nil {
			t.Fatalf("Wait(::1) #%d = %v", i, err)
		}
	}
	if took := time.Since(begin); took > 200*time.Millisecond {
		t.Errorf("a burst of %d to a fresh address took %s", burst, took)
	}
}
