package auth_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/auth/oidctest"
)

// TestOIDCNoRedirects checks that the relying party follows no redirect from the provider:
// not discovery's, not the JWKS's from https to plain http on another host (whose keys would
// then vouch for every ID token), not the token endpoint's 307 (which would post the client
// secret and the PKCE verifier again, elsewhere). Each is an error naming the endpoint, and
// the other server gets nothing.
func TestOIDCNoRedirects(t *testing.T) {
	e := newEnv(t, auth.Config{SecretKey: secretKey})
	p := oidctest.New(t, e.now) // for its key and Sign only
	var elsewhereHits atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhereHits.Add(1)
		switch r.URL.Path {
		case "/jwks":
			json.NewEncoder(w).Encode(map[string]any{"keys": []any{oidctest.JWK(&p.Key.PublicKey, p.KeyID)}})
		case "/token":
			json.NewEncoder(w).Encode(map[string]any{"id_token": "x.y.z"})
		}
	}))
	t.Cleanup(elsewhere.Close)

	var redirected atomic.Value // the path the provider redirects
	var issuer string
	provider := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == redirected.Load() {
			http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]any{"issuer": issuer, "authorization_endpoint": issuer + "/authorize",
				"token_endpoint": issuer + "/token", "jwks_uri": issuer + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"}})
		case "/jwks":
			json.NewEncoder(w).Encode(map[string]any{"keys": []any{oidctest.JWK(&p.Key.PublicKey, p.KeyID)}})
		case "/token":
			json.NewEncoder(w).Encode(map[string]any{"id_token": "x.y.z"})
		}
	}))
	t.Cleanup(provider.Close)
	issuer = provider.URL

	now := e.clock.Unix()
	raw := p.Sign(map[string]any{"iss": issuer, "sub": "s", "aud": "khien", "exp": now + 300, "iat": now, "nonce": "n"})
	tests := []struct {
		path string
		call func(rp *auth.OIDC) error
	}{
		{"/.well-known/openid-configuration", func(rp *auth.OIDC) error {
			_, err := rp.AuthURL(t.Context(), "https://khien.test/login/oidc/callback", "s", "n", "v")
			return err
		}},
		{"/jwks", func(rp *auth.OIDC) error {
			_, err := rp.Verify(t.Context(), raw, "n")
			return err
		}},
		{"/token", func(rp *auth.OIDC) error {
			_, err := rp.Exchange(t.Context(), "https://khien.test/login/oidc/callback", "code", "verifier")
			return err
		}},
		{"", func(rp *auth.OIDC) error { // none: the same calls pass
			if _, err := rp.Verify(t.Context(), raw, "n"); err != nil {
				return err
			}
			_, err := rp.Exchange(t.Context(), "https://khien.test/login/oidc/callback", "code", "verifier")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run("redirect "+tt.path, func(t *testing.T) {
			redirected.Store(tt.path)
			elsewhereHits.Store(0)
			// The client of the test server follows redirects by default: NewOIDC must not.
			rp, err := auth.NewOIDC(auth.OIDCConfig{Issuer: issuer, ClientID: "khien", ClientSecret: "s",
				RedirectURL: "https://khien.test/login/oidc/callback", Now: e.now, Client: provider.Client()})
			if err != nil {
				t.Fatal(err)
			}
			err = tt.call(rp)
			if tt.path == "" {
				if err != nil {
					t.Errorf("without a redirect: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.path) || !strings.Contains(err.Error(), "redirect") {
				t.Errorf("err = %v; want an error naming the redirect of %s", err, tt.path)
			}
			if n := elsewhereHits.Load(); n != 0 {
				t.Errorf("the redirect's target got %d requests", n)
			}
		})
	}
}

// TestOIDCEmailNotFolded checks that a verified address outside ASCII is linked to no login,
// from the ID token on: K (U+212A KELVIN SIGN) lowers to k in Unicode, so
// "\u212Aaren@hn.gov.vn", another mailbox, would sign in as karen@hn.gov.vn.
func TestOIDCEmailNotFolded(t *testing.T) {
	e := newEnv(t, auth.Config{SecretKey: secretKey})
	p := oidctest.New(t, e.now)
	rp := newRP(t, e, p)
	karen, _ := e.user(t, "karen@hn.gov.vn", auth.SecurityOfficer, "HN")
	tests := []struct {
		email string
		want  auth.OIDCReason
	}{
		{"\u212Aaren@hn.gov.vn", auth.ReasonEmailASCII},
		{"KAREN@hn.gov.vn", ""}, // ASCII case still folds
	}
	for i, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			now := e.clock.Unix()
			raw := p.Sign(map[string]any{"iss": p.Issuer, "sub": fmt.Sprintf("s-%d", i), "aud": p.ClientID, "exp": now + 300, "iat": now,
				"nonce": "n", "email": tt.email, "email_verified": true})
			id, err := rp.Verify(t.Context(), raw, "n")
			if err != nil {
				t.Fatal(err)
			}
			ns, _, err := e.a.OIDCSignIn(t.Context(), id, auth.OIDCClient{})
			if reasonOf(err) != tt.want || tt.want != "" && ns.User.ID == karen.ID {
				t.Errorf("sign-in of %q (identity address %q) = %q, %v; want reason %q", tt.email, id.Email, ns.User.Login, err, tt.want)
			}
		})
	}
}

// TestOIDCDiscoveryBackoff checks that a failed read of discovery is not repeated at every
// sign-in: for 30 seconds the metadata kept serves, or, with none kept, the failure is
// returned again; then discovery is read again.
func TestOIDCDiscoveryBackoff(t *testing.T) {
	e := newEnv(t, auth.Config{SecretKey: secretKey})
	var hits atomic.Int32
	var down atomic.Bool
	var issuer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"issuer": issuer, "authorization_endpoint": issuer + "/authorize",
			"token_endpoint": issuer + "/token", "jwks_uri": issuer + "/jwks"})
	}))
	t.Cleanup(srv.Close)
	issuer = srv.URL
	const cb = "https://khien.test/login/oidc/callback"
	tests := []struct {
		name     string
		kept     bool // a first read succeeded, and expired
		wantErrs bool
	}{
		{"metadata kept", true, false},
		{"no metadata", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			down.Store(false)
			rp, err := auth.NewOIDC(auth.OIDCConfig{Issuer: issuer, ClientID: "khien", ClientSecret: "s", RedirectURL: cb, Now: e.now})
			if err != nil {
				t.Fatal(err)
			}
			if tt.kept {
				if _, err := rp.AuthURL(t.Context(), cb, "s", "n", "v"); err != nil {
					t.Fatal(err)
				}
				e.clock = e.clock.Add(2 * time.Hour)
			}
			down.Store(true)
			hits.Store(0)
			for range 10 {
				if _, err := rp.AuthURL(t.Context(), cb, "s", "n", "v"); (err != nil) != tt.wantErrs {
					t.Fatalf("AuthURL while discovery is down = %v; want an error %v", err, tt.wantErrs)
				}
			}
			if n := hits.Load(); n != 1 {
				t.Errorf("10 sign-ins while discovery is down read it %d times; want 1", n)
			}
			e.clock = e.clock.Add(31 * time.Second)
			down.Store(false)
			if _, err := rp.AuthURL(t.Context(), cb, "s", "n", "v"); err != nil || hits.Load() != 2 {
				t.Errorf("after 31 seconds: AuthURL = %v with %d reads; want discovery read again", err, hits.Load())
			}
		})
	}
}

// TestOIDCConcurrentEmailLinks checks that concurrent first sign-ins of identities of one
// provider vouching for one address link one of them: each finds the account unlinked, and
// the store refuses all inserts but one, which sign-in reports as linked_other.
func TestOIDCConcurrentEmailLinks(t *testing.T) {
	e := newEnv(t, auth.Config{SecretKey: secretKey})
	ctx := t.Context()
	const iss = "https://idp.example.vn"
	officer, _ := e.user(t, "lan@hn.gov.vn", auth.SecurityOfficer, "HN")
	const n = 8
	var wg sync.WaitGroup
	var signedIn, linkedOther atomic.Int32
	var mu sync.Mutex
	var others []error
	for i := range n {
		wg.Go(func() {
			_, _, err := e.a.OIDCSignIn(ctx, auth.Identity{Issuer: iss, Subject: fmt.Sprintf("s-%d", i), Email: "lan@hn.gov.vn", EmailVerified: true}, auth.OIDCClient{})
			switch {
			case err == nil:
				signedIn.Add(1)
			case reasonOf(err) == auth.ReasonLinkedOther:
				linkedOther.Add(1)
			default:
				mu.Lock()
				others = append(others, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if signedIn.Load() != 1 || linkedOther.Load() != n-1 || len(others) != 0 {
		t.Errorf("%d signed in, %d refused as linked_other, other errors %v; want 1 and %d", signedIn.Load(), linkedOther.Load(), others, n-1)
	}
	if links, err := e.db.OIDCLinks(ctx, officer.ID); err != nil || len(links) != 1 {
		t.Errorf("links of the account = %+v, %v; want one", links, err)
	}
}
