package data

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/xml"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// officeText extracts the text of a DOCX, XLSX or PPTX package: paragraphs on their own lines,
// table cells and spreadsheet cells separated by tabs (a stamp is a stamp because it stands
// alone in its line or cell), headers and footers, text boxes, and the document properties as
// "name: value" lines, so that a secrecy-level property ("Độ mật: Mật") reads as a field.
//
// A package is a ZIP archive, so each part read is charged to the archive budget of s
// (entries and bytes expanded, as readLimited does for archive members), and the text made
// from one package stops at MaxFileSize: a spreadsheet may refer a thousand times to one long
// shared string. What was made before a limit is still scanned; the limit is a skip.
func (s *scanner) officeText(name string, zr *zip.Reader) (doc, bool) {
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	var parts []string
	kind := ""
	switch {
	case files["word/document.xml"] != nil:
		kind = "docx"
		for n := range files {
			if strings.HasPrefix(n, "word/header") && strings.HasSuffix(n, ".xml") {
				parts = append(parts, n)
			}
		}
		slices.Sort(parts)
		parts = append(parts, "word/document.xml", "word/footnotes.xml")
		var footers []string
		for n := range files {
			if strings.HasPrefix(n, "word/footer") && strings.HasSuffix(n, ".xml") {
				footers = append(footers, n)
			}
		}
		slices.Sort(footers)
		parts = append(parts, footers...)
	case files["xl/workbook.xml"] != nil:
		kind = "xlsx"
		for n := range files {
			if strings.HasPrefix(n, "xl/worksheets/sheet") && strings.HasSuffix(n, ".xml") {
				parts = append(parts, n)
			}
		}
		slices.SortFunc(parts, byNumber)
	case files["ppt/presentation.xml"] != nil:
		kind = "pptx"
		for n := range files {
			if strings.HasPrefix(n, "ppt/slides/slide") && strings.HasSuffix(n, ".xml") {
				parts = append(parts, n)
			}
		}
		slices.SortFunc(parts, byNumber)
	default:
		return doc{}, false
	}
	limit := s.opts.MaxFileSize
	stopped := false // a limit was reached and said so: read no more parts
	read := func(n string) []byte {
		f := files[n]
		if f == nil || stopped {
			return nil
		}
		if s.entries++; s.entries > s.opts.MaxEntries {
			s.skip(name, "more than %d archive entries; the rest are not read", s.opts.MaxEntries)
			stopped = true
			return nil
		}
		rc, err := f.Open()
		if err != nil {
			s.skip(name+"!"+n, "%v", err)
			return nil
		}
		defer rc.Close()
		b, err := s.readLimited(name+"!"+n, rc)
		if err != nil {
			s.skip(name+"!"+n, "%v", err)
			stopped = s.expanded >= s.opts.MaxExpanded
			return nil
		}
		return b
	}
	tooLong := func() {
		s.skip(name, "text past the limit of %d bytes; the rest is not scanned", limit)
		stopped = true
	}
	full := func(out *bytes.Buffer) bool {
		if int64(out.Len()) <= limit {
			return false
		}
		out.Truncate(int(limit))
		tooLong()
		return true
	}
	var out bytes.Buffer
	for _, n := range []string{"docProps/core.xml", "docProps/custom.xml", "docProps/app.xml"} {
		properties(&out, read(n))
	}
	var shared []string
	if kind == "xlsx" {
		shared = sharedStrings(read("xl/sharedStrings.xml"))
	}
	for _, n := range parts {
		if stopped || full(&out) {
			break
		}
		b := read(n)
		if b == nil {
			continue
		}
		if kind == "xlsx" {
			if sheetText(&out, b, shared, limit-int64(out.Len())) {
				tooLong()
			}
		} else {
			xmlText(&out, b)
		}
		out.WriteByte('\n')
	}
	if !stopped {
		full(&out)
	}
	return doc{name: name, text: out.Bytes()}, true
}

// byNumber orders sheet2.xml before sheet10.xml.
func byNumber(a, b string) int {
	num := func(s string) int {
		s = strings.TrimSuffix(path.Base(s), ".xml")
		i := len(s)
		for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
			i--
		}
		n, _ := strconv.Atoi(s[i:])
		return n
	}
	return num(a) - num(b)
}

// xmlText writes the character data of a WordprocessingML or DrawingML part: text runs
// (w:t, a:t) as they are, a line break after each paragraph, a tab after each table cell.
func xmlText(out *bytes.Buffer, b []byte) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	inText := false
	for {
		t, err := d.RawToken()
		if err != nil {
			return
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t":
				inText = true
			case "tab":
				out.WriteByte('\t')
			case "br", "cr":
				out.WriteByte('\n')
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				out.WriteByte('\n')
			case "tc":
				out.WriteByte('\t')
			case "tr":
				out.WriteByte('\n')
			}
		case xml.CharData:
			if inText {
				out.Write(t)
			}
		}
	}
}

// properties writes the core and custom properties of an OOXML package as "name: value" lines.
func properties(out *bytes.Buffer, b []byte) {
	if b == nil {
		return
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	var stack []string
	propName := ""
	for {
		t, err := d.RawToken()
		if err != nil {
			return
		}
		switch t := t.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			if t.Name.Local == "property" {
				for _, a := range t.Attr {
					if a.Name.Local == "name" {
						propName = a.Value
					}
				}
			}
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			v := strings.TrimSpace(string(t))
			if v == "" || len(stack) == 0 {
				continue
			}
			label := stack[len(stack)-1]
			if propName != "" && len(stack) >= 2 && stack[len(stack)-2] == "property" {
				label = propName
			}
			out.WriteString(label + ": " + v + "\n")
		}
	}
}

// sharedStrings reads the shared-string table of a workbook.
func sharedStrings(b []byte) []string {
	if b == nil {
		return nil
	}
	var out []string
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	var cur strings.Builder
	inT := false
	for {
		t, err := d.RawToken()
		if err != nil {
			return out
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				cur.Reset()
			case "t":
				inT = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				out = append(out, cur.String())
			case "t":
				inT = false
			}
		case xml.CharData:
			if inT {
				cur.Write(t)
			}
		}
	}
}

// sheetText writes the rows of a worksheet like a CSV file: with the first row as column
// labels when it looks like a header. It writes whole records, at most limit bytes of them,
// and reports whether some did not fit: a cell that refers to a shared string writes it
// again, however long.
func sheetText(out *bytes.Buffer, b []byte, shared []string, limit int64) (cut bool) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	var (
		rows     [][]string
		row      []string
		cellType string
		inV      bool
		val      strings.Builder
	)
	for {
		t, err := d.RawToken()
		if err != nil {
			break
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				row = nil
			case "c":
				cellType = ""
				val.Reset()
				for _, a := range t.Attr {
					if a.Name.Local == "t" {
						cellType = a.Value
					}
				}
			case "v", "t":
				inV = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v", "t":
				inV = false
			case "c":
				v := val.String()
				if cellType == "s" {
					if i, err := strconv.Atoi(v); err == nil && i >= 0 && i < len(shared) {
						v = shared[i]
					}
				}
				row = append(row, v)
			case "row":
				rows = append(rows, row)
			}
		case xml.CharData:
			if inV {
				val.Write(t)
			}
		}
	}
	text, _, cut := renderRows(rows, nil, max(limit, 0))
	out.Write(text)
	return cut
}

// csvDoc reads a CSV or TSV file into labelled text: when the first record is a header, each
// cell is written "label:<TAB>value" so that a column named so_cccd or ngay_sinh gives its
// values the context a label gives them in prose. Each record becomes one line; lineMap keeps
// the line it started on. A file the CSV reader refuses is scanned as plain text. The text
// stops before the record that would take it past limit bytes; cut says so.
func csvDoc(name string, b []byte, limit int64) (d doc, cut bool) {
	rows, lines, err := readCSV(b)
	if err != nil {
		return doc{name: name, text: b, hasLines: true}, false
	}
	text, m, cut := renderRows(rows, lines, limit)
	return doc{name: name, text: text, hasLines: true, lineMap: m}, cut
}

// readCSV reads all records of b with the delimiter its first line uses most, and the line
// each record starts on.
func readCSV(b []byte) ([][]string, []int, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.Comma = sniffDelimiter(b)
	r.FieldsPerRecord = -1
	r.LazyQuotes = false
	var rows [][]string
	var lines []int
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return rows, lines, nil
		}
		if err != nil {
			return nil, nil, err
		}
		line, _ := r.FieldPos(0)
		rows = append(rows, rec)
		lines = append(lines, line)
	}
}

func sniffDelimiter(b []byte) rune {
	first := b
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		first = b[:i]
	}
	best, n := ',', bytes.Count(first, []byte{','})
	for _, c := range []byte{';', '\t', '|'} {
		if k := bytes.Count(first, []byte{c}); k > n {
			best, n = rune(c), k
		}
	}
	return best
}

// isHeader reports whether a first record is a row of column names: no cell empty or numeric.
func isHeader(rec []string) bool {
	if len(rec) == 0 {
		return false
	}
	for _, c := range rec {
		c = strings.TrimSpace(c)
		if c == "" || len(c) > 64 {
			return false
		}
		if _, err := strconv.ParseFloat(c, 64); err == nil {
			return false
		}
		if strings.ContainsAny(c, "@/") {
			return false
		}
	}
	return true
}

// columnLabel turns a column name into the words a label would be: so_cccd → "so cccd".
func columnLabel(name string) string {
	return strings.Map(func(r rune) rune {
		// Line breaks too: the label is written before every non-empty cell of its column,
		// and each record must stay one line (a fuzz test found a header cell holding one).
		if r == '_' || r == '-' || r == '.' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, strings.TrimSpace(name))
}

// renderRows writes rows one per line, labelled by the header when there is one. An empty
// cell gets no label: a row of empty cells under long column names would otherwise grow some
// sixty times in the writing. The text holds whole records only and at most limit bytes; cut
// reports that records were left out to stay within it.
func renderRows(rows [][]string, lines []int, limit int64) (text []byte, m []int, cut bool) {
	var out bytes.Buffer
	var header []string
	start := 0
	if len(rows) > 1 && isHeader(rows[0]) {
		for _, h := range rows[0] {
			header = append(header, columnLabel(h))
		}
		// One output line per record: a quoted header cell may hold a newline (found by fuzzing).
		out.WriteString(strings.ReplaceAll(strings.Join(rows[0], "\t"), "\n", " ") + "\n")
		if int64(out.Len()) > limit {
			return nil, nil, true
		}
		if lines != nil {
			m = append(m, lines[0])
		}
		start = 1
	}
	for i := start; i < len(rows); i++ {
		begin := out.Len()
		for j, c := range rows[i] {
			if j > 0 {
				out.WriteByte('\t')
			}
			if c != "" && j < len(header) && header[j] != "" {
				out.WriteString(header[j])
				out.WriteString(":\t")
			}
			out.WriteString(strings.ReplaceAll(c, "\n", " "))
			if int64(out.Len()) >= limit {
				break // checked again below, with its line break
			}
		}
		out.WriteByte('\n')
		if int64(out.Len()) > limit {
			out.Truncate(begin)
			return out.Bytes(), m, true
		}
		if lines != nil {
			m = append(m, lines[i])
		}
	}
	return out.Bytes(), m, false
}

// utf16Text decodes text with a UTF-16 byte-order mark (as Windows tools write CSV exports).
func utf16Text(b []byte) ([]byte, bool) {
	if len(b) < 2 {
		return nil, false
	}
	var order binary.ByteOrder
	switch {
	case b[0] == 0xff && b[1] == 0xfe:
		order = binary.LittleEndian
	case b[0] == 0xfe && b[1] == 0xff:
		order = binary.BigEndian
	default:
		return nil, false
	}
	u := make([]uint16, 0, len(b)/2)
	for i := 2; i+1 < len(b); i += 2 {
		u = append(u, order.Uint16(b[i:]))
	}
	return []byte(string(utf16.Decode(u))), true
}

// htmlText returns the text of an HTML page with blocks on their own lines and table cells
// separated by tabs; scripts and styles are dropped.
func htmlText(body []byte) []byte {
	z := html.NewTokenizer(bytes.NewReader(body))
	var out bytes.Buffer
	skip := 0
	newline := func() {
		if b := out.Bytes(); len(b) > 0 && b[len(b)-1] != '\n' {
			out.WriteByte('\n')
		}
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return out.Bytes()
		case html.TextToken:
			if skip > 0 {
				continue
			}
			t := bytes.Join(bytes.Fields(z.Text()), []byte{' '})
			if len(t) > 0 {
				if b := out.Bytes(); len(b) > 0 && b[len(b)-1] != '\n' && b[len(b)-1] != '\t' {
					out.WriteByte(' ')
				}
				out.Write(t)
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			switch a := atom.Lookup(name); a {
			case atom.Script, atom.Style, atom.Noscript, atom.Template:
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case atom.Td, atom.Th:
				if tt == html.EndTagToken {
					out.WriteByte('\t')
				}
			case atom.Br, atom.P, atom.Div, atom.Tr, atom.Li, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5,
				atom.H6, atom.Table, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Dt, atom.Dd,
				atom.Pre, atom.Blockquote, atom.Ul, atom.Ol, atom.Title, atom.Form, atom.Hr:
				newline()
			}
		}
	}
}
