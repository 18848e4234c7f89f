package assess_test

import (
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/dnscheck"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/lab/dnslab"
	"github.com/khien-vn/khien/internal/scope"
	"github.com/khien-vn/khien/internal/store/sqlite"
)

// startZone serves zone, open to transfers, from a lab DNS server on 127.0.0.1: the apex and
// a., b. and c. under it resolve to 127.0.0.1, and so does its name server.
func startZone(t *testing.T, zone string) *dnslab.Server {
	t.Helper()
	s, err := dnslab.Start(t.Context(), dnslab.Config{Zones: []dnslab.Zone{{Origin: zone, OpenAXFR: true,
		Text: "@ NS ns1\nns1 A 127.0.0.1\n@ A 127.0.0.1\na A 127.0.0.1\nb A 127.0.0.1\nc A 127.0.0.1\n"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestScheduledRunsShareAZoneTransfer: the scheduled runs of a zone's names, each a job of
// its own (as a worker receives them) or leased by the scheduler, ask the zone's name server
// for one transfer; once the shared answers expire the next round asks again, and runs an
// operator asks for look afresh (one transfer for a system's names assessed together).
func TestScheduledRunsShareAZoneTransfer(t *testing.T) {
	z := startZone(t, "memo-jobs.test")
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	names := []string{"dns:memo-jobs.test", "dns:a.memo-jobs.test", "dns:b.memo-jobs.test", "dns:c.memo-jobs.test"}
	inv := inventory.Inventory{
		Orgs:    []inventory.Organization{{Code: "HN", Name: "Hà Nội", Level: inventory.LevelProvince, Created: t0, Updated: t0}},
		Systems: []inventory.System{{ID: "sys-dns", Org: "HN", Name: "Cổng", Level: 3, Stage: inventory.StageOperation, Created: t0, Updated: t0}},
	}
	for _, id := range names {
		inv.Resources = append(inv.Resources, inventory.Resource{ID: id, System: "sys-dns", Scope: inventory.ScopeVerified,
			ScopeReason: "Giám đốc Sở xác nhận", Created: t0, Updated: t0})
	}
	if err := db.Apply(ctx, inv); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: t0}
	scanner := &assess.Scanner{
		Guard:    scope.New(scope.LoopbackFence(), net.JoinHostPort("127.0.0.1", strconv.Itoa(z.Port())), 2*time.Second).WithBudget(scope.NewBudget(0, 0)),
		Families: []check.Runner{dnscheck.AXFR(dnscheck.Options{DNSPort: z.Port()})},
		Env:      check.Env{Now: clk.Now, Timeout: 2 * time.Second},
	}
	svc := assess.NewService(db, db, scanner, nil, clk.Now, nil)

	// round runs one scheduled job per name, all at once, and checks each run found the
	// open transfer.
	round := func(due time.Time) {
		t.Helper()
		var wg sync.WaitGroup
		for _, id := range names {
			wg.Go(func() {
				j := assess.DueJob(assess.Due{Resource: id, Schedule: assess.Schedule{Resource: id, NextDue: due}}, "")
				if err := svc.HandleJob(ctx, j); err != nil {
					t.Errorf("job %s: %v", j.Key, err)
				}
			})
		}
		wg.Wait()
		for _, id := range names {
			res, err := svc.RunResults(ctx, assess.SlotRunID(id, due))
			if err != nil || len(res) != 1 || res[0].Status != check.Fail {
				t.Errorf("run of %s: %+v, %v; want dns.axfr.open failing", id, res, err)
			}
		}
	}
	want := func(n int64, when string) {
		t.Helper()
		if got := z.Transfers(); got != n {
			t.Errorf("%s: %d zone transfers in all, want %d", when, got, n)
		}
	}

	round(t0)
	want(1, "four scheduled jobs of one zone")
	clk.Advance(time.Minute)
	round(t0.Add(time.Minute))
	want(1, "the next jobs within the shared answers' lifetime")

	clk.Advance(assess.SharedMemoTTL)
	round(t0.Add(time.Hour))
	want(2, "a round after the shared answers expired")

	// A day on, every name is due again: the in-process scheduler's round shares too.
	clk.Advance(25 * time.Hour)
	sched := assess.NewScheduler(svc, "server-a")
	if n, err := sched.RunOnce(ctx); err != nil || n != len(names) {
		t.Fatalf("RunOnce = %d, %v; want the %d names", n, err, len(names))
	}
	want(3, "a scheduler round of the zone's names")

	if _, err := svc.AssessResource(ctx, names[1], assess.TriggerManual); err != nil {
		t.Fatal(err)
	}
	want(4, "a run asked for by an operator")
	outs, err := svc.AssessSystem(ctx, "sys-dns", assess.TriggerManual)
	if err != nil || len(outs) != len(names) {
		t.Fatalf("AssessSystem = %+v, %v", outs, err)
	}
	want(5, "a system's names assessed together on demand")
}
