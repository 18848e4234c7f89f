package vuln

import (
	"regexp"
	"slices"
	"strings"
)

// Confidence says how sure a match is.
type Confidence string

// Confidence labels.
const (
	// VersionInferred: the version a banner shows is in an affected range. Distributions
	// backport fixes without changing it, so this alone may not block the gate.
	VersionInferred Confidence = "version-inferred"
	// Confirmed: the flaw itself was observed by a safe probe.
	Confirmed Confidence = "confirmed"
)

// Software is a product and version read from a banner or header.
type Software struct {
	Product string // lower-case canonical name: "nginx", "apache httpd", "openssh", "php"
	Version string
	Source  string // where it was read: "Server header https://x:443", "banner 127.0.0.1:22"
	Raw     string // the banner or header value as seen
}

// Match is an advisory that applies to a piece of software.
type Match struct {
	Software       Software
	Advisory       string   // OSV id
	CVEs           []string // CVE ids of the advisory
	Summary        string
	KnownExploited bool // a CVE of the advisory is in the KEV catalog
	KEVDueDate     string
	Confidence     Confidence
}

// Index answers "which advisories affect this product at this version". It is immutable once
// built and safe for concurrent use.
type Index struct {
	byProduct              map[string][]entry
	kev                    map[string]KEV
	advisories, kevEntries int
}

type entry struct {
	adv Advisory
	af  Affected
}

// NewIndex indexes advisories by the products they affect and marks the CVEs of kev as known
// exploited.
func NewIndex(advs []Advisory, kev []KEV) *Index {
	ix := &Index{byProduct: map[string][]entry{}, kev: map[string]KEV{}, advisories: len(advs), kevEntries: len(kev)}
	for _, k := range kev {
		ix.kev[k.CVE] = k
	}
	for _, a := range advs {
		for _, af := range a.Affected {
			p := CanonicalProduct(af.Package.Name)
			ix.byProduct[p] = append(ix.byProduct[p], entry{a, af})
		}
	}
	return ix
}

// Size returns how many advisories and KEV entries the index holds.
func (ix *Index) Size() (advisories, kev int) { return ix.advisories, ix.kevEntries }

// Lookup returns the advisories affecting s, known-exploited first, each once.
func (ix *Index) Lookup(s Software) []Match {
	if ix == nil || s.Version == "" {
		return nil
	}
	var out []Match
	seen := map[string]bool{}
	for _, e := range ix.byProduct[CanonicalProduct(s.Product)] {
		if seen[e.adv.ID] || !e.af.Affects(s.Version) {
			continue
		}
		seen[e.adv.ID] = true
		m := Match{Software: s, Advisory: e.adv.ID, CVEs: e.adv.CVEs(), Summary: e.adv.Summary, Confidence: VersionInferred}
		for _, c := range m.CVEs {
			if k, ok := ix.kev[c]; ok {
				m.KnownExploited, m.KEVDueDate = true, k.DueDate
			}
		}
		out = append(out, m)
	}
	slices.SortStableFunc(out, func(a, b Match) int {
		if a.KnownExploited != b.KnownExploited {
			if a.KnownExploited {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Advisory, b.Advisory)
	})
	return out
}

// aliases maps the names products go by in banners and feeds to one canonical name.
var aliases = map[string]string{
	"apache": "apache httpd", "httpd": "apache httpd", "apache http server": "apache httpd", "apache-httpd": "apache httpd",
	"openssh": "openssh", "openssh_": "openssh",
	"microsoft-iis": "microsoft iis", "iis": "microsoft iis",
	"vsftpd": "vsftpd", "proftpd": "proftpd", "exim": "exim", "postfix": "postfix",
	"php": "php", "nginx": "nginx", "openresty": "openresty", "lighttpd": "lighttpd",
	"tomcat": "apache tomcat", "apache-coyote": "apache tomcat", "apache tomcat": "apache tomcat",
	"jetty": "eclipse jetty", "openssl": "openssl",
}

// CanonicalProduct lower-cases a product name and maps known aliases.
func CanonicalProduct(p string) string {
	p = strings.ToLower(strings.TrimSpace(p))
	if c, ok := aliases[p]; ok {
		return c
	}
	return p
}

var (
	// "nginx/1.18.0", "Apache/2.4.49 (Unix) OpenSSL/1.1.1k PHP/7.4.3", "Microsoft-IIS/8.5"
	productSlashVersion = regexp.MustCompile(`([A-Za-z][A-Za-z0-9_.\-]*)/(\d+(?:\.\d+)*[a-z]?\d*(?:p\d+)?)`)
	// "SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5"
	sshBanner = regexp.MustCompile(`^SSH-\d\.\d+-([A-Za-z]+)[_-](\d+(?:\.\d+)*(?:p\d+)?)`)
	// "220 (vsFTPd 2.3.4)", "220 ProFTPD 1.3.5 Server", "220 mail.x ESMTP Exim 4.92"
	wordVersion = regexp.MustCompile(`\b(vsFTPd|ProFTPD|Exim|Postfix|Pure-FTPd|FileZilla Server)[ /]v?(\d+(?:\.\d+)+[a-z]?)`)
)

// ParseBanner reads every product/version pair in a header value or service banner.
func ParseBanner(raw, source string) []Software {
	var out []Software
	add := func(p, v string) {
		s := Software{Product: CanonicalProduct(p), Version: v, Source: source, Raw: raw}
		if !slices.ContainsFunc(out, func(o Software) bool { return o.Product == s.Product && o.Version == s.Version }) {
			out = append(out, s)
		}
	}
	if m := sshBanner.FindStringSubmatch(raw); m != nil {
		add(m[1], m[2])
		return out
	}
	for _, m := range wordVersion.FindAllStringSubmatch(raw, -1) {
		add(m[1], m[2])
	}
	for _, m := range productSlashVersion.FindAllStringSubmatch(raw, -1) {
		add(m[1], m[2])
	}
	return out
}
