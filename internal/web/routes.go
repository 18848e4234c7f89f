package web

import (
	"net/http"
	"strings"
)

// handlerTable is what addRoutes registers into: an *http.ServeMux, or a recorder in tests
// that compare the routes with the OpenAPI document.
type handlerTable interface {
	Handle(pattern string, h http.Handler)
}

// addRoutes lists every URL Khiên serves. Keep it one screen per area, and keep
// openapi.json in step: a test compares the two.
func addRoutes(mux handlerTable, d Deps, reg *metrics) {
	// The inventory and assessments as each request's principal may use them: every call is
	// checked against its role and subtree (see auth).
	inv, as := scopedInventory(d), scopedAssess(d)

	mux.Handle("GET /healthz", handleHealth(d.Log, d.Ready))
	mux.Handle("GET /metrics", metricsAccess(d.Auth, d.Log, handleMetrics(d.Log, reg)))
	mux.Handle("GET /api/v1/openapi.json", handleOpenAPI())

	mux.Handle("POST /api/v1/session", handleLogin(d.Log, d.Auth, d.Now))
	mux.Handle("DELETE /api/v1/session", handleLogout(d.Log, d.Auth))
	mux.Handle("GET /api/v1/me", handleMe(d.Log))

	mux.Handle("GET /api/v1/users", handleUserList(d.Log, d.Auth))
	mux.Handle("POST /api/v1/users", handleUserCreate(d.Log, d.Auth))
	mux.Handle("GET /api/v1/users/{id}", handleUserGet(d.Log, d.Auth))
	mux.Handle("PUT /api/v1/users/{id}", handleUserPut(d.Log, d.Auth))

	mux.Handle("GET /api/v1/tokens", handleTokenList(d.Log, d.Auth))
	mux.Handle("POST /api/v1/tokens", handleTokenCreate(d.Log, d.Auth))
	mux.Handle("GET /api/v1/tokens/{id}", handleTokenGet(d.Log, d.Auth))
	mux.Handle("DELETE /api/v1/tokens/{id}", handleTokenRevoke(d.Log, d.Auth))

	mux.Handle("GET /api/v1/audit", handleAuditList(d.Log, d.Auth))

	mux.Handle("GET /api/v1/organizations", handleOrgList(d.Log, inv))
	mux.Handle("POST /api/v1/organizations", handleOrgCreate(d.Log, inv))
	mux.Handle("GET /api/v1/organizations/{code}", handleOrgGet(d.Log, inv))
	mux.Handle("PUT /api/v1/organizations/{code}", handleOrgPut(d.Log, inv))
	mux.Handle("DELETE /api/v1/organizations/{code}", handleOrgDelete(d.Log, inv))

	mux.Handle("GET /api/v1/systems", handleSystemList(d.Log, inv))
	mux.Handle("POST /api/v1/systems", handleSystemCreate(d.Log, inv))
	mux.Handle("GET /api/v1/systems/{id}", handleSystemGet(d.Log, inv))
	mux.Handle("PUT /api/v1/systems/{id}", handleSystemPut(d.Log, inv))
	mux.Handle("DELETE /api/v1/systems/{id}", handleSystemDelete(d.Log, inv))

	// A resource {id} such as url:https://x.vn/a is one path segment: clients escape its
	// slashes (url:https:%2F%2Fx.vn%2Fa) and the mux matches segments before unescaping them.
	mux.Handle("GET /api/v1/resources", handleResourceList(d.Log, inv))
	mux.Handle("POST /api/v1/resources", handleResourceCreate(d.Log, inv))
	mux.Handle("GET /api/v1/resources/{id}", handleResourceGet(d.Log, inv))
	mux.Handle("PUT /api/v1/resources/{id}", handleResourcePut(d.Log, inv))
	mux.Handle("DELETE /api/v1/resources/{id}", handleResourceDelete(d.Log, inv))
	mux.Handle("POST /api/v1/resources/{id}/challenge", handleResourceChallenge(d.Log, inv))
	mux.Handle("POST /api/v1/resources/{id}/verify", handleResourceVerify(d.Log, inv, d.Prover))

	mux.Handle("GET /api/v1/resources/{id}/runs", handleResourceRuns(d.Log, as))

	mux.Handle("POST /api/v1/assessments", handleAssessmentCreate(d.Log, as))
	mux.Handle("GET /api/v1/runs/{id}", handleRunGet(d.Log, as))
	mux.Handle("GET /api/v1/findings", handleFindingList(d.Log, as, d.Now))
	mux.Handle("GET /api/v1/findings/{fingerprint}", handleFindingGet(d.Log, as, d.Now))
	mux.Handle("POST /api/v1/findings/{fingerprint}/accept", handleFindingAccept(d.Log, as, d.Now))
	mux.Handle("GET /api/v1/diff", handleDiff(d.Log, as, d.Now))

	ix := scopedAssurance(d)
	mux.Handle("GET /api/v1/index/{org}", handleIndexGet(d.Log, ix, d.Now))
	mux.Handle("GET /api/v1/index/{org}/history", handleIndexHistory(d.Log, ix, d.Now))
	mux.Handle("POST /api/v1/gate", handleGateDecide(d.Log, ix))
	mux.Handle("GET /api/v1/systems/{id}/gate", handleSystemGate(d.Log, ix))
	mux.Handle("POST /api/v1/gate/exceptions", handleExceptionCreate(d.Log, ix))
	mux.Handle("GET /api/v1/attestations", handleAttestationList(d.Log, ix))
	mux.Handle("POST /api/v1/attestations", handleAttestationCreate(d.Log, ix))
	mux.Handle("POST /api/v1/attestations/{id}/review", handleAttestationReview(d.Log, ix))
	mux.Handle("GET /api/v1/incidents", handleIncidentList(d.Log, ix))
	mux.Handle("POST /api/v1/incidents", handleIncidentCreate(d.Log, ix))
	mux.Handle("GET /api/v1/reports/scorecard", handleScorecard(d.Log, ix, d.Now))
}

// addPages lists the pages of the dashboard (see ui.go): HTML for browsers, signed in with
// a session. They are apart from addRoutes because the OpenAPI document describes the API
// only; NewServer registers both on one mux, behind the same middleware.
func addPages(mux handlerTable, d Deps) {
	p := newPages(d)
	mux.Handle("GET /static/{name}", p.handleStatic())
	mux.Handle("GET /login", p.handleLoginPage())
	mux.Handle("POST /login", p.handleLoginForm())
	mux.Handle("POST /logout", p.handleLogoutForm())
	mux.Handle("POST /lang", p.handleLang())
	p.addOIDCPages(mux) // GET /login/oidc, its callback and POST /login/oidc/totp, when configured

	mux.Handle("GET /{$}", p.handleTree())
	mux.Handle("GET /orgs/{code}", p.handleOrg())
	mux.Handle("GET /systems/{id}", p.handleSystem())
	mux.Handle("POST /systems/{id}/scan", p.handleScan())
	mux.Handle("GET /findings", p.handleFindings())
	mux.Handle("GET /findings.csv", p.handleFindingsCSV())
	mux.Handle("GET /findings/{fingerprint}", p.handleFinding())
	mux.Handle("POST /findings/{fingerprint}/accept", p.handleAccept())
	mux.Handle("GET /resources/{id}/verify", p.handleVerifyPage())
	mux.Handle("POST /resources/{id}/verify", p.handleVerifyForm())
	mux.Handle("POST /resources/{id}/challenge", p.handleChallengeForm())

	mux.Handle("GET /audit", p.handleAudit())
	mux.Handle("POST /audit/verify", p.handleAuditVerify())
	mux.Handle("GET /users", p.handleUsers())
	mux.Handle("POST /users", p.handleUserCreate())
	mux.Handle("POST /users/{id}", p.handleUserUpdate())
	mux.Handle("POST /users/{id}/mfa", p.handleUserMFA())
	mux.Handle("POST /users/{id}/password", p.handleUserPassword())
	mux.Handle("POST /users/{id}/lock", p.handleUserLock(true))
	mux.Handle("POST /users/{id}/unlock", p.handleUserLock(false))
	mux.Handle("GET /tokens", p.handleTokens())
	mux.Handle("POST /tokens", p.handleTokenCreate())
	mux.Handle("POST /tokens/{id}/revoke", p.handleTokenRevoke())
}

// publicPages answer without a principal: signing in needs none, nor the stylesheet of the
// sign-in page, nor the language switch on it.
var publicPages = map[string]bool{
	"GET /static/{name}": true,
	"GET /login":         true,
	"POST /login":        true,
	"POST /lang":         true,
	// Sign-in through an OpenID Connect provider (oidc.go), registered when one is configured.
	"GET /login/oidc":          true,
	"GET /login/oidc/callback": true,
	"POST /login/oidc/totp":    true,
}

// isPage reports whether a route pattern is a page rather than the API or an endpoint of
// operations: a page sends a browser without a session to the sign-in page.
func isPage(pattern string) bool {
	_, path, _ := strings.Cut(pattern, " ")
	return !strings.HasPrefix(path, "/api/") && path != "/healthz" && path != "/metrics"
}
