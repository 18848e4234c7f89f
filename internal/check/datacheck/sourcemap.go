package datacheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/net/html/charset"

	"github.com/khien-vn/khien/internal/detect"
)

// readSourceMap reads a source map (ECMA-426) from body, at most limit bytes of it, and scans
// the original files of its sourcesContent with the credential detectors. It returns page,
// the map, and one page more for each original file with findings, its Source naming the file
// (sources[i], else "sources[i]") and its line numbers counted within that file.
//
// Production maps run to tens of megabytes, most of it the original files and the mappings,
// so a map is decoded as a stream (encoding/json's Decoder) and never held whole: each file is
// unquoted into one buffer, reused, scanned and dropped, so that one file at a time is in
// memory; a file longer than MaxBody is not scanned but counted in page.LargeSources. The
// decoder does buffer one whole JSON value at a time, though, so a value passed over — the
// "mappings" string, often as long as the files together — goes through its buffer once: a
// transient allocation bounded by limit, never copied into a string (skipValue). A map cut at
// limit is scanned up to the cut and marked Truncated; one that is not JSON, or breaks off
// before the cut, gets an Error, and the findings of the files read before it still count.
func (c *crawler) readSourceMap(page Page, body io.Reader, limit int64, contentType string) []Page {
	cr := &capReader{r: body, left: limit}
	br := bufio.NewReader(textReader(cr, contentType))
	skipPrefix(br, "\xef\xbb\xbf")
	skipPrefix(br, ")]}'") // the anti-XSSI prefix the format allows
	m := &mapReader{dec: json.NewDecoder(br), max: c.cfg.MaxBody, scan: func(text []byte) detect.Report {
		return detect.Scan(text, c.secrets, c.opts)
	}}
	err := m.read()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF // the map ended before its object did
	}
	page.Bytes = int(cr.read)
	page.LargeSources = m.large
	page.Truncated = cr.cut
	switch {
	case err == nil:
	case cr.err != nil:
		page.Error = unwrapURLError(cr.err).Error()
	case cr.cut && errors.Is(err, io.ErrUnexpectedEOF):
		// The map was cut, not broken: what came before the cut is read.
	default:
		page.Error = "not a source map: " + err.Error()
	}
	page.Scanned = m.opened && (page.Error == "" || m.files > 0)
	out := []Page{page}
	for _, f := range m.found {
		p := page
		p.LargeSources = 0 // the map's count, not the file's
		p.Source = fmt.Sprintf("sources[%d]", f.index)
		if f.index < len(m.names) && m.names[f.index] != "" {
			p.Source = m.names[f.index]
		}
		p.Report = f.rep
		out = append(out, p)
	}
	return out
}

// mapReader walks the top-level object of a source map, token by token.
type mapReader struct {
	dec  *json.Decoder
	max  int64                           // the longest original file scanned
	scan func(text []byte) detect.Report // scans one original file
	buf  []byte                          // the original file being scanned

	opened bool      // the top-level object began
	names  []string  // sources; it may come after sourcesContent, so names are given at the end
	found  []mapFile // the original files with findings, in order
	files  int       // original files read
	large  int       // original files longer than max, skipped
}

// mapFile is the report of the original file at index in sourcesContent.
type mapFile struct {
	index int
	rep   detect.Report
}

func (m *mapReader) read() error {
	if err := m.delim('{'); err != nil {
		return err
	}
	m.opened = true
	for m.dec.More() {
		t, err := m.dec.Token()
		if err != nil {
			return err
		}
		key, _ := t.(string) // Token returns an object's keys as strings
		switch key {
		case "sourcesContent":
			err = m.contents()
		case "sources":
			err = m.dec.Decode((*sourceNames)(&m.names))
		default:
			err = m.dec.Decode(&skipValue{})
		}
		if err != nil {
			return err
		}
	}
	return m.delim('}')
}

// contents scans the original files of sourcesContent, one at a time.
func (m *mapReader) contents() error {
	t, err := m.dec.Token()
	if err != nil {
		return err
	}
	switch t {
	case json.Delim('['):
	case json.Delim('{'):
		return errors.New("sourcesContent is an object, not an array")
	default:
		return nil // null, or a scalar: no files
	}
	f := &sourceFile{m: m}
	for ; m.dec.More(); f.index++ {
		if err := m.dec.Decode(f); err != nil {
			return err
		}
	}
	return m.delim(']')
}

// delim reads the next token, which must be want.
func (m *mapReader) delim(want json.Delim) error {
	t, err := m.dec.Token()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return err
	}
	if t != want {
		return fmt.Errorf("%s where %q was expected", describe(t), want)
	}
	return nil
}

// describe names a token for an error without quoting it: a string may be long, or a secret.
func describe(t json.Token) string {
	switch t := t.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", rune(t))
	case string:
		return "a string"
	case nil:
		return "null"
	}
	return fmt.Sprintf("a %T", t)
}

// sourceFile receives one element of sourcesContent from the decoder, as the raw JSON still
// in the decoder's buffer, so that the text is unquoted once, into the mapReader's buffer.
type sourceFile struct {
	m     *mapReader
	index int
}

func (f *sourceFile) UnmarshalJSON(raw []byte) error {
	if len(raw) < 2 || raw[0] != '"' {
		return nil // null (a file the map does not carry), or not text
	}
	m := f.m
	m.files++
	text, ok := unquote(m.buf[:0], raw, m.max)
	m.buf = text[:0]
	if !ok {
		m.large++
		return nil
	}
	if len(text) == 0 {
		return nil
	}
	if rep := m.scan(text); len(rep.Findings) > 0 {
		m.found = append(m.found, mapFile{index: f.index, rep: rep})
	}
	return nil
}

// sourceNames receives sources, the names of the original files: small, so read whole. An
// entry that is not a string, or a value that is not an array, names nothing.
type sourceNames []string

func (n *sourceNames) UnmarshalJSON(raw []byte) error {
	var vs []any
	if json.Unmarshal(raw, &vs) != nil {
		*n = nil
		return nil
	}
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i], _ = v.(string)
	}
	*n = names
	return nil
}

// skipValue passes over a value: the decoder has checked it, and nothing of it is copied.
type skipValue struct{}

func (*skipValue) UnmarshalJSON([]byte) error { return nil }

// unquote appends to dst the text of raw, a JSON string literal with its quotes that the
// decoder has checked, as encoding/json decodes it: invalid UTF-8 and lone surrogates become
// U+FFFD. It stops and says false once the text would pass max bytes, so that a file too long
// is never held whole.
func unquote(dst, raw []byte, max int64) ([]byte, bool) {
	s := raw[1 : len(raw)-1]
	for len(s) > 0 {
		run := s
		i := bytes.IndexByte(s, '\\')
		if i >= 0 {
			run = s[:i]
		}
		// A run without escapes decodes to at least as many bytes as it has.
		if int64(len(dst)+len(run)) > max {
			return dst, false
		}
		dst = appendUTF8(dst, run)
		if i < 0 {
			break
		}
		c := s[i+1]
		s = s[i+2:]
		switch c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s)
			s = s[4:]
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
					r2 = hex4(s[2:])
				}
				if d := utf16.DecodeRune(r, r2); d != unicode.ReplacementChar {
					r, s = d, s[6:]
				} else {
					r = unicode.ReplacementChar
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
	}
	return dst, int64(len(dst)) <= max
}

// appendUTF8 appends b to dst with each byte of invalid UTF-8 replaced by U+FFFD.
func appendUTF8(dst, b []byte) []byte {
	if utf8.Valid(b) {
		return append(dst, b...)
	}
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, b[:n]...)
		}
		b = b[n:]
	}
	return dst
}

// hex4 reads the four hexadecimal digits of a \u escape, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// capReader reads at most left bytes of r, then reports io.EOF, having looked one byte
// further to tell whether r was cut.
type capReader struct {
	r      io.Reader
	left   int64
	read   int64
	cut    bool  // r had more than the cap
	probed bool  // the byte past the cap was looked for
	err    error // the first error of r other than io.EOF: the network's, not the map's
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		if !c.probed {
			c.probed = true
			var one [1]byte
			n, _ := io.ReadFull(c.r, one[:])
			c.cut = n > 0
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	c.read += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// skipPrefix drops prefix from the start of r, if it is there.
func skipPrefix(r *bufio.Reader, prefix string) {
	if b, _ := r.Peek(len(prefix)); string(b) == prefix {
		_, _ = r.Discard(len(prefix))
	}
}

// textReader is decodeText for a stream: a body declared in another charset than UTF-8 is
// converted as it is read.
func textReader(r io.Reader, contentType string) io.Reader {
	_, params, _ := mime.ParseMediaType(contentType)
	cs := params["charset"]
	if cs == "" || strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8") {
		return r
	}
	e, _ := charset.Lookup(cs)
	if e == nil {
		return r
	}
	return e.NewDecoder().Reader(r)
}
