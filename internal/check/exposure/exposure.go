// Package exposure finds what a site or host shows the Internet that it should not: a readable
// Git repository, an .env file or a configuration backup, a database dump or site archive, a
// directory listing, an administration interface, a missing security.txt (RFC 9116), and
// database or remote-administration services answering from outside.
//
// Everything is judged by content, never by a status code or a port number alone. Many sites
// answer 200 with a friendly "page not found" for every path (a soft 404), and many ports are
// open for reasons that have nothing to do with the service usually found there. So each web
// endpoint is first asked for a random path to learn its soft-404 page, and a path counts only
// when its first bytes carry the real signature of what it claims to be (a "ref: refs/heads/"
// line in .git/HEAD, KEY=value lines in .env, a dump header or archive magic bytes) and do not
// resemble that soft-404 page. Services count only when they complete the first step of their
// own protocol (a MySQL greeting, a PostgreSQL reply to SSLRequest, a TDS PRELOGIN answer…).
//
// Path probing and service handshakes send more than an ordinary visitor would, so the family
// is active: it runs only on resources whose ownership was proven. It stays polite: at most
// six requests at a time to one address, and only the first 64 KiB of any file (a Range
// request, and a read cap for servers that ignore it).
//
// Observe does all I/O once per resource, through env.Dial and env.Resolver only; each check
// is a pure function of the observation.
package exposure

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
)

// Protocol names, the keys of Options.Ports. "http" and "https" name the web ports probed on
// dns: and ip: resources; the others are the services of the two service checks.
const (
	HTTP          = "http"
	HTTPS         = "https"
	PostgreSQL    = "postgresql"
	MySQL         = "mysql"
	MSSQL         = "mssql"
	MongoDB       = "mongodb"
	Redis         = "redis"
	Elasticsearch = "elasticsearch"
	RDP           = "rdp"
	Telnet        = "telnet"
	VNC           = "vnc"
	SMB           = "smb"
)

// DefaultPorts are the standard ports of each protocol.
var DefaultPorts = map[string][]int{
	HTTPS:         {443},
	HTTP:          {80},
	PostgreSQL:    {5432},
	MySQL:         {3306},
	MSSQL:         {1433},
	MongoDB:       {27017},
	Redis:         {6379},
	Elasticsearch: {9200},
	RDP:           {3389},
	Telnet:        {23},
	VNC:           {5900},
	SMB:           {445},
}

// MaxConcurrency is the most requests the family has in flight to one address at a time.
const MaxConcurrency = 6

// maxBody is how much of any response is read: enough for every signature, little enough to
// never download a real backup.
const maxBody = 64 << 10

// Options tunes the family. The zero value probes the standard ports.
type Options struct {
	// Ports maps a protocol name (HTTP, HTTPS, PostgreSQL…) to the ports probed for it. A
	// protocol missing from the map uses DefaultPorts; an empty, non-nil list skips it.
	Ports map[string][]int
	// Concurrency is the most requests in flight to one address, 1 to MaxConcurrency;
	// zero or out of range means MaxConcurrency.
	Concurrency int
}

func (o Options) ports(proto string) []int {
	p, ok := o.Ports[proto]
	if !ok {
		return DefaultPorts[proto]
	}
	return slices.DeleteFunc(slices.Clone(p), func(n int) bool { return n < 1 || n > 65535 })
}

func (o Options) concurrency() int {
	if o.Concurrency < 1 || o.Concurrency > MaxConcurrency {
		return MaxConcurrency
	}
	return o.Concurrency
}

// Family returns the exposure family with its eight checks.
func Family(opts Options) check.Family[observation] {
	return check.Family[observation]{
		Name:    "exposure",
		Active:  true,
		Applies: applies,
		Observe: func(ctx context.Context, r inventory.Resource, env check.Env) (observation, error) {
			return observe(ctx, r, env, opts)
		},
		Checks: []check.Check[observation]{
			{ID: "exposure.git", Evaluate: pathCheck(kindGit)},
			{ID: "exposure.env", Evaluate: pathCheck(kindEnv)},
			{ID: "exposure.backup", Evaluate: pathCheck(kindBackup)},
			{ID: "exposure.directory_listing", Evaluate: pathCheck(kindListing)},
			{ID: "exposure.admin_interface", Evaluate: pathCheck(kindAdmin)},
			{ID: "exposure.security_txt.missing", Evaluate: securityTxtMissing},
			{ID: "exposure.service.remote_admin", Evaluate: serviceCheck(classRemoteAdmin)},
			{ID: "exposure.service.database", Evaluate: serviceCheck(classDatabase)},
		},
	}
}

// applies accepts names, addresses and web applications. Wildcards and service labels
// (_dmarc…) name no host to connect to.
func applies(r inventory.Resource) bool {
	switch r.Kind() {
	case inventory.KindIP, inventory.KindURL:
		return true
	case inventory.KindDNS:
		v := r.Value()
		return !strings.HasPrefix(v, "*") && !strings.HasPrefix(v, "_")
	}
	return false
}

// observation is everything the eight checks judge: each web endpoint's baseline and probed
// paths, and each service probe.
type observation struct {
	At       time.Time // when observed; security.txt expiry is judged against it
	Host     string    // the name or address assessed
	Web      []webEndpoint
	WebPorts string // what was tried for web endpoints, for reasons ("https 443, http 80")
	Services []serviceProbe
}

// target is what Observe connects to: the resource's host, its addresses and, for url:
// resources, the one web origin and base path.
type target struct {
	host  string // name or address, as in a URL's host (no brackets, no port)
	name  bool   // host is a DNS name (sent as SNI and Host)
	addrs []netip.Addr
	url   *url.URL // url: resources only
}

func resolveTarget(ctx context.Context, r inventory.Resource, env check.Env) (target, error) {
	t := target{}
	switch r.Kind() {
	case inventory.KindIP:
		t.host = r.Value()
	case inventory.KindDNS:
		t.host = r.Value()
	case inventory.KindURL:
		u, err := url.Parse(r.Value())
		if err != nil {
			return t, fmt.Errorf("resource %s: %w", r.ID, err)
		}
		t.url, t.host = u, u.Hostname()
	default:
		return t, fmt.Errorf("resource %s: kind %q is not observed by the exposure family", r.ID, r.Kind())
	}
	if a, err := netip.ParseAddr(t.host); err == nil {
		t.addrs = []netip.Addr{a.Unmap()}
		return t, nil
	}
	t.name = true
	if env.Resolver == nil {
		return t, fmt.Errorf("resolve %s: no DNS resolver configured", t.host)
	}
	ips, err := env.Resolver.Addrs(ctx, t.host)
	if err != nil {
		return t, fmt.Errorf("resolve %s: %w", t.host, err)
	}
	for _, ip := range ips {
		if a, ok := netip.AddrFromSlice(ip); ok {
			t.addrs = append(t.addrs, a.Unmap())
		}
	}
	slices.SortFunc(t.addrs, netip.Addr.Compare)
	t.addrs = slices.Compact(t.addrs)
	if len(t.addrs) == 0 {
		return t, fmt.Errorf("resolve %s: no A or AAAA record", t.host)
	}
	return t, nil
}

func observe(ctx context.Context, r inventory.Resource, env check.Env, opts Options) (observation, error) {
	if env.Dial == nil {
		return observation{}, fmt.Errorf("no dialer: the exposure family needs a scope-guarded environment")
	}
	if env.Timeout <= 0 {
		env.Timeout = 5 * time.Second
	}
	now := time.Now
	if env.Now != nil {
		now = env.Now
	}
	t, err := resolveTarget(ctx, r, env)
	if err != nil {
		return observation{}, err
	}
	o := observation{At: now().UTC(), Host: t.host}
	lim := newLimiter(opts.concurrency())

	var wg sync.WaitGroup
	wg.Go(func() {
		o.Web, o.WebPorts = observeWeb(ctx, t, env, opts, lim)
	})
	wg.Go(func() {
		o.Services = observeServices(ctx, t, env, opts, lim)
	})
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return observation{}, err
	}
	return o, nil
}

// limiter bounds the requests in flight to each address.
type limiter struct {
	n  int
	mu sync.Mutex
	m  map[netip.Addr]chan struct{}
}

func newLimiter(n int) *limiter { return &limiter{n: n, m: map[netip.Addr]chan struct{}{}} }

// acquire waits for a slot at a; the returned function releases it.
func (l *limiter) acquire(ctx context.Context, a netip.Addr) (func(), error) {
	l.mu.Lock()
	c, ok := l.m[a]
	if !ok {
		c = make(chan struct{}, l.n)
		l.m[a] = c
	}
	l.mu.Unlock()
	select {
	case c <- struct{}{}:
		return func() { <-c }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// hostPort joins an address and port the way a dialler wants them.
func hostPort(a netip.Addr, port int) string {
	return net.JoinHostPort(a.String(), strconv.Itoa(port))
}

// endpointName is "name|address:port" for a named host, "address:port" otherwise.
func endpointName(t target, a netip.Addr, port int) string {
	if t.name {
		return t.host + "|" + hostPort(a, port)
	}
	return hostPort(a, port)
}

// worst orders verdicts for "the worst endpoint decides": fail, then error, then pass.
func worst(a, b check.Status) check.Status {
	rank := func(s check.Status) int {
		switch s {
		case check.Fail:
			return 3
		case check.Error:
			return 2
		case check.Pass:
			return 1
		}
		return 0
	}
	if cmp.Compare(rank(a), rank(b)) >= 0 {
		return a
	}
	return b
}
