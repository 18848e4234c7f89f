package assurance_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/assurance"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/store/sqlite"
)

// TestRemovalAndPastDay deletes a system through the inventory service, which records the
// removal; stores the index of a past day under a clock set to it; and, days later, recomputes
// that day from its stored Input: the same result, byte for byte, with the removal explained.
func TestRemovalAndPastDay(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	inv := inventory.NewService(db, now)
	svc, err := assurance.NewService(db, db, db, now)
	if err != nil {
		t.Fatal(err)
	}
	inv.OnSystemDeleted(func(ctx context.Context, sys inventory.System) error {
		return svc.SystemRemoved(ctx, sys, "Phạm Thu Hà")
	})
	for _, o := range []inventory.Organization{{Code: "SH", Name: "Sông Hồng", Level: inventory.LevelProvince},
		{Code: "SH.YT", Name: "Sở Y tế", Level: inventory.LevelDepartment, Parent: "SH"}} {
		if _, err := inv.CreateOrg(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"sh-yte-cu", "sh-yte-hoso"} {
		if _, err := inv.CreateSystem(ctx, inventory.System{ID: id, Org: "SH.YT", Name: id, Level: 2, Stage: inventory.StageOperation}); err != nil {
			t.Fatal(err)
		}
	}
	clock = clock.Add(time.Hour)
	if err := inv.DeleteSystem(ctx, "sh-yte-cu"); err != nil {
		t.Fatal(err)
	}
	rms, err := db.Removals(ctx)
	if err != nil || len(rms) != 1 || rms[0].ID != "sh-yte-cu" || rms[0].By != "Phạm Thu Hà" || !rms[0].RemovedAt.Equal(clock) {
		t.Fatalf("Removals = %+v, %v", rms, err)
	}

	clock = clock.Add(time.Hour)
	day, err := svc.Snapshot(ctx, clock)
	if err != nil {
		t.Fatal(err)
	}
	clock = clock.AddDate(0, 0, 5) // days later
	got, err := svc.IndexAt(ctx, "SH", day.Day)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Stored || !got.Verified || got.Mismatch != "" {
		t.Errorf("IndexAt(%s) = stored %v, verified %v, %q; want a verified recomputation", day.Day, got.Stored, got.Verified, got.Mismatch)
	}
	if len(got.Org.Removed) != 1 || got.Org.Removed[0].ID != "sh-yte-cu" {
		t.Errorf("SH's explanation lists removals %+v; want sh-yte-cu", got.Org.Removed)
	}
	if d, err := svc.Decide(ctx, "sh-yte-hoso", inventory.StageOperation, "tester"); err != nil || d.Decision.Allowed {
		t.Errorf("Decide = %+v, %v; want denied (never assessed, nothing attested)", d.Decision, err)
	}
	if ds, err := svc.Decisions(ctx, "sh-yte-hoso", 0); err != nil || len(ds) != 1 || ds[0].By != "tester" {
		t.Errorf("Decisions = %+v, %v; want the one recorded", ds, err)
	}
}
