package dnslab

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"net/smtp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func startLab(t testing.TB) *Lab {
	t.Helper()
	l, err := StartLab(t.Context(), LabConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func query(t testing.TB, server, network, name string, qtype uint16, do bool) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(4096, do)
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	in, _, err := c.Exchange(m, server)
	if err != nil {
		t.Fatalf("query %s %s: %v", name, dns.TypeToString[qtype], err)
	}
	return in
}

func count(rrs []dns.RR, t uint16) int {
	n := 0
	for _, rr := range rrs {
		if rr.Header().Rrtype == t {
			n++
		}
	}
	return n
}

func TestAnswers(t *testing.T) {
	l := startLab(t)
	tests := []struct {
		name      string
		qname     string
		qtype     uint16
		do        bool
		wantRcode int
		wantTypes map[uint16]int // answer record counts by type
		wantAD    bool
	}{
		{"A at signed apex", GoodDomain, dns.TypeA, false, dns.RcodeSuccess, map[uint16]int{dns.TypeA: 1}, false},
		{"A with DO", GoodDomain, dns.TypeA, true, dns.RcodeSuccess, map[uint16]int{dns.TypeA: 1, dns.TypeRRSIG: 1}, true},
		{"DNSKEY", GoodDomain, dns.TypeDNSKEY, true, dns.RcodeSuccess, map[uint16]int{dns.TypeDNSKEY: 1, dns.TypeRRSIG: 1}, true},
		{"DS from the parent", GoodDomain, dns.TypeDS, true, dns.RcodeSuccess, map[uint16]int{dns.TypeDS: 1}, false},
		{"unsigned zone has no DNSKEY", BadDomain, dns.TypeDNSKEY, true, dns.RcodeSuccess, map[uint16]int{}, false},
		{"CNAME followed", "www." + GoodDomain, dns.TypeA, false, dns.RcodeSuccess, map[uint16]int{dns.TypeCNAME: 1, dns.TypeA: 1}, false},
		{"dangling CNAME", BadDangling, dns.TypeA, false, dns.RcodeNameError, map[uint16]int{dns.TypeCNAME: 1}, false},
		{"missing name", "nothing." + GoodDomain, dns.TypeA, false, dns.RcodeNameError, map[uint16]int{}, false},
		{"name above the zones", "khien.test", dns.TypeA, false, dns.RcodeSuccess, map[uint16]int{}, false},
		{"name in no zone", BadDanglingTarget, dns.TypeA, false, dns.RcodeNameError, map[uint16]int{}, false},
		{"two SPF records", BadSPFMultiple, dns.TypeTXT, false, dns.RcodeSuccess, map[uint16]int{dns.TypeTXT: 2}, false},
		{"null MX", GoodNullMX, dns.TypeMX, false, dns.RcodeSuccess, map[uint16]int{dns.TypeMX: 1}, false},
		{"CAA", GoodDomain, dns.TypeCAA, false, dns.RcodeSuccess, map[uint16]int{dns.TypeCAA: 2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := query(t, l.DNS.Addr(), "udp", tt.qname, tt.qtype, tt.do)
			if in.Rcode != tt.wantRcode {
				t.Errorf("rcode = %s, want %s", dns.RcodeToString[in.Rcode], dns.RcodeToString[tt.wantRcode])
			}
			if !in.RecursionAvailable {
				t.Error("RA not set")
			}
			if in.AuthenticatedData != tt.wantAD {
				t.Errorf("AD = %v, want %v", in.AuthenticatedData, tt.wantAD)
			}
			total := 0
			for typ, n := range tt.wantTypes {
				total += n
				if got := count(in.Answer, typ); got != n {
					t.Errorf("%d %s records, want %d; answer %v", got, dns.TypeToString[typ], n, in.Answer)
				}
			}
			if len(in.Answer) != total {
				t.Errorf("answer has %d records, want %d: %v", len(in.Answer), total, in.Answer)
			}
		})
	}
}

func TestSignaturesVerify(t *testing.T) {
	l := startLab(t)
	keys := query(t, l.DNS.Addr(), "udp", GoodDomain, dns.TypeDNSKEY, true)
	var key *dns.DNSKEY
	for _, rr := range keys.Answer {
		if k, ok := rr.(*dns.DNSKEY); ok {
			key = k
		}
	}
	if key == nil {
		t.Fatal("no DNSKEY")
	}
	ds := query(t, l.DNS.Addr(), "udp", GoodDomain, dns.TypeDS, false)
	if len(ds.Answer) != 1 || ds.Answer[0].(*dns.DS).Digest != key.ToDS(dns.SHA256).Digest {
		t.Errorf("DS %v does not match DNSKEY", ds.Answer)
	}
	for _, qt := range []uint16{dns.TypeDNSKEY, dns.TypeSOA, dns.TypeMX, dns.TypeTXT, dns.TypeCAA} {
		in := query(t, l.DNS.Addr(), "tcp", GoodDomain, qt, true)
		var set []dns.RR
		var sig *dns.RRSIG
		for _, rr := range in.Answer {
			if s, ok := rr.(*dns.RRSIG); ok {
				sig = s
			} else {
				set = append(set, rr)
			}
		}
		if sig == nil {
			t.Errorf("%s: no RRSIG", dns.TypeToString[qt])
			continue
		}
		if err := sig.Verify(key, set); err != nil {
			t.Errorf("%s: RRSIG does not verify: %v", dns.TypeToString[qt], err)
		}
		if !sig.ValidityPeriod(time.Now()) {
			t.Errorf("%s: RRSIG not valid now", dns.TypeToString[qt])
		}
	}
}

func TestSetAfterStart(t *testing.T) {
	l := startLab(t)
	s := l.DNS
	if err := s.SetA("web.portal.lab.khien.test", netip.MustParseAddr("127.0.0.9"), netip.MustParseAddr("::1")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTXT("_khien-challenge.portal.example", "token-123"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetA("mx1."+GoodDomain, netip.MustParseAddr("127.0.0.99")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetText("api." + GoodDomain + ". 60 TXT \"hello\""); err != nil {
		t.Fatal(err)
	}
	if in := query(t, s.Addr(), "udp", "web.portal.lab.khien.test", dns.TypeAAAA, false); count(in.Answer, dns.TypeAAAA) != 1 {
		t.Errorf("AAAA answer %v", in.Answer)
	}
	if in := query(t, s.Addr(), "udp", "portal.lab.khien.test", dns.TypeA, false); in.Rcode != dns.RcodeSuccess || len(in.Answer) != 0 {
		t.Errorf("empty non-terminal: rcode %s, answer %v", dns.RcodeToString[in.Rcode], in.Answer)
	}
	if in := query(t, s.Addr(), "udp", "_khien-challenge.portal.example", dns.TypeTXT, false); len(in.Answer) != 1 || in.Answer[0].(*dns.TXT).Txt[0] != "token-123" {
		t.Errorf("TXT answer %v", in.Answer)
	}
	in := query(t, s.Addr(), "udp", "mx1."+GoodDomain, dns.TypeA, true)
	if len(in.Answer) != 2 || in.Answer[0].(*dns.A).A.String() != "127.0.0.99" {
		t.Fatalf("A answer %v", in.Answer)
	}
	keys := query(t, s.Addr(), "udp", GoodDomain, dns.TypeDNSKEY, false)
	if err := in.Answer[1].(*dns.RRSIG).Verify(keys.Answer[0].(*dns.DNSKEY), in.Answer[:1]); err != nil {
		t.Errorf("re-signed RRset does not verify: %v", err)
	}
	if err := s.Delete("api."+GoodDomain, dns.TypeTXT); err != nil {
		t.Fatal(err)
	}
	if in := query(t, s.Addr(), "udp", "api."+GoodDomain, dns.TypeTXT, false); in.Rcode != dns.RcodeNameError {
		t.Errorf("deleted name: rcode %s", dns.RcodeToString[in.Rcode])
	}
}

func TestTransfer(t *testing.T) {
	l := startLab(t)
	tests := []struct {
		zone      string
		wantRcode int
	}{
		{BadDomain, dns.RcodeSuccess},
		{GoodDomain, dns.RcodeRefused},
		{"www." + GoodDomain, dns.RcodeNotAuth},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetAxfr(dns.Fqdn(tt.zone))
			tr := &dns.Transfer{}
			ch, err := tr.In(m, l.DNS.Addr())
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			var xerr error
			for env := range ch {
				if env.Error != nil {
					xerr = env.Error
					break
				}
				n += len(env.RR)
			}
			if tt.wantRcode == dns.RcodeSuccess {
				if xerr != nil || n < 20 {
					t.Errorf("transfer: %d records, error %v", n, xerr)
				}
			} else if xerr == nil {
				t.Errorf("transfer succeeded with %d records, want %s", n, dns.RcodeToString[tt.wantRcode])
			}
		})
	}
}

func TestTruncation(t *testing.T) {
	l := startLab(t)
	var txt []string
	for i := range 40 {
		txt = append(txt, strings.Repeat("x", 30)+strconv.Itoa(i))
	}
	if err := l.DNS.SetTXT("big."+BadDomain, txt...); err != nil {
		t.Fatal(err)
	}
	m := new(dns.Msg)
	m.SetQuestion("big."+BadDomain+".", dns.TypeTXT)
	in, _, err := (&dns.Client{Net: "udp"}).Exchange(m, l.DNS.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if !in.Truncated {
		t.Errorf("a %d-record answer over UDP without EDNS is not truncated", len(in.Answer))
	}
	if in := query(t, l.DNS.Addr(), "tcp", "big."+BadDomain, dns.TypeTXT, false); len(in.Answer) != 40 {
		t.Errorf("TCP answer has %d records, want 40", len(in.Answer))
	}
}

func TestSMTP(t *testing.T) {
	l := startLab(t)
	tests := []struct {
		name         string
		addr         string
		wantSTARTTLS bool
	}{
		{"good", l.GoodMX.Addr(), true},
		{"bad", l.BadMX.Addr(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := smtp.Dial(tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Hello("client.lab.khien.test"); err != nil {
				t.Fatal(err)
			}
			ok, _ := c.Extension("STARTTLS")
			if ok != tt.wantSTARTTLS {
				t.Fatalf("STARTTLS advertised = %v, want %v", ok, tt.wantSTARTTLS)
			}
			if ok {
				if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true}); err != nil {
					t.Fatalf("STARTTLS: %v", err)
				}
				if st, _ := c.TLSConnectionState(); st.Version < tls.VersionTLS12 {
					t.Errorf("TLS version %x", st.Version)
				}
			}
			if err := c.Quit(); err != nil {
				t.Errorf("QUIT: %v", err)
			}
		})
	}
	if l.GoodMX.Port() != l.BadMX.Port() {
		t.Errorf("MX ports differ: %d, %d", l.GoodMX.Port(), l.BadMX.Port())
	}
}

func TestBenchHosts(t *testing.T) {
	l := startLab(t)
	hosts, err := l.DNS.AddBenchHosts(300)
	if err != nil {
		t.Fatal(err)
	}
	if hosts[0].Name != "h0001.bench.lab.khien.test" || hosts[250].Addr != netip.MustParseAddr("127.0.2.1") {
		t.Errorf("hosts[0] = %v, hosts[250] = %v", hosts[0], hosts[250])
	}
	in := query(t, l.DNS.Addr(), "udp", hosts[299].Name, dns.TypeA, false)
	if len(in.Answer) != 1 || in.Answer[0].(*dns.A).A.String() != hosts[299].Addr.String() {
		t.Errorf("answer %v, want %v", in.Answer, hosts[299].Addr)
	}
}

func TestCloseOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	l, err := StartLab(ctx, LabConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	// Close after cancel must still return, and the servers must be gone afterwards.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{l.GoodMX.Addr(), l.BadMX.Addr(), l.DNS.Addr()} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still listening after Close", addr)
		}
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:53", ":0"} {
		if s, err := Start(t.Context(), Config{Addr: addr}); err == nil {
			s.Close()
			t.Errorf("Start(%q) succeeded", addr)
		}
		if s, err := StartSMTP(t.Context(), SMTPConfig{Addr: addr}); err == nil {
			s.Close()
			t.Errorf("StartSMTP(%q) succeeded", addr)
		}
	}
}
