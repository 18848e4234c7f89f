// Package web is Khiên's HTTP face: the JSON API under /api/v1 (described by the embedded
// OpenAPI document at /api/v1/openapi.json), the operational endpoints /healthz and /metrics,
// the server lifecycle (Serve, TLSConfig, SelfSignedCert), and the dashboard's pages (ui*.go,
// templates/, static/; one vi/en catalog in ui_i18n.go; no script, a strict CSP).
//
// Handlers only translate: each decodes a request into the domain types, calls one service
// method and encodes the result. The rules live in the services (inventory.Service and the
// ones that follow), so the API, the CLI and the pages behave alike. The wire form (snake_case
// JSON, RFC 3339 times) is defined here, apart from the domain types, and errors become
// responses in one place, writeError.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/assurance"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/inventory"
)

// Deps is what the server needs. It is a struct so that new features add fields, not
// parameters. Inventory and Auth are required; the other fields have safe defaults.
type Deps struct {
	Log       *slog.Logger       // nil discards logs
	Inventory *inventory.Service // required; the handlers reach it only through Auth's scoping
	// Auth authenticates requests, decides what each principal may do and manages accounts,
	// tokens and the audit log. Required: every route but the public ones needs a principal.
	Auth *auth.Service
	// Prover checks ownership challenges for POST /api/v1/resources/{id}/verify. Nil makes that
	// endpoint answer 503 unavailable.
	Prover inventory.Prover
	// Assess runs assessments and answers about findings. Nil makes those routes answer 503.
	Assess *assess.Service
	// Assurance computes the index, decides the gate and keeps attestations and incidents.
	// Nil makes those routes answer 503.
	Assurance *assurance.Service
	// Ready reports whether the server can do its work (the store answers, its schema is
	// current); /healthz answers 503 with its error. Nil means always ready.
	Ready func(ctx context.Context) error
	// Now is the clock used to time requests; nil means time.Now.
	Now func() time.Time
	// Version is the build's version, exported as khien_build_info{version}.
	Version string
	// OIDC is the OpenID Connect provider users may also sign in with; nil offers only the
	// local sign-in form.
	OIDC *auth.OIDC
}

// NewServer returns the handler for every route Khiên serves, wrapped in its middleware.
// It panics if d.Inventory or d.Auth is nil: that is a wiring mistake, found at start-up.
func NewServer(d Deps) http.Handler {
	if d.Inventory == nil {
		panic("web.NewServer: Deps.Inventory is nil")
	}
	if d.Auth == nil {
		panic("web.NewServer: Deps.Auth is nil; every route but /healthz needs authentication")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	reg := newMetrics(d.Version)

	mux := http.NewServeMux()
	addRoutes(mux, d, reg)
	addPages(mux, d)

	// The middleware, outermost first. recoverPanics wraps everything, so no panic escapes
	// as a dropped connection; logRequests and countRequests record a panicking request as
	// the 500 it becomes. Then cross-site requests are refused, the principal is put in the
	// context, routes that need one refuse requests without, and a session's unsafe
	// requests must carry its CSRF token.
	return recoverPanics(d.Log,
		logRequests(d.Log, d.Now,
			countRequests(reg, d.Now,
				apiHeaders(
					crossOrigin(d.Log,
						authenticate(d.Auth, d.Log,
							requirePrincipal(mux, d.Log,
								checkCSRF(d.Log,
									&router{mux: mux, log: d.Log}))))))))
}

// router is the ServeMux with JSON answers for the requests no route takes: the mux itself
// would answer 404 and 405 in plain text.
type router struct {
	mux *http.ServeMux
	log *slog.Logger
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := rt.mux.Handler(r)
	if pattern != "" {
		rt.mux.ServeHTTP(w, r) // sets r.Pattern and the path values
		return
	}
	// No route. Ask the mux's own answer for its status and Allow header, then give it
	// our error shape. Anything else it answers (a redirect to the cleaned path) passes as is.
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	switch probe.status {
	case http.StatusNotFound:
		writeError(w, r, rt.log, &apiError{
			status: http.StatusNotFound, code: "not_found",
			msg: "no route for " + r.Method + " " + r.URL.EscapedPath() + notFoundHint(r),
		})
	case http.StatusMethodNotAllowed:
		allow := probe.header.Get("Allow")
		w.Header().Set("Allow", allow)
		writeError(w, r, rt.log, &apiError{
			status: http.StatusMethodNotAllowed, code: "method_not_allowed",
			msg: "method " + r.Method + " is not allowed on " + r.URL.EscapedPath() + "; use " + allow,
		})
	default:
		h.ServeHTTP(w, r)
	}
}

// notFoundHint helps with the most likely cause of a 404 under /api/v1/resources/: an
// identifier such as url:https://x.vn/a sent without escaping its slashes.
func notFoundHint(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/api/v1/resources/") {
		return "; escape the resource identifier as one path segment (/ as %2F)"
	}
	return "; the API is described at /api/v1/openapi.json"
}

// headerProbe is a ResponseWriter that keeps the status and headers and drops the body.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }

func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}

func (p *headerProbe) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}
