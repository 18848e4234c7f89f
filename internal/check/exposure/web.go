package exposure

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/html"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/webclient"
)

// kind is what a probed path is looked at for; each path check judges one kind.
type kind int

const (
	kindGit kind = iota
	kindEnv
	kindBackup
	kindListing
	kindAdmin
	kindSecurityTxt
)

// pathSpec is one well-known path. Paths are relative to a base: the site root, and for a
// url: resource in a sub-directory, that directory too (an application deployed under /app/
// leaks /app/.env). Origin-only paths make sense at the root alone.
type pathSpec struct {
	kind       kind
	path       string
	originOnly bool
}

// paths is the probe list, a few per check: the files scanners and attackers try first.
var paths = []pathSpec{
	{kindGit, ".git/HEAD", false},
	{kindGit, ".git/config", false},
	{kindEnv, ".env", false},
	{kindEnv, ".env.bak", false},
	{kindEnv, "config.php.bak", false},
	{kindEnv, "wp-config.php~", false},
	{kindEnv, "wp-config.php.bak", false},
	{kindBackup, "backup.sql", false},
	{kindBackup, "db.sql", false},
	{kindBackup, "database.sql", false},
	{kindBackup, "dump.sql.gz", false},
	{kindBackup, "backup.zip", false},
	{kindBackup, "backup.tar.gz", false},
	{kindBackup, "site.tar.gz", false},
	{kindListing, "uploads/", false},
	{kindListing, "backup/", false},
	{kindAdmin, "phpmyadmin/", true},
	{kindAdmin, "server-status", true},
	{kindAdmin, "wp-admin/", false},
	{kindAdmin, "wp-login.php", false},
	{kindAdmin, "administrator/", false},
	{kindAdmin, "manager/html", true},
	{kindSecurityTxt, ".well-known/security.txt", true},
}

// maxDerivedDirs caps the directories taken from the root page's links and sources.
const maxDerivedDirs = 5

// Web endpoint states.
const (
	webOK        = "probed"
	webClosed    = "closed"    // nothing accepted the connection (refused or no answer)
	webError     = "error"     // connected, but the baseline request failed
	webRedirects = "redirects" // plain HTTP that sends every path to HTTPS; nothing to read
)

// webEndpoint is one web server reached at one address: its soft-404 baseline and the paths
// probed on it.
type webEndpoint struct {
	Origin   string // "https://name:port", the scheme and Host requested
	Addr     string // "address:port" dialled
	State    string
	Err      string
	why      check.Text // Err in both languages (check.DescribeError), for the reasons
	Baseline response   // the answer to a random path: what this site says for "not here"
	Probes   []probe
}

// probe is one path requested and what came back.
type probe struct {
	Kind kind
	Path string
	Resp response
	// Similarity of the body to the endpoint's soft-404 baseline, 0 to 1 (see similarity).
	Similarity float64
}

// response is the first bytes of one answer, with the headers the recognizers read.
type response struct {
	URL          string
	Status       int
	ContentType  string
	Encoding     string // Content-Encoding, already undone in Body when it was gzip or deflate
	Location     string
	Authenticate string // WWW-Authenticate
	Size         int64  // the whole resource's size as the server declared it; -1 unknown
	Body         []byte // at most maxBody bytes
	Err          string
	why          check.Text // Err in both languages (check.DescribeError), for the reasons
	// Unreachable is set when no connection could be opened: "closed" or "filtered".
	Unreachable string
}

// dialFailed reports whether err is a failure to connect (refused, or no answer to the
// connection request), as opposed to a failure after connecting.
func dialFailed(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// webClient sends every request of one endpoint over connections to one address.
type webClient struct {
	origin  string
	addr    netip.Addr
	client  *http.Client
	done    func() // gives the transport back
	lim     *limiter
	timeout time.Duration
	ua      string
}

func newWebClient(env check.Env, origin, host string, a netip.Addr, lim *limiter) *webClient {
	// Connections to the host go to a. During a scan they are kept alive and shared with the
	// other web families of the resource (env.Web); this family's redirects (none followed)
	// and time-outs stay its own. Exposure is about what can be read, not whom the
	// certificate names: an attacker reads /.env through an expired or self-signed
	// certificate all the same, and the shared settings (webclient.New) verify none.
	tr, done := webclient.For(env.Web, env.Dial, host, a, env.Timeout)
	ua := env.UserAgent
	if ua == "" {
		ua = "Khien"
	}
	return &webClient{
		origin: origin,
		addr:   a,
		client: &http.Client{
			Transport: tr,
			// A redirect is an answer in itself: following it would read some other page
			// and attribute it to the path asked for.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		done:    done,
		lim:     lim,
		timeout: env.Timeout,
		ua:      ua,
	}
}

func (w *webClient) close() { w.done() }

// get requests the first maxBody bytes of p ("/.git/HEAD").
func (w *webClient) get(ctx context.Context, p string) response {
	r := response{URL: w.origin + p, Size: -1}
	release, err := w.lim.acquire(ctx, w.addr)
	if err != nil {
		r.Err, r.why = err.Error(), check.DescribeError(err)
		return r
	}
	defer release()
	// The clock starts once a slot is free: waiting politely is not the server's fault.
	ctx, cancel := context.WithTimeout(ctx, 2*w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
	if err != nil {
		r.Err, r.why = err.Error(), check.DescribeError(err)
		return r
	}
	req.Header.Set("User-Agent", w.ua)
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Range", "bytes=0-"+strconv.Itoa(maxBody-1))
	resp, err := w.client.Do(req)
	if err != nil {
		r.Err, r.why = err.Error(), check.DescribeError(err)
		if dialFailed(err) {
			if s := dialState(err); s != svcError {
				r.Unreachable = s
			}
		}
		return r
	}
	defer resp.Body.Close()
	r.Status = resp.StatusCode
	r.ContentType = resp.Header.Get("Content-Type")
	r.Encoding = strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	r.Location = resp.Header.Get("Location")
	r.Authenticate = strings.Join(resp.Header.Values("WWW-Authenticate"), ", ")
	r.Size = declaredSize(resp)
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil && len(body) == 0 {
		r.Err, r.why = "read body: "+err.Error(), check.DescribeError(err)
	}
	r.Body = decode(r.Encoding, body)
	return r
}

// declaredSize is the whole resource's size: the total of a Content-Range, or the length of
// a complete answer.
func declaredSize(resp *http.Response) int64 {
	if cr := resp.Header.Get("Content-Range"); cr != "" {
		if _, total, ok := strings.Cut(cr, "/"); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(total), 10, 64); err == nil {
				return n
			}
		}
		return -1
	}
	return resp.ContentLength
}

// decode undoes a gzip or deflate Content-Encoding on the prefix read, as far as it goes. A
// dump served with "Content-Encoding: gzip" is still a dump.
func decode(enc string, b []byte) []byte {
	var r io.Reader
	switch enc {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return b
		}
		r = zr
	case "deflate":
		r = flate.NewReader(bytes.NewReader(b))
	default:
		return b
	}
	out, _ := io.ReadAll(io.LimitReader(r, maxBody))
	if len(out) == 0 {
		return b
	}
	return out
}

// origin is one web service to look for on every address: a scheme and a port.
type origin struct {
	scheme string
	port   int
}

func defaultPort(scheme string) int {
	if scheme == "https" {
		return 443
	}
	return 80
}

// originURL is "scheme://host[:port]" with the default port left out, as a browser writes it.
func originURL(scheme, host string, port int) string {
	h := host
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
		h = "[" + host + "]"
	}
	if port != defaultPort(scheme) {
		h += ":" + strconv.Itoa(port)
	}
	return scheme + "://" + h
}

// observeWeb probes every web endpoint of t: for a url: resource its one origin on each
// address; for names and addresses the HTTPS and HTTP ports of opts.
func observeWeb(ctx context.Context, t target, env check.Env, opts Options, lim *limiter) ([]webEndpoint, string) {
	var origins []origin
	bases := []string{"/"}
	if t.url != nil {
		port := defaultPort(t.url.Scheme)
		if p, err := strconv.Atoi(t.url.Port()); err == nil {
			port = p
		}
		origins = append(origins, origin{t.url.Scheme, port})
		if b := baseDir(t.url.Path); b != "/" {
			bases = append(bases, b)
		}
	} else {
		for _, p := range opts.ports(HTTPS) {
			origins = append(origins, origin{"https", p})
		}
		for _, p := range opts.ports(HTTP) {
			origins = append(origins, origin{"http", p})
		}
	}
	tried := make([]string, len(origins))
	for i, og := range origins {
		tried[i] = og.scheme + " " + strconv.Itoa(og.port)
	}

	type job struct {
		ep   *webEndpoint
		addr netip.Addr
		og   origin
	}
	var jobs []job
	for _, a := range t.addrs {
		for _, og := range origins {
			ep := &webEndpoint{Origin: originURL(og.scheme, t.host, og.port), Addr: hostPort(a, og.port)}
			jobs = append(jobs, job{ep, a, og})
		}
	}
	run := func(js []job) {
		var wg sync.WaitGroup
		for _, j := range js {
			wg.Go(func() {
				wc := newWebClient(env, j.ep.Origin, t.host, j.addr, lim)
				defer wc.close()
				probeEndpoint(ctx, wc, j.ep, j.og.scheme, bases)
			})
		}
		wg.Wait()
	}
	run(jobs)

	// A url: resource given as http:// that redirects everything to https:// on the same
	// host is read over HTTPS: that is where its content is.
	if t.url != nil {
		var more []job
		for _, j := range jobs {
			if j.ep.State != webRedirects {
				continue
			}
			port, ok := httpsRedirect(j.ep.Baseline, t.host)
			if !ok {
				continue
			}
			og := origin{"https", port}
			ep := &webEndpoint{Origin: originURL("https", t.host, port), Addr: hostPort(j.addr, port)}
			more = append(more, job{ep, j.addr, og})
			tried = append(tried, "https "+strconv.Itoa(port))
		}
		run(more)
		jobs = append(jobs, more...)
	}

	out := make([]webEndpoint, len(jobs))
	for i, j := range jobs {
		out[i] = *j.ep
	}
	return out, strings.Join(tried, ", ")
}

// baseDir is the directory of a URL path, with a trailing slash.
func baseDir(p string) string {
	if p == "" {
		return "/"
	}
	if !strings.HasSuffix(p, "/") {
		p = path.Dir(p)
	}
	p = path.Clean("/" + p)
	if p != "/" {
		p += "/"
	}
	return p
}

// probeEndpoint learns the endpoint's soft-404 page, then requests every path of the list,
// the root page and the directories the root page links to.
func probeEndpoint(ctx context.Context, wc *webClient, ep *webEndpoint, scheme string, bases []string) {
	ep.Baseline = wc.get(ctx, "/"+randomName())
	if ep.Baseline.Err != "" {
		ep.Err, ep.why = ep.Baseline.Err, ep.Baseline.why
		ep.State = webError
		if ep.Baseline.Unreachable != "" {
			ep.State = webClosed
		}
		return
	}
	if scheme == "http" && upgrades(ep.Baseline) {
		// Plain HTTP that sends even a path that does not exist to HTTPS sends every path
		// there: nothing is readable here, and the HTTPS side is probed on its own.
		ep.State = webRedirects
		return
	}
	ep.State = webOK

	root := wc.get(ctx, "/")
	type want struct {
		kind kind
		path string
	}
	var wants []want
	seen := map[string]bool{"/": true}
	add := func(k kind, p string) {
		if !seen[p] {
			seen[p] = true
			wants = append(wants, want{k, p})
		}
	}
	for _, b := range bases {
		for _, s := range paths {
			if s.originOnly && b != "/" {
				continue
			}
			add(s.kind, b+s.path)
		}
		if b != "/" {
			add(kindListing, b)
		}
	}
	for _, d := range linkedDirs(root, wc.origin) {
		add(kindListing, d)
	}

	probes := make([]probe, len(wants)+1)
	probes[0] = probe{Kind: kindListing, Path: "/", Resp: root}
	var wg sync.WaitGroup
	for i, w := range wants {
		wg.Go(func() {
			probes[i+1] = probe{Kind: w.kind, Path: w.path, Resp: wc.get(ctx, w.path)}
		})
	}
	wg.Wait()
	bs := sketch(ep.Baseline.Body)
	for i := range probes {
		probes[i].Similarity = similarityTo(ep.Baseline.Body, bs, probes[i].Resp.Body)
	}
	ep.Probes = probes
}

// upgrades reports whether r redirects to an https:// URL.
func upgrades(r response) bool {
	if r.Status < 300 || r.Status > 399 {
		return false
	}
	u, err := url.Parse(r.Location)
	return err == nil && strings.EqualFold(u.Scheme, "https")
}

// httpsRedirect reports whether r sends the client to HTTPS on the same host, and the port.
func httpsRedirect(r response, host string) (int, bool) {
	if r.Status < 300 || r.Status > 399 || r.Location == "" {
		return 0, false
	}
	u, err := url.Parse(r.Location)
	if err != nil || !strings.EqualFold(u.Scheme, "https") || !strings.EqualFold(u.Hostname(), host) {
		return 0, false
	}
	port := 443
	if p, err := strconv.Atoi(u.Port()); err == nil && p > 0 && p < 65536 {
		port = p
	}
	return port, true
}

// linkedDirs returns up to maxDerivedDirs same-origin directories that the root page's links
// and sources live in: where a listing left on would be found (Artemis directory_index does
// the same).
func linkedDirs(root response, originStr string) []string {
	if root.Status != http.StatusOK && root.Status != http.StatusPartialContent {
		return nil
	}
	base, err := url.Parse(originStr + "/")
	if err != nil {
		return nil
	}
	var dirs []string
	seen := map[string]bool{"/": true}
	z := html.NewTokenizer(bytes.NewReader(root.Body))
	for len(dirs) < maxDerivedDirs {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		_, hasAttr := z.TagName()
		for hasAttr && len(dirs) < maxDerivedDirs {
			var k, v []byte
			k, v, hasAttr = z.TagAttr()
			if string(k) != "href" && string(k) != "src" {
				continue
			}
			u, err := base.Parse(strings.TrimSpace(string(v)))
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.EqualFold(u.Host, base.Host) {
				continue
			}
			d := baseDir(u.Path)
			if seen[d] || strings.ContainsAny(d, "?#%") {
				continue
			}
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	return dirs
}

const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomName is a 16-character path no site has: whatever answers it is the soft-404 page.
func randomName() string {
	b := make([]byte, 16)
	for i := range b {
		b[i] = alnum[rand.IntN(len(alnum))]
	}
	return string(b)
}

// label names an endpoint in reasons: its origin and, when a name has several, the address.
func (e webEndpoint) label() string {
	return fmt.Sprintf("%s (%s)", e.Origin, e.Addr)
}
