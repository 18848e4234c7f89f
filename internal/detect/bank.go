package detect

// luhn reports whether the digits d pass the Luhn check of payment card numbers.
func luhn(d []byte) bool {
	sum, double := 0, false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if double {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		double = !double
	}
	return sum%10 == 0
}

// cardIssuer returns the scheme whose issuer range and lengths fit the card number d, or "":
// NAPAS (9704, the domestic switch), Visa, Mastercard, JCB, American Express, UnionPay,
// Discover.
func cardIssuer(d []byte) string {
	n := len(d)
	p2 := int(d[0]-'0')*10 + int(d[1]-'0')
	p4 := p2*100 + int(d[2]-'0')*10 + int(d[3]-'0')
	switch {
	case p4 == 9704 && (n == 16 || n == 19):
		return "napas"
	case d[0] == '4' && (n == 13 || n == 16 || n == 19):
		return "visa"
	case (p2 >= 51 && p2 <= 55 || p4 >= 2221 && p4 <= 2720) && n == 16:
		return "mastercard"
	case p4 >= 3528 && p4 <= 3589 && n >= 16 && n <= 19:
		return "jcb"
	case (p2 == 34 || p2 == 37) && n == 15:
		return "amex"
	case p2 == 62 && n >= 16 && n <= 19:
		return "unionpay"
	case (p4 == 6011 || p2 == 65 || p4/10 >= 644 && p4/10 <= 649) && n >= 16 && n <= 19:
		return "discover"
	}
	return ""
}

// ValidCard reports whether d, 13 to 19 digits, is in an issuer range and passes Luhn.
func ValidCard(d []byte) bool {
	if len(d) < 13 || len(d) > 19 {
		return false
	}
	for _, c := range d {
		if !isDigit(c) {
			return false
		}
	}
	return cardIssuer(d) != "" && luhn(d)
}

// bankCard finds payment card numbers written whole or in groups of four (4-4-4-4, 4-4-4-4-3,
// Amex 4-6-5), in an issuer range and passing Luhn. An unlabelled sixteen-digit number in a
// card range passes Luhn one time in ten, so matches without a card word are medium, and a
// number labelled as an order, invoice or account is dropped.
type bankCard struct{}

func (bankCard) ID() string { return BankCard }

func (bankCard) canonical(raw []byte) string { return digitsOf(raw) }

func (bankCard) Find(b []byte, emit func(Match)) {
	lines := lineCounter{b: b}
	var (
		gs   [maxGroups]group
		seps [maxGroups]byte
		d    [24]byte
	)
	forEachRun(b, func(s, e int) int {
		if !leftBound(b, s) {
			return e
		}
		end := e
		digits := d[:0]
		switch l := e - s; {
		case l >= 13 && l <= 19:
			if !rightBound(b, e) {
				return e
			}
			digits = append(digits, b[s:e]...)
		case l == 4:
			n := gatherChain(b, s, e, &gs, &seps)
			sep := seps[0]
			if n < 3 || sep != ' ' && sep != '-' {
				return e
			}
			k := 0
			var shape []byte
			for ; k < n && k < 5; k++ {
				if k > 0 && seps[k-1] != sep {
					break
				}
				gl := gs[k].e - gs[k].s
				if len(digits)+gl > 19 {
					break
				}
				shape = append(shape, byte('0'+gl))
				digits = append(digits, b[gs[k].s:gs[k].e]...)
			}
			switch string(shape) {
			case "4444", "44443", "465":
			default:
				return e
			}
			if k < n && seps[k-1] == sep || k == n && !rightBound(b, gs[k-1].e) {
				return e
			}
			end = gs[k-1].e
		default:
			return e
		}
		if cardIssuer(digits) == "" || !luhn(digits) {
			return end
		}
		conf := confMedium
		switch {
		case hasContext(b, s, end, cardWords, aloneOnLine(b, s, end)):
			conf = 0.9
		case hasContext(b, s, end, notIDWords, 0):
			return end
		}
		emit(Match{Detector: BankCard, Offset: s, Len: end - s, Masked: mask(string(digits), 6),
			Confidence: conf, Line: lines.at(s)})
		return end
	})
}

// bankAccount finds bank account numbers. They are 6 to 19 digits with no national check
// digit, so a number counts only after an account label (STK, số tài khoản, account no) or,
// weaker, next to a bank's name when it is not another identifier, a phone or a hotline.
type bankAccount struct{}

func (bankAccount) ID() string { return BankAccount }

func (bankAccount) canonical(raw []byte) string { return digitsOf(raw) }

var notAccountWords = []string{"hotline", "tong dai", "duong day nong", "hoa don", "invoice", "don hang",
	"van don", "order", "ma giao dich", "transaction", "quyet dinh", "so hieu", "ma ho so", "ma tra cuu"}

func (bankAccount) Find(b []byte, emit func(Match)) {
	lines := lineCounter{b: b}
	forEachRun(b, func(s, e int) int {
		l := e - s
		if l < 6 || l > 19 || !leftBound(b, s) || !rightBound(b, e) || e < len(b) && b[e] == ':' {
			return e
		}
		d := b[s:e]
		same := true
		for _, c := range d[1:] {
			if c != d[0] {
				same = false
				break
			}
		}
		if same {
			return e
		}
		labelled := hasContext(b, s, e, accountWords, 0)
		bank := hasContext(b, s, e, bankNames, 0)
		if ValidCard(d) && hasContext(b, s, e, cardWords, 0) {
			return e
		}
		conf := 0.0
		switch {
		case labelled && bank:
			conf = confHigh
		case labelled:
			conf = 0.85
		case bank && l >= 8 && !ValidMobile(d) && !ValidLandline(d) && !ValidCitizenID(d, 9999) &&
			!(l == 10 && validTax10(d)) && !(d[0] == '1' && (d[1] == '8' || d[1] == '9') && d[2] == '0' && d[3] == '0') &&
			!hasContext(b, s, e, notAccountWords, 0) && !hasContext(b, s, e, citizenWords, 0) &&
			!hasContext(b, s, e, phoneWords, 0) && !hasContext(b, s, e, taxWords, 0) && !hasContext(b, s, e, socialWords, 0):
			conf = confMedium
		}
		if conf == 0 {
			return e
		}
		emit(Match{Detector: BankAccount, Offset: s, Len: l, Masked: mask(string(d), 3),
			Confidence: conf, Line: lines.at(s)})
		return e
	})
}
