// Package oidctest is an OpenID Connect provider for tests, on a loopback httptest server:
// discovery, a JWKS with an RSA key made at start, an authorization endpoint that signs the
// configured user in at once and redirects back with a code, and a token endpoint that
// checks the client, the redirect URI and the PKCE verifier before returning a signed ID
// token. Tests of auth and web drive Khiên's relying party against it, and tamper with the
// token it issues to see each refusal. It is imported by tests only.
package oidctest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// User is who the provider signs in.
type User struct {
	Subject       string
	Email         string
	EmailVerified any // true, false, "true", or nil to leave the claim out
	AMR           []string
}

// Provider is the test provider. Its fields may be changed between sign-ins.
type Provider struct {
	Issuer       string // the server's URL: http://127.0.0.1:port
	ClientID     string
	ClientSecret string
	Key          *rsa.PrivateKey
	KeyID        string

	mu   sync.Mutex
	user User
	// Tamper, if set, changes the claims (and the header) of each ID token before it is signed.
	tamper func(header, claims map[string]any)
	// signer, if set, signs instead of Key: another key, to forge a token.
	signer *rsa.PrivateKey
	// reuse lets a code be redeemed more than once, so that a test sees Khiên refuse a replay
	// on its own.
	reuse bool
	now   func() time.Time
	codes map[string]grant
	// Tokens counts the codes redeemed.
	tokens int
}

type grant struct {
	nonce, challenge, redirect string
	user                       User
}

// New starts a provider on a loopback address, closed at the end of the test. now is the
// clock of the tokens it issues.
func New(t testing.TB, now func() time.Time) *Provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{ClientID: "khien", ClientSecret: "bí mật của khiên", Key: key, KeyID: "k1", now: now,
		codes: map[string]grant{}, user: User{Subject: "sub-1", Email: "an@example.vn", EmailVerified: true}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	srv := httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	p.Issuer = srv.URL
	return p
}

// SetUser sets who the next sign-ins are.
func (p *Provider) SetUser(u User) { p.mu.Lock(); p.user = u; p.mu.Unlock() }

// Tamper sets the function that changes each token before it is signed; nil for none.
func (p *Provider) Tamper(f func(header, claims map[string]any)) {
	p.mu.Lock()
	p.tamper = f
	p.mu.Unlock()
}

// SignWith makes the provider sign with k instead of its published key; nil to undo.
func (p *Provider) SignWith(k *rsa.PrivateKey) { p.mu.Lock(); p.signer = k; p.mu.Unlock() }

// ReuseCodes lets codes be redeemed again.
func (p *Provider) ReuseCodes(on bool) { p.mu.Lock(); p.reuse = on; p.mu.Unlock() }

// Redeemed is how many codes were traded for tokens.
func (p *Provider) Redeemed() int { p.mu.Lock(); defer p.mu.Unlock(); return p.tokens }

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer": p.Issuer, "authorization_endpoint": p.Issuer + "/authorize", "token_endpoint": p.Issuer + "/token",
		"jwks_uri": p.Issuer + "/jwks", "response_types_supported": []string{"code"},
		"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"keys": []any{JWK(&p.Key.PublicKey, p.KeyID)}})
}

// JWK is the JSON Web Key of an RSA public key.
func JWK(k *rsa.PublicKey, kid string) map[string]any {
	return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != p.ClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("redirect_uri") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := rand.Text()
	p.mu.Lock()
	p.codes[code] = grant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), user: p.user}
	p.mu.Unlock()
	back, _ := url.Parse(q.Get("redirect_uri"))
	v := back.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	id, _ = url.QueryUnescape(id)
	secret, _ = url.QueryUnescape(secret)
	if !ok || id != p.ClientID || secret != p.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	p.mu.Lock()
	g, found := p.codes[r.PostFormValue("code")]
	if !p.reuse {
		delete(p.codes, r.PostFormValue("code"))
	}
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	if !found || r.PostFormValue("grant_type") != "authorization_code" || r.PostFormValue("redirect_uri") != g.redirect ||
		b64(sum[:]) != g.challenge {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	now := p.now()
	claims := map[string]any{"iss": p.Issuer, "sub": g.user.Subject, "aud": p.ClientID, "exp": now.Add(5 * time.Minute).Unix(),
		"iat": now.Unix(), "nonce": g.nonce}
	if g.user.Email != "" {
		claims["email"] = g.user.Email
	}
	if g.user.EmailVerified != nil {
		claims["email_verified"] = g.user.EmailVerified
	}
	if g.user.AMR != nil {
		claims["amr"] = g.user.AMR
	}
	p.mu.Lock()
	p.tokens++
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": "at-" + rand.Text(), "token_type": "Bearer", "expires_in": 300,
		"id_token": p.Sign(claims)})
}

// Sign returns the ID token of claims, signed RS256 with the provider's key (or the one
// SignWith set), after Tamper has changed it.
func (p *Provider) Sign(claims map[string]any) string {
	header := map[string]any{"alg": "RS256", "kid": p.KeyID, "typ": "JWT"}
	p.mu.Lock()
	tamper, key := p.tamper, p.Key
	if p.signer != nil {
		key = p.signer
	}
	p.mu.Unlock()
	if tamper != nil {
		tamper(header, claims)
	}
	hb, _ := json.Marshal(header)
	cb, _ := json.Marshal(claims)
	signed := b64(hb) + "." + b64(cb)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return signed + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
