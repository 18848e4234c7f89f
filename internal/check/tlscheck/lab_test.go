package tlscheck

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/checktest"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/lab/tlslab"
	"github.com/khien-vn/khien/internal/scope"
)

// The helpers of this file run real loopback servers from tlslab and a tiny DNS server for
// names under .lab.khien.test; every connection goes through the scope guard's fenced dialer.

var (
	labOnce sync.Once
	labCA   *tlslab.CA
	labErr  error
)

// ca returns one lab CA shared by the package's tests (RSA key generation is slow).
func ca(t testing.TB) *tlslab.CA {
	t.Helper()
	labOnce.Do(func() { labCA, labErr = tlslab.NewCA() })
	if labErr != nil {
		t.Fatal(labErr)
	}
	return labCA
}

// dnsServer answers A and AAAA queries for the names in records (lower case, no final dot)
// and NXDOMAIN for everything else. It listens on 127.0.0.1 over UDP.
func dnsServer(t testing.TB, records map[string][]string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		name := strings.TrimSuffix(strings.ToLower(q.Name), ".")
		addrs, ok := records[name]
		if !ok {
			m.Rcode = dns.RcodeNameError
		}
		for _, a := range addrs {
			ip := net.ParseIP(a)
			switch {
			case q.Qtype == dns.TypeA && ip.To4() != nil:
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: ip})
			case q.Qtype == dns.TypeAAAA && ip.To4() == nil:
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: 60}, AAAA: ip})
			}
		}
		_ = w.WriteMsg(m)
	})
	srv := &dns.Server{PacketConn: pc, Handler: h}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

// resource returns a verified resource for a unified identifier.
func resource(t testing.TB, id string) inventory.Resource {
	t.Helper()
	norm, err := inventory.Normalize(id)
	if err != nil {
		t.Fatal(err)
	}
	return inventory.Resource{ID: norm, Scope: inventory.ScopeVerified}
}

// labEnv returns the guarded environment of r: loopback fence, the given DNS server (may be
// empty), the lab CA as trust store.
func labEnv(t testing.TB, r inventory.Resource, dnsAddr string, roots *x509.CertPool) check.Env {
	t.Helper()
	g := scope.New(scope.LoopbackFence(), dnsAddr, 3*time.Second)
	env, err := g.Env(r, scope.Passive, check.Env{Roots: roots, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func startTLS(t testing.TB, names []string, p tlslab.Profile) *tlslab.Server {
	t.Helper()
	s, err := tlslab.StartTLS(context.Background(), "127.0.0.1:0", ca(t), names, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func startRaw(t testing.TB, p tlslab.RawPolicy) *tlslab.Server {
	t.Helper()
	s, err := tlslab.StartRaw(context.Background(), "127.0.0.1:0", p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// urlOf is the url: resource of a lab server.
func urlOf(addr string) string { return "url:https://" + addr + "/" }

// run runs the family on r and returns its results by check id.
func run(t testing.TB, r inventory.Resource, env check.Env) map[string]check.Result {
	t.Helper()
	out := map[string]check.Result{}
	for _, res := range Family().Run(context.Background(), r, env) {
		out[res.Check] = res
	}
	return out
}

// TestChecksAgainstLab makes every check pass on a good lab host and fail on a bad one, on
// the standard lab set the demo and `khien lab` start.
func TestChecksAgainstLab(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a dozen lab servers")
	}
	c := ca(t)
	set, err := tlslab.StartSet(context.Background(), c, "127.0.0.1", []string{"good.lab.khien.test"})
	if err != nil {
		t.Fatal(err)
	}
	hosts := map[string]string{}
	for name, s := range set {
		t.Cleanup(func() { s.Close() })
		hosts[strings.TrimPrefix(name, "cert-")] = s.Addr
	}
	hosts["raw"] = hosts["raw-legacy"]
	empty := x509.NewCertPool()
	tests := []struct {
		check, host string
		roots       *x509.CertPool // nil: the lab CA
		want        check.Status
		reason      string // substring of the English reason
	}{
		{"tls.protocol.ssl3", "modern", nil, check.Pass, "alert 70 protocol_version"},
		{"tls.protocol.ssl3", "raw", nil, check.Fail, "accepts SSL 3.0 with 7 cipher suites"},
		{"tls.protocol.tls10", "modern", nil, check.Pass, ""},
		{"tls.protocol.tls10", "legacy", nil, check.Fail, "accepts TLS 1.0"},
		{"tls.protocol.tls10", "raw", nil, check.Fail, "accepts TLS 1.0"},
		{"tls.protocol.tls11", "modern", nil, check.Pass, ""},
		{"tls.protocol.tls11", "legacy", nil, check.Fail, "accepts TLS 1.1"},
		{"tls.protocol.tls11", "raw", nil, check.Pass, "answer: server_hello TLS 1.0"},
		{"tls.protocol.no_tls13", "modern", nil, check.Pass, "offers TLS 1.3"},
		{"tls.protocol.no_tls13", "legacy", nil, check.Fail, ""},
		{"tls.cipher.weak", "modern", nil, check.Pass, ""},
		{"tls.cipher.weak", "legacy", nil, check.Fail, "TLS_RSA_WITH_3DES_EDE_CBC_SHA, TLS_RSA_WITH_RC4_128_SHA"},
		{"tls.cipher.weak", "raw", nil, check.Fail, "TLS_RSA_WITH_DES_CBC_SHA, TLS_RSA_EXPORT_WITH_RC4_40_MD5, TLS_DH_anon_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_NULL_SHA"},
		{"tls.cipher.no_forward_secrecy", "modern", nil, check.Pass, ""},
		{"tls.cipher.no_forward_secrecy", "legacy", nil, check.Fail, "accepts no cipher suite with forward secrecy"},
		{"tls.cert.expired", "modern", nil, check.Pass, ""},
		{"tls.cert.expired", "expired", nil, check.Fail, "expired on"},
		{"tls.cert.expired", "not_yet_valid", nil, check.Fail, "not valid before"},
		{"tls.cert.expiring", "modern", nil, check.Pass, ""},
		{"tls.cert.expiring", "expiring", nil, check.Fail, "in 10 days"},
		{"tls.cert.untrusted", "modern", nil, check.Pass, ""},
		{"tls.cert.untrusted", "expired", nil, check.Pass, ""}, // dates are not a trust question
		{"tls.cert.untrusted", "self_signed", nil, check.Fail, "x509: certificate signed by unknown authority"},
		{"tls.cert.untrusted", "modern", empty, check.Fail, "x509: certificate signed by unknown authority"},
		{"tls.cert.hostname_mismatch", "modern", nil, check.Pass, "covers 127.0.0.1"},
		{"tls.cert.hostname_mismatch", "wrong_name", nil, check.Fail, "does not cover 127.0.0.1"},
		{"tls.cert.weak_key", "modern", nil, check.Pass, "256-bit ECDSA"},
		{"tls.cert.weak_key", "legacy", nil, check.Pass, "2048-bit RSA"},
		{"tls.cert.weak_key", "weak_key", nil, check.Fail, "1024-bit RSA"},
		{"tls.cert.weak_signature", "modern", nil, check.Pass, ""},
		{"tls.cert.weak_signature", "sha1", nil, check.Fail, "ECDSA-SHA1"},
	}
	for _, id := range Family().CheckIDs() {
		tests = append(tests, struct {
			check, host string
			roots       *x509.CertPool
			want        check.Status
			reason      string
		}{id, "modern", nil, check.Pass, ""})
	}
	cache := map[string]map[string]check.Result{}
	for _, tt := range tests {
		t.Run(tt.check+"/"+tt.host, func(t *testing.T) {
			roots := c.Pool
			key := tt.host
			if tt.roots != nil {
				roots, key = tt.roots, tt.host+"/empty-roots"
			}
			results, ok := cache[key]
			if !ok {
				r := resource(t, urlOf(hosts[tt.host]))
				results = run(t, r, labEnv(t, r, "", roots))
				cache[key] = results
			}
			got := results[tt.check]
			checktest.VietnameseOnly(t, got)
			if got.Status != tt.want || !strings.Contains(got.Reason.EN, tt.reason) {
				t.Errorf("%s on %s = %s %q; want %s containing %q", tt.check, tt.host, got.Status, got.Reason.EN, tt.want, tt.reason)
			}
		})
	}
}

// TestHostNameThroughDNS scans names, resolved by the lab DNS, so SNI is sent and the name
// (not the address) is matched.
func TestHostNameThroughDNS(t *testing.T) {
	c := ca(t)
	srv := startTLS(t, []string{"good.lab.khien.test"}, tlslab.Modern)
	_, port, _ := net.SplitHostPort(srv.Addr)
	dnsAddr := dnsServer(t, map[string][]string{
		"good.lab.khien.test":  {"127.0.0.1"},
		"other.lab.khien.test": {"127.0.0.1"},
	})
	for _, tt := range []struct {
		name string
		want check.Status
	}{
		{"good.lab.khien.test", check.Pass},
		{"other.lab.khien.test", check.Fail},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := resource(t, "url:https://"+tt.name+":"+port+"/")
			got := run(t, r, labEnv(t, r, dnsAddr, c.Pool))["tls.cert.hostname_mismatch"]
			if got.Status != tt.want {
				t.Errorf("hostname_mismatch for %s = %s (%s), want %s", tt.name, got.Status, got.Reason.EN, tt.want)
			}
			if want := tt.name + "|127.0.0.1:" + port; got.Endpoint != want {
				t.Errorf("endpoint = %q, want %q", got.Endpoint, want)
			}
			eps := got.Evidence["endpoints"].([]map[string]any)
			if eps[0]["sni"] != tt.name {
				t.Errorf("evidence sni = %v, want %s", eps[0]["sni"], tt.name)
			}
		})
	}
}

// TestWorstEndpointDecides gives one name two addresses on one port: a legacy raw responder
// and a modern host. The legacy address decides, and both addresses keep their evidence.
func TestWorstEndpointDecides(t *testing.T) {
	c := ca(t)
	const name = "mixed.lab.khien.test"
	m, err := tlslab.StartMixed(context.Background(), c, []string{name}, "127.0.0.2", "127.0.0.3")
	if err != nil {
		t.Skipf("loopback aliases 127.0.0.2 and 127.0.0.3 are not available: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	dnsAddr := dnsServer(t, map[string][]string{name: {"127.0.0.3", "127.0.0.2"}})
	r := resource(t, "url:https://"+name+":"+strconv.Itoa(m.Port)+"/")
	results := run(t, r, labEnv(t, r, dnsAddr, c.Pool))

	legacyEP := name + "|127.0.0.2:" + strconv.Itoa(m.Port)
	for _, tt := range []struct {
		check    string
		want     check.Status
		statuses []string // per endpoint, in address order
	}{
		{"tls.protocol.ssl3", check.Fail, []string{"fail", "pass"}},
		{"tls.protocol.tls10", check.Fail, []string{"fail", "pass"}},
		{"tls.protocol.no_tls13", check.Fail, []string{"fail", "pass"}},
		{"tls.cipher.weak", check.Fail, []string{"fail", "pass"}},
		{"tls.cipher.no_forward_secrecy", check.Fail, []string{"fail", "pass"}},
		{"tls.cert.untrusted", check.Pass, []string{"pass", "pass"}},
		{"tls.cert.hostname_mismatch", check.Pass, []string{"pass", "pass"}},
	} {
		got := results[tt.check]
		if got.Status != tt.want {
			t.Errorf("%s = %s (%s), want %s", tt.check, got.Status, got.Reason.EN, tt.want)
		}
		if tt.want == check.Fail && (got.Endpoint != legacyEP || !strings.Contains(got.Reason.EN, "1 of 2 addresses")) {
			t.Errorf("%s: endpoint %q reason %q; want %q and \"1 of 2 addresses\"", tt.check, got.Endpoint, got.Reason.EN, legacyEP)
		}
		eps := got.Evidence["endpoints"].([]map[string]any)
		var statuses []string
		for _, e := range eps {
			statuses = append(statuses, e["status"].(string))
		}
		if strings.Join(statuses, ",") != strings.Join(tt.statuses, ",") {
			t.Errorf("%s: per-endpoint statuses %v, want %v", tt.check, statuses, tt.statuses)
		}
	}
}

// TestIPv6Endpoint resolves a name to ::1 only (AAAA).
func TestIPv6Endpoint(t *testing.T) {
	c := ca(t)
	s, err := tlslab.StartTLS(context.Background(), "[::1]:0", c, []string{"v6.lab.khien.test"}, tlslab.Modern)
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	_, port, _ := net.SplitHostPort(s.Addr)
	dnsAddr := dnsServer(t, map[string][]string{"v6.lab.khien.test": {"::1"}})
	r := resource(t, "url:https://v6.lab.khien.test:"+port+"/")
	for id, res := range run(t, r, labEnv(t, r, dnsAddr, c.Pool)) {
		if res.Status != check.Pass {
			t.Errorf("%s = %s (%s), want pass", id, res.Status, res.Reason.EN)
		}
		if want := "v6.lab.khien.test|[::1]:" + port; res.Endpoint != want {
			t.Errorf("%s endpoint = %q, want %q", id, res.Endpoint, want)
		}
	}
}

// TestNothingListening: a closed port makes every check not applicable, not failing.
func TestNothingListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := resource(t, urlOf(addr))
	for id, res := range run(t, r, labEnv(t, r, "", ca(t).Pool)) {
		checktest.VietnameseOnly(t, res)
		if res.Status != check.NotApplicable || !strings.Contains(res.Reason.EN, "Nothing listens") {
			t.Errorf("%s = %s (%s), want not_applicable", id, res.Status, res.Reason.EN)
		}
	}
}

// TestNotTLS: a plain HTTP server is not a TLS service; every check is not applicable.
func TestNotTLS(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	r := resource(t, urlOf(strings.TrimPrefix(srv.URL, "http://")))
	for id, res := range run(t, r, labEnv(t, r, "", ca(t).Pool)) {
		if res.Status != check.NotApplicable {
			t.Errorf("%s = %s (%s), want not_applicable", id, res.Status, res.Reason.EN)
		}
	}
}

// TestSilentServer: a server that accepts and never answers makes every check an error
// (after the timeout), never a failure.
func TestSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	r := resource(t, urlOf(ln.Addr().String()))
	env := labEnv(t, r, "", ca(t).Pool)
	env.Timeout = 200 * time.Millisecond
	for id, res := range run(t, r, env) {
		if res.Status != check.Error {
			t.Errorf("%s = %s (%s), want error", id, res.Status, res.Reason.EN)
		}
		// The Vietnamese says it in words; the English and the evidence keep Go's text.
		checktest.VietnameseOnly(t, res)
		if !strings.Contains(res.Reason.VI, "hết thời gian chờ") {
			t.Errorf("%s: Vietnamese reason %q does not say the server timed out", id, res.Reason.VI)
		}
		if ev, _ := json.Marshal(res.Evidence); !strings.Contains(res.Reason.EN+string(ev), "i/o timeout") {
			t.Errorf("%s: neither the English reason %q nor the evidence %s keep the error", id, res.Reason.EN, ev)
		}
	}
}

// TestHandshakesAndPoliteness checks the cost model on real servers: a version costs its
// accepted suites plus one handshake, the certificate one more, every connection reaches the
// server, and no more than six are open at once.
func TestHandshakesAndPoliteness(t *testing.T) {
	c := ca(t)
	raw, err := tlslab.LegacyRawPolicy(c, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		srv  *tlslab.Server
	}{
		{"modern", startTLS(t, []string{"127.0.0.1"}, tlslab.Modern)},
		{"legacy", startTLS(t, []string{"127.0.0.1"}, tlslab.Legacy)},
		{"raw", startRaw(t, raw)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := resource(t, urlOf(tt.srv.Addr))
			env := labEnv(t, r, "", c.Pool)
			var mu sync.Mutex
			open, peak := 0, 0
			dial := env.Dial
			env.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
				conn, err := dial(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				mu.Lock()
				open++
				peak = max(peak, open)
				mu.Unlock()
				return &trackedConn{Conn: conn, close: func() { mu.Lock(); open--; mu.Unlock() }}, nil
			}
			before := tt.srv.Conns()
			o, err := observe(context.Background(), r, env)
			if err != nil {
				t.Fatal(err)
			}
			e := o.Endpoints[0]
			want := 1 // the certificate handshake
			for _, p := range e.Protocols {
				n := len(p.Suites) + 1
				if len(p.Suites) == len(p.Offered) {
					n-- // every offered suite accepted: nothing left to offer
				}
				if len(p.Probes) != n {
					t.Errorf("%s: %d probes, want accepted+1 = %d", VersionName(p.Version), len(p.Probes), n)
				}
				want += n
			}
			if e.Handshakes != want {
				t.Errorf("Handshakes = %d, want %d", e.Handshakes, want)
			}
			if got := tt.srv.Conns() - before; got != int64(want) {
				t.Errorf("server saw %d connections, want %d", got, want)
			}
			if peak > maxConnsPerIP {
				t.Errorf("%d connections open at once, want at most %d", peak, maxConnsPerIP)
			}
			if open != 0 {
				t.Errorf("%d connections left open", open)
			}
			t.Logf("%s: %d handshakes, peak %d concurrent", tt.name, e.Handshakes, peak)
		})
	}
}

type trackedConn struct {
	net.Conn
	once  sync.Once
	close func()
}

func (c *trackedConn) Close() error {
	c.once.Do(c.close)
	return c.Conn.Close()
}

func TestTargetOf(t *testing.T) {
	tests := []struct {
		id        string
		want      target
		wantError bool
	}{
		{"dns:portal.lab.khien.test", target{host: "portal.lab.khien.test", port: 443, isName: true, checkName: true}, false},
		{"ip:192.0.2.7", target{host: "192.0.2.7", port: 443}, false},
		{"ip:2001:db8::7", target{host: "2001:db8::7", port: 443}, false},
		{"url:https://portal.lab.khien.test:8443/app", target{host: "portal.lab.khien.test", port: 8443, isName: true, checkName: true}, false},
		{"url:https://192.0.2.7/", target{host: "192.0.2.7", port: 443, checkName: true}, false},
		{"url:https://[2001:db8::7]:9443/", target{host: "2001:db8::7", port: 9443, checkName: true}, false},
		{"url:http://portal.lab.khien.test/", target{}, true},
		{"cidr:192.0.2.0/28", target{}, true},
		{"host:agent-1", target{}, true},
	}
	for _, tt := range tests {
		r := resource(t, tt.id)
		got, err := targetOf(r)
		if (err != nil) != tt.wantError || got != tt.want {
			t.Errorf("targetOf(%s) = %+v, %v; want %+v, error %v", tt.id, got, err, tt.want, tt.wantError)
		}
		if applies(r) == tt.wantError {
			t.Errorf("applies(%s) = %v", tt.id, !tt.wantError)
		}
	}
}
