package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// OIDC is the relying party of one OpenID Connect provider: the authorization-code flow
// with PKCE (S256), a state bound to the browser and a nonce bound to the ID token. It learns
// the provider's endpoints from its discovery document at the first sign-in (so that Khiên
// starts while the provider is down) and verifies ID tokens with the keys of its JWKS,
// fetched again when a token names a key it does not know.
type OIDC struct {
	cfg    OIDCConfig
	secret string

	mu        sync.Mutex
	meta      *oidcMeta
	metaAt    time.Time
	metaErr   error     // the last failed read of discovery, while it is retried no sooner
	metaErrAt time.Time // than oidcMetaRetry after it
	keys      []jwtKey
	keysAt    time.Time
	keysErr   error
}

// OIDCConfig configures the relying party.
type OIDCConfig struct {
	// Issuer is the provider's issuer identifier, exactly as its ID tokens state it. It must
	// be https (http is accepted for a loopback address only, for tests and labs).
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is the callback registered with the provider,
	// https://khien.example.vn/login/oidc/callback. Empty: derived from each request's host.
	RedirectURL string
	// Name is how the sign-in page names the provider; default the issuer's host.
	Name string
	// Client makes the requests to the provider; nil means one with a 10-second timeout.
	// NewOIDC uses a copy that follows no redirect, whatever Client's CheckRedirect says.
	Client *http.Client
	Now    func() time.Time
}

// oidcMeta is what sign-in reads of the discovery document.
type oidcMeta struct {
	Issuer        string   `json:"issuer"`
	Authorization string   `json:"authorization_endpoint"`
	Token         string   `json:"token_endpoint"`
	JWKS          string   `json:"jwks_uri"`
	Algs          []string `json:"id_token_signing_alg_values_supported"`
	AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
}

// Timing of the relying party.
const (
	oidcSkew      = time.Minute      // clock difference tolerated on exp, iat and nbf
	oidcMaxAge    = 10 * time.Minute // an ID token issued longer ago is refused
	oidcMetaTTL   = time.Hour        // discovery is read again after this
	oidcMetaRetry = 30 * time.Second // and no sooner than this after a failed read
	oidcKeysWait  = time.Minute      // the JWKS is fetched at most this often for an unknown key
	maxOIDCBody   = 1 << 20
)

// NewOIDC checks cfg and returns the relying party. It makes no request.
func NewOIDC(cfg OIDCConfig) (*OIDC, error) {
	if err := checkProviderURL("issuer", cfg.Issuer); err != nil {
		return nil, err
	}
	if cfg.ClientID == "" {
		return nil, errors.New("OIDC: the client id is required")
	}
	if cfg.ClientSecret == "" {
		return nil, errors.New("OIDC: the client secret is required (read from --oidc-client-secret-file)")
	}
	if cfg.RedirectURL != "" {
		u, err := url.Parse(cfg.RedirectURL)
		if err != nil || u.Scheme != "https" && !(u.Scheme == "http" && loopbackHost(u.Hostname())) || u.Host == "" || u.Fragment != "" {
			return nil, fmt.Errorf("OIDC: the redirect URL %q must be an https URL (the callback, …/login/oidc/callback)", cfg.RedirectURL)
		}
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	// A redirect is never followed: it could take the JWKS (the trust anchor of every ID
	// token) from plain http or a host discovery never named, or post the token request, with
	// the client secret and the PKCE verifier, anywhere (307 and 308 re-send the body). The
	// 3xx itself is returned and do refuses it, naming the endpoint.
	c := *cfg.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.Client = &c
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Name == "" {
		u, _ := url.Parse(cfg.Issuer)
		cfg.Name = u.Hostname()
	}
	return &OIDC{cfg: cfg, secret: cfg.ClientSecret}, nil
}

// checkProviderURL accepts https URLs, and http ones on a loopback address.
func checkProviderURL(what, s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("OIDC: the %s %q is not an absolute URL", what, s)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && loopbackHost(u.Hostname())) {
		return fmt.Errorf("OIDC: the %s %q must be https", what, s)
	}
	return nil
}

func loopbackHost(h string) bool {
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Name is how pages name the provider.
func (o *OIDC) Name() string { return o.cfg.Name }

// Issuer is the provider's issuer identifier.
func (o *OIDC) Issuer() string { return o.cfg.Issuer }

// RedirectURL is the configured callback, or the one of host when none is configured.
func (o *OIDC) RedirectURL(host string) string {
	if o.cfg.RedirectURL != "" {
		return o.cfg.RedirectURL
	}
	return "https://" + host + "/login/oidc/callback"
}

// discover returns the provider's metadata, read at most once an hour. After a failed read
// it waits oidcMetaRetry before the next: meanwhile the metadata kept, if any, serves (the
// provider's hiccup does not stop sign-ins it can still serve), else the failure is returned
// again, so that a provider that is down is not asked at every sign-in, under the lock.
func (o *OIDC) discover(ctx context.Context) (*oidcMeta, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.cfg.Now()
	if o.meta != nil && now.Sub(o.metaAt) < oidcMetaTTL {
		return o.meta, nil
	}
	if o.metaErr != nil && now.Sub(o.metaErrAt) < oidcMetaRetry {
		if o.meta != nil {
			return o.meta, nil
		}
		return nil, o.metaErr
	}
	m, err := o.readMeta(ctx)
	if err != nil {
		if ctx.Err() == nil { // a sign-in given up on says nothing of the provider
			o.metaErr, o.metaErrAt = err, now
		}
		if o.meta != nil {
			return o.meta, nil
		}
		return nil, err
	}
	o.metaErr = nil
	if o.meta == nil || o.meta.JWKS != m.JWKS {
		o.keys, o.keysAt = nil, time.Time{}
	}
	o.meta, o.metaAt = m, now
	return o.meta, nil
}

// readMeta fetches and checks the discovery document.
func (o *OIDC) readMeta(ctx context.Context) (*oidcMeta, error) {
	var m oidcMeta
	if err := o.getJSON(ctx, strings.TrimSuffix(o.cfg.Issuer, "/")+"/.well-known/openid-configuration", &m); err != nil {
		return nil, fmt.Errorf("OIDC discovery: %w", err)
	}
	if m.Issuer != o.cfg.Issuer {
		return nil, fmt.Errorf("OIDC discovery: the provider says its issuer is %q, not %q", m.Issuer, o.cfg.Issuer)
	}
	for what, s := range map[string]string{"authorization_endpoint": m.Authorization, "token_endpoint": m.Token, "jwks_uri": m.JWKS} {
		if err := checkProviderURL(what, s); err != nil {
			return nil, fmt.Errorf("OIDC discovery: %w", err)
		}
	}
	return &m, nil
}

// getJSON fetches u and decodes its JSON body into v.
func (o *OIDC) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	return o.do(req, v)
}

func (o *OIDC) do(req *http.Request, v any) error {
	resp, err := o.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxOIDCBody))
	if err != nil {
		return fmt.Errorf("%s: %w", req.URL.Redacted(), err)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return fmt.Errorf("%s answered %s, a redirect to %q: redirects from the provider are not followed",
			req.URL.Redacted(), resp.Status, limit(resp.Header.Get("Location"), 200))
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
			Desc  string `json:"error_description"`
		}
		_ = json.Unmarshal(b, &e)
		return fmt.Errorf("%s answered %s %s %s", req.URL.Redacted(), resp.Status, e.Error, e.Desc)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", req.URL.Redacted(), err)
	}
	return nil
}

// limit cuts s to n bytes, for the provider's words in an error.
func limit(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// pkceChallenge is the S256 challenge of a PKCE verifier (RFC 7636).
func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// AuthURL is where to send the browser to sign in at the provider.
func (o *OIDC) AuthURL(ctx context.Context, redirectURL, state, nonce, verifier string) (string, error) {
	m, err := o.discover(ctx)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(m.Authorization)
	if err != nil {
		return "", fmt.Errorf("OIDC: authorization endpoint: %w", err)
	}
	q := u.Query()
	q.Set("response_type", "code")
	q.Set("client_id", o.cfg.ClientID)
	q.Set("redirect_uri", redirectURL)
	q.Set("scope", "openid email profile")
	q.Set("state", state)
	q.Set("nonce", nonce)
	q.Set("code_challenge", pkceChallenge(verifier))
	q.Set("code_challenge_method", "S256")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Exchange trades an authorization code for the ID token, proving the PKCE verifier and the
// client's secret (client_secret_basic, or client_secret_post when the provider takes only
// that).
func (o *OIDC) Exchange(ctx context.Context, redirectURL, code, verifier string) (string, error) {
	m, err := o.discover(ctx)
	if err != nil {
		return "", err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURL},
		"code_verifier": {verifier}, "client_id": {o.cfg.ClientID}}
	post := !slices.Contains(m.AuthMethods, "client_secret_basic") && slices.Contains(m.AuthMethods, "client_secret_post")
	if post {
		form.Set("client_secret", o.secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.Token, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if !post {
		req.SetBasicAuth(url.QueryEscape(o.cfg.ClientID), url.QueryEscape(o.secret))
	}
	var tok struct {
		IDToken string `json:"id_token"`
	}
	if err := o.do(req, &tok); err != nil {
		return "", fmt.Errorf("OIDC token exchange: %w", err)
	}
	if tok.IDToken == "" {
		return "", errors.New("OIDC token exchange: the provider returned no id_token")
	}
	return tok.IDToken, nil
}

// OIDCReason says why an ID token or a callback was refused: a short code that the audit log
// records and the sign-in page turns into a message.
type OIDCReason string

// The reasons a sign-in through the provider is refused.
const (
	ReasonState       OIDCReason = "state"        // the callback's state is not the browser's
	ReasonReplay      OIDCReason = "replay"       // the state was used already, or expired
	ReasonProvider    OIDCReason = "provider"     // the provider answered with an error
	ReasonExchange    OIDCReason = "exchange"     // the code could not be traded for a token
	ReasonToken       OIDCReason = "token"        // the token is malformed or its signature fails
	ReasonIssuer      OIDCReason = "issuer"       // the token is from another issuer
	ReasonAudience    OIDCReason = "audience"     // the token is for another client
	ReasonExpired     OIDCReason = "expired"      // the token expired, or was issued too long ago or in the future
	ReasonNonce       OIDCReason = "nonce"        // the token's nonce is not the one sent
	ReasonUnverified  OIDCReason = "unverified"   // the e-mail address is not verified by the provider
	ReasonNoAccount   OIDCReason = "no_account"   // no Khiên account is linked to the identity
	ReasonLinkedOther OIDCReason = "linked_other" // the account is linked to another identity of the provider
	ReasonDisabled    OIDCReason = "disabled"     // the account is disabled
	ReasonMFA         OIDCReason = "mfa"          // an administrator without a second factor
	ReasonTOTP        OIDCReason = "totp"         // a wrong local one-time code after the provider
	ReasonLocked      OIDCReason = "locked"       // too many wrong one-time codes
	// ReasonLinkRequired: an account with a second factor (an administrator's) is linked to
	// an identity by an operator only (khien user link-oidc), never by its e-mail address.
	ReasonLinkRequired OIDCReason = "link_required"
	// ReasonEmailASCII: an address outside ASCII is not matched to a login, lest case folding
	// make two mailboxes one (U+212A KELVIN SIGN lowers to k).
	ReasonEmailASCII OIDCReason = "email_ascii"
)

// OIDCError is a refused sign-in through the provider. Err, if any, is the detail for the
// log; Reason is all a page or the audit log shows.
type OIDCError struct {
	Reason OIDCReason
	Err    error
}

func (e *OIDCError) Error() string {
	if e.Err == nil {
		return "OIDC sign-in refused: " + string(e.Reason)
	}
	return "OIDC sign-in refused: " + string(e.Reason) + ": " + e.Err.Error()
}

func (e *OIDCError) Unwrap() error { return e.Err }

func refuse(r OIDCReason, format string, a ...any) error {
	return &OIDCError{Reason: r, Err: fmt.Errorf(format, a...)}
}

// Verify checks an ID token: its signature by a key of the provider's JWKS and an algorithm
// the provider announces, its issuer, its audience (and authorized party), its times within
// a minute's skew, and its nonce; and returns the identity it asserts.
func (o *OIDC) Verify(ctx context.Context, raw, nonce string) (Identity, error) {
	m, err := o.discover(ctx)
	if err != nil {
		return Identity{}, &OIDCError{Reason: ReasonExchange, Err: err}
	}
	algs := []string{"RS256"} // what the specification makes mandatory, when none is announced
	if len(m.Algs) > 0 {
		algs = nil
		for _, a := range m.Algs {
			if slices.Contains(signingAlgs, a) {
				algs = append(algs, a)
			}
		}
	}
	keys, err := o.jwks(ctx, m, false)
	if err != nil {
		return Identity{}, &OIDCError{Reason: ReasonToken, Err: err}
	}
	payload, err := verifyJWT(raw, keys, algs)
	if err != nil && o.mayRefetch() { // keys rotate: fetch them again, at most once a minute
		if keys, kerr := o.jwks(ctx, m, true); kerr == nil {
			payload, err = verifyJWT(raw, keys, algs)
		}
	}
	if err != nil {
		return Identity{}, &OIDCError{Reason: ReasonToken, Err: err}
	}
	var c idClaims
	if err := uniqueNames(payload); err != nil {
		return Identity{}, refuse(ReasonToken, "claims: %w", err)
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return Identity{}, refuse(ReasonToken, "claims: %w", err)
	}
	now := o.cfg.Now()
	switch {
	case c.Iss != o.cfg.Issuer:
		return Identity{}, refuse(ReasonIssuer, "issued by %q, not %q", c.Iss, o.cfg.Issuer)
	case !slices.Contains(c.Aud, o.cfg.ClientID):
		return Identity{}, refuse(ReasonAudience, "for %q, not the client %q", []string(c.Aud), o.cfg.ClientID)
	case len(c.Aud) > 1 && c.Azp != o.cfg.ClientID || c.Azp != "" && c.Azp != o.cfg.ClientID:
		return Identity{}, refuse(ReasonAudience, "authorized party %q, not the client %q", c.Azp, o.cfg.ClientID)
	case c.Exp == 0 || !now.Before(time.Unix(int64(c.Exp), 0).Add(oidcSkew)):
		return Identity{}, refuse(ReasonExpired, "expired at %d", c.Exp)
	case c.Iat == 0 || time.Unix(int64(c.Iat), 0).After(now.Add(oidcSkew)) || now.Sub(time.Unix(int64(c.Iat), 0)) > oidcMaxAge:
		return Identity{}, refuse(ReasonExpired, "issued at %d, not within %s of now", c.Iat, oidcMaxAge)
	case c.Nbf != 0 && time.Unix(int64(c.Nbf), 0).After(now.Add(oidcSkew)):
		return Identity{}, refuse(ReasonExpired, "not valid before %d", c.Nbf)
	case nonce == "" || subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(nonce)) != 1:
		return Identity{}, refuse(ReasonNonce, "the nonce is not the one sent")
	case c.Sub == "" || len(c.Sub) > 255:
		return Identity{}, refuse(ReasonToken, "the subject is empty or longer than 255 bytes")
	}
	return Identity{Issuer: c.Iss, Subject: c.Sub, Email: foldEmail(c.Email),
		EmailVerified: bool(c.EmailVerified), AMR: c.AMR}, nil
}

// foldEmail lowers an ASCII address. One with other characters is kept as it is: Unicode case
// mapping would make distinct mailboxes one (U+212A KELVIN SIGN lowers to k), and sign-in
// links no such address to a login.
func foldEmail(s string) string {
	s = strings.TrimSpace(s)
	if !asciiEmail(s) {
		return s
	}
	return strings.ToLower(s)
}

// mayRefetch reports whether the JWKS was fetched long enough ago to fetch it again.
func (o *OIDC) mayRefetch() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.cfg.Now().Sub(o.keysAt) >= oidcKeysWait
}

// jwks returns the provider's keys, fetching them when none are kept or fresh is set.
func (o *OIDC) jwks(ctx context.Context, m *oidcMeta, fresh bool) ([]jwtKey, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.keys != nil && !fresh {
		return o.keys, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.JWKS, nil)
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	o.keysAt = o.cfg.Now()
	if err := o.do(req, &raw); err != nil {
		return nil, fmt.Errorf("OIDC keys: %w", err)
	}
	keys, err := parseJWKS(raw)
	if err != nil {
		return nil, fmt.Errorf("OIDC keys from %s: %w", m.JWKS, err)
	}
	o.keys = keys
	return keys, nil
}

// Identity is who the provider says signed in, from a verified ID token.
type Identity struct {
	Issuer, Subject string
	Email           string // lower case when ASCII, else as the token states it; empty when the token has none
	EmailVerified   bool
	AMR             []string // how the provider authenticated the user (RFC 8176)
}

// strongAMR are the authentication methods (RFC 8176) that count as the second factor an
// administrator needs: multiple factors, a one-time password, a hardware key, a smart card.
var strongAMR = []string{"mfa", "otp", "hwk", "sc"}

// MFA reports whether the provider says the user signed in with a second factor.
func (id Identity) MFA() bool {
	for _, m := range id.AMR {
		if slices.Contains(strongAMR, m) {
			return true
		}
	}
	return false
}
