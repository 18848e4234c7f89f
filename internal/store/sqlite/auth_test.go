package sqlite

import (
	"context"
	"testing"

	"github.com/khien-vn/khien/internal/store/storetest"
)

// openRaw is openMigrated with a way to run any statement on the file, as an attacker
// holding it could.
func openRaw(t *testing.T) (storetest.AuthStore, storetest.Raw) {
	db := openMigrated(t)
	return db, storetest.Raw{
		Exec: func(ctx context.Context, q string) error {
			_, err := db.db.ExecContext(ctx, q)
			return err
		},
		Unguard: []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"},
	}
}

func TestAuthContract(t *testing.T)  { storetest.RunAuth(t, openRaw) }
func TestAuditContract(t *testing.T) { storetest.RunAudit(t, openRaw) }
