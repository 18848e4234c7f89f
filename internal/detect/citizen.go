package detect

// provinces holds the 3-digit birth-registration province codes of the 12-digit personal
// identification number (Circular 07/2016/TT-BCA, amended by Circular 59/2021/TT-BCA): the 63
// provinces before the 2025 merger, which did not renumber issued numbers.
var provinces = [97]string{
	1: "Hà Nội", 2: "Hà Giang", 4: "Cao Bằng", 6: "Bắc Kạn", 8: "Tuyên Quang", 10: "Lào Cai",
	11: "Điện Biên", 12: "Lai Châu", 14: "Sơn La", 15: "Yên Bái", 17: "Hòa Bình", 19: "Thái Nguyên",
	20: "Lạng Sơn", 22: "Quảng Ninh", 24: "Bắc Giang", 25: "Phú Thọ", 26: "Vĩnh Phúc", 27: "Bắc Ninh",
	30: "Hải Dương", 31: "Hải Phòng", 33: "Hưng Yên", 34: "Thái Bình", 35: "Hà Nam", 36: "Nam Định",
	37: "Ninh Bình", 38: "Thanh Hóa", 40: "Nghệ An", 42: "Hà Tĩnh", 44: "Quảng Bình", 45: "Quảng Trị",
	46: "Thừa Thiên Huế", 48: "Đà Nẵng", 49: "Quảng Nam", 51: "Quảng Ngãi", 52: "Bình Định",
	54: "Phú Yên", 56: "Khánh Hòa", 58: "Ninh Thuận", 60: "Bình Thuận", 62: "Kon Tum", 64: "Gia Lai",
	66: "Đắk Lắk", 67: "Đắk Nông", 68: "Lâm Đồng", 70: "Bình Phước", 72: "Tây Ninh", 74: "Bình Dương",
	75: "Đồng Nai", 77: "Bà Rịa–Vũng Tàu", 79: "TP Hồ Chí Minh", 80: "Long An", 82: "Tiền Giang",
	83: "Bến Tre", 84: "Trà Vinh", 86: "Vĩnh Long", 87: "Đồng Tháp", 89: "An Giang", 91: "Kiên Giang",
	92: "Cần Thơ", 93: "Hậu Giang", 94: "Sóc Trăng", 95: "Bạc Liêu", 96: "Cà Mau",
}

// Province returns the province of a 3-digit code of the personal identification number
// ("001" is Hà Nội), or "" if the code was never assigned.
func Province(code string) string {
	if len(code) != 3 || !isDigit(code[0]) || !isDigit(code[1]) || !isDigit(code[2]) {
		return ""
	}
	n := int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	if n >= len(provinces) {
		return ""
	}
	return provinces[n]
}

// ValidCitizenID reports whether d is a plausible 12-digit personal identification number
// PPP G YY SSSSSS in year: a province in the table, and a birth year (century from G, which
// also gives the sex, plus YY) neither in the future nor more than 120 years back. The number
// has no check digit.
func ValidCitizenID(d []byte, year int) bool {
	if len(d) != 12 {
		return false
	}
	for _, c := range d {
		if !isDigit(c) {
			return false
		}
	}
	p := int(d[0]-'0')*100 + int(d[1]-'0')*10 + int(d[2]-'0')
	if p >= len(provinces) || provinces[p] == "" {
		return false
	}
	// G: 0/1 male/female born 1900–1999, 2/3 in 2000–2099, 4/5 in 2100–2199, …
	born := 1900 + int(d[3]-'0')/2*100 + int(d[4]-'0')*10 + int(d[5]-'0')
	return born <= year && born >= year-120
}

// citizenID finds 12-digit personal identification numbers. Twelve-digit bank accounts and
// order numbers pass the structure 6 times in 100, so a number labelled as one of those is
// dropped.
type citizenID struct{ year int }

func (citizenID) ID() string { return CitizenID }

func (citizenID) canonical(raw []byte) string { return digitsOf(raw) }

func (d citizenID) Find(b []byte, emit func(Match)) {
	lines := lineCounter{b: b}
	forEachRun(b, func(s, e int) int {
		if e-s != 12 || !leftBound(b, s) || !rightBound(b, e) || !ValidCitizenID(b[s:e], d.year) {
			return e
		}
		conf := confMedium
		switch {
		case hasContext(b, s, e, citizenWords, 0):
			conf = confHigh
		case hasContext(b, s, e, notIDWords, 0):
			return e // a bank account or an order number of the same shape
		case hasContext(b, s, e, citizenWords, 1):
			conf = confHigh
		}
		emit(Match{Detector: CitizenID, Offset: s, Len: 12, Masked: mask(string(b[s:e]), 7),
			Confidence: conf, Line: lines.at(s)})
		return e
	})
}

// oldID finds 9-digit identity card numbers (chứng minh nhân dân). Nine digits alone are
// anything (an order number, a mobile number without its 0), so it reports only numbers with
// a context word nearby.
type oldID struct{}

func (oldID) ID() string { return OldID }

func (oldID) canonical(raw []byte) string { return digitsOf(raw) }

func (oldID) Find(b []byte, emit func(Match)) {
	lines := lineCounter{b: b}
	forEachRun(b, func(s, e int) int {
		if e-s != 9 || !leftBound(b, s) || !rightBound(b, e) || !hasContext(b, s, e, oldIDWords, 0) {
			return e
		}
		emit(Match{Detector: OldID, Offset: s, Len: 9, Masked: mask(string(b[s:e]), 3),
			Confidence: confContext, Line: lines.at(s)})
		return e
	})
}
