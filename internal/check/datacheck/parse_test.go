package datacheck

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestRobotsRules(t *testing.T) {
	const txt = `# comment
User-agent: googlebot
Disallow: /

User-agent: *
Disallow: /private/
Disallow: /*.csv$
Allow: /private/public.html
Disallow: /search?q=
Disallow: /tin-tức/
Disallow:

User-agent: Khien
User-agent: other
Disallow: /admin   # trailing comment
Allow: /admin/help
Sitemap: https://portal.example/sitemap.xml
`
	tests := []struct {
		agent, path string
		want        bool
	}{
		{"somebot", "/", true},
		{"somebot", "/private/x.html", false},
		{"somebot", "/private/public.html", true},
		{"somebot", "/data/list.csv", false},
		{"somebot", "/data/list.csv?x=1", true},
		{"somebot", "/search?q=abc", false},
		{"somebot", "/search", true},
		{"somebot", (&url.URL{Path: "/tin-tức/a.html"}).RequestURI(), false},
		{"somebot", "/robots.txt", true},
		{"khien", "/private/x.html", true}, // its own group replaces *
		{"khien", "/admin", false},
		{"khien", "/admin/users", false},
		{"khien", "/admin/help", true},
		{"googlebot", "/anything", false},
	}
	for _, tt := range tests {
		if got := parseRobots([]byte(txt), tt.agent).allowed(tt.path); got != tt.want {
			t.Errorf("robots for %s: allowed(%q) = %v, want %v", tt.agent, tt.path, got, tt.want)
		}
	}
	if got := agentToken("Khien/1.0 (+https://khien.example)"); got != "khien" {
		t.Errorf("agentToken = %q", got)
	}
	if (robots{}).allowed("/x") != true || (robots{disallow: true}).allowed("/x") != false {
		t.Error("zero robots must allow, disallow must refuse")
	}
}

func TestRobotsMatch(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/", "/x", true},
		{"/a", "/abc", true},
		{"/a$", "/abc", false},
		{"/a$", "/a", true},
		{"/*.php", "/x/index.php?id=1", true},
		{"/*.php$", "/x/index.php?id=1", false},
		{"/*.php$", "/x/index.php", true},
		{"/a*b*c", "/a1b2c3", true},
		{"/a*b*c$", "/a1b2c3", false},
		{"*", "/anything", true},
	}
	for _, tt := range tests {
		if got := robotsMatch(tt.pattern, tt.path); got != tt.want {
			t.Errorf("robotsMatch(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestExtractHTML(t *testing.T) {
	base, _ := url.Parse("https://portal.example/tin-tuc/bai.html")
	tests := []struct {
		name, html string
		text       string
		links      []string
	}{
		{"blocks and cells",
			"<h1>Tiêu đề</h1><p>Đoạn   một\n dòng</p><table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>",
			"Tiêu đề\nĐoạn một dòng\nA\tB\n1\t2\n", nil},
		{"scripts and styles dropped",
			"<p>x</p><script>var id='001099000000';</script><style>.a{}</style><noscript>y</noscript><p>z</p>",
			"x\nz\n", nil},
		{"entities decoded", "<p>M&#7852;T &amp; T&Ocirc;I</p>", "MẬT & TÔI\n", nil},
		{"pre keeps lines", "<pre>a\n  b</pre>", "a\n  b\n", nil},
		{"stamp in a div", "<div class=stamp>TUYỆT MẬT</div><p>Số: 15</p>", "TUYỆT MẬT\nSố: 15\n", nil},
		{"links resolved",
			`<a href="/a">1</a><a href="b.html#x">2</a><a href="https://other.example/">3</a><a href=" mailto:x@y ">4</a>`,
			"1234\n", []string{"https://portal.example/a", "https://portal.example/tin-tuc/b.html#x", "https://other.example/", "mailto:x@y"}},
		{"base href", `<base href="https://portal.example/goc/"><a href="c">c</a>`,
			"c\n", []string{"https://portal.example/goc/c"}},
		{"broken html", "<p>a<td>b</p><div", "a\tb\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, links, _ := extractHTML([]byte(tt.html), base)
			if string(text) != tt.text {
				t.Errorf("text = %q, want %q", text, tt.text)
			}
			var got []string
			for _, l := range links {
				got = append(got, l.String())
			}
			if strings.Join(got, " ") != strings.Join(tt.links, " ") {
				t.Errorf("links = %q, want %q", got, tt.links)
			}
		})
	}
}

func TestBodyKind(t *testing.T) {
	tests := []struct {
		ct, path string
		want     kind
	}{
		{"text/html; charset=utf-8", "/", kindHTML},
		{"application/xhtml+xml", "/", kindHTML},
		{"text/plain", "/", kindText},
		{"text/csv", "/x", kindText},
		{"application/json", "/api", kindText},
		{"application/octet-stream", "/ds.csv", kindText},
		{"", "/notes.TXT", kindText},
		{"application/octet-stream", "/x.bin", kindNone},
		{"image/png", "/a.png", kindNone},
		{"application/pdf", "/a.pdf", kindNone},
	}
	for _, tt := range tests {
		if got := bodyKind(tt.ct, tt.path); got != tt.want {
			t.Errorf("bodyKind(%q, %q) = %v, want %v", tt.ct, tt.path, got, tt.want)
		}
	}
}

func TestDecode(t *testing.T) {
	// "Mật" in windows-1258: M, a with dot below is not one byte there, so use "Mât" (â = E2).
	if got := string(decodeText([]byte("M\xe2t"), "text/plain; charset=windows-1258")); got != "Mât" {
		t.Errorf("decodeText windows-1258 = %q", got)
	}
	if got := string(decodeHTML([]byte(`<meta charset="windows-1258"><p>M`+"\xe2"+`t</p>`), "text/html")); !strings.Contains(got, "Mât") {
		t.Errorf("decodeHTML = %q", got)
	}
	if got := string(decodeText([]byte("\xef\xbb\xbfMẬT"), "text/plain")); got != "MẬT" {
		t.Errorf("decodeText BOM = %q", got)
	}
}

func FuzzParseRobots(f *testing.F) {
	f.Add([]byte("User-agent: *\nDisallow: /a*b$\nAllow: /a\n"), "/ab")
	f.Add([]byte("User-agent: khien\nDisallow: /\n"), "/")
	f.Add([]byte("Disallow: *$\n\x00:\xff"), "")
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		r := parseRobots(body, "khien")
		r.allowed(path)
		for _, rule := range r.rules {
			robotsMatch(rule.pattern, path)
		}
	})
}

func FuzzExtractHTML(f *testing.F) {
	f.Add([]byte(`<p>Số CCCD: 001099000000</p><a href="/x">x</a><script>y</script><td>MẬT</td>`))
	f.Add([]byte(`<base href="::"><a href="%zz">`))
	f.Add([]byte(`<pre><script></pre></script>`))
	f.Add([]byte(`<script src="/a.js"><link rel="modulepreload" href="/b.js"></script><link rel=preload as=script href=c.js>`))
	base, _ := url.Parse("https://portal.example/")
	f.Fuzz(func(t *testing.T, body []byte) {
		text, links, scripts := extractHTML(body, base)
		if len(text) > 2*len(body)+1 {
			t.Fatalf("text of %d bytes from %d bytes of HTML", len(text), len(body))
		}
		for _, l := range append(links, scripts...) {
			if l == nil {
				t.Fatal("nil link")
			}
		}
	})
}

func TestExtractScripts(t *testing.T) {
	base, _ := url.Parse("https://portal.example/tin-tuc/")
	tests := []struct {
		name, html string
		scripts    []string
	}{
		{"script src in order", `<script src="/a.js"></script><p>x</p><script>inline()</script><script defer src=" b.js?v=1 "></script>`,
			[]string{"https://portal.example/a.js", "https://portal.example/tin-tuc/b.js?v=1"}},
		{"other sites kept for the crawler to judge", `<script src="https://cdn.example/x.js"></script>`, []string{"https://cdn.example/x.js"}},
		{"modulepreload and preload as script",
			`<link rel="modulepreload" href="/m.js"><link rel="preload" as="script" href="/p.js"><link rel="preload" as="style" href="/s.css"><link rel="stylesheet" href="/x.css">`,
			[]string{"https://portal.example/m.js", "https://portal.example/p.js"}},
		{"base href", `<base href="https://portal.example/goc/"><script src="c.js"></script>`, []string{"https://portal.example/goc/c.js"}},
		{"script text is not a tag", `<script>document.write('<script src="/w.js"></script>')</script>`, nil},
		{"inside a template", `<template><script src="/t.js"></script></template>`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, scripts := extractHTML([]byte(tt.html), base)
			var got []string
			for _, u := range scripts {
				got = append(got, u.String())
			}
			if strings.Join(got, " ") != strings.Join(tt.scripts, " ") {
				t.Errorf("scripts = %q, want %q", got, tt.scripts)
			}
		})
	}
}

func TestSourceMapAnnotation(t *testing.T) {
	tests := []struct {
		name, js, header, want string
	}{
		{"comment", "f();\n//# sourceMappingURL=app.js.map\n", "", "app.js.map"},
		{"old form", "f();\n//@ sourceMappingURL=app.js.map", "", "app.js.map"},
		{"last one wins", "//# sourceMappingURL=a.map\nf();\n//# sourceMappingURL=b.map\n", "", "b.map"},
		{"block comment", "f();\n/*# sourceMappingURL=app.css.map */", "", "app.css.map"},
		{"in a string, not a comment", `var s = "sourceMappingURL=x.map";`, "", ""},
		{"a later string does not hide the comment", "//# sourceMappingURL=a.map\nvar s='sourceMappingURL=';", "", "a.map"},
		{"header", "f();", "/maps/app.js.map", "/maps/app.js.map"},
		{"none", "f();", "", ""},
	}
	for _, tt := range tests {
		if got := sourceMapAnnotation([]byte(tt.js), tt.header); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	if b, ok := inlineSourceMap("data:application/json;charset=utf-8;base64,e30="); !ok || string(b) != "{}" {
		t.Errorf("inline map = %q, %v", b, ok)
	}
	for _, bad := range []string{"app.js.map", "data:application/json,{}", "data:application/json;base64,!!"} {
		if _, ok := inlineSourceMap(bad); ok {
			t.Errorf("inlineSourceMap(%q) decoded", bad)
		}
	}
}

// FuzzSourceMap feeds scripts and source maps to the annotation reader and the streaming
// source-map reader, whole and cut, with a MaxBody small enough that some original files are
// skipped; and holds unquote to what encoding/json decodes.
func FuzzSourceMap(f *testing.F) {
	f.Add([]byte("f();\n//# sourceMappingURL=data:application/json;base64,e30=\n"), []byte(`{"sources":["a"],"sourcesContent":["x"]}`))
	f.Add([]byte("//# sourceMappingURL="), []byte(`)]}'{"sourcesContent":[null,1]}`))
	f.Add([]byte(""), []byte(`{"mappings":"AAAA;","sourcesContent":["\u00e9\ud83d\ude00\ud800x\n`+plantedAWS+`",{"a":[1]}],"sources":[null,"b.ts"]}`))
	f.Add([]byte(""), []byte("\ufeff{\"sourcesContent\":{\"a\":\"b\"}}"))
	f.Add([]byte(""), []byte(`"\ud800\u0041\/\"\\"`))
	c := &crawler{cfg: Config{MaxBody: 64}.withDefaults(), secrets: pageSecrets()}
	f.Fuzz(func(t *testing.T, js, sm []byte) {
		if ann := sourceMapAnnotation(js); ann != "" {
			_, _ = inlineSourceMap(ann)
		}
		for _, limit := range []int64{int64(len(sm)), int64(len(sm) / 2)} {
			out := c.readSourceMap(Page{URL: "https://portal.example/a.js.map"}, bytes.NewReader(sm), limit, "application/json")
			if m := out[0]; m.Source != "" || int64(m.Bytes) > limit || m.Truncated && limit >= int64(len(sm)) {
				t.Fatalf("map page %+v of %d bytes read with limit %d", m, len(sm), limit)
			}
			for _, p := range out[1:] {
				if p.Source == "" || len(p.Report.Findings) == 0 {
					t.Fatalf("original file %q recorded without findings", p.Source)
				}
				if p.Report.Bytes > int(c.cfg.MaxBody) {
					t.Fatalf("original file %q of %d bytes scanned, past MaxBody", p.Source, p.Report.Bytes)
				}
			}
		}
		if raw := bytes.TrimSpace(sm); len(raw) >= 2 && raw[0] == '"' {
			var want string
			if json.Unmarshal(raw, &want) == nil {
				if got, ok := unquote(nil, raw, int64(len(raw))*3); !ok || string(got) != want {
					t.Fatalf("unquote(%q) = %q, %v; encoding/json gives %q", raw, got, ok, want)
				}
			}
		}
		_ = jwtRole(sm)
	})
}
