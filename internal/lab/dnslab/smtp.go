package dnslab

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// SMTPConfig configures a lab SMTP server.
type SMTPConfig struct {
	// Addr is the TCP address to listen on; empty means "127.0.0.1:0".
	Addr string
	// Hostname is the name in the banner and the EHLO reply; empty means "mx.lab.khien.test".
	Hostname string
	// TLS is offered through STARTTLS; nil means STARTTLS is not advertised.
	TLS *tls.Config
	// BrokenSTARTTLS advertises STARTTLS even without TLS and answers the command with 454,
	// as a server that lost its certificate does.
	BrokenSTARTTLS bool
}

// SMTPServer is a running lab SMTP server: it greets, answers EHLO/HELO, NOOP, RSET, QUIT
// and STARTTLS, and accepts no mail. It is safe for concurrent use.
type SMTPServer struct {
	cfg  SMTPConfig
	ln   net.Listener
	addr netip.AddrPort

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
	once   sync.Once
	done   chan struct{}
}

// StartSMTP starts an SMTP server and returns once it is listening. It stops when ctx is
// cancelled or Close is called.
func StartSMTP(ctx context.Context, cfg SMTPConfig) (*SMTPServer, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "mx." + BaseZone
	}
	if err := checkLoopback(cfg.Addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("dnslab: smtp listen %s: %w", cfg.Addr, err)
	}
	s := &SMTPServer{cfg: cfg, ln: ln, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	s.addr = netip.MustParseAddrPort(ln.Addr().String())
	s.wg.Add(1)
	go s.accept()
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.done:
		}
	}()
	return s, nil
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("dnslab: address %q: %w", addr, err)
	}
	if a, err := netip.ParseAddr(host); err != nil || !a.IsLoopback() {
		return fmt.Errorf("dnslab: %q is not a loopback address", addr)
	}
	return nil
}

// Addr returns the "ip:port" the server listens on.
func (s *SMTPServer) Addr() string { return s.addr.String() }

// AddrPort returns the address and port the server listens on.
func (s *SMTPServer) AddrPort() netip.AddrPort { return s.addr }

// Port returns the port the server listens on.
func (s *SMTPServer) Port() int { return int(s.addr.Port()) }

// Close stops the server and ends its sessions. It is safe to call more than once.
func (s *SMTPServer) Close() error {
	var err error
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		err = s.ln.Close()
		close(s.done)
		s.wg.Wait()
	})
	return err
}

func (s *SMTPServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

// session speaks just enough SMTP (RFC 5321, RFC 3207) for a STARTTLS probe.
func (s *SMTPServer) session(raw net.Conn) {
	_ = raw.SetDeadline(time.Now().Add(30 * time.Second))
	var conn net.Conn = raw
	br := bufio.NewReaderSize(conn, 1024)
	tlsOn := false
	reply := func(lines ...string) bool {
		var b strings.Builder
		for i, l := range lines {
			sep := "-"
			if i == len(lines)-1 {
				sep = " "
			}
			b.WriteString(l[:3] + sep + l[4:] + "\r\n")
		}
		_, err := conn.Write([]byte(b.String()))
		return err == nil
	}
	if !reply("220 " + s.cfg.Hostname + " ESMTP Khiên lab") {
		return
	}
	offer := (s.cfg.TLS != nil || s.cfg.BrokenSTARTTLS) && !tlsOn
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return
		}
		verb, _, _ := strings.Cut(strings.TrimSpace(string(line)), " ")
		ok := true
		switch strings.ToUpper(verb) {
		case "EHLO":
			lines := []string{"250 " + s.cfg.Hostname + " greets you", "250 PIPELINING", "250 SIZE 10240000"}
			if offer {
				lines = append(lines, "250 STARTTLS")
			}
			ok = reply(append(lines, "250 8BITMIME")...)
		case "HELO":
			ok = reply("250 " + s.cfg.Hostname)
		case "STARTTLS":
			switch {
			case tlsOn:
				ok = reply("503 5.5.1 TLS already active")
			case s.cfg.TLS == nil:
				ok = reply("454 4.7.0 TLS not available")
			default:
				if !reply("220 2.0.0 Ready to start TLS") {
					return
				}
				tc := tls.Server(raw, s.cfg.TLS)
				if err := tc.Handshake(); err != nil {
					return
				}
				conn, br, tlsOn, offer = tc, bufio.NewReaderSize(tc, 1024), true, false
			}
		case "NOOP", "RSET":
			ok = reply("250 2.0.0 OK")
		case "QUIT":
			reply("221 2.0.0 Bye")
			return
		case "MAIL", "RCPT", "DATA":
			ok = reply("554 5.7.1 The Khiên lab accepts no mail")
		default:
			ok = reply("502 5.5.2 Command not recognized")
		}
		if !ok {
			return
		}
	}
}

// SelfSigned returns a fresh ECDSA P-256 certificate for names, valid from an hour ago for a
// year, for lab servers that need some certificate (the probes that use it skip verification).
func SelfSigned(names ...string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	cn := "Khiên lab"
	if len(names) > 0 {
		cn = names[0]
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Khiên lab"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
