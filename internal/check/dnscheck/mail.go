package dnscheck

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
)

// Limits on what one domain can make the mail probe do.
const (
	maxMXHosts       = 10
	maxAddrsPerHost  = 8
	maxSMTPParallel  = 8
	dmarcLabelPrefix = "_dmarc."
)

// MailObservation is what the mail family saw of a domain.
type MailObservation struct {
	Domain string
	SPF    SPFResult
	DMARC  DMARCObservation
	MX     MXObservation
}

// DMARCObservation is the DMARC lookup of a domain.
type DMARCObservation struct {
	Query   Query
	Records []string     // TXT strings at _dmarc.<domain> that start with v=DMARC1
	Record  *DMARCRecord // the parsed record when there is exactly one and it is valid
	Invalid string       // why the one record is not usable
}

// MXObservation is the MX lookup of a domain and the SMTP conversations with its hosts.
type MXObservation struct {
	Query Query
	Null  bool // a null MX (RFC 7505): the domain accepts no mail
	Hosts []MXHost
}

// MXHost is one mail exchanger and what each of its addresses said.
type MXHost struct {
	Host       string         `json:"host"`
	Preference uint16         `json:"preference"`
	Queries    []Query        `json:"queries,omitempty"`
	Endpoints  []SMTPEndpoint `json:"endpoints,omitempty"`
	// Error says why the host's addresses are unknown.
	Error string `json:"error,omitempty"`
}

// Mail returns the mail family: SPF, DMARC and STARTTLS on every MX of a dns: resource.
func Mail(o Options) check.Family[MailObservation] {
	return check.Family[MailObservation]{
		Name:    "mail",
		Applies: appliesToName,
		Observe: func(ctx context.Context, r inventory.Resource, env check.Env) (MailObservation, error) {
			return observeMail(ctx, r.Value(), env, o)
		},
		Checks: []check.Check[MailObservation]{
			{ID: "mail.spf.missing", Evaluate: spfMissing},
			{ID: "mail.spf.permissive", Evaluate: spfPermissive},
			{ID: "mail.dmarc.missing", Evaluate: dmarcMissing},
			{ID: "mail.dmarc.weak", Evaluate: dmarcWeak},
			{ID: "mail.starttls.missing", Evaluate: starttlsMissing},
		},
	}
}

func observeMail(ctx context.Context, domain string, env check.Env, o Options) (MailObservation, error) {
	a, err := newAsker(env)
	if err != nil {
		return MailObservation{}, err
	}
	obs := MailObservation{Domain: trimName(domain)}
	name := dns.CanonicalName(domain)
	obs.SPF = walkSPF(ctx, a, name)
	obs.DMARC = observeDMARC(ctx, a, name)
	obs.MX = observeMX(ctx, a, env, name, o)
	return obs, nil
}

// observeDMARC looks up _dmarc.<domain>. The organizational domain's record (RFC 7489
// section 6.6.3, found with the public suffix list) is not consulted: a subdomain is judged
// by its own record.
func observeDMARC(ctx context.Context, a *asker, domain string) DMARCObservation {
	var d DMARCObservation
	m, q := a.ask(ctx, dmarcLabelPrefix+domain, dns.TypeTXT)
	d.Query = q
	if !answerOK(m) {
		return d
	}
	for _, t := range records[*dns.TXT](m) {
		if s := strings.Join(t.Txt, ""); isDMARC(s) {
			d.Records = append(d.Records, s)
		}
	}
	if len(d.Records) != 1 {
		return d
	}
	rec, err := parseDMARC(d.Records[0])
	if err != nil {
		d.Invalid = err.Error()
		return d
	}
	d.Record = &rec
	return d
}

// observeMX looks up the MX of domain and greets every address of every host, in parallel.
func observeMX(ctx context.Context, a *asker, env check.Env, domain string, o Options) MXObservation {
	var mx MXObservation
	m, q := a.ask(ctx, domain, dns.TypeMX)
	mx.Query = q
	if !answerOK(m) {
		return mx
	}
	rrs := records[*dns.MX](m)
	slices.SortStableFunc(rrs, func(x, y *dns.MX) int { return int(x.Preference) - int(y.Preference) })
	if len(rrs) == 1 && rrs[0].Mx == "." {
		mx.Null = true
		return mx
	}
	seen := map[string]bool{}
	for _, rr := range rrs {
		host := dns.CanonicalName(rr.Mx)
		if host == "." || seen[host] || len(mx.Hosts) == maxMXHosts {
			continue
		}
		seen[host] = true
		mx.Hosts = append(mx.Hosts, MXHost{Host: trimName(host), Preference: rr.Preference})
	}
	// Each address is greeted once, however many MX names point to it.
	var unique []netip.AddrPort
	hostOf := map[netip.AddrPort]string{} // the first MX name of each address, for SNI
	for i := range mx.Hosts {
		h := &mx.Hosts[i]
		var addrs []netip.Addr
		addrs, h.Queries, h.Error = lookupAddrs(ctx, a, h.Host)
		for _, ip := range addrs {
			ap := dialAddr(ip, o.smtpPort())
			h.Endpoints = append(h.Endpoints, SMTPEndpoint{Address: ap.String()})
			if _, ok := hostOf[ap]; !ok {
				hostOf[ap] = h.Host
				unique = append(unique, ap)
			}
		}
	}
	probed := make([]SMTPEndpoint, len(unique))
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxSMTPParallel)
	for i, ap := range unique {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			probed[i] = probeSMTP(ctx, env, hostOf[ap], ap, o.helo())
		}()
	}
	wg.Wait()
	for i := range mx.Hosts {
		for j, e := range mx.Hosts[i].Endpoints {
			mx.Hosts[i].Endpoints[j] = probed[slices.Index(unique, netip.MustParseAddrPort(e.Address))]
		}
	}
	return mx
}

// lookupAddrs finds the A and AAAA addresses of a mail or name server host (an address
// written as the host, though invalid, is taken as is). problem says why there are none.
func lookupAddrs(ctx context.Context, a *asker, host string) (addrs []netip.Addr, qs []Query, problem string) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip.Unmap()}, nil, ""
	}
	var problems []string
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		m, q := a.ask(ctx, host, t)
		qs = append(qs, q)
		if !answerOK(m) {
			problems = append(problems, failure(q))
			continue
		}
		for _, rr := range m.Answer {
			var ip netip.Addr
			switch v := rr.(type) {
			case *dns.A:
				ip, _ = netip.AddrFromSlice(v.A)
			case *dns.AAAA:
				ip, _ = netip.AddrFromSlice(v.AAAA)
			}
			if ip.IsValid() && !slices.Contains(addrs, ip.Unmap()) && len(addrs) < maxAddrsPerHost {
				addrs = append(addrs, ip.Unmap())
			}
		}
	}
	switch {
	case len(addrs) > 0:
	case len(problems) > 0:
		problem = strings.Join(problems, "; ")
	default:
		problem = "the host has no A or AAAA record"
	}
	return addrs, qs, problem
}

// spfEvidence is the evidence both SPF checks keep.
func spfEvidence(o MailObservation) map[string]any {
	return map[string]any{
		"domain":        o.Domain,
		"records":       o.SPF.Records,
		"result":        o.SPF.Result,
		"problem":       o.SPF.Problem,
		"lookups":       o.SPF.Lookups,
		"limit_reached": o.SPF.LimitReached,
		"void_lookups":  o.SPF.Void,
		"tree":          o.SPF.Tree,
	}
}

// rootFailed reports whether the domain's own TXT lookup failed (nothing can be said).
func (r SPFResult) rootFailed() bool { return r.Tree == nil || !queryOK(r.Tree.Query) }

func spfMissing(o MailObservation) check.Result {
	ev := spfEvidence(o)
	switch {
	case o.SPF.rootFailed():
		q := failure(o.SPF.Tree.Query)
		return result(check.Error,
			fmt.Sprintf("Không truy vấn được bản ghi TXT của %s: %s.", o.Domain, failureVI(o.SPF.Tree.Query)),
			fmt.Sprintf("Could not look up the TXT records of %s: %s.", o.Domain, q), ev)
	case len(o.SPF.Records) == 0:
		return result(check.Fail,
			fmt.Sprintf("Tên miền %s không công bố bản ghi SPF (bản ghi TXT bắt đầu bằng \"v=spf1\"), nên máy chủ nhận thư không biết máy chủ nào được phép gửi thư nhân danh tên miền này.", o.Domain),
			fmt.Sprintf("%s publishes no SPF record (a TXT record starting with \"v=spf1\"), so receiving servers cannot tell which servers may send mail in its name.", o.Domain), ev)
	}
	return result(check.Pass,
		fmt.Sprintf("Tên miền %s công bố bản ghi SPF: %s", o.Domain, strings.Join(o.SPF.Records, " | ")),
		fmt.Sprintf("%s publishes an SPF record: %s", o.Domain, strings.Join(o.SPF.Records, " | ")), ev)
}

func spfPermissive(o MailObservation) check.Result {
	ev := spfEvidence(o)
	if o.SPF.rootFailed() {
		q := failure(o.SPF.Tree.Query)
		return result(check.Error,
			fmt.Sprintf("Không truy vấn được bản ghi TXT của %s: %s.", o.Domain, failureVI(o.SPF.Tree.Query)),
			fmt.Sprintf("Could not look up the TXT records of %s: %s.", o.Domain, q), ev)
	}
	switch o.SPF.Result {
	case "none":
		return result(check.NotApplicable,
			fmt.Sprintf("Tên miền %s không có bản ghi SPF để đánh giá; xem kiểm tra mail.spf.missing.", o.Domain),
			fmt.Sprintf("%s has no SPF record to assess; see mail.spf.missing.", o.Domain), ev)
	case "permerror":
		p := o.SPF.problem.text()
		return result(check.Fail,
			fmt.Sprintf("Bản ghi SPF của %s gây lỗi vĩnh viễn (permerror): %s. Máy chủ nhận thư bỏ qua SPF như thể tên miền không có bản ghi, nên ai cũng có thể gửi thư nhân danh tên miền.", o.Domain, p.VI),
			fmt.Sprintf("The SPF record of %s ends in a permanent error (permerror): %s. Receivers ignore SPF as if there were no record, so anyone can send mail in the domain's name.", o.Domain, p.EN), ev)
	case "temperror":
		p := o.SPF.problem.text()
		return result(check.Error,
			fmt.Sprintf("Không đánh giá hết được bản ghi SPF của %s: %s.", o.Domain, p.VI),
			fmt.Sprintf("Could not evaluate the whole SPF record of %s: %s.", o.Domain, p.EN), ev)
	}
	pol := o.SPF.Tree.policy()
	ev["all"] = pol.All
	var vi, en []string
	switch pol.All {
	case "+":
		vi = append(vi, "kết thúc bằng \"+all\" (mọi máy chủ đều được phép gửi)")
		en = append(en, "it ends in \"+all\" (every server may send)")
	case "?":
		vi = append(vi, "kết thúc bằng \"?all\" (trung lập: không từ chối máy chủ nào)")
		en = append(en, "it ends in \"?all\" (neutral: no server is refused)")
	case "":
		vi = append(vi, "không có \"all\" hay \"redirect\" nên mặc định là trung lập với mọi máy chủ không được liệt kê")
		en = append(en, "it has no \"all\" and no \"redirect\", so unlisted servers get the neutral default")
	}
	if len(pol.PassAll) > 0 {
		vi = append(vi, fmt.Sprintf("include tới %s, bản ghi chấp nhận mọi máy chủ (+all)", strings.Join(pol.PassAll, ", ")))
		en = append(en, fmt.Sprintf("it includes %s, which passes every server (+all)", strings.Join(pol.PassAll, ", ")))
	}
	if len(pol.Wide) > 0 {
		vi = append(vi, fmt.Sprintf("cho phép những dải địa chỉ quá rộng: %s", strings.Join(pol.Wide, ", ")))
		en = append(en, fmt.Sprintf("it allows huge address ranges: %s", strings.Join(pol.Wide, ", ")))
	}
	if len(vi) > 0 {
		return result(check.Fail,
			fmt.Sprintf("Bản ghi SPF của %s quá dễ dãi: %s.", o.Domain, strings.Join(vi, "; ")),
			fmt.Sprintf("The SPF record of %s is permissive: %s.", o.Domain, strings.Join(en, "; ")), ev)
	}
	viaVI, viaEN := "", ""
	if len(pol.Via) > 0 {
		viaVI = " (qua redirect tới " + strings.Join(pol.Via, " → ") + ")"
		viaEN = " (through redirect to " + strings.Join(pol.Via, " → ") + ")"
	}
	return result(check.Pass,
		fmt.Sprintf("Bản ghi SPF của %s kết thúc bằng \"%sall\"%s và cần %d/%d lượt truy vấn DNS.", o.Domain, pol.All, viaVI, o.SPF.Lookups, spfMaxLookups),
		fmt.Sprintf("The SPF record of %s ends in \"%sall\"%s and needs %d of %d DNS lookups.", o.Domain, pol.All, viaEN, o.SPF.Lookups, spfMaxLookups), ev)
}

func dmarcEvidence(o MailObservation) map[string]any {
	ev := map[string]any{
		"domain":                o.Domain,
		"query":                 o.DMARC.Query,
		"records":               o.DMARC.Records,
		"organizational_domain": "not consulted",
	}
	if o.DMARC.Record != nil {
		ev["policy"] = *o.DMARC.Record
	}
	if o.DMARC.Invalid != "" {
		ev["invalid"] = o.DMARC.Invalid
	}
	return ev
}

func dmarcLookupFailed(o MailObservation) bool { return !queryOK(o.DMARC.Query) }

func dmarcMissing(o MailObservation) check.Result {
	ev := dmarcEvidence(o)
	d := o.DMARC
	switch {
	case dmarcLookupFailed(o):
		f := failure(d.Query)
		return result(check.Error,
			fmt.Sprintf("Không truy vấn được bản ghi DMARC tại _dmarc.%s: %s.", o.Domain, failureVI(d.Query)),
			fmt.Sprintf("Could not look up the DMARC record at _dmarc.%s: %s.", o.Domain, f), ev)
	case len(d.Records) == 0:
		return result(check.Fail,
			fmt.Sprintf("Không có bản ghi DMARC tại _dmarc.%s, nên máy chủ nhận thư không có chính sách nào cho thư giả mạo tên miền này. (Chính sách của tên miền tổ chức cấp trên không được xét.)", o.Domain),
			fmt.Sprintf("There is no DMARC record at _dmarc.%s, so receivers have no policy for mail that forges this domain. (The organizational domain's record was not consulted.)", o.Domain), ev)
	case len(d.Records) > 1:
		return result(check.Fail,
			fmt.Sprintf("Có %d bản ghi DMARC tại _dmarc.%s; khi có nhiều hơn một bản ghi, máy chủ nhận thư bỏ qua DMARC (RFC 7489 mục 6.6.3).", len(d.Records), o.Domain),
			fmt.Sprintf("There are %d DMARC records at _dmarc.%s; with more than one, receivers apply no DMARC at all (RFC 7489 section 6.6.3).", len(d.Records), o.Domain), ev)
	case d.Record == nil:
		return result(check.Fail,
			fmt.Sprintf("Bản ghi DMARC tại _dmarc.%s không dùng được (sai cú pháp; chi tiết ở bằng chứng), nên DMARC không được áp dụng.", o.Domain),
			fmt.Sprintf("The DMARC record at _dmarc.%s is not usable (%s), so DMARC is not applied.", o.Domain, d.Invalid), ev)
	}
	return result(check.Pass,
		fmt.Sprintf("Tên miền %s có bản ghi DMARC với chính sách p=%s.", o.Domain, d.Record.Policy),
		fmt.Sprintf("%s has a DMARC record with policy p=%s.", o.Domain, d.Record.Policy), ev)
}

func dmarcWeak(o MailObservation) check.Result {
	ev := dmarcEvidence(o)
	d := o.DMARC
	switch {
	case dmarcLookupFailed(o):
		f := failure(d.Query)
		return result(check.Error,
			fmt.Sprintf("Không truy vấn được bản ghi DMARC tại _dmarc.%s: %s.", o.Domain, failureVI(d.Query)),
			fmt.Sprintf("Could not look up the DMARC record at _dmarc.%s: %s.", o.Domain, f), ev)
	case d.Record == nil:
		return result(check.NotApplicable,
			fmt.Sprintf("Tên miền %s không có bản ghi DMARC hợp lệ để đánh giá chính sách; xem kiểm tra mail.dmarc.missing.", o.Domain),
			fmt.Sprintf("%s has no valid DMARC record whose policy could be assessed; see mail.dmarc.missing.", o.Domain), ev)
	}
	r := d.Record
	switch {
	case r.Policy == "none" && r.PolicyImplied:
		return result(check.Fail,
			fmt.Sprintf("Bản ghi DMARC của %s không có thẻ p hợp lệ nên được coi là p=none: thư giả mạo chỉ được báo cáo và vẫn tới tay người nhận.", o.Domain),
			fmt.Sprintf("The DMARC record of %s has no valid p tag, so it counts as p=none: forged mail is only reported and still delivered.", o.Domain), ev)
	case r.Policy == "none":
		return result(check.Fail,
			fmt.Sprintf("Chính sách DMARC của %s là p=none (chỉ giám sát): thư giả mạo chỉ được báo cáo và vẫn tới tay người nhận.", o.Domain),
			fmt.Sprintf("The DMARC policy of %s is p=none (monitoring only): forged mail is only reported and still delivered.", o.Domain), ev)
	case r.Percent == 0:
		return result(check.Fail,
			fmt.Sprintf("Chính sách DMARC của %s là p=%s nhưng pct=0, nên không áp dụng cho thư nào.", o.Domain, r.Policy),
			fmt.Sprintf("The DMARC policy of %s is p=%s but pct=0, so it applies to no message.", o.Domain, r.Policy), ev)
	}
	vi, en := "đưa vào khu vực cách ly", "quarantined"
	if r.Policy == "reject" {
		vi, en = "từ chối", "rejected"
	}
	return result(check.Pass,
		fmt.Sprintf("Chính sách DMARC của %s là p=%s (pct=%d): thư giả mạo bị %s.", o.Domain, r.Policy, r.Percent, vi),
		fmt.Sprintf("The DMARC policy of %s is p=%s (pct=%d): forged mail is %s.", o.Domain, r.Policy, r.Percent, en), ev)
}

func starttlsMissing(o MailObservation) check.Result {
	mx := o.MX
	ev := map[string]any{"domain": o.Domain, "query": mx.Query, "mx": mx.Hosts}
	if !queryOK(mx.Query) {
		f := failure(mx.Query)
		return result(check.Error,
			fmt.Sprintf("Không truy vấn được bản ghi MX của %s: %s.", o.Domain, failureVI(mx.Query)),
			fmt.Sprintf("Could not look up the MX records of %s: %s.", o.Domain, f), ev)
	}
	if mx.Null {
		return result(check.NotApplicable,
			fmt.Sprintf("Tên miền %s khai báo MX rỗng (\"MX 0 .\", RFC 7505): tên miền không nhận thư.", o.Domain),
			fmt.Sprintf("%s publishes a null MX (\"MX 0 .\", RFC 7505): it accepts no mail.", o.Domain), ev)
	}
	if len(mx.Hosts) == 0 {
		return result(check.NotApplicable,
			fmt.Sprintf("Tên miền %s không có bản ghi MX, nên không có máy chủ thư nào để kiểm tra STARTTLS.", o.Domain),
			fmt.Sprintf("%s has no MX record, so there is no mail exchanger to check for STARTTLS.", o.Domain), ev)
	}
	status := check.Status("")
	var failVI, failEN, errVI, errEN []string
	total := 0
	for _, h := range mx.Hosts {
		if h.Error != "" {
			status = worse(status, check.Error)
			errVI = append(errVI, fmt.Sprintf("%s: không tìm được địa chỉ (%s)", h.Host, errorVI(h.Error)))
			errEN = append(errEN, fmt.Sprintf("%s: no address (%s)", h.Host, h.Error))
			continue
		}
		for _, e := range h.Endpoints {
			total++
			v := e.verdict()
			status = worse(status, v)
			at := fmt.Sprintf("%s (%s)", h.Host, e.Address)
			switch {
			case v == check.Error:
				errVI = append(errVI, fmt.Sprintf("%s: %s", at, errorVI(e.Error)))
				errEN = append(errEN, fmt.Sprintf("%s: %s", at, e.Error))
			case v == check.Fail && e.TLSError != "":
				failVI = append(failVI, fmt.Sprintf("%s quảng bá STARTTLS nhưng không thiết lập được TLS (%s)", at, errorVI(e.TLSError)))
				failEN = append(failEN, fmt.Sprintf("%s advertises STARTTLS but TLS cannot be established (%s)", at, e.TLSError))
			case v == check.Fail && !validEHLO(e.EHLO):
				failVI = append(failVI, fmt.Sprintf("%s từ chối lệnh EHLO nên không thể có STARTTLS", at))
				failEN = append(failEN, fmt.Sprintf("%s rejects EHLO, so it cannot offer STARTTLS", at))
			case v == check.Fail:
				failVI = append(failVI, fmt.Sprintf("%s không quảng bá STARTTLS", at))
				failEN = append(failEN, fmt.Sprintf("%s does not advertise STARTTLS", at))
			}
		}
	}
	switch status {
	case check.Fail:
		return result(check.Fail,
			fmt.Sprintf("Máy chủ thư của %s không hỗ trợ STARTTLS: %s. Thư gửi tới tên miền qua các máy chủ này đi trên mạng ở dạng không mã hóa.", o.Domain, strings.Join(failVI, "; ")),
			fmt.Sprintf("Mail exchangers of %s lack working STARTTLS: %s. Mail to the domain through them crosses the network unencrypted.", o.Domain, strings.Join(failEN, "; ")), ev)
	case check.Error:
		return result(check.Error,
			fmt.Sprintf("Không kiểm tra được mọi máy chủ thư của %s: %s.", o.Domain, strings.Join(errVI, "; ")),
			fmt.Sprintf("Could not check every mail exchanger of %s: %s.", o.Domain, strings.Join(errEN, "; ")), ev)
	}
	return result(check.Pass,
		fmt.Sprintf("Cả %d địa chỉ của %d máy chủ thư (MX) của %s đều hỗ trợ STARTTLS và hoàn tất bắt tay TLS.", total, len(mx.Hosts), o.Domain),
		fmt.Sprintf("All %d addresses of the %d mail exchangers of %s offer STARTTLS and complete a TLS handshake.", total, len(mx.Hosts), o.Domain), ev)
}

// validEHLO reports whether an EHLO reply was a success (250).
func validEHLO(lines []string) bool {
	return len(lines) > 0 && strings.HasPrefix(lines[len(lines)-1], "250")
}
