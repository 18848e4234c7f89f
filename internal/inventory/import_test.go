package inventory

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/errs"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	t0 = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	t1 = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
)

// testService returns a service over an empty memStore whose clock reads *now.
func testService(now *time.Time) (*Service, *memStore) {
	st := newMemStore()
	return NewService(st, func() time.Time { return *now }), st
}

func importString(t *testing.T, s *Service, name, in string) (ImportResult, error) {
	t.Helper()
	f, err := FormatOf(name)
	if err != nil {
		t.Fatal(err)
	}
	return s.Import(context.Background(), name, strings.NewReader(in), f)
}

func importFile(t *testing.T, s *Service, path string) ImportResult {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := importString(t, s, path, string(data))
	if err != nil {
		t.Fatalf("import %s:\n%v", path, err)
	}
	return res
}

func export(t *testing.T, s *Service, f Format) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := s.Export(context.Background(), &b, f); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func snapshot(t *testing.T, st Store) Inventory {
	t.Helper()
	inv, err := st.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// importSeed is stored before each case of TestImportErrors.
const importSeed = `
organizations:
  - {code: HN, name: Hà Nội, level: province}
  - {code: HN.SYT, name: Sở Y tế, level: department, parent: HN}
  - {code: HN.SYT.BV, name: Bệnh viện Xanh Pôn, level: department, parent: HN.SYT}
systems:
  - id: benhan
    org: HN.SYT
    name: Bệnh án điện tử
    level: 3
    stage: operation
    resources: [dns:benhan.hanoi.gov.vn, dns:bộ-y-tế.vn, ip:192.0.2.1]
`

// TestImportErrors checks the exact report for each kind of problem an import can meet, and
// that a file with a problem writes nothing.
func TestImportErrors(t *testing.T) {
	const csvHeader = "type,code,name,level,parent,head_name,head_title,head_contact,id,org,purpose,level_approved,stage,data_classes,operator,system,scope,scope_reason,verified_at\n"
	tests := []struct {
		name, file, in, want string
	}{
		{
			name: "organization level",
			file: "f.yaml",
			in:   "organizations:\n  - code: HN.VP\n    name: Văn phòng\n    level: sở\n    parent: HN\n",
			want: `f.yaml:4: level: "sở" is not one of central, ministry, province, department, district, commune`,
		},
		{
			name: "system security level",
			file: "f.csv",
			in:   csvHeader + "system,,Cổng,9,,,,,cong,HN,,true,operation,,,,,,\n",
			want: "f.csv:2: level: security level must be 1 to 5, got 9",
		},
		{
			name: "unknown parent",
			file: "f.yaml",
			in:   "organizations:\n  - {code: HN.VP, name: Văn phòng, level: department, parent: HN.UBND}\n",
			want: `f.yaml:2: parent: organization "HN.UBND" is not in the file or the inventory`,
		},
		{
			name: "unknown parent csv",
			file: "f.csv",
			in:   csvHeader + "organization,HN.VP,Văn phòng,department,HNN,,,,,,,,,,,,,,\n",
			want: `f.csv:2: parent: organization "HNN" is not in the file or the inventory`,
		},
		{
			name: "duplicate code",
			file: "f.yaml",
			in: "organizations:\n  - {code: HN.VP, name: Văn phòng, level: department, parent: HN}\n" +
				"  - {code: HN.VP, name: Văn phòng UBND, level: department, parent: HN}\n",
			want: `f.yaml:3: code: organization "HN.VP" is defined twice (first at line 2)`,
		},
		{
			name: "cycle in the file",
			file: "f.yaml",
			in: "organizations:\n  - {code: X, name: X, level: department, parent: Y}\n" +
				"  - {code: Y, name: Y, level: department, parent: X}\n",
			want: `f.yaml:2: parent: making "Y" the parent of "X" would create a cycle (X → Y → X)`,
		},
		{
			name: "cycle through the store",
			file: "f.yaml",
			in:   "organizations:\n  - {code: HN, name: Hà Nội, level: province, parent: HN.SYT.BV}\n",
			want: `f.yaml:2: parent: making "HN.SYT.BV" the parent of "HN" would create a cycle (HN → HN.SYT.BV → HN.SYT → HN)`,
		},
		{
			name: "cycle through the store csv",
			file: "f.csv",
			in: csvHeader + "organization,HN.VP,Văn phòng,department,HN.SYT.BV,,,,,,,,,,,,,,\n" +
				"organization,HN.SYT,Sở Y tế,department,HN.VP,,,,,,,,,,,,,,\n",
			want: `f.csv:2: parent: making "HN.SYT.BV" the parent of "HN.VP" would create a cycle (HN.VP → HN.SYT.BV → HN.SYT → HN.VP)`,
		},
		{
			name: "invalid identifiers",
			file: "f.yaml",
			in:   "resources:\n  - {id: 'dns:exa mple.vn', system: benhan}\n  - {id: 'ip:999.1.1.1', system: benhan}\n",
			want: "f.yaml:2: id: \"dns:exa mple.vn\": not a valid domain name (idna: disallowed rune U+0020)\n" +
				"f.yaml:3: id: \"ip:999.1.1.1\": not an IP address",
		},
		{
			name: "invalid identifier csv",
			file: "f.csv",
			in:   csvHeader + "resource,,,,,,,,dns:exa mple.vn,,,,,,,benhan,,,\n",
			want: "f.csv:2: id: \"dns:exa mple.vn\": not a valid domain name (idna: disallowed rune U+0020)",
		},
		{
			name: "resource in two systems in the file",
			file: "f.yaml",
			in: "systems:\n  - {id: a, org: HN, name: A, level: 1, stage: test, resources: [dns:a.hanoi.gov.vn]}\n" +
				"  - {id: b, org: HN, name: B, level: 1, stage: test, resources: [DNS:A.HaNoi.gov.vn.]}\n",
			want: `f.yaml:3: id: resource dns:a.hanoi.gov.vn (written DNS:A.HaNoi.gov.vn.) is listed under system "b" and under system "a" (line 2); a resource belongs to one system`,
		},
		{
			name: "resource stored under another system",
			file: "f.yaml",
			in: "systems:\n  - id: cong\n    org: HN\n    name: Cổng\n    level: 2\n    stage: operation\n" +
				"    resources:\n      - dns:BENHAN.hanoi.gov.vn\n      - dns:xn--b-y-t-s61b7g.vn\n      - ip:::ffff:192.0.2.1\n",
			want: `f.yaml:8: id: resource dns:benhan.hanoi.gov.vn belongs to system "benhan" in the inventory; a resource belongs to one system (delete it there first to move it)` + "\n" +
				`f.yaml:9: id: resource dns:xn--b-y-t-s61b7g.vn belongs to system "benhan" in the inventory; a resource belongs to one system (delete it there first to move it)` + "\n" +
				`f.yaml:10: id: resource ip:192.0.2.1 belongs to system "benhan" in the inventory; a resource belongs to one system (delete it there first to move it)`,
		},
		{
			name: "resource stored under another system csv",
			file: "f.csv",
			in:   csvHeader + "system,,Cổng,2,,,,,cong,HN,,,operation,,,,,,\nresource,,,,,,,,dns:bộ-y-tế.vn,,,,,,,cong,,,\n",
			want: `f.csv:3: id: resource dns:xn--b-y-t-s61b7g.vn belongs to system "benhan" in the inventory; a resource belongs to one system (delete it there first to move it)`,
		},
		{
			name: "unknown field",
			file: "f.yaml",
			in:   "systems:\n  - {id: benhan, org: HN.SYT, name: Bệnh án điện tử, level: 3, stage: operation, owner: Sở Y tế}\n",
			want: "f.yaml:2: owner: unknown field; a system has id, org, name, purpose, level, level_approved, stage, data_classes, operator, resources",
		},
		{
			name: "unknown column",
			file: "f.csv",
			in:   "type,id,system,owner\nresource,dns:a.hanoi.gov.vn,benhan,Sở Y tế\n",
			want: "f.csv:1: owner: unknown column; the columns are " + strings.TrimSpace(csvHeader),
		},
		{
			name: "unknown system",
			file: "f.csv",
			in:   csvHeader + "resource,,,,,,,,dns:a.hanoi.gov.vn,,,,,,,benh-an,,,\n",
			want: `f.csv:2: system: system "benh-an" is not in the file or the inventory`,
		},
		{
			name: "unknown system yaml",
			file: "f.yaml",
			in:   "resources:\n  - id: dns:a.hanoi.gov.vn\n    system: benh-an\n",
			want: `f.yaml:3: system: system "benh-an" is not in the file or the inventory`,
		},
		{
			name: "unknown org",
			file: "f.yaml",
			in:   "systems:\n  - id: cong\n    org: HN.VP\n    name: Cổng\n    level: 2\n    stage: operation\n",
			want: `f.yaml:3: org: organization "HN.VP" is not in the file or the inventory`,
		},
		{
			name: "unknown org csv",
			file: "f.csv",
			in:   csvHeader + "system,,Cổng,2,,,,,cong,HN.VP,,,operation,,,,,,\n",
			want: `f.csv:2: org: organization "HN.VP" is not in the file or the inventory`,
		},
		{
			name: "verified claimed",
			file: "f.yaml",
			in: "resources:\n  - {id: dns:benhan.hanoi.gov.vn, system: benhan, scope: verified}\n" +
				"  - {id: dns:moi.hanoi.gov.vn, system: benhan, scope: verified, scope_reason: tự kiểm tra}\n",
			want: "f.yaml:2: scope: verified is earned by passing the ownership challenge; use assigned with a reason\n" +
				"f.yaml:3: scope: verified is earned by passing the ownership challenge; use assigned with a reason",
		},
		{
			name: "every error at once",
			file: "f.csv",
			in: csvHeader +
				"organization,HN.VP,Văn phòng,department,HN.X,,,,,,,,,,,,,,\n" +
				"system,,Cổng,2,,,,,cong,HN.Y,,,operation,,,,,,\n" +
				"resource,,,,,,,,ip:999.1.1.1,,,,,,,cong,,,\n" +
				"resource,,,,,,,,ip:192.0.2.1,,,,,,,cong,,,\n" +
				"resource,,,,,,,,dns:a.vn,,,,,,,khong,verified,,\n",
			want: `f.csv:2: parent: organization "HN.X" is not in the file or the inventory` + "\n" +
				`f.csv:3: org: organization "HN.Y" is not in the file or the inventory` + "\n" +
				`f.csv:4: id: "ip:999.1.1.1": not an IP address` + "\n" +
				`f.csv:5: id: resource ip:192.0.2.1 belongs to system "benhan" in the inventory; a resource belongs to one system (delete it there first to move it)` + "\n" +
				`f.csv:6: system: system "khong" is not in the file or the inventory` + "\n" +
				`f.csv:6: scope: verified is earned by passing the ownership challenge; use assigned with a reason`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := t0
			s, st := testService(&now)
			if _, err := importString(t, s, "seed.yaml", importSeed); err != nil {
				t.Fatal(err)
			}
			before, applies := snapshot(t, st), st.applies

			_, err := importString(t, s, tt.file, tt.in)
			if err == nil {
				t.Fatalf("import succeeded; want\n%s", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("import:\n got:\n%s\nwant:\n%s", err, tt.want)
			}
			var fe FileErrors
			if !errors.As(err, &fe) || !errs.Is(err, errs.Invalid) {
				t.Errorf("error %T is not FileErrors of kind invalid", err)
			}
			if st.applies != applies {
				t.Errorf("Apply was called")
			}
			if after := snapshot(t, st); !reflect.DeepEqual(after, before) {
				t.Errorf("the store changed:\nbefore %+v\nafter  %+v", before, after)
			}

			// CheckImport reports the same.
			f, _ := FormatOf(tt.file)
			if _, err := s.CheckImport(context.Background(), tt.file, strings.NewReader(tt.in), f); err == nil || err.Error() != tt.want {
				t.Errorf("CheckImport = %v, want the same report", err)
			}
		})
	}
}

func TestImportCreatesAndMerges(t *testing.T) {
	now := t0
	s, st := testService(&now)
	res := importFile(t, s, "testdata/valid.yaml")
	want := ImportResult{Orgs: Counts{Created: 5}, Systems: Counts{Created: 4}, Resources: Counts{Created: 10}}
	if res != want {
		t.Errorf("first import = %v, want %v", res, want)
	}
	if st.applies != 1 {
		t.Errorf("Apply called %d times, want once", st.applies)
	}

	// The same file again changes nothing and writes nothing.
	res = importFile(t, s, "testdata/valid.csv")
	want = ImportResult{Orgs: Counts{Unchanged: 5}, Systems: Counts{Unchanged: 4}, Resources: Counts{Unchanged: 10}}
	if res != want || st.applies != 1 {
		t.Errorf("second import = %v (%d applies), want %v and no Apply", res, st.applies, want)
	}

	now = t1
	res, err := importString(t, s, "update.yaml", `
organizations:
  - code: HN.SYT.XP                      # new, under a stored parent, listed before it
    name: Bệnh viện Đa khoa Xanh Pôn
    level: department
    parent: HN.SYT
  - {code: HN.SYT, name: Sở Y tế Hà Nội, level: department, parent: HN}   # renamed
  - {code: HN.PBD, name: Ủy ban nhân dân phường Ba Đình, level: commune, parent: HN.SYT.XP}  # moved (however odd)
systems:
  - id: hn-benhan
    org: HN.SYT.XP                       # moved to the new organization
    name: Hệ thống bệnh án điện tử
    purpose: Lưu trữ và chia sẻ bệnh án điện tử giữa các bệnh viện công lập
    level: 4
    level_approved: true                 # approved now
    stage: operation
    data_classes: [personal, sensitive_personal]
    operator: Bệnh viện Đa khoa Xanh Pôn
    resources:
      - url:https://benhan.soyte.hanoi.gov.vn/     # unchanged
      - dns:benhan.soyte.hanoi.gov.vn              # new
resources:
  - dns:badinh.hanoi.gov.vn                        # no scope, no system: system is required
`)
	if err == nil || err.Error() != "update.yaml:23: system: is required" {
		t.Fatalf("import = %v, want a missing system", err)
	}
	res, err = importString(t, s, "update.yaml", `
organizations:
  - {code: HN.SYT.XP, name: Bệnh viện Đa khoa Xanh Pôn, level: department, parent: HN.SYT}
  - {code: HN.SYT, name: Sở Y tế Hà Nội, level: department, parent: HN}
  - {code: HN.PBD, name: Ủy ban nhân dân phường Ba Đình, level: commune, parent: HN.SYT.XP}
systems:
  - id: hn-benhan
    org: HN.SYT.XP
    name: Hệ thống bệnh án điện tử
    purpose: Lưu trữ và chia sẻ bệnh án điện tử giữa các bệnh viện công lập
    level: 4
    level_approved: true
    stage: operation
    data_classes: [personal, sensitive_personal]
    operator: Bệnh viện Đa khoa Xanh Pôn
    resources:
      - url:https://benhan.soyte.hanoi.gov.vn/
      - dns:benhan.soyte.hanoi.gov.vn
resources:
  - {id: dns:badinh.hanoi.gov.vn, system: hn-pbd-web}             # scope left out: stays assigned
  - {id: ip:192.0.2.10, system: hn-dichvucong, scope: assigned, scope_reason: Công văn 7/VP}
  - {id: dns:dichvucong.hanoi.gov.vn, system: hn-dichvucong, scope: unverified}  # lowered
`)
	if err != nil {
		t.Fatal(err)
	}
	want = ImportResult{
		Orgs:      Counts{Created: 1, Updated: 2},
		Systems:   Counts{Updated: 1},
		Resources: Counts{Created: 1, Updated: 2, Unchanged: 2},
	}
	if res != want {
		t.Errorf("update = %v, want %v", res, want)
	}

	ctx := context.Background()
	o, _ := st.Org(ctx, "HN.SYT")
	if o.Name != "Sở Y tế Hà Nội" || !o.Created.Equal(t0) || !o.Updated.Equal(t1) {
		t.Errorf("HN.SYT = %+v, want renamed, created %v, updated %v", o, t0, t1)
	}
	if o, _ := st.Org(ctx, "HN.PBD"); o.Parent != "HN.SYT.XP" {
		t.Errorf("HN.PBD parent = %q, want HN.SYT.XP", o.Parent)
	}
	if sys, _ := st.System(ctx, "hn-benhan"); sys.Org != "HN.SYT.XP" || !sys.LevelApproved || sys.Stage != StageOperation {
		t.Errorf("hn-benhan = %+v", sys)
	}
	r, _ := st.Resource(ctx, "dns:badinh.hanoi.gov.vn")
	if r.Scope != ScopeAssigned || r.ScopeReason == "" || !r.Updated.Equal(t0) {
		t.Errorf("a resource listed without scope changed: %+v", r)
	}
	if r, _ := st.Resource(ctx, "ip:192.0.2.10"); r.Scope != ScopeAssigned || r.ScopeReason != "Công văn 7/VP" || !r.Updated.Equal(t1) {
		t.Errorf("ip:192.0.2.10 = %+v, want assigned", r)
	}
	if r, _ := st.Resource(ctx, "dns:dichvucong.hanoi.gov.vn"); r.Scope != ScopeUnverified || r.ScopeReason != "" {
		t.Errorf("dns:dichvucong.hanoi.gov.vn = %+v, want unverified", r)
	}
	// Nothing is deleted.
	inv := snapshot(t, st)
	if len(inv.Orgs) != 6 || len(inv.Systems) != 4 || len(inv.Resources) != 11 {
		t.Errorf("store holds %d orgs, %d systems, %d resources; want 6, 4, 11", len(inv.Orgs), len(inv.Systems), len(inv.Resources))
	}
}

// TestImportDeepTree imports a long chain of organizations listed children first: Apply
// needs parents first, and the tree checks must not walk the chain once per organization.
func TestImportDeepTree(t *testing.T) {
	const n = 5000
	var b strings.Builder
	b.WriteString("organizations:\n")
	for i := n - 1; i >= 0; i-- {
		parent := ""
		if i > 0 {
			parent = fmt.Sprintf("O%d", i-1)
		}
		fmt.Fprintf(&b, "  - {code: O%d, name: Đơn vị %d, level: department, parent: '%s'}\n", i, i, parent)
	}
	now := t0
	s, st := testService(&now)
	res, err := importString(t, s, "deep.yaml", b.String())
	if err != nil {
		t.Fatal(err)
	}
	if res.Orgs.Created != n || len(snapshot(t, st).Orgs) != n {
		t.Errorf("import = %v, want %d organizations", res, n)
	}

	// Closing the chain into a loop is found, and reported once.
	_, err = importString(t, s, "loop.yaml", fmt.Sprintf("organizations:\n  - {code: O0, name: Đơn vị 0, level: department, parent: O%d}\n", n-1))
	if err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf(`loop.yaml:2: parent: making "O%d" the parent of "O0" would create a cycle (O0 → O%d → O%d → `, n-1, n-1, n-2)) ||
		strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("import = %.200v…, want one cycle", err)
	}
}

// TestImportVerified checks that an export of a verified resource imports back unchanged,
// that the file cannot alter its proof, and that it can lower the scope.
func TestImportVerified(t *testing.T) {
	ctx := context.Background()
	now := t0
	s, st := testService(&now)
	importFile(t, s, "testdata/valid.yaml")
	proof := "dns-txt _khien-challenge.dichvucong.hanoi.gov.vn"
	verifiedAt := time.Date(2026, 3, 1, 8, 30, 15, 123456000, time.UTC)
	r, err := st.Resource(ctx, "dns:dichvucong.hanoi.gov.vn")
	if err != nil {
		t.Fatal(err)
	}
	r.Scope, r.ScopeReason, r.VerifiedAt, r.VerifyToken = ScopeVerified, proof, verifiedAt, "tok"
	if err := st.UpdateResource(ctx, r); err != nil {
		t.Fatal(err)
	}
	pending, _ := st.Resource(ctx, "ip:192.0.2.10")
	pending.VerifyToken = "pending"
	if err := st.UpdateResource(ctx, pending); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, st)

	for _, f := range []Format{FormatYAML, FormatCSV} {
		out := export(t, s, f)
		if !bytes.Contains(out, []byte("2026-03-01T08:30:15.123456Z")) || !bytes.Contains(out, []byte(proof)) || bytes.Contains(out, []byte("tok")) {
			t.Errorf("%s export does not carry verified_at and scope_reason, or carries the token:\n%s", f, out)
		}
		now = t1
		res, err := s.Import(ctx, "export."+string(f), bytes.NewReader(out), f)
		if err != nil {
			t.Fatalf("re-import of the %s export: %v", f, err)
		}
		if res.Orgs.Unchanged != 5 || res.Systems.Unchanged != 4 || res.Resources.Unchanged != 10 {
			t.Errorf("re-import of the %s export = %v, want all unchanged", f, res)
		}
		if after := snapshot(t, st); !reflect.DeepEqual(after, before) {
			t.Errorf("re-import of the %s export changed the store", f)
		}
	}

	// The file's verified_at and scope_reason do not replace the proof.
	_, err = importString(t, s, "f.yaml", "resources:\n  - {id: dns:dichvucong.hanoi.gov.vn, system: hn-dichvucong, scope: verified, scope_reason: tôi nói vậy, verified_at: 2020-01-01T00:00:00Z}\n")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Resource(ctx, r.ID); got != r {
		t.Errorf("verified resource = %+v, want %+v", got, r)
	}

	// Lowering the scope drops the verification time and keeps a pending token.
	_, err = importString(t, s, "f.yaml", "resources:\n  - {id: dns:dichvucong.hanoi.gov.vn, system: hn-dichvucong, scope: assigned, scope_reason: Công văn 9}\n")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := st.Resource(ctx, r.ID)
	if got.Scope != ScopeAssigned || got.ScopeReason != "Công văn 9" || !got.VerifiedAt.IsZero() || got.VerifyToken != "tok" {
		t.Errorf("lowered resource = %+v", got)
	}
	if got, _ := st.Resource(ctx, "ip:192.0.2.10"); got.VerifyToken != "pending" {
		t.Errorf("pending challenge lost: %+v", got)
	}

	// Once lowered, verified cannot be claimed back by a file.
	_, err = importString(t, s, "f.yaml", "resources:\n  - {id: dns:dichvucong.hanoi.gov.vn, system: hn-dichvucong, scope: verified}\n")
	if want := "f.yaml:2: scope: verified is earned by passing the ownership challenge; use assigned with a reason"; err == nil || err.Error() != want {
		t.Errorf("import = %v, want %q", err, want)
	}
}

// TestRoundTrip checks import → export → import into an empty store → export: the two exports
// are the same bytes and the two stores hold the same values, for each fixture and format.
func TestRoundTrip(t *testing.T) {
	for _, fixture := range []string{"testdata/valid.yaml", "testdata/valid.csv"} {
		for _, f := range []Format{FormatYAML, FormatCSV} {
			t.Run(filepath.Base(fixture)+"→"+string(f), func(t *testing.T) {
				now := t0
				s1, st1 := testService(&now)
				importFile(t, s1, fixture)
				first := export(t, s1, f)

				s2, st2 := testService(&now)
				if _, err := s2.Import(context.Background(), "export", bytes.NewReader(first), f); err != nil {
					t.Fatalf("import of the export:\n%v\n%s", err, first)
				}
				second := export(t, s2, f)
				if !bytes.Equal(first, second) {
					t.Errorf("exports differ:\n%s\n---\n%s", first, second)
				}
				if a, b := snapshot(t, st1), snapshot(t, st2); !reflect.DeepEqual(a, b) {
					t.Errorf("stores differ:\n%+v\n%+v", a, b)
				}
			})
		}
	}
}

// TestExportGolden pins the exported form of the fixture. Run with -update to rewrite.
func TestExportGolden(t *testing.T) {
	now := t0
	s, _ := testService(&now)
	importFile(t, s, "testdata/valid.yaml")
	for _, f := range []Format{FormatYAML, FormatCSV} {
		golden := "testdata/export.golden." + string(f)
		got := export(t, s, f)
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s export differs from %s (run go test -update):\n%s", f, golden, got)
		}
	}
}

func TestExportEmpty(t *testing.T) {
	now := t0
	s, _ := testService(&now)
	if got := string(export(t, s, FormatYAML)); got != "version: 1\n" {
		t.Errorf("empty YAML export = %q", got)
	}
	if got := string(export(t, s, FormatCSV)); got != strings.Join(csvColumns, ",")+"\n" {
		t.Errorf("empty CSV export = %q", got)
	}
	if err := s.Export(context.Background(), new(bytes.Buffer), "xlsx"); err == nil || !errs.Is(err, errs.Invalid) {
		t.Errorf("export as xlsx = %v, want invalid", err)
	}
}

// TestImportApplyFails checks that a failing Apply is reported and leaves the store as it was.
func TestImportApplyFails(t *testing.T) {
	now := t0
	s, st := testService(&now)
	st.applyErr = errors.New("disk full")
	data, _ := os.ReadFile("testdata/valid.yaml")
	_, err := importString(t, s, "valid.yaml", string(data))
	if err == nil || err.Error() != "import valid.yaml: disk full" {
		t.Errorf("import = %v, want the Apply error", err)
	}
	if inv := snapshot(t, st); len(inv.Orgs)+len(inv.Systems)+len(inv.Resources) != 0 {
		t.Errorf("store holds %+v after a failed import", inv)
	}
}

func TestCheckImport(t *testing.T) {
	now := t0
	s, st := testService(&now)
	data, _ := os.ReadFile("testdata/valid.csv")
	res, err := s.CheckImport(context.Background(), "valid.csv", bytes.NewReader(data), FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	if want := (ImportResult{Orgs: Counts{Created: 5}, Systems: Counts{Created: 4}, Resources: Counts{Created: 10}}); res != want {
		t.Errorf("CheckImport = %v, want %v", res, want)
	}
	if st.applies != 0 {
		t.Errorf("CheckImport wrote")
	}
	if got, want := res.String(), "organizations: 5 created, 0 updated, 0 unchanged; systems: 4 created, 0 updated, 0 unchanged; resources: 10 created, 0 updated, 0 unchanged"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestDocsExample keeps docs/inventory.md true: its YAML example is the fixture, and its CSV
// example parses.
func TestDocsExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/inventory.md")
	if err != nil {
		t.Fatal(err)
	}
	block := func(lang string) string {
		_, rest, ok := strings.Cut(string(doc), "```"+lang+"\n")
		if !ok {
			t.Fatalf("docs/inventory.md has no %s example", lang)
		}
		text, _, _ := strings.Cut(rest, "```")
		return text
	}
	y, err := ParseFile("inventory.md", strings.NewReader(block("yaml")), FormatYAML)
	if err != nil {
		t.Fatalf("the YAML example does not parse:\n%v", err)
	}
	if want := parseFixture(t, "testdata/valid.yaml"); !reflect.DeepEqual(exportOrder(y), exportOrder(want)) {
		t.Errorf("the YAML example in docs/inventory.md differs from testdata/valid.yaml")
	}
	if _, err := ParseFile("inventory.md", strings.NewReader(block("csv")), FormatCSV); err != nil {
		t.Errorf("the CSV example does not parse:\n%v", err)
	}
}

func TestApplyInventory(t *testing.T) {
	ctx := context.Background()
	now := t0
	s, st := testService(&now)
	inv := parseFixture(t, "testdata/valid.yaml")
	if err := s.ApplyInventory(ctx, inv); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyInventory(ctx, inv); err != nil || st.applies != 1 {
		t.Errorf("second ApplyInventory = %v after %d applies; want nothing written", err, st.applies)
	}
	if got := export(t, s, FormatYAML); !bytes.Equal(got, mustRead(t, "testdata/export.golden.yaml")) {
		t.Errorf("ApplyInventory stored something else than Import:\n%s", got)
	}

	bad := Inventory{
		Orgs:      []Organization{{Code: "X", Name: "X", Level: "tỉnh", Parent: "HN.Y"}},
		Systems:   []System{{ID: "s", Org: "X", Name: "S", Level: 1, Stage: StageTest}},
		Resources: []Resource{{ID: "dns:dichvucong.hanoi.gov.vn", System: "s"}, {ID: "dns:a.vn", System: "s", Scope: ScopeVerified}},
	}
	err := s.ApplyInventory(ctx, bad)
	want := `organization "X": level: "tỉnh" is not one of central, ministry, province, department, district, commune` + "\n" +
		`organization "X": parent: organization "HN.Y" is not in the file or the inventory` + "\n" +
		`resource "dns:dichvucong.hanoi.gov.vn": id: resource dns:dichvucong.hanoi.gov.vn belongs to system "hn-dichvucong" in the inventory; a resource belongs to one system (delete it there first to move it)` + "\n" +
		`resource "dns:a.vn": scope: verified is earned by passing the ownership challenge; use assigned with a reason`
	if err == nil || err.Error() != want || !errs.Is(err, errs.Invalid) {
		t.Errorf("ApplyInventory:\n got:\n%v\nwant:\n%s", err, want)
	}
	if st.applies != 1 {
		t.Errorf("a bad inventory was written")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
