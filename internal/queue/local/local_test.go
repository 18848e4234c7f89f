package local_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/queue/local"
	"github.com/khien-vn/khien/internal/queue/queuetest"
	"github.com/khien-vn/khien/internal/store/postgres"
	"github.com/khien-vn/khien/internal/store/sqlite"
)

// store is what the tests need of a backend: the jobs table, its schema and a way to close
// it (Kill closes it under a running worker, as a killed process drops its connections).
type store interface {
	local.Store
	Migrate(ctx context.Context) ([]string, error)
	Close() error
}

var features = queuetest.Features{MaxAttempts: 2, AckWait: 2 * time.Second}

// handles returns a function that opens queues over fresh connections from open, each
// closed when t ends, as separate processes sharing one database would.
func handles(t *testing.T, open func() (store, error)) func() queuetest.Queue {
	return func() queuetest.Queue {
		st, err := open()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if _, err := st.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return &handle{Queue: local.New(st, local.Options{Lease: features.AckWait, MaxAttempts: features.MaxAttempts,
			Poll: 100 * time.Millisecond}), st: st}
	}
}

// handle is a queue that remembers its store, so that Kill can close it.
type handle struct {
	*local.Queue
	st store
}

func kill(q queuetest.Queue) { q.(*handle).st.Close() }

func TestContractSQLite(t *testing.T) {
	f := features
	f.Kill = kill
	queuetest.Run(t, func(t *testing.T) func() queuetest.Queue {
		path := filepath.Join(t.TempDir(), "k.db")
		return handles(t, func() (store, error) { return sqlite.Open(context.Background(), path) })
	}, f)
}

func TestContractPostgres(t *testing.T) {
	f := features
	f.Kill = kill
	queuetest.Run(t, func(t *testing.T) func() queuetest.Queue {
		dsn := queuetest.Postgres(t)
		return handles(t, func() (store, error) { return postgres.Open(context.Background(), dsn) })
	}, f)
}
