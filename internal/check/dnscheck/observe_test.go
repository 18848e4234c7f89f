package dnscheck

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/lab/dnslab"
	"github.com/khien-vn/khien/internal/scope"
)

const (
	pass = check.Pass
	fail = check.Fail
	na   = check.NotApplicable
	erro = check.Error
)

// TestLab runs every family against the lab's good and bad names, through the real scope
// guard, and checks each verdict.
func TestLab(t *testing.T) {
	l := startLab(t)
	opts := labOptions(l)
	tests := []struct {
		name string
		want map[string]check.Status
	}{
		{dnslab.GoodDomain, map[string]check.Status{
			"dns.dnssec.missing": pass, "dns.caa.missing": pass, "dns.cname.dangling": pass, "dns.axfr.open": pass,
			"mail.spf.missing": pass, "mail.spf.permissive": pass, "mail.dmarc.missing": pass, "mail.dmarc.weak": pass,
			"mail.starttls.missing": pass,
		}},
		{dnslab.GoodNullMX, map[string]check.Status{
			"dns.dnssec.missing": pass, "dns.caa.missing": pass, "dns.cname.dangling": na,
			"mail.spf.missing": pass, "mail.spf.permissive": pass, "mail.dmarc.missing": pass, "mail.dmarc.weak": pass,
			"mail.starttls.missing": na,
		}},
		{dnslab.BadDomain, map[string]check.Status{
			"dns.dnssec.missing": fail, "dns.caa.missing": fail, "dns.cname.dangling": fail, "dns.axfr.open": fail,
			"mail.spf.missing": pass, "mail.spf.permissive": fail, "mail.dmarc.missing": pass, "mail.dmarc.weak": fail,
			"mail.starttls.missing": fail,
		}},
		{dnslab.BadDangling, map[string]check.Status{"dns.cname.dangling": fail, "dns.axfr.open": fail}},
		{dnslab.BadSPFLookups, map[string]check.Status{
			"mail.spf.missing": pass, "mail.spf.permissive": fail, "mail.dmarc.missing": fail, "mail.dmarc.weak": na,
			"mail.starttls.missing": na,
		}},
		{dnslab.GoodSPFRedirect, map[string]check.Status{"mail.spf.missing": pass, "mail.spf.permissive": pass, "mail.dmarc.weak": pass}},
		{dnslab.BadSPFIncludesPassAll, map[string]check.Status{"mail.spf.missing": pass, "mail.spf.permissive": fail}},
		{dnslab.BadSPFLoop, map[string]check.Status{"mail.spf.missing": pass, "mail.spf.permissive": fail}},
		{dnslab.BadSPFMultiple, map[string]check.Status{"mail.spf.missing": pass, "mail.spf.permissive": fail}},
		{dnslab.BadSPFVoid, map[string]check.Status{"mail.spf.missing": pass, "mail.spf.permissive": fail}},
		{dnslab.BadNoSPF, map[string]check.Status{
			"dns.cname.dangling": na, "mail.spf.missing": fail, "mail.spf.permissive": na, "mail.dmarc.missing": fail,
			"mail.dmarc.weak": na, "mail.starttls.missing": na,
		}},
		{dnslab.BadMixedMX, map[string]check.Status{
			"mail.spf.permissive": pass, "mail.dmarc.weak": pass, "mail.starttls.missing": fail,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := resource(tt.name)
			got := map[string]check.Result{}
			for _, f := range Families(opts) {
				level := scope.Passive
				if f.IsActive() {
					level = scope.Active
				}
				for id, res := range statuses(t, f, r, labEnv(t, l.DNS.Addr(), r, level)) {
					got[id] = res
				}
			}
			for id, want := range tt.want {
				res := got[id]
				if res.Status != want {
					ev, _ := json.MarshalIndent(res.Evidence, "", "  ")
					t.Errorf("%s = %s, want %s\nreason: %s\nevidence: %s", id, res.Status, want, res.Reason.EN, ev)
				}
			}
			for id, res := range got {
				if res.Reason.VI == "" || res.Reason.EN == "" || res.Evidence == nil {
					t.Errorf("%s: reason %+v, evidence %v: want both languages and evidence", id, res.Reason, res.Evidence)
				}
				if _, err := json.Marshal(res.Evidence); err != nil {
					t.Errorf("%s: evidence does not marshal: %v", id, err)
				}
			}
		})
	}
}

// TestLabReasons spot-checks that verdicts name what made them.
func TestLabReasons(t *testing.T) {
	l := startLab(t)
	opts := labOptions(l)
	tests := []struct {
		name, check, want string
	}{
		{dnslab.BadDomain, "mail.spf.permissive", `"+all"`},
		{dnslab.BadSPFLookups, "mail.spf.permissive", "more than 10 DNS lookups"},
		{dnslab.BadSPFLoop, "mail.spf.permissive", "loop"},
		{dnslab.BadSPFMultiple, "mail.spf.permissive", "2 SPF records"},
		{dnslab.BadSPFIncludesPassAll, "mail.spf.permissive", "includes _open.bad.lab.khien.test"},
		{dnslab.GoodSPFRedirect, "mail.spf.permissive", `"~all"`},
		{dnslab.BadSPFVoid, "mail.spf.permissive", "3 lookups found nothing"},
		{dnslab.BadMixedMX, "mail.starttls.missing", "mx1.bad.lab.khien.test"},
		{dnslab.BadDomain, "dns.cname.dangling", dnslab.BadDanglingTarget},
		{dnslab.BadDomain, "dns.axfr.open", "ns1.bad.lab.khien.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.check, func(t *testing.T) {
			r := resource(tt.name)
			for _, f := range Families(opts) {
				level := scope.Passive
				if f.IsActive() {
					level = scope.Active
				}
				for _, res := range f.Run(t.Context(), r, labEnv(t, l.DNS.Addr(), r, level)) {
					if res.Check == tt.check && !strings.Contains(res.Reason.EN, tt.want) {
						t.Errorf("%s reason %q does not mention %q", tt.check, res.Reason.EN, tt.want)
					}
				}
			}
		})
	}
}

func TestObserveEvidence(t *testing.T) {
	l := startLab(t)
	opts := labOptions(l)
	r := resource(dnslab.GoodDomain)

	d, err := observeDNS(t.Context(), r.Value(), labEnv(t, l.DNS.Addr(), r, scope.Passive), opts)
	if err != nil {
		t.Fatal(err)
	}
	if d.Zone != dnslab.GoodDomain || d.DNSSEC.Keys != 1 || !d.DNSSEC.AD || d.DNSSEC.DS != 1 {
		t.Errorf("DNSSEC observation %+v", d.DNSSEC)
	}
	for _, v := range d.DNSSEC.Verification {
		if !strings.HasSuffix(v, "verifies") {
			t.Errorf("verification %q", v)
		}
	}
	if q := d.DNSSEC.Queries[0]; q.Resolver != l.DNS.Addr() || q.Rcode != "NOERROR" || len(q.Answer) != 2 {
		t.Errorf("DNSKEY query evidence %+v", q)
	}

	m, err := observeMail(t.Context(), r.Value(), labEnv(t, l.DNS.Addr(), r, scope.Passive), opts)
	if err != nil {
		t.Fatal(err)
	}
	if m.SPF.Lookups != 2 || len(m.SPF.Tree.Children) != 1 || m.SPF.Tree.Children[0].Domain != "_spf.good.lab.khien.test" {
		t.Errorf("SPF tree %+v", m.SPF)
	}
	if len(m.MX.Hosts) != 2 {
		t.Fatalf("MX hosts %+v", m.MX.Hosts)
	}
	ep := m.MX.Hosts[0].Endpoints[0]
	if ep.Address != netip.AddrPortFrom(l.GoodMX.AddrPort().Addr(), uint16(l.SMTPPort())).String() ||
		!ep.STARTTLS || ep.TLS == nil || len(ep.EHLO) < 3 || !strings.HasPrefix(ep.Banner[0], "220 ") {
		t.Errorf("SMTP endpoint %+v", ep)
	}

	ra := resource(dnslab.BadDomain)
	x, err := observeAXFR(t.Context(), ra.Value(), labEnv(t, l.DNS.Addr(), ra, scope.Active), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Servers) != 1 || len(x.Servers[0].Attempts) != 1 {
		t.Fatalf("AXFR servers %+v", x.Servers)
	}
	if at := x.Servers[0].Attempts[0]; at.Outcome != axfrOpen || !at.Complete || at.Records < 20 || len(at.Sample) != axfrSampleCount {
		t.Errorf("AXFR attempt %+v", at)
	}
}

// TestAXFREveryNameServer gives a zone two name servers, one refusing and one open: the
// open one decides.
func TestAXFREveryNameServer(t *testing.T) {
	l := startLab(t)
	const zone = "split.lab.khien.test"
	text := "@ NS ns1\n@ NS ns2\nns1 A 127.0.0.1\nns2 A 127.0.0.3\nwww A 127.0.0.1\n"
	if err := l.DNS.AddZone(dnslab.Zone{Origin: zone, Text: text}); err != nil {
		t.Fatal(err)
	}
	second, err := dnslab.Start(t.Context(), dnslab.Config{
		Addr:  "127.0.0.3:" + strconv.Itoa(l.DNSPort()),
		Zones: []dnslab.Zone{{Origin: zone, Text: text, OpenAXFR: true}},
	})
	if err != nil {
		t.Skipf("cannot start a second name server on the same port: %v", err)
	}
	defer second.Close()
	r := resource(zone)
	res := statuses(t, AXFR(labOptions(l)), r, labEnv(t, l.DNS.Addr(), r, scope.Active))["dns.axfr.open"]
	if res.Status != fail {
		t.Fatalf("status %s: %s", res.Status, res.Reason.EN)
	}
	servers := res.Evidence["servers"].([]NameServer)
	if len(servers) != 2 || servers[0].Attempts[0].Outcome != axfrRefused || servers[1].Attempts[0].Outcome != axfrOpen {
		t.Errorf("servers %+v", servers)
	}
}

// TestUnreachable: a dead resolver, a closed SMTP port and a closed DNS port give error
// (or, for a closed DNS port, pass: nothing can be transferred), never fail.
func TestUnreachable(t *testing.T) {
	l := startLab(t)
	dead := "127.0.0.1:" + strconv.Itoa(closedPort(t, "127.0.0.1"))
	r := resource(dnslab.GoodDomain)
	for _, f := range Families(labOptions(l)) {
		for id, res := range statuses(t, f, r, labEnv(t, dead, r, scope.Active)) {
			if res.Status != erro {
				t.Errorf("dead resolver: %s = %s (%s), want error", id, res.Status, res.Reason.EN)
			}
		}
	}
	// The MX hosts are 127.0.0.25 and .26 (whose server has .25's port); the name servers 127.0.0.1.
	opts := Options{SMTPPort: closedPort(t, "127.0.0.25"), DNSPort: closedPort(t, "127.0.0.1")}
	got := statuses(t, Mail(opts), r, labEnv(t, l.DNS.Addr(), r, scope.Passive))
	if s := got["mail.starttls.missing"].Status; s != erro {
		t.Errorf("closed SMTP port: starttls = %s, want error", s)
	}
	got = statuses(t, AXFR(opts), r, labEnv(t, l.DNS.Addr(), r, scope.Active))
	if s := got["dns.axfr.open"].Status; s != pass {
		t.Errorf("closed DNS port: axfr = %s (%s), want pass", s, got["dns.axfr.open"].Reason.EN)
	}
}

// TestAXFRNeedsVerifiedScope: the guard refuses an active family's environment for an
// assigned resource, so AXFR never runs on one.
func TestAXFRNeedsVerifiedScope(t *testing.T) {
	if !AXFR(Options{}).IsActive() || DNS(Options{}).IsActive() || Mail(Options{}).IsActive() {
		t.Fatal("only the AXFR family may be active")
	}
	r := resource(dnslab.BadDomain)
	r.Scope = "assigned"
	g := scope.New(scope.LoopbackFence(), "127.0.0.1:53", 0)
	if _, err := g.Env(r, scope.Active, check.Env{}); err == nil {
		t.Error("active environment granted to an assigned resource")
	}
}

func TestBrokenSTARTTLS(t *testing.T) {
	l := startLab(t)
	broken, err := dnslab.StartSMTP(t.Context(), dnslab.SMTPConfig{
		Addr: "127.0.0.27:" + strconv.Itoa(l.SMTPPort()), BrokenSTARTTLS: true,
	})
	if err != nil {
		t.Skipf("cannot start a third SMTP server on the same port: %v", err)
	}
	defer broken.Close()
	const domain = "brokentls.lab.khien.test"
	if err := l.DNS.SetText(domain+". MX 10 mx."+domain+".", "mx."+domain+". A 127.0.0.27"); err != nil {
		t.Fatal(err)
	}
	r := resource(domain)
	res := statuses(t, Mail(labOptions(l)), r, labEnv(t, l.DNS.Addr(), r, scope.Passive))["mail.starttls.missing"]
	if res.Status != fail || !strings.Contains(res.Reason.EN, "advertises STARTTLS but") {
		t.Errorf("status %s: %s", res.Status, res.Reason.EN)
	}
}
