package assess_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/finding"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/scope"
	"github.com/khien-vn/khien/internal/store/sqlite"
)

// These tests run the service end to end: a fake family observes loopback listeners through
// the scope guard, and everything is stored in a real SQLite file.

// clock is the time of a test, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// host is a loopback service that sends a banner and hangs up; each resource ip:127.0.0.N
// has its own, listening on 127.0.0.N.
type host struct {
	ip     string
	port   string
	ln     net.Listener
	banner atomic.Pointer[string]
	dials  atomic.Int32 // observations attempted
}

func startHost(t *testing.T, ip, banner string) *host {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	h := &host{ip: ip, ln: ln}
	_, h.port, _ = net.SplitHostPort(ln.Addr().String())
	h.banner.Store(&banner)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, *h.banner.Load())
			c.Close()
		}
	}()
	return h
}

func (h *host) set(banner string) { h.banner.Store(&banner) }

// obs is what the fake family observes.
type obs struct{ banner, endpoint string }

// family reads the banner of the resource's host. svc.banner (critical) fails on SSH-1,
// svc.version (medium) on a banner saying "old". The endpoint names the host and the address
// and port connected to, as real families do.
func family(hosts map[string]*host) check.Family[obs] {
	verdict := func(fail bool, o obs) check.Result {
		r := check.Result{Status: check.Pass, Endpoint: o.endpoint, Evidence: map[string]any{"banner": o.banner},
			Reason: check.Text{VI: "Biểu ngữ: " + o.banner, EN: "banner: " + o.banner}}
		if fail {
			r.Status = check.Fail
		}
		return r
	}
	return check.Family[obs]{
		Name:    "svc",
		Applies: func(r inventory.Resource) bool { return r.Kind() == inventory.KindIP },
		Observe: func(ctx context.Context, r inventory.Resource, env check.Env) (obs, error) {
			h := hosts[r.Value()]
			if h == nil {
				return obs{}, errors.New("no such host in this test")
			}
			h.dials.Add(1)
			c, err := env.Dial(ctx, "tcp", net.JoinHostPort(h.ip, h.port))
			if err != nil {
				return obs{}, err
			}
			defer c.Close()
			b, err := io.ReadAll(io.LimitReader(c, 64))
			return obs{banner: string(b), endpoint: r.Value() + "|" + c.RemoteAddr().String()}, err
		},
		Checks: []check.Check[obs]{
			{ID: "svc.banner", Evaluate: func(o obs) check.Result { return verdict(strings.HasPrefix(o.banner, "SSH-1"), o) }},
			{ID: "svc.version", Evaluate: func(o obs) check.Result { return verdict(strings.Contains(o.banner, "old"), o) }},
		},
	}
}

const catalogYAML = `checks:
  - id: svc.banner
    severity: critical
    title: {vi: "Giao thức SSH 1", en: "SSH protocol 1"}
    remediation: {vi: "Tắt SSH 1", en: "Disable SSH 1"}
  - id: svc.version
    severity: medium
    title: {vi: "Phiên bản cũ", en: "Old version"}
    remediation: {vi: "Nâng cấp", en: "Upgrade"}
`

// world is an inventory, its hosts and the service over one SQLite file.
//
//	HN          system sys-3 (level 3): ip:127.0.0.2 (assigned), ip:127.0.0.3 (assigned),
//	                                    ip:127.0.0.4 (unverified, no host)
//	└── HN.SYT  system sys-5 (level 5): ip:127.0.0.5 (verified)
type world struct {
	path  string
	db    *sqlite.DB
	clock *clock
	hosts map[string]*host
	svc   *assess.Service
}

const (
	r2 = "ip:127.0.0.2"
	r3 = "ip:127.0.0.3"
	r4 = "ip:127.0.0.4"
	r5 = "ip:127.0.0.5"
)

var t0 = time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC)

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{path: filepath.Join(t.TempDir(), "k.db"), clock: &clock{t: t0}, hosts: map[string]*host{}}
	w.db = w.open(t)
	if _, err := w.db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	w.hosts["127.0.0.2"] = startHost(t, "127.0.0.2", "SSH-1.5-old\r\n")
	w.hosts["127.0.0.3"] = startHost(t, "127.0.0.3", "SSH-2.0-new\r\n")
	w.hosts["127.0.0.5"] = startHost(t, "127.0.0.5", "SSH-2.0-new\r\n")
	res := func(id, system string, s inventory.ScopeStatus) inventory.Resource {
		r := inventory.Resource{ID: id, System: system, Scope: s, Created: t0, Updated: t0}
		if s != inventory.ScopeUnverified {
			r.ScopeReason = "Giám đốc Sở xác nhận"
		}
		return r
	}
	inv := inventory.Inventory{
		Orgs: []inventory.Organization{
			{Code: "HN", Name: "Hà Nội", Level: inventory.LevelProvince, Created: t0, Updated: t0},
			{Code: "HN.SYT", Name: "Sở Y tế", Level: inventory.LevelDepartment, Parent: "HN", Created: t0, Updated: t0},
		},
		Systems: []inventory.System{
			{ID: "sys-3", Org: "HN", Name: "Cổng", Level: 3, Stage: inventory.StageOperation, Created: t0, Updated: t0},
			{ID: "sys-5", Org: "HN.SYT", Name: "Bệnh án", Level: 5, Stage: inventory.StageOperation, Created: t0, Updated: t0},
		},
		Resources: []inventory.Resource{
			res(r2, "sys-3", inventory.ScopeAssigned),
			res(r3, "sys-3", inventory.ScopeAssigned),
			res(r4, "sys-3", inventory.ScopeUnverified),
			res(r5, "sys-5", inventory.ScopeVerified),
		},
	}
	if err := w.db.Apply(t.Context(), inv); err != nil {
		t.Fatal(err)
	}
	w.svc = w.service(t, w.db)
	return w
}

// open opens the world's database file again, as another server would.
func (w *world) open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), w.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// service builds a Service over db, with the world's clock and hosts.
func (w *world) service(t *testing.T, db *sqlite.DB) *assess.Service {
	t.Helper()
	catalog, err := check.ParseCatalog([]byte(catalogYAML))
	if err != nil {
		t.Fatal(err)
	}
	scanner := &assess.Scanner{
		Guard:       scope.New(scope.LoopbackFence(), "", time.Second),
		Families:    []check.Runner{family(w.hosts)},
		Env:         check.Env{Now: w.clock.Now},
		Concurrency: 4,
	}
	return assess.NewService(db, db, scanner, catalog, w.clock.Now, nil)
}

func (w *world) assess(t *testing.T, resource string) assess.RunSummary {
	t.Helper()
	sum, err := w.svc.AssessResource(t.Context(), resource, assess.TriggerManual)
	if err != nil {
		t.Fatalf("AssessResource(%s) = %v", resource, err)
	}
	return sum
}

func (w *world) findings(t *testing.T, f assess.FindingFilter) []string {
	t.Helper()
	items, total, err := w.svc.Findings(t.Context(), f)
	if err != nil {
		t.Fatalf("Findings(%+v) = %v", f, err)
	}
	if total != len(items) {
		t.Fatalf("Findings(%+v): %d of %d on one page", f, len(items), total)
	}
	var out []string
	for _, x := range items {
		out = append(out, x.Check+"@"+x.Resource+"="+string(x.Status))
	}
	return out
}

func history(t *testing.T, svc *assess.Service, fingerprint string) []string {
	t.Helper()
	evs, err := svc.FindingHistory(t.Context(), fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Change))
	}
	return out
}

func changes(d assess.Diff) string {
	var parts []string
	for _, l := range []struct {
		name string
		fs   []finding.Finding
	}{{"new", d.New}, {"reopened", d.Reopened}, {"resolved", d.Resolved}, {"persisting", d.Persisting}} {
		for _, f := range l.fs {
			parts = append(parts, l.name+":"+f.Check+"@"+f.Resource)
		}
	}
	return strings.Join(parts, " ")
}

// TestLifecycleOverRuns: fail, then pass, then fail again, one day apart.
func TestLifecycleOverRuns(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	h := w.hosts["127.0.0.2"]

	first := w.assess(t, r2)
	if c := first.Counts; c.Fail != 2 || c.New != 2 || c.Open != 2 || c.OpenCritical != 1 || first.Status != assess.RunComplete {
		t.Fatalf("first run: %+v", first)
	}
	// The fingerprint is the check and the full endpoint: name, address and port.
	endpoint := "127.0.0.2|127.0.0.2:" + h.port
	banner := finding.Fingerprint("svc.banner", r2, endpoint)
	f, err := w.svc.Finding(ctx, banner)
	if err != nil || f.Endpoint != endpoint || f.Severity != check.Critical || f.Status != finding.Open {
		t.Fatalf("Finding(svc.banner) = %+v, %v", f, err)
	}
	// An open critical finding brings a level-3 resource to every 12 hours.
	if sc, err := w.svc.Schedule(ctx, r2); err != nil || sc.Cadence != 12*time.Hour || !strings.Contains(sc.Reason, "critical") {
		t.Errorf("schedule after a critical finding = %+v, %v", sc, err)
	}

	w.clock.Advance(24 * time.Hour)
	h.set("SSH-2.0-new\r\n")
	second := w.assess(t, r2)
	if c := second.Counts; c.Pass != 2 || c.Resolved != 2 || c.Open != 0 {
		t.Fatalf("second run: %+v", second.Counts)
	}
	if sc, _ := w.svc.Schedule(ctx, r2); sc.Cadence != 24*time.Hour || !sc.NextDue.Equal(second.Finished.Add(24*time.Hour)) {
		t.Errorf("schedule once clean = %+v, want daily from the run", sc)
	}
	// Passes are kept with the run.
	if rs, err := w.svc.RunResults(ctx, second.ID); err != nil || len(rs) != 2 || rs[0].Check != "svc.banner" || rs[0].Status != check.Pass {
		t.Errorf("RunResults(second) = %+v, %v", rs, err)
	}

	w.clock.Advance(24 * time.Hour)
	h.set("SSH-1.99-old\r\n")
	third := w.assess(t, r2)
	if c := third.Counts; c.Reopened != 2 || c.Open != 2 {
		t.Fatalf("third run: %+v", third.Counts)
	}

	if got := history(t, w.svc, banner); !slices.Equal(got, []string{"new", "resolved", "reopened"}) {
		t.Errorf("history = %q", got)
	}
	f, _ = w.svc.Finding(ctx, banner)
	if f.Status != finding.Reopened || f.Reopens != 1 || !f.FirstSeen.Equal(first.Finished) || !f.OpenedAt.Equal(third.Finished) {
		t.Errorf("after fail, pass, fail: %+v", f)
	}

	tests := []struct {
		name string
		q    assess.DiffQuery
		want string
	}{
		{"last two runs", assess.DiffQuery{Resource: r2}, "reopened:svc.banner@ip:127.0.0.2 reopened:svc.version@ip:127.0.0.2"},
		{"first to second", assess.DiffQuery{Resource: r2, FromRun: first.ID, ToRun: second.ID},
			"resolved:svc.banner@ip:127.0.0.2 resolved:svc.version@ip:127.0.0.2"},
		{"first to third", assess.DiffQuery{Resource: r2, FromRun: first.ID, ToRun: third.ID},
			"persisting:svc.banner@ip:127.0.0.2 persisting:svc.version@ip:127.0.0.2"},
		{"system, last day", assess.DiffQuery{System: "sys-3"}, "reopened:svc.banner@ip:127.0.0.2 reopened:svc.version@ip:127.0.0.2"},
		{"organization, since the start", assess.DiffQuery{Under: "HN", From: t0.Add(-time.Hour)},
			"new:svc.banner@ip:127.0.0.2 new:svc.version@ip:127.0.0.2"},
		{"another organization", assess.DiffQuery{Under: "HN.SYT"}, ""},
	}
	for _, tt := range tests {
		d, err := w.svc.Diff(ctx, tt.q)
		if err != nil {
			t.Fatalf("Diff(%s) = %v", tt.name, err)
		}
		if got := changes(d); got != tt.want {
			t.Errorf("Diff(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := w.findings(t, assess.FindingFilter{System: "sys-3", Status: finding.Open}); len(got) != 2 {
		t.Errorf("open findings of sys-3 = %q", got)
	}
	if d, err := w.svc.Diff(ctx, assess.DiffQuery{Resource: r3}); err != nil || changes(d) != "" {
		t.Errorf("Diff(never assessed) = %+v, %v; want empty", d, err)
	}
}

func TestAcceptAndOverdue(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	w.assess(t, r2)
	banner := finding.Fingerprint("svc.banner", r2, "127.0.0.2|127.0.0.2:"+w.hosts["127.0.0.2"].port)

	// Critical is overdue after 15 days; medium has no deadline.
	if got := w.findings(t, assess.FindingFilter{Overdue: true, At: t0.Add(14 * 24 * time.Hour)}); len(got) != 0 {
		t.Errorf("overdue at day 14 = %q", got)
	}
	if got := w.findings(t, assess.FindingFilter{Overdue: true, At: t0.Add(16 * 24 * time.Hour)}); !slices.Equal(got, []string{"svc.banner@ip:127.0.0.2=open"}) {
		t.Errorf("overdue at day 16 = %q", got)
	}

	w.clock.Advance(24 * time.Hour)
	expires := w.clock.Now().Add(10 * 24 * time.Hour)
	f, err := w.svc.Accept(ctx, banner, " Nguyễn Văn An ", "Chờ thay thiết bị trong quý I/2027", expires)
	if err != nil {
		t.Fatal(err)
	}
	if f.Status != finding.Accepted || f.Acceptance.By != "Nguyễn Văn An" || !f.Acceptance.At.Equal(w.clock.Now()) {
		t.Errorf("Accept() = %+v, acceptance %+v", f, f.Acceptance)
	}
	if got := w.findings(t, assess.FindingFilter{Resource: r2, Status: finding.Open}); !slices.Equal(got, []string{"svc.version@ip:127.0.0.2=open"}) {
		t.Errorf("open while accepted = %q", got)
	}
	if got := w.findings(t, assess.FindingFilter{Overdue: true, At: t0.Add(16 * 24 * time.Hour)}); len(got) != 0 {
		t.Errorf("an accepted risk is overdue: %q", got)
	}
	// A critical finding accepted is not open: the resource goes back to daily.
	w.clock.Advance(time.Hour)
	if sum := w.assess(t, r2); sum.Counts.OpenCritical != 0 || sum.Counts.Open != 1 {
		t.Errorf("run while accepted: %+v", sum.Counts)
	}

	// After the expiry the finding is open again, from the expiry on.
	w.clock.Advance(11 * 24 * time.Hour)
	f, _ = w.svc.Finding(ctx, banner)
	if f.Status != finding.Open || !f.OpenedAt.Equal(expires) {
		t.Errorf("after the expiry: %s opened %v, want open from %v", f.Status, f.OpenedAt, expires)
	}
	w.assess(t, r2)
	if got := history(t, w.svc, banner); !slices.Equal(got, []string{"new", "accepted", "expired"}) {
		t.Errorf("history = %q", got)
	}

	_, err = w.svc.Accept(ctx, banner, "", "Chờ thay thiết bị", w.clock.Now().Add(time.Hour))
	if !errs.Is(err, errs.Invalid) {
		t.Errorf("Accept(no approver) = %v, want invalid", err)
	}
	_, err = w.svc.Accept(ctx, "0000", "An", "Chờ thay thiết bị", w.clock.Now().Add(time.Hour))
	if !errs.Is(err, errs.NotFound) {
		t.Errorf("Accept(missing) = %v, want not found", err)
	}
}

// TestJobDeliveredTwice: a run id that is recorded already is returned, not scanned again.
func TestJobDeliveredTwice(t *testing.T) {
	w := newWorld(t)
	h := w.hosts["127.0.0.2"]
	req := assess.Request{Resource: "ip:127.0.0.2", Trigger: assess.TriggerSchedule, RunID: "job-42"}
	first, err := w.svc.Assess(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := w.svc.Assess(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if first.ID != "job-42" || again.ID != first.ID || again.Counts != first.Counts || !again.Finished.Equal(first.Finished) {
		t.Errorf("again = %+v, want the first %+v", again, first)
	}
	if n := h.dials.Load(); n != 1 {
		t.Errorf("host observed %d times, want once", n)
	}
	if runs, _ := w.svc.Runs(t.Context(), r2, 0); len(runs) != 1 {
		t.Errorf("%d runs stored, want 1", len(runs))
	}
	req.Resource = r3
	_, err = w.svc.Assess(t.Context(), req)
	if !errs.Is(err, errs.Conflict) {
		t.Errorf("run id of another resource: %v, want a conflict", err)
	}
}

func TestRefused(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name     string
		resource string
		trigger  assess.Trigger
		kind     errs.Kind
		message  string
	}{
		{"out of scope", r4, assess.TriggerManual, errs.OutOfScope, "unverified"},
		{"not in the inventory", "ip:127.0.0.9", assess.TriggerManual, errs.NotFound, "127.0.0.9"},
		{"not an identifier", "ip:not-an-address", assess.TriggerManual, errs.Invalid, ""},
		{"bad trigger", r2, "cron", errs.Invalid, "cron"},
	}
	for _, tt := range tests {
		_, err := w.svc.AssessResource(t.Context(), tt.resource, tt.trigger)
		msg, _ := errs.Message(err)
		if !errs.Is(err, tt.kind) || !strings.Contains(msg, tt.message) {
			t.Errorf("%s: AssessResource(%s) = %v (%q), want kind %v saying %q", tt.name, tt.resource, err, msg, tt.kind, tt.message)
		}
	}
	if runs, _ := w.svc.Runs(t.Context(), r4, 0); len(runs) != 0 {
		t.Errorf("a run of the refused resource was stored: %+v", runs)
	}
	if _, err := w.svc.Schedule(t.Context(), r4); !errs.Is(err, errs.NotFound) {
		t.Errorf("the refused resource was scheduled: %v", err)
	}
}

func TestAssessSystemAndOrg(t *testing.T) {
	w := newWorld(t)
	summary := func(os []assess.Outcome) string {
		var parts []string
		for _, o := range os {
			s := fmt.Sprintf("%s:open=%d", o.Resource, o.Summary.Counts.Open)
			if o.Err != nil {
				s = o.Resource + ":" + errs.KindOf(o.Err).String()
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " ")
	}
	out, err := w.svc.AssessSystem(t.Context(), "sys-3", assess.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := summary(out), "ip:127.0.0.2:open=2 ip:127.0.0.3:open=0 ip:127.0.0.4:out_of_scope"; got != want {
		t.Errorf("AssessSystem = %q, want %q", got, want)
	}
	out, err = w.svc.AssessOrg(t.Context(), "HN", assess.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := summary(out), "ip:127.0.0.2:open=2 ip:127.0.0.3:open=0 ip:127.0.0.4:out_of_scope ip:127.0.0.5:open=0"; got != want {
		t.Errorf("AssessOrg = %q, want %q", got, want)
	}
	// Level 5 is assessed every 6 hours.
	if sc, err := w.svc.Schedule(t.Context(), r5); err != nil || sc.Cadence != 6*time.Hour {
		t.Errorf("schedule of a level-5 resource = %+v, %v", sc, err)
	}
	if _, err := w.svc.AssessSystem(t.Context(), "nope", assess.TriggerManual); !errs.Is(err, errs.NotFound) {
		t.Errorf("AssessSystem(nope) = %v", err)
	}
	if _, err := w.svc.AssessOrg(t.Context(), "XX", assess.TriggerManual); !errs.Is(err, errs.NotFound) {
		t.Errorf("AssessOrg(XX) = %v", err)
	}
}

// TestUnreachableBacksOff: a host that stops answering keeps its findings and is assessed
// less and less often.
func TestUnreachableBacksOff(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	h := w.hosts["127.0.0.3"]
	h.set("SSH-2.0-old\r\n") // a medium finding only
	if sum := w.assess(t, r3); sum.Counts.Open != 1 {
		t.Fatalf("first run: %+v", sum.Counts)
	}
	h.ln.Close()
	for i, want := range []time.Duration{48 * time.Hour, 96 * time.Hour, 7 * 24 * time.Hour} {
		w.clock.Advance(time.Hour)
		sum := w.assess(t, r3)
		if sum.Status != assess.RunUnreachable || sum.Counts.Error != 2 || sum.Counts.Open != 1 || sum.Counts.Resolved != 0 {
			t.Fatalf("unreachable run %d: %+v", i+1, sum)
		}
		sc, err := w.svc.Schedule(ctx, r3)
		if err != nil || sc.Cadence != want || sc.UnreachableRuns != i+1 || !strings.Contains(sc.Reason, "unreachable") {
			t.Errorf("after %d unreachable runs: %+v, %v; want every %v", i+1, sc, err, want)
		}
	}
	if got := w.findings(t, assess.FindingFilter{Resource: r3}); !slices.Equal(got, []string{"svc.version@ip:127.0.0.3=open"}) {
		t.Errorf("findings of the unreachable host = %q, want still open", got)
	}
}

// TestSchedulersShareTheWork runs two servers' schedulers on one database at once: every due
// resource is assessed exactly once per slot.
func TestSchedulersShareTheWork(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	var extra []inventory.Resource
	for i := 10; i < 30; i++ {
		ip := fmt.Sprintf("127.0.0.%d", i)
		w.hosts[ip] = startHost(t, ip, "SSH-2.0-new\r\n")
		extra = append(extra, inventory.Resource{ID: "ip:" + ip, System: "sys-3", Scope: inventory.ScopeAssigned,
			ScopeReason: "Giám đốc Sở xác nhận", Created: t0, Updated: t0})
	}
	if err := w.db.Apply(ctx, inventory.Inventory{Resources: extra}); err != nil {
		t.Fatal(err)
	}
	inScope := len(extra) + 3 // and 127.0.0.2, .3 and .5; .4 is unverified

	a := assess.NewScheduler(w.svc, "server-a")
	b := assess.NewScheduler(w.service(t, w.open(t)), "server-b")
	for _, s := range []*assess.Scheduler{a, b} {
		s.Batch, s.Concurrency = 4, 3
	}
	slot := func() int {
		var total atomic.Int32
		var wg sync.WaitGroup
		for _, s := range []*assess.Scheduler{a, b} {
			wg.Go(func() {
				for {
					n, err := s.RunOnce(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if n == 0 {
						return
					}
					total.Add(int32(n))
				}
			})
		}
		wg.Wait()
		return int(total.Load())
	}
	checkDials := func(want int32) {
		t.Helper()
		for ip, h := range w.hosts {
			if n := h.dials.Load(); n != want {
				t.Errorf("%s observed %d times, want %d", ip, n, want)
			}
		}
	}

	if n := slot(); n != inScope {
		t.Errorf("first slot leased %d, want %d", n, inScope)
	}
	checkDials(1)
	if n := slot(); n != 0 {
		t.Errorf("the same slot again leased %d, want none", n)
	}
	// Six hours on, only the level-5 resource is due; a day on, all of them.
	w.clock.Advance(6*time.Hour + time.Minute)
	if n := slot(); n != 1 || w.hosts["127.0.0.5"].dials.Load() != 2 {
		t.Errorf("after 6 hours %d leased (127.0.0.5 observed %d times), want the level-5 one", n, w.hosts["127.0.0.5"].dials.Load())
	}
	w.clock.Advance(18 * time.Hour)
	if n := slot(); n != inScope {
		t.Errorf("a day later %d leased, want %d", n, inScope)
	}
	w.hosts["127.0.0.5"].dials.Add(-1) // assessed at 6 hours as well
	checkDials(2)
	runs, err := w.svc.Runs(ctx, r2, 0)
	if err != nil || len(runs) != 2 || runs[0].Trigger != assess.TriggerSchedule {
		t.Errorf("runs of %s = %+v, %v", r2, runs, err)
	}
}

// TestSchedulerRun runs the loop until everything due is assessed, then stops it.
func TestSchedulerRun(t *testing.T) {
	w := newWorld(t)
	s := assess.NewScheduler(w.svc, "")
	s.Tick = 10 * time.Millisecond
	if s.Owner == "" {
		t.Fatal("no owner name made up")
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	deadline := time.After(10 * time.Second)
	for _, id := range []string{r2, r3, r5} {
		for {
			if runs, _ := w.svc.Runs(t.Context(), id, 0); len(runs) == 1 {
				break
			}
			select {
			case <-deadline:
				t.Fatalf("%s not assessed by the scheduler", id)
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v, want nil once stopped", err)
	}
}
