package vulncheck

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/webclient"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/vuln/vulntest"
)

// countConns counts the connections srv accepts; call before srv is started.
func countConns(srv *httptest.Server) *atomic.Int32 {
	var n atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	return &n
}

// TestKeepAlive: the header fetch and the confirmer's probe of one host go over one
// kept-alive connection (with keep-alive off, each request opened its own).
func TestKeepAlive(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Server", "Apache/2.4.49 (Unix)")
		if strings.Contains(r.URL.EscapedPath(), "/icons/.%2e/%2e%2e/") {
			w.Write([]byte("root:x:0:0:root:/root:/bin/bash\n"))
			return
		}
		w.Write([]byte("<html>Cổng thông tin</html>"))
	}))
	conns := countConns(srv)
	srv.StartTLS()
	defer srv.Close()

	res := Family(vulntest.Index(t), Options{}).Run(t.Context(), urlResource(srv), env())
	if res[0].Status != check.Fail || res[0].Evidence["confidence"] != "confirmed" {
		t.Fatalf("result = %s %v, want a confirmed known-exploited match", res[0].Status, res[0].Evidence["confidence"])
	}
	if n, m := conns.Load(), requests.Load(); m != 2 || n != 1 {
		t.Errorf("%d connections for %d requests, want 1 for 2", n, m)
	}
}

// sharedWeb is a scan's web transports as a test sees them: it hands out one transport per
// host and address and records what was asked for.
type sharedWeb struct {
	dial webclient.DialFunc

	mu    sync.Mutex
	asked []string
	trs   map[string]*countingTransport
}

type countingTransport struct {
	tr    *http.Transport
	trips atomic.Int32
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.trips.Add(1)
	return c.tr.RoundTrip(req)
}

func (w *sharedWeb) Transport(host string, addr netip.Addr) http.RoundTripper {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := host + "|" + addr.String()
	w.asked = append(w.asked, k)
	if w.trs[k] == nil {
		w.trs[k] = &countingTransport{tr: webclient.New(w.dial, host, addr, 0)}
	}
	return w.trs[k]
}

// TestSharedTransport: during a scan (Env.Web set) every request of the family goes
// through the scan's shared transport for the host, pinned to its address, so the scan's
// back-off on 429 and 503 applies to it (see assess's TestVulnBacksOff).
func TestSharedTransport(t *testing.T) {
	srv := webHost(t, "Apache/2.4.49 (Unix)", true)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	e := env()
	web := &sharedWeb{dial: e.Dial, trs: map[string]*countingTransport{}}
	e.Web = web
	o := Options{HTTPSPort: port, HTTPPort: port, BannerPorts: map[string]int{}}
	res := Family(vulntest.Index(t), o).Run(t.Context(), inventory.Resource{ID: "ip:127.0.0.1", Scope: inventory.ScopeVerified}, e)
	if res[0].Status != check.Fail || res[0].Evidence["confidence"] != "confirmed" {
		t.Fatalf("result = %s %v, want a confirmed known-exploited match", res[0].Status, res[0].Evidence["confidence"])
	}
	if len(web.asked) != 1 || web.asked[0] != "127.0.0.1|127.0.0.1" {
		t.Fatalf("transports asked for = %q, want one for 127.0.0.1 pinned to 127.0.0.1", web.asked)
	}
	// https:// and http:// of the same port (the second answered 400: the server speaks
	// TLS), then the confirmer's probe.
	if n := web.trs["127.0.0.1|127.0.0.1"].trips.Load(); n != 3 {
		t.Errorf("requests through the shared transport = %d, want 3", n)
	}
}
