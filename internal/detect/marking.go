package detect

import (
	"bytes"
	"encoding/binary"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Levels of state secrets (Law 29/2018/QH14), in the order of the stamps of Form 02 of
// Circular 24/2020/TT-BCA.
type level uint8

const (
	levelMat level = iota + 1
	levelToiMat
	levelTuyetMat
)

var levelText = [...]string{levelMat: "MẬT", levelToiMat: "TỐI MẬT", levelTuyetMat: "TUYỆT MẬT"}

// marking finds one level of state-secret marking, as a stamp: upper case and alone in its
// line or table cell ("TUYỆT MẬT", "** MẬT **", "│ TỐI MẬT │"), in brackets anywhere ("[MẬT]"),
// or as the value of a secrecy-level field ("Độ mật: Tối mật"). The word mật in prose — bí
// mật, mật khẩu, mật độ, Mật ong, BẢO MẬT — is not a marking. Text with and without
// diacritics, composed or decomposed, is read alike.
type marking struct {
	id    string
	level level
}

func (m marking) ID() string { return m.id }

func (m marking) canonical([]byte) string { return levelText[m.level] }

// maxStampLine bounds the lines analysed whole. In longer lines (minified HTML, JSON on one
// line) each candidate is analysed in a window around it, so the work stays linear.
const (
	maxStampLine = 1024
	stampWindow  = 128
)

func (m marking) Find(b []byte, emit func(Match)) {
	findStamps(b, func(st stamp, line int) {
		if st.level == m.level {
			emit(m.match(st, line))
		}
	})
}

func (m marking) match(st stamp, line int) Match {
	return Match{Detector: m.id, Offset: st.start, Len: st.end - st.start, Masked: levelText[st.level],
		Confidence: st.conf, Line: line}
}

// findStamps calls fn for every stamp of any level in b, in order, with its line.
func findStamps(b []byte, fn func(st stamp, line int)) {
	lines := lineCounter{b: b}
	var toks []tok
	ls, le := 0, -1 // bounds of the line of the last candidate
	for i := 0; i < len(b); {
		p := nextM(b, i)
		if p == len(b) {
			return
		}
		if !isMatToken(b, p) {
			i = p + 1
			continue
		}
		if p > le {
			ls = bytes.LastIndexByte(b[:p], '\n') + 1
			le = len(b)
			if j := bytes.IndexByte(b[p:], '\n'); j >= 0 {
				le = p + j
			}
		}
		ws, we := ls, le
		if le-ls > maxStampLine {
			ws, we = max(ls, p-stampWindow), min(le, p+stampWindow)
			for ws < p && !utf8.RuneStart(b[ws]) {
				ws++
			}
			for we < le && !utf8.RuneStart(b[we]) {
				we++
			}
		}
		toks = tokenize(toks[:0], b, ws, we)
		for _, st := range stamps(toks, ws == ls, we == le) {
			if ws != ls && (p < st.start || p >= st.end) {
				continue // in a window, only the phrase of this candidate
			}
			fn(st, lines.at(st.start))
		}
		if ws == ls && we == le {
			i = le + 1
		} else {
			i = p + 1
		}
	}
}

// nextM returns the index of the next 'M' or 'm' at or after i, eight bytes at a time.
func nextM(b []byte, i int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:]) | ones*0x20 ^ ones*'m' // zero bytes were M or m
		if (x-ones)&^x&highs != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i]|0x20 == 'm' {
			return i
		}
	}
	return len(b)
}

// isMatToken reports whether the word starting at p is mật (MẬT, mat, decomposed …).
func isMatToken(b []byte, p int) bool {
	if !maybeMat(b[p+1:]) {
		return false
	}
	if p > 0 {
		if c := b[p-1]; c < utf8.RuneSelf {
			if isASCIILetter(c) {
				return false
			}
		} else if r, _ := utf8.DecodeLastRune(b[:p]); unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) {
			return false
		}
	}
	i := p + 1
	a, n := readLetter(b, i)
	if n == 0 || a.base != 'a' || a.marks != 0 && a.marks != markCirc|markDot {
		return false
	}
	i += n
	t, n := readLetter(b, i)
	if n == 0 || t.base != 't' || t.marks != 0 {
		return false
	}
	_, n = readLetter(b, i+n)
	return n == 0
}

// maybeMat is a fast test of what follows an m: "at", "ật" (precomposed), or an a, â or ạ
// with combining marks. Most m's of Vietnamese text (một, năm, mình) fail it at once.
func maybeMat(b []byte) bool {
	switch {
	case len(b) >= 2 && (b[0]|0x20) == 'a':
		return b[1]|0x20 == 't' || b[1] == 0xcc || b[1] == 0xcd
	case len(b) >= 4 && b[0] == 0xe1 && b[1] == 0xba && (b[2] == 0xac || b[2] == 0xad): // Ậ ậ
		return b[3]|0x20 == 't'
	case len(b) >= 3 && b[0] == 0xc3 && (b[1] == 0x82 || b[1] == 0xa2): // Â â + dot below
		return b[2] == 0xcc
	case len(b) >= 4 && b[0] == 0xe1 && b[1] == 0xba && (b[2] == 0xa0 || b[2] == 0xa1): // Ạ ạ + circumflex
		return b[3] == 0xcc
	}
	return false
}

// Diacritics of Vietnamese letters.
const (
	markGrave uint16 = 1 << iota
	markAcute
	markCirc
	markTilde
	markHook
	markDot
	markBreve
	markHorn
	markStroke
	markOther
)

// letter is one letter as written: its base in lower-case ASCII ('d' for đ; 0 outside Latin),
// its case and its diacritics, whether precomposed or combining.
type letter struct {
	base  byte
	upper bool
	marks uint16
}

// readLetter reads the letter at b[i:] with any combining marks after it; n is 0 if there is
// no letter there.
func readLetter(b []byte, i int) (l letter, n int) {
	if i >= len(b) {
		return letter{}, 0
	}
	c := b[i]
	switch {
	case c < utf8.RuneSelf:
		if !isASCIILetter(c) {
			return letter{}, 0
		}
		l, n = letter{base: c | 0x20, upper: c < 'a'}, 1
	default:
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == 'đ' || r == 'Đ':
			l = letter{base: 'd', upper: r == 'Đ', marks: markStroke}
		case !unicode.IsLetter(r):
			return letter{}, 0
		default:
			l.upper = unicode.IsUpper(r)
			if d := norm.NFD.Properties(b[i:]).Decomposition(); len(d) > 0 && d[0] < utf8.RuneSelf {
				l.base = d[0] | 0x20
				for j := 1; j < len(d); {
					m, k := utf8.DecodeRune(d[j:])
					l.marks |= markOf(m)
					j += k
				}
			} else if r < utf8.RuneSelf {
				l.base = byte(r) | 0x20
			}
		}
		n = size
	}
	for i+n < len(b) && b[i+n] >= 0xcc && b[i+n] <= 0xcd { // U+0300–U+036F start with CC or CD
		m, k := utf8.DecodeRune(b[i+n:])
		if m < 0x300 || m > 0x36f {
			break
		}
		l.marks |= markOf(m)
		n += k
	}
	return l, n
}

func markOf(m rune) uint16 {
	switch m {
	case 0x300, 0x340:
		return markGrave
	case 0x301, 0x341:
		return markAcute
	case 0x302:
		return markCirc
	case 0x303:
		return markTilde
	case 0x309:
		return markHook
	case 0x323:
		return markDot
	case 0x306:
		return markBreve
	case 0x31b:
		return markHorn
	}
	return markOther
}

// tok is a word, a run of spaces, a digit or another character of one line.
type tok struct {
	kind       byte // tokWord, tokSpace, tokDigit, tokOther
	start, end int
	r          rune // for tokOther
	n          int  // letters in a word
	upper      bool // every letter upper case
	firstUpper bool // the first letter upper case
	innerUpper bool // a letter after the first upper case
	base       [8]byte
	marks      [8]uint16
}

const (
	tokWord byte = iota + 1
	tokSpace
	tokDigit
	tokOther
)

// tokenize splits b[start:end] into tokens, appending to dst.
func tokenize(dst []tok, b []byte, start, end int) []tok {
	line := b[:end]
	for i := start; i < end; {
		if l, n := readLetter(line, i); n > 0 {
			t := tok{kind: tokWord, start: i, upper: true, firstUpper: l.upper}
			for n > 0 {
				if t.n < len(t.base) {
					t.base[t.n], t.marks[t.n] = l.base, l.marks
				}
				if t.n > 0 && l.upper {
					t.innerUpper = true
				}
				t.n++
				t.upper = t.upper && l.upper
				i += n
				l, n = readLetter(line, i)
			}
			t.end = i
			dst = append(dst, t)
			continue
		}
		r, n := utf8.DecodeRune(line[i:])
		kind := tokOther
		switch {
		case r == '\t':
		case unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff':
			kind = tokSpace
		case unicode.IsDigit(r):
			kind = tokDigit
		}
		if kind == tokSpace && len(dst) > 0 && dst[len(dst)-1].kind == tokSpace {
			dst[len(dst)-1].end = i + n
		} else {
			dst = append(dst, tok{kind: kind, start: i, end: i + n, r: r})
		}
		i += n
	}
	return dst
}

// A word form: its base letters and the diacritics of its written form. A word matches in
// that form or with no diacritics at all.
type form struct {
	base  string
	marks []uint16
}

var (
	formMat   = form{"mat", []uint16{0, markCirc | markDot, 0}}
	formToi   = form{"toi", []uint16{0, markCirc | markAcute, 0}}
	formTuyet = form{"tuyet", []uint16{0, 0, 0, markCirc | markDot, 0}}
	formDo    = form{"do", []uint16{markStroke, markCirc | markDot}}
)

// is reports whether t is the word f, and whether it carried the diacritics.
func (t *tok) is(f form) (ok, accented bool) {
	if t.kind != tokWord || t.n != len(f.base) {
		return false, false
	}
	plain, full := true, true
	for i := range t.n {
		if t.base[i] != f.base[i] {
			return false, false
		}
		plain = plain && t.marks[i]&^markStroke == 0
		full = full && t.marks[i] == f.marks[i]
	}
	return plain || full, full
}

type stamp struct {
	level      level
	start, end int
	conf       float64
}

// stamps finds the markings of one tokenized line, or of a window of a long line whose start
// and end may not be the line's.
func stamps(toks []tok, lineStart, lineEnd bool) []stamp {
	var out []stamp
	for k := 0; k < len(toks); k++ {
		lv, last, accented, upper := phraseAt(toks, k)
		if lv == 0 {
			continue
		}
		conf := 0.0
		switch {
		case isField(toks, k, last):
			conf = confHigh
			if !accented {
				conf = 0.9
			}
		case upper && (alone(toks, k, last, lineStart, lineEnd) || bracketed(toks, k, last)):
			switch {
			case accented:
				conf = confHigh
			case lv != levelMat:
				conf = 0.9 // TOI MAT, TUYET MAT: two words, still specific
			default:
				conf = 0.7 // a bare MAT could be anything
			}
		}
		if conf > 0 {
			out = append(out, stamp{level: lv, start: toks[k].start, end: toks[last].end, conf: conf})
		}
		k = last
	}
	return out
}

// phraseAt reads a marking phrase starting at token k: TUYỆT MẬT, TỐI MẬT or MẬT, in any
// case. last is the index of its last token.
func phraseAt(toks []tok, k int) (lv level, last int, accented, upper bool) {
	t := &toks[k]
	if ok, acc := t.is(formMat); ok {
		return levelMat, k, acc, t.upper
	}
	if k+2 >= len(toks) || toks[k+1].kind != tokSpace {
		return 0, 0, false, false
	}
	m := &toks[k+2]
	okM, accM := m.is(formMat)
	if !okM {
		return 0, 0, false, false
	}
	if ok, acc := t.is(formTuyet); ok {
		return levelTuyetMat, k + 2, acc && accM, t.upper && m.upper
	}
	if ok, acc := t.is(formToi); ok {
		return levelToiMat, k + 2, acc && accM, t.upper && m.upper
	}
	return 0, 0, false, false
}

// isCellBreak reports whether t separates table cells or boxed text.
func isCellBreak(t *tok) bool {
	return t.kind == tokOther && (t.r == '\t' || t.r == '|' || t.r == '│' || t.r == '║' || t.r == '┃')
}

// alone reports whether toks[k:last+1] is the only content of its line or cell: everything
// else in it is spaces or punctuation. Reaching the edge of a window that is not the edge of
// the line proves nothing.
func alone(toks []tok, k, last int, lineStart, lineEnd bool) bool {
	i := k - 1
	for ; i >= 0 && !isCellBreak(&toks[i]); i-- {
		if toks[i].kind == tokWord || toks[i].kind == tokDigit {
			return false
		}
	}
	if i < 0 && !lineStart {
		return false
	}
	j := last + 1
	for ; j < len(toks) && !isCellBreak(&toks[j]); j++ {
		if toks[j].kind == tokWord || toks[j].kind == tokDigit {
			return false
		}
	}
	return j < len(toks) || lineEnd
}

// closing returns the bracket that closes r, or 0.
func closing(r rune) rune {
	switch r {
	case '[':
		return ']'
	case '(':
		return ')'
	case '{':
		return '}'
	case '<':
		return '>'
	case '«':
		return '»'
	case '【':
		return '】'
	case '〔':
		return '〕'
	case '「':
		return '」'
	case '『':
		return '』'
	case '〈':
		return '〉'
	}
	return 0
}

// bracketed reports whether toks[k:last+1] is enclosed in a pair of brackets: [MẬT].
func bracketed(toks []tok, k, last int) bool {
	i, j := k-1, last+1
	for i >= 0 && toks[i].kind == tokSpace {
		i--
	}
	for j < len(toks) && toks[j].kind == tokSpace {
		j++
	}
	if i < 0 || j >= len(toks) || toks[i].kind != tokOther || toks[j].kind != tokOther {
		return false
	}
	c := closing(toks[i].r)
	return c != 0 && toks[j].r == c
}

// isField reports whether toks[k:last+1] is the value of a secrecy-level field, "Độ mật:
// Tối mật", ended by punctuation or the line ("Độ mật: mật độ cao" is no field).
func isField(toks []tok, k, last int) bool {
	i := k - 1
	for i >= 0 && toks[i].kind == tokSpace {
		i--
	}
	if i < 0 || toks[i].kind != tokOther || toks[i].r != ':' && toks[i].r != '-' && toks[i].r != '–' {
		return false
	}
	i--
	for i >= 0 && toks[i].kind == tokSpace {
		i--
	}
	if i < 2 || toks[i-1].kind != tokSpace {
		return false
	}
	if ok, _ := toks[i].is(formMat); !ok {
		return false
	}
	if ok, _ := toks[i-2].is(formDo); !ok {
		return false
	}
	j := last + 1
	for j < len(toks) && toks[j].kind == tokSpace {
		j++
	}
	return j == len(toks) || toks[j].kind != tokWord && toks[j].kind != tokDigit
}
