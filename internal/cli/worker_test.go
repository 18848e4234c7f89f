package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/queue"
	"github.com/khien-vn/khien/internal/queue/queuetest"
)

// These tests run Khiên scaled out as it is deployed: `khien serve` and `khien worker`
// processes of the real binary, on the PostgreSQL of KHIEN_TEST_POSTGRES (a fresh schema)
// and the NATS of KHIEN_TEST_NATS (a fresh prefix), or on the store's own job table. They
// kill processes with SIGKILL mid-batch and check through the store that every resource has
// exactly one run per slot and that no job was lost. The targets are slow web servers on
// 127.78.0.0/16; every process is fenced to loopback.

var khienBinary struct {
	once sync.Once
	path string
	err  error
}

// binary builds cmd/khien once per test run, or returns KHIEN_TEST_BINARY when that names a
// binary built already.
func binary(t testing.TB) string {
	t.Helper()
	khienBinary.once.Do(func() {
		if p := os.Getenv("KHIEN_TEST_BINARY"); p != "" {
			khienBinary.path = p
			return
		}
		dir, err := os.MkdirTemp("", "khien-bin-")
		if err != nil {
			khienBinary.err = err
			return
		}
		khienBinary.path = filepath.Join(dir, "khien")
		out, err := exec.Command("go", "build", "-o", khienBinary.path, "../../cmd/khien").CombinedOutput()
		if err != nil {
			khienBinary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if khienBinary.err != nil {
		t.Fatal(khienBinary.err)
	}
	return khienBinary.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if khienBinary.path != "" && os.Getenv("KHIEN_TEST_BINARY") == "" {
		os.RemoveAll(filepath.Dir(khienBinary.path))
	}
	os.Exit(code)
}

// proc is a khien process started by a test.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string // its stdout and stderr
	done chan struct{}
}

// start runs the binary with args; it is killed when t ends if still running, and its output
// is shown if t failed (or KHIEN_TEST_LOGS is set).
func start(t testing.TB, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, log: filepath.Join(t.TempDir(), name+".log"), done: make(chan struct{})}
	out, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(binary(t), args...)
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "KHIEN_NET_FENCE=loopback"}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		out.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() || os.Getenv("KHIEN_TEST_LOGS") != "" {
			b, _ := os.ReadFile(p.log)
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("--- %s (%s):\n%s", p.name, strings.Join(args, " "), b)
		}
	})
	return p
}

// kill stops p with SIGKILL, as the kernel's OOM killer or a pulled plug would.
func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop asks p to shut down gracefully, waits for it and checks that it was still running and
// exited with status 0.
func (p *proc) stop(t testing.TB) {
	t.Helper()
	if !p.running() {
		t.Errorf("%s exited before it was stopped: %v", p.name, p.cmd.ProcessState)
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("%s exited with status %d after SIGTERM, want 0", p.name, code)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("%s did not stop within 30s of SIGTERM", p.name)
		p.kill()
	}
}

// running reports whether p has not exited.
func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// logged counts the lines of p's output that contain s.
func (p *proc) logged(s string) int {
	f, err := os.Open(p.log)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			n++
		}
	}
	return n
}

// targets are the web servers a scale-out test assesses.
type targets struct {
	hits atomic.Int64 // requests received

	mu      sync.Mutex
	started map[*http.Request]time.Time // requests being answered, by when they came
}

// answering reports whether a request that came within the last d is still being answered:
// whoever sent it holds its job for at least delay-d more.
func (ts *targets) answering(d time.Duration) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, at := range ts.started {
		if time.Since(at) < d {
			return true
		}
	}
	return false
}

// startTargets starts n web servers on addresses of their own in 127.78.0.0/16, each
// answering every request after delay, and returns their resource ids and what they saw.
func startTargets(t testing.TB, n int, delay time.Duration) ([]string, *targets) {
	t.Helper()
	ts := &targets{started: map[*http.Request]time.Time{}}
	page := []byte("<!doctype html><html lang=vi><head><title>Cổng thông tin</title></head><body>Xin chào</body></html>")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.hits.Add(1)
		ts.mu.Lock()
		ts.started[r] = time.Now()
		ts.mu.Unlock()
		defer func() {
			ts.mu.Lock()
			delete(ts.started, r)
			ts.mu.Unlock()
		}()
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	ids := make([]string, n)
	for i := range n {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.78.%d.%d:0", i/250, 1+i%250))
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		ids[i] = "url:http://" + ln.Addr().String() + "/"
	}
	return ids, ts
}

// cluster is one test's deployment.
type cluster struct {
	t         testing.TB
	backend   string // "jetstream" or "local"
	dsn, nats string
	prefix    string
	resources []string
	targets   *targets // what the targets saw
	app       *app.App // the test's own view of the store and the queue
	ackWait   time.Duration
	extra     []string // more flags for every process
}

// ackWait is the tests' ack wait: short, so that a killed worker's jobs come back soon.
const ackWait = 2 * time.Second

func newCluster(t *testing.T, backend string, n int, delay time.Duration) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts khien processes against PostgreSQL and NATS")
	}
	ids, ts := startTargets(t, n, delay)
	c := deploy(t, backend, queuetest.Postgres(t), ids)
	c.targets = ts
	return c
}

// deploy opens the store at dsn (migrating it) and the queue of backend (a fresh NATS prefix
// for "jetstream", deleted when t ends), and registers resources, if any, in one system, as
// assigned.
func deploy(t testing.TB, backend, dsn string, resources []string) *cluster {
	t.Helper()
	c := &cluster{t: t, backend: backend, dsn: dsn, resources: resources, ackWait: ackWait}
	qc := app.QueueConfig{AckWait: ackWait}
	if backend == "jetstream" {
		c.nats, c.prefix = queuetest.NATS(t), queuetest.Name()
		qc.NATS, qc.Prefix = c.nats, c.prefix
	}
	binary(t)
	log := slog.New(slog.DiscardHandler)
	a, err := app.Open(t.Context(), app.Config{DB: c.dsn, Queue: qc}, log)
	if err != nil {
		t.Fatal(err)
	}
	c.app = a
	t.Cleanup(func() {
		if q, ok := a.Queue.(interface{ Delete(context.Context) error }); ok {
			if err := q.Delete(context.Background()); err != nil {
				t.Errorf("delete the NATS streams of %s: %v", c.prefix, err)
			}
		}
		a.Close()
	})
	now := time.Now().UTC()
	inv := inventory.Inventory{
		Orgs: []inventory.Organization{{Code: "HN", Name: "Hà Nội", Level: inventory.LevelProvince, Created: now, Updated: now}},
		Systems: []inventory.System{{ID: "hn-cong", Org: "HN", Name: "Cổng thông tin", Level: 3,
			Stage: inventory.StageOperation, Created: now, Updated: now}},
	}
	for _, id := range c.resources {
		inv.Resources = append(inv.Resources, inventory.Resource{ID: id, System: "hn-cong", Scope: inventory.ScopeAssigned,
			ScopeReason: "Giám đốc Sở phê duyệt", Created: now, Updated: now})
	}
	if len(resources) == 0 {
		return c
	}
	if err := a.Inventory.ApplyInventory(t.Context(), inv); err != nil {
		t.Fatal(err)
	}
	return c
}

// common are the flags of every process of c.
func (c *cluster) common(dsn string) []string {
	args := []string{"--db", dsn, "--fence", "loopback", "--timeout", "2s", "--ack-wait", c.ackWait.String()}
	if c.nats != "" {
		args = append(args, "--nats", c.nats, "--nats-prefix", c.prefix)
	}
	return append(args, c.extra...)
}

// server starts `khien serve` that schedules onto the queue and runs no job itself.
func (c *cluster) server(name string) *proc {
	return c.serverWith(name, 0)
}

// serverWith starts `khien serve` that runs n jobs at a time itself.
func (c *cluster) serverWith(name string, n int) *proc {
	return start(c.t, name, append([]string{"serve", "--listen", "127.0.0.1:0", "--workers", fmt.Sprint(n)}, c.common(c.dsn)...)...)
}

// worker starts `khien worker` running n jobs at a time, on the store at dsn.
func (c *cluster) worker(name, dsn string, n int) *proc {
	return start(c.t, name, append([]string{"worker", "--concurrency", fmt.Sprint(n)}, c.common(dsn)...)...)
}

func (c *cluster) waiting() int {
	c.t.Helper()
	q := c.app.Queue.(interface {
		Waiting(context.Context) (int, error)
	})
	n, err := q.Waiting(c.t.Context())
	if err != nil {
		c.t.Fatal(err)
	}
	return n
}

// runs returns the runs of every resource.
func (c *cluster) runs() map[string][]assess.RunSummary {
	c.t.Helper()
	out := map[string][]assess.RunSummary{}
	for _, id := range c.resources {
		rs, err := c.app.Assess.Runs(c.t.Context(), id, 100)
		if err != nil {
			c.t.Fatal(err)
		}
		out[id] = rs
	}
	return out
}

// assessed counts the resources with at least one run.
func (c *cluster) assessed() int {
	n := 0
	for _, rs := range c.runs() {
		if len(rs) > 0 {
			n++
		}
	}
	return n
}

// eventually polls cond until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkOneRunEach checks that every resource has exactly one run, a scheduled one in the slot
// its schedule says, with results, and that no job is waiting or dead.
func (c *cluster) checkOneRunEach() {
	c.t.Helper()
	ctx := c.t.Context()
	for id, rs := range c.runs() {
		if len(rs) != 1 {
			var ids []string
			for _, r := range rs {
				ids = append(ids, r.ID)
			}
			c.t.Errorf("%s has %d runs %q, want exactly 1", id, len(rs), ids)
			continue
		}
		r := rs[0]
		if r.Trigger != assess.TriggerSchedule || r.Counts.Pass+r.Counts.Fail+r.Counts.Error == 0 {
			c.t.Errorf("run of %s: %+v", id, r)
		}
		sc, err := c.app.Assess.Schedule(ctx, id)
		if err != nil || !sc.LastRun.Equal(r.Finished) || !sc.NextDue.After(r.Finished) {
			c.t.Errorf("schedule of %s after its run = %+v, %v; want planned from run %s", id, sc, err, r.ID)
		}
	}
	if n := c.waiting(); n != 0 {
		c.t.Errorf("%d jobs still in the queue", n)
	}
	dead, err := c.app.Queue.(interface {
		Dead(context.Context, int) ([]queue.DeadJob, error)
	}).Dead(ctx, 10)
	if err != nil || len(dead) != 0 {
		c.t.Errorf("dead jobs: %+v, %v", dead, err)
	}
}

var backends = []string{"jetstream", "local"}

// TestScaleOutKillWorker kills a worker with SIGKILL while it runs jobs: its jobs go to the
// other worker after the ack wait, and every resource is assessed once.
func TestScaleOutKillWorker(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			c := newCluster(t, backend, 48, 200*time.Millisecond)
			srv := c.server("server")
			eventually(t, 30*time.Second, "the server enqueues every due resource", func() bool { return c.waiting() == len(c.resources) })
			// The victim works alone until it is killed in the middle of a job: it has one
			// when a target is answering a request that came less than 50 ms ago (the
			// targets take 200 ms), since nobody else is asking. The survivor comes after.
			victim := c.worker("victim", c.dsn, 4)
			eventually(t, 60*time.Second, "the victim is done with some jobs", func() bool {
				return victim.logged(`"run done"`) > 0
			})
			deadline := time.Now().Add(30 * time.Second)
			for !c.targets.answering(50 * time.Millisecond) {
				if time.Now().After(deadline) || !victim.running() {
					t.Fatal("the victim never held a job for long enough to be killed in its middle")
				}
				time.Sleep(time.Millisecond)
			}
			victim.kill()
			survivor := c.worker("survivor", c.dsn, 4)
			eventually(t, 120*time.Second, "every resource assessed", func() bool { return c.assessed() == len(c.resources) })
			eventually(t, 30*time.Second, "the queue drains", func() bool { return c.waiting() == 0 })
			survivor.stop(t)
			srv.stop(t)
			c.checkOneRunEach()
			if survivor.logged("job delivered again") == 0 {
				t.Error("the survivor got none of the killed worker's jobs: it had none in hand when it was killed?")
			}
		})
	}
}

// TestScaleOutServerRestart kills the server with SIGKILL once it has queued the batch and
// starts it again: no job is lost, and none is scheduled twice.
func TestScaleOutServerRestart(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			c := newCluster(t, backend, 30, 50*time.Millisecond)
			first := c.server("server-1")
			eventually(t, 30*time.Second, "the server enqueues every due resource", func() bool { return c.waiting() == len(c.resources) })
			first.kill()
			second := c.server("server-2")
			// The restarted server finds the slots leased and queued: it adds nothing.
			time.Sleep(2 * time.Second)
			if n := c.waiting(); n != len(c.resources) {
				t.Errorf("%d jobs queued after the restart, want %d", n, len(c.resources))
			}
			workers := []*proc{c.worker("worker-1", c.dsn, 4), c.worker("worker-2", c.dsn, 4)}
			eventually(t, 120*time.Second, "every resource assessed", func() bool { return c.assessed() == len(c.resources) })
			eventually(t, 30*time.Second, "the queue drains", func() bool { return c.waiting() == 0 })
			for _, w := range workers {
				w.stop(t)
			}
			second.stop(t)
			c.checkOneRunEach()
		})
	}
}

// TestScaleOutDuplicateDelivery delivers every job twice, once while the originals wait (so
// that copies run at the same time as them) and once after they are done.
func TestScaleOutDuplicateDelivery(t *testing.T) {
	c := newCluster(t, "jetstream", 30, 100*time.Millisecond)
	srv := c.server("server")
	eventually(t, 30*time.Second, "the server enqueues every due resource", func() bool { return c.waiting() == len(c.resources) })
	copies := c.duplicateQueued()
	if copies != len(c.resources) || c.waiting() != 2*len(c.resources) {
		t.Fatalf("duplicated %d jobs, %d now queued; want %d and twice that", copies, c.waiting(), len(c.resources))
	}
	workers := []*proc{c.worker("worker-1", c.dsn, 6), c.worker("worker-2", c.dsn, 6)}
	eventually(t, 120*time.Second, "the queue drains", func() bool { return c.waiting() == 0 })
	c.checkOneRunEach()
	before := c.runs()

	// Every job once more, long after it was done (beyond the stream's deduplication: the
	// copies carry message ids of their own).
	for id, rs := range before {
		c.publishCopy(id, rs[0].ID, "late")
	}
	eventually(t, 60*time.Second, "the late copies are handled", func() bool { return c.waiting() == 0 })
	for _, w := range workers {
		w.stop(t)
	}
	srv.stop(t)
	c.checkOneRunEach()
	for id, rs := range c.runs() {
		sc, _ := c.app.Assess.Schedule(t.Context(), id)
		if rs[0].ID != before[id][0].ID || !sc.LastRun.Equal(before[id][0].Finished) {
			t.Errorf("%s: run %s, last run %s after the late copies; want %s and its end", id, rs[0].ID, sc.LastRun, before[id][0].ID)
		}
	}
}

// jetStream connects to the cluster's NATS server for what a test does behind Khiên's back.
func (c *cluster) jetStream() natsjs.JetStream {
	c.t.Helper()
	nc, err := nats.Connect(c.nats)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(nc.Close)
	js, err := natsjs.New(nc)
	if err != nil {
		c.t.Fatal(err)
	}
	return js
}

// duplicateQueued publishes a copy of every queued job under a message id of its own, which
// JetStream's deduplication does not catch, and returns how many it copied.
func (c *cluster) duplicateQueued() int {
	c.t.Helper()
	ctx := c.t.Context()
	js := c.jetStream()
	s, err := js.Stream(ctx, c.prefix+"_jobs")
	if err != nil {
		c.t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	n := 0
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, natsjs.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			c.t.Fatal(err)
		}
		cp := nats.NewMsg(m.Subject)
		cp.Header, cp.Data = m.Header, m.Data
		if _, err := js.PublishMsg(ctx, cp, natsjs.WithMsgID(fmt.Sprintf("copy-%d", seq))); err != nil {
			c.t.Fatal(err)
		}
		n++
	}
	return n
}

// publishCopy publishes the job of resource's slot run runID again, as a redelivery would.
func (c *cluster) publishCopy(resource, runID, tag string) {
	c.t.Helper()
	m := nats.NewMsg(c.prefix + ".jobs." + assess.JobKind)
	m.Header.Set("Khien-Key", runID)
	m.Data = fmt.Appendf(nil, `{"resource":%q,"trigger":"schedule","run_id":%q}`, resource, runID)
	if _, err := c.jetStream().PublishMsg(c.t.Context(), m, natsjs.WithMsgID(tag+"-"+runID)); err != nil {
		c.t.Fatal(err)
	}
}

// TestWorkerLosesDatabase cuts a worker off from PostgreSQL while it runs jobs: it keeps
// them (no acknowledgement, no dead letter), retries with a back-off, and finishes them once
// the database is back, each once.
func TestWorkerLosesDatabase(t *testing.T) {
	c := newCluster(t, "jetstream", 8, 1500*time.Millisecond)
	srv := c.server("server")
	eventually(t, 30*time.Second, "the server enqueues every due resource", func() bool { return c.waiting() == len(c.resources) })
	srv.stop(t)

	u, err := url.Parse(c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, u.Host)
	u.Host = proxy.addr
	w := c.worker("worker", u.String(), len(c.resources))
	js := c.jetStream()
	pending := func() (ack, redelivered int) {
		info, err := js.Consumer(t.Context(), c.prefix+"_jobs", "work_"+strings.ReplaceAll(assess.JobKind, ".", "_"))
		if err != nil {
			return -1, -1
		}
		ci, err := info.Info(t.Context())
		if err != nil {
			return -1, -1
		}
		return ci.NumAckPending, ci.NumRedelivered
	}
	eventually(t, 30*time.Second, "the worker takes every job", func() bool { n, _ := pending(); return n == len(c.resources) })
	// Cut while the targets are being observed: the runs' writes are what fails.
	eventually(t, 30*time.Second, "every target observed", func() bool { return c.targets.hits.Load() >= int64(len(c.resources)) })
	proxy.cut()
	// Long enough for the scans to end and their writes to fail, and for ack waits to pass.
	time.Sleep(3*ackWait + 2*time.Second)
	if n := c.assessed(); n != 0 {
		t.Fatalf("%d runs recorded while the database was cut off", n)
	}
	if ack, again := pending(); ack != len(c.resources) || again != 0 {
		t.Errorf("while the database is away: %d jobs in hand (want %d), %d redelivered (want 0)", ack, len(c.resources), again)
	}
	if w.logged("retrying") == 0 {
		t.Error("the worker did not say it was retrying")
	}
	proxy.restore()
	eventually(t, 90*time.Second, "every resource assessed", func() bool { return c.assessed() == len(c.resources) })
	eventually(t, 30*time.Second, "the queue drains", func() bool { return c.waiting() == 0 })
	w.stop(t)
	c.checkOneRunEach()
}

// proxy is a TCP proxy to the database that a test can cut.
type proxy struct {
	addr     string
	upstream string
	down     atomic.Bool
	mu       sync.Mutex
	conns    map[net.Conn]bool
}

func startProxy(t *testing.T, upstream string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: ln.Addr().String(), upstream: upstream, conns: map[net.Conn]bool{}}
	t.Cleanup(func() {
		ln.Close()
		p.cut()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if p.down.Load() {
				c.Close()
				continue
			}
			go p.pipe(c)
		}
	}()
	return p
}

func (p *proxy) pipe(c net.Conn) {
	u, err := net.Dial("tcp", p.upstream)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[u] = true, true
	p.mu.Unlock()
	go func() { io.Copy(u, c); u.Close() }()
	io.Copy(c, u)
	c.Close()
}

// cut closes every connection through the proxy and refuses new ones.
func (p *proxy) cut() {
	p.down.Store(true)
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *proxy) restore() { p.down.Store(false) }

func TestWorkerUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"arguments", []string{"--db", db, "worker", "extra"}, ExitUsage, "worker takes no arguments"},
		{"no concurrency", []string{"--db", db, "worker", "--concurrency", "0"}, ExitUsage, "--concurrency must be positive"},
		{"short ack wait", []string{"--db", db, "worker", "--ack-wait", "10ms"}, ExitUsage, "--ack-wait must be at least 1s"},
		{"bad prefix", []string{"--db", db, "worker", "--nats", "nats://127.0.0.1:1", "--nats-prefix", "a.b"}, ExitUsage, "may hold only letters"},
		{"NATS down", []string{"--db", db, "worker", "--nats", "nats://127.0.0.1:1"}, ExitError, "connect to NATS at nats://127.0.0.1:1"},
		{"serve, NATS down", []string{"--db", db, "serve", "--listen", "127.0.0.1:0", "--nats", "nats://127.0.0.1:1"}, ExitError, "connect to NATS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, nil, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("khien %v = %d, stderr %q; want %d containing %q", tt.args, code, errOut, tt.code, tt.stderr)
			}
		})
	}
}
