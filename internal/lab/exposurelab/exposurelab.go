// Package exposurelab runs the loopback servers that make the exposure family's checks fail
// and pass: a web site that leaks its Git repository, .env file, a SQL dump, a directory
// listing and phpMyAdmin and has no security.txt; a clean site that answers 200 with the same
// "page not found" for every path (the trap a status-code-only scanner falls into) and serves
// a valid security.txt; and listeners that speak enough of ten database and remote
// administration protocols (PostgreSQL, MySQL, SQL Server, MongoDB, Redis, Elasticsearch,
// RDP, Telnet, VNC, SMB) to be recognized by their handshakes.
//
// Every server binds port 0 of a loopback address the caller chooses (127.0.x.y), so the lab
// orchestrator can put many hosts side by side, and stops when its context ends or Close is
// called. Nothing here ever listens beyond loopback.
package exposurelab

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
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Server is one running lab listener.
type Server struct {
	Name string         // "web", "postgresql", "redis"…
	Addr netip.AddrPort // where it listens
	// URL is the base URL of a web server ("http://127.0.0.2:41234"), empty for services.
	URL string

	ln    net.Listener
	once  sync.Once
	stop  func() bool
	srv   *http.Server // web servers only
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
	err   error
}

// Port returns the port the server listens on.
func (s *Server) Port() int { return int(s.Addr.Port()) }

// Close stops the server and closes its connections. It is safe to call more than once.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		stop := s.stop
		s.mu.Unlock()
		if stop != nil {
			stop()
		}
		s.err = s.ln.Close()
		if s.srv != nil {
			_ = s.srv.Close()
		}
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
		if errors.Is(s.err, net.ErrClosed) {
			s.err = nil
		}
	})
	return s.err
}

// listen binds ap (port 0 picks a free one), whose address must be a loopback address.
func listen(ctx context.Context, ap netip.AddrPort, name string) (*Server, error) {
	if !ap.Addr().IsLoopback() {
		return nil, fmt.Errorf("exposurelab: %s is not a loopback address; the lab listens on loopback only", ap.Addr())
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", ap.String())
	if err != nil {
		return nil, fmt.Errorf("exposurelab: listen for %s on %s: %w", name, ap, err)
	}
	s := &Server{
		Name:  name,
		Addr:  ln.Addr().(*net.TCPAddr).AddrPort(),
		ln:    ln,
		conns: map[net.Conn]struct{}{},
	}
	return s, nil
}

// closeWith arranges for the server to stop when ctx ends; it is called once the server is
// fully set up, so Close never races with the start.
func (s *Server) closeWith(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() { s.Close() })
	s.mu.Lock()
	s.stop = stop
	s.mu.Unlock()
}

// serve accepts connections and runs handle on each, with a deadline so a stuck client
// cannot hold a connection open forever.
func (s *Server) serve(handle func(net.Conn)) {
	s.wg.Go(func() {
		for {
			c, err := s.ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = struct{}{}
			s.mu.Unlock()
			s.wg.Go(func() {
				defer func() {
					c.Close()
					s.mu.Lock()
					delete(s.conns, c)
					s.mu.Unlock()
				}()
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				handle(c)
			})
		}
	})
}

// StartWeb serves h over plain HTTP on port 0 of ip.
func StartWeb(ctx context.Context, ip netip.Addr, h http.Handler) (*Server, error) {
	return startWeb(ctx, netip.AddrPortFrom(ip, 0), h, false)
}

// StartWebTLS serves h over HTTPS with a self-signed certificate on port 0 of ip.
func StartWebTLS(ctx context.Context, ip netip.Addr, h http.Handler) (*Server, error) {
	return startWeb(ctx, netip.AddrPortFrom(ip, 0), h, true)
}

func startWeb(ctx context.Context, ap netip.AddrPort, h http.Handler, useTLS bool) (*Server, error) {
	s, err := listen(ctx, ap, "web")
	if err != nil {
		return nil, err
	}
	scheme := "http"
	ln := s.ln
	if useTLS {
		cert, err := labCertificate()
		if err != nil {
			s.Close()
			return nil, err
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
		scheme = "https"
	}
	s.URL = scheme + "://" + s.Addr.String()
	// Scanners hang up mid-handshake all the time; the lab does not log it.
	s.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	s.wg.Go(func() { _ = s.srv.Serve(ln) })
	s.closeWith(ctx)
	return s, nil
}

// labCertificate is one self-signed certificate for every lab HTTPS server. The exposure
// family does not judge certificates, so any will do.
var labCertificate = sync.OnceValues(func() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "lab.khien.test"},
		DNSNames:     []string{"lab.khien.test", "*.lab.khien.test", "localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
})

// Addrs returns n consecutive loopback addresses starting at first, skipping the .0 and
// .255 of each /24, for starting many identical hosts side by side.
func Addrs(first netip.Addr, n int) []netip.Addr {
	var out []netip.Addr
	for a := first; len(out) < n && a.IsValid() && a.IsLoopback(); a = a.Next() {
		if a.Is4() {
			if last := a.As4()[3]; last == 0 || last == 255 {
				continue
			}
		}
		out = append(out, a)
	}
	return out
}
