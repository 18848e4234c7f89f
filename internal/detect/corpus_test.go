package detect

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// The corpus is synthetic: every planted value is made from random digits so that it has the
// structure of a real identifier (province, century digit, network prefix, check digit) and
// is nobody's. Decoys look like the values and must not be found.

// plant records where a value was planted.
type plant struct {
	id       string
	off, end int
}

type corpus struct {
	text   []byte
	plants []plant
	decoys int
}

type corpusBuilder struct {
	r *rand.Rand
	b strings.Builder
	c corpus
}

// line writes prefix + value + suffix as one line, recording value as planted for id.
func (g *corpusBuilder) plantLine(id, prefix, value, suffix string) {
	off := g.b.Len() + len(prefix)
	g.b.WriteString(prefix)
	g.b.WriteString(value)
	g.b.WriteString(suffix)
	g.b.WriteByte('\n')
	g.c.plants = append(g.c.plants, plant{id, off, off + len(value)})
}

func (g *corpusBuilder) line(s string) {
	g.b.WriteString(s)
	g.b.WriteByte('\n')
}

func (g *corpusBuilder) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *corpusBuilder) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

var (
	givenNames = []string{"Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thu Dung", "Hoàng Minh Đức",
		"Vũ Thị Hà", "Đặng Quốc Hùng", "Bùi Thanh Lan", "Đỗ Ngọc Mai", "Ngô Gia Phúc"}
	places = []string{"Hà Nội", "Hải Phòng", "Đà Nẵng", "TP Hồ Chí Minh", "Cần Thơ", "Huế", "Nghệ An"}
	prose  = []string{
		"Ủy ban nhân dân tỉnh thông báo lịch tiếp công dân trong tháng.",
		"Cổng thông tin điện tử cung cấp dịch vụ công trực tuyến mức độ toàn trình.",
		"Người dân có thể nộp hồ sơ qua mạng và nhận kết quả tại nhà.",
		"Sở Thông tin và Truyền thông hướng dẫn triển khai chuyển đổi số cấp xã.",
		"Kế hoạch năm nay tập trung vào cải cách hành chính và nâng cao chất lượng phục vụ.",
		"The portal publishes administrative procedures, news and announcements.",
		"Mọi ý kiến đóng góp xin gửi về Văn phòng qua hộp thư điện tử.",
		"Hội nghị tổng kết công tác năm được tổ chức tại hội trường lớn.",
	}
	decoyProse = []string{
		"Đây là bí mật kinh doanh của doanh nghiệp, không ai được tiết lộ.",
		"Quên mật khẩu? Nhấn vào đây để đặt lại mật khẩu.",
		"Mật độ dân số của tỉnh tăng nhẹ so với năm trước.",
		"Mật ong rừng nguyên chất, đặc sản vùng cao.",
		"CHÍNH SÁCH BẢO MẬT",
		"ĐỔI MẬT KHẨU",
		"[BẢO MẬT]",
		"MẬT ONG RỪNG",
		"Bảo mật thông tin khách hàng là ưu tiên hàng đầu.",
		"Ứng dụng mật mã trong giao dịch điện tử.",
		"KHẨN",
		"HỎA TỐC",
		"Tài liệu công khai, không mật.",
		"Bí Mật Của Hạnh Phúc (sách)",
		"Matt Damon và Mathematics không phải dấu mật.",
	}
)

func (g *corpusBuilder) citizenID() string {
	var p int
	for p == 0 || provinces[p] == "" {
		p = 1 + g.r.IntN(96)
	}
	year := 1930 + g.r.IntN(testNow.Year()-1930)
	century := (year - 1900) / 100
	sex := g.r.IntN(2)
	return fmt.Sprintf("%03d%d%02d%s", p, century*2+sex, year%100, g.digits(6))
}

func (g *corpusBuilder) mobileDigits() string {
	prefixes := []string{"32", "33", "34", "35", "36", "37", "38", "39", "52", "56", "58", "59", "70", "76",
		"77", "78", "79", "81", "82", "83", "84", "85", "86", "87", "88", "89", "90", "91", "92", "93", "94",
		"96", "97", "98", "99"}
	for {
		d := "0" + g.pick(prefixes...) + g.digits(7)
		if !validTax10([]byte(d)) { // a bare number that is both is a phone only by our rule; keep the corpus unambiguous
			return d
		}
	}
}

func (g *corpusBuilder) phone() string {
	d := g.mobileDigits()
	switch g.r.IntN(8) {
	case 0:
		return d[:3] + " " + d[3:6] + " " + d[6:]
	case 1:
		return d[:3] + "." + d[3:6] + "." + d[6:]
	case 2:
		return d[:4] + "-" + d[4:7] + "-" + d[7:]
	case 3:
		return "+84 " + d[1:3] + " " + d[3:6] + " " + d[6:]
	case 4:
		return "(+84) " + d[1:4] + " " + d[4:7] + " " + d[7:]
	case 5:
		return "84" + d[1:]
	case 6:
		return d[:4] + " " + d[4:7] + " " + d[7:]
	}
	return d
}

func (g *corpusBuilder) tax10() string {
	for {
		d := fmt.Sprintf("%02d", 1+g.r.IntN(99)) + g.digits(7)
		sum := 0
		for i, w := range taxWeights {
			sum += w * int(d[i]-'0')
		}
		r := sum % 11
		if r == 0 {
			continue
		}
		d += string(byte('0' + (10-r)%10))
		if validTax10([]byte(d)) && !ValidMobile([]byte(d)) {
			return d
		}
	}
}

func (g *corpusBuilder) taxCode() string {
	d := g.tax10()
	if g.r.IntN(3) == 0 {
		return d + "-" + fmt.Sprintf("%03d", 1+g.r.IntN(999))
	}
	return d
}

// planted writes one line holding a value.
func (g *corpusBuilder) planted() {
	name, place := g.pick(givenNames...), g.pick(places...)
	switch g.r.IntN(7) {
	case 0, 1:
		v := g.citizenID()
		switch g.r.IntN(5) {
		case 0:
			g.plantLine(CitizenID, "Họ và tên: "+name+", Số CCCD: ", v, ", nơi cư trú: "+place)
		case 1:
			g.plantLine(CitizenID, fmt.Sprintf("%d\t%s\t", g.r.IntN(500), name), v, "\t"+place)
		case 2:
			g.plantLine(CitizenID, "So can cuoc cong dan: ", v, "")
		case 3:
			g.plantLine(CitizenID, "Citizen ID ", v, " issued to "+name)
		default:
			g.plantLine(CitizenID, name+" (CCCD ", v, ")")
		}
	case 2:
		v := g.pick("0", "1", "2", "3") + g.digits(8)
		switch g.r.IntN(3) {
		case 0:
			g.plantLine(OldID, "Số CMND: ", v, " cấp ngày 12/05/2010")
		case 1:
			g.plantLine(OldID, "CMND so ", v, "")
		default:
			g.plantLine(OldID, "Chứng minh nhân dân: ", v, ", "+place)
		}
	case 3, 4:
		v := g.phone()
		switch g.r.IntN(6) {
		case 0:
			g.plantLine(Phone, "Điện thoại: ", v, "")
		case 1:
			g.plantLine(Phone, "SĐT ", v, " ("+name+")")
		case 2:
			g.plantLine(Phone, "Mobile: ", v, "")
		case 3:
			g.plantLine(Phone, fmt.Sprintf("%d\t%s\t", g.r.IntN(500), name), v, "\t"+place)
		case 4:
			g.plantLine(Phone, "Liên hệ anh "+name+" qua số ", v, ".")
		default:
			g.plantLine(Phone, "Zalo: ", v, "")
		}
	case 5:
		v := g.taxCode()
		switch g.r.IntN(4) {
		case 0:
			g.plantLine(TaxCode, "Mã số thuế: ", v, "")
		case 1:
			g.plantLine(TaxCode, "MST ", v, " - "+place)
		case 2:
			g.plantLine(TaxCode, "Công ty TNHH "+name+"\t", v, "\t"+place)
		default:
			g.plantLine(TaxCode, "Tax code: ", v, "")
		}
	default:
		switch g.r.IntN(15) {
		case 0:
			g.plantLine(MarkMat, "[", "MẬT", "]")
		case 1:
			g.plantLine(MarkMat, "", "MẬT", "")
		case 2:
			g.plantLine(MarkMat, "Độ mật: ", "Mật", "")
		case 3:
			g.plantLine(MarkMat, "** ", "MẬT", " **")
		case 4:
			g.plantLine(MarkMat, "Số: 15/BC-UBND\t", "MẬT", "\tHà Nội, ngày 12 tháng 5 năm 2026")
		case 5:
			g.plantLine(MarkToiMat, "", "TỐI MẬT", "")
		case 6:
			g.plantLine(MarkToiMat, "[", "TỐI MẬT", "]")
		case 7:
			g.plantLine(MarkToiMat, "Độ mật: ", "Tối mật", "")
		case 8:
			g.plantLine(MarkToiMat, "", "TOI MAT", "")
		case 9:
			g.plantLine(MarkToiMat, "│ ", "TỐI MẬT", " │")
		case 10:
			g.plantLine(MarkTuyet, "", "TUYỆT MẬT", "")
		case 11:
			g.plantLine(MarkTuyet, "", norm.NFD.String("TUYỆT MẬT"), "")
		case 12:
			g.plantLine(MarkTuyet, "Do mat: ", "Tuyet mat", "")
		case 13:
			g.plantLine(MarkTuyet, "(", "TUYET MAT", ")")
		default:
			g.plantLine(MarkTuyet, "— ", "TUYỆT MẬT", " —")
		}
	}
}

// decoy writes one line that looks like a value and is not one.
func (g *corpusBuilder) decoy() {
	g.c.decoys++
	switch g.r.IntN(16) {
	case 0:
		g.line(fmt.Sprintf("Hóa đơn số %07d, ký hiệu 1C24TAA, ngày %02d/%02d/2024", g.r.IntN(1e7), 1+g.r.IntN(28), 1+g.r.IntN(12)))
	case 1:
		g.line("Số hóa đơn: " + g.digits(8))
	case 2: // 12 digits, unassigned province
		bad := []int{0, 3, 5, 7, 9, 13, 16, 18, 21, 23, 28, 29, 32, 39, 41, 43, 47, 50, 53, 55, 57, 59, 61, 63, 97, 98, 99}
		p := bad[g.r.IntN(len(bad))]
		if g.r.IntN(2) == 0 {
			p = 100 + g.r.IntN(900)
		}
		g.line(fmt.Sprintf("Mã đơn hàng: %03d%s", p, g.digits(9)))
	case 3: // 12 digits, valid province, birth year in the future
		g.line(fmt.Sprintf("Mã vận đơn %03d%d%02d%s", 1, 2, 27+g.r.IntN(73), g.digits(6)))
	case 4:
		g.line(g.pick("Tổng đài: 1900 ", "Hotline 1800 ", "Đường dây nóng 1900") + g.digits(4))
	case 5:
		g.line("Hotline: 1900" + g.digits(6))
	case 6:
		g.line(g.pick("Số tài khoản: ", "STK ", "Mã giao dịch: ") + g.digits(12+g.r.IntN(2)))
	case 7:
		g.line("Mã hồ sơ: " + g.digits(9))
	case 8:
		g.line("Điện thoại bàn: 024 " + g.digits(4) + " " + g.digits(4))
	case 9:
		g.line("Số cũ: 0" + g.pick("12", "16", "18", "19") + g.digits(1) + " " + g.digits(3) + " " + g.digits(4))
	case 10:
		g.line("Điện thoại: 095 " + g.digits(3) + " " + g.digits(4))
	case 11: // ten digits with a wrong check digit, not a mobile number
		d := g.tax10()
		g.line("Mã tra cứu: " + d[:9] + string(byte('0'+(int(d[9]-'0')+1+g.r.IntN(9))%10)))
	case 12:
		g.line(fmt.Sprintf("Ngày %02d/%02d/%d, cập nhật 2024-05-12 lúc 20240512103000", 1+g.r.IntN(28), 1+g.r.IntN(12), 2000+g.r.IntN(26)))
	case 13:
		g.line(fmt.Sprintf("Số tiền %d.%03d.%03d.%03d đồng", 1+g.r.IntN(9), g.r.IntN(1000), g.r.IntN(1000), g.r.IntN(1000)))
	case 14:
		g.line("ĐT: 9" + g.digits(8))
	default:
		g.line(g.pick(decoyProse...))
	}
}

// genCorpus writes about size bytes of synthetic text: mostly prose, with planted values and
// decoys in the given shares.
func genCorpus(seed uint64, size int, plantShare, decoyShare float64) corpus {
	g := &corpusBuilder{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	for g.b.Len() < size {
		switch x := g.r.Float64(); {
		case x < plantShare:
			g.planted()
		case x < plantShare+decoyShare:
			g.decoy()
		default:
			g.line(g.pick(prose...))
		}
	}
	g.c.text = []byte(g.b.String())
	return g.c
}
