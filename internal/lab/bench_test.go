package lab_test

import (
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/lab"
	"github.com/khien-vn/khien/internal/scope"
	"github.com/khien-vn/khien/internal/vuln/vulntest"
)

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
	fams := app.Families(app.FamilyOptions{Vuln: vulntest.Index(b)})
	base := check.Env{Now: time.Now, Timeout: 5 * time.Second, Roots: l.Roots(), UserAgent: "Khien-bench"}
	for _, h := range l.Hosts {
		host, r := h.Scenario, byID["dns:"+h.Name]
		for _, f := range fams {
			b.Run(host+"/"+f.FamilyName(), func(b *testing.B) {
				var n int64
				level := scope.Passive
				if f.IsActive() {
					level = scope.Active
				}
				for b.Loop() {
					budget := scope.NewBudget(0, 0)
					env, err := l.Guard(5*time.Second).WithBudget(budget).Env(r, level, base)
					if err != nil {
						b.Fatal(err)
					}
					f.Run(b.Context(), r, env)
					n += budget.Opened()
				}
				b.ReportMetric(float64(n)/float64(b.N), "conns/op")
			})
		}
		// Counted at the budget, as above: the web families' shared keep-alive transports
		// dial through the guard, not through any family's Env.Dial.
		b.Run(host+"/catalog", func(b *testing.B) {
			var n int64
			for b.Loop() {
				budget := scope.NewBudget(0, 0)
				s := &assess.Scanner{Guard: l.Guard(5 * time.Second).WithBudget(budget), Families: fams, Env: base}
				s.ScanOne(b.Context(), r)
				n += budget.Opened()
			}
			b.ReportMetric(float64(n)/float64(b.N), "conns/op")
		})
	}
}
