// Package weblab starts web hosts on loopback addresses that make the http check family pass
// or fail on purpose: a good host (HTTPS with every header right, plain HTTP redirecting to
// it), a bad host (each header wrong in the way agencies' sites get it wrong), and any variant
// in between, since every behaviour is one field of Config. Tests flip one field to turn one
// check from pass to fail; the lab orchestrator composes hosts with a DNS lab that maps their
// names to their addresses.
//
// Hosts listen on the loopback address and ports they are given (port 0 picks a free one, as
// 80 and 443 are privileged), so a scan reaches them through url: resources with explicit
// ports or through httpcheck.Options{HTTPPort, HTTPSPort}. Nothing here dials out.
package weblab

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config is one lab host's behaviour. An empty header field is not sent.
type Config struct {
	Name string // host name: the certificate's name and the redirect's target host
	// IP is the loopback address to listen on; empty means 127.0.0.1.
	IP string
	// HTTPPort and HTTPSPort are the ports to listen on; 0 picks a free port.
	HTTPPort, HTTPSPort int
	NoHTTP, NoHTTPS     bool // do not serve that scheme at all (the port stays closed)

	// CA issues the HTTPS certificate; nil means a new CA for this host (Host.CA).
	CA *CA
	// Certificate, when set, is served instead of one issued by CA.
	Certificate *tls.Certificate
	// TLS, when set, is the HTTPS listener's whole configuration (protocol versions, cipher
	// suites and certificate: its Certificates must be set), for hosts whose web side is
	// good but whose TLS is old; CA and Certificate are then unused.
	TLS *tls.Config
	// Aliases are other names the host answers for (virtual hosts, IP literals): plain HTTP
	// redirects a request for an alias to the same alias over HTTPS, as "return 301
	// https://$host$request_uri" does, and an issued certificate covers them too.
	Aliases []string

	// RedirectHTTP makes plain HTTP answer 301 to the same path on https://Name:HTTPSPort.
	RedirectHTTP bool
	// RedirectTo, when set, is where plain HTTP redirects instead (an off-site or http: URL).
	RedirectTo string
	// HTTPSRedirectTo, when set, makes HTTPS answer 301 to it (a downgrade to http:, say).
	HTTPSRedirectTo string

	HSTS           string // Strict-Transport-Security, sent over HTTPS only
	CSP            string // Content-Security-Policy
	CSPReportOnly  string // Content-Security-Policy-Report-Only
	XCTO           string // X-Content-Type-Options
	FrameOptions   string // X-Frame-Options
	ReferrerPolicy string // Referrer-Policy
	Server         string // Server
	PoweredBy      string // X-Powered-By
	Cookies        []string
	CORS           CORS
	// Body is the page's HTML; empty means GoodPage.
	Body string
	// Handler, when set, writes the status and body of every request that is not
	// redirected, after the configured headers are set: a site with several pages, exposed
	// files or a soft 404. Body is then unused.
	Handler http.Handler
	// Middleware, when set, wraps the host's whole handler on both schemes, ahead of the
	// redirects: for answers every path needs (an ownership token, a probe's answer).
	Middleware func(http.Handler) http.Handler
}

// CORS is how a host answers a request that carries an Origin.
type CORS struct {
	ReflectOrigin    bool   // echo the request's Origin in Access-Control-Allow-Origin
	AllowOrigin      string // else send this fixed value ("*", "https://portal.example")
	AllowCredentials bool   // add Access-Control-Allow-Credentials: true
}

// GoodPage is an HTML page that loads everything over HTTPS (relative URLs).
const GoodPage = `<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<title>Cổng thông tin điện tử (phòng thí nghiệm Khiên)</title>
<link rel="stylesheet" href="/static/site.css">
<script src="/static/app.js"></script>
</head><body>
<h1>Cổng thông tin điện tử</h1>
<img src="/static/logo.png" alt="Quốc huy">
<iframe src="https://good.lab.khien.test/ban-do"></iframe>
</body></html>
`

// MixedPage is an HTML page that loads a script, a stylesheet and a frame over plain HTTP
// (active mixed content) and an image (passive). Its URLs are never fetched by a scan.
const MixedPage = `<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<title>Cổng thông tin cũ (phòng thí nghiệm Khiên)</title>
<link rel="stylesheet" href="http://cdn.lab.khien.test/site.css">
<script src="http://cdn.lab.khien.test/jquery-1.12.4.min.js"></script>
<script>document.write("nội tuyến")</script>
</head><body>
<img src="http://cdn.lab.khien.test/logo.png" alt="">
<iframe src="http://maps.lab.khien.test/"></iframe>
</body></html>
`

// PassiveMixedPage loads only an image over plain HTTP: recorded, not failed.
const PassiveMixedPage = `<!doctype html>
<html><head><title>lab</title><script src="/static/app.js"></script></head>
<body><img src="http://cdn.lab.khien.test/logo.png" alt=""></body></html>
`

// Good returns the configuration of a host that passes every http check.
func Good(name string) Config {
	return Config{
		Name:           name,
		RedirectHTTP:   true,
		HSTS:           "max-age=63072000; includeSubDomains; preload",
		CSP:            "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
		XCTO:           "nosniff",
		FrameOptions:   "DENY",
		ReferrerPolicy: "strict-origin-when-cross-origin",
		Server:         "nginx",
		Cookies:        []string{"SESSIONID=lab-session; Path=/; Secure; HttpOnly; SameSite=Lax", "lang=vi; Path=/; Secure; SameSite=Lax"},
		Body:           GoodPage,
	}
}

// Bad returns the configuration of a host that fails every http check an HTTPS site can fail:
// no redirect, no HSTS, a CSP with 'unsafe-inline', no nosniff, no framing protection,
// Referrer-Policy unsafe-url, a session cookie without Secure, HttpOnly or SameSite, CORS that
// echoes any origin with credentials, version banners and mixed content. It passes
// https.missing and csp.missing (it has HTTPS and a CSP) and hsts.short does not apply; use
// BadHTTPOnly for those.
func Bad(name string) Config {
	return Config{
		Name:           name,
		CSP:            "default-src 'self'; script-src 'self' 'unsafe-inline'",
		ReferrerPolicy: "unsafe-url",
		Server:         "Apache/2.4.49 (Unix)",
		PoweredBy:      "PHP/7.4.3",
		Cookies:        []string{"PHPSESSID=lab-session; path=/"},
		CORS:           CORS{ReflectOrigin: true, AllowCredentials: true},
		Body:           MixedPage,
	}
}

// BadHTTPOnly is Bad without HTTPS and without any CSP: it fails https.missing, hsts.missing
// and csp.missing.
func BadHTTPOnly(name string) Config {
	c := Bad(name)
	c.NoHTTPS, c.CSP = true, ""
	return c
}

// Host is a running lab host.
type Host struct {
	Config    Config // as started: IP and ports filled in
	CA        *CA    // the CA that issued the certificate (nil if Config.Certificate was given)
	HTTPAddr  string // "127.0.0.5:41234", empty when NoHTTP
	HTTPSAddr string // empty when NoHTTPS

	servers []*http.Server
	once    sync.Once
	stop    context.CancelFunc
}

// HTTPSURL returns https://Name:port/.
func (h *Host) HTTPSURL() string {
	return "https://" + hostPort(h.Config.Name, h.Config.HTTPSPort, 443) + "/"
}

// HTTPURL returns http://Name:port/.
func (h *Host) HTTPURL() string {
	return "http://" + hostPort(h.Config.Name, h.Config.HTTPPort, 80) + "/"
}

// Close stops the host's servers.
func (h *Host) Close() error {
	var errs []error
	h.once.Do(func() {
		h.stop()
		for _, s := range h.servers {
			errs = append(errs, s.Close())
		}
	})
	return errors.Join(errs...)
}

// Start starts a host. It stops when ctx is done or Close is called.
func Start(ctx context.Context, cfg Config) (*Host, error) {
	if cfg.Name == "" {
		return nil, errors.New("weblab: a host needs a Name")
	}
	if cfg.IP == "" {
		cfg.IP = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(cfg.IP)
	if err != nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("weblab: %q is not a loopback address; the lab never listens elsewhere", cfg.IP)
	}
	if cfg.Body == "" {
		cfg.Body = GoodPage
	}
	h := &Host{Config: cfg}
	var lc net.ListenConfig
	if !cfg.NoHTTPS {
		cert := cfg.Certificate
		if cert == nil && cfg.TLS == nil {
			ca := cfg.CA
			if ca == nil {
				if ca, err = NewCA("Khiên lab CA for " + cfg.Name); err != nil {
					return nil, err
				}
			}
			c, err := ca.Issue(append([]string{cfg.Name, cfg.IP}, cfg.Aliases...)...)
			if err != nil {
				return nil, err
			}
			h.CA, cert = ca, &c
		}
		ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(cfg.IP, strconv.Itoa(cfg.HTTPSPort)))
		if err != nil {
			return nil, fmt.Errorf("weblab: listen for HTTPS: %w", err)
		}
		h.Config.HTTPSPort = ln.Addr().(*net.TCPAddr).Port
		h.HTTPSAddr = ln.Addr().String()
		tc := cfg.TLS
		if tc == nil {
			tc = &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
		}
		tl := tls.NewListener(ln, tc)
		h.serve(tl, h.handler(true))
	}
	if !cfg.NoHTTP {
		ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(cfg.IP, strconv.Itoa(cfg.HTTPPort)))
		if err != nil {
			for _, s := range h.servers {
				_ = s.Close()
			}
			return nil, fmt.Errorf("weblab: listen for HTTP: %w", err)
		}
		h.Config.HTTPPort = ln.Addr().(*net.TCPAddr).Port
		h.HTTPAddr = ln.Addr().String()
		h.serve(ln, h.handler(false))
	}
	ctx, h.stop = context.WithCancel(ctx)
	go func() {
		<-ctx.Done()
		_ = h.Close()
	}()
	return h, nil
}

func (h *Host) serve(ln net.Listener, handler http.Handler) {
	if h.Config.Middleware != nil {
		handler = h.Config.Middleware(handler)
	}
	s := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       30 * time.Second,
		// The lab's own logs would only repeat handshake errors a scan provokes on purpose.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	h.servers = append(h.servers, s)
	go func() { _ = s.Serve(ln) }()
}

// handler answers every path with the configured page and headers.
func (h *Host) handler(overTLS bool) http.Handler {
	c := h.Config
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		set := func(k, v string) {
			if v != "" {
				hdr.Set(k, v)
			}
		}
		set("Server", c.Server)
		set("X-Powered-By", c.PoweredBy)
		if origin := r.Header.Get("Origin"); origin != "" {
			switch {
			case c.CORS.ReflectOrigin:
				hdr.Set("Access-Control-Allow-Origin", origin)
				hdr.Add("Vary", "Origin")
			case c.CORS.AllowOrigin != "":
				hdr.Set("Access-Control-Allow-Origin", c.CORS.AllowOrigin)
			}
			if c.CORS.AllowCredentials {
				hdr.Set("Access-Control-Allow-Credentials", "true")
			}
		}
		if overTLS {
			set("Strict-Transport-Security", c.HSTS)
			if c.HTTPSRedirectTo != "" {
				http.Redirect(w, r, c.HTTPSRedirectTo, http.StatusMovedPermanently)
				return
			}
		} else {
			switch {
			case c.RedirectTo != "":
				http.Redirect(w, r, c.RedirectTo, http.StatusMovedPermanently)
				return
			case c.RedirectHTTP:
				http.Redirect(w, r, "https://"+hostPort(c.redirectHost(r.Host), c.HTTPSPort, 443)+r.URL.RequestURI(), http.StatusMovedPermanently)
				return
			}
		}
		set("Content-Security-Policy", c.CSP)
		set("Content-Security-Policy-Report-Only", c.CSPReportOnly)
		set("X-Content-Type-Options", c.XCTO)
		set("X-Frame-Options", c.FrameOptions)
		set("Referrer-Policy", c.ReferrerPolicy)
		for _, ck := range c.Cookies {
			hdr.Add("Set-Cookie", ck)
		}
		if c.Handler != nil {
			c.Handler.ServeHTTP(w, r)
			return
		}
		hdr.Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(c.Body))
	})
}

// redirectHost is the host plain HTTP redirects to: the requested one when it is an alias,
// else Name.
func (c Config) redirectHost(requested string) string {
	if h, _, err := net.SplitHostPort(requested); err == nil {
		requested = h
	}
	requested = strings.Trim(requested, "[]")
	for _, a := range c.Aliases {
		if strings.EqualFold(a, requested) {
			return a
		}
	}
	return c.Name
}

// StartN starts n hosts like cfg on distinct loopback addresses from first on (skipping
// addresses ending in .0 and .255), each on its own free ports and named "h<i>.<cfg.Name>",
// for benchmarks. They share one CA (cfg.CA, or a new one). On error, hosts already started are
// closed.
func StartN(ctx context.Context, n int, cfg Config, first netip.Addr) ([]*Host, error) {
	if cfg.CA == nil && cfg.Certificate == nil && !cfg.NoHTTPS {
		ca, err := NewCA("Khiên lab CA")
		if err != nil {
			return nil, err
		}
		cfg.CA = ca
	}
	hosts := make([]*Host, 0, n)
	a := first
	for i := 0; i < n; i++ {
		for a.Is4() && (a.As4()[3] == 0 || a.As4()[3] == 255) {
			a = a.Next()
		}
		if !a.IsLoopback() {
			closeAll(hosts)
			return nil, fmt.Errorf("weblab: ran out of loopback addresses after %d hosts", i)
		}
		c := cfg
		c.Name = fmt.Sprintf("h%d.%s", i+1, cfg.Name)
		c.IP = a.String()
		c.HTTPPort, c.HTTPSPort = 0, 0
		h, err := Start(ctx, c)
		if err != nil {
			closeAll(hosts)
			return nil, err
		}
		hosts = append(hosts, h)
		a = a.Next()
	}
	return hosts, nil
}

func closeAll(hosts []*Host) {
	for _, h := range hosts {
		_ = h.Close()
	}
}

func hostPort(host string, port, def int) string {
	if port == def {
		return host
	}
	if strings.Contains(host, ":") {
		return net.JoinHostPort(host, strconv.Itoa(port))
	}
	return host + ":" + strconv.Itoa(port)
}
