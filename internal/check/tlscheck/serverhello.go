package tlscheck

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"syscall"

	"golang.org/x/crypto/cryptobyte"
)

// replyKind is what a server answered a hand-built hello with.
type replyKind int

const (
	replyClosed      replyKind = iota // the connection ended (or was reset) before any answer
	replyServerHello                  // a ServerHello: the version and suite were accepted
	replyHelloRetry                   // a TLS 1.3 HelloRetryRequest: accepted, wants another key share
	replyAlert                        // a fatal alert, usually handshake_failure or protocol_version
)

// reply is the parsed first answer to a ClientHello.
type reply struct {
	Kind          replyKind
	RecordVersion uint16 // version of the record that carried the answer
	LegacyVersion uint16 // ServerHello.legacy_version (server_version before TLS 1.3)
	Version       uint16 // negotiated: supported_versions when present, else LegacyVersion
	Suite         uint16
	Compression   uint8
	// SecureRenegotiation is true when the ServerHello carries renegotiation_info (RFC 5746).
	SecureRenegotiation bool
	AlertLevel          uint8
	AlertDesc           uint8
	// Certificates is the chain of a TLS ≤ 1.2 Certificate message that followed the
	// ServerHello, when the caller asked for it and the server sent one (DER, leaf first).
	Certificates [][]byte
}

// String describes the answer for evidence: "server_hello TLS 1.2 TLS_ECDHE_…",
// "alert 40 handshake_failure", "closed".
func (r reply) String() string {
	switch r.Kind {
	case replyServerHello:
		return fmt.Sprintf("server_hello %s %s", VersionName(r.Version), SuiteName(r.Suite))
	case replyHelloRetry:
		return fmt.Sprintf("hello_retry_request %s %s", VersionName(r.Version), SuiteName(r.Suite))
	case replyAlert:
		return fmt.Sprintf("alert %d %s", r.AlertDesc, alertName(r.AlertDesc))
	}
	return "closed"
}

// hrrRandom is SHA-256("HelloRetryRequest"), the random that marks a HelloRetryRequest
// (RFC 8446 §4.1.3).
var hrrRandom = []byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// Errors of the parser. A server that does not speak TLS (an HTTP server on 443, an SSL 2.0
// only server) gets errNotTLS; a TLS server that breaks the protocol gets errMalformed.
var (
	errNotTLS    = errors.New("the server does not answer in TLS")
	errMalformed = errors.New("malformed TLS answer")
)

const (
	maxHandshakeMsg = 1 << 18 // certificate chains run to tens of kilobytes; refuse more
	maxRecords      = 64      // bounds a server that streams empty records
)

// readReply reads a server's answer to one ClientHello from r: the ServerHello (reassembled
// across records, and from records split across reads), an alert, or the end of the
// connection. With wantCert it keeps reading a TLS ≤ 1.2 flight until the Certificate or
// ServerHelloDone message, so that a server only a hand-built hello can talk to (SSL 3.0,
// anonymous or export suites) still shows its certificate.
func readReply(r io.Reader, wantCert bool) (reply, error) {
	var (
		hdr      [5]byte
		hs       []byte // handshake bytes not yet consumed
		out      reply
		gotHello bool
	)
	for i := 0; i < maxRecords; i++ {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			switch {
			case gotHello:
				return out, nil // the hello is what matters; the certificate is a bonus
			case i == 0 && isClosed(err):
				return reply{Kind: replyClosed}, nil
			case errors.Is(err, io.ErrUnexpectedEOF) && i == 0:
				return reply{}, errNotTLS
			}
			return reply{}, err
		}
		typ, ver, n := hdr[0], binary.BigEndian.Uint16(hdr[1:3]), binary.BigEndian.Uint16(hdr[3:5])
		if typ < recordChangeCipherSpec || typ > recordApplicationData || ver>>8 != 3 || n > maxRecordLen {
			if gotHello {
				return out, nil
			}
			return reply{}, errNotTLS
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			if gotHello {
				return out, nil
			}
			return reply{}, fmt.Errorf("%w: record cut short: %v", errMalformed, err)
		}
		switch typ {
		case recordAlert:
			if gotHello {
				return out, nil
			}
			if n < 2 {
				return reply{}, fmt.Errorf("%w: alert of %d bytes", errMalformed, n)
			}
			return reply{Kind: replyAlert, RecordVersion: ver, AlertLevel: payload[0], AlertDesc: payload[1]}, nil
		case recordChangeCipherSpec:
			continue // TLS 1.3 middlebox compatibility; nothing to learn
		case recordApplicationData:
			if gotHello {
				return out, nil
			}
			return reply{}, fmt.Errorf("%w: application data before the ServerHello", errMalformed)
		}
		hs = append(hs, payload...)
		for {
			var (
				mtype uint8
				mlen  uint32
				body  []byte
			)
			msg := cryptobyte.String(hs)
			if !msg.ReadUint8(&mtype) || !msg.ReadUint24(&mlen) {
				break // the message header is in the next record
			}
			if mlen > maxHandshakeMsg {
				if gotHello {
					return out, nil
				}
				return reply{}, fmt.Errorf("%w: handshake message of %d bytes", errMalformed, mlen)
			}
			if !msg.ReadBytes(&body, int(mlen)) {
				break // the rest of the message is in the next record
			}
			hs = msg
			if !gotHello {
				if mtype != typeServerHello {
					return reply{}, fmt.Errorf("%w: handshake message %d before the ServerHello", errMalformed, mtype)
				}
				sh, err := parseServerHello(body)
				if err != nil {
					return reply{}, err
				}
				out, gotHello = sh, true
				out.RecordVersion = ver
				if !wantCert || out.Kind == replyHelloRetry || out.Version >= VersionTLS13 {
					return out, nil // TLS 1.3 encrypts everything after the ServerHello
				}
				continue
			}
			switch mtype {
			case typeCertificate:
				out.Certificates = parseCertificates(body)
				return out, nil
			case typeServerHelloDone:
				return out, nil
			}
		}
	}
	if gotHello {
		return out, nil
	}
	return reply{}, fmt.Errorf("%w: no ServerHello in %d records", errMalformed, maxRecords)
}

// isClosed reports whether err means the server hung up: EOF or a reset. Servers that do not
// speak a version often just close.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE)
}

// parseServerHello parses the body of a ServerHello handshake message (RFC 5246 §7.4.1.3,
// RFC 8446 §4.1.3). An SSL 3.0 ServerHello, which has no extensions, parses too.
func parseServerHello(b []byte) (reply, error) {
	s := cryptobyte.String(b)
	var (
		r      reply
		random []byte
		sid    cryptobyte.String
	)
	if !s.ReadUint16(&r.LegacyVersion) {
		return reply{}, fmt.Errorf("%w: ServerHello too short", errMalformed)
	}
	if !s.ReadBytes(&random, 32) {
		return reply{}, fmt.Errorf("%w: ServerHello random cut short", errMalformed)
	}
	if !s.ReadUint8LengthPrefixed(&sid) || len(sid) > 32 {
		return reply{}, fmt.Errorf("%w: ServerHello session id", errMalformed)
	}
	if !s.ReadUint16(&r.Suite) {
		return reply{}, fmt.Errorf("%w: ServerHello has no cipher suite", errMalformed)
	}
	if !s.ReadUint8(&r.Compression) {
		return reply{}, fmt.Errorf("%w: ServerHello has no compression method", errMalformed)
	}
	r.Kind, r.Version = replyServerHello, r.LegacyVersion
	if bytes.Equal(random, hrrRandom) {
		r.Kind = replyHelloRetry
	}
	if s.Empty() {
		return r, nil
	}
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return reply{}, fmt.Errorf("%w: ServerHello extensions", errMalformed)
	}
	for !exts.Empty() {
		var (
			typ  uint16
			data cryptobyte.String
		)
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return reply{}, fmt.Errorf("%w: ServerHello extension", errMalformed)
		}
		switch typ {
		case extSupportedVersions:
			if !data.ReadUint16(&r.Version) || !data.Empty() {
				return reply{}, fmt.Errorf("%w: supported_versions", errMalformed)
			}
		case extRenegotiationInfo:
			r.SecureRenegotiation = true
		}
	}
	return r, nil
}

// parseCertificates returns the DER certificates of a TLS ≤ 1.2 Certificate message body,
// as many as parse cleanly (at most 16).
func parseCertificates(b []byte) [][]byte {
	s := cryptobyte.String(b)
	var list cryptobyte.String
	if !s.ReadUint24LengthPrefixed(&list) {
		return nil
	}
	var out [][]byte
	for !list.Empty() && len(out) < 16 {
		var der cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&der) {
			break
		}
		out = append(out, bytes.Clone(der))
	}
	return out
}

// alertName returns the RFC 8446 §6 / RFC 5246 §7.2 name of an alert description.
func alertName(d uint8) string {
	switch d {
	case 0:
		return "close_notify"
	case 10:
		return "unexpected_message"
	case 20:
		return "bad_record_mac"
	case 22:
		return "record_overflow"
	case 40:
		return "handshake_failure"
	case 42:
		return "bad_certificate"
	case 47:
		return "illegal_parameter"
	case 50:
		return "decode_error"
	case 51:
		return "decrypt_error"
	case 70:
		return "protocol_version"
	case 71:
		return "insufficient_security"
	case 80:
		return "internal_error"
	case 86:
		return "inappropriate_fallback"
	case 90:
		return "user_canceled"
	case 109:
		return "missing_extension"
	case 110:
		return "unsupported_extension"
	case 112:
		return "unrecognized_name"
	case 120:
		return "no_application_protocol"
	}
	return "unknown"
}
