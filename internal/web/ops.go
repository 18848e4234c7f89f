package web

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"time"
)

// readyTimeout bounds the readiness check, so that a hung store makes /healthz answer 503
// instead of hanging the load balancer's probe.
const readyTimeout = 3 * time.Second

type healthJSON struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// handleHealth answers 200 {"status":"ok"} when ready reports no error, else 503 with the
// reason. The reason is what ready says: the operator's view, written to be shown.
func handleHealth(log *slog.Logger, ready func(context.Context) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			defer cancel()
			if err := ready(ctx); err != nil {
				log.WarnContext(r.Context(), "not ready", "err", err)
				writeJSON(w, http.StatusServiceUnavailable, healthJSON{Status: "unavailable", Reason: err.Error()})
				return
			}
		}
		writeJSON(w, http.StatusOK, healthJSON{Status: "ok"})
	})
}

// handleMetrics writes the registry in the Prometheus text exposition format.
func handleMetrics(log *slog.Logger, m *metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if err := m.writeTo(w); err != nil {
			log.DebugContext(r.Context(), "write metrics", "err", err) // the scraper went away
		}
	})
}

// openAPI is the API's description. It is written by hand and kept true by tests that
// compare it with addRoutes and with real responses.
//
//go:embed openapi.json
var openAPI []byte

func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(openAPI)
	})
}
