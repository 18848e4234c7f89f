package detect

import (
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// The labelled corpus for the detectors of All. Like corpus_test.go it is synthetic: every
// planted value is built from random digits and letters with the structure of the real thing
// (province, century digit, network prefix, check digit, Luhn, issuer range, token alphabet,
// key encoding) and belongs to nobody; every decoy looks like a value and is not one. A line is
// written from parts, each either text or a value planted for a detector, so the labels are
// exact even where one line holds several values (a name beside its citizen ID).

// part is a piece of a line: text, or a value planted for detector id.
type part struct{ id, s string }

func txt(s string) part     { return part{s: s} }
func val(id, s string) part { return part{id: id, s: s} }
func (g *corpusBuilder) parts(ps ...part) {
	for _, p := range ps {
		if p.id != "" {
			off := g.b.Len()
			g.c.plants = append(g.c.plants, plant{p.id, off, off + len(p.s)})
		}
		g.b.WriteString(p.s)
	}
	g.b.WriteByte('\n')
}

const (
	alnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b32    = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b64    = alnum + "+/"
	url64  = alnum + "_-"
	hexdig = "0123456789abcdef"
	upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

func (g *corpusBuilder) from(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

// mixed draws n characters of alphabet with at least one digit and one letter, as keys are.
func (g *corpusBuilder) mixed(alphabet string, n int) string {
	for {
		s := g.from(alphabet, n)
		if strings.ContainsAny(s, "0123456789") && strings.ContainsAny(s, upper+strings.ToLower(upper)) && entropy([]byte(s)) >= 3.6 {
			return s
		}
	}
}

var (
	middleNames = []string{"Văn", "Thị", "Hoàng", "Minh", "Quốc", "Thu", "Ngọc", "Gia", "Thanh", "Đức", "Hữu", "Kim"}
	givens      = []string{"An", "Bình", "Cường", "Dung", "Đức", "Hà", "Hùng", "Lan", "Mai", "Phúc", "Quang", "Thảo", "Tuấn", "Yến", "Sơn", "Hương"}
	families    = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương", "Lý", "Đinh", "Trương"}
	banks       = []string{"Vietcombank", "VietinBank", "BIDV", "Agribank", "Techcombank", "MB Bank", "ACB", "VPBank", "Sacombank", "TPBank"}
	mailDomains = []string{"gmail.com", "yahoo.com.vn", "hanoi.gov.vn", "outlook.com", "vnpt.vn", "fpt.com.vn", "soyte.hcm.gov.vn"}
)

// name draws a full name written with diacritics, the names vn.full_name is for.
func (g *corpusBuilder) name() string {
	n := g.pick(families...) + " " + g.pick(middleNames...) + " " + g.pick(givens...)
	for !strings.ContainsFunc(n, func(r rune) bool { return r > 0x7f }) {
		n = g.pick(families...) + " " + g.pick(middleNames...) + " " + g.pick(givens...)
	}
	if g.r.IntN(3) == 0 {
		n = strings.ToUpper(n)
	}
	return n
}

func (g *corpusBuilder) landline() string {
	areas := []string{"24", "28", "236", "225", "292", "251", "258", "203", "274"}
	a := g.pick(areas...)
	sub := string(byte('2'+g.r.IntN(7))) + g.digits(8-len(a)+1)
	if len(a) == 3 {
		sub = sub[:7]
	} else {
		sub = sub[:8]
	}
	d := "0" + a + sub
	switch g.r.IntN(5) {
	case 0:
		return d
	case 1:
		return "0" + a + " " + sub[:len(sub)-4] + " " + sub[len(sub)-4:]
	case 2:
		return "(0" + a + ") " + sub[:len(sub)-4] + " " + sub[len(sub)-4:]
	case 3:
		return "+84 " + a + " " + sub[:len(sub)-4] + " " + sub[len(sub)-4:]
	}
	return "0" + a + "." + sub[:len(sub)-4] + "." + sub[len(sub)-4:]
}

func (g *corpusBuilder) luhnComplete(prefix string, n int) string {
	d := prefix + g.digits(n-len(prefix)-1)
	for c := byte('0'); c <= '9'; c++ {
		if luhn([]byte(d + string(c))) {
			return d + string(c)
		}
	}
	panic("unreachable")
}

func (g *corpusBuilder) card() string {
	var d string
	switch g.r.IntN(4) {
	case 0:
		d = g.luhnComplete("9704"+g.digits(2), 16)
	case 1:
		d = g.luhnComplete("4", 16)
	case 2:
		d = g.luhnComplete(fmt.Sprint(51+g.r.IntN(5)), 16)
	default:
		d = g.luhnComplete("35"+fmt.Sprint(28+g.r.IntN(62)), 16)
	}
	if g.r.IntN(2) == 0 {
		return d[:4] + " " + d[4:8] + " " + d[8:12] + " " + d[12:]
	}
	return d
}

// notCard returns sixteen digits in a card range that fail Luhn.
func (g *corpusBuilder) notCard() string {
	d := g.luhnComplete("4", 16)
	return d[:15] + string(byte('0'+(int(d[15]-'0')+1+g.r.IntN(9))%10))
}

func (g *corpusBuilder) dob() (string, string) {
	y, m, d := 1940+g.r.IntN(80), 1+g.r.IntN(12), 1+g.r.IntN(28)
	switch g.r.IntN(4) {
	case 0:
		return fmt.Sprintf("%02d/%02d/%d", d, m, y), ""
	case 1:
		return fmt.Sprintf("%d-%02d-%02d", y, m, d), ""
	case 2:
		return fmt.Sprintf("%02d.%02d.%d", d, m, y), ""
	}
	return fmt.Sprintf("%d tháng %d năm %d", d, m, y), "ngày "
}

func (g *corpusBuilder) mrz(doc string) string {
	birth := fmt.Sprintf("%02d%02d%02d", g.r.IntN(100), 1+g.r.IntN(12), 1+g.r.IntN(28))
	exp := fmt.Sprintf("%02d%02d%02d", 27+g.r.IntN(10), 1+g.r.IntN(12), 1+g.r.IntN(28))
	return mrzLine2(doc+"<", birth, exp)
}

func (g *corpusBuilder) pemBlock(label string, escaped bool) string {
	der := make([]byte, 300+g.r.IntN(900))
	for i := range der {
		der[i] = byte(g.r.IntN(256))
	}
	der[0] = 0x30
	if strings.Contains(label, "OPENSSH") {
		der = append([]byte("openssh-key-v1\x00"), der...)
	}
	enc := base64.StdEncoding.EncodeToString(der)
	nl := "\n"
	if escaped {
		nl = `\n`
	}
	var sb strings.Builder
	sb.WriteString("-----BEGIN " + label + "-----" + nl)
	for len(enc) > 64 {
		sb.WriteString(enc[:64] + nl)
		enc = enc[64:]
	}
	sb.WriteString(enc + nl + "-----END " + label + "-----")
	return sb.String()
}

func (g *corpusBuilder) jwtToken() string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + g.pick("HS256", "RS256", "ES256") + `","typ":"JWT"}`))
	p := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"sub":"%s","iat":%d}`, g.from(alnum, 12), 1600000000+g.r.IntN(1e8))))
	return h + "." + p + "." + g.from(url64, 43)
}

func (g *corpusBuilder) password() string {
	for {
		p := g.from(alnum+"!@#%^*_-", 8+g.r.IntN(10))
		if !placeholder([]byte(p), true) && strings.IndexAny(p[:1], "@#*") < 0 {
			return p
		}
	}
}

// plantedAll writes one line holding one or more planted values of any detector.
func (g *corpusBuilder) plantedAll() {
	place := g.pick(places...)
	switch g.r.IntN(24) {
	case 0: // citizen ID with a name
		n, v := g.name(), g.citizenID()
		switch g.r.IntN(3) {
		case 0:
			g.parts(txt("Họ và tên: "), val(FullName, n), txt(", Số CCCD: "), val(CitizenID, v), txt(", nơi cư trú: "+place))
		case 1:
			g.parts(txt(fmt.Sprintf("%d\t", g.r.IntN(500))), val(FullName, n), txt("\t"), val(CitizenID, v), txt("\t"+place))
		default:
			g.parts(val(FullName, n), txt(" (CCCD "), val(CitizenID, v), txt(")"))
		}
	case 1: // phone, sometimes with a name
		if g.r.IntN(2) == 0 {
			g.parts(txt(g.pick("Điện thoại: ", "SĐT ", "Mobile: ", "Zalo: ")), val(Phone, g.phone()))
		} else {
			n, d := g.name(), g.mobileDigits()
			g.parts(txt("Họ tên: "), val(FullName, n), txt(" - ĐT: "), val(Phone, d))
		}
	case 2:
		g.parts(txt(g.pick("Số CMND: ", "CMND so ", "Chứng minh nhân dân: ")), val(OldID, g.pick("0", "1", "2", "3")+g.digits(8)))
	case 3:
		g.parts(txt(g.pick("Mã số thuế: ", "MST ", "Tax code: ")), val(TaxCode, g.taxCode()))
	case 4:
		g.parts(txt(g.pick("Điện thoại cơ quan: ", "Tel: ", "Fax: ", "ĐT bàn ")), val(Landline, g.landline()))
	case 5:
		if g.r.IntN(2) == 0 {
			g.parts(txt(g.pick("Mã số BHXH: ", "Số BHXH ", "Social insurance no. ")), val(SocialInsurance, g.pick("0", "1", "2", "3", "4", "7", "8")+g.digits(9)))
		} else {
			code := g.pick("DN", "HS", "SV", "GD", "HT", "CB") + fmt.Sprint(1+g.r.IntN(5)) + fmt.Sprintf("%02d", 1+g.r.IntN(96)) + g.digits(10)
			g.parts(txt("Thẻ BHYT "), val(SocialInsurance, code), txt(" còn hạn đến 31/12/2026"))
		}
	case 6:
		doc := string(upper[g.r.IntN(3)+1]) + g.digits(7)
		switch g.r.IntN(3) {
		case 0:
			g.parts(txt(g.pick("Hộ chiếu số ", "Passport No: ", "Số hộ chiếu: ")), val(Passport, doc), txt(", cấp tại "+place))
		case 1:
			n := g.name()
			g.parts(txt("Họ tên: "), val(FullName, n), txt(", hộ chiếu "), val(Passport, doc))
		default:
			g.line("P<VNM" + strings.ToUpper(strings.ReplaceAll(norm.NFD.String("NGUYEN VAN AN"), " ", "<")) + strings.Repeat("<", 20))
			g.parts(val(Passport, doc), txt(g.mrz(doc)[len(doc):]))
		}
	case 7:
		c := g.card()
		if g.r.IntN(3) == 0 {
			g.parts(val(BankCard, c))
		} else {
			g.parts(txt(g.pick("Số thẻ: ", "Card number ", "Thẻ ATM số ", "Visa card: ")), val(BankCard, c))
		}
	case 8:
		acct := g.pick("0", "1", "2", "9") + g.digits(8+g.r.IntN(6))
		switch g.r.IntN(3) {
		case 0:
			g.parts(txt("STK: "), val(BankAccount, acct), txt(" - "+g.pick(banks...)))
		case 1:
			g.parts(txt("Số tài khoản "), val(BankAccount, acct), txt(" tại ngân hàng "+g.pick(banks...)))
		default:
			g.parts(txt("Chuyển khoản: "+g.pick(banks...)+" "), val(BankAccount, "1"+g.digits(12)))
		}
	case 9:
		local := strings.ToLower(g.pick("nguyen", "tran", "le", "pham", "hoang")) + g.pick(".", "_", "") + g.from("abcdefghijklmnopqrstuvwxyz", 3+g.r.IntN(5)) + g.digits(g.r.IntN(3))
		g.parts(txt(g.pick("Email: ", "E-mail: ", "Thư điện tử: ", "liên hệ ", "")), val(Email, local+"@"+g.pick(mailDomains...)))
	case 10:
		d, pre := g.dob()
		if g.r.IntN(2) == 0 {
			g.parts(txt(g.pick("Ngày sinh: ", "Sinh ngày ", "DOB: ", "Date of birth: ")+pre), val(BirthDate, d))
		} else {
			n := g.name()
			g.parts(txt("Họ và tên: "), val(FullName, n), txt(", ngày sinh "+pre), val(BirthDate, d))
		}
	case 11: // private keys
		switch g.r.IntN(4) {
		case 0:
			k := g.pemBlock("RSA PRIVATE KEY", false)
			g.parts(val(SecretPrivateKey, k))
		case 1:
			k := g.pemBlock("OPENSSH PRIVATE KEY", false)
			g.parts(val(SecretPrivateKey, k))
		case 2:
			k := g.pemBlock("PRIVATE KEY", true)
			g.parts(txt(`{"type": "service_account", "private_key": "`), val(SecretPrivateKey, k), txt(`\n"}`))
		default:
			k := g.pemBlock("EC PRIVATE KEY", false)
			g.parts(val(SecretPrivateKey, k))
		}
	case 12:
		for {
			k := g.pick("AKIA", "ASIA") + g.from(b32, 16)
			if !strings.Contains(k, "EXAMPLE") {
				g.parts(txt(g.pick("aws_access_key_id = ", "AWS_ACCESS_KEY_ID=", `"AccessKeyId": "`)), val(SecretAWSKey, k))
				break
			}
		}
	case 13:
		g.parts(txt(g.pick("aws_secret_access_key = ", "AWS_SECRET_ACCESS_KEY=", "SecretAccessKey: ")), val(SecretAWSSecret, g.mixed(b64, 40)))
	case 14:
		switch g.r.IntN(6) {
		case 0:
			r := g.from(alnum, 30)
			g.parts(txt("GITHUB_TOKEN="), val(SecretGitHub, "ghp_"+r+base62Pad(crc32.ChecksumIEEE([]byte(r)), 6)))
		case 1:
			g.parts(txt("gitlab_token: "), val(SecretGitLab, "glpat-"+g.from(url64, 20)))
		case 2:
			g.parts(txt("SLACK_BOT_TOKEN="), val(SecretSlack, "xoxb-"+g.digits(12)+"-"+g.digits(13)+"-"+g.from(alnum, 24)))
		case 3:
			g.parts(txt("webhook: https://"), val(SecretSlackHook, "hooks.slack.com/services/T"+g.from(upper+"0123456789", 10)+"/B"+g.from(upper+"0123456789", 10)+"/"+g.from(alnum, 24)))
		case 4:
			g.parts(txt("stripe.api_key = "), val(SecretStripe, "sk_live_"+g.from(alnum, 24)))
		default:
			g.parts(txt("SENDGRID_API_KEY="), val(SecretSendGrid, "SG."+g.from(url64, 22)+"."+g.from(url64, 43)))
		}
	case 15:
		switch g.r.IntN(4) {
		case 0:
			g.parts(txt("//registry.npmjs.org/:_authToken="), val(SecretNPM, "npm_"+g.from(alnum, 36)))
		case 1:
			key := make([]byte, 64)
			for i := range key {
				key[i] = byte(g.r.IntN(256))
			}
			g.parts(txt("DefaultEndpointsProtocol=https;AccountName=khien"+g.digits(3)+";"), val(SecretAzure, "AccountKey="+base64.StdEncoding.EncodeToString(key)), txt(";EndpointSuffix=core.windows.net"))
		case 2:
			g.parts(txt("TELEGRAM_BOT_TOKEN="), val(SecretTelegram, fmt.Sprint(100000000+g.r.IntN(899999999))+":AA"+g.from(url64, 33)))
		default:
			g.parts(txt("maps_key: "), val(SecretGoogleKey, "AIza"+g.from(url64, 35)))
		}
	case 16:
		g.parts(txt(g.pick("Authorization: Bearer ", "token=", "jwt: ")), val(SecretJWT, g.jwtToken()))
	case 17:
		p := g.password()
		switch g.r.IntN(6) {
		case 0:
			g.parts(txt(g.pick("DB_PASSWORD=", "MYSQL_ROOT_PASSWORD=", "PGPASSWORD=")), val(SecretPassword, p))
		case 1:
			g.parts(txt("  password: \""), val(SecretPassword, p), txt("\""))
		case 2:
			g.parts(txt(`{"username": "admin", "password": "`), val(SecretPassword, p), txt(`"}`))
		case 3:
			p = g.from(alnum, 12)
			g.parts(txt("DATABASE_URL="+g.pick("postgres", "mysql", "mongodb")+"://app:"), val(SecretPassword, p), txt("@db"+g.digits(2)+".noi-bo.vn:5432/hoso"))
		case 4:
			g.parts(txt("Mật khẩu: "), val(SecretPassword, p))
		default:
			g.parts(txt("Server=db01;Database=hoso;User Id=sa;Password="), val(SecretPassword, p), txt(";"))
		}
	case 18:
		switch g.r.IntN(3) {
		case 0:
			g.parts(txt(`api_key = "`), val(SecretGeneric, g.mixed(hexdig, 32)), txt(`"`))
		case 1:
			g.parts(txt("client_secret: "), val(SecretGeneric, g.mixed(alnum, 32)))
		default:
			g.parts(txt("X-Api-Key: "), val(SecretGeneric, g.mixed(alnum, 40)))
		}
	case 19, 20: // state-secret stamps
		switch g.r.IntN(8) {
		case 0:
			g.parts(txt("["), val(MarkMat, "MẬT"), txt("]"))
		case 1:
			g.parts(val(MarkMat, "MẬT"))
		case 2:
			g.parts(txt("Độ mật: "), val(MarkToiMat, "Tối mật"))
		case 3:
			g.parts(val(MarkToiMat, "TỐI MẬT"), txt("\t\tKHẨN"))
		case 4:
			g.parts(txt("│ "), val(MarkTuyet, "TUYỆT MẬT"), txt(" │"))
		case 5:
			g.parts(val(MarkTuyet, norm.NFD.String("TUYỆT MẬT")))
		case 6:
			g.parts(txt("Số: 15/BC-UBND\t"), val(MarkMat, "MẬT"))
		default:
			g.parts(txt("("), val(MarkTuyet, "TUYET MAT"), txt(")"))
		}
	default: // lower markings
		switch g.r.IntN(6) {
		case 0:
			g.parts(txt("TÀI LIỆU "), val(MarkNoiBo, "LƯU HÀNH NỘI BỘ"))
		case 1:
			g.parts(txt("Tài liệu "), val(MarkNoiBo, "lưu hành nội bộ"))
		case 2:
			g.parts(txt("["), val(MarkNoiBo, "LUU HANH NOI BO"), txt("]"))
		case 3:
			g.parts(val(MarkKhongPhoBien, "KHÔNG PHỔ BIẾN"))
		case 4:
			g.parts(txt("** "), val(MarkKhongPhoBien, "KHÔNG PHỔ BIẾN"), txt(" **"))
		default:
			g.parts(txt("Báo cáo số 12/BC ["), val(MarkKhongPhoBien, "KHONG PHO BIEN"), txt("]"))
		}
	}
}

// decoyAll writes one line that looks like a value of some detector and is none.
func (g *corpusBuilder) decoyAll() {
	g.c.decoys++
	switch g.r.IntN(30) {
	case 0:
		g.line("Hóa đơn số " + g.luhnComplete("4", 16) + ", ngày 12/05/2024")
	case 1:
		g.line("Mã vận đơn " + g.notCard())
	case 2:
		g.line(g.pick("Tổng đài: 1900 ", "Hotline 1800 ") + g.digits(4) + " - " + g.pick(banks...))
	case 3:
		g.line("Mã hồ sơ: " + g.digits(9) + ", mã tra cứu " + g.digits(10))
	case 4:
		g.line("Mã SP " + string(upper[g.r.IntN(26)]) + g.digits(7) + " còn hàng")
	case 5:
		g.line("Ngày " + fmt.Sprintf("%02d/%02d/%d", 1+g.r.IntN(28), 1+g.r.IntN(12), 2000+g.r.IntN(26)) + ", cập nhật lúc 10:30")
	case 6:
		g.line("Ông " + g.pick(families...) + " " + g.pick(middleNames...) + " " + g.pick(givens...) + " phát biểu khai mạc hội nghị.")
	case 7:
		g.line("Trụ sở: số " + fmt.Sprint(1+g.r.IntN(200)) + " đường Trần Hưng Đạo, phường Hàng Bài, quận Hoàn Kiếm")
	case 8:
		g.line(g.pick("Gửi thư tới user@example.com", "ảnh logo@2x.png", "máy chủ admin@localhost", "git@github"))
	case 9:
		g.line(g.pick(`password: "${DB_PASSWORD}"`, "password=<your-password>", "DB_PASSWORD=changeme", `"password": ""`, "password: ****"))
	case 10:
		g.line(g.pick("Quên mật khẩu? Nhấn vào đây để đặt lại.", "Mật khẩu phải có ít nhất 8 ký tự.", "Password: must be at least 8 characters long", "Đổi mật khẩu định kỳ 90 ngày một lần."))
	case 11:
		g.line(g.pick("api_key: your_api_key", "token: true", "secret: false", "password_min_length: 12", "public_key: "+g.mixed(alnum, 32), "cache_key: "+g.from("abcdefghij", 20)))
	case 12:
		g.line("-----BEGIN PUBLIC KEY-----\n" + g.from(b64, 64) + "\n-----END PUBLIC KEY-----")
	case 13:
		g.line("-----BEGIN RSA PRIVATE KEY-----\nMIIE...(rút gọn)...\n-----END RSA PRIVATE KEY-----")
	case 14:
		g.line(g.pick("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "ghp_xxxxxxxxxxxx", "sk_live_xxx", "SG.abc.def", "eyJhbGciOi.bm90.anNvbg"))
	case 15:
		g.line(g.pick("Loại cây này không phổ biến ở miền Bắc.", "Hiện tượng này không phổ biến.", "Cuộc họp nội bộ của chi bộ.", "Sách được lưu hành rộng rãi."))
	case 16:
		g.line(g.pick(decoyProse...))
	case 17:
		g.line(fmt.Sprintf("Số tiền %d.%03d.%03d.%03d đồng", 1+g.r.IntN(9), g.r.IntN(1000), g.r.IntN(1000), g.r.IntN(1000)))
	case 18:
		g.line("Mã giao dịch " + g.digits(12) + " lúc 20240512103000")
	case 19:
		g.line("Điện thoại: 095 " + g.digits(3) + " " + g.digits(4))
	case 20:
		for {
			d := "1" + g.digits(9)
			if !validTax10([]byte(d)) {
				g.line("Mã số " + d + ", bảo hành 12 tháng")
				break
			}
		}
	case 21:
		g.line(g.pick("Ngân hàng Nhà nước Việt Nam", "Vietcombank chi nhánh Hà Nội", "Hotline Vietcombank 1900545413"))
	case 22:
		g.line(g.pick("CHÍNH SÁCH BẢO MẬT", "ĐỔI MẬT KHẨU", "[BẢO MẬT]", "KHẨN", "HỎA TỐC"))
	case 23:
		g.line("version: " + fmt.Sprint(g.r.IntN(10)) + "." + fmt.Sprint(g.r.IntN(20)) + "." + fmt.Sprint(g.r.IntN(50)) + ", build " + g.digits(8))
	case 24:
		g.line("Mã tra cứu hóa đơn: " + g.from(upper+"0123456789", 12))
	case 25:
		g.line("Thẻ BHYT mẫu XQ4" + g.digits(12))
	case 26:
		g.line("Số văn bản 0" + g.pick("11", "16", "19") + g.digits(8))
	case 27:
		g.line("https://portal.hanoi.gov.vn/van-ban?id=" + g.digits(6) + "&page=2")
	case 28:
		g.line("sinh viên năm " + fmt.Sprint(1+g.r.IntN(4)) + ", học sinh lớp " + fmt.Sprint(1+g.r.IntN(12)))
	default:
		g.line(g.pick(prose...))
	}
}

// genLabelled writes about size bytes: prose, planted lines and decoys in the given shares.
func genLabelled(seed uint64, size int, plantShare, decoyShare float64) corpus {
	g := &corpusBuilder{r: rand.New(rand.NewPCG(seed, seed^0x85ebca6b))}
	for g.b.Len() < size {
		switch x := g.r.Float64(); {
		case x < plantShare:
			g.plantedAll()
		case x < plantShare+decoyShare:
			g.decoyAll()
		default:
			g.line(g.pick(prose...))
		}
	}
	g.c.text = []byte(g.b.String())
	return g.c
}
