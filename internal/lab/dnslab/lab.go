package dnslab

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// The lab's domains. GoodDomain passes every DNS and mail check; BadDomain fails every one;
// the other names fail (or skip) one check each in a particular way.
const (
	// GoodDomain: SPF "-all" within 10 lookups, DMARC p=reject, two MX with STARTTLS, signed,
	// CAA, AXFR refused, www a CNAME to the apex.
	GoodDomain = "good.lab.khien.test"
	// GoodNullMX has a null MX ("MX 0 ."), SPF "-all" and DMARC p=reject: a domain that
	// sends and receives no mail.
	GoodNullMX = "nomail.good.lab.khien.test"
	// GoodSPFRedirect delegates its SPF policy with redirect= to a record ending in "~all".
	GoodSPFRedirect = "redirect.good.lab.khien.test"

	// BadDomain: SPF "+all", DMARC p=none, an MX without STARTTLS, unsigned, no CAA, AXFR
	// open to anyone, and www a CNAME to a name that does not exist.
	BadDomain = "bad.lab.khien.test"
	// BadDangling is the dangling CNAME of BadDomain.
	BadDangling = "www.bad.lab.khien.test"
	// BadDanglingTarget is where BadDangling points: a name in no zone (NXDOMAIN).
	BadDanglingTarget = "khien-gone-app.cloudapp.example"
	// BadSPFLookups needs 11 DNS lookups through nested includes (the limit is 10).
	BadSPFLookups = "lookups.bad.lab.khien.test"
	// BadSPFLoop includes a record that includes it back.
	BadSPFLoop = "loop.bad.lab.khien.test"
	// BadSPFMultiple publishes two SPF records (a permanent error).
	BadSPFMultiple = "multi.bad.lab.khien.test"
	// BadSPFVoid makes three lookups that find nothing (the limit is 2).
	BadSPFVoid = "void.bad.lab.khien.test"
	// BadSPFIncludesPassAll ends in "-all" but includes a record that ends in "+all", so
	// the include matches every sender.
	BadSPFIncludesPassAll = "passall.bad.lab.khien.test"
	// BadNoSPF has an address but no SPF, no DMARC and no MX.
	BadNoSPF = "nospf.bad.lab.khien.test"
	// BadMixedMX has two MX: one offers STARTTLS (GoodDomain's), one does not.
	BadMixedMX = "twomx.bad.lab.khien.test"
)

// ZoneAddrs says where the lab's servers listen, for the records of GoodZone and BadZone.
type ZoneAddrs struct {
	NS     netip.Addr // the lab DNS server: the zones' name servers (and AXFR target)
	GoodMX netip.Addr // an SMTP server offering STARTTLS
	BadMX  netip.Addr // an SMTP server without STARTTLS
	Web    netip.Addr // the address of the apexes; invalid means 127.0.0.1
}

func (a ZoneAddrs) web() netip.Addr {
	if a.Web.IsValid() {
		return a.Web
	}
	return netip.MustParseAddr("127.0.0.1")
}

// addr4or6 renders an address record's type and data: "A 127.0.0.1" or "AAAA ::1".
func addr4or6(a netip.Addr) string {
	if !a.IsValid() {
		a = netip.MustParseAddr("127.0.0.1")
	}
	a = a.Unmap()
	if a.Is4() {
		return "A " + a.String()
	}
	return "AAAA " + a.String()
}

// GoodZone returns GoodDomain's zone (with GoodNullMX in it): signed, AXFR refused.
func GoodZone(a ZoneAddrs) Zone {
	return Zone{Origin: GoodDomain, Signed: true, Text: `
@       SOA   ns1 hostmaster 2026010101 3600 600 604800 300
@       NS    ns1
@       NS    ns2
ns1     ` + addr4or6(a.NS) + `
ns2     ` + addr4or6(a.NS) + `
@       ` + addr4or6(a.web()) + `
www     CNAME @
@       MX    10 mx1
@       MX    20 mx2
mx1     ` + addr4or6(a.GoodMX) + `
mx2     ` + addr4or6(a.GoodMX) + `
@       TXT   "v=spf1 mx include:_spf.good.lab.khien.test -all"
_spf    TXT   "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all"
_dmarc  TXT   "v=DMARC1; p=reject; sp=reject; pct=100; rua=mailto:dmarc-reports@good.lab.khien.test"
@       CAA   0 issue "ca.lab.khien.test"
@       CAA   0 iodef "mailto:security@good.lab.khien.test"
nomail  ` + addr4or6(a.web()) + `
nomail  MX    0 .
nomail  TXT   "v=spf1 -all"
_dmarc.nomail TXT "v=DMARC1; p=reject"
redirect TXT  "v=spf1 redirect=_spf.good.lab.khien.test"
_dmarc.redirect TXT "v=DMARC1; p=quarantine; pct=100"
`}
}

// BadZone returns BadDomain's zone (with the Bad* names in it): unsigned, no CAA, AXFR open.
func BadZone(a ZoneAddrs) Zone {
	var b strings.Builder
	b.WriteString(`
@       SOA   ns1 hostmaster 2026010101 3600 600 604800 300
@       NS    ns1
ns1     ` + addr4or6(a.NS) + `
@       ` + addr4or6(a.web()) + `
www     CNAME ` + BadDanglingTarget + `.
@       MX    10 mx1
mx1     ` + addr4or6(a.BadMX) + `
@       TXT   "v=spf1 a mx include:_spf.bad.lab.khien.test +all"
_spf    TXT   "v=spf1 ip4:203.0.113.0/24 ~all"
_dmarc  TXT   "v=DMARC1; p=none; rua=mailto:dmarc@bad.lab.khien.test"
lookups ` + addr4or6(a.web()) + `
lookups TXT   "v=spf1 include:_n1.bad.lab.khien.test include:_n2.bad.lab.khien.test mx a -all"
_n1     TXT   "v=spf1 include:_n3.bad.lab.khien.test include:_n4.bad.lab.khien.test include:_n5.bad.lab.khien.test -all"
_n2     TXT   "v=spf1 include:_n6.bad.lab.khien.test include:_n7.bad.lab.khien.test include:_n8.bad.lab.khien.test exists:%{i}._e.bad.lab.khien.test -all"
loop    TXT   "v=spf1 include:_loop.bad.lab.khien.test -all"
_loop   TXT   "v=spf1 include:loop.bad.lab.khien.test -all"
passall TXT   "v=spf1 include:_open.bad.lab.khien.test -all"
_open   TXT   "v=spf1 +all"
multi   TXT   "v=spf1 -all"
multi   TXT   "v=spf1 ~all"
void    TXT   "v=spf1 a:nx1.bad.lab.khien.test a:nx2.bad.lab.khien.test a:nx3.bad.lab.khien.test -all"
nospf   ` + addr4or6(a.web()) + `
twomx   MX    10 mx1.good.lab.khien.test.
twomx   MX    20 mx1
twomx   TXT   "v=spf1 mx -all"
_dmarc.twomx TXT "v=DMARC1; p=quarantine"
`)
	for i := 3; i <= 8; i++ {
		fmt.Fprintf(&b, "_n%d     TXT   \"v=spf1 ip4:203.0.113.%d/32 -all\"\n", i, i)
	}
	return Zone{Origin: BadDomain, OpenAXFR: true, Text: b.String()}
}

// LabConfig says where StartLab's servers listen. Empty fields take the defaults.
type LabConfig struct {
	// DNSAddr is the DNS server's address; default "127.0.0.1:0".
	DNSAddr string
	// GoodMXAddr is the STARTTLS SMTP server's address; default "127.0.0.25:0".
	GoodMXAddr string
	// BadMXAddr is the plain SMTP server's address; default "127.0.0.26" on GoodMXAddr's
	// port, since a scan dials every MX on one port.
	BadMXAddr string
	// Web is the apexes' address; invalid means 127.0.0.1.
	Web netip.Addr
}

// Lab is the DNS and mail lab: a DNS server with GoodZone and BadZone, and the two SMTP
// servers their MX records point to.
type Lab struct {
	DNS    *Server
	GoodMX *SMTPServer // offers STARTTLS with a self-signed certificate
	BadMX  *SMTPServer // does not offer STARTTLS
}

// StartLab starts the DNS and mail lab. It stops when ctx is cancelled or Close is called.
// Scan it with --resolver lab.DNS.Addr(), the SMTP port lab.SMTPPort() and the zone-transfer
// port lab.DNSPort().
func StartLab(ctx context.Context, cfg LabConfig) (*Lab, error) {
	if cfg.GoodMXAddr == "" {
		cfg.GoodMXAddr = "127.0.0.25:0"
	}
	cert, err := SelfSigned("mx1."+GoodDomain, "mx2."+GoodDomain)
	if err != nil {
		return nil, fmt.Errorf("dnslab: certificate: %w", err)
	}
	l := &Lab{}
	// The two MX servers share a port on two addresses; when the port is chosen by the system
	// for the first, it may be taken on the second, so try again a few times.
	for try := 0; ; try++ {
		l.GoodMX, err = StartSMTP(ctx, SMTPConfig{
			Addr:     cfg.GoodMXAddr,
			Hostname: "mx1." + GoodDomain,
			TLS:      &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		})
		if err != nil {
			return nil, err
		}
		badAddr := cfg.BadMXAddr
		if badAddr == "" {
			badAddr = net.JoinHostPort("127.0.0.26", strconv.Itoa(l.GoodMX.Port()))
		}
		l.BadMX, err = StartSMTP(ctx, SMTPConfig{Addr: badAddr, Hostname: "mx1." + BadDomain})
		if err == nil {
			break
		}
		l.GoodMX.Close()
		if try == 4 || cfg.BadMXAddr != "" || !strings.HasSuffix(cfg.GoodMXAddr, ":0") {
			return nil, err
		}
	}
	l.DNS, err = Start(ctx, Config{Addr: cfg.DNSAddr})
	if err != nil {
		l.Close()
		return nil, err
	}
	addrs := ZoneAddrs{
		NS:     l.DNS.AddrPort().Addr(),
		GoodMX: l.GoodMX.AddrPort().Addr(),
		BadMX:  l.BadMX.AddrPort().Addr(),
		Web:    cfg.Web,
	}
	for _, z := range []Zone{GoodZone(addrs), BadZone(addrs)} {
		if err := l.DNS.AddZone(z); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// SMTPPort is the port both MX servers listen on.
func (l *Lab) SMTPPort() int { return l.GoodMX.Port() }

// DNSPort is the port the DNS server listens on, which zone transfers must use.
func (l *Lab) DNSPort() int { return l.DNS.Port() }

// Close stops every server of the lab.
func (l *Lab) Close() error {
	var errs []error
	if l.DNS != nil {
		errs = append(errs, l.DNS.Close())
	}
	if l.GoodMX != nil {
		errs = append(errs, l.GoodMX.Close())
	}
	if l.BadMX != nil {
		errs = append(errs, l.BadMX.Close())
	}
	return errors.Join(errs...)
}

// BenchZone holds the benchmark hosts.
const BenchZone = "bench." + BaseZone

// BenchHost is one generated benchmark host.
type BenchHost struct {
	Name string     // "h0001.bench.lab.khien.test"
	Addr netip.Addr // 127.0.1.1
}

// BenchName returns the name of benchmark host i (from 1): "h0001.bench.lab.khien.test".
func BenchName(i int) string { return fmt.Sprintf("h%04d.%s", i, BenchZone) }

// BenchAddr returns the loopback address of benchmark host i (from 1): 127.0.x.y with x from
// 1 and y from 1 to 250, so host 1 is 127.0.1.1 and host 251 is 127.0.2.1. The lab's own
// servers stay in 127.0.0.0/24. It panics beyond 63,750 hosts.
func BenchAddr(i int) netip.Addr {
	if i < 1 || i > 255*250 {
		panic(fmt.Sprintf("dnslab: benchmark host %d out of range 1..%d", i, 255*250))
	}
	x, y := 1+(i-1)/250, 1+(i-1)%250
	return netip.AddrFrom4([4]byte{127, 0, byte(x), byte(y)})
}

// AddBenchHosts serves the A records of benchmark hosts 1..n and returns them.
func (s *Server) AddBenchHosts(n int) ([]BenchHost, error) {
	hosts := make([]BenchHost, n)
	for i := range hosts {
		hosts[i] = BenchHost{Name: BenchName(i + 1), Addr: BenchAddr(i + 1)}
		if err := s.SetA(hosts[i].Name, hosts[i].Addr); err != nil {
			return nil, err
		}
	}
	return hosts, nil
}
