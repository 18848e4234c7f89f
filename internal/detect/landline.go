package detect

// landlineAreas marks the last two digits of the three-digit area codes 2xx in use since the
// 2017 renumbering (203 Quảng Ninh … 299 Sóc Trăng). Hà Nội (24) and Hồ Chí Minh City (28)
// have two-digit codes and eight-digit subscriber numbers; the others have seven.
var landlineAreas = func() (t [100]bool) {
	for _, a := range []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 25, 26,
		27, 28, 29, 32, 33, 34, 35, 36, 37, 38, 39, 51, 52, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 69, 70,
		71, 72, 73, 74, 75, 76, 77, 90, 91, 92, 93, 94, 96, 97, 99} {
		t[a] = true
	}
	return t
}()

// ValidLandline reports whether d, eleven digits starting with 02, is a fixed-line number: 024
// or 028 and eight digits, or a three-digit area code 2xx in use and seven digits.
func ValidLandline(d []byte) bool {
	if len(d) != 11 || d[0] != '0' || d[1] != '2' {
		return false
	}
	for _, c := range d {
		if !isDigit(c) {
			return false
		}
	}
	if d[2] == '4' || d[2] == '8' {
		return d[3] != '0' && d[3] != '1' // subscriber numbers do not start with 0 or 1
	}
	return landlineAreas[int(d[2]-'0')*10+int(d[3]-'0')] && d[4] != '0' && d[4] != '1'
}

// landline finds fixed-line numbers written 02438234567, 024 3823 4567, (024) 3823 4567,
// 024.3823.4567, 0236 3 822 222 or +84 24 3823 4567. An agency's switchboard is rarely personal
// data, so matches are medium at best; a number labelled as an account or an order is dropped.
type landline struct{}

func (landline) ID() string { return Landline }

func (landline) canonical(raw []byte) string {
	d := digitsOf(raw)
	if len(d) == 12 && d[:2] == "84" {
		return "0" + d[2:]
	}
	return d
}

// gatherChain collects the digit groups joined to the run b[s:e] by one space, dot or dash
// (or ") " after a bracketed first group, as in "(024) 3823 4567"); it returns their count.
func gatherChain(b []byte, s, e int, gs *[maxGroups]group, seps *[maxGroups]byte) int {
	n := 1
	gs[0] = group{s, e}
	for n < maxGroups {
		end := gs[n-1].e
		var next int
		switch {
		case end+1 < len(b) && (b[end] == ' ' || b[end] == '.' || b[end] == '-') && isDigit(b[end+1]):
			seps[n-1], next = b[end], end+1
		case n == 1 && end+2 < len(b) && b[end] == ')' && b[end+1] == ' ' && isDigit(b[end+2]) && s >= 1 && (b[s-1] == '(' || s >= 2 && b[s-1] == '+' && b[s-2] == '('):
			seps[n-1], next = ')', end+2
		default:
			next = -1
		}
		if next < 0 {
			break
		}
		gs[n] = group{next, runEnd(b, next+1)}
		n++
	}
	return n
}

func (landline) Find(b []byte, emit func(Match)) {
	lines := lineCounter{b: b}
	var (
		gs   [maxGroups]group
		seps [maxGroups]byte
		d    [16]byte
	)
	forEachRun(b, func(s, e int) int {
		if b[s] != '0' && b[s] != '8' {
			return e
		}
		n := gatherChain(b, s, e, &gs, &seps)
		j, digits, ok := landlineAt(b, gs[:n], seps[:n], &d)
		if !ok {
			return e // a later group may start a number of its own
		}
		start, end := s, gs[j-1].e
		if start > 0 && b[start-1] == '+' {
			start--
		}
		if start > 0 && b[start-1] == '(' {
			start--
		}
		conf := confMedium
		switch {
		case hasContext(b, start, end, landlineWords, aloneOnLine(b, start, end)):
			conf = confContext
		case hasContext(b, start, end, notIDWords, 0):
			return end
		}
		emit(Match{Detector: Landline, Offset: start, Len: end - start, Masked: mask(digits, 4),
			Confidence: conf, Line: lines.at(start)})
		return end
	})
}

// landlineAt reads a fixed-line number from the start of the chain gs: eleven national digits
// (0…) or twelve with the country code (84…, which needs its plus when split), in groups of
// one to eight digits after the first, with one kind of separator.
func landlineAt(b []byte, gs []group, seps []byte, d *[16]byte) (int, string, bool) {
	if !leftBound(b, gs[0].s) && !(gs[0].s > 0 && b[gs[0].s-1] == '(') {
		return 0, "", false
	}
	first := b[gs[0].s:gs[0].e]
	plus := gs[0].s > 0 && b[gs[0].s-1] == '+'
	want := 0
	switch {
	case first[0] == '0':
		want = 11
	case len(first) >= 2 && first[0] == '8' && first[1] == '4' && (plus || len(first) == 12):
		want = 12
	default:
		return 0, "", false
	}
	if len(first) != want && (len(first) < 2 || len(first) > 5) {
		return 0, "", false
	}
	out := append(d[:0], first...)
	j := 1
	var sep byte
	for len(out) < want && j < len(gs) {
		s, l := seps[j-1], gs[j].e-gs[j].s
		switch {
		case s == ')':
		case sep == 0:
			sep = s
		case s != sep:
			return 0, "", false
		}
		if l > 8 || len(out)+l > want {
			return 0, "", false
		}
		out = append(out, b[gs[j].s:gs[j].e]...)
		j++
	}
	if len(out) != want {
		return 0, "", false
	}
	if j < len(gs) && seps[j-1] != ' ' || j == len(gs) && !rightBound(b, gs[j-1].e) {
		return 0, "", false
	}
	national := string(out)
	if want == 12 {
		national = "0" + national[2:]
	}
	if !ValidLandline([]byte(national)) {
		return 0, "", false
	}
	return j, national, true
}
