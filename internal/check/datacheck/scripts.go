package datacheck

import (
	"bytes"
	"context"
	"encoding/base64"
	"mime"
	"net/url"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/khien-vn/khien/internal/detect"
)

// Scripts are where credentials on public sites most often sit: a configuration object
// bundled into main.js, a service key in a chunk, the original sources in a source map. So the
// external scripts the crawled pages load are fetched too — the same site only, robots.txt
// obeyed, two requests at a time, each script capped at MaxBody — and scanned with the
// credential detectors only. Personal-data and marking detectors are not run over them:
// minified code is full of digit runs that pass for identity numbers, and a script is not
// where a citizen's record is published.
//
// Scripts have their own small budget, Config.MaxScripts, apart from MaxPages, so that a
// site with many pages still has its scripts read and one with many chunks does not starve
// the pages: a crawl makes at most 1 + MaxPages + MaxScripts fetches (robots.txt, pages,
// scripts and source maps), each following at most maxRedirects same-site redirects to paths
// robots.txt allows. Scripts are queued in the order of the pages that load them (by
// depth, then URL) and, within a page, in document order, so which ones fit the budget does
// not depend on timing. A source map a script names (a "//# sourceMappingURL=" comment or a
// SourceMap header) is fetched with what the scripts leave of the budget, and the original
// files in its sourcesContent are scanned one by one, so a finding names the file and its
// line; a map inlined as a base64 data: URL is read without a request.
//
// Production source maps weigh 2 to 20 MiB, so a map is not held to MaxBody, which would cut
// it into JSON that does not parse and hide every key in it: it is read as a stream up to
// Config.MaxMapBody (32 MiB), one original file in memory at a time (readSourceMap). Each
// original file is still held to MaxBody; a longer one is skipped and counted
// (Skipped.LargeSources). A map longer than MaxMapBody is scanned up to the cut and marked
// truncated.

// scriptRef is a script or source map to fetch, and where it was found.
type scriptRef struct {
	u     *url.URL
	from  string // the page loading the script, or the script naming the map
	depth int    // the depth of the page
	isMap bool
}

// scanScripts fetches and scans the scripts the crawled pages load, then their source maps.
func (c *crawler) scanScripts(ctx context.Context) {
	var queue []scriptRef
	for _, p := range c.obs.Pages {
		for _, u := range c.scriptRefs[p.URL] {
			if ref, ok := c.admitScript(scriptRef{u: u, from: p.URL, depth: p.Depth}, len(queue)); ok {
				queue = append(queue, ref)
			}
		}
	}
	maps := c.fetchScripts(ctx, queue)
	var mq []scriptRef
	for _, m := range maps {
		if ref, ok := c.admitScript(m, len(queue)+len(mq)); ok {
			mq = append(mq, ref)
		}
	}
	c.fetchScripts(ctx, mq)
}

// admitScript decides whether ref is fetched, given how many are already queued, and counts
// why not when it is not.
func (c *crawler) admitScript(ref scriptRef, queued int) (scriptRef, bool) {
	u := *ref.u
	u.Fragment, u.RawFragment = "", ""
	ref.u = &u
	if u.Scheme != "http" && u.Scheme != "https" {
		return ref, false // data:, blob:
	}
	k := u.String()
	if c.seenScripts[k] {
		return ref, false
	}
	c.seenScripts[k] = true
	switch {
	case !c.site.contains(&u):
		c.obs.Skipped.ScriptsOtherSite++
	case !c.robots.allowed(u.RequestURI()):
		c.obs.Skipped.Robots++
	case queued >= c.cfg.MaxScripts:
		c.obs.Skipped.ScriptLimit++
	default:
		return ref, true
	}
	return ref, false
}

// fetchScripts fetches refs, at most concurrency at a time, appends what they gave to the
// observation in the order of refs, and returns the source maps the scripts name.
func (c *crawler) fetchScripts(ctx context.Context, refs []scriptRef) []scriptRef {
	var (
		g     errgroup.Group
		pages = make([][]Page, len(refs))
		maps  = make([]*scriptRef, len(refs))
	)
	g.SetLimit(concurrency)
	for i, ref := range refs {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			pages[i], maps[i] = c.fetchScript(ctx, ref)
			return nil
		})
	}
	_ = g.Wait()
	var next []scriptRef
	for i := range refs {
		for _, p := range pages[i] {
			c.obs.Scripts = append(c.obs.Scripts, p)
			c.obs.Skipped.LargeSources += p.LargeSources
		}
		if maps[i] != nil {
			next = append(next, *maps[i])
		}
	}
	return next
}

// fetchScript gets one script or source map and scans it for credentials. It returns the
// pages to record — the script, or the map and each of its original files with findings — and
// the external source map a script names.
func (c *crawler) fetchScript(ctx context.Context, ref scriptRef) ([]Page, *scriptRef) {
	page := Page{URL: ref.u.String(), Depth: ref.depth, From: ref.from}
	read := func(contentType, _ string) bool { return scriptBody(contentType) }
	if ref.isMap {
		// Not read whole: a map may be many times MaxBody (see readSourceMap).
		_, body, ok := c.open(ctx, &page, "application/json,*/*;q=0.1", read)
		if !ok {
			return []Page{page}, nil
		}
		defer body.Close()
		return c.readSourceMap(page, body, c.cfg.MaxMapBody, page.ContentType), nil
	}
	resp, ok := c.get(ctx, &page, "text/javascript,application/javascript,*/*;q=0.1", read)
	if !ok {
		return []Page{page}, nil
	}
	text := decodeText(resp.body, page.ContentType)
	page.Report = detect.Scan(text, c.secrets, c.opts)
	page.Scanned = true
	out := []Page{page}
	ann := sourceMapAnnotation(text, resp.header.Get("SourceMap"), resp.header.Get("X-SourceMap"))
	if ann == "" {
		return out, nil
	}
	if inline, ok := inlineSourceMap(ann); ok {
		m := Page{URL: page.URL, Depth: page.Depth, From: page.URL, Source: "(inline source map)", Bytes: len(inline)}
		return append(out, c.readSourceMap(m, bytes.NewReader(inline), int64(len(inline)), "")...), nil
	}
	u, err := resp.final.Parse(ann)
	if err != nil {
		return out, nil
	}
	return out, &scriptRef{u: u, from: page.URL, depth: page.Depth, isMap: true}
}

// scriptBody reports whether a script or source map answer of contentType is read. HTML is
// not: a site answering every path with its home page (a single-page application's fallback,
// a soft 404) would have its page counted twice.
func scriptBody(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "", "text/javascript", "application/javascript", "application/x-javascript", "application/ecmascript",
		"text/ecmascript", "text/jsx", "application/json", "text/plain", "application/octet-stream", "binary/octet-stream":
		return true
	}
	return false
}

// sourceMapAnnotation returns the source map a script names: its last
// "//# sourceMappingURL=" comment (or the older "//@" form), else a SourceMap header.
func sourceMapAnnotation(text []byte, headers ...string) string {
	const key = "sourceMappingURL="
	for end := len(text); ; {
		i := bytes.LastIndex(text[:end], []byte(key))
		if i < 0 {
			break
		}
		end = i
		pre := text[max(0, i-4):i]
		if !bytes.Equal(pre, []byte("//# ")) && !bytes.Equal(pre, []byte("//@ ")) && !bytes.Equal(pre, []byte("/*# ")) {
			continue
		}
		v := text[i+len(key):]
		if j := bytes.IndexAny(v, " \t\r\n\"'`*"); j >= 0 {
			v = v[:j]
		}
		if len(v) > 0 {
			return string(v)
		}
	}
	for _, h := range headers {
		if h = strings.TrimSpace(h); h != "" {
			return h
		}
	}
	return ""
}

// inlineSourceMap decodes a source map inlined as a base64 data: URL.
func inlineSourceMap(ann string) ([]byte, bool) {
	rest, ok := strings.CutPrefix(ann, "data:")
	if !ok {
		return nil, false
	}
	meta, data, ok := strings.Cut(rest, ",")
	if !ok || !strings.HasSuffix(meta, ";base64") {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, false
	}
	return b, true
}
