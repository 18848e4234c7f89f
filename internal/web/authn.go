package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/errs"
)

// Authentication and request forgery. A request is authenticated by an API token
// (Authorization: Bearer khien_…) or by the session cookie of a signed-in browser; the
// principal goes into the request's context, where the scoped services find it. Every route
// but the public ones needs a principal. Unsafe requests of a cookie session must echo the
// session's CSRF token; token requests are exempt, since no browser sends a token on its own.

// sessionCookie is the session's cookie. The __Host- prefix makes browsers refuse it unless
// it is Secure, has Path=/ and no Domain: no subdomain can set or read it.
const sessionCookie = "__Host-khien_session"

// csrfHeader and csrfField carry the CSRF token of an unsafe request: the header for
// scripts, the form field for the HTML forms to come.
const (
	csrfHeader = "X-CSRF-Token"
	csrfField  = "csrf"
)

// publicRoutes answer without a principal. /metrics decides for itself (metricsAccess).
var publicRoutes = map[string]bool{
	"GET /healthz":             true,
	"GET /api/v1/openapi.json": true,
	"POST /api/v1/session":     true,
	"GET /metrics":             true,
}

// errSignIn is the answer to a request without credentials on a route that needs them.
var errSignIn = errs.E(errs.Unauthenticated, "sign in first, or send an API token as Authorization: Bearer khien_…")

// authenticate puts the principal of the request's token or session cookie in its context.
// A token that does not authenticate is refused at once; a session cookie that no longer
// does is cleared and the request goes on without a principal, so that signing in again works.
func authenticate(a *auth.Service, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if h := r.Header.Get("Authorization"); h != "" {
			var (
				p   auth.Principal
				err error = errs.E(errs.Unauthenticated, "use Authorization: Bearer khien_… with an API token")
			)
			if scheme, token, _ := strings.Cut(h, " "); strings.EqualFold(scheme, "Bearer") {
				p, err = a.TokenPrincipal(ctx, strings.TrimSpace(token))
			}
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="khien"`)
				writeError(w, r, log, err)
				return
			}
			serveWith(next, w, r, auth.WithPrincipal(ctx, p))
			return
		}
		if c, err := r.Cookie(sessionCookie); err == nil {
			p, err := a.SessionPrincipal(ctx, c.Value)
			switch {
			case err == nil:
				ctx = auth.WithPrincipal(ctx, p)
			case errs.Is(err, errs.Unauthenticated):
				http.SetCookie(w, endedCookie())
			default:
				writeError(w, r, log, err)
				return
			}
		}
		serveWith(next, w, r, ctx)
	})
}

// serveWith serves r with ctx through next, then gives r the route pattern the mux set on
// the copy that carried ctx: the middleware outside (logs, metrics) reads it from r, even
// when a panic unwinds.
func serveWith(next http.Handler, w http.ResponseWriter, r *http.Request, ctx context.Context) {
	r2 := r.WithContext(ctx)
	defer func() { r.Pattern = r2.Pattern }()
	next.ServeHTTP(w, r2)
}

// requirePrincipal answers 401 to a request without a principal for any route that is not
// public. Requests that match no route pass, for the router to answer 404 or 405.
func requirePrincipal(mux *http.ServeMux, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" && !publicRoutes[pattern] && !publicPages[pattern] {
			if _, ok := auth.PrincipalFrom(r.Context()); !ok {
				if isPage(pattern) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
					http.Redirect(w, r, "/login", http.StatusSeeOther)
					return
				}
				w.Header().Set("WWW-Authenticate", `Bearer realm="khien"`)
				writeError(w, r, log, errSignIn)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// safeMethod reports whether m changes nothing, so that it needs no CSRF token.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

// errCSRF is the answer to an unsafe request of a session without its CSRF token.
var errCSRF = &apiError{status: http.StatusForbidden, code: "csrf",
	msg: "missing or wrong CSRF token: send the csrf_token that signing in (or GET /api/v1/me) returns, in the X-CSRF-Token header"}

// checkCSRF refuses an unsafe request of a cookie session that does not carry the session's
// synchronizer token in the X-CSRF-Token header or, from a form, the csrf field. The
// comparison takes the same time whatever the token.
func checkCSRF(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := auth.PrincipalFrom(r.Context())
		if safeMethod(r.Method) || !ok || p.Kind != auth.KindSession {
			next.ServeHTTP(w, r)
			return
		}
		got := r.Header.Get(csrfHeader)
		if got == "" && isForm(r) {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			got = r.PostFormValue(csrfField)
		}
		if got == "" || p.CSRF == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.CSRF)) != 1 {
			writeError(w, r, log, errCSRF)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isForm(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/x-www-form-urlencoded" || ct == "multipart/form-data"
}

// crossOrigin refuses unsafe requests that a browser says come from another site (by
// Sec-Fetch-Site or Origin): a second wall behind the CSRF token and SameSite cookies.
// Requests without those headers, from scripts and pipelines, pass.
func crossOrigin(log *slog.Logger, next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := cop.Check(r); err != nil {
			writeError(w, r, log, &apiError{status: http.StatusForbidden, code: "cross_origin",
				msg: "cross-origin requests that change something are refused"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// metricsAccess opens /metrics to a scraper on this machine (a loopback connection that no
// proxy forwarded) and to principals allowed metrics:read, such as a Prometheus with an API
// token. Anyone else would learn the server's traffic.
func metricsAccess(a *auth.Service, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if loopback(r) {
			next.ServeHTTP(w, r)
			return
		}
		p, ok := auth.PrincipalFrom(r.Context())
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="khien"`)
			writeError(w, r, log, errs.E(errs.Unauthenticated, "/metrics answers scrapers on this machine, or with an API token allowed %s", auth.MetricsRead))
			return
		}
		if err := a.Policy().Can(r.Context(), p, auth.MetricsRead, ""); err != nil {
			writeError(w, r, log, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// loopback reports whether r came over a loopback connection and no proxy says it came
// from elsewhere.
func loopback(r *http.Request) bool {
	if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" || r.Header.Get("X-Real-Ip") != "" {
		return false
	}
	ip := net.ParseIP(clientIP(r))
	return ip != nil && ip.IsLoopback()
}

// clientIP is the address a request came from, for sign-in throttling: the connection's
// peer. Behind a reverse proxy that is the proxy (see docs/ARCHITECTURE.md).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// sessionCookieFor is the cookie that holds a new session's id.
func sessionCookieFor(id string, expires time.Time, now time.Time) *http.Cookie {
	return &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/", Expires: expires.UTC(), MaxAge: int(expires.Sub(now).Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
}

// endedCookie tells the browser to forget the session cookie.
func endedCookie() *http.Cookie {
	return &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

// lockedError turns a sign-in lock into 429 with Retry-After, or returns nil.
func lockedError(w http.ResponseWriter, err error, now time.Time) error {
	le, ok := errors.AsType[*auth.LockedError](err)
	if !ok {
		return nil
	}
	secs := int(le.Until.Sub(now).Seconds()) + 1
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	return &apiError{status: http.StatusTooManyRequests, code: "locked", msg: le.Error()}
}
