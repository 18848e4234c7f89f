package postgres

import (
	"context"
	"testing"

	"github.com/khien-vn/khien/internal/store/storetest"
)

// openRaw opens a migrated store in a fresh schema with a way to run any statement in it, as
// an attacker holding the database could.
func openRaw(t *testing.T) (storetest.AuthStore, storetest.Raw) {
	dsn, admin := server(t)
	db := openFresh(t, dsn, admin)
	if _, err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
	return db, storetest.Raw{
		Exec: func(ctx context.Context, q string) error {
			_, err := db.db.ExecContext(ctx, q)
			return err
		},
		Unguard: []string{"DROP TRIGGER audit_log_append_only ON audit_log"},
	}
}

func TestAuthContract(t *testing.T)  { storetest.RunAuth(t, openRaw) }
func TestAuditContract(t *testing.T) { storetest.RunAudit(t, openRaw) }
