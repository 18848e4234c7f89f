package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/scope"
)

// TestUserLinkOIDC links an identity of a provider to an account from the command line.
func TestUserLinkOIDC(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	if _, errOut, err := user(t, db, "mật khẩu của quản trị viên\n", "add", "--login", "root", "--role", "platform_admin"); err != nil {
		t.Fatalf("user add = %v\n%s", err, errOut)
	}
	const iss = "https://idp.example.vn/realms/khien"
	out, _, err := user(t, db, "", "link-oidc", "--login", "root", "--issuer", iss, "--subject", "248289761001")
	if err != nil || !strings.Contains(out, "248289761001") {
		t.Fatalf("user link-oidc = %q, %v", out, err)
	}
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"linked already", []string{"link-oidc", "--login", "root", "--issuer", iss, "--subject", "248289761001"}, 2},
		{"no subject", []string{"link-oidc", "--login", "root", "--issuer", iss}, 2},
		{"issuer in the clear", []string{"link-oidc", "--login", "root", "--issuer", "http://idp.example.vn", "--subject", "x"}, 2},
		{"no such login", []string{"link-oidc", "--login", "nobody", "--issuer", iss, "--subject", "y"}, 2},
		{"issuer on another subcommand", []string{"reset-mfa", "--login", "root", "--issuer", iss}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--db", db, "user"}, tt.args...)
			if code, _, errOut := run(t, map[string]string{"KHIEN_SECRET_KEY": testSecretKey}, args...); code != tt.code {
				t.Errorf("khien %v: exit %d, want %d\n%s", args, code, tt.code, errOut)
			}
		})
	}

	st, _, err := app.OpenStore(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l, err := st.(auth.OIDCStore).OIDCLink(t.Context(), iss, "248289761001")
	if err != nil || l.Email != "" {
		t.Errorf("stored link = %+v, %v", l, err)
	}
	if out, err := auditVerify(t, db); err != nil {
		t.Errorf("audit verify after the link = %v\n%s", err, out)
	}
}

// TestOIDCFlags checks the serve flags of sign-in through a provider.
func TestOIDCFlags(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		on   bool
		ok   bool
	}{
		{"none", nil, nil, false, true},
		{"all", []string{"--oidc-issuer", "https://idp.example.vn", "--oidc-client-id", "khien", "--oidc-client-secret-file", secret}, nil, true, true},
		{"from the environment", nil, map[string]string{"KHIEN_OIDC_ISSUER": "https://idp.example.vn", "KHIEN_OIDC_CLIENT_ID": "khien",
			"KHIEN_OIDC_CLIENT_SECRET_FILE": secret}, true, true},
		{"no secret file", []string{"--oidc-issuer", "https://idp.example.vn", "--oidc-client-id", "khien"}, nil, false, false},
		{"missing secret file", []string{"--oidc-issuer", "https://idp.example.vn", "--oidc-client-id", "khien", "--oidc-client-secret-file", secret + ".x"}, nil, false, false},
		{"client without issuer", []string{"--oidc-client-id", "khien"}, nil, false, false},
		{"issuer in the clear", []string{"--oidc-issuer", "http://idp.example.vn", "--oidc-client-id", "khien", "--oidc-client-secret-file", secret}, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			of := newOIDCFlags(Env{Getenv: func(k string) string { return tt.env[k] }}, fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			p, err := of.provider(app.Net{})
			if (err == nil) != tt.ok || (p != nil) != tt.on {
				t.Errorf("provider = %v, %v; want ok %v, on %v", p, err, tt.ok, tt.on)
			}
		})
	}
}

// TestOIDCProviderFenced checks that serve reaches the provider only through its fence: an
// issuer on 127.0.0.2 is refused under --fence 127.0.0.1/32, before any packet, and reached
// under --fence loopback.
func TestOIDCProviderFenced(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skip("127.0.0.2 cannot be listened on:", err)
	}
	var hits atomic.Int32
	var issuer string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		json.NewEncoder(w).Encode(map[string]any{"issuer": issuer, "authorization_endpoint": issuer + "/authorize",
			"token_endpoint": issuer + "/token", "jwks_uri": issuer + "/jwks"})
	}))
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	issuer = srv.URL
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		fence   string
		reached bool
	}{
		{"127.0.0.1/32", false},
		{"loopback", true},
	}
	for _, tt := range tests {
		t.Run(tt.fence, func(t *testing.T) {
			hits.Store(0)
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			env := Env{Getenv: func(string) string { return "" }}
			nf := netFlags(env, fs)
			of := newOIDCFlags(env, fs)
			if err := fs.Parse([]string{"--fence", tt.fence, "--oidc-issuer", issuer, "--oidc-client-id", "khien",
				"--oidc-client-secret-file", secret}); err != nil {
				t.Fatal(err)
			}
			cfg, err := nf.config()
			if err != nil {
				t.Fatal(err)
			}
			p, err := of.provider(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.AuthURL(t.Context(), "https://khien.test/login/oidc/callback", "state", "nonce", "verifier")
			if tt.reached {
				if err != nil || hits.Load() == 0 {
					t.Errorf("AuthURL = %v with %d requests to the provider; want it reached", err, hits.Load())
				}
				return
			}
			if hits.Load() != 0 {
				t.Errorf("the provider at %s, outside the fence %s, got %d requests", issuer, tt.fence, hits.Load())
			}
			if !errors.Is(err, scope.ErrFenced) || !strings.Contains(err.Error(), "fence") {
				t.Errorf("AuthURL = %v, want an error saying the provider is outside the fence", err)
			}
		})
	}
}
