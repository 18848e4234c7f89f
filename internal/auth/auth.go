// Package auth says who is asking and what they may do. It holds the local accounts
// (argon2id passwords, a TOTP second factor required of administrators), the sessions of
// signed-in users, the API tokens of pipelines, sign-in throttling, and the one place where
// access is decided: Policy, which answers whether a principal may take an action on an
// organization from the role's actions and the organization tree.
//
// Every role but the platform administrator's is scoped to one organization and sees only
// its subtree. The services the web server calls are wrapped here (Inventory, and the user,
// token and audit methods of Service), so that the rule is enforced in the service layer,
// once, whichever route or page asks:
//
//   - an object outside the caller's subtree is reported as not found, with the message a
//     missing one gets, so that its existence does not leak;
//   - naming an organization or system outside the subtree in a request body (a parent, an
//     owner, a new home) is forbidden, whether or not it exists;
//   - an action the caller's role lacks is forbidden;
//   - listings are narrowed to the subtree; asking for a subtree outside it gives nothing.
//
// Every change made through these services is appended to the audit log.
package auth

import (
	"context"
	"slices"

	"github.com/khien-vn/khien/internal/audit"
)

// Role is what a user is for; it gives the actions the user may take within their scope.
type Role string

// The roles. Only a platform administrator has no scope (the whole tree); every other role
// is scoped to an organization and its subtree.
const (
	PlatformAdmin   Role = "platform_admin"   // everything, everywhere
	OrgAdmin        Role = "org_admin"        // users, tokens, inventory, findings of the subtree
	SecurityOfficer Role = "security_officer" // inventory, findings, scans of the subtree
	Auditor         Role = "auditor"          // reads everything of the subtree, the audit log included
	Leader          Role = "leader"           // reads the index and scorecards of the subtree
)

// Roles lists the roles, most powerful first.
var Roles = []Role{PlatformAdmin, OrgAdmin, SecurityOfficer, Auditor, Leader}

// NeedsMFA reports whether the role must sign in with a second factor.
func (r Role) NeedsMFA() bool { return r == PlatformAdmin || r == OrgAdmin }

// Action is something a principal may be allowed to do, "area:verb". API tokens are granted
// a subset of their owner's actions.
type Action string

// The actions.
const (
	InventoryRead  Action = "inventory:read"
	InventoryWrite Action = "inventory:write"
	FindingsRead   Action = "findings:read"
	FindingsWrite  Action = "findings:write" // change a finding's status, accept a risk
	ScanRun        Action = "scan:run"
	ControlsRead   Action = "controls:read"
	ControlsWrite  Action = "controls:write" // attest a control
	IndexRead      Action = "index:read"     // the index and scorecards
	GateRead       Action = "gate:read"
	GateDecide     Action = "gate:decide"
	AuditRead      Action = "audit:read"
	UsersManage    Action = "users:manage" // accounts and other people's tokens in the subtree
	MetricsRead    Action = "metrics:read" // /metrics from off the machine; platform-wide
)

// Actions lists every action.
var Actions = []Action{
	InventoryRead, InventoryWrite, FindingsRead, FindingsWrite, ScanRun, ControlsRead, ControlsWrite,
	IndexRead, GateRead, GateDecide, AuditRead, UsersManage, MetricsRead,
}

// roleActions is what each role may do within its scope.
var roleActions = map[Role][]Action{
	PlatformAdmin: Actions,
	OrgAdmin: {InventoryRead, InventoryWrite, FindingsRead, FindingsWrite, ScanRun, ControlsRead, ControlsWrite,
		IndexRead, GateRead, GateDecide, AuditRead, UsersManage},
	SecurityOfficer: {InventoryRead, InventoryWrite, FindingsRead, FindingsWrite, ScanRun, ControlsRead, ControlsWrite,
		IndexRead, GateRead},
	Auditor: {InventoryRead, FindingsRead, ControlsRead, IndexRead, GateRead, AuditRead},
	// A leader's scorecard names the organizations and systems it scores.
	Leader: {InventoryRead, IndexRead, GateRead},
}

// ActionsOf returns the actions of role, nil for an unknown role.
func ActionsOf(r Role) []Action { return slices.Clone(roleActions[r]) }

// Kind is how a principal proved who it is.
type Kind string

// Kinds of principal.
const (
	KindSession Kind = "session" // a user signed in through the browser or POST /api/v1/session
	KindToken   Kind = "token"   // a pipeline with an API token
	KindLocal   Kind = "local"   // the operator at the command line, with access to the store
)

// Principal is who is asking: a user in a session, an API token, or the local operator. It
// is built per request from the stored user (and token), so a change of role, scope or a
// revocation takes effect at once.
type Principal struct {
	Kind    Kind
	UserID  string // empty for the local operator
	Login   string
	Name    string
	Role    Role
	Scope   string   // organization code; empty for the whole tree
	Actions []Action // sorted
	MFA     bool     // the user has a second factor enrolled

	TokenID   string // KindToken: the token's id
	SessionID string // KindSession: the hash of the session id, the stored key
	CSRF      string // KindSession: the session's synchronizer token
}

// Has reports whether p may take action a at all (scope aside).
func (p Principal) Has(a Action) bool { return slices.Contains(p.Actions, a) }

// Actor is the name under which p's changes are recorded in the audit log.
func (p Principal) Actor() string {
	switch p.Kind {
	case KindToken:
		return "token:" + TokenPrefix + p.TokenID + " (" + p.Login + ")"
	case KindLocal:
		return "local:" + p.Login
	}
	return "user:" + p.Login
}

// ScopeName is the scope for messages: the organization code, or "the whole platform".
func (p Principal) ScopeName() string {
	if p.Scope == "" {
		return "the whole platform"
	}
	return p.Scope
}

// Operator is the principal of the command line: whoever can run khien against the store
// can do everything, and their changes are recorded as local:name.
func Operator(name string) Principal {
	return Principal{Kind: KindLocal, Login: name, Role: PlatformAdmin, Actions: sortedActions(Actions)}
}

// UserPrincipal is the principal of u signed in (without a session).
func UserPrincipal(u User) Principal {
	return Principal{
		Kind: KindSession, UserID: u.ID, Login: u.Login, Name: u.Name, Role: u.Role, Scope: u.Org,
		Actions: sortedActions(roleActions[u.Role]), MFA: u.TOTPSecret != "",
	}
}

// principalKey is the context key of the principal.
type principalKey struct{}

// WithPrincipal returns ctx carrying p, and p's actor for the audit log.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return audit.WithActor(context.WithValue(ctx, principalKey{}, p), p.Actor())
}

// PrincipalFrom returns the principal of ctx, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// sortedActions returns a copy of as, sorted and without repeats.
func sortedActions(as []Action) []Action {
	out := slices.Clone(as)
	slices.Sort(out)
	return slices.Compact(out)
}

// intersect returns the actions in both a and b, sorted.
func intersect(a, b []Action) []Action {
	var out []Action
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return sortedActions(out)
}
