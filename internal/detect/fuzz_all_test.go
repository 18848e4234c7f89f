package detect

import (
	"strings"
	"testing"
)

// FuzzScanAll checks every detector of All: no panic, matches in bounds and in order, and
// masked evidence that never holds the value it stands for.
func FuzzScanAll(f *testing.F) {
	for _, s := range []string{
		"Họ và tên: Nguyễn Văn An, Số CCCD: 001099000123\nEmail: an.nguyen@gmail.com\nNgày sinh: 12/05/1990",
		"STK: 0011004123456 Vietcombank\nSố thẻ: 9704 0000 0000 0000\nHộ chiếu số C1234567\nBHXH 0123456789 DN4010123456789",
		"Tel (024) 3823 4567 +84 236 3822 222 0236.3822.222",
		"P<VNMNGUYEN<<VAN<AN<<<<<<<<<<<<<<<<<<<<<<<<<\nC0000001<4VNM9005121M3005127<<<<<<<<<<<<<<08",
		"-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----",
		`{"private_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"}`,
		"AKIAQ2W3E4R5T6Y7U2I3 ghp_AbCdEf0123456789GhIjKlMnOpQrSt000000 glpat-Ab3dE6gH9jK2mN5pQ8sT",
		"DB_PASSWORD=S3cr3t!x9\npassword: \"x\"\npostgres://u:p@h/d\nmật khẩu: Abc@123\nPassword=a;b",
		"api_key = \"a8f5f167f44f4964e6c998dee827110c\"\nAuthorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
		"TÀI LIỆU LƯU HÀNH NỘI BỘ\n[KHÔNG PHỔ BIẾN]\nb\xcc\xa3\xcc\x82o",
		"123456789:AA", "AccountKey=", "SG.", "://", "@", "-----BEGIN ", "eyJ", "ngày 1 tháng", "B", "ass=", "khẩu:",
	} {
		f.Add(s)
	}
	ds := All(testNow)
	f.Fuzz(func(t *testing.T, s string) {
		text := []byte(s)
		for _, d := range ds {
			last := -1
			d.Find(text, func(m Match) {
				if m.Offset < 0 || m.Len <= 0 || m.Offset+m.Len > len(text) {
					t.Fatalf("%s: match [%d,+%d) out of [0,%d)", d.ID(), m.Offset, m.Len, len(text))
				}
				if m.Offset < last {
					t.Fatalf("%s: match at %d after one at %d", d.ID(), m.Offset, last)
				}
				last = m.Offset
				if m.Confidence <= 0 || m.Confidence > 1 || m.Line < 1 || m.Detector != d.ID() {
					t.Fatalf("%s: bad match %+v", d.ID(), m)
				}
				switch ClassOf(d.ID()) {
				case ClassStateSecret, ClassInternal:
					return
				}
				canon := d.(canonicalizer).canonical(text[m.Offset : m.Offset+m.Len])
				if len(canon) >= 6 && strings.Contains(strings.ToLower(m.Masked), strings.ToLower(canon)) {
					t.Fatalf("%s: masked %q shows the value %q", d.ID(), m.Masked, canon)
				}
			})
		}
		Scan(text, ds, Options{Key: []byte("fuzz")})
	})
}
