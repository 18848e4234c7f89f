package tlscheck

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"

	"github.com/khien-vn/khien/internal/lab/tlslab"
)

// FuzzParseServerHello feeds arbitrary server answers to the parser of ServerHellos, alerts
// and Certificate messages: it must never panic and never report an accepted hello it did
// not parse.
func FuzzParseServerHello(f *testing.F) {
	sh := handshake(typeServerHello, serverHelloBody(VersionTLS12, nil, 0xC02F, []byte{0xff, 0x01, 0, 1, 0}))
	flight := slices.Concat(sh, handshake(typeCertificate, certificateBody([]byte("der"))), handshake(typeServerHelloDone, nil))
	for _, seed := range [][]byte{
		records(22, VersionTLS12, sh, 1<<14),
		records(22, VersionTLS12, flight, 9),
		records(22, VersionSSL30, handshake(typeServerHello, serverHelloBody(VersionSSL30, nil, 0x000A, nil)), 1<<14),
		records(22, VersionTLS12, handshake(typeServerHello, serverHelloBody(VersionTLS12, hrrRandom, 0x1301, []byte{0, 43, 0, 2, 3, 4})), 1<<14),
		{21, 3, 1, 0, 2, 2, 40},
		[]byte("HTTP/1.1 400 Bad Request\r\n\r\n"),
		{},
	} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, data []byte, wantCert bool) {
		r, err := readReply(bytes.NewReader(data), wantCert)
		_ = r.String()
		if err == nil && (r.Kind == replyServerHello || r.Kind == replyHelloRetry) && len(data) < 5+4+38 {
			t.Fatalf("readReply accepted a ServerHello from %d bytes", len(data))
		}
		if len(data) > 4 {
			_, _ = parseServerHello(data[4:])
			_ = parseCertificates(data)
		}
	})
}

// FuzzHelloParsedByLab is a property of the two halves of Khiên's TLS code: every hello
// tlscheck builds (any version, any suites, any server name) is parsed by the lab's parser into
// exactly the record version, versions, suites, extensions, groups and key share it offers.
func FuzzHelloParsedByLab(f *testing.F) {
	for i, v := range Versions {
		var suites []byte
		for _, s := range offerFor(v) {
			suites = binary.BigEndian.AppendUint16(suites, s)
		}
		f.Add(uint8(i), suites, "a.lab.khien.test")
		f.Add(uint8(i), suites[:2], "127.0.0.1")
		f.Add(uint8(i), suites[:2], "")
	}
	f.Add(uint8(3), bytes.Repeat([]byte{0xC0, 0x2F}, 90), "padding.lab.khien.test") // near the RFC 7685 range
	f.Fuzz(func(t *testing.T, vi uint8, suiteBytes []byte, name string) {
		h := hello{Version: Versions[int(vi)%len(Versions)], ServerName: name}
		for i := 0; i+1 < len(suiteBytes) && len(h.Suites) < 1000; i += 2 {
			h.Suites = append(h.Suites, binary.BigEndian.Uint16(suiteBytes[i:]))
		}
		if len(h.Suites) == 0 || len(name) > 255 {
			return // tlscheck always offers a suite, and DNS names are short
		}
		msg := h.marshal()
		ch, err := tlslab.ReadClientHello(bytes.NewReader(msg))
		if err != nil {
			t.Fatalf("the lab does not parse hello %+v: %v", h, err)
		}
		tls13, ssl3 := h.Version >= VersionTLS13, h.Version == VersionSSL30
		wantRec, wantSuites := VersionTLS10, h.Suites
		var wantExts, wantGroups, wantSV []uint16
		wantName := ""
		if ssl3 {
			wantRec, wantSuites = VersionSSL30, append(slices.Clone(h.Suites), scsvRenegotiation)
		} else {
			if _, err := netip.ParseAddr(name); name != "" && err != nil {
				wantName = name // RFC 6066: no IP literal in SNI
				wantExts = append(wantExts, extServerName)
			}
			wantExts = append(wantExts, extSupportedGroups, extECPointFormats)
			if h.Version >= VersionTLS12 {
				wantExts = append(wantExts, extSignatureAlgorithms)
			}
			wantExts = append(wantExts, extRenegotiationInfo)
			wantGroups = groupsTLS12
			if tls13 {
				wantExts = append(wantExts, extSupportedVersions, extKeyShare)
				wantGroups, wantSV = groupsTLS13, []uint16{VersionTLS13}
			}
			n := len(msg) - 5
			if n >= 256 && n < 512 {
				t.Errorf("hello of %d bytes lies in the range some servers hang on (RFC 7685)", n)
			}
			if exts := ch.Extensions; len(exts) > 0 && exts[len(exts)-1] == extPadding {
				if n < 512 || n > 516 {
					t.Errorf("padded hello of %d bytes, want 512 to 516", n)
				}
				wantExts = append(wantExts, extPadding)
			}
		}
		if ch.RecordVersion != wantRec || ch.Version != min(h.Version, VersionTLS12) {
			t.Errorf("record %04x version %04x, want record %04x version %04x", ch.RecordVersion, ch.Version, wantRec, min(h.Version, VersionTLS12))
		}
		if ch.ServerName != wantName {
			t.Errorf("server name %q, want %q", ch.ServerName, wantName)
		}
		if !slices.Equal(ch.Suites, wantSuites) {
			t.Errorf("suites %04x, want %04x", ch.Suites, wantSuites)
		}
		if !slices.Equal(ch.Extensions, wantExts) {
			t.Errorf("extensions %d, want %d", ch.Extensions, wantExts)
		}
		if !slices.Equal(ch.SupportedGroups, wantGroups) || !slices.Equal(ch.SupportedVersions, wantSV) {
			t.Errorf("groups %04x versions %04x, want %04x and %04x", ch.SupportedGroups, ch.SupportedVersions, wantGroups, wantSV)
		}
		if got := len(ch.KeyShares) == 1 && ch.KeyShares[0].Group == groupX25519 && len(ch.KeyShares[0].Data) == 32; got != tls13 || !tls13 && len(ch.KeyShares) != 0 {
			t.Errorf("key shares %v, want one x25519 share: %v", ch.KeyShares, tls13)
		}
		if wantSID := map[bool]int{true: 32, false: 0}[tls13]; len(ch.SessionID) != wantSID {
			t.Errorf("session id of %d bytes, want %d", len(ch.SessionID), wantSID)
		}
		if !bytes.Equal(ch.Compression, []byte{0}) || !ch.SecureRenegotiation {
			t.Errorf("compression %v, secure renegotiation %v; want [0] and true", ch.Compression, ch.SecureRenegotiation)
		}
	})
}

// BenchmarkObserve measures one full observation of a loopback lab host (every version
// enumerated, one certificate handshake) and reports the handshakes it took.
func BenchmarkObserve(b *testing.B) {
	c := ca(b)
	raw, err := tlslab.LegacyRawPolicy(c, []string{"127.0.0.1"})
	if err != nil {
		b.Fatal(err)
	}
	for _, bb := range []struct {
		name string
		addr string
	}{
		{"modern", startTLS(b, []string{"127.0.0.1"}, tlslab.Modern).Addr},
		{"legacy", startTLS(b, []string{"127.0.0.1"}, tlslab.Legacy).Addr},
		{"raw-legacy", startRaw(b, raw).Addr},
	} {
		b.Run(bb.name, func(b *testing.B) {
			r := resource(b, urlOf(bb.addr))
			env := labEnv(b, r, "", c.Pool)
			handshakes := 0
			for b.Loop() {
				o, err := observe(context.Background(), r, env)
				if err != nil {
					b.Fatal(err)
				}
				handshakes = o.Endpoints[0].Handshakes
			}
			b.ReportMetric(float64(handshakes), "handshakes/host")
		})
	}
}

// BenchmarkReadReply measures the parser alone: a TLS 1.2 flight (ServerHello, a chain of
// three 1.5 kB certificates, ServerHelloDone) split across small records.
func BenchmarkReadReply(b *testing.B) {
	der := bytes.Repeat([]byte{0x30}, 1500)
	flight := slices.Concat(
		handshake(typeServerHello, serverHelloBody(VersionTLS12, nil, 0xC02F, []byte{0xff, 0x01, 0, 1, 0})),
		handshake(typeCertificate, certificateBody(der, der, der)),
		handshake(typeServerHelloDone, nil))
	data := records(22, VersionTLS12, flight, 1000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r, err := readReply(bytes.NewReader(data), true)
		if err != nil || len(r.Certificates) != 3 {
			b.Fatalf("readReply = %d certificates, %v", len(r.Certificates), err)
		}
	}
}
