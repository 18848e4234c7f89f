package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/assurance"
)

// demoStore runs khien demo --no-serve into a new store and returns its path and output.
func demoStore(t *testing.T) (string, string) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "demo.db")
	code, out, errOut := run(t, nil, "--db", db, "demo", "--no-serve", "--lab-prefix", "127.74.0.0/16")
	if code != ExitOK {
		t.Fatalf("demo = %d\n%s\n%s", code, out, errOut)
	}
	return db, out
}

func TestDemoGovernance(t *testing.T) {
	db, out := demoStore(t)
	// A spread of grades across the departments.
	for _, want := range []string{"Hoàn thành tốt", "Không hoàn thành", "KHÔNG ĐƯỢC PHÉP / DENIED", "vuln.known_exploited", "Bảng điểm / scorecard:"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	grades := regexp.MustCompile(`(?m)^\s+[\d.]+\s+SH\.\S+\s+(.+)$`).FindAllStringSubmatch(out, -1)
	seen := map[string]bool{}
	for _, g := range grades {
		seen[g[1]] = true
	}
	if len(seen) < 3 {
		t.Errorf("departments' grades %v: want at least three different ones", seen)
	}
	path := regexp.MustCompile(`scorecard: (\S+\.pdf)`).FindStringSubmatch(out)
	if path == nil {
		t.Fatalf("no scorecard path in:\n%s", out)
	}
	if _, err := os.Stat(path[1]); err != nil {
		t.Errorf("scorecard %s: %v", path[1], err)
	}
	if filepath.Dir(path[1]) != filepath.Dir(db) {
		t.Errorf("scorecard %s is not next to the store %s", path[1], db)
	}
	// Running the demo again reuses the records.
	if code, out, errOut := run(t, nil, "--db", db, "demo", "--no-serve", "--lab-prefix", "127.74.0.0/16"); code != ExitOK || !strings.Contains(out, "DENIED") {
		t.Errorf("second demo = %d\n%s\n%s", code, out, errOut)
	}
}

func TestIndexCommand(t *testing.T) {
	db, _ := demoStore(t)
	code, out, errOut := run(t, nil, "--db", db, "index", "--org", "SH", "--format", "json")
	if code != ExitOK {
		t.Fatalf("index = %d %s %s", code, out, errOut)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"org", "at", "index", "grade", "pillars", "systems", "actions"} {
		if _, ok := v[k]; !ok {
			t.Errorf("index JSON lacks %q", k)
		}
	}
	if !regexp.MustCompile(`"index": \d+\.\d,`).MatchString(out) {
		t.Errorf("index is not written with one decimal:\n%.300s", out)
	}
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"index"}, ExitUsage, "--org CODE"},
		{[]string{"index", "--org", "SH", "--format", "xml"}, ExitUsage, "--format must be"},
		{[]string{"index", "--org", "SH", "--at", "1/12/2026"}, ExitUsage, "--at must be a day"},
		{[]string{"index", "--org", "XX"}, ExitUsage, `"XX" not found`},
		{[]string{"index", "--org", "SH", "--at", "2020-01-01"}, ExitUsage, "no index of SH is stored for 2020-01-01"},
	} {
		if code, _, errOut := run(t, nil, append([]string{"--db", db}, tt.args...)...); code != tt.code || !strings.Contains(errOut, tt.msg) {
			t.Errorf("%v = %d %q; want %d and %q", tt.args, code, errOut, tt.code, tt.msg)
		}
	}
}

// TestIndexRecomputesPastDay stores a day's snapshot, recomputes it through khien index --at
// from the stored Input, and checks that it matches bit for bit; then tampers with the stored
// result and checks that the command says so and exits 3.
func TestIndexRecomputesPastDay(t *testing.T) {
	db, _ := demoStore(t)
	ctx := t.Context()
	a, err := app.Open(ctx, app.Config{DB: db}, textLogger(os.Stderr))
	if err != nil {
		t.Fatal(err)
	}
	today := assurance.Day(a.Now())
	snap, err := a.Store.IndexSnapshot(ctx, "SH.YT", today)
	if err != nil {
		t.Fatal(err)
	}
	// The same computation, kept as the record of a past day.
	all, err := a.Assurance.Snapshot(ctx, snap.AsOf)
	if err != nil {
		t.Fatal(err)
	}
	past := all
	past.Day = "2026-06-30"
	if err := a.Store.PutSnapshot(ctx, past); err != nil {
		t.Fatal(err)
	}
	a.Close()

	code, out, errOut := run(t, nil, "--db", db, "index", "--org", "SH.YT", "--at", "2026-06-30", "--format", "json")
	if code != ExitOK {
		t.Fatalf("index --at = %d\n%s\n%s", code, out, errOut)
	}
	var v struct {
		Index    float64 `json:"index"`
		Tenths   int     `json:"tenths"`
		Stored   bool    `json:"stored"`
		Verified bool    `json:"verified"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if !v.Stored || !v.Verified || v.Tenths != snap.Orgs[0].Tenths {
		t.Errorf("index --at = %+v; want stored, verified, %d tenths", v, snap.Orgs[0].Tenths)
	}
	code, out, _ = run(t, nil, "--db", db, "index", "--org", "SH.YT", "--at", "2026-06-30")
	if code != ExitOK || !strings.Contains(out, "matches the stored snapshot exactly") {
		t.Errorf("index --at (table) = %d\n%s", code, out)
	}

	// Tamper with the stored result: one digit of the figure.
	a, err = app.Open(ctx, app.Config{DB: db}, textLogger(os.Stderr))
	if err != nil {
		t.Fatal(err)
	}
	for i := range past.Orgs {
		if past.Orgs[i].Org == "SH.YT" {
			past.Orgs[i].Result = []byte(strings.Replace(string(past.Orgs[i].Result), `"index":`, `"index":1`, 1))
		}
	}
	if err := a.Store.PutSnapshot(ctx, past); err != nil {
		t.Fatal(err)
	}
	a.Close()
	code, out, errOut = run(t, nil, "--db", db, "index", "--org", "SH.YT", "--at", "2026-06-30")
	if code != ExitError || !strings.Contains(errOut, "does NOT match the stored snapshot") || !strings.Contains(out, "DOES NOT MATCH") {
		t.Errorf("index --at of a tampered snapshot = %d\n%s\n%s; want 3 and a clear message", code, out, errOut)
	}
}

func TestGateCommand(t *testing.T) {
	db, _ := demoStore(t)
	for _, tt := range []struct {
		name string
		args []string
		code int
		out  []string
	}{
		{"denied", []string{"gate", "--system", "sh-hsba", "--stage", "operation"}, ExitBlocked,
			[]string{"DENIED", "Phát hiện mức nghiêm trọng chưa khắc phục", "Open critical finding"}},
		{"allowed, unguarded stage", []string{"gate", "--system", "sh-hsba", "--stage", "test"}, ExitOK, []string{"ALLOWED"}},
		{"exception waives the high finding", []string{"gate", "--system", "sh-dichvucong", "--stage", "operation", "--format", "json"}, ExitBlocked,
			[]string{`"exceptions_applied": [`, `"EX-2026-01"`, `"allowed": false`}},
		{"unknown system", []string{"gate", "--system", "nope", "--stage", "operation"}, ExitUsage, nil},
		{"unknown stage", []string{"gate", "--system", "sh-tc-ngansach", "--stage", "launch"}, ExitUsage, nil},
		{"missing flags", []string{"gate", "--system", "sh-tc-ngansach"}, ExitUsage, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, nil, append([]string{"--db", db}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.out {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	// Every decision is recorded.
	a, err := app.Open(t.Context(), app.Config{DB: db}, textLogger(os.Stderr))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ds, err := a.Assurance.Decisions(t.Context(), "sh-hsba", 0)
	if err != nil || len(ds) < 3 { // the demo's, denied, allowed
		t.Errorf("recorded decisions = %d, %v; want at least 3", len(ds), err)
	}
}

// TestScorecardPDF writes the scorecard and reads it back with pdftotext: Vietnamese words with
// their diacritics, the index figure the CLI's JSON gives, and the designed number of pages.
func TestScorecardPDF(t *testing.T) {
	for _, tool := range []string{"pdftotext", "pdfinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing; CI must install poppler-utils", tool)
			}
			t.Skipf("%s not installed (apt-get install poppler-utils)", tool)
		}
	}
	db, _ := demoStore(t)
	year := strconv.Itoa(yearOf(t, db))
	pdf := filepath.Join(t.TempDir(), "sc.pdf")
	if code, out, errOut := run(t, nil, "--db", db, "report", "scorecard", "--org", "SH", "--year", year, "--out", pdf); code != ExitOK {
		t.Fatalf("report = %d\n%s\n%s", code, out, errOut)
	}
	_, js, _ := run(t, nil, "--db", db, "index", "--org", "SH", "--format", "json")
	var v struct {
		Tenths  int    `json:"tenths"`
		GradeVI string `json:"grade_vi"`
	}
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		t.Fatal(err)
	}
	text, err := exec.Command("pdftotext", "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	figure := strconv.Itoa(v.Tenths/10) + "," + strconv.Itoa(v.Tenths%10)
	for _, w := range []string{"Chỉ số bảo đảm an ninh mạng", "Hoàn thành", "Ủy ban nhân dân tỉnh Sông Hồng", "Năm việc nâng chỉ số nhiều nhất",
		"Phụ lục A", "Phụ lục B", "Lỗ hổng nghiêm trọng", "Ngoại lệ đang có hiệu lực", "EX-2026-01", v.GradeVI, figure} {
		if !strings.Contains(string(text), w) {
			t.Errorf("the PDF's text lacks %q", w)
		}
	}
	info, err := exec.Command("pdfinfo", pdf).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^Pages:\s+3$`).Match(info) {
		t.Errorf("pdfinfo:\n%s\nwant 3 pages: the leader's and two annexes", info)
	}

	html := filepath.Join(t.TempDir(), "sc.html")
	if code, _, errOut := run(t, nil, "--db", db, "report", "scorecard", "--org", "SH", "--year", year, "--out", html); code != ExitOK {
		t.Fatalf("report html = %d %s", code, errOut)
	}
	b, _ := os.ReadFile(html)
	for _, w := range []string{"Chỉ số bảo đảm an ninh mạng", figure, "<svg", "Phụ lục A"} {
		if !strings.Contains(string(b), w) {
			t.Errorf("the HTML lacks %q", w)
		}
	}
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"report"}, "name the report"},
		{[]string{"report", "scorecard", "--org", "SH", "--year", year, "--out", "x.doc"}, "--out must end in .pdf or .html"},
		{[]string{"report", "scorecard", "--org", "XX", "--year", year, "--out", pdf}, `"XX" not found`},
	} {
		if code, _, errOut := run(t, nil, append([]string{"--db", db}, tt.args...)...); code != ExitUsage || !strings.Contains(errOut, tt.msg) {
			t.Errorf("%v = %d %q; want 2 and %q", tt.args, code, errOut, tt.msg)
		}
	}
}

func yearOf(t *testing.T, db string) int {
	a, err := app.Open(t.Context(), app.Config{DB: db}, textLogger(os.Stderr))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	return a.Now().Year()
}
