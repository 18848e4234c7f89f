package dnscheck

import (
	"testing"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/lab/dnslab"
	"github.com/khien-vn/khien/internal/scope"
)

// BenchmarkObserve runs each family once per iteration against the loopback lab, through
// the scope guard, as a scan would: the cost of one resource, queries and handshakes
// included.
func BenchmarkObserve(b *testing.B) {
	l := startLab(b)
	opts := labOptions(l)
	hosts, err := l.DNS.AddBenchHosts(250)
	if err != nil {
		b.Fatal(err)
	}
	benches := []struct {
		name  string
		f     check.Runner
		level scope.Level
		names []string
	}{
		{"dns/good", DNS(opts), scope.Passive, []string{dnslab.GoodDomain}},
		{"dns/bad", DNS(opts), scope.Passive, []string{dnslab.BadDomain}},
		{"dns/bench-hosts", DNS(opts), scope.Passive, benchNames(hosts)},
		{"mail/good", Mail(opts), scope.Passive, []string{dnslab.GoodDomain}},
		{"mail/bad", Mail(opts), scope.Passive, []string{dnslab.BadDomain}},
		{"mail/spf-lookups", Mail(opts), scope.Passive, []string{dnslab.BadSPFLookups}},
		{"axfr/refused", AXFR(opts), scope.Active, []string{dnslab.GoodDomain}},
		{"axfr/open", AXFR(opts), scope.Active, []string{dnslab.BadDomain}},
	}
	for _, bc := range benches {
		b.Run(bc.name, func(b *testing.B) {
			envs := make([]check.Env, len(bc.names))
			for i, n := range bc.names {
				envs[i] = labEnv(b, l.DNS.Addr(), resource(n), bc.level)
			}
			i := 0
			for b.Loop() {
				n := i % len(bc.names)
				for _, res := range bc.f.Run(b.Context(), resource(bc.names[n]), envs[n]) {
					if res.Status == check.Error {
						b.Fatalf("%s on %s: %s", res.Check, bc.names[n], res.Reason.EN)
					}
				}
				i++
			}
		})
	}
}

func benchNames(hosts []dnslab.BenchHost) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h.Name
	}
	return out
}
