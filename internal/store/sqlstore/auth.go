package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/errs"
)

// The accounts, sessions, API tokens and sign-in throttling of auth.Store. Changes to
// accounts and tokens append their audit entry in their own transaction.

const (
	// userColumns are read; userWritten are written by CreateUser. The last sign-in is
	// written only with a session (qSignedIn).
	userWritten = `id, login, name, role, org, password_hash, totp_secret, totp_last, disabled, created, updated`
	userColumns = userWritten + `, last_login, last_login_method`

	qUser        = `SELECT ` + userColumns + ` FROM users WHERE id = ?`
	qUserByLogin = `SELECT ` + userColumns + ` FROM users WHERE login = ?`
	qInsertUser  = `INSERT INTO users (` + userWritten + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qSignedIn    = `UPDATE users SET last_login = ?, last_login_method = ? WHERE id = ?`
	qUpdateUser  = `UPDATE users SET name = ?, role = ?, org = ?, password_hash = ?, totp_secret = ?,
		totp_last = ?, disabled = ?, updated = ? WHERE id = ?`
	qUserExists = `SELECT 1 FROM users WHERE id = ? OR login = ?`

	sessionColumns  = `id_hash, user_id, csrf, created, last_seen, expires, method`
	qSession        = `SELECT ` + sessionColumns + ` FROM sessions WHERE id_hash = ?`
	qInsertSession  = `INSERT INTO sessions (` + sessionColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?)`
	qTouchSession   = `UPDATE sessions SET last_seen = ? WHERE id_hash = ?`
	qDeleteSession  = `DELETE FROM sessions WHERE id_hash = ?`
	qDeleteSessions = `DELETE FROM sessions WHERE user_id = ?`
	qDeleteExpired  = `DELETE FROM sessions WHERE expires < ?`
	tokenColumns    = `id, name, hash, owner, org, actions, created, expires, last_used, revoked`
	qToken          = `SELECT ` + tokenColumns + ` FROM api_tokens WHERE id = ?`
	qInsertToken    = `INSERT INTO api_tokens (` + tokenColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qTokenExists    = `SELECT 1 FROM api_tokens WHERE id = ?`
	qRevokeToken    = `UPDATE api_tokens SET revoked = ? WHERE id = ? AND revoked IS NULL`
	qTouchToken     = `UPDATE api_tokens SET last_used = ? WHERE id = ?`
	throttleColumns = `key, failures, last_failure, locked_until`
	qThrottle       = `SELECT ` + throttleColumns + ` FROM login_throttle WHERE key = ?`
	qThrottles      = `SELECT ` + throttleColumns + ` FROM login_throttle WHERE key IN `
	qClearThrottle  = `DELETE FROM login_throttle WHERE key = ?`
	qLockLogin      = `UPDATE login_throttle SET locked_until = ? WHERE key = ?`
	qRecordFailure  = `INSERT INTO login_throttle (key, failures, last_failure) VALUES (?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET
		failures = CASE WHEN login_throttle.last_failure < ? THEN 1 ELSE login_throttle.failures + 1 END,
		last_failure = excluded.last_failure
		RETURNING ` + throttleColumns
)

func scanUser(row scanner) (auth.User, error) {
	var (
		u   auth.User
		org sql.NullString
	)
	err := row.Scan(&u.ID, &u.Login, &u.Name, &u.Role, &org, &u.PasswordHash, &u.TOTPSecret, &u.TOTPLast,
		&u.Disabled, timeCol{&u.Created}, timeCol{&u.Updated}, timeCol{&u.LastLogin}, &u.LastLoginMethod)
	u.Org = org.String
	return u, err
}

func userNotFound(what string) error { return errs.E(errs.NotFound, "user %s not found", what) }

// User returns the account id, or an error of kind NotFound.
func (s *Store) User(ctx context.Context, id string) (auth.User, error) {
	return s.oneUser(ctx, qUser, id, fmt.Sprintf("%q", id))
}

// UserByLogin returns the account whose login is login, or an error of kind NotFound.
func (s *Store) UserByLogin(ctx context.Context, login string) (auth.User, error) {
	return s.oneUser(ctx, qUserByLogin, login, fmt.Sprintf("with login %q", login))
}

func (s *Store) oneUser(ctx context.Context, query, arg, what string) (auth.User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, s.q(query), arg))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return auth.User{}, userNotFound(what)
	case err != nil:
		return auth.User{}, s.fail(err, "read user "+what)
	}
	return u, nil
}

// Users returns one page of the accounts f selects, by login, and how many it selects.
func (s *Store) Users(ctx context.Context, f auth.UserFilter) ([]auth.User, int, error) {
	var w filter
	if f.Under != "" {
		w.under(f.Under)
		w.conds = append(w.conds, "org IN (SELECT code FROM subtree)")
	}
	if f.Role != "" {
		w.add("role = ?", f.Role)
	}
	return list(ctx, s, "list users", "users", userColumns, "login", w, bounded(f.Page), scanUser)
}

func (s *Store) userArgs(u auth.User) []any {
	return []any{u.ID, u.Login, u.Name, u.Role, nullString(u.Org), u.PasswordHash, u.TOTPSecret, u.TOTPLast,
		u.Disabled, s.time(u.Created), s.time(u.Updated)}
}

// CreateUser inserts u and appends e. A login or id in use is a Conflict; an organization
// that does not exist is Invalid, about the field "org".
func (s *Store) CreateUser(ctx context.Context, u auth.User, e audit.Entry) error {
	conflict := errs.E(errs.Conflict, "the login %q is taken", u.Login)
	return s.write(ctx, fmt.Sprintf("create user %q", u.Login), func(tx *sql.Tx) error {
		if ok, err := s.exists(ctx, tx, qUserExists, u.ID, u.Login); err != nil {
			return err
		} else if ok {
			return conflict
		}
		_, err := tx.ExecContext(ctx, s.q(qInsertUser), s.userArgs(u)...)
		switch s.d.Constraint(err) {
		case Unique:
			return conflict
		case ForeignKey:
			return noOrg(u.Org)
		}
		if err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, e)
	})
}

// UpdateUser replaces every field of the account u.ID but its login and creation time, and
// appends e unless it is nil.
func (s *Store) UpdateUser(ctx context.Context, u auth.User, e *audit.Entry) error {
	return s.write(ctx, fmt.Sprintf("update user %q", u.ID), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(qUpdateUser), u.Name, u.Role, nullString(u.Org), u.PasswordHash,
			u.TOTPSecret, u.TOTPLast, u.Disabled, s.time(u.Updated), u.ID)
		if s.d.Constraint(err) == ForeignKey {
			return noOrg(u.Org)
		}
		if err := notFoundIfNone(res, err, userNotFound(fmt.Sprintf("%q", u.ID))); err != nil {
			return err
		}
		if e == nil {
			return nil
		}
		return s.appendAudit(ctx, tx, *e)
	})
}

func scanSession(row scanner) (auth.Session, error) {
	var ss auth.Session
	err := row.Scan(&ss.IDHash, &ss.UserID, &ss.CSRF, timeCol{&ss.Created}, timeCol{&ss.LastSeen}, timeCol{&ss.Expires}, &ss.Method)
	return ss, err
}

var errNoSession = errs.E(errs.NotFound, "session not found")

// CreateSession inserts ss and records it as its user's last sign-in, in one transaction:
// the session and the last sign-in are there together or not at all.
func (s *Store) CreateSession(ctx context.Context, ss auth.Session) error {
	return s.write(ctx, "create session", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(qInsertSession), ss.IDHash, ss.UserID, ss.CSRF,
			s.time(ss.Created), s.time(ss.LastSeen), s.time(ss.Expires), ss.Method)
		switch s.d.Constraint(err) {
		case Unique:
			return errs.E(errs.Conflict, "session exists already")
		case ForeignKey:
			return userNotFound(fmt.Sprintf("%q", ss.UserID))
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(qSignedIn), s.time(ss.Created), ss.Method, ss.UserID)
		return notFoundIfNone(res, err, userNotFound(fmt.Sprintf("%q", ss.UserID)))
	})
}

// Session returns the session whose id hashes to idHash, or an error of kind NotFound.
func (s *Store) Session(ctx context.Context, idHash string) (auth.Session, error) {
	ss, err := scanSession(s.db.QueryRowContext(ctx, s.q(qSession), idHash))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return auth.Session{}, errNoSession
	case err != nil:
		return auth.Session{}, s.fail(err, "read session")
	}
	return ss, nil
}

// TouchSession records that the session was used at seen.
func (s *Store) TouchSession(ctx context.Context, idHash string, seen time.Time) error {
	return s.write(ctx, "touch session", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(qTouchSession), s.time(seen), idHash)
		return notFoundIfNone(res, err, errNoSession)
	})
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	return s.write(ctx, "delete session", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(qDeleteSession), idHash)
		return notFoundIfNone(res, err, errNoSession)
	})
}

// DeleteUserSessions ends every session of a user.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) error {
	return s.write(ctx, "delete sessions of "+userID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(qDeleteSessions), userID)
		return err
	})
}

// DeleteExpiredSessions deletes the sessions whose lifetime ended before now, and says how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "delete expired sessions", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(qDeleteExpired), s.time(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

func scanToken(row scanner) (auth.Token, error) {
	var (
		t       auth.Token
		org     sql.NullString
		actions string
	)
	err := row.Scan(&t.ID, &t.Name, &t.Hash, &t.Owner, &org, &actions, timeCol{&t.Created}, timeCol{&t.Expires},
		timeCol{&t.LastUsed}, timeCol{&t.Revoked})
	t.Org = org.String
	for a := range strings.FieldsSeq(actions) {
		t.Actions = append(t.Actions, auth.Action(a))
	}
	return t, err
}

func tokenNotFound(id string) error { return errs.E(errs.NotFound, "API token %q not found", id) }

// CreateToken inserts t and appends e.
func (s *Store) CreateToken(ctx context.Context, t auth.Token, e audit.Entry) error {
	actions := make([]string, len(t.Actions))
	for i, a := range t.Actions {
		actions[i] = string(a)
	}
	return s.write(ctx, fmt.Sprintf("create API token %q", t.ID), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(qInsertToken), t.ID, t.Name, t.Hash, t.Owner, nullString(t.Org),
			strings.Join(actions, " "), s.time(t.Created), s.nullTime(t.Expires), s.nullTime(t.LastUsed), s.nullTime(t.Revoked))
		switch s.d.Constraint(err) {
		case Unique:
			return errs.E(errs.Conflict, "API token %q exists already", t.ID)
		case ForeignKey:
			return errs.Field("org", "the owner %q or the organization %q does not exist", t.Owner, t.Org)
		}
		if err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, e)
	})
}

// Token returns the token id, or an error of kind NotFound.
func (s *Store) Token(ctx context.Context, id string) (auth.Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, s.q(qToken), id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return auth.Token{}, tokenNotFound(id)
	case err != nil:
		return auth.Token{}, s.fail(err, fmt.Sprintf("read API token %q", id))
	}
	return t, nil
}

// Tokens returns one page of the tokens f selects, newest first, and how many it selects.
func (s *Store) Tokens(ctx context.Context, f auth.TokenFilter) ([]auth.Token, int, error) {
	var w filter
	if f.Under != "" {
		w.under(f.Under)
		w.conds = append(w.conds, "org IN (SELECT code FROM subtree)")
	}
	if f.Owner != "" {
		w.add("owner = ?", f.Owner)
	}
	return list(ctx, s, "list API tokens", "api_tokens", tokenColumns, "created DESC, id", w, bounded(f.Page), scanToken)
}

// RevokeToken sets the revocation time of token id and appends e. A token revoked already
// is a Conflict, and keeps its first revocation time.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time, e audit.Entry) error {
	return s.write(ctx, fmt.Sprintf("revoke API token %q", id), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(qRevokeToken), s.time(at), id)
		if err := notFoundIfNone(res, err, tokenNotFound(id)); errs.Is(err, errs.NotFound) {
			if ok, err := s.exists(ctx, tx, qTokenExists, id); err != nil || !ok {
				return cmp.Or(err, tokenNotFound(id))
			}
			return errs.E(errs.Conflict, "API token %q is revoked already", id)
		} else if err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, e)
	})
}

// TouchToken records that the token was used at at.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	return s.write(ctx, "touch API token", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(qTouchToken), s.time(at), id)
		return notFoundIfNone(res, err, tokenNotFound(id))
	})
}

func scanThrottle(row scanner) (auth.Throttle, error) {
	var t auth.Throttle
	err := row.Scan(&t.Key, &t.Failures, timeCol{&t.LastFailure}, timeCol{&t.LockedUntil})
	return t, err
}

// LoginFailure counts a failed sign-in under key, in one statement so that failures at once
// are all counted; one after a quiet window starts the count again.
func (s *Store) LoginFailure(ctx context.Context, key string, at time.Time, window time.Duration) (auth.Throttle, error) {
	var t auth.Throttle
	err := s.write(ctx, "count failed sign-in", func(tx *sql.Tx) error {
		var err error
		t, err = scanThrottle(tx.QueryRowContext(ctx, s.q(qRecordFailure), key, s.time(at), s.time(at.Add(-window))))
		return err
	})
	return t, err
}

// LockLogin refuses sign-ins under key until until.
func (s *Store) LockLogin(ctx context.Context, key string, until time.Time) error {
	return s.write(ctx, "lock sign-in", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(qLockLogin), s.time(until), key)
		return notFoundIfNone(res, err, errs.E(errs.NotFound, "no failed sign-in recorded for %s", key))
	})
}

// LoginThrottle returns the failures recorded under key, or an error of kind NotFound.
func (s *Store) LoginThrottle(ctx context.Context, key string) (auth.Throttle, error) {
	t, err := scanThrottle(s.db.QueryRowContext(ctx, s.q(qThrottle), key))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return auth.Throttle{}, errs.E(errs.NotFound, "no failed sign-in recorded for %s", key)
	case err != nil:
		return auth.Throttle{}, s.fail(err, "read sign-in failures")
	}
	return t, nil
}

// LoginThrottles returns the failures recorded under those of keys that have any.
func (s *Store) LoginThrottles(ctx context.Context, keys []string) ([]auth.Throttle, error) {
	ts, err := collectIn(ctx, s, scanThrottle, qThrottles, keys)
	if err != nil {
		return nil, s.fail(err, "read sign-in failures")
	}
	return ts, nil
}

// maxIn bounds the arguments of one IN list, well below what either engine accepts
// (SQLite 32,766, PostgreSQL 65,535), so that a long list costs a few queries, not an error.
const maxIn = 500

// collectIn runs query, which ends in "IN ", over keys in lists of at most maxIn, and
// returns every row once: a key given twice is asked once. No key, no query.
func collectIn[T any](ctx context.Context, s *Store, scan func(scanner) (T, error), query string, keys []string) ([]T, error) {
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	var out []T
	for chunk := range slices.Chunk(keys, maxIn) {
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = k
		}
		rows, err := collect(ctx, s, s.db, scan, query+placeholders(len(chunk)), args...)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// ClearLoginFailures forgets the failures under key.
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	return s.write(ctx, "clear failed sign-ins", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(qClearThrottle), key)
		return err
	})
}

// The links of OpenID Connect identities to accounts, and the sign-ins through a provider
// under way, of auth.OIDCStore.

const (
	oidcLinkColumns    = `issuer, subject, user_id, email, created`
	qOIDCLink          = `SELECT ` + oidcLinkColumns + ` FROM oidc_links WHERE issuer = ? AND subject = ?`
	qOIDCLinks         = `SELECT ` + oidcLinkColumns + ` FROM oidc_links WHERE user_id = ? ORDER BY created, issuer, subject`
	qOIDCLinksOf       = `SELECT ` + oidcLinkColumns + ` FROM oidc_links WHERE user_id IN `
	qInsertOIDCLink    = `INSERT INTO oidc_links (` + oidcLinkColumns + `) VALUES (?, ?, ?, ?, ?)`
	oidcPendingColumns = `state_hash, nonce, verifier, user_id, created, expires, issuer, subject`
	qInsertOIDCPending = `INSERT INTO oidc_pending (` + oidcPendingColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qOIDCPending       = `SELECT ` + oidcPendingColumns + ` FROM oidc_pending WHERE state_hash = ?`
	qDeleteOIDCPending = `DELETE FROM oidc_pending WHERE state_hash = ?`
	qExpireOIDCPending = `DELETE FROM oidc_pending WHERE expires < ?`
)

func scanOIDCLink(row scanner) (auth.OIDCLink, error) {
	var l auth.OIDCLink
	err := row.Scan(&l.Issuer, &l.Subject, &l.UserID, &l.Email, timeCol{&l.Created})
	return l, err
}

// OIDCLink returns the link of the identity (issuer, subject), or an error of kind NotFound.
func (s *Store) OIDCLink(ctx context.Context, issuer, subject string) (auth.OIDCLink, error) {
	l, err := scanOIDCLink(s.db.QueryRowContext(ctx, s.q(qOIDCLink), issuer, subject))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return auth.OIDCLink{}, errs.E(errs.NotFound, "no account is linked to the subject %q of %s", subject, issuer)
	case err != nil:
		return auth.OIDCLink{}, s.fail(err, "read OIDC link")
	}
	return l, nil
}

// OIDCLinks returns the links of an account, oldest first.
func (s *Store) OIDCLinks(ctx context.Context, userID string) ([]auth.OIDCLink, error) {
	ls, err := collect(ctx, s, s.db, scanOIDCLink, qOIDCLinks, userID)
	if err != nil {
		return nil, s.fail(err, "list OIDC links of "+userID)
	}
	return ls, nil
}

// OIDCLinksOf returns the links of the accounts userIDs.
func (s *Store) OIDCLinksOf(ctx context.Context, userIDs []string) ([]auth.OIDCLink, error) {
	ls, err := collectIn(ctx, s, scanOIDCLink, qOIDCLinksOf, userIDs)
	if err != nil {
		return nil, s.fail(err, fmt.Sprintf("list OIDC links of %d accounts", len(userIDs)))
	}
	return ls, nil
}

// CreateOIDCLink inserts l and appends e. An identity linked already is a Conflict, as is a
// link by e-mail to an account that has one of the same issuer already (the unique index
// oidc_links_user_issuer_email, which settles concurrent first sign-ins); an account that
// does not exist is NotFound.
func (s *Store) CreateOIDCLink(ctx context.Context, l auth.OIDCLink, e audit.Entry) error {
	return s.write(ctx, "link OIDC identity to "+l.UserID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(qInsertOIDCLink), l.Issuer, l.Subject, l.UserID, l.Email, s.time(l.Created))
		switch s.d.Constraint(err) {
		case Unique:
			if l.Email != "" {
				return errs.E(errs.Conflict, "the subject %q of %s is linked to an account already, or the account to another subject of %s by e-mail",
					l.Subject, l.Issuer, l.Issuer)
			}
			return errs.E(errs.Conflict, "the subject %q of %s is linked to an account already", l.Subject, l.Issuer)
		case ForeignKey:
			return userNotFound(fmt.Sprintf("%q", l.UserID))
		}
		if err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, e)
	})
}

// CreateOIDCPending inserts p and deletes the pending sign-ins that expired before p began.
func (s *Store) CreateOIDCPending(ctx context.Context, p auth.OIDCPending) error {
	return s.write(ctx, "start OIDC sign-in", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(qExpireOIDCPending), s.time(p.Created)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(qInsertOIDCPending), p.StateHash, p.Nonce, p.Verifier, p.UserID,
			s.time(p.Created), s.time(p.Expires), p.Issuer, p.Subject)
		if s.d.Constraint(err) == Unique {
			return errs.E(errs.Conflict, "the OIDC state is in use")
		}
		return err
	})
}

// TakeOIDCPending deletes the pending sign-in of stateHash and returns it. Of two requests
// that present the same state, only the one whose delete removes the row gets it.
func (s *Store) TakeOIDCPending(ctx context.Context, stateHash string, now time.Time) (auth.OIDCPending, error) {
	notFound := errs.E(errs.NotFound, "no OIDC sign-in is under way with this state")
	var p auth.OIDCPending
	err := s.write(ctx, "take OIDC sign-in", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.q(qOIDCPending), stateHash).Scan(&p.StateHash, &p.Nonce, &p.Verifier, &p.UserID,
			timeCol{&p.Created}, timeCol{&p.Expires}, &p.Issuer, &p.Subject)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(qDeleteOIDCPending), stateHash)
		return notFoundIfNone(res, err, notFound)
	})
	if err != nil {
		return auth.OIDCPending{}, err
	}
	if !now.Before(p.Expires) { // deleted all the same: an expired state is as spent as a used one
		return auth.OIDCPending{}, notFound
	}
	return p, nil
}
