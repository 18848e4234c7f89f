package datalab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
)

type page struct {
	contentType string
	body        string
}

const (
	htmlType = "text/html; charset=utf-8"
	csvType  = "text/csv; charset=utf-8"
	textType = "text/plain; charset=utf-8"
	jsType   = "text/javascript; charset=utf-8"
	jsonType = "application/json"
)

// Person is one synthetic row of the leaking list.
type Person struct {
	Name      string
	CitizenID string // PPP G YY SSSSSS with a serial of zeros: valid structure, nobody's number
	Phone     string // a mobile range followed by zeros: valid format, do not dial
}

// People returns the synthetic people the leaking host lists, so tests can check what the
// detectors report against what was planted.
func People() []Person {
	return []Person{
		{"Nguyễn Văn An", "001085000101", "0390 000 101"},
		{"Trần Thị Bình", "079192000202", "0900 000 202"},
		{"Lê Hoàng Cường", "048301000303", "0810 000 303"},
		{"Phạm Thu Dung", "031088000404", "0700 000 404"},
		{"Hoàng Minh Đức", "092195000505", "0560 000 505"},
		{"Vũ Thị Hà", "001203000606", "0970 000 606"},
	}
}

// FakeKey returns the PEM of the private key the leaking host leaves in a page comment: an
// ECDSA P-256 key derived from a fixed label, made for the lab and used nowhere.
func FakeKey() string {
	d := sha256.Sum256([]byte("khien datalab: fake key planted on a public page"))
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		panic("datalab: the fixed label is not a P-256 scalar: " + err.Error())
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		panic("datalab: " + err.Error())
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}

// FakeServiceKey returns the JWT the leaking host bundles into a script and its source map:
// shaped like a Supabase "service_role" key, the one that bypasses row-level security, signed
// with a secret derived from a fixed label. Made for the lab, valid nowhere.
func FakeServiceKey() string { return labJWT("service_role") }

// FakeAnonKey returns the JWT both hosts' main script carries: shaped like a Supabase "anon"
// key, which browsers are given by design, so it is not a leak.
func FakeAnonKey() string { return labJWT("anon") }

func labJWT(role string) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims, err := json.Marshal(map[string]any{"iss": "supabase", "ref": "khienlabgialap", "role": role,
		"iat": 1767225600, "exp": 2082758400})
	if err != nil {
		panic("datalab: " + err.Error())
	}
	signed := header + "." + enc.EncodeToString(claims)
	mac := hmac.New(sha256.New, []byte("khien datalab: fake JWT secret, used nowhere"))
	mac.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(mac.Sum(nil))
}

// mainScript is the bundle every page of both hosts loads: minified code full of digit runs
// that look like identity numbers, a Maps key and an anon key, all public by design.
func mainScript() string {
	return `/*! ung-dung v2.3.1 */
!function(){"use strict";var t=[1706745600000,1738368000000,"001099000000","079203001234",84912345678],
n={supabaseUrl:"https://du-lieu.example.invalid",supabaseAnonKey:"` + FakeAnonKey() + `",
mapsKey:"AIzaSyD3x7kQ2LmP4rT7vW1yB3nD5fH8jA0cE6g"},e=function(r){return r%1000000007};
for(var o=0;o<t.length;o++)e(t[o]);window.__APP__={cfg:n,seed:[301234567890,401234567891,501234567892,0.0390000101,
"0390000101","0900000202","0810000303"]}}();
//# sourceMappingURL=main.8f3a2c1b9d7e.chunk.js.map
`
}

// FakeDBPassword is the database password the leaking host leaves in an inline script.
const FakeDBPassword = "Lab-Khien-2026-gia-lap"

// Decoys every page carries in its source: a CSRF token, a base64 icon, an integrity hash,
// hashed asset names and a CSP nonce. None is a credential.
const decoyHead = `<meta name="csrf-token" content="Zx9Kq2LmP4rT7vW1yB3nD5fH8jA0cE6gI2kM4oQ9">
<link rel="icon" href="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAGklEQVR4nGNgGAWjYBSMglEwCkbBKBgFAwAAFBAAAftRZb0AAAAASUVORK5CYII=">
<link rel="stylesheet" href="/static/css/app.3f9a8c7d6e5b4a2f.css" integrity="sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC" crossorigin="anonymous">
<script src="/static/js/main.8f3a2c1b9d7e.chunk.js?v=5d41402abc4b2a76b9719d911017c592" nonce="r4nd0mN0nc3Xy7Qp2Lk9Wm"></script>
`

func layout(title, body string) string {
	return `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>` + title + `</title>
` + decoyHead + `<style>.stamp{border:2px solid red;color:red;font-weight:bold}</style>
<script>var analytics = "001099000000 0390000000";</script></head>
<body><header><a href="/">Trang chủ</a> | <a href="/gioi-thieu.html">Giới thiệu</a></header>
<main>` + body + `</main>
<footer>Ủy ban nhân dân xã Thử Nghiệm — Đường dây nóng: 1900 1234 — Điện thoại: 0390 000 001 — Mã số thuế: 0100000010</footer>
</body></html>`
}

func leakyPages() map[string]page {
	var rows, csv strings.Builder
	csv.WriteString("STT,Họ và tên,Số CCCD,Số điện thoại\n")
	for i, p := range People() {
		fmt.Fprintf(&rows, "<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", i+1, p.Name, p.CitizenID, p.Phone)
		fmt.Fprintf(&csv, "%d,%s,%s,%s\n", i+1, p.Name, p.CitizenID, strings.ReplaceAll(p.Phone, " ", ""))
	}
	first := People()[0]
	return map[string]page{
		"/": {htmlType, layout("Cổng thông tin xã Thử Nghiệm", `
<h1>Cổng thông tin điện tử xã Thử Nghiệm</h1>
<p>Ủy ban nhân dân xã thông báo danh sách hộ được hỗ trợ năm 2026.</p>
<ul>
<li><a href="/thong-bao/danh-sach-ho-tro.html">Danh sách hộ được hỗ trợ</a></li>
<li><a href="/gioi-thieu.html#lich-su">Lịch sử xã</a></li>
<li><a href="http://other.example/">Liên kết ngoài</a></li>
<li><a href="/anh/tru-so.jpg">Ảnh trụ sở</a></li>
<li><a href="mailto:vanthu@example.invalid">Thư điện tử</a></li>
<li><a href="/quan-tri/index.html">Quản trị</a></li>
<li><a href="/tai-lieu/huong-dan-ket-noi.html">Hướng dẫn kết nối</a></li>
</ul>`)},
		// A developer's leftovers: a private key in a comment and a connection string with its
		// password in an inline script, invisible to a visitor's eye.
		"/tai-lieu/huong-dan-ket-noi.html": {htmlType, layout("Hướng dẫn kết nối", `
<h1>Hướng dẫn kết nối dịch vụ dữ liệu</h1>
<p>Liên hệ bộ phận một cửa để được cấp tài khoản.</p>
<!-- khóa ký tạm, xóa trước khi đưa lên
`+FakeKey()+`-->
<script>var cauHinh = {db: "postgres://cong_thong_tin:`+FakeDBPassword+`@10.0.0.5:5432/cms"};</script>`)},
		"/gioi-thieu.html": {htmlType, layout("Giới thiệu", `
<h1 id="lich-su">Giới thiệu</h1>
<p>Xã Thử Nghiệm được thành lập năm 1945. Dân số 12.500 người, mật độ dân số 850 người/km².</p>
<div id="ban-do"></div><script src="/static/js/cau-hinh.js" defer></script>`)},
		// A build that bundled the server's key into a script, with the source map that
		// carries the original file.
		"/static/js/cau-hinh.js": {jsType, `!function(){var e={url:"https://du-lieu.example.invalid",key:"` + FakeServiceKey() + `"};window.__CAU_HINH__=e}();
//# sourceMappingURL=cau-hinh.js.map
`},
		"/static/js/cau-hinh.js.map": {jsonType, sourceMapOf("cau-hinh.js", "src/cau-hinh.ts", `// Cấu hình kết nối dữ liệu bản đồ
export const url = "https://du-lieu.example.invalid";
export const key = "`+FakeServiceKey()+`"; // TODO: chuyển sang máy chủ
`)},
		mainScriptPath:          {jsType, mainScript()},
		mainScriptPath + ".map": {jsonType, sourceMapOf("main.8f3a2c1b9d7e.chunk.js", "src/main.ts", "export const digits = [\"001099000000\"];\n")},
		"/thong-bao/danh-sach-ho-tro.html": {htmlType, layout("Danh sách hộ được hỗ trợ", `
<h1>Danh sách hộ được hỗ trợ năm 2026</h1>
<p>Đại diện hộ: `+first.Name+`, Số CCCD: `+first.CitizenID+`.</p>
<table>
<tr><th>STT</th><th>Họ và tên</th><th>Số CCCD</th><th>Số điện thoại</th></tr>
`+rows.String()+`</table>
<p><a href="/du-lieu/danh-sach.csv">Tải danh sách (CSV)</a> · <a href="/van-ban/bao-cao-2026.html">Báo cáo kèm theo</a></p>`)},
		"/du-lieu/danh-sach.csv": {csvType, csv.String()},
		"/van-ban/bao-cao-2026.html": {htmlType, layout("Báo cáo 15/BC-UBND", `
<div class="stamp">TUYỆT MẬT</div>
<p>ỦY BAN NHÂN DÂN XÃ THỬ NGHIỆM</p>
<p>Số: 15/BC-UBND</p>
<h2>BÁO CÁO</h2>
<p>V/v tình hình an ninh trật tự trên địa bàn (tài liệu giả lập cho phòng thí nghiệm Khiên).</p>`)},
		"/quan-tri/index.html": {htmlType, layout("Quản trị", `<p>[MẬT]</p>`)},
		"/robots.txt":          {textType, "User-agent: *\nDisallow: /quan-tri/\n"},
	}
}

func cleanPages() map[string]page {
	return map[string]page{
		"/": {htmlType, layout("Cổng thông tin phường Mẫu", `
<h1>Cổng thông tin điện tử phường Mẫu</h1>
<p>Phường cam kết giữ bí mật thông tin cá nhân của người dân khi tiếp nhận hồ sơ.</p>
<ul>
<li><a href="/tin-tuc/chinh-sach-bao-mat.html">Chính sách bảo mật</a></li>
<li><a href="/hoa-don.html">Tra cứu hóa đơn</a></li>
<li><a href="/gioi-thieu.html">Giới thiệu</a></li>
<li><a href="/lien-he.html">Liên hệ</a></li>
</ul>`)},
		// A contact form with the public values pages carry by design: form tokens, a
		// reCAPTCHA site key, a Maps key restricted by referrer, a publishable payment key,
		// the public key citizens verify signed documents with.
		"/lien-he.html": {htmlType, layout("Liên hệ", `
<h1>Liên hệ</h1>
<form method="post" action="/lien-he">
<input name="__RequestVerificationToken" type="hidden" value="CfDJ8N3kq9LxW2rT5vB7mP1zQ4sH6jK8dF0gA3cE5iM7oR9uY2wZ">
<input type="hidden" name="_token" value="pQ7xL2mK9rT4vW8yB1nD3fH6jA5cE0gI8kM2oQ4s">
<div class="g-recaptcha" data-sitekey="6LdQx7kqAAAAAJ3mR9tV2wY5zB8nE1hK4pS7uX0a"></div>
<button>Gửi</button>
</form>
<script>window.Laravel = {"csrfToken":"Zx9Kq2LmP4rT7vW1yB3nD5fH8jA0cE6gI2kM4oQ9"}; var stripe = Stripe("pk_live_51Hx7kQ2LmP4rT7vW1yB3nD5fH8jA0cE6gI2kM4oQ9r");</script>
<script src="/maps/api/js?key=AIzaSyD3x7kQ2LmP4rT7vW1yB3nD5fH8jA0cE6g&callback=initMap"></script>
<pre>
-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEb3lNn6cCpJx2qz5bW1l4mU1z7mQ3
nJx0k2VqY8TQy3p0x4hZ4k0c6m2Z8Jt3vQ9k1L6rP2sW0yN5hA7cT1bE9g==
-----END PUBLIC KEY-----
</pre>`)},
		"/gioi-thieu.html": {htmlType, layout("Giới thiệu", `
<h1>Giới thiệu</h1>
<p>Mật độ dân số của phường là 12.000 người/km². Đặc sản địa phương: Mật ong rừng.</p>`)},
		"/tin-tuc/chinh-sach-bao-mat.html": {htmlType, layout("Chính sách bảo mật", `
<h1>CHÍNH SÁCH BẢO MẬT</h1>
<p>Quên mật khẩu? Hãy dùng chức năng đặt lại mật khẩu; không chia sẻ mật khẩu với người khác.</p>
<p>Bí mật nhà nước được bảo vệ theo Luật Bảo vệ bí mật nhà nước; tài liệu trên cổng này đều công khai.</p>
<h2>ĐỔI MẬT KHẨU</h2>
<p>Tổng đài hỗ trợ 1800 1234, hotline 1900 1234.</p>
<p><a href="/tin-tuc/hoi-dap.html">Hỏi đáp</a></p>`)},
		"/tin-tuc/hoi-dap.html": {htmlType, layout("Hỏi đáp", `
<p>Hỏi: Mật mã của ứng dụng là gì? Đáp: Ứng dụng dùng mật mã theo tiêu chuẩn quốc gia.</p>`)},
		"/hoa-don.html": {htmlType, layout("Tra cứu hóa đơn", `
<table>
<tr><th>Số hóa đơn</th><th>Ký hiệu</th><th>Ngày</th><th>Mã tra cứu</th></tr>
<tr><td>0001234</td><td>1C26TAA</td><td>12/05/2026</td><td>4800000039</td></tr>
<tr><td>0001235</td><td>1C26TAA</td><td>13/05/2026</td><td>4800000047</td></tr>
<tr><td>0001236</td><td>1C26TAA</td><td>14/05/2026</td><td>4800000055</td></tr>
<tr><td>Mã đơn hàng 003099123456</td><td>Mã vận đơn 000199000111</td><td>15/05/2026</td><td>Số tài khoản 0011001234567</td></tr>
</table>`)},
		mainScriptPath:          {jsType, mainScript()},
		mainScriptPath + ".map": {jsonType, sourceMapOf("main.8f3a2c1b9d7e.chunk.js", "src/main.ts", "export const digits = [\"001099000000\"];\n")},
		"/robots.txt":           {textType, "User-agent: *\nDisallow:\n"},
	}
}

// mainScriptPath is the script decoyHead loads on every page.
const mainScriptPath = "/static/js/main.8f3a2c1b9d7e.chunk.js"

// sourceMapOf returns a source map of file with one original source.
func sourceMapOf(file, source, content string) string {
	b, err := json.Marshal(map[string]any{"version": 3, "file": file, "sources": []string{source},
		"sourcesContent": []string{content}, "names": []string{}, "mappings": "AAAA"})
	if err != nil {
		panic("datalab: " + err.Error())
	}
	return string(b)
}
