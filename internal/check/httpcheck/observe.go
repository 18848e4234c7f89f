package httpcheck

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/webclient"
	"github.com/khien-vn/khien/internal/inventory"
)

// ProbeOrigin is the foreign Origin the CORS probe sends. The .invalid top-level domain can
// never belong to anyone (RFC 6761), so a server that echoes it back echoes any origin.
const ProbeOrigin = "https://khien-probe.invalid"

// Observation is one visit to a resource: for each address of its host, the HTTPS and
// plain-HTTP redirect chains and one CORS probe.
type Observation struct {
	Host      string     // the name (or address) sent as Host and as the TLS server name
	HTTPSURL  string     // where the HTTPS chain starts
	HTTPURL   string     // where the plain-HTTP chain starts
	Endpoints []Endpoint // one per address of Host, in the resolver's order
}

// Endpoint is what one address of the host answered.
type Endpoint struct {
	Address string // every connection to Host went to this address
	HTTPS   Chain
	HTTP    Chain
	CORS    Probe
}

// answered reports whether the address gave any HTTP answer at all.
func (e Endpoint) answered() bool { return len(e.HTTPS.Hops) > 0 || len(e.HTTP.Hops) > 0 }

// graded returns the response the header checks judge, the one a visitor ends up reading:
// the last answer of the HTTPS chain, or of the plain-HTTP chain when HTTPS gave none.
func (e Endpoint) graded() (Hop, *Page, bool) {
	for _, c := range []Chain{e.HTTPS, e.HTTP} {
		if n := len(c.Hops); n > 0 {
			return c.Hops[n-1], c.Page, true
		}
	}
	return Hop{}, nil, false
}

// Chain is one request and the redirects followed from it.
type Chain struct {
	Hops []Hop
	// Failure says why the chain stopped before a final answer; nil when it got one.
	Failure *Failure
	Page    *Page // the final answer's body, when one was read
}

// why returns why the chain stopped, never nil, so that evidence always has a reason.
func (c Chain) why() *Failure {
	if c.Failure != nil {
		return c.Failure
	}
	return &Failure{Kind: FailOther, Message: "no request was made", said: check.Text{VI: "không có yêu cầu nào được gửi", EN: "no request was made"}}
}

// destination is where the chain leads: the URL a redirect pointed to when it was not
// followed or failed, else the last answer's URL.
func (c Chain) destination() string {
	if c.Failure != nil && len(c.Hops) > 0 {
		return c.Failure.URL
	}
	if n := len(c.Hops); n > 0 {
		return c.Hops[n-1].URL
	}
	return ""
}

// Failure is why a request got no answer, or why a redirect was not followed.
type Failure struct {
	Kind    string `json:"kind"` // one of the Fail constants
	URL     string `json:"url"`
	Message string `json:"message"`

	// said is the failure in both languages when Kind alone says too little: the cause of an
	// error of kind FailOther as check.DescribeError reads it (a closed connection, a name
	// that does not resolve, an address outside the scope), or a failure this family
	// describes itself. Zero for failures built by hand, as the table tests do.
	said check.Text
}

// Describe says why the request got no answer, or why the redirect was not followed, in
// Vietnamese and English: the Vietnamese in words a person can act on, the English ending
// with Message, the technical account (Go's error text), which the evidence keeps too.
func (f *Failure) Describe() check.Text {
	if f.said.VI != "" {
		return f.said
	}
	var t check.Text
	switch f.Kind {
	case FailTimeout:
		t = check.Text{VI: "hết thời gian chờ: máy đích không trả lời kịp", EN: "timed out"}
	case FailRefused:
		t = check.Text{VI: "máy đích từ chối kết nối (cổng đóng hoặc dịch vụ không chạy)", EN: "connection refused"}
	case FailTLS:
		t = check.Text{VI: "bắt tay TLS thất bại", EN: "the TLS handshake failed"}
	case FailRedirects:
		t = check.Text{VI: "chuyển hướng quá nhiều lần", EN: "too many redirects"}
	case FailOffSite:
		t = check.Text{VI: "chuyển hướng sang một trang khác, không được đi theo", EN: "the redirect leaves the site"}
	case FailBadLocation:
		t = check.Text{VI: "chuyển hướng tới một địa chỉ không phải URL http hoặc https", EN: "the redirect does not point to an http or https URL"}
	default:
		t = check.Text{VI: "lỗi kỹ thuật khi kết nối hoặc đọc câu trả lời (chi tiết ở bằng chứng)", EN: "a technical error"}
	}
	if f.Message != "" {
		t.EN += " (" + f.Message + ")"
	}
	return t
}

// Kinds of Failure.
const (
	FailTimeout     = "timeout"            // no answer in Env.Timeout
	FailRefused     = "refused"            // connection refused or reset
	FailTLS         = "tls"                // the TLS handshake failed
	FailOther       = "error"              // any other network or HTTP error
	FailRedirects   = "too_many_redirects" // Options.MaxRedirects redirects and still going
	FailOffSite     = "off_site"           // a redirect leaves the host's site; not followed
	FailBadLocation = "bad_location"       // a redirect's Location is not an http(s) URL
)

// Hop is one HTTP answer.
type Hop struct {
	URL      string
	Status   int
	Header   http.Header
	Location string    // the Location header as sent
	Next     string    // Location resolved against URL, when Status is a redirect
	TLS      *TLSState // nil over plain HTTP
}

// TLSState records the connection an HTTPS answer came over. The family does not verify
// certificates before talking (certificate trust is the TLS family's verdict) but records
// whether the chain would have verified, so a reader can weigh the other verdicts.
type TLSState struct {
	Version     string `json:"version"`
	CipherSuite string `json:"cipher_suite"`
	Verified    bool   `json:"certificate_verified"`
	VerifyError string `json:"certificate_error,omitempty"`
}

// Page is the body of a final answer, read up to Options.MaxBody bytes.
type Page struct {
	URL         string
	ContentType string
	Bytes       int
	Truncated   bool
	SHA256      string    // of the bytes read, so a reader can check a copy of the page
	HTML        *Document // nil when the body is not HTML
}

// Probe is the CORS probe: one GET of the page with a foreign Origin, redirects not followed.
type Probe struct {
	URL     string
	Origin  string
	Status  int
	Header  http.Header
	Failure *Failure
}

// target is where a resource is fetched.
type target struct {
	host        string // bare name or address, no brackets
	https, http *url.URL
}

func targetOf(r inventory.Resource, o Options) (target, error) {
	switch r.Kind() {
	case inventory.KindDNS, inventory.KindIP:
		h := r.Value()
		return target{
			host:  h,
			https: &url.URL{Scheme: "https", Host: hostPort(h, o.httpsPort(), 443), Path: "/"},
			http:  &url.URL{Scheme: "http", Host: hostPort(h, o.httpPort(), 80), Path: "/"},
		}, nil
	case inventory.KindURL:
		u, err := url.Parse(r.Value())
		if err != nil || u.Hostname() == "" {
			return target{}, fmt.Errorf("resource %s is not a URL with a host", r.ID)
		}
		t := target{host: u.Hostname()}
		other := *u
		other.Fragment, other.RawFragment = "", ""
		switch u.Scheme {
		case "https":
			t.https = &other
			t.http = &url.URL{Scheme: "http", Host: hostPort(t.host, o.httpPort(), 80), Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}
		case "http":
			t.http = &other
			t.https = &url.URL{Scheme: "https", Host: hostPort(t.host, o.httpsPort(), 443), Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}
		default:
			return target{}, fmt.Errorf("resource %s: scheme %q is neither http nor https", r.ID, u.Scheme)
		}
		return t, nil
	}
	return target{}, fmt.Errorf("resource %s: the http family looks at dns:, ip: and url: resources", r.ID)
}

// hostPort writes host and port for a URL, leaving out the scheme's default port.
func hostPort(host string, port, def int) string {
	if port == def {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

type observer struct{ opts Options }

// observe resolves the host once, then for each address fetches the HTTPS and plain-HTTP
// chains (at the same time) and sends the CORS probe to the page the HTTPS chain ended on.
func (ob observer) observe(ctx context.Context, r inventory.Resource, env check.Env) (Observation, error) {
	t, err := targetOf(r, ob.opts)
	if err != nil {
		return Observation{}, err
	}
	if env.Dial == nil {
		return Observation{}, errors.New("the scan environment has no dialer")
	}
	addrs, err := addresses(ctx, t.host, env)
	if err != nil {
		return Observation{}, err
	}
	o := Observation{Host: t.host, HTTPSURL: t.https.String(), HTTPURL: t.http.String(), Endpoints: make([]Endpoint, len(addrs))}
	var wg sync.WaitGroup
	for i, a := range addrs {
		wg.Go(func() { o.Endpoints[i] = ob.endpoint(ctx, env, t, a) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Observation{}, err
	}
	for _, e := range o.Endpoints {
		if e.answered() {
			return o, nil
		}
	}
	return Observation{}, noAnswerError{host: t.host, endpoints: o.Endpoints}
}

// noAnswerError is an observation in which no address answered at all. It describes itself
// (check.Describer) from each address's failures, so that the Vietnamese reason says why.
type noAnswerError struct {
	host      string
	endpoints []Endpoint
}

func (e noAnswerError) Error() string {
	why := make([]string, len(e.endpoints))
	for i, ep := range e.endpoints {
		why[i] = fmt.Sprintf("%s: HTTPS %s; HTTP %s", ep.Address, ep.HTTPS.why().Message, ep.HTTP.why().Message)
	}
	return fmt.Sprintf("no HTTP or HTTPS answer from %s (%s)", e.host, strings.Join(why, "; "))
}

// Describe says, per address, why neither HTTPS nor HTTP answered; the English reason ends
// with Error's technical account (check.DescribeError).
func (e noAnswerError) Describe() check.Text {
	why := make([]string, len(e.endpoints))
	for i, ep := range e.endpoints {
		why[i] = fmt.Sprintf("%s: HTTPS %s; HTTP %s", ep.Address, ep.HTTPS.why().Describe().VI, ep.HTTP.why().Describe().VI)
	}
	return check.Text{
		VI: fmt.Sprintf("%s không trả lời qua HTTPS lẫn HTTP (%s)", e.host, strings.Join(why, "; ")),
		EN: fmt.Sprintf("%s answers neither HTTPS nor HTTP", e.host),
	}
}

// addresses returns the host's addresses, through the scan's resolver.
func addresses(ctx context.Context, host string, env check.Env) ([]string, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []string{a.Unmap().String()}, nil
	}
	if env.Resolver == nil {
		return nil, fmt.Errorf("cannot resolve %s: the scan has no DNS resolver", host)
	}
	ips, err := env.Resolver.Addrs(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	var out []string
	for _, ip := range ips {
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		if s := a.Unmap().String(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("resolve %s: no addresses", host)
	}
	return out, nil
}

// client fetches for one endpoint: connections to the host go to one address, keeping the
// name for Host and SNI; connections to other hosts of the site (a redirect to www.) go
// through the scope guard's own resolution.
type client struct {
	c       *http.Client
	env     check.Env
	host    string
	timeout time.Duration
	maxBody int64
	maxHops int

	mu       sync.Mutex
	verified map[string]TLSState // by host and leaf certificate: each chain is verified once
}

func (ob observer) endpoint(ctx context.Context, env check.Env, t target, addr string) Endpoint {
	timeout := env.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	// Connections to the host go to addr, keeping the name for Host and SNI; during a scan
	// they are kept alive and shared with the other web families of the resource (env.Web),
	// which the transport's settings (webclient.New) are common to. Redirects and time-outs
	// stay this family's own (its http.Client and requests).
	ip, _ := netip.ParseAddr(addr)
	tr, done := webclient.For(env.Web, env.Dial, t.host, ip, timeout)
	defer done()
	c := &client{
		c: &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		env: env, host: t.host, timeout: timeout, maxBody: ob.opts.maxBody(), maxHops: ob.opts.maxRedirects(),
	}
	e := Endpoint{Address: addr}
	var wg sync.WaitGroup
	wg.Go(func() { e.HTTPS = c.chain(ctx, t.https) })
	wg.Go(func() { e.HTTP = c.chain(ctx, t.http) })
	wg.Wait()
	if hop, _, ok := e.graded(); ok {
		e.CORS = c.probe(ctx, hop.URL)
	} else {
		e.CORS = Probe{Origin: ProbeOrigin, Failure: &Failure{Kind: FailOther, Message: "no page answered, so no CORS probe was sent",
			said: check.Text{VI: "không trang nào trả lời nên không gửi yêu cầu thăm dò CORS", EN: "no page answered, so no CORS probe was sent"}}}
	}
	return e
}

// chain fetches start and follows redirects while they stay on the host's site.
func (c *client) chain(ctx context.Context, start *url.URL) Chain {
	var ch Chain
	u := start
	for n := 0; ; n++ {
		hop, page, err := c.get(ctx, u, "")
		if err != nil {
			ch.Failure = failure(u, err)
			return ch
		}
		if hop.Next == "" {
			ch.Hops = append(ch.Hops, hop)
			ch.Page = page
			return ch
		}
		ch.Hops = append(ch.Hops, hop)
		next, err := url.Parse(hop.Next)
		switch {
		case err != nil || next.Scheme != "http" && next.Scheme != "https" || next.Hostname() == "":
			ch.Failure = &Failure{Kind: FailBadLocation, URL: hop.Next, Message: fmt.Sprintf("redirect to %q, which is not an http or https URL", truncate(hop.Location, 200))}
		case !sameSite(c.host, next.Hostname()):
			ch.Failure = &Failure{Kind: FailOffSite, URL: hop.Next, Message: fmt.Sprintf("redirect leaves %s for %s; not followed", c.host, next.Hostname())}
		case n+1 > c.maxHops:
			ch.Failure = &Failure{Kind: FailRedirects, URL: hop.Next, Message: fmt.Sprintf("more than %d redirects", c.maxHops)}
		default:
			u = next
			continue
		}
		return ch
	}
}

// get sends one GET and reads the answer: the whole body (up to maxBody) for a final answer,
// a little of it otherwise so the connection can be reused. origin, when set, is sent as the
// Origin header and the body is not kept.
func (c *client) get(ctx context.Context, u *url.URL, origin string) (Hop, *Page, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Hop{}, nil, err
	}
	ua := c.env.UserAgent
	if ua == "" {
		ua = "Khien"
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		return Hop{}, nil, err
	}
	defer resp.Body.Close()
	hop := Hop{URL: u.String(), Status: resp.StatusCode, Header: resp.Header}
	if resp.TLS != nil {
		hop.TLS = c.tlsState(resp.TLS, u.Hostname())
	}
	if isRedirect(resp.StatusCode) {
		if loc := resp.Header.Get("Location"); loc != "" {
			hop.Location = loc
			if next, err := u.Parse(loc); err == nil {
				hop.Next = next.String()
			} else {
				hop.Next = loc // chain reports it as a bad location
			}
		}
	}
	if hop.Next != "" || origin != "" {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return hop, nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil && len(body) == 0 {
		return hop, nil, nil // the headers are the answer; a body cut short is not a failure
	}
	p := &Page{URL: hop.URL, ContentType: truncate(resp.Header.Get("Content-Type"), 200)}
	if int64(len(body)) > c.maxBody {
		body, p.Truncated = body[:c.maxBody], true
	}
	sum := sha256.Sum256(body)
	p.Bytes, p.SHA256 = len(body), hex.EncodeToString(sum[:])
	if isHTML(p.ContentType, body) {
		d := ScanHTML(body, u)
		p.HTML = &d
	}
	return hop, p, nil
}

// probe sends the CORS probe to the page's URL.
func (c *client) probe(ctx context.Context, raw string) Probe {
	p := Probe{URL: raw, Origin: ProbeOrigin}
	u, err := url.Parse(raw)
	if err != nil {
		p.Failure = &Failure{Kind: FailOther, URL: raw, Message: err.Error(),
			said: check.Text{VI: "địa chỉ trang không đọc được", EN: "the page's URL does not parse (" + err.Error() + ")"}}
		return p
	}
	hop, _, err := c.get(ctx, u, ProbeOrigin)
	if err != nil {
		p.Failure = failure(u, err)
		return p
	}
	p.Status, p.Header = hop.Status, hop.Header
	return p
}

func (c *client) tlsState(cs *tls.ConnectionState, host string) *TLSState {
	s := &TLSState{Version: tls.VersionName(cs.Version), CipherSuite: tls.CipherSuiteName(cs.CipherSuite)}
	if len(cs.PeerCertificates) == 0 {
		s.VerifyError = "the server sent no certificate"
		return s
	}
	key := host + "\x00" + string(cs.PeerCertificates[0].Signature)
	c.mu.Lock()
	v, ok := c.verified[key]
	c.mu.Unlock()
	if ok {
		s.Verified, s.VerifyError = v.Verified, v.VerifyError
		return s
	}
	defer func() {
		c.mu.Lock()
		if c.verified == nil {
			c.verified = map[string]TLSState{}
		}
		c.verified[key] = *s
		c.mu.Unlock()
	}()
	opts := x509.VerifyOptions{DNSName: host, Roots: c.env.Roots, Intermediates: x509.NewCertPool()}
	for _, ic := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(ic)
	}
	if c.env.Now != nil {
		opts.CurrentTime = c.env.Now()
	}
	if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
		s.VerifyError = truncate(err.Error(), 300)
	} else {
		s.Verified = true
	}
	return s
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

func isHTML(contentType string, body []byte) bool {
	if contentType == "" {
		contentType = http.DetectContentType(body)
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "text/html" || mt == "application/xhtml+xml")
}

// failure classifies why u got no answer.
func failure(u *url.URL, err error) *Failure {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	kind := FailOther
	var ne net.Error
	var rec tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		kind = FailTimeout
	case errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET):
		kind = FailRefused
	case errors.As(err, &rec) || errors.As(err, &alert) || strings.HasPrefix(err.Error(), "tls: ") || strings.Contains(err.Error(), "handshake"):
		kind = FailTLS
	}
	f := &Failure{Kind: kind, URL: u.String(), Message: truncate(err.Error(), 300)}
	if kind == FailOther {
		// The kind says nothing more than "an error"; the error itself may say what.
		f.said = check.DescribeError(err)
	}
	return f
}

// sameSite reports whether host is origin, a subdomain of it, or shares its registrable domain
// (eTLD+1 by the Public Suffix List): the hosts a redirect may lead to and still be the site.
func sameSite(origin, host string) bool {
	origin = strings.TrimSuffix(strings.ToLower(origin), ".")
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if origin == host {
		return true
	}
	if _, err := netip.ParseAddr(origin); err == nil {
		return false
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return false
	}
	if strings.HasSuffix(host, "."+origin) {
		return true
	}
	a, err1 := publicsuffix.EffectiveTLDPlusOne(origin)
	b, err2 := publicsuffix.EffectiveTLDPlusOne(host)
	return err1 == nil && err2 == nil && a == b
}
