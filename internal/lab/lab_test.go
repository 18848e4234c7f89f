package lab_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/checktest"
	"github.com/khien-vn/khien/internal/demo"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/lab"
	"github.com/khien-vn/khien/internal/scope"
	"github.com/khien-vn/khien/internal/vuln/vulntest"
)

// testPrefix keeps the tests' lab apart from a `khien lab` running on the default prefix.
var testPrefix = netip.MustParsePrefix("127.201.0.0/16")

// startLab starts the lab on the standard ports. Without the privilege to bind them, or with
// the addresses taken by another lab, the test is skipped, except under CI=true, where the lab
// must run.
func startLab(t testing.TB, cfg lab.Config) *lab.Lab {
	t.Helper()
	if !cfg.Prefix.IsValid() {
		cfg.Prefix = testPrefix
	}
	l, err := lab.Start(t.Context(), cfg)
	if err != nil && os.Getenv("CI") != "true" && (errors.Is(err, lab.ErrPrivileged) || errors.Is(err, syscall.EADDRINUSE)) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// openApp opens a fresh store in a temporary directory.
func openApp(t testing.TB) *app.App {
	t.Helper()
	a, err := app.Open(t.Context(), app.Config{DB: filepath.Join(t.TempDir(), "lab.db")}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// scan assesses rs as `khien scan` does: every family with its default ports, through the
// lab's loopback-fenced guard with the default per-address budget, trusting the lab CA.
func scan(t *testing.T, l *lab.Lab, rs []inventory.Resource) map[string][]check.Result {
	t.Helper()
	s := &assess.Scanner{
		Guard:       l.Guard(5 * time.Second).WithBudget(scope.NewBudget(0, 0)),
		Families:    app.Families(app.FamilyOptions{Vuln: vulntest.Index(t)}),
		Env:         check.Env{Now: time.Now, Timeout: 5 * time.Second, Roots: l.Roots(), UserAgent: "Khien-test (+https://khien.gov.vn.test/scanner)"},
		Concurrency: 64,
	}
	out := map[string][]check.Result{}
	var mu sync.Mutex
	err := s.Scan(t.Context(), rs, func(r inventory.Resource, res []check.Result) {
		mu.Lock()
		out[r.ID] = res
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// registered registers the lab in a fresh store and returns its resources as stored.
func registered(t testing.TB, l *lab.Lab) (*app.App, []inventory.Resource) {
	t.Helper()
	a := openApp(t)
	if err := l.Register(t.Context(), a.Inventory); err != nil {
		t.Fatal(err)
	}
	inv, err := a.Store.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range inv.Resources {
		if r.Scope != inventory.ScopeVerified || !strings.HasPrefix(r.ScopeReason, "dns-txt _khien-challenge.") {
			t.Errorf("%s: scope %s (%q), want verified by its DNS TXT record", r.ID, r.Scope, r.ScopeReason)
		}
	}
	return a, inv.Resources
}

// TestLabScan scans the whole lab as `khien scan` would and holds it to its contract: the good
// host passes every check, every other host fails exactly the checks it is built to fail, and
// every check of the catalog fails somewhere and passes somewhere.
func TestLabScan(t *testing.T) {
	if testing.Short() {
		t.Skip("scans the whole lab")
	}
	l := startLab(t, lab.Config{Hosts: 2})
	_, rs := registered(t, l)
	if len(rs) != len(l.Hosts) {
		t.Fatalf("%d resources registered, want one per host (%d)", len(rs), len(l.Hosts))
	}
	results := scan(t, l, rs)
	cat, err := check.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	// The lab's hosts are names: every check of a family that looks at names is held to the
	// contract. Families of other resources (db: for the data-security checks) are not.
	var external []check.Def
	for _, f := range app.Families(app.FamilyOptions{}) {
		if !f.AppliesTo(inventory.Resource{ID: "dns:" + lab.GoodName}) {
			continue
		}
		for _, id := range f.CheckIDs() {
			d, _ := cat.Def(id)
			external = append(external, d)
		}
	}
	if len(external) != 46 {
		t.Errorf("%d checks apply to a name, want the 46 of the external-posture catalog (the 45 of the spec and data.secret.public)", len(external))
	}

	failed, passed := map[string][]string{}, map[string][]string{}
	for _, h := range l.Hosts {
		id := "dns:" + h.Name
		res := results[id]
		var fails, errs []string
		for _, r := range res {
			if frag := checktest.GoErrorText(r.Reason.VI); frag != "" {
				t.Errorf("%s %s (%s): the Vietnamese reason carries Go's English error text %q: %s", h.Name, r.Check, r.Status, frag, r.Reason.VI)
			}
			switch r.Status {
			case check.Fail:
				fails = append(fails, r.Check)
				failed[r.Check] = append(failed[r.Check], h.Name)
			case check.Pass:
				passed[r.Check] = append(passed[r.Check], h.Name)
			case check.Error:
				errs = append(errs, r.Check+": "+r.Reason.EN)
			}
		}
		if len(res) != len(external) {
			t.Errorf("%s: %d results, want one per external-posture check (%d)", h.Name, len(res), len(external))
		}
		want := slices.Clone(h.Fails)
		sort.Strings(want)
		sort.Strings(fails)
		if !slices.Equal(fails, want) {
			t.Errorf("%s (%s) fails %v\n\twant %v\n\tunexpected: %v\n\tmissing: %v", h.Name, h.Scenario, fails, want, minus(fails, want), minus(want, fails))
		}
		if h.Scenario == lab.Good {
			for _, r := range res {
				if r.Status != check.Pass {
					t.Errorf("good host: %s is %s (%s), want pass", r.Check, r.Status, r.Reason.EN)
				}
			}
		}
		// Only the host no client of today can talk to leaves families in error: SSL 3.0. The
		// web families' shared transport offers every suite Go implements, so the legacy
		// host (RSA key exchange only) is read like any other.
		for _, e := range errs {
			if h.Scenario == lab.SSL3 {
				t.Logf("%s: error %s", h.Name, e)
				continue
			}
			t.Errorf("%s: error %s", h.Name, e)
		}
	}
	for _, d := range external {
		if len(failed[d.ID]) == 0 {
			t.Errorf("%s fails on no lab host", d.ID)
		}
		if len(passed[d.ID]) == 0 {
			t.Errorf("%s passes on no lab host", d.ID)
		}
	}
}

// minus returns the elements of a not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// TestFenceRefusesOutside points a verified lab name at a TEST-NET address: the guard refuses
// every connection before dialling, and each family that connects reports an error naming the
// fence instead of a verdict.
func TestFenceRefusesOutside(t *testing.T) {
	l := startLab(t, lab.Config{})
	const name = "outside.lab.khien.test"
	if err := l.DNS.SetA(name, netip.MustParseAddr("192.0.2.1")); err != nil {
		t.Fatal(err)
	}
	a := openApp(t)
	inv := l.Inventory()
	inv.Resources = []inventory.Resource{{ID: "dns:" + name, System: inv.Systems[0].ID}}
	if err := a.Inventory.ApplyInventory(t.Context(), inv); err != nil {
		t.Fatal(err)
	}
	if err := l.Verify(t.Context(), a.Inventory, "dns:"+name); err != nil {
		t.Fatal(err)
	}
	r, err := a.Inventory.Resource(t.Context(), "dns:"+name)
	if err != nil {
		t.Fatal(err)
	}
	res := scan(t, l, []inventory.Resource{r})[r.ID]
	connecting := []string{"tls.", "http.", "exposure.", "vuln.", "data."}
	n := 0
	for _, x := range res {
		if !slices.ContainsFunc(connecting, func(p string) bool { return strings.HasPrefix(x.Check, p) }) {
			continue
		}
		n++
		if frag := checktest.GoErrorText(x.Reason.VI); frag != "" {
			t.Errorf("%s: the Vietnamese reason carries Go's English error text %q: %s", x.Check, frag, x.Reason.VI)
		}
		// "refused 192.0.2.1 (fence …)" is written only when no address was dialled at all.
		if x.Status != check.Error || !strings.Contains(x.Reason.EN, scope.ErrFenced.Error()) || !strings.Contains(x.Reason.EN, "refused 192.0.2.1") {
			t.Errorf("%s = %s (%s), want an error naming the fence and the refused address", x.Check, x.Status, x.Reason.EN)
		}
	}
	if n == 0 {
		t.Fatal("no family that connects ran")
	}
}

// TestRegisterTwice registers a new lab over a store that holds an older one: ownership is
// proven again, against the new lab's tokens.
func TestRegisterTwice(t *testing.T) {
	a := openApp(t)
	for range 2 {
		ctx, cancel := context.WithCancel(t.Context())
		l := startLab(t, lab.Config{})
		if err := l.Register(ctx, a.Inventory); err != nil {
			t.Fatal(err)
		}
		l.Close()
		cancel()
	}
}

// TestDemo assesses the demo province against the lab, as `khien demo` does: its assigned
// resources are proven (DNS TXT for names and URLs, the HTTP token for addresses), every one
// of them is assessed without an error, and the results show the spread the demo is for.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("scans the demo province")
	}
	// The demo's ip: resources are addresses of the lab on its default prefix.
	l := startLab(t, lab.Config{Prefix: lab.DefaultPrefix})
	a := openApp(t)
	if err := a.Inventory.ApplyInventory(t.Context(), demo.Inventory()); err != nil {
		t.Fatal(err)
	}
	inv, err := a.Store.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range inv.Resources {
		switch r.Kind() {
		case inventory.KindDNS, inventory.KindURL, inventory.KindIP:
			if r.Scope == inventory.ScopeAssigned {
				ids = append(ids, r.ID)
			}
		}
	}
	if err := l.Verify(t.Context(), a.Inventory, ids...); err != nil {
		t.Fatal(err)
	}
	var rs []inventory.Resource
	for _, id := range ids {
		r, err := a.Inventory.Resource(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	results := scan(t, l, rs)
	status := map[string]check.Status{} // "resource check" → status
	bySystem := map[string][]string{}
	for _, r := range rs {
		var fails []string
		for _, x := range results[r.ID] {
			status[r.ID+" "+x.Check] = x.Status
			if frag := checktest.GoErrorText(x.Reason.VI); frag != "" {
				t.Errorf("%s %s (%s): the Vietnamese reason carries Go's English error text %q: %s", r.ID, x.Check, x.Status, frag, x.Reason.VI)
			}
			switch x.Status {
			case check.Error:
				t.Errorf("%s %s: error %s", r.ID, x.Check, x.Reason.EN)
			case check.Fail:
				fails = append(fails, x.Check)
			}
		}
		bySystem[r.System] = append(bySystem[r.System], fails...)
		t.Logf("%-22s %-48s fails %v", r.System, r.ID, fails)
	}
	d := demo.Domain
	for _, want := range []string{
		"dns:benhan." + d + " vuln.known_exploited",
		"dns:benhan." + d + " exposure.git",
		"ip:127.77.1.14 exposure.service.database",
		"ip:127.77.1.15 exposure.service.remote_admin",
		"dns:qlvb." + d + " data.classified.public",
		"url:https://csdl.sgddt." + d + "/ data.pii.public",
		"dns:webmail." + d + " tls.protocol.tls10",
		"dns:mail." + d + " mail.starttls.missing",
		"dns:dc." + d + " tls.cert.expired",
		"dns:tiemchung." + d + " tls.cert.expiring",
		"dns:ngansach." + d + " tls.cert.weak_key",
		"url:https://lgsp." + d + ":8443/api/ tls.cert.untrusted",
		"dns:dichvucong." + d + " mail.dmarc.weak",
		"dns:tanan." + d + " dns.cname.dangling",
		"dns:motcua.bacdong." + d + " dns.axfr.open",
		"dns:motcua.bacdong." + d + " http.https.missing",
	} {
		if status[want] != check.Fail {
			t.Errorf("%s: %s, want fail", want, status[want])
		}
	}
	for _, clean := range []string{"sh-cong-ttdt", "sh-dl-trang"} {
		if f := bySystem[clean]; len(f) > 0 {
			t.Errorf("system %s fails %v, want a clean system", clean, f)
		}
	}
}
