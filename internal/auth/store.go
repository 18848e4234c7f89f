package auth

import (
	"context"
	"log/slog"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/inventory"
)

// User is a local account.
type User struct {
	ID    string // "u-…", generated
	Login string // lower case, unique
	Name  string // display name
	Role  Role
	Org   string // the scope: an organization code; empty only for a platform administrator
	// PasswordHash is the argon2id PHC string; never shown, never logged.
	PasswordHash string
	// TOTPSecret is the second factor's secret sealed with KHIEN_SECRET_KEY; empty when none
	// is enrolled. TOTPLast is the time step of the last code accepted, so a code works once.
	TOTPSecret       string
	TOTPLast         int64
	Disabled         bool
	Created, Updated time.Time
	// LastLogin is when the account last signed in, and LastLoginMethod how (MethodPassword
	// or MethodOIDC); zero and empty until its first sign-in. Only Store.CreateSession sets
	// them, in the transaction that opens the session, so a refused sign-in never does.
	LastLogin       time.Time
	LastLoginMethod string
}

// How a session was opened, and so how an account last signed in.
const (
	MethodPassword = "password" // the sign-in form or POST /api/v1/session, with the code if enrolled
	MethodOIDC     = "oidc"     // through the provider, with the local code after it if it was asked for
)

// LogValue keeps the password hash and the second factor out of logs.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", u.ID), slog.String("login", u.Login), slog.String("role", string(u.Role)))
}

// Session is a signed-in browser. The id itself is only in the cookie; the store keeps its
// SHA-256, so that a copy of the database opens no session.
type Session struct {
	IDHash   string // hex SHA-256 of the cookie's value
	UserID   string
	CSRF     string // the synchronizer token unsafe requests must echo
	Created  time.Time
	LastSeen time.Time
	Expires  time.Time // absolute: the session ends then however active it is
	Method   string    // how it was opened: MethodPassword or MethodOIDC
}

// LogValue keeps the CSRF token out of logs.
func (s Session) LogValue() slog.Value { return slog.StringValue("session of " + s.UserID) }

// Token is an API token for a pipeline. The secret is shown once, when the token is
// created; the store keeps the SHA-256 of the whole token.
type Token struct {
	ID       string // public; the token reads khien_<ID>_<secret>
	Name     string
	Hash     string // hex SHA-256 of the whole token
	Owner    string // user id
	Org      string // scope; empty for the whole tree (a platform administrator's token)
	Actions  []Action
	Created  time.Time
	Expires  time.Time // zero: does not expire
	LastUsed time.Time // zero: never used
	Revoked  time.Time // zero: valid
}

// Throttle is the record of failed sign-ins for one login or one client address.
type Throttle struct {
	Key         string // "login:<login>" or "ip:<address>"
	Failures    int
	LastFailure time.Time
	LockedUntil time.Time
}

// UserFilter selects users. Empty fields do not filter. Results are ordered by login.
type UserFilter struct {
	// Under keeps users scoped to an organization of this subtree. Platform administrators,
	// scoped to nothing, are kept only without it.
	Under string
	Role  Role
	inventory.Page
}

// TokenFilter selects tokens. Empty fields do not filter. Results are ordered by creation,
// newest first.
type TokenFilter struct {
	Owner string
	Under string // tokens scoped to an organization of this subtree
	inventory.Page
}

// Store persists accounts, sessions, tokens and sign-in failures. It is implemented by
// store/sqlite and store/postgres, which both pass storetest.RunAuth. As for every store, a
// missing row is an error of kind errs.NotFound; a duplicate is errs.Conflict. Writes that
// take an audit.Entry append it in the same transaction (see audit.Store.AppendAudit).
type Store interface {
	User(ctx context.Context, id string) (User, error)
	UserByLogin(ctx context.Context, login string) (User, error)
	Users(ctx context.Context, f UserFilter) ([]User, int, error)
	CreateUser(ctx context.Context, u User, e audit.Entry) error
	// UpdateUser replaces every field of the user u.ID except Login, Created and the last
	// sign-in. A nil e records nothing: for the bookkeeping of a sign-in (the TOTP step, a
	// stronger hash).
	UpdateUser(ctx context.Context, u User, e *audit.Entry) error

	// CreateSession stores s and, in the same transaction, records it as its user's last
	// sign-in: LastLogin s.Created, LastLoginMethod s.Method. A session is only ever created
	// by a sign-in that succeeded.
	CreateSession(ctx context.Context, s Session) error
	Session(ctx context.Context, idHash string) (Session, error)
	TouchSession(ctx context.Context, idHash string, seen time.Time) error
	DeleteSession(ctx context.Context, idHash string) error
	// DeleteUserSessions ends every session of a user, as a password change must.
	DeleteUserSessions(ctx context.Context, userID string) error
	// DeleteExpiredSessions deletes the sessions whose lifetime ended before now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)

	CreateToken(ctx context.Context, t Token, e audit.Entry) error
	Token(ctx context.Context, id string) (Token, error)
	Tokens(ctx context.Context, f TokenFilter) ([]Token, int, error)
	// RevokeToken sets the revocation time of a token that has none.
	RevokeToken(ctx context.Context, id string, at time.Time, e audit.Entry) error
	TouchToken(ctx context.Context, id string, at time.Time) error

	// LoginFailure counts one failed sign-in under key at time at and returns the record.
	// The count starts again from one when the last failure is older than window.
	LoginFailure(ctx context.Context, key string, at time.Time, window time.Duration) (Throttle, error)
	// LockLogin refuses sign-ins under key until until.
	LockLogin(ctx context.Context, key string, until time.Time) error
	// LoginThrottle returns the record of key, NotFound when it has none.
	LoginThrottle(ctx context.Context, key string) (Throttle, error)
	// LoginThrottles returns the records of those of keys that have one, in no particular
	// order: one query for a page of accounts instead of one per account.
	LoginThrottles(ctx context.Context, keys []string) ([]Throttle, error)
	ClearLoginFailures(ctx context.Context, key string) error
}
