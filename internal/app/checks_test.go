package app

import (
	"slices"
	"testing"

	"github.com/khien-vn/khien/internal/check"
)

// TestFamiliesCoverCatalog keeps the families and the catalog in step: every check a family
// runs is in the catalog, and every catalog entry is run by exactly one family.
func TestFamiliesCoverCatalog(t *testing.T) {
	cat, err := check.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, f := range Families(FamilyOptions{}) {
		for _, id := range f.CheckIDs() {
			if _, ok := cat.Def(id); !ok {
				t.Errorf("family %s runs %s, which is not in the catalog", f.FamilyName(), id)
			}
			if other, dup := seen[id]; dup {
				t.Errorf("%s is run by both %s and %s", id, other, f.FamilyName())
			}
			seen[id] = f.FamilyName()
		}
	}
	var missing []string
	for _, d := range cat.All() {
		if _, ok := seen[d.ID]; !ok {
			missing = append(missing, d.ID)
		}
	}
	if len(missing) > 0 {
		t.Errorf("catalog entries no family runs: %v", missing)
	}
	if !slices.Contains(Families(FamilyOptions{})[0].CheckIDs(), "tls.protocol.ssl3") {
		t.Error("families are not in catalog order")
	}
}
