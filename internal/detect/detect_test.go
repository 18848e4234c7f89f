package detect

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"
)

var testNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func detector(t testing.TB, id string) Detector {
	t.Helper()
	for _, d := range Default(testNow) {
		if d.ID() == id {
			return d
		}
	}
	t.Fatalf("no detector %s", id)
	return nil
}

// find returns the matched texts of detector id in text.
func find(t testing.TB, id, text string) []Match {
	t.Helper()
	var out []Match
	detector(t, id).Find([]byte(text), func(m Match) { out = append(out, m) })
	return out
}

func matchedTexts(text string, ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, text[m.Offset:m.Offset+m.Len])
	}
	return out
}

// All numbers below are synthetic (serials 000xxx, prefixes followed by zeros).
func TestDetectors(t *testing.T) {
	tests := []struct {
		name, id, text string
		want           []string // matched text, in order
	}{
		// Citizen ID, vectors of vn-frameworks.md §4.1.
		{"cccd Ha Noi male 1999", CitizenID, "số 001099000000 ", []string{"001099000000"}},
		{"cccd HCMC female 2005", CitizenID, "079305000000", []string{"079305000000"}},
		{"cccd unassigned province", CitizenID, "003099000000", nil},
		{"cccd born in the future", CitizenID, "001405000000", nil},
		{"cccd born 2026 is this year", CitizenID, "001226000000", []string{"001226000000"}},
		{"cccd born 2027 is next year", CitizenID, "001227000000", nil},
		{"cccd born 1905 is too old", CitizenID, "001005000000", nil},
		{"cccd 11 digits", CitizenID, "00109900000", nil},
		{"cccd 13-digit run", CitizenID, "0010990000001", nil},
		{"cccd glued to letters", CitizenID, "HD001099000000", nil},
		{"cccd tail of a decimal", CitizenID, "1.001099000000", nil},
		{"cccd sentence end", CitizenID, "Số CCCD 001099000000.", []string{"001099000000"}},
		{"cccd in CSV", CitizenID, "1,An,001099000123,0390000101\n2,001099000124,x", []string{"001099000123", "001099000124"}},
		{"cccd amount with decimals", CitizenID, "001099000123,50 đồng", nil},
		{"cccd in a table", CitizenID, "1\tNguyễn Văn An\t001099000123\t079305000456", []string{"001099000123", "079305000456"}},

		// Old ID: context only.
		{"cmnd labelled", OldID, "Số CMND: 012000345", []string{"012000345"}},
		{"cmnd unaccented label", OldID, "so chung minh nhan dan 012000345", []string{"012000345"}},
		{"cmnd no context", OldID, "Mã hồ sơ 012000345", nil},
		{"cmnd label on previous line", OldID, "Số CMND:\n012000345", nil},

		// Phones, vectors of §4.4.
		{"phone +84 spaced", Phone, "+84 39 000 0000", []string{"+84 39 000 0000"}},
		{"phone plain", Phone, "ĐT: 0390000000.", []string{"0390000000"}},
		{"phone 3-3-4", Phone, "090 123 4567", []string{"090 123 4567"}},
		{"phone dotted", Phone, "090.123.4567", []string{"090.123.4567"}},
		{"phone dashed 4-3-3", Phone, "0901-234-567", []string{"0901-234-567"}},
		{"phone (+84)", Phone, "(+84) 901 234 567", []string{"(+84) 901 234 567"}},
		{"phone 84 contiguous", Phone, "84901234567", []string{"84901234567"}},
		{"phone 84 split without plus", Phone, "84 90 123 4567", nil},
		{"phone two in a row", Phone, "0901234567 0912345678", []string{"0901234567", "0912345678"}},
		{"phone old 01x", Phone, "0110000000", nil},
		{"phone 095 unassigned", Phone, "0950000000", nil},
		{"phone landline 10 digits", Phone, "0200000000", nil},
		{"phone landline 11 digits", Phone, "024 3823 4567", nil},
		{"phone hotline 1900", Phone, "1900 1234", nil},
		{"phone hotline 1800", Phone, "1800 123 456", nil},
		{"phone mixed separators", Phone, "090.123 4567", nil},
		{"phone longer dotted number", Phone, "090.123.4567.8", nil},
		{"phone with branch suffix", Phone, "0351234567-001", nil},
		{"phone in CSV", Phone, "1,001099000123,0390000101,0390000102", []string{"0390000101", "0390000102"}},
		{"phone in money", Phone, "1.090.123.456 đồng", nil},

		// Tax codes, vectors of §4.5.
		{"tax r=10", TaxCode, "MST: 0100000010", []string{"0100000010"}},
		{"tax r=2", TaxCode, "4800000038", []string{"4800000038"}},
		{"tax r=3", TaxCode, "0123456787", []string{"0123456787"}},
		{"tax bad check", TaxCode, "0100000011", nil},
		{"tax r=0", TaxCode, "7900000020", nil},
		{"tax branch", TaxCode, "0100000010-001", []string{"0100000010-001"}},
		{"tax branch 000", TaxCode, "0100000010-000", nil},
		{"tax 13 bare", TaxCode, "0100000010001", nil},
		{"tax 13 labelled", TaxCode, "MST 0100000010001", []string{"0100000010001"}},
		{"tax labelled as an account", TaxCode, "Số tài khoản 0100000010", nil},
		{"tax label above, account here", TaxCode, "MST: 0100000010\nSố tài khoản 4800000038", []string{"0100000010"}},
		{"cccd labelled as an account", CitizenID, "STK: 001099000000", nil},
		{"cccd labelled as an order", CitizenID, "Mã đơn hàng 001099000000", nil},

		// Markings.
		{"stamp line", MarkTuyet, "CỘNG HÒA\nTUYỆT MẬT\nSố: 12/QĐ", []string{"TUYỆT MẬT"}},
		{"stamp bracket", MarkMat, "Báo cáo [MẬT] về tình hình", []string{"MẬT"}},
		{"stamp decorated", MarkToiMat, "*** TỐI MẬT ***", []string{"TỐI MẬT"}},
		{"stamp box", MarkToiMat, "│ TỐI MẬT │", []string{"TỐI MẬT"}},
		{"stamp table cell", MarkMat, "Số: 12\tMẬT\tHà Nội", []string{"MẬT"}},
		{"field", MarkToiMat, "Độ mật: Tối mật", []string{"Tối mật"}},
		{"field unaccented", MarkTuyet, "Do mat: tuyet mat", []string{"tuyet mat"}},
		{"field upper", MarkMat, "ĐỘ MẬT: MẬT", []string{"MẬT"}},
		{"unaccented stamp", MarkTuyet, "TUYET MAT", []string{"TUYET MAT"}},
		{"decomposed stamp", MarkTuyet, norm.NFD.String("TUYỆT MẬT"), []string{norm.NFD.String("TUYỆT MẬT")}},
		{"mat is not toi mat", MarkMat, "TỐI MẬT", nil},
		{"prose bi mat", MarkMat, "Đây là bí mật kinh doanh.", nil},
		{"prose mat khau", MarkMat, "Quên mật khẩu?\nmật độ dân số\nMật ong rừng", nil},
		{"upper prose", MarkMat, "CHÍNH SÁCH BẢO MẬT\nĐỔI MẬT KHẨU\n[BẢO MẬT]\nMẬT ONG", nil},
		{"title case alone", MarkMat, "Mật", nil},
		{"field with other value", MarkMat, "Độ mật: Thường", nil},
		{"field then more", MarkToiMat, "Độ mật: Tối mật. Số: 12/BC", []string{"Tối mật"}},
		{"field value is prose", MarkMat, "Độ mật: mật độ cao", nil},
		{"mat inside a word", MarkMat, "SMẬT\nMẬTT\nMATH", nil},
		{"lone label", MarkMat, "Độ mật", nil},
		{"urgency marks", MarkMat, "KHẨN\nHỎA TỐC", nil},
		{"long line cell", MarkMat, strings.Repeat("chữ ", 400) + "\tMẬT\t" + strings.Repeat("chữ ", 400), []string{"MẬT"}},
		{"long line bracket", MarkToiMat, strings.Repeat("x", 2000) + " [TỐI MẬT] " + strings.Repeat("y", 2000), []string{"TỐI MẬT"}},
		{"long line window edge is no line edge", MarkMat, strings.Repeat("chữ ", 400) + " MẬT " + strings.Repeat("chữ ", 400), nil},
		{"long line prose", MarkMat, strings.Repeat("bí mật mật khẩu ", 500), nil},
		{"long line field", MarkTuyet, strings.Repeat("a", 3000) + " Độ mật: Tuyệt mật; " + strings.Repeat("b", 3000), []string{"Tuyệt mật"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := matchedTexts(tt.text, find(t, tt.id, tt.text))
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("%s in %q = %q, want %q", tt.id, tt.text, got, tt.want)
			}
		})
	}
}

func TestConfidenceAndMask(t *testing.T) {
	tests := []struct {
		name, id, text string
		conf           float64
		masked         string
		line           int
	}{
		{"cccd labelled", CitizenID, "x\nSố CCCD: 001099000123", confHigh, "0010990*****", 2},
		{"cccd upper label", CitizenID, "SỐ CĂN CƯỚC 001099000123", confHigh, "0010990*****", 1},
		{"cccd label line above", CitizenID, "Số CCCD\n001099000123", confHigh, "0010990*****", 2},
		{"cccd bare", CitizenID, "001099000123", confMedium, "0010990*****", 1},
		{"phone labelled", Phone, "Điện thoại: +84 90 123 4567", confContext, "0901******", 1},
		{"phone bare", Phone, "0901234567", confMedium, "0901******", 1},
		{"tax labelled", TaxCode, "Mã số thuế 0100000010-001", confContext, "01000*****-***", 1},
		{"tax bare", TaxCode, "0100000010", confWeak, "01000*****", 1},
		{"old id", OldID, "\n\nCMND 012000345", confContext, "012******", 3},
		{"stamp", MarkTuyet, "TUYỆT MẬT", confHigh, "TUYỆT MẬT", 1},
		{"unaccented lone mat", MarkMat, "[MAT]", 0.7, "MẬT", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := find(t, tt.id, tt.text)
			if len(ms) != 1 {
				t.Fatalf("%s in %q: %d matches, want 1", tt.id, tt.text, len(ms))
			}
			m := ms[0]
			if m.Confidence != tt.conf || m.Masked != tt.masked || m.Line != tt.line || m.Detector != tt.id {
				t.Errorf("%s in %q = {%s %v %q line %d}, want {%s %v %q line %d}", tt.id, tt.text,
					m.Detector, m.Confidence, m.Masked, m.Line, tt.id, tt.conf, tt.masked, tt.line)
			}
		})
	}
}

// A ten-digit number in a mobile range with a valid tax check digit is a phone, unless a
// tax label says otherwise.
func TestPhoneOrTaxCode(t *testing.T) {
	// 0351234567 is not assumed valid; find one that is both.
	var both string
	for n := 350000000; n < 359999999; n++ {
		s := "0" + itoa(n)
		if validTax10([]byte(s)) && ValidMobile([]byte(s)) {
			both = s
			break
		}
	}
	tests := []struct {
		text           string
		wantPh, wantTx int
	}{
		{both, 1, 0},
		{"MST: " + both, 0, 1},
		{"Điện thoại: " + both, 1, 0},
	}
	for _, tt := range tests {
		ph, tx := len(find(t, Phone, tt.text)), len(find(t, TaxCode, tt.text))
		if ph != tt.wantPh || tx != tt.wantTx {
			t.Errorf("%q: %d phones, %d tax codes; want %d, %d", tt.text, ph, tx, tt.wantPh, tt.wantTx)
		}
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func TestScanThreshold(t *testing.T) {
	key := []byte("test key")
	tests := []struct {
		name, text string
		id         string
		reportable bool
		distinct   int
	}{
		{"one phone in a footer", "Liên hệ: 0901234567", Phone, false, 1},
		{"same phone three times", "0901234567\n090 123 4567\n+84 90 123 4567", Phone, false, 1},
		{"three phones", "0901234567\n0912345678\n0387654321", Phone, true, 3},
		{"one bare citizen id", "001099000123", CitizenID, false, 1},
		{"one labelled citizen id", "Số CCCD: 001099000123", CitizenID, true, 1},
		{"one stamp", "TUYỆT MẬT", MarkTuyet, true, 1},
		{"one company tax code", "Mã số thuế: 0100000010", TaxCode, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := Scan([]byte(tt.text), Default(testNow), Options{Key: key})
			f, ok := rep.Finding(tt.id)
			if !ok {
				t.Fatalf("Scan(%q): no %s finding in %+v", tt.text, tt.id, rep)
			}
			if f.Reportable != tt.reportable || f.Distinct != tt.distinct {
				t.Errorf("Scan(%q) %s = reportable %v distinct %d, want %v %d", tt.text, tt.id, f.Reportable, f.Distinct, tt.reportable, tt.distinct)
			}
			if rep.Reportable(tt.id) != tt.reportable {
				t.Errorf("Report.Reportable(%s) = %v", tt.id, !tt.reportable)
			}
		})
	}
}

func TestScanHashIsKeyedAndStable(t *testing.T) {
	text := []byte("Số CCCD: 001099000123")
	a := Scan(text, Default(testNow), Options{Key: []byte("k1")})
	b := Scan([]byte("CCCD 001099000123 và hơn nữa"), Default(testNow), Options{Key: []byte("k1")})
	c := Scan(text, Default(testNow), Options{Key: []byte("k2")})
	ha, hb, hc := a.Findings[0].Samples[0].Hash, b.Findings[0].Samples[0].Hash, c.Findings[0].Samples[0].Hash
	if ha != hb {
		t.Errorf("same value, same key: hashes %s and %s differ", ha, hb)
	}
	if ha == hc {
		t.Errorf("different keys gave the same hash %s", ha)
	}
	if len(ha) != 32 || strings.Contains(ha, "001099000123") {
		t.Errorf("hash %q: want 32 hex digits", ha)
	}
}

func TestValidators(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{"0100000010", true}, {"4800000038", true}, {"0123456787", true}, {"0100000011", false},
		{"7900000020", false}, {"0100000010-001", true}, {"0100000010-000", false}, {"0100000010001", true},
		{"0000000000", false}, {"01000000x0", false},
	} {
		if got := ValidTaxCode(tt.s); got != tt.want {
			t.Errorf("ValidTaxCode(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
	if Province("001") != "Hà Nội" || Province("096") != "Cà Mau" || Province("003") != "" || Province("999") != "" {
		t.Errorf("Province table is wrong")
	}
}

// opaque hides a detector's type, so Scan runs its own Find instead of a shared pass.
type opaque struct{ Detector }

func TestScanSharedPassMatchesFind(t *testing.T) {
	c := genCorpus(7, 256<<10, 0.2, 0.2)
	var wrapped []Detector
	for _, d := range Default(testNow) {
		wrapped = append(wrapped, opaque{d})
	}
	a := Scan(c.text, Default(testNow), Options{Key: []byte("k")})
	b := Scan(c.text, wrapped, Options{Key: []byte("k")})
	if len(a.Findings) != len(b.Findings) {
		t.Fatalf("%d findings with the shared pass, %d without", len(a.Findings), len(b.Findings))
	}
	for i := range a.Findings {
		fa, fb := a.Findings[i], b.Findings[i]
		if fa.Detector != fb.Detector || fa.Matches != fb.Matches || fa.MaxConfidence != fb.MaxConfidence {
			t.Errorf("shared pass %s: %d matches (max %v); own pass %s: %d (max %v)",
				fa.Detector, fa.Matches, fa.MaxConfidence, fb.Detector, fb.Matches, fb.MaxConfidence)
		}
	}
}
