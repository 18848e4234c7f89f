package jetstream

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
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
}

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
	return &Limiter{kv: kv, interval: interval, tolerance: time.Duration(burst-1) * interval}, nil
}

// Wait blocks until a new connection to a may be opened, or ctx ends. If NATS cannot be
// reached it keeps trying until ctx ends and then returns the error: a connection that
// cannot be budgeted is not opened.
func (l *Limiter) Wait(ctx context.Context, a netip.Addr) error {
	key := addrKey(a)
	var lastErr error
	for failures := 0; ; {
		wait, err := l.reserve(ctx, key)
		switch {
		case err == nil:
			return sleepCtx(ctx, wait)
		case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			continue // another process reserved first: read again
		case ctx.Err() != nil:
			return fmt.Errorf("connection budget for %s: %w", a, errors.Join(ctx.Err(), lastErr))
		}
		lastErr = err
		failures++
		if err := sleepCtx(ctx, min(50*time.Millisecond<<min(failures, 5), time.Second)); err != nil {
			return fmt.Errorf("connection budget for %s: %w", a, errors.Join(err, lastErr))
		}
	}
}

// reserve takes the next slot of key and returns how long until it may be used.
func (l *Limiter) reserve(ctx context.Context, key string) (time.Duration, error) {
	now := time.Now()
	tat, rev := now, uint64(0)
	e, err := l.kv.Get(ctx, key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
	case err != nil:
		return 0, err
	default:
		rev = e.Revision()
		if ns, err := strconv.ParseInt(string(e.Value()), 10, 64); err == nil && ns > now.UnixNano() {
			tat = time.Unix(0, ns)
		}
	}
	next := strconv.AppendInt(nil, tat.Add(l.interval).UnixNano(), 10)
	if rev == 0 {
		_, err = l.kv.Create(ctx, key, next)
	} else {
		_, err = l.kv.Update(ctx, key, next, rev)
	}
	if err != nil {
		return 0, err
	}
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
