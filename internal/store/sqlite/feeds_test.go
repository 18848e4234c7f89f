package sqlite

import (
	"testing"

	"github.com/khien-vn/khien/internal/assurance"
	"github.com/khien-vn/khien/internal/store/storetest"
)

func TestFeeds(t *testing.T) {
	storetest.RunFeeds(t, func(t *testing.T) storetest.FeedStore { return openMigrated(t) })
}

func TestAssurance(t *testing.T) {
	storetest.RunAssurance(t, func(t *testing.T) assurance.Store { return openMigrated(t) })
}
