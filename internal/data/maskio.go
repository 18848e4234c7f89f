package data

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/khien-vn/khien/internal/errs"
)

// Mask copies in to a masked out: a CSV file, a SQL dump (pg_dump COPY blocks, INSERT
// statements of pg_dump --inserts or mysqldump), or a PostgreSQL table given as
// postgres://…/db?table=schema.name (out likewise, a table that must not exist yet).
func (m *Masker) Mask(ctx context.Context, in, out string) (MaskReport, error) {
	start := time.Now()
	var rep MaskReport
	var err error
	switch {
	case strings.HasPrefix(in, "postgres://") || strings.HasPrefix(in, "postgresql://"):
		rep, err = m.MaskPostgres(ctx, in, out)
	case strings.HasSuffix(strings.ToLower(in), ".sql"):
		rep, err = m.MaskSQL(in, out)
	default:
		rep, err = m.MaskCSV(in, out)
	}
	rep.Elapsed = time.Since(start).Round(time.Millisecond).String()
	return rep, err
}

// MaskCSV masks a CSV file whose first record names the columns; the table name is the file's
// base name (cong_dan.csv is table cong_dan).
func (m *Masker) MaskCSV(in, out string) (MaskReport, error) {
	rep := MaskReport{Input: in, Output: out}
	f, err := os.Open(in)
	if err != nil {
		return rep, errs.Wrap(errs.Invalid, err, "cannot read %s", in)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(4096)
	r := csv.NewReader(br)
	r.Comma = sniffDelimiter(head)
	r.FieldsPerRecord = 0
	name := strings.TrimSuffix(filepath.Base(in), filepath.Ext(in))
	var t *tableMasker
	err = writeAtomic(out, func(o *os.File) error {
		bw := bufio.NewWriter(o)
		w := csv.NewWriter(bw)
		w.Comma = r.Comma
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					return errs.E(errs.Invalid, "%s:%d: the record starting on this line is not valid CSV: %v (at line %d, column %d); no output was written",
						in, pe.StartLine, pe.Err, pe.Line, pe.Column)
				}
				return errs.E(errs.Invalid, "%s: %v; no output was written", in, err)
			}
			if t == nil {
				t = m.table(name, rec)
				if err := w.Write(rec); err != nil {
					return err
				}
				continue
			}
			for i := range rec {
				rec[i] = t.cell(i, rec[i])
			}
			t.report.Rows++
			if err := w.Write(rec); err != nil {
				return err
			}
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return rep, err
	}
	if t != nil {
		rep.Tables = append(rep.Tables, t.report)
	}
	rep.Unused = m.unused(rep.Tables)
	return rep, nil
}

// sqlDump is the state of masking one dump.
type sqlDump struct {
	m      *Masker
	in     string
	b      []byte
	out    *bufio.Writer
	tables map[string]*tableMasker
	order  []string
	cols   map[string][]string // columns of CREATE TABLE statements, for INSERTs without a list
	// backslash reports whether backslash escapes in strings (MySQL; PostgreSQL with
	// standard_conforming_strings off).
	backslash bool
}

// MaskSQL masks a plain SQL dump. Statements other than COPY … FROM stdin and INSERT INTO are
// copied as they are.
func (m *Masker) MaskSQL(in, out string) (MaskReport, error) {
	rep := MaskReport{Input: in, Output: out}
	b, err := os.ReadFile(in)
	if err != nil {
		return rep, errs.Wrap(errs.Invalid, err, "cannot read %s", in)
	}
	d := &sqlDump{m: m, in: in, b: b, tables: map[string]*tableMasker{}, cols: map[string][]string{},
		backslash: !bytes.Contains(b, []byte("standard_conforming_strings = on"))}
	if bytes.Contains(b, []byte("pg_dump")) && !bytes.Contains(b, []byte("standard_conforming_strings = off")) {
		d.backslash = false
	}
	err = writeAtomic(out, func(o *os.File) error {
		d.out = bufio.NewWriter(o)
		if err := d.run(); err != nil {
			return err
		}
		return d.out.Flush()
	})
	if err != nil {
		return rep, err
	}
	for _, n := range d.order {
		rep.Tables = append(rep.Tables, d.tables[n].report)
	}
	rep.Unused = m.unused(rep.Tables)
	return rep, nil
}

// lineAt returns the 1-based line of offset i.
func (d *sqlDump) lineAt(i int) int { return bytes.Count(d.b[:i], []byte{'\n'}) + 1 }

func (d *sqlDump) errAt(i int, format string, a ...any) error {
	return errs.E(errs.Invalid, "%s:%d: %s; no output was written", d.in, d.lineAt(i), fmt.Sprintf(format, a...))
}

func (d *sqlDump) table(name string, cols []string) *tableMasker {
	t, ok := d.tables[name]
	if !ok {
		t = d.m.table(name, cols)
		d.tables[name] = t
		d.order = append(d.order, name)
	}
	return t
}

// unquoteIdent strips SQL identifier quotes and a schema: public."cong_dan" → cong_dan.
func unquoteIdent(s string) string {
	s = strings.NewReplacer("`", "", "\"", "", "[", "", "]", "").Replace(strings.TrimSpace(s))
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}

func splitIdents(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		out = append(out, unquoteIdent(p))
	}
	return out
}

func (d *sqlDump) run() error {
	b := d.b
	for i := 0; i < len(b); {
		// Copy up to the start of the next statement we rewrite, a line at a time.
		le := bytes.IndexByte(b[i:], '\n')
		end := len(b)
		if le >= 0 {
			end = i + le + 1
		}
		line := b[i:end]
		trim := bytes.TrimSpace(line)
		upper := strings.ToUpper(string(trim[:min(len(trim), 12)]))
		switch {
		case strings.HasPrefix(upper, "COPY ") && bytes.Contains(line, []byte("FROM stdin")):
			next, err := d.copyBlock(i, end)
			if err != nil {
				return err
			}
			i = next
		case strings.HasPrefix(upper, "INSERT INTO "):
			next, err := d.insert(i + bytes.Index(line, []byte("INSERT")))
			if err != nil {
				return err
			}
			i = next
		case strings.HasPrefix(upper, "CREATE TABLE"):
			d.createTable(i)
			d.out.Write(line)
			i = end
		default:
			d.out.Write(line)
			i = end
		}
	}
	return nil
}

// createTable remembers the column order of CREATE TABLE name ( col type, … ).
func (d *sqlDump) createTable(i int) {
	b := d.b[i:]
	open := bytes.IndexByte(b, '(')
	semi := bytes.IndexByte(b, ';')
	if open < 0 || semi < open {
		return
	}
	name := strings.TrimSpace(string(b[len("CREATE TABLE"):open]))
	if strings.HasPrefix(strings.ToUpper(name), "IF NOT EXISTS ") {
		name = name[len("IF NOT EXISTS "):]
	}
	name = unquoteIdent(name)
	var cols []string
	depth := 0
	start := open + 1
	body := b[:semi]
	for k := open + 1; k < len(body); k++ {
		switch body[k] {
		case '(':
			depth++
		case ')':
			if depth == 0 {
				cols = appendColumn(cols, string(body[start:k]))
				d.cols[name] = cols
				return
			}
			depth--
		case ',':
			if depth == 0 {
				cols = appendColumn(cols, string(body[start:k]))
				start = k + 1
			}
		}
	}
}

func appendColumn(cols []string, def string) []string {
	f := strings.Fields(strings.TrimSpace(def))
	if len(f) == 0 {
		return cols
	}
	switch strings.ToUpper(f[0]) {
	case "PRIMARY", "UNIQUE", "KEY", "CONSTRAINT", "INDEX", "FOREIGN", "CHECK", "FULLTEXT", "SPATIAL":
		return cols
	}
	return append(cols, unquoteIdent(f[0]))
}

// copyBlock masks the rows of a COPY … FROM stdin block (tab-separated, \N for NULL).
func (d *sqlDump) copyBlock(i, headerEnd int) (int, error) {
	header := string(d.b[i:headerEnd])
	d.out.WriteString(header)
	open, close := strings.IndexByte(header, '('), strings.IndexByte(header, ')')
	if open < 0 || close < open {
		return 0, d.errAt(i, "COPY without a column list")
	}
	name := unquoteIdent(strings.TrimSpace(header[len("COPY "):open]))
	t := d.table(name, splitIdents(header[open+1:close]))
	for j := headerEnd; j < len(d.b); {
		le := bytes.IndexByte(d.b[j:], '\n')
		if le < 0 {
			return 0, d.errAt(j, `COPY data of %s does not end with \.`, name)
		}
		row := string(d.b[j : j+le])
		j += le + 1
		if row == `\.` {
			d.out.WriteString(row + "\n")
			return j, nil
		}
		fields := strings.Split(row, "\t")
		if len(fields) != len(t.names) {
			return 0, d.errAt(j-le-1, "COPY row of %s has %d fields, the header names %d", name, len(fields), len(t.names))
		}
		for k, f := range fields {
			if f == `\N` {
				continue
			}
			fields[k] = copyEscape(t.cell(k, copyUnescape(f)))
		}
		t.report.Rows++
		d.out.WriteString(strings.Join(fields, "\t") + "\n")
	}
	return 0, d.errAt(headerEnd, `COPY data of %s does not end with \.`, name)
}

func copyUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	return strings.NewReplacer(`\\`, `\`, `\t`, "\t", `\n`, "\n", `\r`, "\r").Replace(s)
}

func copyEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`).Replace(s)
}

// insert masks one INSERT INTO name [(cols)] VALUES (…), (…); statement starting at i.
func (d *sqlDump) insert(i int) (int, error) {
	b := d.b
	vi := indexFold(b[i:], "VALUES")
	if vi < 0 {
		return 0, d.errAt(i, "INSERT without VALUES")
	}
	head := string(b[i : i+vi])
	target := strings.TrimSpace(head[len("INSERT INTO"):])
	var name string
	var cols []string
	if open := strings.IndexByte(target, '('); open >= 0 {
		name = unquoteIdent(target[:open])
		close := strings.LastIndexByte(target, ')')
		if close < open {
			return 0, d.errAt(i, "INSERT column list is not closed")
		}
		cols = splitIdents(target[open+1 : close])
	} else {
		name = unquoteIdent(target)
		cols = d.cols[name]
	}
	t := d.table(name, cols)
	d.out.WriteString(head + "VALUES")
	k := i + vi + len("VALUES")
	for {
		// White space, then a tuple, then ',' or ';'.
		for k < len(b) && isSQLSpace(b[k]) {
			d.out.WriteByte(b[k])
			k++
		}
		if k >= len(b) || b[k] != '(' {
			return 0, d.errAt(k, "expected '(' opening a row of %s", name)
		}
		d.out.WriteByte('(')
		k++
		col := 0
		for {
			for k < len(b) && isSQLSpace(b[k]) {
				d.out.WriteByte(b[k])
				k++
			}
			if k >= len(b) {
				return 0, d.errAt(i, "INSERT into %s is not terminated", name)
			}
			switch {
			case b[k] == '\'':
				s, n, err := d.sqlString(k)
				if err != nil {
					return 0, err
				}
				masked := s
				if col < len(t.names) {
					masked = t.cell(col, s)
				}
				d.out.WriteString(d.quote(masked))
				k += n
			default:
				j := k
				depth := 0
				for j < len(b) && (depth > 0 || b[j] != ',' && b[j] != ')') {
					switch b[j] {
					case '(':
						depth++
					case ')':
						depth--
					case '\'':
						_, n, err := d.sqlString(j)
						if err != nil {
							return 0, err
						}
						j += n - 1
					}
					j++
				}
				raw := strings.TrimSpace(string(b[k:j]))
				if isNumber(raw) && col < len(t.names) && t.report.Columns[col].Method != MethodKeep {
					m := t.cell(col, raw)
					if m == "" {
						m = "NULL"
					} else if !isNumber(m) {
						m = d.quote(m)
					}
					d.out.WriteString(m)
				} else {
					d.out.WriteString(raw)
				}
				k = j
			}
			// ::casts and the like after a string stay as they are.
			for k < len(b) && b[k] != ',' && b[k] != ')' && !isSQLSpace(b[k]) {
				d.out.WriteByte(b[k])
				k++
			}
			for k < len(b) && isSQLSpace(b[k]) {
				d.out.WriteByte(b[k])
				k++
			}
			if k >= len(b) {
				return 0, d.errAt(i, "INSERT into %s is not terminated", name)
			}
			if b[k] == ',' {
				d.out.WriteByte(',')
				k++
				col++
				continue
			}
			if b[k] != ')' {
				return 0, d.errAt(k, "unexpected %q in a row of %s", b[k], name)
			}
			d.out.WriteByte(')')
			k++
			break
		}
		t.report.Rows++
		for k < len(b) && isSQLSpace(b[k]) {
			d.out.WriteByte(b[k])
			k++
		}
		if k < len(b) && b[k] == ',' {
			d.out.WriteByte(',')
			k++
			continue
		}
		if k < len(b) && b[k] == ';' {
			d.out.WriteByte(';')
			k++
			return k, nil
		}
		return 0, d.errAt(k, "expected ',' or ';' after a row of %s", name)
	}
}

func isSQLSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '-' && s[i] != '.' {
			return false
		}
	}
	return true
}

func indexFold(b []byte, word string) int {
	return bytes.Index(bytes.ToUpper(b[:min(len(b), 1<<16)]), []byte(word))
}

// sqlString reads a quoted string at i; n is its length in the dump.
func (d *sqlDump) sqlString(i int) (string, int, error) {
	b := d.b
	var out strings.Builder
	for k := i + 1; k < len(b); k++ {
		c := b[k]
		switch {
		case c == '\'' && k+1 < len(b) && b[k+1] == '\'':
			out.WriteByte('\'')
			k++
		case c == '\'':
			return out.String(), k + 1 - i, nil
		case c == '\\' && d.backslash && k+1 < len(b):
			k++
			switch b[k] {
			case 'n':
				out.WriteByte('\n')
			case 'r':
				out.WriteByte('\r')
			case 't':
				out.WriteByte('\t')
			case '0':
				out.WriteByte(0)
			default:
				out.WriteByte(b[k])
			}
		default:
			out.WriteByte(c)
		}
	}
	return "", 0, d.errAt(i, "string starting here is not terminated")
}

func (d *sqlDump) quote(s string) string {
	s = strings.ReplaceAll(s, "'", "''")
	if d.backslash {
		s = strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`).Replace(s)
	}
	return "'" + s + "'"
}

// tableURL splits postgres://…/db?table=schema.name into the connection URL and the table.
func tableURL(s string) (string, string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", "", errs.Wrap(errs.Invalid, err, "%s is not a URL", redact(s))
	}
	q := u.Query()
	t := q.Get("table")
	if t == "" {
		return "", "", errs.E(errs.Invalid, "%s names no table: add ?table=schema.name", redact(s))
	}
	q.Del("table")
	u.RawQuery = q.Encode()
	return u.String(), t, nil
}

// MaskPostgres copies the table of in into a new table of out, masked, in one transaction:
// the output table exists whole or not at all.
func (m *Masker) MaskPostgres(ctx context.Context, in, out string) (MaskReport, error) {
	rep := MaskReport{Input: redact(in), Output: redact(out)}
	inDSN, inTable, err := tableURL(in)
	if err != nil {
		return rep, err
	}
	outDSN, outTable, err := tableURL(out)
	if err != nil {
		return rep, err
	}
	src, err := pgx.Connect(ctx, inDSN)
	if err != nil {
		return rep, fmt.Errorf("connect to %s: %w", redact(inDSN), err)
	}
	defer src.Close(context.WithoutCancel(ctx))
	dst, err := pgx.Connect(ctx, outDSN)
	if err != nil {
		return rep, fmt.Errorf("connect to %s: %w", redact(outDSN), err)
	}
	defer dst.Close(context.WithoutCancel(ctx))
	srcIdent := pgx.Identifier(strings.Split(inTable, ".")).Sanitize()
	dstIdent := pgx.Identifier(strings.Split(outTable, ".")).Sanitize()
	rows, err := src.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod)
		FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, srcIdent)
	if err != nil {
		return rep, errs.Wrap(errs.Invalid, err, "table %s: %v", inTable, err)
	}
	var names, types []string
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			return rep, err
		}
		names, types = append(names, n), append(types, t)
	}
	if err := rows.Err(); err != nil {
		return rep, errs.Wrap(errs.Invalid, err, "table %s: %v", inTable, err)
	}
	if len(names) == 0 {
		return rep, errs.E(errs.Invalid, "table %s has no columns", inTable)
	}
	short := inTable[strings.LastIndexByte(inTable, '.')+1:]
	t := m.table(short, names)
	tx, err := dst.Begin(ctx)
	if err != nil {
		return rep, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	defs := make([]string, len(names))
	sel := make([]string, len(names))
	for i := range names {
		defs[i] = pgx.Identifier{names[i]}.Sanitize() + " " + types[i]
		sel[i] = pgx.Identifier{names[i]}.Sanitize() + "::text"
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (%s)", dstIdent, strings.Join(defs, ", "))); err != nil {
		return rep, errs.Wrap(errs.Invalid, err, "create %s: %v (the output table must not exist yet)", outTable, err)
	}
	rs, err := src.Query(ctx, fmt.Sprintf("SELECT %s FROM %s", strings.Join(sel, ", "), srcIdent))
	if err != nil {
		return rep, err
	}
	var buf bytes.Buffer
	flush := func() error {
		if buf.Len() == 0 {
			return nil
		}
		quoted := make([]string, len(names))
		for i, n := range names {
			quoted[i] = pgx.Identifier{n}.Sanitize()
		}
		_, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(buf.Bytes()),
			fmt.Sprintf("COPY %s (%s) FROM STDIN", dstIdent, strings.Join(quoted, ", ")))
		buf.Reset()
		return err
	}
	vals := make([]*string, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			rs.Close()
			return rep, err
		}
		for i, v := range vals {
			if i > 0 {
				buf.WriteByte('\t')
			}
			if v == nil {
				buf.WriteString(`\N`)
				continue
			}
			buf.WriteString(copyEscape(t.cell(i, *v)))
		}
		buf.WriteByte('\n')
		t.report.Rows++
		if buf.Len() > 4<<20 {
			if err := flush(); err != nil {
				rs.Close()
				return rep, fmt.Errorf("write %s: %w", outTable, err)
			}
		}
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return rep, err
	}
	if err := flush(); err != nil {
		return rep, fmt.Errorf("write %s: %w", outTable, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return rep, err
	}
	rep.Tables = append(rep.Tables, t.report)
	rep.Unused = m.unused(rep.Tables)
	return rep, nil
}

// WriteMaskReport writes what masking changed, column by column.
func WriteMaskReport(w io.Writer, r MaskReport) error {
	fmt.Fprintf(w, "%s → %s (%s)\n", r.Input, r.Output, r.Elapsed)
	for _, t := range r.Tables {
		fmt.Fprintf(w, "\n%s: %d rows\n", t.Name, t.Rows)
		for _, c := range t.Columns {
			det := ""
			if len(c.Detected) > 0 {
				var parts []string
				for id, n := range c.Detected {
					parts = append(parts, fmt.Sprintf("%s×%d", id, n))
				}
				sortStrings(parts)
				det = " [" + strings.Join(parts, ", ") + "]"
			}
			fmt.Fprintf(w, "  %-24s %-16s %d of %d values changed%s\n", c.Name, c.Method, c.Changed, c.Values, det)
		}
	}
	if len(r.Unused) > 0 {
		fmt.Fprintf(w, "\nconfigured but not found: %s\n", strings.Join(r.Unused, ", "))
	}
	return nil
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
