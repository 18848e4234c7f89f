package auth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/auth/oidctest"
	"github.com/khien-vn/khien/internal/errs"
)

// newRP is the relying party of the test provider p, on the clock of e.
func newRP(t *testing.T, e *env, p *oidctest.Provider) *auth.OIDC {
	t.Helper()
	rp, err := auth.NewOIDC(auth.OIDCConfig{Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		RedirectURL: "https://khien.test/login/oidc/callback", Now: e.now})
	if err != nil {
		t.Fatal(err)
	}
	return rp
}

func reasonOf(err error) auth.OIDCReason {
	if oe, ok := errors.AsType[*auth.OIDCError](err); ok {
		return oe.Reason
	}
	return ""
}

// TestOIDCVerify checks every refusal of an ID token, and that a good one passes.
func TestOIDCVerify(t *testing.T) {
	e := newEnv(t, auth.Config{SecretKey: secretKey})
	p := oidctest.New(t, e.now)
	rp := newRP(t, e, p)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Unix()
	b64 := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	claims := func() map[string]any {
		return map[string]any{"iss": p.Issuer, "sub": "sub-1", "aud": p.ClientID, "exp": now + 300, "iat": now, "nonce": "n-1",
			"email": "An@Example.vn", "email_verified": true}
	}
	tests := []struct {
		name   string
		tamper func(h, c map[string]any)
		raw    func() string // a token made by hand instead
		nonce  string
		want   auth.OIDCReason // "" for a token that passes
	}{
		{name: "good", tamper: func(h, c map[string]any) {}},
		{name: "another issuer", tamper: func(h, c map[string]any) { c["iss"] = "https://idp.example.vn" }, want: auth.ReasonIssuer},
		{name: "issuer with a trailing slash", tamper: func(h, c map[string]any) { c["iss"] = p.Issuer + "/" }, want: auth.ReasonIssuer},
		{name: "another audience", tamper: func(h, c map[string]any) { c["aud"] = "someone-else" }, want: auth.ReasonAudience},
		{name: "audiences without azp", tamper: func(h, c map[string]any) { c["aud"] = []string{p.ClientID, "x"} }, want: auth.ReasonAudience},
		{name: "audiences with azp", tamper: func(h, c map[string]any) { c["aud"] = []string{p.ClientID, "x"}; c["azp"] = p.ClientID }},
		{name: "azp of another client", tamper: func(h, c map[string]any) { c["azp"] = "x" }, want: auth.ReasonAudience},
		{name: "expired", tamper: func(h, c map[string]any) { c["exp"] = now - 120 }, want: auth.ReasonExpired},
		{name: "expired within the skew", tamper: func(h, c map[string]any) { c["exp"] = now - 30 }},
		{name: "no expiry", tamper: func(h, c map[string]any) { delete(c, "exp") }, want: auth.ReasonExpired},
		{name: "issued in the future", tamper: func(h, c map[string]any) { c["iat"] = now + 600 }, want: auth.ReasonExpired},
		{name: "issued long ago", tamper: func(h, c map[string]any) { c["iat"] = now - 3600; c["exp"] = now + 3600 }, want: auth.ReasonExpired},
		{name: "not yet valid", tamper: func(h, c map[string]any) { c["nbf"] = now + 600 }, want: auth.ReasonExpired},
		{name: "another nonce", tamper: func(h, c map[string]any) { c["nonce"] = "n-2" }, want: auth.ReasonNonce},
		{name: "no nonce", tamper: func(h, c map[string]any) { delete(c, "nonce") }, want: auth.ReasonNonce},
		{name: "no nonce sent, none in the token", tamper: func(h, c map[string]any) { delete(c, "nonce") }, nonce: "-", want: auth.ReasonNonce},
		{name: "no subject", tamper: func(h, c map[string]any) { c["sub"] = "" }, want: auth.ReasonToken},
		{name: "unknown key id", tamper: func(h, c map[string]any) { h["kid"] = "k9" }, want: auth.ReasonToken},
		{name: "critical header", tamper: func(h, c map[string]any) { h["crit"] = []string{"exp"} }, want: auth.ReasonToken},
		{name: "embedded key", tamper: func(h, c map[string]any) { h["jwk"] = oidctest.JWK(&other.PublicKey, "k1") }, want: auth.ReasonToken},
		{name: "alg none", raw: func() string {
			return b64(map[string]any{"alg": "none"}) + "." + b64(claims()) + "."
		}, want: auth.ReasonToken},
		{name: "alg HS256 keyed with the public key", raw: func() string {
			return b64(map[string]any{"alg": "HS256", "kid": "k1"}) + "." + b64(claims()) + "." + base64.RawURLEncoding.EncodeToString([]byte("x"))
		}, want: auth.ReasonToken},
		{name: "two parts", raw: func() string { return b64(map[string]any{"alg": "RS256"}) + "." + b64(claims()) }, want: auth.ReasonToken},
		{name: "padded base64", raw: func() string {
			good := p.Sign(claims())
			return good + "=="
		}, want: auth.ReasonToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.Tamper(tt.tamper)
			defer p.Tamper(nil)
			raw := ""
			if tt.raw != nil {
				raw = tt.raw()
			} else {
				raw = p.Sign(claims())
			}
			nonce := "n-1"
			if tt.nonce == "-" {
				nonce = ""
			}
			id, err := rp.Verify(t.Context(), raw, nonce)
			if got := reasonOf(err); got != tt.want || (tt.want == "") != (err == nil) {
				t.Fatalf("Verify = %+v, %v (reason %q); want reason %q", id, err, got, tt.want)
			}
			if err == nil && (id.Subject != "sub-1" || id.Issuer != p.Issuer || id.Email != "an@example.vn" || !id.EmailVerified) {
				t.Errorf("identity = %+v", id)
			}
		})
	}

	t.Run("signed by another key", func(t *testing.T) {
		p.SignWith(other)
		defer p.SignWith(nil)
		if _, err := rp.Verify(t.Context(), p.Sign(claims()), "n-1"); reasonOf(err) != auth.ReasonToken {
			t.Fatalf("Verify = %v; want a token refusal", err)
		}
	})
	t.Run("a flipped bit of the signature", func(t *testing.T) {
		raw := []byte(p.Sign(claims()))
		i := len(raw) - 10
		raw[i] ^= 1
		if raw[i] == '-' || raw[i] == '_' || raw[i] < '0' { // stay within the alphabet
			raw[i] = 'A'
		}
		if _, err := rp.Verify(t.Context(), string(raw), "n-1"); reasonOf(err) != auth.ReasonToken {
			t.Fatalf("Verify = %v; want a token refusal", err)
		}
	})
}

// TestOIDCConfig refuses configurations that would send secrets in the clear or nowhere.
func TestOIDCConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  auth.OIDCConfig
		ok   bool
	}{
		{"https", auth.OIDCConfig{Issuer: "https://idp.example.vn/realms/k", ClientID: "k", ClientSecret: "s"}, true},
		{"http on loopback", auth.OIDCConfig{Issuer: "http://127.0.0.1:9000", ClientID: "k", ClientSecret: "s"}, true},
		{"http elsewhere", auth.OIDCConfig{Issuer: "http://idp.example.vn", ClientID: "k", ClientSecret: "s"}, false},
		{"no client id", auth.OIDCConfig{Issuer: "https://idp.example.vn", ClientSecret: "s"}, false},
		{"no secret", auth.OIDCConfig{Issuer: "https://idp.example.vn", ClientID: "k"}, false},
		{"relative", auth.OIDCConfig{Issuer: "idp.example.vn", ClientID: "k", ClientSecret: "s"}, false},
		{"redirect over http", auth.OIDCConfig{Issuer: "https://idp.example.vn", ClientID: "k", ClientSecret: "s", RedirectURL: "http://khien.example.vn/login/oidc/callback"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := auth.NewOIDC(tt.cfg); (err == nil) != tt.ok {
				t.Errorf("NewOIDC = %v; want ok %v", err, tt.ok)
			}
		})
	}
}

// TestOIDCStateOnce checks that a state is taken once, and not after it expires.
func TestOIDCStateOnce(t *testing.T) {
	e := newEnv(t, auth.Config{SecretKey: secretKey})
	s, err := e.a.StartOIDC(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.a.TakeOIDC(t.Context(), s.State)
	if err != nil || p.Nonce != s.Nonce || p.Verifier != s.Verifier {
		t.Fatalf("TakeOIDC = %+v, %v", p, err)
	}
	if _, err := e.a.TakeOIDC(t.Context(), s.State); reasonOf(err) != auth.ReasonReplay {
		t.Errorf("second TakeOIDC = %v; want a replay refusal", err)
	}
	s2, _ := e.a.StartOIDC(t.Context())
	e.clock = e.clock.Add(11 * time.Minute)
	if _, err := e.a.TakeOIDC(t.Context(), s2.State); reasonOf(err) != auth.ReasonReplay {
		t.Errorf("TakeOIDC after 11 minutes = %v; want a replay refusal", err)
	}
	if _, err := e.a.TakeOIDC(t.Context(), "made-up"); reasonOf(err) != auth.ReasonReplay {
		t.Errorf("TakeOIDC of a made-up state = %v; want a replay refusal", err)
	}
}

// TestOIDCSignIn checks how identities map to accounts: by link, by verified e-mail at the
// first sign-in, never by an unverified one; and the second factor of administrators.
func TestOIDCSignIn(t *testing.T) {
	e := newEnv(t, auth.Config{SecretKey: secretKey})
	ctx := t.Context()
	const iss = "https://idp.example.vn"
	officer, _ := e.user(t, "lan@hn.gov.vn", auth.SecurityOfficer, "HN")
	admin, adminTOTP := e.user(t, "quan@hn.gov.vn", auth.OrgAdmin, "HN")
	e.user(t, "mai@dn.gov.vn", auth.Auditor, "DN")
	e.user(t, "karen@hn.gov.vn", auth.SecurityOfficer, "HN")
	cl := auth.OIDCClient{ClientIP: "192.0.2.7"}

	signIn := func(id auth.Identity) (auth.NewSession, string, error) {
		t.Helper()
		return e.a.OIDCSignIn(ctx, id, cl)
	}
	refusals := []struct {
		name string
		id   auth.Identity
		want auth.OIDCReason
	}{
		{"unverified e-mail", auth.Identity{Issuer: iss, Subject: "s-lan", Email: "lan@hn.gov.vn"}, auth.ReasonUnverified},
		{"no e-mail", auth.Identity{Issuer: iss, Subject: "s-lan", EmailVerified: true}, auth.ReasonNoAccount},
		{"no such account", auth.Identity{Issuer: iss, Subject: "s-x", Email: "x@hn.gov.vn", EmailVerified: true}, auth.ReasonNoAccount},
		// An administrator's identity is linked by an operator only, with or without the
		// provider's second factor: a link by e-mail would be made before the local one.
		{"administrator by e-mail", auth.Identity{Issuer: iss, Subject: "s-quan", Email: "quan@hn.gov.vn", EmailVerified: true},
			auth.ReasonLinkRequired},
		{"administrator by e-mail with mfa", auth.Identity{Issuer: iss, Subject: "s-quan", Email: "quan@hn.gov.vn", EmailVerified: true,
			AMR: []string{"pwd", "mfa"}}, auth.ReasonLinkRequired},
		// Unicode case folding would make K (U+212A KELVIN SIGN) k: not ASCII, not matched.
		{"address outside ASCII", auth.Identity{Issuer: iss, Subject: "s-kelvin", Email: "\u212Aaren@hn.gov.vn", EmailVerified: true},
			auth.ReasonEmailASCII},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			if ns, _, err := signIn(tt.id); reasonOf(err) != tt.want {
				t.Fatalf("OIDCSignIn = %+v, %v; want reason %q", ns, err, tt.want)
			}
		})
	}

	// The first sign-in links by the verified address; then the link alone counts.
	ns, step, err := signIn(auth.Identity{Issuer: iss, Subject: "s-lan", Email: "LAN@hn.gov.vn", EmailVerified: true})
	if err != nil || step != "" || ns.User.ID != officer.ID || ns.ID == "" {
		t.Fatalf("first sign-in = %+v, %q, %v", ns, step, err)
	}
	pr, err := e.a.SessionPrincipal(ctx, ns.ID)
	if err != nil || pr.Role != auth.SecurityOfficer || pr.Scope != "HN" {
		t.Fatalf("session principal = %+v, %v", pr, err)
	}
	ns2, _, err := signIn(auth.Identity{Issuer: iss, Subject: "s-lan", Email: "other@elsewhere.vn"})
	if err != nil || ns2.User.ID != officer.ID || ns2.ID == ns.ID {
		t.Fatalf("sign-in by the link = %+v, %v", ns2, err)
	}
	// Another identity of the same provider claiming the same address is refused.
	if _, _, err := signIn(auth.Identity{Issuer: iss, Subject: "s-intruder", Email: "lan@hn.gov.vn", EmailVerified: true}); reasonOf(err) != auth.ReasonLinkedOther {
		t.Errorf("second identity = %v; want %q", err, auth.ReasonLinkedOther)
	}

	// No e-mail refusal of the administrator left a link behind.
	if links, err := e.db.OIDCLinks(ctx, admin.ID); err != nil || len(links) != 0 {
		t.Fatalf("links of the administrator after refusals = %+v, %v; want none", links, err)
	}
	// An administrator, linked by an operator: the provider's word on a second factor, or the
	// local code after it.
	if _, err := e.a.LinkOIDC(operator(t), admin.ID, iss, "s-quan"); err != nil {
		t.Fatal(err)
	}
	ns, step, err = signIn(auth.Identity{Issuer: iss, Subject: "s-quan", Email: "quan@hn.gov.vn", EmailVerified: true, AMR: []string{"pwd", "mfa"}})
	if err != nil || step != "" || ns.User.ID != admin.ID {
		t.Fatalf("admin with mfa = %+v, %q, %v", ns, step, err)
	}
	_, step, err = signIn(auth.Identity{Issuer: iss, Subject: "s-quan", AMR: []string{"pwd"}})
	if err != nil || step == "" {
		t.Fatalf("admin without mfa = %q, %v; want a step-up token", step, err)
	}
	if _, err := e.a.OIDCTOTP(ctx, step, "000000", cl); reasonOf(err) != auth.ReasonTOTP {
		t.Errorf("wrong code = %v; want %q", err, auth.ReasonTOTP)
	}
	code, _ := auth.TOTP(adminTOTP, e.clock)
	if _, err := e.a.OIDCTOTP(ctx, step, code, cl); reasonOf(err) != auth.ReasonReplay {
		t.Errorf("a step-up token used twice = %v; want %q", err, auth.ReasonReplay)
	}
	_, step, _ = signIn(auth.Identity{Issuer: iss, Subject: "s-quan"})
	if ns, err = e.a.OIDCTOTP(ctx, step, code, cl); err != nil || ns.User.ID != admin.ID {
		t.Fatalf("right code = %+v, %v", ns, err)
	}
	// The sign-in finished with the local code names the provider's identity it came with.
	if es, _, err := e.db.AuditEntries(ctx, audit.Filter{ObjectType: "user", ObjectID: admin.ID, Action: "user.signin"}); err != nil || len(es) == 0 ||
		!strings.Contains(es[0].After, `"second_factor":"totp"`) || !strings.Contains(es[0].After, `"subject":"s-quan"`) || !strings.Contains(es[0].After, `"issuer":"`+iss+`"`) {
		t.Errorf("the step-up sign-in's audit entry = %+v, %v; want the issuer and subject", es, err)
	}
	// A step-up token is no state, and a state no step-up token.
	_, step, _ = signIn(auth.Identity{Issuer: iss, Subject: "s-quan"})
	if _, err := e.a.TakeOIDC(ctx, step); reasonOf(err) != auth.ReasonState {
		t.Errorf("a step-up token as a state = %v", err)
	}
	st, _ := e.a.StartOIDC(ctx)
	if _, err := e.a.OIDCTOTP(ctx, st.State, code, cl); reasonOf(err) != auth.ReasonState {
		t.Errorf("a state as a step-up token = %v", err)
	}

	// A disabled account signs in no more.
	if _, _, err := e.a.UpdateUser(operator(t), officer.ID, auth.UserChange{Role: officer.Role, Org: officer.Org, Disabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := signIn(auth.Identity{Issuer: iss, Subject: "s-lan"}); reasonOf(err) != auth.ReasonDisabled {
		t.Errorf("disabled = %v; want %q", err, auth.ReasonDisabled)
	}

	// The audit log has each sign-in with its method, and each refusal with its reason.
	entries, _, err := e.db.AuditEntries(ctx, audit.Filter{ObjectType: "user"})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, en := range entries {
		switch en.Action {
		case "user.signin", "user.signin_failed", "user.link_oidc":
			if !strings.Contains(en.After, `"method":"oidc"`) && en.Action != "user.link_oidc" {
				t.Errorf("entry %d %s does not say the method: %s", en.Seq, en.Action, en.After)
			}
			var after map[string]any
			_ = json.Unmarshal([]byte(en.After), &after)
			count[en.Action+" "+str(after["reason"])]++
		}
	}
	for k, n := range map[string]int{"user.signin ": 4, "user.link_oidc ": 2, "user.signin_failed unverified": 1,
		"user.signin_failed no_account": 2, "user.signin_failed linked_other": 1, "user.signin_failed totp": 1,
		"user.signin_failed disabled": 1, "user.signin_failed link_required": 2, "user.signin_failed email_ascii": 1} {
		if count[k] != n {
			t.Errorf("audit log has %d entries %q, want %d (all: %v)", count[k], k, n, count)
		}
	}
}

func str(v any) string { s, _ := v.(string); return s }

// TestLinkOIDC checks the operator's link and the scope of an organization administrator's.
func TestLinkOIDC(t *testing.T) {
	e := newEnv(t, auth.Config{SecretKey: secretKey})
	const iss = "https://idp.example.vn"
	hn, _ := e.user(t, "lan", auth.SecurityOfficer, "HN")
	dnAdmin, _ := e.user(t, "dn-admin", auth.OrgAdmin, "DN")
	if _, err := e.a.LinkOIDC(operator(t), hn.ID, iss, "s-1"); err != nil {
		t.Fatal(err)
	}
	ns, _, err := e.a.OIDCSignIn(t.Context(), auth.Identity{Issuer: iss, Subject: "s-1"}, auth.OIDCClient{})
	if err != nil || ns.User.ID != hn.ID {
		t.Fatalf("sign-in by the operator's link = %+v, %v", ns, err)
	}
	tests := []struct {
		name            string
		as              auth.User
		user, iss, sub  string
		kind            errs.Kind
		operatorInstead bool
	}{
		{name: "linked already", user: hn.ID, iss: iss, sub: "s-1", kind: errs.Conflict, operatorInstead: true},
		{name: "not an issuer URL", user: hn.ID, iss: "idp", sub: "s-2", kind: errs.Invalid, operatorInstead: true},
		{name: "no subject", user: hn.ID, iss: iss, sub: " ", kind: errs.Invalid, operatorInstead: true},
		{name: "outside the subtree", as: dnAdmin, user: hn.ID, iss: iss, sub: "s-3", kind: errs.NotFound},
		{name: "no such user", user: "u-none", iss: iss, sub: "s-4", kind: errs.NotFound, operatorInstead: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := operator(t)
			if !tt.operatorInstead {
				ctx = as(t, tt.as)
			}
			if _, err := e.a.LinkOIDC(ctx, tt.user, tt.iss, tt.sub); errs.KindOf(err) != tt.kind {
				t.Errorf("LinkOIDC = %v; want kind %v", err, tt.kind)
			}
		})
	}
}
