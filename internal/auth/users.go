package auth

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/errs"
)

// NewUser is an account to create.
type NewUser struct {
	Login, Name string
	Role        Role
	Org         string // required for every role but platform_admin, which must have none
	Password    string
}

// UserChange is what an update of an account may change: everything but the login, the
// password and the second factor, which have their own methods.
type UserChange struct {
	Name     string
	Role     Role
	Org      string
	Disabled bool
}

// manager returns the principal of ctx if it may manage accounts at all: a token may not.
func (s *Service) manager(ctx context.Context) (Principal, error) {
	p, err := need(ctx)
	if err != nil {
		return Principal{}, err
	}
	if p.Kind == KindToken {
		return Principal{}, errs.E(errs.Forbidden, "an API token cannot manage accounts or tokens; sign in")
	}
	if !p.Has(UsersManage) {
		return Principal{}, errs.E(errs.Forbidden, "your role (%s) does not allow %s", p.roleName(), UsersManage)
	}
	return p, nil
}

func userNotFound(id string) error { return errs.E(errs.NotFound, "user %q not found", id) }

// visibleUser returns the user id if it is scoped within p's subtree; the others do not
// exist for p.
func (s *Service) visibleUser(ctx context.Context, p Principal, id string) (User, error) {
	u, err := s.store.User(ctx, id)
	if err != nil {
		return User{}, err
	}
	ok, err := s.pol.Within(ctx, p.Scope, u.Org)
	if err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, userNotFound(id)
	}
	return u, nil
}

// checkGrant checks that p may give an account role and scope org: org exists, lies within
// p's scope, fits the role, and the role can do nothing p cannot.
func (s *Service) checkGrant(ctx context.Context, p Principal, role Role, org string) error {
	if !slices.Contains(Roles, role) {
		return errs.Field("role", "%q is not one of %s", role, joinRoles())
	}
	switch {
	case role == PlatformAdmin && org != "":
		return errs.Field("org", "a platform administrator has the whole tree as scope; give no org")
	case role != PlatformAdmin && org == "":
		return errs.Field("org", "is required for the role %s: the organization whose subtree the account may see", role)
	}
	if err := s.pol.Can(ctx, p, UsersManage, org); err != nil {
		return forbiddenField(err, "org")
	}
	if org != "" {
		if _, err := s.pol.Path(ctx, org); errs.Is(err, errs.NotFound) {
			return errs.Field("org", "organization %q does not exist", org)
		} else if err != nil {
			return err
		}
	}
	for _, a := range roleActions[role] {
		if !p.Has(a) {
			return &errs.Error{Kind: errs.Forbidden, Field: "role",
				Msg: fmt.Sprintf("you cannot grant the role %s: it allows %s, which yours does not", role, a)}
		}
	}
	return nil
}

func joinRoles() string {
	s := make([]string, len(Roles))
	for i, r := range Roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// validLogin accepts what people use as logins: lower-case letters, digits, '.', '_', '-'
// and '@', up to 64.
func validLogin(login string) error {
	if login == "" {
		return errs.Field("login", "is required")
	}
	if len(login) > 64 {
		return errs.Field("login", "%q is longer than 64 characters", login)
	}
	for _, r := range login {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@", r)
		if !ok {
			return errs.Field("login", "%q may hold only letters a–z, digits, '.', '_', '-' and '@'", login)
		}
	}
	return nil
}

func validName(name string) error {
	if utf8.RuneCountInString(name) > 200 {
		return errs.Field("name", "is longer than 200 characters")
	}
	return nil
}

// userRecord is the audit form of an account: never its password hash or second factor.
func userRecord(u User) map[string]any {
	return map[string]any{"id": u.ID, "login": u.Login, "name": u.Name, "role": u.Role, "org": u.Org,
		"mfa": u.TOTPSecret != "", "disabled": u.Disabled}
}

// enrol gives u a new second factor and returns its provisioning URI, to be shown once.
func (s *Service) enrol(u *User) (string, error) {
	secret := NewTOTPSecret()
	sealed, err := s.seal.Seal(secret, u.ID)
	if err != nil {
		return "", err
	}
	u.TOTPSecret, u.TOTPLast = sealed, 0
	return ProvisioningURI(u.Login, secret), nil
}

// CreateUser creates an account within the principal's subtree with a role no stronger than
// the principal's. An administrator is enrolled in a second factor at once: the returned
// otpauth:// URI is shown this once, for an authenticator app.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (User, string, error) {
	p, err := s.manager(ctx)
	if err != nil {
		return User{}, "", err
	}
	nu.Login, nu.Name, nu.Org = normLogin(nu.Login), strings.TrimSpace(nu.Name), strings.TrimSpace(nu.Org)
	if err := validLogin(nu.Login); err != nil {
		return User{}, "", err
	}
	if err := validName(nu.Name); err != nil {
		return User{}, "", err
	}
	if err := s.checkGrant(ctx, p, nu.Role, nu.Org); err != nil {
		return User{}, "", err
	}
	if err := checkPassword(nu.Password); err != nil {
		return User{}, "", err
	}
	now := s.now().UTC()
	u := User{ID: "u-" + randomString(10), Login: nu.Login, Name: cmp.Or(nu.Name, nu.Login), Role: nu.Role, Org: nu.Org,
		PasswordHash: HashPassword(nu.Password, s.params), Created: now, Updated: now}
	uri := ""
	if u.Role.NeedsMFA() {
		if uri, err = s.enrol(&u); err != nil {
			return User{}, "", err
		}
	}
	e, err := s.log.Entry(ctx, audit.Record{Action: "user.create", ObjectType: "user", ObjectID: u.ID, Org: u.Org, After: userRecord(u)})
	if err != nil {
		return User{}, "", err
	}
	if err := s.store.CreateUser(ctx, u, e); err != nil {
		return User{}, "", err
	}
	return u, uri, nil
}

// Users lists the accounts of the principal's subtree that f selects.
func (s *Service) Users(ctx context.Context, f UserFilter) ([]User, int, error) {
	p, err := s.manager(ctx)
	if err != nil {
		return nil, 0, err
	}
	under, ok, err := s.pol.narrow(ctx, p, f.Under)
	if err != nil || !ok {
		return nil, 0, err
	}
	f.Under = under
	f.Page = f.Page.Bounded()
	return s.store.Users(ctx, f)
}

// User returns one account of the principal's subtree.
func (s *Service) User(ctx context.Context, id string) (User, error) {
	p, err := s.manager(ctx)
	if err != nil {
		return User{}, err
	}
	return s.visibleUser(ctx, p, id)
}

// UserByLogin returns one account of the principal's subtree by its login.
func (s *Service) UserByLogin(ctx context.Context, login string) (User, error) {
	p, err := s.manager(ctx)
	if err != nil {
		return User{}, err
	}
	u, err := s.store.UserByLogin(ctx, normLogin(login))
	if errs.Is(err, errs.NotFound) {
		return User{}, errs.E(errs.NotFound, "no user has the login %q", normLogin(login))
	}
	if err != nil {
		return User{}, err
	}
	if ok, err := s.pol.Within(ctx, p.Scope, u.Org); err != nil {
		return User{}, err
	} else if !ok {
		return User{}, errs.E(errs.NotFound, "no user has the login %q", normLogin(login))
	}
	return u, nil
}

// UpdateUser changes an account of the principal's subtree. Making it an administrator
// enrols a second factor if it has none, and returns the URI to show once. Disabling (the
// users page's "lock") ends every session of the account, recorded in the audit entry as
// sessions_ended; it revokes nothing else. Nobody disables their own account.
func (s *Service) UpdateUser(ctx context.Context, id string, ch UserChange) (User, string, error) {
	p, err := s.manager(ctx)
	if err != nil {
		return User{}, "", err
	}
	old, err := s.visibleUser(ctx, p, id)
	if err != nil {
		return User{}, "", err
	}
	ch.Name, ch.Org = strings.TrimSpace(ch.Name), strings.TrimSpace(ch.Org)
	if err := validName(ch.Name); err != nil {
		return User{}, "", err
	}
	if err := s.checkGrant(ctx, p, ch.Role, ch.Org); err != nil {
		return User{}, "", err
	}
	if ch.Disabled && old.ID == p.UserID {
		return User{}, "", errs.Field("disabled", "you cannot disable your own account; ask another administrator")
	}
	u := old
	u.Name, u.Role, u.Org, u.Disabled, u.Updated = cmp.Or(ch.Name, old.Login), ch.Role, ch.Org, ch.Disabled, s.now().UTC()
	uri := ""
	if u.Role.NeedsMFA() && u.TOTPSecret == "" {
		if uri, err = s.enrol(&u); err != nil {
			return User{}, "", err
		}
	}
	after := userRecord(u)
	locking := u.Disabled && !old.Disabled
	if locking {
		// Locking ends the account's sessions, and says so; its API tokens and links to a
		// provider are kept (refused while it is locked, working again once unlocked).
		after["sessions_ended"] = true
	}
	e, err := s.log.Entry(ctx, audit.Record{Action: "user.update", ObjectType: "user", ObjectID: u.ID, Org: auditOrg(old, u),
		Before: userRecord(old), After: after})
	if err != nil {
		return User{}, "", err
	}
	if err := s.store.UpdateUser(ctx, u, &e); err != nil {
		return User{}, "", err
	}
	// The sessions are refused from the moment the account is disabled (SessionPrincipal
	// reads the account on every request); deleting them is so that none lingers.
	if locking {
		if err := s.store.DeleteUserSessions(ctx, u.ID); err != nil {
			return User{}, "", err
		}
	}
	return u, uri, nil
}

// auditOrg is where a change of account is recorded: where it was, so that the auditors of
// the subtree an account leaves see it leave.
func auditOrg(old, u User) string {
	if old.Org != "" {
		return old.Org
	}
	return u.Org
}

// SetPassword sets the password of an account of the principal's subtree, or of the
// principal's own, and ends every session of the account.
func (s *Service) SetPassword(ctx context.Context, id, password string) error {
	u, err := s.selfOrManaged(ctx, id)
	if err != nil {
		return err
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	old := u
	u.PasswordHash, u.Updated = HashPassword(password, s.params), s.now().UTC()
	e, err := s.log.Entry(ctx, audit.Record{Action: "user.password", ObjectType: "user", ObjectID: u.ID, Org: u.Org,
		Before: userRecord(old), After: userRecord(u)})
	if err != nil {
		return err
	}
	if err := s.store.UpdateUser(ctx, u, &e); err != nil {
		return err
	}
	return s.store.DeleteUserSessions(ctx, u.ID)
}

// ResetMFA gives an account of the principal's subtree a new second factor, which the
// returned URI sets up, and ends every session of the account.
func (s *Service) ResetMFA(ctx context.Context, id string) (string, error) {
	p, err := s.manager(ctx)
	if err != nil {
		return "", err
	}
	u, err := s.visibleUser(ctx, p, id)
	if err != nil {
		return "", err
	}
	old := u
	uri, err := s.enrol(&u)
	if err != nil {
		return "", err
	}
	u.Updated = s.now().UTC()
	e, err := s.log.Entry(ctx, audit.Record{Action: "user.reset_mfa", ObjectType: "user", ObjectID: u.ID, Org: u.Org,
		Before: userRecord(old), After: userRecord(u)})
	if err != nil {
		return "", err
	}
	if err := s.store.UpdateUser(ctx, u, &e); err != nil {
		return "", err
	}
	return uri, s.store.DeleteUserSessions(ctx, u.ID)
}

// selfOrManaged returns the account id if it is the principal's own (not through a token)
// or one the principal manages.
func (s *Service) selfOrManaged(ctx context.Context, id string) (User, error) {
	p, err := need(ctx)
	if err != nil {
		return User{}, err
	}
	if p.Kind == KindSession && p.UserID == id {
		return s.store.User(ctx, id)
	}
	if p, err = s.manager(ctx); err != nil {
		return User{}, err
	}
	return s.visibleUser(ctx, p, id)
}
