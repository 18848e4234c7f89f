package dnslab

import (
	"crypto"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Zone describes one zone the server is authoritative for.
type Zone struct {
	// Origin is the zone apex, e.g. "good.lab.khien.test".
	Origin string
	// Text holds records in zone-file syntax; relative names are relative to Origin and
	// records without a TTL get 300 seconds.
	Text string
	// RRs are further records, added after Text.
	RRs []dns.RR
	// Signed makes the server generate a key at start and sign every RRset with it, so the
	// DNSKEY, RRSIG and DS records it serves are real and verify.
	Signed bool
	// OpenAXFR lets anyone transfer the zone over TCP; otherwise AXFR is REFUSED.
	OpenAXFR bool
}

// zone is a Zone as the server holds it. Every field is guarded by Server.mu.
type zone struct {
	origin string
	rrsets map[string]map[uint16][]dns.RR // owner → type → records
	below  map[string]int                 // name → owner names strictly below it, for empty non-terminals
	sigs   map[string]map[uint16]*dns.RRSIG
	key    *dns.DNSKEY // nil for an unsigned zone
	signer crypto.Signer
	ds     *dns.DS
	axfr   bool
}

const defaultTTL = 300

func newZone(z Zone) (*zone, error) {
	origin := dns.CanonicalName(z.Origin)
	if _, ok := dns.IsDomainName(origin); !ok || origin == "." {
		return nil, fmt.Errorf("zone origin %q is not a domain name", z.Origin)
	}
	zn := &zone{
		origin: origin,
		rrsets: map[string]map[uint16][]dns.RR{},
		below:  map[string]int{},
		sigs:   map[string]map[uint16]*dns.RRSIG{},
		axfr:   z.OpenAXFR,
	}
	var rrs []dns.RR
	if z.Text != "" {
		zp := dns.NewZoneParser(strings.NewReader(z.Text), origin, "")
		zp.SetDefaultTTL(defaultTTL)
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			rrs = append(rrs, rr)
		}
		if err := zp.Err(); err != nil {
			return nil, fmt.Errorf("zone %s: %w", origin, err)
		}
	}
	rrs = append(rrs, z.RRs...)
	for _, rr := range rrs {
		if !dns.IsSubDomain(origin, dns.CanonicalName(rr.Header().Name)) {
			return nil, fmt.Errorf("zone %s: record %s is outside the zone", origin, rr.Header().Name)
		}
		zn.add(rr)
	}
	if len(zn.rrsets[origin][dns.TypeSOA]) == 0 {
		zn.add(defaultSOA(origin))
	}
	if z.Signed {
		if err := zn.sign(); err != nil {
			return nil, fmt.Errorf("zone %s: %w", origin, err)
		}
	}
	return zn, nil
}

// defaultSOA is the SOA given to a zone that brings none.
func defaultSOA(origin string) *dns.SOA {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: origin, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: defaultTTL},
		Ns:      "ns1." + origin,
		Mbox:    "hostmaster." + origin,
		Serial:  2026010101,
		Refresh: 3600,
		Retry:   600,
		Expire:  604800,
		Minttl:  defaultTTL,
	}
}

// add appends rr to its RRset, owner names lower-cased.
func (z *zone) add(rr dns.RR) {
	rr = dns.Copy(rr)
	h := rr.Header()
	h.Name = dns.CanonicalName(h.Name)
	if h.Class == 0 {
		h.Class = dns.ClassINET
	}
	set := z.rrsets[h.Name]
	if set == nil {
		set = map[uint16][]dns.RR{}
		z.rrsets[h.Name] = set
		z.countAncestors(h.Name, 1)
	}
	for _, old := range set[h.Rrtype] {
		if dns.IsDuplicate(old, rr) {
			return
		}
	}
	set[h.Rrtype] = append(set[h.Rrtype], rr)
}

// replace sets the RRset (name, rrtype) to rrs (none deletes it) and re-signs it.
func (z *zone) replace(name string, rrtype uint16, rrs []dns.RR) error {
	if set := z.rrsets[name]; set != nil {
		delete(set, rrtype)
		if len(set) == 0 {
			delete(z.rrsets, name)
			z.countAncestors(name, -1)
		}
	}
	if sigs := z.sigs[name]; sigs != nil {
		delete(sigs, rrtype)
	}
	for _, rr := range rrs {
		z.add(rr)
	}
	if z.key != nil && len(rrs) > 0 {
		return z.signSet(name, rrtype)
	}
	return nil
}

// sign generates an ECDSA P-256 key (one key signing both keys and data, flags 257) and signs
// every RRset of the zone with it.
func (z *zone) sign() error {
	key := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: z.origin, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags:     dns.ZONE | dns.SEP,
		Protocol:  3,
		Algorithm: dns.ECDSAP256SHA256,
	}
	priv, err := key.Generate(256)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return fmt.Errorf("generated key %T cannot sign", priv)
	}
	z.key, z.signer = key, signer
	z.ds = key.ToDS(dns.SHA256)
	z.add(key)
	for name, set := range z.rrsets {
		for t := range set {
			if err := z.signSet(name, t); err != nil {
				return err
			}
		}
	}
	return nil
}

func (z *zone) signSet(name string, rrtype uint16) error {
	rrs := z.rrsets[name][rrtype]
	if len(rrs) == 0 || rrtype == dns.TypeRRSIG {
		return nil
	}
	now := time.Now().UTC()
	sig := &dns.RRSIG{
		Hdr:        dns.RR_Header{Ttl: rrs[0].Header().Ttl},
		Algorithm:  z.key.Algorithm,
		KeyTag:     z.key.KeyTag(),
		SignerName: z.origin,
		Inception:  uint32(now.Add(-time.Hour).Unix()),
		Expiration: uint32(now.Add(30 * 24 * time.Hour).Unix()),
	}
	if err := sig.Sign(z.signer, rrs); err != nil {
		return fmt.Errorf("sign %s %s: %w", name, dns.TypeToString[rrtype], err)
	}
	if z.sigs[name] == nil {
		z.sigs[name] = map[uint16]*dns.RRSIG{}
	}
	z.sigs[name][rrtype] = sig
	return nil
}

// rrset returns the records of (name, rrtype) and, when do is set and the zone is signed,
// their signature.
func (z *zone) rrset(name string, rrtype uint16, do bool) []dns.RR {
	rrs := z.rrsets[name][rrtype]
	if len(rrs) == 0 {
		return nil
	}
	out := make([]dns.RR, 0, len(rrs)+1)
	for _, rr := range rrs {
		out = append(out, dns.Copy(rr))
	}
	if do && z.key != nil {
		if sig := z.sigs[name][rrtype]; sig != nil {
			out = append(out, dns.Copy(sig))
		}
	}
	return out
}

// hasDescendant reports whether some owner name lies below name, which makes name an empty
// non-terminal (NOERROR without records) rather than a name that does not exist.
func (z *zone) hasDescendant(name string) bool { return z.below[name] > 0 }

// countAncestors adds d to the count of owners below each ancestor of name within the zone.
func (z *zone) countAncestors(name string, d int) {
	for n := name; n != z.origin; {
		i, end := dns.NextLabel(n, 0)
		if end {
			return
		}
		n = n[i:]
		if z.below[n] += d; z.below[n] == 0 {
			delete(z.below, n)
		}
	}
}

// all returns every record of the zone, the SOA first, in a stable order, for AXFR.
func (z *zone) all() []dns.RR {
	owners := make([]string, 0, len(z.rrsets))
	for o := range z.rrsets {
		owners = append(owners, o)
	}
	slices.SortFunc(owners, func(a, b string) int {
		return slices.Compare(reversedLabels(a), reversedLabels(b))
	})
	var out []dns.RR
	for _, o := range owners {
		types := make([]uint16, 0, len(z.rrsets[o]))
		for t := range z.rrsets[o] {
			types = append(types, t)
		}
		slices.Sort(types)
		for _, t := range types {
			if o == z.origin && t == dns.TypeSOA {
				continue
			}
			out = append(out, z.rrset(o, t, z.key != nil)...)
		}
	}
	return out
}

func reversedLabels(name string) []string {
	l := dns.SplitDomainName(name)
	slices.Reverse(l)
	return l
}
