package tlscheck

import (
	"crypto/rand"
	"encoding/binary"
	"net/netip"
)

// Record and handshake types, extension numbers and the few other constants of RFC 5246 and
// RFC 8446 the hand-built hellos and their parser need.
const (
	recordChangeCipherSpec = 20
	recordAlert            = 21
	recordHandshake        = 22
	recordApplicationData  = 23

	typeClientHello       = 1
	typeServerHello       = 2
	typeCertificate       = 11
	typeServerKeyExchange = 12
	typeCertificateReq    = 13
	typeServerHelloDone   = 14
	typeCertificateStatus = 22

	extServerName          = 0
	extSupportedGroups     = 10
	extECPointFormats      = 11
	extSignatureAlgorithms = 13
	extPadding             = 21
	extSupportedVersions   = 43
	extKeyShare            = 51
	extRenegotiationInfo   = 0xff01

	scsvRenegotiation = 0x00FF // TLS_EMPTY_RENEGOTIATION_INFO_SCSV, RFC 5746

	groupX25519 = 0x001d

	maxRecordLen = 16384 + 2048 // the largest TLSCiphertext fragment, RFC 5246 §6.2.3
)

// groupsTLS12 are the named curves offered up to TLS 1.2. Finite-field groups (RFC 7919) are
// left out on purpose: a server that knows RFC 7919 would refuse DHE suites if none of the
// listed groups matched, hiding DHE suites it would negotiate with ordinary clients.
var groupsTLS12 = []uint16{groupX25519, 23, 24, 25, 30} // x25519, P-256, P-384, P-521, x448

// groupsTLS13 adds the finite-field groups TLS 1.3 servers may insist on (via HelloRetryRequest).
var groupsTLS13 = []uint16{groupX25519, 23, 24, 25, 30, 0x0100, 0x0101, 0x0102}

// sigAlgs is every signature scheme a server certificate might need, SHA-1 included, so the
// hello never fails for lack of a scheme: Khiên judges certificates, it does not refuse them.
var sigAlgs = []uint16{
	0x0403, 0x0503, 0x0603, // ecdsa_secp256r1_sha256, secp384r1_sha384, secp521r1_sha512
	0x0807, 0x0808, // ed25519, ed448
	0x0804, 0x0805, 0x0806, // rsa_pss_rsae_sha256/384/512
	0x0809, 0x080a, 0x080b, // rsa_pss_pss_sha256/384/512
	0x0401, 0x0501, 0x0601, // rsa_pkcs1_sha256/384/512
	0x0402, 0x0502, 0x0602, // dsa_sha256/384/512 (TLS 1.2 code points)
	0x0201, 0x0203, 0x0202, // rsa_pkcs1_sha1, ecdsa_sha1, dsa_sha1
}

// hello is what one hand-built ClientHello offers.
type hello struct {
	Version    uint16   // highest version offered: SSL 3.0 … TLS 1.3
	Suites     []uint16 // offered cipher suites, in preference order
	ServerName string   // SNI; empty or an IP literal means none is sent
}

// marshal returns the hello as one TLS record: the record header, the handshake header and
// the ClientHello body. Random, session id and the TLS 1.3 key share are fresh random bytes;
// the probe never completes a handshake, so no key is ever used.
func (h hello) marshal() []byte {
	var random [32 + 32 + 32]byte // client random, session id, x25519 public key
	if _, err := rand.Read(random[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	legacy := h.Version
	if legacy > VersionTLS12 {
		legacy = VersionTLS12 // TLS 1.3 negotiates in supported_versions, RFC 8446 §4.1.2
	}

	var body []byte
	body = binary.BigEndian.AppendUint16(body, legacy)
	body = append(body, random[:32]...)
	if h.Version >= VersionTLS13 {
		body = append(body, 32) // a legacy session id for middlebox compatibility
		body = append(body, random[32:64]...)
	} else {
		body = append(body, 0)
	}
	suites := h.Suites
	if h.Version == VersionSSL30 {
		// SSL 3.0 has no extensions; RFC 5746 signals secure renegotiation with this SCSV.
		suites = append(suites[:len(suites):len(suites)], scsvRenegotiation)
	}
	body = binary.BigEndian.AppendUint16(body, uint16(2*len(suites)))
	for _, s := range suites {
		body = binary.BigEndian.AppendUint16(body, s)
	}
	body = append(body, 1, 0) // compression methods: null only

	if h.Version > VersionSSL30 {
		ext := h.extensions(random[64:])
		// Some servers hang on hellos of 256 to 511 bytes (RFC 7685 §1): pad past them.
		if n := 4 + len(body) + 2 + len(ext); n >= 256 && n < 512 {
			pad := 512 - n - 4
			if pad < 1 {
				pad = 1
			}
			ext = binary.BigEndian.AppendUint16(ext, extPadding)
			ext = binary.BigEndian.AppendUint16(ext, uint16(pad))
			ext = append(ext, make([]byte, pad)...)
		}
		body = binary.BigEndian.AppendUint16(body, uint16(len(ext)))
		body = append(body, ext...)
	}

	msg := make([]byte, 0, 9+len(body))
	recVersion := VersionTLS10 // what browsers send, and what old servers expect
	if h.Version == VersionSSL30 {
		recVersion = VersionSSL30
	}
	msg = append(msg, recordHandshake)
	msg = binary.BigEndian.AppendUint16(msg, recVersion)
	msg = binary.BigEndian.AppendUint16(msg, uint16(4+len(body)))
	msg = append(msg, typeClientHello, byte(len(body)>>16), byte(len(body)>>8), byte(len(body)))
	return append(msg, body...)
}

// extensions returns the extension block of a TLS hello (without its length).
func (h hello) extensions(keyShare []byte) []byte {
	var b []byte
	add := func(typ uint16, data []byte) {
		b = binary.BigEndian.AppendUint16(b, typ)
		b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
		b = append(b, data...)
	}
	if name := h.ServerName; name != "" {
		if _, err := netip.ParseAddr(name); err != nil { // RFC 6066: no IP literals in SNI
			var sni []byte
			sni = binary.BigEndian.AppendUint16(sni, uint16(3+len(name)))
			sni = append(sni, 0) // host_name
			sni = binary.BigEndian.AppendUint16(sni, uint16(len(name)))
			sni = append(sni, name...)
			add(extServerName, sni)
		}
	}
	groups := groupsTLS12
	if h.Version >= VersionTLS13 {
		groups = groupsTLS13
	}
	add(extSupportedGroups, uint16List(groups))
	add(extECPointFormats, []byte{1, 0}) // uncompressed only
	if h.Version >= VersionTLS12 {
		add(extSignatureAlgorithms, uint16List(sigAlgs))
	}
	add(extRenegotiationInfo, []byte{0}) // empty: an initial handshake, RFC 5746 §3.4
	if h.Version >= VersionTLS13 {
		add(extSupportedVersions, []byte{2, byte(VersionTLS13 >> 8), byte(VersionTLS13 & 0xff)})
		var ks []byte
		ks = binary.BigEndian.AppendUint16(ks, uint16(4+len(keyShare)))
		ks = binary.BigEndian.AppendUint16(ks, groupX25519)
		ks = binary.BigEndian.AppendUint16(ks, uint16(len(keyShare)))
		ks = append(ks, keyShare...)
		add(extKeyShare, ks)
	}
	return b
}

// uint16List encodes vs with a two-byte length prefix.
func uint16List(vs []uint16) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(2*len(vs)))
	for _, v := range vs {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	return b
}
