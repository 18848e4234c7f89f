package detect

import (
	"bytes"
	"slices"
	"strings"
)

// kv is a key = value entry of a configuration file, an environment file, JSON, YAML, XML,
// a connection string or a command line, found around an anchor inside its key.
type kv struct {
	ks, ke int // key
	vs, ve int // value
	quoted bool
	// clean is true when the rest of the line after the value is empty, punctuation or a
	// comment: a configuration entry rather than a sentence ("Password: must be …").
	clean bool
}

func isKeyChar(c byte) bool { return isAlnum(c) || c == '_' || c == '-' || c == '.' }

// kvAt reads the entry whose key contains the anchor b[p:q]. The key is the run of key
// characters around it; the value follows a ':', '=', ':=', '=>' or, in XML, '>'.
func kvAt(b []byte, p, q int) (kv, bool) {
	ks, ke := p, q
	for ks > 0 && isKeyChar(b[ks-1]) && p-ks < 64 {
		ks--
	}
	for ke < len(b) && isKeyChar(b[ke]) && ke-q < 64 {
		ke++
	}
	i := ke
	var quote byte
	if ks > 0 && (b[ks-1] == '"' || b[ks-1] == '\'') && i < len(b) && b[i] == b[ks-1] {
		quote = b[i]
		i++
	}
	_ = quote
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	if i >= len(b) {
		return kv{}, false
	}
	switch {
	case b[i] == ':' && i+1 < len(b) && b[i+1] == '=':
		i += 2
	case b[i] == '=' && i+1 < len(b) && b[i+1] == '>':
		i += 2
	case b[i] == ':' || b[i] == '=':
		i++
	case b[i] == '>' && ks > 0 && b[ks-1] == '<':
		i++
	default:
		return kv{}, false
	}
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	e := kv{ks: ks, ke: ke}
	if i < len(b) && (b[i] == '"' || b[i] == '\'' || b[i] == '`') {
		qc := b[i]
		i++
		j := i
		for j < len(b) && b[j] != qc && b[j] != '\n' && j-i < 256 {
			if b[j] == '\\' && j+1 < len(b) {
				j++
			}
			j++
		}
		if j >= len(b) || b[j] != qc {
			return kv{}, false
		}
		e.vs, e.ve, e.quoted = i, j, true
		e.clean = true
		return e, e.ve > e.vs
	}
	j := i
	for j < len(b) && j-i < 256 {
		c := b[j]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ';' || c == '&' || c == '<' || c == '"' || c == '\'' || c == '}' || c == ')' || c == ']' {
			break
		}
		j++
	}
	if j == i {
		return kv{}, false
	}
	e.vs, e.ve = i, j
	// Rest of the line: only spaces, punctuation or a comment make it an entry.
	k := j
	for k < len(b) && (b[k] == ' ' || b[k] == '\t' || b[k] == '\r' || b[k] == ',' || b[k] == ';' || b[k] == '}' || b[k] == ')' || b[k] == ']' || b[k] == '"' || b[k] == '\'' || b[k] == '<') {
		if b[k] == '<' || b[k] == ';' {
			k = len(b) // XML closing tag, or the next field of a connection string
			break
		}
		k++
	}
	e.clean = k >= len(b) || b[k] == '\n' || b[k] == '#' || b[k] == '&' || k+1 < len(b) && b[k] == '/' && b[k+1] == '/'
	return e, true
}

// keyTokens splits a key into lower-case words at '_', '-', '.' and lower-to-upper changes:
// "DB_PASSWORD", "dbPassword", "spring.datasource.password".
func keyTokens(key []byte) []string {
	var out []string
	start := 0
	flush := func(i int) {
		if i > start {
			out = append(out, strings.ToLower(string(key[start:i])))
		}
		start = i
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '_' || c == '-' || c == '.':
			flush(i)
			start = i + 1
		case i > 0 && c >= 'A' && c <= 'Z' && key[i-1] >= 'a' && key[i-1] <= 'z':
			flush(i)
		}
	}
	flush(len(key))
	return out
}

// placeholder reports whether a value stands for a secret instead of being one: ${VAR},
// <password>, ****, changeme, an environment lookup or a code expression.
func placeholder(v []byte, quoted bool) bool {
	if len(v) < 4 {
		return true
	}
	switch v[0] {
	case '$', '%', '{', '<', '[', '*', '#', '@', '(':
		return true
	}
	if bytes.Contains(v, []byte("{{")) || bytes.Contains(v, []byte("${")) || bytes.IndexByte(v, '(') >= 0 {
		return true
	}
	same := true
	for _, c := range v[1:] {
		if c != v[0] {
			same = false
			break
		}
	}
	if same {
		return true
	}
	for _, c := range v {
		if c >= 0x80 || c < ' ' {
			return true // prose in Vietnamese, or binary
		}
	}
	switch strings.ToLower(string(v)) {
	case "password", "passwd", "pass", "changeme", "change_me", "secret", "null", "nil", "none", "true",
		"false", "yes", "no", "required", "optional", "string", "example", "your_password", "yourpassword",
		"your-password", "mypassword", "undefined", "empty", "todo", "redacted", "hidden", "xxxx", "pwd",
		"password123", "matkhau", "mat_khau", "secret_key", "your_secret", "your_api_key", "api_key",
		"token", "your_token", "placeholder", "dummy", "sample", "test", "default", "masked", "removed",
		"notset", "not_set", "unset", "str", "text", "bool", "boolean", "integer", "number", "off", "on":
		return true
	}
	if !quoted {
		// An unquoted identifier path is code: req.body.password, os.environ, self.password.
		dot, ident := false, true
		for _, c := range v {
			switch {
			case c == '.':
				dot = true
			case !isWordC(c):
				ident = false
			}
		}
		if dot && ident {
			return true
		}
	}
	return false
}

// password finds passwords: the password of a URL's user information
// (postgres://app:S3cret@db), and the value of an entry whose key names a password
// (password, passwd, pwd, pass, passphrase, mật khẩu) in configuration, environment, JSON,
// YAML, XML and connection strings. Placeholders, code and prose are not passwords; a
// quoted value or a clean entry line is likelier one, and a high-entropy value likelier still.
type password struct{}

func (password) ID() string { return SecretPassword }

func (password) canonical(raw []byte) string { return string(raw) }

var passwordAnchors = [][]byte{[]byte("ass"), []byte("ASS"), []byte("wd"), []byte("WD"),
	[]byte("khẩu"), []byte("KHẨU"), []byte("khau"), []byte("KHAU")}

var notPasswordTokens = map[string]bool{"reset": true, "forgot": true, "policy": true, "length": true,
	"min": true, "max": true, "minlength": true, "maxlength": true, "expiry": true, "expire": true,
	"expires": true, "expiration": true, "hash": true, "hashed": true, "salt": true, "field": true,
	"label": true, "placeholder": true, "hint": true, "rule": true, "rules": true, "regex": true,
	"pattern": true, "url": true, "uri": true, "path": true, "file": true, "type": true, "required": true,
	"enabled": true, "change": true, "changed": true, "strength": true, "error": true, "message": true,
	"msg": true, "title": true, "text": true, "help": true, "prompt": true, "history": true, "age": true,
	"complexity": true, "validation": true, "valid": true, "format": true, "digest": true, "encoder": true,
	"algorithm": true, "retry": true, "attempts": true, "lockout": true, "command": true, "cmd": true,
	"env": true, "input": true, "show": true, "toggle": true, "icon": true, "mode": true, "auth": true,
	"grant": true, "flow": true, "less": true, "passwordless": true}

// passwordKey reports whether key names a password.
func passwordKey(key []byte) bool {
	toks := keyTokens(key)
	found := false
	for _, t := range toks {
		if notPasswordTokens[t] {
			return false
		}
		switch {
		case t == "pass" || t == "pwd" || t == "passphrase" || t == "passcode" || t == "matkhau" || t == "khau":
			found = true
		case strings.Contains(t, "password") || strings.Contains(t, "passwd"):
			if strings.HasPrefix(t, "password") && len(t) > len("password") && !strings.HasSuffix(t, "password") {
				return false // passwordreset, passwordpolicy: one word, not a password
			}
			found = true
		case strings.HasSuffix(t, "pwd") || strings.HasSuffix(t, "pass") && !strings.HasSuffix(t, "bypass") && !strings.HasSuffix(t, "compass"):
			found = true
		}
	}
	return found
}

// vnPasswordKey reports whether the key ending at the anchor khẩu/khau at p is "mật khẩu",
// "mat khau", "mat_khau" or "matkhau".
func vnPasswordKey(b []byte, p int) (int, bool) {
	lo := max(0, p-6)
	for lo < p && !utf8RuneStart(b[lo]) {
		lo++
	}
	f := fold(nil, b[lo:p])
	for _, pre := range []string{"mat ", "mat_", "mat"} {
		if bytes.HasSuffix(f, []byte(pre)) {
			// Walk back over the original bytes of the prefix: three letters and a separator.
			ks := p
			for n := 0; n < len(pre) && ks > 0; n++ {
				ks--
				for ks > 0 && !utf8RuneStart(b[ks]) {
					ks--
				}
			}
			if ks > 0 && (isAlnum(b[ks-1]) || b[ks-1] >= 0x80) {
				return 0, false
			}
			return ks, true
		}
	}
	return 0, false
}

func (password) Find(b []byte, emit func(Match)) {
	var found []Match
	// URL user information: scheme://user:password@host.
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("://"))
		if j < 0 {
			break
		}
		p := i + j
		i = p + 3
		s := p
		for s > 0 && (isAlnum(b[s-1]) || b[s-1] == '+' || b[s-1] == '.' || b[s-1] == '-' || b[s-1] == ':') && p-s < 32 {
			s--
		}
		if s == p {
			continue
		}
		u := p + 3
		k := u
		for k < len(b) && k-u < 128 && b[k] != ':' && b[k] != '@' && b[k] != '/' && b[k] > ' ' {
			k++
		}
		if k >= len(b) || b[k] != ':' || k == u {
			continue
		}
		ps := k + 1
		pe := ps
		for pe < len(b) && pe-ps < 128 && b[pe] != '@' && b[pe] != '/' && b[pe] > ' ' && b[pe] != '"' && b[pe] != '\'' {
			pe++
		}
		if pe >= len(b) || b[pe] != '@' || pe+1 >= len(b) || !isAlnum(b[pe+1]) && b[pe+1] != '[' {
			continue
		}
		v := b[ps:pe]
		if placeholder(v, true) || bytes.Equal(v, b[u:k]) {
			continue
		}
		found = append(found, Match{Detector: SecretPassword, Offset: ps, Len: pe - ps,
			Masked: string(b[s:k]) + ":****@", Confidence: 0.95})
		i = pe
	}
	// Entries whose key names a password.
	seen := map[int]bool{} // key starts already read
	for ai, a := range passwordAnchors {
		for i := 0; ; {
			j := bytes.Index(b[i:], a)
			if j < 0 {
				break
			}
			p := i + j
			i = p + len(a)
			var e kv
			var ok bool
			if ai >= 4 { // mật khẩu
				ks, vok := vnPasswordKey(b, p)
				if !vok {
					continue
				}
				e, ok = kvAt(b, ks, p+len(a))
				if !ok {
					continue
				}
			} else {
				if p == 0 || b[p-1]|0x20 != 'p' {
					continue
				}
				e, ok = kvAt(b, p-1, p+len(a))
				if !ok || !passwordKey(b[e.ks:e.ke]) {
					continue
				}
			}
			if seen[e.ks] {
				continue
			}
			seen[e.ks] = true
			v := b[e.vs:e.ve]
			if placeholder(v, e.quoted) || !e.quoted && !e.clean {
				continue
			}
			conf := 0.7
			if e.quoted || e.clean {
				conf = 0.85
			}
			if len(v) >= 8 && (charClasses(v) >= 3 || entropy(v) >= 3.0) {
				conf += 0.1
			}
			found = append(found, Match{Detector: SecretPassword, Offset: e.vs, Len: e.ve - e.vs,
				Masked: nfc(b[e.ks:e.ke]) + "=****", Confidence: conf})
			i = e.ve
		}
	}
	emitSorted(b, found, emit)
}

// emitSorted emits matches in order of offset, dropping any that overlaps the one before.
func emitSorted(b []byte, found []Match, emit func(Match)) {
	if len(found) == 0 {
		return
	}
	slices.SortFunc(found, func(x, y Match) int { return x.Offset - y.Offset })
	lines := lineCounter{b: b}
	last := -1
	for _, m := range found {
		if m.Offset < last {
			continue
		}
		last = m.Offset + m.Len
		m.Line = lines.at(m.Offset)
		emit(m)
	}
}

// genericSecret finds the value of an api_key, secret, token or Bearer entry when it looks
// random: 16 characters or more of a key alphabet, entropy of 3.5 bits per character or more
// and letters mixed with digits. Values a specific detector knows (ghp_…, AKIA…, eyJ…) are
// left to it.
type genericSecret struct{}

func (genericSecret) ID() string { return SecretGeneric }

func (genericSecret) canonical(raw []byte) string { return string(raw) }

var genericAnchors = [][]byte{[]byte("key"), []byte("KEY"), []byte("Key"), []byte("secret"), []byte("SECRET"),
	[]byte("Secret"), []byte("token"), []byte("TOKEN"), []byte("Token")}

var keyQualifiers = map[string]bool{"api": true, "access": true, "secret": true, "private": true, "app": true,
	"auth": true, "master": true, "signing": true, "encryption": true, "license": true, "client": true,
	"x": true, "service": true, "subscription": true, "webhook": true, "account": true, "consumer": true,
	"jwt": true, "session": true, "hmac": true, "crypto": true, "aes": true}

var notSecretTokens = map[string]bool{"public": true, "publishable": true, "pub": true, "id": true,
	"name": true, "type": true, "path": true, "file": true, "url": true, "length": true, "size": true,
	"expiry": true, "expires": true, "ttl": true, "header": true, "prefix": true, "format": true,
	"field": true, "label": true, "count": true, "csrf": true, "xsrf": true, "primary": true,
	"foreign": true, "sort": true, "cache": true, "partition": true, "hash": true, "lifetime": true,
	"timeout": true, "max": true, "min": true, "limit": true, "usage": true, "endpoint": true,
	// Form and anti-forgery tokens, nonces and captcha site keys: web pages carry them by design.
	"authenticity": true, "forgery": true, "antiforgery": true, "csrfmiddlewaretoken": true,
	"requestverificationtoken": true, "nonce": true, "captcha": true, "recaptcha": true, "sitekey": true}

// secretKey reports whether key names a secret value.
func secretKey(key []byte) bool {
	if string(key) == "_token" { // Laravel's form token
		return false
	}
	toks := keyTokens(key)
	found := false
	for i, t := range toks {
		if notSecretTokens[t] || strings.Contains(t, "csrf") || strings.Contains(t, "xsrf") {
			return false
		}
		switch {
		case t == "secret" || t == "apikey" || t == "token" || t == "secretkey" || t == "accesstoken" ||
			t == "authtoken" || t == "clientsecret" || t == "appsecret" || strings.HasSuffix(t, "token") && len(t) > 5:
			found = true
		case t == "key" && i > 0 && keyQualifiers[toks[i-1]]:
			found = true
		case strings.HasSuffix(t, "apikey") || strings.HasSuffix(t, "secret") && len(t) > 6:
			found = true
		}
	}
	return found
}

var knownPrefixes = [][]byte{[]byte("ghp_"), []byte("gho_"), []byte("ghu_"), []byte("ghs_"), []byte("ghr_"),
	[]byte("github_pat_"), []byte("glpat-"), []byte("xox"), []byte("sk_live_"), []byte("sk_test_"),
	[]byte("rk_live_"), []byte("AKIA"), []byte("ASIA"), []byte("AIza"), []byte("eyJ"), []byte("SG."), []byte("npm_")}

// publicByDesign reports whether the value v of the entry whose key starts at ks is a key
// meant to be published: a publishable Stripe key (pk_live_, pk_test_), a Mapbox public
// token (pk.), or the search-only key of an Algolia or DocSearch client named just before it.
func publicByDesign(b []byte, ks int, v []byte) bool {
	for _, pre := range []string{"pk_live_", "pk_test_", "pk."} {
		if bytes.HasPrefix(v, []byte(pre)) {
			return true
		}
	}
	before := bytes.ToLower(b[max(0, ks-200):ks])
	return bytes.Contains(before, []byte("docsearch")) || bytes.Contains(before, []byte("algolia"))
}

func randomish(v []byte) bool {
	if len(v) < 16 || len(v) > 200 {
		return false
	}
	for _, c := range v {
		if !isAlnum(c) && c != '_' && c != '-' && c != '+' && c != '/' && c != '=' && c != '.' {
			return false
		}
	}
	var letters, digits bool
	for _, c := range v {
		letters = letters || isASCIILetter(c)
		digits = digits || isDigit(c)
	}
	return letters && digits && entropy(v) >= 3.5
}

// awsSecretValue reports whether the entry is an AWS secret access key: a key naming both aws
// (or SecretAccessKey) and a 40-character base64 value.
func awsSecretValue(key, v []byte) bool {
	if len(v) != 40 {
		return false
	}
	for _, c := range v {
		if !isAlnum(c) && c != '+' && c != '/' {
			return false
		}
	}
	k := strings.ToLower(string(key))
	return strings.Contains(k, "secret") && (strings.Contains(k, "aws") || strings.Contains(k, "secretaccesskey") || strings.Contains(k, "secret_access_key"))
}

func findSecretKV(b []byte, aws bool) []Match {
	var found []Match
	seen := map[int]bool{}
	for _, a := range genericAnchors {
		for i := 0; ; {
			j := bytes.Index(b[i:], a)
			if j < 0 {
				break
			}
			p := i + j
			i = p + len(a)
			e, ok := kvAt(b, p, p+len(a))
			if !ok || seen[e.ks] {
				continue
			}
			seen[e.ks] = true
			key, v := b[e.ks:e.ke], b[e.vs:e.ve]
			isAWS := awsSecretValue(key, v)
			if isAWS != aws {
				continue
			}
			if isAWS {
				if entropy(v) < 4.0 || bytes.Contains(v, []byte("EXAMPLE")) {
					continue
				}
				found = append(found, Match{Detector: SecretAWSSecret, Offset: e.vs, Len: e.ve - e.vs,
					Masked: maskSecret(v, 4), Confidence: 0.95})
				i = e.ve
				continue
			}
			if !secretKey(key) || !randomish(v) || len(v) == 88 && strings.EqualFold(string(key), "AccountKey") {
				continue
			}
			known := false
			for _, pre := range knownPrefixes {
				if bytes.HasPrefix(v, pre) {
					known = true
					break
				}
			}
			if known || publicByDesign(b, e.ks, v) {
				continue
			}
			conf := 0.65
			if entropy(v) >= 4.0 {
				conf = 0.8
			}
			found = append(found, Match{Detector: SecretGeneric, Offset: e.vs, Len: e.ve - e.vs,
				Masked: maskSecret(v, 4), Confidence: conf})
			i = e.ve
		}
	}
	if !aws {
		for i := 0; ; {
			j := bytes.Index(b[i:], []byte("Bearer "))
			if j < 0 {
				break
			}
			p := i + j + len("Bearer ")
			i = p
			e := p
			for e < len(b) && (isURL64(b[e]) || b[e] == '.' || b[e] == '+' || b[e] == '/' || b[e] == '=') {
				e++
			}
			v := b[p:e]
			if bytes.HasPrefix(v, []byte("eyJ")) || !randomish(v) {
				continue
			}
			found = append(found, Match{Detector: SecretGeneric, Offset: p, Len: e - p, Masked: maskSecret(v, 4), Confidence: 0.8})
			i = e
		}
	}
	return found
}

func (genericSecret) Find(b []byte, emit func(Match)) { emitSorted(b, findSecretKV(b, false), emit) }

// awsSecret finds AWS secret access keys: forty base64 characters of high entropy as the value
// of an entry naming them (aws_secret_access_key, AWS_SECRET_KEY, SecretAccessKey).
type awsSecret struct{}

func (awsSecret) ID() string { return SecretAWSSecret }

func (awsSecret) canonical(raw []byte) string { return string(raw) }

func (awsSecret) Find(b []byte, emit func(Match)) { emitSorted(b, findSecretKV(b, true), emit) }
