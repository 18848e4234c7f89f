// Package tlslab starts TLS servers on loopback for the tests, the benchmarks, the demo and
// `khien lab`: good hosts, legacy hosts and one host per certificate defect, all issued by a
// lab certificate authority generated at start, plus a "raw" responder that answers
// hand-built ClientHellos for what Go's crypto/tls cannot serve (SSL 3.0, NULL, EXPORT,
// anonymous and DES suites).
//
// Give the CA to the scanner (CA.Pool in tests, CA.PEM written to a file for
// `khien scan --ca-file`) so that the good hosts verify and the defects are the only findings.
// Every constructor starts on an address it is given (127.0.0.1:0 picks a port), returns the
// address, and stops on Close or when its context ends.
package tlslab

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"sync"
	"time"
)

// CA is the lab's certificate authority: an ECDSA P-256 root that issues every lab
// certificate except the self-signed one.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	PEM  []byte         // the root certificate, for --ca-file
	Pool *x509.CertPool // the root alone, for check.Env.Roots

	mu      sync.Mutex
	rsaKeys map[int]*rsa.PrivateKey // one key per size, reused: RSA generation is slow
	ecKey   *ecdsa.PrivateKey
}

// NewCA generates a lab root valid from a year ago for ten years, so that even the expired
// lab certificate was issued while the root was valid.
func NewCA() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "Khiên Lab Root CA", Organization: []string{"Khiên lab"}},
		NotBefore:             now.AddDate(-1, 0, 0),
		NotAfter:              now.AddDate(9, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("lab CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{
		Cert: cert, Key: key, Pool: pool,
		PEM:     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		rsaKeys: map[int]*rsa.PrivateKey{},
	}, nil
}

// WritePEM writes the root certificate to path, for `khien scan --ca-file path`.
func (ca *CA) WritePEM(path string) error {
	return os.WriteFile(path, ca.PEM, 0o644)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err)
	}
	return n
}

// CertVariant is one kind of lab certificate: good, or with one defect.
type CertVariant string

// The certificate variants, each failing exactly one certificate check (SHA-1 also fails
// tls.cert.untrusted: Go, like browsers, refuses to verify SHA-1 signatures).
const (
	CertGood        CertVariant = "good"
	CertExpired     CertVariant = "expired"       // ended 30 days ago
	CertNotYetValid CertVariant = "not_yet_valid" // starts in 30 days
	CertExpiring    CertVariant = "expiring"      // ends in 10 days
	CertSelfSigned  CertVariant = "self_signed"   // not issued by the lab CA: untrusted
	CertWrongName   CertVariant = "wrong_name"    // covers only wrong.lab.khien.test
	CertWeakKey     CertVariant = "weak_key"      // RSA 1024
	CertSHA1        CertVariant = "sha1"          // signed with ECDSA-SHA1 by the lab CA
)

// CertVariants lists every variant.
var CertVariants = []CertVariant{CertGood, CertExpired, CertNotYetValid, CertExpiring, CertSelfSigned, CertWrongName, CertWeakKey, CertSHA1}

// KeyType is the leaf key of a lab certificate.
type KeyType string

// Leaf key types. RSA key exchange (the legacy profile) needs an RSA certificate.
const (
	KeyECDSA256 KeyType = "ecdsa-p256"
	KeyRSA2048  KeyType = "rsa-2048"
)

// Issue returns a leaf certificate for names (DNS names or IP literals) of the given variant,
// ready for tls.Config.Certificates. now is the reference time for the dates (zero: now).
func (ca *CA) Issue(names []string, v CertVariant, kt KeyType, now time.Time) (tls.Certificate, error) {
	if now.IsZero() {
		now = time.Now()
	}
	var (
		key crypto.Signer
		err error
	)
	switch {
	case v == CertWeakKey:
		key, err = ca.rsaKey(1024)
	case kt == KeyRSA2048:
		key, err = ca.rsaKey(2048)
	default:
		key, err = ca.ecdsaKey()
	}
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: firstOr(names, "lab.khien.test"), Organization: []string{"Khiên lab"}},
		NotBefore:    now.Add(-24 * time.Hour),
		NotAfter:     now.AddDate(0, 0, 90),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if v == CertWrongName {
		names = []string{"wrong.lab.khien.test"}
		tmpl.Subject.CommonName = names[0]
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	parent, signer := ca.Cert, crypto.Signer(ca.Key)
	switch v {
	case CertExpired:
		tmpl.NotBefore, tmpl.NotAfter = now.AddDate(0, 0, -120), now.AddDate(0, 0, -30)
	case CertNotYetValid:
		tmpl.NotBefore, tmpl.NotAfter = now.AddDate(0, 0, 30), now.AddDate(0, 0, 120)
	case CertExpiring:
		tmpl.NotAfter = now.AddDate(0, 0, 10)
	case CertSelfSigned:
		parent, signer = tmpl, key
	case CertSHA1:
		tmpl.SignatureAlgorithm = x509.ECDSAWithSHA1
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("lab certificate %s: %w", v, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	chain := [][]byte{der}
	if v != CertSelfSigned {
		chain = append(chain, ca.Cert.Raw) // as many servers do; verifiers ignore the root
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}, nil
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

func (ca *CA) rsaKey(bits int) (*rsa.PrivateKey, error) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if k := ca.rsaKeys[bits]; k != nil {
		return k, nil
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, err
	}
	ca.rsaKeys[bits] = k
	return k, nil
}

func (ca *CA) ecdsaKey() (*ecdsa.PrivateKey, error) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if ca.ecKey == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		ca.ecKey = k
	}
	return ca.ecKey, nil
}
