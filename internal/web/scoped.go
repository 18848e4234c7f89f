package web

import (
	"context"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/finding"
	"github.com/khien-vn/khien/internal/inventory"
)

// inventoryAPI is what the inventory handlers call. addRoutes gives them auth.Inventory,
// which checks every call against the principal of the request: the handlers never reach
// inventory.Service itself, which has the same methods.
type inventoryAPI interface {
	Org(ctx context.Context, code string) (inventory.Organization, error)
	Orgs(ctx context.Context, f inventory.OrgFilter) ([]inventory.Organization, int, error)
	CreateOrg(ctx context.Context, o inventory.Organization) (inventory.Organization, error)
	UpdateOrg(ctx context.Context, o inventory.Organization) (inventory.Organization, error)
	DeleteOrg(ctx context.Context, code string) error
	System(ctx context.Context, id string) (inventory.System, error)
	Systems(ctx context.Context, f inventory.SystemFilter) ([]inventory.System, int, error)
	CreateSystem(ctx context.Context, s inventory.System) (inventory.System, error)
	UpdateSystem(ctx context.Context, s inventory.System) (inventory.System, error)
	DeleteSystem(ctx context.Context, id string) error
	Resource(ctx context.Context, id string) (inventory.Resource, error)
	Resources(ctx context.Context, f inventory.ResourceFilter) ([]inventory.Resource, int, error)
	CreateResource(ctx context.Context, r inventory.Resource) (inventory.Resource, error)
	UpdateResource(ctx context.Context, r inventory.Resource) (inventory.Resource, error)
	DeleteResource(ctx context.Context, id string) error
	IssueChallenge(ctx context.Context, id string) (inventory.Challenge, error)
	Verify(ctx context.Context, id string, p inventory.Prover) (inventory.Resource, error)
}

// assessAPI is what the assessment handlers call: auth.Assess, with assess.Service's methods.
type assessAPI interface {
	AssessResource(ctx context.Context, id string, trigger assess.Trigger) (assess.RunSummary, error)
	AssessSystem(ctx context.Context, id string, trigger assess.Trigger) ([]assess.Outcome, error)
	AssessOrg(ctx context.Context, code string, trigger assess.Trigger) ([]assess.Outcome, error)
	Findings(ctx context.Context, f assess.FindingFilter) ([]finding.Finding, int, error)
	Finding(ctx context.Context, fingerprint string) (finding.Finding, error)
	FindingHistory(ctx context.Context, fingerprint string) ([]assess.Event, error)
	Accept(ctx context.Context, fingerprint, approver, reason string, expires time.Time) (finding.Finding, error)
	Run(ctx context.Context, id string) (assess.RunSummary, error)
	Runs(ctx context.Context, resourceID string, limit int) ([]assess.RunSummary, error)
	RunResults(ctx context.Context, runID string) ([]check.Result, error)
	Diff(ctx context.Context, q assess.DiffQuery) (assess.Diff, error)
}

// scopedInventory is d.Inventory as each request's principal may use it. It is nil only
// when addRoutes is called without Auth, to list the routes.
func scopedInventory(d Deps) inventoryAPI {
	if d.Auth == nil {
		return nil
	}
	return d.Auth.Inventory(d.Inventory)
}

// scopedAssess is d.Assess as each request's principal may use it, or nil (the routes then
// answer 503) when assessment is not configured.
func scopedAssess(d Deps) assessAPI {
	if d.Auth == nil || d.Assess == nil {
		return nil
	}
	return d.Auth.Assess(d.Assess, d.Inventory)
}
