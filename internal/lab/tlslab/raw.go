package tlslab

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Protocol versions as they appear on the wire; crypto/tls has no constant for SSL 3.0 that is
// not deprecated.
const (
	VersionSSL30 uint16 = 0x0300
	VersionTLS10 uint16 = 0x0301
	VersionTLS11 uint16 = 0x0302
	VersionTLS12 uint16 = 0x0303
	VersionTLS13 uint16 = 0x0304
)

// Cipher suites the lab's raw responder serves that crypto/tls has no constant for (IANA code
// points; see tlscheck's suite table for the full list).
const (
	SuiteRSAWithNULLSHA           uint16 = 0x0002
	SuiteRSAExportWithRC4_40MD5   uint16 = 0x0003
	SuiteRSAWithRC4_128SHA        uint16 = 0x0005
	SuiteRSAWithDESCBCSHA         uint16 = 0x0009
	SuiteRSAWith3DESEDECBCSHA     uint16 = 0x000A
	SuiteDHAnonWithAES128CBCSHA   uint16 = 0x0034
	SuiteRSAWithAES128CBCSHA      uint16 = 0x002F
	SuiteECDHERSAWithAES128GCM    uint16 = 0xC02F
	SuiteTLS13AES128GCMSHA256     uint16 = 0x1301
	SuiteECDHAnonWithAES128CBCSHA uint16 = 0xC018
)

// RawPolicy says what the raw responder accepts.
type RawPolicy struct {
	// Versions are the protocol versions accepted, SSL 3.0 included; the highest one the
	// client offers is chosen.
	Versions []uint16
	// Suites are the suites accepted, in the server's order of preference.
	Suites []uint16
	// ClientOrder picks the client's most preferred acceptable suite instead of the server's.
	ClientOrder bool
	// Certificates is the DER chain sent after a TLS ≤ 1.2 ServerHello; nil closes after the
	// hello.
	Certificates [][]byte
}

// LegacyRawPolicy is a server of 2005: SSL 3.0 and TLS 1.0, preferring AES but also accepting
// 3DES, RC4, DES, EXPORT, anonymous and NULL suites, with an RSA certificate from ca.
func LegacyRawPolicy(ca *CA, names []string) (RawPolicy, error) {
	cert, err := ca.Issue(names, CertGood, KeyRSA2048, time.Time{})
	if err != nil {
		return RawPolicy{}, err
	}
	return RawPolicy{
		Versions: []uint16{VersionSSL30, VersionTLS10},
		Suites: []uint16{
			SuiteRSAWithAES128CBCSHA, SuiteRSAWith3DESEDECBCSHA, SuiteRSAWithRC4_128SHA,
			SuiteRSAWithDESCBCSHA, SuiteRSAExportWithRC4_40MD5, SuiteDHAnonWithAES128CBCSHA,
			SuiteRSAWithNULLSHA,
		},
		Certificates: cert.Certificate,
	}, nil
}

// Server is one lab host: a Go TLS server or a raw responder.
type Server struct {
	// Addr is the address the server listens on, "127.0.0.1:40123".
	Addr    string
	conns   atomic.Int64
	once    sync.Once
	closeFn func() error
	err     error
	stopCtx func() bool // unregisters the context.AfterFunc that closes the server
}

// Conns returns the number of connections the server has accepted.
func (s *Server) Conns() int64 { return s.conns.Load() }

// Close stops the server and waits for its accept loop to end. It may be called more than once.
func (s *Server) Close() error {
	s.once.Do(func() {
		if s.stopCtx != nil {
			s.stopCtx()
		}
		s.err = s.closeFn()
	})
	return s.err
}

// newServer returns a server on ln that Close (or the end of ctx) stops with closeFn.
func newServer(ctx context.Context, ln net.Listener, closeFn func() error) *Server {
	s := &Server{Addr: ln.Addr().String(), closeFn: closeFn}
	s.stopCtx = context.AfterFunc(ctx, func() { s.Close() })
	return s
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// StartRaw starts a raw responder on addr ("127.0.0.1:0" picks a port).
func StartRaw(ctx context.Context, addr string, p RawPolicy) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tlslab: %w", err)
	}
	return ServeRaw(ctx, ln, p), nil
}

// ServeRaw runs a raw responder on ln until Close or the end of ctx. For each connection it
// reads one ClientHello, answers with a ServerHello chosen by p (and the certificate chain),
// or with the alert a real server would send, then closes.
func ServeRaw(ctx context.Context, ln net.Listener, p RawPolicy) *Server {
	done := make(chan struct{})
	s := newServer(ctx, ln, func() error {
		err := ln.Close()
		<-done
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		return err
	})
	cl := countingListener{ln, &s.conns}
	go func() {
		defer close(done)
		for {
			c, err := cl.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				time.Sleep(10 * time.Millisecond) // out of descriptors: let some close
				continue
			}
			go answerRaw(c, p)
		}
	}()
	return s
}

// Alert descriptions the responder sends.
const (
	alertHandshakeFailure = 40
	alertProtocolVersion  = 70
)

func answerRaw(c net.Conn, p RawPolicy) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	ch, err := ReadClientHello(c)
	if err != nil {
		return
	}
	out := respond(ch, p)
	if _, err := c.Write(out); err != nil {
		return
	}
	// Half-close and drain, so the client reads the answer before the connection goes:
	// closing with unread input would reset it.
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, _ = io.Copy(io.Discard, io.LimitReader(c, 1<<20))
}

// respond returns the bytes a server following p sends in answer to ch.
func respond(ch *ClientHello, p RawPolicy) []byte {
	version, ok := chooseVersion(ch, p.Versions)
	if !ok {
		rv := ch.Version
		if rv > VersionTLS12 {
			rv = VersionTLS12
		}
		return alert(rv, alertProtocolVersion)
	}
	suite, ok := chooseSuite(ch, p, version)
	if !ok {
		return alert(version, alertHandshakeFailure)
	}
	recVersion := version
	if version >= VersionTLS13 {
		recVersion = VersionTLS12
	}
	var hs []byte
	hs = append(hs, handshakeMsg(2, serverHello(ch, version, suite))...)
	if version < VersionTLS13 && len(p.Certificates) > 0 {
		var list []byte
		for _, der := range p.Certificates {
			list = appendU24(list, len(der))
			list = append(list, der...)
		}
		hs = append(hs, handshakeMsg(11, appendU24(nil, len(list)), list)...)
		hs = append(hs, handshakeMsg(14)...) // ServerHelloDone
	}
	var out []byte
	for len(hs) > 0 { // split into records of at most 2^14 bytes
		n := min(len(hs), 1<<14)
		out = append(out, 22)
		out = binary.BigEndian.AppendUint16(out, recVersion)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
		out = append(out, hs[:n]...)
		hs = hs[n:]
	}
	return out
}

func chooseVersion(ch *ClientHello, accepted []uint16) (uint16, bool) {
	var best uint16
	for _, v := range accepted {
		offered := v <= ch.Version && v < VersionTLS13
		if len(ch.SupportedVersions) > 0 {
			offered = slices.Contains(ch.SupportedVersions, v)
		}
		if offered && v > best {
			best = v
		}
	}
	return best, best != 0
}

func chooseSuite(ch *ClientHello, p RawPolicy, version uint16) (uint16, bool) {
	usable := func(s uint16) bool {
		return (s>>8 == 0x13) == (version >= VersionTLS13) && slices.Contains(ch.Suites, s) && slices.Contains(p.Suites, s)
	}
	order := p.Suites
	if p.ClientOrder {
		order = ch.Suites
	}
	for _, s := range order {
		if usable(s) {
			return s, true
		}
	}
	return 0, false
}

func serverHello(ch *ClientHello, version, suite uint16) []byte {
	legacy := version
	if version >= VersionTLS13 {
		legacy = VersionTLS12
	}
	var b []byte
	b = binary.BigEndian.AppendUint16(b, legacy)
	random := make([]byte, 32)
	_, _ = rand.Read(random)
	b = append(b, random...)
	sid := ch.SessionID // TLS 1.3 echoes it (RFC 8446 §4.1.3)
	if version < VersionTLS13 {
		// A fresh id: echoing the client's would claim to resume a session it never had.
		sid = make([]byte, 32)
		_, _ = rand.Read(sid)
	}
	b = append(b, byte(len(sid)))
	b = append(b, sid...)
	b = binary.BigEndian.AppendUint16(b, suite)
	b = append(b, 0) // null compression
	var ext []byte
	if ch.SecureRenegotiation && version < VersionTLS13 {
		ext = append(ext, 0xff, 0x01, 0, 1, 0)
	}
	if version >= VersionTLS13 {
		ext = append(ext, 0, 43, 0, 2, byte(version>>8), byte(version))
		if len(ch.KeyShares) > 0 {
			ks := ch.KeyShares[0]
			pub := make([]byte, len(ks.Data))
			_, _ = rand.Read(pub) // the handshake is never completed
			ext = binary.BigEndian.AppendUint16(ext, 51)
			ext = binary.BigEndian.AppendUint16(ext, uint16(4+len(pub)))
			ext = binary.BigEndian.AppendUint16(ext, ks.Group)
			ext = binary.BigEndian.AppendUint16(ext, uint16(len(pub)))
			ext = append(ext, pub...)
		}
	}
	if len(ext) > 0 {
		b = binary.BigEndian.AppendUint16(b, uint16(len(ext)))
		b = append(b, ext...)
	}
	return b
}

func handshakeMsg(typ byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := appendU24([]byte{typ}, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func appendU24(b []byte, n int) []byte { return append(b, byte(n>>16), byte(n>>8), byte(n)) }

func alert(version uint16, desc byte) []byte {
	return []byte{21, byte(version >> 8), byte(version), 0, 2, 2, desc}
}
