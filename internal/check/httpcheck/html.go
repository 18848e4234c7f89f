package httpcheck

import (
	"bytes"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/html"
)

// maxInsecure bounds how many insecure subresources a Document keeps as evidence.
const maxInsecure = 50

// Document is what Khiên reads from an HTML page: the policies its <meta> elements set and
// the subresources it would load over plain HTTP.
type Document struct {
	MetaCSP      []string      // content of each <meta http-equiv="Content-Security-Policy">
	MetaReferrer []string      // content of each <meta name="referrer">
	Subresources int           // subresource URLs seen, secure or not
	Insecure     []Subresource // those that resolve to http:, at most maxInsecure
	InsecureN    int           // how many resolve to http:, including those not kept
}

// Subresource is one URL a page loads.
type Subresource struct {
	Element string `json:"element"` // "script", "link rel=stylesheet", "img", …
	URL     string `json:"url"`     // resolved against the page (and its <base>)
	// Active is true for what the Mixed Content spec calls blockable content: scripts,
	// stylesheets, frames and plugins, which can rewrite the page. Images, audio and video
	// are passive ("upgradeable"): they leak and can be swapped, but cannot run code.
	Active bool `json:"active"`
}

// ScanHTML tokenizes an HTML page (golang.org/x/net/html, so markup is read the way a browser
// reads it, not grepped) and returns its meta policies and its subresources, resolved against
// page and the first <base href>. It never fails: whatever the tokenizer could read is
// reported.
func ScanHTML(body []byte, page *url.URL) Document {
	var d Document
	if page == nil {
		page = &url.URL{}
	}
	base := page
	haveBase := false
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return d
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		if !hasAttr {
			continue
		}
		attrs := map[string]string{}
		for {
			k, v, more := z.TagAttr()
			if _, dup := attrs[string(k)]; !dup { // HTML keeps the first of duplicate attributes
				attrs[string(k)] = string(v)
			}
			if !more {
				break
			}
		}
		add := func(element, raw string, active bool) {
			raw = strings.Trim(raw, asciiSpace)
			if raw == "" {
				return
			}
			d.Subresources++
			u, err := base.Parse(raw)
			if err != nil || !strings.EqualFold(u.Scheme, "http") {
				return
			}
			d.InsecureN++
			if len(d.Insecure) < maxInsecure {
				d.Insecure = append(d.Insecure, Subresource{Element: element, URL: truncate(u.String(), 512), Active: active})
			}
		}
		switch string(name) {
		case "base":
			if h, ok := attrs["href"]; ok && !haveBase {
				haveBase = true
				if u, err := page.Parse(strings.Trim(h, asciiSpace)); err == nil {
					base = u
				}
			}
		case "meta":
			switch {
			case strings.EqualFold(strings.Trim(attrs["http-equiv"], asciiSpace), "content-security-policy"):
				d.MetaCSP = append(d.MetaCSP, truncate(attrs["content"], 4096))
			case strings.EqualFold(strings.Trim(attrs["name"], asciiSpace), "referrer"):
				d.MetaReferrer = append(d.MetaReferrer, truncate(attrs["content"], 256))
			}
		case "script":
			add("script", attrs["src"], true)
		case "link":
			rel := strings.Fields(strings.ToLower(attrs["rel"]))
			as := strings.ToLower(strings.Trim(attrs["as"], asciiSpace))
			switch {
			case slices.Contains(rel, "stylesheet"):
				add("link rel=stylesheet", attrs["href"], true)
			case slices.Contains(rel, "modulepreload"):
				add("link rel=modulepreload", attrs["href"], true)
			case slices.Contains(rel, "preload") && (as == "script" || as == "style"):
				add("link rel=preload as="+as, attrs["href"], true)
			}
		case "iframe", "frame":
			add(string(name), attrs["src"], true)
		case "object":
			add("object", attrs["data"], true)
		case "embed":
			add("embed", attrs["src"], true)
		case "img", "source":
			add(string(name), attrs["src"], false)
			for _, c := range strings.Split(attrs["srcset"], ",") {
				if f := strings.Fields(c); len(f) > 0 {
					add(string(name)+" srcset", f[0], false)
				}
			}
		case "audio", "video":
			add(string(name), attrs["src"], false)
			add(string(name)+" poster", attrs["poster"], false)
		}
	}
}
