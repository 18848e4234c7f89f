package datacheck

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/lab/datalab"
	"github.com/khien-vn/khien/internal/scope"
)

var testNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// labDNS answers A queries for names under lab.khien.test with 127.0.0.1 and NXDOMAIN for
// anything else. It returns its address.
func labDNS(t testing.TB) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		name := q.Question[0].Name
		switch {
		case !dns.IsSubDomain("lab.khien.test.", name):
			m.Rcode = dns.RcodeNameError
		case q.Question[0].Qtype == dns.TypeA:
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
				A:   net.IPv4(127, 0, 0, 1),
			})
		}
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

// envFor builds the scope-guarded environment of r, as the assessment does.
func envFor(t testing.TB, r inventory.Resource, resolver string) check.Env {
	t.Helper()
	g := scope.New(scope.LoopbackFence(), resolver, 5*time.Second)
	env, err := g.Env(r, scope.Passive, check.Env{
		Now:       func() time.Time { return testNow },
		Timeout:   5 * time.Second,
		UserAgent: "Khien/test (+https://khien.example/contact)",
	})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func resource(t testing.TB, id string) inventory.Resource {
	t.Helper()
	r := inventory.Resource{ID: id, System: "lab", Scope: inventory.ScopeAssigned, ScopeReason: "test"}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	return r
}

func statuses(rs []check.Result) map[string]check.Status {
	out := map[string]check.Status{}
	for _, r := range rs {
		out[r.Check] = r.Status
	}
	return out
}

// TestLab runs the family against the lab's leaking and clean hosts, by address and by name,
// over HTTP and HTTPS.
func TestLab(t *testing.T) {
	resolver := labDNS(t)
	tests := []struct {
		kind       datalab.Kind
		tls        bool
		byName     bool
		pii, class check.Status
		secret     check.Status
	}{
		{datalab.Leaky, false, false, check.Fail, check.Fail, check.Fail},
		{datalab.Leaky, true, true, check.Fail, check.Fail, check.Fail},
		{datalab.Clean, false, false, check.Pass, check.Pass, check.Pass},
		{datalab.Clean, true, true, check.Pass, check.Pass, check.Pass},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s tls=%v name=%v", tt.kind, tt.tls, tt.byName), func(t *testing.T) {
			h, err := datalab.Start(t.Context(), tt.kind, datalab.Options{TLS: tt.tls})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { h.Close() })
			u := h.URL
			if tt.byName {
				_, port, _ := net.SplitHostPort(h.Addr)
				u = strings.Split(h.URL, "://")[0] + "://" + h.Name + ":" + port + "/"
			}
			r := resource(t, "url:"+u)
			res := Family(Config{Key: []byte("test")}).Run(t.Context(), r, envFor(t, r, resolver))
			got := statuses(res)
			if got["data.pii.public"] != tt.pii || got["data.classified.public"] != tt.class || got["data.secret.public"] != tt.secret {
				t.Fatalf("%s: pii %s, classified %s, secret %s; want %s, %s, %s\n%s", u, got["data.pii.public"],
					got["data.classified.public"], got["data.secret.public"], tt.pii, tt.class, tt.secret, dump(res))
			}
			assertNoFullValues(t, res)
			for _, r := range res {
				if r.Reason.VI == "" || r.Reason.EN == "" || r.Evidence["pages_scanned"].(int) < 4 {
					t.Errorf("%s: reason %+v, %v pages scanned", r.Check, r.Reason, r.Evidence["pages_scanned"])
				}
			}
		})
	}
}

// assertNoFullValues fails if the results hold any planted value in full.
func assertNoFullValues(t *testing.T, res []check.Result) {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range datalab.People() {
		for _, v := range []string{p.CitizenID, strings.ReplaceAll(p.Phone, " ", ""), p.Phone} {
			if strings.Contains(string(b), v) {
				t.Errorf("evidence holds the full value %s", v)
			}
		}
	}
	key := strings.Split(datalab.FakeKey(), "\n")
	for _, v := range []string{datalab.FakeDBPassword, key[1], key[2], datalab.FakeServiceKey(), datalab.FakeAnonKey()} {
		if strings.Contains(string(b), v) {
			t.Errorf("evidence holds the planted credential %s", v)
		}
	}
}

func dump(res []check.Result) string {
	b, _ := json.MarshalIndent(res, "", "  ")
	return string(b)
}

// TestLeakyEvidence checks what the leaking host's findings say: the list page and the CSV
// for personal data, the report at depth 2 for the stamp, and nothing from the page robots.txt
// disallows or from the script.
func TestLeakyEvidence(t *testing.T) {
	h, err := datalab.Start(t.Context(), datalab.Leaky, datalab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	r := resource(t, "url:"+h.URL)
	f := Family(Config{Key: []byte("test")})
	o, err := f.Observe(t.Context(), r, envFor(t, r, ""))
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]Page{}
	for _, p := range o.Pages {
		pages[strings.TrimPrefix(p.URL, strings.TrimSuffix(h.URL, "/"))] = p
	}
	list := pages["/thong-bao/danh-sach-ho-tro.html"]
	if fd, ok := list.Report.Finding("vn.citizen_id"); !ok || fd.Distinct != 6 || fd.Strong != 1 || !fd.Reportable {
		t.Errorf("list page citizen IDs = %+v, want 6 distinct, 1 labelled", fd)
	}
	if fd, ok := list.Report.Finding("vn.phone"); !ok || fd.Distinct != 7 || !fd.Reportable { // 6 people + the footer
		t.Errorf("list page phones = %+v, want 7 distinct", fd)
	}
	if csv := pages["/du-lieu/danh-sach.csv"]; csv.Depth != 2 || !csv.Report.Reportable("vn.citizen_id") {
		t.Errorf("CSV = %+v, want depth 2 with citizen IDs", csv)
	}
	report := pages["/van-ban/bao-cao-2026.html"]
	if fd, ok := report.Report.Finding("marking.tuyet_mat"); report.Depth != 2 || !ok || !fd.Reportable {
		t.Errorf("report page = %+v, want a TUYỆT MẬT stamp at depth 2", report)
	}
	if _, ok := pages["/quan-tri/index.html"]; ok || o.Skipped.Robots != 1 {
		t.Errorf("robots.txt disallowed page fetched, or skipped = %+v", o.Skipped)
	}
	if o.Skipped.OtherSite != 1 || o.Skipped.NotText != 1 {
		t.Errorf("skipped = %+v, want 1 other site and 1 image", o.Skipped)
	}
	guide := pages["/tai-lieu/huong-dan-ket-noi.html"]
	for _, id := range []string{"secret.private_key", "secret.password"} {
		if fd, ok := guide.Report.Finding(id); guide.Depth != 1 || !ok || !secretReportable(fd) {
			t.Errorf("guide page %s = %+v, want one found at depth 1 in the page source", id, fd)
		}
	}
	if home := pages["/"]; home.Report.Reportable() {
		t.Errorf("home page findings %+v: the script's numbers and the footer must not count", home.Report)
	}

	// The service key bundled into a script, and again in its source map's original file.
	scripts := map[string]Page{}
	for _, p := range o.Scripts {
		scripts[strings.TrimPrefix(p.URL, strings.TrimSuffix(h.URL, "/"))+"|"+p.Source] = p
	}
	for _, tt := range []struct {
		key  string
		line int
	}{{"/static/js/cau-hinh.js|", 1}, {"/static/js/cau-hinh.js.map|src/cau-hinh.ts", 3}} {
		p := scripts[tt.key]
		fd, ok := p.Report.Finding("secret.jwt")
		if !ok || !secretReportable(fd) || p.Depth != 1 || fd.Samples[0].Line != tt.line {
			t.Errorf("%s = %+v, want the service key on line %d, loaded at depth 1", tt.key, p, tt.line)
		}
	}
	if p := scripts["/static/js/cau-hinh.js|"]; !strings.HasSuffix(p.From, "/gioi-thieu.html") {
		t.Errorf("script loaded from %q, want /gioi-thieu.html", p.From)
	}
	// The main bundle carries an anon key and digit runs: scanned, nothing to report.
	main := scripts["/static/js/main.8f3a2c1b9d7e.chunk.js?v=5d41402abc4b2a76b9719d911017c592|"]
	if fd, ok := main.Report.Finding("secret.jwt"); !main.Scanned || !ok || secretReportable(fd) || len(main.Report.Findings) != 1 {
		t.Errorf("main script = %+v, want only the anon key, below the threshold", main)
	}
	if o.Skipped.ScriptLimit != 0 || o.Skipped.ScriptsOtherSite != 0 {
		t.Errorf("skipped = %+v, want every script fetched", o.Skipped)
	}
}

// TestDNSResource crawls a dns: resource: HTTPS first, then plain HTTP when port 443 does not
// answer. The ports are mapped onto the lab's with a dialer around the guard's.
func TestDNSResource(t *testing.T) {
	resolver := labDNS(t)
	h, err := datalab.Start(t.Context(), datalab.Leaky, datalab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	closed := closedPort(t)
	_, labPort, _ := net.SplitHostPort(h.Addr)
	r := resource(t, "dns:"+h.Name)
	env := envFor(t, r, resolver)
	guarded := env.Dial
	env.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, _ := net.SplitHostPort(address)
		switch port {
		case "443":
			port = closed
		case "80":
			port = labPort
		}
		return guarded(ctx, network, net.JoinHostPort(host, port))
	}
	res := Family(Config{}).Run(t.Context(), r, env)
	if got := statuses(res); got["data.pii.public"] != check.Fail || got["data.classified.public"] != check.Fail {
		t.Fatalf("statuses %v\n%s", got, dump(res))
	}
	ev := res[0].Evidence
	if ev["start"] != "http://"+h.Name+"/" || len(ev["tried"].([]string)) != 1 {
		t.Errorf("start %v, tried %v: want the HTTP root after HTTPS failed", ev["start"], ev["tried"])
	}
}

func closedPort(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

func TestUnreachable(t *testing.T) {
	r := resource(t, "url:http://127.0.0.1:"+closedPort(t)+"/")
	for _, res := range Family(Config{}).Run(t.Context(), r, envFor(t, r, "")) {
		if res.Status != check.Error || res.Reason.VI == "" {
			t.Errorf("%s = %s (%s), want error", res.Check, res.Status, res.Reason.EN)
		}
	}
}

// TestRobots checks that robots.txt keeps the crawl away, for every agent or for Khiên's.
func TestRobots(t *testing.T) {
	tests := []struct {
		name, robots string
		status       int
		want         check.Status
	}{
		{"disallowed directory", "User-agent: *\nDisallow: /noi-bo/\n", 200, check.Pass},
		{"our agent disallowed everywhere", "User-agent: khien\nDisallow: /\n\nUser-agent: *\nAllow: /\n", 200, check.NotApplicable},
		{"other agent disallowed", "User-agent: googlebot\nDisallow: /\n", 200, check.Fail},
		{"no robots.txt", "", 404, check.Fail},
		{"robots.txt failing", "", 503, check.NotApplicable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.robots)
			})
			mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `<p>Trang chủ</p><a href="/noi-bo/van-ban.html">Văn bản</a>`)
			})
			mux.HandleFunc("GET /noi-bo/van-ban.html", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `<p>TUYỆT MẬT</p><p>Báo cáo</p>`)
			})
			srv := httptest.NewServer(mux)
			defer srv.Close()
			r := resource(t, "url:"+srv.URL+"/")
			res := Family(Config{}).Run(t.Context(), r, envFor(t, r, ""))
			if got := statuses(res)["data.classified.public"]; got != tt.want {
				t.Errorf("classified = %s, want %s\n%s", got, tt.want, dump(res))
			}
		})
	}
}

// TestBounds crawls an endless site and checks depth, page count, same-host and politeness.
func TestBounds(t *testing.T) {
	var inFlight, most atomic.Int32
	var mu sync.Mutex
	agents := map[string]bool{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		mu.Lock()
		agents[r.UserAgent()] = true
		mu.Unlock()
		time.Sleep(2 * time.Millisecond) // let requests overlap if the crawler allows it
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		for i := range 4 {
			fmt.Fprintf(w, `<a href="%s/%d">x</a> `, strings.TrimSuffix(r.URL.Path, "/"), i)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tests := []struct {
		cfg             Config
		pages, maxDepth int
		stopped         string
	}{
		{Config{}, 21, 2, ""},                      // 1 + 4 + 16
		{Config{MaxDepth: 3}, 50, 3, "page limit"}, // 1 + 4 + 16 + 29 of 64
		{Config{MaxDepth: 1, MaxPages: 3}, 3, 1, "page limit"},
	}
	for _, tt := range tests {
		r := resource(t, "url:"+srv.URL+"/")
		o, err := Family(tt.cfg).Observe(t.Context(), r, envFor(t, r, ""))
		if err != nil {
			t.Fatal(err)
		}
		depth := 0
		for _, p := range o.Pages {
			depth = max(depth, p.Depth)
		}
		if len(o.Pages) != tt.pages || depth != tt.maxDepth || o.Stopped != tt.stopped {
			t.Errorf("%+v: %d pages to depth %d, stopped %q; want %d to %d, %q", tt.cfg, len(o.Pages), depth, o.Stopped, tt.pages, tt.maxDepth, tt.stopped)
		}
	}
	if m := most.Load(); m > concurrency {
		t.Errorf("%d requests in flight at once, want at most %d", m, concurrency)
	}
	if len(agents) != 1 || !agents["Khien/test (+https://khien.example/contact)"] {
		t.Errorf("user agents %v", agents)
	}
}

func TestApplies(t *testing.T) {
	f := Family(Config{})
	for id, want := range map[string]bool{
		"url:https://portal.example/": true, "dns:portal.example": true, "dns:_dmarc.portal.example": false,
		"ip:127.0.0.1": false, "cidr:127.0.0.0/30": false,
	} {
		if got := f.AppliesTo(inventory.Resource{ID: id}); got != want {
			t.Errorf("AppliesTo(%s) = %v, want %v", id, got, want)
		}
	}
}
