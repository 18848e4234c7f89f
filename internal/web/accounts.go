package web

import (
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/auth"
)

// handleLogin signs in with a login, a password and, when one is enrolled, the current code
// of the second factor. It sets the session cookie, always of a new id (a session the
// browser still held is ended), and answers with the session's CSRF token. The body must be
// JSON: a form on another site cannot send that without the browser asking first.
func handleLogin(log *slog.Logger, a *auth.Service, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
			writeError(w, r, log, &apiError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
				msg: "send the credentials as JSON, with Content-Type: application/json"})
			return
		}
		in, err := decode[loginJSON](w, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		c := auth.Credentials{Login: in.Login, Password: in.Password, TOTP: in.TOTP, ClientIP: clientIP(r)}
		if old, err := r.Cookie(sessionCookie); err == nil {
			c.Replace = old.Value
		}
		ns, err := a.Login(r.Context(), c)
		if err != nil {
			if le := lockedError(w, err, now()); le != nil {
				err = le
			}
			writeError(w, r, log, err)
			return
		}
		http.SetCookie(w, sessionCookieFor(ns.ID, ns.Session.Expires, now()))
		writeJSON(w, http.StatusCreated, sessionJSON{User: userToJSON(ns.User), CSRFToken: ns.Session.CSRF, Expires: ns.Session.Expires.UTC()})
	})
}

// handleLogout ends the session and clears its cookie.
func handleLogout(log *slog.Logger, a *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.Logout(r.Context()); err != nil {
			writeError(w, r, log, err)
			return
		}
		http.SetCookie(w, endedCookie())
		writeNoContent(w)
	})
}

// handleMe says who the request is from and what it may do; a session's answer carries its
// CSRF token, for pages and scripts that need it again.
func handleMe(log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := auth.PrincipalFrom(r.Context())
		if !ok {
			writeError(w, r, log, errSignIn)
			return
		}
		writeJSON(w, http.StatusOK, meToJSON(p))
	})
}

func handleUserList(log *slog.Logger, a *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, page, err := listQuery(r, "under", "role")
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		role, err := enumParam(q, "role", auth.Roles)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		us, total, err := a.Users(r.Context(), auth.UserFilter{Under: q.Get("under"), Role: role, Page: page})
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, newList(us, total, page, userToJSON))
	})
}

// handleUserCreate creates an account. An administrator's second factor is enrolled at once
// and its provisioning URI is in this response only.
func handleUserCreate(log *slog.Logger, a *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[userInputJSON](w, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		u, uri, err := a.CreateUser(r.Context(), auth.NewUser{Login: in.Login, Name: in.Name, Role: auth.Role(in.Role),
			Org: in.Org, Password: in.Password})
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		j := userToJSON(u)
		j.TOTPURI = uri
		w.Header().Set("Location", "/api/v1/users/"+url.PathEscape(u.ID))
		writeJSON(w, http.StatusCreated, j)
	})
}

func handleUserGet(log *slog.Logger, a *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := a.User(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, userToJSON(u))
	})
}

// handleUserPut changes an account's name, role, scope or whether it is disabled. The login
// cannot change (a login in the body is ignored, as the other read-only properties are),
// and passwords are set with khien user passwd.
func handleUserPut(log *slog.Logger, a *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[userInputJSON](w, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		id := r.PathValue("id")
		switch {
		case in.ID != "" && in.ID != id:
			writeError(w, r, log, badRequest("id", "id %q in the body does not match %q in the path", in.ID, id))
			return
		case in.Password != "":
			writeError(w, r, log, badRequest("password", "a password is not changed here; an operator sets it with: khien user passwd"))
			return
		}
		u, uri, err := a.UpdateUser(r.Context(), id, auth.UserChange{Name: in.Name, Role: auth.Role(in.Role), Org: in.Org, Disabled: in.Disabled})
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		j := userToJSON(u)
		j.TOTPURI = uri
		writeJSON(w, http.StatusOK, j)
	})
}

func handleTokenList(log *slog.Logger, a *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, page, err := listQuery(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		ts, total, err := a.Tokens(r.Context(), page)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, newList(ts, total, page, tokenToJSON))
	})
}

// handleTokenCreate creates an API token and shows its secret, this once.
func handleTokenCreate(log *slog.Logger, a *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[tokenInputJSON](w, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		actions := make([]auth.Action, len(in.Actions))
		for i, a := range in.Actions {
			actions[i] = auth.Action(a)
		}
		t, secret, err := a.CreateToken(r.Context(), auth.NewToken{Name: in.Name, Org: in.Org, Actions: actions, Expires: in.Expires})
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		j := tokenToJSON(t)
		j.Secret = secret
		w.Header().Set("Location", "/api/v1/tokens/"+url.PathEscape(t.ID))
		writeJSON(w, http.StatusCreated, j)
	})
}

func handleTokenGet(log *slog.Logger, a *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := a.Token(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, tokenToJSON(t))
	})
}

// handleTokenRevoke revokes a token: it stops working at once and stays listed as revoked.
func handleTokenRevoke(log *slog.Logger, a *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := a.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
			writeError(w, r, log, err)
			return
		}
		writeNoContent(w)
	})
}

// handleAuditList pages through the audit log of the caller's subtree, newest first.
func handleAuditList(log *slog.Logger, a *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, page, err := listQuery(r, "under", "object_type", "object_id", "actor")
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		f := audit.Filter{Under: q.Get("under"), ObjectType: q.Get("object_type"), ObjectID: q.Get("object_id"),
			Actor: q.Get("actor"), Page: page}
		es, total, err := a.AuditEntries(r.Context(), f)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, newList(es, total, page, auditToJSON))
	})
}
