package check

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// specIDs reads the ids of the minimum catalog. The copy in testdata is compared with
// shared/spec/checks.yaml when that file is beside the repository, as it is in CI.
func specIDs(t *testing.T) []struct{ ID, Severity, VI, EN string } {
	t.Helper()
	b, err := os.ReadFile("testdata/spec-checks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if shared, err := os.ReadFile("../../../shared/spec/checks.yaml"); err == nil && !bytes.Equal(shared, b) {
		t.Errorf("testdata/spec-checks.yaml differs from shared/spec/checks.yaml; copy the new spec in and add its checks")
	}
	var doc struct {
		Checks []struct{ ID, Severity, VI, EN string }
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Checks
}

func TestCatalogCoversSpec(t *testing.T) {
	cat, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	spec := specIDs(t)
	if len(spec) != 45 {
		t.Errorf("spec has %d checks, want 45", len(spec))
	}
	for _, s := range spec {
		d, ok := cat.Def(s.ID)
		if !ok {
			t.Errorf("%s: in the spec, missing from the catalog", s.ID)
			continue
		}
		if string(d.Severity) != s.Severity || d.Title.VI != s.VI || d.Title.EN != s.EN {
			t.Errorf("%s: severity/title differ from the spec: %s %q %q", s.ID, d.Severity, d.Title.VI, d.Title.EN)
		}
	}
	for _, d := range cat.All() {
		for _, text := range []string{d.Remediation.VI, d.Remediation.EN} {
			if strings.Contains(text, "TODO") || len(text) < 40 {
				t.Errorf("%s: remediation %q is not a real instruction", d.ID, text)
			}
		}
		if len(d.References) == 0 {
			t.Errorf("%s: no references", d.ID)
		}
	}
}

func TestParseCatalogErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"duplicate", "checks:\n- {id: a.b, severity: low, title: {vi: x, en: x}, remediation: {vi: y, en: y}}\n- {id: a.b, severity: low, title: {vi: x, en: x}, remediation: {vi: y, en: y}}\n", "a.b: duplicate id"},
		{"bad severity", "checks:\n- {id: a.b, severity: severe, title: {vi: x, en: x}, remediation: {vi: y, en: y}}\n", `a.b: severity "severe" is not one of`},
		{"no english", "checks:\n- {id: a.b, severity: low, title: {vi: x}, remediation: {vi: y, en: y}}\n", "a.b: title needs both vi and en"},
		{"unknown field", "checks:\n- {id: a.b, severty: low}\n", "field severty not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCatalog([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseCatalog = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
