// Package lab runs Khiên's whole laboratory on loopback: a DNS server with good and bad zones,
// two mail exchangers, and a set of simulated hosts, each on a loopback address of its own and
// on the standard ports (443, 80, 25, 22, 5432…), so that `khien scan` runs against it with
// its default options exactly as it does in production. It composes the labs of the
// sub-packages (dnslab, tlslab, weblab, exposurelab, datalab) into scenarios: one host that
// passes every check of every family, and hosts that fail each check, so that a scan of the
// lab fails all 45 checks of the catalog at least once and passes each at least once.
//
// The lab is used by `khien lab` (which registers and verifies its hosts in a store and prints
// the command to scan them), by `khien demo` (the demo province's names live in its DNS and
// point at its hosts), by tests that scan it end to end, and by the benchmarks (Config.Hosts
// identical "typical agency site" hosts).
//
// Nothing here listens beyond 127.0.0.0/8, and nothing here dials anywhere but the lab's own
// DNS server (through a loopback-fenced guard, for ownership proofs). Binding ports under 1024
// needs root or CAP_NET_BIND_SERVICE; Start says so when it is missing.
package lab

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/lab/dnslab"
	"github.com/khien-vn/khien/internal/lab/tlslab"
	"github.com/khien-vn/khien/internal/scope"
)

// DefaultPrefix is the loopback network the lab's addresses are taken from.
var DefaultPrefix = netip.MustParsePrefix("127.77.0.0/16")

// The names of the good and the bad host, the apexes of dnslab's GoodZone and BadZone.
const (
	GoodName = dnslab.GoodDomain
	BadName  = dnslab.BadDomain
)

// MaxHosts is the most benchmark hosts a lab can start (addresses x.y.10.1 to x.y.255.250).
const MaxHosts = 246 * 250

// Config says where the lab listens and how big it is. The zero value is the standard lab.
type Config struct {
	// Prefix is the loopback network every address is taken from: a /16 or larger inside
	// 127.0.0.0/8 (default 127.77.0.0/16). The DNS server is at .0.53, the mail exchangers at
	// .0.25 and .0.26, the scenario hosts at .1.1 upwards, the benchmark hosts from .10.1.
	Prefix netip.Prefix
	// DNSAddr is the DNS server's address, default <prefix>.0.53:53. Zone transfers are
	// probed on port 53 of the name servers, so another port leaves dns.axfr.open in error.
	DNSAddr string
	// Hosts is the number of identical benchmark hosts h0001.bench.lab.khien.test… to start.
	Hosts int
}

// Host is one simulated host of the lab.
type Host struct {
	Name     string     // its DNS name
	Addr     netip.Addr // its own loopback address
	Scenario string     // "good", "bad", "typical", "bench"…
	System   string     // the inventory system it belongs to
	About    check.Text // what it simulates
	// Fails lists the catalog checks a scan of dns:Name fails, no more and no fewer: the
	// lab's contract, which its tests hold it to. Empty for the good host.
	Fails []string
}

// Lab is a running lab. Its methods are safe for concurrent use.
type Lab struct {
	// DNS is the lab's DNS server: give its address to scans with --resolver.
	DNS *dnslab.Server
	// CA issued every certificate of the lab (except the self-signed one).
	CA *tlslab.CA
	// Hosts are the scenario hosts, then the benchmark hosts.
	Hosts []Host

	prefix  netip.Prefix
	closers []func() error

	mu     sync.Mutex
	txt    map[string][]string // challenge name → values published
	tokens map[string]string   // host (name or address) → HTTP challenge token

	closeOnce sync.Once
	closeErr  error
}

// Start starts the lab and returns once every server listens. It stops when ctx ends or
// Close is called.
func Start(ctx context.Context, cfg Config) (*Lab, error) {
	if !cfg.Prefix.IsValid() {
		cfg.Prefix = DefaultPrefix
	}
	p := cfg.Prefix.Masked()
	if !p.Addr().Is4() || p.Bits() > 16 || p.Bits() < 8 || !p.Addr().IsLoopback() {
		return nil, fmt.Errorf("lab: prefix %s must be a /8 to /16 inside 127.0.0.0/8", cfg.Prefix)
	}
	if cfg.Hosts < 0 || cfg.Hosts > MaxHosts {
		return nil, fmt.Errorf("lab: %d benchmark hosts asked; the lab holds 0 to %d", cfg.Hosts, MaxHosts)
	}
	if err := ensureFiles(cfg.Hosts); err != nil {
		return nil, err
	}
	l := &Lab{prefix: p, txt: map[string][]string{}, tokens: map[string]string{}}
	if cfg.DNSAddr == "" {
		cfg.DNSAddr = netip.AddrPortFrom(l.addr(0, 53), 53).String()
	}
	if err := l.start(ctx, cfg); err != nil {
		l.Close()
		return nil, err
	}
	context.AfterFunc(ctx, func() { l.Close() })
	return l, nil
}

func (l *Lab) start(ctx context.Context, cfg Config) error {
	var err error
	if l.CA, err = tlslab.NewCA(); err != nil {
		return err
	}
	l.DNS, err = dnslab.Start(ctx, dnslab.Config{Addr: cfg.DNSAddr})
	if err != nil {
		return bindError(cfg.DNSAddr, err)
	}
	l.closers = append(l.closers, l.DNS.Close)
	if err := l.startMail(ctx); err != nil {
		return err
	}
	hosts := scenarios()
	for i := range hosts {
		hosts[i].addr = l.addr(1, hosts[i].octet)
	}
	demo := demoNames()
	for i := range hosts {
		hosts[i].aliases = aliasesOf(hosts[i], demo)
		if err := l.startHost(ctx, &hosts[i]); err != nil {
			return err
		}
		l.Hosts = append(l.Hosts, hosts[i].Host())
	}
	bench, err := l.startBench(ctx, cfg.Hosts)
	if err != nil {
		return err
	}
	return l.serveZones(hosts, demo, bench)
}

// addr returns the address x.y under the lab's prefix (127.77.x.y by default).
func (l *Lab) addr(x, y byte) netip.Addr {
	a := l.prefix.Addr().As4()
	a[2], a[3] = x, y
	return netip.AddrFrom4(a)
}

// benchAddr returns the address of benchmark host i (from 0): .10.1, .10.2 … .10.250, .11.1 …
func (l *Lab) benchAddr(i int) netip.Addr {
	return l.addr(byte(10+i/250), byte(1+i%250))
}

// Resolver returns the DNS server's "ip:port", for --resolver.
func (l *Lab) Resolver() string { return l.DNS.Addr() }

// Roots returns a pool holding the lab CA alone, for check.Env.Roots.
func (l *Lab) Roots() *x509.CertPool { return l.CA.Pool }

// CAPEM returns the lab CA's certificate in PEM, for --ca-file.
func (l *Lab) CAPEM() []byte { return l.CA.PEM }

// Guard returns a scope guard fenced to loopback that resolves through the lab's DNS server:
// the guard a scan of the lab uses, and the one its ownership proofs go through.
func (l *Lab) Guard(timeout time.Duration) *scope.Guard {
	return scope.New(scope.LoopbackFence(), l.Resolver(), timeout)
}

// Host returns the host named name (a scenario or benchmark host), if any.
func (l *Lab) Host(name string) (Host, bool) {
	for _, h := range l.Hosts {
		if h.Name == name {
			return h, true
		}
	}
	return Host{}, false
}

// Close stops every server of the lab. It is safe to call more than once.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() {
		var errs []error
		for i := len(l.closers) - 1; i >= 0; i-- {
			if err := l.closers[i](); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
		}
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}

// startMail starts the two mail exchangers the zones' MX records name: one offering STARTTLS
// with a certificate from the lab CA, one offering nothing.
func (l *Lab) startMail(ctx context.Context) error {
	cert, err := l.CA.Issue(mxNames(), tlslab.CertGood, tlslab.KeyECDSA256, time.Time{})
	if err != nil {
		return err
	}
	good := netip.AddrPortFrom(l.addr(0, 25), 25).String()
	s, err := dnslab.StartSMTP(ctx, dnslab.SMTPConfig{
		Addr: good, Hostname: mxNames()[0],
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	})
	if err != nil {
		return bindError(good, err)
	}
	l.closers = append(l.closers, s.Close)
	bad := netip.AddrPortFrom(l.addr(0, 26), 25).String()
	s, err = dnslab.StartSMTP(ctx, dnslab.SMTPConfig{Addr: bad, Hostname: "mx1." + dnslab.BadDomain})
	if err != nil {
		return bindError(bad, err)
	}
	l.closers = append(l.closers, s.Close)
	return nil
}

// ErrPrivileged is returned, wrapped, when the lab may not bind a port under 1024.
var ErrPrivileged = errors.New("binding ports under 1024 needs root or CAP_NET_BIND_SERVICE")

// bindError explains the two ways binding a lab address fails on an ordinary machine.
func bindError(addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM):
		return fmt.Errorf("lab: listen on %s: %w: the lab listens on the standard ports so that scans run as in production; "+
			"run it as root, or allow the binary once with: sudo setcap cap_net_bind_service=+ep $(which khien) (%w)", addr, ErrPrivileged, err)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("lab: listen on %s: this system does not route all of 127.0.0.0/8 to loopback (Linux does); "+
			"alias the address to the loopback interface first: %w", addr, err)
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("lab: listen on %s: the address is in use; is another lab running? (%w)", addr, err)
	}
	return fmt.Errorf("lab: listen on %s: %w", addr, err)
}

func hostPort(a netip.Addr, port int) string { return net.JoinHostPort(a.String(), strconv.Itoa(port)) }
