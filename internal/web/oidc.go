package web

import (
	"crypto/subtle"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/errs"
)

// Sign-in through an OpenID Connect provider (see auth.OIDC and auth.Service.OIDCSignIn):
//
//	GET  /login/oidc           sends the browser to the provider, with a state in a cookie
//	GET  /login/oidc/callback  where the provider sends it back with a code
//	POST /login/oidc/totp      the local one-time code of an administrator whose provider
//	                           reported no second factor
//
// The state cookie is SameSite=Lax, so that it comes back on the provider's top-level
// redirect, and holds the state itself: a callback whose state is not the browser's is
// refused, and the store's copy is taken by the first callback, so none is replayed. The
// session made is the one the sign-in form makes (a new id, the __Host- cookie).

// oidcCookie holds the state of a sign-in through the provider, then the step-up token.
const oidcCookie = "__Host-khien_oidc"

// oidcData is what the sign-in page shows of the provider.
type oidcData struct {
	OIDC string // the provider's name; empty when none is configured
}

// loginData is the data of the sign-in page.
func (p *pages) loginData() oidcData {
	if p.oidc == nil {
		return oidcData{}
	}
	return oidcData{OIDC: p.oidc.Name()}
}

// addOIDCPages registers the routes of sign-in through the provider, when one is configured.
func (p *pages) addOIDCPages(mux handlerTable) {
	if p.oidc == nil {
		return
	}
	p.tmpl["oidc_totp"] = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/oidc_totp.html"))
	mux.Handle("GET /login/oidc", p.handleOIDCStart())
	mux.Handle("GET /login/oidc/callback", p.handleOIDCCallback())
	mux.Handle("POST /login/oidc/totp", p.handleOIDCTOTP())
}

func oidcStateCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: oidcCookie, Value: value, Path: "/", MaxAge: maxAge, Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode}
}

// handleOIDCStart sends the browser to the provider. A browser that holds a session goes too:
// the sign-in replaces it, as the form's does.
func (p *pages) handleOIDCStart() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start, err := p.auth.StartOIDC(r.Context())
		if err != nil {
			p.fail(w, r, err)
			return
		}
		to, err := p.oidc.AuthURL(r.Context(), p.oidc.RedirectURL(r.Host), start.State, start.Nonce, start.Verifier)
		if err != nil {
			p.log.WarnContext(r.Context(), "OIDC provider unavailable", "err", err)
			p.oidcRefused(w, r, http.StatusBadGateway, "oidc.unavailable")
			return
		}
		http.SetCookie(w, oidcStateCookie(start.State, 600))
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, to, http.StatusSeeOther)
	})
}

// handleOIDCCallback checks what the provider sent back and signs in.
func (p *pages) handleOIDCCallback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		http.SetCookie(w, oidcStateCookie("", -1)) // a state works once, whatever happens
		c, err := r.Cookie(oidcCookie)
		if err != nil || c.Value == "" {
			// No sign-in was started from this browser: nothing to record, nothing to undo.
			p.log.WarnContext(ctx, "OIDC callback without a state cookie")
			p.oidcError(w, r, &auth.OIDCError{Reason: auth.ReasonState})
			return
		}
		q := r.URL.Query()
		pending, err := p.auth.TakeOIDC(ctx, c.Value)
		if err == nil && subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(c.Value)) != 1 {
			err = &auth.OIDCError{Reason: auth.ReasonState, Err: errors.New("the state sent back is not the browser's")}
		}
		if err == nil && q.Get("error") != "" {
			err = &auth.OIDCError{Reason: auth.ReasonProvider, Err: errors.New("the provider answered " + limit(q.Get("error"), 100))}
		}
		if err == nil && q.Get("code") == "" {
			err = &auth.OIDCError{Reason: auth.ReasonProvider, Err: errors.New("the provider sent no code")}
		}
		if err != nil {
			// Refused before the provider was asked anything: a made-up, stale or replayed
			// state, or the provider's own refusal. Nobody's identity is involved and anyone
			// can send these, so they are logged, not appended to the audit log.
			p.oidcError(w, r, err)
			return
		}
		var id auth.Identity
		redirect := p.oidc.RedirectURL(r.Host)
		raw, err := p.oidc.Exchange(ctx, redirect, q.Get("code"), pending.Verifier)
		if err != nil {
			err = &auth.OIDCError{Reason: auth.ReasonExchange, Err: err}
		} else {
			id, err = p.oidc.Verify(ctx, raw, pending.Nonce)
		}
		if err != nil {
			if _, refused := errors.AsType[*auth.OIDCError](err); refused {
				if aerr := p.auth.AuditOIDCFailure(ctx, err, auth.Identity{}, auth.User{}); aerr != nil {
					p.fail(w, r, aerr)
					return
				}
			}
			p.oidcError(w, r, err)
			return
		}
		cl := auth.OIDCClient{ClientIP: clientIP(r)}
		if old, err := r.Cookie(sessionCookie); err == nil {
			cl.Replace = old.Value
		}
		ns, stepUp, err := p.auth.OIDCSignIn(ctx, id, cl)
		switch {
		case err != nil:
			p.oidcError(w, r, err)
		case stepUp != "":
			http.SetCookie(w, oidcStateCookie(stepUp, 300))
			w.Header().Set("Cache-Control", "no-store")
			p.render(w, r, http.StatusOK, "oidc_totp", newView(r, "oidc.totp.title", p.loginData()))
		default:
			http.SetCookie(w, sessionCookieFor(ns.ID, ns.Session.Expires, p.now()))
			seeOther(w, r, "/")
		}
	})
}

// handleOIDCTOTP ends the sign-in of an administrator with the local one-time code. Like the
// sign-in form it has no CSRF token (there is no session yet): crossOrigin refuses a
// cross-site post, and the step-up cookie is SameSite.
func (p *pages) handleOIDCTOTP() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		http.SetCookie(w, oidcStateCookie("", -1))
		c, err := r.Cookie(oidcCookie)
		if err != nil || c.Value == "" {
			p.oidcError(w, r, &auth.OIDCError{Reason: auth.ReasonState})
			return
		}
		cl := auth.OIDCClient{ClientIP: clientIP(r)}
		if old, err := r.Cookie(sessionCookie); err == nil {
			cl.Replace = old.Value
		}
		ns, err := p.auth.OIDCTOTP(r.Context(), c.Value, strings.TrimSpace(r.PostFormValue("totp")), cl)
		if err != nil {
			p.oidcError(w, r, err)
			return
		}
		http.SetCookie(w, sessionCookieFor(ns.ID, ns.Session.Expires, p.now()))
		seeOther(w, r, "/")
	})
}

// oidcReasons maps each refusal to its message in the catalog and its status.
var oidcReasons = map[auth.OIDCReason]struct {
	key    string
	status int
}{
	auth.ReasonState:        {"oidc.err.state", http.StatusBadRequest},
	auth.ReasonReplay:       {"oidc.err.replay", http.StatusBadRequest},
	auth.ReasonProvider:     {"oidc.err.provider", http.StatusUnauthorized},
	auth.ReasonExchange:     {"oidc.err.exchange", http.StatusBadGateway},
	auth.ReasonToken:        {"oidc.err.token", http.StatusUnauthorized},
	auth.ReasonIssuer:       {"oidc.err.issuer", http.StatusUnauthorized},
	auth.ReasonAudience:     {"oidc.err.audience", http.StatusUnauthorized},
	auth.ReasonExpired:      {"oidc.err.expired", http.StatusUnauthorized},
	auth.ReasonNonce:        {"oidc.err.nonce", http.StatusUnauthorized},
	auth.ReasonUnverified:   {"oidc.err.unverified", http.StatusForbidden},
	auth.ReasonNoAccount:    {"oidc.err.noaccount", http.StatusForbidden},
	auth.ReasonLinkedOther:  {"oidc.err.linkedother", http.StatusForbidden},
	auth.ReasonDisabled:     {"oidc.err.disabled", http.StatusForbidden},
	auth.ReasonMFA:          {"oidc.err.mfa", http.StatusForbidden},
	auth.ReasonTOTP:         {"oidc.err.totp", http.StatusUnauthorized},
	auth.ReasonLocked:       {"oidc.err.locked", http.StatusTooManyRequests},
	auth.ReasonLinkRequired: {"oidc.err.linkrequired", http.StatusForbidden},
	auth.ReasonEmailASCII:   {"oidc.err.emailascii", http.StatusForbidden},
}

// oidcError shows the sign-in page with the message of a refusal; any other error is Khiên's
// own, shown as such.
func (p *pages) oidcError(w http.ResponseWriter, r *http.Request, err error) {
	oe, ok := errors.AsType[*auth.OIDCError](err)
	if !ok {
		if errs.KindOf(err) == errs.Internal {
			p.fail(w, r, err)
			return
		}
		oe = &auth.OIDCError{Reason: auth.ReasonProvider, Err: err}
	}
	p.log.InfoContext(r.Context(), "OIDC sign-in refused", "reason", string(oe.Reason), "err", oe.Err)
	m, ok := oidcReasons[oe.Reason]
	if !ok {
		m.key, m.status = "oidc.err.provider", http.StatusUnauthorized
	}
	p.oidcRefused(w, r, m.status, m.key)
}

func (p *pages) oidcRefused(w http.ResponseWriter, r *http.Request, status int, key string) {
	v := newView(r, "login.title", p.loginData())
	v.Error = key
	w.Header().Set("Cache-Control", "no-store")
	p.render(w, r, status, "login", v)
}

// limit cuts s to n bytes, for a provider's words in a log.
func limit(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
