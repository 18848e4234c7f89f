// Package assess runs the check families over inventory resources: every family goes through
// the scope guard (authority by scope status, reach by fence and resource), many resources
// are assessed at once while each target address keeps to its politeness budget, and the
// results come back per resource for the caller to print or store as findings.
//
// The Scanner does the looking. The Service assesses resources in scope on demand, records
// each run with all its results through the Store, which folds them into findings with the
// lifecycle of package finding, and answers questions about findings (filters, history,
// what changed between two runs). The Scheduler assesses each resource again when NextDue
// says, from its system's security level and its findings, under a lease so that servers
// sharing a database never assess one resource twice in one slot; with a queue it enqueues a
// job per due resource instead, which Service.HandleJob runs in a worker under the slot's run
// id, so that a job delivered twice is recorded once.
package assess

import (
	"context"
	"sync"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/scope"
)

// Scanner assesses resources with a fixed list of families.
type Scanner struct {
	Guard    *scope.Guard
	Families []check.Runner
	// Env is the base environment: Now, Timeout, Roots and UserAgent. Dial and Resolver are
	// always replaced by the guard's.
	Env check.Env
	// Concurrency is how many resources are assessed at once (default 64). Politeness per
	// target address is the guard's budget, not this.
	Concurrency int
}

// ScanOne assesses one resource with every family that applies to it. A family the resource's
// scope does not authorize reports every check as an error saying so: not assessed is not
// passed.
func (s *Scanner) ScanOne(ctx context.Context, r inventory.Resource) []check.Result {
	var (
		mu  sync.Mutex
		out []check.Result
		wg  sync.WaitGroup
	)
	for _, f := range s.Families {
		if !f.AppliesTo(r) {
			continue
		}
		level := scope.Passive
		if f.IsActive() {
			level = scope.Active
		}
		env, err := s.Guard.Env(r, level, s.Env)
		if err != nil {
			res := refused(s.Env, r, f, err)
			mu.Lock()
			out = append(out, res...)
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := f.Run(ctx, r, env)
			mu.Lock()
			out = append(out, res...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sortResults(out, s.Families)
	return out
}

// refused reports each check of f as an error carrying the guard's refusal.
func refused(env check.Env, r inventory.Resource, f check.Runner, err error) []check.Result {
	msg, _ := errs.Message(err)
	now := env.Now
	var res []check.Result
	for _, id := range f.CheckIDs() {
		res = append(res, check.Result{
			Check: id, Resource: r.ID, Endpoint: r.ID, Status: check.Error,
			Reason: check.Text{
				VI: "Không đánh giá vì ngoài phạm vi được phép: " + msg,
				EN: "not assessed, outside the authorized scope: " + msg,
			},
			Evidence: map[string]any{"out_of_scope": msg, "scope": string(r.Scope)},
			At:       nowUTC(now),
		})
	}
	return res
}

// Scan assesses resources Concurrency at a time and calls emit once per resource, from one
// goroutine at a time, in completion order. It returns when all are done or ctx ends.
func (s *Scanner) Scan(ctx context.Context, rs []inventory.Resource, emit func(inventory.Resource, []check.Result)) error {
	n := s.Concurrency
	if n <= 0 {
		n = 64
	}
	work := make(chan inventory.Resource)
	var emitMu sync.Mutex
	var wg sync.WaitGroup
	for range min(n, max(len(rs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				res := s.ScanOne(ctx, r)
				emitMu.Lock()
				emit(r, res)
				emitMu.Unlock()
			}
		}()
	}
	var err error
feed:
	for _, r := range rs {
		select {
		case work <- r:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(work)
	wg.Wait()
	return err
}
