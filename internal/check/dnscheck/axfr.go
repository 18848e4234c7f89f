package dnscheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
)

// Limits on one zone-transfer probe.
const (
	maxNameServers  = 13
	maxAXFRRecords  = 100000 // stop reading a transfer after this many records
	axfrSampleCount = 5
)

// AXFR outcomes. Open fails the check; refused and closed pass; error is an error.
const (
	axfrOpen    = "open"
	axfrRefused = "refused"
	axfrClosed  = "closed"
	axfrError   = "error"
)

// AXFRObservation is the zone of a name, its name servers, and what each address of each
// name server answered to a full zone transfer request.
type AXFRObservation struct {
	Name        string
	Zone        string
	ZoneQueries []Query
	ZoneError   string
	NSQuery     Query
	Servers     []NameServer
}

// NameServer is one NS host of the zone and the transfer attempts at its addresses.
type NameServer struct {
	Host     string        `json:"host"`
	Queries  []Query       `json:"queries,omitempty"`
	Attempts []AXFRAttempt `json:"attempts,omitempty"`
	Error    string        `json:"error,omitempty"` // why the host's addresses are unknown
}

// AXFRAttempt is one AXFR request over TCP to one address.
type AXFRAttempt struct {
	Address string `json:"address"` // ip:port
	Outcome string `json:"outcome"` // open, refused, closed or error
	Rcode   string `json:"rcode,omitempty"`
	// Records counts the records transferred (both SOAs included).
	Records   int      `json:"records"`
	Complete  bool     `json:"complete,omitempty"` // the closing SOA arrived
	Sample    []string `json:"sample,omitempty"`   // the first records, as proof
	Truncated bool     `json:"truncated,omitempty"`
	Error     string   `json:"error,omitempty"`
	// Shared is set when the transfer was asked for another name of the zone earlier in the
	// same scan and its answer is reused: one request per zone and server, not per name.
	Shared bool `json:"shared,omitempty"`
}

// AXFR returns the zone-transfer family. It is active: asking for a whole zone is not what an
// ordinary client does, so it runs only on verified resources.
func AXFR(o Options) check.Family[AXFRObservation] {
	return check.Family[AXFRObservation]{
		Name:    "dns-axfr",
		Active:  true,
		Applies: appliesToName,
		Observe: func(ctx context.Context, r inventory.Resource, env check.Env) (AXFRObservation, error) {
			return observeAXFR(ctx, r.Value(), env, o)
		},
		Checks: []check.Check[AXFRObservation]{
			{ID: "dns.axfr.open", Evaluate: axfrOpenCheck},
		},
	}
}

func observeAXFR(ctx context.Context, name string, env check.Env, o Options) (AXFRObservation, error) {
	a, err := newAsker(env)
	if err != nil {
		return AXFRObservation{}, err
	}
	name = dns.CanonicalName(name)
	obs := AXFRObservation{Name: trimName(name)}
	zone, qs, err := findApex(ctx, a, name)
	obs.ZoneQueries = qs
	if err != nil {
		obs.ZoneError = err.Error()
		return obs, nil
	}
	obs.Zone = trimName(zone)
	m, q := a.ask(ctx, zone, dns.TypeNS)
	obs.NSQuery = q
	if !answerOK(m) {
		return obs, nil
	}
	var hosts []string
	for _, ns := range records[*dns.NS](m) {
		if h := dns.CanonicalName(ns.Ns); !slices.Contains(hosts, h) && len(hosts) < maxNameServers {
			hosts = append(hosts, h)
		}
	}
	slices.Sort(hosts)
	// Each address is asked once, however many NS names point to it.
	done := map[netip.AddrPort]AXFRAttempt{}
	for _, h := range hosts {
		s := NameServer{Host: trimName(h)}
		var addrs []netip.Addr
		addrs, s.Queries, s.Error = lookupAddrs(ctx, a, h)
		for _, ip := range addrs {
			ap := dialAddr(ip, o.dnsPort())
			at, ok := done[ap]
			if !ok {
				// One transfer per zone and name server address for the whole scan: the
				// names of one zone share the answer (and the server's budget).
				// An attempt cut short by the end of this caller's scan says nothing about
				// the server: other runs sharing the memo ask again.
				at, at.Shared = check.RememberIf(env.Memo, "dns-axfr|"+zone+"|"+ap.String(), func() (AXFRAttempt, bool) {
					at := tryAXFR(ctx, env, zone, ap)
					return at, ctx.Err() == nil
				})
				done[ap] = at
			}
			s.Attempts = append(s.Attempts, at)
		}
		obs.Servers = append(obs.Servers, s)
	}
	return obs, nil
}

// tryAXFR asks addr for a full transfer of zone over TCP and counts what comes back.
func tryAXFR(ctx context.Context, env check.Env, zone string, addr netip.AddrPort) AXFRAttempt {
	at := AXFRAttempt{Address: addr.String()}
	to := timeout(env)
	// The guard starts this time-out once the address's budget lets the connection go: a
	// name server that every name of a scan asks is not slow for being shared.
	dctx, cancel := context.WithTimeout(ctx, to)
	conn, err := env.Dial(dctx, "tcp", addr.String())
	cancel()
	if err != nil {
		at.Outcome, at.Error = axfrError, "connect: "+err.Error()
		if errors.Is(err, syscall.ECONNREFUSED) {
			at.Outcome = axfrClosed
		}
		return at
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	co := &dns.Conn{Conn: conn}
	q := new(dns.Msg)
	q.SetAxfr(zone)
	_ = conn.SetDeadline(time.Now().Add(to))
	if err := co.WriteMsg(q); err != nil {
		at.Outcome, at.Error = axfrError, "send AXFR: "+err.Error()
		return at
	}
	soas := 0
	for first := true; ; first = false {
		_ = conn.SetReadDeadline(time.Now().Add(to))
		in, err := co.ReadMsg()
		if err != nil {
			switch {
			case first && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)):
				// The server hung up without answering: it will not transfer.
				at.Outcome = axfrClosed
			case at.Records > 0:
				at.Outcome = axfrOpen
			default:
				at.Outcome = axfrError
			}
			at.Error = "read: " + err.Error()
			return at
		}
		if in.Id != q.Id {
			at.Outcome, at.Error = axfrError, "answer with a different message id"
			return at
		}
		if first {
			at.Rcode = dns.RcodeToString[in.Rcode]
			if in.Rcode != dns.RcodeSuccess {
				at.Outcome = axfrRefused
				return at
			}
			if len(in.Answer) == 0 || in.Answer[0].Header().Rrtype != dns.TypeSOA {
				// An answer that does not start a transfer: whatever it is, no zone came.
				at.Outcome = axfrRefused
				at.Error = "the first answer does not start with the zone's SOA"
				return at
			}
		}
		for _, rr := range in.Answer {
			at.Records++
			if len(at.Sample) < axfrSampleCount {
				at.Sample = append(at.Sample, rrText(rr))
			}
			if rr.Header().Rrtype == dns.TypeSOA {
				soas++
			}
		}
		at.Outcome = axfrOpen
		if soas >= 2 { // RFC 5936: the transfer ends with the SOA again
			at.Complete = true
			return at
		}
		if at.Records >= maxAXFRRecords {
			at.Truncated = true
			return at
		}
	}
}

func axfrOpenCheck(o AXFRObservation) check.Result {
	ev := map[string]any{"name": o.Name, "zone": o.Zone, "zone_queries": o.ZoneQueries, "ns_query": o.NSQuery, "servers": o.Servers}
	switch {
	case o.ZoneError != "":
		return result(check.Error,
			fmt.Sprintf("Không xác định được vùng (zone) chứa %s: %s.", o.Name, errorVI(o.ZoneError)),
			fmt.Sprintf("Could not find the zone %s lies in: %s.", o.Name, o.ZoneError), ev)
	case !queryOK(o.NSQuery):
		f := failure(o.NSQuery)
		return result(check.Error,
			fmt.Sprintf("Không truy vấn được bản ghi NS của vùng %s: %s.", o.Zone, failureVI(o.NSQuery)),
			fmt.Sprintf("Could not look up the NS records of zone %s: %s.", o.Zone, f), ev)
	case len(o.Servers) == 0:
		return result(check.Error,
			fmt.Sprintf("Vùng %s không có bản ghi NS nào để thử chuyển vùng.", o.Zone),
			fmt.Sprintf("Zone %s has no NS record to try a transfer from.", o.Zone), ev)
	}
	status := check.Status("")
	var openVI, openEN, errs, errsVI []string
	tried := 0
	for _, s := range o.Servers {
		if s.Error != "" {
			status = worse(status, check.Error)
			errs = append(errs, fmt.Sprintf("%s: %s", s.Host, s.Error))
			errsVI = append(errsVI, fmt.Sprintf("%s: %s", s.Host, errorVI(s.Error)))
			continue
		}
		for _, at := range s.Attempts {
			tried++
			switch at.Outcome {
			case axfrOpen:
				status = worse(status, check.Fail)
				openVI = append(openVI, fmt.Sprintf("%s (%s) trả về %d bản ghi", s.Host, at.Address, at.Records))
				openEN = append(openEN, fmt.Sprintf("%s (%s) returned %d records", s.Host, at.Address, at.Records))
			case axfrError:
				status = worse(status, check.Error)
				errs = append(errs, fmt.Sprintf("%s (%s): %s", s.Host, at.Address, at.Error))
				errsVI = append(errsVI, fmt.Sprintf("%s (%s): %s", s.Host, at.Address, errorVI(at.Error)))
			default:
				status = worse(status, check.Pass)
			}
		}
	}
	switch status {
	case check.Fail:
		return result(check.Fail,
			fmt.Sprintf("Máy chủ tên miền cho phép bất kỳ ai chuyển toàn bộ vùng %s (AXFR): %s. Danh sách đầy đủ tên máy chủ nội bộ và dịch vụ bị lộ.", o.Zone, strings.Join(openVI, "; ")),
			fmt.Sprintf("Name servers hand the whole zone %s to anyone (AXFR): %s. Every host and service name in it is exposed.", o.Zone, strings.Join(openEN, "; ")), ev)
	case check.Error:
		return result(check.Error,
			fmt.Sprintf("Không kiểm tra được mọi máy chủ tên miền của vùng %s: %s.", o.Zone, strings.Join(errsVI, "; ")),
			fmt.Sprintf("Could not check every name server of zone %s: %s.", o.Zone, strings.Join(errs, "; ")), ev)
	}
	return result(check.Pass,
		fmt.Sprintf("Cả %d địa chỉ của %d máy chủ tên miền đều từ chối chuyển vùng %s cho Khiên.", tried, len(o.Servers), o.Zone),
		fmt.Sprintf("All %d addresses of the %d name servers refuse to transfer zone %s to Khiên.", tried, len(o.Servers), o.Zone), ev)
}
