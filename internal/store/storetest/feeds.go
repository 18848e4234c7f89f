package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/vuln"
)

// FeedStore is the part of a store that keeps vulnerability feeds.
type FeedStore interface {
	PutAdvisories(ctx context.Context, source string, advs []vuln.Advisory, now time.Time) (int, error)
	PutKEV(ctx context.Context, version string, entries []vuln.KEV, now time.Time) (int, error)
	Feeds(ctx context.Context) ([]vuln.Advisory, []vuln.KEV, error)
}

// RunFeeds checks that feeds round-trip, that re-importing replaces rather than duplicates,
// and that the index built from stored feeds matches as the parsed one does.
func RunFeeds(t *testing.T, open func(t *testing.T) FeedStore) {
	ctx := t.Context()
	st := open(t)
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	adv := func(id, fixed string) vuln.Advisory {
		a := vuln.Advisory{ID: id, Aliases: []string{"CVE-2021-41773"}, Summary: "Đường dẫn vượt thư mục", Modified: now}
		af := vuln.Affected{Ranges: []vuln.Range{{Type: "ECOSYSTEM", Events: []vuln.Event{{Introduced: "2.4.49"}, {Fixed: fixed}}}}}
		af.Package.Name = "apache httpd"
		a.Affected = []vuln.Affected{af}
		return a
	}
	n, err := st.PutAdvisories(ctx, "osv.json", []vuln.Advisory{adv("A-1", "2.4.50"), adv("A-2", "2.4.51")}, now)
	if err != nil || n != 2 {
		t.Fatalf("PutAdvisories = %d, %v; want 2 new", n, err)
	}
	// The newer copy of A-1 replaces the old one.
	if n, err := st.PutAdvisories(ctx, "osv.json", []vuln.Advisory{adv("A-1", "2.4.52")}, now); err != nil || n != 0 {
		t.Fatalf("re-import = %d, %v; want 0 new", n, err)
	}
	if n, err := st.PutKEV(ctx, "2026.11.20", []vuln.KEV{{CVE: "CVE-2021-41773", DueDate: "2021-11-17"}}, now); err != nil || n != 1 {
		t.Fatalf("PutKEV = %d, %v", n, err)
	}
	advs, kev, err := st.Feeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(advs) != 2 || len(kev) != 1 || advs[0].Summary != "Đường dẫn vượt thư mục" || advs[0].Affected[0].Ranges[0].Events[1].Fixed != "2.4.52" {
		t.Fatalf("Feeds = %+v, %+v", advs, kev)
	}
	ms := vuln.NewIndex(advs, kev).Lookup(vuln.Software{Product: "apache", Version: "2.4.51"})
	if len(ms) != 1 || ms[0].Advisory != "A-1" || !ms[0].KnownExploited {
		t.Errorf("lookup over stored feeds = %+v", ms)
	}
}
