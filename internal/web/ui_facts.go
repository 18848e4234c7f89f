package web

import (
	"context"
	"slices"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/finding"
	"github.com/khien-vn/khien/internal/gate"
	"github.com/khien-vn/khien/internal/index"
	"github.com/khien-vn/khien/internal/inventory"
)

// facts is what the pages show about a subtree, read through the scoped services, so that a
// principal's pages hold nothing outside its subtree.
type facts struct {
	orgs      []inventory.Organization
	systems   []inventory.System
	resources []inventory.Resource
	findings  []finding.Finding // failing now: open, reopened, accepted
	assessed  map[string]time.Time
	input     index.Input
}

// pageSize is the page read from the services; the lists are read to the end.
const pageSize = 1000

// readAll reads every page of a listing.
func readAll[T any](list func(inventory.Page) ([]T, int, error)) ([]T, error) {
	var out []T
	for off := 0; ; off += pageSize {
		items, total, err := list(inventory.Page{Limit: pageSize, Offset: off})
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if len(items) == 0 || len(out) >= total {
			return out, nil
		}
	}
}

// loadFacts reads the subtree under (the principal's whole scope when empty) and the facts of
// the index as they stand at now.
func (p *pages) loadFacts(ctx context.Context, under string, now time.Time) (*facts, error) {
	f := &facts{assessed: map[string]time.Time{}}
	var err error
	if f.orgs, err = readAll(func(pg inventory.Page) ([]inventory.Organization, int, error) {
		return p.inv.Orgs(ctx, inventory.OrgFilter{Under: under, Page: pg})
	}); err != nil {
		return nil, err
	}
	if f.systems, err = readAll(func(pg inventory.Page) ([]inventory.System, int, error) {
		return p.inv.Systems(ctx, inventory.SystemFilter{Under: under, Page: pg})
	}); err != nil {
		return nil, err
	}
	if f.resources, err = readAll(func(pg inventory.Page) ([]inventory.Resource, int, error) {
		return p.inv.Resources(ctx, inventory.ResourceFilter{Under: under, Page: pg})
	}); err != nil {
		return nil, err
	}
	passing := map[string]index.Tally{}
	if p.as != nil {
		for _, st := range []finding.Status{finding.Open, finding.Accepted} {
			fs, err := readAll(func(pg inventory.Page) ([]finding.Finding, int, error) {
				return p.as.Findings(ctx, assess.FindingFilter{Under: under, Status: st, At: now, Page: pg})
			})
			if err != nil {
				return nil, err
			}
			f.findings = append(f.findings, fs...)
		}
		for _, r := range f.resources {
			runs, err := p.as.Runs(ctx, r.ID, 5)
			if err != nil {
				return nil, err
			}
			i := slices.IndexFunc(runs, func(s assess.RunSummary) bool { return s.Status == assess.RunComplete })
			if i < 0 {
				continue
			}
			f.assessed[r.ID] = runs[i].Finished
			results, err := p.as.RunResults(ctx, runs[i].ID)
			if err != nil {
				return nil, err
			}
			passing[r.ID] = p.tally(results)
		}
	}
	f.input = index.Input{Controls: p.controls}
	for _, o := range f.orgs {
		f.input.Orgs = append(f.input.Orgs, index.Org{Code: o.Code, Name: o.Name, Parent: o.Parent})
	}
	for _, s := range f.systems {
		f.input.Systems = append(f.input.Systems, index.System{ID: s.ID, Org: s.Org, Name: s.Name, Level: s.Level,
			Stage: s.Stage, LevelApproved: s.LevelApproved, DataClasses: s.DataClasses})
	}
	for _, r := range f.resources {
		f.input.Resources = append(f.input.Resources, index.Resource{ID: r.ID, System: r.System,
			LastAssessed: f.assessed[r.ID], Passing: passing[r.ID]})
	}
	for _, fd := range f.findings {
		if x, ok := index.FromFinding(fd); ok {
			f.input.Findings = append(f.input.Findings, x)
		}
	}
	// The parent of the subtree's root is outside it: the index reads the root as a root.
	if len(f.input.Orgs) > 0 {
		codes := map[string]bool{}
		for _, o := range f.input.Orgs {
			codes[o.Code] = true
		}
		for i := range f.input.Orgs {
			if !codes[f.input.Orgs[i].Parent] {
				f.input.Orgs[i].Parent = ""
			}
		}
	}
	return f, nil
}

// tally counts the passing results of a run by the severity of their checks.
func (p *pages) tally(results []check.Result) index.Tally {
	var t index.Tally
	for _, r := range results {
		if r.Status != check.Pass {
			continue
		}
		switch p.severity(r.Check) {
		case check.Critical:
			t.Critical++
		case check.High:
			t.High++
		case check.Medium:
			t.Medium++
		case check.Low:
			t.Low++
		}
	}
	return t
}

// severity is the catalog's severity of a check, or "" when the catalog does not know it.
func (p *pages) severity(id string) check.Severity {
	if p.catalog == nil {
		return ""
	}
	d, ok := p.catalog.Def(id)
	if !ok {
		return ""
	}
	return d.Severity
}

// compute is the index of the facts at t under the default method.
func (f *facts) compute(t time.Time) index.Result {
	return index.Compute(f.input, index.DefaultMethod(), t)
}

// gateStatus is whether a system may be in operation under the default policy: "open",
// "blocked", or "notyet" for a system before its test stage.
func (f *facts) gateStatus(sys inventory.System, controls []control.Control, now time.Time) string {
	if sys.Stage != inventory.StageTest && sys.Stage != inventory.StageOperation {
		return "notyet"
	}
	var gf gate.Facts
	gf.Controls = controls
	for _, r := range f.resources {
		if r.System == sys.ID {
			gf.Resources = append(gf.Resources, gate.Assessed{Resource: r.ID, At: f.assessed[r.ID]})
		}
	}
	sysRes := map[string]bool{}
	for _, r := range gf.Resources {
		sysRes[r.Resource] = true
	}
	for _, fd := range f.findings {
		if sysRes[fd.Resource] {
			gf.Findings = append(gf.Findings, fd)
		}
	}
	if gate.Decide(sys, inventory.StageOperation, gf, gate.DefaultPolicy(), nil, now).Allowed {
		return "open"
	}
	return "blocked"
}
