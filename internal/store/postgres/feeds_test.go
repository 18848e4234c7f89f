package postgres

import (
	"testing"

	"github.com/khien-vn/khien/internal/assurance"
	"github.com/khien-vn/khien/internal/store/storetest"
)

func TestFeeds(t *testing.T) {
	dsn, admin := server(t)
	storetest.RunFeeds(t, func(t *testing.T) storetest.FeedStore {
		db := openFresh(t, dsn, admin)
		if _, err := db.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate() = %v", err)
		}
		return db
	})
}

func TestAssurance(t *testing.T) {
	dsn, admin := server(t)
	storetest.RunAssurance(t, func(t *testing.T) assurance.Store {
		db := openFresh(t, dsn, admin)
		if _, err := db.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate() = %v", err)
		}
		return db
	})
}
