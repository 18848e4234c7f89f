package web

import (
	"encoding/json"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/auth"
)

// The wire form of sessions, accounts, API tokens and the audit log. No secret is ever in
// them except where it is made: the session's CSRF token to its own session, a new token's
// secret and a new second factor's provisioning URI in the response that creates them.

type loginJSON struct {
	Login    string `json:"login"`
	Password string `json:"password"`
	TOTP     string `json:"totp"`
}

type sessionJSON struct {
	User      userJSON  `json:"user"`
	CSRFToken string    `json:"csrf_token"`
	Expires   time.Time `json:"expires"`
}

type userJSON struct {
	ID       string    `json:"id"`
	Login    string    `json:"login"`
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	Org      string    `json:"org"`
	MFA      bool      `json:"mfa"`
	Disabled bool      `json:"disabled"`
	Created  time.Time `json:"created,omitzero"`
	Updated  time.Time `json:"updated,omitzero"`
	// LastLogin and LastLoginMethod are the account's last sign-in; absent before the first.
	LastLogin       time.Time `json:"last_login,omitzero"`
	LastLoginMethod string    `json:"last_login_method,omitempty"`
	// TOTPURI sets up the second factor just enrolled; it is shown this once.
	TOTPURI string `json:"totp_uri,omitempty"`
}

func userToJSON(u auth.User) userJSON {
	j := userJSON{ID: u.ID, Login: u.Login, Name: u.Name, Role: string(u.Role), Org: u.Org, MFA: u.TOTPSecret != "",
		Disabled: u.Disabled, Created: u.Created.UTC(), Updated: u.Updated.UTC()}
	if !u.LastLogin.IsZero() {
		j.LastLogin, j.LastLoginMethod = u.LastLogin.UTC(), u.LastLoginMethod
	}
	return j
}

// userInputJSON creates (with login and password) or updates an account. The read-only
// properties of userJSON are accepted, so that a GET body can be edited and sent back.
type userInputJSON struct {
	ID       string    `json:"id"`
	Login    string    `json:"login"`
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	Org      string    `json:"org"`
	Password string    `json:"password"`
	MFA      bool      `json:"mfa"`
	Disabled bool      `json:"disabled"`
	Created  time.Time `json:"created,omitzero"`
	Updated  time.Time `json:"updated,omitzero"`
	// Read-only, ignored.
	LastLogin       time.Time `json:"last_login,omitzero"`
	LastLoginMethod string    `json:"last_login_method,omitempty"`
}

type meJSON struct {
	Kind      string   `json:"kind"`
	UserID    string   `json:"user_id"`
	Login     string   `json:"login"`
	Name      string   `json:"name"`
	Role      string   `json:"role"`
	Org       string   `json:"org"`
	Actions   []string `json:"actions"`
	MFA       bool     `json:"mfa"`
	CSRFToken string   `json:"csrf_token,omitempty"` // a session's
	Token     string   `json:"token,omitempty"`      // an API token's public part
}

func meToJSON(p auth.Principal) meJSON {
	j := meJSON{Kind: string(p.Kind), UserID: p.UserID, Login: p.Login, Name: p.Name, Role: string(p.Role), Org: p.Scope,
		Actions: actionStrings(p.Actions), MFA: p.MFA, CSRFToken: p.CSRF}
	if p.Kind == auth.KindToken {
		j.Token = auth.TokenPrefix + p.TokenID
	}
	return j
}

func actionStrings(as []auth.Action) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, string(a))
	}
	return out
}

type tokenJSON struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Prefix   string    `json:"prefix"`
	Owner    string    `json:"owner"`
	Org      string    `json:"org"`
	Actions  []string  `json:"actions"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires,omitzero"`
	LastUsed time.Time `json:"last_used,omitzero"`
	Revoked  time.Time `json:"revoked,omitzero"`
	// Secret is the whole token, in the response that creates it and never again.
	Secret string `json:"secret,omitempty"`
}

func tokenToJSON(t auth.Token) tokenJSON {
	return tokenJSON{ID: t.ID, Name: t.Name, Prefix: t.Prefix(), Owner: t.Owner, Org: t.Org, Actions: actionStrings(t.Actions),
		Created: t.Created.UTC(), Expires: t.Expires.UTC(), LastUsed: t.LastUsed.UTC(), Revoked: t.Revoked.UTC()}
}

type tokenInputJSON struct {
	Name    string    `json:"name"`
	Org     string    `json:"org"`
	Actions []string  `json:"actions"`
	Expires time.Time `json:"expires,omitzero"`
}

type auditEntryJSON struct {
	Seq        int64           `json:"seq"`
	At         time.Time       `json:"at"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	ObjectType string          `json:"object_type"`
	ObjectID   string          `json:"object_id"`
	OrgPath    string          `json:"org_path"`
	Before     json.RawMessage `json:"before"` // null for a creation
	After      json.RawMessage `json:"after"`  // null for a deletion
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

func auditToJSON(e audit.Entry) auditEntryJSON {
	raw := func(s string) json.RawMessage {
		if s == "" || !json.Valid([]byte(s)) {
			return nil
		}
		return json.RawMessage(s)
	}
	return auditEntryJSON{Seq: e.Seq, At: e.At.UTC(), Actor: e.Actor, Action: e.Action, ObjectType: e.ObjectType,
		ObjectID: e.ObjectID, OrgPath: e.OrgPath, Before: raw(e.Before), After: raw(e.After), PrevHash: e.PrevHash, Hash: e.Hash}
}
