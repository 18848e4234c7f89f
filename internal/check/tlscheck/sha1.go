package tlscheck

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // verifying old signatures for a peer's policy, never signing
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"
)

// maxSHA1Links bounds the SHA-1 links followed up a chain; real chains have two or three.
const maxSHA1Links = 8

// isSHA1 reports whether a signature algorithm hashes with SHA-1.
func isSHA1(a x509.SignatureAlgorithm) bool {
	return a == x509.SHA1WithRSA || a == x509.ECDSAWithSHA1 || a == x509.DSAWithSHA1
}

// hasSHA1 reports whether a certificate of the chain, other than a self-signed one (a root,
// whose own signature no verifier checks), is signed with SHA-1.
func hasSHA1(chain []*x509.Certificate) bool {
	return slices.ContainsFunc(chain, func(c *x509.Certificate) bool {
		return isSHA1(c.SignatureAlgorithm) && !bytes.Equal(c.RawSubject, c.RawIssuer)
	})
}

// verifySHA1 verifies a served chain (leaf first) the way OpenSSL does at its default
// security level, where SHA-1 signatures count; crypto/x509 refuses them. Each SHA-1 link is
// checked here: the issuer is looked for among the served certificates by subject, must be
// allowed to sign certificates, and its key must verify the SHA-1 signature over the
// certificate's TBS bytes. At the first certificate whose own signature crypto/x509 accepts,
// or which is self-signed, crypto/x509 takes over and verifies the rest against roots.
//
// The issuer of a SHA-1 signature must be among the served certificates, because a
// certificate pool cannot be searched by subject; servers send their intermediates, and the
// lab sends its root too.
func verifySHA1(served []*x509.Certificate, inter, roots *x509.CertPool, at time.Time) error {
	c := served[0]
	if len(c.ExtKeyUsage) > 0 && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageServerAuth) && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny) {
		return x509.CertificateInvalidError{Cert: c, Reason: x509.IncompatibleUsage}
	}
	usages := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	for range maxSHA1Links {
		if !isSHA1(c.SignatureAlgorithm) || bytes.Equal(c.RawSubject, c.RawIssuer) {
			_, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at, KeyUsages: usages})
			return err
		}
		if at.Before(c.NotBefore) || at.After(c.NotAfter) {
			return x509.CertificateInvalidError{Cert: c, Reason: x509.Expired,
				Detail: fmt.Sprintf("%s is outside %s to %s", at.Format(time.RFC3339), c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339))}
		}
		var parent *x509.Certificate
		var sigErr error
		for _, p := range served[1:] {
			if p == c || !bytes.Equal(p.RawSubject, c.RawIssuer) {
				continue
			}
			if err := sha1SignedBy(c, p); err != nil {
				sigErr = err
				continue
			}
			parent = p
			break
		}
		switch {
		case parent == nil && sigErr != nil:
			return fmt.Errorf("x509: the SHA-1 signature of %q: %w", c.Subject, sigErr)
		case parent == nil:
			return fmt.Errorf("x509: %q is signed with SHA-1 by %q, which is not among the certificates the server sent", c.Subject, c.Issuer)
		}
		c, usages = parent, []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
	}
	return errors.New("x509: too many SHA-1 signatures in the chain")
}

// sha1SignedBy checks that parent may sign certificates and that its key verifies c's SHA-1
// signature over c's TBS bytes.
func sha1SignedBy(c, parent *x509.Certificate) error {
	selfSigned := bytes.Equal(parent.RawSubject, parent.RawIssuer)
	if (parent.BasicConstraintsValid && !parent.IsCA) || (!parent.BasicConstraintsValid && !selfSigned) {
		return errors.New("the issuer is not a certificate authority")
	}
	if parent.KeyUsage != 0 && parent.KeyUsage&x509.KeyUsageCertSign == 0 {
		return errors.New("the issuer may not sign certificates")
	}
	sum := sha1.Sum(c.RawTBSCertificate) //nolint:gosec // see the import
	switch pub := parent.PublicKey.(type) {
	case *rsa.PublicKey:
		if c.SignatureAlgorithm != x509.SHA1WithRSA {
			return fmt.Errorf("%s signature from an RSA key", c.SignatureAlgorithm)
		}
		return rsa.VerifyPKCS1v15(pub, crypto.SHA1, sum[:], c.Signature)
	case *ecdsa.PublicKey:
		if c.SignatureAlgorithm != x509.ECDSAWithSHA1 {
			return fmt.Errorf("%s signature from an ECDSA key", c.SignatureAlgorithm)
		}
		if !ecdsa.VerifyASN1(pub, sum[:], c.Signature) {
			return errors.New("ECDSA verification failure")
		}
		return nil
	}
	return fmt.Errorf("%s signatures are not verified", c.SignatureAlgorithm)
}
