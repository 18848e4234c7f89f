package report

import (
	_ "embed"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/khien-vn/khien/internal/index"
)

// The DejaVu fonts (fonts/LICENSE) are embedded so that the PDF renders Vietnamese diacritics
// on any machine: the standard PDF fonts have no glyphs for them.
var (
	//go:embed fonts/DejaVuSans.ttf
	dejaVu []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	dejaVuBold []byte
)

// ScorecardPages is how many pages the PDF scorecard has: the leader's page and two annexes.
// Each page holds what fits on it and counts what it left out.
const ScorecardPages = 3

const (
	pageBottom = 284.0 // mm: below this nothing is written; the rest is counted
	left       = 15.0
	width      = 180.0
)

type pdfDoc struct {
	*fpdf.Fpdf
}

func (d pdfDoc) font(style string, size float64) { d.SetFont("DejaVu", style, size) }

func (d pdfDoc) heading(s string) {
	d.Ln(3)
	d.font("B", 11)
	d.SetTextColor(11, 79, 138)
	d.CellFormat(width, 6, s, "B", 1, "L", false, 0, "")
	d.SetTextColor(29, 39, 51)
	d.font("", 9)
	d.Ln(1)
}

// room reports whether h more millimetres fit on the page.
func (d pdfDoc) room(h float64) bool { return d.GetY()+h <= pageBottom }

// row writes one table row of cells with the widths given; false when the page is full.
func (d pdfDoc) row(widths []float64, cells []string, bold bool) bool {
	if !d.room(5) {
		return false
	}
	if bold {
		d.font("B", 8.5)
		d.SetFillColor(238, 242, 247)
	} else {
		d.font("", 8.5)
	}
	for i, c := range cells {
		align := "L"
		if strings.HasPrefix(c, "\x00") {
			c, align = c[1:], "R"
		}
		d.CellFormat(widths[i], 5, fit(d, c, widths[i]-1), "B", 0, align, bold, 0, "")
	}
	d.Ln(-1)
	return true
}

// more notes how many rows did not fit.
func (d pdfDoc) more(n int) {
	if n > 0 {
		d.SetY(min(d.GetY(), pageBottom))
		d.font("", 8)
		d.CellFormat(width, 5, fmt.Sprintf("… và %d dòng nữa (xem API /api/v1/index)", n), "", 1, "L", false, 0, "")
	}
}

// fit shortens s to w millimetres.
func fit(d pdfDoc, s string, w float64) string {
	if d.GetStringWidth(s) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 1 && d.GetStringWidth(string(r)+"…") > w {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

// para writes wrapped text; false when the page is full.
func (d pdfDoc) para(s string) bool {
	lines := d.SplitText(s, width)
	if !d.room(3.9 * float64(len(lines))) {
		return false
	}
	d.MultiCell(width, 3.9, s, "", "L", false)
	return true
}

func num(s string) string { return "\x00" + s }

// WritePDF writes the scorecard as a PDF of ScorecardPages A4 pages.
func WritePDF(w io.Writer, sc Scorecard) error {
	f := fpdf.New("P", "mm", "A4", "")
	f.SetCreationDate(sc.AsOf)
	f.SetModificationDate(sc.AsOf)
	f.SetCatalogSort(true)
	f.SetTitle(fmt.Sprintf("Bảng điểm an ninh mạng năm %d — %s", sc.Year, sc.Name), true)
	f.SetAuthor("Khiên", true)
	f.AddUTF8FontFromBytes("DejaVu", "", dejaVu)
	f.AddUTF8FontFromBytes("DejaVu", "B", dejaVuBold)
	f.SetAutoPageBreak(false, 10)
	f.SetMargins(left, 12, left)
	d := pdfDoc{f}
	d.SetFooterFunc(func() {
		d.SetY(-10)
		d.font("", 7)
		d.SetTextColor(107, 119, 133)
		d.CellFormat(width, 4, fmt.Sprintf("Khiên · %s · phương pháp %s · số liệu đến %s · trang %d/%d", sc.Org, sc.Method,
			sc.AsOf.UTC().Format("02/01/2006 15:04 UTC"), d.PageNo(), ScorecardPages), "", 0, "C", false, 0, "")
		d.SetTextColor(29, 39, 51)
	})

	leaderPage(d, sc)
	annexA(d, sc)
	annexB(d, sc)
	if err := f.Error(); err != nil {
		return fmt.Errorf("scorecard PDF: %w", err)
	}
	return f.Output(w)
}

func leaderPage(d pdfDoc, sc Scorecard) {
	d.AddPage()
	d.SetTextColor(29, 39, 51)
	d.font("B", 15)
	d.CellFormat(120, 8, fmt.Sprintf("Bảng điểm an ninh mạng năm %d", sc.Year), "", 1, "L", false, 0, "")
	d.font("", 10)
	d.MultiCell(120, 5, sc.Name+" ("+sc.Org+")", "", "L", false)
	if sc.Head != "" {
		d.MultiCell(120, 5, "Người đứng đầu: "+sc.Head+", "+sc.HeadTitle, "", "L", false)
	}
	d.font("", 8)
	note := "Số liệu đến " + day(sc.AsOf) + " · phương pháp " + sc.Method
	if sc.Verified {
		note += " · đã tính lại và khớp bản lưu"
	}
	d.MultiCell(120, 4, note, "", "L", false)
	// The figure, top right.
	y := d.GetY()
	d.SetXY(140, 14)
	d.font("", 9)
	d.CellFormat(55, 5, "Chỉ số bảo đảm an ninh mạng", "", 2, "C", false, 0, "")
	d.font("B", 30)
	d.SetTextColor(11, 79, 138)
	d.CellFormat(55, 13, Fig(sc.Tenths), "", 2, "C", false, 0, "")
	d.SetTextColor(29, 39, 51)
	d.font("B", 10)
	d.CellFormat(55, 5, sc.GradeVI, "", 2, "C", false, 0, "")
	d.font("", 8)
	if sc.Peers > 0 {
		d.CellFormat(55, 4, fmt.Sprintf("Xếp hạng %d/%d đơn vị cùng cấp", sc.Rank, sc.Peers), "", 2, "C", false, 0, "")
	}
	d.SetXY(left, max(y, 44))

	d.heading("Diễn biến trong năm")
	trendChart(d, sc)

	d.heading("Theo trụ cột (tối đa 20 điểm mỗi trụ cột)")
	for _, p := range sc.Pillars {
		d.font("", 8.5)
		d.CellFormat(45, 4.5, pillarVI(p.Pillar), "", 0, "L", false, 0, "")
		x, y := d.GetX(), d.GetY()
		d.SetFillColor(230, 235, 242)
		d.Rect(x, y+0.8, 100, 3, "F")
		d.SetFillColor(11, 79, 138)
		d.Rect(x, y+0.8, 100*min(p.Points, 20)/20, 3, "F")
		d.SetX(x + 103)
		d.CellFormat(20, 4.5, Fig(index.Tenths(p.Points)), "", 1, "R", false, 0, "")
	}

	d.heading("Năm việc nâng chỉ số nhiều nhất")
	d.font("", 8.5)
	if len(sc.Actions) == 0 {
		d.para("Không có việc nào làm tăng chỉ số.")
	}
	for i, a := range sc.Actions {
		if i == 5 || !d.para(fmt.Sprintf("%d. %s", i+1, a.Text.VI)) {
			break
		}
	}

	// The tables take what room is left, keeping some for the exceptions.
	reserve := 14.0 + 8*float64(min(len(sc.Exceptions), 3))
	d.heading("Theo hệ thống (yếu nhất trước)")
	ws := []float64{80, 24, 14, 16, 46}
	d.row(ws, []string{"Hệ thống", "Đơn vị", num("Cấp độ"), num("Chỉ số"), "Xếp loại"}, true)
	shown := 0
	for _, s := range sc.Systems {
		if shown == leaderSystems || !d.room(reserve+45) || !d.row(ws, []string{s.Name, s.Org, num(fmt.Sprint(s.Level)), num(Fig(s.Tenths)), s.GradeVI}, false) {
			break
		}
		shown++
	}
	d.more(len(sc.Systems) - shown)

	d.heading("Lỗ hổng nghiêm trọng và cao chưa khắc phục")
	if len(sc.Findings) == 0 {
		d.para("Không có.")
	} else {
		ws := []float64{25, 50, 75, 30}
		d.row(ws, []string{"Mức", "Kiểm tra", "Tài nguyên", num("Số ngày")}, true)
		shown := 0
		for _, f := range sc.Findings {
			age := fmt.Sprint(f.AgeDays)
			if f.Overdue {
				age += " (quá hạn)"
			}
			if shown == leaderFindings || !d.room(reserve+5) || !d.row(ws, []string{sevVI(f.Severity), f.Check, f.Resource, num(age)}, false) {
				break
			}
			shown++
		}
		d.more(len(sc.Findings) - shown)
	}

	d.heading("Ngoại lệ đang có hiệu lực")
	if len(sc.Exceptions) == 0 {
		d.para("Không có.")
	}
	for i, x := range sc.Exceptions {
		if i == 3 || !d.para(fmt.Sprintf("%s — %s: %s; người duyệt %s; đến %s", x.ID, x.System, x.Reasons, x.Approver, day(x.Expires))) {
			d.more(len(sc.Exceptions) - i)
			break
		}
	}
}

func annexA(d pdfDoc, sc Scorecard) {
	d.AddPage()
	d.heading("Phụ lục A — Hệ thống và lỗ hổng (dành cho cán bộ an toàn thông tin)")
	ws := []float64{34, 70, 20, 15, 10, 10, 21}
	d.row(ws, []string{"Mã", "Hệ thống", "Giai đoạn", num("Chỉ số"), num("NT"), num("Cao"), num("Biện pháp")}, true)
	shown := 0
	for _, s := range sc.Systems {
		if shown == annexRows/2 || !d.row(ws, []string{s.ID, s.Name, s.Stage, num(Fig(s.Tenths)), num(fmt.Sprint(s.OpenCritical)),
			num(fmt.Sprint(s.OpenHigh)), num(fmt.Sprintf("%d/%d", s.ControlsMet, s.ControlsReq))}, false) {
			break
		}
		shown++
	}
	d.more(len(sc.Systems) - shown)
	d.heading("Tất cả lỗ hổng nghiêm trọng và cao")
	ws = []float64{34, 22, 50, 56, 18}
	d.row(ws, []string{"Hệ thống", "Mức", "Kiểm tra", "Tài nguyên", num("Số ngày")}, true)
	shown = 0
	for _, f := range sc.Findings {
		if !d.room(10) || !d.row(ws, []string{f.System, sevVI(f.Severity), f.Check, f.Resource, num(fmt.Sprint(f.AgeDays))}, false) {
			break
		}
		shown++
	}
	d.more(len(sc.Findings) - shown)
}

func annexB(d pdfDoc, sc Scorecard) {
	d.AddPage()
	d.heading("Phụ lục B — Giải trình chỉ số")
	var lines []string
	lines = append(lines, sc.Explanation...)
	for _, c := range sc.Caps {
		lines = append(lines, "Giới hạn: "+c.Reason.VI)
	}
	for _, dl := range sc.Deadlines {
		lines = append(lines, "Thời hạn: "+dl.Text.VI)
	}
	for _, r := range sc.Removed {
		lines = append(lines, fmt.Sprintf("Đã loại khỏi danh mục: %s %s — %s, %s", r.ID, r.Name, day(r.RemovedAt), r.By))
	}
	for i, a := range sc.Actions {
		lines = append(lines, fmt.Sprintf("Việc %d: %s", i+1, a.Text.VI))
	}
	shown := 0
	for _, l := range lines {
		if !d.room(12) || !d.para("• "+l) {
			break
		}
		shown++
	}
	d.more(len(lines) - shown)
}

// trendChart draws the stored daily figures of the year, 0–100, with the grade lines.
func trendChart(d pdfDoc, sc Scorecard) {
	const h, w = 26.0, width - 10
	x0, y0 := left+8, d.GetY()+1
	d.SetDrawColor(213, 219, 227)
	d.SetLineWidth(0.2)
	d.font("", 6.5)
	for _, g := range []float64{0, 50, 75, 90, 100} {
		y := y0 + h - g/100*h
		d.Line(x0, y, x0+w, y)
		d.SetXY(left, y-1.5)
		d.CellFormat(7, 3, fmt.Sprint(g), "", 0, "R", false, 0, "")
	}
	start := time.Date(sc.Year, 1, 1, 0, 0, 0, 0, time.UTC)
	xOf := func(t time.Time) float64 { return x0 + t.Sub(start).Hours()/24/365*w }
	for m := 1; m <= 12; m++ {
		d.SetXY(xOf(time.Date(sc.Year, time.Month(m), 1, 0, 0, 0, 0, time.UTC)), y0+h+0.5)
		d.CellFormat(10, 3, fmt.Sprintf("T%d", m), "", 0, "L", false, 0, "")
	}
	d.SetDrawColor(11, 79, 138)
	d.SetFillColor(11, 79, 138)
	d.SetLineWidth(0.6)
	var px, py float64
	for i, p := range sc.Trend {
		x, y := xOf(p.Day), y0+h-float64(p.Tenths)/1000*h
		if i > 0 {
			d.Line(px, py, x, y)
		}
		d.Circle(x, y, 0.8, "F")
		px, py = x, y
	}
	d.SetLineWidth(0.2)
	d.SetDrawColor(0, 0, 0)
	d.SetXY(left, y0+h+4)
	if len(sc.Trend) < 2 {
		d.font("", 7.5)
		d.CellFormat(width, 4, fmt.Sprintf("%d ngày có số liệu lưu trong năm.", len(sc.Trend)), "", 1, "L", false, 0, "")
	}
}
