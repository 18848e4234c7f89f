package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// RunAudit runs the contract of audit.Store, and checks that tampering with the stored log,
// as someone with access to the database could, is found by audit.Log.Verify and named.
func RunAudit(t *testing.T, open func(t *testing.T) (AuthStore, Raw)) {
	tests := []struct {
		name string
		test func(t *testing.T, st AuthStore, raw Raw)
	}{
		{"AppendChains", testAppendChains},
		{"RoundTripExact", testAuditRoundTrip},
		{"AppendConcurrently", testAppendConcurrently},
		{"Filters", testAuditFilters},
		{"Search", testSearchAudit},
		{"AppendOnly", testAuditAppendOnly},
		{"EditedEntryNamed", testEditedEntryNamed},
		{"RehashedEntryNamed", testRehashedEntryNamed},
		{"DeletedEntryNamed", testDeletedEntryNamed},
		{"DeletedNewestNamed", testDeletedNewestNamed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, raw := open(t)
			tt.test(t, st, raw)
		})
	}
}

func newLog(st AuthStore) *audit.Log {
	return audit.NewLog(st, st, func() time.Time { return t0() })
}

// appendN appends n entries about systems of HN.STTTT, the i-th changing the level to i.
func appendN(t *testing.T, st AuthStore, n int) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	for i := 1; i <= n; i++ {
		e, err := st.AppendAudit(t.Context(), audit.Entry{
			At: t0().Add(time.Duration(i) * time.Second), Actor: "user:lan", Action: "system.update",
			ObjectType: "system", ObjectID: "hn-dvc", OrgPath: "/HN/HN.STTTT/",
			Before: fmt.Sprintf(`{"level":%d}`, i-1), After: fmt.Sprintf(`{"level":%d}`, i),
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func testAppendChains(t *testing.T, st AuthStore, _ Raw) {
	es := appendN(t, st, 3)
	for i, e := range es {
		if e.Seq != int64(i+1) || e.Hash != e.ComputeHash() || len(e.Hash) != 64 {
			t.Errorf("entry %d: seq %d hash %q", i+1, e.Seq, e.Hash)
		}
		if i > 0 && e.PrevHash != es[i-1].Hash {
			t.Errorf("entry %d does not chain to entry %d", e.Seq, es[i-1].Seq)
		}
	}
	if es[0].PrevHash != "" {
		t.Errorf("entry 1 has prev_hash %q, want none", es[0].PrevHash)
	}
	if h, err := st.AuditHead(t.Context()); err != nil || h.Seq != 3 || h.Hash != es[2].Hash {
		t.Errorf("AuditHead = %+v, %v; want entry 3", h, err)
	}
	if n, err := newLog(st).Verify(t.Context()); err != nil || n != 3 {
		t.Errorf("Verify = %d, %v; want 3 entries, no error", n, err)
	}
}

// testAuditRoundTrip checks that entries read back byte for byte, so that they verify.
func testAuditRoundTrip(t *testing.T, st AuthStore, _ Raw) {
	in := audit.Entry{
		At: t0(), Actor: "token:khien_abc (lan)", Action: "organization.update", ObjectType: "organization",
		ObjectID: "HN", OrgPath: "/HN/",
		Before: `{"name":"Ủy ban nhân dân thành phố Hà Nội","head":{"name":"Trần Sỹ Thanh"},"n":1.50}`,
		After:  `{ "name" : "UBND TP Hà Nội",  "note":"\u00e9\t<>&" }`,
	}
	out, err := st.AppendAudit(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if !out.At.Equal(t0().Truncate(time.Microsecond)) || out.At.Location() != time.UTC {
		t.Errorf("At = %v, want %v in UTC, to the microsecond", out.At, t0())
	}
	es, total, err := st.AuditEntries(t.Context(), audit.Filter{})
	if err != nil || total != 1 || len(es) != 1 {
		t.Fatalf("AuditEntries = %v, %d, %v", es, total, err)
	}
	if !reflect.DeepEqual(es[0], out) {
		t.Errorf("read back %+v\nwant      %+v", es[0], out)
	}
	if es[0].ComputeHash() != es[0].Hash {
		t.Error("the entry read back does not match its hash")
	}
}

func testAppendConcurrently(t *testing.T, st AuthStore, _ Raw) {
	const n = 16
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := st.AppendAudit(t.Context(), audit.Entry{At: t0(), Actor: "system", Action: "finding.update",
				ObjectType: "finding", ObjectID: fmt.Sprint(i), OrgPath: "/"})
			errc <- err
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n2, err := newLog(st).Verify(t.Context()); err != nil || n2 != n {
		t.Errorf("after %d appends at once: Verify = %d, %v", n, n2, err)
	}
}

func testAuditFilters(t *testing.T, st AuthStore, _ Raw) {
	ctx := t.Context()
	for _, e := range []audit.Entry{
		{Action: "system.create", ObjectType: "system", ObjectID: "hn-dvc", OrgPath: "/HN/HN.STTTT/", Actor: "user:lan"},
		{Action: "organization.update", ObjectType: "organization", ObjectID: "HN", OrgPath: "/HN/", Actor: "user:lan"},
		{Action: "system.create", ObjectType: "system", ObjectID: "dn-dvc", OrgPath: "/DN/", Actor: "user:minh"},
		{Action: "user.create", ObjectType: "user", ObjectID: "u-1", OrgPath: "/", Actor: "local:cli"},
		// Codes that contain or differ in case from HN must not match it.
		{Action: "system.create", ObjectType: "system", ObjectID: "hnx", OrgPath: "/HNX/", Actor: "user:x"},
		{Action: "system.create", ObjectType: "system", ObjectID: "hn-lower", OrgPath: "/hn/", Actor: "user:x"},
	} {
		e.At = t0()
		if _, err := st.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		f    audit.Filter
		want []int64
	}{
		{audit.Filter{}, []int64{6, 5, 4, 3, 2, 1}},
		{audit.Filter{Under: "HN"}, []int64{2, 1}},
		{audit.Filter{Under: "HN.STTTT"}, []int64{1}},
		{audit.Filter{Under: "DN"}, []int64{3}},
		{audit.Filter{ObjectType: "system"}, []int64{6, 5, 3, 1}},
		{audit.Filter{ObjectType: "system", ObjectID: "hn-dvc"}, []int64{1}},
		{audit.Filter{Actor: "user:lan"}, []int64{2, 1}},
		{audit.Filter{Page: inventory.Page{Limit: 2, Offset: 1}}, []int64{5, 4}},
	}
	for _, tt := range tests {
		es, total, err := st.AuditEntries(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, e := range es {
			seqs = append(seqs, e.Seq)
		}
		if !reflect.DeepEqual(seqs, tt.want) {
			t.Errorf("AuditEntries(%+v) = %v, want %v", tt.f, seqs, tt.want)
		}
		if tt.f.Limit == 0 && total != len(tt.want) {
			t.Errorf("AuditEntries(%+v) total = %d, want %d", tt.f, total, len(tt.want))
		}
	}
}

// testSearchAudit checks AuditEntries as the dashboard's search uses it: each filter alone, the time
// range half-open to the microsecond whatever the zone it is given in, the subtree matched by
// whole codes and exact case, and the filters together.
func testSearchAudit(t *testing.T, st AuthStore, _ Raw) {
	ctx := t.Context()
	h := func(n float64) time.Time { return t0().Add(time.Duration(n * float64(time.Hour))) }
	for _, e := range []audit.Entry{
		{At: h(0), Actor: "user:lan", Action: "system.create", ObjectType: "system", ObjectID: "hn-dvc", OrgPath: "/HN/HN.STTTT/"},
		{At: h(1), Actor: "user:lan", Action: "organization.update", ObjectType: "organization", ObjectID: "HN", OrgPath: "/HN/"},
		{At: h(2), Actor: "user:minh", Action: "system.create", ObjectType: "system", ObjectID: "dn-dvc", OrgPath: "/DN/"},
		{At: h(3), Actor: "local:cli", Action: "user.create", ObjectType: "user", ObjectID: "u-1", OrgPath: "/"},
		{At: h(4), Actor: "user:x", Action: "system.create", ObjectType: "system", ObjectID: "hnx", OrgPath: "/HNX/"},
		{At: h(5).Add(500 * time.Millisecond), Actor: "user:x", Action: "system.update", ObjectType: "system", ObjectID: "hn-lower", OrgPath: "/hn/"},
		{At: h(6), Actor: "user:lan", Action: "user.update", ObjectType: "user", ObjectID: "u-2", OrgPath: "/HN/HN.STTTT/"},
	} {
		if _, err := st.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	ict := time.FixedZone("ICT", 7*60*60)
	q := func(f audit.Filter, action string, since, until time.Time) audit.Filter {
		f.Action, f.Since, f.Until = action, since, until
		return f
	}
	var zero time.Time
	tests := []struct {
		name  string
		q     audit.Filter
		want  []int64
		total int
	}{
		{"everything, newest first", q(audit.Filter{}, "", zero, zero), []int64{7, 6, 5, 4, 3, 2, 1}, 7},
		{"actor", q(audit.Filter{Actor: "user:lan"}, "", zero, zero), []int64{7, 2, 1}, 3},
		{"actor exact case", q(audit.Filter{Actor: "user:LAN"}, "", zero, zero), nil, 0},
		{"action", q(audit.Filter{}, "system.create", zero, zero), []int64{5, 3, 1}, 3},
		{"action unknown", q(audit.Filter{}, "system", zero, zero), nil, 0},
		{"kind", q(audit.Filter{ObjectType: "user"}, "", zero, zero), []int64{7, 4}, 2},
		{"kind and object", q(audit.Filter{ObjectType: "system", ObjectID: "hn-dvc"}, "", zero, zero), []int64{1}, 1},
		{"since includes its instant", q(audit.Filter{}, "", h(2), zero), []int64{7, 6, 5, 4, 3}, 5},
		{"until excludes its instant", q(audit.Filter{}, "", zero, h(2)), []int64{2, 1}, 2},
		{"range", q(audit.Filter{}, "", h(1), h(5)), []int64{5, 4, 3, 2}, 4},
		{"since to the microsecond", q(audit.Filter{}, "", h(5).Add(500*time.Millisecond), zero), []int64{7, 6}, 2},
		{"until to the microsecond", q(audit.Filter{}, "", zero, h(5).Add(500*time.Millisecond)), []int64{5, 4, 3, 2, 1}, 5},
		{"range given in another zone", q(audit.Filter{}, "", h(1).In(ict), h(3).In(ict)), []int64{3, 2}, 2},
		{"empty range", q(audit.Filter{}, "", h(3), h(3)), nil, 0},
		{"subtree", q(audit.Filter{Under: "HN"}, "", zero, zero), []int64{7, 2, 1}, 3},
		{"subtree of a department", q(audit.Filter{Under: "HN.STTTT"}, "", zero, zero), []int64{7, 1}, 2},
		{"subtree elsewhere", q(audit.Filter{Under: "DN"}, "", zero, zero), []int64{3}, 1},
		{"subtree by whole code", q(audit.Filter{Under: "HNX"}, "", zero, zero), []int64{5}, 1},
		{"subtree exact case", q(audit.Filter{Under: "hn"}, "", zero, zero), []int64{6}, 1},
		{"subtree of nothing", q(audit.Filter{Under: "XX"}, "", zero, zero), nil, 0},
		{"subtree and action", q(audit.Filter{Under: "HN"}, "system.create", zero, zero), []int64{1}, 1},
		{"subtree and range", q(audit.Filter{Under: "HN"}, "", h(0.5), zero), []int64{7, 2}, 2},
		{"everything at once", q(audit.Filter{Under: "HN", Actor: "user:lan", ObjectType: "user"}, "user.update", h(0.5), h(7)), []int64{7}, 1},
		{"a page", q(audit.Filter{Page: inventory.Page{Limit: 2, Offset: 1}}, "", zero, zero), []int64{6, 5}, 7},
		{"a page of a subtree", q(audit.Filter{Under: "HN", Page: inventory.Page{Limit: 2, Offset: 2}}, "", zero, zero), []int64{1}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, total, err := st.AuditEntries(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var seqs []int64
			for _, e := range es {
				seqs = append(seqs, e.Seq)
				if e.Hash != e.ComputeHash() {
					t.Errorf("entry %d read back does not match its hash", e.Seq)
				}
			}
			if !reflect.DeepEqual(seqs, tt.want) || total != tt.total {
				t.Errorf("AuditEntries(%+v) = %v of %d, want %v of %d", tt.q, seqs, total, tt.want, tt.total)
			}
		})
	}
}

// testAuditAppendOnly checks the guard: the store refuses to change or remove an entry.
func testAuditAppendOnly(t *testing.T, st AuthStore, raw Raw) {
	appendN(t, st, 2)
	for _, q := range []string{
		`UPDATE audit_log SET after_json = '{"level":5}' WHERE seq = 1`,
		`DELETE FROM audit_log WHERE seq = 2`,
	} {
		if err := raw.Exec(t.Context(), q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s = %v, want the append-only guard to refuse it", q, err)
		}
	}
	if _, err := newLog(st).Verify(t.Context()); err != nil {
		t.Errorf("Verify after refused tampering = %v", err)
	}
}

// tamper drops the guard and runs queries, as an attacker with the database would.
func tamper(t *testing.T, raw Raw, queries ...string) {
	t.Helper()
	for _, q := range append(raw.Unguard, queries...) {
		if err := raw.Exec(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// wantBroken checks that Verify fails naming entry seq, with a reason containing why.
func wantBroken(t *testing.T, st AuthStore, seq int64, why string) {
	t.Helper()
	_, err := newLog(st).Verify(t.Context())
	var be *audit.BrokenError
	if !errors.As(err, &be) || be.Seq != seq || !strings.Contains(be.Reason, why) {
		t.Fatalf("Verify = %v; want it to name entry %d as %q", err, seq, why)
	}
	if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), fmt.Sprintf("audit entry %d:", seq)) {
		t.Errorf("Verify error %q: want kind Conflict, naming audit entry %d", err, seq)
	}
}

func testEditedEntryNamed(t *testing.T, st AuthStore, raw Raw) {
	appendN(t, st, 5)
	tamper(t, raw, `UPDATE audit_log SET after_json = '{"level":1}' WHERE seq = 3`)
	wantBroken(t, st, 3, "edited")
}

// testRehashedEntryNamed edits an entry and recomputes its hash, as a careful attacker would:
// the next entry no longer chains to it.
func testRehashedEntryNamed(t *testing.T, st AuthStore, raw Raw) {
	es := appendN(t, st, 4)
	e := es[1]
	e.Actor = "user:someone-else"
	tamper(t, raw, fmt.Sprintf(`UPDATE audit_log SET actor = '%s', hash = '%s' WHERE seq = 2`, e.Actor, e.ComputeHash()))
	wantBroken(t, st, 3, "entry 2 was rewritten")
}

func testDeletedEntryNamed(t *testing.T, st AuthStore, raw Raw) {
	appendN(t, st, 5)
	tamper(t, raw, `DELETE FROM audit_log WHERE seq = 2`)
	wantBroken(t, st, 2, "missing")
}

func testDeletedNewestNamed(t *testing.T, st AuthStore, raw Raw) {
	appendN(t, st, 4)
	tamper(t, raw, `DELETE FROM audit_log WHERE seq = 4`)
	wantBroken(t, st, 4, "missing")
	// The next entry is numbered after the head, not after the last row left, so the gap stays.
	appendN(t, st, 1)
	wantBroken(t, st, 4, "missing")
}
