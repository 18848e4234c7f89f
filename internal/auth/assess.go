package auth

import (
	"context"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/finding"
	"github.com/khien-vn/khien/internal/inventory"
)

// Assess is assess.Service as the principal of each call's context may use it: assessing
// needs scan:run, reading findings and runs findings:read, accepting a risk findings:write,
// each only within the principal's subtree. A risk acceptance is recorded in the audit log.
// Its methods have the signatures of assess.Service's, so the web handlers take either.
type Assess struct {
	svc *assess.Service
	inv *Inventory // for the organization of resources and systems, and the audit log
}

// Assess wraps svc.
func (s *Service) Assess(svc *assess.Service, inv *inventory.Service) *Assess {
	return &Assess{svc: svc, inv: s.Inventory(inv)}
}

func findingNotFound(fp string) error { return errs.E(errs.NotFound, "finding %q not found", fp) }
func runNotFound(id string) error     { return errs.E(errs.NotFound, "run %q not found", id) }

// resourceIn returns notFound unless resource id exists within p's scope. A resource that
// no longer exists is within the whole tree's scope only.
func (s *Assess) resourceIn(ctx context.Context, p Principal, id string, notFound error) error {
	_, _, err := s.inv.resource(ctx, p, id)
	switch {
	case errs.Is(err, errs.NotFound) && p.Scope == "":
		return nil
	case errs.Is(err, errs.NotFound):
		return notFound
	}
	return err
}

// systemIn is resourceIn for a system.
func (s *Assess) systemIn(ctx context.Context, p Principal, id string, notFound error) error {
	sys, err := s.inv.inv.System(ctx, id)
	switch {
	case errs.Is(err, errs.NotFound) && p.Scope == "":
		return nil
	case errs.Is(err, errs.NotFound):
		return notFound
	case err != nil:
		return err
	}
	return s.inv.hide(ctx, p, sys.Org, notFound)
}

// AssessResource assesses one resource of the principal's subtree.
func (s *Assess) AssessResource(ctx context.Context, id string, trigger assess.Trigger) (assess.RunSummary, error) {
	p, err := s.inv.may(ctx, ScanRun)
	if err != nil {
		return assess.RunSummary{}, err
	}
	if _, _, err := s.inv.resource(ctx, p, id); err != nil {
		return assess.RunSummary{}, err
	}
	return s.svc.AssessResource(ctx, id, trigger)
}

// AssessSystem assesses a system of the principal's subtree.
func (s *Assess) AssessSystem(ctx context.Context, id string, trigger assess.Trigger) ([]assess.Outcome, error) {
	p, err := s.inv.may(ctx, ScanRun)
	if err != nil {
		return nil, err
	}
	sys, err := s.inv.inv.System(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.inv.hide(ctx, p, sys.Org, systemNotFound(id)); err != nil {
		return nil, err
	}
	return s.svc.AssessSystem(ctx, id, trigger)
}

// AssessOrg assesses an organization of the principal's subtree and everything below it.
func (s *Assess) AssessOrg(ctx context.Context, code string, trigger assess.Trigger) ([]assess.Outcome, error) {
	p, err := s.inv.may(ctx, ScanRun)
	if err != nil {
		return nil, err
	}
	if _, err := s.inv.inv.Org(ctx, code); err != nil {
		return nil, err
	}
	if err := s.inv.hide(ctx, p, code, orgNotFound(code)); err != nil {
		return nil, err
	}
	return s.svc.AssessOrg(ctx, code, trigger)
}

// Findings lists the findings of the principal's subtree that f selects.
func (s *Assess) Findings(ctx context.Context, f assess.FindingFilter) ([]finding.Finding, int, error) {
	return narrowed(ctx, s.inv, FindingsRead, f.Under, func(under string) ([]finding.Finding, int, error) {
		f.Under = under
		return s.svc.Findings(ctx, f)
	})
}

// Finding returns one finding of the principal's subtree.
func (s *Assess) Finding(ctx context.Context, fp string) (finding.Finding, error) {
	p, err := s.inv.may(ctx, FindingsRead)
	if err != nil {
		return finding.Finding{}, err
	}
	return s.finding(ctx, p, fp)
}

func (s *Assess) finding(ctx context.Context, p Principal, fp string) (finding.Finding, error) {
	f, err := s.svc.Finding(ctx, fp)
	if err != nil {
		return finding.Finding{}, err
	}
	if err := s.resourceIn(ctx, p, f.Resource, findingNotFound(fp)); err != nil {
		return finding.Finding{}, err
	}
	return f, nil
}

// FindingHistory returns the history of a finding of the principal's subtree.
func (s *Assess) FindingHistory(ctx context.Context, fp string) ([]assess.Event, error) {
	p, err := s.inv.may(ctx, FindingsRead)
	if err != nil {
		return nil, err
	}
	if _, err := s.finding(ctx, p, fp); err != nil {
		return nil, err
	}
	return s.svc.FindingHistory(ctx, fp)
}

// Accept accepts the risk of a finding of the principal's subtree, and records it.
func (s *Assess) Accept(ctx context.Context, fp, approver, reason string, expires time.Time) (finding.Finding, error) {
	p, err := s.inv.may(ctx, FindingsWrite)
	if err != nil {
		return finding.Finding{}, err
	}
	old, err := s.finding(ctx, p, fp)
	if err != nil {
		return finding.Finding{}, err
	}
	f, err := s.svc.Accept(ctx, fp, approver, reason, expires)
	if err != nil {
		return finding.Finding{}, err
	}
	return f, s.inv.record(ctx, audit.Record{Action: "finding.accept", ObjectType: "finding", ObjectID: fp,
		Org: s.inv.orgOfResource(ctx, f.Resource), Before: findingRecord(old), After: findingRecord(f)})
}

// orgOfResource is the organization of a resource, or "" when it cannot be read.
func (s *Inventory) orgOfResource(ctx context.Context, id string) string {
	r, err := s.inv.Resource(ctx, id)
	if err != nil {
		return ""
	}
	return s.orgOf(ctx, r.System)
}

func findingRecord(f finding.Finding) map[string]any {
	m := map[string]any{"fingerprint": f.Fingerprint, "check": f.Check, "resource": f.Resource,
		"endpoint": f.Endpoint, "status": f.Status}
	if a := f.Acceptance; a != nil {
		m["acceptance"] = map[string]any{"by": a.By, "reason": a.Reason, "expires": a.Expires.UTC().Format(time.RFC3339)}
	}
	return m
}

// Run returns a run of a resource of the principal's subtree.
func (s *Assess) Run(ctx context.Context, id string) (assess.RunSummary, error) {
	p, err := s.inv.may(ctx, FindingsRead)
	if err != nil {
		return assess.RunSummary{}, err
	}
	return s.run(ctx, p, id)
}

func (s *Assess) run(ctx context.Context, p Principal, id string) (assess.RunSummary, error) {
	run, err := s.svc.Run(ctx, id)
	if err != nil {
		return assess.RunSummary{}, err
	}
	if err := s.systemIn(ctx, p, run.System, runNotFound(id)); err != nil {
		return assess.RunSummary{}, err
	}
	return run, nil
}

// Runs returns the latest runs of a resource of the principal's subtree.
func (s *Assess) Runs(ctx context.Context, id string, limit int) ([]assess.RunSummary, error) {
	p, err := s.inv.may(ctx, FindingsRead)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.inv.resource(ctx, p, id); err != nil {
		return nil, err
	}
	return s.svc.Runs(ctx, id, limit)
}

// RunResults returns the results of a run of the principal's subtree.
func (s *Assess) RunResults(ctx context.Context, id string) ([]check.Result, error) {
	p, err := s.inv.may(ctx, FindingsRead)
	if err != nil {
		return nil, err
	}
	if _, err := s.run(ctx, p, id); err != nil {
		return nil, err
	}
	return s.svc.RunResults(ctx, id)
}

// Diff compares findings of a resource, system or subtree of the principal's subtree; with
// none named, the principal's whole subtree. Runs named as ends must be of the subtree too.
func (s *Assess) Diff(ctx context.Context, q assess.DiffQuery) (assess.Diff, error) {
	p, err := s.inv.may(ctx, FindingsRead)
	if err != nil {
		return assess.Diff{}, err
	}
	if q.Resource != "" {
		if _, _, err := s.inv.resource(ctx, p, q.Resource); err != nil {
			return assess.Diff{}, err
		}
	}
	if q.System != "" {
		if err := s.systemIn(ctx, p, q.System, systemNotFound(q.System)); err != nil {
			return assess.Diff{}, err
		}
	}
	if q.Under != "" {
		if err := s.inv.hide(ctx, p, q.Under, orgNotFound(q.Under)); err != nil {
			return assess.Diff{}, err
		}
	}
	if q.Resource == "" && q.System == "" && q.Under == "" {
		q.Under = p.Scope
	}
	for _, id := range []string{q.FromRun, q.ToRun} {
		if id == "" {
			continue
		}
		if _, err := s.run(ctx, p, id); err != nil {
			return assess.Diff{}, err
		}
	}
	return s.svc.Diff(ctx, q)
}
