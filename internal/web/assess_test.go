package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/scope"
	"github.com/khien-vn/khien/internal/store/sqlite"
)

// telnetFamily reads a service banner through the guard: a Telnet banner fails
// exposure.service.remote_admin. It stands in for the real families so that the API test
// controls what the "host" shows.
func telnetFamily(port string) check.Family[string] {
	return check.Family[string]{
		Name:    "exposure",
		Applies: func(r inventory.Resource) bool { return r.Kind() == inventory.KindIP },
		Observe: func(ctx context.Context, r inventory.Resource, env check.Env) (string, error) {
			c, err := env.Dial(ctx, "tcp", net.JoinHostPort(r.Value(), port))
			if err != nil {
				return "", err
			}
			defer c.Close()
			b, err := io.ReadAll(io.LimitReader(c, 64))
			return string(b), err
		},
		Checks: []check.Check[string]{{ID: "exposure.service.remote_admin", Evaluate: func(o string) check.Result {
			if strings.Contains(o, "login:") {
				return check.Result{Status: check.Fail, Reason: check.Text{VI: "Telnet mở", EN: "Telnet is open"}, Evidence: map[string]any{"banner": o}}
			}
			return check.Result{Status: check.Pass, Reason: check.Text{VI: "Không có Telnet", EN: "no Telnet"}, Evidence: map[string]any{"banner": o}}
		}}},
	}
}

func TestAssessmentAPI(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var telnetOpen atomic.Bool
	telnetOpen.Store(true)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if telnetOpen.Load() {
				io.WriteString(c, "Ubuntu 22.04\r\nlogin: ")
			} else {
				io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n")
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	clock := testTime
	now := func() time.Time { return clock }
	cat, err := check.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	var svc *assess.Service
	srv, inv := newTestServer(t, func(d *Deps) { d.Assess = nil })
	db := inv.Store().(*sqlite.DB)
	scanner := &assess.Scanner{Guard: scope.New(scope.LoopbackFence(), "", time.Second), Families: []check.Runner{telnetFamily(port)}}
	svc = assess.NewService(inv, db, scanner, cat, now, testLog(t))
	srv = serveAsAdmin(t, Deps{Log: testLog(t), Inventory: inv, Now: now, Assess: svc})
	if _, err := inv.CreateResource(t.Context(), inventory.Resource{ID: "ip:127.0.0.1", System: "hn-portal", Scope: inventory.ScopeAssigned, ScopeReason: "lab host"}); err != nil {
		t.Fatal(err)
	}
	doc := openAPIDoc(t)
	call := func(method, route, path, body string, want int) map[string]any {
		t.Helper()
		rec := do(t, srv, method, path, body)
		if rec.Code != want {
			t.Fatalf("%s %s = %d %s; want %d", method, path, rec.Code, rec.Body, want)
		}
		op, err := pointer(doc, "#/paths/"+strings.ReplaceAll(route, "/", "~1")+"/"+strings.ToLower(method))
		if err != nil {
			t.Fatalf("openapi.json has no %s %s", method, route)
		}
		resp := resolve(t, doc, op["responses"].(map[string]any)[fmt.Sprint(want)])
		if resp == nil {
			t.Fatalf("openapi.json does not document %d of %s %s", want, method, route)
		}
		var got map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		schema := resp["content"].(map[string]any)["application/json"].(map[string]any)["schema"]
		for _, p := range checkSchema(t, doc, schema, got, "") {
			t.Errorf("%s %s: %s", method, path, p)
		}
		return got
	}

	// Out of scope: refused, nothing scanned.
	call("POST", "/api/v1/assessments", "/api/v1/assessments", `{"resource":"dns:x.vn"}`, 403)
	call("POST", "/api/v1/assessments", "/api/v1/assessments", `{"resource":"dns:x.vn","system":"hn-portal"}`, 400)

	// The Telnet host fails: one new open finding.
	got := call("POST", "/api/v1/assessments", "/api/v1/assessments", `{"resource":"ip:127.0.0.1"}`, 201)
	run := got["outcomes"].([]any)[0].(map[string]any)["run"].(map[string]any)
	if c := run["counts"].(map[string]any); c["fail"] != 1.0 || c["new"] != 1.0 || c["open"] != 1.0 {
		t.Fatalf("first run counts = %v", c)
	}
	list := call("GET", "/api/v1/findings", "/api/v1/findings?status=open&severity=high&under=HN", "", 200)
	if list["total"] != 1.0 {
		t.Fatalf("open findings = %v", list)
	}
	f := list["items"].([]any)[0].(map[string]any)
	fp := f["fingerprint"].(string)
	if f["check"] != "exposure.service.remote_admin" || f["due"] == nil || f["overdue"] != false {
		t.Errorf("finding = %v", f)
	}
	call("GET", "/api/v1/findings", "/api/v1/findings?status=bogus", "", 400)
	call("GET", "/api/v1/runs/{id}", "/api/v1/runs/"+run["id"].(string), "", 200)
	call("GET", "/api/v1/resources/{id}/runs", "/api/v1/resources/ip:127.0.0.1/runs", "", 200)

	// Accept the risk, then the host is fixed: the system run resolves it.
	call("POST", "/api/v1/findings/{fingerprint}/accept", "/api/v1/findings/"+fp+"/accept", `{"approver":"Lê Minh Đức","reason":"thay thế trong quý 1/2027","expires":"2026-06-01T00:00:00Z"}`, 200)
	call("POST", "/api/v1/findings/{fingerprint}/accept", "/api/v1/findings/"+fp+"/accept", `{"approver":"","reason":"x","expires":"2026-06-01T00:00:00Z"}`, 400)
	clock = clock.Add(24 * time.Hour)
	telnetOpen.Store(false)
	got = call("POST", "/api/v1/assessments", "/api/v1/assessments", `{"system":"hn-portal"}`, 201)
	codes := map[string]string{}
	for _, o := range got["outcomes"].([]any) {
		o := o.(map[string]any)
		code, _ := o["code"].(string)
		codes[o["resource"].(string)] = code
	}
	if codes["dns:x.vn"] != "out_of_scope" || codes["ip:127.0.0.1"] != "" {
		t.Errorf("system outcomes = %v", codes)
	}
	detail := call("GET", "/api/v1/findings/{fingerprint}", "/api/v1/findings/"+fp, "", 200)
	var changes []string
	for _, e := range detail["history"].([]any) {
		changes = append(changes, e.(map[string]any)["change"].(string))
	}
	if strings.Join(changes, ",") != "new,accepted,resolved" || detail["finding"].(map[string]any)["status"] != "fixed" {
		t.Errorf("history %v, finding %v", changes, detail["finding"])
	}
	diff := call("GET", "/api/v1/diff", "/api/v1/diff?resource=ip:127.0.0.1", "", 200)
	if len(diff["resolved"].([]any)) != 1 || len(diff["new"].([]any)) != 0 {
		t.Errorf("diff = %v", diff)
	}
	call("GET", "/api/v1/diff", "/api/v1/diff?resource=ip:127.0.0.1&from=yesterday", "", 400)
	call("GET", "/api/v1/findings/{fingerprint}", "/api/v1/findings/0000", "", 404)
}
