package detect

import "encoding/binary"

// The internal-circulation markings below the state-secret levels: "KHÔNG PHỔ BIẾN" (not to be
// disseminated) and "LƯU HÀNH NỘI BỘ" (internal circulation). They are not state secrets, but a
// document carrying one does not belong on a public site or in test data.
type lowerKind uint8

const (
	lowerKhongPhoBien lowerKind = iota + 1
	lowerNoiBo
)

var lowerText = [...]string{lowerKhongPhoBien: "KHÔNG PHỔ BIẾN", lowerNoiBo: "LƯU HÀNH NỘI BỘ"}

var (
	formKhong = form{"khong", []uint16{0, 0, markCirc, 0, 0}}
	formPho   = form{"pho", []uint16{0, 0, markCirc | markHook}}
	formBien  = form{"bien", []uint16{0, 0, markCirc | markAcute, 0}}
	formLuu   = form{"luu", []uint16{0, markHorn, 0}}
	formHanh  = form{"hanh", []uint16{0, markGrave, 0, 0}}
	formNoi   = form{"noi", []uint16{0, markCirc | markDot, 0}}
	formBo    = form{"bo", []uint16{0, markCirc | markDot}}
	formTai   = form{"tai", []uint16{0, markGrave, 0}}
	formLieu  = form{"lieu", []uint16{0, 0, markCirc | markDot, 0}}
)

// lowerMarking finds one lower marking. "KHÔNG PHỔ BIẾN" is ordinary Vietnamese for "uncommon",
// so it counts only as a stamp: upper case and alone in its line or cell, or in brackets (an
// optional "TÀI LIỆU" before it is part of the stamp). "LƯU HÀNH NỘI BỘ" says what it is in any
// case: upper case anywhere, or a line of its own ("Tài liệu lưu hành nội bộ"), is strong, and a
// sentence saying so is medium.
type lowerMarking struct {
	id   string
	kind lowerKind
}

func (m lowerMarking) ID() string { return m.id }

func (m lowerMarking) canonical([]byte) string { return lowerText[m.kind] }

// nextB returns the index of the next 'B' or 'b' at or after i, eight bytes at a time.
func nextB(b []byte, i int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:]) | ones*0x20 ^ ones*'b'
		if (x-ones)&^x&highs != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i]|0x20 == 'b' {
			return i
		}
	}
	return len(b)
}

// maybeLowerEnd is a fast test of the bytes after a b: "bộ", "bo", "biến", "bien", composed or
// decomposed, upper or lower case.
func maybeLowerEnd(b []byte) bool {
	switch {
	case len(b) >= 3 && b[0] == 0xe1 && b[1] == 0xbb && (b[2] == 0x98 || b[2] == 0x99): // Ộ ộ
		return true
	case len(b) >= 1 && b[0]|0x20 == 'o':
		return len(b) == 1 || !isASCIILetter(b[1])
	case len(b) >= 2 && b[0]|0x20 == 'i':
		return b[1]|0x20 == 'e' || b[1] == 0xe1
	case len(b) >= 2 && (b[0] == 0xc3 && (b[1] == 0x94 || b[1] == 0xb4)): // Ô ô + dot below
		return true
	case len(b) == 0:
		return false
	}
	return false
}

func (m lowerMarking) Find(b []byte, emit func(Match)) {
	lines := lineCounter{b: b}
	var toks []tok
	done := -1 // end of the last line analysed whole
	for i := 0; i < len(b); {
		p := nextB(b, i)
		if p == len(b) {
			return
		}
		i = p + 1
		if p <= done || p > 0 && isASCIILetter(b[p-1]) || !maybeLowerEnd(b[p+1:]) {
			continue
		}
		ls, le := lineBounds(b, p)
		ws, we := ls, le
		if le-ls > maxStampLine {
			ws, we = max(ls, p-stampWindow), min(le, p+stampWindow)
			for ws < p && !utf8RuneStart(b[ws]) {
				ws++
			}
			for we < le && !utf8RuneStart(b[we]) {
				we++
			}
		} else {
			done = le
		}
		toks = tokenize(toks[:0], b, ws, we)
		for k := 0; k < len(toks); k++ {
			kind, last, accented, upper := lowerPhraseAt(toks, k)
			if kind == 0 {
				continue
			}
			if kind != m.kind || ws != ls && (p < toks[k].start || p >= toks[last].end) {
				k = last
				continue
			}
			first := k
			if k >= 4 && toks[k-1].kind == tokSpace && toks[k-3].kind == tokSpace {
				if ok, _ := toks[k-4].is(formTai); ok {
					if ok, _ := toks[k-2].is(formLieu); ok {
						first = k - 4
					}
				}
			}
			stamp := alone(toks, first, last, ws == ls, we == le) || bracketed(toks, first, last)
			conf := 0.0
			switch {
			case upper && stamp:
				conf = 0.9
				if accented {
					conf = confHigh
				}
			case m.kind == lowerNoiBo && upper:
				conf = 0.9
			case m.kind == lowerNoiBo && stamp:
				conf = 0.85
			case m.kind == lowerNoiBo:
				conf = 0.7
			}
			if conf > 0 {
				s, e := toks[k].start, toks[last].end
				emit(Match{Detector: m.id, Offset: s, Len: e - s, Masked: lowerText[m.kind], Confidence: conf, Line: lines.at(s)})
			}
			k = last
		}
	}
}

// lowerPhraseAt reads "không phổ biến" or "lưu hành nội bộ" starting at token k.
func lowerPhraseAt(toks []tok, k int) (kind lowerKind, last int, accented, upper bool) {
	var forms []form
	switch {
	case isForm(&toks[k], formKhong):
		kind, forms = lowerKhongPhoBien, []form{formKhong, formPho, formBien}
	case isForm(&toks[k], formLuu):
		kind, forms = lowerNoiBo, []form{formLuu, formHanh, formNoi, formBo}
	default:
		return 0, 0, false, false
	}
	accented, upper = true, true
	j := k
	for n, f := range forms {
		if n > 0 {
			if j+2 >= len(toks) || toks[j+1].kind != tokSpace {
				return 0, 0, false, false
			}
			j += 2
		}
		ok, acc := toks[j].is(f)
		if !ok {
			return 0, 0, false, false
		}
		accented = accented && acc
		upper = upper && toks[j].upper
	}
	return kind, j, accented, upper
}

func isForm(t *tok, f form) bool {
	ok, _ := t.is(f)
	return ok
}
