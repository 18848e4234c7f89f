// Package webclient is the HTTP client side of the web families (http, exposure, data, vuln): one
// transport configuration for all of them and, during a scan, keep-alive connections shared by
// every family observing the same resource, so that a host's pages cost a couple of
// connections rather than a few per family.
//
// Sharing a transport shares connections only: redirects, cookies and time-outs belong to
// each family's own http.Client and request, so one family's requests do not change what
// another observes. The scan's implementation of Transports (scope.Web) also backs off when a
// server answers 429 or 503; this package does not know the scope guard (check families may
// not import it) and only names what it needs.
package webclient

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Transports hands out the HTTP transports of one resource's scan.
type Transports interface {
	// Transport returns the shared transport whose connections to host (any port) go to
	// addr; connections to other hosts (a redirect to www.) are resolved by the guard. A zero
	// addr leaves host to the guard's resolution too.
	Transport(host string, addr netip.Addr) http.RoundTripper
}

// DialFunc opens a connection, as check.Env.Dial does.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// MaxResponseHeaderBytes bounds the headers of one answer.
const MaxResponseHeaderBytes = 64 << 10

// New returns a transport with the web families' settings whose connections to host go to
// addr (when valid), dialled with dial. timeout bounds the TLS handshake and the wait for
// response headers, and how long a connection may stay idle.
//
// Certificates are not verified: trust is the TLS family's verdict, and the other families
// must still read a site whose certificate expired. Every suite Go implements is offered,
// weak ones included, so that an old server still answers; which suites it accepts is the
// TLS family's business too.
func New(dial DialFunc, host string, addr netip.Addr, timeout time.Duration) *http.Transport {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			if h, p, err := net.SplitHostPort(address); err == nil && addr.IsValid() && strings.EqualFold(h, host) {
				address = net.JoinHostPort(addr.String(), p)
			}
			return dial(ctx, network, address)
		},
		TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, //nolint:gosec // see above
			MinVersion:         tls.VersionTLS10,
			CipherSuites:       AllSuites(),
		},
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: MaxResponseHeaderBytes,
		// As a browser: six connections to one origin. The scope guard's per-address budget
		// caps them too, but a request queued here reuses the next connection to come free
		// instead of opening one more. Idle ones the budget needs back are closed on its
		// request (scope.Web).
		MaxConnsPerHost:     6,
		MaxIdleConnsPerHost: 6,
		IdleConnTimeout:     timeout,
	}
}

// For returns the round tripper a family uses for host at addr, and the function to call
// when the family is done with it: the scan's shared transport when shared is not nil
// (closing is then the scan's business), otherwise a transport of the family's own over dial.
func For(shared Transports, dial DialFunc, host string, addr netip.Addr, timeout time.Duration) (http.RoundTripper, func()) {
	if shared != nil {
		return shared.Transport(host, addr), func() {}
	}
	tr := New(dial, host, addr, timeout)
	return tr, tr.CloseIdleConnections
}

// AllSuites lists every suite Go implements, insecure ones included.
func AllSuites() []uint16 {
	var ids []uint16
	for _, s := range tls.CipherSuites() {
		ids = append(ids, s.ID)
	}
	for _, s := range tls.InsecureCipherSuites() {
		ids = append(ids, s.ID)
	}
	return ids
}

// Resolver answers A and AAAA lookups, as check.Env.Resolver does.
type Resolver interface {
	Addrs(ctx context.Context, name string) ([]net.IP, error)
}

// OnlyAddress is host's address when it is an IP literal or, during a scan (web not nil),
// resolves through r to exactly one address: connections are then pinned to it and share the
// scan's transport with the other web families. Otherwise it is the zero address and the
// guard resolves each connection itself.
func OnlyAddress(ctx context.Context, web Transports, r Resolver, host string) netip.Addr {
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap()
	}
	if r == nil || web == nil { // nothing to share without a scan
		return netip.Addr{}
	}
	ips, err := r.Addrs(ctx, host)
	if err != nil || len(ips) != 1 {
		return netip.Addr{}
	}
	a, _ := netip.AddrFromSlice(ips[0])
	return a.Unmap()
}
