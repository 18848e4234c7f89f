package httpcheck

import (
	"math"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseHSTS(t *testing.T) {
	tests := []struct {
		in      string
		want    HSTS
		wantErr string // substring; "" means valid
	}{
		{"max-age=31536000", HSTS{MaxAge: 31536000}, ""},
		{"max-age=63072000; includeSubDomains; preload", HSTS{MaxAge: 63072000, IncludeSubDomains: true, Preload: true}, ""},
		{`MAX-AGE="300" ; INCLUDESUBDOMAINS`, HSTS{MaxAge: 300, IncludeSubDomains: true}, ""},
		{"max-age = 10", HSTS{MaxAge: 10}, ""},
		{"max-age=1;;", HSTS{MaxAge: 1}, ""},
		{"max-age=1; future-directive=\"x;y\"", HSTS{MaxAge: 1}, ""}, // ';' inside quotes
		{`max-age=1; a="x\"; b"`, HSTS{MaxAge: 1}, ""},
		{"max-age=1; future-directive=token", HSTS{MaxAge: 1}, ""},
		{"max-age=99999999999999999999999", HSTS{MaxAge: math.MaxInt64}, ""},
		{"max-age=0", HSTS{MaxAge: 0}, ""},
		{"", HSTS{}, "no max-age"},
		{"includeSubDomains", HSTS{}, "no max-age"},
		{"max-age=31536000; max-age=1", HSTS{}, "more than once"},
		{"max-age=1; includeSubDomains; includesubdomains", HSTS{}, "more than once"},
		{"max-age=1, max-age=2", HSTS{}, "neither a token nor a quoted string"},
		{"max-age=-1", HSTS{}, "not a whole number"},
		{"max-age=1.5", HSTS{}, "not a whole number"},
		{"max-age=", HSTS{}, "neither a token"},
		{"max-age", HSTS{}, "no value"},
		{`max-age="12`, HSTS{}, "not closed"},
		{"max-age=1; includeSubDomains=yes", HSTS{}, "takes no value"},
		{"max age=1", HSTS{}, "not a token"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseHSTS(tt.in)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("ParseHSTS(%q) error %v, want %+v", tt.in, err, tt.want)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("ParseHSTS(%q) = %+v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			case got != tt.want:
				t.Errorf("ParseHSTS(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseCSP(t *testing.T) {
	got := ParseCSP("default-src 'self'; SCRIPT-SRC  'self'\thttps://cdn.example ;; script-src *, img-src data:;")
	if len(got) != 2 {
		t.Fatalf("ParseCSP gave %d policies, want 2: %+v", len(got), got)
	}
	if s := got[0].String(); s != "default-src 'self'; script-src 'self' https://cdn.example" {
		t.Errorf("first policy = %q", s)
	}
	if !slices.Equal(got[0].Duplicates, []string{"script-src"}) {
		t.Errorf("duplicates = %v, want [script-src]", got[0].Duplicates)
	}
	if s := got[1].String(); s != "img-src data:" {
		t.Errorf("second policy = %q", s)
	}
	if p := ParseCSP(" , ;"); len(p) != 0 {
		t.Errorf("empty policies kept: %+v", p)
	}
	if p := ParsePolicy("script-src 'self'; img-src \u00e9"); len(p.Directives) != 1 {
		t.Errorf("non-ASCII directive kept: %+v", p)
	}
	if src, ok := ParsePolicy("frame-ancestors").Get("frame-ancestors"); !ok || len(src) != 0 {
		t.Errorf("empty frame-ancestors = %v, %v; want present and empty", src, ok)
	}
}

func TestScriptRisks(t *testing.T) {
	tests := []struct {
		policy string
		want   []string
	}{
		{"default-src 'self'", nil},
		{"script-src 'self'; object-src 'none'", nil},
		{"script-src 'self' 'unsafe-inline'", []string{riskUnsafeInline}},
		{"script-src 'self' 'UNSAFE-INLINE'", []string{riskUnsafeInline}},
		{"script-src 'unsafe-inline' 'nonce-abc'", nil},
		{"script-src 'unsafe-inline' 'sha256-abc='", nil},
		{"script-src 'unsafe-inline' 'strict-dynamic'", nil},
		{"default-src 'self' 'unsafe-eval'", []string{riskUnsafeEval}},
		{"script-src *", []string{riskAnySource}},
		{"script-src https:", []string{riskAnySource}},
		{"script-src http:", []string{riskHTTPSource, riskAnySource}},
		{"script-src 'self' data:", []string{riskDataSource}},
		{"script-src http://cdn.example", []string{riskHTTPSource}},
		{"script-src 'nonce-abc' 'strict-dynamic' https: 'unsafe-inline'", nil},
		{"default-src *; script-src 'self'", nil},
		{"img-src 'self'", []string{riskAnySource, riskNoScriptRule, riskUnsafeEval, riskUnsafeInline}},
		{"script-src 'self'; script-src-attr 'unsafe-inline'", []string{riskUnsafeInline}},
		{"script-src-elem 'self'", []string{riskUnsafeEval, riskUnsafeInline}},
		{"script-src", nil}, // an empty list allows nothing
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if got := scriptRisks(ParsePolicy(tt.policy)); !slices.Equal(got, want) {
				t.Errorf("scriptRisks(%q) = %v, want %v", tt.policy, got, want)
			}
		})
	}
}

func TestParseSetCookie(t *testing.T) {
	tests := []struct {
		in      string
		want    Cookie
		wantErr bool
	}{
		{"SID=31d4d96e407aad42; Path=/; Secure; HttpOnly; SameSite=Lax",
			Cookie{Name: "SID", Secure: true, HttpOnly: true, SameSite: "Lax", Path: "/"}, false},
		{"id=a3fWa; Expires=Wed, 21 Oct 2015 07:28:00 GMT; secure; httponly; samesite=strict; domain=.Example.VN",
			Cookie{Name: "id", Secure: true, HttpOnly: true, SameSite: "Strict", Domain: "example.vn", Persistent: true}, false},
		{"a=b; SameSite=Lax; SameSite=None; Secure", Cookie{Name: "a", SameSite: "None", Secure: true}, false},
		{"a=b; SameSite=Lux", Cookie{Name: "a", SameSiteRaw: "Lux"}, false},
		{"a=b; SameSite", Cookie{Name: "a", SameSiteRaw: `""`}, false},
		{"a=b; Max-Age=0; Partitioned; Secure", Cookie{Name: "a", Persistent: true, Partitioned: true, Secure: true}, false},
		{"a=b; Path=relative", Cookie{Name: "a"}, false},
		{"novalue", Cookie{Name: ""}, false},
		{"  spaced name = v ", Cookie{Name: "spaced name"}, false},
		{"=", Cookie{}, true},
		{"a=b\x01", Cookie{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSetCookie(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseSetCookie(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSessionLike(t *testing.T) {
	for name, want := range map[string]bool{
		"PHPSESSID": true, "JSESSIONID": true, "ASP.NET_SessionId": true, "connect.sid": true, "sid": true,
		"__Host-sid": true, ".ASPXAUTH": true, "access_token": true, "wp_login": true, "laravel_session": true,
		"lang": false, "inside": false, "_ga": false, "theme": false, "sidebar": false,
	} {
		if got := sessionLike(name); got != want {
			t.Errorf("sessionLike(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestParseReferrerPolicy(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"no-referrer", "no-referrer"},
		{"Strict-Origin-When-Cross-Origin", "strict-origin-when-cross-origin"},
		{"unsafe-url, strict-origin", "strict-origin"},
		{"strict-origin, unsafe-url", "unsafe-url"},
		{"no-referrer, some-future-policy", "no-referrer"},
		{"garbage", ""},
		{"no-referrer strict-origin", ""}, // space is not a separator
		{" same-origin ,", "same-origin"},
	}
	for _, tt := range tests {
		if got := ParseReferrerPolicy(tt.in); got != tt.want {
			t.Errorf("ParseReferrerPolicy(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for in, want := range map[string]string{"never": "no-referrer", "always": "unsafe-url", "origin": "origin", "a, b": ""} {
		if got := metaReferrer(in); got != want {
			t.Errorf("metaReferrer(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScanHTML(t *testing.T) {
	page, _ := url.Parse("https://portal.example.vn/tin-tuc/")
	body := `<!doctype html><html><head>
<meta http-equiv="content-security-policy" content="default-src 'self'">
<meta name="Referrer" content="no-referrer">
<script src="//cdn.example.vn/a.js"></script>
<script src="HTTP://cdn.example.vn/b.js"></script>
<script>var s = '<script src="http://in-a-string.example/x.js"></script>';</script>
<link rel="preload stylesheet" href="http://cdn.example.vn/c.css">
<link rel="icon" href="http://cdn.example.vn/favicon.ico">
<link rel=preload as=script href="http://cdn.example.vn/p.js">
</head><body>
<img src="http://cdn.example.vn/i.png" srcset="http://cdn.example.vn/i2.png 2x, /i3.png 3x">
<!-- <script src="http://commented.example/x.js"></script> -->
<base href="http://old.example.vn/">
<iframe src="map.html"></iframe>
<object data="https://ok.example.vn/o.swf"></object>
<video src="v.mp4" poster="http://cdn.example.vn/poster.jpg"></video>
</body></html>`
	d := ScanHTML([]byte(body), page)
	if !slices.Equal(d.MetaCSP, []string{"default-src 'self'"}) || !slices.Equal(d.MetaReferrer, []string{"no-referrer"}) {
		t.Errorf("meta: csp %q referrer %q", d.MetaCSP, d.MetaReferrer)
	}
	var got []string
	for _, s := range d.Insecure {
		got = append(got, s.Element+" "+s.URL+map[bool]string{true: " active", false: ""}[s.Active])
	}
	want := []string{
		"script http://cdn.example.vn/b.js active",
		"link rel=stylesheet http://cdn.example.vn/c.css active",
		"link rel=preload as=script http://cdn.example.vn/p.js active",
		"img http://cdn.example.vn/i.png",
		"img srcset http://cdn.example.vn/i2.png",
		"iframe http://old.example.vn/map.html active", // resolved against the http: <base>
		"video http://old.example.vn/v.mp4",
		"video poster http://cdn.example.vn/poster.jpg",
	}
	if !slices.Equal(got, want) {
		t.Errorf("insecure =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d.InsecureN != len(want) || d.Subresources != 11 {
		t.Errorf("counts: insecure %d subresources %d", d.InsecureN, d.Subresources)
	}
}

func TestSameSite(t *testing.T) {
	tests := []struct {
		origin, host string
		want         bool
	}{
		{"hanoi.gov.vn", "hanoi.gov.vn", true},
		{"hanoi.gov.vn", "www.hanoi.gov.vn", true},
		{"www.hanoi.gov.vn", "hanoi.gov.vn", true},
		{"dichvucong.hanoi.gov.vn", "sso.hanoi.gov.vn", true},
		{"hanoi.gov.vn", "hcm.gov.vn", false}, // gov.vn is a public suffix
		{"hanoi.gov.vn", "hanoi.gov.vn.evil.example", false},
		{"good.lab.khien.test", "www.good.lab.khien.test", true},
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.1", "localhost", false},
	}
	for _, tt := range tests {
		if got := sameSite(tt.origin, tt.host); got != tt.want {
			t.Errorf("sameSite(%q, %q) = %v, want %v", tt.origin, tt.host, got, tt.want)
		}
	}
}

func FuzzParseHSTS(f *testing.F) {
	for _, s := range []string{"max-age=31536000; includeSubDomains; preload", `max-age="1"`, "max-age=1, max-age=2", "", ";;", `a="\"`, "max-age=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHSTS(s)
		if err != nil {
			return
		}
		if h.MaxAge < 0 {
			t.Errorf("ParseHSTS(%q).MaxAge = %d < 0", s, h.MaxAge)
		}
		if !strings.Contains(strings.ToLower(s), "max-age") {
			t.Errorf("ParseHSTS(%q) accepted a header without max-age", s)
		}
	})
}

func FuzzParseCSP(f *testing.F) {
	for _, s := range []string{"default-src 'self'; script-src 'nonce-a' 'strict-dynamic'", "a, b; c", "script-src\t*", ";;,,", "SCRIPT-SRC 'unsafe-inline'; script-src 'self'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range ParseCSP(s) {
			_ = scriptRisks(p)
			// Serializing and parsing again gives the same directives.
			again := ParsePolicy(p.String())
			if again.String() != p.String() || len(again.Directives) != len(p.Directives) {
				t.Errorf("round trip of %q: %q then %q", s, p.String(), again.String())
			}
			for _, d := range p.Directives {
				if d.Name == "" || d.Name != strings.ToLower(d.Name) || strings.ContainsAny(d.Name, ";, \t") {
					t.Errorf("bad directive name %q from %q", d.Name, s)
				}
			}
		}
	})
}

func FuzzParseSetCookie(f *testing.F) {
	for _, s := range []string{"SID=1; Secure; HttpOnly; SameSite=Lax", "a", "=v", "a=b; samesite=", "a=b;;;Domain=.x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseSetCookie(s)
		if err != nil {
			return
		}
		if strings.Contains(c.Name, ";") {
			t.Errorf("ParseSetCookie(%q).Name = %q holds a ';'", s, c.Name)
		}
		if c.SameSite != "" && c.SameSiteRaw != "" {
			t.Errorf("ParseSetCookie(%q): both SameSite %q and invalid %q", s, c.SameSite, c.SameSiteRaw)
		}
		if !utf8.ValidString(s) {
			return
		}
		if len(c.SameSiteRaw) > 64+len("…") || len(c.Domain) > 255+len("…") {
			t.Errorf("ParseSetCookie(%q) kept an unbounded attribute", s)
		}
	})
}

func FuzzParseReferrerPolicy(f *testing.F) {
	for _, s := range []string{"no-referrer", "unsafe-url, strict-origin", ",,", "UNSAFE-URL"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := ParseReferrerPolicy(s)
		if p != "" && !slices.Contains(referrerPolicies, p) {
			t.Errorf("ParseReferrerPolicy(%q) = %q, not a policy", s, p)
		}
		_ = metaReferrer(s)
	})
}

func FuzzScanHTML(f *testing.F) {
	for _, s := range []string{"<script src=http://a/x.js>", "<base href=http://b/><iframe src=x>", "<meta http-equiv=content-security-policy content=\"a\">", "<img srcset=\",,,\">"} {
		f.Add(s)
	}
	page, _ := url.Parse("https://portal.example.vn/")
	f.Fuzz(func(t *testing.T, s string) {
		d := ScanHTML([]byte(s), page)
		if len(d.Insecure) > maxInsecure || d.InsecureN < len(d.Insecure) || d.Subresources < d.InsecureN {
			t.Errorf("ScanHTML(%q): counts %d/%d/%d", s, len(d.Insecure), d.InsecureN, d.Subresources)
		}
		for _, r := range d.Insecure {
			if !strings.HasPrefix(strings.ToLower(r.URL), "http:") {
				t.Errorf("ScanHTML(%q) reported %q as insecure", s, r.URL)
			}
		}
	})
}
