package exposure

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"mime"
	"strings"

	"github.com/khien-vn/khien/internal/check"
)

// kindText names what each path check looks for, in reasons.
var kindText = map[kind]check.Text{
	kindGit:     {VI: "kho mã nguồn Git (/.git/)", EN: "Git repository (/.git/)"},
	kindEnv:     {VI: "tệp .env hoặc bản sao tệp cấu hình", EN: ".env file or configuration backup"},
	kindBackup:  {VI: "tệp sao lưu hoặc bản kết xuất cơ sở dữ liệu", EN: "backup archive or database dump"},
	kindListing: {VI: "trang liệt kê thư mục", EN: "directory listing"},
	kindAdmin:   {VI: "giao diện quản trị", EN: "administration interface"},
}

// verdict is one probed path judged against its endpoint's soft-404 page.
type verdict struct {
	Match      string  // the content signature found, "" when none
	Similarity float64 // to the soft-404 baseline, 0 to 1
	Hit        bool    // the signature is there and the body is not the soft-404 page
	SetAside   string  // why a signature match was not counted
}

func judge(k kind, base response, p probe) verdict {
	v := verdict{Similarity: p.Similarity}
	if p.Resp.Err != "" {
		return v
	}
	v.Match = signature(k, p.Path, p.Resp)
	switch {
	case v.Match == "":
	case base.Status == p.Resp.Status && v.Similarity == 1:
		v.SetAside = "same as the soft-404 page"
	case v.Similarity >= softThreshold:
		v.SetAside = fmt.Sprintf("%.2f similar to the soft-404 page", v.Similarity)
	default:
		v.Hit = true
	}
	return v
}

// pathCheck judges every probe of kind k on every endpoint; the worst endpoint decides.
func pathCheck(k kind) func(observation) check.Result {
	return func(o observation) check.Result {
		var (
			status     check.Status
			eps        []any
			hits       []string
			firstHit   string
			problems   []string
			problemsVI []string
			paths      int
		)
		for _, e := range o.Web {
			ev, ok := endpointEvidence(e)
			eps = append(eps, ev)
			if !ok {
				if e.State == webError {
					status = worst(status, check.Error)
					problems = append(problems, e.label()+": "+e.Err)
					problemsVI = append(problemsVI, e.label()+": "+whyVI(e.why))
				}
				continue
			}
			epStatus := check.Pass
			var probes []any
			for _, p := range e.Probes {
				if p.Kind != k {
					continue
				}
				paths++
				v := judge(k, e.Baseline, p)
				pe := responseEvidence(p.Resp)
				pe["similarity"] = round3(v.Similarity)
				if v.Match != "" {
					pe["signature"] = v.Match
				}
				if v.SetAside != "" {
					pe["set_aside"] = v.SetAside
				}
				switch {
				case v.Hit:
					epStatus = check.Fail
					pe["exposed"] = true
					hits = append(hits, fmt.Sprintf("%s [%s]", p.Resp.URL, v.Match))
					if firstHit == "" {
						firstHit = p.Resp.URL
					}
				case p.Resp.Err != "":
					epStatus = worst(epStatus, check.Error)
					problems = append(problems, p.Resp.URL+": "+p.Resp.Err)
					problemsVI = append(problemsVI, p.Resp.URL+": "+whyVI(p.Resp.why))
				}
				probes = append(probes, pe)
			}
			ev["probes"] = probes
			ev["verdict"] = string(epStatus)
			status = worst(status, epStatus)
		}
		evidence := map[string]any{"endpoints": eps, "tried": o.WebPorts}
		what := kindText[k]
		switch status {
		case "":
			return notApplicableWeb(o, evidence)
		case check.Fail:
			list := strings.Join(hits, "; ")
			return check.Result{Status: check.Fail, Endpoint: firstHit, Evidence: evidence, Reason: check.Text{
				VI: fmt.Sprintf("Phát hiện %s truy cập được từ bên ngoài: %s. Nội dung mang dấu hiệu của tệp thật (trong ngoặc) và khác trang báo lỗi 404 của trang web.", what.VI, list),
				EN: fmt.Sprintf("Found an exposed %s reachable from outside: %s. The content carries the real thing's signature (in brackets) and differs from the site's not-found page.", what.EN, list),
			}}
		case check.Error:
			list := strings.Join(firstN(problems, 3), "; ")
			return check.Result{Status: check.Error, Evidence: evidence, Reason: check.Text{
				VI: fmt.Sprintf("Không kiểm tra được hết các đường dẫn tìm %s: %s.", what.VI, strings.Join(firstN(problemsVI, 3), "; ")),
				EN: fmt.Sprintf("Could not check every path for a %s: %s.", what.EN, list),
			}}
		}
		return check.Result{Status: check.Pass, Evidence: evidence, Reason: check.Text{
			VI: fmt.Sprintf("Không tìm thấy %s: %d đường dẫn đã thử, không phản hồi nào có nội dung thật (chỉ có trang báo lỗi hoặc trang 404 giả).", what.VI, paths),
			EN: fmt.Sprintf("No %s found: %d paths were tried and none returned real content (only error or soft-404 pages).", what.EN, paths),
		}}
	}
}

// endpointEvidence describes an endpoint; ok says whether it was probed.
func endpointEvidence(e webEndpoint) (map[string]any, bool) {
	ev := map[string]any{"origin": e.Origin, "address": e.Addr, "state": e.State}
	switch e.State {
	case webOK:
		b := responseEvidence(e.Baseline)
		ev["soft404_baseline"] = b
		return ev, true
	case webRedirects:
		ev["location"] = e.Baseline.Location
	case webClosed, webError:
		ev["error"] = e.Err
	}
	return ev, false
}

func notApplicableWeb(o observation, evidence map[string]any) check.Result {
	return check.Result{Status: check.NotApplicable, Evidence: evidence, Reason: check.Text{
		VI: fmt.Sprintf("Không có máy chủ web nào trả lời trên %s (%s) nên không có đường dẫn nào để kiểm tra.", o.Host, o.WebPorts),
		EN: fmt.Sprintf("No web server answered on %s (%s), so there were no paths to check.", o.Host, o.WebPorts),
	}}
}

// responseEvidence is Appendix A's evidence for one path: URL, status, content type, length
// and the SHA-256 of the bytes read. Never the body itself: it may hold secrets.
func responseEvidence(r response) map[string]any {
	sum := sha256.Sum256(r.Body)
	ev := map[string]any{
		"url":    r.URL,
		"status": r.Status,
		"length": len(r.Body),
		"sha256": hex.EncodeToString(sum[:]),
	}
	if r.ContentType != "" {
		ev["content_type"] = r.ContentType
	}
	if r.Size >= 0 {
		ev["size"] = r.Size
	}
	if r.Encoding != "" {
		ev["content_encoding"] = r.Encoding
	}
	if r.Location != "" {
		ev["location"] = r.Location
	}
	if r.Authenticate != "" {
		ev["www_authenticate"] = r.Authenticate
	}
	if r.Err != "" {
		ev["error"] = r.Err
	}
	return ev
}

// whyVI is an error's Vietnamese as recorded with it, or a generic text for an error
// recorded without one (an observation built by hand, as the table tests do).
func whyVI(t check.Text) string {
	if t.VI == "" {
		return "lỗi kỹ thuật (chi tiết ở bằng chứng)"
	}
	return t.VI
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// securityTxtMissing passes when every web endpoint serves a security.txt with a Contact
// field that has not expired.
func securityTxtMissing(o observation) check.Result {
	var (
		status     check.Status
		eps        []any
		problems   []string
		problemsVI []string
		missing    []miss
		found      []string
		redirected []string
	)
	for _, e := range o.Web {
		ev, ok := endpointEvidence(e)
		eps = append(eps, ev)
		if !ok {
			if e.State == webError {
				status = worst(status, check.Error)
				problems = append(problems, e.label()+": "+e.Err)
				problemsVI = append(problemsVI, e.label()+": "+whyVI(e.why))
			}
			continue
		}
		for _, p := range e.Probes {
			if p.Kind != kindSecurityTxt {
				continue
			}
			pe := responseEvidence(p.Resp)
			ev["security_txt"] = pe
			if p.Resp.Err != "" {
				status = worst(status, check.Error)
				problems = append(problems, p.Resp.URL+": "+p.Resp.Err)
				problemsVI = append(problemsVI, p.Resp.URL+": "+whyVI(p.Resp.why))
				continue
			}
			if p.Resp.Status >= 300 && p.Resp.Status < 400 && p.Resp.Location != "" {
				// RFC 9116 lets the file be redirected; where it leads is another address,
				// assessed as its own resource, not read here.
				redirected = append(redirected, p.Resp.URL+" → "+p.Resp.Location)
				continue
			}
			st, why := judgeSecurityTxt(o, p)
			pe["similarity"] = round3(p.Similarity)
			if len(st.Contacts) > 0 {
				pe["contact"] = st.Contacts
			}
			if st.Expires != "" {
				pe["expires"] = st.Expires
			}
			if st.Signed {
				pe["signed"] = true
			}
			if why.EN != "" {
				pe["problem"] = why.EN
				status = worst(status, check.Fail)
				missing = append(missing, miss{p.Resp.URL, why})
				continue
			}
			switch {
			case st.Expires == "":
				pe["note"] = "no Expires field, which RFC 9116 requires"
			case st.ExpiresAt.IsZero():
				pe["note"] = "Expires is not an RFC 3339 date"
			}
			status = worst(status, check.Pass)
			found = append(found, p.Resp.URL)
		}
	}
	evidence := map[string]any{"endpoints": eps, "tried": o.WebPorts}
	switch {
	case status == "" && len(redirected) > 0:
		list := strings.Join(redirected, "; ")
		return check.Result{Status: check.NotApplicable, Evidence: evidence, Reason: check.Text{
			VI: "security.txt được chuyển hướng sang địa chỉ khác (" + list + "); địa chỉ đó được đánh giá như một tài nguyên riêng.",
			EN: "security.txt is redirected elsewhere (" + list + "); that address is assessed as a resource of its own.",
		}}
	case status == "":
		return notApplicableWeb(o, evidence)
	}
	switch status {
	case check.Fail:
		var vi, en []string
		for _, m := range missing {
			vi = append(vi, m.url+": "+m.why.VI)
			en = append(en, m.url+": "+m.why.EN)
		}
		return check.Result{Status: check.Fail, Endpoint: missing[0].url, Evidence: evidence, Reason: check.Text{
			VI: "Không có security.txt hợp lệ để tiếp nhận báo cáo lỗ hổng: " + strings.Join(vi, "; ") + ".",
			EN: "No valid security.txt to report vulnerabilities to: " + strings.Join(en, "; ") + ".",
		}}
	case check.Error:
		list := strings.Join(firstN(problems, 3), "; ")
		return check.Result{Status: check.Error, Evidence: evidence, Reason: check.Text{
			VI: "Không đọc được security.txt trên mọi điểm cuối: " + strings.Join(firstN(problemsVI, 3), "; ") + ".",
			EN: "Could not read security.txt on every endpoint: " + list + ".",
		}}
	}
	return check.Result{Status: check.Pass, Evidence: evidence, Reason: check.Text{
		VI: "Có security.txt với trường Contact còn hiệu lực tại " + strings.Join(found, ", ") + ".",
		EN: "A security.txt with a Contact field that has not expired is served at " + strings.Join(found, ", ") + ".",
	}}
}

// miss is an endpoint without a usable security.txt, and why.
type miss struct {
	url string
	why check.Text
}

// judgeSecurityTxt parses r and says what makes it unusable, if anything (an empty Text when
// it is valid). RFC 9116 requires text/plain, a Contact field and an Expires date not past.
func judgeSecurityTxt(o observation, p probe) (securityTxt, check.Text) {
	r := p.Resp
	if !ok2xx(r.Status) {
		return securityTxt{}, check.Text{
			VI: fmt.Sprintf("máy chủ trả về mã %d", r.Status),
			EN: fmt.Sprintf("the server answered status %d", r.Status),
		}
	}
	if p.Similarity >= softThreshold {
		return securityTxt{}, check.Text{
			VI: "nội dung chỉ là trang báo lỗi 404 giả của trang web",
			EN: "the content is only the site's soft-404 page",
		}
	}
	mt, _, _ := mime.ParseMediaType(r.ContentType)
	if mt == "text/html" || looksHTML(r.Body) {
		return securityTxt{}, check.Text{
			VI: "nội dung là trang HTML, không phải tệp văn bản text/plain",
			EN: "the content is an HTML page, not a text/plain file",
		}
	}
	st := parseSecurityTxt(r.Body)
	switch {
	case len(st.Contacts) == 0:
		return st, check.Text{
			VI: "tệp không có trường Contact bắt buộc",
			EN: "the file has no Contact field, which is required",
		}
	case !st.ExpiresAt.IsZero() && !st.ExpiresAt.After(o.At):
		return st, check.Text{
			VI: "tệp đã hết hạn (Expires: " + st.Expires + "), coi như không có",
			EN: "the file has expired (Expires: " + st.Expires + ") and counts as missing",
		}
	}
	return st, check.Text{}
}
