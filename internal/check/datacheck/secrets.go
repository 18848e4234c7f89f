package datacheck

import (
	"bytes"
	"encoding/base64"
	"encoding/json"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/detect"
)

// pageSecrets returns the credential detectors run over page sources and scripts: every one
// of detect.Secrets but Google API keys, with JWTs judged by publicJWT. Maps, reCAPTCHA and
// Firebase keys (AIza…) are meant to sit in public pages, restricted by referrer, so finding
// one there says nothing. Publishable Stripe keys (pk_…) are not credentials for the Stripe
// detector either.
func pageSecrets() []detect.Detector {
	var out []detect.Detector
	for _, d := range detect.Secrets() {
		switch d.ID() {
		case detect.SecretGoogleKey:
		case detect.SecretJWT:
			out = append(out, publicJWT{d})
		default:
			out = append(out, d)
		}
	}
	return out
}

// publicJWT wraps the JWT detector for public pages. A JWT whose payload claims the role
// "anon" is the key a browser client is given by design — Supabase's anon key, PostgREST's
// anonymous role — and grants only what row-level security lets anyone do, so it is kept as
// a weak finding (evidence below the threshold, its sample marked "role=anon") instead of
// failing the page. Any other JWT, "service_role" above all (the key that bypasses that
// security), and one without a role, stays a credential. Files and databases (package data)
// keep the plain detector: a token there is not published on purpose.
type publicJWT struct{ detect.Detector }

// publicJWTConfidence is where an anon JWT sits: detect's default floor, so it is still
// listed, and well below secretStrong.
const publicJWTConfidence = 0.5

func (d publicJWT) Find(text []byte, emit func(detect.Match)) {
	d.Detector.Find(text, func(m detect.Match) {
		if m.Offset >= 0 && m.Offset+m.Len <= len(text) && jwtRole(text[m.Offset:m.Offset+m.Len]) == "anon" {
			m.Confidence = min(m.Confidence, publicJWTConfidence)
			m.Masked += " role=anon"
		}
		emit(m)
	})
}

// jwtRole returns the "role" claim of a JWT's payload when it is a string, else "". The token
// is decoded in memory only; nothing of it beyond the claim leaves this function.
func jwtRole(token []byte) string {
	parts := bytes.SplitN(token, []byte("."), 3)
	if len(parts) != 3 {
		return ""
	}
	seg := bytes.TrimRight(parts[1], "=")
	payload := make([]byte, base64.RawURLEncoding.DecodedLen(len(seg)))
	n, err := base64.RawURLEncoding.Decode(payload, seg)
	if err != nil {
		return ""
	}
	// A map, not a struct: encoding/json matches struct fields without regard to case, so
	// {"role":"service_role","Role":"anon"} would read as anon; PostgREST reads "role" only.
	var claims map[string]json.RawMessage
	if json.Unmarshal(payload[:n], &claims) != nil {
		return ""
	}
	var role string
	if json.Unmarshal(claims["role"], &role) != nil {
		return ""
	}
	return role
}

// secretStrong is the confidence at which one credential on a page fails the check: the
// threshold files and databases use (data package). Generic entries of hexadecimal values
// (an asset hash, a search-only key) stay below it; a private key that decodes, a token of a
// known shape, a password in a connection string or a random api_key value reach it.
const secretStrong = 0.8

// secretReportable decides whether a credential finding fails the page: one value is enough.
func secretReportable(f detect.Finding) bool { return f.MaxConfidence >= secretStrong }

// secretLabel names what a credential detector finds, for reasons people read.
func secretLabel(id string) (check.Text, bool) {
	switch id {
	case detect.SecretPrivateKey:
		return check.Text{VI: "khóa riêng (private key)", EN: "private keys"}, true
	case detect.SecretAWSKey:
		return check.Text{VI: "khóa truy cập AWS", EN: "AWS access keys"}, true
	case detect.SecretAWSSecret:
		return check.Text{VI: "khóa bí mật AWS", EN: "AWS secret keys"}, true
	case detect.SecretGitHub:
		return check.Text{VI: "token GitHub", EN: "GitHub tokens"}, true
	case detect.SecretGitLab:
		return check.Text{VI: "token GitLab", EN: "GitLab tokens"}, true
	case detect.SecretSlack, detect.SecretSlackHook:
		return check.Text{VI: "token/webhook Slack", EN: "Slack tokens or webhooks"}, true
	case detect.SecretStripe:
		return check.Text{VI: "khóa bí mật Stripe", EN: "Stripe secret keys"}, true
	case detect.SecretSendGrid:
		return check.Text{VI: "khóa API SendGrid", EN: "SendGrid API keys"}, true
	case detect.SecretNPM:
		return check.Text{VI: "token npm", EN: "npm tokens"}, true
	case detect.SecretTelegram:
		return check.Text{VI: "token bot Telegram", EN: "Telegram bot tokens"}, true
	case detect.SecretAzure:
		return check.Text{VI: "khóa tài khoản lưu trữ Azure", EN: "Azure storage account keys"}, true
	case detect.SecretJWT:
		return check.Text{VI: "JWT", EN: "JWTs"}, true
	case detect.SecretPassword:
		return check.Text{VI: "mật khẩu (chuỗi kết nối, cấu hình)", EN: "passwords (connection strings, configuration)"}, true
	case detect.SecretGeneric:
		return check.Text{VI: "khóa API/token bí mật", EN: "API keys or secret tokens"}, true
	}
	return check.Text{}, false
}
