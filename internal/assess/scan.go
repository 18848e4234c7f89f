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
	"maps"
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
	base := s.Env
	if base.Memo == nil {
		base.Memo = new(check.Memo)
	}
	return s.scanOne(ctx, r, base)
}

// scanOne assesses r with base as the families' environment, to which it adds the web
// transports every web family of r shares (their keep-alive connections, and the pauses a
// server asks for): a host costs a couple of HTTP connections, not a few per family.
func (s *Scanner) scanOne(ctx context.Context, r inventory.Resource, base check.Env) []check.Result {
	// Politeness waits inside any family's operation end with the scan, not with the
	// operation's own time-out.
	ctx = scope.WithScan(ctx)
	var web *scope.Web
	if base.Web == nil {
		if w, err := s.Guard.Web(r, base.Timeout); err == nil {
			web, base.Web = w, w
			defer w.Close()
		}
	}
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
		if activeFor(f, r) {
			level = scope.Active
		}
		env, err := s.Guard.Env(r, level, base)
		if err != nil {
			res := refused(base, r, f, err)
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
	if web != nil {
		if ths := web.Throttles(); len(ths) > 0 {
			// A server asked Khiên to slow down: every verdict of the resource says so, so a
			// person reading one sees why the scan took longer (and what the server answered).
			for i := range out {
				ev := maps.Clone(out[i].Evidence)
				if ev == nil {
					ev = map[string]any{}
				}
				ev["throttled"] = ths
				out[i].Evidence = ev
			}
		}
	}
	sortResults(out, s.Families)
	return out
}

// resourceLevel is implemented by a family whose authority depends on the resource: the
// data-security family probes databases (active) but reads file locations under the
// operator's data roots (passive).
type resourceLevel interface {
	ActiveFor(inventory.Resource) bool
}

// activeFor reports whether f needs active authority over r.
func activeFor(f check.Runner, r inventory.Resource) bool {
	if rl, ok := f.(resourceLevel); ok {
		return rl.ActiveFor(r)
	}
	return f.IsActive()
}

// refused reports each check of f as an error carrying the guard's refusal.
func refused(env check.Env, r inventory.Resource, f check.Runner, err error) []check.Result {
	msg, _ := errs.Message(err)
	why := check.DescribeError(err)
	now := env.Now
	var res []check.Result
	for _, id := range f.CheckIDs() {
		res = append(res, check.Result{
			Check: id, Resource: r.ID, Endpoint: r.ID, Status: check.Error,
			Reason: check.Text{
				VI: "Không đánh giá vì ngoài phạm vi được phép: " + why.VI,
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
	// One memo for the whole scan: resources that share a zone's name servers ask them once.
	base := s.Env
	if base.Memo == nil {
		base.Memo = new(check.Memo)
	}
	work := make(chan inventory.Resource)
	var emitMu sync.Mutex
	var wg sync.WaitGroup
	for range min(n, max(len(rs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				res := s.scanOne(ctx, r, base)
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
