package jetstream

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Limiter spaces out new connections to each target address among every process that uses
// the same NATS server and prefix, so that adding workers never adds load on an agency's
// server: at most rate new connections per second to one address, in bursts of at most
// burst, however many workers there are. It implements scope.Limiter.
//
// It is the generic cell rate algorithm over a key-value bucket: the key of an address holds
// the time its next connection is due (the theoretical arrival time), and each connection
// moves it on by 1/rate with a compare-and-set, so processes never lose each other's
// updates. A connection is let through once its slot is within the burst's tolerance of now;
// the reservation is made before waiting, so waiters are served in order. Keys expire ten
// minutes after their last use, and the bucket lives in memory: what it holds is only ever a
// few seconds into the future.
type Limiter struct {
	kv        jetstream.KeyValue
	interval  time.Duration // between connections to one address
	tolerance time.Duration // how far ahead of its slot a connection may go: (burst-1) intervals

	// last remembers what this process last wrote for each address, so that the next
	// reservation (a family opens a dozen connections to a host in a row) is one round trip:
	// an update against the remembered revision, which only fails if another process wrote
	// since. It is emptied when it grows past lastMax addresses.
	mu   sync.Mutex
	last map[string]slot
}

// slot is a key's value and revision as this process last wrote it.
type slot struct {
	tat time.Time
	rev uint64
}

const lastMax = 100_000

// bucket names the key-value bucket of the shared budget.
func (q *Queue) bucket() string { return q.prefix + "_hosts" }

// Limiter returns the shared per-address budget of rate new connections per second, in bursts
// of at most burst, creating its bucket if need be.
func (q *Queue) Limiter(ctx context.Context, rate float64, burst int) (*Limiter, error) {
	if rate <= 0 || burst < 1 {
		return nil, fmt.Errorf("shared connection budget: rate %g and burst %d must be positive", rate, burst)
	}
	kv, err := q.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      q.bucket(),
		Description: "Khiên: when the next connection to each target address is due, shared by all workers",
		History:     1,
		TTL:         10 * time.Minute,
		Storage:     jetstream.MemoryStorage,
		Replicas:    q.o.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("NATS bucket %s: %w", q.bucket(), err)
	}
	interval := time.Duration(float64(time.Second) / rate)
	return &Limiter{kv: kv, interval: interval, tolerance: time.Duration(burst-1) * interval, last: map[string]slot{}}, nil
}

// Wait blocks until a new connection to a may be opened, or ctx ends. If NATS cannot be
// reached it keeps trying for up to giveUp, then returns the error: a connection that cannot
// be budgeted is not opened.
func (l *Limiter) Wait(ctx context.Context, a netip.Addr) error {
	key := addrKey(a)
	var began time.Time
	for failures := 0; ; {
		wait, err := l.reserve(ctx, key)
		switch {
		case err == nil:
			return sleepCtx(ctx, wait)
		case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			continue // another process reserved first: read again
		case ctx.Err() != nil:
			return fmt.Errorf("connection budget for %s: %w", a, errors.Join(ctx.Err(), err))
		}
		if failures++; failures == 1 {
			began = time.Now()
		}
		if time.Since(began) > giveUp {
			return fmt.Errorf("connection budget for %s: NATS unreachable for %s: %w", a, giveUp, err)
		}
		if err := sleepCtx(ctx, min(50*time.Millisecond<<min(failures, 5), time.Second)); err != nil {
			return fmt.Errorf("connection budget for %s: %w", a, err)
		}
	}
}

// giveUp is how long Wait keeps trying to reach NATS.
const giveUp = 30 * time.Second

// reserve takes the next slot of key and returns how long until it may be used. It writes
// against the revision this process last wrote if it remembers one, and reads the key first
// otherwise (or when that write finds another process was there first).
func (l *Limiter) reserve(ctx context.Context, key string) (time.Duration, error) {
	now := time.Now()
	l.mu.Lock()
	known, ok := l.last[key]
	l.mu.Unlock()
	if ok {
		wait, err := l.write(ctx, key, known, now)
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return wait, err
		}
	}
	var cur slot
	e, err := l.kv.Get(ctx, key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
	case err != nil:
		return 0, err
	default:
		cur.rev = e.Revision()
		if ns, err := strconv.ParseInt(string(e.Value()), 10, 64); err == nil {
			cur.tat = time.Unix(0, ns)
		}
	}
	return l.write(ctx, key, cur, now)
}

// write moves key on from cur, a value at revision cur.rev (0: none), by one interval.
func (l *Limiter) write(ctx context.Context, key string, cur slot, now time.Time) (time.Duration, error) {
	tat := cur.tat
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(l.interval)
	val := strconv.AppendInt(nil, next.UnixNano(), 10)
	var rev uint64
	var err error
	if cur.rev == 0 {
		rev, err = l.kv.Create(ctx, key, val)
	} else {
		rev, err = l.kv.Update(ctx, key, val, cur.rev)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		delete(l.last, key)
		return 0, err
	}
	if len(l.last) >= lastMax {
		clear(l.last)
	}
	l.last[key] = slot{tat: next, rev: rev}
	return tat.Add(-l.tolerance).Sub(now), nil
}

// addrKey makes a bucket key of an address: keys take letters, digits, '-', '_', '.' and '='.
func addrKey(a netip.Addr) string {
	return strings.NewReplacer(":", "_", "%", "=").Replace(a.Unmap().String())
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
