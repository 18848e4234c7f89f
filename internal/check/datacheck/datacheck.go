// Package datacheck is the data family of the external posture engine: it looks for
// Vietnamese personal data (data.pii.public), state-secret markings (data.classified.public)
// and credentials — private keys, API keys and tokens, JWTs, passwords in connection strings
// and configuration (data.secret.public) — on the public pages of a web resource.
//
// It observes the way a visitor would, which is why the family is passive: one bounded crawl
// of the same site (by default two links deep, 50 pages and 20 scripts), at most two requests
// at a time, obeying robots.txt for Khiên's user agent, every connection through the
// scope-guarded dialer. HTML is reduced to its text with blocks on their own lines (a stamp is a stamp
// because it stands alone); plain text, CSV and JSON are read as they are. Credentials are
// looked for in the page source, scripts and comments included, since that is where they
// leak, and in the same-site scripts and source maps the pages load (scripts.go). The detect
// package finds and validates the values. Evidence keeps, per page, counts, masked samples and
// keyed hashes, never a full value, so a finding can be checked and disputed without the
// store becoming a second leak.
package datacheck

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/detect"
)

// Config bounds the crawl and sets the thresholds. Zero fields take the defaults.
type Config struct {
	MaxDepth int           // links followed from the start page (default 2)
	MaxPages int           // pages fetched per resource (default 50)
	MaxBody  int64         // bytes read of each body (default 2 MiB)
	Budget   time.Duration // time for the whole crawl of one resource (default 2 minutes)
	// MaxScripts bounds the same-site scripts and source maps fetched per resource, apart
	// from MaxPages (default 20); they are scanned for credentials only (see scripts.go).
	MaxScripts int
	// MaxMapBody bounds the bytes read of one external source map (default 32 MiB). A map is
	// read as a stream, one original file in memory at a time, so it is not held to MaxBody;
	// each original file still is, and one larger is skipped and counted.
	MaxMapBody int64
	// Key keys the evidence hashes so the same value is recognized across pages, resources
	// and scans. Without one, the family draws a key that lasts as long as it does.
	Key []byte
	// Detect sets the thresholds per page: distinct values, strong confidence (detect's
	// defaults: 3 distinct values or one labelled value or stamp). Its Key is ignored.
	Detect detect.Options
}

func (c Config) withDefaults() Config {
	if c.MaxDepth <= 0 {
		c.MaxDepth = 2
	}
	if c.MaxPages <= 0 {
		c.MaxPages = 50
	}
	if c.MaxScripts <= 0 {
		c.MaxScripts = 20
	}
	if c.MaxBody <= 0 {
		c.MaxBody = 2 << 20
	}
	if c.MaxMapBody <= 0 {
		c.MaxMapBody = 32 << 20
	}
	if c.Budget <= 0 {
		c.Budget = 2 * time.Minute
	}
	return c
}

type family struct {
	cfg Config
	key []byte
}

// Family returns the data family configured by cfg.
func Family(cfg Config) check.Family[Observation] {
	f := &family{cfg: cfg.withDefaults(), key: cfg.Key}
	if len(f.key) == 0 {
		f.key = make([]byte, 32)
		_, _ = rand.Read(f.key) // crypto/rand.Read never fails
	}
	return check.Family[Observation]{
		Name:    "data",
		Applies: applies,
		Observe: f.observe,
		Checks: []check.Check[Observation]{
			{ID: "data.pii.public", Evaluate: piiPublic},
			{ID: "data.classified.public", Evaluate: classifiedPublic},
			{ID: "data.secret.public", Evaluate: secretPublic},
		},
	}
}

// label names what detector id finds, for reasons people read.
func label(id string) check.Text {
	switch id {
	case detect.CitizenID:
		return check.Text{VI: "số CCCD/định danh cá nhân", EN: "citizen ID numbers"}
	case detect.OldID:
		return check.Text{VI: "số CMND", EN: "old identity card numbers"}
	case detect.Phone:
		return check.Text{VI: "số điện thoại di động", EN: "mobile numbers"}
	case detect.TaxCode:
		return check.Text{VI: "mã số thuế", EN: "tax codes"}
	case detect.MarkMat:
		return check.Text{VI: "MẬT", EN: "MẬT (secret)"}
	case detect.MarkToiMat:
		return check.Text{VI: "TỐI MẬT", EN: "TỐI MẬT (top secret)"}
	case detect.MarkTuyet:
		return check.Text{VI: "TUYỆT MẬT", EN: "TUYỆT MẬT (most secret)"}
	}
	if l, ok := secretLabel(id); ok {
		return l
	}
	return check.Text{VI: id, EN: id}
}

// maxEvidencePages bounds the pages listed in evidence; the counts cover them all.
const maxEvidencePages = 20

// pageEvidence is what a result keeps of one page: where, and the findings of the check's
// detectors, masked.
type pageEvidence struct {
	URL      string           `json:"url"`
	Depth    int              `json:"depth"`
	From     string           `json:"from,omitempty"`   // for a script, the page loading it
	Source   string           `json:"source,omitempty"` // for a source map, the original file
	Findings []detect.Finding `json:"findings"`
}

// evidenceOf is what the evidence keeps of page p and its findings fs. The URLs and the
// source-map file name come from the site, so they are kept masked and bounded too: a
// same-site "/app.js?key=…" must not put the key into the evidence the reason says is masked.
func evidenceOf(p Page, fs []detect.Finding) pageEvidence {
	return pageEvidence{URL: maskURL(p.URL), Depth: p.Depth, From: maskURL(p.From), Source: bounded(p.Source, 200), Findings: fs}
}

// maskURL masks the password of u's user information and every query value longer than
// 12 characters (an id or a page number stays readable; a token does not), keeping the first
// four characters so that a person can still tell values apart.
func maskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return bounded(s, 200)
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "***")
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k, vs := range q {
			for i, v := range vs {
				if r := []rune(v); len(r) > 12 {
					vs[i] = string(r[:4]) + "***"
				}
			}
			q[k] = vs
		}
		u.RawQuery = q.Encode()
	}
	return bounded(u.String(), 500)
}

// bounded cuts s to at most n runes, marking the cut.
func bounded(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func piiPublic(o Observation) check.Result { return evaluate(o, detect.ClassPersonal) }

func classifiedPublic(o Observation) check.Result { return evaluate(o, detect.ClassStateSecret) }

func secretPublic(o Observation) check.Result { return evaluate(o, detect.ClassSecret) }

// evaluate fails a check when a page holds a reportable finding of a detector of class: the
// personal-data detectors, the state-secret markings or the credentials. The threshold is per
// page: a phone number repeated in every footer is one value on each page; one credential
// is enough (see secretReportable).
func evaluate(o Observation, class detect.Class) check.Result {
	markings := class == detect.ClassStateSecret
	what := check.Text{VI: "dữ liệu cá nhân", EN: "personal data"}
	switch class {
	case detect.ClassStateSecret:
		what = check.Text{VI: "dấu chỉ độ mật", EN: "state-secret markings"}
	case detect.ClassSecret:
		what = check.Text{VI: "thông tin xác thực bí mật", EN: "credentials"}
	}
	ev := map[string]any{
		"start":         o.Start,
		"robots":        o.Robots,
		"max_depth":     o.MaxDepth,
		"max_pages":     o.MaxPages,
		"pages_fetched": len(o.Pages),
		"skipped":       o.Skipped,
	}
	if o.Stopped != "" {
		ev["stopped"] = o.Stopped
	}
	if len(o.Tried) > 0 {
		ev["tried"] = o.Tried
	}
	var (
		scanned     int
		scripts     int // scripts and source maps scanned
		leaking     []pageEvidence
		below       []pageEvidence
		leakingN    int                 // pages and scripts with a reportable finding
		leakingURLs = map[string]bool{} // a map and its original files are one script
		distinct    = map[string]int{}  // detector → most distinct values on one page
		order       []string
		statusCount = map[int]int{}
	)
	// Scripts are scanned for credentials only, so only the credential check reads them.
	all := o.Pages
	if class == detect.ClassSecret && len(o.Scripts) > 0 {
		all = append(slices.Clone(o.Pages), o.Scripts...)
	}
	fetchedScripts := 0
	for i, p := range all {
		script := i >= len(o.Pages)
		if !script {
			statusCount[p.Status]++
		} else if p.Source == "" {
			fetchedScripts++
		}
		if !p.Scanned {
			continue
		}
		if !script {
			scanned++
		} else if p.Source == "" { // an original file of a map is not one more script
			scripts++
		}
		var fs []detect.Finding
		reportable := false
		for _, f := range p.Report.Findings {
			if detect.ClassOf(f.Detector) != class {
				continue
			}
			if class == detect.ClassSecret {
				f.Reportable = secretReportable(f)
			}
			fs = append(fs, f)
			reportable = reportable || f.Reportable
		}
		switch {
		case reportable:
			if !leakingURLs[p.URL] {
				leakingURLs[p.URL] = true
				leakingN++
			}
			for _, f := range fs {
				if !f.Reportable {
					continue
				}
				if _, ok := distinct[f.Detector]; !ok {
					order = append(order, f.Detector)
				}
				distinct[f.Detector] = max(distinct[f.Detector], f.Distinct)
			}
			if len(leaking) < maxEvidencePages {
				leaking = append(leaking, evidenceOf(p, fs))
			}
		case len(fs) > 0 && len(below) < maxEvidencePages:
			below = append(below, evidenceOf(p, fs))
		}
	}
	ev["pages_scanned"] = scanned
	if class == detect.ClassSecret {
		ev["max_scripts"] = o.MaxScripts
		ev["scripts_fetched"] = fetchedScripts
		ev["scripts_scanned"] = scripts
	}
	ev["statuses"] = statusCount
	if len(below) > 0 {
		ev["below_threshold"] = below
	}
	res := check.Result{Endpoint: o.Start, Evidence: ev}
	switch {
	case leakingN > 0:
		ev["pages"] = leaking
		ev["pages_with_findings"] = leakingN
		var vi, en []string
		for _, id := range order {
			l := label(id)
			vi = append(vi, fmt.Sprintf("%s (đến %d giá trị khác nhau trên một trang)", l.VI, distinct[id]))
			en = append(en, fmt.Sprintf("%s (up to %d distinct values on a page)", l.EN, distinct[id]))
		}
		if class == detect.ClassSecret {
			res.Status = check.Fail
			res.Reason = check.Text{
				VI: fmt.Sprintf("Phát hiện %s trên %d trang hoặc tệp script công khai (trong %d trang, kể cả mã nguồn trang, và %d script hoặc source map cùng trang web đã quét): %s. Coi như đã lộ: thu hồi và thay ngay. Bằng chứng chỉ lưu giá trị đã che và mã băm.",
					what.VI, leakingN, scanned, scripts, strings.Join(vi, ", ")),
				EN: fmt.Sprintf("Found %s on %d public page(s) or script(s) (of %d pages, page source included, and %d same-site scripts or source maps scanned): %s. Treat them as leaked: revoke and replace them now. Evidence keeps masked values and hashes only.",
					what.EN, leakingN, scanned, scripts, strings.Join(en, ", ")),
			}
			return res
		}
		if !markings {
			res.Status = check.Fail
			res.Reason = check.Text{
				VI: fmt.Sprintf("Phát hiện %s trên %d trang công khai (trong %d trang đã quét): %s. Bằng chứng chỉ lưu giá trị đã che và mã băm.",
					what.VI, leakingN, scanned, strings.Join(vi, ", ")),
				EN: fmt.Sprintf("Found %s on %d public page(s) (of %d scanned): %s. Evidence keeps masked values and hashes only.",
					what.EN, leakingN, scanned, strings.Join(en, ", ")),
			}
			return res
		}
		var vm, em []string
		for _, id := range order {
			vm = append(vm, label(id).VI)
			em = append(em, label(id).EN)
		}
		res.Status = check.Fail
		res.Reason = check.Text{
			VI: fmt.Sprintf("Phát hiện dấu chỉ độ mật %s trên %d trang công khai (trong %d trang đã quét); tài liệu mang dấu mật không được đưa lên mạng công khai.",
				strings.Join(vm, ", "), leakingN, scanned),
			EN: fmt.Sprintf("Found the state-secret marking %s on %d public page(s) (of %d scanned); marked documents must not be published.",
				strings.Join(em, ", "), leakingN, scanned),
		}
		return res
	case scanned == 0:
		res.Status = check.NotApplicable
		why := check.Text{VI: "không trang nào trả về văn bản đọc được", EN: "no page returned readable text"}
		if o.Skipped.Robots > 0 && len(o.Pages) == 0 {
			why = check.Text{VI: "robots.txt không cho phép thu thập (" + o.Robots + ")",
				EN: "robots.txt disallows crawling (" + o.Robots + ")"}
		}
		res.Reason = check.Text{
			VI: fmt.Sprintf("Không quét được trang nào để tìm %s: %s (%d trang đã tải).", what.VI, why.VI, len(o.Pages)),
			EN: fmt.Sprintf("No page could be scanned for %s: %s (%d page(s) fetched).", what.EN, why.EN, len(o.Pages)),
		}
		return res
	}
	res.Status = check.Pass
	if class == detect.ClassSecret {
		res.Reason = check.Text{
			VI: fmt.Sprintf("Không phát hiện khóa riêng, khóa API, token hay mật khẩu trong mã nguồn %d trang và %d tệp script hoặc source map cùng trang web đã quét (độ sâu %d liên kết, tối đa %d trang và %d script); chỉ các trang thu thập được và script chúng nạp từ chính trang web mới được xem xét, không xét script trên trang web khác.",
				scanned, scripts, o.MaxDepth, o.MaxPages, o.MaxScripts),
			EN: fmt.Sprintf("No private key, API key, token or password in the source of %d scanned page(s) and %d same-site script(s) or source map(s) (%d links deep, at most %d pages and %d scripts); only the pages crawled and the scripts they load from the same site were examined, not scripts on other sites.",
				scanned, scripts, o.MaxDepth, o.MaxPages, o.MaxScripts),
		}
		return res
	}
	if markings {
		res.Reason = check.Text{
			VI: fmt.Sprintf("Không phát hiện dấu chỉ độ mật (MẬT, TỐI MẬT, TUYỆT MẬT) trên %d trang đã quét (độ sâu %d liên kết, tối đa %d trang); chỉ các trang thu thập được mới được xem xét.",
				scanned, o.MaxDepth, o.MaxPages),
			EN: fmt.Sprintf("No state-secret marking (MẬT, TỐI MẬT, TUYỆT MẬT) on %d scanned page(s) (%d links deep, at most %d pages); only the pages crawled were examined.",
				scanned, o.MaxDepth, o.MaxPages),
		}
		return res
	}
	res.Reason = check.Text{
		VI: fmt.Sprintf("Không phát hiện %s vượt ngưỡng trên %d trang đã quét (độ sâu %d liên kết, tối đa %d trang); chỉ các trang thu thập được mới được xem xét.",
			what.VI, scanned, o.MaxDepth, o.MaxPages),
		EN: fmt.Sprintf("No %s above the threshold on %d scanned page(s) (%d links deep, at most %d pages); only the pages crawled were examined.",
			what.EN, scanned, o.MaxDepth, o.MaxPages),
	}
	return res
}
