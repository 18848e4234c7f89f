package tlslab

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Profile is the configuration of a lab host served by Go's crypto/tls.
type Profile struct {
	Name       string // shown on the host's page
	MinVersion uint16
	MaxVersion uint16
	// CipherSuites are the TLS ≤ 1.2 suites enabled, insecure ones included; nil means Go's
	// defaults. TLS 1.3 suites are not configurable in Go.
	CipherSuites []uint16
	Cert         CertVariant
	Key          KeyType
}

// Modern is a good host: TLS 1.2 and 1.3 with Go's default (forward-secret, AEAD) suites and
// an ECDSA P-256 certificate from the lab CA.
var Modern = Profile{Name: "modern", MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13, Cert: CertGood, Key: KeyECDSA256}

// Legacy is a bad host that Go can still serve: TLS 1.0 to 1.2, no TLS 1.3, RSA key exchange
// only (no forward secrecy), with 3DES and RC4 enabled explicitly.
var Legacy = Profile{
	Name:       "legacy",
	MinVersion: tls.VersionTLS10,
	MaxVersion: tls.VersionTLS12,
	CipherSuites: []uint16{
		tls.TLS_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
		tls.TLS_RSA_WITH_RC4_128_SHA,
	},
	Cert: CertGood,
	Key:  KeyRSA2048,
}

// WithCert returns the modern profile serving a certificate of variant v: a host that fails
// exactly that certificate check.
func WithCert(v CertVariant) Profile {
	p := Modern
	p.Name, p.Cert = "cert-"+string(v), v
	return p
}

// Config returns the tls.Config of profile p with a certificate for names issued by ca.
func (p Profile) Config(ca *CA, names []string) (*tls.Config, error) {
	cert, err := ca.Issue(names, p.Cert, p.Key, time.Time{})
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   p.MinVersion,
		MaxVersion:   p.MaxVersion,
		CipherSuites: p.CipherSuites,
	}, nil
}

// StartTLS starts an HTTPS host of profile p on addr ("127.0.0.1:0" picks a port), with a
// certificate for names (DNS names or IP literals) issued by ca.
func StartTLS(ctx context.Context, addr string, ca *CA, names []string, p Profile) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tlslab: %w", err)
	}
	s, err := ServeTLS(ctx, ln, ca, names, p)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return s, nil
}

// ServeTLS serves an HTTPS host of profile p on ln until Close or the end of ctx. The page
// names the profile; handshake errors (Khiên's probes cause many) are not logged.
func ServeTLS(ctx context.Context, ln net.Listener, ca *CA, names []string, p Profile) (*Server, error) {
	cfg, err := p.Config(ca, names)
	if err != nil {
		return nil, err
	}
	hs := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintf(w, "Khiên lab TLS host (%s)\n", p.Name)
		}),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	served := make(chan struct{})
	s := newServer(ctx, ln, func() error {
		err := hs.Close()
		<-served
		return err
	})
	go func() {
		defer close(served)
		_ = hs.Serve(tls.NewListener(countingListener{ln, &s.conns}, cfg))
	}()
	return s, nil
}

// ListenSamePort listens on one port shared by every address of ips (for instance 127.0.0.2
// and 127.0.0.3), so that one name with several A records reaches different servers on the
// port a URL names. It retries a few ports when the first one is taken on another address.
func ListenSamePort(ips ...string) ([]net.Listener, error) {
	if len(ips) == 0 {
		return nil, fmt.Errorf("tlslab: no addresses")
	}
	var lastErr error
	for range 20 {
		first, err := net.Listen("tcp", net.JoinHostPort(ips[0], "0"))
		if err != nil {
			return nil, fmt.Errorf("tlslab: %w", err)
		}
		_, port, _ := net.SplitHostPort(first.Addr().String())
		lns := []net.Listener{first}
		for _, ip := range ips[1:] {
			ln, err := net.Listen("tcp", net.JoinHostPort(ip, port))
			if err != nil {
				lastErr = err
				break
			}
			lns = append(lns, ln)
		}
		if len(lns) == len(ips) {
			return lns, nil
		}
		for _, ln := range lns {
			ln.Close()
		}
	}
	return nil, fmt.Errorf("tlslab: no port free on all of %v: %w", ips, lastErr)
}

// Mixed is one name served by two addresses on the same port: a raw legacy responder (SSL 3.0,
// weak suites) and a modern Go host. A scan of the name must report the legacy one.
type Mixed struct {
	Legacy, Modern *Server
	Port           int
}

// Close stops both servers.
func (m *Mixed) Close() error {
	err1 := m.Legacy.Close()
	err2 := m.Modern.Close()
	if err1 != nil {
		return err1
	}
	return err2
}

// StartMixed starts the legacy responder on legacyIP and the modern host on modernIP (two
// loopback addresses, e.g. 127.0.0.2 and 127.0.0.3) on one port, both with certificates for
// names.
func StartMixed(ctx context.Context, ca *CA, names []string, legacyIP, modernIP string) (*Mixed, error) {
	lns, err := ListenSamePort(legacyIP, modernIP)
	if err != nil {
		return nil, err
	}
	pol, err := LegacyRawPolicy(ca, names)
	if err != nil {
		lns[0].Close()
		lns[1].Close()
		return nil, err
	}
	legacy := ServeRaw(ctx, lns[0], pol)
	modern, err := ServeTLS(ctx, lns[1], ca, names, Modern)
	if err != nil {
		legacy.Close()
		lns[1].Close()
		return nil, err
	}
	_, port, _ := net.SplitHostPort(lns[0].Addr().String())
	n, _ := strconv.Atoi(port)
	return &Mixed{Legacy: legacy, Modern: modern, Port: n}, nil
}

// LoopbackAddr returns the i-th (from 0) of a series of distinct loopback addresses,
// 127.77.0.1, 127.77.0.2, … 127.77.1.1 …, for starting many identical hosts (benchmarks).
// Linux routes all of 127.0.0.0/8 to loopback; other systems need the addresses aliased.
func LoopbackAddr(i int) string {
	return fmt.Sprintf("127.77.%d.%d", (i/250)%256, i%250+1)
}

// StartMany starts n hosts of profile p, one per LoopbackAddr, each on a port of its own,
// with a certificate for its address and names.
func StartMany(ctx context.Context, n int, ca *CA, names []string, p Profile) ([]*Server, error) {
	var out []*Server
	for i := range n {
		ip := LoopbackAddr(i)
		s, err := StartTLS(ctx, net.JoinHostPort(ip, "0"), ca, append([]string{ip}, names...), p)
		if err != nil {
			for _, s := range out {
				s.Close()
			}
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// StartSet starts the standard lab hosts on ip, each on a port of its own: "modern" (passes
// every tls check), "legacy" (Go: TLS 1.0–1.2, RSA key exchange, 3DES and RC4), "raw-legacy"
// (SSL 3.0 and TLS 1.0 with NULL, EXPORT, anonymous and DES suites) and "cert-<variant>" for
// each defective certificate variant. Certificates cover ip and names.
func StartSet(ctx context.Context, ca *CA, ip string, names []string) (map[string]*Server, error) {
	names = append([]string{ip}, names...)
	out := map[string]*Server{}
	fail := func(err error) (map[string]*Server, error) {
		for _, s := range out {
			s.Close()
		}
		return nil, err
	}
	addr := net.JoinHostPort(ip, "0")
	profiles := []Profile{Modern, Legacy}
	for _, v := range CertVariants {
		if v != CertGood {
			profiles = append(profiles, WithCert(v))
		}
	}
	for _, p := range profiles {
		s, err := StartTLS(ctx, addr, ca, names, p)
		if err != nil {
			return fail(err)
		}
		out[p.Name] = s
	}
	pol, err := LegacyRawPolicy(ca, names)
	if err != nil {
		return fail(err)
	}
	s, err := StartRaw(ctx, addr, pol)
	if err != nil {
		return fail(err)
	}
	out["raw-legacy"] = s
	return out, nil
}
