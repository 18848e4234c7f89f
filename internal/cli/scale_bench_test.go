package cli

import (
	"cmp"
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

// The scale-out benchmarks assess one batch of hosts with each deployment, every process
// running KHIEN_BENCH_CONCURRENCY jobs at a time (default 32):
//
//	inprocess-sqlite    `khien serve` on SQLite, running the jobs itself (the single binary)
//	inprocess-postgres  the same on PostgreSQL
//	jetstream-N         `khien serve --nats` scheduling, N `khien worker` processes running the jobs
//
// They report jobs/s over the batch, from the start of its first run to the end of its last
// as the store records them, so start-up is not counted. See docs/benchmarks.md. Run with
//
//	KHIEN_TEST_POSTGRES=… KHIEN_TEST_NATS=… go test ./internal/cli -run '^$' -bench ScaleOut -benchtime 1x -timeout 2h

// deployments are the configurations each benchmark compares.
var deployments = []struct {
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

// BenchmarkScaleOut measures the queue and the store: KHIEN_BENCH_HOSTS (default 10,000) web
// hosts, each on a loopback address of its own in 127.78.0.0/16, answering every request
// after KHIEN_BENCH_DELAY (default none; "50ms" stands for a distant network), assessed by
// the passive families that apply to a URL (HTTP, vulnerabilities, page data).
func BenchmarkScaleOut(b *testing.B) {
	hosts := envInt(b, "KHIEN_BENCH_HOSTS", 10_000)
	delay, err := time.ParseDuration(cmp.Or(os.Getenv("KHIEN_BENCH_DELAY"), "0s"))
	if err != nil {
		b.Fatalf("KHIEN_BENCH_DELAY: %v", err)
	}
	queuetest.Postgres(b) // skip (or fail under CI) early without the services
	queuetest.NATS(b)
	ids, _ := startTargets(b, hosts, delay)
	for _, d := range deployments {
		b.Run(d.name, func(b *testing.B) {
			dsn := filepath.Join(b.TempDir(), "k.db")
			if !d.sqlite {
				dsn = queuetest.Postgres(b)
			}
			measure(b, deploy(b, d.backend, dsn, ids), d.sqlite, d.workers, hosts)
		})
	}
}

// BenchmarkScaleOutLab measures with realistic jobs: KHIEN_BENCH_HOSTS (default 2,000) typical
// agency sites of `khien lab --hosts` (HTTPS with the lab's CA, HTTP, DNS, mail; every family
// of the catalog, active ones included, as their ownership is proven), and the lab's scenario
// hosts, on 127.79.0.0/16. It needs root, for the lab's standard ports. The lab registers its hosts in one
// PostgreSQL schema, which is emptied of assessments before each deployment; the SQLite
// deployment is left out.
func BenchmarkScaleOutLab(b *testing.B) {
	hosts := envInt(b, "KHIEN_BENCH_HOSTS", 2_000)
	dsn := queuetest.Postgres(b)
	queuetest.NATS(b)
	ca := filepath.Join(b.TempDir(), "lab-ca.pem")
	// A network of its own, so as not to meet a lab someone else runs on the default one.
	lab := start(b, "lab", "--db", dsn, "lab", "--hosts", strconv.Itoa(hosts), "--ca-out", ca, "--prefix", "127.79.0.0/16")
	eventually(b, 30*time.Minute, "the lab registers its hosts", func() bool {
		select {
		case <-lab.done:
			b.Fatal("the lab stopped")
		default:
		}
		return lab.logged("Ctrl+C") > 0
	})
	resolver := "127.79.0.53:53"
	for _, d := range deployments {
		if d.sqlite {
			continue
		}
		b.Run(d.name, func(b *testing.B) {
			db, err := sql.Open("pgx", dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if _, err := db.ExecContext(b.Context(), `TRUNCATE runs, results, findings, finding_events, schedules, jobs`); err != nil {
				b.Fatal(err)
			}
			var due int
			if err := db.QueryRowContext(b.Context(), `SELECT count(*) FROM resources r JOIN systems s ON s.id = r.system
				WHERE r.scope IN ('verified', 'assigned') AND s.stage <> 'retired'`).Scan(&due); err != nil {
				b.Fatal(err)
			}
			c := deploy(b, d.backend, dsn, nil)
			c.extra = []string{"--resolver", resolver, "--ca-file", ca}
			measure(b, c, false, d.workers, due)
		})
	}
}

// measure starts the deployment's processes on c (the workers first, so that they are
// waiting when the server enqueues), waits for want runs and reports the throughput.
func measure(b *testing.B, c *cluster, sqlite bool, workers, want int) {
	concurrency := envInt(b, "KHIEN_BENCH_CONCURRENCY", 32)
	c.ackWait = queue.DefaultAckWait
	var procs []*proc
	if workers == 0 {
		procs = append(procs, c.serverWith("server", concurrency))
	} else {
		for i := range workers {
			procs = append(procs, c.worker(fmt.Sprintf("worker-%d", i+1), c.dsn, concurrency))
		}
		procs = append(procs, c.server("server"))
	}
	driver := "pgx"
	if sqlite {
		driver = "sqlite"
	}
	var runs int
	var first, last time.Time
	eventually(b, 2*time.Hour, "every host assessed", func() bool {
		time.Sleep(400 * time.Millisecond)
		runs, first, last = c.runWindow(driver)
		return runs >= want
	})
	for _, p := range procs {
		p.stop(b)
	}
	secs := last.Sub(first).Seconds()
	b.ReportMetric(float64(runs)/secs, "jobs/s")
	b.ReportMetric(secs, "s/batch")
	if !sqlite {
		bytes, results := c.runBytes()
		b.ReportMetric(float64(bytes)/float64(runs), "B/run")
		b.ReportMetric(float64(results)/float64(runs), "results/run")
	}
	b.Logf("%d hosts in %.1fs: %.0f jobs/s (%d processes × %d at a time)", runs, secs, float64(runs)/secs,
		max(workers, 1), concurrency)
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

// runBytes returns the space PostgreSQL takes for the runs and their results, indexes
// included: what every run adds for good (findings and their events grow with what changes);
// and how many results there are.
func (c *cluster) runBytes() (bytes, results int64) {
	c.t.Helper()
	db, err := sql.Open("pgx", c.dsn)
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRowContext(c.t.Context(),
		`SELECT pg_total_relation_size('runs') + pg_total_relation_size('results'), (SELECT count(*) FROM results)`).
		Scan(&bytes, &results); err != nil {
		c.t.Fatal(err)
	}
	return bytes, results
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
