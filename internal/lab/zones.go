package lab

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/khien-vn/khien/internal/demo"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/lab/dnslab"
)

// demoDomain is the demo province's zone, which the lab serves so that `khien demo` assesses
// real hosts.
const demoDomain = demo.Domain

// Mail postures of a name: what SPF, DMARC and MX records it publishes.
const (
	mailStrict = "strict" // SPF -all, DMARC p=reject, null MX
	mailNone   = "none"   // nothing
	mailWeak   = "weak"   // SPF ?all, DMARC p=none
	mailApex   = "apex"   // MX at the STARTTLS exchanger, SPF mx -all, DMARC p=reject
	mailPlain  = "plain"  // MX at the exchanger without STARTTLS, SPF mx -all, DMARC p=quarantine
)

// demoName is one name of the demo province and the scenario host it points at.
type demoName struct {
	name string // absolute, ASCII
	host string // scenario
	mail string
}

// demoNames maps every name of the demo inventory to a scenario host, so that the demo shows a
// spread: a clean portal, a typical site, old TLS, expired and weak certificates, an exposed
// old portal with a known-exploited Apache, open databases and a camera's remote-admin ports,
// personal data and a TUYỆT MẬT stamp on public pages.
func demoNames() []demoName {
	d := func(label, host, mail string) demoName {
		name := demoDomain
		if label != "" {
			name = label + "." + demoDomain
		}
		// IDN labels (sở-y-tế) are served in their ASCII form, as the inventory stores them.
		if id, err := inventory.Normalize("dns:" + name); err == nil {
			name = strings.TrimPrefix(id, "dns:")
		}
		return demoName{name: name, host: host, mail: mail}
	}
	return []demoName{
		d("", Good, mailApex),
		d("www", Good, mailStrict),
		d("soc", Good, mailStrict),
		d("donglac", Good, mailStrict),
		d("sở-y-tế", Good, mailStrict),
		d("dichvucong", Typical, mailWeak),
		d("tuyensinh", Typical, mailNone),
		d("tanan", Typical, mailNone),
		d("phuhoa", Typical, mailNone),
		d("db-dvc", Database, mailNone),
		d("qlvb", Leak, mailStrict),
		d("csdl.sgddt", Leak, mailStrict),
		d("mail", OldTLS, mailPlain),
		d("webmail", OldTLS, mailStrict),
		d("dc", Expired, mailNone),
		d("lgsp", SelfSigned, mailStrict),
		d("benhan", Bad, mailNone),
		d("tiemchung", Expiring, mailStrict),
		d("ngansach", WeakKey, mailStrict),
		d("motcua.bacdong", NoHTTPS, mailNone),
		d("camera.namson", Camera, mailNone),
	}
}

// Zones of the demo province: the province's own, signed with CAA, and two district zones
// run by someone else, unsigned (Bắc Đồng's open to zone transfers).
const (
	bacdongZone = "bacdong." + demoDomain
	namsonZone  = "namson." + demoDomain
)

// serveZones loads every zone of the lab into its DNS server.
func (l *Lab) serveZones(hosts []spec, names []demoName, bench []Host) error {
	addrOf := map[string]netip.Addr{}
	for _, h := range hosts {
		addrOf[h.scenario] = h.addr
	}
	ns := l.DNS.AddrPort().Addr()
	zaGood := dnslab.ZoneAddrs{NS: ns, GoodMX: l.addr(0, 25), BadMX: l.addr(0, 26), Web: addrOf[Good]}
	zaBad := zaGood
	zaBad.Web = addrOf[Bad]

	// The base zone, signed. Its apex has no CAA, so that the bad zone below it inherits none;
	// each scenario host publishes its own CAA, SPF, DMARC and a null MX instead, so that its
	// only failures are the ones it is built for.
	var b strings.Builder
	fmt.Fprintf(&b, "@ SOA ns1 hostmaster 2026010101 3600 600 604800 300\n@ NS ns1\nns1 %s\n", addrRR(ns))
	for _, h := range hosts {
		if h.scenario == Good || h.scenario == Bad {
			continue
		}
		label := strings.TrimSuffix(h.name, "."+dnslab.BaseZone)
		fmt.Fprintf(&b, "%s %s\n%s CAA 0 issue \"ca.lab.khien.test\"\n", label, addrRR(h.addr), label)
		writeMail(&b, label, mailStrict)
	}
	zones := []dnslab.Zone{
		{Origin: dnslab.BaseZone, Signed: true, Text: b.String()},
		dnslab.GoodZone(zaGood),
		dnslab.BadZone(zaBad),
	}

	// The demo province.
	var sh, bd, nsn strings.Builder
	fmt.Fprintf(&sh, "@ SOA ns1 hostmaster 2026010101 3600 600 604800 300\n@ NS ns1\n@ NS ns2\nns1 %s\nns2 %s\n", addrRR(ns), addrRR(ns))
	fmt.Fprintf(&sh, "@ CAA 0 issue \"ca.lab.khien.test\"\n@ CAA 0 iodef \"mailto:attt@%s\"\n", demoDomain)
	fmt.Fprintf(&sh, "mx %s\nmx-cu %s\n", addrRR(l.addr(0, 25)), addrRR(l.addr(0, 26)))
	// An old site of Tân An, moved away without removing its www alias: a dangling CNAME.
	sh.WriteString("www.tanan CNAME tanan-cu.azurewebsites.example.\n")
	fmt.Fprintf(&bd, "@ SOA ns1.%s. hostmaster 2026010101 3600 600 604800 300\n@ NS ns1.%s.\n", demoDomain, demoDomain)
	fmt.Fprintf(&nsn, "@ SOA ns1.%s. hostmaster 2026010101 3600 600 604800 300\n@ NS ns1.%s.\n", demoDomain, demoDomain)
	for _, n := range names {
		zb, origin := &sh, demoDomain
		switch {
		case strings.HasSuffix(n.name, "."+bacdongZone):
			zb, origin = &bd, bacdongZone
		case strings.HasSuffix(n.name, "."+namsonZone):
			zb, origin = &nsn, namsonZone
		}
		label := strings.TrimSuffix(strings.TrimSuffix(n.name, origin), ".")
		if label == "" {
			label = "@"
		}
		fmt.Fprintf(zb, "%s %s\n", label, addrRR(addrOf[n.host]))
		writeMail(zb, label, n.mail)
	}
	zones = append(zones,
		dnslab.Zone{Origin: demoDomain, Signed: true, Text: sh.String()},
		dnslab.Zone{Origin: bacdongZone, OpenAXFR: true, Text: bd.String()},
		dnslab.Zone{Origin: namsonZone, Text: nsn.String()},
	)

	// The benchmark hosts.
	if len(bench) > 0 {
		var z strings.Builder
		fmt.Fprintf(&z, "@ SOA ns1.%s. hostmaster 2026010101 3600 600 604800 300\n@ NS ns1.%s.\n", dnslab.BaseZone, dnslab.BaseZone)
		for _, h := range bench {
			fmt.Fprintf(&z, "%s %s\n", strings.TrimSuffix(h.Name, "."+BenchZone), addrRR(h.Addr))
		}
		zones = append(zones, dnslab.Zone{Origin: BenchZone, Text: z.String()})
	}
	for _, z := range zones {
		if err := l.DNS.AddZone(z); err != nil {
			return err
		}
	}
	return nil
}

// writeMail writes the mail records of label for posture.
func writeMail(b *strings.Builder, label, posture string) {
	dmarc := "_dmarc." + label
	if label == "@" {
		dmarc = "_dmarc"
	}
	switch posture {
	case mailStrict:
		fmt.Fprintf(b, "%s MX 0 .\n%s TXT \"v=spf1 -all\"\n%s TXT \"v=DMARC1; p=reject\"\n", label, label, dmarc)
	case mailWeak:
		fmt.Fprintf(b, "%s TXT \"v=spf1 a ?all\"\n%s TXT \"v=DMARC1; p=none\"\n", label, dmarc)
	case mailApex:
		fmt.Fprintf(b, "%s MX 10 mx\n%s TXT \"v=spf1 mx -all\"\n%s TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@%s\"\n", label, label, dmarc, demoDomain)
	case mailPlain:
		fmt.Fprintf(b, "%s MX 10 mx-cu.%s.\n%s TXT \"v=spf1 mx -all\"\n%s TXT \"v=DMARC1; p=quarantine\"\n", label, demoDomain, label, dmarc)
	}
}

// addrRR renders an address record's type and data: "A 127.77.1.1" or "AAAA ::1".
func addrRR(a netip.Addr) string {
	if a.Is4() {
		return "A " + a.String()
	}
	return "AAAA " + a.String()
}
