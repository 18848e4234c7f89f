package lab_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/lab"
	"github.com/khien-vn/khien/internal/scope"
)

// counting wraps a family so that the connections it opens through the guard are counted.
type counting struct {
	check.Runner
	n *atomic.Int64
}

func (c counting) Run(ctx context.Context, r inventory.Resource, env check.Env) []check.Result {
	dial := env.Dial
	env.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if network == "tcp" || network == "tcp4" || network == "tcp6" {
			c.n.Add(1)
		}
		return dial(ctx, network, addr)
	}
	return c.Runner.Run(ctx, r, env)
}

// BenchmarkFamilies assesses single lab hosts as a fresh `khien scan` does, through the
// loopback-fenced guard with the default per-address budget (6 connections at once, 50 new
// ones a second, a fresh budget per iteration), family by family and with the whole catalog,
// and reports the TCP connections each opens. It shows where the time of one host goes: the
// budget, not the CPU, once a family needs more than a handful of connections.
func BenchmarkFamilies(b *testing.B) {
	l := startLab(b, lab.Config{})
	_, rs := registered(b, l)
	byID := map[string]inventory.Resource{}
	for _, r := range rs {
		byID[r.ID] = r
	}
	fams := app.Families(app.FamilyOptions{Vuln: feeds(b)})
	base := check.Env{Now: time.Now, Timeout: 5 * time.Second, Roots: l.Roots(), UserAgent: "Khien-bench"}
	for _, h := range l.Hosts {
		host, r := h.Scenario, byID["dns:"+h.Name]
		for _, f := range fams {
			b.Run(host+"/"+f.FamilyName(), func(b *testing.B) {
				var n atomic.Int64
				level := scope.Passive
				if f.IsActive() {
					level = scope.Active
				}
				for b.Loop() {
					env, err := l.Guard(5*time.Second).WithBudget(scope.NewBudget(0, 0)).Env(r, level, base)
					if err != nil {
						b.Fatal(err)
					}
					counting{f, &n}.Run(b.Context(), r, env)
				}
				b.ReportMetric(float64(n.Load())/float64(b.N), "conns/op")
			})
		}
		b.Run(host+"/catalog", func(b *testing.B) {
			var n atomic.Int64
			var wrapped []check.Runner
			for _, f := range fams {
				wrapped = append(wrapped, counting{f, &n})
			}
			for b.Loop() {
				s := &assess.Scanner{Guard: l.Guard(5 * time.Second).WithBudget(scope.NewBudget(0, 0)), Families: wrapped, Env: base}
				s.ScanOne(b.Context(), r)
			}
			b.ReportMetric(float64(n.Load())/float64(b.N), "conns/op")
		})
	}
}
