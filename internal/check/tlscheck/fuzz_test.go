package tlscheck

import (
	"bytes"
	"context"
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
