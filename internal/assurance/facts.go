package assurance

import (
	"context"
	"slices"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/finding"
	"github.com/khien-vn/khien/internal/gate"
	"github.com/khien-vn/khien/internal/index"
	"github.com/khien-vn/khien/internal/inventory"
)

// Input builds the index's Input from the stores as they stood at asOf: the inventory
// (organizations, systems and resources created by then), each resource's last assessment
// (the end of the latest complete run at or before asOf) with the passing checks of that run
// by severity and its cadence, the failing findings first seen by then, the control catalog,
// and every attestation, incident, request and removal (index.Compute masks those dated
// later).
func (s *Service) Input(ctx context.Context, asOf time.Time) (index.Input, error) {
	asOf = asOf.UTC()
	inv, err := s.inv.Snapshot(ctx)
	if err != nil {
		return index.Input{}, err
	}
	in := index.Input{Orgs: []index.Org{}, Systems: []index.System{}, Resources: []index.Resource{}, Findings: []index.Finding{},
		Controls: slices.Clone(s.controls)}
	for _, o := range inv.Orgs {
		if !o.Created.After(asOf) {
			in.Orgs = append(in.Orgs, index.Org{Code: o.Code, Name: o.Name, Parent: o.Parent})
		}
	}
	for _, sy := range inv.Systems {
		if !sy.Created.After(asOf) {
			in.Systems = append(in.Systems, indexSystem(sy))
		}
	}
	for _, r := range inv.Resources {
		if r.Created.After(asOf) {
			continue
		}
		ir := index.Resource{ID: r.ID, System: r.System}
		last, run, err := s.lastAssessed(ctx, r.ID, asOf)
		if err != nil {
			return index.Input{}, err
		}
		if !last.IsZero() {
			ir.LastAssessed = last
			results, err := s.assess.RunResults(ctx, run)
			if err != nil {
				return index.Input{}, err
			}
			for _, res := range results {
				if res.Status != check.Pass {
					continue
				}
				if def, ok := s.checks.Def(res.Check); ok {
					addTally(&ir.Passing, def.Severity)
				}
			}
		}
		switch sc, err := s.assess.Schedule(ctx, r.ID); {
		case err == nil:
			ir.Cadence = sc.Cadence
		case !errs.Is(err, errs.NotFound):
			return index.Input{}, err
		}
		in.Resources = append(in.Resources, ir)
	}
	fs, err := s.findings(ctx, assess.FindingFilter{At: asOf})
	if err != nil {
		return index.Input{}, err
	}
	for _, f := range fs {
		if f.FirstSeen.After(asOf) {
			continue
		}
		if x, ok := index.FromFinding(f); ok {
			in.Findings = append(in.Findings, x)
		}
	}
	if in.Attestations, err = s.store.Attestations(ctx, "", ""); err != nil {
		return index.Input{}, err
	}
	if in.Incidents, err = s.store.Incidents(ctx); err != nil {
		return index.Input{}, err
	}
	if in.Requests, err = s.store.Requests(ctx); err != nil {
		return index.Input{}, err
	}
	if in.Removed, err = s.store.Removals(ctx); err != nil {
		return index.Input{}, err
	}
	return in, nil
}

func indexSystem(sy inventory.System) index.System {
	return index.System{ID: sy.ID, Org: sy.Org, Name: sy.Name, Level: sy.Level, Stage: sy.Stage,
		LevelApproved: sy.LevelApproved, DataClasses: sy.DataClasses}
}

func addTally(t *index.Tally, sev check.Severity) {
	switch sev {
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

// lastAssessed returns the end and id of the latest complete run of resource at or before
// asOf; zero when there is none. A run that reached nothing observed nothing.
func (s *Service) lastAssessed(ctx context.Context, resource string, asOf time.Time) (time.Time, string, error) {
	runs, err := s.assess.Runs(ctx, resource, 1000)
	if err != nil {
		return time.Time{}, "", err
	}
	for _, r := range runs { // newest first
		if r.Status == assess.RunComplete && !r.Finished.After(asOf) {
			return r.Finished.UTC(), r.ID, nil
		}
	}
	return time.Time{}, "", nil
}

// findings returns every finding f selects, page by page.
func (s *Service) findings(ctx context.Context, f assess.FindingFilter) ([]finding.Finding, error) {
	var out []finding.Finding
	f.Limit = 1000
	for f.Offset = 0; ; f.Offset += f.Limit {
		page, total, err := s.assess.Findings(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) == 0 || f.Offset+len(page) >= total {
			return out, nil
		}
	}
}

// gateFacts builds what the gate reads about sys at asOf.
func (s *Service) gateFacts(ctx context.Context, sys inventory.System, asOf time.Time) (gate.Facts, error) {
	f := gate.Facts{Controls: s.controls}
	rf := inventory.ResourceFilter{System: sys.ID, Page: inventory.Page{Limit: 1000}}
	for {
		rs, total, err := s.inv.Resources(ctx, rf)
		if err != nil {
			return f, err
		}
		for _, r := range rs {
			at, _, err := s.lastAssessed(ctx, r.ID, asOf)
			if err != nil {
				return f, err
			}
			f.Resources = append(f.Resources, gate.Assessed{Resource: r.ID, At: at})
		}
		rf.Offset += len(rs)
		if len(rs) == 0 || rf.Offset >= total {
			break
		}
	}
	var err error
	if f.Findings, err = s.findings(ctx, assess.FindingFilter{System: sys.ID, At: asOf}); err != nil {
		return f, err
	}
	f.Attestations, err = s.store.Attestations(ctx, "", sys.ID)
	return f, err
}
