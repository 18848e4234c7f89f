package datacheck

import (
	"bytes"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// extractHTML returns the text of an HTML page roughly as a browser lays it out — blocks on
// their own lines, table cells separated by tabs, runs of white space collapsed, scripts and
// styles dropped — and the links of its <a href> elements resolved against base (or the
// page's <base href>). Lines matter: a stamp is a marking because it stands alone on its line.
// scripts are the external scripts the page loads — <script src> and <link rel=modulepreload>
// (or rel=preload as=script) — in document order, for the credential scan of scripts.
func extractHTML(body []byte, base *url.URL) (text []byte, links, scripts []*url.URL) {
	z := html.NewTokenizer(bytes.NewReader(body))
	z.SetMaxBuf(0)
	var (
		out      bytes.Buffer
		skip     int // depth inside script, style, …
		pre      int // depth inside pre, textarea
		rawLinks []string
		rawSrcs  []string
	)
	out.Grow(len(body) / 2)
	newline := func() {
		b := out.Bytes()
		for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
			b = b[:len(b)-1]
		}
		out.Truncate(len(b))
		if len(b) > 0 && b[len(b)-1] != '\n' {
			out.WriteByte('\n')
		}
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			newline()
			for _, l := range rawLinks {
				if u, err := base.Parse(strings.TrimSpace(l)); err == nil {
					links = append(links, u)
				}
			}
			for _, l := range rawSrcs {
				if u, err := base.Parse(strings.TrimSpace(l)); err == nil {
					scripts = append(scripts, u)
				}
			}
			return out.Bytes(), links, scripts
		case html.TextToken:
			if skip > 0 {
				continue
			}
			t := z.Text()
			if pre > 0 {
				out.Write(t)
				continue
			}
			writeCollapsed(&out, t)
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Svg, atom.Object, atom.Iframe:
				if a == atom.Script && tt != html.EndTagToken && hasAttr && skip == 0 {
					if src := attr(z, "src"); src != "" {
						rawSrcs = append(rawSrcs, src)
					}
				}
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
				continue
			case atom.Pre, atom.Textarea:
				newline()
				if tt == html.StartTagToken {
					pre++
				} else if tt == html.EndTagToken && pre > 0 {
					pre--
				}
				continue
			case atom.Td, atom.Th:
				if tt != html.EndTagToken {
					b := out.Bytes()
					if len(b) > 0 && b[len(b)-1] != '\n' {
						out.WriteByte('\t')
					}
				}
			case atom.Br, atom.P, atom.Div, atom.Li, atom.Tr, atom.Table, atom.Ul, atom.Ol, atom.Dl, atom.Dt,
				atom.Dd, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Section, atom.Article,
				atom.Header, atom.Footer, atom.Nav, atom.Aside, atom.Main, atom.Blockquote, atom.Hr,
				atom.Form, atom.Title, atom.Option, atom.Caption, atom.Figure, atom.Figcaption, atom.Address,
				atom.Fieldset, atom.Legend, atom.Center, atom.Body, atom.Head, atom.Html:
				newline()
			}
			if tt == html.EndTagToken || !hasAttr {
				continue
			}
			switch a {
			case atom.Link:
				if href, ok := preloadedScript(z); ok {
					rawSrcs = append(rawSrcs, href)
				}
			case atom.A, atom.Area, atom.Base:
				for {
					k, v, more := z.TagAttr()
					if string(k) == "href" {
						if a == atom.Base {
							if u, err := base.Parse(strings.TrimSpace(string(v))); err == nil {
								base = u
							}
						} else {
							rawLinks = append(rawLinks, string(v))
						}
					}
					if !more {
						break
					}
				}
			}
		}
	}
}

// attr returns the value of the attribute key of the current tag, consuming its attributes.
func attr(z *html.Tokenizer, key string) string {
	val := ""
	for {
		k, v, more := z.TagAttr()
		if string(k) == key && val == "" {
			val = string(v)
		}
		if !more {
			return val
		}
	}
}

// preloadedScript returns the href of a <link> that preloads a script: rel=modulepreload, or
// rel=preload with as=script. Bundlers emit these for the chunks a page will load.
func preloadedScript(z *html.Tokenizer) (string, bool) {
	var href, rel, as string
	for {
		k, v, more := z.TagAttr()
		switch string(k) {
		case "href":
			href = string(v)
		case "rel":
			rel = strings.ToLower(string(v))
		case "as":
			as = strings.ToLower(strings.TrimSpace(string(v)))
		}
		if !more {
			break
		}
	}
	for _, r := range strings.Fields(rel) {
		if r == "modulepreload" || r == "preload" && as == "script" {
			return href, href != ""
		}
	}
	return "", false
}

// writeCollapsed appends t with each run of white space made one space, as HTML renders it.
func writeCollapsed(out *bytes.Buffer, t []byte) {
	b := out.Bytes()
	space := len(b) == 0 || b[len(b)-1] == ' ' || b[len(b)-1] == '\n' || b[len(b)-1] == '\t'
	start := 0 // ASCII white space never occurs inside a multi-byte UTF-8 sequence
	for i, c := range t {
		if c != ' ' && c != '\n' && c != '\t' && c != '\r' && c != '\f' {
			continue
		}
		if i > start {
			out.Write(t[start:i])
			space = false
		}
		if !space {
			out.WriteByte(' ')
			space = true
		}
		start = i + 1
	}
	out.Write(t[start:])
}
