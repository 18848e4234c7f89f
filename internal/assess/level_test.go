package assess

import (
	"context"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/scope"
)

// levelFamily is an active family that needs only passive authority over file: resources,
// as the data-security family does.
type levelFamily struct{ check.Family[string] }

func (levelFamily) ActiveFor(r inventory.Resource) bool { return r.Kind() != inventory.KindFile }

// TestFamilyLevelPerResource checks that a family whose authority depends on the resource
// (ActiveFor) is authorized per resource: an assigned file location is read, an assigned
// database is refused as an active probe would be.
func TestFamilyLevelPerResource(t *testing.T) {
	f := levelFamily{check.Family[string]{
		Name: "lvl", Active: true,
		Observe: func(context.Context, inventory.Resource, check.Env) (string, error) { return "seen", nil },
		Checks: []check.Check[string]{{ID: "lvl.seen", Evaluate: func(string) check.Result {
			return check.Result{Status: check.Pass}
		}}},
	}}
	s := &Scanner{Guard: scope.New(scope.LoopbackFence(), "", time.Second), Families: []check.Runner{f}}
	tests := []struct {
		id   string
		want check.Status
	}{
		{"file:/srv/share", check.Pass},
		{"db:postgres://127.0.0.1/x", check.Error},
	}
	for _, tt := range tests {
		r := inventory.Resource{ID: tt.id, Scope: inventory.ScopeAssigned, ScopeReason: "test"}
		res := s.ScanOne(t.Context(), r)
		if len(res) != 1 || res[0].Status != tt.want {
			t.Errorf("%s: %+v, want one %s", tt.id, res, tt.want)
		}
	}
}
