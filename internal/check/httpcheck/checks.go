package httpcheck

import (
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/tlscheck"
)

// verdict is one check's answer for one endpoint.
type verdict struct {
	Status   check.Status
	Reason   check.Text
	Evidence map[string]any
}

func pass(vi, en string, ev map[string]any) verdict {
	return verdict{check.Pass, check.Text{VI: vi, EN: en}, ev}
}
func fail(vi, en string, ev map[string]any) verdict {
	return verdict{check.Fail, check.Text{VI: vi, EN: en}, ev}
}
func notApplicable(vi, en string, ev map[string]any) verdict {
	return verdict{check.NotApplicable, check.Text{VI: vi, EN: en}, ev}
}
func errored(vi, en string, ev map[string]any) verdict {
	return verdict{check.Error, check.Text{VI: vi, EN: en}, ev}
}

// severity orders verdicts for "the worst endpoint decides".
func severity(s check.Status) int {
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

// worst evaluates every endpoint and returns the worst verdict, with every endpoint's
// evidence when there is more than one. An endpoint that gave no answer at all is an error
// for every check: silence is not a failing header.
func (pol Grading) worst(o Observation, eval func(Endpoint) verdict) check.Result {
	if len(o.Endpoints) == 0 {
		return check.Result{Status: check.Error, Reason: check.Text{
			VI: "Không có địa chỉ nào được quan sát.", EN: "No address was observed.",
		}, Evidence: map[string]any{"host": o.Host, "profile": string(pol.Profile)}}
	}
	vs := make([]verdict, len(o.Endpoints))
	w := 0
	for i, e := range o.Endpoints {
		if e.answered() {
			vs[i] = eval(e)
		} else {
			vs[i] = errored(
				fmt.Sprintf("Địa chỉ %s không trả lời qua HTTP lẫn HTTPS.", e.Address),
				fmt.Sprintf("Address %s answered neither HTTP nor HTTPS.", e.Address),
				map[string]any{"https_failure": e.HTTPS.why(), "http_failure": e.HTTP.why()})
		}
		if vs[i].Evidence == nil {
			vs[i].Evidence = map[string]any{}
		}
		if severity(vs[i].Status) > severity(vs[w].Status) {
			w = i
		}
	}
	ev := maps.Clone(vs[w].Evidence)
	ev["address"] = o.Endpoints[w].Address
	ev["profile"] = string(pol.Profile)
	reason := vs[w].Reason
	if len(o.Endpoints) > 1 {
		reason = check.Text{
			VI: fmt.Sprintf("Địa chỉ %s (kém nhất trong %d địa chỉ): %s", o.Endpoints[w].Address, len(o.Endpoints), reason.VI),
			EN: fmt.Sprintf("Address %s (the worst of %d): %s", o.Endpoints[w].Address, len(o.Endpoints), reason.EN),
		}
		per := make([]map[string]any, len(vs))
		for i, v := range vs {
			per[i] = map[string]any{"address": o.Endpoints[i].Address, "status": string(v.Status), "reason": v.Reason.EN, "evidence": v.Evidence}
		}
		ev["endpoints"] = per
	}
	return check.Result{Status: vs[w].Status, Reason: reason, Evidence: ev}
}

// hopsEvidence is a redirect chain as evidence: each hop's URL, status and Location.
func hopsEvidence(c Chain) []map[string]any {
	out := make([]map[string]any, 0, len(c.Hops))
	for _, h := range c.Hops {
		m := map[string]any{"url": h.URL, "status": h.Status}
		if h.Location != "" {
			m["location"] = truncate(h.Location, 500)
		}
		out = append(out, m)
	}
	return out
}

// response is the graded answer as evidence, with the named headers only: the rest of the
// header block is not needed to dispute the verdict and may carry session data.
func response(h Hop, names ...string) map[string]any {
	hdr := map[string][]string{}
	for _, n := range names {
		if vs := h.Header.Values(n); len(vs) > 0 {
			short := make([]string, len(vs))
			for i, v := range vs {
				short[i] = truncate(v, 2048)
			}
			hdr[http.CanonicalHeaderKey(n)] = short
		}
	}
	return map[string]any{"url": h.URL, "status": h.Status, "headers": hdr}
}

// --- http.https.missing -------------------------------------------------------------------

func (pol Grading) httpsMissing(o Observation) check.Result {
	return pol.worst(o, func(e Endpoint) verdict {
		c := e.HTTPS
		if len(c.Hops) == 0 {
			f := c.why()
			ev := map[string]any{"url": o.HTTPSURL, "failure": f}
			if f.Kind == FailTimeout {
				return errored(
					fmt.Sprintf("HTTPS tại %s không trả lời trong thời gian cho phép; chưa thể kết luận.", o.HTTPSURL),
					fmt.Sprintf("HTTPS at %s did not answer in time; no verdict is possible.", o.HTTPSURL), ev)
			}
			return fail(
				fmt.Sprintf("Không có HTTPS tại %s: %s.", o.HTTPSURL, f.Describe().VI),
				fmt.Sprintf("No HTTPS at %s: %s.", o.HTTPSURL, f.Message), ev)
		}
		first := c.Hops[0]
		ev := map[string]any{"url": first.URL, "status": first.Status, "tls": first.TLS, "chain": hopsEvidence(c)}
		if strings.HasPrefix(first.Next, "http:") {
			return fail(
				fmt.Sprintf("HTTPS tại %s chuyển hướng ngay về HTTP không mã hóa (%s), nên người dùng không ở lại trên HTTPS.", first.URL, first.Next),
				fmt.Sprintf("HTTPS at %s redirects straight back to plain HTTP (%s), so visitors cannot stay on HTTPS.", first.URL, first.Next), ev)
		}
		vi := fmt.Sprintf("HTTPS trả lời tại %s (mã %d).", first.URL, first.Status)
		en := fmt.Sprintf("HTTPS answers at %s (status %d).", first.URL, first.Status)
		if first.TLS != nil && !first.TLS.Verified {
			vi += " Chứng thư số " + tlscheck.VerifyErrorVI(first.TLS.VerifyError) + "; nhóm kiểm tra TLS đánh giá điều này."
			en += " Its certificate does not verify (" + first.TLS.VerifyError + "); the TLS checks judge that."
		}
		return pass(vi, en, ev)
	})
}

// --- http.redirect.missing ----------------------------------------------------------------

func (pol Grading) redirectMissing(o Observation) check.Result {
	return pol.worst(o, func(e Endpoint) verdict {
		c := e.HTTP
		if len(c.Hops) == 0 {
			f := c.why()
			return pass(
				fmt.Sprintf("Không có dịch vụ HTTP không mã hóa tại %s (%s), nên không có gì cần chuyển hướng.", o.HTTPURL, f.Describe().VI),
				fmt.Sprintf("No plain-HTTP service answers at %s (%s), so there is nothing to redirect.", o.HTTPURL, f.Message),
				map[string]any{"url": o.HTTPURL, "failure": f})
		}
		first := c.Hops[0]
		dest := c.destination()
		ev := map[string]any{"url": first.URL, "chain": hopsEvidence(c), "destination": dest}
		if c.Failure != nil {
			ev["failure"] = c.Failure
		}
		if first.Next == "" {
			return fail(
				fmt.Sprintf("HTTP tại %s trả lời mã %d mà không chuyển hướng sang HTTPS.", first.URL, first.Status),
				fmt.Sprintf("HTTP at %s answers with status %d and does not redirect to HTTPS.", first.URL, first.Status), ev)
		}
		ev["first_hop_https"] = strings.HasPrefix(first.Next, "https:")
		if c.Failure != nil {
			switch c.Failure.Kind {
			case FailRedirects, FailBadLocation:
				return fail(
					fmt.Sprintf("Chuỗi chuyển hướng từ %s không dẫn tới một trang HTTPS: %s.", first.URL, c.Failure.Describe().VI),
					fmt.Sprintf("The redirects from %s do not lead to an HTTPS page: %s.", first.URL, c.Failure.Message), ev)
			}
		}
		if pol.CertGatesRedirect {
			if bad := unverified(c); bad != nil {
				ev["certificate_error"] = bad.TLS.VerifyError
				return fail(
					fmt.Sprintf("Chuỗi chuyển hướng từ %s tới HTTPS gặp tại %s một chứng thư số %s; hồ sơ %s coi đó là chuyển hướng không thành công.", first.URL, bad.URL, tlscheck.VerifyErrorVI(bad.TLS.VerifyError), pol.Profile),
					fmt.Sprintf("The redirects from %s reach HTTPS at %s with a certificate that does not verify (%s); the %s profile counts that as a failed redirect.", first.URL, bad.URL, bad.TLS.VerifyError, pol.Profile), ev)
			}
		}
		d, err := url.Parse(dest)
		switch {
		case err != nil || d.Scheme != "https":
			return fail(
				fmt.Sprintf("Chuỗi chuyển hướng từ %s kết thúc ở %s, vẫn là HTTP không mã hóa.", first.URL, dest),
				fmt.Sprintf("The redirects from %s end at %s, still plain HTTP.", first.URL, dest), ev)
		case !sameSite(o.Host, d.Hostname()):
			return fail(
				fmt.Sprintf("HTTP tại %s chuyển hướng sang một trang khác (%s) thay vì HTTPS của chính nó.", first.URL, dest),
				fmt.Sprintf("HTTP at %s redirects to another site (%s) instead of its own HTTPS.", first.URL, dest), ev)
		}
		return pass(
			fmt.Sprintf("HTTP tại %s chuyển hướng sang %s.", first.URL, dest),
			fmt.Sprintf("HTTP at %s redirects to %s.", first.URL, dest), ev)
	})
}

// unverified returns the first HTTPS answer of c whose certificate does not verify, or nil.
func unverified(c Chain) *Hop {
	for i, h := range c.Hops {
		if h.TLS != nil && !h.TLS.Verified {
			return &c.Hops[i]
		}
	}
	return nil
}

// --- http.hsts.missing, http.hsts.short ---------------------------------------------------

// hstsFinding is the HSTS a browser learns from the host's own HTTPS answers: the first of
// them that carries the header (a redirect to /home on the same host teaches it as well as
// the page does). Only the first field of that answer counts (RFC 6797 section 8.1).
type hstsFinding struct {
	ipHost  bool     // browsers never apply HSTS to an address (RFC 6797 section 8.1.1)
	noHTTPS *Failure // HTTPS gave no answer
	hop     Hop
	values  []string
	parsed  HSTS
	err     error
	badCert *Hop // an HTTPS answer whose certificate does not verify, when the grading minds
}

func (pol Grading) hstsOf(o Observation, e Endpoint) hstsFinding {
	if _, err := netip.ParseAddr(o.Host); err == nil {
		return hstsFinding{ipHost: true}
	}
	if len(e.HTTPS.Hops) == 0 {
		return hstsFinding{noHTTPS: e.HTTPS.why()}
	}
	f := hstsFinding{hop: e.HTTPS.Hops[0]}
	if pol.CertGatesHSTS {
		f.badCert = unverified(e.HTTPS)
	}
	for _, h := range e.HTTPS.Hops {
		u, err := url.Parse(h.URL)
		if err != nil || u.Scheme != "https" || !strings.EqualFold(u.Hostname(), o.Host) {
			continue
		}
		if vs := h.Header.Values("Strict-Transport-Security"); len(vs) > 0 {
			f.hop, f.values = h, vs
			f.parsed, f.err = ParseHSTS(vs[0])
			break
		}
	}
	return f
}

func (f hstsFinding) evidence() map[string]any {
	if f.ipHost {
		return map[string]any{}
	}
	if f.noHTTPS != nil {
		return map[string]any{"https_failure": f.noHTTPS}
	}
	ev := response(f.hop, "Strict-Transport-Security")
	switch {
	case len(f.values) == 0:
	case f.err != nil:
		ev["error"] = f.err.Error()
	default:
		ev["parsed"] = map[string]any{"max_age": f.parsed.MaxAge, "include_subdomains": f.parsed.IncludeSubDomains, "preload": f.parsed.Preload}
	}
	if len(f.values) > 1 {
		ev["ignored_fields"] = len(f.values) - 1
	}
	if f.badCert != nil {
		ev["certificate_error"] = f.badCert.TLS.VerifyError
	}
	return ev
}

func ipHSTS(host string, ev map[string]any) verdict {
	return notApplicable(
		fmt.Sprintf("%s là địa chỉ IP; trình duyệt không áp dụng HSTS cho địa chỉ IP (RFC 6797 mục 8.1.1).", host),
		fmt.Sprintf("%s is an IP address; browsers never apply HSTS to addresses (RFC 6797 section 8.1.1).", host), ev)
}

func (pol Grading) hstsMissing(o Observation) check.Result {
	return pol.worst(o, func(e Endpoint) verdict {
		f := pol.hstsOf(o, e)
		ev := f.evidence()
		switch {
		case f.ipHost:
			return ipHSTS(o.Host, ev)
		case f.noHTTPS != nil && f.noHTTPS.Kind == FailTimeout:
			return errored("HTTPS không trả lời kịp, chưa thể kiểm tra HSTS.", "HTTPS did not answer in time, so HSTS could not be checked.", ev)
		case f.noHTTPS != nil:
			return fail(
				"Không có HTTPS nên trình duyệt không thể nhận HSTS: HSTS chỉ có hiệu lực khi được gửi qua HTTPS.",
				"There is no HTTPS, so browsers cannot receive HSTS: it only counts when sent over HTTPS.", ev)
		case f.badCert != nil:
			return fail(
				fmt.Sprintf("Chứng thư số của %s %s: trình duyệt bỏ qua HSTS nhận qua kết nối có lỗi chứng thư (RFC 6797 mục 8.1), và hồ sơ %s đánh giá như vậy.", f.badCert.URL, tlscheck.VerifyErrorVI(f.badCert.TLS.VerifyError), pol.Profile),
				fmt.Sprintf("The certificate of %s does not verify (%s): browsers ignore HSTS received over a connection with certificate errors (RFC 6797 section 8.1), and the %s profile judges so.", f.badCert.URL, f.badCert.TLS.VerifyError, pol.Profile), ev)
		case len(f.values) == 0:
			return fail(
				fmt.Sprintf("Phản hồi HTTPS của %s không có tiêu đề Strict-Transport-Security.", o.Host),
				fmt.Sprintf("The HTTPS answers of %s carry no Strict-Transport-Security header.", o.Host), ev)
		case f.err != nil:
			return fail(
				"Tiêu đề Strict-Transport-Security không hợp lệ (chi tiết ở bằng chứng), nên trình duyệt bỏ qua nó như khi không có.",
				fmt.Sprintf("The Strict-Transport-Security header is invalid (%v), so browsers ignore it as if it were missing.", f.err), ev)
		case f.parsed.MaxAge == 0:
			return fail(
				"Strict-Transport-Security có max-age=0, tức là yêu cầu trình duyệt xóa HSTS của tên miền này.",
				"Strict-Transport-Security has max-age=0, which tells browsers to forget HSTS for this host.", ev)
		}
		return pass(
			fmt.Sprintf("HSTS được gửi qua HTTPS tại %s với max-age=%d.", f.hop.URL, f.parsed.MaxAge),
			fmt.Sprintf("HSTS is sent over HTTPS at %s with max-age=%d.", f.hop.URL, f.parsed.MaxAge), ev)
	})
}

func (pol Grading) hstsShort(o Observation) check.Result {
	return pol.worst(o, func(e Endpoint) verdict {
		f := pol.hstsOf(o, e)
		ev := f.evidence()
		if f.ipHost {
			return ipHSTS(o.Host, ev)
		}
		if f.noHTTPS != nil || f.badCert != nil || len(f.values) == 0 || f.err != nil || f.parsed.MaxAge == 0 {
			return notApplicable(
				"Không có HSTS hợp lệ để đánh giá thời hạn (xem http.hsts.missing).",
				"There is no valid HSTS whose lifetime could be judged (see http.hsts.missing).", ev)
		}
		ev["min_max_age"] = pol.HSTSMinMaxAge
		if f.parsed.MaxAge < pol.HSTSMinMaxAge {
			return fail(
				fmt.Sprintf("HSTS max-age=%d giây (khoảng %d ngày), ngắn hơn %s (%d giây).", f.parsed.MaxAge, f.parsed.MaxAge/86400, pol.HSTSMinText.VI, pol.HSTSMinMaxAge),
				fmt.Sprintf("HSTS max-age=%d seconds (about %d days) is shorter than %s (%d seconds).", f.parsed.MaxAge, f.parsed.MaxAge/86400, pol.HSTSMinText.EN, pol.HSTSMinMaxAge), ev)
		}
		return pass(
			fmt.Sprintf("HSTS max-age=%d giây, không ngắn hơn %s.", f.parsed.MaxAge, pol.HSTSMinText.VI),
			fmt.Sprintf("HSTS max-age=%d seconds is at least %s.", f.parsed.MaxAge, pol.HSTSMinText.EN), ev)
	})
}

// --- http.csp.missing, http.csp.unsafe ------------------------------------------------------

// sourcedPolicy is an enforced policy and where it came from: "header" or "meta".
type sourcedPolicy struct {
	From string
	Policy
}

// cspFinding is the Content Security Policy a browser enforces on the graded page: every
// policy of every Content-Security-Policy field, and of every <meta http-equiv> (without the
// directives a meta element may not set). Report-Only policies enforce nothing.
type cspFinding struct {
	hop        Hop
	policies   []sourcedPolicy
	reportOnly []string
}

func cspOf(e Endpoint) cspFinding {
	hop, page, _ := e.graded()
	f := cspFinding{hop: hop, reportOnly: hop.Header.Values("Content-Security-Policy-Report-Only")}
	for _, v := range hop.Header.Values("Content-Security-Policy") {
		for _, p := range ParseCSP(v) {
			f.policies = append(f.policies, sourcedPolicy{"header", p})
		}
	}
	if page != nil && page.HTML != nil {
		for _, m := range page.HTML.MetaCSP {
			if p := ParsePolicy(m).withoutMetaOnly(); len(p.Directives) > 0 {
				f.policies = append(f.policies, sourcedPolicy{"meta", p})
			}
		}
	}
	return f
}

func (f cspFinding) evidence() map[string]any {
	ev := response(f.hop, "Content-Security-Policy", "Content-Security-Policy-Report-Only")
	var ps []map[string]any
	for _, p := range f.policies {
		dirs := map[string][]string{}
		for _, d := range p.Directives {
			dirs[d.Name] = append([]string{}, d.Sources...)
		}
		m := map[string]any{"from": p.From, "directives": dirs}
		if len(p.Duplicates) > 0 {
			m["ignored_duplicates"] = p.Duplicates
		}
		ps = append(ps, m)
	}
	if len(ps) > 0 {
		ev["policies"] = ps
	}
	return ev
}

func (pol Grading) cspMissing(o Observation) check.Result {
	return pol.worst(o, func(e Endpoint) verdict {
		f := cspOf(e)
		ev := f.evidence()
		if len(f.policies) == 0 {
			if len(f.reportOnly) > 0 {
				return fail(
					fmt.Sprintf("Trang %s chỉ có Content-Security-Policy-Report-Only: chính sách chỉ báo cáo vi phạm chứ không chặn gì.", f.hop.URL),
					fmt.Sprintf("The page %s only has Content-Security-Policy-Report-Only, which reports violations but blocks nothing.", f.hop.URL), ev)
			}
			return fail(
				fmt.Sprintf("Trang %s không có Content-Security-Policy (cả tiêu đề lẫn thẻ meta).", f.hop.URL),
				fmt.Sprintf("The page %s has no Content-Security-Policy (neither header nor meta element).", f.hop.URL), ev)
		}
		return pass(
			fmt.Sprintf("Trang %s áp dụng %d chính sách Content-Security-Policy.", f.hop.URL, len(f.policies)),
			fmt.Sprintf("The page %s enforces a Content-Security-Policy (%d %s).", f.hop.URL, len(f.policies), plural(len(f.policies), "policy", "policies")), ev)
	})
}

// riskText explains each script risk to the reader of a finding.
var riskText = map[string]check.Text{
	riskNoScriptRule: {VI: "không có script-src hay default-src nên script không bị giới hạn", EN: "no script-src or default-src, so scripts are unrestricted"},
	riskUnsafeInline: {VI: "'unsafe-inline' (không kèm nonce hay hash) cho chạy script nội tuyến bị chèn vào trang", EN: "'unsafe-inline' without a nonce or hash lets injected inline script run"},
	riskUnsafeEval:   {VI: "'unsafe-eval' cho phép eval() chạy chuỗi thành mã", EN: "'unsafe-eval' lets eval() turn strings into code"},
	riskAnySource:    {VI: "nguồn script quá rộng (*, https: hoặc http:) cho tải script từ bất kỳ máy chủ nào", EN: "a source as broad as *, https: or http: loads scripts from any host"},
	riskDataSource:   {VI: "nguồn data: cho chạy script nhúng trong URL, tương đương script nội tuyến", EN: "data: runs script carried in a URL, inline script by another name"},
	riskHTTPSource:   {VI: "nguồn http:// cho tải script qua HTTP không mã hóa, kẻ tấn công trên đường truyền có thể thay thế", EN: "an http:// source loads scripts over plain HTTP, where a network attacker can replace them"},
}

func (pol Grading) cspUnsafe(o Observation) check.Result {
	return pol.worst(o, func(e Endpoint) verdict {
		f := cspOf(e)
		ev := f.evidence()
		if len(f.policies) == 0 {
			return notApplicable(
				"Không có Content-Security-Policy được áp dụng để đánh giá (xem http.csp.missing).",
				"No enforced Content-Security-Policy to judge (see http.csp.missing).", ev)
		}
		// A script runs only if every enforced policy allows it, so a risk remains only if
		// every policy has it.
		var effective []string
		per := make([][]string, len(f.policies))
		for i, p := range f.policies {
			per[i] = scriptRisks(p.Policy)
			if i == 0 {
				effective = slices.Clone(per[0])
				continue
			}
			effective = slices.DeleteFunc(effective, func(r string) bool { return !slices.Contains(per[i], r) })
		}
		ev["risks_per_policy"] = per
		ev["risks"] = effective
		if len(effective) == 0 {
			return pass(
				"Content-Security-Policy không cho phép script nội tuyến, eval hay nguồn script tùy ý.",
				"Content-Security-Policy allows no inline script, no eval and no arbitrary script source.", ev)
		}
		var vi, en []string
		for _, r := range effective {
			vi, en = append(vi, riskText[r].VI), append(en, riskText[r].EN)
		}
		return fail(
			"Content-Security-Policy vẫn để script nguy hiểm chạy: "+strings.Join(vi, "; ")+".",
			"Content-Security-Policy still lets dangerous script run: "+strings.Join(en, "; ")+".", ev)
	})
}

// --- http.xcto.missing ----------------------------------------------------------------------

func (pol Grading) xctoMissing(o Observation) check.Result {
	return pol.worst(o, func(e Endpoint) verdict {
		hop, _, _ := e.graded()
		ev := response(hop, "X-Content-Type-Options")
		vs := hop.Header.Values("X-Content-Type-Options")
		if len(vs) == 0 {
			return fail(
				fmt.Sprintf("Phản hồi %s không có X-Content-Type-Options: nosniff, nên trình duyệt có thể đoán sai kiểu nội dung và chạy nó như script.", hop.URL),
				fmt.Sprintf("The answer at %s has no X-Content-Type-Options: nosniff, so browsers may sniff content into script.", hop.URL), ev)
		}
		// Fetch "determine nosniff": the first value of the comma-separated list, exactly.
		first, _, _ := strings.Cut(strings.Join(vs, ","), ",")
		if !strings.EqualFold(strings.Trim(first, " \t"), "nosniff") {
			return fail(
				fmt.Sprintf("X-Content-Type-Options có giá trị %q thay vì đúng nosniff, nên trình duyệt bỏ qua nó.", truncate(first, 100)),
				fmt.Sprintf("X-Content-Type-Options is %q rather than exactly nosniff, so browsers ignore it.", truncate(first, 100)), ev)
		}
		return pass("X-Content-Type-Options: nosniff được đặt.", "X-Content-Type-Options: nosniff is set.", ev)
	})
}

// --- http.framing.unprotected ---------------------------------------------------------------

// framingUnprotected follows HTML's rules: when an enforced header policy has frame-ancestors,
// browsers ignore X-Frame-Options; otherwise X-Frame-Options protects only with DENY or
// SAMEORIGIN as its sole value (ALLOW-FROM is ignored by current browsers).
func (pol Grading) framingUnprotected(o Observation) check.Result {
	return pol.worst(o, func(e Endpoint) verdict {
		f := cspOf(e)
		ev := response(f.hop, "Content-Security-Policy", "X-Frame-Options")
		var ancestors [][]string
		for _, p := range f.policies {
			if v, ok := p.Get("frame-ancestors"); ok && p.From == "header" {
				ancestors = append(ancestors, v)
			}
		}
		if len(ancestors) > 0 {
			ev["frame_ancestors"] = ancestors
			for _, a := range ancestors {
				if !slices.ContainsFunc(a, broadAncestor) {
					return pass(
						fmt.Sprintf("CSP frame-ancestors giới hạn trang nào được nhúng trang này (%s).", strings.Join(orNone(a), " ")),
						fmt.Sprintf("CSP frame-ancestors limits who may frame the page (%s).", strings.Join(orNone(a), " ")), ev)
				}
			}
			return fail(
				"CSP frame-ancestors cho phép mọi trang nhúng trang này, và khi có frame-ancestors thì trình duyệt bỏ qua X-Frame-Options.",
				"CSP frame-ancestors lets any site frame the page, and browsers ignore X-Frame-Options when frame-ancestors is present.", ev)
		}
		var vals []string
		for _, v := range f.hop.Header.Values("X-Frame-Options") {
			for _, t := range strings.Split(v, ",") {
				if t = strings.ToLower(strings.Trim(t, " \t")); t != "" && !slices.Contains(vals, t) {
					vals = append(vals, t)
				}
			}
		}
		switch {
		case len(vals) == 0:
			return fail(
				"Không có X-Frame-Options hay CSP frame-ancestors: trang khác có thể nhúng trang này để lừa người dùng bấm (clickjacking).",
				"Neither X-Frame-Options nor CSP frame-ancestors is set: any site can frame the page and trick users into clicks (clickjacking).", ev)
		case len(vals) > 1:
			return fail(
				fmt.Sprintf("X-Frame-Options có nhiều giá trị mâu thuẫn (%s) nên trình duyệt bỏ qua nó.", strings.Join(vals, ", ")),
				fmt.Sprintf("X-Frame-Options has conflicting values (%s), so browsers ignore it.", strings.Join(vals, ", ")), ev)
		case vals[0] == "deny" || vals[0] == "sameorigin":
			return pass(
				fmt.Sprintf("X-Frame-Options: %s ngăn trang khác nhúng trang này.", strings.ToUpper(vals[0])),
				fmt.Sprintf("X-Frame-Options: %s stops other sites framing the page.", strings.ToUpper(vals[0])), ev)
		}
		return fail(
			fmt.Sprintf("X-Frame-Options có giá trị %q, không phải DENY hay SAMEORIGIN; trình duyệt hiện nay bỏ qua nó (kể cả ALLOW-FROM).", truncate(vals[0], 100)),
			fmt.Sprintf("X-Frame-Options is %q, not DENY or SAMEORIGIN; current browsers ignore it (ALLOW-FROM included).", truncate(vals[0], 100)), ev)
	})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func orNone(list []string) []string {
	if len(list) == 0 {
		return []string{"'none'"}
	}
	return list
}

// --- http.referrer.unsafe -------------------------------------------------------------------

// referrerUnsafe requires an explicit policy. Browsers now default to
// strict-origin-when-cross-origin, and MDN HTTP Observatory does not penalize a missing
// header, but Khiên's catalog fails it: older and embedded browsers still default to
// no-referrer-when-downgrade, and an explicit policy is the agency's stated decision. The
// observatory profile makes the Observatory's choices (Grading.ReferrerOptional, ReferrerUnsafe).
func (pol Grading) referrerUnsafe(o Observation) check.Result {
	return pol.worst(o, func(e Endpoint) verdict {
		hop, page, _ := e.graded()
		ev := response(hop, "Referrer-Policy")
		policy := ParseReferrerPolicy(strings.Join(hop.Header.Values("Referrer-Policy"), ","))
		from := check.Text{VI: "tiêu đề", EN: "header"}
		if page != nil && page.HTML != nil && len(page.HTML.MetaReferrer) > 0 {
			ev["meta_referrer"] = page.HTML.MetaReferrer
			for _, m := range page.HTML.MetaReferrer {
				if p := metaReferrer(m); p != "" {
					policy, from = p, check.Text{VI: "thẻ meta", EN: "meta element"}
				}
			}
		}
		ev["policy"] = policy
		absent := len(hop.Header.Values("Referrer-Policy")) == 0 && (page == nil || page.HTML == nil || len(page.HTML.MetaReferrer) == 0)
		switch {
		case policy == "" && absent && pol.ReferrerOptional:
			return pass(
				fmt.Sprintf("Không có Referrer-Policy: trình duyệt áp dụng mặc định strict-origin-when-cross-origin, điều mà hồ sơ %s chấp nhận.", pol.Profile),
				fmt.Sprintf("No Referrer-Policy: browsers apply their default, strict-origin-when-cross-origin, which the %s profile accepts.", pol.Profile), ev)
		case policy == "":
			return fail(
				"Không có Referrer-Policy hợp lệ. Trình duyệt mới mặc định strict-origin-when-cross-origin nhưng trình duyệt cũ gửi toàn bộ URL; Khiên yêu cầu đặt chính sách rõ ràng.",
				"No valid Referrer-Policy. Current browsers default to strict-origin-when-cross-origin but older ones send full URLs; Khiên requires an explicit policy.", ev)
		case pol.unsafeReferrer(policy) && !leaksFullURL(policy):
			return fail(
				fmt.Sprintf("Referrer-Policy %s (từ %s) gửi nguồn gốc của trang tới trang khác, kể cả qua HTTP không mã hóa; hồ sơ %s không chấp nhận.", policy, from.VI, pol.Profile),
				fmt.Sprintf("Referrer-Policy %s (from the %s) sends the page's origin to other sites, over plain HTTP too, which the %s profile does not accept.", policy, from.EN, pol.Profile), ev)
		case pol.unsafeReferrer(policy):
			return fail(
				fmt.Sprintf("Referrer-Policy %s (từ %s) gửi toàn bộ URL, gồm đường dẫn và tham số, tới trang khác.", policy, from.VI),
				fmt.Sprintf("Referrer-Policy %s (from the %s) sends full URLs, path and query included, to other sites.", policy, from.EN), ev)
		}
		return pass(
			fmt.Sprintf("Referrer-Policy %s (từ %s) không gửi toàn bộ URL tới trang khác.", policy, from.VI),
			fmt.Sprintf("Referrer-Policy %s (from the %s) does not send full URLs to other sites.", policy, from.EN), ev)
	})
}

// --- http.cookie.insecure -------------------------------------------------------------------

// maxCookies bounds the cookies kept as evidence.
const maxCookies = 50

// cookieInsecure judges every cookie set along both chains. Session and login cookies (by
// name, as MDN HTTP Observatory guesses them) fail without Secure on HTTPS, when set over plain
// HTTP at all, without HttpOnly, or without a valid SameSite; anti-CSRF cookies fail without
// SameSite. Other cookies' missing attributes are noted but do not fail: a preference cookie
// read by script needs no HttpOnly.
func (pol Grading) cookieInsecure(o Observation) check.Result {
	return pol.worst(o, func(e Endpoint) verdict {
		var list []map[string]any
		var bad []string
		total, unparsed := 0, 0
		for _, c := range []Chain{e.HTTPS, e.HTTP} {
			for _, h := range c.Hops {
				overHTTPS := strings.HasPrefix(h.URL, "https:")
				for _, line := range h.Header.Values("Set-Cookie") {
					ck, err := ParseSetCookie(line)
					if err != nil {
						unparsed++
						continue
					}
					total++
					problems, notes := cookieProblems(ck, overHTTPS)
					if len(problems) > 0 && !slices.Contains(bad, ck.Name) {
						bad = append(bad, ck.Name)
					}
					if len(list) < maxCookies {
						list = append(list, cookieEvidence(ck, h.URL, problems, notes))
					}
				}
			}
		}
		ev := map[string]any{"cookies": list, "count": total}
		if unparsed > 0 {
			ev["unparsed"] = unparsed
		}
		switch {
		case total == 0:
			return notApplicable("Trang không đặt cookie nào.", "The site sets no cookies.", ev)
		case len(bad) > 0:
			return fail(
				fmt.Sprintf("Cookie phiên hoặc chống CSRF thiếu thuộc tính bảo vệ: %s.", strings.Join(bad, ", ")),
				fmt.Sprintf("Session or anti-CSRF cookies lack protective attributes: %s.", strings.Join(bad, ", ")), ev)
		}
		return pass(
			fmt.Sprintf("%d cookie được đặt; cookie phiên có đủ Secure, HttpOnly và SameSite.", total),
			fmt.Sprintf("%d cookies set; session cookies have Secure, HttpOnly and SameSite.", total), ev)
	})
}

// cookieProblems returns what fails the check for ck, and what is only worth noting.
func cookieProblems(ck Cookie, overHTTPS bool) (problems, notes []string) {
	session, csrf := sessionLike(ck.Name), csrfLike(ck.Name)
	switch {
	case session && !overHTTPS:
		problems = append(problems, "session cookie set over plain HTTP")
	case session && !ck.Secure:
		problems = append(problems, "session cookie without Secure")
	case !ck.Secure && overHTTPS:
		notes = append(notes, "no Secure")
	}
	if session && !ck.HttpOnly {
		problems = append(problems, "session cookie without HttpOnly")
	}
	if (session || csrf) && ck.SameSite == "" {
		problems = append(problems, "session or anti-CSRF cookie without a valid SameSite")
	}
	if ck.SameSiteRaw != "" {
		notes = append(notes, "invalid SameSite value, browsers apply their default")
	}
	if ck.SameSite == "None" && !ck.Secure {
		notes = append(notes, "SameSite=None without Secure, browsers reject the cookie")
	}
	return problems, notes
}

func cookieEvidence(ck Cookie, setBy string, problems, notes []string) map[string]any {
	m := map[string]any{
		"name": truncate(ck.Name, 128), "set_by": setBy, "secure": ck.Secure, "httponly": ck.HttpOnly,
		"samesite": ck.SameSite, "persistent": ck.Persistent, "session_like": sessionLike(ck.Name),
	}
	if ck.SameSiteRaw != "" {
		m["samesite_invalid"] = ck.SameSiteRaw
	}
	if ck.Domain != "" {
		m["domain"] = ck.Domain
	}
	if ck.Path != "" {
		m["path"] = ck.Path
	}
	if ck.Partitioned {
		m["partitioned"] = true
	}
	if len(problems) > 0 {
		m["problems"] = problems
	}
	if len(notes) > 0 {
		m["notes"] = notes
	}
	return m
}

// --- http.cors.permissive -------------------------------------------------------------------

// corsPermissive fails a server that echoes a foreign Origin (so any site may read its
// answers), or that allows credentials with any origin: with the echo, with *, which
// browsers refuse but which shows the intent, or with null, which any page can obtain from a
// sandboxed frame. Access-Control-Allow-Origin: * without credentials is how public resources
// are shared and passes. Under Grading.CORSUniversalOnly only the echo with credentials fails.
func (pol Grading) corsPermissive(o Observation) check.Result {
	return pol.worst(o, func(e Endpoint) verdict {
		p := e.CORS
		ev := map[string]any{"url": p.URL, "origin_sent": p.Origin, "method": "GET"}
		if p.Failure != nil {
			ev["failure"] = p.Failure
			return errored(
				fmt.Sprintf("Yêu cầu thăm dò CORS tới %s không nhận được trả lời: %s.", p.URL, p.Failure.Describe().VI),
				fmt.Sprintf("The CORS probe of %s got no answer: %s.", p.URL, p.Failure.Message), ev)
		}
		ev["response"] = response(Hop{URL: p.URL, Status: p.Status, Header: p.Header},
			"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Vary")
		acao := strings.Trim(p.Header.Get("Access-Control-Allow-Origin"), " \t")
		creds := strings.EqualFold(strings.Trim(p.Header.Get("Access-Control-Allow-Credentials"), " \t"), "true")
		reflected := strings.EqualFold(acao, p.Origin)
		if pol.CORSUniversalOnly && !(reflected && creds) {
			ev["rule"] = "only an echoed origin with credentials fails"
			return pass(
				fmt.Sprintf("Máy chủ không vừa lặp lại nguồn gốc lạ vừa cho phép thông tin xác thực (Access-Control-Allow-Origin: %q); hồ sơ %s chỉ đánh trượt trường hợp đó.", truncate(acao, 200), pol.Profile),
				fmt.Sprintf("The server does not both echo the foreign origin and allow credentials (Access-Control-Allow-Origin: %q); the %s profile fails only that.", truncate(acao, 200), pol.Profile), ev)
		}
		switch {
		case reflected && creds:
			return fail(
				fmt.Sprintf("Máy chủ lặp lại nguồn gốc lạ %s trong Access-Control-Allow-Origin và cho phép gửi kèm thông tin xác thực: bất kỳ trang nào cũng đọc được dữ liệu của người dùng đang đăng nhập.", p.Origin),
				fmt.Sprintf("The server echoes the foreign origin %s in Access-Control-Allow-Origin and allows credentials: any site can read a signed-in user's data.", p.Origin), ev)
		case reflected:
			return fail(
				fmt.Sprintf("Máy chủ lặp lại nguồn gốc lạ %s trong Access-Control-Allow-Origin, tức là chấp nhận mọi nguồn gốc.", p.Origin),
				fmt.Sprintf("The server echoes the foreign origin %s in Access-Control-Allow-Origin, so it accepts any origin.", p.Origin), ev)
		case acao == "*" && creds:
			return fail(
				"Access-Control-Allow-Origin: * đi kèm Access-Control-Allow-Credentials: true. Trình duyệt từ chối tổ hợp này, nhưng nó cho thấy ý định chia sẻ dữ liệu có xác thực với mọi trang.",
				"Access-Control-Allow-Origin: * comes with Access-Control-Allow-Credentials: true. Browsers refuse the pair, but it shows the intent to share credentialed data with every site.", ev)
		case acao == "null" && creds:
			return fail(
				"Access-Control-Allow-Origin: null kèm thông tin xác thực: bất kỳ trang nào cũng có được nguồn gốc null qua iframe sandbox.",
				"Access-Control-Allow-Origin: null with credentials: any site can obtain the null origin from a sandboxed frame.", ev)
		case acao == "":
			return pass("Máy chủ không cấp quyền CORS cho nguồn gốc lạ.", "The server grants no CORS access to a foreign origin.", ev)
		case acao == "*":
			return pass("Access-Control-Allow-Origin: * không kèm thông tin xác thực: tài nguyên công khai.", "Access-Control-Allow-Origin: * without credentials: a public resource.", ev)
		}
		return pass(
			fmt.Sprintf("CORS chỉ cho phép nguồn gốc %s, không phải nguồn gốc lạ đã gửi.", truncate(acao, 200)),
			fmt.Sprintf("CORS allows only %s, not the foreign origin sent.", truncate(acao, 200)), ev)
	})
}

// --- http.version_disclosure ----------------------------------------------------------------

// bannerHeaders are the headers servers and frameworks announce themselves in.
var bannerHeaders = []string{"Server", "X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version"}

// versionRE finds a version number: "1.18", "7.4.3", or a bare major after a slash ("nginx/1").
var versionRE = regexp.MustCompile(`\d+\.\d+|/v?\d+\b`)

// Disclosure is one banner that names a version.
type Disclosure struct {
	Header string `json:"header"`
	Value  string `json:"value"`
	URL    string `json:"url"`
}

// FindVersions returns the banner headers of h that disclose a version number. A bare product
// name ("nginx", "Apache") is not a disclosure; X-AspNet-Version holds nothing but a version.
func FindVersions(h http.Header) (disclosed, seen []Disclosure) {
	for _, name := range bannerHeaders {
		for _, v := range h.Values(name) {
			d := Disclosure{Header: name, Value: truncate(v, 200)}
			seen = append(seen, d)
			if versionRE.MatchString(v) || strings.HasPrefix(name, "X-AspNet") && strings.ContainsAny(v, "0123456789") {
				disclosed = append(disclosed, d)
			}
		}
	}
	return disclosed, seen
}

func (pol Grading) versionDisclosure(o Observation) check.Result {
	return pol.worst(o, func(e Endpoint) verdict {
		var disclosed, seen []Disclosure
		add := func(url string, h http.Header) {
			d, s := FindVersions(h)
			for _, x := range d {
				x.URL = url
				if !slices.ContainsFunc(disclosed, func(y Disclosure) bool { return y.Header == x.Header && y.Value == x.Value }) {
					disclosed = append(disclosed, x)
				}
			}
			for _, x := range s {
				x.URL = url
				if !slices.ContainsFunc(seen, func(y Disclosure) bool { return y.Header == x.Header && y.Value == x.Value }) {
					seen = append(seen, x)
				}
			}
		}
		for _, c := range []Chain{e.HTTPS, e.HTTP} {
			for _, h := range c.Hops {
				add(h.URL, h.Header)
			}
		}
		if e.CORS.Failure == nil {
			add(e.CORS.URL, e.CORS.Header)
		}
		ev := map[string]any{"banners": seen}
		if len(disclosed) > 0 {
			ev["disclosed"] = disclosed
			var s []string
			for _, d := range disclosed {
				s = append(s, d.Header+": "+d.Value)
			}
			return fail(
				"Tiêu đề phản hồi để lộ phiên bản phần mềm, giúp kẻ tấn công chọn lỗ hổng đã biết: "+strings.Join(s, "; ")+".",
				"Response headers disclose software versions, which lets attackers pick known vulnerabilities: "+strings.Join(s, "; ")+".", ev)
		}
		return pass("Không tiêu đề nào để lộ số phiên bản phần mềm.", "No header discloses a software version number.", ev)
	})
}

// --- http.mixed_content ---------------------------------------------------------------------

func (pol Grading) mixedContent(o Observation) check.Result {
	return pol.worst(o, func(e Endpoint) verdict {
		hop, page, _ := e.graded()
		ev := map[string]any{"url": hop.URL, "status": hop.Status}
		if !strings.HasPrefix(hop.URL, "https:") {
			return notApplicable(
				fmt.Sprintf("Trang %s không được phục vụ qua HTTPS nên không có khái niệm nội dung hỗn hợp.", hop.URL),
				fmt.Sprintf("The page %s is not served over HTTPS, so mixed content does not arise.", hop.URL), ev)
		}
		if page == nil || page.HTML == nil {
			if page != nil {
				ev["content_type"] = page.ContentType
			}
			return notApplicable(
				fmt.Sprintf("Phản hồi tại %s không phải trang HTML.", hop.URL),
				fmt.Sprintf("The answer at %s is not an HTML page.", hop.URL), ev)
		}
		d := page.HTML
		ev["sha256"], ev["bytes"], ev["subresources"] = page.SHA256, page.Bytes, d.Subresources
		if page.Truncated {
			ev["truncated"] = true
		}
		var active, passive []Subresource
		for _, s := range d.Insecure {
			if s.Active {
				active = append(active, s)
			} else {
				passive = append(passive, s)
			}
		}
		if len(passive) > 0 {
			ev["passive_http"] = passive
		}
		if len(active) > 0 {
			ev["active_http"] = active
		}
		upgrade := ""
		for _, p := range cspOf(e).policies {
			for _, n := range []string{"upgrade-insecure-requests", "block-all-mixed-content"} {
				if p.Has(n) {
					upgrade = n
				}
			}
		}
		switch {
		case len(active) > 0 && upgrade != "":
			ev["csp_directive"] = upgrade
			return pass(
				fmt.Sprintf("Trang tham chiếu %d tài nguyên chủ động qua HTTP nhưng CSP %s khiến trình duyệt không tải chúng qua HTTP.", len(active), upgrade),
				fmt.Sprintf("The page references %d active resources over HTTP, but CSP %s stops browsers loading them over HTTP.", len(active), upgrade), ev)
		case len(active) > 0:
			return fail(
				fmt.Sprintf("Trang HTTPS %s tải %d script, style hoặc frame qua HTTP không mã hóa, ví dụ %s.", hop.URL, len(active), active[0].URL),
				fmt.Sprintf("The HTTPS page %s loads %d scripts, styles or frames over plain HTTP, for example %s.", hop.URL, len(active), active[0].URL), ev)
		case len(passive) > 0:
			return pass(
				fmt.Sprintf("Không có script, style hay frame qua HTTP; %d ảnh hoặc media qua HTTP được ghi nhận (nội dung thụ động).", len(passive)),
				fmt.Sprintf("No script, style or frame over HTTP; %d images or media over HTTP are noted (passive content).", len(passive)), ev)
		}
		return pass("Trang HTTPS không tải tài nguyên nào qua HTTP.", "The HTTPS page loads nothing over plain HTTP.", ev)
	})
}
