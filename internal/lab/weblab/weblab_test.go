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
