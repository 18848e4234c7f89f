package datacheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/html/charset"
	"golang.org/x/sync/errgroup"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/webclient"
	"github.com/khien-vn/khien/internal/detect"
	"github.com/khien-vn/khien/internal/inventory"
)

// Observation is what one bounded crawl of a web resource saw.
type Observation struct {
	Start    string   `json:"start"`           // the URL the crawl started from
	Tried    []string `json:"tried,omitempty"` // start URLs that did not answer, with why
	Robots   string   `json:"robots"`          // what robots.txt said, in a few words
	MaxDepth int      `json:"max_depth"`
	MaxPages int      `json:"max_pages"`
	Pages    []Page   `json:"pages"` // in order of depth, then URL
	// MaxScripts and Scripts are the same-site scripts and source maps the pages load,
	// scanned for credentials only (see scanScripts), in the order they were queued.
	MaxScripts int     `json:"max_scripts"`
	Scripts    []Page  `json:"scripts,omitempty"`
	Skipped    Skipped `json:"skipped"`
	// Stopped says why the crawl ended before it ran out of links: "page limit", "time
	// budget"; empty when it did not.
	Stopped string `json:"stopped,omitempty"`
}

// Skipped counts the links the crawl did not follow, by reason.
type Skipped struct {
	Robots    int `json:"robots"`     // disallowed by robots.txt
	OtherSite int `json:"other_site"` // another host
	NotText   int `json:"not_text"`   // images, archives, PDFs and other bodies not read as text
	// ScriptsOtherSite counts scripts loaded from another host (a CDN, analytics): never
	// fetched, since the scan stays on the site it was authorized for.
	ScriptsOtherSite int `json:"scripts_other_site"`
	// ScriptLimit counts same-site scripts and source maps left unfetched past MaxScripts.
	ScriptLimit int `json:"script_limit"`
	// LargeSources counts the original files of source maps longer than MaxBody, not scanned.
	LargeSources int `json:"large_sources"`
}

// Page is one fetched URL and what the detectors found in its text.
type Page struct {
	URL         string `json:"url"`
	Final       string `json:"final,omitempty"` // after redirects, when different
	Depth       int    `json:"depth"`
	From        string `json:"from,omitempty"`   // for a script, the page loading it; for a source map, its script
	Source      string `json:"source,omitempty"` // for a source map, the original file its findings are in
	Status      int    `json:"status,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Bytes       int    `json:"bytes,omitempty"`
	Truncated   bool   `json:"truncated,omitempty"` // the body was longer than the cap
	// LargeSources counts, for a source map, its original files longer than MaxBody: skipped.
	LargeSources int           `json:"large_sources,omitempty"`
	Scanned      bool          `json:"scanned"`
	Error        string        `json:"error,omitempty"`
	Report       detect.Report `json:"report"`
}

// seeds returns the start URLs of r: a url: resource's own URL; for a dns: name, its HTTPS
// root and then its plain HTTP root.
func seeds(r inventory.Resource) ([]*url.URL, error) {
	switch r.Kind() {
	case inventory.KindURL:
		u, err := url.Parse(r.Value())
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", r.ID, err)
		}
		return []*url.URL{u}, nil
	case inventory.KindDNS:
		return []*url.URL{
			{Scheme: "https", Host: r.Value(), Path: "/"},
			{Scheme: "http", Host: r.Value(), Path: "/"},
		}, nil
	}
	return nil, fmt.Errorf("resource %s is not a web resource", r.ID)
}

func applies(r inventory.Resource) bool {
	switch r.Kind() {
	case inventory.KindURL:
		return true
	case inventory.KindDNS:
		v := r.Value()
		return !strings.HasPrefix(v, "_") && !strings.HasPrefix(v, "*.")
	}
	return false
}

// site is the host a crawl stays on. A name and its www. form count as one site, because
// portals redirect from one to the other.
type site struct {
	host string // lower-case host name without www.
	port string // explicit port of the start URL, or ""
}

func siteOf(u *url.URL) site {
	return site{host: strings.TrimPrefix(strings.ToLower(u.Hostname()), "www."), port: u.Port()}
}

func (s site) contains(u *url.URL) bool {
	if u.Scheme != "http" && u.Scheme != "https" {
		return false
	}
	if strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.") != s.host {
		return false
	}
	p := u.Port()
	if p == "" || p == "80" && u.Scheme == "http" || p == "443" && u.Scheme == "https" {
		p = ""
	}
	return p == s.port
}

// crawler fetches the pages of one site, at most two at a time.
type crawler struct {
	client    *http.Client
	userAgent string
	cfg       Config
	site      site
	robots    robots
	detectors []detect.Detector
	secrets   []detect.Detector // run over the page source, see pageSecrets
	opts      detect.Options

	mu          sync.Mutex
	seen        map[string]bool
	fetched     int
	scriptRefs  map[string][]*url.URL // page URL → the scripts it loads, in document order
	seenScripts map[string]bool
	obs         Observation
}

// concurrency is the most requests in flight to one host: a crawl is what a visitor does,
// and a polite visitor does not hammer.
const concurrency = 2

func (f *family) observe(ctx context.Context, r inventory.Resource, env check.Env) (Observation, error) {
	starts, err := seeds(r)
	if err != nil {
		return Observation{}, err
	}
	if env.Dial == nil {
		return Observation{}, errors.New("no dialer: the data family reaches hosts only through the scope guard")
	}
	timeout := env.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	now := time.Now
	if env.Now != nil {
		now = env.Now
	}
	ua := env.UserAgent
	if ua == "" {
		ua = "Khien"
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Budget)
	defer cancel()

	// During a scan the crawl's connections are kept alive and shared with the other web
	// families of the resource (env.Web), whose settings (webclient.New) are common: trust is
	// the TLS family's verdict, so an expired or self-signed certificate does not hide a
	// leaking page, and old servers are read too. Redirects and time-outs stay the crawl's.
	// The connections are pinned to the host's address when it has only one, as the other
	// families' are; with several, the guard picks one.
	host, pin := "", netip.Addr{}
	if len(starts) > 0 {
		host = starts[0].Hostname()
		pin = webclient.OnlyAddress(ctx, env.Web, env.Resolver, host)
	}
	tr, done := webclient.For(env.Web, env.Dial, host, pin, timeout)
	defer done()

	failed := &check.Attempts{What: "no web server answered"}
	for _, start := range starts {
		c := &crawler{
			userAgent: ua,
			cfg:       f.cfg,
			site:      siteOf(start),
			detectors: detect.Default(now()),
			secrets:   pageSecrets(),
			opts:      f.cfg.Detect,
			seen:      map[string]bool{},
			obs: Observation{Start: start.String(), MaxDepth: f.cfg.MaxDepth, MaxPages: f.cfg.MaxPages,
				MaxScripts: f.cfg.MaxScripts},
			scriptRefs:  map[string][]*url.URL{},
			seenScripts: map[string]bool{},
		}
		c.opts.Key = f.key
		c.client = &http.Client{Transport: tr, Timeout: 2 * timeout, CheckRedirect: c.checkRedirect}
		if err := c.readRobots(ctx, start); err != nil {
			failed.Add(start.String(), err)
			continue
		}
		c.crawl(ctx, start)
		for i, e := range failed.Errs {
			c.obs.Tried = append(c.obs.Tried, failed.Where[i]+": "+e.Error())
		}
		return c.obs, nil
	}
	return Observation{}, failed
}

// maxRedirects is how many redirects one fetch follows (http→https→www→language is common).
const maxRedirects = 4

// checkRedirect follows a redirect only within the site and only to a path robots.txt allows:
// a redirect must not take the crawl where a link could not. The answer of a redirect not
// followed is what the fetch gets (and does not read as a page).
func (c *crawler) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects || !c.site.contains(req.URL) || !c.robots.allowed(req.URL.RequestURI()) {
		return http.ErrUseLastResponse
	}
	req.Header.Set("User-Agent", c.userAgent)
	return nil
}

// readRobots fetches /robots.txt. An error means the host did not answer at all; a missing
// file allows everything and a failing server disallows everything (RFC 9309 §2.3.1).
func (c *crawler) readRobots(ctx context.Context, start *url.URL) error {
	u := &url.URL{Scheme: start.Scheme, Host: start.Host, Path: "/robots.txt"}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.client.Do(req)
	if err != nil {
		return unwrapURLError(err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512<<10))
		c.robots = parseRobots(body, agentToken(c.userAgent))
		c.obs.Robots = fmt.Sprintf("%d rules for %s", len(c.robots.rules), agentToken(c.userAgent))
	case resp.StatusCode >= 500:
		c.robots = robots{disallow: true}
		c.obs.Robots = fmt.Sprintf("HTTP %d: everything disallowed", resp.StatusCode)
	default:
		c.obs.Robots = fmt.Sprintf("HTTP %d: no rules", resp.StatusCode)
	}
	return nil
}

// crawl walks the site breadth first from start, to MaxDepth links and MaxPages pages.
func (c *crawler) crawl(ctx context.Context, start *url.URL) {
	start.Fragment, start.RawFragment = "", ""
	level := []*url.URL{start}
	c.seen[start.String()] = true
	if !c.robots.allowed(start.RequestURI()) {
		c.obs.Skipped.Robots++
		level = nil
	}
	for depth := 0; depth <= c.cfg.MaxDepth && len(level) > 0; depth++ {
		var (
			next []*url.URL
			g    errgroup.Group
		)
		g.SetLimit(concurrency)
		for _, u := range level {
			if c.fetched >= c.cfg.MaxPages {
				c.obs.Stopped = "page limit"
				break
			}
			if ctx.Err() != nil {
				break
			}
			c.fetched++
			g.Go(func() error {
				page, links, scripts := c.fetch(ctx, u, depth)
				c.mu.Lock()
				defer c.mu.Unlock()
				c.obs.Pages = append(c.obs.Pages, page)
				if len(scripts) > 0 {
					c.scriptRefs[page.URL] = scripts
				}
				if depth < c.cfg.MaxDepth {
					next = append(next, c.follow(links)...)
				}
				return nil
			})
		}
		_ = g.Wait()
		slices.SortFunc(next, func(a, b *url.URL) int { return strings.Compare(a.String(), b.String()) })
		level = next
	}
	slices.SortStableFunc(c.obs.Pages, func(a, b Page) int {
		if a.Depth != b.Depth {
			return a.Depth - b.Depth
		}
		return strings.Compare(a.URL, b.URL)
	})
	c.scanScripts(ctx)
	if ctx.Err() != nil {
		c.obs.Stopped = "time budget"
	}
}

// follow returns the links worth fetching that were not seen before. c.mu is held.
func (c *crawler) follow(links []*url.URL) []*url.URL {
	var out []*url.URL
	for _, u := range links {
		u.Fragment, u.RawFragment = "", ""
		if u.Scheme != "http" && u.Scheme != "https" {
			continue // mailto:, javascript:, tel:
		}
		k := u.String()
		if c.seen[k] {
			continue
		}
		c.seen[k] = true
		switch {
		case !c.site.contains(u):
			c.obs.Skipped.OtherSite++
		case !textLike(u.Path):
			c.obs.Skipped.NotText++
		case !c.robots.allowed(u.RequestURI()):
			c.obs.Skipped.Robots++
		default:
			out = append(out, u)
		}
	}
	return out
}

// textLike reports whether a path may hold a page or text; images, archives, media, office
// documents and PDFs are not read (yet).
func textLike(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".ico", ".bmp", ".tif", ".tiff",
		".css", ".js", ".mjs", ".map", ".woff", ".woff2", ".ttf", ".eot", ".otf",
		".zip", ".rar", ".7z", ".gz", ".tgz", ".bz2", ".xz", ".tar", ".iso", ".exe", ".msi", ".apk", ".dmg",
		".mp3", ".mp4", ".m4a", ".avi", ".mov", ".wmv", ".flv", ".webm", ".wav", ".ogg",
		".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".ods", ".rtf":
		return false
	}
	return true
}

// fetch gets one page and scans its text. It returns the links and the scripts of an HTML page.
func (c *crawler) fetch(ctx context.Context, u *url.URL, depth int) (Page, []*url.URL, []*url.URL) {
	page := Page{URL: u.String(), Depth: depth}
	var k kind
	resp, ok := c.get(ctx, &page, "text/html,application/xhtml+xml,text/plain,text/csv,application/json;q=0.9,*/*;q=0.1",
		func(contentType, p string) bool {
			k = bodyKind(contentType, p)
			return k != kindNone
		})
	if resp.final != nil && page.Final != "" {
		c.mu.Lock()
		c.seen[page.Final] = true
		c.mu.Unlock()
	}
	if !ok {
		return page, nil, nil
	}
	var (
		text, source   []byte
		links, scripts []*url.URL
	)
	if k == kindHTML {
		source = decodeHTML(resp.body, page.ContentType)
		text, links, scripts = extractHTML(source, resp.final)
	} else {
		text = decodeText(resp.body, page.ContentType)
		source = text
	}
	page.Report = detect.Scan(text, c.detectors, c.opts)
	// Credentials hide where a visitor's eye does not go — scripts, comments, attributes —
	// so they are looked for in the source. Their findings join the page's report.
	page.Report.Findings = append(page.Report.Findings, detect.Scan(source, c.secrets, c.opts).Findings...)
	page.Scanned = true
	return page, links, scripts
}

// response is what get read of one answer.
type response struct {
	final  *url.URL // the URL answering, after redirects; nil when nothing answered
	header http.Header
	body   []byte // at most MaxBody bytes
}

// get requests page.URL and fills in the page's status, final URL, media type, size and
// error. It reads the body, up to MaxBody, only of a 200 answer whose type read accepts, and
// says whether it did.
func (c *crawler) get(ctx context.Context, page *Page, accept string, read func(contentType, path string) bool) (response, bool) {
	out, body, ok := c.open(ctx, page, accept, read)
	if !ok {
		return out, false
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, c.cfg.MaxBody+1))
	if err != nil && len(b) == 0 {
		page.Error = err.Error()
		return out, false
	}
	if int64(len(b)) > c.cfg.MaxBody {
		b, page.Truncated = b[:c.cfg.MaxBody], true
	}
	page.Bytes = len(b)
	out.body = b
	return out, true
}

// open is get without reading the body: when it says ok, the caller reads the body as it
// needs (a source map is read as a stream, see readSourceMap) and closes it.
func (c *crawler) open(ctx context.Context, page *Page, accept string, read func(contentType, path string) bool) (response, io.ReadCloser, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, page.URL, nil)
	if err != nil {
		page.Error = err.Error()
		return response{}, nil, false
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", accept)
	resp, err := c.client.Do(req)
	if err != nil {
		page.Error = unwrapURLError(err).Error()
		return response{}, nil, false
	}
	page.Status = resp.StatusCode
	out := response{final: resp.Request.URL, header: resp.Header}
	if f := out.final.String(); f != page.URL {
		page.Final = f
	}
	page.ContentType = resp.Header.Get("Content-Type")
	if resp.StatusCode != http.StatusOK || !read(page.ContentType, out.final.Path) {
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10) // so the connection can be reused
		resp.Body.Close()
		return out, nil, false
	}
	return out, resp.Body, true
}

type kind int

const (
	kindNone kind = iota
	kindHTML
	kindText
)

// bodyKind decides from the media type, and for generic types from the extension, whether a
// body is HTML, text to scan as it is (plain text, CSV, JSON), or neither.
func bodyKind(contentType, p string) kind {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "text/html", "application/xhtml+xml":
		return kindHTML
	case "text/plain", "text/csv", "application/csv", "application/json", "text/json", "application/ld+json",
		"text/tab-separated-values", "application/xml", "text/xml":
		return kindText
	case "", "application/octet-stream", "binary/octet-stream", "application/vnd.ms-excel":
		switch strings.ToLower(path.Ext(p)) {
		case ".csv", ".txt", ".json", ".tsv":
			return kindText
		}
	}
	return kindNone
}

// decodeHTML converts a page in a legacy encoding (windows-1258 and the like, declared in the
// header or a <meta>) to UTF-8.
func decodeHTML(body []byte, contentType string) []byte {
	e, name, _ := charset.DetermineEncoding(body, contentType)
	if name == "utf-8" || e == nil {
		return body
	}
	if out, err := e.NewDecoder().Bytes(body); err == nil {
		return out
	}
	return body
}

// decodeText converts text declared in another charset than UTF-8.
func decodeText(body []byte, contentType string) []byte {
	_, params, _ := mime.ParseMediaType(contentType)
	cs := params["charset"]
	if cs == "" || strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8") {
		return bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	}
	e, _ := charset.Lookup(cs)
	if e == nil {
		return body
	}
	if out, err := e.NewDecoder().Bytes(body); err == nil {
		return out
	}
	return body
}

// unwrapURLError drops the "Get "…": " prefix net/http adds, since the page URL is recorded
// beside the error.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("timed out")
	}
	return err
}
