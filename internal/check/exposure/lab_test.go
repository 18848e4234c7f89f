package exposure

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/lab/exposurelab"
	"github.com/khien-vn/khien/internal/scope"
)

// startDNS answers A and AAAA questions for the names in records, on 127.0.0.1:0 over UDP.
func startDNS(t testing.TB, records map[string][]netip.Addr) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		addrs, ok := records[strings.TrimSuffix(strings.ToLower(q.Name), ".")]
		if !ok {
			m.Rcode = dns.RcodeNameError
		}
		for _, a := range addrs {
			hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 60, Rrtype: q.Qtype}
			switch {
			case q.Qtype == dns.TypeA && a.Is4():
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: a.AsSlice()})
			case q.Qtype == dns.TypeAAAA && a.Is6():
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: a.AsSlice()})
			}
		}
		_ = w.WriteMsg(m)
	})
	srv := &dns.Server{PacketConn: pc, Handler: handler}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

// labEnv is the environment the scope guard builds for r: fenced to loopback, names
// resolved by the test's own DNS server.
func labEnv(t testing.TB, dnsAddr string, r inventory.Resource) check.Env {
	t.Helper()
	g := scope.New(scope.LoopbackFence(), dnsAddr, 2*time.Second)
	env, err := g.Env(r, scope.Active, check.Env{Timeout: 2 * time.Second, UserAgent: "Khien-test (+mailto:lab@khien.test)"})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func verified(id string) inventory.Resource {
	return inventory.Resource{ID: id, System: "lab", Scope: inventory.ScopeVerified}
}

// noServices keeps the service half of the family quiet in tests of the web half.
func noServices(web map[string][]int) map[string][]int {
	m := map[string][]int{HTTP: {}, HTTPS: {}}
	for _, p := range protocols {
		m[p.name] = []int{}
	}
	for k, v := range web {
		m[k] = v
	}
	return m
}

func results(rs []check.Result) map[string]check.Result {
	m := map[string]check.Result{}
	for _, r := range rs {
		m[r.Check] = r
	}
	return m
}

func TestWebLab(t *testing.T) {
	ctx := t.Context()
	ip := netip.MustParseAddr("127.0.20.1")
	exposed, err := exposurelab.StartWeb(ctx, ip, exposurelab.ExposedSite())
	if err != nil {
		t.Fatal(err)
	}
	defer exposed.Close()
	exposedTLS, err := exposurelab.StartWebTLS(ctx, ip, exposurelab.ExposedSite())
	if err != nil {
		t.Fatal(err)
	}
	defer exposedTLS.Close()
	clean, err := exposurelab.StartWeb(ctx, ip, exposurelab.CleanSite(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer clean.Close()
	// A plain-HTTP front that sends everything to the exposed site over HTTPS.
	upgrade, err := exposurelab.StartWeb(ctx, ip, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://cong.lab.khien.test:"+strconv.Itoa(exposedTLS.Port())+r.URL.Path, http.StatusMovedPermanently)
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer upgrade.Close()
	dnsAddr := startDNS(t, map[string][]netip.Addr{
		"cong.lab.khien.test": {ip},
		"sach.lab.khien.test": {ip},
	})

	allFail := map[string]check.Status{
		"exposure.git": check.Fail, "exposure.env": check.Fail, "exposure.backup": check.Fail,
		"exposure.directory_listing": check.Fail, "exposure.admin_interface": check.Fail,
		"exposure.security_txt.missing": check.Fail,
	}
	allPass := map[string]check.Status{
		"exposure.git": check.Pass, "exposure.env": check.Pass, "exposure.backup": check.Pass,
		"exposure.directory_listing": check.Pass, "exposure.admin_interface": check.Pass,
		"exposure.security_txt.missing": check.Pass,
	}
	port := func(s *exposurelab.Server) string { return strconv.Itoa(s.Port()) }
	tests := []struct {
		name     string
		resource string
		ports    map[string][]int
		want     map[string]check.Status
	}{
		{"exposed url", "url:http://cong.lab.khien.test:" + port(exposed) + "/", nil, allFail},
		{"exposed ip", "ip:127.0.20.1", map[string][]int{HTTP: {exposed.Port()}}, allFail},
		{"exposed name over https", "dns:cong.lab.khien.test", map[string][]int{HTTPS: {exposedTLS.Port()}}, allFail},
		{"exposed behind an http to https redirect", "url:http://cong.lab.khien.test:" + port(upgrade) + "/", nil, allFail},
		{"exposed app in a sub-directory", "url:http://cong.lab.khien.test:" + port(exposed) + "/cong/index.php", nil, allFail},
		{"clean soft-404 url", "url:http://sach.lab.khien.test:" + port(clean) + "/", nil, allPass},
		{"clean soft-404 name", "dns:sach.lab.khien.test", map[string][]int{HTTP: {clean.Port()}}, allPass},
		// The worst endpoint decides: a clean HTTP site does not hide a leaking HTTPS one.
		{"clean http, exposed https", "dns:sach.lab.khien.test", map[string][]int{HTTP: {clean.Port()}, HTTPS: {exposedTLS.Port()}}, allFail},
		{"nothing listening", "dns:sach.lab.khien.test", map[string][]int{HTTP: {closedPort(t)}}, map[string]check.Status{
			"exposure.git": check.NotApplicable, "exposure.security_txt.missing": check.NotApplicable,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := verified(tt.resource)
			env := labEnv(t, dnsAddr, r)
			got := results(Family(Options{Ports: noServices(tt.ports)}).Run(ctx, r, env))
			for id, want := range tt.want {
				res := got[id]
				if res.Status != want {
					t.Errorf("%s = %s (%s), want %s", id, res.Status, res.Reason.EN, want)
				}
				if res.Reason.VI == "" || res.Reason.EN == "" {
					t.Errorf("%s has no bilingual reason: %+v", id, res.Reason)
				}
			}
		})
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}

// TestExposedEvidence checks that a hit keeps Appendix A's evidence and never the secret.
func TestExposedEvidence(t *testing.T) {
	ctx := t.Context()
	ip := netip.MustParseAddr("127.0.20.3")
	srv, err := exposurelab.StartWeb(ctx, ip, exposurelab.ExposedSite())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	r := verified("url:" + srv.URL + "/")
	env := labEnv(t, "", r)
	got := results(Family(Options{Ports: noServices(nil)}).Run(ctx, r, env))
	env2 := got["exposure.env"]
	if env2.Status != check.Fail || env2.Endpoint != srv.URL+"/.env" {
		t.Fatalf("exposure.env = %s at %q, want fail at %s/.env", env2.Status, env2.Endpoint, srv.URL)
	}
	b, err := json.Marshal(env2.Evidence)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"sha256"`, `"soft404_baseline"`, `"similarity"`, `"content_type"`, `"status":206`, "DB_PASSWORD"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("evidence lacks %s: %s", want, b)
		}
	}
	if strings.Contains(string(b), "lab-placeholder") {
		t.Errorf("evidence holds the secret value: %s", b)
	}
	if l := got["exposure.directory_listing"]; l.Endpoint != srv.URL+"/tai-lieu/" {
		t.Errorf("directory listing found at %q, want %s/tai-lieu/ (derived from the home page's links)", l.Endpoint, srv.URL)
	}
}

func TestServiceLab(t *testing.T) {
	ctx := t.Context()
	ip := netip.MustParseAddr("127.0.20.4")
	svcs, err := exposurelab.StartServices(ctx, ip)
	if err != nil {
		t.Fatal(err)
	}
	defer svcs.Close()
	lp := svcs.Ports()
	if len(lp) != len(protocols) {
		t.Fatalf("lab started %d protocols, the family knows %d", len(lp), len(protocols))
	}
	closed := closedPort(t)
	onlyWeb := func(m map[string][]int) map[string][]int {
		m[HTTP], m[HTTPS] = []int{}, []int{}
		return m
	}
	allOn := func(port int) map[string][]int {
		m := map[string][]int{}
		for _, p := range protocols {
			m[p.name] = []int{port}
		}
		return onlyWeb(m)
	}
	// Each protocol tried on another protocol's listener: open, but not it.
	crossed := map[string][]int{}
	for i, p := range protocols {
		other := protocols[(i+1)%len(protocols)].name
		crossed[p.name] = lp[other]
	}
	tests := []struct {
		name      string
		ports     map[string][]int
		wantState string
		want      check.Status
	}{
		{"every protocol answers", onlyWeb(lp), svcIdentified, check.Fail},
		{"closed ports", allOn(closed), svcClosed, check.Pass},
		{"open but another protocol", onlyWeb(crossed), svcOther, check.Pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := verified("ip:" + ip.String())
			env := labEnv(t, "", r)
			env.Timeout = 500 * time.Millisecond // silent listeners wait this long
			o, err := observe(ctx, r, env, Options{Ports: tt.ports})
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Services) != len(protocols) {
				t.Fatalf("%d service probes, want %d", len(o.Services), len(protocols))
			}
			for _, sp := range o.Services {
				if sp.State != tt.wantState {
					t.Errorf("%s on %s: state %s (%v, %s), want %s", sp.Protocol, sp.Endpoint, sp.State, sp.Details, sp.Err, tt.wantState)
				}
			}
			for _, id := range []string{"exposure.service.database", "exposure.service.remote_admin"} {
				var res check.Result
				for _, c := range Family(Options{}).Checks {
					if c.ID == id {
						res = c.Evaluate(o)
					}
				}
				if res.Status != tt.want {
					t.Errorf("%s = %s (%s), want %s", id, res.Status, res.Reason.EN, tt.want)
				}
			}
		})
	}
}

// TestServiceDetails checks what each handshake learns from the lab's listeners.
func TestServiceDetails(t *testing.T) {
	ctx := t.Context()
	ip := netip.MustParseAddr("127.0.20.5")
	svcs, err := exposurelab.StartServices(ctx, ip)
	if err != nil {
		t.Fatal(err)
	}
	defer svcs.Close()
	ports := svcs.Ports()
	ports[HTTP], ports[HTTPS] = []int{}, []int{}
	r := verified("dns:db.lab.khien.test")
	env := labEnv(t, startDNS(t, map[string][]netip.Addr{"db.lab.khien.test": {ip}}), r)
	o, err := observe(ctx, r, env, Options{Ports: ports})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		PostgreSQL:    {"auth": "SASL SCRAM-SHA-256", "ssl": "not offered"},
		MySQL:         {"version": "8.0.36-khien-lab", "auth": "caching_sha2_password"},
		MSSQL:         {"version": "16.0.1000", "product": "SQL Server 2022"},
		MongoDB:       {"max_wire_version": "21", "version": "7.0+", "primary": "true"},
		Redis:         {"auth": "required (NOAUTH)"},
		Elasticsearch: {"version": "8.13.4", "cluster_name": "khien-lab", "product": "Elasticsearch"},
		RDP:           {"security": "CredSSP (NLA)", "nla": "true"},
		Telnet:        {"negotiation": "WILL ECHO, WILL SUPPRESS-GO-AHEAD, DO NAWS"},
		VNC:           {"version": "RFB 003.008", "security": "VNC Authentication"},
		SMB:           {"dialect": "3.0.2", "signing": "enabled, not required"},
	}
	for _, sp := range o.Services {
		if !strings.HasPrefix(sp.Endpoint, "db.lab.khien.test|127.0.20.5:") {
			t.Errorf("endpoint %q, want db.lab.khien.test|127.0.20.5:port", sp.Endpoint)
		}
		for k, v := range want[sp.Protocol] {
			if sp.Details[k] != v {
				t.Errorf("%s detail %s = %q, want %q (all: %v)", sp.Protocol, k, sp.Details[k], v, sp.Details)
			}
		}
	}
}

// TestObserveErrors: a name that does not resolve makes every check report error.
func TestObserveErrors(t *testing.T) {
	r := verified("dns:khong-co.lab.khien.test")
	env := labEnv(t, startDNS(t, nil), r)
	for _, res := range Family(Options{}).Run(context.Background(), r, env) {
		if res.Status != check.Error {
			t.Errorf("%s = %s, want error", res.Check, res.Status)
		}
	}
}
