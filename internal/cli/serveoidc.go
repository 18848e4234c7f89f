package cli

import (
	"crypto/tls"
	"flag"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/scope"
)

// oidcFlags configure sign-in through an OpenID Connect provider, beside the local accounts.
type oidcFlags struct {
	issuer, clientID, secretFile, redirect, name *string
}

func newOIDCFlags(env Env, fs *flag.FlagSet) oidcFlags {
	return oidcFlags{
		issuer:     fs.String("oidc-issuer", env.Getenv("KHIEN_OIDC_ISSUER"), "OpenID Connect provider to offer sign-in with, its issuer URL (env KHIEN_OIDC_ISSUER; empty: local accounts only)"),
		clientID:   fs.String("oidc-client-id", env.Getenv("KHIEN_OIDC_CLIENT_ID"), "Khiên's client id at the provider (env KHIEN_OIDC_CLIENT_ID)"),
		secretFile: fs.String("oidc-client-secret-file", env.Getenv("KHIEN_OIDC_CLIENT_SECRET_FILE"), "file holding Khiên's client secret at the provider (env KHIEN_OIDC_CLIENT_SECRET_FILE)"),
		redirect:   fs.String("oidc-redirect-url", env.Getenv("KHIEN_OIDC_REDIRECT_URL"), "callback registered at the provider, https://HOST/login/oidc/callback (env KHIEN_OIDC_REDIRECT_URL; default: from the request's host)"),
		name:       fs.String("oidc-name", env.Getenv("KHIEN_OIDC_NAME"), "the provider's name on the sign-in page (env KHIEN_OIDC_NAME; default: the issuer's host)"),
	}
}

// provider returns the relying party the flags configure, nil when --oidc-issuer is not
// given. The provider is reached as everything else serve reaches: through the guard's fenced
// dialer (the --fence and --resolver of n, never the system's resolver, never a proxy from the
// environment), trusting n.Roots (from --ca-file) when given, else the system's roots.
// auth.NewOIDC makes the client follow no redirect.
func (o oidcFlags) provider(n app.Net) (*auth.OIDC, error) {
	if *o.issuer == "" {
		if *o.clientID != "" || *o.secretFile != "" || *o.redirect != "" {
			return nil, errs.Field("oidc-issuer", "is required with the other --oidc-… flags")
		}
		return nil, nil
	}
	if *o.clientID == "" || *o.secretFile == "" {
		return nil, errs.Field("oidc-client-id", "--oidc-client-id and --oidc-client-secret-file are required with --oidc-issuer")
	}
	b, err := os.ReadFile(*o.secretFile)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "cannot read --oidc-client-secret-file")
	}
	guard := scope.New(n.Fence, n.Resolver, n.Timeout)
	tr := &http.Transport{
		DialContext:         guard.DialFenced,
		Proxy:               nil,
		TLSClientConfig:     &tls.Config{RootCAs: n.Roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout:     90 * time.Second,
		MaxIdleConnsPerHost: 2,
	}
	p, err := auth.NewOIDC(auth.OIDCConfig{
		Issuer: *o.issuer, ClientID: *o.clientID, ClientSecret: strings.TrimSpace(string(b)),
		RedirectURL: *o.redirect, Name: *o.name,
		Client: &http.Client{Timeout: 10 * time.Second, Transport: tr},
	})
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "%s", err.Error())
	}
	return p, nil
}
