package web

import "net/http"

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
}
