package dnscheck

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
)

// DNSObservation is what the DNS family saw of a name.
type DNSObservation struct {
	Name string
	// Zone is the apex of the zone the name lies in, found through SOA; "" when not found.
	Zone        string
	ZoneQueries []Query
	ZoneError   string
	DNSSEC      DNSSECObservation
	CAA         CAAObservation
	CNAMEs      []CNAMEObservation
}

// DNSSECObservation is what the zone publishes for DNSSEC, asked with the DO bit.
type DNSSECObservation struct {
	Queries []Query `json:"queries"` // DNSKEY, SOA and DS at the apex, A at the name
	// Keys is the number of DNSKEY records at the apex.
	Keys int `json:"dnskeys"`
	// SignedKeys and SignedSOA report an RRSIG over the apex's DNSKEY and SOA RRsets;
	// SignedName an RRSIG on the name's own A answer (when it has one and is not the apex).
	SignedKeys bool `json:"rrsig_dnskey"`
	SignedSOA  bool `json:"rrsig_soa"`
	SignedName bool `json:"rrsig_name,omitempty"`
	// AD is the resolver's Authenticated Data bit on the SOA answer: set only by a
	// validating resolver with a chain of trust, so it is recorded but not decisive.
	AD bool `json:"ad"`
	// DS is the number of DS records the parent publishes for the zone.
	DS int `json:"ds"`
	// Verification says, per RRset, whether its signature verifies with a published key
	// and is within its validity period at observation time.
	Verification []string `json:"verification,omitempty"`
	Error        string   `json:"error,omitempty"`
}

// signed is the verdict rule: keys at the apex and signatures over the apex's records.
func (d DNSSECObservation) signed() bool { return d.Keys > 0 && (d.SignedSOA || d.SignedKeys) }

// CAAObservation is the climb from the name towards the root for the first CAA RRset
// (RFC 8659 section 3).
type CAAObservation struct {
	Queries []Query  `json:"queries"`
	At      string   `json:"found_at,omitempty"` // where the relevant RRset was found
	Records []string `json:"records,omitempty"`
	// Restricts reports whether the RRset limits issuance: an issue or issuewild property,
	// or a critical property the CA would not understand.
	Restricts bool   `json:"restricts"`
	Error     string `json:"error,omitempty"`
}

// CNAMEObservation is one name's CNAME chain as the resolver followed it.
type CNAMEObservation struct {
	Name     string   `json:"name"`
	Query    Query    `json:"query"`
	Chain    []string `json:"chain,omitempty"` // targets in order
	Dangling bool     `json:"dangling"`        // the chain ends in NXDOMAIN
	Error    string   `json:"error,omitempty"`
}

// DNS returns the passive DNS family: DNSSEC, CAA and dangling CNAMEs of a dns: resource.
func DNS(o Options) check.Family[DNSObservation] {
	return check.Family[DNSObservation]{
		Name:    "dns",
		Applies: appliesToName,
		Observe: func(ctx context.Context, r inventory.Resource, env check.Env) (DNSObservation, error) {
			return observeDNS(ctx, r.Value(), env, o)
		},
		Checks: []check.Check[DNSObservation]{
			{ID: "dns.dnssec.missing", Evaluate: dnssecMissing},
			{ID: "dns.caa.missing", Evaluate: caaMissing},
			{ID: "dns.cname.dangling", Evaluate: cnameDangling},
		},
	}
}

func observeDNS(ctx context.Context, name string, env check.Env, o Options) (DNSObservation, error) {
	a, err := newAsker(env)
	if err != nil {
		return DNSObservation{}, err
	}
	name = dns.CanonicalName(name)
	obs := DNSObservation{Name: trimName(name)}
	zone, qs, err := findApex(ctx, a, name)
	obs.ZoneQueries = qs
	if err != nil {
		obs.ZoneError = err.Error()
	} else {
		obs.Zone = trimName(zone)
		obs.DNSSEC = observeDNSSEC(ctx, a, name, zone, now(env))
	}
	obs.CAA = observeCAA(ctx, a, name)
	names := []string{name}
	for _, sub := range o.subNames() {
		if n := dns.CanonicalName(sub + "." + name); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, n := range names {
		obs.CNAMEs = append(obs.CNAMEs, observeCNAME(ctx, a, n))
	}
	return obs, nil
}

func observeDNSSEC(ctx context.Context, a *asker, name, zone string, at time.Time) DNSSECObservation {
	var d DNSSECObservation
	keysMsg, q := a.ask(ctx, zone, dns.TypeDNSKEY)
	d.Queries = append(d.Queries, q)
	if !answerOK(keysMsg) {
		d.Error = failure(q)
		return d
	}
	keys := records[*dns.DNSKEY](keysMsg)
	d.Keys = len(keys)
	soaMsg, q := a.ask(ctx, zone, dns.TypeSOA)
	d.Queries = append(d.Queries, q)
	if !answerOK(soaMsg) {
		d.Error = failure(q)
		return d
	}
	d.AD = soaMsg.AuthenticatedData
	d.SignedKeys = d.verify(keysMsg, dns.TypeDNSKEY, keys, at)
	d.SignedSOA = d.verify(soaMsg, dns.TypeSOA, keys, at)
	dsMsg, q := a.ask(ctx, zone, dns.TypeDS)
	d.Queries = append(d.Queries, q)
	d.DS = len(records[*dns.DS](dsMsg))
	if name != zone {
		m, q := a.ask(ctx, name, dns.TypeA)
		d.Queries = append(d.Queries, q)
		if m != nil {
			for _, sig := range records[*dns.RRSIG](m) {
				if sig.TypeCovered == dns.TypeA {
					d.SignedName = true
				}
			}
		}
	}
	return d
}

// verify reports whether m carries an RRSIG over its rrtype records, and notes whether that
// signature verifies with one of keys at time at.
func (d *DNSSECObservation) verify(m *dns.Msg, rrtype uint16, keys []*dns.DNSKEY, at time.Time) bool {
	var set []dns.RR
	for _, rr := range m.Answer {
		if rr.Header().Rrtype == rrtype {
			set = append(set, rr)
		}
	}
	found := false
	for _, sig := range records[*dns.RRSIG](m) {
		if sig.TypeCovered != rrtype || len(set) == 0 {
			continue
		}
		found = true
		name := dns.TypeToString[rrtype]
		key := keyFor(keys, sig)
		switch {
		case key == nil:
			d.Verification = append(d.Verification, fmt.Sprintf("%s: no published DNSKEY has tag %d", name, sig.KeyTag))
		case !sig.ValidityPeriod(at):
			d.Verification = append(d.Verification, fmt.Sprintf("%s: signature by key %d is outside its validity period", name, sig.KeyTag))
		default:
			if err := sig.Verify(key, set); err != nil {
				d.Verification = append(d.Verification, fmt.Sprintf("%s: signature by key %d does not verify: %v", name, sig.KeyTag, err))
			} else {
				d.Verification = append(d.Verification, fmt.Sprintf("%s: signature by key %d verifies", name, sig.KeyTag))
			}
		}
	}
	return found
}

func keyFor(keys []*dns.DNSKEY, sig *dns.RRSIG) *dns.DNSKEY {
	for _, k := range keys {
		if k.KeyTag() == sig.KeyTag && k.Algorithm == sig.Algorithm {
			return k
		}
	}
	return nil
}

// observeCAA climbs from name to the top-level domain and stops at the first CAA RRset.
func observeCAA(ctx context.Context, a *asker, name string) CAAObservation {
	var c CAAObservation
	for cand := name; cand != "."; {
		m, q := a.ask(ctx, cand, dns.TypeCAA)
		c.Queries = append(c.Queries, q)
		if !answerOK(m) {
			c.Error = failure(q)
			return c
		}
		if caas := records[*dns.CAA](m); len(caas) > 0 {
			c.At = trimName(cand)
			for _, rr := range caas {
				c.Records = append(c.Records, rrText(rr))
				tag := strings.ToLower(rr.Tag)
				if tag == "issue" || tag == "issuewild" || rr.Flag&128 != 0 && !knownCAATag(tag) {
					c.Restricts = true
				}
			}
			return c
		}
		i, end := dns.NextLabel(cand, 0)
		if end {
			break
		}
		cand = cand[i:]
	}
	return c
}

// knownCAATag reports whether tag is a registered CAA property; an unknown one marked critical forbids
// issuance (RFC 8659 section 4.1).
func knownCAATag(tag string) bool {
	switch tag {
	case "issue", "issuewild", "iodef", "issuemail", "issuevmc", "contactemail", "contactphone":
		return true
	}
	return false
}

// observeCNAME asks for the A records of name and reads the CNAME chain the resolver
// followed; a chain that ends in NXDOMAIN is dangling.
func observeCNAME(ctx context.Context, a *asker, name string) CNAMEObservation {
	c := CNAMEObservation{Name: trimName(name)}
	m, q := a.ask(ctx, name, dns.TypeA)
	c.Query = q
	if !answerOK(m) {
		c.Error = failure(q)
		return c
	}
	cur := name
	for range len(m.Answer) {
		next := ""
		for _, rr := range records[*dns.CNAME](m) {
			if dns.CanonicalName(rr.Hdr.Name) == cur {
				next = dns.CanonicalName(rr.Target)
				break
			}
		}
		if next == "" || slices.Contains(c.Chain, trimName(next)) {
			break
		}
		c.Chain = append(c.Chain, trimName(next))
		cur = next
	}
	c.Dangling = len(c.Chain) > 0 && m.Rcode == dns.RcodeNameError
	return c
}

func dnssecMissing(o DNSObservation) check.Result {
	d := o.DNSSEC
	ev := map[string]any{"name": o.Name, "zone": o.Zone, "zone_queries": o.ZoneQueries, "dnssec": d}
	switch {
	case o.ZoneError != "":
		return result(check.Error,
			fmt.Sprintf("Không xác định được vùng (zone) chứa %s: %s.", o.Name, errorVI(o.ZoneError)),
			fmt.Sprintf("Could not find the zone %s lies in: %s.", o.Name, o.ZoneError), ev)
	case d.Error != "":
		return result(check.Error,
			fmt.Sprintf("Không truy vấn được bản ghi DNSSEC của vùng %s: %s.", o.Zone, errorVI(d.Error)),
			fmt.Sprintf("Could not look up the DNSSEC records of zone %s: %s.", o.Zone, d.Error), ev)
	case d.signed():
		vi, en := "", ""
		if d.DS == 0 {
			vi = " Tuy nhiên vùng cha chưa có bản ghi DS, nên chuỗi tin cậy chưa được thiết lập."
			en = " The parent publishes no DS record, though, so there is no chain of trust yet."
		}
		return result(check.Pass,
			fmt.Sprintf("Vùng %s được ký DNSSEC: có khóa DNSKEY tại đỉnh vùng (%d) và chữ ký RRSIG trên các bản ghi (số bản ghi DS ở vùng cha: %d; bit AD của máy chủ phân giải: %v).%s", o.Zone, d.Keys, d.DS, d.AD, vi),
			fmt.Sprintf("Zone %s is signed: DNSKEY records at the apex (%d) and RRSIGs on its records (DS records at the parent: %d; resolver AD bit: %v).%s", o.Zone, d.Keys, d.DS, d.AD, en), ev)
	case d.Keys > 0 && d.DS > 0:
		// The parent vouches for a key, yet no signature came back: most likely the resolver
		// drops DNSSEC records, so nothing can be concluded.
		return result(check.Error,
			fmt.Sprintf("Vùng %s có khóa DNSKEY và bản ghi DS ở vùng cha nhưng máy chủ phân giải không trả về chữ ký RRSIG dù đã đặt bit DO; hãy dùng máy chủ phân giải chuyển tiếp nguyên vẹn bản ghi DNSSEC.", o.Zone),
			fmt.Sprintf("Zone %s has DNSKEY records and a DS at its parent, but the resolver returned no RRSIG although the DO bit was set; use a resolver that passes DNSSEC records through.", o.Zone), ev)
	case d.Keys > 0:
		return result(check.Fail,
			fmt.Sprintf("Vùng %s công bố khóa DNSKEY nhưng các câu trả lời không kèm chữ ký RRSIG, nên không kiểm chứng được.", o.Zone),
			fmt.Sprintf("Zone %s publishes DNSKEY records but its answers carry no RRSIG, so nothing can be validated.", o.Zone), ev)
	}
	return result(check.Fail,
		fmt.Sprintf("Vùng %s (chứa %s) chưa được ký DNSSEC: không có bản ghi DNSKEY tại đỉnh vùng, nên câu trả lời DNS có thể bị giả mạo mà không bị phát hiện.", o.Zone, o.Name),
		fmt.Sprintf("Zone %s (holding %s) is not signed: there is no DNSKEY at its apex, so forged DNS answers go undetected.", o.Zone, o.Name), ev)
}

func caaMissing(o DNSObservation) check.Result {
	c := o.CAA
	ev := map[string]any{"name": o.Name, "caa": c}
	switch {
	case c.Error != "":
		return result(check.Error,
			fmt.Sprintf("Không truy vấn được bản ghi CAA của %s: %s.", o.Name, errorVI(c.Error)),
			fmt.Sprintf("Could not look up the CAA records of %s: %s.", o.Name, c.Error), ev)
	case c.At == "":
		return result(check.Fail,
			fmt.Sprintf("Không có bản ghi CAA tại %s hay bất kỳ tên miền cha nào, nên mọi tổ chức cấp chứng thư số đều có thể cấp chứng thư cho tên miền này.", o.Name),
			fmt.Sprintf("There is no CAA record at %s or any parent, so every certificate authority may issue certificates for it.", o.Name), ev)
	case !c.Restricts:
		return result(check.Fail,
			fmt.Sprintf("Bản ghi CAA áp dụng cho %s (tại %s) không có thuộc tính issue hay issuewild, nên không giới hạn tổ chức được cấp chứng thư số.", o.Name, c.At),
			fmt.Sprintf("The CAA records that apply to %s (at %s) have no issue or issuewild property, so they restrict no certificate authority.", o.Name, c.At), ev)
	}
	return result(check.Pass,
		fmt.Sprintf("Bản ghi CAA tại %s giới hạn tổ chức được cấp chứng thư số cho %s: %s.", c.At, o.Name, strings.Join(c.Records, "; ")),
		fmt.Sprintf("CAA records at %s restrict which authorities may issue certificates for %s: %s.", c.At, o.Name, strings.Join(c.Records, "; ")), ev)
}

func cnameDangling(o DNSObservation) check.Result {
	ev := map[string]any{"name": o.Name, "cnames": o.CNAMEs}
	status := check.Status("")
	var dangVI, dangEN, errVI, errEN, okNames []string
	for _, c := range o.CNAMEs {
		switch {
		case c.Error != "":
			status = worse(status, check.Error)
			errVI = append(errVI, fmt.Sprintf("%s: %s", c.Name, errorVI(c.Error)))
			errEN = append(errEN, fmt.Sprintf("%s: %s", c.Name, c.Error))
		case c.Dangling:
			status = worse(status, check.Fail)
			chain := c.Name + " → " + strings.Join(c.Chain, " → ")
			dangVI = append(dangVI, chain+" (không tồn tại: NXDOMAIN)")
			dangEN = append(dangEN, chain+" (does not exist: NXDOMAIN)")
		case len(c.Chain) > 0:
			status = worse(status, check.Pass)
			okNames = append(okNames, c.Name+" → "+strings.Join(c.Chain, " → "))
		}
	}
	names := make([]string, len(o.CNAMEs))
	for i, c := range o.CNAMEs {
		names[i] = c.Name
	}
	switch status {
	case check.Fail:
		return result(check.Fail,
			fmt.Sprintf("Bản ghi CNAME trỏ tới tên miền không tồn tại: %s. Ai đăng ký được tên đích (thường là tài nguyên đám mây đã xóa) sẽ kiểm soát nội dung của tên miền con này.", strings.Join(dangVI, "; ")),
			fmt.Sprintf("A CNAME points to a name that does not exist: %s. Whoever registers the target (often a deleted cloud resource) controls what this subdomain serves.", strings.Join(dangEN, "; ")), ev)
	case check.Error:
		return result(check.Error,
			fmt.Sprintf("Không truy vấn được: %s.", strings.Join(errVI, "; ")),
			fmt.Sprintf("Could not look up: %s.", strings.Join(errEN, "; ")), ev)
	case check.Pass:
		return result(check.Pass,
			fmt.Sprintf("Mọi chuỗi CNAME đều dẫn tới tên miền tồn tại: %s.", strings.Join(okNames, "; ")),
			fmt.Sprintf("Every CNAME chain ends in a name that exists: %s.", strings.Join(okNames, "; ")), ev)
	}
	return result(check.NotApplicable,
		fmt.Sprintf("Không tên nào trong số %s là CNAME.", strings.Join(names, ", ")),
		fmt.Sprintf("None of %s is a CNAME.", strings.Join(names, ", ")), ev)
}
