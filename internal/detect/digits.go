package detect

import (
	"bytes"
	"encoding/binary"
	"unicode"
	"unicode/utf8"
)

func isDigit(c byte) bool { return c-'0' < 10 }

func isASCIILetter(c byte) bool { return (c|0x20)-'a' < 26 }

// hasDigit reports whether any byte of the little-endian word x is an ASCII digit: the
// "hasbetween" bit trick, exact for m < byte < n with m = '0'-1, n = '9'+1.
func hasDigit(x uint64) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
		low7  = ones * 127
		m, n  = '0' - 1, '9' + 1
	)
	return (ones*(127+n)-(x&low7))&^x&((x&low7)+ones*(127-m))&highs != 0
}

// nextDigit returns the index of the first ASCII digit at or after i, or len(b). Text is
// mostly letters, so it skips eight bytes at a time.
func nextDigit(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		if hasDigit(binary.LittleEndian.Uint64(b[i:])) {
			break
		}
	}
	for ; i < len(b); i++ {
		if isDigit(b[i]) {
			return i
		}
	}
	return len(b)
}

// runEnd returns the end of the run of digits starting at i.
func runEnd(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

// forEachRun calls fn with the bounds of each maximal run of ASCII digits; fn returns where
// to continue (at least end).
func forEachRun(b []byte, fn func(start, end int) int) {
	for i := 0; i < len(b); {
		s := nextDigit(b, i)
		if s == len(b) {
			return
		}
		e := runEnd(b, s+1)
		i = max(fn(s, e), e)
	}
}

// isJoiner reports whether c joins digit groups into one larger number: 1.234.567,
// 12/05/2024, 2024-05-12, 10:30. A comma is a decimal separator only before a short
// fraction (12,5), and separates fields in CSV, so numberEnd treats it apart.
func isJoiner(c byte) bool { return c == '.' || c == '-' || c == '/' || c == ':' }

// leftBound reports whether a number may start at s: not glued to a letter or an underscore,
// and not the tail of a larger number such as 1.001099000000 or 12/001099000000.
func leftBound(b []byte, s int) bool {
	if s == 0 {
		return true
	}
	c := b[s-1]
	switch {
	case isASCIILetter(c) || c == '_':
		return false
	case isJoiner(c) || c == '+':
		return s < 2 || !isDigit(b[s-2])
	case c >= utf8.RuneSelf:
		r, _ := utf8.DecodeLastRune(b[:s])
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}
	return true
}

// rightBound reports whether a number may end at e, mirroring leftBound. A full stop or comma
// followed by a space or the end ends a sentence, not a number.
func rightBound(b []byte, e int) bool {
	if e >= len(b) {
		return true
	}
	c := b[e]
	switch {
	case isASCIILetter(c) || c == '_':
		return false
	case isJoiner(c):
		return e+1 >= len(b) || !isDigit(b[e+1])
	case c == ',': // 123456789,5 is an amount; 001099000123,0901234567 two fields
		return e+1 >= len(b) || !isDigit(b[e+1]) || runEnd(b, e+1)-(e+1) > 2
	case c >= utf8.RuneSelf:
		r, _ := utf8.DecodeRune(b[e:])
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}
	return true
}

// lineCounter turns offsets, asked in increasing order, into 1-based line numbers.
type lineCounter struct {
	b    []byte
	pos  int
	line int
}

func (l *lineCounter) at(off int) int {
	if l.line == 0 {
		l.line = 1
	}
	if off < l.pos { // out of order: count again from the start
		l.pos, l.line = 0, 1
	}
	l.line += bytes.Count(l.b[l.pos:off], []byte{'\n'})
	l.pos = off
	return l.line
}

// mask keeps the first keep characters of an ASCII canonical value and replaces the others
// with '*'; separators ('-') are kept so the shape stays readable.
func mask(v string, keep int) string {
	out := []byte(v)
	n := 0
	for i, c := range out {
		if !isDigit(c) {
			continue
		}
		if n >= keep {
			out[i] = '*'
		}
		n++
	}
	return string(out)
}

// digitsOf returns the ASCII digits of raw, in order.
func digitsOf(raw []byte) string {
	out := make([]byte, 0, len(raw))
	for _, c := range raw {
		if isDigit(c) {
			out = append(out, c)
		}
	}
	return string(out)
}
