package assess

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/webclient"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/scope"
)

// webFamily sends n GET requests, one after the other, to the ip: resource's web server on
// port, through the transport webclient.For gives it, and reports the statuses it saw. It
// starts once after is closed (when not nil) and closes done when finished.
func webFamily(name, port string, n int, after <-chan struct{}, done chan<- struct{}) check.Family[[]int] {
	return check.Family[[]int]{
		Name:    name,
		Applies: func(r inventory.Resource) bool { return r.Kind() == inventory.KindIP },
		Observe: func(ctx context.Context, r inventory.Resource, env check.Env) ([]int, error) {
			defer close(done)
			if after != nil {
				<-after
			}
			a := netip.MustParseAddr(r.Value())
			tr, release := webclient.For(env.Web, env.Dial, r.Value(), a, env.Timeout)
			defer release()
			c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			var statuses []int
			for i := range n {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/%s/%d", net.JoinHostPort(r.Value(), port), name, i), nil)
				if err != nil {
					return nil, err
				}
				resp, err := c.Do(req)
				if err != nil {
					return nil, err
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				statuses = append(statuses, resp.StatusCode)
			}
			return statuses, nil
		},
		Checks: []check.Check[[]int]{{ID: name + ".ok", Evaluate: func(o []int) check.Result {
			return check.Result{Status: check.Pass, Evidence: map[string]any{"statuses": o}}
		}}},
	}
}

// TestScanSharesWebConnections: the web families of one resource reuse each other's
// keep-alive connections; a server that answers 429 is paused for and every verdict of the resource says so.
func TestScanSharesWebConnections(t *testing.T) {
	var conns, requests atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 3 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	first := make(chan struct{}) // the second family starts when the first is done
	s := &Scanner{
		Guard:    scope.New(scope.LoopbackFence(), "", 5*time.Second).WithBudget(scope.NewBudget(0, 0)),
		Families: []check.Runner{webFamily("one", port, 4, nil, first), webFamily("two", port, 4, first, make(chan struct{}))},
		Env:      check.Env{Timeout: 5 * time.Second},
	}
	res := s.ScanOne(t.Context(), inventory.Resource{ID: "ip:127.0.0.1", Scope: inventory.ScopeVerified})
	if len(res) != 2 {
		t.Fatalf("results = %+v", res)
	}
	for _, r := range res {
		if r.Status != check.Pass {
			t.Fatalf("%s = %s %+v", r.Check, r.Status, r.Reason)
		}
		ths, ok := r.Evidence["throttled"].([]scope.Throttle)
		if !ok || len(ths) != 1 || ths[0].Status != http.StatusTooManyRequests || ths[0].Delay != time.Second {
			t.Errorf("%s: evidence of the back-off = %#v", r.Check, r.Evidence["throttled"])
		}
	}
	// Two families, eight requests one after the other: the second family reuses the
	// connection the first left idle (each on its own transport would open one).
	if n, m := conns.Load(), requests.Load(); m != 8 || n != 1 {
		t.Errorf("%d connections for %d requests, want 1 for 8", n, m)
	}
}

// TestScanRemembersAcrossResources: one Scan shares one Memo among its resources; ScanOne
// calls each have their own.
func TestScanRemembersAcrossResources(t *testing.T) {
	var computed atomic.Int32
	fam := check.Family[bool]{
		Name: "memo",
		Observe: func(_ context.Context, _ inventory.Resource, env check.Env) (bool, error) {
			_, shared := check.Remember(env.Memo, "zone", func() int { computed.Add(1); return 1 })
			return shared, nil
		},
		Checks: []check.Check[bool]{{ID: "memo.x", Evaluate: func(bool) check.Result { return check.Result{Status: check.Pass} }}},
	}
	s := &Scanner{Guard: scope.New(scope.LoopbackFence(), "", time.Second), Families: []check.Runner{fam}}
	rs := []inventory.Resource{
		{ID: "dns:a.example.test", Scope: inventory.ScopeVerified},
		{ID: "dns:b.example.test", Scope: inventory.ScopeVerified},
		{ID: "dns:c.example.test", Scope: inventory.ScopeVerified},
	}
	if err := s.Scan(t.Context(), rs, func(inventory.Resource, []check.Result) {}); err != nil {
		t.Fatal(err)
	}
	if n := computed.Load(); n != 1 {
		t.Errorf("computed %d times in one scan, want 1", n)
	}
	s.ScanOne(t.Context(), rs[0])
	s.ScanOne(t.Context(), rs[0])
	if n := computed.Load(); n != 3 {
		t.Errorf("computed %d times after two more scans, want 3", n)
	}
}
