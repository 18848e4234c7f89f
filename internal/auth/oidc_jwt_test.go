package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"
)

func enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func jsonB64(v any) string {
	b, _ := json.Marshal(v)
	return enc(b)
}

// testKeys are one key of each type the verifier knows, with their JWKS.
type testKeys struct {
	rsa   *rsa.PrivateKey
	ec    *ecdsa.PrivateKey
	ec384 *ecdsa.PrivateKey
	ed    ed25519.PrivateKey
	jwks  []byte
}

func newTestKeys(t testing.TB) testKeys {
	t.Helper()
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	pad := func(b []byte, n int) []byte { return append(make([]byte, n-len(b)), b...) }
	ecJWK := func(k *ecdsa.PrivateKey, kid, crv string, size int) map[string]string {
		raw, _ := k.PublicKey.Bytes() // 04 ‖ x ‖ y
		return map[string]string{"kty": "EC", "kid": kid, "crv": crv, "x": enc(raw[1 : 1+size]), "y": enc(raw[1+size:])}
	}
	doc := map[string]any{"keys": []any{
		map[string]string{"kty": "RSA", "kid": "r", "n": enc(r.N.Bytes()), "e": enc(big.NewInt(int64(r.E)).Bytes())},
		ecJWK(ec, "e", "P-256", 32),
		ecJWK(ec384, "e384", "P-384", 48),
		map[string]string{"kty": "OKP", "kid": "d", "crv": "Ed25519", "x": enc(ed.Public().(ed25519.PublicKey))},
		map[string]string{"kty": "RSA", "kid": "enc", "use": "enc", "n": enc(r.N.Bytes()), "e": "AQAB"},
		map[string]string{"kty": "RSA", "kid": "weak", "n": enc(pad([]byte{1, 2, 3}, 64)), "e": "AQAB"},
	}}
	b, _ := json.Marshal(doc)
	return testKeys{rsa: r, ec: ec, ec384: ec384, ed: ed, jwks: b}
}

// sign makes a compact JWS of payload with alg and kid.
func (k testKeys) sign(t testing.TB, alg, kid string, payload []byte) string {
	signed := jsonB64(map[string]string{"alg": alg, "kid": kid}) + "." + enc(payload)
	var sig []byte
	var err error
	switch alg {
	case "RS256":
		d := sha256.Sum256([]byte(signed))
		sig, err = rsa.SignPKCS1v15(rand.Reader, k.rsa, crypto.SHA256, d[:])
	case "PS512":
		d := sha512.Sum512([]byte(signed))
		sig, err = rsa.SignPSS(rand.Reader, k.rsa, crypto.SHA512, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "ES256", "ES384":
		key, size := k.ec, 32
		var d []byte
		if alg == "ES384" {
			key, size = k.ec384, 48
			s := sha512.Sum384([]byte(signed))
			d = s[:]
		} else {
			s := sha256.Sum256([]byte(signed))
			d = s[:]
		}
		r, s, e := ecdsa.Sign(rand.Reader, key, d)
		err = e
		sig = append(r.FillBytes(make([]byte, size)), s.FillBytes(make([]byte, size))...)
	case "EdDSA":
		sig = ed25519.Sign(k.ed, []byte(signed))
	}
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + enc(sig)
}

// TestVerifyJWTAlgorithms checks each algorithm against its key, and that a key of one type
// does not verify a token of another's algorithm.
func TestVerifyJWTAlgorithms(t *testing.T) {
	k := newTestKeys(t)
	keys, err := parseJWKS(k.jwks)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 4 {
		t.Errorf("parseJWKS kept %d keys; want 4 (no encryption key, no weak RSA key)", len(keys))
	}
	payload := []byte(`{"sub":"x"}`)
	tests := []struct {
		alg, kid string
		ok       bool
	}{
		{"RS256", "r", true}, {"PS512", "r", true}, {"ES256", "e", true}, {"ES384", "e384", true}, {"EdDSA", "d", true},
		{"RS256", "", true},   // no kid: each key is tried
		{"ES256", "r", false}, // an EC signature under an RSA key
		{"RS256", "e", false},
		{"RS256", "enc", false}, // an encryption key does not verify
		{"RS256", "weak", false},
	}
	for _, tt := range tests {
		t.Run(tt.alg+"/"+tt.kid, func(t *testing.T) {
			alg := tt.alg
			raw := k.sign(t, alg, tt.kid, payload)
			if tt.alg == "ES256" && tt.kid == "r" { // signed by the EC key, labelled as the RSA one
				raw = k.sign(t, "ES256", "r", payload)
			}
			got, err := verifyJWT(raw, keys, signingAlgs)
			if (err == nil) != tt.ok || err == nil && string(got) != string(payload) {
				t.Errorf("verifyJWT = %q, %v; want ok %v", got, err, tt.ok)
			}
		})
	}
	// An algorithm the provider does not announce is refused even with a good signature.
	if _, err := verifyJWT(k.sign(t, "ES256", "e", payload), keys, []string{"RS256"}); err == nil {
		t.Error("verifyJWT accepted ES256 when only RS256 is allowed")
	}
}

// FuzzVerifyJWT feeds the verifier arbitrary tokens: it must not panic, and must accept none
// that was not signed by a key of the JWKS.
func FuzzVerifyJWT(f *testing.F) {
	k := newTestKeys(f)
	keys, err := parseJWKS(k.jwks)
	if err != nil {
		f.Fatal(err)
	}
	good := k.sign(f, "RS256", "r", []byte(`{"sub":"x"}`))
	f.Add(good)
	f.Add(k.sign(f, "ES256", "e", []byte(`{}`)))
	f.Add(k.sign(f, "EdDSA", "d", []byte(`{}`)))
	f.Add("e30.e30.")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("...")
	f.Add("a.b.c.d")
	f.Fuzz(func(t *testing.T, raw string) {
		payload, err := verifyJWT(raw, keys, signingAlgs)
		if err == nil && raw != good && len(payload) > 0 && string(payload) != `{}` && string(payload) != `{"sub":"x"}` {
			t.Errorf("verifyJWT accepted %q", raw)
		}
	})
}

// FuzzParseJWKS feeds the key parser arbitrary documents: it must not panic, and every key
// it keeps must be usable.
func FuzzParseJWKS(f *testing.F) {
	f.Add(newTestKeys(f).jwks)
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := parseJWKS(b)
		if err == nil && len(keys) == 0 {
			t.Error("parseJWKS returned no key and no error")
		}
		for _, k := range keys {
			if k.pub == nil {
				t.Error("parseJWKS kept a nil key")
			}
		}
	})
}

// TestVerifyJWTHeaders checks the header parameters refused whatever the signature: a key
// embedded or pointed to (jwk, jku, x5u, x5c) instead of the provider's JWKS, and any crit,
// including the empty list RFC 7515 §4.1.11 forbids. The tokens are signed by a key of the
// JWKS, so only the header is at fault.
func TestVerifyJWTHeaders(t *testing.T) {
	k := newTestKeys(t)
	keys, err := parseJWKS(k.jwks)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(header string) string {
		signed := enc([]byte(header)) + "." + enc([]byte(`{"sub":"x"}`))
		d := sha256.Sum256([]byte(signed))
		sig, err := rsa.SignPKCS1v15(rand.Reader, k.rsa, crypto.SHA256, d[:])
		if err != nil {
			t.Fatal(err)
		}
		return signed + "." + enc(sig)
	}
	tests := []struct {
		name, header string
		ok           bool
	}{
		{"plain", `{"alg":"RS256","kid":"r"}`, true},
		{"x5c", `{"alg":"RS256","kid":"r","x5c":["MIIB"]}`, false},
		{"x5c empty", `{"alg":"RS256","kid":"r","x5c":[]}`, false},
		{"x5u", `{"alg":"RS256","kid":"r","x5u":"https://k.test/c.pem"}`, false},
		{"jku", `{"alg":"RS256","kid":"r","jku":"https://k.test/jwks"}`, false},
		{"jwk", `{"alg":"RS256","kid":"r","jwk":{"kty":"RSA"}}`, false},
		{"crit", `{"alg":"RS256","kid":"r","crit":["exp"],"exp":1}`, false},
		{"crit empty", `{"alg":"RS256","kid":"r","crit":[]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := verifyJWT(sign(tt.header), keys, []string{"RS256"}); (err == nil) != tt.ok {
				t.Errorf("verifyJWT with header %s = %v; want ok %v", tt.header, err, tt.ok)
			}
		})
	}
}

// TestUniqueNames: a JSON object naming a member twice, or in two cases, is refused, since
// encoding/json would read the last and match names without regard to case.
func TestUniqueNames(t *testing.T) {
	for in, ok := range map[string]bool{
		`{"iss":"a","sub":"1","aud":["x"]}`:      true,
		`{"iss":"a","nested":{"iss":1,"iss":2}}`: true, // only the top level is read as claims
		`{}`:                                     true,
		`{"iss":"a","ISS":"b"}`:                  false,
		`{"sub":"1","sub":"2"}`:                  false,
		`{"aud":"x","Aud":["khien"]}`:            false,
		`["iss"]`:                                false,
		`{"iss":`:                                false,
	} {
		if err := uniqueNames([]byte(in)); (err == nil) != ok {
			t.Errorf("uniqueNames(%s) = %v, want ok=%v", in, err, ok)
		}
	}
}
