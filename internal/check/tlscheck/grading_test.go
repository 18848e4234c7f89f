package tlscheck

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
)

// TestGradingFlips shows each choice of the testssl profile turning a verdict: the same
// observation passes under one profile and fails under the other.
func TestGradingFlips(t *testing.T) {
	good := modern("192.0.2.1")
	type eval func(Grading, Observation) check.Result
	var (
		expiring  eval = func(p Grading, o Observation) check.Result { return p.certExpiring(o) }
		expired   eval = func(p Grading, o Observation) check.Result { return p.certExpired(o) }
		untrusted eval = func(p Grading, o Observation) check.Result { return p.certUntrusted(o) }
		weakKey   eval = func(p Grading, o Observation) check.Result { return p.certWeakKey(o) }
		weakSig   eval = func(p Grading, o Observation) check.Result { return p.certWeakSignature(o) }
	)
	tests := []struct {
		name           string
		eval           eval
		e              Endpoint
		khien, testssl check.Status
	}{
		{"expiring in 45 days: 30-day margin vs testssl's 60", expiring,
			with(good, func(e *Endpoint) { e.Cert.Chain[0].NotAfter = at.AddDate(0, 0, 45) }), check.Pass, check.Fail},
		{"Let's Encrypt in 45 days: testssl halves its margin", expiring,
			with(good, func(e *Endpoint) {
				e.Cert.Chain[0].NotAfter, e.Cert.Chain[0].Issuer = at.AddDate(0, 0, 45), "CN=R11,O=Let's Encrypt,C=US"
			}), check.Pass, check.Pass},
		{"expiring intermediate: testssl looks at the leaf only", expiring,
			with(good, func(e *Endpoint) { e.Cert.Chain[1].NotAfter = at.AddDate(0, 0, 20) }), check.Fail, check.Pass},
		{"expired intermediate: testssl looks at the leaf only", expired,
			with(good, func(e *Endpoint) { e.Cert.Chain[1].NotAfter = at.AddDate(0, 0, -2) }), check.Fail, check.Pass},
		{"MD5 intermediate: testssl looks at the leaf only", weakSig,
			with(good, func(e *Endpoint) { e.Cert.Chain[1].SignatureAlgorithm = "MD5-RSA" }), check.Fail, check.Pass},
		{"RSA 1536: 2048-bit minimum vs testssl's above 1024", weakKey,
			with(good, func(e *Endpoint) { e.Cert.KeyType, e.Cert.KeyBits = "RSA", 1536 }), check.Fail, check.Pass},
		{"RSA 1024 fails both", weakKey,
			with(good, func(e *Endpoint) { e.Cert.KeyType, e.Cert.KeyBits = "RSA", 1024 }), check.Fail, check.Fail},
		{"EC 224: 256-bit minimum vs testssl's above 163", weakKey,
			with(good, func(e *Endpoint) { e.Cert.KeyBits = 224 }), check.Fail, check.Pass},
		{"RSA 8192: testssl warns above 4096", weakKey,
			with(good, func(e *Endpoint) { e.Cert.KeyType, e.Cert.KeyBits = "RSA", 8192 }), check.Pass, check.Fail},
		{"expired leaf: trust judged apart from dates vs at scan time", untrusted,
			with(good, func(e *Endpoint) {
				e.Cert.VerifyErrorAtScan = "x509: certificate has expired or is not yet valid"
				e.Cert.SHA1VerifyErrorAtScan = e.Cert.VerifyErrorAtScan
			}), check.Pass, check.Fail},
		{"SHA-1 chain: refused as browsers do vs accepted as OpenSSL does", untrusted,
			with(good, func(e *Endpoint) {
				e.Cert.VerifyError = `x509: certificate signed by unknown authority (possibly because of "x509: cannot verify signature: insecure algorithm ECDSA-SHA1")`
				e.Cert.VerifyErrorAtScan = e.Cert.VerifyError
			}), check.Fail, check.Pass},
		{"untrusted under both", untrusted,
			with(good, func(e *Endpoint) {
				e.Cert.VerifyError = "x509: certificate signed by unknown authority"
				e.Cert.VerifyErrorAtScan, e.Cert.SHA1VerifyError, e.Cert.SHA1VerifyErrorAtScan = e.Cert.VerifyError, e.Cert.VerifyError, e.Cert.VerifyError
			}), check.Fail, check.Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				profile check.Profile
				want    check.Status
			}{{check.ProfileKhien, tt.khien}, {check.ProfileTestssl, tt.testssl}, {check.ProfileObservatory, tt.khien}} {
				got := tt.eval(GradingFor(c.profile), obs(tt.e))
				if got.Status != c.want {
					t.Errorf("%s: status = %s (%s), want %s", c.profile, got.Status, got.Reason.EN, c.want)
				}
				if p := got.Evidence["profile"]; p != string(c.profile) {
					t.Errorf("%s: evidence names profile %v", c.profile, p)
				}
			}
		})
	}
}

func TestGradingFor(t *testing.T) {
	if GradingFor("") != GradingFor(check.ProfileKhien) {
		t.Error(`GradingFor("") is not Khiên's policy`)
	}
	for _, p := range check.Profiles() {
		if got := GradingFor(p).Profile; got != p {
			t.Errorf("GradingFor(%s).Profile = %s", p, got)
		}
	}
}

// certMaker issues test certificates at fixed dates around at.
type certMaker struct{ t *testing.T }

func (m certMaker) key(rsaBits int) crypto.Signer {
	m.t.Helper()
	if rsaBits > 0 {
		k, err := rsa.GenerateKey(rand.Reader, rsaBits)
		if err != nil {
			m.t.Fatal(err)
		}
		return k
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		m.t.Fatal(err)
	}
	return k
}

// issue signs a certificate for cn with key's public half, by parent/parentKey (nil: self).
func (m certMaker) issue(cn string, ca bool, alg x509.SignatureAlgorithm, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer, notAfter time.Time) *x509.Certificate {
	m.t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:       big.NewInt(time.Now().UnixNano()),
		Subject:            pkix.Name{CommonName: cn},
		NotBefore:          at.AddDate(0, -2, 0),
		NotAfter:           notAfter,
		SignatureAlgorithm: alg,
	}
	if ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign
	} else {
		tmpl.DNSNames = []string{cn}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
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
	return c
}

// TestInspectSHA1 runs Khiên's own SHA-1 chain verification on real certificates: Go's
// crypto/x509 refuses every one of these chains; the testssl profile's verification accepts
// the well-formed ones and still refuses a bad signature, an unknown root, a non-CA issuer
// and (at the time of the scan) an expired leaf.
func TestInspectSHA1(t *testing.T) {
	m := certMaker{t}
	const host = "sha1.lab.khien.test"
	later := at.AddDate(1, 0, 0)
	rootKey, rsaRootKey, otherKey := m.key(0), m.key(2048), m.key(0)
	root := m.issue("Test Root", true, x509.ECDSAWithSHA256, rootKey, nil, nil, at.AddDate(10, 0, 0))
	rsaRoot := m.issue("Test RSA Root", true, x509.SHA256WithRSA, rsaRootKey, nil, nil, at.AddDate(10, 0, 0))
	impostor := m.issue("Test Root", true, x509.ECDSAWithSHA256, otherKey, nil, nil, at.AddDate(10, 0, 0))
	roots := x509.NewCertPool()
	roots.AddCert(root)
	roots.AddCert(rsaRoot)

	leafKey, interKey := m.key(0), m.key(2048)
	sha1Leaf := m.issue(host, false, x509.ECDSAWithSHA1, leafKey, root, rootKey, later)
	expiredLeaf := m.issue(host, false, x509.ECDSAWithSHA1, leafKey, root, rootKey, at.AddDate(0, 0, -1))
	forged := m.issue(host, false, x509.ECDSAWithSHA1, leafKey, impostor, otherKey, later)
	sha1Inter := m.issue("Test Intermediate", true, x509.SHA1WithRSA, interKey, rsaRoot, rsaRootKey, later)
	leafOfInter := m.issue(host, false, x509.SHA1WithRSA, leafKey, sha1Inter, interKey, later)
	notCA := m.issue("not-a-ca.example", false, x509.ECDSAWithSHA256, otherKey, root, rootKey, later)
	leafOfLeaf := m.issue(host, false, x509.ECDSAWithSHA1, leafKey, notCA, otherKey, later)
	good := m.issue(host, false, x509.ECDSAWithSHA256, leafKey, root, rootKey, later)
	expiredGood := m.issue(host, false, x509.ECDSAWithSHA256, leafKey, root, rootKey, at.AddDate(0, 0, -1))

	tests := []struct {
		name                   string
		chain                  []*x509.Certificate
		sha1Err, sha1AtScanErr string // "" verifies
	}{
		{"SHA-1 leaf, root sent", []*x509.Certificate{sha1Leaf, root}, "", ""},
		{"SHA-1 intermediate and leaf, RSA", []*x509.Certificate{leafOfInter, sha1Inter, rsaRoot}, "", ""},
		{"SHA-1 leaf, issuer not sent", []*x509.Certificate{sha1Leaf}, "not among the certificates the server sent", "not among"},
		{"SHA-1 intermediate, its root not sent", []*x509.Certificate{leafOfInter, sha1Inter}, "not among", "not among"},
		{"SHA-1 signature by another key", []*x509.Certificate{forged, root}, "verification failure", "verification failure"},
		{"SHA-1 leaf of an untrusted root", []*x509.Certificate{forged, impostor}, "unknown authority", "unknown authority"},
		{"SHA-1 leaf signed by a leaf", []*x509.Certificate{leafOfLeaf, notCA, root}, "not a certificate authority", "not a certificate authority"},
		{"expired SHA-1 leaf", []*x509.Certificate{expiredLeaf, root}, "", "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := make([][]byte, len(tt.chain))
			for i, c := range tt.chain {
				raw[i] = c.Raw
			}
			c, err := inspect(raw, roots, at, host, true)
			if err != nil {
				t.Fatal(err)
			}
			if c.VerifyError == "" || c.VerifyErrorAtScan == "" {
				t.Errorf("crypto/x509 accepted a SHA-1 chain: %q, %q", c.VerifyError, c.VerifyErrorAtScan)
			}
			for _, v := range []struct{ got, want string }{{c.SHA1VerifyError, tt.sha1Err}, {c.SHA1VerifyErrorAtScan, tt.sha1AtScanErr}} {
				if (v.want == "") != (v.got == "") || !strings.Contains(v.got, v.want) {
					t.Errorf("SHA-1 verification error = %q, want %q", v.got, v.want)
				}
			}
		})
	}

	t.Run("no SHA-1: the same verifications", func(t *testing.T) {
		c, err := inspect([][]byte{expiredGood.Raw}, roots, at, host, true)
		if err != nil {
			t.Fatal(err)
		}
		if c.VerifyError != "" || !strings.Contains(c.VerifyErrorAtScan, "expired") {
			t.Errorf("expired leaf: verification apart from dates %q, at the scan %q", c.VerifyError, c.VerifyErrorAtScan)
		}
		if c.SHA1VerifyError != c.VerifyError || c.SHA1VerifyErrorAtScan != c.VerifyErrorAtScan {
			t.Errorf("SHA-1 verifications %q, %q differ from %q, %q", c.SHA1VerifyError, c.SHA1VerifyErrorAtScan, c.VerifyError, c.VerifyErrorAtScan)
		}
		g, err := inspect([][]byte{good.Raw}, roots, at, host, true)
		if err != nil {
			t.Fatal(err)
		}
		if g.VerifyError+g.VerifyErrorAtScan+g.SHA1VerifyError+g.SHA1VerifyErrorAtScan != "" || verifications(g) != nil {
			t.Errorf("a good chain fails a verification: %+v", g)
		}
	})
}
