package detect

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"hash/crc32"
	"strings"
	"testing"
)

// findAll runs the detector id of All.
func findAll(t testing.TB, id, text string) []Match {
	t.Helper()
	for _, d := range All(testNow) {
		if d.ID() == id {
			var out []Match
			d.Find([]byte(text), func(m Match) { out = append(out, m) })
			return out
		}
	}
	t.Fatalf("no detector %s in All", id)
	return nil
}

// Synthetic credentials, built here so that no real one is ever checked in.
func testPEMKey(t testing.TB) string {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i * 7)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	// Pad to a realistic size: an RSA key's DER is far longer than an Ed25519 one.
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: append(der, make([]byte, 64)...)}))
}

func testOpenSSHKey() string {
	body := append([]byte("openssh-key-v1\x00"), []byte(strings.Repeat("synthetic-key-material-", 6))...)
	enc := base64.StdEncoding.EncodeToString(body)
	var sb strings.Builder
	sb.WriteString("-----BEGIN OPENSSH PRIVATE KEY-----\n")
	for len(enc) > 70 {
		sb.WriteString(enc[:70] + "\n")
		enc = enc[70:]
	}
	sb.WriteString(enc + "\n-----END OPENSSH PRIVATE KEY-----\n")
	return sb.String()
}

func testGitHubToken(random string) string {
	return "ghp_" + random + base62Pad(crc32.ChecksumIEEE([]byte(random)), 6)
}

func testJWT() string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	p := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"synthetic","iat":1700000000}`))
	return h + "." + p + ".c2lnbmF0dXJlLXN5bnRoZXRpYy0wMDAwMDAwMDAw"
}

func mrzLine2(doc, birth, expiry string) string {
	cd := func(s string) string {
		w := [3]int{7, 3, 1}
		sum := 0
		for i := range len(s) {
			sum += mrzValue(s[i]) * w[i%3]
		}
		return string(byte('0' + sum%10))
	}
	l := doc + cd(doc) + "VNM" + birth + cd(birth) + "M" + expiry + cd(expiry)
	l += strings.Repeat("<", 42-len(l)) + "0"
	return l + cd(l[0:10]+l[13:20]+l[21:43])
}

func TestAllDetectors(t *testing.T) {
	pemKey := testPEMKey(t)
	sshKey := testOpenSSHKey()
	gh := testGitHubToken("AbCdEf0123456789GhIjKlMnOpQrSt")
	jw := testJWT()
	mrz := "P<VNMNGUYEN<<VAN<AN<<<<<<<<<<<<<<<<<<<<<<<<<\n" + mrzLine2("C0000001<", "900512", "300512") + "\n"
	tests := []struct {
		name, id, text string
		want           []string
	}{
		{"landline Hanoi spaced", Landline, "Điện thoại: 024 3823 4567", []string{"024 3823 4567"}},
		{"landline bracket", Landline, "(0236) 3 822 222", []string{"(0236) 3 822 222"}},
		{"landline +84", Landline, "Tel +84 24 3823 4567", []string{"+84 24 3823 4567"}},
		{"landline contiguous", Landline, "02438234567", []string{"02438234567"}},
		{"landline dotted", Landline, "0236.3822.222", []string{"0236.3822.222"}},
		{"landline after a mobile", Landline, "0901234567 02438234567", []string{"02438234567"}},
		{"landline unassigned area", Landline, "0230 123 4567", nil},
		{"landline subscriber 0", Landline, "0213 012 3456", nil},
		{"landline 10 digits", Landline, "0200000000", nil},
		{"landline hotline", Landline, "1900 1234", nil},
		{"landline is no mobile", Landline, "0901234567", nil},

		{"bhxh labelled", SocialInsurance, "Mã số BHXH: 0123456789", []string{"0123456789"}},
		{"bhxh label line above", SocialInsurance, "Số BHXH\n0123456789", []string{"0123456789"}},
		{"bhxh bare", SocialInsurance, "0123456789", nil},
		{"bhyt card", SocialInsurance, "Thẻ DN4010123456789 còn hạn", []string{"DN4010123456789"}},
		{"bhyt card bad group", SocialInsurance, "XQ4010123456789", nil},
		{"bhyt card bad level", SocialInsurance, "DN9010123456789", nil},

		{"passport labelled", Passport, "Hộ chiếu số C1234567", []string{"C1234567"}},
		{"passport english", Passport, "Passport No: B7654321", []string{"B7654321"}},
		{"passport bare", Passport, "Mã SP C1234567", nil},
		{"passport glued", Passport, "Hộ chiếu XC1234567", nil},
		{"passport mrz", Passport, mrz, []string{"C0000001"}},
		{"passport mrz bad check", Passport, strings.Replace(mrz, "VNM9", "VNM8", 1), nil},

		{"card napas grouped", BankCard, "Số thẻ: 9704 0000 0000 0000", []string{"9704 0000 0000 0000"}},
		{"card visa test", BankCard, "4111111111111111", []string{"4111111111111111"}},
		{"card bad luhn", BankCard, "9704000000000001", nil},
		{"card invoice", BankCard, "Hóa đơn số 4111111111111111", nil},
		{"card not an issuer", BankCard, "1234567812345670", nil},
		{"card amex", BankCard, "Visa/Amex card 3782 822463 10005", []string{"3782 822463 10005"}},
		{"card longer chain", BankCard, "4111 1111 1111 1111 1111", nil},

		{"account labelled with bank", BankAccount, "STK: 0011004123456 Vietcombank", []string{"0011004123456"}},
		{"account labelled", BankAccount, "Số tài khoản 123456789", []string{"123456789"}},
		{"account near bank", BankAccount, "Techcombank 19036587412011", []string{"19036587412011"}},
		{"account bank hotline", BankAccount, "Hotline Vietcombank 1900545413", nil},
		{"account bank mobile", BankAccount, "Vietcombank 0901234567", nil},
		{"account order", BankAccount, "Mã đơn hàng 12345678", nil},

		{"email", Email, "Email: nguyen.van.an@gmail.com", []string{"nguyen.van.an@gmail.com"}},
		{"email vn domain", Email, "lien he tran.b@hanoi.gov.vn.", []string{"tran.b@hanoi.gov.vn"}},
		{"email image", Email, "logo@2x.png", nil},
		{"email localhost", Email, "user@localhost", nil},
		{"email example", Email, "a.b@example.com", nil},
		{"email url credentials", Email, "ftp://user:pw@host.vn", nil},

		{"dob slash", BirthDate, "Ngày sinh: 12/05/1990", []string{"12/05/1990"}},
		{"dob words", BirthDate, "sinh ngày 12 tháng 5 năm 1990", []string{"12 tháng 5 năm 1990"}},
		{"dob iso", BirthDate, "DOB 1990-05-12", []string{"1990-05-12"}},
		{"dob with name", BirthDate, "Họ tên: Trần Thị Bình, 03.11.1985", []string{"03.11.1985"}},
		{"date not birth", BirthDate, "Ngày 12/05/2024, cập nhật", nil},
		{"dob impossible", BirthDate, "Ngày sinh: 31/02/1990", nil},
		{"dob future", BirthDate, "Ngày sinh: 12/05/2030", nil},
		{"issue date beside a name", BirthDate, "Họ tên: Trần Thị Bình, ngày cấp 03.11.2015", nil},

		{"name labelled", FullName, "Họ và tên: Nguyễn Văn An", []string{"Nguyễn Văn An"}},
		{"name beside id", FullName, "Nguyễn Văn An, CCCD 001099000123", []string{"Nguyễn Văn An"}},
		{"name upper", FullName, "HỌ VÀ TÊN: TRẦN THỊ BÌNH", []string{"TRẦN THỊ BÌNH"}},
		{"name in prose", FullName, "Ông Nguyễn Văn An đã phát biểu tại hội nghị.", nil},
		{"street beside id", FullName, "đường Lê Lợi, CCCD 001099000123", nil},
		{"no diacritics", FullName, "Nguyen Van An 001099000123", nil},
		{"province beside id", FullName, "Thái Bình 001099000123", nil},

		{"pem key", SecretPrivateKey, "key: |\n" + pemKey, []string{strings.TrimSuffix(pemKey, "\n")}},
		{"openssh key", SecretPrivateKey, sshKey, []string{strings.TrimSuffix(sshKey, "\n")}},
		{"key in json", SecretPrivateKey, `{"private_key": "` + strings.ReplaceAll(strings.TrimSuffix(pemKey, "\n"), "\n", `\n`) + `"}`,
			[]string{strings.ReplaceAll(strings.TrimSuffix(pemKey, "\n"), "\n", `\n`)}},
		{"public key", SecretPrivateKey, strings.ReplaceAll(pemKey, "PRIVATE", "PUBLIC"), nil},
		{"placeholder key", SecretPrivateKey, "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----", nil},

		{"aws key", SecretAWSKey, "aws_access_key_id = AKIAQ2W3E4R5T6Y7U2I3", []string{"AKIAQ2W3E4R5T6Y7U2I3"}},
		{"aws example", SecretAWSKey, "AKIAIOSFODNN7EXAMPLE", nil},
		{"aws too long", SecretAWSKey, "AKIAQ2W3E4R5T6Y7U2I3X", nil},
		{"aws secret", SecretAWSSecret, "aws_secret_access_key = wJa7rXUtnFEMI2K7MDENGbPxRfiCYz0q9Lk3TvHn", []string{"wJa7rXUtnFEMI2K7MDENGbPxRfiCYz0q9Lk3TvHn"}},
		{"github classic", SecretGitHub, "token: " + gh, []string{gh}},
		{"github short", SecretGitHub, "ghp_abc", nil},
		{"gitlab", SecretGitLab, "glpat-Ab3dE6gH9jK2mN5pQ8sT", []string{"glpat-Ab3dE6gH9jK2mN5pQ8sT"}},
		{"slack", SecretSlack, "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", []string{"xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"}},
		{"stripe", SecretStripe, "sk_live_4eC39HqLyjWDarjtT1zdp7dc", []string{"sk_live_4eC39HqLyjWDarjtT1zdp7dc"}},
		{"google", SecretGoogleKey, "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", []string{"AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"}},
		{"telegram", SecretTelegram, "BOT_TOKEN=123456789:AAH1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", []string{"123456789:AAH1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"}},
		{"jwt", SecretJWT, "Authorization: Bearer " + jw, []string{jw}},
		{"jwt not json", SecretJWT, "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", nil},

		{"password env", SecretPassword, "DB_PASSWORD=S3cr3t!x9", []string{"S3cr3t!x9"}},
		{"password yaml", SecretPassword, "  password: \"hunter2xyz\"", []string{"hunter2xyz"}},
		{"password json placeholder", SecretPassword, `"password": "${DB_PASS}"`, nil},
		{"password prose vi", SecretPassword, "Quên mật khẩu? Nhấn vào đây", nil},
		{"password prose en", SecretPassword, "Password: must be at least 8 characters", nil},
		{"password url", SecretPassword, "DATABASE_URL=postgres://app:Xk9pq2Lm@db.local:5432/x", []string{"Xk9pq2Lm"}},
		{"password vi", SecretPassword, "mật khẩu: Abc@12345", []string{"Abc@12345"}},
		{"password ado", SecretPassword, "Server=db;User Id=sa;Password=Qw3rty!2024;", []string{"Qw3rty!2024"}},
		{"passport is no password", SecretPassword, "passport: C1234567", nil},
		{"password code", SecretPassword, "password = req.body.password", nil},
		{"password reset url", SecretPassword, "password_reset_url=https://x.vn/reset", nil},

		{"generic api key", SecretGeneric, `api_key = "a8f5f167f44f4964e6c998dee827110c"`, []string{"a8f5f167f44f4964e6c998dee827110c"}},
		{"generic low entropy", SecretGeneric, "api_key: your_api_key", nil},
		{"generic primary key", SecretGeneric, "primary_key: id_nguoi_dung_1234567", nil},
		{"generic leaves github", SecretGeneric, "GITHUB_TOKEN=" + gh, nil},

		{"noi bo stamp", MarkNoiBo, "TÀI LIỆU LƯU HÀNH NỘI BỘ", []string{"LƯU HÀNH NỘI BỘ"}},
		{"noi bo footer", MarkNoiBo, "Tài liệu lưu hành nội bộ", []string{"lưu hành nội bộ"}},
		{"noi bo unaccented", MarkNoiBo, "[LUU HANH NOI BO]", []string{"LUU HANH NOI BO"}},
		{"khong pho bien stamp", MarkKhongPhoBien, "KHÔNG PHỔ BIẾN", []string{"KHÔNG PHỔ BIẾN"}},
		{"khong pho bien bracket", MarkKhongPhoBien, "Báo cáo [KHÔNG PHỔ BIẾN]", []string{"KHÔNG PHỔ BIẾN"}},
		{"khong pho bien prose", MarkKhongPhoBien, "Loại cây này không phổ biến ở miền Bắc.", nil},
		{"khong pho bien heading", MarkKhongPhoBien, "CÁC LOẠI CÂY KHÔNG PHỔ BIẾN Ở VIỆT NAM", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := matchedTexts(tt.text, findAll(t, tt.id, tt.text))
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("%s in %q = %q, want %q", tt.id, tt.text, got, tt.want)
			}
		})
	}
}

// Masks never hold the value; same values written differently hash alike.
func TestAllMasksAndCanonical(t *testing.T) {
	gh := testGitHubToken("AbCdEf0123456789GhIjKlMnOpQrSt")
	for _, tt := range []struct{ id, text, value, masked string }{
		{Landline, "024 3823 4567", "02438234567", "0243*******"},
		{BankCard, "Số thẻ 9704 0000 0000 0000", "9704000000000000", "970400**********"},
		{Email, "Email: nguyen.van.an@gmail.com", "nguyen.van.an@gmail.com", "n***@gmail.com"},
		{BirthDate, "Ngày sinh: 12/05/1990", "12/05/1990", "19**-**-**"},
		{FullName, "Họ và tên: Nguyễn Văn An", "Nguyễn Văn An", "N***** V** A*"},
		{SecretGitHub, "x " + gh, gh, "ghp_********"},
		{SecretPassword, "DB_PASSWORD=S3cr3t!x9", "S3cr3t!x9", "DB_PASSWORD=****"},
	} {
		ms := findAll(t, tt.id, tt.text)
		if len(ms) != 1 || ms[0].Masked != tt.masked || strings.Contains(ms[0].Masked, tt.value) {
			t.Errorf("%s in %q: %+v, want one match masked %q", tt.id, tt.text, ms, tt.masked)
		}
	}
	key := []byte("k")
	a := Scan([]byte("Ngày sinh: 12/05/1990"), All(testNow), Options{Key: key})
	b := Scan([]byte("DOB 1990-05-12"), All(testNow), Options{Key: key})
	fa, _ := a.Finding(BirthDate)
	fb, _ := b.Finding(BirthDate)
	if len(fa.Samples) != 1 || len(fb.Samples) != 1 || fa.Samples[0].Hash != fb.Samples[0].Hash {
		t.Errorf("a date of birth written two ways hashes differently: %+v %+v", fa, fb)
	}
	c := Scan([]byte("BHXH 0123456789"), All(testNow), Options{Key: key})
	d := Scan([]byte("DN4010123456789"), All(testNow), Options{Key: key})
	fc, _ := c.Finding(SocialInsurance)
	fd, _ := d.Finding(SocialInsurance)
	if len(fc.Samples) != 1 || len(fd.Samples) != 1 || fc.Samples[0].Hash != fd.Samples[0].Hash {
		t.Errorf("a BHXH number and its card code hash differently: %+v %+v", fc, fd)
	}
}

func TestClassOfAll(t *testing.T) {
	for _, d := range All(testNow) {
		if ClassOf(d.ID()) == "" {
			t.Errorf("%s has no class", d.ID())
		}
	}
	if n := len(Select(All(testNow), ClassSecret)); n != len(Secrets()) {
		t.Errorf("Select(secret) = %d detectors, want %d", n, len(Secrets()))
	}
}
