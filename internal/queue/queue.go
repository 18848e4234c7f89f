// Package queue hands units of work (jobs) to workers, at least once. Two backends implement
// Queue and both pass queuetest.Run: queue/local, the default, leases jobs from a table in the
// store, so a single binary needs nothing else and a killed process loses no job; and
// queue/jetstream, a NATS JetStream work-queue stream that any number of `khien worker`
// processes on other machines share.
//
// Delivery is at least once: a job whose worker dies, or whose handler fails, is handed out
// again. Handlers are therefore idempotent, keyed by Job.Key (an assessment job writes its
// run under a run id fixed when it was enqueued, so a second delivery records nothing new).
// Only internal/app imports the backends; everything else sees this package.
package queue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"time"
)

// Job is one unit of work.
type Job struct {
	// Kind says what to do and how Payload reads: "assess.resource", later others. A dotted
	// lower-case name; workers ask for the kinds they handle.
	Kind string
	// Key names this piece of work: enqueueing a key that is still waiting does not queue it
	// twice, and handlers use it to make a second delivery harmless.
	Key     string
	Payload []byte // JSON, versioned by Kind
	// Attempt is set by the queue: 1 on the first delivery, 2 on the next, and so on.
	Attempt int
}

// Handler processes one job. Returning nil acknowledges it; an error makes it visible again
// after a back-off (Backoff), until the queue's attempt limit, when the job is set aside as
// dead. An error wrapped with Permanent is set aside at once. ctx ends when the worker stops;
// the job is then handed out again without waiting.
type Handler func(ctx context.Context, j Job) error

// Queue enqueues jobs and runs handlers on them. Implementations are safe for concurrent use
// and are shared by several processes.
type Queue interface {
	// Enqueue stores jobs durably before it returns. A job whose kind and key are those of a
	// job still waiting is dropped. A job that is not Valid is an error of kind Invalid and
	// nothing is enqueued.
	Enqueue(ctx context.Context, jobs ...Job) error
	// Work runs h on jobs of the given kinds, at most n at a time, until ctx ends, then waits
	// for the running handlers and returns nil. It returns an error only if it cannot work at
	// all (bad arguments, the backend refused to set up); a backend that is down for a while
	// is retried.
	Work(ctx context.Context, kinds []string, n int, h Handler) error
}

// DeadJob is a job the queue gave up on: its handler failed on every attempt, failed with a
// Permanent error, or its worker never answered.
type DeadJob struct {
	Job
	Reason string // the handler's last error, or why the queue gave up
	At     time.Time
}

// Defaults of both backends.
const (
	// DefaultMaxAttempts is how many deliveries a job gets before it is set aside as dead.
	DefaultMaxAttempts = 10
	// DefaultAckWait is how long a job may go without word from its worker (which reports
	// progress every third of it while the handler runs) before it is handed out again.
	DefaultAckWait = 30 * time.Second
)

var kindPattern = regexp.MustCompile(`^[a-z0-9]+(\.[a-z0-9_-]+)*$`)

// Valid checks that j can be enqueued: a dotted lower-case kind (it becomes part of a NATS
// subject) and a key of at most 512 bytes.
func (j Job) Valid() error {
	switch {
	case !kindPattern.MatchString(j.Kind):
		return fmt.Errorf("job kind %q is not a dotted lower-case name like assess.resource", j.Kind)
	case j.Key == "":
		return fmt.Errorf("job of kind %s has no key", j.Kind)
	case len(j.Key) > 512:
		return fmt.Errorf("job key of kind %s is %d bytes long, more than 512", j.Kind, len(j.Key))
	}
	return nil
}

// ValidKinds checks the kinds a worker asks for.
func ValidKinds(kinds []string) error {
	if len(kinds) == 0 {
		return errors.New("no job kinds to work on")
	}
	for _, k := range kinds {
		if !kindPattern.MatchString(k) {
			return fmt.Errorf("job kind %q is not a dotted lower-case name like assess.resource", k)
		}
	}
	return nil
}

// permanent marks an error that retrying will not cure.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as one that retrying will not cure (the job is malformed, or names
// something that no longer exists): the queue sets the job aside as dead at once instead of
// trying again. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Backoff returns how long to wait before delivering a job again after its attempt-th
// delivery failed: 2 seconds, doubling each time up to 5 minutes, less up to a fifth at
// random so that jobs that failed together do not come back together.
func Backoff(attempt int) time.Duration {
	d := 5 * time.Minute
	if attempt >= 1 && attempt < 9 {
		d = min(d, time.Second<<attempt)
	}
	return d - time.Duration(rand.Int64N(int64(d/5)))
}

// ErrInterrupted marks a job whose handler was stopped because its worker is stopping; the
// backends hand such a job out again at once, without a back-off.
var ErrInterrupted = errors.New("interrupted: the worker stopped")

// Interrupted reports whether err is, or wraps, ErrInterrupted.
func Interrupted(err error) bool { return errors.Is(err, ErrInterrupted) }

// Call runs h on j for a backend: a panic becomes an error, so that one bad job does not
// take the worker down, and an error returned once ctx is done is marked ErrInterrupted.
func Call(ctx context.Context, h Handler, j Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	err = h(ctx, j)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ErrInterrupted, err)
	}
	return err
}

// Slots bounds how many handlers a backend's worker runs at once: one slot per handler.
type Slots chan struct{}

// NewSlots returns n slots, all free.
func NewSlots(n int) Slots { return make(Slots, n) }

// Take waits for a free slot, then takes the others that are free, up to most in all, and
// returns how many it took: 0 once ctx has ended. A worker asks its backend for that many jobs.
func (s Slots) Take(ctx context.Context, most int) int {
	select {
	case s <- struct{}{}:
	case <-ctx.Done():
		return 0
	}
	n := 1
	for n < most {
		select {
		case s <- struct{}{}:
			n++
		default:
			return n
		}
	}
	return n
}

// Release frees n slots.
func (s Slots) Release(n int) {
	for range n {
		<-s
	}
}
