package app

import (
	"github.com/khien-vn/khien/internal/check"
)

// FamilyOptions tunes the check families; zero values take each family's defaults. The lab
// maps well-known ports to high loopback ports through it.
type FamilyOptions struct {
}

// Families lists every check family, explicitly and in catalog order (no init() registration).
func Families(o FamilyOptions) []check.Runner {
	return []check.Runner{}
}
