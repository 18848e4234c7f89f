package auth

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/errs"
)

// Sign-in through an OpenID Connect provider, for agencies that have one. The provider only
// says who someone is; what they may do stays Khiên's: an identity signs in as the Khiên
// account it is linked to, with that account's role and scope, and nothing is created for an
// identity that has no account.
//
// An identity (issuer and subject) is linked to an account once, either by the operator
// (khien user link-oidc) or at its first sign-in, when the provider vouches for an e-mail
// address (email_verified true, ASCII only) that is the login of an account no other identity
// of the same provider is linked to. Afterwards the link alone counts: a changed address
// changes nothing. An account guarded by a second factor (an administrator's, or one with a
// local one-time code) is never linked by e-mail, only by an operator: a link made at a
// sign-in that then fails the second factor would stay.
//
// Administrators need a second factor whichever way they sign in. The provider's word is taken
// when its ID token says a second factor was used (amr holding mfa, otp, hwk or sc); otherwise
// an administrator with a local second factor enters its one-time code after the provider,
// and one without is refused.

// OIDCLink ties an identity of a provider to a Khiên account.
type OIDCLink struct {
	Issuer, Subject string
	UserID          string
	Email           string // the verified address the link was made by; empty when the operator made it
	Created         time.Time
}

// OIDCPending is a sign-in under way. The browser holds the state (or, while a local one-time
// code is awaited, the step-up token) in a cookie; the store keeps its SHA-256 and what the
// callback must check, so that each can be used once.
type OIDCPending struct {
	StateHash string
	Nonce     string
	Verifier  string // the PKCE code verifier
	UserID    string // set while a local one-time code is awaited
	// Issuer and Subject are the provider's identity a local one-time code is awaited for,
	// named in the audit entry of the sign-in once the code is right.
	Issuer, Subject string
	Created         time.Time
	Expires         time.Time
}

// OIDCStore keeps links and pending sign-ins. store/sqlite and store/postgres implement it.
type OIDCStore interface {
	// OIDCLink returns the link of an identity, NotFound when it has none.
	OIDCLink(ctx context.Context, issuer, subject string) (OIDCLink, error)
	// OIDCLinks returns the links of an account, oldest first.
	OIDCLinks(ctx context.Context, userID string) ([]OIDCLink, error)
	// OIDCLinksOf returns the links of all of the accounts userIDs, in no particular order:
	// one query for a list of accounts instead of one per account.
	OIDCLinksOf(ctx context.Context, userIDs []string) ([]OIDCLink, error)
	// CreateOIDCLink stores l and appends e; an identity linked already is a Conflict.
	CreateOIDCLink(ctx context.Context, l OIDCLink, e audit.Entry) error
	// CreateOIDCPending stores p, and forgets the pending sign-ins that expired.
	CreateOIDCPending(ctx context.Context, p OIDCPending) error
	// TakeOIDCPending deletes and returns the pending sign-in of stateHash; NotFound when
	// there is none, or it expired before now, or another request took it first.
	TakeOIDCPending(ctx context.Context, stateHash string, now time.Time) (OIDCPending, error)
}

// Lifetimes of pending sign-ins.
const (
	oidcPendingTTL = 10 * time.Minute // to sign in at the provider and come back
	oidcStepUpTTL  = 5 * time.Minute  // to enter the local one-time code after it
)

func (s *Service) oidcStore() (OIDCStore, error) {
	st, ok := s.store.(OIDCStore)
	if !ok {
		return nil, fmt.Errorf("the store %T keeps no OIDC links", s.store)
	}
	return st, nil
}

// OIDCStart is what the browser is sent to the provider with. State goes in a cookie too.
type OIDCStart struct {
	State, Nonce, Verifier string
}

// StartOIDC opens a sign-in through the provider: a fresh state, nonce and PKCE verifier,
// kept for ten minutes.
func (s *Service) StartOIDC(ctx context.Context) (OIDCStart, error) {
	st, err := s.oidcStore()
	if err != nil {
		return OIDCStart{}, err
	}
	now := s.now().UTC()
	// 32 random bytes each; the verifier's base32 alphabet is within RFC 7636's unreserved set.
	o := OIDCStart{State: randomString(32), Nonce: randomString(32), Verifier: randomString(40)}
	p := OIDCPending{StateHash: hashHex(o.State), Nonce: o.Nonce, Verifier: o.Verifier, Created: now, Expires: now.Add(oidcPendingTTL)}
	if err := st.CreateOIDCPending(ctx, p); err != nil {
		return OIDCStart{}, err
	}
	return o, nil
}

// TakeOIDC returns the pending sign-in of state and forgets it: a state works once.
func (s *Service) TakeOIDC(ctx context.Context, state string) (OIDCPending, error) {
	st, err := s.oidcStore()
	if err != nil {
		return OIDCPending{}, err
	}
	if state == "" || len(state) > 256 {
		return OIDCPending{}, &OIDCError{Reason: ReasonState}
	}
	p, err := st.TakeOIDCPending(ctx, hashHex(state), s.now().UTC())
	if errs.Is(err, errs.NotFound) {
		return OIDCPending{}, &OIDCError{Reason: ReasonReplay, Err: err}
	}
	if err != nil {
		return OIDCPending{}, err
	}
	if p.UserID != "" { // a step-up token is not a state
		return OIDCPending{}, &OIDCError{Reason: ReasonState}
	}
	return p, nil
}

// OIDCClient is where a sign-in comes from.
type OIDCClient struct {
	ClientIP string
	// Replace is the session id the browser still holds, if any: it is ended.
	Replace string
}

// OIDCSignIn signs in the account linked to id, linking it first by its verified e-mail
// address if it has no link yet. An administrator whose provider reports no second factor
// gets no session but a step-up token: the sign-in ends with OIDCTOTP. Every refusal is an
// *OIDCError and is recorded in the audit log, as is every sign-in.
func (s *Service) OIDCSignIn(ctx context.Context, id Identity, c OIDCClient) (ns NewSession, stepUp string, err error) {
	st, err := s.oidcStore()
	if err != nil {
		return NewSession{}, "", err
	}
	u, link, err := s.oidcUser(ctx, st, id)
	if err != nil {
		return NewSession{}, "", s.oidcFailed(ctx, id, u, err)
	}
	if u.Disabled {
		return NewSession{}, "", s.oidcFailed(ctx, id, u, &OIDCError{Reason: ReasonDisabled})
	}
	mfa := "none"
	if u.Role.NeedsMFA() || u.TOTPSecret != "" {
		switch {
		case id.MFA():
			mfa = "provider"
		case u.TOTPSecret == "":
			return NewSession{}, "", s.oidcFailed(ctx, id, u, &OIDCError{Reason: ReasonMFA,
				Err: fmt.Errorf("%s needs a second factor: the provider reported none (amr %q) and the account has no local one", u.Login, id.AMR)})
		}
	}
	if link != nil {
		ctxU := audit.WithActor(ctx, "user:"+u.Login)
		e, err := s.log.Entry(ctxU, audit.Record{Action: "user.link_oidc", ObjectType: "user", ObjectID: u.ID, Org: u.Org,
			After: linkRecord(*link)})
		if err != nil {
			return NewSession{}, "", err
		}
		if err := st.CreateOIDCLink(ctx, *link, e); err != nil {
			if errs.Is(err, errs.Conflict) {
				// Another first sign-in linked this identity, or another one of the provider, to
				// the account meanwhile: the store's unique index settles the race.
				return NewSession{}, "", s.oidcFailed(ctx, id, u, &OIDCError{Reason: ReasonLinkedOther, Err: err})
			}
			return NewSession{}, "", err
		}
	}
	if mfa == "none" && (u.Role.NeedsMFA() || u.TOTPSecret != "") {
		// The local one-time code comes next, with a token of its own that works once.
		now := s.now().UTC()
		token := randomString(32)
		p := OIDCPending{StateHash: hashHex(token), UserID: u.ID, Issuer: id.Issuer, Subject: id.Subject,
			Created: now, Expires: now.Add(oidcStepUpTTL)}
		if err := st.CreateOIDCPending(ctx, p); err != nil {
			return NewSession{}, "", err
		}
		return NewSession{}, token, nil
	}
	ns, err = s.openSession(ctx, u, c.Replace, id, mfa)
	return ns, "", err
}

// OIDCTOTP ends a sign-in through the provider with the local one-time code of the account
// its step-up token was given for. The token works once, right or wrong; wrong codes count
// towards the lock of the login and the address, as on the sign-in form.
func (s *Service) OIDCTOTP(ctx context.Context, token, code string, c OIDCClient) (NewSession, error) {
	st, err := s.oidcStore()
	if err != nil {
		return NewSession{}, err
	}
	if token == "" || len(token) > 256 {
		return NewSession{}, &OIDCError{Reason: ReasonState}
	}
	now := s.now().UTC()
	p, err := st.TakeOIDCPending(ctx, hashHex(token), now)
	if errs.Is(err, errs.NotFound) {
		return NewSession{}, &OIDCError{Reason: ReasonReplay, Err: err}
	}
	if err != nil {
		return NewSession{}, err
	}
	if p.UserID == "" {
		return NewSession{}, &OIDCError{Reason: ReasonState}
	}
	u, err := s.store.User(ctx, p.UserID)
	if err != nil {
		return NewSession{}, err
	}
	id := Identity{Issuer: cmp.Or(p.Issuer, "step-up"), Subject: p.Subject}
	keys := []string{"login:" + u.Login}
	if c.ClientIP != "" {
		keys = append(keys, "ip:"+c.ClientIP)
	}
	if err := s.checkLocked(ctx, keys, now); err != nil {
		return NewSession{}, s.oidcFailed(ctx, id, u, &OIDCError{Reason: ReasonLocked, Err: err})
	}
	if u.Disabled {
		return NewSession{}, s.oidcFailed(ctx, id, u, &OIDCError{Reason: ReasonDisabled})
	}
	secret, err := s.seal.Open(u.TOTPSecret, u.ID)
	if err != nil {
		return NewSession{}, fmt.Errorf("sign in %s: second factor: %w", u.Login, err)
	}
	step, ok := checkTOTP(secret, code, now, u.TOTPLast)
	if !ok {
		if ferr := s.failed(ctx, keys, now); !errs.Is(ferr, errs.Unauthenticated) && !errs.Is(ferr, errs.Forbidden) {
			return NewSession{}, ferr
		}
		return NewSession{}, s.oidcFailed(ctx, id, u, &OIDCError{Reason: ReasonTOTP})
	}
	u.TOTPLast = step
	if err := s.store.UpdateUser(ctx, u, nil); err != nil {
		return NewSession{}, err
	}
	if err := s.store.ClearLoginFailures(ctx, keys[0]); err != nil {
		return NewSession{}, err
	}
	return s.openSession(ctx, u, c.Replace, Identity{Issuer: p.Issuer, Subject: p.Subject}, "totp")
}

// oidcUser finds the account of id. It returns the link to create when the account was
// found by its verified e-mail address.
func (s *Service) oidcUser(ctx context.Context, st OIDCStore, id Identity) (User, *OIDCLink, error) {
	l, err := st.OIDCLink(ctx, id.Issuer, id.Subject)
	if err == nil {
		u, err := s.store.User(ctx, l.UserID)
		return u, nil, err
	}
	if !errs.Is(err, errs.NotFound) {
		return User{}, nil, err
	}
	switch {
	case id.Email == "":
		return User{}, nil, &OIDCError{Reason: ReasonNoAccount, Err: fmt.Errorf("no link and no e-mail address")}
	case !id.EmailVerified:
		return User{}, nil, &OIDCError{Reason: ReasonUnverified, Err: fmt.Errorf("the provider does not vouch for %s", id.Email)}
	case !asciiEmail(id.Email):
		// Case folding of other scripts maps distinct mailboxes to one login (U+212A KELVIN
		// SIGN lowers to k), so only an ASCII address is matched to a login.
		return User{}, nil, &OIDCError{Reason: ReasonEmailASCII, Err: fmt.Errorf("the address %q is not ASCII", id.Email)}
	}
	u, err := s.store.UserByLogin(ctx, normLogin(id.Email))
	if errs.Is(err, errs.NotFound) {
		return User{}, nil, &OIDCError{Reason: ReasonNoAccount, Err: fmt.Errorf("no account has the login %s", id.Email)}
	}
	if err != nil {
		return User{}, nil, err
	}
	if u.Role.NeedsMFA() || u.TOTPSecret != "" {
		// The link would outlive the step-up it precedes: an identity that never passes the
		// local second factor would stay linked to the account, and its owner's own identity
		// be refused. So an account guarded by a second factor is linked only by an operator.
		return u, nil, &OIDCError{Reason: ReasonLinkRequired,
			Err: fmt.Errorf("%s has a second factor: its identity is linked by an operator (khien user link-oidc), never by e-mail", u.Login)}
	}
	links, err := st.OIDCLinks(ctx, u.ID)
	if err != nil {
		return User{}, nil, err
	}
	for _, l := range links {
		if l.Issuer == id.Issuer {
			return u, nil, &OIDCError{Reason: ReasonLinkedOther,
				Err: fmt.Errorf("%s is linked to the subject %q of this provider already", u.Login, l.Subject)}
		}
	}
	return u, &OIDCLink{Issuer: id.Issuer, Subject: id.Subject, UserID: u.ID, Email: id.Email, Created: s.now().UTC()}, nil
}

// asciiEmail reports whether the address is printable ASCII, the only kind linked by e-mail.
func asciiEmail(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// openSession starts a session of u as Login does, ending the one the browser held, and
// records the sign-in: in the audit log, and as the account's last sign-in (by the store,
// with the session).
func (s *Service) openSession(ctx context.Context, u User, replace string, id Identity, mfa string) (NewSession, error) {
	now := s.now().UTC()
	if replace != "" {
		if err := s.store.DeleteSession(ctx, hashHex(replace)); err != nil && !errs.Is(err, errs.NotFound) {
			return NewSession{}, err
		}
	}
	if _, err := s.store.DeleteExpiredSessions(ctx, now); err != nil {
		return NewSession{}, err
	}
	sid := randomString(32)
	sess := Session{IDHash: hashHex(sid), UserID: u.ID, CSRF: randomString(32), Created: now, LastSeen: now,
		Expires: now.Add(s.lifetime), Method: MethodOIDC}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return NewSession{}, err
	}
	u.LastLogin, u.LastLoginMethod = now, MethodOIDC
	after := map[string]any{"method": "oidc", "second_factor": mfa}
	if id.Issuer != "" {
		after["issuer"], after["subject"] = id.Issuer, id.Subject
	}
	if _, err := s.log.Record(audit.WithActor(ctx, "user:"+u.Login), audit.Record{Action: "user.signin", ObjectType: "user",
		ObjectID: u.ID, Org: u.Org, After: after}); err != nil {
		return NewSession{}, err
	}
	return NewSession{ID: sid, Session: sess, User: u}, nil
}

// oidcFailed records a refused sign-in and returns err. u is the account, if one was found.
func (s *Service) oidcFailed(ctx context.Context, id Identity, u User, err error) error {
	if _, ok := err.(*OIDCError); !ok {
		return err // a failure of Khiên's, not a refusal
	}
	if aerr := s.AuditOIDCFailure(ctx, err, id, u); aerr != nil {
		return aerr
	}
	return err
}

// AuditOIDCFailure records in the audit log that a sign-in through the provider was refused
// for the reason of err (an *OIDCError): who the provider said it was, if it got that far,
// and the account, if one was found.
func (s *Service) AuditOIDCFailure(ctx context.Context, err error, id Identity, u User) error {
	reason := "internal"
	if oe, ok := err.(*OIDCError); ok {
		reason = string(oe.Reason)
	}
	after := map[string]any{"method": "oidc", "reason": reason}
	if id.Issuer != "" && id.Issuer != "step-up" {
		after["issuer"], after["subject"] = id.Issuer, id.Subject
	}
	actor := "anonymous"
	switch {
	case u.Login != "":
		actor = "user:" + u.Login
	case id.Subject != "":
		actor = "oidc:" + id.Subject
	}
	_, aerr := s.log.Record(audit.WithActor(ctx, actor), audit.Record{Action: "user.signin_failed", ObjectType: "user",
		ObjectID: u.ID, Org: u.Org, After: after})
	return aerr
}

// LinkOIDC links the identity (issuer, subject) to an account of the principal's subtree, so
// that it signs in as that account whatever its e-mail address.
func (s *Service) LinkOIDC(ctx context.Context, userID, issuer, subject string) (OIDCLink, error) {
	p, err := s.manager(ctx)
	if err != nil {
		return OIDCLink{}, err
	}
	u, err := s.visibleUser(ctx, p, userID)
	if err != nil {
		return OIDCLink{}, err
	}
	st, err := s.oidcStore()
	if err != nil {
		return OIDCLink{}, err
	}
	issuer, subject = strings.TrimSpace(issuer), strings.TrimSpace(subject)
	if err := checkProviderURL("issuer", issuer); err != nil {
		return OIDCLink{}, errs.Field("issuer", "%s", strings.TrimPrefix(err.Error(), "OIDC: "))
	}
	if subject == "" || len(subject) > 255 {
		return OIDCLink{}, errs.Field("subject", "is required: the provider's sub claim for the person, up to 255 bytes")
	}
	l := OIDCLink{Issuer: issuer, Subject: subject, UserID: u.ID, Created: s.now().UTC()}
	e, err := s.log.Entry(ctx, audit.Record{Action: "user.link_oidc", ObjectType: "user", ObjectID: u.ID, Org: u.Org,
		After: linkRecord(l)})
	if err != nil {
		return OIDCLink{}, err
	}
	if err := st.CreateOIDCLink(ctx, l, e); err != nil {
		return OIDCLink{}, err
	}
	return l, nil
}

// linkRecord is the audit form of a link.
func linkRecord(l OIDCLink) map[string]any {
	return map[string]any{"issuer": l.Issuer, "subject": l.Subject, "by_email": l.Email != ""}
}
