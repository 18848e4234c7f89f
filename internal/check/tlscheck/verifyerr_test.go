package tlscheck

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// pkiMaker issues ECDSA certificates for the verification errors below.
type pkiMaker struct {
	t   *testing.T
	now time.Time
}

// issue signs tmpl (completed with a serial, dates around now and a fresh key) by parent
// with parentKey, or by itself when parent is nil, and returns it with its key.
func (m pkiMaker) issue(tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	m.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		m.t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = m.now.AddDate(0, -1, 0)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = m.now.AddDate(0, 1, 0)
	}
	if tmpl.IsCA {
		tmpl.BasicConstraintsValid = true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		m.t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		m.t.Fatal(err)
	}
	return c, key
}

func (m pkiMaker) root(name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	return m.issue(&x509.Certificate{Subject: pkix.Name{CommonName: name}, IsCA: true}, nil, nil)
}

// leaf returns a server certificate for dnsName issued by parent.
func (m pkiMaker) leaf(dnsName string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, edit func(*x509.Certificate)) *x509.Certificate {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: dnsName},
		DNSNames:    []string{dnsName},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	}
	if edit != nil {
		edit(tmpl)
	}
	c, _ := m.issue(tmpl, parent, parentKey)
	return c
}

func pool(cs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range cs {
		p.AddCert(c)
	}
	return p
}

// TestVerifyErrorVI reads back, in Vietnamese, the verification errors crypto/x509 (and
// verifySHA1) give for real certificates: when Go rewords a message, its case falls back on
// the generic text and this test says which.
func TestVerifyErrorVI(t *testing.T) {
	m := pkiMaker{t, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	const host = "www.lab.khien.test"
	root, rootKey := m.root("Test Root")
	other, _ := m.root("Test Root") // same name, another key
	roots := pool(root)
	verify := func(leaf *x509.Certificate, o x509.VerifyOptions) error {
		if o.Roots == nil {
			o.Roots = roots
		}
		if o.CurrentTime.IsZero() {
			o.CurrentTime = m.now
		}
		if o.KeyUsages == nil {
			o.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
		_, err := leaf.Verify(o)
		return err
	}
	sha1Leaf := m.leaf(host, root, rootKey, func(c *x509.Certificate) { c.SignatureAlgorithm = x509.ECDSAWithSHA1 })

	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"unknown authority", func() error {
			self := m.leaf(host, nil, nil, nil)
			return verify(self, x509.VerifyOptions{})
		}, "do tổ chức cấp chứng thư không được tin cậy ký"},
		{"unknown authority, empty trust store", func() error {
			return verify(m.leaf(host, root, rootKey, nil), x509.VerifyOptions{Roots: x509.NewCertPool()})
		}, "do tổ chức cấp chứng thư không được tin cậy ký"},
		{"insecure algorithm", func() error {
			return verify(sha1Leaf, x509.VerifyOptions{})
		}, "được ký bằng thuật toán chữ ký không còn an toàn (như SHA-1)"},
		{"expired", func() error {
			return verify(m.leaf(host, root, rootKey, func(c *x509.Certificate) { c.NotAfter = m.now.AddDate(0, 0, -1) }), x509.VerifyOptions{})
		}, "đã hết hạn hoặc chưa đến ngày có hiệu lực"},
		{"not yet valid", func() error {
			return verify(m.leaf(host, root, rootKey, func(c *x509.Certificate) { c.NotBefore = m.now.AddDate(0, 0, 1) }), x509.VerifyOptions{})
		}, "đã hết hạn hoặc chưa đến ngày có hiệu lực"},
		{"valid for another name", func() error {
			return verify(m.leaf("wrong.lab.khien.test", root, rootKey, nil), x509.VerifyOptions{DNSName: host})
		}, "không cấp cho tên máy này"},
		{"valid for no name", func() error {
			return verify(m.leaf(host, root, rootKey, func(c *x509.Certificate) { c.DNSNames, c.Subject = nil, pkix.Name{} }), x509.VerifyOptions{DNSName: host})
		}, "không cấp cho tên máy này"},
		{"address not in the certificate", func() error {
			return verify(m.leaf(host, root, rootKey, nil), x509.VerifyOptions{DNSName: "127.0.0.1"})
		}, "không cấp cho địa chỉ IP này"},
		{"valid for other addresses", func() error {
			return verify(m.leaf(host, root, rootKey, func(c *x509.Certificate) { c.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 2)} }), x509.VerifyOptions{DNSName: "127.0.0.1"})
		}, "không cấp cho tên máy này"},
		{"legacy common name", func() error {
			return verify(m.leaf(host, root, rootKey, func(c *x509.Certificate) { c.DNSNames = nil }), x509.VerifyOptions{DNSName: host})
		}, "chỉ ghi tên máy ở trường Common Name cũ, không có trong tên thay thế (SAN)"},
		{"incompatible key usage", func() error {
			return verify(m.leaf(host, root, rootKey, func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }), x509.VerifyOptions{})
		}, "không được phép dùng cho máy chủ (mục đích sử dụng khóa không phù hợp)"},
		{"too many intermediates", func() error {
			short, shortKey := m.issue(&x509.Certificate{Subject: pkix.Name{CommonName: "Short Root"}, IsCA: true, MaxPathLenZero: true}, nil, nil)
			inter, interKey := m.issue(&x509.Certificate{Subject: pkix.Name{CommonName: "Intermediate"}, IsCA: true}, short, shortKey)
			return verify(m.leaf(host, inter, interKey, nil), x509.VerifyOptions{Roots: pool(short), Intermediates: pool(inter)})
		}, "có quá nhiều chứng thư trung gian so với giới hạn độ dài chuỗi"},
		{"issuer is not a certificate authority", func() error {
			notCA, notCAKey := m.issue(&x509.Certificate{Subject: pkix.Name{CommonName: "Not a CA"}, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, root, rootKey)
			return verify(m.leaf(host, notCA, notCAKey, nil), x509.VerifyOptions{Intermediates: pool(notCA)})
		}, "được ký bởi một chứng thư không có quyền cấp chứng thư"},
		{"name constraints", func() error {
			constrained, key := m.issue(&x509.Certificate{Subject: pkix.Name{CommonName: "Constrained Root"}, IsCA: true, PermittedDNSDomains: []string{"other.test"}}, nil, nil)
			return verify(m.leaf(host, constrained, key, nil), x509.VerifyOptions{Roots: pool(constrained)})
		}, "nằm ngoài phạm vi tên mà tổ chức cấp được phép ký"},
		{"SHA-1 issuer not served", func() error {
			return verifySHA1([]*x509.Certificate{sha1Leaf}, x509.NewCertPool(), roots, m.now)
		}, "được ký SHA-1 bởi một tổ chức cấp mà máy chủ không gửi kèm"},
		{"SHA-1 signature does not verify", func() error {
			return verifySHA1([]*x509.Certificate{sha1Leaf, other}, pool(other), pool(other), m.now)
		}, "có chữ ký SHA-1 không hợp lệ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			if err == nil {
				t.Fatal("the certificate verifies; the case is built wrong")
			}
			if !strings.HasPrefix(err.Error(), "x509: ") {
				t.Errorf("%q is not an x509 error", err)
			}
			if got := VerifyErrorVI(err.Error()); got != tt.want {
				t.Errorf("VerifyErrorVI(%q) = %q, want %q: has crypto/x509 changed its wording?", err, got, tt.want)
			}
		})
	}

	// Khiên's own texts, and the fallback.
	for msg, want := range map[string]string{
		"": "",
		"x509: too many SHA-1 signatures in the chain": "có quá nhiều chữ ký SHA-1 trong chuỗi",
		"the server sent no certificate":               "không được máy chủ gửi",
		"x509: a brand new reason":                     "không xác minh được (chi tiết ở bằng chứng)",
	} {
		if got := VerifyErrorVI(msg); got != want {
			t.Errorf("VerifyErrorVI(%q) = %q, want %q", msg, got, want)
		}
	}
}
