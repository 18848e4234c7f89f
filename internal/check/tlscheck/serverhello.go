package tlscheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"syscall"
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
		typ, ver, n := hdr[0], uint16(hdr[1])<<8|uint16(hdr[2]), int(hdr[3])<<8|int(hdr[4])
		if typ < recordChangeCipherSpec || typ > recordApplicationData || hdr[1] != 3 || n > maxRecordLen {
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
		for len(hs) >= 4 {
			mtype, mlen := hs[0], int(hs[1])<<16|int(hs[2])<<8|int(hs[3])
			if mlen > maxHandshakeMsg {
				if gotHello {
					return out, nil
				}
				return reply{}, fmt.Errorf("%w: handshake message of %d bytes", errMalformed, mlen)
			}
			if len(hs) < 4+mlen {
				break // the rest of the message is in the next record
			}
			body := hs[4 : 4+mlen]
			hs = hs[4+mlen:]
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
	c := cursor(b)
	var r reply
	var random []byte
	var ok bool
	if r.LegacyVersion, ok = c.u16(); !ok {
		return reply{}, fmt.Errorf("%w: ServerHello too short", errMalformed)
	}
	if random, ok = c.bytes(32); !ok {
		return reply{}, fmt.Errorf("%w: ServerHello random cut short", errMalformed)
	}
	if sid, ok := c.vec8(); !ok || len(sid) > 32 {
		return reply{}, fmt.Errorf("%w: ServerHello session id", errMalformed)
	}
	if r.Suite, ok = c.u16(); !ok {
		return reply{}, fmt.Errorf("%w: ServerHello has no cipher suite", errMalformed)
	}
	if r.Compression, ok = c.u8(); !ok {
		return reply{}, fmt.Errorf("%w: ServerHello has no compression method", errMalformed)
	}
	r.Kind, r.Version = replyServerHello, r.LegacyVersion
	if bytes.Equal(random, hrrRandom) {
		r.Kind = replyHelloRetry
	}
	if len(c) == 0 {
		return r, nil
	}
	exts, ok := c.vec16()
	if !ok || len(c) != 0 {
		return reply{}, fmt.Errorf("%w: ServerHello extensions", errMalformed)
	}
	for len(exts) > 0 {
		typ, ok1 := exts.u16()
		data, ok2 := exts.vec16()
		if !ok1 || !ok2 {
			return reply{}, fmt.Errorf("%w: ServerHello extension", errMalformed)
		}
		switch typ {
		case extSupportedVersions:
			v, ok := data.u16()
			if !ok || len(data) != 0 {
				return reply{}, fmt.Errorf("%w: supported_versions", errMalformed)
			}
			r.Version = v
		case extRenegotiationInfo:
			r.SecureRenegotiation = true
		}
	}
	return r, nil
}

// parseCertificates returns the DER certificates of a TLS ≤ 1.2 Certificate message body,
// as many as parse cleanly (at most 16).
func parseCertificates(b []byte) [][]byte {
	c := cursor(b)
	list, ok := c.vec24()
	if !ok {
		return nil
	}
	var out [][]byte
	for len(list) > 0 && len(out) < 16 {
		der, ok := list.vec24()
		if !ok {
			break
		}
		out = append(out, bytes.Clone(der))
	}
	return out
}

// cursor reads big-endian fields from a byte slice, reporting false instead of panicking
// when the input is too short.
type cursor []byte

func (c *cursor) bytes(n int) ([]byte, bool) {
	if n < 0 || len(*c) < n {
		return nil, false
	}
	b := (*c)[:n]
	*c = (*c)[n:]
	return b, true
}

func (c *cursor) u8() (uint8, bool) {
	b, ok := c.bytes(1)
	if !ok {
		return 0, false
	}
	return b[0], true
}

func (c *cursor) u16() (uint16, bool) {
	b, ok := c.bytes(2)
	if !ok {
		return 0, false
	}
	return uint16(b[0])<<8 | uint16(b[1]), true
}

func (c *cursor) vec8() (cursor, bool) {
	n, ok := c.u8()
	if !ok {
		return nil, false
	}
	b, ok := c.bytes(int(n))
	return cursor(b), ok
}

func (c *cursor) vec16() (cursor, bool) {
	n, ok := c.u16()
	if !ok {
		return nil, false
	}
	b, ok := c.bytes(int(n))
	return cursor(b), ok
}

func (c *cursor) vec24() (cursor, bool) {
	b, ok := c.bytes(3)
	if !ok {
		return nil, false
	}
	b, ok = c.bytes(int(b[0])<<16 | int(b[1])<<8 | int(b[2]))
	return cursor(b), ok
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
