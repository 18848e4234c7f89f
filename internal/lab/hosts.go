package lab

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/exposure"
	"github.com/khien-vn/khien/internal/lab/datalab"
	"github.com/khien-vn/khien/internal/lab/dnslab"
	"github.com/khien-vn/khien/internal/lab/exposurelab"
	"github.com/khien-vn/khien/internal/lab/tlslab"
	"github.com/khien-vn/khien/internal/lab/weblab"
)

// The scenarios. Each scenario host is named <scenario>.lab.khien.test, except the good and
// bad hosts, which are the apexes of dnslab's GoodZone and BadZone.
const (
	Good       = "good"       // passes every check of every family
	Bad        = "bad"        // an old portal: fails every header check, leaks files, Apache 2.4.49, bad DNS and mail
	Typical    = "typical"    // the typical agency site, as the benchmark hosts are
	NoHTTPS    = "nohttps"    // plain HTTP only
	OldTLS     = "oldtls"     // TLS 1.0 to 1.2 with 3DES and RC4 next to good suites, no TLS 1.3
	Legacy     = "legacy"     // TLS 1.0 to 1.2 with RSA key exchange only (no forward secrecy)
	SSL3       = "ssl3"       // SSL 3.0 with NULL, EXPORT, anonymous and DES suites
	Expired    = "expired"    // certificate expired 30 days ago
	Expiring   = "expiring"   // certificate ends in 10 days
	SelfSigned = "selfsigned" // certificate not issued by the lab CA
	WrongName  = "wrongname"  // certificate for another name
	WeakKey    = "weakkey"    // RSA 1024 certificate key
	SHA1       = "sha1"       // certificate signed with ECDSA-SHA1
	Database   = "database"   // six databases answering on their standard ports
	Camera     = "camera"     // an IP camera: Telnet, VNC, RDP, SMB and a web interface on 80 and 8080
	Leak       = "leak"       // public pages listing citizen IDs and phone numbers, a TUYỆT MẬT stamp
	Bench      = "bench"      // a benchmark host: Typical on a name of its own
)

// sshBanner is what the database host's SSH port says: a version with an advisory that is not
// known to be exploited, so the vuln family passes it with the advisory in evidence.
const sshBanner = "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10"

// mxNames are the names of the mail exchanger that offers STARTTLS (its certificate's names).
func mxNames() []string {
	return []string{"mx1." + dnslab.GoodDomain, "mx2." + dnslab.GoodDomain, "mx." + demoDomain}
}

// spec is a scenario host and how to build it.
type spec struct {
	scenario string
	octet    byte // the host's address is .1.<octet> under the lab's prefix
	name     string
	system   string
	about    check.Text
	fails    []string

	// The HTTPS side of a web host: a certificate variant and key, or a whole TLS profile.
	web     func(s *spec) weblab.Config // nil: no web host
	cert    tlslab.CertVariant
	key     tlslab.KeyType
	profile *tlslab.Profile
	// raw serves tlslab's legacy raw responder on 443 (SSL 3.0: no web host can speak it).
	raw      bool
	services []string // exposure protocols answering on their standard ports
	ssh      string   // banner on port 22
	// extraHTTPS and extraHTTP are further ports the web host is served on.
	extraHTTPS, extraHTTP []int

	addr    netip.Addr
	aliases []string // other names that resolve to the host (the demo's)
}

// Host returns the exported description of s.
func (s *spec) Host() Host {
	return Host{Name: s.name, Addr: s.addr, Scenario: s.scenario, System: s.system, About: s.about, Fails: s.fails}
}

// names returns every name the host answers for: its own, its aliases and its address.
func (s *spec) names() []string {
	return append(append([]string{s.name}, s.aliases...), s.addr.String())
}

func labName(label string) string { return label + "." + dnslab.BaseZone }

// Check ids, to keep the scenario table readable.
const (
	tlsSSL3 = "tls.protocol.ssl3"
	tls10   = "tls.protocol.tls10"
	tls11   = "tls.protocol.tls11"
	noTLS13 = "tls.protocol.no_tls13"
	weakCip = "tls.cipher.weak"
	noFS    = "tls.cipher.no_forward_secrecy"
)

// scenarios returns the scenario hosts in address order.
func scenarios() []spec {
	return []spec{
		{
			scenario: Good, octet: 1, name: dnslab.GoodDomain, system: "lab-good",
			about: check.Text{VI: "trang mẫu đạt mọi kiểm tra", EN: "the model site: passes every check"},
			web: func(s *spec) weblab.Config {
				c := weblab.Good(s.name)
				c.Handler = exposurelab.CleanSite(nil)
				return c
			},
			cert: tlslab.CertGood, key: tlslab.KeyECDSA256,
		},
		{
			scenario: Bad, octet: 2, name: dnslab.BadDomain, system: "lab-bad",
			about: check.Text{VI: "cổng cũ: thiếu mọi tiêu đề, lộ .git/.env/bản sao lưu, Apache 2.4.49, DNS và thư điện tử yếu",
				EN: "an old portal: every header wrong, .git/.env/backup exposed, Apache 2.4.49, weak DNS and mail"},
			web: func(s *spec) weblab.Config {
				c := weblab.Bad(s.name)
				c.Handler = exposedSite()
				return c
			},
			cert: tlslab.CertGood, key: tlslab.KeyECDSA256,
			fails: []string{
				"http.redirect.missing", "http.hsts.missing", "http.csp.unsafe", "http.xcto.missing", "http.framing.unprotected",
				"http.referrer.unsafe", "http.cookie.insecure", "http.cors.permissive", "http.version_disclosure", "http.mixed_content",
				"exposure.git", "exposure.env", "exposure.backup", "exposure.directory_listing", "exposure.admin_interface", "exposure.security_txt.missing",
				"dns.dnssec.missing", "dns.caa.missing", "dns.cname.dangling",
				"mail.spf.permissive", "mail.dmarc.weak", "mail.starttls.missing",
				"dns.axfr.open", "vuln.known_exploited",
			},
		},
		{
			scenario: Typical, octet: 3, name: labName(Typical), system: "lab-typical",
			about: check.Text{VI: "trang thông tin điển hình: HTTPS, HSTS ngắn, thiếu CSP và Referrer-Policy, lộ phiên bản",
				EN: "a typical agency site: HTTPS, short HSTS, no CSP or Referrer-Policy, version banner"},
			web:  func(s *spec) weblab.Config { return typicalConfig(s.name) },
			cert: tlslab.CertGood, key: tlslab.KeyECDSA256,
			fails: typicalFails,
		},
		{
			scenario: NoHTTPS, octet: 4, name: labName(NoHTTPS), system: "lab-nohttps",
			about: check.Text{VI: "chỉ có HTTP, không có HTTPS", EN: "plain HTTP only, no HTTPS"},
			web: func(s *spec) weblab.Config {
				c := weblab.BadHTTPOnly(s.name)
				c.Server, c.PoweredBy = "Microsoft-IIS/8.5", "ASP.NET"
				return c
			},
			fails: []string{"http.https.missing", "http.redirect.missing", "http.hsts.missing", "http.csp.missing", "http.xcto.missing",
				"http.framing.unprotected", "http.referrer.unsafe", "http.cookie.insecure", "http.cors.permissive", "http.version_disclosure",
				"exposure.security_txt.missing"},
		},
		{
			scenario: OldTLS, octet: 5, name: labName(OldTLS), system: "lab-oldtls",
			about: check.Text{VI: "TLS cũ: TLS 1.0 và 1.1, 3DES và RC4, không có TLS 1.3", EN: "old TLS: TLS 1.0 and 1.1, 3DES and RC4, no TLS 1.3"},
			web:   cleanWeb, profile: &oldTLS,
			fails: []string{tls10, tls11, noTLS13, weakCip},
		},
		{
			scenario: Legacy, octet: 6, name: labName(Legacy), system: "lab-legacy",
			about: check.Text{VI: "TLS chỉ trao đổi khóa RSA: không có bí mật chuyển tiếp", EN: "TLS with RSA key exchange only: no forward secrecy"},
			web:   cleanWeb, profile: &tlslab.Legacy,
			fails: []string{tls10, tls11, noTLS13, weakCip, noFS},
		},
		{
			scenario: SSL3, octet: 7, name: labName(SSL3), system: "lab-ssl3",
			about: check.Text{VI: "SSL 3.0 với bộ mã NULL, EXPORT, ẩn danh, DES", EN: "SSL 3.0 with NULL, EXPORT, anonymous and DES suites"},
			raw:   true,
			fails: []string{tlsSSL3, tls10, noTLS13, weakCip, noFS},
		},
		certHost(Expired, 8, tlslab.CertExpired, check.Text{VI: "chứng thư số đã hết hạn", EN: "expired certificate"}, "tls.cert.expired"),
		certHost(Expiring, 9, tlslab.CertExpiring, check.Text{VI: "chứng thư số hết hạn sau 10 ngày", EN: "certificate ending in 10 days"}, "tls.cert.expiring"),
		// Also on 8443, where the demo's integration platform (lgsp) serves its API.
		withHTTPS(certHost(SelfSigned, 10, tlslab.CertSelfSigned, check.Text{VI: "chứng thư số tự ký", EN: "self-signed certificate"}, "tls.cert.untrusted"), 8443),
		certHost(WrongName, 11, tlslab.CertWrongName, check.Text{VI: "chứng thư số cấp cho tên khác", EN: "certificate for another name"}, "tls.cert.hostname_mismatch"),
		certHost(WeakKey, 12, tlslab.CertWeakKey, check.Text{VI: "khóa RSA 1024 bit", EN: "1024-bit RSA key"}, "tls.cert.weak_key"),
		certHost(SHA1, 13, tlslab.CertSHA1, check.Text{VI: "chứng thư số ký bằng SHA-1", EN: "certificate signed with SHA-1"}, "tls.cert.untrusted", "tls.cert.weak_signature"),
		{
			scenario: Database, octet: 14, name: labName(Database), system: "lab-database",
			about: check.Text{VI: "PostgreSQL, MySQL, SQL Server, MongoDB, Redis, Elasticsearch mở ra ngoài; SSH; trang HTTP",
				EN: "PostgreSQL, MySQL, SQL Server, MongoDB, Redis and Elasticsearch open; SSH; an HTTP page"},
			web: func(s *spec) weblab.Config {
				return weblab.Config{Name: s.name, NoHTTPS: true, Server: "nginx", XCTO: "nosniff", FrameOptions: "DENY",
					ReferrerPolicy: "no-referrer", CSP: "default-src 'self'", Body: databasePage}
			},
			services: exposurelab.Databases, ssh: sshBanner,
			fails: []string{"http.https.missing", "http.redirect.missing", "http.hsts.missing", "exposure.security_txt.missing", "exposure.service.database"},
		},
		{
			scenario: Camera, octet: 15, name: labName(Camera), system: "lab-camera",
			about: check.Text{VI: "camera IP: Telnet, VNC, RDP, SMB mở; giao diện web HTTP trên cổng 80 và 8080",
				EN: "an IP camera: Telnet, VNC, RDP and SMB open; a web interface over HTTP on 80 and 8080"},
			web: func(s *spec) weblab.Config {
				return weblab.Config{Name: s.name, NoHTTPS: true, Server: "Boa/0.94.14rc21", Body: cameraPage}
			},
			extraHTTP: []int{8080},
			services:  exposurelab.RemoteAdmin,
			fails: []string{"http.https.missing", "http.redirect.missing", "http.hsts.missing", "http.csp.missing", "http.xcto.missing",
				"http.framing.unprotected", "http.referrer.unsafe", "http.version_disclosure", "exposure.security_txt.missing",
				"exposure.service.remote_admin"},
		},
		{
			scenario: Leak, octet: 16, name: labName(Leak), system: "lab-leak",
			about: check.Text{VI: "trang công khai danh sách số CCCD, số điện thoại, văn bản đóng dấu TUYỆT MẬT và khóa riêng, mật khẩu cơ sở dữ liệu bỏ quên trong mã nguồn trang",
				EN: "public pages listing citizen IDs and phone numbers, a document stamped TUYỆT MẬT, and a private key and database password left in a page's source"},
			web: func(s *spec) weblab.Config {
				c := weblab.Good(s.name)
				c.Handler = mustHandler(datalab.Handler(datalab.Leaky))
				return c
			},
			cert: tlslab.CertGood, key: tlslab.KeyECDSA256,
			fails: []string{"exposure.security_txt.missing", "data.pii.public", "data.classified.public", "data.secret.public"},
		},
	}
}

// oldTLS is a server configured years ago and never touched: TLS 1.0 to 1.2, a good ECDHE
// suite first (so browsers still get forward secrecy) and 3DES and RC4 left enabled.
var oldTLS = tlslab.Profile{
	Name:       "old",
	MinVersion: tls.VersionTLS10,
	MaxVersion: tls.VersionTLS12,
	CipherSuites: []uint16{
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
		tls.TLS_RSA_WITH_RC4_128_SHA,
	},
	Cert: tlslab.CertGood,
	Key:  tlslab.KeyRSA2048,
}

// cleanWeb is the good host's web side: every header right, a soft 404, a security.txt.
func cleanWeb(s *spec) weblab.Config {
	c := weblab.Good(s.name)
	c.Handler = exposurelab.CleanSite(nil)
	return c
}

// certHost is a good host whose certificate has one defect.
func certHost(scenario string, octet byte, v tlslab.CertVariant, about check.Text, fails ...string) spec {
	return spec{
		scenario: scenario, octet: octet, name: labName(scenario), system: "lab-" + scenario,
		about: about, web: cleanWeb, cert: v, key: tlslab.KeyECDSA256, fails: fails,
	}
}

func withHTTPS(s spec, ports ...int) spec {
	s.extraHTTPS = ports
	return s
}

// typicalFails are the checks the typical site fails on the web.
var typicalFails = []string{"http.hsts.short", "http.csp.missing", "http.referrer.unsafe", "http.cookie.insecure",
	"http.version_disclosure", "exposure.security_txt.missing"}

// typicalConfig is the typical agency site: HTTPS with a redirect from HTTP, but HSTS for six
// months only, no CSP and no Referrer-Policy, a version banner, a session cookie without
// Secure, and no security.txt.
func typicalConfig(name string) weblab.Config {
	return weblab.Config{
		Name:         name,
		RedirectHTTP: true,
		HSTS:         "max-age=15552000",
		XCTO:         "nosniff",
		FrameOptions: "SAMEORIGIN",
		Server:       "nginx/1.24.0",
		Cookies:      []string{"PHPSESSID=lab-session; path=/; HttpOnly"},
		Handler:      typicalSite(),
	}
}

func mustHandler[T any](h T, err error) T {
	if err != nil {
		panic(err) // the lab's own constants are wrong: a programming error
	}
	return h
}

// startHost starts every server of s.
func (l *Lab) startHost(ctx context.Context, s *spec) error {
	names := s.names()
	if s.web != nil {
		cfg := s.web(s)
		cfg.IP = s.addr.String()
		cfg.HTTPPort, cfg.HTTPSPort = 80, 443
		cfg.Aliases = append(cfg.Aliases, names[1:]...)
		cfg.Middleware = l.middleware(s.scenario == Bad)
		if !cfg.NoHTTPS {
			if s.profile != nil {
				tc, err := s.profile.Config(l.CA, names)
				if err != nil {
					return err
				}
				cfg.TLS = tc
			} else {
				cert, err := l.CA.Issue(names, s.cert, s.key, time.Time{})
				if err != nil {
					return err
				}
				cfg.Certificate = &cert
			}
		}
		if err := l.startWeb(ctx, cfg); err != nil {
			return err
		}
		for _, p := range s.extraHTTPS {
			c := cfg
			c.HTTPSPort, c.NoHTTP = p, true
			if err := l.startWeb(ctx, c); err != nil {
				return err
			}
		}
		for _, p := range s.extraHTTP {
			c := cfg
			c.HTTPPort, c.NoHTTPS = p, true
			if err := l.startWeb(ctx, c); err != nil {
				return err
			}
		}
	}
	https := hostPort(s.addr, 443)
	if s.raw {
		pol, err := tlslab.LegacyRawPolicy(l.CA, names)
		if err != nil {
			return err
		}
		srv, err := tlslab.StartRaw(ctx, https, pol)
		if err != nil {
			return bindError(https, err)
		}
		l.closers = append(l.closers, srv.Close)
	}
	for _, proto := range s.services {
		for _, port := range exposure.DefaultPorts[proto] {
			srv, err := exposurelab.StartServiceAt(ctx, netip.AddrPortFrom(s.addr, uint16(port)), proto)
			if err != nil {
				return bindError(hostPort(s.addr, port), err)
			}
			l.closers = append(l.closers, srv.Close)
		}
	}
	if s.ssh != "" {
		closeFn, err := startBanner(ctx, netip.AddrPortFrom(s.addr, 22), s.ssh)
		if err != nil {
			return bindError(hostPort(s.addr, 22), err)
		}
		l.closers = append(l.closers, closeFn)
	}
	return nil
}

func (l *Lab) startWeb(ctx context.Context, cfg weblab.Config) error {
	h, err := weblab.Start(ctx, cfg)
	if err != nil {
		return bindError(cfg.IP, err)
	}
	l.closers = append(l.closers, h.Close)
	return nil
}

// startBench starts n typical hosts h0001.bench.lab.khien.test… sharing one wildcard
// certificate, each on an address of its own.
func (l *Lab) startBench(ctx context.Context, n int) ([]Host, error) {
	if n == 0 {
		return nil, nil
	}
	cert, err := l.CA.Issue([]string{"*." + BenchZone}, tlslab.CertGood, tlslab.KeyECDSA256, time.Time{})
	if err != nil {
		return nil, err
	}
	about := check.Text{VI: "trang thông tin điển hình (đo hiệu năng)", EN: "a typical agency site (benchmark)"}
	fails := append(slices.Clone(typicalFails), "dns.dnssec.missing", "dns.caa.missing", "mail.spf.missing", "mail.dmarc.missing")
	hosts := make([]Host, n)
	mw := l.middleware(false)
	for i := range n {
		h := Host{Name: BenchName(i + 1), Addr: l.benchAddr(i), Scenario: Bench, System: "lab-bench", About: about, Fails: fails}
		cfg := typicalConfig(h.Name)
		cfg.IP, cfg.HTTPPort, cfg.HTTPSPort = h.Addr.String(), 80, 443
		cfg.Certificate, cfg.Middleware = &cert, mw
		if err := l.startWeb(ctx, cfg); err != nil {
			return nil, fmt.Errorf("benchmark host %d: %w", i+1, err)
		}
		hosts[i] = h
	}
	l.Hosts = append(l.Hosts, hosts...)
	return hosts, nil
}

// BenchZone holds the benchmark hosts: unsigned, without CAA, SPF or DMARC, as most are.
const BenchZone = "bench." + dnslab.BaseZone

// BenchName returns the name of benchmark host i (from 1): "h0001.bench.lab.khien.test".
func BenchName(i int) string { return fmt.Sprintf("h%04d.%s", i, BenchZone) }

// aliasesOf returns the demo names that point at s, and www.<apex> for the good host.
func aliasesOf(s spec, demo []demoName) []string {
	var out []string
	if s.scenario == Good {
		out = append(out, "www."+s.name)
	}
	for _, d := range demo {
		if d.host == s.scenario {
			out = append(out, d.name)
		}
	}
	return out
}

// hostOf returns the host part of a Host header, lower-cased, without port or brackets.
func hostOf(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		hostport = h
	}
	return strings.ToLower(strings.Trim(hostport, "[]"))
}
