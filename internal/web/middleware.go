package web

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
)

// recoverPanics turns a panic in a handler into a 500 with the JSON error shape and logs the
// stack. If the response had already begun, the connection is cut instead, so the client
// sees a broken response rather than a truncated one that looks whole.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := trackStatus(w)
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			log.ErrorContext(r.Context(), "panic serving request", "method", r.Method, "route", routeOf(r),
				"panic", v, "stack", string(debug.Stack()))
			if sw.wroteHeader {
				panic(http.ErrAbortHandler)
			}
			clear(sw.Header()) // drop what the handler set (a Location, say) before it failed
			setAPIHeaders(sw.Header())
			writeJSON(sw, http.StatusInternalServerError, errorJSON{Error: errorBody{Code: "internal", Message: "internal error"}})
		}()
		next.ServeHTTP(sw, r)
	})
}

// logRequests logs one line per request: method, route pattern, status, duration. Never
// bodies or query strings, which may hold personal data.
func logRequests(log *slog.Logger, now func() time.Time, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := now()
		sw := trackStatus(w)
		completed := false
		defer func() {
			status := sw.statusCode()
			if !completed { // a panic is unwinding; recoverPanics answers 500
				status = http.StatusInternalServerError
			}
			log.LogAttrs(r.Context(), slog.LevelInfo, "http request",
				slog.String("method", r.Method), slog.String("route", routeOf(r)),
				slog.Int("status", status), slog.Duration("duration", now().Sub(start)))
		}()
		next.ServeHTTP(sw, r)
		completed = true
	})
}

// countRequests feeds the request counter and duration histogram of /metrics.
func countRequests(m *metrics, now func() time.Time, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := now()
		sw := trackStatus(w)
		completed := false
		defer func() {
			status := sw.statusCode()
			if !completed {
				status = http.StatusInternalServerError
			}
			m.observe(r.Method, routeOf(r), status, now().Sub(start))
		}()
		next.ServeHTTP(sw, r)
		completed = true
	})
}

// apiHeaders sets the headers every API response carries. Content-Type is a default that
// handlers of other formats (/metrics) override. Go sends no Server header, and none is added.
func apiHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setAPIHeaders(w.Header())
		next.ServeHTTP(w, r)
	})
}

func setAPIHeaders(h http.Header) {
	setSecurityHeaders(h)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "application/json; charset=utf-8")
}

// routeOf is the route pattern that served r without its method ("/api/v1/systems/{id}"), or
// "unmatched": never the raw path, which would give metrics a label per resource.
// It is set by the mux on the request that the middleware shares, so it is known after the
// handler has run.
func routeOf(r *http.Request) string {
	if r.Pattern == "" {
		return "unmatched"
	}
	if _, path, ok := strings.Cut(r.Pattern, " "); ok {
		return path
	}
	return r.Pattern
}

// statusWriter remembers the status of a response. One is shared by all middleware.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

// trackStatus wraps w in a statusWriter, or returns w if it is one already.
func trackStatus(w http.ResponseWriter) *statusWriter {
	if sw, ok := w.(*statusWriter); ok {
		return sw
	}
	return &statusWriter{ResponseWriter: w}
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader && code >= 200 { // 1xx responses are not the final status
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer (Flush, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusCode is the status sent, 200 when the handler wrote nothing (net/http's default).
func (w *statusWriter) statusCode() int {
	if !w.wroteHeader {
		return http.StatusOK
	}
	return w.status
}
