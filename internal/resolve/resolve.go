// Package resolve asks DNS questions of one configured server. A scan uses exactly one
// resolver, given with --resolver, for every lookup and every connection it makes, so that
// results are reproducible and the lab's own DNS server on loopback can stand in for the
// Internet. The system resolver is never used.
package resolve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/miekg/dns"
)

// DialFunc opens a connection; the scope package supplies one that keeps to the safety fence.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Resolver sends queries to Server (host:port, an IP address) over UDP, retrying over TCP
// when an answer is truncated. It is safe for concurrent use.
type Resolver struct {
	Server  string
	Timeout time.Duration
	Dial    DialFunc
}

// String names the server queries go to, for evidence ("127.0.0.1:5353").
func (r *Resolver) String() string {
	if r == nil {
		return ""
	}
	return r.Server
}

// ErrNoServer means no resolver was configured.
var ErrNoServer = errors.New("no DNS resolver configured (use --resolver host:port)")

// Exchange sends m and returns the answer. A non-success rcode is not an error here: callers
// decide what NXDOMAIN means.
func (r *Resolver) Exchange(ctx context.Context, m *dns.Msg) (*dns.Msg, error) {
	if r == nil || r.Server == "" {
		return nil, ErrNoServer
	}
	in, err := r.exchange(ctx, "udp", m)
	if err == nil && in.Truncated {
		in, err = r.exchange(ctx, "tcp", m)
	}
	if err != nil {
		return nil, fmt.Errorf("query %s %s at %s: %w", m.Question[0].Name, dns.TypeToString[m.Question[0].Qtype], r.Server, err)
	}
	return in, nil
}

func (r *Resolver) exchange(ctx context.Context, network string, m *dns.Msg) (*dns.Msg, error) {
	timeout := r.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dial := r.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	conn, err := dial(ctx, network, r.Server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	co := &dns.Conn{Conn: conn, UDPSize: 4096}
	if err := co.WriteMsg(m); err != nil {
		return nil, err
	}
	for {
		in, err := co.ReadMsg()
		if err != nil {
			return nil, err
		}
		if in.Id == m.Id { // ignore stray answers to earlier queries
			return in, nil
		}
	}
}

// Query asks one question with recursion desired and EDNS0 (4096 bytes, DO bit set so that
// DNSSEC records come back).
func (r *Resolver) Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	m.SetEdns0(4096, true)
	return r.Exchange(ctx, m)
}

// NotFoundError reports a name that does not exist or has no records of the type asked.
type NotFoundError struct {
	Name  string
	Type  string
	Rcode string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Name, e.Type, e.Rcode)
}

// IsNotFound reports whether err says the name or record does not exist (as opposed to a
// resolver that could not be reached).
func IsNotFound(err error) bool {
	var nf *NotFoundError
	return errors.As(err, &nf)
}

// records queries name and returns the answer records of type qtype, following no CNAMEs
// itself (a recursive resolver has already done so).
func (r *Resolver) records(ctx context.Context, name string, qtype uint16) ([]dns.RR, error) {
	in, err := r.Query(ctx, name, qtype)
	if err != nil {
		return nil, err
	}
	if in.Rcode != dns.RcodeSuccess {
		if in.Rcode == dns.RcodeNameError {
			return nil, &NotFoundError{Name: name, Type: dns.TypeToString[qtype], Rcode: "NXDOMAIN"}
		}
		return nil, fmt.Errorf("%s %s: server answered %s", name, dns.TypeToString[qtype], dns.RcodeToString[in.Rcode])
	}
	var out []dns.RR
	for _, rr := range in.Answer {
		if rr.Header().Rrtype == qtype {
			out = append(out, rr)
		}
	}
	if len(out) == 0 {
		return nil, &NotFoundError{Name: name, Type: dns.TypeToString[qtype], Rcode: "NOERROR, no records"}
	}
	return out, nil
}

// Addrs returns the IPv4 and IPv6 addresses of name (A then AAAA). It fails only if neither
// query found anything.
func (r *Resolver) Addrs(ctx context.Context, name string) ([]net.IP, error) {
	var ips []net.IP
	var firstErr error
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		rrs, err := r.records(ctx, name, t)
		if err != nil {
			if firstErr == nil || !IsNotFound(err) {
				firstErr = err
			}
			continue
		}
		for _, rr := range rrs {
			switch v := rr.(type) {
			case *dns.A:
				ips = append(ips, v.A)
			case *dns.AAAA:
				ips = append(ips, v.AAAA)
			}
		}
	}
	if len(ips) == 0 {
		return nil, firstErr
	}
	return ips, nil
}

// TXT returns the TXT strings of name, each record's strings joined.
func (r *Resolver) TXT(ctx context.Context, name string) ([]string, error) {
	rrs, err := r.records(ctx, name, dns.TypeTXT)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		var s string
		for _, part := range rr.(*dns.TXT).Txt {
			s += part
		}
		out = append(out, s)
	}
	return out, nil
}
