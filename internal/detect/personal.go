package detect

import (
	"bytes"
	"slices"
	"strings"
)

// socialGroups are the beneficiary-group letters that open the 15-character health-insurance
// card code (mã thẻ BHYT): DN employees of enterprises, HS pupils, SV students, GD households …
var socialGroups = func() map[[2]byte]bool {
	m := map[[2]byte]bool{}
	for _, g := range []string{"DN", "HX", "CH", "NN", "TK", "HC", "XK", "CA", "HT", "TB", "MS", "XB",
		"XN", "TN", "CC", "CK", "CB", "KC", "HD", "TE", "BT", "HN", "DT", "DK", "XD", "TS", "TC", "TQ",
		"TA", "TY", "HG", "LS", "HS", "SV", "GB", "GD", "NO", "CN", "PV", "QN", "CY", "XV", "NT", "AK",
		"HK", "CD", "TL"} {
		m[[2]byte{g[0], g[1]}] = true
	}
	return m
}()

// socialInsurance finds social-insurance numbers (mã số BHXH): ten digits with no public check
// digit, so only next to a label (BHXH, BHYT, VssID); and the health-insurance card code, two
// group letters, a benefit level 1–5, a two-digit province and the ten-digit number, which is
// specific enough alone. Both forms hash as the ten-digit number, so the card and the number
// of one person are one value.
type socialInsurance struct{}

func (socialInsurance) ID() string { return SocialInsurance }

func (socialInsurance) canonical(raw []byte) string {
	d := digitsOf(raw)
	return d[len(d)-10:]
}

func (socialInsurance) Find(b []byte, emit func(Match)) {
	lines := lineCounter{b: b}
	forEachRun(b, func(s, e int) int {
		switch e - s {
		case 10:
			if !leftBound(b, s) || !rightBound(b, e) || !hasContext(b, s, e, socialWords, aloneOnLine(b, s, e)) {
				return e
			}
			emit(Match{Detector: SocialInsurance, Offset: s, Len: 10, Masked: mask(string(b[s:e]), 3),
				Confidence: confContext, Line: lines.at(s)})
		case 13: // XX N PP NNNNNNNNNN, the letters glued to the digits
			if s < 2 || !socialGroups[[2]byte{b[s-2], b[s-1]}] || b[s] < '1' || b[s] > '5' || !rightBound(b, e) {
				return e
			}
			if s >= 3 && (isASCIILetter(b[s-3]) || isDigit(b[s-3]) || b[s-3] == '_') {
				return e
			}
			conf := confContext
			if hasContext(b, s-2, e, socialWords, 1) {
				conf = confHigh
			}
			emit(Match{Detector: SocialInsurance, Offset: s - 2, Len: 15,
				Masked: string(b[s-2:s+3]) + mask(string(b[s+3:e]), 0), Confidence: conf, Line: lines.at(s - 2)})
		}
		return e
	})
}

// passport finds Vietnamese passport numbers: a letter and seven digits (C1234567), only next to
// a label (hộ chiếu, passport), and any passport number in a machine-readable zone whose line
// starts P<VNM and whose check digits (ICAO 9303) hold, with or without a label.
type passport struct{}

func (passport) ID() string { return Passport }

func (passport) canonical(raw []byte) string {
	out := make([]byte, 0, 9)
	for _, c := range raw {
		if c == '<' {
			break
		}
		out = append(out, c)
	}
	return string(out)
}

// mrzValue is a character's value in an ICAO 9303 check digit.
func mrzValue(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 0 // '<'
}

// mrzCheck reports whether check is the ICAO 9303 check digit of s (weights 7, 3, 1).
func mrzCheck(s []byte, check byte) bool {
	w := [3]int{7, 3, 1}
	sum := 0
	for i, c := range s {
		sum += mrzValue(c) * w[i%3]
	}
	return isDigit(check) && int(check-'0') == sum%10
}

func isMRZ(c byte) bool { return isDigit(c) || c >= 'A' && c <= 'Z' || c == '<' }

// mrzPassports returns the passport numbers of TD3 zones (two lines of 44 characters, the first
// starting P<VNM) whose document-number and birth-date check digits hold.
func mrzPassports(b []byte) []group {
	var out []group
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("P<VNM"))
		if j < 0 {
			return out
		}
		p := i + j
		i = p + 5
		nl := bytes.IndexByte(b[p:], '\n')
		if nl < 0 {
			return out
		}
		l2 := p + nl + 1
		if l2+44 > len(b) {
			continue
		}
		z := b[l2 : l2+44]
		ok := true
		for _, c := range z {
			if !isMRZ(c) {
				ok = false
				break
			}
		}
		if !ok || !mrzCheck(z[0:9], z[9]) || !mrzCheck(z[13:19], z[19]) || string(z[10:13]) != "VNM" {
			continue
		}
		n := bytes.IndexByte(z[:9], '<')
		if n < 0 {
			n = 9
		}
		if n < 8 || !isASCIILetter(z[0]) {
			continue
		}
		out = append(out, group{l2, l2 + n})
	}
}

func (passport) Find(b []byte, emit func(Match)) {
	lines := lineCounter{b: b}
	mrz := mrzPassports(b)
	k, mi := 0, 0
	flush := func(before int) {
		for ; k < len(mrz) && mrz[k].s < before; k++ {
			g := mrz[k]
			emit(Match{Detector: Passport, Offset: g.s, Len: g.e - g.s, Masked: string(b[g.s:g.s+3]) + "*****",
				Confidence: 0.97, Line: lines.at(g.s)})
		}
	}
	forEachRun(b, func(s, e int) int {
		if e-s != 7 || s < 1 || b[s-1] < 'A' || b[s-1] > 'Z' || !rightBound(b, e) {
			return e
		}
		if s >= 2 && (isASCIILetter(b[s-2]) || isDigit(b[s-2]) || b[s-2] == '_' || b[s-2] >= 0x80) {
			return e
		}
		for mi < len(mrz) && mrz[mi].e <= s-1 {
			mi++
		}
		if mi < len(mrz) && s-1 >= mrz[mi].s {
			return e // the number of a machine-readable zone, reported from there
		}
		if !hasContext(b, s-1, e, passportWords, aloneOnLine(b, s-1, e)) {
			return e
		}
		flush(s - 1)
		emit(Match{Detector: Passport, Offset: s - 1, Len: 8, Masked: string(b[s-1:s+2]) + "*****",
			Confidence: confContext + 0.05, Line: lines.at(s - 1)})
		return e
	})
	flush(len(b))
}

// email finds e-mail addresses with a plausible domain: two labels or more, letters-only top
// level of two letters or a known generic one, so that "logo@2x.png" and "user@localhost" are
// not addresses; documentation domains (example.com, .test) are skipped. Role mailboxes
// (info@, lienhe@) are an office's, not a person's, and stay weak.
type email struct{}

func (email) ID() string { return Email }

func (email) canonical(raw []byte) string { return strings.ToLower(string(raw)) }

func isLocalChar(c byte) bool {
	return isASCIILetter(c) || isDigit(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func isDomainChar(c byte) bool { return isASCIILetter(c) || isDigit(c) || c == '.' || c == '-' }

var genericTLDs = map[string]bool{"com": true, "net": true, "org": true, "edu": true, "gov": true,
	"int": true, "mil": true, "info": true, "biz": true, "name": true, "pro": true, "xyz": true,
	"online": true, "site": true, "tech": true, "app": true, "dev": true, "cloud": true, "email": true,
	"asia": true, "store": true, "shop": true, "vip": true, "top": true, "club": true, "live": true,
	"news": true, "media": true, "company": true, "group": true, "work": true, "space": true,
	"website": true, "digital": true, "global": true, "world": true, "today": true, "life": true,
	"mobi": true, "tel": true, "coop": true, "aero": true, "museum": true, "travel": true, "jobs": true}

var roleMailboxes = map[string]bool{"info": true, "contact": true, "admin": true, "support": true,
	"webmaster": true, "noreply": true, "no-reply": true, "lienhe": true, "vanphong": true, "hotro": true,
	"postmaster": true, "abuse": true, "sales": true, "office": true, "banbientap": true, "toasoan": true,
	"hostmaster": true, "security": true, "help": true, "cskh": true}

func (email) Find(b []byte, emit func(Match)) {
	lines := lineCounter{b: b}
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '@')
		if j < 0 {
			return
		}
		at := i + j
		i = at + 1
		s := at
		for s > 0 && isLocalChar(b[s-1]) && at-s < 64 {
			s--
		}
		for s < at && (b[s] == '.' || b[s] == '-') {
			s++
		}
		if s == at || s > 0 && (isLocalChar(b[s-1]) || b[s-1] == ':' || b[s-1] == '/' || b[s-1] >= 0x80) {
			continue
		}
		e := at + 1
		for e < len(b) && isDomainChar(b[e]) && e-at < 256 {
			e++
		}
		for e > at+1 && (b[e-1] == '.' || b[e-1] == '-') {
			e--
		}
		if e < len(b) && (b[e] == '@' || b[e] >= 0x80 || b[e] == '_') {
			continue
		}
		local, domain := b[s:at], b[at+1:e]
		if bytes.Contains(local, []byte("..")) || local[len(local)-1] == '.' || !validDomain(domain) {
			continue
		}
		conf := confContext
		switch {
		case roleMailboxes[strings.ToLower(string(local))]:
			conf = 0.55
		case hasContext(b, s, e, emailWords, 1):
			conf = confHigh
		}
		emit(Match{Detector: Email, Offset: s, Len: e - s,
			Masked: string(local[:1]) + "***@" + strings.ToLower(string(domain)), Confidence: conf, Line: lines.at(s)})
		i = e
	}
}

// validDomain checks the labels of a domain and its top level.
func validDomain(d []byte) bool {
	if len(d) < 4 || len(d) > 253 {
		return false
	}
	labels := bytes.Split(d, []byte{'.'})
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
	}
	tld := strings.ToLower(string(labels[len(labels)-1]))
	for i := 0; i < len(tld); i++ {
		if tld[i] < 'a' || tld[i] > 'z' {
			return false
		}
	}
	switch tld {
	case "test", "example", "invalid", "localhost", "local", "internal":
		return false
	}
	if sld := strings.ToLower(string(labels[len(labels)-2])); sld == "example" {
		return false
	}
	return len(tld) == 2 || genericTLDs[tld]
}

// birthDate finds dates of birth: a calendar date (12/05/1990, 12-05-1990, 12.05.1990,
// 1990-05-12, "ngày 12 tháng 5 năm 1990") in a plausible birth year, next to a birth label
// (ngày sinh, DOB) or, weaker, on a line labelled with a person's name. Other dates are dates.
type birthDate struct{ year int }

func (birthDate) ID() string { return BirthDate }

// canonical writes any form as YYYY-MM-DD.
func (birthDate) canonical(raw []byte) string {
	y, m, d, ok := parseDate(raw)
	if !ok {
		return string(raw)
	}
	return itoa4(y) + "-" + itoa2(m) + "-" + itoa2(d)
}

func itoa2(n int) string { return string([]byte{byte('0' + n/10%10), byte('0' + n%10)}) }
func itoa4(n int) string { return itoa2(n/100) + itoa2(n%100) }

var otherDateWords = []string{"ngay cap", "cap ngay", "noi cap", "ngay het han", "het han", "expiry",
	"expires", "issued", "issue date", "ngay ky", "cap nhat", "ngay lap", "ngay nop", "ngay dang",
	"updated", "created", "ngay vao", "ngay tiep nhan", "ngay hen", "thoi han", "hoa don", "invoice"}

// parseDate reads the date forms birthDate finds.
func parseDate(raw []byte) (y, m, d int, ok bool) {
	var nums []int
	var lens []int
	for i := 0; i < len(raw); {
		if !isDigit(raw[i]) {
			i++
			continue
		}
		n, j := 0, i
		for j < len(raw) && isDigit(raw[j]) {
			n = n*10 + int(raw[j]-'0')
			j++
		}
		nums, lens = append(nums, n), append(lens, j-i)
		i = j
	}
	if len(nums) != 3 {
		return 0, 0, 0, false
	}
	if lens[0] == 4 {
		y, m, d = nums[0], nums[1], nums[2]
	} else {
		d, m, y = nums[0], nums[1], nums[2]
	}
	return y, m, d, validDate(y, m, d)
}

func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && (y%4 == 0 && y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

// dateAt reads a date starting at the digit run b[s:e]; it returns the end of the date.
func dateAt(b []byte, s, e int) (int, bool) {
	l := e - s
	switch {
	case l == 4 && e+6 <= len(b) && b[e] == '-': // 1990-05-12
		m := runEnd(b, e+1)
		if m-e-1 != 2 || m >= len(b) || b[m] != '-' {
			return 0, false
		}
		d := runEnd(b, m+1)
		if d-m-1 != 2 {
			return 0, false
		}
		return d, true
	case l == 1 || l == 2:
		if e < len(b) && (b[e] == '/' || b[e] == '-' || b[e] == '.') {
			sep := b[e]
			m := runEnd(b, e+1)
			if ml := m - e - 1; ml < 1 || ml > 2 || m >= len(b) || b[m] != sep {
				return 0, false
			}
			y := runEnd(b, m+1)
			if y-m-1 != 4 {
				return 0, false
			}
			return y, true
		}
		// ngày 12 tháng 5 năm 1990
		rest := b[e:]
		var k int
		switch {
		case bytes.HasPrefix(rest, []byte(" tháng ")):
			k = e + len(" tháng ")
		case bytes.HasPrefix(rest, []byte(" thang ")):
			k = e + len(" thang ")
		default:
			return 0, false
		}
		m := runEnd(b, k)
		if ml := m - k; ml < 1 || ml > 2 {
			return 0, false
		}
		rest = b[m:]
		switch {
		case bytes.HasPrefix(rest, []byte(" năm ")):
			k = m + len(" năm ")
		case bytes.HasPrefix(rest, []byte(" nam ")):
			k = m + len(" nam ")
		default:
			return 0, false
		}
		y := runEnd(b, k)
		if y-k != 4 {
			return 0, false
		}
		return y, true
	}
	return 0, false
}

func (d birthDate) Find(b []byte, emit func(Match)) {
	lines := lineCounter{b: b}
	forEachRun(b, func(s, e int) int {
		if l := e - s; l != 1 && l != 2 && l != 4 {
			return e
		}
		if !leftBound(b, s) {
			return e
		}
		end, ok := dateAt(b, s, e)
		if !ok || !rightBound(b, end) {
			return e
		}
		y, m, dd, ok := parseDate(b[s:end])
		if !ok || y > d.year || y < d.year-120 {
			return end
		}
		conf := 0.0
		switch {
		case hasContext(b, s, end, birthWords, aloneOnLine(b, s, end)):
			conf = 0.9
		case hasContext(b, s, end, otherDateWords, 0):
		case hasContext(b, s, end, nameLabelWords[:5], 0) && y <= d.year-14:
			conf = confMedium
		}
		if conf == 0 {
			return end
		}
		emit(Match{Detector: BirthDate, Offset: s, Len: end - s,
			Masked: itoa4(y)[:2] + "**-**-**", Confidence: conf, Line: lines.at(s)})
		_, _ = m, dd
		return end
	})
}

// fullName finds Vietnamese full names written with diacritics — a family name from the common
// ones and one to four capitalized syllables — on a line that holds an identifier (a citizen ID,
// a mobile number, a labelled old ID) or a name label (Họ và tên, Full name). Names alone in
// prose are not personal data worth a finding, and streets, schools and provinces named after
// people (đường Lê Lợi, Thái Bình) are not people.
type fullName struct{ year int }

func (fullName) ID() string { return FullName }

func (fullName) canonical(raw []byte) string { return strings.ToLower(nfc(raw)) }

var surnames = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range strings.Fields(`nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong
		ly dinh dao truong lam mai trinh ha ta luong cao doan thai to chu kieu phung quach luu trieu vuong
		khuc tang lo hua nong mac la diep than tu giang kim au ton chau lai ninh tong thach son danh ong
		khong hong lieu nghiem bach ma quan van khuat lu giap luc ung tieu`) {
		m[s] = true
	}
	return m
}()

// notPersonBefore are words that make what follows a place or an institution: đường Lê Lợi,
// trường Trần Phú, tỉnh Thái Bình.
var notPersonBefore = map[string]bool{"duong": true, "pho": true, "phuong": true, "quan": true,
	"huyen": true, "xa": true, "tinh": true, "truong": true, "ngo": true, "hem": true, "thon": true,
	"ap": true, "street": true, "st": true, "road": true, "tp": true, "cau": true, "cho": true,
	"vien": true, "cong": true, "ty": true, "cty": true, "benh": true, "lang": true, "khu": true,
	"so": true, "to": true, "kiet": true, "ngach": true, "dai": true, "lo": true, "nha": true, "bo": true}

var placeNames = func() map[string]bool {
	m := map[string]bool{"ho chi minh": true, "viet nam": true, "ha noi": true}
	for _, p := range provinces {
		if p != "" {
			m[string(fold(nil, []byte(p)))] = true
		}
	}
	return m
}()

// nameLabels are the byte strings whose presence makes a line worth reading for names.
var nameLabels = [][]byte{[]byte("Họ và tên"), []byte("Họ tên"), []byte("HỌ VÀ TÊN"), []byte("HỌ TÊN"),
	[]byte("họ và tên"), []byte("họ tên"), []byte("Ho va ten"), []byte("Ho ten"), []byte("HO TEN"),
	[]byte("HO VA TEN"), []byte("ho ten"), []byte("ho va ten"), []byte("Full name"), []byte("full name"),
	[]byte("Full Name"), []byte("FULL NAME"), []byte("Họ và Tên")}

// idOnLine reports whether the digit run b[s:e] is an identifier that makes its line a record
// about a person.
func idOnLine(b []byte, s, e, year int) bool {
	switch e - s {
	case 12:
		return leftBound(b, s) && rightBound(b, e) && ValidCitizenID(b[s:e], year)
	case 10:
		return leftBound(b, s) && rightBound(b, e) && ValidMobile(b[s:e])
	case 9:
		return leftBound(b, s) && rightBound(b, e) && hasContext(b, s, e, oldIDWords, 0)
	case 7:
		return s >= 1 && b[s-1] >= 'A' && b[s-1] <= 'Z' && rightBound(b, e) && hasContext(b, s-1, e, passportWords, 0)
	}
	return false
}

// aloneOnLine returns 1 when b[s:e] is all its line holds (but spaces), so that a label on the
// line above may name it, and 0 otherwise.
func aloneOnLine(b []byte, s, e int) int {
	ls, le := lineBounds(b, s)
	if len(bytes.TrimSpace(b[ls:s])) == 0 && len(bytes.TrimSpace(b[e:le])) == 0 {
		return 1
	}
	return 0
}

func lineBounds(b []byte, p int) (int, int) {
	s := bytes.LastIndexByte(b[:p], '\n') + 1
	e := bytes.IndexByte(b[p:], '\n')
	if e < 0 {
		return s, len(b)
	}
	return s, p + e
}

func (f fullName) Find(b []byte, emit func(Match)) {
	type cand struct {
		start int
		label bool
	}
	var cands []cand
	lastLine := -1
	forEachRun(b, func(s, e int) int {
		if s < lastLine || !idOnLine(b, s, e, f.year) {
			return e
		}
		ls, le := lineBounds(b, s)
		cands = append(cands, cand{start: ls})
		lastLine = le
		return max(e, le)
	})
	for _, l := range nameLabels {
		for i := 0; ; {
			j := bytes.Index(b[i:], l)
			if j < 0 {
				break
			}
			ls, le := lineBounds(b, i+j)
			cands = append(cands, cand{start: ls, label: true})
			i = le
		}
	}
	slices.SortFunc(cands, func(x, y cand) int { return x.start - y.start })
	lines := lineCounter{b: b}
	var toks []tok
	for i := 0; i < len(cands); {
		c := cands[i]
		id, label := false, false
		for ; i < len(cands) && cands[i].start == c.start; i++ {
			if cands[i].label {
				label = true
			} else {
				id = true
			}
		}
		ls, le := lineBounds(b, c.start)
		if le-ls > maxStampLine*4 {
			le = ls + maxStampLine*4
			for le > ls && !utf8RuneStart(b[le]) {
				le--
			}
		}
		toks = tokenize(toks[:0], b, ls, le)
		conf := 0.85
		if label {
			conf = 0.9
			if id {
				conf = confHigh
			}
		}
		for k := 0; k < len(toks); k++ {
			last, ok := nameAt(toks, k)
			if !ok {
				continue
			}
			s, e := toks[k].start, toks[last].end
			emit(Match{Detector: FullName, Offset: s, Len: e - s, Masked: maskName(b[s:e]),
				Confidence: conf, Line: lines.at(s)})
			k = last
		}
	}
}

// nameAt reads a full name starting at token k: a capitalized family name from the list, then
// one to four capitalized syllables of at most seven letters separated by single spaces, at
// least one word with a Vietnamese diacritic, not after a word that makes it a place.
func nameAt(toks []tok, k int) (int, bool) {
	t := &toks[k]
	if t.kind != tokWord || t.n > 7 || !capitalized(t) || !surnames[t.baseString()] {
		return 0, false
	}
	if k > 0 && toks[k-1].kind == tokWord {
		return 0, false
	}
	if k >= 2 && toks[k-1].kind == tokSpace && toks[k-2].kind == tokWord && notPersonBefore[toks[k-2].baseString()] {
		return 0, false
	}
	diacritic := t.hasMarks()
	last := k
	words := 1
	for j := k + 1; j+1 < len(toks) && words < 5; j += 2 {
		sp, w := &toks[j], &toks[j+1]
		if sp.kind != tokSpace || sp.end-sp.start != 1 || w.kind != tokWord || w.n > 7 || !capitalized(w) {
			break
		}
		diacritic = diacritic || w.hasMarks()
		last = j + 1
		words++
	}
	if words < 2 || !diacritic {
		return 0, false
	}
	if last+1 < len(toks) && toks[last+1].kind == tokWord {
		return 0, false
	}
	var sb strings.Builder
	for j := k; j <= last; j += 2 {
		if j > k {
			sb.WriteByte(' ')
		}
		sb.WriteString(toks[j].baseString())
	}
	if n := sb.String(); placeNames[n] || strings.HasPrefix(n, "ho va ten") || strings.HasPrefix(n, "ho ten") {
		return 0, false
	}
	return last, true
}

// capitalized reports whether the word starts with an upper-case letter and has no upper-case
// letter after a lower-case one (Nguyễn, NGUYỄN; not McDonald or iPhone).
func capitalized(t *tok) bool {
	return t.firstUpper && (t.upper || !t.innerUpper)
}

func (t *tok) baseString() string {
	n := min(t.n, len(t.base))
	return string(t.base[:n])
}

func (t *tok) hasMarks() bool {
	for i := range min(t.n, len(t.marks)) {
		if t.marks[i] != 0 {
			return true
		}
	}
	return false
}

// maskName keeps the first letter of each word of a name.
func maskName(raw []byte) string {
	var sb strings.Builder
	first := true
	for _, r := range nfc(raw) {
		switch {
		case r == ' ':
			sb.WriteByte(' ')
			first = true
		case first:
			sb.WriteRune(r)
			first = false
		default:
			sb.WriteByte('*')
		}
	}
	return sb.String()
}
