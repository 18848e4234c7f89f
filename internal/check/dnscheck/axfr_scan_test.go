package dnscheck

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/lab/dnslab"
	"github.com/khien-vn/khien/internal/scope"
)

// startZone serves zone, open to transfers, from a lab DNS server on 127.0.0.1: the apex and
// a., b. and c. under it resolve to 127.0.0.1, and so does its name server.
func startZone(t *testing.T, zone string) *dnslab.Server {
	t.Helper()
	s, err := dnslab.Start(t.Context(), dnslab.Config{Zones: []dnslab.Zone{{Origin: zone, OpenAXFR: true,
		Text: "@ NS ns1\nns1 A 127.0.0.1\n@ A 127.0.0.1\na A 127.0.0.1\nb A 127.0.0.1\nc A 127.0.0.1\n"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestAXFROncePerZoneInAScan: three names of one zone scanned in one scan (one Memo) ask its
// name server for one transfer, not three, and share the answer.
func TestAXFROncePerZoneInAScan(t *testing.T) {
	z := startZone(t, "axfr-once.test")
	g := scope.New(scope.LoopbackFence(), net.JoinHostPort("127.0.0.1", itoa(z.Port())), 2*time.Second).WithBudget(scope.NewBudget(0, 0))
	base := check.Env{Timeout: 2 * time.Second, Memo: new(check.Memo)}
	fam := AXFR(Options{DNSPort: z.Port()})
	names := []string{"a.axfr-once.test", "b.axfr-once.test", "axfr-once.test"}
	results := make([][]check.Result, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		r := resource(n)
		env, err := g.Env(r, scope.Active, base)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { results[i] = fam.Run(t.Context(), r, env) })
	}
	wg.Wait()
	if n := z.Transfers(); n != 1 {
		t.Errorf("AXFR requests = %d, want 1 for the zone's one name server", n)
	}
	shared := 0
	for i, res := range results {
		if len(res) != 1 || res[0].Status != check.Fail {
			t.Fatalf("%s: %+v, want dns.axfr.open to fail (the transfer is open)", names[i], res)
		}
		for _, s := range res[0].Evidence["servers"].([]NameServer) {
			for _, at := range s.Attempts {
				if at.Shared {
					shared++
				}
			}
		}
	}
	if shared != 2 {
		t.Errorf("attempts marked shared = %d, want 2 (the first name asked)", shared)
	}

	// Without a memo (a family run on its own), each name asks again.
	env, err := g.Env(resource(names[0]), scope.Active, check.Env{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	fam.Run(t.Context(), resource(names[0]), env)
	fam.Run(t.Context(), resource(names[0]), env)
	if n := z.Transfers(); n != 3 {
		t.Errorf("AXFR requests after two runs without a memo = %d, want 3", n)
	}
}

// TestAXFRTimeoutStartsAfterTheBudget: with a budget of one connection per address held by
// another dial for longer than the AXFR time-out, the transfer is still made once the slot
// is free; before, the wait counted against the time-out ("connect: context deadline
// exceeded").
func TestAXFRTimeoutStartsAfterTheBudget(t *testing.T) {
	z := startZone(t, "axfr-wait.test")
	g := scope.New(scope.LoopbackFence(), net.JoinHostPort("127.0.0.1", itoa(z.Port())), 2*time.Second).WithBudget(scope.NewBudget(1, 1e6))
	const to = 100 * time.Millisecond
	env, err := g.Env(resource("axfr-wait.test"), scope.Active, check.Env{Timeout: to})
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(z.Port()))
	held, err := env.Dial(t.Context(), "tcp", ap.String())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan AXFRAttempt, 1)
	go func() { done <- tryAXFR(t.Context(), env, "axfr-wait.test.", ap) }()
	time.Sleep(3 * to) // longer than the probe's time-out, while the only slot is held
	select {
	case at := <-done:
		t.Fatalf("the probe ended while the slot was held: %+v", at)
	default:
	}
	held.Close()
	at := <-done
	if at.Outcome != axfrOpen || strings.Contains(at.Error, "deadline") {
		t.Errorf("attempt = %+v, want an open transfer", at)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
