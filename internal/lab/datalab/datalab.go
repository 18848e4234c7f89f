// Package datalab serves the loopback web hosts the data family is tested and demonstrated
// against: a leaking host, whose public pages list citizen ID and mobile numbers, link to a
// document stamped TUYỆT MẬT, leave a private key and a database password in their source
// and load a script (and its source map) with a service key bundled in, and a clean host,
// whose pages use the same words innocently (bí mật, mật khẩu, a 1900 hotline, invoice
// numbers, one phone number in the footer) and whose script carries only keys public by
// design (an anon JWT, a Maps key) among digit runs that look like identity numbers.
//
// Every value is synthetic: structurally valid (province code, century digit, network
// prefix, check digit) with serials of zeros, and nobody's. Hosts listen on loopback only;
// the lab orchestrator composes them with the other labs and its DNS server.
package datalab

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// Kind is the behaviour of a lab host.
type Kind string

// The hosts of the data lab.
const (
	Leaky Kind = "leaky" // fails data.pii.public, data.classified.public and data.secret.public
	Clean Kind = "clean" // passes all three
)

// Options says where and how a host listens.
type Options struct {
	// Addr is the loopback address to listen on, "127.0.0.1:0" when empty. Anything but a
	// loopback address is refused.
	Addr string
	// TLS serves HTTPS with a self-signed certificate instead of plain HTTP.
	TLS bool
	// Name is the host name the lab's DNS gives the host, for links and the certificate;
	// default "<kind>.data.lab.khien.test".
	Name string
	// Log receives the server's errors (failed handshakes and the like); nil discards them.
	Log *slog.Logger
}

// Host is a running lab host.
type Host struct {
	Kind Kind
	Name string // DNS name the orchestrator should map to Addr's address
	Addr string // host:port it listens on
	URL  string // its root URL by address, e.g. http://127.0.0.1:40123/
	srv  *http.Server
	done chan struct{}
}

// Start serves a host of kind until ctx ends or Close is called.
func Start(ctx context.Context, kind Kind, opts Options) (*Host, error) {
	h, err := Handler(kind)
	if err != nil {
		return nil, err
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Name == "" {
		opts.Name = string(kind) + ".data.lab.khien.test"
	}
	ap, err := netip.ParseAddrPort(opts.Addr)
	if err != nil || !ap.Addr().IsLoopback() {
		return nil, fmt.Errorf("datalab: %q is not a loopback address:port", opts.Addr)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("datalab: %w", err)
	}
	scheme := "http"
	if opts.TLS {
		cert, err := selfSigned(opts.Name, ap.Addr())
		if err != nil {
			ln.Close()
			return nil, err
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	host := &Host{
		Kind: kind,
		Name: opts.Name,
		Addr: ln.Addr().String(),
		URL:  scheme + "://" + ln.Addr().String() + "/",
		srv: &http.Server{
			Handler:           h,
			ErrorLog:          slog.NewLogLogger(logHandler(opts.Log), slog.LevelWarn),
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      10 * time.Second,
		},
		done: make(chan struct{}),
	}
	go func() { _ = host.srv.Serve(ln) }()
	go func() {
		select {
		case <-ctx.Done():
			host.Close()
		case <-host.done:
		}
	}()
	return host, nil
}

func logHandler(l *slog.Logger) slog.Handler {
	if l == nil {
		return slog.DiscardHandler
	}
	return l.Handler()
}

// Close stops the host.
func (h *Host) Close() error {
	select {
	case <-h.done:
		return nil
	default:
		close(h.done)
	}
	return h.srv.Close()
}

// StartN starts n identical hosts on distinct loopback addresses 127.0.1.1, 127.0.1.2, …
// (random ports), named <kind>-<i>.data.lab.khien.test, for benchmarks of many hosts.
func StartN(ctx context.Context, kind Kind, n int, tlsOn bool) ([]*Host, error) {
	if n < 1 || n > 254*254 {
		return nil, fmt.Errorf("datalab: cannot start %d hosts", n)
	}
	hosts := make([]*Host, 0, n)
	for i := range n {
		addr := netip.AddrFrom4([4]byte{127, 0, byte(1 + i/254), byte(1 + i%254)})
		h, err := Start(ctx, kind, Options{
			Addr: netip.AddrPortFrom(addr, 0).String(),
			TLS:  tlsOn,
			Name: fmt.Sprintf("%s-%d.data.lab.khien.test", kind, i+1),
		})
		if err != nil {
			for _, h := range hosts {
				h.Close()
			}
			return nil, err
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// selfSigned makes a throwaway certificate for name and addr; the data family does not judge
// certificates.
func selfSigned(name string, addr netip.Addr) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, Organization: []string{"Khiên lab"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(30 * 24 * time.Hour),
		DNSNames:     []string{name},
		IPAddresses:  []net.IP{addr.AsSlice()},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// Handler returns the site of a lab host, for callers that serve it themselves.
func Handler(kind Kind) (http.Handler, error) {
	var pages map[string]page
	switch kind {
	case Leaky:
		pages = leakyPages()
	case Clean:
		pages = cleanPages()
	default:
		return nil, errors.New("datalab: unknown kind " + string(kind))
	}
	mux := http.NewServeMux()
	for path, p := range pages {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != path {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", p.contentType)
			_, _ = w.Write([]byte(p.body))
		})
	}
	return mux, nil
}
