package detect

// taxWeights weigh digits 1–9 of a 10-digit tax code; the tenth is the check digit.
var taxWeights = [9]int{31, 29, 23, 19, 17, 13, 7, 5, 3}

// validTax10 checks a 10-digit tax code: PP (province of registration), a 7-digit sequence
// other than 0000000, and a check digit 10 − (Σ wᵢdᵢ mod 11), where a remainder of 0 leaves
// no valid digit and a remainder of 10 gives 0.
func validTax10(d []byte) bool {
	if len(d) != 10 {
		return false
	}
	sum, zero := 0, true
	for i, w := range taxWeights {
		c := d[i]
		if !isDigit(c) {
			return false
		}
		sum += w * int(c-'0')
		if i >= 2 && c != '0' {
			zero = false
		}
	}
	r := sum % 11
	if r == 0 || zero || !isDigit(d[9]) {
		return false
	}
	return int(d[9]-'0') == (10-r)%10
}

// ValidTaxCode reports whether s is a tax code: ten digits with a valid check digit, or the
// thirteen-digit branch form NNNNNNNNNN-BBB (or without the dash) with a branch 001–999.
func ValidTaxCode(s string) bool {
	switch {
	case len(s) == 10:
		return validTax10([]byte(s))
	case len(s) == 14 && s[10] == '-':
		s = s[:10] + s[11:]
		fallthrough
	case len(s) == 13:
		for i := 10; i < 13; i++ {
			if !isDigit(s[i]) {
				return false
			}
		}
		return s[10:] != "000" && validTax10([]byte(s[:10]))
	}
	return false
}

// taxCode finds tax codes (mã số thuế) of enterprises and, before 2025, of individuals. A
// valid check digit is 1 chance in 11 for a random number, so matches without a context word
// are weak, and unlabelled numbers labelled as something else (a hotline, an account, an
// order) or written as thirteen bare digits are dropped; ten digits that are also a mobile
// number count as a phone unless labelled.
// Twelve-digit personal tax codes are personal identification numbers, found by citizenID.
type taxCode struct{}

func (taxCode) ID() string { return TaxCode }

func (taxCode) canonical(raw []byte) string { return digitsOf(raw) }

func (taxCode) Find(b []byte, emit func(Match)) {
	lines := lineCounter{b: b}
	forEachRun(b, func(s, e int) int {
		if e-s != 10 && e-s != 13 || !leftBound(b, s) || !validTax10(b[s:s+10]) {
			return e
		}
		end := e
		switch {
		case e-s == 13: // NNNNNNNNNNBBB
			if string(b[s+10:e]) == "000" || !rightBound(b, e) {
				return e
			}
		case e+4 <= len(b) && b[e] == '-' && isDigit(b[e+1]): // NNNNNNNNNN-BBB
			be := runEnd(b, e+1)
			if be-e-1 != 3 || string(b[e+1:be]) == "000" || !rightBound(b, be) {
				return be
			}
			end = be
		case !rightBound(b, e):
			return e
		}
		conf := confWeak
		switch {
		case hasContext(b, s, end, taxWords, 0):
			conf = confContext
		case hasContext(b, s, end, notTaxWords, 0):
			return end // labelled as something else: a hotline, an account, an order
		case hasContext(b, s, end, taxWords, 1): // a label in the line above
			conf = confContext
		case e-s == 13:
			return end // thirteen bare digits are as often a bank account
		case end-s == 10 && ValidMobile(b[s:e]):
			return end // a phone unless labelled as a tax code
		}
		canon := digitsOf(b[s:end])
		m := mask(canon[:10], 5)
		if len(canon) == 13 {
			m += "-***"
		}
		emit(Match{Detector: TaxCode, Offset: s, Len: end - s, Masked: m, Confidence: conf, Line: lines.at(s)})
		return end
	})
}
