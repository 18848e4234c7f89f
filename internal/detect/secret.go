package detect

import (
	"bytes"
	"encoding/base64"
	"hash/crc32"
	"slices"
	"strings"
)

// Secrets are found by anchors — a fixed prefix (AKIA, ghp_, -----BEGIN, eyJ) or a key word
// (password, secret, token) — searched with bytes.Index, which runs at memory speed; only
// around an anchor is any byte looked at twice. Each candidate is then validated: a key block
// must decode, a token must have its exact length and alphabet (and, for GitHub, its
// checksum), a JWT must decode to JSON, a password must not be a placeholder. Entropy raises
// or lowers confidence; it never makes a finding alone.

// maskSecret keeps the first keep bytes of a secret and stars for the rest (eight at most).
func maskSecret(v []byte, keep int) string {
	keep = min(keep, len(v)/3)
	return string(v[:keep]) + strings.Repeat("*", min(8, len(v)-keep))
}

func isAlnum(c byte) bool { return isDigit(c) || isASCIILetter(c) }

// privateKey finds private key blocks: PEM ("-----BEGIN RSA PRIVATE KEY-----", PKCS#8,
// EC, DSA, encrypted), OpenSSH and PGP armour, also when their line breaks are written as \n
// inside a JSON or YAML string. The body must decode as base64 to at least 64 bytes, and an
// OpenSSH or DER body must start as one does, so "-----BEGIN PRIVATE KEY----- …" in
// documentation does not count.
type privateKey struct{}

func (privateKey) ID() string { return SecretPrivateKey }

func (privateKey) canonical(raw []byte) string {
	_, body, _ := keyBody(raw)
	return string(body)
}

var (
	beginMark = []byte("-----BEGIN ")
	endMark   = []byte("-----END ")
)

// keyBody returns the label of the block at raw and its base64 body with white space,
// escaped line breaks and armour headers removed.
func keyBody(raw []byte) (label string, body []byte, end int) {
	if !bytes.HasPrefix(raw, beginMark) {
		return "", nil, 0
	}
	rest := raw[len(beginMark):]
	le := bytes.Index(rest, []byte("-----"))
	if le < 0 || le > 60 {
		return "", nil, 0
	}
	label = string(rest[:le])
	i := len(beginMark) + le + 5
	stop := bytes.Index(raw[i:], endMark)
	if stop < 0 {
		return label, nil, 0
	}
	seg := raw[i : i+stop]
	end = i + stop + len(endMark)
	if e := bytes.Index(raw[end:], []byte("-----")); e >= 0 && e <= 60 {
		end += e + 5
	}
	body = make([]byte, 0, len(seg))
	for _, line := range splitKeyLines(seg) {
		if bytes.IndexByte(line, ':') >= 0 || len(line) > 0 && line[0] == '=' && len(line) <= 5 {
			continue // armour header (Proc-Type:, Version:) or PGP checksum
		}
		for _, c := range line {
			if isAlnum(c) || c == '+' || c == '/' || c == '=' {
				body = append(body, c)
			}
		}
	}
	return label, body, end
}

// splitKeyLines splits a key body at real line breaks and at escaped ones (\n, \r\n).
func splitKeyLines(seg []byte) [][]byte {
	var out [][]byte
	start := 0
	for i := 0; i < len(seg); i++ {
		switch {
		case seg[i] == '\n':
			out = append(out, seg[start:i])
			start = i + 1
		case seg[i] == '\\' && i+1 < len(seg) && (seg[i+1] == 'n' || seg[i+1] == 'r'):
			out = append(out, seg[start:i])
			i++
			start = i + 1
		}
	}
	return append(out, seg[start:])
}

func (privateKey) Find(b []byte, emit func(Match)) {
	lines := lineCounter{b: b}
	for i := 0; ; {
		j := bytes.Index(b[i:], beginMark)
		if j < 0 {
			return
		}
		p := i + j
		i = p + len(beginMark)
		label, body, end := keyBody(b[p:min(len(b), p+64<<10)])
		if !strings.HasSuffix(label, "PRIVATE KEY") && !strings.HasSuffix(label, "PRIVATE KEY BLOCK") || end == 0 {
			continue
		}
		// Sized for either decoding: unpadded input can decode to more than the padded
		// length rule allows (a fuzz test found the short buffer).
		dec := make([]byte, max(base64.StdEncoding.DecodedLen(len(body)), base64.RawStdEncoding.DecodedLen(len(body))))
		n, err := base64.StdEncoding.Decode(dec, body)
		if err != nil {
			n, err = base64.RawStdEncoding.Decode(dec, bytes.TrimRight(body, "="))
		}
		if err != nil || n < 64 {
			continue
		}
		dec = dec[:n]
		switch {
		case strings.Contains(label, "OPENSSH"):
			if !bytes.HasPrefix(dec, []byte("openssh-key-v1\x00")) {
				continue
			}
		case strings.Contains(label, "PGP"):
		default:
			if dec[0] != 0x30 { // an ASN.1 SEQUENCE
				continue
			}
		}
		emit(Match{Detector: SecretPrivateKey, Offset: p, Len: end, Masked: "-----BEGIN " + label + "----- " + maskSecret(body, 4),
			Confidence: 0.97, Line: lines.at(p)})
		i = p + end
	}
}

// tokenKind is a credential with a fixed prefix, an alphabet and a length: AWS access key ids,
// Google API keys, GitHub, GitLab, Slack, Stripe, SendGrid and npm tokens, Azure storage keys.
type tokenKind struct {
	id       string
	prefixes []string
	body     func(c byte) bool
	min, max int // body length after the prefix
	conf     float64
	// check returns the confidence of a well-formed token, or 0 to drop it.
	check func(prefix string, body []byte) float64
	keep  int
}

func (t tokenKind) ID() string { return t.id }

func isB32(c byte) bool   { return c >= 'A' && c <= 'Z' || c >= '2' && c <= '7' }
func isURL64(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }
func isWordC(c byte) bool { return isAlnum(c) || c == '_' }
func isB64(c byte) bool   { return isAlnum(c) || c == '+' || c == '/' || c == '=' }
func isSlackC(c byte) bool {
	return isAlnum(c) || c == '-'
}

// tokenKinds lists the prefixed credentials. Their bodies are exact, so a match is strong.
var tokenKinds = []tokenKind{
	{id: SecretAWSKey, prefixes: []string{"AKIA", "ASIA", "ABIA", "ACCA"}, body: isB32, min: 16, max: 16,
		conf: 0.9, keep: 4, check: func(_ string, body []byte) float64 {
			if bytes.Contains(body, []byte("EXAMPLE")) {
				return 0 // AKIAIOSFODNN7EXAMPLE and friends, from AWS's documentation
			}
			return 0.9
		}},
	{id: SecretGoogleKey, prefixes: []string{"AIza"}, body: isURL64, min: 35, max: 35, conf: 0.9, keep: 6},
	{id: SecretGitHub, prefixes: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}, body: isWordC,
		min: 36, max: 82, conf: 0.85, keep: 4, check: githubCheck},
	{id: SecretGitLab, prefixes: []string{"glpat-", "gldt-", "glrt-"}, body: isURL64, min: 20, max: 64, conf: 0.9, keep: 6},
	{id: SecretSlack, prefixes: []string{"xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-"}, body: isSlackC,
		min: 20, max: 250, conf: 0.9, keep: 5, check: func(_ string, body []byte) float64 {
			if bytes.Count(body, []byte("-")) < 2 || !isDigit(body[0]) {
				return 0
			}
			return 0.9
		}},
	{id: SecretSlackHook, prefixes: []string{"hooks.slack.com/services/"}, body: func(c byte) bool { return isAlnum(c) || c == '/' },
		min: 40, max: 100, conf: 0.95, keep: 0, check: func(_ string, body []byte) float64 {
			parts := bytes.Split(body, []byte("/"))
			if len(parts) != 3 || len(parts[0]) < 8 || parts[0][0] != 'T' || len(parts[1]) < 8 || parts[1][0] != 'B' || len(parts[2]) < 20 {
				return 0
			}
			return 0.95
		}},
	{id: SecretStripe, prefixes: []string{"sk_live_", "rk_live_", "sk_test_", "rk_test_"}, body: isAlnum,
		min: 20, max: 247, conf: 0.95, keep: 8, check: func(prefix string, _ []byte) float64 {
			if strings.Contains(prefix, "test") {
				return 0.6 // a test-mode key moves no money, but is still a credential
			}
			return 0.95
		}},
	{id: SecretSendGrid, prefixes: []string{"SG."}, body: func(c byte) bool { return isURL64(c) || c == '.' },
		min: 66, max: 66, conf: 0.95, keep: 3, check: func(_ string, body []byte) float64 {
			if body[22] != '.' || bytes.Count(body, []byte(".")) != 1 {
				return 0
			}
			return 0.95
		}},
	{id: SecretNPM, prefixes: []string{"npm_"}, body: isAlnum, min: 36, max: 36, conf: 0.9, keep: 4},
	{id: SecretAzure, prefixes: []string{"AccountKey="}, body: isB64, min: 88, max: 88, conf: 0.95, keep: 11,
		check: func(_ string, body []byte) float64 {
			if n, err := base64.StdEncoding.Decode(make([]byte, 66), body); err != nil || n != 64 {
				return 0
			}
			return 0.95
		}},
	{id: SecretTelegram, prefixes: []string{":AA"}, body: isURL64, min: 35, max: 35, conf: 0.9, keep: 0},
}

// githubCheck validates a GitHub token: classic tokens are 30 random characters and a 6-char
// base62 CRC32 of them; fine-grained ones are github_pat_, 22 characters, _ and 59.
func githubCheck(prefix string, body []byte) float64 {
	if prefix == "github_pat_" {
		if len(body) != 82 || body[22] != '_' {
			return 0
		}
		return 0.95
	}
	if len(body) != 36 || bytes.IndexByte(body, '_') >= 0 {
		return 0
	}
	if base62Pad(crc32.ChecksumIEEE(body[:30]), 6) == string(body[30:]) {
		return 0.97
	}
	return 0.85
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func base62Pad(n uint32, width int) string {
	out := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		out[i] = base62[n%62]
		n /= 62
	}
	return string(out)
}

func (t tokenKind) canonical(raw []byte) string { return string(raw) }

func (t tokenKind) Find(b []byte, emit func(Match)) {
	var found []Match
	for _, pre := range t.prefixes {
		pb := []byte(pre)
		for i := 0; ; {
			j := bytes.Index(b[i:], pb)
			if j < 0 {
				break
			}
			p := i + j
			i = p + len(pb)
			s, bs := p, p+len(pb)
			if t.id == SecretTelegram {
				// 123456789:AA…: the bot id before the colon, 8 to 10 digits; AA opens the secret.
				ds := p
				for ds > 0 && isDigit(b[ds-1]) && p-ds <= 10 {
					ds--
				}
				if p-ds < 8 || p-ds > 10 || ds > 0 && isWordC(b[ds-1]) {
					continue
				}
				s, bs = ds, p+1
			} else if s > 0 && (isWordC(b[s-1]) && t.prefixes[0] != "hooks.slack.com/services/" || b[s-1] == '-' && t.id != SecretAzure) {
				continue
			}
			be := bs
			for be < len(b) && t.body(b[be]) && be-bs <= t.max {
				be++
			}
			n := be - bs
			if n < t.min || n > t.max {
				continue
			}
			body := b[bs:be]
			conf := t.conf
			if t.check != nil {
				if conf = t.check(pre, body); conf == 0 {
					continue
				}
			}
			keep := t.keep
			if keep == 0 {
				keep = be - s - n
			}
			found = append(found, Match{Detector: t.id, Offset: s, Len: be - s, Masked: maskSecret(b[s:be], keep),
				Confidence: conf})
			i = be
		}
	}
	if len(found) == 0 {
		return
	}
	slices.SortFunc(found, func(x, y Match) int { return x.Offset - y.Offset })
	lines := lineCounter{b: b}
	for _, m := range found {
		m.Line = lines.at(m.Offset)
		emit(m)
	}
}

// jwt finds JSON Web Tokens: three base64url segments whose first two decode to JSON objects,
// the header naming its "alg".
type jwt struct{}

func (jwt) ID() string { return SecretJWT }

func (jwt) canonical(raw []byte) string { return string(raw) }

func decodeSeg(s []byte) []byte {
	out := make([]byte, base64.RawURLEncoding.DecodedLen(len(s)))
	n, err := base64.RawURLEncoding.Decode(out, bytes.TrimRight(s, "="))
	if err != nil {
		return nil
	}
	return out[:n]
}

func (jwt) Find(b []byte, emit func(Match)) {
	lines := lineCounter{b: b}
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("eyJ"))
		if j < 0 {
			return
		}
		p := i + j
		i = p + 3
		if p > 0 && isURL64(b[p-1]) {
			continue
		}
		var segs [3][2]int
		k, q := 0, p
		for k < 3 {
			s := q
			for q < len(b) && isURL64(b[q]) {
				q++
			}
			segs[k] = [2]int{s, q}
			k++
			if k < 3 {
				if q >= len(b) || b[q] != '.' {
					break
				}
				q++
			}
		}
		if k < 3 || segs[0][1]-segs[0][0] < 10 || segs[1][1]-segs[1][0] < 4 {
			continue
		}
		h := decodeSeg(b[segs[0][0]:segs[0][1]])
		pl := decodeSeg(b[segs[1][0]:segs[1][1]])
		if len(h) < 2 || h[0] != '{' || !bytes.Contains(h, []byte(`"alg"`)) || len(pl) < 2 || pl[0] != '{' {
			continue
		}
		conf := 0.9
		if segs[2][1]-segs[2][0] < 16 {
			conf = 0.7 // unsigned ("alg": "none") or cut short
		}
		end := segs[2][1]
		emit(Match{Detector: SecretJWT, Offset: p, Len: end - p, Masked: maskSecret(b[p:end], 10),
			Confidence: conf, Line: lines.at(p)})
		i = end
	}
}
