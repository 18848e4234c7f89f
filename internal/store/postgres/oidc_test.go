package postgres

import (
	"testing"

	"github.com/khien-vn/khien/internal/store/storetest"
)

func TestOIDCContract(t *testing.T) {
	storetest.RunOIDC(t, func(t *testing.T) storetest.OIDCStore {
		dsn, admin := server(t)
		db := openFresh(t, dsn, admin)
		if _, err := db.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate() = %v", err)
		}
		return db
	})
}
