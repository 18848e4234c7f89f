package exposure

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
)

// Just enough BSON (bsonspec.org) to send a hello and read the reply, by hand: one command
// does not justify a MongoDB driver.

// bsonDoc wraps encoded elements into a document.
func bsonDoc(elems ...[]byte) []byte {
	n := 5
	for _, e := range elems {
		n += len(e)
	}
	b := binary.LittleEndian.AppendUint32(make([]byte, 0, n), uint32(n))
	for _, e := range elems {
		b = append(b, e...)
	}
	return append(b, 0)
}

func bsonInt32(name string, v int32) []byte {
	b := append(append([]byte{0x10}, name...), 0)
	return binary.LittleEndian.AppendUint32(b, uint32(v))
}

func bsonString(name, v string) []byte {
	b := append(append([]byte{0x02}, name...), 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)+1))
	return append(append(b, v...), 0)
}

var errBSON = errors.New("malformed BSON")

// maxBSONDepth bounds nesting, so a hostile reply cannot recurse without end.
const maxBSONDepth = 16

// bsonDecode decodes the document at the start of b and returns it with its length. Values
// become float64, string, bool, int32, int64, nil or map[string]any (documents and arrays);
// types the probe never reads (binary, ObjectId, regex…) are skipped and kept as nil.
func bsonDecode(b []byte, depth int) (map[string]any, int, error) {
	if len(b) < 5 || depth > maxBSONDepth {
		return nil, 0, errBSON
	}
	n := binary.LittleEndian.Uint32(b)
	if n < 5 || uint64(n) > uint64(len(b)) || b[n-1] != 0 {
		return nil, 0, errBSON
	}
	m := map[string]any{}
	p := b[4 : n-1]
	for len(p) > 0 {
		t := p[0]
		name, rest, ok := bytes.Cut(p[1:], []byte{0})
		if !ok {
			return nil, 0, errBSON
		}
		p = rest
		var (
			v    any
			size int
		)
		switch t {
		case 0x01: // double
			size = 8
			if len(p) >= 8 {
				v = math.Float64frombits(binary.LittleEndian.Uint64(p))
			}
		case 0x02, 0x0d, 0x0e: // string, JavaScript code, symbol
			s, sz, err := bsonStr(p)
			if err != nil {
				return nil, 0, err
			}
			v, size = s, sz
		case 0x03, 0x04: // document, array
			sub, sz, err := bsonDecode(p, depth+1)
			if err != nil {
				return nil, 0, err
			}
			v, size = sub, sz
		case 0x05: // binary: length, subtype, bytes
			if len(p) < 5 || 5+uint64(binary.LittleEndian.Uint32(p)) > uint64(len(p)) {
				return nil, 0, errBSON
			}
			size = 5 + int(binary.LittleEndian.Uint32(p))
		case 0x06, 0x0a, 0xff, 0x7f: // undefined, null, min key, max key
		case 0x07: // ObjectId
			size = 12
		case 0x08: // boolean
			size = 1
			if len(p) >= 1 {
				v = p[0] != 0
			}
		case 0x09, 0x11: // UTC datetime, timestamp
			size = 8
		case 0x0b: // regular expression: two C strings
			i := bytes.IndexByte(p, 0)
			if i < 0 {
				return nil, 0, errBSON
			}
			j := bytes.IndexByte(p[i+1:], 0)
			if j < 0 {
				return nil, 0, errBSON
			}
			size = i + 1 + j + 1
		case 0x0c: // DBPointer: string and ObjectId
			_, sz, err := bsonStr(p)
			if err != nil {
				return nil, 0, err
			}
			size = sz + 12
		case 0x0f: // code with scope: total length first
			if len(p) < 4 || uint64(binary.LittleEndian.Uint32(p)) > uint64(len(p)) {
				return nil, 0, errBSON
			}
			size = int(binary.LittleEndian.Uint32(p))
		case 0x10: // int32
			size = 4
			if len(p) >= 4 {
				v = int32(binary.LittleEndian.Uint32(p))
			}
		case 0x12: // int64
			size = 8
			if len(p) >= 8 {
				v = int64(binary.LittleEndian.Uint64(p))
			}
		case 0x13: // decimal128
			size = 16
		default:
			return nil, 0, errBSON
		}
		if size > len(p) {
			return nil, 0, errBSON
		}
		m[string(name)] = v
		p = p[size:]
	}
	return m, int(n), nil
}

// bsonStr reads a BSON string (int32 length including the NUL, bytes, NUL).
func bsonStr(p []byte) (string, int, error) {
	if len(p) < 4 {
		return "", 0, errBSON
	}
	l := binary.LittleEndian.Uint32(p)
	if l < 1 || uint64(l)+4 > uint64(len(p)) || p[3+l] != 0 {
		return "", 0, errBSON
	}
	return string(p[4 : 3+l]), 4 + int(l), nil
}

// bsonInt reads any BSON number as an integer.
func bsonInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		return int64(x), true
	}
	return 0, false
}
