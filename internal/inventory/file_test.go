package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/errs"
)

func TestFormatOf(t *testing.T) {
	tests := []struct {
		path    string
		want    Format
		wantErr string
	}{
		{"danhmuc.yaml", FormatYAML, ""},
		{"/srv/khien/DanhMuc.YML", FormatYAML, ""},
		{"danh muc.csv", FormatCSV, ""},
		{"danhmuc.xlsx", "", "danhmuc.xlsx: cannot tell the format from the extension; name the file .yaml, .yml or .csv"},
		{"danhmuc", "", "danhmuc: cannot tell the format from the extension; name the file .yaml, .yml or .csv"},
	}
	for _, tt := range tests {
		got, err := FormatOf(tt.path)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr || !errs.Is(err, errs.Invalid) {
				t.Errorf("FormatOf(%q) = %q, %v; want invalid error %q", tt.path, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("FormatOf(%q) = %q, %v; want %q", tt.path, got, err, tt.want)
		}
	}
	for in, want := range map[string]Format{"yaml": FormatYAML, "YML": FormatYAML, " csv ": FormatCSV} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseFormat("xlsx"); err == nil || err.Error() != `unknown format "xlsx"; use yaml or csv` {
		t.Errorf("ParseFormat(xlsx) error = %v", err)
	}
}

func parseFixture(t *testing.T, path string) Inventory {
	t.Helper()
	f, err := FormatOf(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := ParseFile(path, bytes.NewReader(data), f)
	if err != nil {
		t.Fatalf("ParseFile(%s):\n%v", path, err)
	}
	return inv
}

// TestParseFileValid checks that the two fixtures, which describe one inventory in each
// format, decode to the same normalized values.
func TestParseFileValid(t *testing.T) {
	y := parseFixture(t, "testdata/valid.yaml")
	c := parseFixture(t, "testdata/valid.csv")
	if !reflect.DeepEqual(exportOrder(y), exportOrder(c)) {
		t.Errorf("valid.yaml and valid.csv differ:\nyaml %+v\ncsv  %+v", exportOrder(y), exportOrder(c))
	}
	if len(y.Orgs) != 5 || len(y.Systems) != 4 || len(y.Resources) != 10 {
		t.Fatalf("valid.yaml has %d orgs, %d systems, %d resources; want 5, 4, 10", len(y.Orgs), len(y.Systems), len(y.Resources))
	}
	want := map[string]Resource{
		"url:https://benhan.soyte.hanoi.gov.vn/":                   {System: "hn-benhan", Scope: ScopeUnverified},
		"db:postgres://db.soyte.hanoi.gov.vn/benhan":               {System: "hn-benhan", Scope: ScopeUnverified},
		"ip:2001:db8:10::5":                                        {System: "hn-benhan", Scope: ScopeUnverified},
		"host:srv-benhan-01":                                       {System: "hn-benhan", Scope: ScopeUnverified},
		"dns:xn--khoa-hc-cng-ngh-ksb5190k1ca.xn--h-ni-0na4517b.vn": {System: "hn-qlvb", Scope: ScopeUnverified},
		"cidr:198.51.100.0/24":                                     {System: "hn-qlvb", Scope: ScopeUnverified},
		"dns:badinh.hanoi.gov.vn": {System: "hn-pbd-web", Scope: ScopeAssigned,
			ScopeReason: "Văn bản số 45/UBND-VP ngày 02/02/2026 của Ủy ban nhân dân phường"},
	}
	for _, r := range y.Resources {
		w, ok := want[r.ID]
		if !ok {
			continue
		}
		w.ID = r.ID
		if r != w {
			t.Errorf("resource %s = %+v, want %+v", r.ID, r, w)
		}
		delete(want, r.ID)
	}
	if len(want) > 0 {
		t.Errorf("resources missing: %v", want)
	}
	for _, s := range y.Systems {
		if s.ID == "hn-benhan" && !reflect.DeepEqual(s.DataClasses, []DataClass{DataPersonal, DataSensitivePersonal}) {
			t.Errorf("hn-benhan data classes = %v, want them sorted", s.DataClasses)
		}
	}
}

// TestParseFileErrors checks the exact report for each kind of problem ParseFile finds on its
// own, in both formats. Problems that need the store are in TestImportErrors.
func TestParseFileErrors(t *testing.T) {
	const csvHeader = "type,code,name,level,parent,head_name,head_title,head_contact,id,org,purpose,level_approved,stage,data_classes,operator,system,scope,scope_reason,verified_at\n"
	tests := []struct {
		name   string
		format Format
		in     string
		want   string
	}{
		{
			name:   "yaml syntax from the parser",
			format: FormatYAML,
			in:     "version: 1\norganizations:\n  - code: HN\n   name: x\n",
			want:   "f.yaml:3: not valid YAML: did not find expected '-' indicator in the block that starts here; check the indentation below it",
		},
		{
			name:   "yaml syntax from the scanner",
			format: FormatYAML,
			in:     "version: 1\norganizations:\n  - code: HN\n    name: x: y\n",
			want:   "f.yaml:4: not valid YAML: mapping values are not allowed in this context",
		},
		{
			name:   "yaml syntax on line 1",
			format: FormatYAML,
			in:     "version: 1: 2\n",
			want:   "f.yaml:1: not valid YAML: mapping values are not allowed in this context",
		},
		{
			name:   "yaml not UTF-8",
			format: FormatYAML,
			in:     "version: 1\norganizations:\n  - {code: HN, name: H\xe0 N\xf4\xef, level: province}\n",
			want:   "f.yaml:3: the file is not valid UTF-8 text; save it as UTF-8",
		},
		{
			name:   "yaml control character",
			format: FormatYAML,
			in:     "version: 1\n\norganizations: \x07\n",
			want:   "f.yaml:3: the file holds the control character U+0007; remove it",
		},
		{
			name:   "second document",
			format: FormatYAML,
			in:     "version: 1\n---\nversion: 1\n",
			want:   "f.yaml:2: the file holds a second YAML document (after ---); put everything in one",
		},
		{
			name:   "not a mapping",
			format: FormatYAML,
			in:     "- code: HN\n",
			want:   "f.yaml:1: the file must be a mapping with the keys version, organizations, systems, resources",
		},
		{
			name:   "version",
			format: FormatYAML,
			in:     "version: 2\n",
			want:   `f.yaml:1: version: version "2" is not supported; this Khiên reads version 1`,
		},
		{
			name:   "unknown field at the top",
			format: FormatYAML,
			in:     "version: 1\norganisations: []\n",
			want:   "f.yaml:2: organisations: unknown field; the file has version, organizations, systems, resources",
		},
		{
			name:   "unknown field in an organization",
			format: FormatYAML,
			in:     "organizations:\n  - code: HN\n    name: Hà Nội\n    level: province\n    colour: đỏ\n",
			want:   "f.yaml:5: colour: unknown field; an organization has code, name, level, parent, head",
		},
		{
			name:   "unknown field in a head",
			format: FormatYAML,
			in:     "organizations:\n  - code: HN\n    name: Hà Nội\n    level: province\n    head: {name: A, phone: 1}\n",
			want:   "f.yaml:5: head.phone: unknown field; head has name, title, contact",
		},
		{
			name:   "unknown field in a system and a resource",
			format: FormatYAML,
			in: "systems:\n  - id: s\n    org: HN\n    name: S\n    level: 1\n    stage: test\n    owner: x\n" +
				"    resources:\n      - id: dns:a.vn\n        system: s\n",
			want: "f.yaml:7: owner: unknown field; a system has id, org, name, purpose, level, level_approved, stage, data_classes, operator, resources\n" +
				"f.yaml:10: system: unknown field; a resource has id, scope, scope_reason, verified_at",
		},
		{
			name:   "field given twice",
			format: FormatYAML,
			in:     "organizations:\n  - code: HN\n    name: Hà Nội\n    code: HN2\n    level: province\n",
			want:   "f.yaml:4: code: is given twice (first at line 2)",
		},
		{
			name:   "alias",
			format: FormatYAML,
			in:     "organizations:\n  - code: &c HN\n    name: *c\n    level: province\n",
			want:   "f.yaml:3: name: YAML aliases (*name) are not supported; write the value out\nf.yaml:3: name: is required",
		},
		{
			name:   "wrong shapes",
			format: FormatYAML,
			in:     "organizations: HN\nsystems:\n  - x\n",
			want:   "f.yaml:1: organizations: must be a list (items starting with \"- \")\nf.yaml:3: systems: must be a mapping (id: …, org: …, name: …)",
		},
		{
			name:   "organization level",
			format: FormatYAML,
			in:     "organizations:\n  - code: HN\n    name: Hà Nội\n    level: provence\n",
			want:   `f.yaml:4: level: "provence" is not one of central, ministry, province, department, district, commune`,
		},
		{
			name:   "organization level csv",
			format: FormatCSV,
			in:     csvHeader + "organization,HN,Hà Nội,Province,,,,,,,,,,,,,,,\n",
			want:   `f.csv:2: level: "Province" is not one of central, ministry, province, department, district, commune`,
		},
		{
			name:   "system security level",
			format: FormatYAML,
			in: "systems:\n  - id: a\n    org: HN\n    name: A\n    level: 7\n    stage: test\n" +
				"  - id: b\n    org: HN\n    name: B\n    level: ba\n    stage: test\n",
			want: "f.yaml:5: level: security level must be 1 to 5, got 7\n" +
				"f.yaml:10: level: \"ba\" is not a number; the security level is 1 to 5\n" +
				"f.yaml:10: level: security level must be 1 to 5, got 0",
		},
		{
			name:   "system security level csv",
			format: FormatCSV,
			in:     csvHeader + "system,,A,0,,,,,a,HN,,,test,,,,,,\n",
			want:   "f.csv:2: level: security level must be 1 to 5, got 0",
		},
		{
			name:   "system fields",
			format: FormatYAML,
			in:     "systems:\n  - id: a b\n    name: A\n    level: 2\n    level_approved: có\n    stage: live\n    data_classes: [personal, secret]\n",
			want: "f.yaml:2: id: \"a b\" may hold only ASCII letters, digits, '.', '-' and '_'\n" +
				"f.yaml:2: org: is required\n" +
				"f.yaml:5: level_approved: \"có\" is not true or false\n" +
				"f.yaml:6: stage: \"live\" is not one of planning, design, build, test, operation, retired\n" +
				"f.yaml:7: data_classes: \"secret\" is not one of personal, sensitive_personal, state_secret",
		},
		{
			name:   "duplicate organization code",
			format: FormatYAML,
			in: "organizations:\n  - code: HN\n    name: Hà Nội\n    level: province\n" +
				"  - code: HN\n    name: Hà Nội 2\n    level: province\n",
			want: `f.yaml:5: code: organization "HN" is defined twice (first at line 2)`,
		},
		{
			name:   "duplicate organization code csv",
			format: FormatCSV,
			in:     csvHeader + "organization,HN,Hà Nội,province,,,,,,,,,,,,,,,\norganization, HN ,Hà Nội,province,,,,,,,,,,,,,,,\n",
			want:   `f.csv:3: code: organization "HN" is defined twice (first at line 2)`,
		},
		{
			name:   "duplicate system id",
			format: FormatCSV,
			in:     csvHeader + "system,,A,1,,,,,a,HN,,,test,,,,,,\nsystem,,A,1,,,,,a,HN,,,test,,,,,,\n",
			want:   `f.csv:3: id: system "a" is defined twice (first at line 2)`,
		},
		{
			name:   "resource listed twice",
			format: FormatYAML,
			in:     "systems:\n  - id: s\n    org: HN\n    name: S\n    level: 1\n    stage: test\n    resources:\n      - dns:a.vn\n      - dns:A.VN.\n",
			want:   "f.yaml:9: id: resource dns:a.vn (written dns:A.VN.) is listed twice (first at line 8)",
		},
		{
			name:   "resource listed twice, Unicode and xn--",
			format: FormatYAML,
			in: "systems:\n  - id: s\n    org: HN\n    name: S\n    level: 1\n    stage: test\n    resources:\n" +
				"      - dns:bộ-y-tế.vn\n      - dns:xn--b-y-t-s61b7g.vn\n",
			want: "f.yaml:9: id: resource dns:xn--b-y-t-s61b7g.vn is listed twice (first at line 8)",
		},
		{
			name:   "resource in two systems",
			format: FormatYAML,
			in: "systems:\n  - id: a\n    org: HN\n    name: A\n    level: 1\n    stage: test\n    resources: [ip:192.0.2.1]\n" +
				"  - id: b\n    org: HN\n    name: B\n    level: 1\n    stage: test\n    resources: ['ip:::ffff:192.0.2.1']\n",
			want: `f.yaml:13: id: resource ip:192.0.2.1 (written ip:::ffff:192.0.2.1) is listed under system "b" and under system "a" (line 7); a resource belongs to one system`,
		},
		{
			name:   "resource in two systems csv",
			format: FormatCSV,
			in:     csvHeader + "resource,,,,,,,,dns:bộ-y-tế.vn,,,,,,,a,,,\nresource,,,,,,,,dns:xn--b-y-t-s61b7g.vn,,,,,,,b,,,\n",
			want:   `f.csv:3: id: resource dns:xn--b-y-t-s61b7g.vn is listed under system "b" and under system "a" (line 2); a resource belongs to one system`,
		},
		{
			name:   "invalid identifiers",
			format: FormatYAML,
			in: "resources:\n  - {id: 'dns:exa mple.vn', system: s}\n  - {id: 'ip:999.1.1.1', system: s}\n" +
				"  - {id: 'url:https://admin:pw@a.vn/', system: s}\n  - {id: a.vn, system: s}\n  - {system: s}\n",
			want: "f.yaml:2: id: \"dns:exa mple.vn\": not a valid domain name (idna: disallowed rune U+0020)\n" +
				"f.yaml:3: id: \"ip:999.1.1.1\": not an IP address\n" +
				"f.yaml:4: id: \"url:https://admin:pw@a.vn/\": credentials do not belong in the inventory; remove the user:password@ part\n" +
				"f.yaml:5: id: \"a.vn\" has no kind prefix; write one of dns:, ip:, cidr:, url:, host:, db:, file:\n" +
				"f.yaml:6: id: is required",
		},
		{
			name:   "invalid identifier and scope on one line",
			format: FormatCSV,
			in:     csvHeader + "resource,,,,,,,,ip:999.1.1.1,,,,,,,s,owned,,\n",
			want: "f.csv:2: id: \"ip:999.1.1.1\": not an IP address\n" +
				"f.csv:2: scope: \"owned\" is not one of unverified, assigned, verified",
		},
		{
			name:   "scope fields",
			format: FormatYAML,
			in: "resources:\n  - {id: dns:a.vn, system: s, scope: assigned}\n  - {id: dns:b.vn, system: s, scope_reason: vì}\n" +
				"  - {id: dns:c.vn, system: s, scope: assigned, scope_reason: x, verified_at: 2026-01-02T03:04:05Z}\n" +
				"  - {id: dns:d.vn, system: s, scope: verified, verified_at: hôm qua}\n  - dns:e.vn\n",
			want: "f.yaml:2: scope_reason: an assigned scope needs the reason an administrator vouched for it\n" +
				"f.yaml:3: scope_reason: give the scope it goes with (scope: assigned, or unverified)\n" +
				"f.yaml:4: verified_at: only a verified resource has a verification time; remove it\n" +
				"f.yaml:5: verified_at: \"hôm qua\" is not an RFC 3339 time such as 2026-03-01T09:30:00+07:00\n" +
				"f.yaml:6: system: is required",
		},
		{
			name:   "cycle in the file",
			format: FormatYAML,
			in: "organizations:\n" +
				"  - {code: A, name: A, level: province, parent: C}\n" +
				"  - {code: B, name: B, level: department, parent: A}\n" +
				"  - {code: C, name: C, level: commune, parent: B}\n" +
				"  - {code: D, name: D, level: commune, parent: C}\n" +
				"  - {code: E, name: E, level: commune, parent: E}\n",
			want: `f.yaml:2: parent: making "C" the parent of "A" would create a cycle (A → C → B → A)` + "\n" +
				`f.yaml:6: parent: an organization cannot be its own parent`,
		},
		{
			name:   "cycle above the organization walked first",
			format: FormatYAML,
			in: "organizations:\n" +
				"  - {code: D, name: D, level: commune, parent: B}\n" +
				"  - {code: B, name: B, level: department, parent: C}\n" +
				"  - {code: C, name: C, level: department, parent: B}\n",
			want: `f.yaml:3: parent: making "C" the parent of "B" would create a cycle (B → C → B)`,
		},
		{
			name:   "cycle in the file csv",
			format: FormatCSV,
			in:     csvHeader + "organization,A,A,province,B,,,,,,,,,,,,,,\norganization,B,B,province,A,,,,,,,,,,,,,,\n",
			want:   `f.csv:2: parent: making "B" the parent of "A" would create a cycle (A → B → A)`,
		},
		{
			name:   "csv unknown and repeated columns",
			format: FormatCSV,
			in:     "type,code,name,level,colour,code\norganization,HN,Hà Nội,province,đỏ,HN\n",
			want: "f.csv:1: colour: unknown column; the columns are " + strings.TrimSpace(csvHeader) + "\n" +
				"f.csv:1: code: the header names this column twice",
		},
		{
			name:   "csv without type column",
			format: FormatCSV,
			in:     "code,name,level\nHN,Hà Nội,province\n",
			want:   "f.csv:1: type: the header has no type column; the first line must name the columns: " + strings.TrimSpace(csvHeader),
		},
		{
			name:   "csv rows",
			format: FormatCSV,
			in: csvHeader + "organization,HN,Hà Nội,province,,,,,,,,,,,,,,\n" + // one field short
				"org,HN,Hà Nội,province,,,,,,,,,,,,,,,\n" +
				"organization,HN,Hà Nội,province,,,,,x,,,,,,,,assigned,,\n" +
				"resource,,,,,,,,dns:a.vn,,,,,,,s,,,\n",
			want: "f.csv:2: the row has 18 fields, the header 19\n" +
				"f.csv:3: type: \"org\" is not one of organization, system, resource\n" +
				"f.csv:4: id: does not apply to an organization; leave it empty\n" +
				"f.csv:4: scope: does not apply to an organization; leave it empty",
		},
		{
			name:   "csv not UTF-8",
			format: FormatCSV,
			in:     csvHeader + "organization,HN,H\xe0 N\xf4\xef,province,,,,,,,,,,,,,,,\n",
			want:   "f.csv:2: name: is not valid UTF-8; save the file as \"CSV UTF-8\"",
		},
		{
			name:   "csv syntax",
			format: FormatCSV,
			in:     csvHeader + "organization,HN,\"Hà Nội,province,,,,,,,,,,,,,,,\n",
			want:   "f.csv:2: not valid CSV: extraneous or missing \" in quoted-field",
		},
		{
			name:   "every error at once",
			format: FormatYAML,
			in: "organizations:\n" +
				"  - {code: HN, name: Hà Nội, level: province}\n" +
				"  - {code: HN, name: Hà Nội, level: tỉnh}\n" +
				"systems:\n" +
				"  - {id: s, org: HN, name: S, level: 6, stage: test, resources: [dns:exa mple.vn, ip:192.0.2.1, ip:192.0.2.1]}\n",
			want: `f.yaml:3: level: "tỉnh" is not one of central, ministry, province, department, district, commune` + "\n" +
				`f.yaml:3: code: organization "HN" is defined twice (first at line 2)` + "\n" +
				`f.yaml:5: level: security level must be 1 to 5, got 6` + "\n" +
				`f.yaml:5: id: "dns:exa mple.vn": not a valid domain name (idna: disallowed rune U+0020)` + "\n" +
				`f.yaml:5: id: resource ip:192.0.2.1 is listed twice (first at line 5)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "f." + string(tt.format)
			_, err := ParseFile(name, strings.NewReader(tt.in), tt.format)
			if err == nil {
				t.Fatalf("ParseFile succeeded; want\n%s", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("ParseFile:\n got:\n%s\nwant:\n%s", err, tt.want)
			}
			var fe FileErrors
			if !errors.As(err, &fe) || !errs.Is(err, errs.Invalid) {
				t.Errorf("error %T is not FileErrors of kind invalid", err)
			}
			if msg, _ := errs.Message(err); msg != tt.want {
				t.Errorf("errs.Message = %q, want the whole list", msg)
			}
		})
	}
}

// TestParseFileAccepts covers the forms the format allows besides the fixtures.
func TestParseFileAccepts(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		in     string
		want   Inventory
	}{
		{"empty yaml", FormatYAML, "", Inventory{}},
		{"only comments", FormatYAML, "# nothing yet\n", Inventory{}},
		{"version only", FormatYAML, "version: 1\n", Inventory{}},
		{"empty csv", FormatCSV, "", Inventory{}},
		{"csv header only", FormatCSV, "type,id,system\n", Inventory{}},
		{
			name:   "yaml BOM, nulls, top-level resources",
			format: FormatYAML,
			in: "\uFEFFversion: 1\norganizations:\n  - {code: HN, name: Hà Nội, level: province, parent: ~, head: ~}\n" +
				"resources:\n  - {id: 'DNS:Hà-Nội.VN', system: stored-system, scope: unverified, scope_reason: chưa rõ}\n",
			want: Inventory{
				Orgs:      []Organization{{Code: "HN", Name: "Hà Nội", Level: LevelProvince}},
				Resources: []Resource{{ID: "dns:xn--h-ni-0na4517b.vn", System: "stored-system", Scope: ScopeUnverified, ScopeReason: "chưa rõ"}},
			},
		},
		{
			name:   "csv from a Vietnamese spreadsheet: BOM, ';', CRLF, some columns, any order",
			format: FormatCSV,
			in:     "\uFEFFType;System;ID;Scope;Scope_Reason\r\nresource;s;dns:a.vn;assigned;\"Quyết định 1; ngày 2\"\r\nresource;s;ip:192.0.2.1;;\r\n",
			want: Inventory{Resources: []Resource{
				{ID: "dns:a.vn", System: "s", Scope: ScopeAssigned, ScopeReason: "Quyết định 1; ngày 2"},
				{ID: "ip:192.0.2.1", System: "s", Scope: ScopeUnverified},
			}},
		},
		{
			name:   "verified with its time",
			format: FormatCSV,
			in:     "type,id,system,scope,scope_reason,verified_at\nresource,dns:a.vn,s,verified,dns-txt,2026-01-02T10:04:05.5+07:00\n",
			want: Inventory{Resources: []Resource{{ID: "dns:a.vn", System: "s", Scope: ScopeVerified, ScopeReason: "dns-txt",
				VerifiedAt: time.Date(2026, 1, 2, 3, 4, 5, 5e8, time.UTC)}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFile("f", strings.NewReader(tt.in), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseFile =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParseFileTooLarge(t *testing.T) {
	r := io.MultiReader(strings.NewReader("version: 1\n# "), bytes.NewReader(bytes.Repeat([]byte("x"), MaxFileSize)))
	_, err := ParseFile("big.yaml", r, FormatYAML)
	if want := "big.yaml: the file is larger than 32 MiB; split it into several imports"; err == nil || err.Error() != want {
		t.Errorf("ParseFile = %v, want %q", err, want)
	}
}

// FuzzParseFile checks that ParseFile never panics, and that whatever it accepts survives
// WriteFile and a second ParseFile unchanged, in the same bytes.
func FuzzParseFile(f *testing.F) {
	for _, path := range []string{"testdata/valid.yaml", "testdata/valid.csv"} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, strings.HasSuffix(path, ".csv"))
	}
	f.Add([]byte("resources:\n  - {id: dns:a.vn, system: s, scope: verified, scope_reason: x, verified_at: 2026-01-02T03:04:05Z}\n"), false)
	f.Add([]byte("organizations:\n  - {code: A, name: \"x\\ty\", level: province, parent: B, head: {name: \" a \"}}\n"), false)
	f.Add([]byte("type;id;system\nresource;dns:a.vn;s\n"), true)
	f.Add([]byte("type,code,name,level\norganization,A,\"x\r\ny\",commune\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, csv bool) {
		format := FormatYAML
		if csv {
			format = FormatCSV
		}
		inv, err := ParseFile("fuzz", bytes.NewReader(data), format)
		if err != nil {
			var fe FileErrors
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("ParseFile error %T %v is not FileErrors", err, err)
			}
			return
		}
		var out bytes.Buffer
		if err := WriteFile(&out, inv, format); err != nil {
			t.Fatalf("WriteFile: %v", err)
		}
		again, err := ParseFile("fuzz", bytes.NewReader(out.Bytes()), format)
		if err != nil {
			t.Fatalf("ParseFile of WriteFile's output:\n%s\n%v", out.Bytes(), err)
		}
		if a, b := exportOrder(inv), exportOrder(again); !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip changed the inventory:\nbefore %+v\nafter  %+v\nfile:\n%s", a, b, out.Bytes())
		}
		var out2 bytes.Buffer
		if err := WriteFile(&out2, again, format); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), out2.Bytes()) {
			t.Fatalf("second WriteFile differs:\n%s\n---\n%s", out.Bytes(), out2.Bytes())
		}
	})
}

// TestWriteFileText checks that text which YAML or CSV would read as something else (numbers,
// booleans, nulls, comments, indicators, line breaks, leading spaces) comes back unchanged.
func TestWriteFileText(t *testing.T) {
	texts := []string{
		"", "123", "0x1F", "1e3", "true", "No", "yes", "null", "~", "2026-01-01", " leading", "trailing ", "a: b",
		"- x", "#x", "x #y", "'q'", `"dq"`, "multi\nline", "multi\nline\n", "\n", "\ttab", "@at", "`bt", "%pct",
		"!bang", "&amp", "*star", "[x]", "{x}", "x,y", "x;y", "=SUM(A1)", "Ủy ban nhân dân", "\u00a0nbsp",
		"line\u2028sep", "mid\ufeffbom", "---", "...", "? q", "| p", "> f",
	}
	for _, f := range []Format{FormatYAML, FormatCSV} {
		var inv Inventory
		for i, s := range texts {
			code := fmt.Sprintf("O%02d", i)
			inv.Orgs = append(inv.Orgs, Organization{Code: code, Name: "x" + s + "x", Level: LevelCommune,
				Head: Person{Name: s, Title: s, Contact: s}})
			id := fmt.Sprintf("s%02d", i)
			inv.Systems = append(inv.Systems, System{ID: id, Org: code, Name: "n", Purpose: s, Operator: s, Level: 1, Stage: StageTest})
			r := Resource{ID: fmt.Sprintf("host:h%02d", i), System: id, Scope: ScopeUnverified, ScopeReason: s}
			if strings.TrimSpace(s) != "" {
				r.Scope = ScopeAssigned
			}
			inv.Resources = append(inv.Resources, r)
		}
		var b bytes.Buffer
		if err := WriteFile(&b, inv, f); err != nil {
			t.Fatal(err)
		}
		got, err := ParseFile("t", bytes.NewReader(b.Bytes()), f)
		if err != nil {
			t.Fatalf("%s: %v\n%s", f, err, b.Bytes())
		}
		if want := exportOrder(inv); !reflect.DeepEqual(exportOrder(got), want) {
			for i := range want.Orgs {
				if got.Orgs[i] != want.Orgs[i] {
					t.Errorf("%s: %+v\nbecame %+v", f, want.Orgs[i], got.Orgs[i])
				}
			}
			t.Errorf("%s: round trip changed text", f)
		}
	}
}
