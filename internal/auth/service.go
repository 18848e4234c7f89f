package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// Config sets up a Service. Only Now is required.
type Config struct {
	// SecretKey seals second-factor secrets at rest (KHIEN_SECRET_KEY, at least 32 bytes).
	// Without it no second factor can be enrolled or checked, and so no administrator can
	// sign in; everything else works.
	SecretKey string
	// Params are argon2id's costs for new hashes; zero means DefaultParams.
	Params Params
	Now    func() time.Time
	// SessionLifetime ends a session however active (default 12 hours); SessionIdle ends
	// one unused that long (default 2 hours).
	SessionLifetime, SessionIdle time.Duration
}

// Service signs users in and out, authenticates sessions and API tokens, and manages
// accounts and tokens for the principal of each call's context, recording every change in
// the audit log in the same transaction as the change.
type Service struct {
	store  Store
	pol    *Policy
	log    *audit.Log
	seal   *Sealer // nil without a secret key
	params Params
	now    func() time.Time
	// dummy is a hash that sign-ins for unknown logins are checked against, so that they
	// take as long as the others. It is made at the first such sign-in.
	dummy          func() string
	lifetime, idle time.Duration
}

// NewService returns the Service over st; pol decides access and log builds audit entries.
func NewService(st Store, pol *Policy, log *audit.Log, cfg Config) (*Service, error) {
	s := &Service{store: st, pol: pol, log: log, params: cfg.Params, now: cfg.Now,
		lifetime: cfg.SessionLifetime, idle: cfg.SessionIdle}
	if s.params == (Params{}) {
		s.params = DefaultParams
	}
	if s.lifetime == 0 {
		s.lifetime = 12 * time.Hour
	}
	if s.idle == 0 {
		s.idle = 2 * time.Hour
	}
	if cfg.SecretKey != "" {
		var err error
		if s.seal, err = NewSealer(cfg.SecretKey); err != nil {
			return nil, err
		}
	}
	s.dummy = sync.OnceValue(func() string { return HashPassword("khien: no such user", s.params) })
	return s, nil
}

// Policy returns the policy the service decides with.
func (s *Service) Policy() *Policy { return s.pol }

// Inventory wraps inv so that every call is checked against the principal of its context
// and every change is recorded.
func (s *Service) Inventory(inv *inventory.Service) *Inventory {
	return NewInventory(inv, s.pol, s.log)
}

// Sign-in throttling. Failures are counted per login (whether or not it exists, so that
// the answers do not tell which do) and per client address; past the limit, each further
// failure locks the key for twice as long as the one before.
const (
	loginLimit    = 5                // failures of one login before it locks
	addressLimit  = 20               // failures from one address before it locks
	lockBase      = 5 * time.Minute  // the first lock
	lockMax       = 60 * time.Minute // the longest lock
	failureWindow = 24 * time.Hour   // failures older than this are forgotten
)

// lockFor is how long the failures-th failure locks a key whose limit is limit.
func lockFor(failures, limit int) time.Duration {
	if failures < limit {
		return 0
	}
	d := lockBase
	for range min(failures-limit, 8) {
		d *= 2
	}
	return min(d, lockMax)
}

// vietnam is the time zone of lock messages: Indochina Time has had no daylight saving
// since 1975, so a fixed offset is exact and needs no time zone database.
var vietnam = time.FixedZone("ICT", 7*60*60)

// LockedError says that sign-ins are refused until Until, for a login or (Address) for the
// client's address.
type LockedError struct {
	Until   time.Time
	Address bool
}

// Error is the bilingual message shown to the person signing in.
func (e *LockedError) Error() string {
	at := e.Until.In(vietnam).Format("15:04")
	if e.Address {
		return fmt.Sprintf("Quá nhiều lần đăng nhập sai từ địa chỉ này; thử lại sau %s / Too many failed sign-ins from this address; try again after %s", at, at)
	}
	return fmt.Sprintf("Tài khoản tạm khóa đến %s do đăng nhập sai nhiều lần / Account locked until %s after repeated failed sign-ins", at, at)
}

func locked(le *LockedError) error {
	return &errs.Error{Kind: errs.Forbidden, Msg: le.Error(), Err: le}
}

// errBadCredentials does not say which of the three was wrong.
var errBadCredentials = errs.E(errs.Unauthenticated,
	"Sai tên đăng nhập, mật khẩu hoặc mã xác thực / Wrong login, password or one-time code")

// Credentials are what a sign-in presents.
type Credentials struct {
	Login, Password string
	TOTP            string // the current code of the second factor, when one is enrolled
	ClientIP        string // where the attempt comes from, for throttling
	// Replace is the session id the browser still holds, if any: it is ended, so that a
	// sign-in always starts a session of a new id.
	Replace string
}

// NewSession is a session just opened. ID goes in the cookie and is kept nowhere else.
type NewSession struct {
	ID      string
	Session Session
	User    User
}

// Login checks credentials and opens a session. Every failure answers alike; a login or an
// address with too many recent failures gets a *LockedError (kind Forbidden) that says until
// when, and is refused even with the right password.
func (s *Service) Login(ctx context.Context, c Credentials) (NewSession, error) {
	now := s.now().UTC()
	login := normLogin(c.Login)
	keys := []string{"login:" + login}
	if c.ClientIP != "" {
		keys = append(keys, "ip:"+c.ClientIP)
	}
	if err := s.checkLocked(ctx, keys, now); err != nil {
		return NewSession{}, err
	}
	if len(c.Password) > MaxPassword {
		return NewSession{}, s.failed(ctx, keys, now)
	}
	u, err := s.store.UserByLogin(ctx, login)
	if errs.Is(err, errs.NotFound) {
		VerifyPassword(c.Password, s.dummy())
		return NewSession{}, s.failed(ctx, keys, now)
	}
	if err != nil {
		return NewSession{}, err
	}
	ok, params, err := VerifyPassword(c.Password, u.PasswordHash)
	if err != nil {
		return NewSession{}, fmt.Errorf("sign in %s: %w", u.Login, err)
	}
	if !ok {
		return NewSession{}, s.failed(ctx, keys, now)
	}
	changed := false
	if u.Role.NeedsMFA() || u.TOTPSecret != "" {
		if u.TOTPSecret == "" {
			return NewSession{}, errs.E(errs.Forbidden, "the role %s signs in with a second factor and %s has none: an operator can enrol one with: khien user reset-mfa --login %s", u.Role, u.Login, u.Login)
		}
		secret, err := s.seal.Open(u.TOTPSecret, u.ID)
		if err != nil {
			return NewSession{}, fmt.Errorf("sign in %s: second factor: %w", u.Login, err)
		}
		step, ok := checkTOTP(secret, c.TOTP, now, u.TOTPLast)
		if !ok {
			return NewSession{}, s.failed(ctx, keys, now)
		}
		u.TOTPLast, changed = step, true
	}
	if u.Disabled {
		return NewSession{}, errs.E(errs.Unauthenticated, "Tài khoản đã bị vô hiệu hóa / This account is disabled; ask an administrator")
	}
	if params.weaker(s.params) {
		u.PasswordHash, changed = HashPassword(c.Password, s.params), true
	}
	if changed {
		if err := s.store.UpdateUser(ctx, u, nil); err != nil {
			return NewSession{}, err
		}
	}
	if err := s.store.ClearLoginFailures(ctx, keys[0]); err != nil {
		return NewSession{}, err
	}
	if c.Replace != "" {
		if err := s.store.DeleteSession(ctx, hashHex(c.Replace)); err != nil && !errs.Is(err, errs.NotFound) {
			return NewSession{}, err
		}
	}
	if _, err := s.store.DeleteExpiredSessions(ctx, now); err != nil {
		return NewSession{}, err
	}
	id := randomString(32)
	sess := Session{IDHash: hashHex(id), UserID: u.ID, CSRF: randomString(32), Created: now, LastSeen: now,
		Expires: now.Add(s.lifetime), Method: MethodPassword}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return NewSession{}, err
	}
	u.LastLogin, u.LastLoginMethod = now, MethodPassword
	return NewSession{ID: id, Session: sess, User: u}, nil
}

// checkLocked returns a lock error if any of keys is locked at now.
func (s *Service) checkLocked(ctx context.Context, keys []string, now time.Time) error {
	for _, k := range keys {
		t, err := s.store.LoginThrottle(ctx, k)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if now.Before(t.LockedUntil) {
			return locked(&LockedError{Until: t.LockedUntil, Address: strings.HasPrefix(k, "ip:")})
		}
	}
	return nil
}

// failed counts a failure under every key and returns the error to answer with: the lock
// it caused, if it caused one, else errBadCredentials.
func (s *Service) failed(ctx context.Context, keys []string, now time.Time) error {
	var le *LockedError
	for _, k := range keys {
		t, err := s.store.LoginFailure(ctx, k, now, failureWindow)
		if err != nil {
			return err
		}
		addr := strings.HasPrefix(k, "ip:")
		limit := loginLimit
		if addr {
			limit = addressLimit
		}
		if d := lockFor(t.Failures, limit); d > 0 {
			until := now.Add(d)
			if err := s.store.LockLogin(ctx, k, until); err != nil {
				return err
			}
			if le == nil {
				le = &LockedError{Until: until, Address: addr}
			}
		}
	}
	if le != nil {
		return locked(le)
	}
	return errBadCredentials
}

// errSessionEnded asks to sign in again.
var errSessionEnded = errs.E(errs.Unauthenticated, "your session has ended; sign in again")

// SessionPrincipal returns the principal of the session whose id a cookie holds. A session
// past its lifetime, unused for too long, or of a disabled user has ended.
func (s *Service) SessionPrincipal(ctx context.Context, id string) (Principal, error) {
	if id == "" || len(id) > 256 {
		return Principal{}, errSessionEnded
	}
	h := hashHex(id)
	sess, err := s.store.Session(ctx, h)
	if errs.Is(err, errs.NotFound) {
		return Principal{}, errSessionEnded
	}
	if err != nil {
		return Principal{}, err
	}
	now := s.now().UTC()
	u, err := s.store.User(ctx, sess.UserID)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return Principal{}, err
	}
	if err != nil || u.Disabled || !now.Before(sess.Expires) || now.Sub(sess.LastSeen) >= s.idle {
		if err := s.store.DeleteSession(ctx, h); err != nil && !errs.Is(err, errs.NotFound) {
			return Principal{}, err
		}
		return Principal{}, errSessionEnded
	}
	if now.Sub(sess.LastSeen) >= time.Minute { // a write a minute at most, not one a request
		err := s.store.TouchSession(ctx, h, now)
		if errs.Is(err, errs.NotFound) { // signed out meanwhile
			return Principal{}, errSessionEnded
		}
		if err != nil {
			return Principal{}, err
		}
	}
	p := UserPrincipal(u)
	p.SessionID, p.CSRF = h, sess.CSRF
	return p, nil
}

// Logout ends the session of ctx's principal.
func (s *Service) Logout(ctx context.Context) error {
	p, err := need(ctx)
	if err != nil {
		return err
	}
	if p.Kind != KindSession || p.SessionID == "" {
		return errs.E(errs.Invalid, "only a browser session can be signed out; revoke an API token instead")
	}
	err = s.store.DeleteSession(ctx, p.SessionID)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	return err
}

// TokenPrefix starts every API token, so that secret scanners and people recognize one.
const TokenPrefix = "khien_"

// errBadToken does not say what was wrong with a token that does not authenticate.
var errBadToken = errs.E(errs.Unauthenticated, "the API token is not valid")

// TokenPrincipal returns the principal of an API token, khien_<id>_<secret>. It may do what
// both the token and its owner's current role allow, within the token's scope, which must
// still lie within the owner's.
func (s *Service) TokenPrincipal(ctx context.Context, raw string) (Principal, error) {
	id, ok := parseToken(raw)
	if !ok {
		return Principal{}, errBadToken
	}
	t, err := s.store.Token(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return Principal{}, errBadToken
	}
	if err != nil {
		return Principal{}, err
	}
	if subtle.ConstantTimeCompare([]byte(hashHex(raw)), []byte(t.Hash)) != 1 {
		return Principal{}, errBadToken
	}
	now := s.now().UTC()
	switch {
	case !t.Revoked.IsZero():
		return Principal{}, errs.E(errs.Unauthenticated, "the API token %s%s was revoked at %s", TokenPrefix, t.ID, t.Revoked.Format(time.RFC3339))
	case !t.Expires.IsZero() && !now.Before(t.Expires):
		return Principal{}, errs.E(errs.Unauthenticated, "the API token %s%s expired at %s", TokenPrefix, t.ID, t.Expires.Format(time.RFC3339))
	}
	u, err := s.store.User(ctx, t.Owner)
	if err != nil {
		return Principal{}, err
	}
	if u.Disabled {
		return Principal{}, errs.E(errs.Unauthenticated, "the owner of the API token %s%s is disabled", TokenPrefix, t.ID)
	}
	in, err := s.pol.Within(ctx, u.Org, t.Org)
	if err != nil {
		return Principal{}, err
	}
	if !in {
		return Principal{}, errs.E(errs.Unauthenticated, "the scope of the API token %s%s is no longer within its owner's; create a new one", TokenPrefix, t.ID)
	}
	if now.Sub(t.LastUsed) >= time.Minute {
		if err := s.store.TouchToken(ctx, t.ID, now); err != nil {
			return Principal{}, err
		}
	}
	return Principal{
		Kind: KindToken, UserID: u.ID, Login: u.Login, Name: u.Name, Role: u.Role, Scope: t.Org,
		Actions: intersect(t.Actions, roleActions[u.Role]), MFA: u.TOTPSecret != "", TokenID: t.ID,
	}, nil
}

// parseToken returns the id of khien_<id>_<secret>.
func parseToken(raw string) (string, bool) {
	rest, ok := strings.CutPrefix(raw, TokenPrefix)
	if !ok || len(raw) > 200 {
		return "", false
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || id == "" || secret == "" {
		return "", false
	}
	return id, true
}

// hashHex is the hex SHA-256 of s: how session ids and tokens are stored.
func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// randomString returns n random bytes as lower-case base32: letters and digits only.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return strings.ToLower(b32.EncodeToString(b))
}

// normLogin is the form logins are stored and looked up in.
func normLogin(login string) string { return strings.ToLower(strings.TrimSpace(login)) }
