package tlslab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
)

// ClientHello is what the raw responder needs from a client's first message.
type ClientHello struct {
	RecordVersion uint16
	Version       uint16 // legacy_version (client_version before TLS 1.3)
	Random        []byte
	SessionID     []byte
	Suites        []uint16
	Compression   []byte
	Extensions    []uint16 // extension types, in order
	ServerName    string
	// SupportedVersions is the supported_versions extension (TLS 1.3 clients); empty when absent.
	SupportedVersions []uint16
	SupportedGroups   []uint16
	KeyShares         []KeyShare
	// SecureRenegotiation is true when the client sent renegotiation_info or the SCSV (RFC 5746).
	SecureRenegotiation bool
}

// KeyShare is one entry of a TLS 1.3 key_share extension.
type KeyShare struct {
	Group uint16
	Data  []byte
}

// ErrNotClientHello is returned, wrapped, for input that is not a TLS ClientHello.
var ErrNotClientHello = errors.New("not a TLS ClientHello")

// Limits that keep a hostile client from making the lab allocate much.
const (
	maxRecordLen = 16384 + 2048
	maxHelloLen  = 1 << 16
)

// ReadClientHello reads records from r until a whole ClientHello handshake message has
// arrived (it may span records) and parses it.
func ReadClientHello(r io.Reader) (*ClientHello, error) {
	var (
		hdr    [5]byte
		buf    []byte
		recVer uint16
	)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, err
		}
		typ, ver, n := hdr[0], binary.BigEndian.Uint16(hdr[1:3]), binary.BigEndian.Uint16(hdr[3:5])
		if typ != 22 || ver>>8 != 3 || n > maxRecordLen {
			return nil, fmt.Errorf("%w: record type %d version %d.%d", ErrNotClientHello, typ, ver>>8, ver&0xff)
		}
		if recVer == 0 {
			recVer = ver
		}
		start := len(buf)
		buf = append(buf, make([]byte, n)...)
		if _, err := io.ReadFull(r, buf[start:]); err != nil {
			return nil, err
		}
		var (
			mtype uint8
			mlen  uint32
			body  []byte
		)
		msg := cryptobyte.String(buf)
		if !msg.ReadUint8(&mtype) || !msg.ReadUint24(&mlen) {
			continue // the message header is in the next record
		}
		if mtype != 1 {
			return nil, fmt.Errorf("%w: handshake message type %d", ErrNotClientHello, mtype)
		}
		if mlen > maxHelloLen {
			return nil, fmt.Errorf("%w: hello of %d bytes", ErrNotClientHello, mlen)
		}
		if msg.ReadBytes(&body, int(mlen)) {
			ch, err := ParseClientHello(body)
			if err != nil {
				return nil, err
			}
			ch.RecordVersion = recVer
			return ch, nil
		}
	}
}

// ParseClientHello parses the body of a ClientHello handshake message (RFC 5246 §7.4.1.2,
// RFC 8446 §4.1.2). An SSL 3.0 hello without extensions parses too.
func ParseClientHello(b []byte) (*ClientHello, error) {
	bad := func(what string) (*ClientHello, error) {
		return nil, fmt.Errorf("%w: %s", ErrNotClientHello, what)
	}
	s := cryptobyte.String(b)
	ch := &ClientHello{}
	if !s.ReadUint16(&ch.Version) {
		return bad("too short")
	}
	if !s.ReadBytes(&ch.Random, 32) {
		return bad("random cut short")
	}
	var sid, suites, comp, exts cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&sid) || len(sid) > 32 {
		return bad("session id")
	}
	ch.SessionID = sid
	if !s.ReadUint16LengthPrefixed(&suites) || len(suites)%2 != 0 || len(suites) == 0 {
		return bad("cipher suites")
	}
	for !suites.Empty() {
		var suite uint16
		suites.ReadUint16(&suite) // cannot fail: the length is even
		ch.Suites = append(ch.Suites, suite)
		if suite == 0x00FF {
			ch.SecureRenegotiation = true
		}
	}
	if !s.ReadUint8LengthPrefixed(&comp) || len(comp) == 0 {
		return bad("compression methods")
	}
	ch.Compression = comp
	if s.Empty() {
		return ch, nil
	}
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return bad("extensions")
	}
	seen := map[uint16]bool{}
	for !exts.Empty() {
		var (
			typ  uint16
			data cryptobyte.String
		)
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return bad("extension")
		}
		if seen[typ] {
			return bad(fmt.Sprintf("extension %d twice", typ))
		}
		seen[typ] = true
		ch.Extensions = append(ch.Extensions, typ)
		var err error
		switch typ {
		case 0:
			err = parseSNI(data, ch)
		case 10:
			ch.SupportedGroups, err = u16List(data, 2)
		case 43:
			ch.SupportedVersions, err = u16List(data, 1)
		case 51:
			err = parseKeyShares(data, ch)
		case 0xff01:
			ch.SecureRenegotiation = true
		}
		if err != nil {
			return bad(err.Error())
		}
	}
	return ch, nil
}

func parseSNI(data cryptobyte.String, ch *ClientHello) error {
	var list cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) {
		return errors.New("server_name")
	}
	for !list.Empty() {
		var (
			typ  uint8
			name cryptobyte.String
		)
		if !list.ReadUint8(&typ) || !list.ReadUint16LengthPrefixed(&name) {
			return errors.New("server_name entry")
		}
		if typ == 0 && ch.ServerName == "" {
			ch.ServerName = string(name)
		}
	}
	return nil
}

func parseKeyShares(data cryptobyte.String, ch *ClientHello) error {
	var list cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) {
		return errors.New("key_share")
	}
	for !list.Empty() {
		var (
			group uint16
			key   cryptobyte.String
		)
		if !list.ReadUint16(&group) || !list.ReadUint16LengthPrefixed(&key) || len(key) == 0 {
			return errors.New("key_share entry")
		}
		ch.KeyShares = append(ch.KeyShares, KeyShare{Group: group, Data: key})
	}
	return nil
}

// u16List parses a list of uint16 with a length prefix of lenBytes (1 or 2) bytes.
func u16List(data cryptobyte.String, lenBytes int) ([]uint16, error) {
	var list cryptobyte.String
	var ok bool
	if lenBytes == 1 {
		ok = data.ReadUint8LengthPrefixed(&list)
	} else {
		ok = data.ReadUint16LengthPrefixed(&list)
	}
	if !ok || len(list)%2 != 0 {
		return nil, errors.New("list of 16-bit values")
	}
	var out []uint16
	for !list.Empty() {
		var v uint16
		list.ReadUint16(&v) // cannot fail: the length is even
		out = append(out, v)
	}
	return out, nil
}
