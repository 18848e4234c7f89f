package tlslab

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

var (
	caOnce sync.Once
	testCA *CA
	caErr  error
)

func labCA(t testing.TB) *CA {
	t.Helper()
	caOnce.Do(func() { testCA, caErr = NewCA() })
	if caErr != nil {
		t.Fatal(caErr)
	}
	return testCA
}

func TestCertVariants(t *testing.T) {
	ca := labCA(t)
	now := time.Now()
	names := []string{"good.lab.khien.test", "127.0.0.1"}
	tests := []struct {
		v          CertVariant
		kt         KeyType
		trusted    bool
		nameOK     bool
		inDate     bool
		daysLeft   [2]int // range of whole days left
		keyBits    int
		sigAlg     x509.SignatureAlgorithm
		selfSigned bool
	}{
		{CertGood, KeyECDSA256, true, true, true, [2]int{89, 90}, 256, x509.ECDSAWithSHA256, false},
		{CertGood, KeyRSA2048, true, true, true, [2]int{89, 90}, 2048, x509.ECDSAWithSHA256, false},
		{CertExpired, KeyECDSA256, true, true, false, [2]int{-31, -30}, 256, x509.ECDSAWithSHA256, false},
		{CertNotYetValid, KeyECDSA256, true, true, false, [2]int{119, 120}, 256, x509.ECDSAWithSHA256, false},
		{CertExpiring, KeyECDSA256, true, true, true, [2]int{9, 10}, 256, x509.ECDSAWithSHA256, false},
		{CertSelfSigned, KeyECDSA256, false, true, true, [2]int{89, 90}, 256, x509.ECDSAWithSHA256, true},
		{CertWrongName, KeyECDSA256, true, false, true, [2]int{89, 90}, 256, x509.ECDSAWithSHA256, false},
		{CertWeakKey, KeyECDSA256, true, true, true, [2]int{89, 90}, 1024, x509.ECDSAWithSHA256, false},
		{CertSHA1, KeyECDSA256, false, true, true, [2]int{89, 90}, 256, x509.ECDSAWithSHA1, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.v)+"/"+string(tt.kt), func(t *testing.T) {
			cert, err := ca.Issue(names, tt.v, tt.kt, now)
			if err != nil {
				t.Fatal(err)
			}
			leaf := cert.Leaf
			mid := leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) / 2)
			_, err = leaf.Verify(x509.VerifyOptions{Roots: ca.Pool, CurrentTime: mid})
			if (err == nil) != tt.trusted {
				t.Errorf("Verify = %v, want trusted %v", err, tt.trusted)
			}
			if err := leaf.VerifyHostname("good.lab.khien.test"); (err == nil) != tt.nameOK {
				t.Errorf("VerifyHostname = %v, want ok %v", err, tt.nameOK)
			}
			if in := !now.Before(leaf.NotBefore) && !now.After(leaf.NotAfter); in != tt.inDate {
				t.Errorf("in date = %v, want %v (%s to %s)", in, tt.inDate, leaf.NotBefore, leaf.NotAfter)
			}
			if d := int(leaf.NotAfter.Sub(now).Hours() / 24); d < tt.daysLeft[0] || d > tt.daysLeft[1] {
				t.Errorf("%d days left, want %v", d, tt.daysLeft)
			}
			var bits int
			switch k := leaf.PublicKey.(type) {
			case *rsa.PublicKey:
				bits = k.N.BitLen()
			case *ecdsa.PublicKey:
				bits = k.Curve.Params().BitSize
			}
			if bits != tt.keyBits {
				t.Errorf("key bits = %d, want %d", bits, tt.keyBits)
			}
			if leaf.SignatureAlgorithm != tt.sigAlg {
				t.Errorf("signature %v, want %v", leaf.SignatureAlgorithm, tt.sigAlg)
			}
			if got := bytes.Equal(leaf.RawSubject, leaf.RawIssuer); got != tt.selfSigned {
				t.Errorf("self-signed = %v, want %v", got, tt.selfSigned)
			}
		})
	}
}

// clientHello builds a minimal ClientHello record by hand: version, suites, and for TLS 1.3
// supported_versions and an x25519 key share.
func clientHello(version uint16, suites []uint16, tls13 bool) []byte {
	var body []byte
	legacy := version
	if tls13 {
		legacy = VersionTLS12
	}
	body = binary.BigEndian.AppendUint16(body, legacy)
	body = append(body, make([]byte, 32)...)
	body = append(body, 32)
	body = append(body, bytes.Repeat([]byte{5}, 32)...)
	body = binary.BigEndian.AppendUint16(body, uint16(2*len(suites)))
	for _, s := range suites {
		body = binary.BigEndian.AppendUint16(body, s)
	}
	body = append(body, 1, 0)
	var ext []byte
	ext = append(ext, 0xff, 0x01, 0, 1, 0)
	if tls13 {
		ext = append(ext, 0, 43, 0, 3, 2, 3, 4)
		ext = append(ext, 0, 51, 0, 38, 0, 36, 0, 0x1d, 0, 32)
		ext = append(ext, bytes.Repeat([]byte{1}, 32)...)
	}
	body = binary.BigEndian.AppendUint16(body, uint16(len(ext)))
	body = append(body, ext...)
	msg := append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	rec := []byte{22, 3, 1, byte(len(msg) >> 8), byte(len(msg))}
	return append(rec, msg...)
}

// answer is the first message of a raw server's reply.
type answer struct {
	alert       byte   // alert description, 0 when a ServerHello came
	version     uint16 // negotiated (supported_versions when present)
	suite       uint16
	recVersion  uint16
	sessionEcho bool
	certs       int
}

func parseAnswer(t *testing.T, b []byte, sid []byte) answer {
	t.Helper()
	if len(b) < 7 {
		t.Fatalf("answer of %d bytes", len(b))
	}
	a := answer{recVersion: binary.BigEndian.Uint16(b[1:3])}
	if b[0] == 21 {
		a.alert = b[6]
		return a
	}
	var hs []byte // the handshake messages, reassembled from their records
	for rest := b; len(rest) >= 5; {
		n := int(binary.BigEndian.Uint16(rest[3:5]))
		hs = append(hs, rest[5:5+n]...)
		rest = rest[5+n:]
	}
	if hs[0] != 2 {
		t.Fatalf("first handshake message is %d, want ServerHello", hs[0])
	}
	n := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
	sh := hs[4 : 4+n]
	a.version = binary.BigEndian.Uint16(sh[0:2])
	sidLen := int(sh[34])
	a.sessionEcho = bytes.Equal(sh[35:35+sidLen], sid)
	a.suite = binary.BigEndian.Uint16(sh[35+sidLen:])
	exts := sh[35+sidLen+3:]
	if len(exts) >= 2 {
		exts = exts[2:]
		for len(exts) >= 4 {
			typ, l := binary.BigEndian.Uint16(exts), int(binary.BigEndian.Uint16(exts[2:]))
			if typ == 43 {
				a.version = binary.BigEndian.Uint16(exts[4:])
			}
			exts = exts[4+l:]
		}
	}
	for rest := hs[4+n:]; len(rest) >= 4; {
		m := int(rest[1])<<16 | int(rest[2])<<8 | int(rest[3])
		if rest[0] == 11 {
			list := rest[4+3 : 4+m]
			for len(list) >= 3 {
				l := int(list[0])<<16 | int(list[1])<<8 | int(list[2])
				a.certs++
				list = list[3+l:]
			}
		}
		rest = rest[4+m:]
	}
	return a
}

func TestRespond(t *testing.T) {
	ca := labCA(t)
	legacy, err := LegacyRawPolicy(ca, []string{"raw.lab.khien.test"})
	if err != nil {
		t.Fatal(err)
	}
	clientOrder := legacy
	clientOrder.ClientOrder = true
	noCert := legacy
	noCert.Certificates = nil
	with13 := RawPolicy{Versions: []uint16{VersionTLS12, VersionTLS13}, Suites: []uint16{SuiteTLS13AES128GCMSHA256, SuiteECDHERSAWithAES128GCM}}
	sid := bytes.Repeat([]byte{5}, 32)

	tests := []struct {
		name   string
		p      RawPolicy
		hello  []byte
		want   answer
		wantFn func(answer) bool
	}{
		{"ssl3 accepted, server order", legacy, clientHello(VersionSSL30, []uint16{SuiteRSAWithNULLSHA, SuiteRSAWith3DESEDECBCSHA}, false),
			answer{version: VersionSSL30, suite: SuiteRSAWith3DESEDECBCSHA, recVersion: VersionSSL30, certs: 2}, nil},
		{"client order", clientOrder, clientHello(VersionTLS10, []uint16{SuiteRSAWithNULLSHA, SuiteRSAWith3DESEDECBCSHA}, false),
			answer{version: VersionTLS10, suite: SuiteRSAWithNULLSHA, recVersion: VersionTLS10, certs: 2}, nil},
		{"higher client version negotiates down", legacy, clientHello(VersionTLS12, []uint16{SuiteRSAWithAES128CBCSHA}, false),
			answer{version: VersionTLS10, suite: SuiteRSAWithAES128CBCSHA, recVersion: VersionTLS10, certs: 2}, nil},
		{"no certificate", noCert, clientHello(VersionTLS10, []uint16{SuiteRSAWithAES128CBCSHA}, false),
			answer{version: VersionTLS10, suite: SuiteRSAWithAES128CBCSHA, recVersion: VersionTLS10}, nil},
		{"no common suite", legacy, clientHello(VersionTLS10, []uint16{0xC02F}, false),
			answer{alert: 40, recVersion: VersionTLS10}, nil},
		{"tls13 only client, legacy server", legacy, clientHello(VersionTLS13, []uint16{SuiteTLS13AES128GCMSHA256}, true),
			answer{alert: 70, recVersion: VersionTLS12}, nil},
		{"tls13", with13, clientHello(VersionTLS13, []uint16{SuiteTLS13AES128GCMSHA256}, true),
			answer{version: VersionTLS13, suite: SuiteTLS13AES128GCMSHA256, recVersion: VersionTLS12, sessionEcho: true}, nil},
		{"tls12 client to a 1.3 server", with13, clientHello(VersionTLS12, []uint16{SuiteECDHERSAWithAES128GCM, SuiteTLS13AES128GCMSHA256}, false),
			answer{version: VersionTLS12, suite: SuiteECDHERSAWithAES128GCM, recVersion: VersionTLS12}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := ReadClientHello(bytes.NewReader(tt.hello))
			if err != nil {
				t.Fatal(err)
			}
			got := parseAnswer(t, respond(ch, tt.p), sid)
			if got != tt.want {
				t.Errorf("respond = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestRawServerWithGoClient: Go's own ClientHello parses, and a Go client receives the raw
// server's certificate chain before the handshake (which the raw server cannot finish) fails.
func TestRawServerWithGoClient(t *testing.T) {
	ca := labCA(t)
	p, err := LegacyRawPolicy(ca, []string{"raw.lab.khien.test"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := StartRaw(t.Context(), "127.0.0.1:0", p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var chain [][]byte
	var suites []uint16
	for _, cs := range tls.InsecureCipherSuites() {
		suites = append(suites, cs.ID)
	}
	tc := tls.Client(conn, &tls.Config{
		ServerName: "raw.lab.khien.test", InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, CipherSuites: suites,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error { chain = raw; return nil },
	})
	_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err == nil {
		t.Fatal("handshake with the raw responder completed; it cannot")
	}
	if len(chain) != 2 {
		t.Fatalf("got a chain of %d certificates, want 2", len(chain))
	}
	if s.Conns() != 1 {
		t.Errorf("Conns() = %d, want 1", s.Conns())
	}
}

// TestProfiles connects to each Go profile with a client pinned to what the profile should
// and should not accept.
func TestProfiles(t *testing.T) {
	ca := labCA(t)
	tests := []struct {
		name    string
		p       Profile
		version uint16
		suites  []uint16
		ok      bool
	}{
		{"modern tls13", Modern, tls.VersionTLS13, nil, true},
		{"modern refuses tls10", Modern, tls.VersionTLS10, nil, false},
		{"legacy tls10 3des", Legacy, tls.VersionTLS10, []uint16{tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA}, true},
		{"legacy tls11 rc4", Legacy, tls.VersionTLS11, []uint16{tls.TLS_RSA_WITH_RC4_128_SHA}, true},
		{"legacy refuses tls13", Legacy, tls.VersionTLS13, nil, false},
		{"legacy refuses ecdhe", Legacy, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := StartTLS(t.Context(), "127.0.0.1:0", ca, []string{"127.0.0.1"}, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			c, err := tls.Dial("tcp", s.Addr, &tls.Config{
				RootCAs: ca.Pool, MinVersion: tt.version, MaxVersion: tt.version, CipherSuites: tt.suites,
			})
			if (err == nil) != tt.ok {
				t.Fatalf("dial = %v, want ok %v", err, tt.ok)
			}
			if err != nil {
				return
			}
			defer c.Close()
			if _, err := io.WriteString(c, "GET / HTTP/1.0\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(c)
			if !bytes.Contains(body, []byte("Khiên lab TLS host ("+tt.p.Name+")")) {
				t.Errorf("page = %q", body)
			}
		})
	}
}

func TestStopOnContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := StartTLS(ctx, "127.0.0.1:0", labCA(t), nil, Modern)
	if err != nil {
		t.Fatal(err)
	}
	r, err := StartRaw(ctx, "127.0.0.1:0", RawPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for _, srv := range []*Server{s, r} {
		if err := srv.Close(); err != nil { // waits for the stop the context began
			t.Errorf("Close after cancel = %v", err)
		}
		if c, err := net.Dial("tcp", srv.Addr); err == nil {
			c.Close()
			t.Errorf("%s still accepts after the context ended", srv.Addr)
		}
	}
}

func TestListenSamePortAndMany(t *testing.T) {
	lns, err := ListenSamePort("127.0.0.2", "127.0.0.3")
	if err != nil {
		t.Skipf("loopback aliases not available: %v", err)
	}
	_, p1, _ := net.SplitHostPort(lns[0].Addr().String())
	_, p2, _ := net.SplitHostPort(lns[1].Addr().String())
	for _, ln := range lns {
		ln.Close()
	}
	if p1 != p2 {
		t.Errorf("ports %s and %s differ", p1, p2)
	}
	servers, err := StartMany(t.Context(), 3, labCA(t), []string{"many.lab.khien.test"}, Modern)
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, s := range servers {
		h, _, _ := net.SplitHostPort(s.Addr)
		hosts = append(hosts, h)
		s.Close()
	}
	if want := []string{"127.77.0.1", "127.77.0.2", "127.77.0.3"}; !slices.Equal(hosts, want) {
		t.Errorf("StartMany hosts = %v, want %v", hosts, want)
	}
}

func TestReadClientHelloErrors(t *testing.T) {
	good := clientHello(VersionTLS12, []uint16{0x002F}, false)
	split := func(b []byte, size int) []byte { // re-record the handshake in small records
		msg := b[5:]
		var out []byte
		for len(msg) > 0 {
			n := min(size, len(msg))
			out = append(out, 22, 3, 1, 0, byte(n))
			out = append(out, msg[:n]...)
			msg = msg[n:]
		}
		return out
	}
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"whole", good, true},
		{"split in records of 3 bytes", split(good, 3), true},
		{"http", []byte("GET / HTTP/1.1\r\n\r\n"), false},
		{"not a client hello", []byte{22, 3, 1, 0, 4, 2, 0, 0, 0}, false},
		{"truncated", good[:len(good)-3], false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := ReadClientHello(bytes.NewReader(tt.in))
			if (err == nil) != tt.ok {
				t.Fatalf("ReadClientHello = %v, want ok %v", err, tt.ok)
			}
			if tt.ok && !slices.Equal(ch.Suites, []uint16{0x002F}) {
				t.Errorf("suites = %04x", ch.Suites)
			}
			if !tt.ok && tt.name == "http" && !errors.Is(err, ErrNotClientHello) {
				t.Errorf("err = %v, want ErrNotClientHello", err)
			}
		})
	}
}

// FuzzParseClientHello feeds arbitrary bytes to the lab responder's parser and, when they
// parse, to the code that answers them: neither may panic.
func FuzzParseClientHello(f *testing.F) {
	f.Add(clientHello(VersionSSL30, []uint16{0x000A, 0x00FF}, false))
	f.Add(clientHello(VersionTLS12, []uint16{0xC02F, 0x002F}, false))
	f.Add(clientHello(VersionTLS13, []uint16{0x1301}, true))
	f.Add(goClientHello(f))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	policy := RawPolicy{
		Versions:     []uint16{VersionSSL30, VersionTLS10, VersionTLS12, VersionTLS13},
		Suites:       []uint16{0x1301, 0xC02F, 0x002F, 0x000A},
		Certificates: [][]byte{[]byte("der")},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if ch, err := ReadClientHello(bytes.NewReader(data)); err == nil {
			_ = respond(ch, policy)
		}
		if len(data) > 4 {
			if ch, err := ParseClientHello(data[4:]); err == nil {
				_ = respond(ch, policy)
			}
		}
	})
}

// goClientHello captures the ClientHello Go's crypto/tls sends, as a realistic seed.
func goClientHello(t testing.TB) []byte {
	t.Helper()
	client, server := net.Pipe()
	go func() {
		_ = tls.Client(client, &tls.Config{ServerName: "seed.lab.khien.test", InsecureSkipVerify: true}).Handshake()
	}()
	_ = server.SetDeadline(time.Now().Add(5 * time.Second))
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(server, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := io.ReadFull(server, body); err != nil {
		t.Fatal(err)
	}
	server.Close()
	client.Close()
	return append(hdr, body...)
}

func TestStartSet(t *testing.T) {
	set, err := StartSet(t.Context(), labCA(t), "127.0.0.1", []string{"set.lab.khien.test"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"modern", "legacy", "raw-legacy"}
	for _, v := range CertVariants[1:] {
		want = append(want, "cert-"+string(v))
	}
	for _, name := range want {
		s, ok := set[name]
		if !ok {
			t.Errorf("StartSet has no %q host", name)
			continue
		}
		c, err := net.Dial("tcp", s.Addr)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		c.Close()
	}
	if len(set) != len(want) {
		t.Errorf("StartSet started %d hosts, want %d", len(set), len(want))
	}
	for _, s := range set {
		s.Close()
	}
}

// BenchmarkReadClientHello measures the parser alone on the ClientHello Go's crypto/tls sends.
func BenchmarkReadClientHello(b *testing.B) {
	data := goClientHello(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadClientHello(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
