package tlslab

import (
	"errors"
	"fmt"
	"io"
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
		n := int(hdr[3])<<8 | int(hdr[4])
		if hdr[0] != 22 || hdr[1] != 3 || n > maxRecordLen {
			return nil, fmt.Errorf("%w: record type %d version %d.%d", ErrNotClientHello, hdr[0], hdr[1], hdr[2])
		}
		if recVer == 0 {
			recVer = uint16(hdr[1])<<8 | uint16(hdr[2])
		}
		start := len(buf)
		buf = append(buf, make([]byte, n)...)
		if _, err := io.ReadFull(r, buf[start:]); err != nil {
			return nil, err
		}
		if len(buf) < 4 {
			continue
		}
		if buf[0] != 1 {
			return nil, fmt.Errorf("%w: handshake message type %d", ErrNotClientHello, buf[0])
		}
		mlen := int(buf[1])<<16 | int(buf[2])<<8 | int(buf[3])
		if mlen > maxHelloLen {
			return nil, fmt.Errorf("%w: hello of %d bytes", ErrNotClientHello, mlen)
		}
		if len(buf) >= 4+mlen {
			ch, err := ParseClientHello(buf[4 : 4+mlen])
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
	c := cursor(b)
	ch := &ClientHello{}
	var ok bool
	if ch.Version, ok = c.u16(); !ok {
		return bad("too short")
	}
	if ch.Random, ok = c.bytes(32); !ok {
		return bad("random cut short")
	}
	sid, ok := c.vec8()
	if !ok || len(sid) > 32 {
		return bad("session id")
	}
	ch.SessionID = sid
	suites, ok := c.vec16()
	if !ok || len(suites)%2 != 0 || len(suites) == 0 {
		return bad("cipher suites")
	}
	for len(suites) > 0 {
		s, _ := suites.u16()
		ch.Suites = append(ch.Suites, s)
		if s == 0x00FF {
			ch.SecureRenegotiation = true
		}
	}
	comp, ok := c.vec8()
	if !ok || len(comp) == 0 {
		return bad("compression methods")
	}
	ch.Compression = comp
	if len(c) == 0 {
		return ch, nil
	}
	exts, ok := c.vec16()
	if !ok || len(c) != 0 {
		return bad("extensions")
	}
	seen := map[uint16]bool{}
	for len(exts) > 0 {
		typ, ok1 := exts.u16()
		data, ok2 := exts.vec16()
		if !ok1 || !ok2 {
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

func parseSNI(data cursor, ch *ClientHello) error {
	list, ok := data.vec16()
	if !ok {
		return errors.New("server_name")
	}
	for len(list) > 0 {
		typ, ok1 := list.u8()
		name, ok2 := list.vec16()
		if !ok1 || !ok2 {
			return errors.New("server_name entry")
		}
		if typ == 0 && ch.ServerName == "" {
			ch.ServerName = string(name)
		}
	}
	return nil
}

func parseKeyShares(data cursor, ch *ClientHello) error {
	list, ok := data.vec16()
	if !ok {
		return errors.New("key_share")
	}
	for len(list) > 0 {
		g, ok1 := list.u16()
		k, ok2 := list.vec16()
		if !ok1 || !ok2 || len(k) == 0 {
			return errors.New("key_share entry")
		}
		ch.KeyShares = append(ch.KeyShares, KeyShare{Group: g, Data: k})
	}
	return nil
}

// u16List parses a list of uint16 with a length prefix of lenBytes (1 or 2) bytes.
func u16List(data cursor, lenBytes int) ([]uint16, error) {
	var list cursor
	var ok bool
	if lenBytes == 1 {
		list, ok = data.vec8()
	} else {
		list, ok = data.vec16()
	}
	if !ok || len(list)%2 != 0 {
		return nil, errors.New("list of 16-bit values")
	}
	var out []uint16
	for len(list) > 0 {
		v, _ := list.u16()
		out = append(out, v)
	}
	return out, nil
}

// cursor reads big-endian fields, reporting false instead of panicking on short input.
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
