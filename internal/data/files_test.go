package data

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
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

// TestScanCancelledReadsNothing: a scan whose context is already cancelled stops walking
// and starts no file.
func TestScanCancelledReadsNothing(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{}
	for i := range 50 {
		files[filepath.Join("d", string(rune('a'+i%26))+strings.Repeat("x", i/26)+".txt")] = []byte("Số CCCD: 001099000123\n")
	}
	writeFiles(t, dir, files)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	rep, err := ScanPath(ctx, dir, testOpts())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if rep.Files != 0 || len(rep.Places) != 0 {
		t.Errorf("a cancelled scan read %d files, found %v", rep.Files, found(rep))
	}
}

// xlsxRepeating is a workbook whose first row holds a citizen ID and whose next rows each
// refer once to one shared string of strLen bytes.
func xlsxRepeating(t testing.TB, strLen, refs int) []byte {
	var sheet strings.Builder
	sheet.WriteString(`<worksheet><sheetData><row><c t="s"><v>1</v></c></row>`)
	for range refs {
		sheet.WriteString(`<row><c t="s"><v>0</v></c></row>`)
	}
	sheet.WriteString(`</sheetData></worksheet>`)
	return zipOf(t, map[string]string{
		"xl/workbook.xml":          `<workbook/>`,
		"xl/sharedStrings.xml":     `<sst><si><t>` + strings.Repeat("A", strLen) + `</t></si><si><t>Số CCCD: 001099000123</t></si></sst>`,
		"xl/worksheets/sheet1.xml": sheet.String(),
	})
}

// docxHeaders is a document of n header parts of size bytes each, the first one opening
// with a citizen ID.
func docxHeaders(t testing.TB, n, size int) []byte {
	files := map[string]string{"word/document.xml": `<w:document/>`}
	for i := range n {
		text := strings.Repeat("B", size)
		if i == 0 {
			text = "Số CCCD: 001099000123 " + text
		}
		files[fmt.Sprintf("word/header%d.xml", i)] = `<w:p><w:t>` + text + `</w:t></w:p>`
	}
	return zipOf(t, files)
}

// TestOfficeLimits scans office packages built to expand: each part read counts against the
// archive budget, and the text of one file stops at MaxFileSize, while what came before a
// limit is still scanned.
func TestOfficeLimits(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		body     []byte
		opts     func(*Options)
		maxBytes int64 // of text scanned
		skip     string
	}{
		{name: "shared string referred to 300 times", file: "bomb.xlsx", body: xlsxRepeating(t, 64<<10, 300),
			opts:     func(o *Options) { o.MaxFileSize, o.MaxExpanded = 1<<20, 8<<20 },
			maxBytes: 1 << 20, skip: "text past the limit of 1048576 bytes"},
		{name: "many parts past the expansion budget", file: "many.docx", body: docxHeaders(t, 40, 256<<10),
			opts:     func(o *Options) { o.MaxFileSize, o.MaxExpanded = 4<<20, 1<<20 },
			maxBytes: 1 << 20, skip: "expands past the limit of 1048576 bytes"},
		{name: "parts past the text limit", file: "many.docx", body: docxHeaders(t, 40, 256<<10),
			opts:     func(o *Options) { o.MaxFileSize, o.MaxExpanded = 1<<20, 64<<20 },
			maxBytes: 1 << 20, skip: "text past the limit of 1048576 bytes"},
		{name: "parts past the entry budget", file: "many.docx", body: docxHeaders(t, 40, 1<<10),
			opts:     func(o *Options) { o.MaxEntries = 5 },
			maxBytes: 8 << 10, skip: "more than 5 archive entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string][]byte{tt.file: tt.body})
			opts := testOpts()
			tt.opts(&opts)
			rep, err := ScanPath(t.Context(), dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Bytes > tt.maxBytes {
				t.Errorf("%d bytes of text scanned from a %d-byte file, want at most %d", rep.Bytes, len(tt.body), tt.maxBytes)
			}
			var reasons []string
			for _, s := range rep.Skipped {
				reasons = append(reasons, s.Reason)
			}
			if !strings.Contains(strings.Join(reasons, "; "), tt.skip) {
				t.Errorf("skips %q, want one saying %q", reasons, tt.skip)
			}
			if got := strings.Join(found(rep), ","); !strings.Contains(got, "vn.citizen_id") {
				t.Errorf("the text before the limit was not scanned: found %s", got)
			}
		})
	}
}

// TestCSVLabelsBounded: the column labels a CSV header gives its cells do not multiply the
// text scanned, neither by labelling empty cells nor past MaxFileSize.
func TestCSVLabelsBounded(t *testing.T) {
	header := func() string {
		cols := []string{"so_cccd"}
		for i := 1; i < 1000; i++ {
			cols = append(cols, fmt.Sprintf("c%063d", i))
		}
		return strings.Join(cols, ",") + "\n"
	}
	csvOf := func(first, row string, size int) []byte {
		var b strings.Builder
		b.WriteString(header())
		b.WriteString(first)
		for b.Len() < size {
			b.WriteString(row)
		}
		return []byte(b.String())
	}
	empty := strings.Repeat(",", 999) + "\n"
	ones := "1" + strings.Repeat(",1", 999) + "\n"
	tests := []struct {
		name     string
		body     []byte
		maxBytes func(size int) int64
		skip     string
	}{
		{name: "empty cells", body: csvOf("001099000123"+empty, empty, 1<<20),
			maxBytes: func(size int) int64 { return int64(size) + 64 }}, // the label of the one value
		{name: "full cells past the limit", body: csvOf("001099000123"+ones[1:], ones, 200<<10),
			maxBytes: func(int) int64 { return 256 << 10 }, skip: "labelled text past the limit of 262144 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string][]byte{"x.csv": tt.body})
			opts := testOpts()
			opts.MaxFileSize = 256 << 10
			if tt.skip == "" {
				opts.MaxFileSize = 4 << 20
			}
			rep, err := ScanPath(t.Context(), dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			if max := tt.maxBytes(len(tt.body)); rep.Bytes > max {
				t.Errorf("%d bytes of text scanned from a %d-byte CSV, want at most %d", rep.Bytes, len(tt.body), max)
			}
			var reasons []string
			for _, s := range rep.Skipped {
				reasons = append(reasons, s.Reason)
			}
			if got := strings.Join(reasons, "; "); tt.skip == "" && got != "" || !strings.Contains(got, tt.skip) {
				t.Errorf("skips %q, want %q", got, tt.skip)
			}
			if got := strings.Join(found(rep), ","); !strings.Contains(got, "x.csv:2 vn.citizen_id") {
				t.Errorf("the first record was not scanned: found %s", got)
			}
		})
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
		for _, limit := range []int64{1 << 20, int64(len(b) / 2)} {
			d, cut := csvDoc("f.csv", b, limit)
			if d.lineMap != nil && len(d.lineMap) != bytes.Count(d.text, []byte{'\n'}) {
				t.Fatalf("line map of %d entries for %d lines", len(d.lineMap), bytes.Count(d.text, []byte{'\n'}))
			}
			if d.lineMap != nil && int64(len(d.text)) > limit {
				t.Fatalf("labelled text of %d bytes past the limit of %d (cut %v)", len(d.text), limit, cut)
			}
		}
	})
}
