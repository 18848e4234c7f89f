package weblab

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// client returns an HTTP client that sends every connection to h's address, whatever the name,
// trusting h's CA and following no redirects.
func client(h *Host) *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(addr)
				return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort(h.Config.IP, port))
			},
			TLSClientConfig: &tls.Config{RootCAs: h.CA.Pool()},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func TestGoodAndBad(t *testing.T) {
	ctx := t.Context()
	good, err := Start(ctx, Good("good.lab.khien.test"))
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	bad, err := Start(ctx, Bad("bad.lab.khien.test"))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()

	tests := []struct {
		name, url, origin string
		host              *Host
		wantStatus        int
		wantHeader        map[string]string
		wantBody          string
	}{
		{"good https", good.HTTPSURL(), "", good, 200, map[string]string{
			"Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload", "X-Content-Type-Options": "nosniff",
			"X-Frame-Options": "DENY", "Server": "nginx"}, "Cổng thông tin"},
		{"good http redirects", good.HTTPURL() + "x?y=1", "", good, 301, map[string]string{
			"Location": good.HTTPSURL() + "x?y=1", "Strict-Transport-Security": ""}, ""},
		{"bad http serves", bad.HTTPURL(), "", bad, 200, map[string]string{"Server": "Apache/2.4.49 (Unix)"}, "http://cdn.lab.khien.test"},
		{"bad cors reflects", bad.HTTPSURL(), "https://evil.example", bad, 200, map[string]string{
			"Access-Control-Allow-Origin": "https://evil.example", "Access-Control-Allow-Credentials": "true"}, ""},
		{"good cors silent", good.HTTPSURL(), "https://evil.example", good, 200, map[string]string{"Access-Control-Allow-Origin": ""}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(ctx, "GET", tt.url, nil)
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			resp, err := client(tt.host).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("GET %s = %d, want %d", tt.url, resp.StatusCode, tt.wantStatus)
			}
			for k, v := range tt.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("GET %s: %s = %q, want %q", tt.url, k, got, v)
				}
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("GET %s body lacks %q", tt.url, tt.wantBody)
			}
		})
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, ip := range []string{"0.0.0.0", "192.0.2.1", "::", "not-an-ip"} {
		c := Good("x.lab.khien.test")
		c.IP = ip
		if h, err := Start(t.Context(), c); err == nil {
			h.Close()
			t.Errorf("Start on %s succeeded, want refusal", ip)
		}
	}
}

func TestStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	c := Good("stop.lab.khien.test")
	c.NoHTTPS = true
	h, err := Start(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.Dial("tcp", h.HTTPAddr)
		if err != nil {
			return // closed
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("host still listening after its context was cancelled")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStartN starts several identical hosts on distinct loopback addresses, skipping .255 and .0.
func TestStartN(t *testing.T) {
	hosts, err := StartN(t.Context(), 3, Good("bench.lab.khien.test"), netip.MustParseAddr("127.0.10.254"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hosts {
		defer h.Close()
		got = append(got, h.Config.IP+" "+h.Config.Name)
	}
	want := "127.0.10.254 h1.bench.lab.khien.test,127.0.11.1 h2.bench.lab.khien.test,127.0.11.2 h3.bench.lab.khien.test"
	if strings.Join(got, ",") != want {
		t.Errorf("hosts = %v, want %s", got, want)
	}
	if hosts[0].CA != hosts[2].CA || hosts[0].CA == nil {
		t.Error("hosts do not share one CA")
	}
}

// TestComposition covers what the lab orchestrator composes hosts with: aliases that plain
// HTTP redirects keep, a Handler for the pages, a Middleware ahead of the redirect, and a
// whole TLS configuration.
func TestComposition(t *testing.T) {
	ca, err := NewCA("composition")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("comp.lab.khien.test", "alias.lab.khien.test")
	if err != nil {
		t.Fatal(err)
	}
	c := Good("comp.lab.khien.test")
	c.IP = "127.0.31.1"
	c.Aliases = []string{"alias.lab.khien.test"}
	c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
	c.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("trang chủ"))
	})
	c.Middleware = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/token" {
				w.Write([]byte("tok"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	h, err := Start(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	h.CA = ca
	cl := client(h)
	get := func(url string) (*http.Response, string) {
		t.Helper()
		resp, err := cl.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	httpPort := ":" + strings.Split(h.HTTPAddr, ":")[1]
	httpsPort := ":" + strings.Split(h.HTTPSAddr, ":")[1]
	for _, tt := range []struct{ url, location string }{
		{"http://alias.lab.khien.test" + httpPort + "/a", "https://alias.lab.khien.test" + httpsPort + "/a"},
		{"http://other.lab.khien.test" + httpPort + "/a", "https://comp.lab.khien.test" + httpsPort + "/a"},
	} {
		if resp, _ := get(tt.url); resp.StatusCode != 301 || resp.Header.Get("Location") != tt.location {
			t.Errorf("GET %s = %d to %q, want 301 to %q", tt.url, resp.StatusCode, resp.Header.Get("Location"), tt.location)
		}
	}
	if resp, body := get("http://comp.lab.khien.test" + httpPort + "/token"); resp.StatusCode != 200 || body != "tok" {
		t.Errorf("middleware: %d %q, want 200 tok", resp.StatusCode, body)
	}
	resp, body := get("https://alias.lab.khien.test" + httpsPort + "/")
	if body != "trang chủ" || resp.Header.Get("X-Frame-Options") != "DENY" || resp.TLS.Version != tls.VersionTLS13 {
		t.Errorf("handler: %q, X-Frame-Options %q, TLS %x", body, resp.Header.Get("X-Frame-Options"), resp.TLS.Version)
	}
	if resp, _ := get("https://comp.lab.khien.test" + httpsPort + "/x"); resp.StatusCode != 404 || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("handler 404: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
}
