package assess

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/vulncheck"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/scope"
)

// TestVulnBacksOff: the vuln family's requests go through the scan's shared web transport,
// so a 429 it is answered is a pause the scan honours and records, as for the other web
// families (before, the family had a transport of its own and the answer went unnoticed).
func TestVulnBacksOff(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "Apache/2.4.49 (Unix)")
		if requests.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	port, _ := strconv.Atoi(srv.URL[len("http://127.0.0.1:"):])

	fam := vulncheck.Family(nil, vulncheck.Options{HTTPSPort: closedPort, HTTPPort: port, BannerPorts: map[string]int{}})
	s := &Scanner{
		Guard:    scope.New(scope.LoopbackFence(), "", 5*time.Second).WithBudget(scope.NewBudget(0, 0)),
		Families: []check.Runner{fam},
		Env:      check.Env{Timeout: 5 * time.Second},
	}
	res := s.ScanOne(t.Context(), inventory.Resource{ID: "ip:127.0.0.1", Scope: inventory.ScopeVerified})
	if len(res) != 1 {
		t.Fatalf("results = %+v", res)
	}
	r := res[0]
	ths, ok := r.Evidence["throttled"].([]scope.Throttle)
	if !ok || len(ths) != 1 || ths[0].Status != http.StatusTooManyRequests || ths[0].Delay != time.Second {
		t.Errorf("evidence of the back-off = %#v, want the 429 and its one-second pause", r.Evidence["throttled"])
	}
	if sw, _ := r.Evidence["software"].([]map[string]string); len(sw) != 1 || sw[0]["version"] != "2.4.49" {
		t.Errorf("software = %v, want Apache 2.4.49 read from the answer", r.Evidence["software"])
	}
}
