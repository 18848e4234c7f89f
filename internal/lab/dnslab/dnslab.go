// Package dnslab is the DNS and mail half of Khiên's lab: a DNS server on loopback that is
// at once authoritative for the lab's zones and "recursive-looking" (it sets RA and follows
// CNAME chains across its zones, as the resolver a scan is given would), and a tiny SMTP
// server that offers STARTTLS or does not.
//
// A scan is pointed at the server with --resolver; every name under .lab.khien.test (and any
// other zone added) then resolves without a packet leaving the machine. Zones are plain Go
// values or zone-file text; signed zones are signed at start with a freshly generated key,
// so DNSKEY, RRSIG and DS records are real and verify. Records can be changed while the
// server runs (other labs register their hosts, ownership challenges publish their TXT), and
// GoodZone and BadZone hold the zones that make each DNS and mail check pass and fail.
//
// The server answers A, AAAA, TXT, MX, CAA, CNAME, NS, SOA, DNSKEY, RRSIG and DS queries
// (DS at a signed zone's apex is answered as its parent would), attaches RRSIGs when the DO
// bit is set, sets AD on answers that come only from signed zones, returns NXDOMAIN with the
// zone's SOA for names that do not exist, and transfers zones configured as open over TCP
// (REFUSED otherwise). It does not serve NSEC/NSEC3 denial proofs, wildcards or delegations.
package dnslab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// BaseZone is the zone every server holds: names under it that no other zone claims (lab
// hosts, benchmark hosts) live here. It is unsigned and has no CAA record, so the zones
// below it inherit nothing.
const BaseZone = "lab.khien.test"

// Config configures a DNS server.
type Config struct {
	// Addr is the UDP and TCP address to listen on; empty means "127.0.0.1:0". The port is
	// the same for both.
	Addr string
	// Zones are served in addition to BaseZone.
	Zones []Zone
}

// Server is a running lab DNS server. It is safe for concurrent use.
type Server struct {
	udp, tcp *dns.Server
	addr     netip.AddrPort

	mu    sync.RWMutex
	zones map[string]*zone // origin → zone

	transfers atomic.Int64 // zone transfers served, for tests that count what a scan asks

	closeOnce sync.Once
	closeErr  error
	done      chan struct{}
}

// Start starts a server and returns once it is listening. It stops when ctx is cancelled or
// Close is called.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	pc, ln, err := listenBoth(addr)
	if err != nil {
		return nil, err
	}
	s := &Server{zones: map[string]*zone{}, done: make(chan struct{})}
	s.addr = netip.MustParseAddrPort(pc.LocalAddr().String())
	zones := append([]Zone{{Origin: BaseZone, Text: "@ NS ns1\nns1 " + addr4or6(s.addr.Addr()) + "\n"}}, cfg.Zones...)
	for _, z := range zones {
		if err := s.AddZone(z); err != nil {
			pc.Close()
			ln.Close()
			return nil, err
		}
	}
	s.udp = &dns.Server{PacketConn: pc, Handler: s}
	s.tcp = &dns.Server{Listener: ln, Handler: s}
	var started sync.WaitGroup
	started.Add(2)
	s.udp.NotifyStartedFunc = started.Done
	s.tcp.NotifyStartedFunc = started.Done
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		go func() { _ = srv.ActivateAndServe() }()
	}
	started.Wait()
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.done:
		}
	}()
	return s, nil
}

// listenBoth opens UDP and TCP on the same address. With port 0 the UDP port is chosen
// first and TCP tries to follow; on the rare clash it starts again.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dnslab: address %q: %w", addr, err)
	}
	if a, err := netip.ParseAddr(host); err != nil || !a.IsLoopback() {
		return nil, nil, fmt.Errorf("dnslab: %q is not a loopback address", addr)
	}
	var lastErr error
	for range 10 {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("dnslab: listen udp %s: %w", addr, err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		lastErr = err
		if port != "0" {
			break
		}
	}
	return nil, nil, fmt.Errorf("dnslab: listen tcp %s: %w", addr, lastErr)
}

// Addr returns the "ip:port" the server listens on (UDP and TCP), for --resolver.
func (s *Server) Addr() string { return s.addr.String() }

// AddrPort returns the address and port the server listens on.
func (s *Server) AddrPort() netip.AddrPort { return s.addr }

// Port returns the port the server listens on, the one a scan's zone-transfer probe must use.
func (s *Server) Port() int { return int(s.addr.Port()) }

// Transfers returns how many zone transfers the server has served (open zones over TCP).
func (s *Server) Transfers() int64 { return s.transfers.Load() }

// Close stops the server. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.closeErr = errors.Join(s.udp.Shutdown(), s.tcp.Shutdown())
	})
	return s.closeErr
}

// AddZone serves z, replacing any zone with the same origin.
func (s *Server) AddZone(z Zone) error {
	zn, err := newZone(z)
	if err != nil {
		return fmt.Errorf("dnslab: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.zones[zn.origin] = zn
	return nil
}

// Set replaces the RRsets that rrs belong to (by owner name and type) with rrs. A name in no
// zone gets a new unsigned zone at its last two labels ("portal.hanoi.example" → zone
// "hanoi.example"). RRsets of signed zones are signed again.
func (s *Server) Set(rrs ...dns.RR) error {
	type key struct {
		name string
		t    uint16
	}
	groups := map[key][]dns.RR{}
	var order []key
	for _, rr := range rrs {
		k := key{dns.CanonicalName(rr.Header().Name), rr.Header().Rrtype}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], rr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range order {
		z, err := s.zoneForWriteLocked(k.name)
		if err != nil {
			return err
		}
		if err := z.replace(k.name, k.t, groups[k]); err != nil {
			return fmt.Errorf("dnslab: %w", err)
		}
	}
	return nil
}

// SetText parses records in zone-file syntax (absolute names, e.g.
// "api.lab.khien.test. A 127.0.0.9") and Sets them.
func (s *Server) SetText(records ...string) error {
	var rrs []dns.RR
	for _, t := range records {
		rr, err := dns.NewRR(t)
		if err != nil {
			return fmt.Errorf("dnslab: record %q: %w", t, err)
		}
		if rr == nil {
			continue
		}
		if rr.Header().Ttl == 0 {
			rr.Header().Ttl = defaultTTL
		}
		rrs = append(rrs, rr)
	}
	return s.Set(rrs...)
}

// SetA makes ips the A and AAAA records of name (IPv4 addresses as A, the others as AAAA);
// the previous addresses of name are dropped.
func (s *Server) SetA(name string, ips ...netip.Addr) error {
	name = dns.CanonicalName(name)
	var a, aaaa []dns.RR
	for _, ip := range ips {
		ip = ip.Unmap()
		if ip.Is4() {
			a = append(a, &dns.A{Hdr: hdr(name, dns.TypeA), A: ip.AsSlice()})
		} else {
			aaaa = append(aaaa, &dns.AAAA{Hdr: hdr(name, dns.TypeAAAA), AAAA: ip.AsSlice()})
		}
	}
	return s.replace(name, map[uint16][]dns.RR{dns.TypeA: a, dns.TypeAAAA: aaaa})
}

// SetTXT makes txt the TXT records of name, one record per string (longer strings are split
// into 255-byte character-strings), e.g. SetTXT("_khien-challenge.portal.lab.khien.test", token).
func (s *Server) SetTXT(name string, txt ...string) error {
	name = dns.CanonicalName(name)
	var rrs []dns.RR
	for _, t := range txt {
		rrs = append(rrs, &dns.TXT{Hdr: hdr(name, dns.TypeTXT), Txt: splitTXT(t)})
	}
	return s.replace(name, map[uint16][]dns.RR{dns.TypeTXT: rrs})
}

// Delete removes the RRset (name, rrtype).
func (s *Server) Delete(name string, rrtype uint16) error {
	return s.replace(dns.CanonicalName(name), map[uint16][]dns.RR{rrtype: nil})
}

func (s *Server) replace(name string, sets map[uint16][]dns.RR) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	z, err := s.zoneForWriteLocked(name)
	if err != nil {
		return err
	}
	for t, rrs := range sets {
		if err := z.replace(name, t, rrs); err != nil {
			return fmt.Errorf("dnslab: %w", err)
		}
	}
	return nil
}

func hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: defaultTTL}
}

func splitTXT(s string) []string {
	var parts []string
	for len(s) > 255 {
		parts = append(parts, s[:255])
		s = s[255:]
	}
	return append(parts, s)
}

// zoneForWriteLocked returns the zone name belongs in, creating one when no zone encloses it.
func (s *Server) zoneForWriteLocked(name string) (*zone, error) {
	if _, ok := dns.IsDomainName(name); !ok || name == "." {
		return nil, fmt.Errorf("dnslab: %q is not a domain name", name)
	}
	if z := s.zoneForLocked(name); z != nil {
		return z, nil
	}
	labels := dns.SplitDomainName(name)
	if len(labels) > 2 {
		labels = labels[len(labels)-2:]
	}
	z, err := newZone(Zone{Origin: strings.Join(labels, ".")})
	if err != nil {
		return nil, fmt.Errorf("dnslab: %w", err)
	}
	s.zones[z.origin] = z
	return z, nil
}

// zoneForLocked returns the closest zone enclosing name, or nil.
func (s *Server) zoneForLocked(name string) *zone {
	for n := name; ; {
		if z := s.zones[n]; z != nil {
			return z
		}
		i, end := dns.NextLabel(n, 0)
		if end {
			return nil
		}
		n = n[i:]
	}
}

// aboveZoneLocked reports whether name is an ancestor of a zone origin ("khien.test" above
// "lab.khien.test"): such a name exists, empty, rather than being NXDOMAIN.
func (s *Server) aboveZoneLocked(name string) bool {
	for origin := range s.zones {
		if origin != name && dns.IsSubDomain(name, origin) {
			return true
		}
	}
	return false
}

// ServeDNS answers one query.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.RecursionAvailable = true
	if req.Opcode != dns.OpcodeQuery || len(req.Question) != 1 {
		m.SetRcode(req, dns.RcodeFormatError)
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	opt := req.IsEdns0()
	do := opt != nil && opt.Do()
	_, udp := w.RemoteAddr().(*net.UDPAddr)
	switch q.Qtype {
	case dns.TypeAXFR, dns.TypeIXFR:
		s.transfer(w, req, udp)
		return
	}
	s.mu.RLock()
	s.answerLocked(m, dns.CanonicalName(q.Name), q.Qtype, do)
	s.mu.RUnlock()
	if opt != nil {
		m.SetEdns0(4096, do)
	}
	if udp {
		size := dns.MinMsgSize
		if opt != nil && int(opt.UDPSize()) > size {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}

// answerLocked fills m as a recursive resolver in front of the lab's zones would: CNAMEs are
// followed (up to 8), a missing name is NXDOMAIN with the SOA of its zone, AD is set when
// DNSSEC was asked for and every record came from a signed zone.
func (s *Server) answerLocked(m *dns.Msg, name string, qtype uint16, do bool) {
	signed := true
	defer func() { m.AuthenticatedData = do && signed && m.Rcode != dns.RcodeServerFailure }()
	for hop := 0; hop < 8; hop++ {
		z := s.zoneForLocked(name)
		if z == nil {
			signed = false
			if !s.aboveZoneLocked(name) {
				m.Rcode = dns.RcodeNameError
			}
			return
		}
		signed = signed && z.key != nil
		if hop == 0 {
			m.Authoritative = true
		}
		if qtype == dns.TypeDS && name == z.origin {
			// A DS RRset lives in the parent; the lab's parents are unsigned.
			signed = false
			if z.ds != nil {
				m.Answer = append(m.Answer, dns.Copy(z.ds))
			}
			return
		}
		set, ok := z.rrsets[name]
		if !ok {
			if !z.hasDescendant(name) {
				m.Rcode = dns.RcodeNameError
			}
			m.Ns = append(m.Ns, z.rrset(z.origin, dns.TypeSOA, do)...)
			return
		}
		if qtype == dns.TypeRRSIG {
			for _, sig := range z.sigs[name] {
				m.Answer = append(m.Answer, dns.Copy(sig))
			}
			return
		}
		if rrs := z.rrset(name, qtype, do); len(rrs) > 0 {
			m.Answer = append(m.Answer, rrs...)
			return
		}
		if cn, ok := set[dns.TypeCNAME]; ok && len(cn) > 0 && qtype != dns.TypeCNAME {
			m.Answer = append(m.Answer, z.rrset(name, dns.TypeCNAME, do)...)
			name = dns.CanonicalName(cn[0].(*dns.CNAME).Target)
			continue
		}
		m.Ns = append(m.Ns, z.rrset(z.origin, dns.TypeSOA, do)...)
		return
	}
	m.Rcode = dns.RcodeServerFailure // a CNAME chain too long or looping
}

// transfer answers AXFR: the whole zone over TCP for open zones, REFUSED for the others,
// NOTAUTH for names that are not a zone apex, and REFUSED over UDP and for IXFR.
func (s *Server) transfer(w dns.ResponseWriter, req *dns.Msg, udp bool) {
	name := dns.CanonicalName(req.Question[0].Name)
	s.mu.RLock()
	z := s.zones[name]
	var rrs []dns.RR
	var soa []dns.RR
	open := z != nil && z.axfr && !udp && req.Question[0].Qtype == dns.TypeAXFR
	if open {
		soa = z.rrset(z.origin, dns.TypeSOA, false)
		rrs = z.all()
	}
	s.mu.RUnlock()
	m := new(dns.Msg)
	m.SetReply(req)
	switch {
	case z == nil:
		m.SetRcode(req, dns.RcodeNotAuth)
		_ = w.WriteMsg(m)
		return
	case !open:
		m.SetRcode(req, dns.RcodeRefused)
		_ = w.WriteMsg(m)
		return
	}
	s.transfers.Add(1)
	// SOA, the records in messages of at most 100, SOA again (RFC 5936).
	m.Authoritative = true
	m.Answer = soa
	if err := w.WriteMsg(m); err != nil {
		return
	}
	for len(rrs) > 0 {
		n := min(len(rrs), 100)
		m = new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		m.Answer = rrs[:n]
		rrs = rrs[n:]
		if err := w.WriteMsg(m); err != nil {
			return
		}
	}
	m = new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.Answer = soa
	_ = w.WriteMsg(m)
}
