package assess_test

import (
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
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

// benchPrefix is this benchmark's own lab network (internal/lab's tests use others).
var benchPrefix = netip.MustParsePrefix("127.88.0.0/16")

// BenchmarkScanOneLab assesses one lab host as a fresh `khien scan NAME` does: every family,
// through the loopback-fenced guard with the default per-address budget (a fresh one per
// iteration), and reports the connections the budget let through (every TCP connection of
// the scan, the web families' shared keep-alive ones included).
func BenchmarkScanOneLab(b *testing.B) {
	l, err := lab.Start(b.Context(), lab.Config{Prefix: benchPrefix})
	if err != nil && os.Getenv("CI") != "true" && (errors.Is(err, lab.ErrPrivileged) || errors.Is(err, syscall.EADDRINUSE)) {
		b.Skip(err)
	}
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	a, err := app.Open(b.Context(), app.Config{DB: filepath.Join(b.TempDir(), "lab.db")}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	if err := l.Register(b.Context(), a.Inventory); err != nil {
		b.Fatal(err)
	}
	inv, err := a.Store.Snapshot(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	byID := map[string]inventory.Resource{}
	for _, r := range inv.Resources {
		byID[r.ID] = r
	}
	fams := app.Families(app.FamilyOptions{Vuln: vulntest.Index(b)})
	base := check.Env{Now: time.Now, Timeout: 5 * time.Second, Roots: l.Roots(), UserAgent: "Khien-bench"}
	for _, h := range l.Hosts {
		switch h.Scenario {
		case lab.Good, "oldtls", lab.Legacy, lab.SSL3:
		default:
			continue
		}
		r := byID["dns:"+h.Name]
		b.Run(h.Scenario, func(b *testing.B) {
			var conns int64
			for b.Loop() {
				budget := scope.NewBudget(0, 0)
				s := &assess.Scanner{Guard: l.Guard(5 * time.Second).WithBudget(budget), Families: fams, Env: base}
				s.ScanOne(b.Context(), r)
				conns += budget.Opened()
			}
			b.ReportMetric(float64(conns)/float64(b.N), "conns/op")
		})
	}
}
