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
	mux.Handle("GET /healthz", handleHealth(d.Log, d.Ready))
	mux.Handle("GET /metrics", handleMetrics(d.Log, reg))
	mux.Handle("GET /api/v1/openapi.json", handleOpenAPI())

	mux.Handle("GET /api/v1/organizations", handleOrgList(d.Log, d.Inventory))
	mux.Handle("POST /api/v1/organizations", handleOrgCreate(d.Log, d.Inventory))
	mux.Handle("GET /api/v1/organizations/{code}", handleOrgGet(d.Log, d.Inventory))
	mux.Handle("PUT /api/v1/organizations/{code}", handleOrgPut(d.Log, d.Inventory))
	mux.Handle("DELETE /api/v1/organizations/{code}", handleOrgDelete(d.Log, d.Inventory))

	mux.Handle("GET /api/v1/systems", handleSystemList(d.Log, d.Inventory))
	mux.Handle("POST /api/v1/systems", handleSystemCreate(d.Log, d.Inventory))
	mux.Handle("GET /api/v1/systems/{id}", handleSystemGet(d.Log, d.Inventory))
	mux.Handle("PUT /api/v1/systems/{id}", handleSystemPut(d.Log, d.Inventory))
	mux.Handle("DELETE /api/v1/systems/{id}", handleSystemDelete(d.Log, d.Inventory))

	// A resource {id} such as url:https://x.vn/a is one path segment: clients escape its
	// slashes (url:https:%2F%2Fx.vn%2Fa) and the mux matches segments before unescaping them.
	mux.Handle("GET /api/v1/resources", handleResourceList(d.Log, d.Inventory))
	mux.Handle("POST /api/v1/resources", handleResourceCreate(d.Log, d.Inventory))
	mux.Handle("GET /api/v1/resources/{id}", handleResourceGet(d.Log, d.Inventory))
	mux.Handle("PUT /api/v1/resources/{id}", handleResourcePut(d.Log, d.Inventory))
	mux.Handle("DELETE /api/v1/resources/{id}", handleResourceDelete(d.Log, d.Inventory))
	mux.Handle("POST /api/v1/resources/{id}/challenge", handleResourceChallenge(d.Log, d.Inventory))
	mux.Handle("POST /api/v1/resources/{id}/verify", handleResourceVerify(d.Log, d.Inventory, d.Prover))

	mux.Handle("GET /api/v1/resources/{id}/runs", handleResourceRuns(d.Log, d.Assess))

	mux.Handle("POST /api/v1/assessments", handleAssessmentCreate(d.Log, d.Assess))
	mux.Handle("GET /api/v1/runs/{id}", handleRunGet(d.Log, d.Assess))
	mux.Handle("GET /api/v1/findings", handleFindingList(d.Log, d.Assess, d.Now))
	mux.Handle("GET /api/v1/findings/{fingerprint}", handleFindingGet(d.Log, d.Assess, d.Now))
	mux.Handle("POST /api/v1/findings/{fingerprint}/accept", handleFindingAccept(d.Log, d.Assess, d.Now))
	mux.Handle("GET /api/v1/diff", handleDiff(d.Log, d.Assess, d.Now))
}
