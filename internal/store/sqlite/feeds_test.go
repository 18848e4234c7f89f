package sqlite

import (
	"testing"

	"github.com/khien-vn/khien/internal/store/storetest"
)

func TestFeeds(t *testing.T) {
	storetest.RunFeeds(t, func(t *testing.T) storetest.FeedStore { return openMigrated(t) })
}
