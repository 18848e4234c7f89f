// Package vulncheck is the known-exploited-vulnerability family: it reads the software and
// version a host discloses (HTTP Server and X-Powered-By headers, SSH, FTP and SMTP banners),
// looks them up in the offline feeds of package vuln, and marks a match known-exploited when
// the CISA KEV catalog lists one of its CVEs.
//
// A version match is "version-inferred": distributions backport fixes without changing the
// version they show. Where a safe probe for the flaw exists (a confirmer), the family runs it
// and labels the match "confirmed" when the flaw is observed. The family is active: banner
// grabbing on service ports and confirmers go beyond what a visitor does, so it needs a
// verified resource.
package vulncheck

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/webclient"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/vuln"
)

// Options sets the ports looked at; zero values take the standard ones.
type Options struct {
	HTTPPort, HTTPSPort int
	BannerPorts         map[string]int // "ssh", "ftp", "smtp" → port; absent: 22, 21, 25
}

func (o Options) withDefaults() Options {
	if o.HTTPPort == 0 {
		o.HTTPPort = 80
	}
	if o.HTTPSPort == 0 {
		o.HTTPSPort = 443
	}
	if o.BannerPorts == nil {
		o.BannerPorts = map[string]int{"ssh": 22, "ftp": 21, "smtp": 25}
	}
	return o
}

// observation is what the family saw of one resource.
type observation struct {
	Software []vuln.Software
	Matches  []vuln.Match
	Probed   []string // what was tried: "https://host:443/", "banner ssh 127.0.0.1:22"
	Errors   []string
	Reached  bool
}

// Family returns the family over the feeds in ix (nil: no feeds imported, every lookup is empty).
func Family(ix *vuln.Index, o Options) check.Family[observation] {
	o = o.withDefaults()
	if ix == nil {
		ix = vuln.NewIndex(nil, nil)
	}
	return check.Family[observation]{
		Name:   "vuln",
		Active: true,
		Applies: func(r inventory.Resource) bool {
			k := r.Kind()
			return k == inventory.KindDNS || k == inventory.KindURL || k == inventory.KindIP
		},
		Observe: func(ctx context.Context, r inventory.Resource, env check.Env) (observation, error) {
			return observe(ctx, r, env, ix, o)
		},
		Checks: []check.Check[observation]{{ID: "vuln.known_exploited", Evaluate: func(ob observation) check.Result { return evaluate(ob, ix) }}},
	}
}

// target returns the host name (or address) and the HTTP(S) URLs of a resource.
func target(r inventory.Resource, o Options) (host string, urls []string) {
	switch r.Kind() {
	case inventory.KindURL:
		u := r.Value()
		rest := u[strings.Index(u, "://")+3:]
		hostport, _, _ := strings.Cut(rest, "/")
		h := hostport
		if hh, _, err := net.SplitHostPort(hostport); err == nil {
			h = hh
		}
		return strings.Trim(h, "[]"), []string{u}
	default:
		host = r.Value()
		hp := host
		if strings.Contains(host, ":") {
			hp = "[" + host + "]"
		}
		return host, []string{
			fmt.Sprintf("https://%s:%d/", hp, o.HTTPSPort),
			fmt.Sprintf("http://%s:%d/", hp, o.HTTPPort),
		}
	}
}

func observe(ctx context.Context, r inventory.Resource, env check.Env, ix *vuln.Index, o Options) (observation, error) {
	var ob observation
	host, urls := target(r, o)
	timeout := env.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	// During a scan the requests go over the keep-alive connections the other web families
	// of the resource share (env.Web), and back off when the server answers 429 or 503; on
	// its own the family has a transport of its own with the same settings (webclient.New):
	// certificate trust is the TLS family's verdict, here only headers matter. Redirects
	// (none followed) and time-outs (per request, started once a politeness wait is over)
	// stay this family's.
	tr, done := webclient.For(env.Web, env.Dial, host, webclient.OnlyAddress(ctx, env.Web, env.Resolver, host), timeout)
	defer done()
	c := &client{
		c: &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout: timeout,
		ua:      env.UserAgent,
	}
	failed := &check.Attempts{What: "no web server or service banner answered"} // ob.Errors, as errors
	for _, u := range urls {
		ob.Probed = append(ob.Probed, u)
		hdr, err := c.headers(ctx, u)
		if err != nil {
			ob.Errors = append(ob.Errors, err.Error())
			failed.Add(u, err)
			continue
		}
		ob.Reached = true
		for _, name := range []string{"Server", "X-Powered-By", "X-AspNet-Version"} {
			for _, v := range hdr.Values(name) {
				ob.Software = appendNew(ob.Software, vuln.ParseBanner(v, name+" header "+u)...)
			}
		}
	}
	if r.Kind() != inventory.KindURL {
		services := []string{"ssh", "ftp", "smtp"}
		for _, svc := range services {
			port, ok := o.BannerPorts[svc]
			if !ok || port == 0 {
				continue
			}
			addr := net.JoinHostPort(host, strconv.Itoa(port))
			ob.Probed = append(ob.Probed, "banner "+svc+" "+addr)
			line, err := banner(ctx, env, addr)
			if err != nil {
				continue // a closed port is the normal case, not an error of the check
			}
			ob.Reached = true
			ob.Software = appendNew(ob.Software, vuln.ParseBanner(line, svc+" banner "+addr)...)
		}
	}
	if !ob.Reached {
		return ob, failed
	}
	for _, s := range ob.Software {
		for _, m := range ix.Lookup(s) {
			if k := anyConfirmer(m.CVEs); k != nil && k.confirm(ctx, c, urls[0]) {
				m.Confidence = vuln.Confirmed
			}
			ob.Matches = append(ob.Matches, m)
		}
	}
	return ob, nil
}

func appendNew(dst []vuln.Software, src ...vuln.Software) []vuln.Software {
	for _, s := range src {
		if !slices.ContainsFunc(dst, func(d vuln.Software) bool { return d.Product == s.Product && d.Version == s.Version }) {
			dst = append(dst, s)
		}
	}
	return dst
}

// client sends the family's requests, each with its own time-out.
type client struct {
	c       *http.Client
	timeout time.Duration
	ua      string
}

// get sends req and calls read with the answer, whose body it closes; the time-out covers
// reading it too.
func (c *client) get(ctx context.Context, u string, prepare func(*http.Request), read func(*http.Response) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}
	if prepare != nil {
		prepare(req)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return read(resp)
}

// headers returns the headers of the answer to a GET of u. The body is read (up to 64 KiB)
// so that the connection can be reused.
func (c *client) headers(ctx context.Context, u string) (http.Header, error) {
	var h http.Header
	err := c.get(ctx, u, nil, func(resp *http.Response) error {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		h = resp.Header
		return nil
	})
	return h, err
}

// banner reads the first line a service sends on connect.
func banner(ctx context.Context, env check.Env, addr string) (string, error) {
	conn, err := env.Dial(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	timeout := env.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(io.LimitReader(conn, 512)).ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	return strings.TrimSpace(line), nil
}

func evaluate(ob observation, ix *vuln.Index) check.Result {
	nAdv, nKEV := ix.Size()
	ev := map[string]any{
		"probed":          ob.Probed,
		"software":        softwareEvidence(ob.Software),
		"matches":         matchEvidence(ob.Matches),
		"feed_advisories": nAdv,
		"feed_kev":        nKEV,
	}
	var kev []vuln.Match
	for _, m := range ob.Matches {
		if m.KnownExploited {
			kev = append(kev, m)
		}
	}
	if len(kev) > 0 {
		// A confirmed match speaks for the finding: the gate blocks on confirmed ones alone.
		m := kev[0]
		for _, k := range kev {
			if k.Confidence == vuln.Confirmed {
				m = k
				break
			}
		}
		label := map[vuln.Confidence]string{vuln.Confirmed: "đã xác nhận", vuln.VersionInferred: "suy ra từ phiên bản"}[m.Confidence]
		ev["confidence"] = string(m.Confidence)
		return check.Result{Status: check.Fail, Evidence: ev, Reason: check.Text{
			VI: fmt.Sprintf("%s %s có lỗ hổng %s (%s) nằm trong danh mục lỗ hổng đã bị khai thác (KEV); mức tin cậy: %s.", m.Software.Product, m.Software.Version, m.Advisory, strings.Join(m.CVEs, ", "), label),
			EN: fmt.Sprintf("%s %s has %s (%s), listed as known exploited (KEV); confidence: %s.", m.Software.Product, m.Software.Version, m.Advisory, strings.Join(m.CVEs, ", "), m.Confidence),
		}}
	}
	if nAdv == 0 {
		return check.Result{Status: check.Error, Evidence: ev, Reason: check.Text{
			VI: "Chưa nhập nguồn dữ liệu lỗ hổng (khien feeds import), không thể đối chiếu phiên bản.",
			EN: "no vulnerability feed has been imported (khien feeds import); versions cannot be matched",
		}}
	}
	if len(ob.Software) == 0 {
		return check.Result{Status: check.Pass, Evidence: ev, Reason: check.Text{
			VI: "Không phát hiện phần mềm nào để lộ phiên bản; không có lỗ hổng đã bị khai thác nào được nhận diện.",
			EN: "no software disclosed a version; no known exploited vulnerability identified",
		}}
	}
	return check.Result{Status: check.Pass, Evidence: ev, Reason: check.Text{
		VI: fmt.Sprintf("Đã đối chiếu %d phần mềm với %d bản tin lỗ hổng; không có lỗ hổng nào trong danh mục đã bị khai thác (%d lỗ hổng khác được ghi nhận).", len(ob.Software), nAdv, len(ob.Matches)),
		EN: fmt.Sprintf("%d software versions matched against %d advisories; none is known exploited (%d other advisories recorded)", len(ob.Software), nAdv, len(ob.Matches)),
	}}
}

func softwareEvidence(ss []vuln.Software) []map[string]string {
	out := []map[string]string{}
	for _, s := range ss {
		out = append(out, map[string]string{"product": s.Product, "version": s.Version, "source": s.Source, "raw": s.Raw})
	}
	return out
}

func matchEvidence(ms []vuln.Match) []map[string]any {
	out := []map[string]any{}
	for _, m := range ms {
		out = append(out, map[string]any{
			"advisory": m.Advisory, "cves": m.CVEs, "product": m.Software.Product, "version": m.Software.Version,
			"known_exploited": m.KnownExploited, "kev_due_date": m.KEVDueDate, "confidence": string(m.Confidence), "summary": m.Summary,
		})
	}
	return out
}
