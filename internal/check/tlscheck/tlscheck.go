// Package tlscheck is the tls check family: which protocol versions and cipher suites a
// server accepts, whether it negotiates forward secrecy, and whether its certificate is in
// date, trusted, issued for the name, and made of a strong key and signature.
//
// Observation is built for cost and coverage. Go's crypto/tls cannot offer SSL 3.0, NULL,
// anonymous, EXPORT or DES suites, so each version is probed with hand-built ClientHellos and
// only the ServerHello is read. Accepted suites are enumerated by elimination: offer every
// suite Khiên knows for the version, remove the one the server picks, and ask again until it
// refuses, so a version costs (accepted suites + 1) connections rather than one per suite, and
// a weak suite the server accepts but never prefers is still found. One real crypto/tls
// handshake fetches the certificate chain, which Khiên verifies itself against env.Roots,
// keeping trust, host name and dates as separate verdicts.
//
// Every address of a name (A and AAAA, through env.Resolver) is an endpoint probed on its
// own, at most six connections at a time; the worst endpoint decides each check and every
// endpoint's evidence is kept. All connections go through env.Dial.
package tlscheck

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/check"
)

// Family returns the tls family graded by Khiên's own choices. It is passive: every hello is
// one an old or a modern client could send, and no handshake is pushed past its first answer
// except the one that fetches the certificate.
func Family() check.Family[Observation] { return FamilyWith(GradingFor(check.ProfileKhien)) }

// FamilyWith returns the tls family graded by pol. Observation is the same under every
// profile; only the verdicts differ.
func FamilyWith(pol Grading) check.Family[Observation] {
	return check.Family[Observation]{
		Name:          "tls",
		Active:        false,
		Applies:       applies,
		Observe:       observe,
		ErrorEvidence: map[string]any{"profile": string(pol.Profile)},
		Checks: []check.Check[Observation]{
			{ID: "tls.protocol.ssl3", Evaluate: pol.accepted(VersionSSL30)},
			{ID: "tls.protocol.tls10", Evaluate: pol.accepted(VersionTLS10)},
			{ID: "tls.protocol.tls11", Evaluate: pol.accepted(VersionTLS11)},
			{ID: "tls.protocol.no_tls13", Evaluate: pol.noTLS13},
			{ID: "tls.cipher.weak", Evaluate: pol.weakCiphers},
			{ID: "tls.cipher.no_forward_secrecy", Evaluate: pol.noForwardSecrecy},
			{ID: "tls.cert.expired", Evaluate: pol.certExpired},
			{ID: "tls.cert.expiring", Evaluate: pol.certExpiring},
			{ID: "tls.cert.untrusted", Evaluate: pol.certUntrusted},
			{ID: "tls.cert.hostname_mismatch", Evaluate: pol.certHostname},
			{ID: "tls.cert.weak_key", Evaluate: pol.certWeakKey},
			{ID: "tls.cert.weak_signature", Evaluate: pol.certWeakSignature},
		},
	}
}

// verdict is one check's judgement of one endpoint.
type verdict struct {
	status   check.Status
	vi, en   string
	evidence map[string]any
}

func pass(vi, en string, ev map[string]any) verdict { return verdict{check.Pass, vi, en, ev} }
func fail(vi, en string, ev map[string]any) verdict { return verdict{check.Fail, vi, en, ev} }
func errv(vi, en string, ev map[string]any) verdict { return verdict{check.Error, vi, en, ev} }
func na(vi, en string, ev map[string]any) verdict   { return verdict{check.NotApplicable, vi, en, ev} }

// rank orders verdicts from best to worst, so that the worst endpoint decides.
func rank(s check.Status) int {
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

// judge evaluates f on every endpoint that speaks TLS and returns the worst verdict with
// every endpoint's evidence. Endpoints that were refused or answered no TLS hello are not
// applicable; those whose probing failed are errors.
func (pol Grading) judge(o Observation, needCert bool, f func(e Endpoint) verdict) check.Result {
	if len(o.Endpoints) == 0 {
		return check.Result{Status: check.NotApplicable, Reason: check.Text{
			VI: "Không có địa chỉ nào để kiểm tra.", EN: "There is no address to assess."},
			Evidence: map[string]any{"profile": string(pol.Profile)}}
	}
	var (
		worst    = -1
		deciding int
		same     int
		evs      = make([]map[string]any, len(o.Endpoints))
		verdicts = make([]verdict, len(o.Endpoints))
	)
	for i, e := range o.Endpoints {
		v := precondition(e, needCert)
		if v == nil {
			vv := f(e)
			v = &vv
		}
		ev := endpointEvidence(e)
		for k, x := range v.evidence {
			ev[k] = x
		}
		ev["status"] = string(v.status)
		evs[i], verdicts[i] = ev, *v
		switch r := rank(v.status); {
		case r > worst:
			worst, deciding, same = r, i, 1
		case r == worst:
			same++
		}
	}
	d := verdicts[deciding]
	res := check.Result{
		Status:   d.status,
		Endpoint: o.Endpoints[deciding].Label(),
		Reason:   check.Text{VI: d.vi, EN: d.en},
		Evidence: map[string]any{"endpoints": evs, "deciding": o.Endpoints[deciding].Label(), "profile": string(pol.Profile)},
	}
	if n := len(o.Endpoints); n > 1 {
		res.Reason.VI += fmt.Sprintf(" (%d trên %d địa chỉ của %s có kết quả này.)", same, n, o.Host)
		res.Reason.EN += fmt.Sprintf(" (%d of %d addresses of %s are in this state.)", same, n, o.Host)
	}
	return res
}

// precondition returns the verdict for an endpoint no check can judge, or nil.
func precondition(e Endpoint, needCert bool) *verdict {
	l := e.Label()
	switch e.Reach {
	case Refused:
		v := na("Không có dịch vụ nào lắng nghe tại "+l+": kết nối bị từ chối.",
			"Nothing listens on "+l+": the connection was refused.", map[string]any{"error": e.Error})
		return &v
	case Unreachable:
		v := errv("Không kết nối được tới "+l+": "+vi(e.errorWhy)+".",
			"Could not connect to "+l+": "+e.Error, map[string]any{"error": e.Error})
		return &v
	}
	if !speaksTLS(e) {
		if errs := protocolErrors(e); len(errs) > 0 {
			v := errv("Không hoàn tất được việc dò giao thức tại "+l+": "+strings.Join(protocolErrorsVI(e), "; ")+".",
				"Could not finish probing the protocols of "+l+": "+strings.Join(errs, "; "),
				map[string]any{"errors": errs})
			return &v
		}
		v := na("Máy chủ "+l+" không chấp nhận bắt tay TLS ở phiên bản nào (SSL 3.0 đến TLS 1.3).",
			l+" completes no TLS handshake in any version (SSL 3.0 to TLS 1.3).", nil)
		return &v
	}
	if needCert && (e.Cert == nil || len(e.Cert.Chain) == 0) {
		v := errv("Không lấy được chứng thư số của "+l+": "+vi(e.certWhy)+".",
			"Could not obtain the certificate of "+l+": "+e.CertError, map[string]any{"error": e.CertError})
		return &v
	}
	return nil
}

func speaksTLS(e Endpoint) bool {
	if e.Cert != nil {
		return true
	}
	for _, p := range e.Protocols {
		if p.Accepted {
			return true
		}
	}
	return false
}

func protocolErrors(e Endpoint) []string {
	var out []string
	for _, p := range e.Protocols {
		if p.Error != "" {
			out = append(out, VersionName(p.Version)+": "+p.Error)
		}
	}
	return out
}

// protocolErrorsVI is protocolErrors in Vietnamese.
func protocolErrorsVI(e Endpoint) []string {
	var out []string
	for _, p := range e.Protocols {
		if p.Error != "" {
			out = append(out, VersionName(p.Version)+": "+vi(p.why))
		}
	}
	return out
}

func endpointEvidence(e Endpoint) map[string]any {
	ev := map[string]any{"endpoint": e.Label(), "ip": e.IP, "port": e.Port}
	if e.Name != "" {
		ev["name"] = e.Name
	}
	if e.SNI != "" {
		ev["sni"] = e.SNI
	}
	return ev
}

// --- protocols -----------------------------------------------------------------------------

func suiteNames(codes []uint16) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = SuiteName(c)
	}
	return out
}

func hexCodes(codes []uint16) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = fmt.Sprintf("%04x", c)
	}
	return strings.Join(s, ",")
}

// protocolEvidence is what one version's enumeration showed: enough to replay every hello.
func protocolEvidence(p Protocol) map[string]any {
	probes := make([]map[string]any, len(p.Probes))
	for i, pr := range p.Probes {
		probes[i] = map[string]any{"offered": pr.Offered, "hello_sha256": pr.HelloSHA256, "answer": pr.Answer}
	}
	ev := map[string]any{
		"protocol": VersionName(p.Version),
		"accepted": p.Accepted,
		"suites":   suiteNames(p.Suites),
		"offered":  hexCodes(p.Offered),
		"probes":   probes,
	}
	if p.Accepted {
		ev["secure_renegotiation"] = p.SecureRenegotiation
	}
	if p.Error != "" {
		ev["error"] = p.Error
	}
	return ev
}

// answerVI says a probe's answer (Probe.Answer) in Vietnamese: a ServerHello or an alert
// keeps its protocol names, which are the same in both languages.
func answerVI(a string) string {
	switch {
	case a == "none":
		return "không có"
	case a == "closed":
		return "máy chủ đóng kết nối"
	case a == "error: "+errNotTLS.Error():
		return "máy chủ không trả lời bằng TLS"
	case strings.HasPrefix(a, "error: "):
		return "lỗi (chi tiết ở bằng chứng)"
	case strings.HasPrefix(a, "alert "):
		return "cảnh báo " + strings.TrimPrefix(a, "alert ")
	}
	return a
}

// lastAnswer is the answer that ended an enumeration: the refusal, for a version not accepted.
func lastAnswer(p Protocol) string {
	if len(p.Probes) == 0 {
		return "none"
	}
	return p.Probes[len(p.Probes)-1].Answer
}

// accepted fails when an endpoint accepts version v.
func (pol Grading) accepted(v uint16) func(Observation) check.Result {
	name := VersionName(v)
	return func(o Observation) check.Result {
		return pol.judge(o, false, func(e Endpoint) verdict {
			p, l := e.Protocol(v), e.Label()
			ev := protocolEvidence(p)
			switch {
			case p.Accepted:
				return fail(
					fmt.Sprintf("%s chấp nhận %s với %d bộ mã hóa: %s.", l, name, len(p.Suites), strings.Join(suiteNames(p.Suites), ", ")),
					fmt.Sprintf("%s accepts %s with %d cipher suites: %s.", l, name, len(p.Suites), strings.Join(suiteNames(p.Suites), ", ")), ev)
			case p.Error != "":
				return errv(
					fmt.Sprintf("Không xác định được %s có chấp nhận %s hay không: %s.", l, name, vi(p.why)),
					fmt.Sprintf("Could not tell whether %s accepts %s: %s", l, name, p.Error), ev)
			}
			return pass(
				fmt.Sprintf("%s không chấp nhận %s (trả lời: %s).", l, name, answerVI(lastAnswer(p))),
				fmt.Sprintf("%s does not accept %s (answer: %s).", l, name, lastAnswer(p)), ev)
		})
	}
}

func (pol Grading) noTLS13(o Observation) check.Result {
	return pol.judge(o, false, func(e Endpoint) verdict {
		p, l := e.Protocol(VersionTLS13), e.Label()
		ev := protocolEvidence(p)
		switch {
		case p.Accepted:
			return pass(
				fmt.Sprintf("%s hỗ trợ TLS 1.3 (%s).", l, strings.Join(suiteNames(p.Suites), ", ")),
				fmt.Sprintf("%s offers TLS 1.3 (%s).", l, strings.Join(suiteNames(p.Suites), ", ")), ev)
		case p.Error != "":
			return errv(
				fmt.Sprintf("Không xác định được %s có hỗ trợ TLS 1.3 hay không: %s.", l, vi(p.why)),
				fmt.Sprintf("Could not tell whether %s offers TLS 1.3: %s", l, p.Error), ev)
		}
		return fail(
			fmt.Sprintf("%s không hỗ trợ TLS 1.3 (trả lời: %s).", l, answerVI(lastAnswer(p))),
			fmt.Sprintf("%s does not offer TLS 1.3 (answer: %s).", l, lastAnswer(p)), ev)
	})
}

// --- cipher suites -------------------------------------------------------------------------

func (pol Grading) weakCiphers(o Observation) check.Result {
	return pol.judge(o, false, func(e Endpoint) verdict {
		l := e.Label()
		var weak []map[string]any
		var names []string
		acceptedBy := map[string][]string{}
		for _, p := range e.Protocols {
			if !p.Accepted {
				continue
			}
			acceptedBy[VersionName(p.Version)] = suiteNames(p.Suites)
			for _, c := range p.Suites {
				s, ok := LookupSuite(c)
				if !ok || !s.Weak() {
					continue
				}
				weak = append(weak, map[string]any{"protocol": VersionName(p.Version), "suite": s.Name, "classes": s.Classes()})
				if !slices.Contains(names, s.Name) {
					names = append(names, s.Name)
				}
			}
		}
		ev := map[string]any{"accepted": acceptedBy}
		if len(weak) > 0 {
			ev["weak"] = weak
			return fail(
				fmt.Sprintf("%s chấp nhận %d bộ mã hóa yếu: %s.", l, len(names), strings.Join(names, ", ")),
				fmt.Sprintf("%s accepts %d weak cipher suites: %s.", l, len(names), strings.Join(names, ", ")), ev)
		}
		if errs := protocolErrors(e); len(errs) > 0 {
			ev["errors"] = errs
			return errv(
				fmt.Sprintf("Không dò hết được bộ mã hóa của %s: %s.", l, strings.Join(protocolErrorsVI(e), "; ")),
				fmt.Sprintf("Could not enumerate every cipher suite of %s: %s", l, strings.Join(errs, "; ")), ev)
		}
		return pass(
			fmt.Sprintf("%s không chấp nhận bộ mã hóa yếu nào (NULL, EXPORT, ẩn danh, RC4, DES, 3DES).", l),
			fmt.Sprintf("%s accepts no weak cipher suite (NULL, EXPORT, anonymous, RC4, DES, 3DES).", l), ev)
	})
}

// noForwardSecrecy fails when the suite a client offering everything gets, at the best
// version the endpoint accepts, has no ephemeral key exchange. The first hello of an
// enumeration offers every suite in a browser's order, so its answer is what browsers get.
func (pol Grading) noForwardSecrecy(o Observation) check.Result {
	return pol.judge(o, false, func(e Endpoint) verdict {
		l := e.Label()
		var fs []string
		var best *Protocol
		for i := range e.Protocols {
			p := &e.Protocols[i]
			if !p.Accepted {
				continue
			}
			best = p
			for _, c := range p.Suites {
				if s, ok := LookupSuite(c); ok && s.ForwardSecret() && !slices.Contains(fs, s.Name) {
					fs = append(fs, s.Name)
				}
			}
		}
		ev := map[string]any{"forward_secret_suites": fs}
		if best == nil {
			return na("Không có phiên bản giao thức nào được chấp nhận tại "+l+".", "No protocol version is accepted by "+l+".", ev)
		}
		for _, p := range e.Protocols {
			if p.Version > best.Version && p.Error != "" {
				ev["error"] = p.Error
				return errv(
					fmt.Sprintf("Không xác định được %s có hỗ trợ %s hay không: %s.", l, VersionName(p.Version), vi(p.why)),
					fmt.Sprintf("Could not tell whether %s accepts %s: %s", l, VersionName(p.Version), p.Error), ev)
			}
		}
		neg, _ := LookupSuite(best.Suites[0])
		ev["protocol"], ev["negotiated"] = VersionName(best.Version), SuiteName(best.Suites[0])
		if neg.ForwardSecret() {
			return pass(
				fmt.Sprintf("%s thương lượng %s với %s, có tính bí mật chuyển tiếp.", l, VersionName(best.Version), neg.Name),
				fmt.Sprintf("%s negotiates %s with %s, which has forward secrecy.", l, VersionName(best.Version), neg.Name), ev)
		}
		if len(fs) > 0 {
			return fail(
				fmt.Sprintf("%s thương lượng %s với %s, không có tính bí mật chuyển tiếp, dù có chấp nhận %s.", l, VersionName(best.Version), SuiteName(best.Suites[0]), strings.Join(fs, ", ")),
				fmt.Sprintf("%s negotiates %s with %s, without forward secrecy, although it accepts %s.", l, VersionName(best.Version), SuiteName(best.Suites[0]), strings.Join(fs, ", ")), ev)
		}
		return fail(
			fmt.Sprintf("%s không chấp nhận bộ mã hóa nào có tính bí mật chuyển tiếp (ECDHE/DHE); bộ được thương lượng là %s.", l, SuiteName(best.Suites[0])),
			fmt.Sprintf("%s accepts no cipher suite with forward secrecy (ECDHE/DHE); it negotiates %s.", l, SuiteName(best.Suites[0])), ev)
	})
}

// --- certificates --------------------------------------------------------------------------

// certEvidence is the served chain as hashes and dates, the key, and the verification.
func (pol Grading) certEvidence(o Observation, c *Cert) map[string]any {
	chain := make([]map[string]any, len(c.Chain))
	for i, ci := range c.Chain {
		chain[i] = map[string]any{
			"subject": ci.Subject, "issuer": ci.Issuer, "sha256": ci.SHA256,
			"not_before": ci.NotBefore.Format(time.RFC3339), "not_after": ci.NotAfter.Format(time.RFC3339),
			"signature_algorithm": ci.SignatureAlgorithm,
		}
	}
	ev := map[string]any{
		"chain":       chain,
		"key":         fmt.Sprintf("%s %d", c.KeyType, c.KeyBits),
		"via":         c.Via,
		"trust_store": o.TrustStore,
		"observed_at": o.At.Format(time.RFC3339),
	}
	if e := pol.verifyError(c); e != "" {
		ev["verify_error"] = e
	}
	if v := verifications(c); v != nil {
		ev["verifications"] = v
	}
	if c.HostError != "" {
		ev["host_error"] = c.HostError
	}
	return ev
}

// judged returns the certificates the date and signature checks look at: the leaf, and the
// intermediates the server sent unless the policy looks at the leaf only; a self-signed root
// in the chain is the trust store's business.
func (pol Grading) judged(c *Cert) []CertInfo {
	out := c.Chain[:1:1]
	if pol.LeafOnly {
		return out
	}
	for _, ci := range c.Chain[1:] {
		if !ci.SelfSigned && !ci.NotAfter.IsZero() {
			out = append(out, ci)
		}
	}
	return out
}

func role(i int) (vi, en string) {
	if i == 0 {
		return "Chứng thư số", "The certificate"
	}
	return "Chứng thư số trung gian", "The intermediate certificate"
}

func viDate(t time.Time) string { return t.UTC().Format("02/01/2006") }
func enDate(t time.Time) string { return t.UTC().Format("2006-01-02") }

func (pol Grading) certExpired(o Observation) check.Result {
	return pol.judge(o, true, func(e Endpoint) verdict {
		ev, l := pol.certEvidence(o, e.Cert), e.Label()
		for i, ci := range pol.judged(e.Cert) {
			rv, re := role(i)
			switch {
			case o.At.After(ci.NotAfter):
				return fail(
					fmt.Sprintf("%s %q của %s đã hết hạn ngày %s.", rv, ci.Subject, l, viDate(ci.NotAfter)),
					fmt.Sprintf("%s %q of %s expired on %s.", re, ci.Subject, l, enDate(ci.NotAfter)), ev)
			case o.At.Before(ci.NotBefore):
				return fail(
					fmt.Sprintf("%s %q của %s chưa có hiệu lực (từ ngày %s).", rv, ci.Subject, l, viDate(ci.NotBefore)),
					fmt.Sprintf("%s %q of %s is not valid before %s.", re, ci.Subject, l, enDate(ci.NotBefore)), ev)
			}
		}
		leaf := e.Cert.Chain[0]
		return pass(
			fmt.Sprintf("Chứng thư số của %s còn hiệu lực đến ngày %s.", l, viDate(leaf.NotAfter)),
			fmt.Sprintf("The certificate of %s is valid until %s.", l, enDate(leaf.NotAfter)), ev)
	})
}

func (pol Grading) certExpiring(o Observation) check.Result {
	return pol.judge(o, true, func(e Endpoint) verdict {
		ev, l := pol.certEvidence(o, e.Cert), e.Label()
		certs := pol.judged(e.Cert)
		soonest := 0
		for i, ci := range certs {
			if o.At.After(ci.NotAfter) || o.At.Before(ci.NotBefore) {
				return na(
					fmt.Sprintf("Chứng thư số của %s đã hết hạn hoặc chưa có hiệu lực; xem kiểm tra tls.cert.expired.", l),
					fmt.Sprintf("The certificate of %s has expired or is not yet valid; see tls.cert.expired.", l), ev)
			}
			if ci.NotAfter.Before(certs[soonest].NotAfter) {
				soonest = i
			}
		}
		ci := certs[soonest]
		left := ci.NotAfter.Sub(o.At)
		days := int(math.Ceil(left.Hours() / 24)) // what a calendar shows: 9.5 days left is "10 days"
		ev["days_left"] = days
		rv, re := role(soonest)
		ev["renew_within_days"] = int(pol.expiringWithin(ci.Issuer).Hours() / 24)
		if left < pol.expiringWithin(ci.Issuer) {
			return fail(
				fmt.Sprintf("%s %q của %s hết hạn ngày %s, chỉ còn %d ngày.", rv, ci.Subject, l, viDate(ci.NotAfter), days),
				fmt.Sprintf("%s %q of %s expires on %s, in %d days.", re, ci.Subject, l, enDate(ci.NotAfter), days), ev)
		}
		return pass(
			fmt.Sprintf("Chứng thư số của %s còn %d ngày trước khi hết hạn (%s).", l, days, viDate(ci.NotAfter)),
			fmt.Sprintf("The certificate of %s has %d days left (until %s).", l, days, enDate(ci.NotAfter)), ev)
	})
}

func (pol Grading) certUntrusted(o Observation) check.Result {
	return pol.judge(o, true, func(e Endpoint) verdict {
		ev, l := pol.certEvidence(o, e.Cert), e.Label()
		store, storeEN := "kho chứng thư gốc của hệ thống", "the system trust store"
		if o.TrustStore == "configured" {
			store, storeEN = "kho chứng thư gốc được cấu hình", "the configured trust store"
		}
		// How the chain was verified, when the profile differs from Khiên's own choices.
		var how, howEN []string
		if pol.TrustAtScanTime {
			how, howEN = append(how, "tại thời điểm quét"), append(howEN, "at the time of the scan")
		}
		if pol.AcceptSHA1 {
			how, howEN = append(how, "chấp nhận chữ ký SHA-1"), append(howEN, "with SHA-1 signatures accepted")
		}
		if len(how) > 0 {
			store += fmt.Sprintf(" (%s, theo hồ sơ %s)", strings.Join(how, ", "), pol.Profile)
			storeEN += fmt.Sprintf(" (%s, as the %s profile asks)", strings.Join(howEN, ", "), pol.Profile)
		}
		if verr := pol.verifyError(e.Cert); verr != "" {
			return fail(
				fmt.Sprintf("Chuỗi chứng thư số của %s không xác thực được với %s: chứng thư số %s.", l, store, VerifyErrorVI(verr)),
				fmt.Sprintf("The certificate chain of %s does not verify against %s: %s", l, storeEN, verr), ev)
		}
		return pass(
			fmt.Sprintf("Chuỗi chứng thư số của %s được xác thực với %s.", l, store),
			fmt.Sprintf("The certificate chain of %s verifies against %s.", l, storeEN), ev)
	})
}

func (pol Grading) certHostname(o Observation) check.Result {
	if !o.CheckName {
		return pol.judge(o, false, func(e Endpoint) verdict {
			return na("Tài nguyên là một địa chỉ IP, không có tên miền để đối chiếu với chứng thư số.",
				"The resource is an IP address: there is no host name to match the certificate against.", nil)
		})
	}
	return pol.judge(o, true, func(e Endpoint) verdict {
		ev, l := pol.certEvidence(o, e.Cert), e.Label()
		ev["host"], ev["dns_names"], ev["ip_addresses"] = o.Host, e.Cert.DNSNames, e.Cert.IPAddresses
		if e.Cert.HostError != "" {
			return fail(
				fmt.Sprintf("Chứng thư số của %s không dành cho %s (chứng thư số ghi: %s).", l, o.Host, strings.Join(append(e.Cert.DNSNames, e.Cert.IPAddresses...), ", ")),
				fmt.Sprintf("The certificate of %s does not cover %s (it names: %s).", l, o.Host, strings.Join(append(e.Cert.DNSNames, e.Cert.IPAddresses...), ", ")), ev)
		}
		return pass(
			fmt.Sprintf("Chứng thư số của %s dành cho %s.", l, o.Host),
			fmt.Sprintf("The certificate of %s covers %s.", l, o.Host), ev)
	})
}

func (pol Grading) certWeakKey(o Observation) check.Result {
	return pol.judge(o, true, func(e Endpoint) verdict {
		c, l := e.Cert, e.Label()
		ev := pol.certEvidence(o, c)
		minBits, maxBits := 0, 0
		switch c.KeyType {
		case "RSA", "DSA":
			minBits, maxBits = pol.MinRSABits, pol.MaxRSABits
		case "ECDSA":
			minBits = pol.MinECBits
		case "Ed25519":
		default:
			return errv(
				fmt.Sprintf("Không đánh giá được khóa %s của chứng thư số của %s.", c.KeyType, l),
				fmt.Sprintf("Khiên cannot judge the %s key of the certificate of %s.", c.KeyType, l), ev)
		}
		if c.KeyBits < minBits {
			return fail(
				fmt.Sprintf("Chứng thư số của %s dùng khóa %s %d bit, dưới mức tối thiểu %d bit.", l, c.KeyType, c.KeyBits, minBits),
				fmt.Sprintf("The certificate of %s has a %d-bit %s key, under the %d-bit minimum.", l, c.KeyBits, c.KeyType, minBits), ev)
		}
		if maxBits > 0 && c.KeyBits > maxBits {
			return fail(
				fmt.Sprintf("Chứng thư số của %s dùng khóa %s %d bit, lớn hơn mức %d bit mà hồ sơ %s chấp nhận (một số phần mềm không dùng được).", l, c.KeyType, c.KeyBits, maxBits, pol.Profile),
				fmt.Sprintf("The certificate of %s has a %d-bit %s key, over the %d bits the %s profile accepts (some software cannot use it).", l, c.KeyBits, c.KeyType, maxBits, pol.Profile), ev)
		}
		return pass(
			fmt.Sprintf("Chứng thư số của %s dùng khóa %s %d bit.", l, c.KeyType, c.KeyBits),
			fmt.Sprintf("The certificate of %s has a %d-bit %s key.", l, c.KeyBits, c.KeyType), ev)
	})
}

func (pol Grading) certWeakSignature(o Observation) check.Result {
	return pol.judge(o, true, func(e Endpoint) verdict {
		ev, l := pol.certEvidence(o, e.Cert), e.Label()
		for i, ci := range pol.judged(e.Cert) {
			if weakSignatures[ci.SignatureAlgorithm] {
				rv, re := role(i)
				return fail(
					fmt.Sprintf("%s %q của %s được ký bằng %s.", rv, ci.Subject, l, ci.SignatureAlgorithm),
					fmt.Sprintf("%s %q of %s is signed with %s.", re, ci.Subject, l, ci.SignatureAlgorithm), ev)
			}
		}
		return pass(
			fmt.Sprintf("Chứng thư số của %s được ký bằng %s.", l, e.Cert.Chain[0].SignatureAlgorithm),
			fmt.Sprintf("The certificate of %s is signed with %s.", l, e.Cert.Chain[0].SignatureAlgorithm), ev)
	})
}
