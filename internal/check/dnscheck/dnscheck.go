// Package dnscheck checks a domain's DNS and mail posture: whether its zone is signed
// (DNSSEC), whether CAA limits who may issue its certificates, whether its name servers hand
// the zone to anyone (AXFR), whether a CNAME points at a name that no longer exists (subdomain
// takeover), and whether mail claiming to come from it can be checked and carried securely
// (SPF, DMARC, STARTTLS on every MX).
//
// It provides three families over dns: resources:
//   - DNS (passive): dns.dnssec.missing, dns.caa.missing, dns.cname.dangling. A dozen
//     questions to the scan's resolver.
//   - AXFR (active: needs a verified resource): dns.axfr.open. It asks every name server of
//     the zone for a full transfer, which an ordinary client never does.
//   - Mail (passive): mail.spf.missing, mail.spf.permissive, mail.dmarc.missing,
//     mail.dmarc.weak, mail.starttls.missing. SPF and DMARC records are parsed (RFC 7208,
//     RFC 7489) and SPF includes and redirects are followed to count the ten-lookup limit;
//     every address of every MX is greeted as a sending mail server would (EHLO, STARTTLS, a
//     TLS handshake without verification).
//
// Every question goes to the one resolver of the scan (check.Env.Resolver, which must also
// answer arbitrary query types: see Querier), and every connection goes through
// check.Env.Dial. Answers are kept as evidence with their rcode and AD bit, so a verdict can
// be replayed and disputed. The resolver is trusted to follow CNAMEs and, if it validates, to
// set AD; the DNSSEC verdict rests on what is published (DNSKEY and RRSIG), not on AD, since
// AD depends on the resolver.
package dnscheck

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/resolve"
)

// Querier asks one DNS question through the scan's resolver and returns the whole answer,
// so evidence can keep the rcode, the AD bit and every record. *resolve.Resolver satisfies it.
type Querier interface {
	check.Resolver
	Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error)
}

var _ Querier = (*resolve.Resolver)(nil)

// Options tunes the families. The zero value probes the standard ports.
type Options struct {
	// SMTPPort is the port dialled on every address of every MX; 0 means 25.
	SMTPPort int
	// DNSPort is the port every name server is asked for a zone transfer on; 0 means 53.
	DNSPort int
	// HELO is the name given in EHLO; empty means "khien.invalid".
	HELO string
	// SubNames are labels prepended to the resource's name whose CNAMEs are also checked for
	// dangling targets; nil means {"www"}, an empty non-nil slice means none.
	SubNames []string
}

func (o Options) smtpPort() int {
	if o.SMTPPort > 0 {
		return o.SMTPPort
	}
	return 25
}

func (o Options) dnsPort() int {
	if o.DNSPort > 0 {
		return o.DNSPort
	}
	return 53
}

func (o Options) helo() string {
	if o.HELO != "" {
		return o.HELO
	}
	return "khien.invalid"
}

func (o Options) subNames() []string {
	if o.SubNames == nil {
		return []string{"www"}
	}
	return o.SubNames
}

// Families returns the three families of this package in the order they are best run.
func Families(o Options) []check.Runner {
	return []check.Runner{DNS(o), Mail(o), AXFR(o)}
}

// appliesToName reports whether r is a domain name that can be looked up (not a wildcard).
func appliesToName(r inventory.Resource) bool {
	return r.Kind() == inventory.KindDNS && !strings.HasPrefix(r.Value(), "*.")
}

// Query is one DNS question and what came back, as kept in evidence.
type Query struct {
	Name      string   `json:"name"`
	Type      string   `json:"type"`
	Resolver  string   `json:"resolver,omitempty"`
	Rcode     string   `json:"rcode,omitempty"`
	AD        bool     `json:"ad"`
	Answer    []string `json:"answer,omitempty"`
	Authority []string `json:"authority,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// asker sends the questions of one observation and keeps them as evidence.
type asker struct {
	q        Querier
	resolver string
}

func newAsker(env check.Env) (*asker, error) {
	if env.Resolver == nil {
		return nil, resolve.ErrNoServer
	}
	q, ok := env.Resolver.(Querier)
	if !ok || q == nil {
		return nil, fmt.Errorf("the scan's resolver (%T) cannot ask for arbitrary record types", env.Resolver)
	}
	a := &asker{q: q}
	if s, ok := q.(fmt.Stringer); ok {
		a.resolver = s.String()
	}
	return a, nil
}

// ask sends one question. The message is nil when no answer came (the Query says why).
func (a *asker) ask(ctx context.Context, name string, qtype uint16) (*dns.Msg, Query) {
	q := Query{Name: dns.Fqdn(name), Type: dns.TypeToString[qtype], Resolver: a.resolver}
	m, err := a.q.Query(ctx, name, qtype)
	if err != nil {
		q.Error = err.Error()
		return nil, q
	}
	q.Rcode = dns.RcodeToString[m.Rcode]
	q.AD = m.AuthenticatedData
	for _, rr := range m.Answer {
		q.Answer = append(q.Answer, rrText(rr))
	}
	if len(m.Answer) == 0 || qtype == dns.TypeSOA {
		for _, rr := range m.Ns {
			if t := rr.Header().Rrtype; t == dns.TypeSOA || t == dns.TypeRRSIG && qtype == dns.TypeSOA {
				q.Authority = append(q.Authority, rrText(rr))
			}
		}
	}
	return m, q
}

// rrText renders a record on one line with single spaces.
func rrText(rr dns.RR) string {
	return strings.Join(strings.Fields(rr.String()), " ")
}

// answerOK reports whether m is an answer whose records can be trusted to mean "these exist"
// or "nothing exists": NOERROR or NXDOMAIN.
func answerOK(m *dns.Msg) bool {
	return m != nil && (m.Rcode == dns.RcodeSuccess || m.Rcode == dns.RcodeNameError)
}

// queryOK is answerOK for a kept Query.
func queryOK(q Query) bool {
	return q.Error == "" && (q.Rcode == "NOERROR" || q.Rcode == "NXDOMAIN")
}

// failure explains why a query gave no usable answer.
func failure(q Query) string {
	if q.Error != "" {
		return q.Error
	}
	return fmt.Sprintf("%s %s: the resolver answered %s", q.Name, q.Type, q.Rcode)
}

// records returns the answer records of type T (those of the end of a CNAME chain, which
// the resolver has followed).
func records[T dns.RR](m *dns.Msg) []T {
	if m == nil {
		return nil
	}
	var out []T
	for _, rr := range m.Answer {
		if v, ok := rr.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// findApex finds the apex of the zone name lies in by asking for SOA at name and then at
// each parent: the SOA in the answer (name is an apex) or in the authority section of a
// negative answer names the zone. A CNAME at a name says nothing of its own zone (the
// resolver answers for the target's), so the search moves to the parent.
func findApex(ctx context.Context, a *asker, name string) (string, []Query, error) {
	var qs []Query
	cand := dns.CanonicalName(name)
	for {
		m, q := a.ask(ctx, cand, dns.TypeSOA)
		qs = append(qs, q)
		if !answerOK(m) {
			return "", qs, fmt.Errorf("find the zone of %s: %s", name, failure(q))
		}
		alias := false
		for _, rr := range m.Answer {
			h := rr.Header()
			switch {
			case h.Rrtype == dns.TypeSOA && dns.CanonicalName(h.Name) == cand:
				return cand, qs, nil
			case h.Rrtype == dns.TypeCNAME && dns.CanonicalName(h.Name) == cand:
				alias = true
			}
		}
		if !alias {
			for _, rr := range m.Ns {
				if soa, ok := rr.(*dns.SOA); ok && dns.IsSubDomain(dns.CanonicalName(soa.Hdr.Name), cand) {
					return dns.CanonicalName(soa.Hdr.Name), qs, nil
				}
			}
		}
		i, end := dns.NextLabel(cand, 0)
		if end || cand[i:] == "." {
			return "", qs, fmt.Errorf("find the zone of %s: no SOA record at it or any parent", name)
		}
		cand = cand[i:]
	}
}

// timeout returns the per-operation timeout of env.
func timeout(env check.Env) time.Duration {
	if env.Timeout > 0 {
		return env.Timeout
	}
	return 10 * time.Second
}

func now(env check.Env) time.Time {
	if env.Now != nil {
		return env.Now()
	}
	return time.Now()
}

// worse returns the worse of two verdicts, for "the worst endpoint decides": fail, then
// error, then pass, then none yet.
func worse(a, b check.Status) check.Status {
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
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// trimName drops the final dot of a name for messages.
func trimName(name string) string { return strings.TrimSuffix(name, ".") }

// result builds a Result.
func result(s check.Status, vi, en string, ev map[string]any) check.Result {
	return check.Result{Status: s, Reason: check.Text{VI: vi, EN: en}, Evidence: ev}
}
