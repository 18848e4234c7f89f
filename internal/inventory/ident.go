package inventory

import (
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/khien-vn/khien/internal/errs"
)

// Kind is the kind of a unified identifier, the part before the colon.
type Kind string

// The identifier kinds.
const (
	KindDNS  Kind = "dns"  // a domain name: dns:portal.hanoi.gov.vn
	KindIP   Kind = "ip"   // one address: ip:192.0.2.10, ip:2001:db8::1
	KindCIDR Kind = "cidr" // a network: cidr:192.0.2.0/28
	KindURL  Kind = "url"  // a web application: url:https://portal.hanoi.gov.vn/app
	KindHost Kind = "host" // a machine with Khiên's agent: host:<agent id>
	KindDB   Kind = "db"   // a database: db:postgres://db.hanoi.gov.vn/hoso or db:<name>
	// KindFile is a file location on the host running Khiên's server or worker, read by the
	// data-security scan only under the directories its operator allows (--data-root):
	// file:/srv/share/ho-so.
	KindFile Kind = "file"
)

// Kinds lists the identifier kinds.
var Kinds = []Kind{KindDNS, KindIP, KindCIDR, KindURL, KindHost, KindDB, KindFile}

// idnaProfile is the IDNA2008 lookup profile browsers use, so that "bộ-y-tế.vn" and its
// "xn--" form normalize to one resource. It is safe for concurrent use.
var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false), idna.StrictDomainName(true))

// Normalize returns the canonical form of a unified identifier such as "dns:Bộ-Y-Tế.vn.", or
// an *errs.Error of kind Invalid (field "id") saying what is wrong with it.
func Normalize(id string) (string, error) {
	id = strings.TrimSpace(id)
	if !utf8.ValidString(id) {
		// IDNA would turn the bad bytes into U+FFFD, whose xn-- form it then refuses.
		return "", errs.Field("id", "%q is not valid UTF-8 text", id)
	}
	kind, value, ok := strings.Cut(id, ":")
	if !ok || kind == "" {
		return "", errs.Field("id", "%q has no kind prefix; write one of dns:, ip:, cidr:, url:, host:, db:, file:", id)
	}
	value = strings.TrimSpace(value)
	if value == "" {
		return "", errs.Field("id", "%q has nothing after %q", id, kind+":")
	}
	var (
		norm string
		err  *errs.Error
	)
	switch Kind(strings.ToLower(kind)) {
	case KindDNS:
		norm, err = normalizeName(value)
	case KindIP:
		norm, err = normalizeIP(value)
	case KindCIDR:
		norm, err = normalizeCIDR(value)
	case KindURL:
		norm, err = normalizeURL(value)
	case KindHost:
		norm, err = normalizeAgentID(value)
	case KindDB:
		norm, err = normalizeDB(value)
	case KindFile:
		norm, err = normalizeFile(value)
	default:
		return "", errs.Field("id", "unknown kind %q in %q; use one of dns, ip, cidr, url, host, db, file", kind, id)
	}
	if err != nil {
		return "", errs.Field("id", "%q: %s", id, err.Msg)
	}
	return strings.ToLower(kind) + ":" + norm, nil
}

// ParseTarget turns what a person types on the command line ("hanoi.gov.vn", "192.0.2.1",
// "https://…", "192.0.2.0/28" or a full identifier) into a normalized identifier.
func ParseTarget(s string) (string, error) {
	s = strings.TrimSpace(s)
	if k, _, ok := strings.Cut(s, ":"); ok {
		switch Kind(strings.ToLower(k)) {
		case KindDNS, KindIP, KindCIDR, KindURL, KindHost, KindDB, KindFile:
			return Normalize(s)
		}
	}
	switch {
	case strings.HasPrefix(s, "/"):
		return Normalize("file:" + s)
	case strings.Contains(s, "://"):
		return Normalize("url:" + s)
	case strings.Contains(s, "/"):
		return Normalize("cidr:" + s)
	}
	if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return Normalize("ip:" + strings.Trim(s, "[]"))
	}
	return Normalize("dns:" + s)
}

// normalizeName lower-cases a domain name, drops a final dot and converts Unicode labels to
// their IDNA "xn--" form, checking label syntax and lengths (RFC 1035, RFC 5891).
func normalizeName(name string) (string, *errs.Error) {
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return "", errs.E(errs.Invalid, "empty domain name")
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return "", errs.E(errs.Invalid, "an IP address is not a domain name; use ip:")
	}
	// Allow the leading "_" labels of service records (_dmarc.example.vn) and a leading "*."
	// wildcard, which StrictDomainName would refuse.
	prefix := ""
	for {
		label, rest, ok := strings.Cut(name, ".")
		if !ok || !(strings.HasPrefix(label, "_") || label == "*") {
			break
		}
		if label != "*" && !isLDH(label[1:]) {
			return "", errs.E(errs.Invalid, "label %q is not valid", label)
		}
		prefix += strings.ToLower(label) + "."
		name = rest
	}
	ascii, err := idnaProfile.ToASCII(name)
	if err != nil {
		return "", errs.E(errs.Invalid, "not a valid domain name (%v)", err)
	}
	// IDNA maps full-width digits and dots to ASCII, so "１.２.３.４" passes the check above
	// and comes out as an address.
	if _, err := netip.ParseAddr(ascii); err == nil {
		return "", errs.E(errs.Invalid, "is the IP address %s written in other characters; write it in ASCII digits", ascii)
	}
	ascii = prefix + strings.ToLower(ascii)
	// No top-level domain is all digits; a name ending in one is a mistyped address
	// ("999.1.1.1"), which browsers refuse as a host too (WHATWG URL, "ends in a number").
	if last := ascii[strings.LastIndex(ascii, ".")+1:]; last != "" && strings.Trim(last, "0123456789") == "" {
		return "", errs.E(errs.Invalid, "ends in the number %s, which no top-level domain is; for an IP address use ip:", last)
	}
	if len(ascii) > 253 {
		return "", errs.E(errs.Invalid, "domain name is %d characters long, more than 253", len(ascii))
	}
	for _, label := range strings.Split(ascii, ".") {
		switch {
		case label == "":
			return "", errs.E(errs.Invalid, "domain name has an empty label")
		case len(label) > 63:
			return "", errs.E(errs.Invalid, "label %q is longer than 63 characters", label)
		case strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-"):
			return "", errs.E(errs.Invalid, "label %q starts or ends with a hyphen", label)
		}
	}
	return ascii, nil
}

func isLDH(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return s != ""
}

// normalizeIP returns the canonical text of one address: IPv4-mapped IPv6 becomes IPv4, IPv6
// is compressed and lower-case (RFC 5952). Zones are refused: they mean nothing off one host.
func normalizeIP(s string) (string, *errs.Error) {
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return "", errs.E(errs.Invalid, "not an IP address")
	}
	if a.Zone() != "" {
		return "", errs.E(errs.Invalid, "an address with a zone (%%%s) cannot be scanned from elsewhere", a.Zone())
	}
	return a.Unmap().String(), nil
}

// normalizeCIDR masks a prefix to its network ("192.0.2.7/24" becomes "192.0.2.0/24").
func normalizeCIDR(s string) (string, *errs.Error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return "", errs.E(errs.Invalid, "not a network in CIDR form (address/bits)")
	}
	if p.Addr().Is4In6() {
		bits := p.Bits() - 96
		if bits < 0 {
			return "", errs.E(errs.Invalid, "IPv4-mapped prefix is shorter than /96")
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), bits)
	}
	return p.Masked().String(), nil
}

var defaultPorts = map[string]string{"http": "80", "https": "443", "postgres": "5432", "postgresql": "5432", "mysql": "3306"}

// normalizeURL keeps http(s) URLs only, lower-cases scheme and host, converts the host to
// IDNA, drops the default port, the fragment and an empty path's absence ("/" is added).
func normalizeURL(s string) (string, *errs.Error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", errs.E(errs.Invalid, "not a URL (%v)", unwrapURLError(err))
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", errs.E(errs.Invalid, "scheme must be http or https, got %q", u.Scheme)
	}
	if u.User != nil {
		return "", errs.E(errs.Invalid, "credentials do not belong in the inventory; remove the user:password@ part")
	}
	host, e := normalizeHostPort(u.Scheme, u.Host)
	if e != nil {
		return "", e
	}
	u.Host = host
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String(), nil
}

// normalizeHostPort normalizes "host[:port]" of a URL, removing the scheme's default port.
func normalizeHostPort(scheme, hostport string) (string, *errs.Error) {
	if hostport == "" {
		return "", errs.E(errs.Invalid, "URL has no host")
	}
	host, port := hostport, ""
	if h, p, err := splitHostPort(hostport); err == nil {
		host, port = h, p
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", errs.E(errs.Invalid, "port %q is not 1 to 65535", port)
		}
		port = strconv.Itoa(n)
		if port == defaultPorts[scheme] {
			port = ""
		}
	}
	var out string
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		ip, e := normalizeIP(a.String())
		if e != nil {
			return "", e
		}
		out = ip
		if a.Unmap().Is6() {
			out = "[" + ip + "]"
		}
	} else {
		name, e := normalizeName(host)
		if e != nil {
			return "", e
		}
		out = name
	}
	if port != "" {
		out += ":" + port
	}
	return out, nil
}

// splitHostPort is net.SplitHostPort without importing net into the domain package.
func splitHostPort(hp string) (host, port string, err error) {
	if strings.HasPrefix(hp, "[") {
		end := strings.Index(hp, "]")
		if end < 0 {
			return "", "", errs.E(errs.Invalid, "missing ']'")
		}
		host, rest := hp[:end+1], hp[end+1:]
		if rest == "" {
			return host, "", nil
		}
		if !strings.HasPrefix(rest, ":") {
			return "", "", errs.E(errs.Invalid, "junk after ']'")
		}
		return host, rest[1:], nil
	}
	if strings.Count(hp, ":") == 1 {
		h, p, _ := strings.Cut(hp, ":")
		return h, p, nil
	}
	return hp, "", nil
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// normalizeAgentID accepts the ids Khiên's agent enrolls with: lower-case letters, digits, '-', '_', '.'.
func normalizeAgentID(s string) (string, *errs.Error) {
	if len(s) > 128 {
		return "", errs.E(errs.Invalid, "agent id is longer than 128 characters")
	}
	// Check before lower-casing: strings.ToLower turns the Kelvin sign (U+212A) into "k".
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return "", errs.E(errs.Invalid, "agent id may hold only letters, digits, '-', '_' and '.'")
		}
	}
	return strings.ToLower(s), nil
}

// normalizeDB accepts a database as a DSN-like URL (postgres://host[:port]/name, mysql://…)
// without credentials, or as a plain name known to the agency.
func normalizeDB(s string) (string, *errs.Error) {
	if !strings.Contains(s, "://") {
		if e := validCode(s); e != nil {
			return "", errs.E(errs.Invalid, "database name %s", e.Msg)
		}
		return strings.ToLower(s), nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", errs.E(errs.Invalid, "not a database URL (%v)", unwrapURLError(err))
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch u.Scheme {
	case "postgres", "postgresql":
		u.Scheme = "postgres"
	case "mysql":
	default:
		return "", errs.E(errs.Invalid, "database scheme must be postgres or mysql, got %q", u.Scheme)
	}
	if u.User != nil {
		return "", errs.E(errs.Invalid, "credentials do not belong in the inventory; remove the user:password@ part")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", errs.E(errs.Invalid, "a database identifier takes no query or fragment")
	}
	host, e := normalizeHostPort(u.Scheme, u.Host)
	if e != nil {
		return "", e
	}
	// The escaped path, not u.Path: unescaping "%3F" would give a "?" that the next parse
	// reads as a query, so a normalized identifier would normalize to something else.
	name := strings.Trim(u.EscapedPath(), "/")
	if name == "" {
		return "", errs.E(errs.Invalid, "database URL names no database (…/name)")
	}
	return u.Scheme + "://" + host + "/" + name, nil
}

// maxFilePath bounds a file location's path, as Linux's PATH_MAX does.
const maxFilePath = 4096

// normalizeFile accepts an absolute slash-separated path and cleans it ("//", "/./" and a
// final "/" go). A ".." element is refused rather than resolved: a location means one
// directory, and the data roots that fence the scan are compared with it lexically, so a path
// that climbs would be a trap for whoever reads the inventory. Control characters (NUL above
// all, which the kernel stops at) are refused too. Case is kept: file systems are
// case-sensitive.
func normalizeFile(s string) (string, *errs.Error) {
	if !strings.HasPrefix(s, "/") {
		return "", errs.E(errs.Invalid, "a file location is an absolute path starting with /")
	}
	if len(s) > maxFilePath {
		return "", errs.E(errs.Invalid, "path is %d bytes long, more than %d", len(s), maxFilePath)
	}
	for _, r := range s {
		if r < 0x20 || r >= 0x7f && r < 0xa0 {
			return "", errs.E(errs.Invalid, "path holds the control character %U", r)
		}
	}
	for _, elem := range strings.Split(s, "/") {
		if elem == ".." {
			return "", errs.E(errs.Invalid, "path climbs with \"..\"; write the directory it means")
		}
		// Identifiers are trimmed, so "/a /" would clean to "/a " and then trim to "/a":
		// refuse the space at the end of a name rather than let one path name two places.
		if t := strings.TrimRightFunc(elem, unicode.IsSpace); t != elem {
			return "", errs.E(errs.Invalid, "the name %q ends with a space", elem)
		}
	}
	return path.Clean(s), nil
}
