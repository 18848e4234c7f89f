package assess

import (
	"context"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/scope"
)

// bannerFamily reads the first line a TCP service sends: a real connection through env.Dial.
func bannerFamily(name string, active bool, port string, dials *atomic.Int32) check.Family[string] {
	return check.Family[string]{
		Name:    name,
		Active:  active,
		Applies: func(r inventory.Resource) bool { return r.Kind() == inventory.KindIP },
		Observe: func(ctx context.Context, r inventory.Resource, env check.Env) (string, error) {
			dials.Add(1)
			c, err := env.Dial(ctx, "tcp", net.JoinHostPort(r.Value(), port))
			if err != nil {
				return "", err
			}
			defer c.Close()
			b, err := io.ReadAll(io.LimitReader(c, 64))
			return string(b), err
		},
		Checks: []check.Check[string]{{ID: name + ".banner", Evaluate: func(o string) check.Result {
			if strings.HasPrefix(o, "SSH-1") {
				return check.Result{Status: check.Fail, Evidence: map[string]any{"banner": o}}
			}
			return check.Result{Status: check.Pass, Evidence: map[string]any{"banner": o}}
		}}},
	}
}

func TestScanGoesThroughTheGuard(t *testing.T) {
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
			io.WriteString(c, "SSH-1.5-old\r\n")
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	var passiveDials, activeDials atomic.Int32
	s := &Scanner{
		Guard: scope.New(scope.LoopbackFence(), "", time.Second).WithBudget(scope.NewBudget(2, 100)),
		Families: []check.Runner{
			bannerFamily("passive", false, port, &passiveDials),
			bannerFamily("active", true, port, &activeDials),
		},
		Env:         check.Env{Now: func() time.Time { return time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) }},
		Concurrency: 4,
	}
	rs := []inventory.Resource{
		{ID: "ip:127.0.0.1", Scope: inventory.ScopeVerified},
		{ID: "ip:127.0.0.1", Scope: inventory.ScopeAssigned},
		{ID: "ip:127.0.0.1", Scope: inventory.ScopeUnverified},
		{ID: "dns:not-applicable.test", Scope: inventory.ScopeVerified},
	}
	want := map[inventory.ScopeStatus]string{
		inventory.ScopeVerified:   "passive.banner=fail active.banner=fail",
		inventory.ScopeAssigned:   "passive.banner=fail active.banner=error",
		inventory.ScopeUnverified: "passive.banner=error active.banner=error",
	}
	got := map[string]string{}
	err = s.Scan(t.Context(), rs, func(r inventory.Resource, res []check.Result) {
		var parts []string
		for _, x := range res {
			parts = append(parts, x.Check+"="+string(x.Status))
			if x.Status == check.Error && !strings.Contains(x.Reason.EN, "outside the authorized scope") {
				t.Errorf("%s %s: error without the scope reason: %+v", r.ID, x.Check, x.Reason)
			}
			if x.Status == check.Error && (!strings.Contains(x.Reason.VI, "chưa") || strings.Contains(x.Reason.VI, " is ")) {
				t.Errorf("%s: the Vietnamese reason is not Vietnamese: %q", x.Check, x.Reason.VI)
			}
		}
		got[r.ID+"/"+string(r.Scope)] = strings.Join(parts, " ")
	})
	if err != nil {
		t.Fatal(err)
	}
	for scopeStatus, w := range want {
		if g := got["ip:127.0.0.1/"+string(scopeStatus)]; g != w {
			t.Errorf("scope %s: got %q, want %q", scopeStatus, g, w)
		}
	}
	if g := got["dns:not-applicable.test/verified"]; g != "" {
		t.Errorf("families that do not apply produced results: %q", g)
	}
	// Unauthorized families never dialled: verified ran both, assigned ran the passive one.
	if passiveDials.Load() != 2 || activeDials.Load() != 1 {
		t.Errorf("dials: passive %d, active %d; want 2 and 1", passiveDials.Load(), activeDials.Load())
	}
}

func TestScanUnreachableIsErrorNotFail(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close() // a closed loopback port: connection refused
	var n atomic.Int32
	s := &Scanner{Guard: scope.New(scope.LoopbackFence(), "", time.Second), Families: []check.Runner{bannerFamily("svc", false, port, &n)}}
	res := s.ScanOne(t.Context(), inventory.Resource{ID: "ip:127.0.0.1", Scope: inventory.ScopeAssigned})
	if len(res) != 1 || res[0].Status != check.Error || !strings.Contains(res[0].Reason.EN, "refused") {
		t.Fatalf("results = %+v, want one error saying the connection was refused", res)
	}
}
