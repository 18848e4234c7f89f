package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// NewToken is an API token to create.
type NewToken struct {
	Name    string   // what it is for: "CI của cổng dịch vụ công"
	Org     string   // its scope; empty means the creator's own
	Actions []Action // what it may do; each must be allowed to its creator
	Expires time.Time
}

// Prefix is how the token is shown in lists: its public part, khien_<id>.
func (t Token) Prefix() string { return TokenPrefix + t.ID }

func tokenNotFound(id string) error { return errs.E(errs.NotFound, "API token %q not found", id) }

// tokenRecord is the audit form of a token: never its hash.
func tokenRecord(t Token) map[string]any {
	m := map[string]any{"id": t.ID, "name": t.Name, "owner": t.Owner, "org": t.Org, "actions": t.Actions}
	if !t.Expires.IsZero() {
		m["expires"] = t.Expires.UTC().Format(time.RFC3339)
	}
	if !t.Revoked.IsZero() {
		m["revoked"] = t.Revoked.UTC().Format(time.RFC3339)
	}
	return m
}

// signedIn returns the principal of ctx if it is a user signed in: tokens do not make
// tokens, and the operator at the command line owns none.
func signedIn(ctx context.Context) (Principal, error) {
	p, err := need(ctx)
	if err != nil {
		return Principal{}, err
	}
	if p.Kind != KindSession {
		return Principal{}, errs.E(errs.Forbidden, "API tokens are managed by a signed-in user")
	}
	return p, nil
}

// CreateToken creates an API token owned by the signed-in principal, scoped within its
// subtree, for actions its role has. It returns the token and the secret, which is shown
// this once and stored only as a hash.
func (s *Service) CreateToken(ctx context.Context, nt NewToken) (Token, string, error) {
	p, err := signedIn(ctx)
	if err != nil {
		return Token{}, "", err
	}
	nt.Name, nt.Org = strings.TrimSpace(nt.Name), strings.TrimSpace(nt.Org)
	switch n := utf8.RuneCountInString(nt.Name); {
	case n == 0:
		return Token{}, "", errs.Field("name", "is required: say what the token is for")
	case n > 100:
		return Token{}, "", errs.Field("name", "is longer than 100 characters")
	}
	if nt.Org == "" {
		nt.Org = p.Scope
	}
	if ok, err := s.pol.Within(ctx, p.Scope, nt.Org); err != nil {
		return Token{}, "", err
	} else if !ok {
		return Token{}, "", &errs.Error{Kind: errs.Forbidden, Field: "org",
			Msg: fmt.Sprintf("organization %q is not within your scope (%s)", nt.Org, p.ScopeName())}
	}
	if nt.Org != "" {
		if _, err := s.pol.Path(ctx, nt.Org); errs.Is(err, errs.NotFound) {
			return Token{}, "", errs.Field("org", "organization %q does not exist", nt.Org)
		} else if err != nil {
			return Token{}, "", err
		}
	}
	if len(nt.Actions) == 0 {
		return Token{}, "", errs.Field("actions", "name at least one action, such as %s", GateRead)
	}
	for _, a := range nt.Actions {
		switch {
		case !slices.Contains(Actions, a):
			return Token{}, "", errs.Field("actions", "%q is not an action; the actions are %s", a, joinActionNames())
		case !p.Has(a):
			return Token{}, "", &errs.Error{Kind: errs.Forbidden, Field: "actions",
				Msg: fmt.Sprintf("your role (%s) does not allow %s, so no token of yours can", p.Role, a)}
		case a == MetricsRead && nt.Org != "":
			return Token{}, "", errs.Field("actions", "%s is platform-wide: give the token no org", MetricsRead)
		}
	}
	now := s.now().UTC()
	if !nt.Expires.IsZero() && !nt.Expires.After(now) {
		return Token{}, "", errs.Field("expires", "must be in the future")
	}
	t := Token{ID: randomString(10), Name: nt.Name, Owner: p.UserID, Org: nt.Org, Actions: sortedActions(nt.Actions),
		Created: now, Expires: nt.Expires}
	secret := t.Prefix() + "_" + randomString(32)
	t.Hash = hashHex(secret)
	e, err := s.log.Entry(ctx, audit.Record{Action: "token.create", ObjectType: "token", ObjectID: t.ID, Org: t.Org, After: tokenRecord(t)})
	if err != nil {
		return Token{}, "", err
	}
	if err := s.store.CreateToken(ctx, t, e); err != nil {
		return Token{}, "", err
	}
	return t, secret, nil
}

func joinActionNames() string {
	s := make([]string, len(Actions))
	for i, a := range Actions {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// Tokens lists the principal's own tokens or, for a principal that manages accounts, every
// token scoped within its subtree.
func (s *Service) Tokens(ctx context.Context, page inventory.Page) ([]Token, int, error) {
	p, err := signedIn(ctx)
	if err != nil {
		return nil, 0, err
	}
	f := TokenFilter{Page: page.Bounded()}
	if p.Has(UsersManage) {
		f.Under = p.Scope
	} else {
		f.Owner = p.UserID
	}
	return s.store.Tokens(ctx, f)
}

// visibleToken returns token id if it is the principal's own or one it manages.
func (s *Service) visibleToken(ctx context.Context, p Principal, id string) (Token, error) {
	t, err := s.store.Token(ctx, id)
	if err != nil {
		return Token{}, err
	}
	if t.Owner == p.UserID {
		return t, nil
	}
	if p.Has(UsersManage) {
		ok, err := s.pol.Within(ctx, p.Scope, t.Org)
		if err != nil {
			return Token{}, err
		}
		if ok {
			return t, nil
		}
	}
	return Token{}, tokenNotFound(id)
}

// Token returns one token the principal owns or manages.
func (s *Service) Token(ctx context.Context, id string) (Token, error) {
	p, err := signedIn(ctx)
	if err != nil {
		return Token{}, err
	}
	return s.visibleToken(ctx, p, strings.TrimPrefix(id, TokenPrefix))
}

// RevokeToken revokes a token the principal owns or manages; it stops working at once.
// Revoking a revoked token changes nothing.
func (s *Service) RevokeToken(ctx context.Context, id string) (Token, error) {
	p, err := signedIn(ctx)
	if err != nil {
		return Token{}, err
	}
	t, err := s.visibleToken(ctx, p, strings.TrimPrefix(id, TokenPrefix))
	if err != nil || !t.Revoked.IsZero() {
		return t, err
	}
	revoked := t
	revoked.Revoked = s.now().UTC().Truncate(time.Microsecond)
	e, err := s.log.Entry(ctx, audit.Record{Action: "token.revoke", ObjectType: "token", ObjectID: t.ID, Org: t.Org,
		Before: tokenRecord(t), After: tokenRecord(revoked)})
	if err != nil {
		return Token{}, err
	}
	if err := s.store.RevokeToken(ctx, t.ID, revoked.Revoked, e); err != nil {
		return Token{}, err
	}
	return revoked, nil
}

// AuditEntries returns one page of the audit log as the principal may read it: the changes
// made within its subtree, newest first. An f.Under outside the subtree selects nothing.
func (s *Service) AuditEntries(ctx context.Context, f audit.Filter) ([]audit.Entry, int, error) {
	p, err := auditReader(ctx)
	if err != nil {
		return nil, 0, err
	}
	under, ok, err := s.pol.narrow(ctx, p, f.Under)
	if err != nil || !ok {
		return nil, 0, err
	}
	f.Under = under
	return s.log.Entries(ctx, f)
}
