package sqlite

import (
	"testing"

	"github.com/khien-vn/khien/internal/store/storetest"
)

func TestOIDCContract(t *testing.T) {
	storetest.RunOIDC(t, func(t *testing.T) storetest.OIDCStore { return openMigrated(t) })
}
