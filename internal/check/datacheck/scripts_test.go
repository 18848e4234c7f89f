package datacheck

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/detect"
	"github.com/khien-vn/khien/internal/lab/datalab"
)

// plantedAWS is an access key pair made for the tests, valid nowhere.
const plantedAWS = `AWS.config.update({accessKeyId: "AKIAZ7KQ2LMP4RT7VWXY", secretAccessKey: "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"});`

// hits counts the requests a test server received, by path.
type hits struct {
	mu sync.Mutex
	n  map[string]int
}

func (h *hits) add(p string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == nil {
		h.n = map[string]int{}
	}
	h.n[p]++
}

func (h *hits) total(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := 0
	for p, n := range h.n {
		if strings.HasPrefix(p, prefix) {
			t += n
		}
	}
	return t
}

// file is one body a test site serves; a contentType "redirect" redirects to body.
type file struct{ contentType, body string }

// serve starts a loopback server on host ("127.0.0.1", "127.0.0.2") answering files by path,
// {{foreign}} in a body replaced by foreign, and counting the requests.
func serve(t *testing.T, host string, files map[string]file, foreign string) (*httptest.Server, *hits) {
	t.Helper()
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatalf("listen on %s: %v", host, err)
	}
	h := &hits{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.add(r.URL.Path)
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if f.contentType == "redirect" {
			http.Redirect(w, r, f.body, http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", f.contentType)
		fmt.Fprint(w, strings.ReplaceAll(f.body, "{{foreign}}", foreign))
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, h
}

// foreignHost is a second loopback address for the other site, or the first (another port
// is another site too) where the system has only 127.0.0.1.
func foreignHost(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Logf("127.0.0.2 unavailable (%v): the other site is another port of 127.0.0.1", err)
		return "127.0.0.1"
	}
	ln.Close()
	return "127.0.0.2"
}

func inlineMap(source, content string) string {
	m := fmt.Sprintf(`{"version":3,"sources":[%q],"sourcesContent":[%q],"mappings":"AAAA"}`, source, content)
	return "data:application/json;charset=utf-8;base64," + base64.StdEncoding.EncodeToString([]byte(m))
}

// TestScripts checks which scripts the crawl reads for credentials: same-site ones (by
// <script src>, modulepreload, and their source maps), never another site's, never one
// robots.txt disallows, never an HTML answer.
func TestScripts(t *testing.T) {
	const js, html, jsonT = "application/javascript", "text/html; charset=utf-8", "application/json"
	page := func(head string) file {
		return file{html, "<html><head>" + head + "</head><body><p>Trang chủ</p></body></html>"}
	}
	tests := []struct {
		name    string
		files   map[string]file
		foreign map[string]file // the other site's files
		want    check.Status
		script  string // the script (path) a failure names
		source  string // and the original file, for a source map
		line    int    // and the line of the finding
	}{
		{"key in a same-site script",
			map[string]file{"/": page(`<script src="/static/app.js"></script>`), "/static/app.js": {js, "var a=1;\n" + plantedAWS}},
			nil, check.Fail, "/static/app.js", "", 2},
		{"key in a modulepreload chunk",
			map[string]file{"/": page(`<link rel="modulepreload" href="/assets/chunk-1a2b.js">`), "/assets/chunk-1a2b.js": {"text/javascript", plantedAWS}},
			nil, check.Fail, "/assets/chunk-1a2b.js", "", 1},
		{"key only in a cross-site script",
			map[string]file{"/": page(`<script src="http://{{foreign}}/cdn/app.js"></script>`)},
			map[string]file{"/cdn/app.js": {js, plantedAWS}}, check.Pass, "", "", 0},
		{"key in a source map",
			map[string]file{
				"/":                  page(`<script src="/static/app.min.js"></script>`),
				"/static/app.min.js": {js, "!function(){}();\n//# sourceMappingURL=app.min.js.map\n"},
				"/static/app.min.js.map": {jsonT, fmt.Sprintf(`{"version":3,"sources":["webpack://app/src/a.ts","webpack://app/src/aws.ts"],"sourcesContent":["export {}\n",%q],"mappings":"AAAA"}`,
					"// cấu hình\n\n"+plantedAWS)},
			},
			nil, check.Fail, "/static/app.min.js.map", "webpack://app/src/aws.ts", 3},
		{"key in an inline source map",
			map[string]file{
				"/":       page(`<script src="/app.js"></script>`),
				"/app.js": {js, "!function(){}();\n//# sourceMappingURL=" + inlineMap("src/cfg.js", plantedAWS) + "\n"},
			},
			nil, check.Fail, "/app.js", "src/cfg.js", 1},
		{"source map on another site",
			map[string]file{
				"/":       page(`<script src="/app.js"></script>`),
				"/app.js": {js, "!function(){}();\n//# sourceMappingURL=http://{{foreign}}/app.js.map\n"},
			},
			map[string]file{"/app.js.map": {jsonT, fmt.Sprintf(`{"version":3,"sources":["a.js"],"sourcesContent":[%q]}`, plantedAWS)}},
			check.Pass, "", "", 0},
		{"script disallowed by robots.txt",
			map[string]file{"/": page(`<script src="/private/app.js"></script>`), "/private/app.js": {js, plantedAWS},
				"/robots.txt": {"text/plain", "User-agent: *\nDisallow: /private/\n"}},
			nil, check.Pass, "", "", 0},
		{"script whose URL carries a key",
			map[string]file{"/": page(`<script src="/app.js?v=3&amp;k=Zq8Xk2LmP4rT7vW1yB3nD5fH8jA0cE6gI2kM4oQ9"></script>`), "/app.js": {js, "var a=1;\n" + plantedAWS}},
			nil, check.Fail, "/app.js?k=Zq8X%2A%2A%2A&v=3", "", 2},
		{"script redirecting where robots.txt disallows",
			map[string]file{"/": page(`<script src="/app.js"></script>`), "/app.js": {"redirect", "/private/app.js"},
				"/private/app.js": {js, plantedAWS}, "/robots.txt": {"text/plain", "User-agent: *\nDisallow: /private/\n"}},
			nil, check.Pass, "", "", 0},
		{"link redirecting where robots.txt disallows",
			map[string]file{"/": page(`</head><body><a href="/tin-tuc">Tin tức</a>`), "/tin-tuc": {"redirect", "/private/cau-hinh.html"},
				"/private/cau-hinh.html": {html, "<p>" + plantedAWS + "</p>"}, "/robots.txt": {"text/plain", "User-agent: *\nDisallow: /private/\n"}},
			nil, check.Pass, "", "", 0},
		{"script path answered with the home page",
			map[string]file{"/": page(`<script src="/app.js"></script>`), "/app.js": {html, "<p>" + plantedAWS + "</p>"}},
			nil, check.Pass, "", "", 0},
		{"anon key in a script",
			map[string]file{"/": page(`<script src="/app.js"></script>`), "/app.js": {js, `createClient("https://x.example", "` + datalab.FakeAnonKey() + `")`}},
			nil, check.Pass, "", "", 0},
		{"service key in a script",
			map[string]file{"/": page(`<script src="/app.js"></script>`), "/app.js": {js, `createClient("https://x.example", "` + datalab.FakeServiceKey() + `")`}},
			nil, check.Fail, "/app.js", "", 1},
	}
	fh := foreignHost(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other, otherHits := serve(t, fh, tt.foreign, "")
			site, siteHits := serve(t, "127.0.0.1", tt.files, strings.TrimPrefix(other.URL, "http://"))
			r := resource(t, "url:"+site.URL+"/")
			o, err := Family(Config{Key: []byte("test")}).Observe(t.Context(), r, envFor(t, r, ""))
			if err != nil {
				t.Fatal(err)
			}
			res := secretPublic(o)
			if res.Status != tt.want {
				t.Fatalf("status %s (%s), want %s\n%s", res.Status, res.Reason.EN, tt.want, dump([]check.Result{res}))
			}
			if n := otherHits.total("/"); n != 0 {
				t.Errorf("the other site received %d requests, want none", n)
			}
			if tt.foreign != nil && o.Skipped.ScriptsOtherSite != 1 {
				t.Errorf("skipped %+v, want 1 script on another site", o.Skipped)
			}
			if strings.Contains(dump([]check.Result{res}), "Zq8Xk2LmP4rT7vW1yB3nD5fH8jA0cE6gI2kM4oQ9") {
				t.Error("evidence holds the planted secret key in full")
			}
			if _, ok := tt.files["/robots.txt"]; ok && siteHits.total("/private/") != 0 {
				t.Error("a script robots.txt disallows was fetched")
			}
			if tt.want != check.Fail {
				return
			}
			pages, _ := res.Evidence["pages"].([]pageEvidence)
			var found bool
			for _, p := range pages {
				if p.URL != site.URL+tt.script || p.Source != tt.source {
					continue
				}
				for _, f := range p.Findings {
					if f.Reportable && len(f.Samples) > 0 && f.Samples[0].Line == tt.line && strings.Contains(f.Samples[0].Masked, "*") {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("evidence does not name %s (source %q) line %d with a masked sample:\n%s", tt.script, tt.source, tt.line, dump([]check.Result{res}))
			}
			if !strings.Contains(res.Reason.EN, "script") || !strings.Contains(res.Reason.VI, "script") {
				t.Errorf("reason does not mention scripts: %+v", res.Reason)
			}
		})
	}
}

// TestScriptDigits serves a minified script full of numbers that pass for citizen IDs and
// phone numbers: it is scanned for credentials, and gives no personal-data finding.
func TestScriptDigits(t *testing.T) {
	var b strings.Builder
	b.WriteString("!function(){var t=[")
	for _, p := range datalab.People() {
		fmt.Fprintf(&b, `"%s","%s",`, p.CitizenID, strings.ReplaceAll(p.Phone, " ", ""))
	}
	b.WriteString(`1706745600000];var cfg={"Số CCCD":"001085000101"};window.t=t}();`)
	body := b.String()
	// The same text as a page would fail: the test below can fail.
	if !detect.Scan([]byte(body), detect.Default(testNow), detect.Options{}).Reportable(detect.CitizenID) {
		t.Fatal("the script's digits are not reportable as a page; the test proves nothing")
	}
	site, _ := serve(t, "127.0.0.1", map[string]file{
		"/":          {"text/html", `<p>Trang chủ</p><script src="/bundle.js"></script>`},
		"/bundle.js": {"application/javascript", body},
	}, "")
	r := resource(t, "url:"+site.URL+"/")
	o, err := Family(Config{Key: []byte("test")}).Observe(t.Context(), r, envFor(t, r, ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Scripts) != 1 || !o.Scripts[0].Scanned || o.Scripts[0].From != site.URL+"/" {
		t.Fatalf("scripts %+v, want /bundle.js scanned, loaded by the home page", o.Scripts)
	}
	for _, f := range o.Scripts[0].Report.Findings {
		if detect.ClassOf(f.Detector) != detect.ClassSecret {
			t.Errorf("script finding %s: only credential detectors run over scripts", f.Detector)
		}
	}
	for _, ev := range []func(Observation) check.Result{piiPublic, classifiedPublic, secretPublic} {
		if res := ev(o); res.Status != check.Pass {
			t.Errorf("%s, want pass\n%s", res.Status, dump([]check.Result{res}))
		}
	}
}

// TestScriptBudget loads more scripts than the budget allows: the requests stop at it, in a
// fixed order, and the rest are counted.
func TestScriptBudget(t *testing.T) {
	files := map[string]file{}
	var head strings.Builder
	for i := range 30 {
		fmt.Fprintf(&head, `<script src="/s/%02d.js"></script>`, i)
		// Each names a source map: maps take what the scripts leave of the budget.
		files[fmt.Sprintf("/s/%02d.js", i)] = file{"application/javascript", fmt.Sprintf("var x%d=1;\n//# sourceMappingURL=%02d.js.map\n", i, i)}
		files[fmt.Sprintf("/s/%02d.js.map", i)] = file{"application/json", `{"version":3,"sources":[],"mappings":""}`}
	}
	files["/"] = file{"text/html", "<html><head>" + head.String() + `</head><body><a href="/a.html">a</a></body></html>`}
	files["/a.html"] = file{"text/html", head.String()} // the same scripts again: fetched once
	tests := []struct {
		max, scripts, maps, limit int
	}{
		{5, 5, 0, 25 + 5},    // 25 scripts, then the 5 maps of the fetched ones
		{0, 20, 0, 10 + 20},  // the default
		{40, 30, 10, 0 + 20}, // every script, then 10 of their 30 maps
		{100, 30, 30, 0 + 0}, // everything
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.max), func(t *testing.T) {
			site, h := serve(t, "127.0.0.1", files, "")
			r := resource(t, "url:"+site.URL+"/")
			o, err := Family(Config{MaxScripts: tt.max}).Observe(t.Context(), r, envFor(t, r, ""))
			if err != nil {
				t.Fatal(err)
			}
			scripts, maps := 0, 0
			for p, n := range h.n {
				switch {
				case strings.HasSuffix(p, ".js"):
					scripts += n
				case strings.HasSuffix(p, ".map"):
					maps += n
				}
			}
			if scripts != tt.scripts || maps != tt.maps || o.Skipped.ScriptLimit != tt.limit || len(o.Scripts) != scripts+maps {
				t.Errorf("%d script and %d map requests, %d over the limit, %d recorded; want %d, %d, %d",
					scripts, maps, o.Skipped.ScriptLimit, len(o.Scripts), tt.scripts, tt.maps, tt.limit)
			}
			if scripts > 0 && o.Scripts[0].URL != site.URL+"/s/00.js" {
				t.Errorf("first script %s, want /s/00.js (document order)", o.Scripts[0].URL)
			}
		})
	}
}

// TestSourceMapCountsOnce: a source map whose original files both hold a key is one leaking
// script in the count, with each file named in the evidence.
func TestSourceMapCountsOnce(t *testing.T) {
	const js = "application/javascript"
	m := fmt.Sprintf(`{"version":3,"sources":["a.ts","b.ts"],"sourcesContent":[%q,%q],"mappings":"AAAA"}`, plantedAWS, "\n"+plantedAWS)
	site, _ := serve(t, "127.0.0.1", map[string]file{
		"/":           {"text/html", `<html><head><script src="/app.js"></script></head><body>x</body></html>`},
		"/app.js":     {js, "!function(){}();\n//# sourceMappingURL=app.js.map\n"},
		"/app.js.map": {"application/json", m},
	}, "")
	r := resource(t, "url:"+site.URL+"/")
	o, err := Family(Config{Key: []byte("test")}).Observe(t.Context(), r, envFor(t, r, ""))
	if err != nil {
		t.Fatal(err)
	}
	res := secretPublic(o)
	pages, _ := res.Evidence["pages"].([]pageEvidence)
	if res.Status != check.Fail || res.Evidence["pages_with_findings"] != 1 || len(pages) != 2 {
		t.Errorf("status %s, %v leaking, %d pages in evidence; want fail, 1 and 2 (a.ts, b.ts)\n%s", res.Status, res.Evidence["pages_with_findings"], len(pages), dump([]check.Result{res}))
	}
}
