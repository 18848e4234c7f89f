package vulncheck

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/vuln"
	"github.com/khien-vn/khien/internal/vuln/vulntest"
)

// webHost serves a page with the given Server header; traversal makes it answer the
// CVE-2021-41773 probe as a vulnerable Apache 2.4.49 would.
func webHost(t testing.TB, server string, traversal bool) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", server)
		if traversal && strings.Contains(r.URL.EscapedPath(), "/icons/.%2e/%2e%2e/") {
			w.Write([]byte("root:x:0:0:root:/root:/bin/bash\n"))
			return
		}
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("<html>Cổng thông tin</html>"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func env() check.Env {
	d := &net.Dialer{Timeout: time.Second}
	return check.Env{
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, _ := net.SplitHostPort(addr)
			if host != "127.0.0.1" {
				return nil, &net.AddrError{Err: "test dialer allows loopback only", Addr: addr}
			}
			return d.DialContext(ctx, network, addr)
		},
		Timeout: 2 * time.Second, Now: func() time.Time { return time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) },
	}
}

func urlResource(srv *httptest.Server) inventory.Resource {
	return inventory.Resource{ID: "url:" + srv.URL + "/", Scope: inventory.ScopeVerified}
}

func TestKnownExploited(t *testing.T) {
	ix := vulntest.Index(t)
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	tests := []struct {
		name       string
		resource   inventory.Resource
		ix         *vuln.Index
		status     check.Status
		confidence string
		reason     string
	}{
		{"apache 2.4.49 confirmed", urlResource(webHost(t, "Apache/2.4.49 (Unix)", true)), ix, check.Fail, "confirmed", "CVE-2021-41773"},
		{"apache 2.4.49 patched by the distribution", urlResource(webHost(t, "Apache/2.4.49 (Unix)", false)), ix, check.Fail, "version-inferred", "KEV"},
		{"apache 2.4.50 version only", urlResource(webHost(t, "Apache/2.4.50", false)), ix, check.Fail, "version-inferred", "CVE-2021-42013"},
		{"nginx with a non-KEV advisory", urlResource(webHost(t, "nginx/1.18.0", false)), ix, check.Pass, "", "1 other advisories"},
		{"current nginx", urlResource(webHost(t, "nginx/1.27.0", false)), ix, check.Pass, "", "none is known exploited"},
		{"no version disclosed", urlResource(webHost(t, "nginx", false)), ix, check.Pass, "", "no software disclosed a version"},
		{"no feeds imported", urlResource(webHost(t, "Apache/2.4.49", false)), vuln.NewIndex(nil, nil), check.Error, "", "no vulnerability feed"},
		{"unreachable", inventory.Resource{ID: "url:https://127.0.0.1:" + strconv.Itoa(closedPort) + "/", Scope: inventory.ScopeVerified}, ix, check.Error, "", "could not observe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Family(tt.ix, Options{}).Run(t.Context(), tt.resource, env())
			if len(res) != 1 {
				t.Fatalf("%d results, want 1", len(res))
			}
			r := res[0]
			if r.Status != tt.status || !strings.Contains(r.Reason.EN, tt.reason) {
				t.Fatalf("result = %s %q, want %s containing %q", r.Status, r.Reason.EN, tt.status, tt.reason)
			}
			if r.Reason.VI == "" {
				t.Error("no Vietnamese reason")
			}
			if got, _ := r.Evidence["confidence"].(string); got != tt.confidence {
				t.Errorf("confidence = %q, want %q", got, tt.confidence)
			}
		})
	}
}

func TestBanners(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5\r\n"))
			c.Close()
		}
	}()
	web := webHost(t, "Apache/2.4.62 (Debian)", false)
	webPort := web.Listener.Addr().(*net.TCPAddr).Port
	o := Options{HTTPSPort: webPort, HTTPPort: 1, BannerPorts: map[string]int{"ssh": ln.Addr().(*net.TCPAddr).Port}}
	res := Family(vulntest.Index(t), o).Run(t.Context(), inventory.Resource{ID: "ip:127.0.0.1", Scope: inventory.ScopeVerified}, env())
	r := res[0]
	if r.Status != check.Pass {
		t.Fatalf("status %s: %s", r.Status, r.Reason.EN)
	}
	sw := r.Evidence["software"].([]map[string]string)
	var got []string
	for _, s := range sw {
		got = append(got, s["product"]+" "+s["version"])
	}
	if strings.Join(got, ",") != "apache httpd 2.4.62,openssh 8.2p1" {
		t.Errorf("software = %v", got)
	}
	if ms := r.Evidence["matches"].([]map[string]any); len(ms) != 1 || ms[0]["advisory"] != "KHIEN-TEST-2023-38408" {
		t.Errorf("matches = %v, want the OpenSSH advisory (not known exploited)", ms)
	}
}

func BenchmarkObserve(b *testing.B) {
	ix := vulntest.Index(b)
	r := urlResource(webHost(b, "Apache/2.4.49 (Unix)", true))
	f := Family(ix, Options{})
	e := env()
	for b.Loop() {
		f.Run(context.Background(), r, e)
	}
}
