package httpcheck

import (
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/lab/weblab"
)

// BenchmarkObserve measures one observation of a good loopback host: DNS, the HTTPS chain, the
// HTTP chain (301 then 200) and the CORS probe, each on fresh connections.
func BenchmarkObserve(b *testing.B) {
	_, r, env, opts := startHost(b, weblab.Good("bench.lab.khien.test"))
	ob := observer{opts}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ob.observe(b.Context(), r, env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkObserveParallel observes 16 hosts on distinct loopback addresses concurrently, the
// shape of a scan of many agencies' sites.
func BenchmarkObserveParallel(b *testing.B) {
	ca := labCA(b)
	cfg := weblab.Good("lab.khien.test")
	cfg.CA = ca
	hosts, err := weblab.StartN(b.Context(), 16, cfg, netip.MustParseAddr("127.0.20.1"))
	if err != nil {
		b.Fatal(err)
	}
	zone := map[string][]string{}
	for _, h := range hosts {
		b.Cleanup(func() { _ = h.Close() })
		zone[h.Config.Name] = []string{h.Config.IP}
	}
	dnsAddr := startDNS(b, zone)
	type target struct {
		r    inventory.Resource
		env  check.Env
		opts Options
	}
	targets := make([]target, len(hosts))
	for i, h := range hosts {
		r, env := envFor(b, "url:"+h.HTTPSURL(), dnsAddr, ca)
		targets[i] = target{r, env, Options{HTTPPort: h.Config.HTTPPort}}
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			t := targets[next.Add(1)%int64(len(targets))]
			if _, err := (observer{t.opts}).observe(b.Context(), t.r, t.env); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkEvaluate measures the thirteen checks on one recorded observation of the bad host,
// the pure part of the family.
func BenchmarkEvaluate(b *testing.B) {
	_, r, env, opts := startHost(b, weblab.Bad("bad.lab.khien.test"))
	o, err := observer{opts}.observe(b.Context(), r, env)
	if err != nil {
		b.Fatal(err)
	}
	checks := Family(opts).Checks
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range checks {
			_ = c.Evaluate(o)
		}
	}
}
