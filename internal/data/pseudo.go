package data

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/khien-vn/khien/internal/detect"
)

// Pseudonyms are deterministic under the masking key: the same value always gives the same
// pseudonym, so a citizen ID masked in one table joins the same masked ID in another. Numeric
// identifiers go through a keyed permutation (a Feistel network over Z_a × Z_b with cycle
// walking, in the manner of format-preserving encryption), so two different values never get
// one pseudonym and the result keeps its structure: a masked citizen ID has a province of the
// table, a century digit and a plausible birth year; a masked phone a current mobile prefix; a
// masked tax code its check digit; a masked card its issuer range and Luhn digit. Without the
// key nobody can tell whose number a pseudonym stands for.

// pseudonymizer holds the key and the per-method permutations.
type pseudonymizer struct {
	key []byte
}

// prf returns 64 keyed pseudo-random bits of the tweak and the input.
func (p *pseudonymizer) prf(tweak string, round int, x uint64) uint64 {
	m := hmac.New(sha256.New, p.key)
	var buf [16]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(round))
	binary.BigEndian.PutUint64(buf[8:], x)
	m.Write([]byte(tweak))
	m.Write(buf[:])
	return binary.BigEndian.Uint64(m.Sum(nil))
}

// permute maps x in [0, n) to a pseudonym in [0, n), bijectively under the key and tweak.
func (p *pseudonymizer) permute(tweak string, x, n uint64) uint64 {
	if n <= 1 {
		return x
	}
	a := uint64(1)
	for a*a < n {
		a++
	}
	b := (n + a - 1) / a
	y := x
	for {
		l, r := y/b, y%b
		for round := range 8 {
			if round%2 == 0 {
				l = (l + p.prf(tweak, round, r)%a) % a
			} else {
				r = (r + p.prf(tweak, round, l)%b) % b
			}
		}
		y = l*b + r
		if y < n {
			return y
		}
	}
}

// permuteWhere walks the permutation until the result satisfies ok, a bijection on the
// values that satisfy it (x must satisfy it).
func (p *pseudonymizer) permuteWhere(tweak string, x, n uint64, ok func(uint64) bool) uint64 {
	y := p.permute(tweak, x, n)
	for i := 0; !ok(y) && i < 1_000_000; i++ {
		y = p.permute(tweak, y, n)
	}
	return y
}

func pow10(n int) uint64 {
	v := uint64(1)
	for range n {
		v *= 10
	}
	return v
}

func parseUint(d string) uint64 {
	var v uint64
	for i := 0; i < len(d); i++ {
		v = v*10 + uint64(d[i]-'0')
	}
	return v
}

func padDigits(v uint64, n int) string { return fmt.Sprintf("%0*d", n, v) }

// hashIndex maps any string into [0, n) under the key, for inputs outside a permutation's
// domain (not injective; such inputs are rare and were not valid values to begin with).
func (p *pseudonymizer) hashIndex(tweak, s string, n uint64) uint64 {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte("idx:" + tweak + ":" + s))
	return binary.BigEndian.Uint64(m.Sum(nil)) % n
}

// digits keeps the digits of s.
func digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// replaceDigits writes the digits of d into the digit positions of s, keeping its layout.
func replaceDigits(s, d string) string {
	out := []byte(s)
	k := 0
	for i := range out {
		if out[i] >= '0' && out[i] <= '9' && k < len(d) {
			out[i] = d[k]
			k++
		}
	}
	return string(out)
}

// anyDigits pseudonymizes every run of digits of s, keeping lengths and layout.
func (p *pseudonymizer) anyDigits(tweak, s string) string {
	d := digits(s)
	if d == "" {
		return s
	}
	var out strings.Builder
	for i := 0; i < len(d); i += 18 {
		chunk := d[i:min(len(d), i+18)]
		n := len(chunk)
		out.WriteString(padDigits(p.permute(fmt.Sprintf("%s/%d", tweak, n), parseUint(chunk), pow10(n)), n))
	}
	return replaceDigits(s, out.String())
}

// The citizen-ID domain: 63 provinces × birth years 1926–2025 × 2 sexes × 10⁶ serials. The
// years are fixed, not relative to today, so a pseudonym never changes with the calendar.
var (
	provinceCodes = func() []int {
		var out []int
		for c := 1; c < 100; c++ {
			if detect.Province(fmt.Sprintf("%03d", c)) != "" {
				out = append(out, c)
			}
		}
		return out
	}()
	provinceIndex = func() map[int]int {
		m := map[int]int{}
		for i, c := range provinceCodes {
			m[c] = i
		}
		return m
	}()
)

const (
	citizenFirstYear = 1926
	citizenYears     = 100
)

func (p *pseudonymizer) citizenID(s string) string {
	d := digits(s)
	if len(d) != 12 {
		return p.anyDigits("citizen", s)
	}
	n := uint64(len(provinceCodes)) * citizenYears * 2 * 1_000_000
	pi, ok := provinceIndex[int(parseUint(d[:3]))]
	g := int(d[3] - '0')
	year := 1900 + g/2*100 + int(parseUint(d[4:6]))
	var x uint64
	if ok && year >= citizenFirstYear && year < citizenFirstYear+citizenYears {
		x = ((uint64(pi)*citizenYears+uint64(year-citizenFirstYear))*2+uint64(g%2))*1_000_000 + parseUint(d[6:])
		x = p.permute("citizen", x, n)
	} else {
		x = p.hashIndex("citizen", d, n)
	}
	serial := x % 1_000_000
	x /= 1_000_000
	sex := x % 2
	x /= 2
	y := citizenFirstYear + int(x%citizenYears)
	prov := provinceCodes[x/citizenYears]
	gd := (y-1900)/100*2 + int(sex)
	return replaceDigits(s, fmt.Sprintf("%03d%d%02d%06d", prov, gd, y%100, serial))
}

var mobilePrefixList = []string{"32", "33", "34", "35", "36", "37", "38", "39", "52", "56", "58", "59", "70", "76", "77",
	"78", "79", "81", "82", "83", "84", "85", "86", "87", "88", "89", "90", "91", "92", "93", "94", "96", "97", "98", "99"}

func (p *pseudonymizer) phone(s string) string {
	d := digits(s)
	national := d
	intl := len(d) == 11 && strings.HasPrefix(d, "84")
	if intl {
		national = "0" + d[2:]
	}
	switch {
	case len(national) == 10 && detect.ValidMobile([]byte(national)):
		pi := -1
		for i, pre := range mobilePrefixList {
			if national[1:3] == pre {
				pi = i
			}
		}
		x := uint64(pi)*10_000_000 + parseUint(national[3:])
		y := p.permute("mobile", x, uint64(len(mobilePrefixList))*10_000_000)
		out := "0" + mobilePrefixList[y/10_000_000] + padDigits(y%10_000_000, 7)
		if intl {
			out = "84" + out[1:]
		}
		return replaceDigits(s, out)
	case len(d) == 11 && detect.ValidLandline([]byte(d)) || len(d) == 12 && strings.HasPrefix(d, "84") && detect.ValidLandline([]byte("0"+d[2:])):
		keep := 4 // 0 + area 2x(x)
		if len(d) == 12 {
			keep = 3
		}
		if national[2] != '4' && national[2] != '8' {
			keep++
		}
		sub := d[keep:]
		for {
			sub = padDigits(p.permute(fmt.Sprintf("landline/%d", len(sub)), parseUint(sub), pow10(len(sub))), len(sub))
			if sub[0] != '0' && sub[0] != '1' {
				break
			}
		}
		return replaceDigits(s, d[:keep]+sub)
	}
	return p.anyDigits("phone", s)
}

func taxCheck(body string) (byte, bool) {
	w := [9]int{31, 29, 23, 19, 17, 13, 7, 5, 3}
	sum := 0
	for i := range 9 {
		sum += w[i] * int(body[i]-'0')
	}
	r := sum % 11
	if r == 0 || body[2:] == "0000000" {
		return 0, false
	}
	return byte('0' + (10-r)%10), true
}

func (p *pseudonymizer) taxCode(s string) string {
	d := digits(s)
	if (len(d) != 10 && len(d) != 13) || !detect.ValidTaxCode(d) {
		return p.anyDigits("tax", s)
	}
	ok := func(y uint64) bool {
		b := padDigits(y, 9)
		_, valid := taxCheck(b)
		return valid && b[:2] != "00"
	}
	y := p.permuteWhere("tax", parseUint(d[:9]), 1_000_000_000, ok)
	body := padDigits(y, 9)
	c, _ := taxCheck(body)
	return replaceDigits(s, body+string(c)+d[10:])
}

func (p *pseudonymizer) card(s string) string {
	d := digits(s)
	if !detect.ValidCard([]byte(d)) {
		return p.anyDigits("card", s)
	}
	mid := d[6 : len(d)-1]
	m := padDigits(p.permute(fmt.Sprintf("card/%d", len(mid)), parseUint(mid), pow10(len(mid))), len(mid))
	body := d[:6] + m
	for c := byte('0'); c <= '9'; c++ {
		if detect.ValidCard([]byte(body + string(c))) {
			return replaceDigits(s, body+string(c))
		}
	}
	return replaceDigits(s, body+"0")
}

func (p *pseudonymizer) passport(s string) string {
	if len(s) >= 8 && s[0] >= 'A' && s[0] <= 'Z' {
		return s[:1] + p.anyDigits("passport", s[1:])
	}
	return p.anyDigits("passport", s)
}

// socialInsurance masks the ten-digit number, in a card code too, so that the number and the
// card of one person keep matching.
func (p *pseudonymizer) socialInsurance(s string) string {
	d := digits(s)
	if len(d) >= 10 {
		last := d[len(d)-10:]
		m := padDigits(p.permute("bhxh", parseUint(last), 10_000_000_000), 10)
		return replaceDigits(s, d[:len(d)-10]+m)
	}
	return p.anyDigits("bhxh", s)
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func (p *pseudonymizer) email(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return p.token("email", s)
	}
	local := s[:at]
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte("email:" + strings.ToLower(local)))
	n := max(8, min(len(local), 20))
	return "u" + strings.ToLower(b32.EncodeToString(m.Sum(nil)))[:n-1] + s[at:]
}

var (
	pseudoFamilies = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
		"Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trương", "Lâm", "Mai"}
	pseudoMiddles = []string{"Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quốc", "Thu", "Gia", "Bảo", "Kim"}
	pseudoGivens  = []string{"An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hòa", "Hùng", "Khánh",
		"Lan", "Linh", "Long", "Mai", "Minh", "Nam", "Nga", "Ngân", "Nhung", "Phong", "Phúc", "Quân", "Quỳnh", "Sơn",
		"Tâm", "Thảo", "Thắng", "Thủy", "Trang", "Trung", "Tú", "Tuấn", "Vân", "Việt", "Xuân", "Yến", "Khoa", "Đạt"}
)

func (p *pseudonymizer) name(s string) string {
	if strings.TrimSpace(s) == "" {
		return s
	}
	key := strings.ToLower(strings.Join(strings.Fields(s), " "))
	x := p.hashIndex("name", key, uint64(len(pseudoFamilies)*len(pseudoMiddles)*len(pseudoGivens)))
	g := pseudoGivens[x%uint64(len(pseudoGivens))]
	x /= uint64(len(pseudoGivens))
	mid := pseudoMiddles[x%uint64(len(pseudoMiddles))]
	fam := pseudoFamilies[x/uint64(len(pseudoMiddles))]
	out := fam + " " + mid + " " + g
	upper := true
	for _, r := range s {
		if unicode.IsLower(r) {
			upper = false
			break
		}
	}
	if upper {
		out = strings.ToUpper(out)
	}
	return out
}

// date shifts a date by a keyed number of days (1 to 365, either way), keeping its layout:
// 12/05/1990, 1990-05-12, 12.05.1990, 12-05-1990.
func (p *pseudonymizer) date(s string) string {
	t := strings.TrimSpace(s)
	layouts := []string{"02/01/2006", "2006-01-02", "02.01.2006", "02-01-2006", "2/1/2006", "2006/01/02"}
	for _, l := range layouts {
		d, err := time.Parse(l, t)
		if err != nil {
			continue
		}
		off := int(p.hashIndex("date", d.Format("2006-01-02"), 730)) - 365
		if off >= 0 {
			off++
		}
		return strings.Replace(s, t, d.AddDate(0, 0, off).Format(l), 1)
	}
	if len(t) >= 10 { // a timestamp: shift its date part
		if d, err := time.Parse("2006-01-02", t[:10]); err == nil {
			off := int(p.hashIndex("date", t[:10], 730)) - 365
			if off >= 0 {
				off++
			}
			return strings.Replace(s, t[:10], d.AddDate(0, 0, off).Format("2006-01-02"), 1)
		}
	}
	return p.anyDigits("date", s)
}

// token replaces s with a keyed hex pseudonym of the same role.
func (p *pseudonymizer) token(tweak, s string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(tweak + ":" + s))
	return fmt.Sprintf("%x", m.Sum(nil))[:16]
}
