package auth

import (
	"context"
	"errors"
	"slices"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// Tree looks organizations up; inventory.Store and inventory.Service are Trees.
type Tree interface {
	Org(ctx context.Context, code string) (inventory.Organization, error)
}

// Policy decides access: a principal may take an action on an organization when its role
// has the action and the organization is its scope or below it. It is the only place where
// that is decided; the scoped services ask it.
type Policy struct {
	tree Tree
}

// NewPolicy returns the policy over tree.
func NewPolicy(tree Tree) *Policy { return &Policy{tree: tree} }

// Can returns nil when p may take action a on org, and an error of kind Forbidden that says
// why not otherwise. An empty org is the platform itself (a platform-wide object): only a
// principal without scope may act on it. An organization that does not exist is outside
// every scope but the whole tree's.
func (pol *Policy) Can(ctx context.Context, p Principal, a Action, org string) error {
	if !p.Has(a) {
		return errs.E(errs.Forbidden, "your role (%s) does not allow %s", p.roleName(), a)
	}
	ok, err := pol.Within(ctx, p.Scope, org)
	switch {
	case err != nil:
		return err
	case ok:
		return nil
	case org == "":
		return errs.E(errs.Forbidden, "%s needs access to the whole platform; your scope is %s", a, p.ScopeName())
	}
	return errs.E(errs.Forbidden, "organization %q is not within your scope (%s)", org, p.ScopeName())
}

// Within reports whether org is scope or one of its descendants. The empty scope holds every
// organization; an empty or unknown org is within no other scope.
func (pol *Policy) Within(ctx context.Context, scope, org string) (bool, error) {
	if scope == "" {
		return true, nil
	}
	if org == "" {
		return false, nil
	}
	path, err := pol.Path(ctx, org)
	if errs.Is(err, errs.NotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return slices.Contains(path, scope), nil
}

// Path returns the organizations from the root of org's tree down to org.
func (pol *Policy) Path(ctx context.Context, org string) ([]string, error) {
	return audit.Path(ctx, pol.tree, org)
}

// roleName names p's role for messages; an API token is named as one.
func (p Principal) roleName() string {
	if p.Kind == KindToken {
		return "API token of " + string(p.Role) + " " + p.Login
	}
	return string(p.Role)
}

// need returns the principal of ctx, or an error of kind Unauthenticated.
func need(ctx context.Context) (Principal, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return Principal{}, errUnauthenticated
	}
	return p, nil
}

var errUnauthenticated = errs.E(errs.Unauthenticated, "sign in first, or send an API token as Authorization: Bearer khien_…")

// narrow returns the subtree a listing may cover: the one asked for if it lies within the
// principal's scope, the scope when none was asked for, and ok false when the one asked for
// lies outside (the listing is then empty).
func (pol *Policy) narrow(ctx context.Context, p Principal, asked string) (under string, ok bool, err error) {
	if asked == "" {
		return p.Scope, true, nil
	}
	in, err := pol.Within(ctx, p.Scope, asked)
	return asked, in, err
}

// forbiddenField returns err naming field when err is a Forbidden error, and err otherwise.
func forbiddenField(err error, field string) error {
	if e, ok := errors.AsType[*errs.Error](err); ok && e.Kind == errs.Forbidden {
		c := *e
		c.Field = field
		return &c
	}
	return err
}
