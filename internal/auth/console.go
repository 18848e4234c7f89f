package auth

import (
	"context"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/errs"
)

// What the dashboard's administration pages and the command line need beyond the API: the
// audit log's chain verified, and the sign-in locks and provider links of accounts. Each
// method checks the principal of its context as the others of Service do, so the pages
// cannot show or change more than the API would.

// auditReader returns the principal of ctx if it may read the audit log.
func auditReader(ctx context.Context) (Principal, error) {
	p, err := need(ctx)
	if err != nil {
		return Principal{}, err
	}
	if !p.Has(AuditRead) {
		return Principal{}, errs.E(errs.Forbidden, "your role (%s) does not allow %s", p.roleName(), AuditRead)
	}
	return p, nil
}

// VerifyAudit checks the whole audit log's chain, as `khien audit verify` does, for a
// principal that may read the log. It returns the number of entries checked and, when the
// chain is broken, an error holding an *audit.BrokenError that names the first bad entry.
// A reader of a subtree learns only that number, not the entry's content.
func (s *Service) VerifyAudit(ctx context.Context) (int64, error) {
	if _, err := auditReader(ctx); err != nil {
		return 0, err
	}
	return s.log.Verify(ctx)
}

// AuditVerification returns the latest whole-chain check of the audit log made by this
// process (or, before the first, the one under way or a new one), for a principal that may
// read the log. The server checks the chain periodically (audit.Log.VerifyEvery), so that the
// audit page need not read the whole log, which only grows, on every load.
func (s *Service) AuditVerification(ctx context.Context) (audit.Verification, error) {
	if _, err := auditReader(ctx); err != nil {
		return audit.Verification{}, err
	}
	return s.log.Verified(ctx)
}

// SignInLock returns until when sign-ins to an account of the principal's subtree are
// refused after repeated failures; the zero time when they are not.
func (s *Service) SignInLock(ctx context.Context, id string) (time.Time, error) {
	p, err := s.manager(ctx)
	if err != nil {
		return time.Time{}, err
	}
	u, err := s.visibleUser(ctx, p, id)
	if err != nil {
		return time.Time{}, err
	}
	t, err := s.store.LoginThrottle(ctx, loginKey(u.Login))
	if errs.Is(err, errs.NotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return s.lockedUntil(t), nil
}

// loginKey is the key under which the failed sign-ins to an account are counted.
func loginKey(login string) string { return "login:" + login }

// lockedUntil is until when t refuses sign-ins from now; the zero time when it does not.
func (s *Service) lockedUntil(t Throttle) time.Time {
	if !s.now().Before(t.LockedUntil) {
		return time.Time{}
	}
	return t.LockedUntil
}

// Account is an account as the administration lists show it: the user with what other
// tables hold about it.
type Account struct {
	User
	// LockedUntil is until when sign-ins are refused after repeated failures; zero when not.
	LockedUntil time.Time
	// OIDCLinks is how many identities of a provider sign in as the account.
	OIDCLinks int
}

// Accounts lists the accounts of the principal's subtree that f selects, as Users does,
// each with its sign-in lock and links: a fixed number of queries however long the page,
// where SignInLock for each account would cost two per row.
func (s *Service) Accounts(ctx context.Context, f UserFilter) ([]Account, int, error) {
	us, total, err := s.Users(ctx, f) // checks the principal and keeps to its subtree
	if err != nil || len(us) == 0 {
		return nil, total, err
	}
	keys, ids := make([]string, len(us)), make([]string, len(us))
	for i, u := range us {
		keys[i], ids[i] = loginKey(u.Login), u.ID
	}
	ts, err := s.store.LoginThrottles(ctx, keys)
	if err != nil {
		return nil, 0, err
	}
	locks := make(map[string]time.Time, len(ts))
	for _, t := range ts {
		locks[t.Key] = s.lockedUntil(t)
	}
	st, err := s.oidcStore()
	if err != nil {
		return nil, 0, err
	}
	ls, err := st.OIDCLinksOf(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	links := make(map[string]int, len(ls))
	for _, l := range ls {
		links[l.UserID]++
	}
	as := make([]Account, len(us))
	for i, u := range us {
		as[i] = Account{User: u, LockedUntil: locks[loginKey(u.Login)], OIDCLinks: links[u.ID]}
	}
	return as, total, nil
}

// ClearSignInLock forgets the failed sign-ins of an account of the principal's subtree, so
// that it may sign in again at once, and records that in the audit log.
func (s *Service) ClearSignInLock(ctx context.Context, id string) error {
	p, err := s.manager(ctx)
	if err != nil {
		return err
	}
	u, err := s.visibleUser(ctx, p, id)
	if err != nil {
		return err
	}
	if err := s.store.ClearLoginFailures(ctx, loginKey(u.Login)); err != nil {
		return err
	}
	_, err = s.log.Record(ctx, audit.Record{Action: "user.unlock", ObjectType: "user", ObjectID: u.ID, Org: u.Org,
		After: userRecord(u)})
	return err
}

// NewPassword returns a random password of 24 letters and digits, for an account an
// administrator creates or resets: shown once, to be handed over and changed.
func NewPassword() string { return randomString(15) }
