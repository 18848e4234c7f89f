package data

import (
	"bytes"
	"compress/zlib"
	"io"
	"strconv"
	"unicode/utf16"
)

// pdfText extracts the text a text PDF shows: the strings of the Tj, TJ, ' and " operators of
// its content streams, uncompressed or Flate-compressed, with a line break for each text line
// (T*, Td and TD moving down, ET) and a space for wide TJ gaps. Hex strings are mapped through
// the ToUnicode CMaps the file carries (Vietnamese PDFs use composite fonts, whose codes mean
// nothing without one); literal strings are read as Latin-1 when no CMap applies. It is not a
// PDF renderer: scanned images, and streams with other filters, yield nothing.
func pdfText(b []byte, limit int64) []byte {
	streams := pdfStreams(b, limit)
	cmap := map[uint32]string{}
	for _, s := range streams {
		if bytes.Contains(s, []byte("begincmap")) {
			parseCMap(s, cmap)
		}
	}
	var out bytes.Buffer
	for _, s := range streams {
		if bytes.Contains(s, []byte("begincmap")) || !bytes.Contains(s, []byte("BT")) {
			continue
		}
		contentText(&out, s, cmap)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// pdfStreams returns the decoded data of every stream of b that has no filter or Flate.
func pdfStreams(b []byte, limit int64) [][]byte {
	var out [][]byte
	var total int64
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("stream"))
		if j < 0 {
			return out
		}
		p := i + j
		i = p + 6
		if p >= 3 && bytes.Equal(b[p-3:p], []byte("end")) {
			continue
		}
		start := p + 6
		if start < len(b) && b[start] == '\r' {
			start++
		}
		if start < len(b) && b[start] == '\n' {
			start++
		}
		end := bytes.Index(b[start:], []byte("endstream"))
		if end < 0 {
			return out
		}
		data := b[start : start+end]
		i = start + end + 9
		dictStart := bytes.LastIndex(b[max(0, p-2048):p], []byte("<<"))
		dict := []byte{}
		if dictStart >= 0 {
			dict = b[max(0, p-2048)+dictStart : p]
		}
		switch {
		case bytes.Contains(dict, []byte("/FlateDecode")):
			if bytes.Contains(dict, []byte("/DecodeParms")) && bytes.Contains(dict, []byte("/Predictor")) {
				continue // image or xref data, not text
			}
			zr, err := zlib.NewReader(bytes.NewReader(data))
			if err != nil {
				continue
			}
			dec, _ := io.ReadAll(io.LimitReader(zr, limit-total))
			total += int64(len(dec))
			data = dec
		case bytes.Contains(dict, []byte("/Filter")):
			continue // DCT, JBIG2, LZW …: not text we read
		}
		if bytes.Contains(dict, []byte("/Image")) || bytes.Contains(dict, []byte("/ObjStm")) || bytes.Contains(dict, []byte("/XRef")) {
			continue
		}
		out = append(out, data)
		if total >= limit {
			return out
		}
	}
}

// parseCMap reads bfchar and bfrange mappings of a ToUnicode CMap into m.
func parseCMap(s []byte, m map[uint32]string) {
	toks := pdfTokens(s)
	for i := 0; i < len(toks); i++ {
		switch string(toks[i].v) {
		case "beginbfchar":
			for i++; i+1 < len(toks) && string(toks[i].v) != "endbfchar"; i += 2 {
				if toks[i].kind == tokHex && toks[i+1].kind == tokHex {
					m[codeOf(toks[i].str)] = utf16BE(toks[i+1].str)
				}
			}
		case "beginbfrange":
			for i++; i+2 < len(toks) && string(toks[i].v) != "endbfrange"; i += 3 {
				lo, hi := codeOf(toks[i].str), codeOf(toks[i+1].str)
				if hi < lo || hi-lo > 0xffff {
					continue
				}
				if toks[i+2].kind == tokHex {
					base := []rune(utf16BE(toks[i+2].str))
					if len(base) == 0 {
						continue
					}
					for c := lo; c <= hi; c++ {
						r := append([]rune{}, base...)
						r[len(r)-1] += rune(c - lo)
						m[c] = string(r)
					}
				}
				// An array of destinations: rare in the CMaps text PDFs carry; skipped.
			}
		}
	}
}

func codeOf(b []byte) uint32 {
	var c uint32
	for _, x := range b {
		c = c<<8 | uint32(x)
	}
	return c
}

func utf16BE(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
	}
	return string(utf16.Decode(u))
}

type pdfTokKind uint8

const (
	tokOp pdfTokKind = iota
	tokNum
	tokLit
	tokHex
	tokName
	tokArrOpen
	tokArrClose
	tokOtherPDF
)

type pdfTok struct {
	kind pdfTokKind
	v    []byte // operator, number or name as written
	str  []byte // decoded string bytes
}

func isPDFSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isPDFDelim(c byte) bool {
	return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' || c == '}' || c == '/' || c == '%'
}

// pdfTokens splits a content stream into tokens.
func pdfTokens(s []byte) []pdfTok {
	var out []pdfTok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isPDFSpace(c):
			i++
		case c == '%':
			for i < len(s) && s[i] != '\n' && s[i] != '\r' {
				i++
			}
		case c == '(':
			str, n := literalString(s[i:])
			out = append(out, pdfTok{kind: tokLit, str: str})
			i += n
		case c == '<' && i+1 < len(s) && s[i+1] == '<':
			out = append(out, pdfTok{kind: tokOtherPDF, v: s[i : i+2]})
			i += 2
		case c == '>' && i+1 < len(s) && s[i+1] == '>':
			out = append(out, pdfTok{kind: tokOtherPDF, v: s[i : i+2]})
			i += 2
		case c == '<':
			j := bytes.IndexByte(s[i:], '>')
			if j < 0 {
				return out
			}
			out = append(out, pdfTok{kind: tokHex, str: hexString(s[i+1 : i+j])})
			i += j + 1
		case c == '[':
			out = append(out, pdfTok{kind: tokArrOpen})
			i++
		case c == ']':
			out = append(out, pdfTok{kind: tokArrClose})
			i++
		case c == '/':
			j := i + 1
			for j < len(s) && !isPDFSpace(s[j]) && !isPDFDelim(s[j]) {
				j++
			}
			out = append(out, pdfTok{kind: tokName, v: s[i:j]})
			i = j
		default:
			j := i
			for j < len(s) && !isPDFSpace(s[j]) && !isPDFDelim(s[j]) {
				j++
			}
			if j == i {
				i++
				continue
			}
			w := s[i:j]
			kind := tokOp
			if w[0] == '-' || w[0] == '+' || w[0] == '.' || w[0] >= '0' && w[0] <= '9' {
				kind = tokNum
			}
			out = append(out, pdfTok{kind: kind, v: w})
			i = j
		}
	}
	return out
}

// literalString decodes a (…) string with its escapes and balanced parentheses; n is the
// bytes consumed.
func literalString(s []byte) ([]byte, int) {
	var out []byte
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '(':
			if depth > 0 {
				out = append(out, c)
			}
			depth++
		case ')':
			depth--
			if depth == 0 {
				return out, i + 1
			}
			out = append(out, c)
		case '\\':
			if i+1 >= len(s) {
				return out, len(s)
			}
			i++
			switch e := s[i]; e {
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'b', 'f':
			case '\r', '\n':
				if e == '\r' && i+1 < len(s) && s[i+1] == '\n' {
					i++
				}
			default:
				if e >= '0' && e <= '7' {
					v, k := 0, 0
					for k < 3 && i+k < len(s) && s[i+k] >= '0' && s[i+k] <= '7' {
						v = v*8 + int(s[i+k]-'0')
						k++
					}
					out = append(out, byte(v))
					i += k - 1
				} else {
					out = append(out, e)
				}
			}
		default:
			out = append(out, c)
		}
	}
	return out, len(s)
}

func hexString(s []byte) []byte {
	var digits []byte
	for _, c := range s {
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' {
			digits = append(digits, c)
		}
	}
	if len(digits)%2 == 1 {
		digits = append(digits, '0')
	}
	out := make([]byte, len(digits)/2)
	for i := range out {
		v, _ := strconv.ParseUint(string(digits[2*i:2*i+2]), 16, 8)
		out[i] = byte(v)
	}
	return out
}

// showString writes the text of one shown string: through the CMap when its codes are in it
// (two bytes per code first, then one), as Latin-1 otherwise.
func showString(out *bytes.Buffer, s []byte, hex bool, cmap map[uint32]string) {
	if len(cmap) > 0 {
		if hex && len(s)%2 == 0 {
			ok := true
			var buf bytes.Buffer
			for i := 0; i < len(s); i += 2 {
				r, found := cmap[uint32(s[i])<<8|uint32(s[i+1])]
				if !found {
					ok = false
					break
				}
				buf.WriteString(r)
			}
			if ok {
				out.Write(buf.Bytes())
				return
			}
		}
		ok := true
		var buf bytes.Buffer
		for _, c := range s {
			r, found := cmap[uint32(c)]
			if !found {
				ok = false
				break
			}
			buf.WriteString(r)
		}
		if ok {
			out.Write(buf.Bytes())
			return
		}
	}
	for _, c := range s {
		out.WriteRune(rune(c))
	}
}

// contentText interprets the text operators of a content stream.
func contentText(out *bytes.Buffer, s []byte, cmap map[uint32]string) {
	toks := pdfTokens(s)
	newline := func() {
		if b := out.Bytes(); len(b) > 0 && b[len(b)-1] != '\n' {
			out.WriteByte('\n')
		}
	}
	var operands []pdfTok
	inArray := false
	var array []pdfTok
	for _, t := range toks {
		switch t.kind {
		case tokArrOpen:
			inArray, array = true, array[:0]
			continue
		case tokArrClose:
			inArray = false
			operands = append(operands, pdfTok{kind: tokArrClose})
			continue
		}
		if inArray {
			array = append(array, t)
			continue
		}
		if t.kind != tokOp {
			operands = append(operands, t)
			continue
		}
		switch string(t.v) {
		case "Tj", "'", "\"":
			if string(t.v) != "Tj" {
				newline()
			}
			if n := len(operands); n > 0 && (operands[n-1].kind == tokLit || operands[n-1].kind == tokHex) {
				showString(out, operands[n-1].str, operands[n-1].kind == tokHex, cmap)
			}
		case "TJ":
			for _, a := range array {
				switch a.kind {
				case tokLit, tokHex:
					showString(out, a.str, a.kind == tokHex, cmap)
				case tokNum:
					if f, err := strconv.ParseFloat(string(a.v), 64); err == nil && f < -200 {
						out.WriteByte(' ')
					}
				}
			}
		case "T*", "ET":
			newline()
		case "Td", "TD":
			if n := len(operands); n >= 2 {
				if f, err := strconv.ParseFloat(string(operands[n-1].v), 64); err == nil && f != 0 {
					newline()
				} else if b := out.Bytes(); len(b) > 0 && b[len(b)-1] != '\n' && b[len(b)-1] != ' ' {
					out.WriteByte(' ')
				}
			}
		case "Tm":
			newline()
		}
		operands = operands[:0]
	}
}
