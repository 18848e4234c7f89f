package datacheck

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/detect"
	"github.com/khien-vn/khien/internal/lab/datalab"
)

// pageWith returns an observation of one scanned page whose source is src, scanned as fetch
// scans it for credentials.
func pageWith(src string) Observation {
	rep := detect.Scan([]byte(src), pageSecrets(), detect.Options{Key: []byte("test")})
	return Observation{Start: "https://cong.example.vn/", MaxDepth: 2, MaxPages: 50,
		Pages: []Page{{URL: "https://cong.example.vn/", Status: 200, Scanned: true, Report: rep}}}
}

// TestSecretPublic holds data.secret.public to planted credentials and to the look-alikes
// ordinary pages are full of: form and CSRF tokens, nonces, integrity hashes, hashed asset
// names, base64 images and fonts, public keys and certificates, and keys that are public by
// design (Maps, Firebase, reCAPTCHA, publishable payment keys, Mapbox, search-only keys).
func TestSecretPublic(t *testing.T) {
	const base64PNG = "iVBORw0KGgoAAAANSUhEUgAAADAAAAAwCAYAAABXAvmHAAAABmJLR0QA/wD/AP+gvaeTAAAEBklEQVRoge2Za2gcVRTHf2dmN5tNNk2bNE1iH7FJ"
	tests := []struct {
		name, src string
		want      check.Status
		detector  string // the detector a failure names
	}{
		// Decoys.
		{"base64 image", `<img alt="logo" src="data:image/png;base64,` + base64PNG + strings.Repeat("QUJDRA", 40) + `==">`, check.Pass, ""},
		{"base64 font", `<style>@font-face{font-family:x;src:url(data:font/woff2;base64,d09GMgABAAAAAAZ4AA0AAAAADWQAAAYjAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAGhYbHBwaBmAAgkIRCAqKPIgcCxAAATYCJAMcBCAFhGQHThsCCsiuCmwxfLhNbdpqvmzaoi4q9mqVJPrGPHvGzN5xIDN3)}</style>`, check.Pass, ""},
		{"CSRF meta and hidden inputs", `<meta name="csrf-token" content="Zx9Kq2LmP4rT7vW1yB3nD5fH8jA0cE6gI2kM4oQ9">
<input name="__RequestVerificationToken" type="hidden" value="CfDJ8N3kq9LxW2rT5vB7mP1zQ4sH6jK8dF0gA3cE5iM7oR9uY2wZ">
<input type="hidden" name="authenticity_token" value="pQ7xL2mK9rT4vW8yB1nD3fH6jA5cE0gI8kM2oQ4sZx9Kq2Lm">
<input type="hidden" name="csrfmiddlewaretoken" value="aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3kL5mN7pQ9rS1tU3v">`, check.Pass, ""},
		{"CSRF tokens in scripts", `<script>
window.Laravel = {"csrfToken":"Zx9Kq2LmP4rT7vW1yB3nD5fH8jA0cE6gI2kM4oQ9"};
$.ajaxSetup({data: {csrfmiddlewaretoken: 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3kL5mN7pQ9rS1tU3v'}});
var form = {"authenticity_token":"pQ7xL2mK9rT4vW8yB1nD3fH6jA5cE0gI8kM2oQ4sZx9Kq2Lm", "_token": "pQ7xL2mK9rT4vW8yB1nD3fH6jA5cE0gI8kM2oQ4s"};
headers["X-CSRF-Token"] = "Zx9Kq2LmP4rT7vW1yB3nD5fH8jA0cE6gI2kM4oQ9"; headers['X-XSRF-TOKEN'] = "Zx9Kq2LmP4rT7vW1yB3nD5fH8jA0cE6gI2kM4oQ9";
var antiForgeryToken = "CfDJ8N3kq9LxW2rT5vB7mP1zQ4sH6jK8dF0gA3cE5iM7oR9uY2wZ";
</script>`, check.Pass, ""},
		{"nonces and integrity hashes", `<script nonce="r4nd0mN0nc3Xy7Qp2Lk9Wm" src="/a.js" integrity="sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC"></script>
<link rel="stylesheet" href="/x.css" integrity="sha512-Fo3rlrZj/k7ujTnHg4CGR2D7kSs0v4LLanw2qksYuRlEzO+tcaEPQogQ0KaoGN26/zrn20ImR1DfuLWnOo7aBA==">
<script>__webpack_nonce__ = "c2VjcmV0LW5vbmNlLTEyMzQ1Njc4OTA"; var cspNonce = "r4nd0mN0nc3Xy7Qp2Lk9Wm";</script>`, check.Pass, ""},
		{"hashed asset names", `<script src="/static/js/main.8f3a2c1b9d7e4f60.chunk.js"></script>
<link href="/static/css/app.3f9a8c7d6e5b4a2f.css?v=5d41402abc4b2a76b9719d911017c592" rel="stylesheet">
<script id="__NEXT_DATA__" type="application/json">{"buildId":"a8Xk2LmP4rT7vW1yB3nD5","assetPrefix":"","etag":"W/\"5d41402abc4b2a76b9719d911017c592\"","cacheKey":"7Xk2LmP4rT7vW1yB3nD5fH8jA0c"}</script>`, check.Pass, ""},
		{"public keys and certificates", "<pre>-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEb3lNn6cCpJx2qz5bW1l4mU1z7mQ3\nnJx0k2VqY8TQy3p0x4hZ4k0c6m2Z8Jt3vQ9k1L6rP2sW0yN5hA7cT1bE9g==\n-----END PUBLIC KEY-----\n" +
			"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUFakeCertForLabOnlyXyZ0123456789wCgYIKoZIzj0EAwIw\n-----END CERTIFICATE-----</pre>", check.Pass, ""},
		{"keys public by design", `<script src="/maps/api/js?key=AIzaSyD3x7kQ2LmP4rT7vW1yB3nD5fH8jA0cE6g&callback=initMap"></script>
<script>const firebaseConfig = {apiKey: "AIzaSyD3x7kQ2LmP4rT7vW1yB3nD5fH8jA0cE6g", authDomain: "cong.firebaseapp.com", appId: "1:123456789012:web:8f3a2c1b9d7e4f60"};
var stripe = Stripe("pk_live_51Hx7kQ2LmP4rT7vW1yB3nD5fH8jA0cE6gI2kM4oQ9r"); var cfg = {publishableKey: "pk_live_51Hx7kQ2LmP4rT7vW1yB3nD5fH8jA0cE6gI2kM4oQ9r"};
mapboxgl.accessToken = 'pk.eyJ1IjoiY29uZy1leGFtcGxlIiwiYSI6ImNrOXg3a1EyTG1QNHJUN3ZXMXlCM25ENWZIOGoifQ.Zx9Kq2LmP4rT7vW1yB3nD5';
docsearch({appId: "BH4D9OD16A", apiKey: "25626fae796133dc1e734c6bcaaeac3c", indexName: "cong"});
gtag('config', 'G-8F3A2C1B9D');</script>
<div class="g-recaptcha" data-sitekey="6LdQx7kqAAAAAJ3mR9tV2wY5zB8nE1hK4pS7uX0a"></div>
<div class="h-captcha" data-sitekey="10000000-ffff-ffff-ffff-000000000001"></div>
<script>grecaptcha.execute({siteKey: '6LdQx7kqAAAAAJ3mR9tV2wY5zB8nE1hK4pS7uX0a'}); var recaptchaKey = "6LdQx7kqAAAAAJ3mR9tV2wY5zB8nE1hK4pS7uX0a";</script>`, check.Pass, ""},
		{"password forms and prose", `<label>Mật khẩu</label><input type="password" name="password" placeholder="Mật khẩu" autocomplete="current-password">
<script>if (password.length < 8) { alert("Mật khẩu phải có ít nhất 8 ký tự"); } var cfg = {"password": "", "passwordMinLength": 8};</script>
<p>Quên mật khẩu? Mật khẩu: do người dùng tự đặt.</p>`, check.Pass, ""},

		// Planted credentials (made for the test, valid nowhere).
		{"private key in a comment", "<!-- \n" + datalab.FakeKey() + "-->", check.Fail, detect.SecretPrivateKey},
		{"private key escaped in a script", `<script>var k = "` + strings.ReplaceAll(datalab.FakeKey(), "\n", `\n`) + `";</script>`, check.Fail, detect.SecretPrivateKey},
		{"connection string in a script", `<script>var db = "postgres://app:` + datalab.FakeDBPassword + `@10.0.0.5/cms";</script>`, check.Fail, detect.SecretPassword},
		{"password in a config dump", "<pre>DB_HOST=10.0.0.5\nDB_PASSWORD=Xk9#mQ2$vL7pR4wZ\n</pre>", check.Fail, detect.SecretPassword},
		{"api secret in a script", `<script>var cfg = {api_secret: "Zq8Xk2LmP4rT7vW1yB3nD5fH8jA0cE6gI2kM4oQ9sU"};</script>`, check.Fail, detect.SecretGeneric},
		{"AWS key pair", `<script>AWS.config.update({accessKeyId: "AKIAZ7KQ2LMP4RT7VWXY", secretAccessKey: "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"});</script>`, check.Fail, detect.SecretAWSKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := secretPublic(pageWith(tt.src))
			if res.Status != tt.want {
				t.Fatalf("status %s (%s), want %s\n%s", res.Status, res.Reason.EN, tt.want, dump([]check.Result{res}))
			}
			if tt.want == check.Fail && !strings.Contains(dump([]check.Result{res}), `"detector": "`+tt.detector+`"`) {
				t.Errorf("failure does not name %s:\n%s", tt.detector, dump([]check.Result{res}))
			}
			if res.Reason.VI == "" || res.Reason.EN == "" {
				t.Errorf("reason %+v", res.Reason)
			}
		})
	}
}

// jwtWith builds a signed-looking JWT with claims as its payload; the signature is a fixed
// filler, since the detectors never verify one.
func jwtWith(claims string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(claims)) +
		"." + enc.EncodeToString([]byte("khien test signature, 32 bytes!!"))
}

// TestPublicJWT holds the page-secrets path to the Supabase convention: a JWT whose payload
// claims the role anon is handed to every browser by design and does not fail the page; a
// service_role key, one with no role, or any other role does.
func TestPublicJWT(t *testing.T) {
	anon := jwtWith(`{"iss":"supabase","ref":"abcdefghijklmnopqrst","role":"anon","iat":1700000000,"exp":2000000000}`)
	tests := []struct {
		name, src string
		want      check.Status
	}{
		{"anon key", `<script>const sb = createClient("https://x.supabase.co", "` + anon + `");</script>`, check.Pass},
		{"anon key twice and a Maps key", `<script>var a="` + anon + `", b='` + anon + `', k="AIzaSyD3x7kQ2LmP4rT7vW1yB3nD5fH8jA0cE6g";</script>`, check.Pass},
		{"lab anon key", `<script>var k = "` + datalab.FakeAnonKey() + `";</script>`, check.Pass},
		{"service_role key", `<script>const sb = createClient(u, "` + jwtWith(`{"iss":"supabase","ref":"abcdefghijklmnopqrst","role":"service_role","iat":1700000000}`) + `");</script>`, check.Fail},
		{"lab service key", `<script>var k = "` + datalab.FakeServiceKey() + `";</script>`, check.Fail},
		{"no role", `<script>var token = "` + jwtWith(`{"sub":"1234567890","name":"Nguyễn Văn An","iat":1516239022}`) + `";</script>`, check.Fail},
		{"authenticated role", `<script>var token = "` + jwtWith(`{"sub":"u1","role":"authenticated"}`) + `";</script>`, check.Fail},
		{"role not a string", `<script>var token = "` + jwtWith(`{"role":["anon"]}`) + `";</script>`, check.Fail},
		{"role Anon in another case", `<script>var token = "` + jwtWith(`{"role":"ANON"}`) + `";</script>`, check.Fail},
		{"anon beside service_role", `<script>var a = "` + anon + `", s = "` + jwtWith(`{"role":"service_role"}`) + `";</script>`, check.Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := secretPublic(pageWith(tt.src))
			out := dump([]check.Result{res})
			if res.Status != tt.want {
				t.Fatalf("status %s (%s), want %s\n%s", res.Status, res.Reason.EN, tt.want, out)
			}
			if tt.want == check.Fail && !strings.Contains(out, `"detector": "`+detect.SecretJWT+`"`) {
				t.Errorf("failure does not name %s:\n%s", detect.SecretJWT, out)
			}
			if strings.Contains(tt.src, anon) && !strings.Contains(out, "role=anon") {
				t.Errorf("the anon key is not listed below the threshold:\n%s", out)
			}
			for _, tok := range strings.FieldsFunc(tt.src, func(r rune) bool { return r == '"' || r == '\'' }) {
				if strings.HasPrefix(tok, "eyJ") && strings.Contains(out, tok) {
					t.Errorf("evidence holds a full token")
				}
			}
		})
	}
}

func TestJWTRole(t *testing.T) {
	for tok, want := range map[string]string{
		jwtWith(`{"role":"anon"}`):                       "anon",
		jwtWith(`{"role":"service_role"}`):               "service_role",
		jwtWith(`{"sub":"x"}`):                           "",
		jwtWith(`{"role":1}`):                            "",
		jwtWith(`{"role":"service_role","Role":"anon"}`): "service_role", // keys are exact, as PostgREST reads them
		jwtWith(`{"ROLE":"anon"}`):                       "",
		jwtWith(`not json`):                              "",
		"eyJhbGciOiJIUzI1NiJ9":                           "",
		"a.!!!.b":                                        "",
	} {
		if got := jwtRole([]byte(tok)); got != want {
			t.Errorf("jwtRole(%s) = %q, want %q", tok, got, want)
		}
	}
}

func TestMaskURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://x.vn/a.js":                                     "https://x.vn/a.js",
		"https://x.vn/tin?id=42&page=3":                         "https://x.vn/tin?id=42&page=3",
		"https://x.vn/a.js?token=eyJhbGciOiJIUzI1NiJ9.eyJ9.sig": "https://x.vn/a.js?token=eyJh%2A%2A%2A",
		"https://user:s3cretpass@x.vn/":                         "https://user:%2A%2A%2A@x.vn/",
		"https://x.vn/?" + strings.Repeat("a=1&", 300):          "https://x.vn/?a=1&a=1",
	} {
		got := maskURL(in)
		if !strings.HasPrefix(got, want) || strings.Contains(got, "s3cret") || strings.Contains(got, "IUzI1") {
			t.Errorf("maskURL(%.60q) = %.80q, want %q", in, got, want)
		}
		if len([]rune(got)) > 501 {
			t.Errorf("maskURL of %d characters gives %d", len(in), len(got))
		}
	}
}
