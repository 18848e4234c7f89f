package auth

import (
	"context"

	"github.com/khien-vn/khien/internal/assurance"
	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/gate"
	"github.com/khien-vn/khien/internal/index"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/report"
)

// Assurance is assurance.Service as the principal of each call's context may use it: the
// index and scorecards need index:read, gate decisions gate:read and gate:decide, attestations
// and incidents controls:read and controls:write, each within the principal's subtree. Objects
// outside it answer as missing ones do; naming an organization or system outside it in a body
// is forbidden. Changes are recorded in the audit log after they succeed.
type Assurance struct {
	svc *assurance.Service
	inv *Inventory // its scope helpers, and its audit log
}

// Assurance wraps svc.
func (s *Service) Assurance(svc *assurance.Service, inv *inventory.Service) *Assurance {
	return &Assurance{svc: svc, inv: s.Inventory(inv)}
}

// org returns the principal if it may take a and org exists within its subtree.
func (s *Assurance) org(ctx context.Context, a Action, code string) (Principal, error) {
	p, err := s.inv.may(ctx, a)
	if err != nil {
		return p, err
	}
	if _, err := s.inv.inv.Org(ctx, code); err != nil {
		return p, err
	}
	return p, s.inv.hide(ctx, p, code, orgNotFound(code))
}

// Index returns the index of an organization of the principal's subtree now.
func (s *Assurance) Index(ctx context.Context, org string) (assurance.Answer, error) {
	if _, err := s.org(ctx, IndexRead, org); err != nil {
		return assurance.Answer{}, err
	}
	return s.svc.Index(ctx, org)
}

// IndexAt returns the stored index of a day, recomputed and verified.
func (s *Assurance) IndexAt(ctx context.Context, org, day string) (assurance.Answer, error) {
	if _, err := s.org(ctx, IndexRead, org); err != nil {
		return assurance.Answer{}, err
	}
	return s.svc.IndexAt(ctx, org, day)
}

// History returns the stored daily figures of an organization.
func (s *Assurance) History(ctx context.Context, org, from, to string) ([]assurance.HistoryPoint, error) {
	if _, err := s.org(ctx, IndexRead, org); err != nil {
		return nil, err
	}
	return s.svc.History(ctx, org, from, to)
}

// Methods returns the index methods.
func (s *Assurance) Methods(ctx context.Context) ([]index.Method, error) {
	if _, err := s.inv.may(ctx, IndexRead); err != nil {
		return nil, err
	}
	return s.svc.Methods(ctx)
}

// Scorecard builds the scorecard of an organization of the principal's subtree.
func (s *Assurance) Scorecard(ctx context.Context, org string, year int) (report.Scorecard, error) {
	if _, err := s.org(ctx, IndexRead, org); err != nil {
		return report.Scorecard{}, err
	}
	return s.svc.Scorecard(ctx, org, year)
}

// Decide asks the gate about a system of the principal's subtree and records the decision.
func (s *Assurance) Decide(ctx context.Context, system string, stage inventory.Stage) (assurance.DecisionRecord, error) {
	p, err := s.inv.may(ctx, GateDecide)
	if err != nil {
		return assurance.DecisionRecord{}, err
	}
	if err := s.inv.mayUseSystem(ctx, p, GateDecide, system); err != nil {
		return assurance.DecisionRecord{}, err
	}
	return s.svc.Decide(ctx, system, stage, p.Login)
}

// Decisions lists the latest gate decisions of a system of the principal's subtree.
func (s *Assurance) Decisions(ctx context.Context, system string) ([]assurance.DecisionRecord, error) {
	p, err := s.inv.may(ctx, GateRead)
	if err != nil {
		return nil, err
	}
	if _, err := s.inv.system(ctx, p, system); err != nil {
		return nil, err
	}
	return s.svc.Decisions(ctx, system, 20)
}

// AddException records a gate exception for a system of the principal's subtree.
func (s *Assurance) AddException(ctx context.Context, x gate.Exception) (gate.Exception, error) {
	p, err := s.inv.may(ctx, GateDecide)
	if err != nil {
		return x, err
	}
	if err := s.inv.mayUseSystem(ctx, p, GateDecide, x.System); err != nil {
		return x, err
	}
	x, err = s.svc.AddException(ctx, x)
	if err != nil {
		return x, err
	}
	sys, _ := s.inv.inv.System(ctx, x.System)
	return x, s.inv.record(ctx, audit.Record{Action: "gate_exception.create", ObjectType: "gate_exception", ObjectID: x.ID, Org: sys.Org, After: x})
}

// Declare records an attestation about an organization or system of the principal's subtree.
func (s *Assurance) Declare(ctx context.Context, a control.Attestation, files []assurance.File) (control.Attestation, error) {
	p, err := s.inv.may(ctx, ControlsWrite)
	if err != nil {
		return a, err
	}
	org := a.Org
	if a.System != "" {
		if err := s.inv.mayUseSystem(ctx, p, ControlsWrite, a.System); err != nil {
			return a, err
		}
		if sys, err := s.inv.inv.System(ctx, a.System); err == nil {
			org = sys.Org
		}
	} else if err := s.inv.mayUse(ctx, p, ControlsWrite, "org", a.Org); err != nil {
		return a, err
	}
	a, err = s.svc.Declare(ctx, a, files)
	if err != nil {
		return a, err
	}
	return a, s.inv.record(ctx, audit.Record{Action: "attestation.declare", ObjectType: "attestation", ObjectID: a.ID, Org: org, After: a})
}

// attestationOrg returns the organization an attestation is about.
func (s *Assurance) attestationOrg(ctx context.Context, a control.Attestation) string {
	if a.System != "" {
		if sys, err := s.inv.inv.System(ctx, a.System); err == nil {
			return sys.Org
		}
		return ""
	}
	return a.Org
}

// Review records the review of an attestation of the principal's subtree.
func (s *Assurance) Review(ctx context.Context, id string, r control.Review) (control.Attestation, error) {
	p, err := s.inv.may(ctx, ControlsWrite)
	if err != nil {
		return control.Attestation{}, err
	}
	a, err := s.svc.Attestation(ctx, id)
	if err != nil {
		return a, err
	}
	org := s.attestationOrg(ctx, a)
	if err := s.inv.hide(ctx, p, org, errs.E(errs.NotFound, "attestation %q not found", id)); err != nil {
		return control.Attestation{}, err
	}
	a, err = s.svc.Review(ctx, id, r)
	if err != nil {
		return a, err
	}
	return a, s.inv.record(ctx, audit.Record{Action: "attestation.review", ObjectType: "attestation", ObjectID: id, Org: org, After: a.Review})
}

// Attestations lists the attestations of an organization or system of the principal's
// subtree, or all of its subtree when both are empty.
func (s *Assurance) Attestations(ctx context.Context, org, system string) ([]control.Attestation, error) {
	p, err := s.inv.may(ctx, ControlsRead)
	if err != nil {
		return nil, err
	}
	switch {
	case system != "":
		if _, err := s.inv.system(ctx, p, system); err != nil {
			return nil, err
		}
	case org != "":
		if _, err := s.org(ctx, ControlsRead, org); err != nil {
			return nil, err
		}
	}
	all, err := s.svc.Attestations(ctx, org, system)
	if err != nil {
		return nil, err
	}
	return s.within(ctx, p, all, func(a control.Attestation) string { return s.attestationOrg(ctx, a) })
}

// within keeps the items whose organization lies in p's scope.
func (s *Assurance) within(ctx context.Context, p Principal, all []control.Attestation, orgOf func(control.Attestation) string) ([]control.Attestation, error) {
	out := []control.Attestation{}
	for _, a := range all {
		ok, err := s.inv.pol.Within(ctx, p.Scope, orgOf(a))
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// ReportIncident records an incident of an organization of the principal's subtree.
func (s *Assurance) ReportIncident(ctx context.Context, i index.Incident) (index.Incident, error) {
	p, err := s.inv.may(ctx, ControlsWrite)
	if err != nil {
		return i, err
	}
	if err := s.inv.mayUse(ctx, p, ControlsWrite, "org", i.Org); err != nil {
		return i, err
	}
	if i.System != "" {
		if err := s.inv.mayUseSystem(ctx, p, ControlsWrite, i.System); err != nil {
			return i, err
		}
	}
	i, err = s.svc.ReportIncident(ctx, i)
	if err != nil {
		return i, err
	}
	return i, s.inv.record(ctx, audit.Record{Action: "incident.report", ObjectType: "incident", ObjectID: i.ID, Org: i.Org, After: i})
}

// Incidents lists the incidents of the principal's subtree (of org's, when given).
func (s *Assurance) Incidents(ctx context.Context, org string) ([]index.Incident, error) {
	p, err := s.inv.may(ctx, ControlsRead)
	if err != nil {
		return nil, err
	}
	under, ok, err := s.inv.pol.narrow(ctx, p, org)
	if err != nil || !ok {
		return []index.Incident{}, err
	}
	all, err := s.svc.Incidents(ctx)
	if err != nil {
		return nil, err
	}
	out := []index.Incident{}
	for _, i := range all {
		in, err := s.inv.pol.Within(ctx, under, i.Org)
		if err != nil {
			return nil, err
		}
		if in {
			out = append(out, i)
		}
	}
	return out, nil
}
