package datacheck

import (
	"sync/atomic"
	"testing"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/lab/datalab"
)

// BenchmarkCrawl crawls the lab's hosts, the scripts their pages load included: one host at a time, then eight hosts on distinct
// loopback addresses crawled in parallel, as an assessment of many resources does.
func BenchmarkCrawl(b *testing.B) {
	for _, kind := range []datalab.Kind{datalab.Leaky, datalab.Clean} {
		b.Run(string(kind), func(b *testing.B) {
			h, err := datalab.Start(b.Context(), kind, datalab.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			r := resource(b, "url:"+h.URL)
			env := envFor(b, r, "")
			f := Family(Config{Key: []byte("bench")})
			var pages, scripts, bytes int
			b.ResetTimer()
			for b.Loop() {
				o, err := f.Observe(b.Context(), r, env)
				if err != nil {
					b.Fatal(err)
				}
				pages, scripts, bytes = len(o.Pages), 0, 0
				for _, p := range o.Pages {
					bytes += p.Bytes
				}
				for _, p := range o.Scripts {
					if p.Source == "" {
						scripts++
						bytes += p.Bytes
					}
				}
				_ = piiPublic(o)
				_ = classifiedPublic(o)
				_ = secretPublic(o)
			}
			b.SetBytes(int64(bytes))
			b.ReportMetric(float64(pages), "pages/op")
			b.ReportMetric(float64(scripts), "scripts/op")
			b.ReportMetric(float64(pages*b.N)/b.Elapsed().Seconds(), "pages/s")
		})
	}
	b.Run("leaky-8-hosts-parallel", func(b *testing.B) {
		hosts, err := datalab.StartN(b.Context(), datalab.Leaky, 8, false)
		if err != nil {
			b.Fatal(err)
		}
		defer func() {
			for _, h := range hosts {
				h.Close()
			}
		}()
		f := Family(Config{Key: []byte("bench")})
		var next atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h := hosts[next.Add(1)%int64(len(hosts))]
				r := resource(b, "url:"+h.URL)
				for _, res := range f.Run(b.Context(), r, envFor(b, r, "")) {
					if res.Status != check.Fail {
						b.Errorf("%s on %s: %s", res.Check, h.URL, res.Status)
					}
				}
			}
		})
	})
}
