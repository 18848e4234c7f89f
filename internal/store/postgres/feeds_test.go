package postgres

import (
	"testing"

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
