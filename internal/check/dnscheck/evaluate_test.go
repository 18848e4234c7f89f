package dnscheck

import (
	"testing"

	"github.com/khien-vn/khien/internal/check"
)

var okQuery = Query{Name: "example.vn.", Type: "TXT", Rcode: "NOERROR"}

// spfLit builds an SPF tree node from a record, as the walker would.
func spfLit(t *testing.T, domain, via, record string, children ...*SPFNode) *SPFNode {
	t.Helper()
	n := &SPFNode{Domain: domain, Via: via, Query: okQuery, Record: record, Children: children}
	rec, err := parseSPF(record)
	if err != nil {
		t.Fatalf("parseSPF(%q): %v", record, err)
	}
	n.rec = rec
	for _, term := range rec.Terms {
		if !term.Modifier && term.Name == "all" {
			n.All = string(term.Qualifier)
		}
	}
	return n
}

func spfObs(tree *SPFNode, records ...string) MailObservation {
	return MailObservation{Domain: "example.vn", SPF: SPFResult{Tree: tree, Records: records}}
}

func checkStatus(t *testing.T, name string, got check.Result, want check.Status) {
	t.Helper()
	if got.Status != want {
		t.Errorf("%s: status %s (%s), want %s", name, got.Status, got.Reason.EN, want)
	}
	if got.Reason.VI == "" || got.Reason.EN == "" || got.Evidence == nil {
		t.Errorf("%s: reason %+v evidence %v: want both languages and evidence", name, got.Reason, got.Evidence)
	}
}

func TestSPFChecks(t *testing.T) {
	rootFailed := &SPFNode{Domain: "example.vn", Query: Query{Name: "example.vn.", Type: "TXT", Error: "i/o timeout"}, Result: "temperror"}
	none := &SPFNode{Domain: "example.vn", Query: okQuery, Result: "none"}
	tests := []struct {
		name                string
		obs                 MailObservation
		missing, permissive check.Status
	}{
		{"resolver down", spfObs(rootFailed), erro, erro},
		{"no record", MailObservation{Domain: "example.vn", SPF: SPFResult{Tree: none, Result: "none"}}, fail, na},
		{"-all", spfObs(spfLit(t, "example.vn", "", "v=spf1 mx -all"), "v=spf1 mx -all"), pass, pass},
		{"~all", spfObs(spfLit(t, "example.vn", "", "v=spf1 ~all"), "v=spf1 ~all"), pass, pass},
		{"+all", spfObs(spfLit(t, "example.vn", "", "v=spf1 +all"), "v=spf1 +all"), pass, fail},
		{"bare all", spfObs(spfLit(t, "example.vn", "", "v=spf1 mx all"), "v=spf1 mx all"), pass, fail},
		{"?all", spfObs(spfLit(t, "example.vn", "", "v=spf1 ?all"), "v=spf1 ?all"), pass, fail},
		{"no all", spfObs(spfLit(t, "example.vn", "", "v=spf1 mx"), "v=spf1 mx"), pass, fail},
		{"redirect to -all", spfObs(spfLit(t, "example.vn", "", "v=spf1 redirect=_spf.example.vn",
			spfLit(t, "_spf.example.vn", "redirect", "v=spf1 ip4:192.0.2.1 -all")), "v=spf1 redirect=_spf.example.vn"), pass, pass},
		{"redirect to ?all", spfObs(spfLit(t, "example.vn", "", "v=spf1 redirect=_spf.example.vn",
			spfLit(t, "_spf.example.vn", "redirect", "v=spf1 ?all")), "v=spf1 redirect=_spf.example.vn"), pass, fail},
		{"include of +all", spfObs(spfLit(t, "example.vn", "", "v=spf1 include:x.vn -all",
			spfLit(t, "x.vn", "include", "v=spf1 +all")), "v=spf1 include:x.vn -all"), pass, fail},
		{"include of ?all", spfObs(spfLit(t, "example.vn", "", "v=spf1 include:x.vn -all",
			spfLit(t, "x.vn", "include", "v=spf1 ?all")), "v=spf1 include:x.vn -all"), pass, pass},
		{"ip4 /4", spfObs(spfLit(t, "example.vn", "", "v=spf1 ip4:0.0.0.0/4 -all"), "v=spf1 ip4:0.0.0.0/4 -all"), pass, fail},
		{"-ip4 /0", spfObs(spfLit(t, "example.vn", "", "v=spf1 -ip4:0.0.0.0/0 ~all"), "v=spf1 -ip4:0.0.0.0/0 ~all"), pass, pass},
		{"ip6 /8", spfObs(spfLit(t, "example.vn", "", "v=spf1 ip6:2000::/8 -all"), "v=spf1 ip6:2000::/8 -all"), pass, fail},
		{"permerror", MailObservation{Domain: "example.vn", SPF: SPFResult{
			Tree: spfLit(t, "example.vn", "", "v=spf1 -all"), Records: []string{"v=spf1 -all", "v=spf1 ~all"},
			Result: "permerror", problem: spfProblem{kind: "multiple", domain: "example.vn", n: 2},
		}}, pass, fail},
		{"temperror below", MailObservation{Domain: "example.vn", SPF: SPFResult{
			Tree: spfLit(t, "example.vn", "", "v=spf1 include:x.vn -all"), Records: []string{"v=spf1 include:x.vn -all"},
			Result: "temperror", problem: spfProblem{kind: "temp", domain: "x.vn", detail: "SERVFAIL"},
		}}, pass, erro},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkStatus(t, "mail.spf.missing", spfMissing(tt.obs), tt.missing)
			checkStatus(t, "mail.spf.permissive", spfPermissive(tt.obs), tt.permissive)
		})
	}
}

func TestSPFProblemTexts(t *testing.T) {
	for _, kind := range []string{"multiple", "syntax", "loop", "norecord", "mx", "lookups", "void", "temp"} {
		txt := spfProblem{kind: kind, domain: "example.vn", detail: "x", n: 3}.text()
		if txt.VI == "" || txt.EN == "" || txt.VI == txt.EN {
			t.Errorf("%s: %+v", kind, txt)
		}
	}
}

func TestDMARCChecks(t *testing.T) {
	rec := func(p string, pct int, implied bool) *DMARCRecord {
		return &DMARCRecord{Policy: p, Percent: pct, PolicyImplied: implied}
	}
	q := Query{Name: "_dmarc.example.vn.", Type: "TXT", Rcode: "NOERROR"}
	nx := Query{Name: "_dmarc.example.vn.", Type: "TXT", Rcode: "NXDOMAIN"}
	tests := []struct {
		name          string
		d             DMARCObservation
		missing, weak check.Status
	}{
		{"timeout", DMARCObservation{Query: Query{Error: "i/o timeout"}}, erro, erro},
		{"servfail", DMARCObservation{Query: Query{Rcode: "SERVFAIL"}}, erro, erro},
		{"nxdomain", DMARCObservation{Query: nx}, fail, na},
		{"no DMARC among TXT", DMARCObservation{Query: q}, fail, na},
		{"two records", DMARCObservation{Query: q, Records: []string{"v=DMARC1; p=none", "v=DMARC1; p=reject"}}, fail, na},
		{"invalid", DMARCObservation{Query: q, Records: []string{"v=DMARC1"}, Invalid: `the record has no "p" tag`}, fail, na},
		{"p=none", DMARCObservation{Query: q, Records: []string{"v=DMARC1; p=none"}, Record: rec("none", 100, false)}, pass, fail},
		{"implied none", DMARCObservation{Query: q, Records: []string{"v=DMARC1; rua=mailto:a@b.vn"}, Record: rec("none", 100, true)}, pass, fail},
		{"pct=0", DMARCObservation{Query: q, Records: []string{"v=DMARC1; p=reject; pct=0"}, Record: rec("reject", 0, false)}, pass, fail},
		{"quarantine", DMARCObservation{Query: q, Records: []string{"v=DMARC1; p=quarantine"}, Record: rec("quarantine", 100, false)}, pass, pass},
		{"reject pct 50", DMARCObservation{Query: q, Records: []string{"v=DMARC1; p=reject; pct=50"}, Record: rec("reject", 50, false)}, pass, pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := MailObservation{Domain: "example.vn", DMARC: tt.d}
			checkStatus(t, "mail.dmarc.missing", dmarcMissing(o), tt.missing)
			checkStatus(t, "mail.dmarc.weak", dmarcWeak(o), tt.weak)
		})
	}
}

func TestSTARTTLSCheck(t *testing.T) {
	q := Query{Name: "example.vn.", Type: "MX", Rcode: "NOERROR"}
	good := SMTPEndpoint{Address: "192.0.2.1:25", EHLO: []string{"250-mx", "250 STARTTLS"}, STARTTLS: true, TLS: &TLSInfo{Version: "TLS 1.3"}}
	plain := SMTPEndpoint{Address: "192.0.2.2:25", EHLO: []string{"250-mx", "250 8BITMIME"}}
	noEHLO := SMTPEndpoint{Address: "192.0.2.3:25", EHLO: []string{"502 5.5.2 no"}}
	brokenTLS := SMTPEndpoint{Address: "192.0.2.4:25", EHLO: []string{"250-mx", "250 STARTTLS"}, STARTTLS: true, TLSError: "STARTTLS was advertised but the command was answered 454"}
	down := SMTPEndpoint{Address: "192.0.2.5:25", Error: "connect: connection refused"}
	host := func(eps ...SMTPEndpoint) MXHost { return MXHost{Host: "mx.example.vn", Preference: 10, Endpoints: eps} }
	tests := []struct {
		name string
		mx   MXObservation
		want check.Status
	}{
		{"MX lookup failed", MXObservation{Query: Query{Error: "i/o timeout"}}, erro},
		{"null MX", MXObservation{Query: q, Null: true}, na},
		{"no MX", MXObservation{Query: Query{Rcode: "NXDOMAIN"}}, na},
		{"all good", MXObservation{Query: q, Hosts: []MXHost{host(good), host(good)}}, pass},
		{"one plain", MXObservation{Query: q, Hosts: []MXHost{host(good), host(plain)}}, fail},
		{"EHLO refused", MXObservation{Query: q, Hosts: []MXHost{host(noEHLO)}}, fail},
		{"STARTTLS broken", MXObservation{Query: q, Hosts: []MXHost{host(good, brokenTLS)}}, fail},
		{"one unreachable", MXObservation{Query: q, Hosts: []MXHost{host(good), host(down)}}, erro},
		{"unreachable and plain", MXObservation{Query: q, Hosts: []MXHost{host(down), host(plain)}}, fail},
		{"host without address", MXObservation{Query: q, Hosts: []MXHost{host(good), {Host: "gone.example.vn", Error: "NXDOMAIN"}}}, erro},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkStatus(t, "mail.starttls.missing", starttlsMissing(MailObservation{Domain: "example.vn", MX: tt.mx}), tt.want)
		})
	}
}

func TestDNSSECCheck(t *testing.T) {
	tests := []struct {
		name string
		obs  DNSObservation
		want check.Status
	}{
		{"no zone", DNSObservation{Name: "a.example.vn", ZoneError: "SERVFAIL"}, erro},
		{"DNSKEY lookup failed", DNSObservation{Name: "example.vn", Zone: "example.vn", DNSSEC: DNSSECObservation{Error: "timeout"}}, erro},
		{"unsigned", DNSObservation{Name: "example.vn", Zone: "example.vn"}, fail},
		{"keys without signatures", DNSObservation{Name: "example.vn", Zone: "example.vn", DNSSEC: DNSSECObservation{Keys: 2}}, fail},
		{"keys and DS, signatures stripped", DNSObservation{Name: "example.vn", Zone: "example.vn", DNSSEC: DNSSECObservation{Keys: 2, DS: 1}}, erro},
		{"signatures without keys", DNSObservation{Name: "example.vn", Zone: "example.vn", DNSSEC: DNSSECObservation{SignedSOA: true}}, fail},
		{"signed, no DS, no AD", DNSObservation{Name: "example.vn", Zone: "example.vn", DNSSEC: DNSSECObservation{Keys: 2, SignedSOA: true}}, pass},
		{"signed with DS and AD", DNSObservation{Name: "example.vn", Zone: "example.vn", DNSSEC: DNSSECObservation{Keys: 2, SignedKeys: true, SignedSOA: true, AD: true, DS: 1}}, pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkStatus(t, "dns.dnssec.missing", dnssecMissing(tt.obs), tt.want) })
	}
}

func TestCAACheck(t *testing.T) {
	tests := []struct {
		name string
		caa  CAAObservation
		want check.Status
	}{
		{"lookup failed", CAAObservation{Error: "SERVFAIL"}, erro},
		{"none anywhere", CAAObservation{Queries: []Query{okQuery}}, fail},
		{"iodef only", CAAObservation{At: "example.vn", Records: []string{`example.vn. 300 IN CAA 0 iodef "mailto:x@example.vn"`}}, fail},
		{"issue at parent", CAAObservation{At: "example.vn", Records: []string{`example.vn. 300 IN CAA 0 issue "ca.example"`}, Restricts: true}, pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkStatus(t, "dns.caa.missing", caaMissing(DNSObservation{Name: "www.example.vn", CAA: tt.caa}), tt.want)
		})
	}
}

func TestCNAMECheck(t *testing.T) {
	plain := CNAMEObservation{Name: "example.vn", Query: okQuery}
	ok := CNAMEObservation{Name: "www.example.vn", Query: okQuery, Chain: []string{"cdn.example.net"}}
	dangling := CNAMEObservation{Name: "shop.example.vn", Chain: []string{"shop.azurewebsites.example"}, Dangling: true}
	failed := CNAMEObservation{Name: "www.example.vn", Error: "SERVFAIL"}
	tests := []struct {
		name   string
		cnames []CNAMEObservation
		want   check.Status
	}{
		{"no CNAME", []CNAMEObservation{plain, {Name: "www.example.vn", Query: Query{Rcode: "NXDOMAIN"}}}, na},
		{"resolving CNAME", []CNAMEObservation{plain, ok}, pass},
		{"dangling", []CNAMEObservation{plain, dangling}, fail},
		{"dangling and error", []CNAMEObservation{failed, dangling}, fail},
		{"error", []CNAMEObservation{plain, failed}, erro},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkStatus(t, "dns.cname.dangling", cnameDangling(DNSObservation{Name: "example.vn", CNAMEs: tt.cnames}), tt.want)
		})
	}
}

func TestAXFRCheck(t *testing.T) {
	nsq := Query{Name: "example.vn.", Type: "NS", Rcode: "NOERROR"}
	ns := func(host string, outcomes ...string) NameServer {
		s := NameServer{Host: host}
		for _, o := range outcomes {
			s.Attempts = append(s.Attempts, AXFRAttempt{Address: "192.0.2.53:53", Outcome: o, Records: map[string]int{axfrOpen: 40}[o]})
		}
		return s
	}
	tests := []struct {
		name string
		obs  AXFRObservation
		want check.Status
	}{
		{"no zone", AXFRObservation{Name: "example.vn", ZoneError: "SERVFAIL"}, erro},
		{"NS lookup failed", AXFRObservation{Zone: "example.vn", NSQuery: Query{Error: "timeout"}}, erro},
		{"no NS", AXFRObservation{Zone: "example.vn", NSQuery: nsq}, erro},
		{"all refuse", AXFRObservation{Zone: "example.vn", NSQuery: nsq, Servers: []NameServer{ns("a", axfrRefused), ns("b", axfrClosed, axfrRefused)}}, pass},
		{"one open", AXFRObservation{Zone: "example.vn", NSQuery: nsq, Servers: []NameServer{ns("a", axfrRefused), ns("b", axfrOpen)}}, fail},
		{"open and error", AXFRObservation{Zone: "example.vn", NSQuery: nsq, Servers: []NameServer{ns("a", axfrError), ns("b", axfrOpen)}}, fail},
		{"one timeout", AXFRObservation{Zone: "example.vn", NSQuery: nsq, Servers: []NameServer{ns("a", axfrRefused), ns("b", axfrError)}}, erro},
		{"NS without address", AXFRObservation{Zone: "example.vn", NSQuery: nsq, Servers: []NameServer{ns("a", axfrRefused), {Host: "b", Error: "NXDOMAIN"}}}, erro},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkStatus(t, "dns.axfr.open", axfrOpenCheck(tt.obs), tt.want) })
	}
}

// TestCatalog: every check of every family is in the catalog with its remediation filled in.
func TestCatalog(t *testing.T) {
	cat, err := check.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Families(Options{}) {
		for _, id := range f.CheckIDs() {
			d, ok := cat.Def(id)
			switch {
			case !ok:
				t.Errorf("%s (family %s) is not in the catalog", id, f.FamilyName())
			case d.Remediation.VI == "TODO" || d.Remediation.EN == "TODO" || len(d.References) == 0 || d.Detect == "":
				t.Errorf("%s: catalog entry is incomplete: %+v", id, d)
			}
		}
	}
}
