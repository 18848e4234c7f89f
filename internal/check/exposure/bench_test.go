package exposure

import (
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/lab/exposurelab"
)

// BenchmarkObservePaths measures one web observation (baseline, home page, 23 paths and the
// derived directories) against the lab's exposed and clean sites, and against a fleet of
// sixteen hosts on distinct loopback addresses observed at once.
func BenchmarkObservePaths(b *testing.B) {
	sites := []struct {
		name string
		h    http.Handler
	}{
		{"exposed", exposurelab.ExposedSite()},
		{"clean", exposurelab.CleanSite(nil)},
	}
	for _, s := range sites {
		b.Run(s.name, func(b *testing.B) {
			srv, err := exposurelab.StartWeb(b.Context(), netip.MustParseAddr("127.0.22.1"), s.h)
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			r := verified("url:" + srv.URL + "/")
			env := labEnv(b, "", r)
			opts := Options{Ports: noServices(nil)}
			var requests int
			for b.Loop() {
				o, err := observe(b.Context(), r, env, opts)
				if err != nil {
					b.Fatal(err)
				}
				requests = 1 + len(o.Web[0].Probes)
			}
			b.ReportMetric(float64(requests), "requests/op")
		})
	}
	b.Run("fleet16", func(b *testing.B) {
		addrs := exposurelab.Addrs(netip.MustParseAddr("127.0.23.1"), 16)
		type host struct {
			r   inventory.Resource
			env check.Env
		}
		var hosts []host
		for i, a := range addrs {
			h := exposurelab.ExposedSite()
			if i%2 == 1 {
				h = exposurelab.CleanSite(nil)
			}
			srv, err := exposurelab.StartWeb(b.Context(), a, h)
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			r := verified("url:" + srv.URL + "/")
			hosts = append(hosts, host{r, labEnv(b, "", r)})
		}
		f := Family(Options{Ports: noServices(nil)})
		for b.Loop() {
			var wg sync.WaitGroup
			for _, h := range hosts {
				wg.Go(func() { f.Run(b.Context(), h.r, h.env) })
			}
			wg.Wait()
		}
		b.ReportMetric(float64(len(hosts)), "hosts/op")
	})
}

// BenchmarkObserveServices measures the ten handshakes against the lab's listeners.
func BenchmarkObserveServices(b *testing.B) {
	svcs, err := exposurelab.StartServices(b.Context(), netip.MustParseAddr("127.0.22.2"))
	if err != nil {
		b.Fatal(err)
	}
	defer svcs.Close()
	ports := svcs.Ports()
	ports[HTTP], ports[HTTPS] = []int{}, []int{}
	r := verified("ip:127.0.22.2")
	env := labEnv(b, "", r)
	env.Timeout = time.Second
	for b.Loop() {
		o, err := observe(b.Context(), r, env, Options{Ports: ports})
		if err != nil {
			b.Fatal(err)
		}
		for _, sp := range o.Services {
			if sp.State != svcIdentified {
				b.Fatalf("%s: %s", sp.Protocol, sp.State)
			}
		}
	}
}

// BenchmarkSimilarity measures the soft-404 comparison of two 64 KiB bodies.
func BenchmarkSimilarity(b *testing.B) {
	const letters = " etaoinshrdlu<>/=\"\n"
	text := func(seed uint64) []byte {
		b := make([]byte, maxBody)
		for i := range b {
			seed = seed*6364136223846793005 + 1442695040888963407
			b[i] = letters[(seed>>33)%uint64(len(letters))]
		}
		return b
	}
	x, y := text(1), text(2)
	b.SetBytes(2 * maxBody)
	for b.Loop() {
		similarity(x, y)
	}
}
