package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/inventory"
)

func TestRouting(t *testing.T) {
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantBody           string
		wantAllow          string
	}{
		{"unknown route", "GET", "/nope", 404, `{"error":{"code":"not_found","message":"no route for GET /nope; the API is described at /api/v1/openapi.json"}}`, ""},
		{"unknown api route", "GET", "/api/v1/nope", 404, `"code":"not_found"`, ""},
		{"wrong method on list", "PATCH", "/api/v1/organizations", 405, `"message":"method PATCH is not allowed on /api/v1/organizations; use GET, HEAD, POST"`, "GET, HEAD, POST"},
		{"wrong method on item", "POST", "/api/v1/resources/dns:x.vn", 405, `"code":"method_not_allowed"`, "DELETE, GET, HEAD, PUT"},
		{"wrong method on healthz", "DELETE", "/healthz", 405, `"code":"method_not_allowed"`, "GET, HEAD"},
		{"head", "HEAD", "/api/v1/organizations/HN", 200, "", ""},
		{"openapi", "GET", "/api/v1/openapi.json", 200, `"openapi": "3.1.0"`, ""},
	}
	srv, _ := newTestServer(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, srv, tt.method, tt.path, "")
			if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("%s %s = %d %s; want %d containing %s", tt.method, tt.path, rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("%s %s: Allow = %q, want %q", tt.method, tt.path, got, tt.wantAllow)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/json; charset=utf-8" {
				t.Errorf("%s %s: Content-Type = %q, want JSON", tt.method, tt.path, got)
			}
		})
	}
}

// TestHeaders checks the headers over a real connection, where a Server header would show.
func TestHeaders(t *testing.T) {
	h, _ := newTestServer(t, nil)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	tests := []struct {
		path, wantType string
	}{
		{"/api/v1/organizations", "application/json; charset=utf-8"},
		{"/api/v1/organizations/XX", "application/json; charset=utf-8"},
		{"/nope", "application/json; charset=utf-8"},
		{"/healthz", "application/json; charset=utf-8"},
		{"/metrics", "text/plain; version=0.0.4; charset=utf-8"},
	}
	for _, tt := range tests {
		resp, err := ts.Client().Get(ts.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := map[string]string{
			"Content-Type":           tt.wantType,
			"X-Content-Type-Options": "nosniff",
			"Cache-Control":          "no-store",
			"Server":                 "",
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("GET %s: %s = %q, want %q", tt.path, k, got, v)
			}
		}
	}
}

func TestHealth(t *testing.T) {
	tests := []struct {
		name       string
		ready      func(context.Context) error
		wantStatus int
		wantBody   string
	}{
		{"no check", nil, 200, `{"status":"ok"}` + "\n"},
		{"ready", func(context.Context) error { return nil }, 200, `{"status":"ok"}` + "\n"},
		{"not ready", func(context.Context) error {
			return errors.New("store schema is at version 1, this binary needs 2: run khien migrate")
		}, 503,
			`{"status":"unavailable","reason":"store schema is at version 1, this binary needs 2: run khien migrate"}` + "\n"},
		{"bounded", func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				return errors.New("the readiness check has no deadline")
			}
			return nil
		}, 200, `{"status":"ok"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newTestServer(t, func(d *Deps) { d.Ready = tt.ready })
			rec := do(t, srv, "GET", "/healthz", "")
			if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("GET /healthz = %d %s; want %d containing %s", rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

// TestPanic checks that a panicking handler gives the JSON 500, a log line with the stack,
// and is logged and counted as a 500.
func TestPanic(t *testing.T) {
	var logs bytes.Buffer
	srv, _ := newTestServer(t, func(d *Deps) {
		d.Log = slog.New(slog.NewTextHandler(&logs, nil))
		d.Ready = func(context.Context) error { panic("the store went away in a strange way") }
	})
	rec := do(t, srv, "GET", "/healthz", "")
	const want = `{"error":{"code":"internal","message":"internal error"}}` + "\n"
	if rec.Code != 500 || rec.Body.String() != want {
		t.Errorf("GET /healthz = %d %s; want 500 %s", rec.Code, rec.Body, want)
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("500 after a panic: X-Content-Type-Options = %q, want nosniff", got)
	}
	for _, w := range []string{"panic serving request", "the store went away", "middleware.go", `msg="http request" method=GET route=/healthz status=500`} {
		if !strings.Contains(logs.String(), w) {
			t.Errorf("log does not contain %q:\n%s", w, logs.String())
		}
	}
	if m := do(t, srv, "GET", "/metrics", ""); !strings.Contains(m.Body.String(), `khien_http_requests_total{method="GET",route="/healthz",code="500"} 1`) {
		t.Errorf("metrics do not count the panic as a 500:\n%s", m.Body)
	}
}

// TestInternalError checks that a store failure shows a generic message and logs the cause.
func TestInternalError(t *testing.T) {
	var logs bytes.Buffer
	db := openStore(t)
	// Authentication has its own store, so that only the inventory's fails.
	a := newAuth(t, openStore(t), fixedNow)
	srv := asAdmin(NewServer(Deps{Log: slog.New(slog.NewTextHandler(&logs, nil)), Inventory: inventory.NewService(db, fixedNow), Auth: a}), testAdmin(t, a))
	db.Close() // every query now fails
	rec := do(t, srv, "GET", "/api/v1/organizations/HN", "")
	const want = `{"error":{"code":"internal","message":"internal error"}}` + "\n"
	if rec.Code != 500 || rec.Body.String() != want {
		t.Errorf("GET with a closed store = %d %s; want 500 %s", rec.Code, rec.Body, want)
	}
	if !strings.Contains(logs.String(), `msg="request failed" method=GET route=/api/v1/organizations/{code} err=`) ||
		!strings.Contains(logs.String(), "closed") {
		t.Errorf("log does not hold the cause:\n%s", logs.String())
	}
}

func TestNewServerNeedsInventory(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewServer(Deps{}) did not panic")
		}
	}()
	NewServer(Deps{})
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"org":"HN","name":"Portal","level":3,"stage":"build","data_classes":["personal"]}`,
		`{"nme":"typo"}`, `{"level":"3"}`, `{"created":"2026-03-01T08:00:00Z"}`, `[]`, `null`, `{} {}`, `{"a":`, "",
		`{"data_classes":[1]}`, "\xff", `{"name":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/api/v1/systems", bytes.NewReader(body))
		_, err := decode[systemJSON](httptest.NewRecorder(), req)
		if err == nil {
			return
		}
		ae, ok := errors.AsType[*apiError](err)
		if !ok || ae.status != http.StatusBadRequest || ae.code != "invalid" || ae.msg == "" {
			t.Errorf("decode(%q) = %#v; want a 400 invalid apiError with a message", body, err)
		}
	})
}
