package cli

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/queue"
	"github.com/khien-vn/khien/internal/queue/queuetest"
)

// BenchmarkScaleOut assesses one batch of loopback web hosts (KHIEN_BENCH_HOSTS, default
// 10,000, each on an address of its own in 127.78.0.0/16) with each deployment, every job
// KHIEN_BENCH_CONCURRENCY (default 32) at a time per process:
//
//	inprocess-sqlite    `khien serve` on SQLite, running the jobs itself (the single binary)
//	inprocess-postgres  the same on PostgreSQL
//	jetstream-N         `khien serve --nats` scheduling, N `khien worker` processes running the jobs
//
// It reports jobs/s over the batch, from the start of its first run to the end of its last as
// the store records them, so start-up is not counted. Run it with
//
//	KHIEN_TEST_POSTGRES=… KHIEN_TEST_NATS=… go test ./internal/cli -run '^$' -bench ScaleOut -benchtime 1x -timeout 2h
func BenchmarkScaleOut(b *testing.B) {
	hosts := envInt(b, "KHIEN_BENCH_HOSTS", 10_000)
	concurrency := envInt(b, "KHIEN_BENCH_CONCURRENCY", 32)
	queuetest.Postgres(b) // skip (or fail under CI) early without the services
	queuetest.NATS(b)
	ids, _ := startTargets(b, hosts, 0)
	cases := []struct {
		name    string
		backend string
		sqlite  bool
		workers int // worker processes; 0: the server runs the jobs
	}{
		{"inprocess-sqlite", "local", true, 0},
		{"inprocess-postgres", "local", false, 0},
		{"jetstream-1", "jetstream", false, 1},
		{"jetstream-2", "jetstream", false, 2},
		{"jetstream-4", "jetstream", false, 4},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			dsn := filepath.Join(b.TempDir(), "k.db")
			if !tc.sqlite {
				dsn = queuetest.Postgres(b)
			}
			c := deploy(b, tc.backend, dsn, ids)
			c.ackWait = queue.DefaultAckWait
			var procs []*proc
			if tc.workers == 0 {
				procs = append(procs, c.serverWith("server", concurrency))
			} else {
				for i := range tc.workers {
					procs = append(procs, c.worker(fmt.Sprintf("worker-%d", i+1), c.dsn, concurrency))
				}
				procs = append(procs, c.server("server"))
			}
			var runs int
			var first, last time.Time
			eventually(b, 2*time.Hour, "every host assessed", func() bool {
				runs, first, last = c.runWindow(driver(tc.sqlite))
				time.Sleep(400 * time.Millisecond)
				return runs >= hosts
			})
			for _, p := range procs {
				p.stop(b)
			}
			secs := last.Sub(first).Seconds()
			b.ReportMetric(float64(runs)/secs, "jobs/s")
			b.ReportMetric(secs, "s/batch")
			b.Logf("%s: %d hosts in %.1fs, %.0f jobs/s (%d processes × %d at a time)",
				tc.name, runs, secs, float64(runs)/secs, max(tc.workers, 1), concurrency)
		})
	}
}

func driver(sqlite bool) string {
	if sqlite {
		return "sqlite"
	}
	return "pgx"
}

// runWindow returns how many runs the store holds, when the first began and the last ended.
func (c *cluster) runWindow(driver string) (n int, first, last time.Time) {
	c.t.Helper()
	db, err := sql.Open(driver, c.dsn)
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	var lo, hi any
	if err := db.QueryRowContext(c.t.Context(), `SELECT count(*), min(started), max(finished) FROM runs`).Scan(&n, &lo, &hi); err != nil {
		c.t.Fatal(err)
	}
	return n, timeOf(lo), timeOf(hi)
}

// timeOf reads a time as either driver returns it: a time.Time, or RFC 3339 text.
func timeOf(v any) time.Time {
	switch v := v.(type) {
	case time.Time:
		return v
	case string:
		t, _ := time.Parse(time.RFC3339Nano, v)
		return t
	case []byte:
		t, _ := time.Parse(time.RFC3339Nano, string(v))
		return t
	}
	return time.Time{}
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}
