package auth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// ID tokens are JSON Web Tokens signed by the provider (RFC 7515, 7517, 7518). They are
// verified here with the standard library rather than a JOSE module: the part an OpenID
// relying party needs (compact serialization, a handful of signature algorithms, public keys
// from a JWKS) is short, and a short verifier is one that can be read whole. Encrypted
// tokens, embedded keys (jwk, jku, x5u, x5c headers) and "none" are refused, as is any crit
// header: this verifier understands no extension, and an empty list is malformed (RFC 7515
// §4.1.11).

// maxJWT bounds a token before it is decoded.
const maxJWT = 16 << 10

// jwtKey is a public key of the provider's JWKS.
type jwtKey struct {
	kid string
	alg string // the key's "alg", if it names one: the key is for that algorithm only
	pub crypto.PublicKey
}

// jwkJSON is one key of a JWKS document, as published.
type jwkJSON struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS returns the signing keys of a JWKS document that this verifier can use. Keys of
// other types, or for encryption, are skipped; a document with none usable is an error.
func parseJWKS(b []byte) ([]jwtKey, error) {
	var doc struct {
		Keys []jwkJSON `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	var keys []jwtKey
	for _, k := range doc.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		pub, err := k.public()
		if err != nil {
			continue // one odd key does not spoil the others
		}
		keys = append(keys, jwtKey{kid: k.Kid, alg: k.Alg, pub: pub})
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS holds no usable signing key (RSA of 2048 bits or more, EC P-256/384/521, Ed25519)")
	}
	return keys, nil
}

func b64url(s string) ([]byte, error) { return base64.RawURLEncoding.Strict().DecodeString(s) }

func (k jwkJSON) public() (crypto.PublicKey, error) {
	switch k.Kty {
	case "RSA":
		n, err1 := b64url(k.N)
		e, err2 := b64url(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("bad RSA key")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 || pub.E < 3 || pub.E%2 == 0 {
			return nil, errors.New("weak RSA key")
		}
		return pub, nil
	case "EC":
		var c elliptic.Curve
		switch k.Crv {
		case "P-256":
			c = elliptic.P256()
		case "P-384":
			c = elliptic.P384()
		case "P-521":
			c = elliptic.P521()
		default:
			return nil, errors.New("unknown curve")
		}
		x, err1 := b64url(k.X)
		y, err2 := b64url(k.Y)
		size := (c.Params().BitSize + 7) / 8
		if err1 != nil || err2 != nil || len(x) != size || len(y) != size {
			return nil, errors.New("bad EC key")
		}
		// The uncompressed point form, which ecdsa.ParseUncompressedPublicKey checks is on the curve.
		point := append(append([]byte{4}, x...), y...)
		return ecdsa.ParseUncompressedPublicKey(c, point)
	case "OKP":
		x, err := b64url(k.X)
		if err != nil || k.Crv != "Ed25519" || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("bad OKP key")
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, errors.New("unknown key type")
}

// jwsHeader is the protected header of a signed token.
type jwsHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"` // raw, so that an empty list is seen as present
	JWK  json.RawMessage `json:"jwk"`
	JKU  string          `json:"jku"`
	X5U  string          `json:"x5u"`
	X5C  json.RawMessage `json:"x5c"`
}

// errJWT is a token that is not a well-formed signed JWT.
var errJWT = errors.New("not a signed JWT in compact form")

// verifyJWT checks the signature of the compact JWS raw with one of keys, by an algorithm in
// algs, and returns its payload.
func verifyJWT(raw string, keys []jwtKey, algs []string) ([]byte, error) {
	if len(raw) > maxJWT {
		return nil, errJWT
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, errJWT
	}
	hb, err := b64url(parts[0])
	if err != nil {
		return nil, errJWT
	}
	var h jwsHeader
	if err := uniqueNames(hb); err != nil {
		return nil, fmt.Errorf("the token's header: %w", err)
	}
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, errJWT
	}
	switch {
	case len(h.Crit) > 0:
		return nil, fmt.Errorf("the token has critical header parameters %s this verifier does not know (or an empty crit)", limit(string(h.Crit), 100))
	case len(h.JWK) > 0 || h.JKU != "" || h.X5U != "" || len(h.X5C) > 0:
		return nil, errors.New("the token names its own key; only the provider's JWKS is trusted")
	case !slices.Contains(algs, h.Alg):
		return nil, fmt.Errorf("the token is signed with %q, not one of %s", h.Alg, strings.Join(algs, ", "))
	}
	payload, err := b64url(parts[1])
	if err != nil {
		return nil, errJWT
	}
	sig, err := b64url(parts[2])
	if err != nil {
		return nil, errJWT
	}
	signed := []byte(parts[0] + "." + parts[1])
	tried := false
	for _, k := range keys {
		if h.Kid != "" && k.kid != h.Kid || k.alg != "" && k.alg != h.Alg {
			continue
		}
		tried = true
		if verifySig(h.Alg, k.pub, signed, sig) {
			return payload, nil
		}
	}
	if !tried {
		return nil, fmt.Errorf("no key of the provider's JWKS has the id %q for %s", h.Kid, h.Alg)
	}
	return nil, errors.New("the token's signature does not verify")
}

// signingAlgs are the algorithms verifySig knows.
var signingAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// verifySig reports whether sig is alg's signature of signed by pub.
func verifySig(alg string, pub crypto.PublicKey, signed, sig []byte) bool {
	hash := map[byte]crypto.Hash{'2': crypto.SHA256, '3': crypto.SHA384, '5': crypto.SHA512}
	digest := func(h crypto.Hash) []byte {
		switch h {
		case crypto.SHA256:
			d := sha256.Sum256(signed)
			return d[:]
		case crypto.SHA384:
			d := sha512.Sum384(signed)
			return d[:]
		}
		d := sha512.Sum512(signed)
		return d[:]
	}
	switch {
	case alg == "EdDSA":
		k, ok := pub.(ed25519.PublicKey)
		return ok && ed25519.Verify(k, signed, sig)
	case len(alg) != 5:
		return false
	}
	h, ok := hash[alg[2]]
	if !ok {
		return false
	}
	switch alg[:2] {
	case "RS":
		k, ok := pub.(*rsa.PublicKey)
		return ok && rsa.VerifyPKCS1v15(k, h, digest(h), sig) == nil
	case "PS":
		k, ok := pub.(*rsa.PublicKey)
		return ok && rsa.VerifyPSS(k, h, digest(h), sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
	case "ES":
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return false
		}
		// JWS carries r‖s, each the curve's size, not ASN.1.
		size := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size || curveHash(k.Curve) != h {
			return false
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(k, digest(h), r, s)
	}
	return false
}

// curveHash is the hash each ES algorithm pairs with its curve: ES256 is P-256 with SHA-256.
func curveHash(c elliptic.Curve) crypto.Hash {
	switch c.Params().BitSize {
	case 256:
		return crypto.SHA256
	case 384:
		return crypto.SHA384
	}
	return crypto.SHA512
}

// idClaims are the claims of an ID token that sign-in reads.
type idClaims struct {
	Iss           string      `json:"iss"`
	Sub           string      `json:"sub"`
	Aud           audience    `json:"aud"`
	Azp           string      `json:"azp"`
	Exp           numericDate `json:"exp"`
	Iat           numericDate `json:"iat"`
	Nbf           numericDate `json:"nbf"`
	Nonce         string      `json:"nonce"`
	Email         string      `json:"email"`
	EmailVerified looseBool   `json:"email_verified"`
	AMR           []string    `json:"amr"`
}

// audience is "aud": one string or an array of them.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	*a = many
	return nil
}

// numericDate is seconds since the epoch; providers send integers, some with a fraction.
type numericDate int64

func (d *numericDate) UnmarshalJSON(b []byte) error {
	var f json.Number
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&f); err != nil {
		return errors.New("a date claim is not a number")
	}
	x, err := f.Float64()
	if err != nil || x < 0 || x > 1e11 {
		return errors.New("a date claim is out of range")
	}
	*d = numericDate(int64(x))
	return nil
}

// looseBool is email_verified: a boolean, or the string "true" some providers send.
type looseBool bool

func (v *looseBool) UnmarshalJSON(b []byte) error {
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	switch t := x.(type) {
	case bool:
		*v = looseBool(t)
	case string:
		*v = looseBool(t == "true")
	default:
		*v = false
	}
	return nil
}

// uniqueNames refuses a JSON object in which a member name appears twice, also when only its
// case differs: encoding/json keeps the last of duplicates and matches struct fields without
// regard to case, so {"iss":"a","ISS":"b"} would be read as issued by b while another reader
// takes a. A signed token with such names is not one to interpret either way.
func uniqueNames(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	seen := map[string]string{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := t.(string)
		if prev, dup := seen[strings.ToLower(name)]; dup {
			return fmt.Errorf("member %q appears twice (as %q and %q)", limit(name, 40), limit(prev, 40), limit(name, 40))
		}
		seen[strings.ToLower(name)] = name
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}
