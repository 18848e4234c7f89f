package dnslab

import (
	"net"
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkQuery measures the lab server answering over one UDP socket.
func BenchmarkQuery(b *testing.B) {
	l := startLab(b)
	hosts, err := l.DNS.AddBenchHosts(1000)
	if err != nil {
		b.Fatal(err)
	}
	benches := []struct {
		name  string
		qname string
		qtype uint16
		do    bool
	}{
		{"A/bench-host", hosts[500].Name, dns.TypeA, false},
		{"MX/signed-DO", GoodDomain, dns.TypeMX, true},
		{"A/NXDOMAIN", "missing." + BadDomain, dns.TypeA, false},
		{"A/dangling-CNAME", BadDangling, dns.TypeA, false},
	}
	for _, bc := range benches {
		b.Run(bc.name, func(b *testing.B) {
			c, err := net.Dial("udp", l.DNS.Addr())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			co := &dns.Conn{Conn: c, UDPSize: 4096}
			m := new(dns.Msg)
			m.SetQuestion(dns.Fqdn(bc.qname), bc.qtype)
			m.SetEdns0(4096, bc.do)
			for b.Loop() {
				m.Id = dns.Id()
				if err := co.WriteMsg(m); err != nil {
					b.Fatal(err)
				}
				if _, err := co.ReadMsg(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
