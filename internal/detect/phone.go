package detect

// mobilePrefixes marks the two digits after the leading 0 of the mobile ranges in use since
// the 2018 renumbering of 11-digit numbers: Viettel 032–039, 086, 096–098; MobiFone 070,
// 076–079, 089, 090, 093; VinaPhone 081–085, 088, 091, 094; Vietnamobile 052, 056, 058, 092;
// Gmobile 059, 099; Itel 087. Number portability means a prefix says nothing of the network.
var mobilePrefixes = func() (t [100]bool) {
	for _, p := range []int{32, 33, 34, 35, 36, 37, 38, 39, 52, 56, 58, 59, 70, 76, 77, 78, 79,
		81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 96, 97, 98, 99} {
		t[p] = true
	}
	return t
}()

// ValidMobile reports whether d, ten digits starting with 0, is in a current mobile range.
func ValidMobile(d []byte) bool {
	if len(d) != 10 || d[0] != '0' {
		return false
	}
	for _, c := range d {
		if !isDigit(c) {
			return false
		}
	}
	return mobilePrefixes[int(d[1]-'0')*10+int(d[2]-'0')]
}

// phone finds mobile numbers written 0901234567, 090 123 4567, 090.123.4567, 0901-234-567,
// +84 90 123 4567, (+84) 901 234 567 or 84901234567. Landlines (02x, 11 digits), the old
// 01x mobile numbers and 1800/1900 hotlines are not mobile numbers.
type phone struct{}

func (phone) ID() string { return Phone }

// canonical writes every form as the ten national digits.
func (phone) canonical(raw []byte) string {
	d := digitsOf(raw)
	if len(d) == 11 && d[:2] == "84" {
		return "0" + d[2:]
	}
	return d
}

// maxGroups bounds a chain of digit groups: a phone has at most five.
const maxGroups = 8

type group struct{ s, e int }

func (phone) Find(b []byte, emit func(Match)) {
	lines := lineCounter{b: b}
	var digits [12]byte
	forEachRun(b, func(s, e int) int {
		// Gather the chain of groups joined by one space, dot or dash, and the "(+84) " form.
		var (
			gs   [maxGroups]group
			seps [maxGroups]byte
			n    = 1
		)
		gs[0] = group{s, e}
		for n < maxGroups {
			end := gs[n-1].e
			var next int
			switch {
			case end+1 < len(b) && (b[end] == ' ' || b[end] == '.' || b[end] == '-') && isDigit(b[end+1]):
				seps[n-1], next = b[end], end+1
			case n == 1 && end+2 < len(b) && b[end] == ')' && b[end+1] == ' ' && isDigit(b[end+2]) && s >= 2 && b[s-1] == '+' && b[s-2] == '(':
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
		chainEnd := gs[n-1].e
		for k := 0; k < n; {
			j, ok := phoneAt(b, gs[:n], seps[:n], k, &digits)
			if !ok {
				k++
				continue
			}
			start, end := gs[k].s, gs[j-1].e
			if start > 0 && b[start-1] == '+' {
				start--
				if start > 0 && b[start-1] == '(' {
					start--
				}
			}
			d := digits[:0]
			for _, g := range gs[k:j] {
				d = append(d, b[g.s:g.e]...)
			}
			national := string(d)
			if d[0] == '8' {
				national = "0" + string(d[2:])
			}
			conf := confMedium
			if hasContext(b, start, end, phoneWords, 1) {
				conf = confContext
			} else if hasContext(b, start, end, notIDWords, 0) || hasContext(b, start, end, socialWords, 1) {
				// An account, an order or a social-insurance number that happens to fall in a
				// mobile range.
				k = j
				continue
			} else if j == k+1 && len(d) == 10 && validTax10(d) && hasContext(b, start, end, taxWords, 1) {
				// Ten bare digits labelled as a tax code are a tax code, even when they also
				// fall in a mobile range.
				k = j
				continue
			}
			emit(Match{Detector: Phone, Offset: start, Len: end - start, Masked: mask(national, 4),
				Confidence: conf, Line: lines.at(start)})
			k = j
		}
		return chainEnd
	})
}

// phoneAt tries to read a mobile number from groups gs[k:]; it returns the index after its
// last group. A number is one group of 10 digits (0…) or 11 (84…), or groups of two to four
// digits with one kind of separator; the 84 form needs its plus when split. It may not be glued
// to a larger number by a dot or dash on either side.
func phoneAt(b []byte, gs []group, seps []byte, k int, digits *[12]byte) (int, bool) {
	if k > 0 && seps[k-1] != ' ' || k == 0 && !leftBound(b, gs[0].s) {
		return 0, false
	}
	first := b[gs[k].s:gs[k].e]
	plus := gs[k].s > 0 && b[gs[k].s-1] == '+'
	want := 0
	switch {
	case first[0] == '0':
		want = 10
	case len(first) >= 2 && first[0] == '8' && first[1] == '4' && (plus || len(first) == 11):
		want = 11
	default:
		return 0, false
	}
	if len(first) != want && (len(first) < 2 || len(first) > 4) {
		return 0, false
	}
	d := append(digits[:0], first...)
	j := k + 1
	var sep byte
	for len(d) < want && j < len(gs) {
		s, l := seps[j-1], gs[j].e-gs[j].s
		switch {
		case s == ')': // (+84) 90 …: the bracket is not a separator of the number itself
		case sep == 0:
			sep = s
		case s != sep:
			return 0, false
		}
		if l < 2 || l > 4 || len(d)+l > want {
			return 0, false
		}
		d = append(d, b[gs[j].s:gs[j].e]...)
		j++
	}
	if len(d) != want {
		return 0, false
	}
	if j < len(gs) && seps[j-1] != ' ' || j == len(gs) && !rightBound(b, gs[j-1].e) {
		return 0, false // 090.123.4567.8 or 0901234567-001: part of a longer number
	}
	if want == 11 {
		var national [10]byte
		national[0] = '0'
		copy(national[1:], d[2:])
		return j, ValidMobile(national[:])
	}
	return j, ValidMobile(d)
}
