package tlscheck

import (
	"bytes"
	"crypto/dsa" //nolint:staticcheck // DSA keys still turn up on old servers and must be sized
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// inspect parses a served chain (DER, leaf first) and verifies it: the chain against roots
// (nil: the system's), the leaf against host when checkName is set. Trust and host name are
// separate verdicts, and by default neither depends on the dates, which the date checks
// judge: a chain that fails only because it is out of date is verified again at a moment when
// every certificate in it was valid. The chain is also verified at the time of the scan, and
// with SHA-1 signatures accepted, so that every policy finds its verdict in the observation.
func inspect(raw [][]byte, roots *x509.CertPool, at time.Time, host string, checkName bool) (*Cert, error) {
	if len(raw) == 0 {
		return nil, errors.New("no certificate was served")
	}
	leaf, err := x509.ParseCertificate(raw[0])
	if err != nil {
		return nil, fmt.Errorf("the server's certificate does not parse: %w", err)
	}
	c := &Cert{DNSNames: leaf.DNSNames}
	for _, ip := range leaf.IPAddresses {
		c.IPAddresses = append(c.IPAddresses, ip.String())
	}
	c.KeyType, c.KeyBits = keySize(leaf.PublicKey)
	inter := x509.NewCertPool()
	served := []*x509.Certificate{leaf}
	c.Chain = append(c.Chain, certInfo(leaf, raw[0]))
	for _, der := range raw[1:] {
		ic, err := x509.ParseCertificate(der)
		if err != nil {
			sum := sha256.Sum256(der)
			c.Chain = append(c.Chain, CertInfo{Subject: "(does not parse: " + err.Error() + ")", SHA256: hex.EncodeToString(sum[:])})
			continue
		}
		inter.AddCert(ic)
		served = append(served, ic)
		c.Chain = append(c.Chain, certInfo(ic, der))
	}

	strict := func(at time.Time) error {
		_, err := leaf.Verify(x509.VerifyOptions{
			Roots:         roots,
			Intermediates: inter,
			CurrentTime:   at,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		return err
	}
	c.VerifyError = errText(dateNeutral(leaf, at, strict))
	c.VerifyErrorAtScan = errText(strict(at))
	c.SHA1VerifyError, c.SHA1VerifyErrorAtScan = c.VerifyError, c.VerifyErrorAtScan
	if hasSHA1(served) {
		legacy := func(at time.Time) error { return verifySHA1(served, inter, roots, at) }
		c.SHA1VerifyError = errText(dateNeutral(leaf, at, legacy))
		c.SHA1VerifyErrorAtScan = errText(legacy(at))
	}
	if checkName {
		if err := leaf.VerifyHostname(host); err != nil {
			c.HostError = err.Error()
		}
	}
	return c, nil
}

// dateNeutral verifies with verify at a time when every certificate of the chain is valid:
// out of date somewhere in the chain, it narrows a window to the validity of each
// certificate found out of date and verifies again in its middle. No common window keeps the
// error.
func dateNeutral(leaf *x509.Certificate, at time.Time, verify func(time.Time) error) error {
	err := verify(at)
	lo, hi := leaf.NotBefore, leaf.NotAfter
	var invalid x509.CertificateInvalidError
	for range 4 {
		if !errors.As(err, &invalid) || invalid.Reason != x509.Expired || invalid.Cert == nil {
			break
		}
		if invalid.Cert.NotBefore.After(lo) {
			lo = invalid.Cert.NotBefore
		}
		if invalid.Cert.NotAfter.Before(hi) {
			hi = invalid.Cert.NotAfter
		}
		if !lo.Before(hi) {
			break
		}
		err = verify(lo.Add(hi.Sub(lo) / 2))
	}
	return err
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func certInfo(c *x509.Certificate, der []byte) CertInfo {
	sum := sha256.Sum256(der)
	return CertInfo{
		Subject:            c.Subject.String(),
		Issuer:             c.Issuer.String(),
		SHA256:             hex.EncodeToString(sum[:]),
		NotBefore:          c.NotBefore.UTC(),
		NotAfter:           c.NotAfter.UTC(),
		SignatureAlgorithm: c.SignatureAlgorithm.String(),
		SelfSigned:         bytes.Equal(c.RawSubject, c.RawIssuer),
	}
}

// keySize returns the algorithm and size in bits of a public key.
func keySize(pub any) (string, int) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "ECDSA", k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return "Ed25519", 256
	case *dsa.PublicKey:
		return "DSA", k.P.BitLen()
	}
	return fmt.Sprintf("%T", pub), 0
}

// weakSignatures are the signature algorithms, as crypto/x509 names them, that
// tls.cert.weak_signature refuses: MD2, MD5 and SHA-1 are open to collision attacks.
var weakSignatures = map[string]bool{
	"MD2-RSA":    true,
	"MD5-RSA":    true,
	"SHA1-RSA":   true,
	"DSA-SHA1":   true,
	"ECDSA-SHA1": true,
}
