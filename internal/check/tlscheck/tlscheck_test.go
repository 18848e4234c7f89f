package tlscheck

import (
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
)

// Observation literals: each check's Evaluate is a pure function of them.

var at = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// proto is a version that accepted suites (none: refused with an alert).
func proto(v uint16, suites ...uint16) Protocol {
	p := Protocol{Version: v, Accepted: len(suites) > 0, Suites: suites, Offered: offerFor(v)}
	for range suites {
		p.Probes = append(p.Probes, Probe{Offered: len(p.Offered), Answer: "server_hello"})
	}
	p.Probes = append(p.Probes, Probe{Offered: len(p.Offered) - len(suites), Answer: "alert 40 handshake_failure"})
	return p
}

func broken(v uint16) Protocol {
	return Protocol{Version: v, Error: "read tcp: i/o timeout", Probes: []Probe{{Answer: "error: read tcp: i/o timeout"}}}
}

func goodCert() *Cert {
	return &Cert{
		Via: "crypto/tls TLS 1.3 TLS_AES_128_GCM_SHA256",
		Chain: []CertInfo{
			{Subject: "CN=www.lab.khien.test", Issuer: "CN=Lab CA", SHA256: "aa", NotBefore: at.AddDate(0, -1, 0), NotAfter: at.AddDate(0, 2, 0), SignatureAlgorithm: "ECDSA-SHA256"},
			{Subject: "CN=Lab Intermediate", Issuer: "CN=Lab CA", SHA256: "bb", NotBefore: at.AddDate(-1, 0, 0), NotAfter: at.AddDate(4, 0, 0), SignatureAlgorithm: "ECDSA-SHA256"},
			{Subject: "CN=Lab CA", Issuer: "CN=Lab CA", SHA256: "cc", NotBefore: at.AddDate(-10, 0, 0), NotAfter: at.AddDate(0, 0, -1), SignatureAlgorithm: "SHA1-RSA", SelfSigned: true},
		},
		KeyType: "ECDSA", KeyBits: 256, DNSNames: []string{"www.lab.khien.test"},
	}
}

// modern is an endpoint of a good server: TLS 1.2 (ECDHE) and 1.3, good certificate.
func modern(ip string) Endpoint {
	return Endpoint{
		Name: "www.lab.khien.test", IP: ip, Port: 443, SNI: "www.lab.khien.test", Reach: Reached,
		Protocols: []Protocol{
			proto(VersionSSL30), proto(VersionTLS10), proto(VersionTLS11),
			proto(VersionTLS12, 0xC02B, 0xC02C, 0xCCA9), proto(VersionTLS13, 0x1301, 0x1302, 0x1303),
		},
		Cert: goodCert(),
	}
}

// legacy accepts SSL 3.0 to TLS 1.1, RSA key exchange and weak suites, no TLS 1.2 or 1.3.
func legacy(ip string) Endpoint {
	e := modern(ip)
	e.Protocols = []Protocol{
		proto(VersionSSL30, 0x002F, 0x000A, 0x0005, 0x0001),
		proto(VersionTLS10, 0x002F, 0x0033, 0x000A),
		proto(VersionTLS11, 0x002F),
		proto(VersionTLS12), proto(VersionTLS13),
	}
	return e
}

func obs(eps ...Endpoint) Observation {
	return Observation{Resource: "dns:www.lab.khien.test", Host: "www.lab.khien.test", Port: 443, CheckName: true, TrustStore: "configured", At: at, Endpoints: eps}
}

func with(e Endpoint, f func(*Endpoint)) Endpoint {
	c := *e.Cert
	c.Chain = append([]CertInfo(nil), c.Chain...)
	e.Cert = &c
	e.Protocols = append([]Protocol(nil), e.Protocols...)
	f(&e)
	return e
}

func TestEvaluate(t *testing.T) {
	const ip1, ip2 = "192.0.2.1", "192.0.2.2" // literals only: nothing is dialled here
	good := modern(ip1)
	def := GradingFor(check.ProfileKhien)
	tests := []struct {
		name     string
		eval     func(Observation) check.Result
		o        Observation
		want     check.Status
		endpoint string // deciding endpoint, "" to skip
		reason   string // substring of the English reason
	}{
		{"ssl3 pass", def.accepted(VersionSSL30), obs(good), check.Pass, "www.lab.khien.test|192.0.2.1:443", "does not accept SSL 3.0 (answer: alert 40"},
		{"ssl3 fail", def.accepted(VersionSSL30), obs(legacy(ip1)), check.Fail, "", "accepts SSL 3.0 with 4 cipher suites"},
		{"ssl3 error", def.accepted(VersionSSL30), obs(with(good, func(e *Endpoint) { e.Protocols[0] = broken(VersionSSL30) })), check.Error, "", "i/o timeout"},
		{"tls10 fail", def.accepted(VersionTLS10), obs(legacy(ip1)), check.Fail, "", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"},
		{"tls11 pass", def.accepted(VersionTLS11), obs(good), check.Pass, "", "does not accept TLS 1.1"},
		{"tls11 fail", def.accepted(VersionTLS11), obs(legacy(ip1)), check.Fail, "", "accepts TLS 1.1"},
		{"worst endpoint decides", def.accepted(VersionSSL30), obs(modern(ip1), legacy(ip2)), check.Fail, "www.lab.khien.test|192.0.2.2:443", "(1 of 2 addresses"},
		{"fail beats error", def.accepted(VersionSSL30), obs(with(good, func(e *Endpoint) { e.Protocols[0] = broken(VersionSSL30) }), legacy(ip2)), check.Fail, "www.lab.khien.test|192.0.2.2:443", ""},
		{"tls13 pass", def.noTLS13, obs(good), check.Pass, "", "offers TLS 1.3"},
		{"tls13 fail", def.noTLS13, obs(legacy(ip1)), check.Fail, "", "does not offer TLS 1.3"},
		{"tls13 error", def.noTLS13, obs(with(good, func(e *Endpoint) { e.Protocols[4] = broken(VersionTLS13) })), check.Error, "", "Could not tell"},

		{"weak pass", def.weakCiphers, obs(good), check.Pass, "", "accepts no weak cipher suite"},
		{"weak fail", def.weakCiphers, obs(legacy(ip1)), check.Fail, "", "3 weak cipher suites: TLS_RSA_WITH_3DES_EDE_CBC_SHA, TLS_RSA_WITH_RC4_128_SHA, TLS_RSA_WITH_NULL_MD5"},
		{"weak only in tls12, not preferred", def.weakCiphers, obs(with(good, func(e *Endpoint) { e.Protocols[3] = proto(VersionTLS12, 0xC02B, 0xC012) })), check.Fail, "", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"},
		{"weak unknown when a version failed", def.weakCiphers, obs(with(good, func(e *Endpoint) { e.Protocols[1] = broken(VersionTLS10) })), check.Error, "", "TLS 1.0: read tcp"},

		{"fs pass tls13", def.noForwardSecrecy, obs(good), check.Pass, "", "negotiates TLS 1.3"},
		{"fs pass tls12 ecdhe", def.noForwardSecrecy, obs(with(good, func(e *Endpoint) { e.Protocols[4] = proto(VersionTLS13) })), check.Pass, "", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, which has forward secrecy"},
		{"fs fail none", def.noForwardSecrecy, obs(with(good, func(e *Endpoint) {
			e.Protocols[3], e.Protocols[4] = proto(VersionTLS12, 0x009C, 0x002F), proto(VersionTLS13)
		})), check.Fail, "", "accepts no cipher suite with forward secrecy"},
		{"fs fail preferred rsa", def.noForwardSecrecy, obs(legacy(ip1)), check.Fail, "", "although it accepts TLS_DHE_RSA_WITH_AES_128_CBC_SHA"},
		{"fs error when a newer version is unknown", def.noForwardSecrecy, obs(with(good, func(e *Endpoint) {
			e.Protocols[3], e.Protocols[4] = proto(VersionTLS12, 0x009C), broken(VersionTLS13)
		})), check.Error, "", "TLS 1.3"},

		{"expired pass", def.certExpired, obs(good), check.Pass, "", "valid until"},
		{"expired fail", def.certExpired, obs(with(good, func(e *Endpoint) { e.Cert.Chain[0].NotAfter = at.Add(-time.Hour) })), check.Fail, "", "expired on 2026-11-20"},
		{"not yet valid", def.certExpired, obs(with(good, func(e *Endpoint) { e.Cert.Chain[0].NotBefore = at.Add(time.Hour) })), check.Fail, "", "not valid before"},
		{"expired intermediate", def.certExpired, obs(with(good, func(e *Endpoint) { e.Cert.Chain[1].NotAfter = at.AddDate(0, 0, -2) })), check.Fail, "", "intermediate certificate"},
		{"expiring pass", def.certExpiring, obs(good), check.Pass, "", "days left"},
		{"expiring fail", def.certExpiring, obs(with(good, func(e *Endpoint) { e.Cert.Chain[0].NotAfter = at.AddDate(0, 0, 10) })), check.Fail, "", "in 10 days"},
		{"expiring n/a when expired", def.certExpiring, obs(with(good, func(e *Endpoint) { e.Cert.Chain[0].NotAfter = at.AddDate(0, 0, -1) })), check.NotApplicable, "", "see tls.cert.expired"},
		{"expiring intermediate", def.certExpiring, obs(with(good, func(e *Endpoint) { e.Cert.Chain[1].NotAfter = at.AddDate(0, 0, 20) })), check.Fail, "", "intermediate certificate"},

		{"trusted", def.certUntrusted, obs(good), check.Pass, "", "verifies against the configured trust store"},
		{"untrusted", def.certUntrusted, obs(with(good, func(e *Endpoint) { e.Cert.VerifyError = "x509: certificate signed by unknown authority" })), check.Fail, "", "unknown authority"},
		{"hostname pass", def.certHostname, obs(good), check.Pass, "", "covers www.lab.khien.test"},
		{"hostname fail", def.certHostname, obs(with(good, func(e *Endpoint) {
			e.Cert.HostError, e.Cert.DNSNames = "x509: certificate is valid for wrong.lab.khien.test", []string{"wrong.lab.khien.test"}
		})), check.Fail, "", "does not cover www.lab.khien.test (it names: wrong.lab.khien.test)"},
		{"hostname n/a for an address", def.certHostname, func() Observation { o := obs(good); o.CheckName = false; return o }(), check.NotApplicable, "", "IP address"},

		{"weak key pass", def.certWeakKey, obs(good), check.Pass, "", "256-bit ECDSA"},
		{"weak key rsa 1024", def.certWeakKey, obs(with(good, func(e *Endpoint) { e.Cert.KeyType, e.Cert.KeyBits = "RSA", 1024 })), check.Fail, "", "1024-bit RSA key, under the 2048-bit minimum"},
		{"weak key ec 224", def.certWeakKey, obs(with(good, func(e *Endpoint) { e.Cert.KeyBits = 224 })), check.Fail, "", "under the 256-bit minimum"},
		{"rsa 2048 pass", def.certWeakKey, obs(with(good, func(e *Endpoint) { e.Cert.KeyType, e.Cert.KeyBits = "RSA", 2048 })), check.Pass, "", "2048-bit RSA"},
		{"ed25519 pass", def.certWeakKey, obs(with(good, func(e *Endpoint) { e.Cert.KeyType, e.Cert.KeyBits = "Ed25519", 256 })), check.Pass, "", ""},

		{"signature pass, sha1 root exempt", def.certWeakSignature, obs(good), check.Pass, "", "signed with ECDSA-SHA256"},
		{"signature sha1 leaf", def.certWeakSignature, obs(with(good, func(e *Endpoint) { e.Cert.Chain[0].SignatureAlgorithm = "SHA1-RSA" })), check.Fail, "", "signed with SHA1-RSA"},
		{"signature md5 intermediate", def.certWeakSignature, obs(with(good, func(e *Endpoint) { e.Cert.Chain[1].SignatureAlgorithm = "MD5-RSA" })), check.Fail, "", "intermediate certificate"},

		{"refused is not applicable", def.accepted(VersionTLS10), obs(Endpoint{IP: ip1, Port: 443, Reach: Refused, Error: "connection refused"}), check.NotApplicable, "192.0.2.1:443", "Nothing listens"},
		{"refused and reached", def.weakCiphers, obs(Endpoint{Name: "www.lab.khien.test", IP: ip1, Port: 443, Reach: Refused}, legacy(ip2)), check.Fail, "www.lab.khien.test|192.0.2.2:443", ""},
		{"unreachable is an error", def.certExpired, obs(Endpoint{IP: ip1, Port: 443, Reach: Unreachable, Error: "i/o timeout"}), check.Error, "", "Could not connect"},
		{"no tls at all", def.noTLS13, obs(Endpoint{IP: ip1, Port: 443, Reach: Reached, Protocols: []Protocol{proto(VersionSSL30), proto(VersionTLS13)}}), check.NotApplicable, "", "completes no TLS handshake"},
		{"no tls, probing failed", def.noTLS13, obs(Endpoint{IP: ip1, Port: 443, Reach: Reached, Protocols: []Protocol{broken(VersionTLS12)}}), check.Error, "", "Could not finish probing"},
		{"no certificate", def.certUntrusted, obs(with(good, func(e *Endpoint) { e.Cert, e.CertError = nil, "EOF" })), check.Error, "", "Could not obtain the certificate"},
		{"no endpoints", def.certUntrusted, obs(), check.NotApplicable, "", "no address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.eval(tt.o)
			if got.Status != tt.want {
				t.Fatalf("status = %s (%s), want %s", got.Status, got.Reason.EN, tt.want)
			}
			if tt.endpoint != "" && got.Endpoint != tt.endpoint {
				t.Errorf("endpoint = %q, want %q", got.Endpoint, tt.endpoint)
			}
			if !strings.Contains(got.Reason.EN, tt.reason) {
				t.Errorf("reason = %q, want it to contain %q", got.Reason.EN, tt.reason)
			}
			if got.Reason.VI == "" || got.Reason.VI == got.Reason.EN {
				t.Errorf("reason has no Vietnamese text: %q", got.Reason.VI)
			}
			if len(tt.o.Endpoints) > 0 {
				eps, _ := got.Evidence["endpoints"].([]map[string]any)
				if len(eps) != len(tt.o.Endpoints) {
					t.Errorf("evidence has %d endpoints, want %d", len(eps), len(tt.o.Endpoints))
				}
			}
		})
	}
}

// TestFamilyIDs keeps the family's checks equal to the tls entries of the catalog.
func TestFamilyIDs(t *testing.T) {
	cat, err := check.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, d := range cat.All() {
		if d.Family() == "tls" {
			want = append(want, d.ID)
		}
	}
	got := Family().CheckIDs()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Family().CheckIDs() = %v, want the catalog's %v", got, want)
	}
	for _, d := range cat.All() {
		if d.Family() != "tls" {
			continue
		}
		if strings.Contains(d.Remediation.VI+d.Remediation.EN+d.Detect, "TODO") || len(d.References) == 0 {
			t.Errorf("%s: catalog entry is unfinished (remediation, detect or references)", d.ID)
		}
	}
}
