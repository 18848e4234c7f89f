package tlscheck

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/khien-vn/khien/internal/lab/tlslab"
)

func TestHelloRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		h       hello
		wantSNI string
		wantSV  []uint16 // supported_versions
		wantKS  bool     // key_share present
		wantRec uint16   // record version
	}{
		{"ssl3", hello{Version: VersionSSL30, Suites: offerFor(VersionSSL30), ServerName: "a.lab.khien.test"}, "", nil, false, VersionSSL30},
		{"tls10", hello{Version: VersionTLS10, Suites: offerFor(VersionTLS10), ServerName: "a.lab.khien.test"}, "a.lab.khien.test", nil, false, VersionTLS10},
		{"tls12 no sni for an address", hello{Version: VersionTLS12, Suites: offerFor(VersionTLS12), ServerName: "127.0.0.1"}, "", nil, false, VersionTLS10},
		{"tls12 one suite", hello{Version: VersionTLS12, Suites: []uint16{0x002F}, ServerName: "b.lab.khien.test"}, "b.lab.khien.test", nil, false, VersionTLS10},
		{"tls13", hello{Version: VersionTLS13, Suites: offerFor(VersionTLS13), ServerName: "c.lab.khien.test"}, "c.lab.khien.test", []uint16{VersionTLS13}, true, VersionTLS10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := tt.h.marshal()
			ch, err := tlslab.ReadClientHello(bytes.NewReader(msg))
			if err != nil {
				t.Fatalf("ReadClientHello(marshal(%+v)) = %v", tt.h, err)
			}
			wantLegacy := min(tt.h.Version, VersionTLS12)
			if ch.Version != wantLegacy || ch.RecordVersion != tt.wantRec {
				t.Errorf("version %04x record %04x, want %04x record %04x", ch.Version, ch.RecordVersion, wantLegacy, tt.wantRec)
			}
			wantSuites := tt.h.Suites
			if tt.h.Version == VersionSSL30 {
				wantSuites = append(slices.Clone(wantSuites), scsvRenegotiation)
			}
			if !slices.Equal(ch.Suites, wantSuites) {
				t.Errorf("suites %04x, want %04x", ch.Suites, wantSuites)
			}
			if ch.ServerName != tt.wantSNI {
				t.Errorf("SNI %q, want %q", ch.ServerName, tt.wantSNI)
			}
			if !slices.Equal(ch.SupportedVersions, tt.wantSV) {
				t.Errorf("supported_versions %04x, want %04x", ch.SupportedVersions, tt.wantSV)
			}
			if got := len(ch.KeyShares) == 1 && ch.KeyShares[0].Group == groupX25519 && len(ch.KeyShares[0].Data) == 32; got != tt.wantKS {
				t.Errorf("x25519 key share = %v, want %v", got, tt.wantKS)
			}
			if !ch.SecureRenegotiation {
				t.Error("no renegotiation_info or SCSV")
			}
			if tt.h.Version == VersionSSL30 && len(ch.Extensions) != 0 {
				t.Errorf("SSL 3.0 hello has extensions %v", ch.Extensions)
			}
			if n := len(msg) - 5; n >= 256 && n < 512 {
				t.Errorf("hello of %d bytes lies in the range some servers hang on (RFC 7685)", n)
			}
		})
	}
}

func TestOfferFor(t *testing.T) {
	for _, v := range Versions {
		offer := offerFor(v)
		if len(offer) == 0 || len(offer) >= 128 {
			t.Errorf("%s offers %d suites; want 1 to 127 (servers choke on 128 and more)", VersionName(v), len(offer))
		}
		for _, c := range offer {
			s, _ := LookupSuite(c)
			switch {
			case v == VersionTLS13 && s.MinVersion != VersionTLS13:
				t.Errorf("TLS 1.3 offers %s", s.Name)
			case v < VersionTLS13 && s.MinVersion == VersionTLS13:
				t.Errorf("%s offers %s", VersionName(v), s.Name)
			case v < VersionTLS12 && s.MinVersion == VersionTLS12:
				t.Errorf("%s offers the TLS 1.2 suite %s", VersionName(v), s.Name)
			case v == VersionSSL30 && strings.HasPrefix(s.Kx, "ECDH"):
				t.Errorf("SSL 3.0 offers %s", s.Name)
			}
		}
	}
}

func TestSuiteTable(t *testing.T) {
	seen := map[uint16]bool{}
	names := map[string]bool{}
	for _, s := range Suites() {
		if seen[s.Code] || names[s.Name] {
			t.Errorf("suite %04x %s listed twice", s.Code, s.Name)
		}
		seen[s.Code], names[s.Name] = true, true
		if !strings.HasPrefix(s.Name, "TLS_") {
			t.Errorf("%04x: name %q is not an IANA name", s.Code, s.Name)
		}
	}
	tests := []struct {
		code    uint16
		classes []string
		fs      bool
	}{
		{0xC02F, nil, true},
		{0x1301, nil, true},
		{0x009C, nil, false},
		{0x0033, nil, true},
		{0x0001, []string{ClassNULL}, false},
		{0xC015, []string{ClassNULL, ClassAnon}, false},
		{0x0003, []string{ClassExport, ClassRC4}, false},
		{0x0017, []string{ClassExport, ClassAnon, ClassRC4}, false},
		{0x0034, []string{ClassAnon}, false},
		{0xC018, []string{ClassAnon}, false},
		{0x0005, []string{ClassRC4}, false},
		{0xC011, []string{ClassRC4}, true},
		{0x0009, []string{ClassDES}, false},
		{0x0014, []string{ClassExport, ClassDES}, true},
		{0x000A, []string{Class3DES}, false},
		{0xC012, []string{Class3DES}, true},
	}
	for _, tt := range tests {
		s, ok := LookupSuite(tt.code)
		if !ok {
			t.Errorf("suite %04x missing", tt.code)
			continue
		}
		if got := s.Classes(); !slices.Equal(got, tt.classes) {
			t.Errorf("%s.Classes() = %v, want %v", s.Name, got, tt.classes)
		}
		if got := s.ForwardSecret(); got != tt.fs {
			t.Errorf("%s.ForwardSecret() = %v, want %v", s.Name, got, tt.fs)
		}
	}
}

// record wraps payload in TLS records of at most size bytes each.
func records(typ byte, version uint16, payload []byte, size int) []byte {
	var out []byte
	for first := true; first || len(payload) > 0; first = false {
		n := min(len(payload), size)
		out = append(out, typ)
		out = binary.BigEndian.AppendUint16(out, version)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
		out = append(out, payload[:n]...)
		payload = payload[n:]
	}
	return out
}

func handshake(typ byte, body []byte) []byte {
	return append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

// serverHelloBody builds a ServerHello; exts may be nil for an SSL 3.0 style hello.
func serverHelloBody(version uint16, random []byte, suite uint16, exts []byte) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint16(b, version)
	if random == nil {
		random = bytes.Repeat([]byte{7}, 32)
	}
	b = append(b, random...)
	b = append(b, 32)
	b = append(b, bytes.Repeat([]byte{9}, 32)...)
	b = binary.BigEndian.AppendUint16(b, suite)
	b = append(b, 0)
	if exts != nil {
		b = binary.BigEndian.AppendUint16(b, uint16(len(exts)))
		b = append(b, exts...)
	}
	return b
}

func certificateBody(ders ...[]byte) []byte {
	var list []byte
	for _, d := range ders {
		list = append(list, byte(len(d)>>16), byte(len(d)>>8), byte(len(d)))
		list = append(list, d...)
	}
	return append([]byte{byte(len(list) >> 16), byte(len(list) >> 8), byte(len(list))}, list...)
}

func TestReadReply(t *testing.T) {
	sv13 := []byte{0, 43, 0, 2, 3, 4}
	reneg := []byte{0xff, 0x01, 0, 1, 0}
	sh12 := handshake(typeServerHello, serverHelloBody(VersionTLS12, nil, 0xC02F, reneg))
	cert := handshake(typeCertificate, certificateBody([]byte("leaf-der"), []byte("ca-der")))
	done := handshake(typeServerHelloDone, nil)
	flight := slices.Concat(sh12, cert, done)

	tests := []struct {
		name      string
		in        []byte
		wantCert  bool
		oneByte   bool // deliver the stream one byte per read
		want      reply
		wantCerts int
		wantErr   error
	}{
		{name: "tls12 server hello", in: records(22, VersionTLS12, sh12, 1<<14),
			want: reply{Kind: replyServerHello, RecordVersion: VersionTLS12, LegacyVersion: VersionTLS12, Version: VersionTLS12, Suite: 0xC02F, SecureRenegotiation: true}},
		{name: "ssl3 server hello without extensions", in: records(22, VersionSSL30, handshake(typeServerHello, serverHelloBody(VersionSSL30, nil, 0x000A, nil)), 1<<14),
			want: reply{Kind: replyServerHello, RecordVersion: VersionSSL30, LegacyVersion: VersionSSL30, Version: VersionSSL30, Suite: 0x000A}},
		{name: "tls13 via supported_versions", in: records(22, VersionTLS12, handshake(typeServerHello, serverHelloBody(VersionTLS12, nil, 0x1301, sv13)), 1<<14),
			want: reply{Kind: replyServerHello, RecordVersion: VersionTLS12, LegacyVersion: VersionTLS12, Version: VersionTLS13, Suite: 0x1301}},
		{name: "hello retry request", in: records(22, VersionTLS12, handshake(typeServerHello, serverHelloBody(VersionTLS12, hrrRandom, 0x1302, sv13)), 1<<14),
			want: reply{Kind: replyHelloRetry, RecordVersion: VersionTLS12, LegacyVersion: VersionTLS12, Version: VersionTLS13, Suite: 0x1302}},
		{name: "handshake split across records, records split across reads", in: records(22, VersionTLS12, flight, 7), wantCert: true, oneByte: true,
			want: reply{Kind: replyServerHello, RecordVersion: VersionTLS12, LegacyVersion: VersionTLS12, Version: VersionTLS12, Suite: 0xC02F, SecureRenegotiation: true}, wantCerts: 2},
		{name: "certificate not wanted", in: records(22, VersionTLS12, flight, 1<<14),
			want: reply{Kind: replyServerHello, RecordVersion: VersionTLS12, LegacyVersion: VersionTLS12, Version: VersionTLS12, Suite: 0xC02F, SecureRenegotiation: true}},
		{name: "anonymous: no certificate before ServerHelloDone", in: records(22, VersionTLS12, slices.Concat(sh12, done), 1<<14), wantCert: true,
			want: reply{Kind: replyServerHello, RecordVersion: VersionTLS12, LegacyVersion: VersionTLS12, Version: VersionTLS12, Suite: 0xC02F, SecureRenegotiation: true}},
		{name: "hello then hang-up", in: records(22, VersionTLS12, sh12, 1<<14), wantCert: true,
			want: reply{Kind: replyServerHello, RecordVersion: VersionTLS12, LegacyVersion: VersionTLS12, Version: VersionTLS12, Suite: 0xC02F, SecureRenegotiation: true}},
		{name: "alert", in: []byte{21, 3, 1, 0, 2, 2, 70},
			want: reply{Kind: replyAlert, RecordVersion: VersionTLS10, AlertLevel: 2, AlertDesc: 70}},
		{name: "change cipher spec then alert", in: slices.Concat(records(20, VersionTLS12, []byte{1}, 5), []byte{21, 3, 3, 0, 2, 2, 40}),
			want: reply{Kind: replyAlert, RecordVersion: VersionTLS12, AlertLevel: 2, AlertDesc: 40}},
		{name: "closed", in: nil, want: reply{Kind: replyClosed}},
		{name: "http", in: []byte("HTTP/1.1 400 Bad Request\r\n\r\n"), wantErr: errNotTLS},
		{name: "sslv2 server hello", in: []byte{0x80, 0x2e, 0x04, 0x00, 0x01, 0x00, 0x02}, wantErr: errNotTLS},
		{name: "short alert", in: []byte{21, 3, 1, 0, 1, 2}, wantErr: errMalformed},
		{name: "certificate before hello", in: records(22, VersionTLS12, cert, 1<<14), wantErr: errMalformed},
		{name: "truncated hello", in: records(22, VersionTLS12, handshake(typeServerHello, []byte{3, 3, 1}), 1<<14), wantErr: errMalformed},
		{name: "bad supported_versions", in: records(22, VersionTLS12, handshake(typeServerHello, serverHelloBody(VersionTLS12, nil, 0x1301, []byte{0, 43, 0, 1, 3})), 1<<14), wantErr: errMalformed},
		{name: "huge handshake message", in: records(22, VersionTLS12, []byte{2, 0xff, 0xff, 0xff}, 1<<14), wantErr: errMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r = bytes.NewReader(tt.in)
			var rd interface{ Read([]byte) (int, error) } = r
			if tt.oneByte {
				rd = iotest.OneByteReader(r)
			}
			got, err := readReply(rd, tt.wantCert)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("readReply = %+v, %v; want error %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("readReply: %v", err)
			}
			if len(got.Certificates) != tt.wantCerts {
				t.Errorf("got %d certificates, want %d", len(got.Certificates), tt.wantCerts)
			}
			got.Certificates = nil
			if got.Kind != tt.want.Kind || got.RecordVersion != tt.want.RecordVersion || got.LegacyVersion != tt.want.LegacyVersion ||
				got.Version != tt.want.Version || got.Suite != tt.want.Suite || got.SecureRenegotiation != tt.want.SecureRenegotiation ||
				got.AlertLevel != tt.want.AlertLevel || got.AlertDesc != tt.want.AlertDesc {
				t.Errorf("readReply = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReplyString(t *testing.T) {
	tests := []struct {
		r    reply
		want string
	}{
		{reply{Kind: replyServerHello, Version: VersionTLS12, Suite: 0xC02F}, "server_hello TLS 1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
		{reply{Kind: replyHelloRetry, Version: VersionTLS13, Suite: 0x1301}, "hello_retry_request TLS 1.3 TLS_AES_128_GCM_SHA256"},
		{reply{Kind: replyAlert, AlertDesc: 40}, "alert 40 handshake_failure"},
		{reply{Kind: replyServerHello, Version: 0x7f1c, Suite: 0xABCD}, "server_hello 0x7f1c 0xABCD"},
		{reply{}, "closed"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.r, got, tt.want)
		}
	}
}
