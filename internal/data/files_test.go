package data

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/detect"
)

var testNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func testOpts() Options {
	return Options{Key: []byte("test key, 16+ bytes"), Now: func() time.Time { return testNow }, Workers: 2}
}

// All values below are synthetic: serials of zeros and ones, prefixes followed by zeros.
const peopleCSV = "id,ho_ten,so_cccd,so_dien_thoai,ngay_sinh\n" +
	"1,Nguyễn Văn An,001099000123,0901234567,12/05/1990\n" +
	"2,Trần Thị Bình,079305000456,0912345678,03/11/1985\n" +
	"3,\"Lê Hoàng\nCường\",001085000789,0387654321,01/01/1970\n"

func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[n]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func docx(t testing.TB, body string, secrecy string) []byte {
	var paras strings.Builder
	for _, line := range strings.Split(body, "\n") {
		paras.WriteString(`<w:p><w:r><w:t xml:space="preserve">` + line + `</w:t></w:r></w:p>`)
	}
	files := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0"?><Types/>`,
		"word/document.xml": `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="w"><w:body>` + paras.String() +
			`<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Số: 15/BC</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Điện thoại 0388888888</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:body></w:document>`,
	}
	if secrecy != "" {
		files["docProps/custom.xml"] = `<?xml version="1.0"?><Properties><property name="Độ mật" pid="2"><vt:lpwstr>` + secrecy + `</vt:lpwstr></property></Properties>`
	}
	return zipOf(t, files)
}

func xlsx(t testing.TB) []byte {
	return zipOf(t, map[string]string{
		"xl/workbook.xml":      `<workbook/>`,
		"xl/sharedStrings.xml": `<sst><si><t>ho_ten</t></si><si><t>cccd</t></si><si><t>Phạm Thu Dung</t></si><si><t>Hoàng Minh Đức</t></si><si><t>Vũ Thị Hà</t></si></sst>`,
		"xl/worksheets/sheet1.xml": `<worksheet><sheetData>` +
			`<row><c t="s"><v>0</v></c><c t="s"><v>1</v></c></row>` +
			`<row><c t="s"><v>2</v></c><c t="inlineStr"><is><t>001099000111</t></is></c></row>` +
			`<row><c t="s"><v>3</v></c><c t="inlineStr"><is><t>001099000112</t></is></c></row>` +
			`<row><c t="s"><v>4</v></c><c t="inlineStr"><is><t>001099000113</t></is></c></row>` +
			`</sheetData></worksheet>`,
	})
}

func pptx(t testing.TB) []byte {
	return zipOf(t, map[string]string{
		"ppt/presentation.xml":  `<presentation/>`,
		"ppt/slides/slide1.xml": `<sld><a:p><a:r><a:t>Báo cáo tiến độ</a:t></a:r></a:p><a:p><a:r><a:t>LƯU HÀNH NỘI BỘ</a:t></a:r></a:p></sld>`,
	})
}

// pdf writes a two-page text PDF: one content stream uncompressed with literal strings, one
// Flate-compressed whose stamp is a hex string mapped by a ToUnicode CMap.
func pdf(t testing.TB) []byte {
	page1 := "BT /F1 12 Tf 72 720 Td (Danh sach lien he) Tj 0 -14 Td (SDT: 0901234567) Tj T* [(Mobile: 0912) -50 (345678)] TJ T* (DT: 0387654321) Tj ET"
	// Codes 0001–0009 spell "TỐI MẬT" through the CMap.
	page2 := "BT /F2 14 Tf 72 760 Td <0001000200030004000500060007> Tj ET"
	cmap := "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n" +
		"1 begincodespacerange <0000> <FFFF> endcodespacerange\n" +
		"7 beginbfchar <0001> <0054> <0002> <1ED0> <0003> <0049> <0004> <0020> <0005> <004D> <0006> <1EAC> <0007> <0054> endbfchar\n" +
		"endcmap CMapName currentdict /CMap defineresource pop end end"
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(page2))
	zw.Close()
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	fmt.Fprintf(&b, "4 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n", len(page1), page1)
	fmt.Fprintf(&b, "5 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n", z.Len())
	b.Write(z.Bytes())
	b.WriteString("\nendstream\nendobj\n")
	fmt.Fprintf(&b, "6 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n", len(cmap), cmap)
	b.WriteString("trailer\n<< /Root 1 0 R >>\n%%EOF\n")
	return b.Bytes()
}

func tarOf(t testing.TB, files map[string]string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for n, c := range files {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(c)), Typeflag: tar.TypeReg})
		tw.Write([]byte(c))
	}
	tw.Close()
	return buf.Bytes()
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func writeFiles(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for n, c := range files {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, c, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// found lists "location detector" of the reportable places.
func found(rep Report) []string {
	var out []string
	for _, p := range rep.Places {
		if p.Reportable {
			out = append(out, p.Location+" "+p.Detector)
		}
	}
	return out
}

func TestScanPathFormats(t *testing.T) {
	dir := t.TempDir()
	nested := zipOf(t, map[string]string{"inner/ds.txt": "Số CCCD: 001099000999\n"})
	writeFiles(t, dir, map[string][]byte{
		"people.csv":         []byte(peopleCSV),
		"notes/readme.txt":   []byte("Không có dữ liệu cá nhân ở đây.\nQuên mật khẩu? Nhấn vào đây.\n"),
		"config/app.env":     []byte("APP_NAME=cong\nDB_PASSWORD=S3cr3t!x9\n"),
		"config/app.json":    []byte(`{"db": {"url": "postgres://app:Xk9pq2Lm@db.noi-bo.vn/hoso"}}`),
		"data/list.xml":      []byte("<ds>\n<cd><email>an.nguyen@gmail.com</email></cd>\n<cd><email>binh.tran@yahoo.com.vn</email></cd>\n<cd><email>cuong.le@outlook.com</email></cd>\n</ds>\n"),
		"web/index.html":     []byte("<html><body><p>Trang chủ</p><table><tr><td>Số: 12/BC</td><td>MẬT</td></tr></table><script>var x='TUYỆT MẬT'</script></body></html>"),
		"docs/bc.docx":       docx(t, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nTUYỆT MẬT\nKính gửi: Bộ Công an", "Tối mật"),
		"docs/ds.xlsx":       xlsx(t),
		"docs/slides.pptx":   pptx(t),
		"docs/lienhe.pdf":    pdf(t),
		"archive/all.zip":    zipOf(t, map[string]string{"a/people.csv": peopleCSV, "nested.zip": string(nested)}),
		"archive/bk.tar.gz":  gz(tarOf(t, map[string]string{"etc/app.env": "DB_PASSWORD=Qw3rty!2024\n"})),
		"archive/log.txt.gz": gz([]byte("TỐI MẬT\n")),
		"bin/blob.bin":       append([]byte{0, 1, 2, 3}, []byte("001099000123 001099000124 001099000125")...),
		".git/config":        []byte("DB_PASSWORD=NotScanned1!"),
	})
	rep, err := ScanPath(t.Context(), dir, testOpts())
	if err != nil {
		t.Fatal(err)
	}
	got := found(rep)
	for i := range got {
		got[i] = strings.TrimPrefix(got[i], dir+string(filepath.Separator))
	}
	want := []string{
		"archive/all.zip!a/people.csv:2 vn.birth_date",
		"archive/all.zip!a/people.csv:2 vn.citizen_id",
		"archive/all.zip!a/people.csv:2 vn.full_name",
		"archive/all.zip!a/people.csv:2 vn.phone",
		"archive/all.zip!nested.zip!inner/ds.txt:1 vn.citizen_id",
		"archive/bk.tar.gz!bk.tar!etc/app.env:1 secret.password",
		"archive/log.txt.gz!log.txt:1 marking.toi_mat",
		"config/app.env:2 secret.password",
		"config/app.json:1 secret.password",
		"data/list.xml:2 vn.email",
		"docs/bc.docx marking.toi_mat",
		"docs/bc.docx marking.tuyet_mat",
		"docs/ds.xlsx vn.citizen_id",
		"docs/ds.xlsx vn.full_name",
		"docs/lienhe.pdf marking.toi_mat",
		"docs/lienhe.pdf vn.phone",
		"docs/slides.pptx marking.noi_bo",
		"people.csv:2 vn.birth_date",
		"people.csv:2 vn.citizen_id",
		"people.csv:2 vn.full_name",
		"people.csv:2 vn.phone",
		"web/index.html marking.mat",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("places:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The third record of people.csv spans lines 4–5; its values are reported on line 4.
	for _, p := range rep.Places {
		if strings.HasSuffix(p.Path, "/people.csv") && p.Path == filepath.Join(dir, "people.csv") && p.Detector == detect.CitizenID {
			if !slices.Equal(p.Lines, []int{2, 3, 4}) {
				t.Errorf("people.csv citizen IDs on lines %v, want [2 3 4]", p.Lines)
			}
			if strings.Contains(p.Sample, "001099000123") || p.Hash == "" {
				t.Errorf("sample %q hash %q: want masked with a hash", p.Sample, p.Hash)
			}
		}
	}
	var skippedBinary bool
	for _, s := range rep.Skipped {
		if strings.HasSuffix(s.Path, "blob.bin") {
			skippedBinary = true
		}
		if strings.Contains(s.Path, ".git") {
			t.Errorf(".git was read: %+v", s)
		}
	}
	if !skippedBinary {
		t.Errorf("binary file not reported as skipped: %+v", rep.Skipped)
	}
}

func TestArchiveLimits(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("0901234567\n", 20000) // 220 kB
	deep := zipOf(t, map[string]string{"d.txt": "Số CCCD: 001099000999\n"})
	for range 4 {
		deep = zipOf(t, map[string]string{"z.zip": string(deep)})
	}
	writeFiles(t, dir, map[string][]byte{
		"bomb.zip":  zipOf(t, map[string]string{"big.txt": big}),
		"deep.zip":  deep,
		"large.txt": []byte(big),
	})
	opts := testOpts()
	opts.MaxFileSize = 100 << 10
	opts.MaxDepth = 3
	rep, err := ScanPath(t.Context(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(found(rep)) != 0 {
		t.Errorf("found %v past the limits", found(rep))
	}
	reasons := map[string]string{}
	for _, s := range rep.Skipped {
		reasons[filepath.Base(strings.Split(s.Path, "!")[0])] = s.Reason
	}
	for f, want := range map[string]string{"bomb.zip": "larger than the size limit", "deep.zip": "nested deeper than 3", "large.txt": "larger than the limit"} {
		if !strings.Contains(reasons[f], want) {
			t.Errorf("%s skipped for %q, want %q", f, reasons[f], want)
		}
	}
}

func TestScanText(t *testing.T) {
	rep := ScanText("https://portal.example/ds", []byte("Số CCCD: 001099000123\nTUYỆT MẬT\n"), testOpts())
	if got := strings.Join(found(rep), ","); got != "https://portal.example/ds:1 vn.citizen_id,https://portal.example/ds:2 marking.tuyet_mat" {
		t.Errorf("ScanText = %s", got)
	}
}

func TestScanMissingPath(t *testing.T) {
	_, err := Scan(context.Background(), filepath.Join(t.TempDir(), "nope"), testOpts())
	if err == nil || !strings.Contains(err.Error(), "cannot read") {
		t.Errorf("Scan(missing) = %v", err)
	}
}

func FuzzPDFText(f *testing.F) {
	f.Add(pdf(f))
	f.Add([]byte("%PDF-1.4\nstream\nBT (a) Tj [(b) -300 (c)] TJ <00> Tj ET\nendstream"))
	f.Add([]byte("%PDF-\n<< /Filter /FlateDecode >>\nstream\nxx\nendstream"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pdfText(b, 1<<20)
	})
}

func FuzzOffice(f *testing.F) {
	f.Add(docx(f, "TUYỆT MẬT", "Mật"))
	f.Add(xlsx(f))
	f.Add(pptx(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := &scanner{opts: testOpts().withDefaults()}
		s.content("f.docx", b, 0)
	})
}

func FuzzCSV(f *testing.F) {
	f.Add([]byte(peopleCSV))
	f.Add([]byte("a;b\n\"x;y\";1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := csvDoc("f.csv", b)
		if d.lineMap != nil && len(d.lineMap) != bytes.Count(d.text, []byte{'\n'}) {
			t.Fatalf("line map of %d entries for %d lines", len(d.lineMap), bytes.Count(d.text, []byte{'\n'}))
		}
	})
}
