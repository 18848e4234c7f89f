package scope

import (
	"context"
	"errors"
	"sync"
	"time"
)

// maxPoliteWait bounds one wait for the budget when nothing else does (a family's time-out
// does not: see politeContext).
const maxPoliteWait = 2*MaxThrottle + 30*time.Second

// Waiting politely is not the target's fault. A family bounds each operation with a time-out
// (a dial, a request), but the time the operation spends waiting for the per-address budget,
// or for a pause a server asked for, must not count against it: a name server that a thousand
// resources of a scan share would otherwise show up as "context deadline exceeded". So the
// guard waits under a context that ignores the operation's deadline, bounded by the scan's
// own context (WithScan) and by maxPoliteWait, and pushes the operation's deadline back by
// the time it waited.

type scanKey struct{}

// WithScan marks ctx as the context of a whole scan: politeness waits inside any operation
// derived from it end when it ends, whatever shorter deadline the operation has.
func WithScan(ctx context.Context) context.Context {
	return context.WithValue(ctx, scanKey{}, ctx)
}

// politeContext returns a context for waiting on behalf of an operation bounded by ctx: it
// ends when ctx is cancelled (not when its deadline passes), when the scan's context ends, or
// after maxPoliteWait.
func politeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), maxPoliteWait)
	stop := followCancel(ctx, cancel)
	return c, func() { stop(); cancel() }
}

// followCancel calls cancel when ctx is cancelled (not when its deadline passes) or when the
// scan ctx belongs to ends; the returned function stops following.
func followCancel(ctx context.Context, cancel func()) func() {
	stop1 := context.AfterFunc(ctx, func() {
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			cancel()
		}
	})
	stop2 := func() bool { return false }
	if root, ok := ctx.Value(scanKey{}).(context.Context); ok {
		stop2 = context.AfterFunc(root, cancel)
	}
	return func() { stop1(); stop2() }
}

// shift returns ctx with its deadline pushed back by waited (ctx itself when it has no
// deadline or nothing was waited), still ending when ctx is cancelled or the scan ends.
func shift(ctx context.Context, waited time.Duration) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok || waited <= 0 {
		return ctx, func() {}
	}
	c, cancel := context.WithDeadline(context.WithoutCancel(ctx), dl.Add(waited))
	stop := followCancel(ctx, cancel)
	return c, func() { stop(); cancel() }
}

type waitKey struct{}

// holdClock stops the clock of the operation ctx belongs to, if it keeps one (see opClock),
// for a politeness wait; the returned function restarts it with the deadline pushed back by
// the time held.
func holdClock(ctx context.Context) func() {
	if c, ok := ctx.Value(waitKey{}).(*opClock); ok {
		return c.hold()
	}
	return func() {}
}

// opClock is a context whose deadline does not run while the operation waits politely. An
// HTTP request needs one: the transport dials under a context detached from the request's
// deadline, so the request's clock must stop while the dial waits for the budget, as it
// must while the request waits out a pause a server asked for.
type opClock struct {
	context.Context // values and parent: WithoutCancel of the operation's context

	mu       sync.Mutex
	deadline time.Time
	timer    *time.Timer
	holds    int
	heldAt   time.Time
	done     chan struct{}
	err      error
	stop     func()
}

// newOpClock returns a context like ctx whose deadline reportWait can push back, and the
// function that releases it. ctx must have a deadline.
func newOpClock(ctx context.Context, deadline time.Time) (*opClock, func()) {
	c := &opClock{deadline: deadline, done: make(chan struct{})}
	c.Context = context.WithValue(context.WithoutCancel(ctx), waitKey{}, c)
	c.timer = time.AfterFunc(time.Until(deadline), func() { c.end(context.DeadlineExceeded) })
	stop := followCancel(ctx, func() {
		err := ctx.Err()
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			err = context.Canceled // the scan ended
		}
		c.end(err)
	})
	c.mu.Lock()
	c.stop = stop
	ended := c.err != nil
	c.mu.Unlock()
	if ended {
		stop()
	}
	return c, func() { c.end(context.Canceled) }
}

// hold stops the clock until the returned function is called; holds may overlap.
func (c *opClock) hold() func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return func() {}
	}
	if c.holds == 0 {
		c.heldAt = time.Now()
		c.timer.Stop()
	}
	c.holds++
	return sync.OnceFunc(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.holds--
		if c.holds == 0 && c.err == nil {
			c.deadline = c.deadline.Add(time.Since(c.heldAt))
			c.timer.Reset(time.Until(c.deadline))
		}
	})
}

func (c *opClock) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	c.timer.Stop()
	close(c.done)
	if c.stop != nil {
		go c.stop() // end may run inside an AfterFunc that stop would wait for
	}
}

// Deadline reports the current deadline.
func (c *opClock) Deadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadline, true
}

// Done is closed when the clock ends.
func (c *opClock) Done() <-chan struct{} { return c.done }

// Err says why the clock ended.
func (c *opClock) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
