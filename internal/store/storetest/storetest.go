// Package storetest is the contract of inventory.Store written as tests. Every backend runs
// it (store/sqlite on a temporary file, store/postgres in a fresh schema), so that what the
// service, the web pages and the CLI rely on holds whichever database is configured, and a
// new backend knows exactly what it must do. Like slogtest, it is imported by tests only.
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// Run runs the whole contract, one subtest per documented behaviour. open must return an
// empty, migrated store that is closed when its t ends; every subtest opens its own.
func Run(t *testing.T, open func(t *testing.T) inventory.Store) {
	tests := []struct {
		name string
		test func(t *testing.T, st inventory.Store)
	}{
		{"OrgRoundTrip", testOrgRoundTrip},
		{"SystemRoundTrip", testSystemRoundTrip},
		{"ResourceRoundTrip", testResourceRoundTrip},
		{"TimesUTCMicroseconds", testTimes},
		{"NotFound", testNotFound},
		{"CreateConflict", testCreateConflict},
		{"MissingReference", testMissingReference},
		{"UpdateKeepsCreated", testUpdateKeepsCreated},
		{"UpdateOrgCycle", testUpdateOrgCycle},
		{"DeleteOrgRestrict", testDeleteOrgRestrict},
		{"DeleteSystemRestrict", testDeleteSystemRestrict},
		{"DeleteLeavesToRoot", testDeleteLeavesToRoot},
		{"OrderByCode", testOrderByCode},
		{"Paging", testPaging},
		{"PageDefaultAndCap", testPageDefaultAndCap},
		{"OrgFilters", testOrgFilters},
		{"SystemFilters", testSystemFilters},
		{"ResourceFilters", testResourceFilters},
		{"ApplyAllOrNothing", testApplyAllOrNothing},
		{"ApplyAllOrNothingOverExisting", testApplyAllOrNothingOverExisting},
		{"ApplyUpsertKeepsCreated", testApplyUpsertKeepsCreated},
		{"ApplyParentsFirst", testApplyParentsFirst},
		{"ApplyParentStored", testApplyParentStored},
		{"ApplyCycle", testApplyCycle},
		{"ApplyDuplicateKey", testApplyDuplicateKey},
		{"Snapshot", testSnapshot},
		{"SnapshotEmpty", testSnapshotEmpty},
		{"ConcurrentWrites", testConcurrentWrites},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, open(t)) })
	}
}

// t0() is the time the fixture is created at. It is given in Vietnam's time zone and with
// nanoseconds, to check that stores return times in UTC, truncated to the microsecond.
func t0() time.Time {
	return time.Date(2026, 3, 14, 15, 30, 15, 123456789, time.FixedZone("ICT", 7*60*60))
}

// The fixture: two roots and a three-level tree under HN.
//
//	BTTTT                 system bttt-portal      resource dns:mic.gov.vn
//	HN                    system hn-dvc           resources dns:dichvucong.hanoi.gov.vn, url:https://dichvucong.hanoi.gov.vn/
//	├── HN.BD             system hn-bd-web        resource dns:badinh.hanoi.gov.vn
//	│   └── HN.BD.PX      system px-portal        resource cidr:192.0.2.0/28
//	├── HN.STTTT          system hn-stttt-mail    resource ip:192.0.2.10
//	└── HN.SYT
func fixtureOrgs() []inventory.Organization {
	org := func(code, name string, level inventory.Level, parent string, head inventory.Person) inventory.Organization {
		return inventory.Organization{Code: code, Name: name, Level: level, Parent: parent, Head: head, Created: t0(), Updated: t0()}
	}
	return []inventory.Organization{
		org("BTTTT", "Bộ Thông tin và Truyền thông", inventory.LevelMinistry, "",
			inventory.Person{Name: "Nguyễn Mạnh Hùng", Title: "Bộ trưởng", Contact: "bientap@mic.gov.vn"}),
		org("HN", "Ủy ban nhân dân thành phố Hà Nội", inventory.LevelProvince, "",
			inventory.Person{Name: "Trần Sỹ Thanh", Title: "Chủ tịch", Contact: "+84 24 3825 3536"}),
		org("HN.BD", "Ủy ban nhân dân quận Ba Đình", inventory.LevelDistrict, "HN", inventory.Person{}),
		org("HN.BD.PX", "Ủy ban nhân dân phường Phúc Xá", inventory.LevelCommune, "HN.BD",
			inventory.Person{Name: "Lê Thị Ánh", Title: "Chủ tịch"}),
		org("HN.STTTT", "Sở Thông tin và Truyền thông Hà Nội", inventory.LevelDepartment, "HN",
			inventory.Person{Name: "Đỗ Đình Hồng", Title: "Giám đốc", Contact: "stttt@hanoi.gov.vn"}),
		org("HN.SYT", "Sở Y tế Hà Nội", inventory.LevelDepartment, "HN", inventory.Person{}),
	}
}

func fixtureSystems() []inventory.System {
	sys := func(id, org, name string, level int, stage inventory.Stage, classes ...inventory.DataClass) inventory.System {
		return inventory.System{ID: id, Org: org, Name: name, Level: level, Stage: stage, DataClasses: classes,
			Purpose: "Phục vụ người dân và doanh nghiệp", Operator: "Trung tâm Chuyển đổi số", Created: t0(), Updated: t0()}
	}
	s := []inventory.System{
		sys("bttt-portal", "BTTTT", "Cổng thông tin điện tử Bộ", 4, inventory.StageOperation),
		sys("hn-bd-web", "HN.BD", "Trang thông tin quận Ba Đình", 1, inventory.StageOperation),
		sys("hn-dvc", "HN", "Cổng dịch vụ công Hà Nội", 3, inventory.StageOperation,
			inventory.DataPersonal, inventory.DataSensitivePersonal),
		sys("hn-stttt-mail", "HN.STTTT", "Thư điện tử công vụ", 2, inventory.StageBuild, inventory.DataPersonal),
		sys("px-portal", "HN.BD.PX", "Cổng phường Phúc Xá", 2, inventory.StageTest),
	}
	s[2].LevelApproved = true
	return s
}

func fixtureResources() []inventory.Resource {
	res := func(id, system string, scope inventory.ScopeStatus, reason string) inventory.Resource {
		return inventory.Resource{ID: id, System: system, Scope: scope, ScopeReason: reason, Created: t0(), Updated: t0()}
	}
	r := []inventory.Resource{
		res("cidr:192.0.2.0/28", "px-portal", inventory.ScopeUnverified, ""),
		res("dns:badinh.hanoi.gov.vn", "hn-bd-web", inventory.ScopeAssigned, "Ông Phạm Văn Đức xác nhận ngày 14/3"),
		res("dns:dichvucong.hanoi.gov.vn", "hn-dvc", inventory.ScopeVerified, "dns-txt _khien-challenge.dichvucong.hanoi.gov.vn"),
		res("dns:mic.gov.vn", "bttt-portal", inventory.ScopeUnverified, ""),
		res("ip:192.0.2.10", "hn-stttt-mail", inventory.ScopeUnverified, ""),
		res("url:https://dichvucong.hanoi.gov.vn/", "hn-dvc", inventory.ScopeAssigned, "Giám đốc Sở vouched"),
	}
	r[2].VerifyToken = "k7q2m4x9"
	r[2].VerifiedAt = t0().Add(90 * time.Minute)
	return r
}

// fixture returns the whole fixture inventory, organizations parents first.
func fixture() inventory.Inventory {
	return inventory.Inventory{Orgs: fixtureOrgs(), Systems: fixtureSystems(), Resources: fixtureResources()}
}

// seed writes the fixture through the Create methods.
func seed(t *testing.T, st inventory.Store) inventory.Inventory {
	t.Helper()
	ctx := t.Context()
	inv := fixture()
	for _, o := range inv.Orgs {
		if err := st.CreateOrg(ctx, o); err != nil {
			t.Fatalf("CreateOrg(%s) = %v", o.Code, err)
		}
	}
	for _, s := range inv.Systems {
		if err := st.CreateSystem(ctx, s); err != nil {
			t.Fatalf("CreateSystem(%s) = %v", s.ID, err)
		}
	}
	for _, r := range inv.Resources {
		if err := st.CreateResource(ctx, r); err != nil {
			t.Fatalf("CreateResource(%s) = %v", r.ID, err)
		}
	}
	return inv
}

// Stores keep times in UTC to the microsecond; the norm functions put expected values in
// that form, and an empty list of data classes as nil, so values compare with DeepEqual.
func normTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func normOrg(o inventory.Organization) inventory.Organization {
	o.Created, o.Updated = normTime(o.Created), normTime(o.Updated)
	return o
}

func normSystem(s inventory.System) inventory.System {
	s.Created, s.Updated = normTime(s.Created), normTime(s.Updated)
	if len(s.DataClasses) == 0 {
		s.DataClasses = nil
	}
	return s
}

func normResource(r inventory.Resource) inventory.Resource {
	r.Created, r.Updated, r.VerifiedAt = normTime(r.Created), normTime(r.Updated), normTime(r.VerifiedAt)
	return r
}

func normInventory(inv inventory.Inventory) inventory.Inventory {
	out := inventory.Inventory{}
	for _, o := range inv.Orgs {
		out.Orgs = append(out.Orgs, normOrg(o))
	}
	for _, s := range inv.Systems {
		out.Systems = append(out.Systems, normSystem(s))
	}
	for _, r := range inv.Resources {
		out.Resources = append(out.Resources, normResource(r))
	}
	return out
}

func checkOrg(t *testing.T, st inventory.Store, want inventory.Organization) {
	t.Helper()
	got, err := st.Org(t.Context(), want.Code)
	if err != nil {
		t.Fatalf("Org(%q) = %v", want.Code, err)
	}
	if want = normOrg(want); !reflect.DeepEqual(got, want) {
		t.Errorf("Org(%q) =\n\t%+v\nwant\n\t%+v", want.Code, got, want)
	}
}

func checkSystem(t *testing.T, st inventory.Store, want inventory.System) {
	t.Helper()
	got, err := st.System(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("System(%q) = %v", want.ID, err)
	}
	if want = normSystem(want); !reflect.DeepEqual(got, want) {
		t.Errorf("System(%q) =\n\t%+v\nwant\n\t%+v", want.ID, got, want)
	}
}

func checkResource(t *testing.T, st inventory.Store, want inventory.Resource) {
	t.Helper()
	got, err := st.Resource(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("Resource(%q) = %v", want.ID, err)
	}
	if want = normResource(want); !reflect.DeepEqual(got, want) {
		t.Errorf("Resource(%q) =\n\t%+v\nwant\n\t%+v", want.ID, got, want)
	}
}

// snapshot reads the whole store, failing the test on error.
func snapshot(t *testing.T, st inventory.Store) inventory.Inventory {
	t.Helper()
	inv, err := st.Snapshot(t.Context())
	if err != nil {
		t.Fatalf("Snapshot() = %v", err)
	}
	return inv
}

// checkUnchanged fails unless st holds exactly before.
func checkUnchanged(t *testing.T, st inventory.Store, before inventory.Inventory) {
	t.Helper()
	checkInventory(t, "store after the refused write", snapshot(t, st), before)
}

// checkInventory compares two inventories item by item, so a failure names what differs.
func checkInventory(t *testing.T, what string, got, want inventory.Inventory) {
	t.Helper()
	diff(t, what+": organization", got.Orgs, want.Orgs)
	diff(t, what+": system", got.Systems, want.Systems)
	diff(t, what+": resource", got.Resources, want.Resources)
}

func diff[T any](t *testing.T, what string, got, want []T) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Errorf("%s %d missing, want %+v", what, i, want[i])
		case i >= len(want):
			t.Errorf("%s %d = %+v, want none", what, i, got[i])
		case !reflect.DeepEqual(got[i], want[i]):
			t.Errorf("%s %d =\n\t%+v\nwant\n\t%+v", what, i, got[i], want[i])
		}
	}
}

// inSnapshotOrder returns inv as Snapshot gives it: normalized, organizations by depth in
// the tree and then by code, systems and resources by key.
func inSnapshotOrder(inv inventory.Inventory) inventory.Inventory {
	inv = normInventory(inv)
	parent := map[string]string{}
	for _, o := range inv.Orgs {
		parent[o.Code] = o.Parent
	}
	depth := func(code string) int {
		d := 0
		for p := parent[code]; p != ""; p = parent[p] {
			d++
		}
		return d
	}
	slices.SortFunc(inv.Orgs, func(a, b inventory.Organization) int {
		if da, db := depth(a.Code), depth(b.Code); da != db {
			return da - db
		}
		return strings.Compare(a.Code, b.Code)
	})
	slices.SortFunc(inv.Systems, func(a, b inventory.System) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(inv.Resources, func(a, b inventory.Resource) int { return strings.Compare(a.ID, b.ID) })
	return inv
}

// checkErr fails unless err is an *errs.Error of kind, about field (if not empty), whose
// user message contains each of parts.
func checkErr(t *testing.T, what string, err error, kind errs.Kind, field string, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s = nil, want an error of kind %v", what, kind)
	}
	if got := errs.KindOf(err); got != kind {
		t.Fatalf("%s = %v (kind %v), want kind %v", what, err, got, kind)
	}
	msg, gotField := errs.Message(err)
	if field != "" && gotField != field {
		t.Errorf("%s = %v, about field %q, want field %q", what, err, gotField, field)
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("%s: message %q does not contain %q", what, msg, p)
		}
	}
}

func testOrgRoundTrip(t *testing.T, st inventory.Store) {
	for _, o := range seed(t, st).Orgs {
		checkOrg(t, st, o)
	}
}

func testSystemRoundTrip(t *testing.T, st inventory.Store) {
	for _, s := range seed(t, st).Systems {
		checkSystem(t, st, s)
	}
}

func testResourceRoundTrip(t *testing.T, st inventory.Store) {
	for _, r := range seed(t, st).Resources {
		checkResource(t, st, r)
		got, _ := st.Resource(t.Context(), r.ID)
		if got.Kind() != r.Kind() {
			t.Errorf("Resource(%q).Kind() = %q, want %q", r.ID, got.Kind(), r.Kind())
		}
	}
}

func testTimes(t *testing.T, st inventory.Store) {
	inv := seed(t, st)
	got, err := st.Resource(t.Context(), "dns:dichvucong.hanoi.gov.vn")
	if err != nil {
		t.Fatal(err)
	}
	want := inv.Resources[2]
	for _, tt := range []struct {
		name      string
		got, want time.Time
	}{
		{"Created", got.Created, want.Created},
		{"Updated", got.Updated, want.Updated},
		{"VerifiedAt", got.VerifiedAt, want.VerifiedAt},
	} {
		if tt.got.Location() != time.UTC {
			t.Errorf("%s location = %v, want UTC", tt.name, tt.got.Location())
		}
		if w := tt.want.Truncate(time.Microsecond); !tt.got.Equal(w) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, w)
		}
	}
	unverified, err := st.Resource(t.Context(), "dns:mic.gov.vn")
	if err != nil {
		t.Fatal(err)
	}
	if !unverified.VerifiedAt.IsZero() {
		t.Errorf("VerifiedAt of an unverified resource = %v, want the zero time", unverified.VerifiedAt)
	}
}

func testNotFound(t *testing.T, st inventory.Store) {
	seed(t, st)
	ctx := t.Context()
	o := fixtureOrgs()[0]
	o.Code = "KHONG.CO"
	s := fixtureSystems()[0]
	s.ID = "khong-co"
	r := fixtureResources()[0]
	r.ID = "dns:khong-co.gov.vn"
	tests := []struct {
		name string
		call func() error
		key  string
	}{
		{"Org", func() error { _, err := st.Org(ctx, o.Code); return err }, o.Code},
		{"UpdateOrg", func() error { return st.UpdateOrg(ctx, o) }, o.Code},
		{"DeleteOrg", func() error { return st.DeleteOrg(ctx, o.Code) }, o.Code},
		{"System", func() error { _, err := st.System(ctx, s.ID); return err }, s.ID},
		{"UpdateSystem", func() error { return st.UpdateSystem(ctx, s) }, s.ID},
		{"DeleteSystem", func() error { return st.DeleteSystem(ctx, s.ID) }, s.ID},
		{"Resource", func() error { _, err := st.Resource(ctx, r.ID); return err }, r.ID},
		{"UpdateResource", func() error { return st.UpdateResource(ctx, r) }, r.ID},
		{"DeleteResource", func() error { return st.DeleteResource(ctx, r.ID) }, r.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, tt.name, tt.call(), errs.NotFound, "", tt.key, "not found")
		})
	}
}

func testCreateConflict(t *testing.T, st inventory.Store) {
	inv := seed(t, st)
	ctx := t.Context()
	before := snapshot(t, st)
	o := inv.Orgs[1]
	o.Name = "Tên khác"
	s := inv.Systems[0]
	s.Name = "Tên khác"
	r := inv.Resources[0]
	r.System = "hn-dvc"
	tests := []struct {
		name string
		err  error
		key  string
	}{
		{"CreateOrg", st.CreateOrg(ctx, o), o.Code},
		{"CreateSystem", st.CreateSystem(ctx, s), s.ID},
		{"CreateResource", st.CreateResource(ctx, r), r.ID},
	}
	for _, tt := range tests {
		checkErr(t, tt.name, tt.err, errs.Conflict, "", tt.key, "already exists")
	}
	checkUnchanged(t, st, before)
}

func testMissingReference(t *testing.T, st inventory.Store) {
	inv := seed(t, st)
	ctx := t.Context()
	before := snapshot(t, st)

	newOrg := inventory.Organization{Code: "HN.MOI", Name: "Sở mới", Level: inventory.LevelDepartment,
		Parent: "KHONG.CO", Created: t0(), Updated: t0()}
	movedOrg := inv.Orgs[4]
	movedOrg.Parent = "KHONG.CO"
	newSystem := inv.Systems[0]
	newSystem.ID, newSystem.Org = "he-thong-moi", "KHONG.CO"
	movedSystem := inv.Systems[0]
	movedSystem.Org = "KHONG.CO"
	newResource := inventory.Resource{ID: "dns:moi.gov.vn", System: "khong-co", Scope: inventory.ScopeUnverified,
		Created: t0(), Updated: t0()}
	movedResource := inv.Resources[0]
	movedResource.System = "khong-co"

	tests := []struct {
		name, field, missing string
		err                  error
	}{
		{"CreateOrg", "parent", "KHONG.CO", st.CreateOrg(ctx, newOrg)},
		{"UpdateOrg", "parent", "KHONG.CO", st.UpdateOrg(ctx, movedOrg)},
		{"CreateSystem", "org", "KHONG.CO", st.CreateSystem(ctx, newSystem)},
		{"UpdateSystem", "org", "KHONG.CO", st.UpdateSystem(ctx, movedSystem)},
		{"CreateResource", "system", "khong-co", st.CreateResource(ctx, newResource)},
		{"UpdateResource", "system", "khong-co", st.UpdateResource(ctx, movedResource)},
	}
	for _, tt := range tests {
		checkErr(t, tt.name, tt.err, errs.Invalid, tt.field, tt.missing, "does not exist")
	}
	checkUnchanged(t, st, before)
}

func testUpdateKeepsCreated(t *testing.T, st inventory.Store) {
	inv := seed(t, st)
	ctx := t.Context()
	later := t0().Add(48*time.Hour + 987654321)

	// Every field changes, optional ones to empty, and Created is given wrong on purpose.
	o := inv.Orgs[3] // HN.BD.PX, under HN.BD
	o.Name, o.Level, o.Parent, o.Head = "Ủy ban nhân dân phường Phúc Xá (mới)", inventory.LevelDistrict, "", inventory.Person{}
	o.Created, o.Updated = later, later
	if err := st.UpdateOrg(ctx, o); err != nil {
		t.Fatalf("UpdateOrg = %v", err)
	}
	o.Created = t0()
	checkOrg(t, st, o)

	s := inv.Systems[2] // hn-dvc
	s.Org, s.Name, s.Purpose, s.Level, s.LevelApproved = "HN.SYT", "Hệ thống y tế", "", 5, false
	s.Stage, s.DataClasses, s.Operator = inventory.StageRetired, nil, ""
	s.Created, s.Updated = later, later
	if err := st.UpdateSystem(ctx, s); err != nil {
		t.Fatalf("UpdateSystem = %v", err)
	}
	s.Created = t0()
	checkSystem(t, st, s)

	r := inv.Resources[2] // verified, with a token
	r.System, r.Scope, r.ScopeReason, r.VerifyToken, r.VerifiedAt = "hn-bd-web", inventory.ScopeUnverified, "", "", time.Time{}
	r.Created, r.Updated = later, later
	if err := st.UpdateResource(ctx, r); err != nil {
		t.Fatalf("UpdateResource = %v", err)
	}
	r.Created = t0()
	checkResource(t, st, r)
}

func testUpdateOrgCycle(t *testing.T, st inventory.Store) {
	inv := seed(t, st)
	before := snapshot(t, st)
	for _, parent := range []string{"HN", "HN.BD.PX"} { // itself, and its grandchild
		o := inv.Orgs[1] // HN
		o.Parent = parent
		checkErr(t, "UpdateOrg(HN under "+parent+")", st.UpdateOrg(t.Context(), o), errs.Invalid, "parent", "cycle")
	}
	checkUnchanged(t, st, before)
}

func testDeleteOrgRestrict(t *testing.T, st inventory.Store) {
	seed(t, st)
	ctx := t.Context()
	before := snapshot(t, st)
	tests := []struct {
		code  string
		parts []string
	}{
		{"HN", []string{`organization "HN" still has 3 child organizations and 1 system; move or delete them first`}},
		{"HN.BD", []string{"1 child organization and 1 system"}},
		{"HN.BD.PX", []string{"1 system; move or delete it first"}},
	}
	for _, tt := range tests {
		checkErr(t, "DeleteOrg("+tt.code+")", st.DeleteOrg(ctx, tt.code), errs.Conflict, "", tt.parts...)
	}
	checkUnchanged(t, st, before)
	if err := st.DeleteOrg(ctx, "HN.SYT"); err != nil { // no children, no systems
		t.Fatalf("DeleteOrg(HN.SYT) = %v", err)
	}
	_, err := st.Org(ctx, "HN.SYT")
	checkErr(t, "Org(HN.SYT) after delete", err, errs.NotFound, "")
}

func testDeleteSystemRestrict(t *testing.T, st inventory.Store) {
	seed(t, st)
	before := snapshot(t, st)
	checkErr(t, "DeleteSystem(hn-dvc)", st.DeleteSystem(t.Context(), "hn-dvc"), errs.Conflict, "",
		`system "hn-dvc" still has 2 resources; move or delete them first`)
	checkUnchanged(t, st, before)
}

func testDeleteLeavesToRoot(t *testing.T, st inventory.Store) {
	inv := seed(t, st)
	ctx := t.Context()
	for _, r := range inv.Resources {
		if err := st.DeleteResource(ctx, r.ID); err != nil {
			t.Fatalf("DeleteResource(%s) = %v", r.ID, err)
		}
	}
	for _, s := range inv.Systems {
		if err := st.DeleteSystem(ctx, s.ID); err != nil {
			t.Fatalf("DeleteSystem(%s) = %v", s.ID, err)
		}
	}
	for _, o := range slices.Backward(inv.Orgs) {
		if err := st.DeleteOrg(ctx, o.Code); err != nil {
			t.Fatalf("DeleteOrg(%s) = %v", o.Code, err)
		}
	}
	if got := snapshot(t, st); len(got.Orgs)+len(got.Systems)+len(got.Resources) != 0 {
		t.Errorf("Snapshot() after deleting everything = %+v, want it empty", got)
	}
	_, err := st.Resource(ctx, inv.Resources[0].ID)
	checkErr(t, "Resource after delete", err, errs.NotFound, "")
	_, err = st.System(ctx, inv.Systems[0].ID)
	checkErr(t, "System after delete", err, errs.NotFound, "")
}

// testOrderByCode checks that keys sort by their bytes, whatever the database's locale.
func testOrderByCode(t *testing.T, st inventory.Store) {
	codes := []string{"a", "HN_X", "9", "HN.X", "B", "HN-X", "hn.x"}
	for _, c := range codes {
		o := inventory.Organization{Code: c, Name: c, Level: inventory.LevelProvince, Created: t0(), Updated: t0()}
		if err := st.CreateOrg(t.Context(), o); err != nil {
			t.Fatalf("CreateOrg(%s) = %v", c, err)
		}
	}
	got, _, err := st.Orgs(t.Context(), inventory.OrgFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(codes)
	slices.Sort(want)
	if g := orgCodes(got); !slices.Equal(g, want) {
		t.Errorf("Orgs() codes = %q, want %q", g, want)
	}
}

func orgCodes(os []inventory.Organization) []string {
	var c []string
	for _, o := range os {
		c = append(c, o.Code)
	}
	return c
}

func systemIDs(ss []inventory.System) []string {
	var c []string
	for _, s := range ss {
		c = append(c, s.ID)
	}
	return c
}

func resourceIDs(rs []inventory.Resource) []string {
	var c []string
	for _, r := range rs {
		c = append(c, r.ID)
	}
	return c
}

func testPaging(t *testing.T, st inventory.Store) {
	var all []string
	for i := range 7 {
		code := fmt.Sprintf("T%02d", i)
		all = append(all, code)
		o := inventory.Organization{Code: code, Name: "Tỉnh " + code, Level: inventory.LevelProvince, Created: t0(), Updated: t0()}
		if err := st.CreateOrg(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		page inventory.Page
		want []string
	}{
		{inventory.Page{Limit: 3}, all[0:3]},
		{inventory.Page{Limit: 3, Offset: 3}, all[3:6]},
		{inventory.Page{Limit: 3, Offset: 6}, all[6:]},
		{inventory.Page{Limit: 3, Offset: 7}, nil},
		{inventory.Page{Limit: 3, Offset: 100}, nil},
		{inventory.Page{}, all},
		{inventory.Page{Limit: 2, Offset: -5}, all[0:2]},
	}
	for _, tt := range tests {
		got, total, err := st.Orgs(t.Context(), inventory.OrgFilter{Page: tt.page})
		if err != nil {
			t.Fatalf("Orgs(%+v) = %v", tt.page, err)
		}
		if g := orgCodes(got); !slices.Equal(g, tt.want) || total != 7 {
			t.Errorf("Orgs(%+v) = %q, %d; want %q, 7", tt.page, g, total, tt.want)
		}
	}
}

func testPageDefaultAndCap(t *testing.T, st inventory.Store) {
	var inv inventory.Inventory
	for i := range 1001 {
		inv.Orgs = append(inv.Orgs, inventory.Organization{Code: fmt.Sprintf("X%04d", i), Name: "Xã",
			Level: inventory.LevelCommune, Created: t0(), Updated: t0()})
	}
	if err := st.Apply(t.Context(), inv); err != nil {
		t.Fatalf("Apply(1001 organizations) = %v", err)
	}
	for _, tt := range []struct {
		limit, want int
	}{{0, 50}, {-1, 50}, {1000, 1000}, {5000, 1000}} {
		got, total, err := st.Orgs(t.Context(), inventory.OrgFilter{Page: inventory.Page{Limit: tt.limit}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.want || total != 1001 {
			t.Errorf("Orgs(Limit: %d) = %d items, total %d; want %d, 1001", tt.limit, len(got), total, tt.want)
		}
	}
}

func testOrgFilters(t *testing.T, st inventory.Store) {
	seed(t, st)
	tests := []struct {
		name string
		f    inventory.OrgFilter
		want []string
	}{
		{"all", inventory.OrgFilter{}, []string{"BTTTT", "HN", "HN.BD", "HN.BD.PX", "HN.STTTT", "HN.SYT"}},
		{"under root", inventory.OrgFilter{Under: "HN"}, []string{"HN", "HN.BD", "HN.BD.PX", "HN.STTTT", "HN.SYT"}},
		{"under middle", inventory.OrgFilter{Under: "HN.BD"}, []string{"HN.BD", "HN.BD.PX"}},
		{"under leaf", inventory.OrgFilter{Under: "HN.BD.PX"}, []string{"HN.BD.PX"}},
		{"under lone root", inventory.OrgFilter{Under: "BTTTT"}, []string{"BTTTT"}},
		{"under missing", inventory.OrgFilter{Under: "KHONG.CO"}, nil},
		{"parent", inventory.OrgFilter{Parent: "HN"}, []string{"HN.BD", "HN.STTTT", "HN.SYT"}},
		{"parent of leaf", inventory.OrgFilter{Parent: "HN.BD.PX"}, nil},
		{"level", inventory.OrgFilter{Level: inventory.LevelDepartment}, []string{"HN.STTTT", "HN.SYT"}},
		{"under and level", inventory.OrgFilter{Under: "HN.BD", Level: inventory.LevelCommune}, []string{"HN.BD.PX"}},
		{"under and parent", inventory.OrgFilter{Under: "HN.BD", Parent: "HN"}, []string{"HN.BD"}},
	}
	for _, tt := range tests {
		got, total, err := st.Orgs(t.Context(), tt.f)
		if err != nil {
			t.Fatalf("%s: Orgs(%+v) = %v", tt.name, tt.f, err)
		}
		if g := orgCodes(got); !slices.Equal(g, tt.want) || total != len(tt.want) {
			t.Errorf("%s: Orgs(%+v) = %q, %d; want %q, %d", tt.name, tt.f, g, total, tt.want, len(tt.want))
		}
	}
	// A filtered page counts every match, not only those on the page.
	f := inventory.OrgFilter{Under: "HN", Page: inventory.Page{Limit: 2, Offset: 1}}
	got, total, err := st.Orgs(t.Context(), f)
	if g, want := orgCodes(got), []string{"HN.BD", "HN.BD.PX"}; err != nil || !slices.Equal(g, want) || total != 5 {
		t.Errorf("Orgs(%+v) = %q, %d, %v; want %q, 5, nil", f, g, total, err, want)
	}
}

func testSystemFilters(t *testing.T, st inventory.Store) {
	seed(t, st)
	tests := []struct {
		name string
		f    inventory.SystemFilter
		want []string
	}{
		{"all", inventory.SystemFilter{}, []string{"bttt-portal", "hn-bd-web", "hn-dvc", "hn-stttt-mail", "px-portal"}},
		{"org", inventory.SystemFilter{Org: "HN"}, []string{"hn-dvc"}},
		{"org without systems", inventory.SystemFilter{Org: "HN.SYT"}, nil},
		{"under root", inventory.SystemFilter{Under: "HN"}, []string{"hn-bd-web", "hn-dvc", "hn-stttt-mail", "px-portal"}},
		{"under middle", inventory.SystemFilter{Under: "HN.BD"}, []string{"hn-bd-web", "px-portal"}},
		{"under leaf", inventory.SystemFilter{Under: "HN.BD.PX"}, []string{"px-portal"}},
		{"under missing", inventory.SystemFilter{Under: "KHONG.CO"}, nil},
		{"stage", inventory.SystemFilter{Stage: inventory.StageOperation}, []string{"bttt-portal", "hn-bd-web", "hn-dvc"}},
		{"level", inventory.SystemFilter{Level: 2}, []string{"hn-stttt-mail", "px-portal"}},
		{"under and stage", inventory.SystemFilter{Under: "HN.BD", Stage: inventory.StageOperation}, []string{"hn-bd-web"}},
		{"under and level", inventory.SystemFilter{Under: "HN", Level: 2}, []string{"hn-stttt-mail", "px-portal"}},
	}
	for _, tt := range tests {
		got, total, err := st.Systems(t.Context(), tt.f)
		if err != nil {
			t.Fatalf("%s: Systems(%+v) = %v", tt.name, tt.f, err)
		}
		if g := systemIDs(got); !slices.Equal(g, tt.want) || total != len(tt.want) {
			t.Errorf("%s: Systems(%+v) = %q, %d; want %q, %d", tt.name, tt.f, g, total, tt.want, len(tt.want))
		}
	}
}

func testResourceFilters(t *testing.T, st inventory.Store) {
	seed(t, st)
	tests := []struct {
		name string
		f    inventory.ResourceFilter
		want []string
	}{
		{"all", inventory.ResourceFilter{}, []string{"cidr:192.0.2.0/28", "dns:badinh.hanoi.gov.vn",
			"dns:dichvucong.hanoi.gov.vn", "dns:mic.gov.vn", "ip:192.0.2.10", "url:https://dichvucong.hanoi.gov.vn/"}},
		{"system", inventory.ResourceFilter{System: "hn-dvc"}, []string{"dns:dichvucong.hanoi.gov.vn", "url:https://dichvucong.hanoi.gov.vn/"}},
		{"under root", inventory.ResourceFilter{Under: "HN"}, []string{"cidr:192.0.2.0/28", "dns:badinh.hanoi.gov.vn",
			"dns:dichvucong.hanoi.gov.vn", "ip:192.0.2.10", "url:https://dichvucong.hanoi.gov.vn/"}},
		{"under middle", inventory.ResourceFilter{Under: "HN.BD"}, []string{"cidr:192.0.2.0/28", "dns:badinh.hanoi.gov.vn"}},
		{"under leaf", inventory.ResourceFilter{Under: "HN.BD.PX"}, []string{"cidr:192.0.2.0/28"}},
		{"under without systems", inventory.ResourceFilter{Under: "HN.SYT"}, nil},
		{"kind", inventory.ResourceFilter{Kind: inventory.KindDNS}, []string{"dns:badinh.hanoi.gov.vn",
			"dns:dichvucong.hanoi.gov.vn", "dns:mic.gov.vn"}},
		{"kind ip", inventory.ResourceFilter{Kind: inventory.KindIP}, []string{"ip:192.0.2.10"}},
		{"scope", inventory.ResourceFilter{Scope: inventory.ScopeAssigned}, []string{"dns:badinh.hanoi.gov.vn",
			"url:https://dichvucong.hanoi.gov.vn/"}},
		{"under, kind and scope", inventory.ResourceFilter{Under: "HN", Kind: inventory.KindDNS, Scope: inventory.ScopeVerified},
			[]string{"dns:dichvucong.hanoi.gov.vn"}},
	}
	for _, tt := range tests {
		got, total, err := st.Resources(t.Context(), tt.f)
		if err != nil {
			t.Fatalf("%s: Resources(%+v) = %v", tt.name, tt.f, err)
		}
		if g := resourceIDs(got); !slices.Equal(g, tt.want) || total != len(tt.want) {
			t.Errorf("%s: Resources(%+v) = %q, %d; want %q, %d", tt.name, tt.f, g, total, tt.want, len(tt.want))
		}
	}
}

func testApplyAllOrNothing(t *testing.T, st inventory.Store) {
	inv := fixture()
	last := &inv.Resources[len(inv.Resources)-1]
	last.System = "khong-co"
	checkErr(t, "Apply(last resource of a missing system)", st.Apply(t.Context(), inv), errs.Invalid, "system",
		last.ID, `"khong-co" does not exist`)
	if got := snapshot(t, st); len(got.Orgs)+len(got.Systems)+len(got.Resources) != 0 {
		t.Errorf("after a failed Apply, Snapshot() = %+v, want it empty", got)
	}
	_, err := st.Org(t.Context(), inv.Orgs[0].Code)
	checkErr(t, "Org(first of a failed Apply)", err, errs.NotFound, "")
}

func testApplyAllOrNothingOverExisting(t *testing.T, st inventory.Store) {
	seed(t, st)
	before := snapshot(t, st)
	inv := fixture()
	for i := range inv.Orgs {
		inv.Orgs[i].Name += " (đổi tên)"
	}
	inv.Orgs = append(inv.Orgs, inventory.Organization{Code: "HN.MOI", Name: "Sở mới", Level: inventory.LevelDepartment,
		Parent: "HN", Created: t0(), Updated: t0()})
	inv.Systems[0].Org = "KHONG.CO"
	checkErr(t, "Apply(system of a missing organization)", st.Apply(t.Context(), inv), errs.Invalid, "org", inv.Systems[0].ID)
	checkUnchanged(t, st, before)
}

func testApplyUpsertKeepsCreated(t *testing.T, st inventory.Store) {
	seed(t, st)
	later := t0().Add(24 * time.Hour)
	inv := fixture()
	inv.Orgs[1].Name, inv.Orgs[1].Head.Title = "UBND TP Hà Nội", "Phó Chủ tịch"
	inv.Systems[2].Level, inv.Systems[2].DataClasses = 4, []inventory.DataClass{inventory.DataStateSecret}
	inv.Resources[0].Scope, inv.Resources[0].ScopeReason = inventory.ScopeAssigned, "Chủ tịch phường xác nhận"
	inv.Resources = append(inv.Resources, inventory.Resource{ID: "dns:moi.hanoi.gov.vn", System: "hn-dvc",
		Scope: inventory.ScopeUnverified, Created: later, Updated: later})
	for i := range inv.Orgs {
		inv.Orgs[i].Created, inv.Orgs[i].Updated = later, later
	}
	for i := range inv.Systems {
		inv.Systems[i].Created, inv.Systems[i].Updated = later, later
	}
	for i := range inv.Resources[:len(inv.Resources)-1] {
		inv.Resources[i].Created, inv.Resources[i].Updated = later, later
	}
	if err := st.Apply(t.Context(), inv); err != nil {
		t.Fatalf("Apply = %v", err)
	}
	// Existing rows keep their Created; the new one has the Created it was given.
	for i := range inv.Orgs {
		inv.Orgs[i].Created = t0()
		checkOrg(t, st, inv.Orgs[i])
	}
	for i := range inv.Systems {
		inv.Systems[i].Created = t0()
		checkSystem(t, st, inv.Systems[i])
	}
	for i := range inv.Resources[:len(inv.Resources)-1] {
		inv.Resources[i].Created = t0()
	}
	for _, r := range inv.Resources {
		checkResource(t, st, r)
	}
}

func testApplyParentsFirst(t *testing.T, st inventory.Store) {
	inv := fixture()
	slices.Reverse(inv.Orgs) // children before their parents
	slices.Reverse(inv.Systems)
	if err := st.Apply(t.Context(), inv); err != nil {
		t.Fatalf("Apply(children listed first) = %v", err)
	}
	checkInventory(t, "Snapshot()", snapshot(t, st), inSnapshotOrder(fixture()))
}

func testApplyParentStored(t *testing.T, st inventory.Store) {
	seed(t, st)
	ok := inventory.Inventory{Orgs: []inventory.Organization{{Code: "HN.BD.PX.TDP1", Name: "Tổ dân phố số 1",
		Level: inventory.LevelCommune, Parent: "HN.BD.PX", Created: t0(), Updated: t0()}}}
	if err := st.Apply(t.Context(), ok); err != nil {
		t.Fatalf("Apply(parent already stored) = %v", err)
	}
	checkOrg(t, st, ok.Orgs[0])

	before := snapshot(t, st)
	bad := inventory.Inventory{Orgs: []inventory.Organization{
		{Code: "DN", Name: "Đà Nẵng", Level: inventory.LevelProvince, Created: t0(), Updated: t0()},
		{Code: "DN.STTTT", Name: "Sở TT&TT Đà Nẵng", Level: inventory.LevelDepartment, Parent: "DN.KHONG", Created: t0(), Updated: t0()},
	}}
	checkErr(t, "Apply(missing parent)", st.Apply(t.Context(), bad), errs.Invalid, "parent", "DN.STTTT", "DN.KHONG")
	checkUnchanged(t, st, before)
}

func testApplyCycle(t *testing.T, st inventory.Store) {
	seed(t, st)
	before := snapshot(t, st)
	org := func(code, parent string) inventory.Organization {
		return inventory.Organization{Code: code, Name: code, Level: inventory.LevelDepartment, Parent: parent, Created: t0(), Updated: t0()}
	}
	tests := []struct {
		name string
		orgs []inventory.Organization
	}{
		{"own parent", []inventory.Organization{org("A", "A")}},
		{"within the inventory", []inventory.Organization{org("A", "B"), org("B", "A"), org("C", "")}},
		{"through stored organizations", []inventory.Organization{org("HN", "HN.BD.PX")}},
	}
	for _, tt := range tests {
		checkErr(t, "Apply("+tt.name+")", st.Apply(t.Context(), inventory.Inventory{Orgs: tt.orgs}), errs.Invalid, "parent", "cycle")
	}
	checkUnchanged(t, st, before)
}

func testApplyDuplicateKey(t *testing.T, st inventory.Store) {
	for _, tt := range []struct {
		name string
		edit func(*inventory.Inventory)
	}{
		{"organization", func(inv *inventory.Inventory) { inv.Orgs = append(inv.Orgs, inv.Orgs[2]) }},
		{"system", func(inv *inventory.Inventory) { inv.Systems = append(inv.Systems, inv.Systems[0]) }},
		{"resource", func(inv *inventory.Inventory) { inv.Resources = append(inv.Resources, inv.Resources[1]) }},
	} {
		inv := fixture()
		tt.edit(&inv)
		checkErr(t, "Apply(duplicate "+tt.name+")", st.Apply(t.Context(), inv), errs.Invalid, "", "more than once")
	}
	checkUnchanged(t, st, inventory.Inventory{})
}

func testSnapshot(t *testing.T, st inventory.Store) {
	inv := seed(t, st)
	got := snapshot(t, st)
	// Parents first, by depth, then by code.
	wantOrder := []string{"BTTTT", "HN", "HN.BD", "HN.STTTT", "HN.SYT", "HN.BD.PX"}
	if g := orgCodes(got.Orgs); !slices.Equal(g, wantOrder) {
		t.Errorf("Snapshot() organizations = %q, want %q", g, wantOrder)
	}
	seen := map[string]bool{}
	for _, o := range got.Orgs {
		if o.Parent != "" && !seen[o.Parent] {
			t.Errorf("Snapshot() lists %s before its parent %s", o.Code, o.Parent)
		}
		seen[o.Code] = true
	}
	checkInventory(t, "Snapshot()", got, inSnapshotOrder(inv))
}

func testSnapshotEmpty(t *testing.T, st inventory.Store) {
	if got := snapshot(t, st); len(got.Orgs)+len(got.Systems)+len(got.Resources) != 0 {
		t.Errorf("Snapshot() of an empty store = %+v", got)
	}
}

// testConcurrentWrites has writers contend for the same database: none may fail for being
// busy, and every write must land.
func testConcurrentWrites(t *testing.T, st inventory.Store) {
	ctx := t.Context()
	root := inventory.Organization{Code: "ROOT", Name: "Gốc", Level: inventory.LevelCentral, Created: t0(), Updated: t0()}
	if err := st.CreateOrg(ctx, root); err != nil {
		t.Fatal(err)
	}
	const writers, perWriter = 8, 5
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			if err := write(ctx, st, w, perWriter); err != nil {
				errc <- fmt.Errorf("writer %d: %w", w, err)
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	_, orgs, err := st.Orgs(ctx, inventory.OrgFilter{Under: "ROOT"})
	if err != nil {
		t.Fatal(err)
	}
	_, resources, err := st.Resources(ctx, inventory.ResourceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if wantOrgs, wantResources := 1+2*writers, 2*writers*perWriter; orgs != wantOrgs || resources != wantResources {
		t.Errorf("after concurrent writes: %d organizations, %d resources; want %d, %d", orgs, resources, wantOrgs, wantResources)
	}
}

// write is one writer of testConcurrentWrites: single writes, reads, and an Apply.
func write(ctx context.Context, st inventory.Store, w, n int) error {
	code := fmt.Sprintf("ROOT.W%d", w)
	o := inventory.Organization{Code: code, Name: "Đơn vị", Level: inventory.LevelProvince, Parent: "ROOT", Created: t0(), Updated: t0()}
	if err := st.CreateOrg(ctx, o); err != nil {
		return err
	}
	sys := inventory.System{ID: fmt.Sprintf("w%d", w), Org: code, Name: "Hệ thống", Level: 2, Stage: inventory.StageBuild,
		Created: t0(), Updated: t0()}
	if err := st.CreateSystem(ctx, sys); err != nil {
		return err
	}
	for i := range n {
		r := inventory.Resource{ID: fmt.Sprintf("dns:r%d.w%d.gov.vn", i, w), System: sys.ID,
			Scope: inventory.ScopeUnverified, Created: t0(), Updated: t0()}
		if err := st.CreateResource(ctx, r); err != nil {
			return err
		}
		o.Name = fmt.Sprintf("Đơn vị %d", i)
		if err := st.UpdateOrg(ctx, o); err != nil {
			return err
		}
		if _, _, err := st.Systems(ctx, inventory.SystemFilter{Under: "ROOT"}); err != nil {
			return err
		}
	}
	inv := inventory.Inventory{
		Orgs: []inventory.Organization{{Code: code + ".A", Name: "Phòng", Level: inventory.LevelDepartment, Parent: code,
			Created: t0(), Updated: t0()}},
		Systems: []inventory.System{{ID: fmt.Sprintf("w%d-a", w), Org: code + ".A", Name: "Hệ thống A", Level: 1,
			Stage: inventory.StagePlanning, Created: t0(), Updated: t0()}},
	}
	for i := range n {
		inv.Resources = append(inv.Resources, inventory.Resource{ID: fmt.Sprintf("dns:a%d.w%d.gov.vn", i, w),
			System: fmt.Sprintf("w%d-a", w), Scope: inventory.ScopeUnverified, Created: t0(), Updated: t0()})
	}
	if err := st.Apply(ctx, inv); err != nil {
		return err
	}
	if _, err := st.Snapshot(ctx); err != nil {
		return err
	}
	return nil
}
