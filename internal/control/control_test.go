package control

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/khien-vn/khien/internal/inventory"
)

var inForce = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func mustLoad(t *testing.T) *Catalog {
	t.Helper()
	cat, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cat
}

// specIDs reads the control ids and levels of a skeleton file such as shared/spec/controls.yaml.
func specIDs(t *testing.T, path string) map[string]Scope {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Controls []struct {
			ID    string `yaml:"id"`
			Scope Scope  `yaml:"scope"`
		} `yaml:"controls"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	ids := map[string]Scope{}
	for _, c := range doc.Controls {
		ids[c.ID] = c.Scope
	}
	if len(ids) == 0 {
		t.Fatalf("%s: no controls", path)
	}
	return ids
}

// TestSpecIDsPresent keeps every id of the specification's skeleton in the catalog, with its
// scope: ids are stable forever. The skeleton is read from a testdata copy and, in a checkout
// next to shared/, from the specification itself, so a control added there shows up here.
func TestSpecIDsPresent(t *testing.T) {
	cat := mustLoad(t)
	paths := []string{"testdata/spec-controls.yaml"}
	if _, err := os.Stat("../../../shared/spec/controls.yaml"); err == nil {
		paths = append(paths, "../../../shared/spec/controls.yaml")
	}
	for _, p := range paths {
		for id, scope := range specIDs(t, p) {
			c, ok := cat.Control(id)
			if !ok {
				t.Errorf("%s: control %s is missing from controls.yaml", p, id)
				continue
			}
			if c.Scope != scope {
				t.Errorf("%s: control %s has scope %s, the specification says %s", p, id, c.Scope, scope)
			}
		}
	}
}

func TestCatalogComplete(t *testing.T) {
	cat := mustLoad(t)
	if len(cat.Controls) < 40 {
		t.Errorf("catalog has %d controls, want at least 40", len(cat.Controls))
	}
	for _, c := range cat.Controls {
		if !c.InForce(inForce) {
			t.Errorf("%s is not in force on %s", c.ID, inForce.Format(time.DateOnly))
		}
		if c.Scope == ScopeSystem && c.ID != "sys.level.approved" && c.ID != "sys.rules.issued" && c.ID != "sys.design.security" && c.Validity.IsZero() {
			t.Errorf("%s has no validity: an attestation of it would never lapse", c.ID)
		}
		for _, b := range c.LegalBasis {
			if !strings.Contains(b, "331/2026") && !strings.Contains(b, "116/2025") && !strings.Contains(b, "91/2025") &&
				!strings.Contains(b, "333/2026") && !strings.Contains(b, "356/2025") && !strings.Contains(b, "29/2018") &&
				!strings.Contains(b, "Chỉ thị") && !strings.Contains(b, "Kế hoạch") {
				t.Errorf("%s: legal basis %q names no current instrument", c.ID, b)
			}
		}
		// Section numbers of the standard must come from the group table, never be typed in a
		// description: they shift between levels.
		if strings.Contains(c.Description.VI+c.Description.EN, "§") {
			t.Errorf("%s: description cites a section; use standard.group", c.ID)
		}
	}
	// Every level needs an organization basis and a system basis.
	for level := 1; level <= 5; level++ {
		if n := len(ForOrg(cat.Controls, level, inForce)); n < 6 {
			t.Errorf("level %d: %d organization controls", level, n)
		}
		if n := len(ForSystem(cat.Controls, level, nil, inForce)); n < 10 {
			t.Errorf("level %d: %d system controls", level, n)
		}
	}
}

func TestParseRejects(t *testing.T) {
	base := `version: 1
groups: [{id: policy, vi: x, en: x}]
standard_groups: [{key: IR, sections: ["3.15", "4.15", "5.16", "6.17", "7.17"], vi: x, en: x}]
controls:
`
	ok := `  - {id: %s, scope: %s, group: policy, %s, title: {vi: a, en: a}, description: {vi: a, en: a}, evidence: {vi: a, en: a}, legal_basis: [NĐ 331/2026], valid_from: 2026-08-19}
`
	ctl := func(id, scope, level string) string {
		return strings.NewReplacer("%s, title", level+", title").Replace(
			strings.Replace(strings.Replace(ok, "%s", id, 1), "%s", scope, 1))
	}
	tests := []struct {
		name, doc, want string
	}{
		{"valid", base + ctl("org.a", "organization", "min_level: 1"), ""},
		{"duplicate", base + ctl("org.a", "organization", "min_level: 1") + ctl("org.a", "organization", "min_level: 2"), "duplicate id"},
		{"bad prefix", base + ctl("sys.a", "organization", "min_level: 1"), `starts with "org."`},
		{"bad scope", base + ctl("org.a", "agency", "min_level: 1"), "scope"},
		{"level out of range", base + ctl("org.a", "organization", "min_level: 6"), "min_level must be 1 to 5"},
		{"both level forms", base + ctl("org.a", "organization", "min_level: 1, levels: [2]"), "not both"},
		{"unknown field", base + ctl("org.a", "organization", "min_level: 1, weight: 5"), "field weight not found"},
		{"bad period", base + ctl("org.a", "organization", "min_level: 1, validity: 1 year"), "period"},
		{"unknown standard group", base + ctl("org.a", "organization", "min_level: 1, standard: {group: XX}"), "standard group"},
		{"missing english", strings.Replace(base+ctl("org.a", "organization", "min_level: 1"), "title: {vi: a, en: a}", "title: {vi: a}", 1), "title needs both vi and en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Parse = %v, want ok", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Parse = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestApplicability(t *testing.T) {
	cat := mustLoad(t)
	has := func(cs []Control, id string) bool {
		return slices.ContainsFunc(cs, func(c Control) bool { return c.ID == id })
	}
	tests := []struct {
		name    string
		level   int
		classes []inventory.DataClass
		id      string
		want    bool
	}{
		{"restore test from level 3", 3, nil, "sys.op.restore_test", true},
		{"no restore test at level 2", 2, nil, "sys.op.restore_test", false},
		{"MFA from level 1", 1, nil, "sys.server.admin_mfa", true},
		{"secret isolation needs state secrets", 4, nil, "sys.data.secret_isolation", false},
		{"secret isolation with state secrets", 3, []inventory.DataClass{inventory.DataStateSecret}, "sys.data.secret_isolation", true},
		{"DPIA with personal data", 1, []inventory.DataClass{inventory.DataPersonal}, "sys.data.dpia", true},
		{"no DPIA without personal data", 3, nil, "sys.data.dpia", false},
		{"organization controls never apply to a system", 5, nil, "org.policy.approved", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := has(ForSystem(cat.Controls, tt.level, tt.classes, inForce), tt.id); got != tt.want {
				t.Errorf("ForSystem(level %d, %v) has %s = %v, want %v", tt.level, tt.classes, tt.id, got, tt.want)
			}
		})
	}
	if has(ForOrg(cat.Controls, 2, inForce), "org.incident.drill") || !has(ForOrg(cat.Controls, 3, inForce), "org.incident.drill") {
		t.Error("the incident drill is an organization control from level 3")
	}
	before := time.Date(2026, 8, 18, 0, 0, 0, 0, time.UTC)
	if n := len(ForSystem(cat.Controls, 3, nil, before)); n != 0 {
		t.Errorf("%d controls in force before Decree 331/2026 took effect", n)
	}
	for _, tt := range []struct {
		levels []int
		want   int
	}{{nil, 1}, {[]int{2, 4, 3}, 4}, {[]int{0, 9}, 1}} {
		if got := OrgLevel(tt.levels...); got != tt.want {
			t.Errorf("OrgLevel(%v) = %d, want %d", tt.levels, got, tt.want)
		}
	}
	explicit := Control{Levels: []int{3, 5}}
	if explicit.AppliesAt(4) || !explicit.AppliesAt(5) {
		t.Error("an explicit levels list must be followed as written")
	}
}

func TestStandardRef(t *testing.T) {
	cat := mustLoad(t)
	ir, _ := cat.Control("org.incident.plan")
	for level, want := range map[int]string{1: "§3.15", 3: "§5.16", 4: "§6.17", 5: "§7.17"} {
		if got := cat.StandardRef(ir, level); !strings.Contains(got, want) {
			t.Errorf("StandardRef(incident plan, %d) = %q, want %s", level, got, want)
		}
	}
	mon, _ := cat.Control("sys.op.monitoring")
	if got := cat.StandardRef(mon, 2); got != "TCVN 14423:2026" {
		t.Errorf("level 2 has no monitoring group; got %q", got)
	}
}

func TestValidity(t *testing.T) {
	cat := mustLoad(t)
	from := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		id    string
		level int
		want  time.Time
	}{
		{"org.policy.approved", 1, from.AddDate(1, 0, 0)},
		{"sys.op.backup", 3, from.AddDate(0, 6, 0)},
		{"sys.op.restore_test", 3, from.AddDate(1, 0, 0)},
		{"sys.op.restore_test", 4, from.AddDate(0, 6, 0)},
		{"sys.op.restore_test", 5, from.AddDate(0, 3, 0)},
		{"sys.level.approved", 3, time.Time{}},
	}
	for _, tt := range tests {
		c, ok := cat.Control(tt.id)
		if !ok {
			t.Fatalf("no control %s", tt.id)
		}
		if got := c.ValidUntil(tt.level, from); !got.Equal(tt.want) {
			t.Errorf("%s at level %d: valid until %v, want %v", tt.id, tt.level, got, tt.want)
		}
	}
}

func TestPeriod(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Period
		ok   bool
	}{
		{"P1Y", Period{Years: 1}, true}, {"P6M", Period{Months: 6}, true}, {"P30D", Period{Days: 30}, true},
		{"P1Y6M", Period{Years: 1, Months: 6}, true}, {"", Period{}, true},
		{"P", Period{}, false}, {"1Y", Period{}, false}, {"P6M1Y", Period{}, false}, {"PXM", Period{}, false}, {"P1W", Period{}, false},
	} {
		got, err := ParsePeriod(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParsePeriod(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if tt.ok && got.String() != tt.in {
			t.Errorf("Period(%q).String() = %q", tt.in, got.String())
		}
	}
	b, _ := json.Marshal(struct {
		P Period `json:"p,omitzero"`
		Q Period `json:"q,omitzero"`
	}{P: Period{Months: 3}})
	if string(b) != `{"p":"P3M"}` {
		t.Errorf("JSON = %s", b)
	}
}

// TestCatalogJSONRoundTrip: the index stores the controls it used with its inputs, so a control
// must survive JSON unchanged.
func TestCatalogJSONRoundTrip(t *testing.T) {
	cat := mustLoad(t)
	b, err := json.Marshal(cat.Controls)
	if err != nil {
		t.Fatal(err)
	}
	var back []Control
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	if string(b) != string(b2) {
		t.Error("controls do not survive a JSON round trip")
	}
}

func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"P1Y", "P6M", "P1Y6M30D", "", "P", "P-1Y", "P99999999999999999999Y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeriod(s)
		if err != nil {
			return
		}
		q, err := ParsePeriod(p.String())
		if err != nil || q != p {
			t.Errorf("ParsePeriod(%q) = %v, which does not round-trip: %v %v", s, p, q, err)
		}
	})
}
