package datacheck

import (
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/detect"
)

// pageSecrets returns the credential detectors run over page sources: every one of
// detect.Secrets but Google API keys. Maps, reCAPTCHA and Firebase keys (AIza…) are meant to
// sit in public pages, restricted by referrer, so finding one there says nothing. Publishable
// Stripe keys (pk_…) are not credentials for the Stripe detector either.
func pageSecrets() []detect.Detector {
	var out []detect.Detector
	for _, d := range detect.Secrets() {
		if d.ID() != detect.SecretGoogleKey {
			out = append(out, d)
		}
	}
	return out
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
