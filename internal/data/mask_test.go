package data

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/khien-vn/khien/internal/detect"
)

func testMasker(t testing.TB, cols map[string]string) *Masker {
	t.Helper()
	m, err := NewMasker(MaskConfig{Columns: cols}, []byte("masking key of the tests, 32 b."))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMaskValuesKeepFormat(t *testing.T) {
	m := testMasker(t, nil)
	other, _ := NewMasker(MaskConfig{}, []byte("another masking key, 32 bytes.."))
	for _, tt := range []struct {
		method, in string
		valid      func(string) bool
	}{
		{MethodCitizenID, "001099000123", func(s string) bool { return len(s) == 12 && detect.ValidCitizenID([]byte(s), 2026) }},
		{MethodCitizenID, "079305000456", func(s string) bool { return len(s) == 12 && detect.ValidCitizenID([]byte(s), 2026) }},
		{MethodPhone, "0901234567", func(s string) bool { return detect.ValidMobile([]byte(s)) }},
		{MethodPhone, "+84 90 123 4567", func(s string) bool {
			return strings.HasPrefix(s, "+84 ") && len(s) == 15 && detect.ValidMobile([]byte("0"+digits(s)[2:]))
		}},
		{MethodPhone, "024 3823 4567", func(s string) bool { return strings.HasPrefix(s, "024 ") && detect.ValidLandline([]byte(digits(s))) }},
		{MethodTaxCode, "0100000010", func(s string) bool { return detect.ValidTaxCode(s) }},
		{MethodTaxCode, "0100000010-001", func(s string) bool { return detect.ValidTaxCode(s) && strings.HasSuffix(s, "-001") }},
		{MethodCard, "9704 0000 0000 0000", func(s string) bool { return strings.HasPrefix(s, "9704 00") && detect.ValidCard([]byte(digits(s))) }},
		{MethodSocial, "DN4010123456789", func(s string) bool { return strings.HasPrefix(s, "DN401") && len(s) == 15 }},
		{MethodPassport, "C1234567", func(s string) bool { return s[0] == 'C' && len(s) == 8 }},
		{MethodEmail, "an.nguyen@gmail.com", func(s string) bool { return strings.HasSuffix(s, "@gmail.com") && !strings.Contains(s, "nguyen") }},
		{MethodName, "Nguyễn Văn An", func(s string) bool { return len(strings.Fields(s)) == 3 }},
		{MethodName, "TRẦN THỊ BÌNH", func(s string) bool { return s == strings.ToUpper(s) }},
		{MethodDate, "12/05/1990", func(s string) bool { _, _, _, ok := parseDateString(s); return ok && len(s) == 10 && s[2] == '/' }},
		{MethodDate, "1990-05-12", func(s string) bool { return len(s) == 10 && s[4] == '-' }},
		{MethodAccount, "0011004123456", func(s string) bool { return len(s) == 13 && digits(s) == s }},
	} {
		t.Run(tt.method+" "+tt.in, func(t *testing.T) {
			a, _ := m.Value(tt.method, "x", tt.in)
			b, _ := m.Value(tt.method, "x", tt.in)
			c, _ := other.Value(tt.method, "x", tt.in)
			if a != b {
				t.Errorf("not deterministic: %q then %q", a, b)
			}
			if a == tt.in {
				t.Errorf("%q was not changed", tt.in)
			}
			if a == c {
				t.Errorf("two keys gave the same pseudonym %q", a)
			}
			if !tt.valid(a) {
				t.Errorf("%q masked to %q, which lost its format", tt.in, a)
			}
		})
	}
}

func parseDateString(s string) (int, int, int, bool) {
	var d, mo, y int
	if _, err := fmt.Sscanf(s, "%d/%d/%d", &d, &mo, &y); err != nil {
		return 0, 0, 0, false
	}
	return y, mo, d, true
}

// A keyed permutation never maps two citizen IDs to one pseudonym.
func TestMaskCitizenIDInjective(t *testing.T) {
	m := testMasker(t, nil)
	seen := map[string]string{}
	for i := range 20000 {
		in := fmt.Sprintf("0010990%05d", i)
		out, _ := m.Value(MethodCitizenID, "", in)
		if prev, dup := seen[out]; dup {
			t.Fatalf("%s and %s both masked to %s", prev, in, out)
		}
		seen[out] = in
	}
}

func TestMaskDetectFreeText(t *testing.T) {
	m := testMasker(t, nil)
	in := "Liên hệ anh An, SĐT 0901234567, email an.nguyen@gmail.com, CCCD 001099000123"
	out, ids := m.Value(MethodDetect, "ghi_chu", in)
	for _, v := range []string{"0901234567", "an.nguyen@gmail.com", "001099000123"} {
		if strings.Contains(out, v) {
			t.Errorf("masked text %q still holds %s", out, v)
		}
	}
	if len(ids) != 3 || !strings.HasPrefix(out, "Liên hệ anh An, SĐT ") {
		t.Errorf("detect masked %q with %v", out, ids)
	}
	rep := ScanText("masked", []byte(out), testOpts())
	for _, p := range rep.Places {
		if p.Detector == detect.CitizenID || p.Detector == detect.Phone {
			// The pseudonyms keep the structure, so the detectors still see an ID and a phone —
			// which is the point: test code keeps working on realistic values.
			continue
		}
	}
}

func readCSVFile(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// Two tables joined on the citizen ID still join after masking.
func TestMaskCSVReferentialIntegrity(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string][]byte{
		"cong_dan.csv": []byte("so_cccd,ho_ten,sdt\n001099000123,Nguyễn Văn An,0901234567\n079305000456,Trần Thị Bình,0912345678\n001085000789,Lê Hoàng Cường,0387654321\n"),
		"ho_so.csv":    []byte("ma_ho_so,cccd_nguoi_nop,ghi_chu\nHS1,079305000456,Nộp trực tuyến\nHS2,001099000123,SĐT liên hệ 0901234567\nHS3,001099000123,\n"),
	})
	m := testMasker(t, map[string]string{"so_cccd": MethodCitizenID, "cccd_nguoi_nop": MethodCitizenID, "ho_ten": MethodName,
		"sdt": MethodPhone, "ma_ho_so": MethodKeep, "khong_co": MethodHash})
	r1, err := m.Mask(t.Context(), filepath.Join(dir, "cong_dan.csv"), filepath.Join(dir, "cong_dan.masked.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Mask(t.Context(), filepath.Join(dir, "ho_so.csv"), filepath.Join(dir, "ho_so.masked.csv")); err != nil {
		t.Fatal(err)
	}
	people := readCSVFile(t, filepath.Join(dir, "cong_dan.masked.csv"))
	files := readCSVFile(t, filepath.Join(dir, "ho_so.masked.csv"))
	ids := map[string]bool{}
	for _, r := range people[1:] {
		if !detect.ValidCitizenID([]byte(r[0]), 2026) || !detect.ValidMobile([]byte(r[2])) {
			t.Errorf("masked row %v lost its formats", r)
		}
		if strings.Contains(peopleCSV+"001085000789", r[0]) {
			t.Errorf("citizen ID %s was not masked", r[0])
		}
		ids[r[0]] = true
	}
	for _, r := range files[1:] {
		if !ids[r[1]] {
			t.Errorf("file %s refers to %s, which is in no masked person: the join broke", r[0], r[1])
		}
	}
	if files[2][2] == "SĐT liên hệ 0901234567" || !strings.HasPrefix(files[2][2], "SĐT liên hệ 0") {
		t.Errorf("free text %q: want its phone masked by detect", files[2][2])
	}
	if files[2][2][len("SĐT liên hệ "):] != people[1][2] {
		t.Errorf("the phone in free text masked to %q, in its column to %q: want the same", files[2][2], people[1][2])
	}
	c := r1.Tables[0].Columns
	if r1.Tables[0].Rows != 3 || c[0].Method != MethodCitizenID || c[0].Changed != 3 {
		t.Errorf("report %+v", r1.Tables[0])
	}
	if len(r1.Unused) == 0 || r1.Unused[0] != "cccd_nguoi_nop" {
		t.Errorf("unused columns %v", r1.Unused)
	}
}

func TestMaskCorruptInputLeavesNoOutput(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string][]byte{
		"bad.csv":    []byte("a,b\n1,2\n3,\"unterminated\n4,5\n"),
		"bad.sql":    []byte("CREATE TABLE t (a text);\nINSERT INTO t (a) VALUES ('ok');\nINSERT INTO t (a) VALUES ('broken);\n"),
		"ragged.csv": []byte("a,b\n1,2\n3\n"),
	})
	m := testMasker(t, nil)
	for _, tt := range []struct{ in, want string }{
		{"bad.csv", "bad.csv:3:"},
		{"ragged.csv", "ragged.csv:3:"},
		{"bad.sql", "bad.sql:3:"},
	} {
		out := filepath.Join(dir, "out-"+tt.in)
		_, err := m.Mask(t.Context(), filepath.Join(dir, tt.in), out)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Mask(%s) = %v, want an error at %s", tt.in, err, tt.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("Mask(%s) left %s behind", tt.in, out)
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".khien-mask-") {
				t.Errorf("temporary file %s left behind", e.Name())
			}
		}
	}
}

func TestMaskSQLDump(t *testing.T) {
	dump := `-- PostgreSQL database dump (pg_dump)
SET standard_conforming_strings = on;
CREATE TABLE public.cong_dan (
    id integer NOT NULL,
    so_cccd character varying(12),
    ho_ten text
);
COPY public.cong_dan (id, so_cccd, ho_ten) FROM stdin;
1	001099000123	Nguyễn Văn An
2	079305000456	\N
\.

INSERT INTO public.ho_so (ma, cccd, ghi_chu) VALUES ('HS1', '001099000123', 'O''Brien gọi 0901234567'), ('HS2', '079305000456', NULL);
INSERT INTO ho_so VALUES ('HS3', '001099000123', 'x');
`
	dir := t.TempDir()
	writeFiles(t, dir, map[string][]byte{"dump.sql": []byte(dump)})
	m := testMasker(t, map[string]string{"so_cccd": MethodCitizenID, "cccd": MethodCitizenID, "ho_ten": MethodName, "ma": MethodKeep, "id": MethodKeep})
	rep, err := m.Mask(t.Context(), filepath.Join(dir, "dump.sql"), filepath.Join(dir, "masked.sql"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "masked.sql"))
	out := string(b)
	for _, v := range []string{"001099000123", "079305000456", "Nguyễn Văn An", "0901234567"} {
		if strings.Contains(out, v) {
			t.Errorf("masked dump still holds %s:\n%s", v, out)
		}
	}
	p1, _ := m.Value(MethodCitizenID, "", "001099000123")
	if strings.Count(out, p1) != 3 {
		t.Errorf("pseudonym %s appears %d times, want 3 (COPY, two INSERTs):\n%s", p1, strings.Count(out, p1), out)
	}
	for _, keep := range []string{`\N`, "NULL", "'HS1'", "SET standard_conforming_strings = on;", "O''Brien"} {
		if !strings.Contains(out, keep) {
			t.Errorf("masked dump lost %q:\n%s", keep, out)
		}
	}
	if len(rep.Tables) != 2 || rep.Tables[0].Rows != 2 || rep.Tables[1].Rows != 3 {
		t.Errorf("report %+v", rep.Tables)
	}
}

func TestMaskPostgresTables(t *testing.T) {
	dsn := postgresDB(t,
		`CREATE TABLE cong_dan (id int PRIMARY KEY, so_cccd char(12) UNIQUE, ho_ten text, sdt text, ngay_sinh date)`,
		`INSERT INTO cong_dan VALUES (1, '001099000123', 'Nguyễn Văn An', '0901234567', '1990-05-12'),
			(2, '079305000456', 'Trần Thị Bình', '0912345678', '2005-01-31'), (3, '001085000789', NULL, NULL, NULL)`,
		`CREATE TABLE ho_so (ma text, cccd char(12) REFERENCES cong_dan (so_cccd), noi_dung text)`,
		`INSERT INTO ho_so VALUES ('HS1', '079305000456', E'Đăng ký\tthường trú'), ('HS2', '001099000123', 'Cấp lại'), ('HS3', '001099000123', NULL)`,
	)
	m := testMasker(t, map[string]string{"so_cccd": MethodCitizenID, "cccd": MethodCitizenID, "ho_ten": MethodName,
		"sdt": MethodPhone, "ngay_sinh": MethodDate, "id": MethodKeep, "ma": MethodKeep})
	with := func(table string) string {
		if strings.Contains(dsn, "?") {
			return dsn + "&table=" + table
		}
		return dsn + "?table=" + table
	}
	ctx := t.Context()
	for _, tbl := range []string{"cong_dan", "ho_so"} {
		rep, err := m.Mask(ctx, with("public."+tbl), with("public."+tbl+"_masked"))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Tables[0].Rows != 3 {
			t.Errorf("%s: %d rows masked, want 3", tbl, rep.Tables[0].Rows)
		}
	}
	if _, err := m.Mask(ctx, with("public.cong_dan"), with("public.cong_dan_masked")); err == nil || !strings.Contains(err.Error(), "must not exist") {
		t.Errorf("masking into an existing table: %v", err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var joined, leaked int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM ho_so_masked h JOIN cong_dan_masked c ON c.so_cccd = h.cccd`).Scan(&joined); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM cong_dan_masked c JOIN cong_dan o ON o.so_cccd = c.so_cccd OR o.sdt = c.sdt OR o.ho_ten = c.ho_ten`).Scan(&leaked); err != nil {
		t.Fatal(err)
	}
	if joined != 3 || leaked != 0 {
		t.Errorf("after masking %d of 3 files join their person, %d masked rows equal an original; want 3 and 0", joined, leaked)
	}
	var id string
	var nulls int
	conn.QueryRow(ctx, `SELECT so_cccd FROM cong_dan_masked WHERE id = 1`).Scan(&id)
	conn.QueryRow(ctx, `SELECT count(*) FROM cong_dan_masked WHERE ho_ten IS NULL AND sdt IS NULL AND ngay_sinh IS NULL`).Scan(&nulls)
	if !detect.ValidCitizenID([]byte(id), 2026) || nulls != 1 {
		t.Errorf("masked id %q (valid %v), %d all-null rows; want a valid id and 1", id, detect.ValidCitizenID([]byte(id), 2026), nulls)
	}
	var text string
	conn.QueryRow(ctx, `SELECT noi_dung FROM ho_so_masked WHERE ma = 'HS1'`).Scan(&text)
	if text != "Đăng ký\tthường trú" {
		t.Errorf("free text with a tab came back as %q", text)
	}
}

func TestLoadMaskConfig(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string][]byte{
		"ok.yaml":   []byte("default: keep\ncolumns:\n  so_cccd: citizen_id\n"),
		"bad.yaml":  []byte("columns:\n  so_cccd: encrypt\n"),
		"typo.yaml": []byte("colums:\n  a: keep\n"),
		"kf.yaml":   []byte("key_file: key.txt\n"),
		"key.txt":   []byte("a key read from a file, long enough\n"),
	})
	env := func(k string) string {
		if k == "KHIEN_MASK_KEY" {
			return "a key from the environment, 32b"
		}
		return ""
	}
	if m, err := LoadMaskConfig(filepath.Join(dir, "ok.yaml"), env); err != nil || m.Method("t", "so_cccd") != MethodCitizenID || m.Method("t", "x") != MethodKeep {
		t.Errorf("ok.yaml: %v", err)
	}
	if _, err := LoadMaskConfig(filepath.Join(dir, "kf.yaml"), func(string) string { return "" }); err != nil {
		t.Errorf("key_file: %v", err)
	}
	for f, want := range map[string]string{"bad.yaml": `so_cccd: "encrypt"`, "typo.yaml": "colums", "ok.yaml": "at least 16 bytes"} {
		getenv := env
		if f == "ok.yaml" {
			getenv = func(string) string { return "" }
		}
		if _, err := LoadMaskConfig(filepath.Join(dir, f), getenv); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error naming %q", f, err, want)
		}
	}
}
