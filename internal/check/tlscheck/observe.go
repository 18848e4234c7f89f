package tlscheck

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/webclient"
	"github.com/khien-vn/khien/internal/inventory"
)

// maxConnsPerIP bounds the connections one observation keeps open to one address at a time:
// the protocols are enumerated side by side, each one sequentially.
const maxConnsPerIP = 6

// Observation is what one assessment of a resource's TLS service saw. Every address of the
// resource's name is an endpoint of its own, probed separately: a load balancer with one
// stale member is as weak as that member.
type Observation struct {
	Resource string
	Host     string // the name or address the resource names
	Port     int
	// CheckName says whether the certificate must cover Host. It is false for ip:
	// resources, which name no host a certificate could be issued for.
	CheckName  bool
	TrustStore string    // "system" or "configured" (env.Roots, fed by --ca-file)
	At         time.Time // when the observation was made; certificate dates are judged against it
	Endpoints  []Endpoint
}

// Reach says whether an endpoint could be talked to at all.
type Reach string

// Reach values.
const (
	Reached     Reach = "reached"
	Refused     Reach = "refused"     // every connection was refused: nothing listens on the port
	Unreachable Reach = "unreachable" // time-outs or other network errors
)

// Endpoint is one address of the resource and what its TLS service accepted.
type Endpoint struct {
	Name  string // host name; empty for an address resource
	IP    string
	Port  int
	SNI   string // server name sent; empty when the host is an address
	Reach Reach
	Error string // why the endpoint was not reached
	// Protocols holds one entry per version probed, SSL 3.0 first.
	Protocols []Protocol
	Cert      *Cert  // nil when no certificate was obtained
	CertError string // why not, or what went wrong in the certificate handshake
	// Handshakes counts the connections opened to the endpoint.
	Handshakes int

	// errorWhy and certWhy say Error and CertError in both languages, described from the
	// error itself when it was at hand (check.DescribeError): the reasons' Vietnamese
	// carries them, not the English text.
	errorWhy, certWhy check.Text
}

// Label names the endpoint as findings do: "name|address:port", or "address:port".
func (e Endpoint) Label() string {
	hp := net.JoinHostPort(e.IP, strconv.Itoa(e.Port))
	if e.Name == "" {
		return hp
	}
	return e.Name + "|" + hp
}

// Protocol returns what was seen of version v.
func (e Endpoint) Protocol(v uint16) Protocol {
	for _, p := range e.Protocols {
		if p.Version == v {
			return p
		}
	}
	return Protocol{Version: v, Error: "not probed", why: check.Text{VI: "chưa được dò", EN: "not probed"}}
}

// Protocol is the enumeration of one protocol version by elimination.
type Protocol struct {
	Version  uint16
	Accepted bool
	// Suites are the accepted suites in the order the server chose them: with server
	// preference that is the server's order.
	Suites  []uint16
	Offered []uint16 // the first hello's bundle; each later hello offers it minus the suites chosen before
	Probes  []Probe
	Error   string // enumeration stopped on a network or protocol error
	// SecureRenegotiation is true when the server's ServerHello carried renegotiation_info.
	SecureRenegotiation bool

	dialErr error      // the first connection failed: used to tell refused from unreachable
	certs   [][]byte   // chain from a hand-built handshake, a fallback for the certificate checks
	why     check.Text // Error in both languages, as errorWhy is for Endpoint.Error
}

// Probe is one hand-built hello and the answer to it.
type Probe struct {
	Offered     int    // number of suites offered
	HelloSHA256 string // of the exact bytes sent
	Answer      string // "server_hello TLS 1.2 TLS_…", "alert 40 handshake_failure", "closed", "error: …"
}

// Cert is the certificate chain one endpoint served and Khiên's verification of it.
type Cert struct {
	Via         string     // the handshake that delivered it: "crypto/tls TLS 1.3 TLS_AES_128_GCM_SHA256"
	Chain       []CertInfo // as served, leaf first
	KeyType     string     // of the leaf: RSA, ECDSA, Ed25519, DSA
	KeyBits     int
	DNSNames    []string
	IPAddresses []string
	// VerifyError is why the chain does not verify against the trust store, judged at a time
	// inside the leaf's validity so that dates stay the business of the date checks; empty
	// when it verifies.
	VerifyError string
	// VerifyErrorAtScan is the same verification at the time of the scan, where an expired
	// certificate breaks the chain too, as in OpenSSL's verify (Policy.TrustAtScanTime).
	VerifyErrorAtScan string
	// SHA1VerifyError and SHA1VerifyErrorAtScan are the two verifications with SHA-1
	// signatures accepted, as OpenSSL does at its default security level (Policy.AcceptSHA1).
	// They equal the two above when no certificate of the chain is signed with SHA-1.
	SHA1VerifyError, SHA1VerifyErrorAtScan string
	// HostError is why the leaf does not cover the host name (RFC 6125: subjectAltName only);
	// empty when it does or when the name is not checked.
	HostError string
}

// CertInfo describes one certificate of a served chain.
type CertInfo struct {
	Subject            string
	Issuer             string
	SHA256             string // of the DER
	NotBefore          time.Time
	NotAfter           time.Time
	SignatureAlgorithm string // as crypto/x509 names it: "SHA256-RSA", "SHA1-RSA", "ECDSA-SHA256"…
	SelfSigned         bool   // subject equals issuer: a root, exempt from the signature check
}

// target is what a resource says to connect to.
type target struct {
	host      string
	port      int
	isName    bool
	checkName bool
}

// applies reports whether the family looks at r: names (port 443), https URLs (their port)
// and addresses (port 443).
func applies(r inventory.Resource) bool {
	_, err := targetOf(r)
	return err == nil
}

func targetOf(r inventory.Resource) (target, error) {
	switch r.Kind() {
	case inventory.KindDNS:
		return target{host: r.Value(), port: 443, isName: true, checkName: true}, nil
	case inventory.KindIP:
		return target{host: r.Value(), port: 443}, nil
	case inventory.KindURL:
		u, err := url.Parse(r.Value())
		if err != nil {
			return target{}, fmt.Errorf("resource %s: %w", r.ID, err)
		}
		if u.Scheme != "https" {
			return target{}, fmt.Errorf("resource %s is not an https URL", r.ID)
		}
		t := target{host: u.Hostname(), port: 443, checkName: true}
		if p := u.Port(); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return target{}, fmt.Errorf("resource %s has a bad port %q", r.ID, p)
			}
			t.port = n
		}
		_, err = netip.ParseAddr(t.host)
		t.isName = err != nil
		return t, nil
	}
	return target{}, fmt.Errorf("resource %s: the tls family looks at dns:, ip: and https url: resources", r.ID)
}

// observe resolves the resource's name through env.Resolver and probes every address in
// parallel, each with at most maxConnsPerIP connections at a time.
func observe(ctx context.Context, r inventory.Resource, env check.Env) (Observation, error) {
	t, err := targetOf(r)
	if err != nil {
		return Observation{}, err
	}
	now := time.Now
	if env.Now != nil {
		now = env.Now
	}
	o := Observation{Resource: r.ID, Host: t.host, Port: t.port, CheckName: t.checkName, TrustStore: "system", At: now().UTC()}
	if env.Roots != nil {
		o.TrustStore = "configured"
	}
	var addrs []netip.Addr
	if t.isName {
		if env.Resolver == nil {
			return Observation{}, fmt.Errorf("resolve %s: no resolver configured", t.host)
		}
		ips, err := env.Resolver.Addrs(ctx, t.host)
		if err != nil {
			return Observation{}, fmt.Errorf("resolve %s: %w", t.host, err)
		}
		for _, ip := range ips {
			if a, ok := netip.AddrFromSlice(ip); ok {
				addrs = append(addrs, a.Unmap())
			}
		}
	} else {
		a, err := netip.ParseAddr(t.host)
		if err != nil {
			return Observation{}, fmt.Errorf("resource %s: %w", r.ID, err)
		}
		addrs = []netip.Addr{a.Unmap()}
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	addrs = slices.Compact(addrs)
	if len(addrs) == 0 {
		return Observation{}, fmt.Errorf("resolve %s: no addresses", t.host)
	}

	o.Endpoints = make([]Endpoint, len(addrs))
	var wg sync.WaitGroup
	for i, a := range addrs {
		e := &o.Endpoints[i]
		e.IP, e.Port = a.String(), t.port
		if t.isName {
			e.Name, e.SNI = t.host, t.host
		}
		wg.Go(func() { observeEndpoint(ctx, env, e, &o) })
	}
	wg.Wait()

	var unreachable []string
	for _, e := range o.Endpoints {
		switch e.Reach {
		case Reached:
			return o, nil
		case Unreachable:
			unreachable = append(unreachable, e.Label()+": "+e.Error)
		}
	}
	if len(unreachable) > 0 {
		return Observation{}, fmt.Errorf("no endpoint reached: %s", strings.Join(unreachable, "; "))
	}
	return o, nil // every endpoint refused: the checks say nothing listens
}

// prober opens connections to one endpoint, at most maxConnsPerIP at a time.
type prober struct {
	env     check.Env
	addr    string // ip:port
	sni     string
	sem     chan struct{}
	mu      sync.Mutex
	dials   int
	timeout time.Duration
}

func observeEndpoint(ctx context.Context, env check.Env, e *Endpoint, o *Observation) {
	p := &prober{
		env:     env,
		addr:    net.JoinHostPort(e.IP, strconv.Itoa(e.Port)),
		sni:     e.SNI,
		sem:     make(chan struct{}, maxConnsPerIP),
		timeout: env.Timeout,
	}
	if p.timeout <= 0 {
		p.timeout = 5 * time.Second
	}
	e.Protocols = make([]Protocol, len(Versions))
	var (
		wg      sync.WaitGroup
		certRaw [][]byte
		certVia string
		certErr error
	)
	for i, v := range Versions {
		wg.Go(func() { e.Protocols[i] = p.enumerate(ctx, v) })
	}
	wg.Go(func() { certRaw, certVia, certErr = p.handshake(ctx) })
	wg.Wait()
	e.Handshakes = p.dials
	var certDial error
	if de := (dialError{}); errors.As(certErr, &de) {
		certDial = de.err
	}

	// Reach: any answer at all means the endpoint was reached.
	var dialErrs []error
	reached := certDial == nil
	for _, pr := range e.Protocols {
		if pr.dialErr != nil {
			dialErrs = append(dialErrs, pr.dialErr)
		} else {
			reached = true
		}
	}
	if certDial != nil {
		dialErrs = append(dialErrs, certDial)
	}
	switch {
	case reached:
		e.Reach = Reached
	case allRefused(dialErrs):
		e.Reach, e.Error, e.errorWhy = Refused, dialErrs[0].Error(), check.DescribeError(dialErrs[0])
		return
	default:
		e.Reach, e.Error, e.errorWhy = Unreachable, dialErrs[0].Error(), check.DescribeError(dialErrs[0])
		return
	}

	if len(certRaw) == 0 {
		// Fall back on a chain a hand-built hello brought back (SSL 3.0 or suites crypto/tls
		// does not speak), the newest protocol first.
		for i := len(e.Protocols) - 1; i >= 0; i-- {
			if pr := e.Protocols[i]; len(pr.certs) > 0 {
				certRaw = pr.certs
				certVia = "hand-built hello " + VersionName(pr.Version) + " " + SuiteName(pr.Suites[0])
				break
			}
		}
	}
	if len(certRaw) == 0 {
		e.CertError = "no certificate was served"
		e.certWhy = check.Text{VI: "máy chủ không gửi chứng thư số", EN: e.CertError}
		if certErr != nil {
			e.CertError, e.certWhy = certErr.Error(), check.DescribeError(certErr)
		}
		return
	}
	cert, err := inspect(certRaw, env.Roots, o.At, o.Host, o.CheckName)
	if err != nil {
		e.CertError = err.Error()
		e.certWhy = check.Text{VI: "chứng thư số máy chủ gửi không đọc được", EN: e.CertError}
		return
	}
	cert.Via = certVia
	e.Cert = cert
	if certErr != nil && !strings.HasPrefix(certVia, "hand-built") {
		cert.Via += " (handshake not completed: " + certErr.Error() + ")"
	}
}

func allRefused(errs []error) bool {
	for _, err := range errs {
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return false
		}
	}
	return len(errs) > 0
}

// dial opens one connection through env.Dial, holding a slot of the per-address budget until
// the returned release is called.
func (p *prober) dial(ctx context.Context) (net.Conn, func(), error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	release := func() { <-p.sem }
	p.mu.Lock()
	p.dials++
	p.mu.Unlock()
	dctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	conn, err := p.env.Dial(dctx, "tcp", p.addr)
	if err != nil {
		release()
		return nil, nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(p.timeout))
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // cancellation ends a blocked read
	return conn, func() { stop(); conn.Close(); release() }, nil
}

// describeProbe says why an enumeration stopped, in both languages.
func describeProbe(err error) check.Text {
	if errors.Is(err, errMalformed) {
		return check.Text{VI: "máy chủ trả lời sai giao thức TLS", EN: "the server's answer breaks the TLS protocol (" + err.Error() + ")"}
	}
	return check.DescribeError(err)
}

// dialError marks an error of the connection itself, as opposed to the exchange over it.
type dialError struct{ err error }

func (e dialError) Error() string { return e.err.Error() }
func (e dialError) Unwrap() error { return e.err }

// probe sends one hand-built hello and reads the answer. A connection that cannot be opened
// gives a dialError.
func (p *prober) probe(ctx context.Context, h hello, wantCert bool) (reply, Probe, error) {
	msg := h.marshal()
	sum := sha256.Sum256(msg)
	pr := Probe{Offered: len(h.Suites), HelloSHA256: hex.EncodeToString(sum[:])}
	conn, done, err := p.dial(ctx)
	if err != nil {
		pr.Answer = "error: " + err.Error()
		return reply{}, pr, dialError{err}
	}
	defer done()
	if _, err := conn.Write(msg); err != nil {
		if isClosed(err) {
			pr.Answer = reply{}.String()
			return reply{Kind: replyClosed}, pr, nil
		}
		pr.Answer = "error: " + err.Error()
		return reply{}, pr, err
	}
	rep, err := readReply(conn, wantCert)
	if err != nil {
		pr.Answer = "error: " + err.Error()
		return reply{}, pr, err
	}
	pr.Answer = rep.String()
	return rep, pr, nil
}

// enumerate finds the suites version v accepts by elimination: offer every suite Khiên knows
// for v, remove the one the server picks, and ask again until the server refuses. A version
// costs (accepted suites + 1) handshakes, and a weak suite the server accepts but never
// prefers is still found.
func (p *prober) enumerate(ctx context.Context, v uint16) Protocol {
	pr := Protocol{Version: v, Offered: offerFor(v)}
	offer := slices.Clone(pr.Offered)
	wantCert := v < VersionTLS13
	for len(offer) > 0 {
		rep, probe, err := p.probe(ctx, hello{Version: v, Suites: offer, ServerName: p.sni}, wantCert)
		pr.Probes = append(pr.Probes, probe)
		if errors.Is(err, errNotTLS) {
			break // a definite answer: whatever listens does not speak this version of TLS
		}
		if err != nil {
			if de := (dialError{}); len(pr.Probes) == 1 && errors.As(err, &de) {
				pr.dialErr = de.err
			}
			pr.Error, pr.why = err.Error(), describeProbe(err)
			break
		}
		if (rep.Kind != replyServerHello && rep.Kind != replyHelloRetry) || rep.Version != v {
			break // an alert, a hang-up or another version: v accepts nothing more
		}
		i := slices.Index(offer, rep.Suite)
		if i < 0 {
			pr.Error = fmt.Sprintf("the server chose %s, which was not offered", SuiteName(rep.Suite))
			pr.why = check.Text{VI: fmt.Sprintf("máy chủ chọn bộ mã hóa %s, vốn không được đề nghị", SuiteName(rep.Suite)), EN: pr.Error}
			break
		}
		pr.Accepted = true
		pr.Suites = append(pr.Suites, rep.Suite)
		pr.SecureRenegotiation = pr.SecureRenegotiation || rep.SecureRenegotiation
		if len(rep.Certificates) > 0 && pr.certs == nil {
			pr.certs = rep.Certificates
		}
		wantCert = pr.certs == nil && rep.Kind == replyServerHello
		offer = slices.Delete(offer, i, i+1)
	}
	return pr
}

// goSuites is every suite crypto/tls implements, insecure ones included: the certificate
// handshake must succeed with a server that accepts only 3DES or RC4.
var goSuites = webclient.AllSuites()

// handshake completes one real handshake with crypto/tls, TLS 1.0 to 1.3, and returns the
// chain the server sent. Verification is Khiên's own (inspect), so the handshake skips it.
func (p *prober) handshake(ctx context.Context) (chain [][]byte, via string, err error) {
	conn, done, err := p.dial(ctx)
	if err != nil {
		return nil, "", dialError{err}
	}
	defer done()
	cfg := &tls.Config{
		ServerName:         p.sni,
		InsecureSkipVerify: true, // verified by inspect against env.Roots, with dates and name judged apart
		MinVersion:         tls.VersionTLS10,
		MaxVersion:         tls.VersionTLS13,
		CipherSuites:       goSuites,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			chain = make([][]byte, len(raw))
			for i, c := range raw {
				chain[i] = slices.Clone(c)
			}
			return nil
		},
	}
	tc := tls.Client(conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	err = tc.HandshakeContext(hctx)
	if err == nil {
		st := tc.ConnectionState()
		via = "crypto/tls " + VersionName(st.Version) + " " + SuiteName(st.CipherSuite)
	} else {
		via = "crypto/tls"
	}
	return chain, via, err
}
