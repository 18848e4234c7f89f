package tlscheck

import (
	"fmt"
	"strings"
)

// Protocol versions as they appear on the wire.
const (
	VersionSSL30 uint16 = 0x0300
	VersionTLS10 uint16 = 0x0301
	VersionTLS11 uint16 = 0x0302
	VersionTLS12 uint16 = 0x0303
	VersionTLS13 uint16 = 0x0304
)

// Versions lists the protocol versions the family probes, oldest first.
var Versions = []uint16{VersionSSL30, VersionTLS10, VersionTLS11, VersionTLS12, VersionTLS13}

// VersionName returns "SSL 3.0", "TLS 1.2"… or the hex code of an unknown version.
func VersionName(v uint16) string {
	switch v {
	case VersionSSL30:
		return "SSL 3.0"
	case VersionTLS10:
		return "TLS 1.0"
	case VersionTLS11:
		return "TLS 1.1"
	case VersionTLS12:
		return "TLS 1.2"
	case VersionTLS13:
		return "TLS 1.3"
	case 0x0200:
		return "SSL 2.0"
	}
	return fmt.Sprintf("0x%04x", v)
}

// Weakness classes of cipher suites: the reasons a suite is in tls.cipher.weak.
const (
	ClassNULL   = "NULL"   // no encryption at all
	ClassExport = "EXPORT" // 40/56-bit export-grade keys (FREAK, Logjam)
	ClassAnon   = "anon"   // no server authentication: anyone in the path can impersonate
	ClassRC4    = "RC4"    // RFC 7465 prohibits it
	ClassDES    = "DES"    // 56-bit single DES, broken by brute force
	Class3DES   = "3DES"   // 64-bit block cipher, SWEET32 (CVE-2016-2183)
)

// Suite describes one cipher suite: its IANA code point and name and what it is made of.
type Suite struct {
	Code uint16
	Name string // IANA name
	Kx   string // key exchange: RSA, DHE, ECDHE, DH, ECDH, or "any" for TLS 1.3
	Auth string // authentication: RSA, DSS, ECDSA, anon, or "any" for TLS 1.3
	Enc  string // bulk cipher: AES_128_GCM, 3DES_EDE_CBC, RC4_128, NULL…
	Bits int    // effective symmetric key strength in bits (0 for NULL, 112 for 3DES)
	// MinVersion is the first protocol that defines the suite (TLS 1.2 for AEAD and SHA-256
	// MACs); TLS 1.3 suites are offered in TLS 1.3 hellos only.
	MinVersion uint16
	Export     bool
}

// Classes returns the weakness classes of s, none for a sound suite.
func (s Suite) Classes() []string {
	var c []string
	if s.Enc == "NULL" {
		c = append(c, ClassNULL)
	}
	if s.Export {
		c = append(c, ClassExport)
	}
	if s.Auth == "anon" {
		c = append(c, ClassAnon)
	}
	switch {
	case strings.HasPrefix(s.Enc, "RC4"):
		c = append(c, ClassRC4)
	case strings.HasPrefix(s.Enc, "3DES"):
		c = append(c, Class3DES)
	case strings.HasPrefix(s.Enc, "DES"):
		c = append(c, ClassDES)
	}
	return c
}

// Weak reports whether s belongs to any weakness class.
func (s Suite) Weak() bool { return len(s.Classes()) > 0 }

// ForwardSecret reports whether s agrees keys with an authenticated ephemeral exchange, so a
// stolen server key does not decrypt recorded traffic. Every TLS 1.3 suite does.
func (s Suite) ForwardSecret() bool {
	if s.MinVersion == VersionTLS13 {
		return true
	}
	return (s.Kx == "ECDHE" || s.Kx == "DHE") && s.Auth != "anon"
}

// suites is written from the IANA "TLS Cipher Suites" registry (RFC 5246, 4492, 5288, 5289,
// 7905, 6655, 5932, 8446, 2246 and 4346 for the export suites) for the suites Khiên offers.
// The order is the offer order: what a modern client would prefer first, the weak ones last,
// so that a server honouring the client's order negotiates what a browser would get, and
// elimination still reaches every weak suite the server accepts.
var suites = []Suite{
	// TLS 1.3 (RFC 8446): negotiated only by TLS 1.3 hellos.
	{0x1301, "TLS_AES_128_GCM_SHA256", "any", "any", "AES_128_GCM", 128, VersionTLS13, false},
	{0x1302, "TLS_AES_256_GCM_SHA384", "any", "any", "AES_256_GCM", 256, VersionTLS13, false},
	{0x1303, "TLS_CHACHA20_POLY1305_SHA256", "any", "any", "CHACHA20_POLY1305", 256, VersionTLS13, false},
	{0x1304, "TLS_AES_128_CCM_SHA256", "any", "any", "AES_128_CCM", 128, VersionTLS13, false},
	{0x1305, "TLS_AES_128_CCM_8_SHA256", "any", "any", "AES_128_CCM_8", 128, VersionTLS13, false},

	// ECDHE with AEAD (RFC 5289, 7905, 7251).
	{0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE", "ECDSA", "AES_128_GCM", 128, VersionTLS12, false},
	{0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE", "RSA", "AES_128_GCM", 128, VersionTLS12, false},
	{0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE", "ECDSA", "AES_256_GCM", 256, VersionTLS12, false},
	{0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE", "RSA", "AES_256_GCM", 256, VersionTLS12, false},
	{0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE", "ECDSA", "CHACHA20_POLY1305", 256, VersionTLS12, false},
	{0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE", "RSA", "CHACHA20_POLY1305", 256, VersionTLS12, false},
	{0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", "ECDHE", "ECDSA", "AES_128_CCM", 128, VersionTLS12, false},
	{0xC0AD, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", "ECDHE", "ECDSA", "AES_256_CCM", 256, VersionTLS12, false},
	// DHE with AEAD (RFC 5288, 7905, 6655).
	{0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE", "RSA", "AES_128_GCM", 128, VersionTLS12, false},
	{0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE", "RSA", "AES_256_GCM", 256, VersionTLS12, false},
	{0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "DHE", "RSA", "CHACHA20_POLY1305", 256, VersionTLS12, false},
	{0xC09E, "TLS_DHE_RSA_WITH_AES_128_CCM", "DHE", "RSA", "AES_128_CCM", 128, VersionTLS12, false},
	{0xC09F, "TLS_DHE_RSA_WITH_AES_256_CCM", "DHE", "RSA", "AES_256_CCM", 256, VersionTLS12, false},
	// ECDHE and DHE with CBC (RFC 4492, 5289, 5246, 5932).
	{0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE", "ECDSA", "AES_128_CBC", 128, VersionTLS12, false},
	{0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE", "RSA", "AES_128_CBC", 128, VersionTLS12, false},
	{0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "ECDHE", "ECDSA", "AES_256_CBC", 256, VersionTLS12, false},
	{0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE", "RSA", "AES_256_CBC", 256, VersionTLS12, false},
	{0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE", "ECDSA", "AES_128_CBC", 128, VersionSSL30, false},
	{0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE", "RSA", "AES_128_CBC", 128, VersionSSL30, false},
	{0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE", "ECDSA", "AES_256_CBC", 256, VersionSSL30, false},
	{0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE", "RSA", "AES_256_CBC", 256, VersionSSL30, false},
	{0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "DHE", "RSA", "AES_128_CBC", 128, VersionTLS12, false},
	{0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", "DHE", "RSA", "AES_256_CBC", 256, VersionTLS12, false},
	{0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "DHE", "RSA", "AES_128_CBC", 128, VersionSSL30, false},
	{0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "DHE", "RSA", "AES_256_CBC", 256, VersionSSL30, false},
	{0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA", "DHE", "DSS", "AES_128_CBC", 128, VersionSSL30, false},
	{0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", "DHE", "DSS", "AES_256_CBC", 256, VersionSSL30, false},
	{0x0045, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA", "DHE", "RSA", "CAMELLIA_128_CBC", 128, VersionSSL30, false},
	{0x0088, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA", "DHE", "RSA", "CAMELLIA_256_CBC", 256, VersionSSL30, false},
	// RSA key transport: no forward secrecy, but not weak in itself (RFC 5246, 5288, 6655).
	{0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", "RSA", "RSA", "AES_128_GCM", 128, VersionTLS12, false},
	{0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", "RSA", "RSA", "AES_256_GCM", 256, VersionTLS12, false},
	{0xC09C, "TLS_RSA_WITH_AES_128_CCM", "RSA", "RSA", "AES_128_CCM", 128, VersionTLS12, false},
	{0xC09D, "TLS_RSA_WITH_AES_256_CCM", "RSA", "RSA", "AES_256_CCM", 256, VersionTLS12, false},
	{0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", "RSA", "RSA", "AES_128_CBC", 128, VersionTLS12, false},
	{0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", "RSA", "RSA", "AES_256_CBC", 256, VersionTLS12, false},
	{0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", "RSA", "RSA", "AES_128_CBC", 128, VersionSSL30, false},
	{0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", "RSA", "RSA", "AES_256_CBC", 256, VersionSSL30, false},
	{0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", "RSA", "RSA", "CAMELLIA_128_CBC", 128, VersionSSL30, false},
	{0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA", "RSA", "RSA", "CAMELLIA_256_CBC", 256, VersionSSL30, false},

	// Weak: 3DES (SWEET32).
	{0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE", "RSA", "3DES_EDE_CBC", 112, VersionSSL30, false},
	{0xC008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", "ECDHE", "ECDSA", "3DES_EDE_CBC", 112, VersionSSL30, false},
	{0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", "DHE", "RSA", "3DES_EDE_CBC", 112, VersionSSL30, false},
	{0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", "DHE", "DSS", "3DES_EDE_CBC", 112, VersionSSL30, false},
	{0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "RSA", "RSA", "3DES_EDE_CBC", 112, VersionSSL30, false},
	// Weak: RC4 (RFC 7465).
	{0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE", "RSA", "RC4_128", 128, VersionSSL30, false},
	{0xC007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE", "ECDSA", "RC4_128", 128, VersionSSL30, false},
	{0x0005, "TLS_RSA_WITH_RC4_128_SHA", "RSA", "RSA", "RC4_128", 128, VersionSSL30, false},
	{0x0004, "TLS_RSA_WITH_RC4_128_MD5", "RSA", "RSA", "RC4_128", 128, VersionSSL30, false},
	// Weak: single DES (RFC 5469).
	{0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA", "DHE", "RSA", "DES_CBC", 56, VersionSSL30, false},
	{0x0012, "TLS_DHE_DSS_WITH_DES_CBC_SHA", "DHE", "DSS", "DES_CBC", 56, VersionSSL30, false},
	{0x0009, "TLS_RSA_WITH_DES_CBC_SHA", "RSA", "RSA", "DES_CBC", 56, VersionSSL30, false},
	// Weak: EXPORT (RFC 2246; prohibited since TLS 1.1, RFC 4346).
	{0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", "DHE", "RSA", "DES40_CBC", 40, VersionSSL30, true},
	{0x0011, "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA", "DHE", "DSS", "DES40_CBC", 40, VersionSSL30, true},
	{0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", "RSA", "RSA", "DES40_CBC", 40, VersionSSL30, true},
	{0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", "RSA", "RSA", "RC2_CBC_40", 40, VersionSSL30, true},
	{0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", "RSA", "RSA", "RC4_40", 40, VersionSSL30, true},
	// Weak: anonymous key exchange (RFC 5246, 4492, 5288).
	{0xC018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", "ECDH", "anon", "AES_128_CBC", 128, VersionSSL30, false},
	{0xC019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA", "ECDH", "anon", "AES_256_CBC", 256, VersionSSL30, false},
	{0xC017, "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA", "ECDH", "anon", "3DES_EDE_CBC", 112, VersionSSL30, false},
	{0xC016, "TLS_ECDH_anon_WITH_RC4_128_SHA", "ECDH", "anon", "RC4_128", 128, VersionSSL30, false},
	{0x00A6, "TLS_DH_anon_WITH_AES_128_GCM_SHA256", "DH", "anon", "AES_128_GCM", 128, VersionTLS12, false},
	{0x00A7, "TLS_DH_anon_WITH_AES_256_GCM_SHA384", "DH", "anon", "AES_256_GCM", 256, VersionTLS12, false},
	{0x006C, "TLS_DH_anon_WITH_AES_128_CBC_SHA256", "DH", "anon", "AES_128_CBC", 128, VersionTLS12, false},
	{0x006D, "TLS_DH_anon_WITH_AES_256_CBC_SHA256", "DH", "anon", "AES_256_CBC", 256, VersionTLS12, false},
	{0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", "DH", "anon", "AES_128_CBC", 128, VersionSSL30, false},
	{0x003A, "TLS_DH_anon_WITH_AES_256_CBC_SHA", "DH", "anon", "AES_256_CBC", 256, VersionSSL30, false},
	{0x001B, "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA", "DH", "anon", "3DES_EDE_CBC", 112, VersionSSL30, false},
	{0x0018, "TLS_DH_anon_WITH_RC4_128_MD5", "DH", "anon", "RC4_128", 128, VersionSSL30, false},
	{0x001A, "TLS_DH_anon_WITH_DES_CBC_SHA", "DH", "anon", "DES_CBC", 56, VersionSSL30, false},
	{0x0019, "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA", "DH", "anon", "DES40_CBC", 40, VersionSSL30, true},
	{0x0017, "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5", "DH", "anon", "RC4_40", 40, VersionSSL30, true},
	// Weak: NULL encryption (RFC 5246, 4492).
	{0xC010, "TLS_ECDHE_RSA_WITH_NULL_SHA", "ECDHE", "RSA", "NULL", 0, VersionSSL30, false},
	{0xC006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA", "ECDHE", "ECDSA", "NULL", 0, VersionSSL30, false},
	{0xC015, "TLS_ECDH_anon_WITH_NULL_SHA", "ECDH", "anon", "NULL", 0, VersionSSL30, false},
	{0x003B, "TLS_RSA_WITH_NULL_SHA256", "RSA", "RSA", "NULL", 0, VersionTLS12, false},
	{0x0002, "TLS_RSA_WITH_NULL_SHA", "RSA", "RSA", "NULL", 0, VersionSSL30, false},
	{0x0001, "TLS_RSA_WITH_NULL_MD5", "RSA", "RSA", "NULL", 0, VersionSSL30, false},
}

// suiteByCode indexes suites.
var suiteByCode = func() map[uint16]Suite {
	m := make(map[uint16]Suite, len(suites))
	for _, s := range suites {
		m[s.Code] = s
	}
	return m
}()

// LookupSuite returns the description of the suite with IANA code c.
func LookupSuite(c uint16) (Suite, bool) {
	s, ok := suiteByCode[c]
	return s, ok
}

// SuiteName returns the IANA name of code c, or its hex form when Khiên does not know it.
func SuiteName(c uint16) string {
	if s, ok := suiteByCode[c]; ok {
		return s.Name
	}
	return fmt.Sprintf("0x%04X", c)
}

// Suites returns every suite Khiên knows, in offer order.
func Suites() []Suite { return append([]Suite(nil), suites...) }

// offerFor returns the codes a hello of version v offers, in offer order. SSL 3.0 gets no
// elliptic-curve suites: RFC 4492 defines them for TLS only and an SSL 3.0 hello carries no
// extensions to name the curves.
func offerFor(v uint16) []uint16 {
	var out []uint16
	for _, s := range suites {
		switch {
		case v == VersionTLS13:
			if s.MinVersion != VersionTLS13 {
				continue
			}
		case s.MinVersion > v:
			continue
		case v == VersionSSL30 && strings.HasPrefix(s.Kx, "ECDH"):
			continue
		}
		out = append(out, s.Code)
	}
	return out
}
