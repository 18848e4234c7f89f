package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// run calls Main the way main does, with buffers, and returns the exit code and output.
func run(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(t.Context(), args, Env{
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Getenv:  func(k string) string { return env[k] },
		Version: "test",
	})
	return code, stdout.String(), stderr.String()
}

func TestExitCodesAndUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{"no command", nil, ExitUsage, "", "Usage: khien [--db DSN] <command>"},
		{"unknown command", []string{"frobnicate"}, ExitUsage, "", `unknown command "frobnicate"`},
		{"help", []string{"help"}, ExitOK, "Commands:", ""},
		{"version", []string{"version"}, ExitOK, "khien test (go", ""},
		{"subcommand help", []string{"import", "--help"}, ExitOK, "", "Usage: khien import"},
		{"bad flag", []string{"export", "--nope"}, ExitUsage, "", "flag provided but not defined: -nope"},
		{"import without file", []string{"--db", db, "import"}, ExitUsage, "", "import takes exactly one file, got 0"},
		{"import unknown format", []string{"--db", db, "import", "x.txt"}, ExitUsage, "", "x.txt"},
		{"import missing file", []string{"--db", db, "import", "/nonexistent/x.yaml"}, ExitUsage, "", "cannot read the inventory file"},
		{"unknown store", []string{"--db", "mysql://x/y", "migrate"}, ExitUsage, "", `unknown store "mysql://"`},
		{"migrate", []string{"--db", db, "migrate"}, ExitOK, "migrated to schema version", ""},
		{"migrate again", []string{"--db", db, "migrate"}, ExitOK, "is up to date at schema version", ""},
		{"export bad format", []string{"--db", db, "export", "--format", "xml"}, ExitUsage, "", `--format must be yaml or csv, got "xml"`},
		{"scan without target", []string{"--db", db, "scan"}, ExitUsage, "", "name at least one target"},
		{"scan target not in inventory", []string{"--db", db, "scan", "--fence", "loopback", "portal.example.test"}, ExitUsage, "", "dns:portal.example.test is not in the inventory"},
		{"scan bad fail-on", []string{"--db", db, "scan", "--fail-on", "severe", "x.test"}, ExitUsage, "", "--fail-on must be"},
		{"scan unknown profile", []string{"--db", db, "scan", "--profile", "ssllabs", "x.test"}, ExitUsage, "", `unknown profile "ssllabs": use one of khien, testssl, observatory`},
		{"feeds usage", []string{"--db", db, "feeds", "list"}, ExitUsage, "", "use: khien feeds import FILE..."},
		{"feeds bad file", []string{"--db", db, "feeds", "import", "testdata/bad-osv.json"}, ExitUsage, "", "OSV record 1 has no id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, nil, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("khien %v = %d\nstdout: %s\nstderr: %s\nwant %d, stdout ∋ %q, stderr ∋ %q", tt.args, code, out, errOut, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}

func TestImportExportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	env := map[string]string{"KHIEN_DB": db}
	code, out, errOut := run(t, env, "import", "../inventory/testdata/valid.yaml")
	if code != ExitOK || !strings.Contains(out, "imported ../inventory/testdata/valid.yaml") {
		t.Fatalf("import = %d %s %s", code, out, errOut)
	}
	for _, f := range []string{"yaml", "csv"} {
		out1 := filepath.Join(dir, "out."+f)
		if code, _, errOut := run(t, env, "export", "--out", out1); code != ExitOK {
			t.Fatalf("export %s = %d %s", f, code, errOut)
		}
		// Into a fresh store and out again: byte for byte the same.
		env2 := map[string]string{"KHIEN_DB": filepath.Join(dir, "fresh-"+f+".db")}
		if code, _, errOut := run(t, env2, "import", out1); code != ExitOK {
			t.Fatalf("re-import %s = %d %s", f, code, errOut)
		}
		code, again, _ := run(t, env2, "export", "--format", f)
		want, _ := os.ReadFile(out1)
		if code != ExitOK || again != string(want) {
			t.Errorf("%s export after re-import differs:\n%s\nwant\n%s", f, again, want)
		}
	}
}

func TestImportErrorsWriteNothing(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"KHIEN_DB": filepath.Join(dir, "k.db")}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`version: 1
organizations:
  - {code: HN, name: Hà Nội, level: province}
  - {code: HN.X, name: Sở X, level: galaxy, parent: HN}
systems:
  - {id: s1, org: HN, name: Cổng, level: 9, stage: operation, resources: ["dns:exa mple.vn"]}
`), 0o644)
	code, _, errOut := run(t, env, "import", bad)
	if code != ExitUsage {
		t.Fatalf("import of a bad file = %d, want 2; stderr %s", code, errOut)
	}
	for _, want := range []string{bad + ":4: level:", bad + ":6: level: security level must be 1 to 5, got 9", bad + ":6: id:"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	_, out, _ := run(t, env, "export")
	if strings.Contains(out, "HN") {
		t.Errorf("a failed import wrote something:\n%s", out)
	}
}

// TestDemoPrintsWhatTheAPIServes runs the demo without serving, then serves the same store and
// checks the API lists exactly the organizations the demo printed.
func TestDemoPrintsWhatTheAPIServes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	// The lab on a network of its own, so that it never meets the lab package's tests.
	code, out, errOut := run(t, nil, "demo", "--no-serve", "--db", db, "--lab-prefix", "127.75.0.0/16")
	if code != ExitOK {
		t.Fatalf("demo = %d: %s", code, errOut)
	}
	if !strings.Contains(out, "assessed against the lab (38 tài nguyên / resources") || !strings.Contains(out, "KHÔNG ĐƯỢC PHÉP / DENIED") {
		t.Fatalf("demo did not assess against the lab or ask the gate:\n%s\n%s", out, errOut)
	}
	if !strings.Contains(out, "Ủy ban nhân dân tỉnh Sông Hồng") || !strings.Contains(out, "11 tổ chức / organizations, 18 hệ thống / systems, 38 tài nguyên / resources") {
		t.Fatalf("demo output:\n%s", out)
	}
	printed := regexp.MustCompile(`(?m)^\s*(SH[A-Z.]*)\s`).FindAllStringSubmatch(out, -1)
	var codes []string
	for _, m := range printed {
		codes = append(codes, m[1])
	}
	slices.Sort(codes)

	// A second run reuses the store.
	// A second run reuses the store and gives the account a new password.
	code, out, _ = run(t, nil, "demo", "--no-serve", "--db", db, "--no-lab")
	if code != ExitOK || !strings.Contains(out, "reusing the sample") {
		t.Fatalf("second demo run = %d:\n%s", code, out)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() {
		done <- serveForTest(ctx, db, ln)
	}()
	defer func() {
		cancel()
		if code := <-done; code != ExitOK {
			t.Errorf("serve exited %d", code)
		}
	}()
	var body struct {
		Items []struct{ Code, Name string }
		Total int
	}
	// Sign in with the account the demo printed, then list.
	m := regexp.MustCompile(`sign in: (\S+) / (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("demo printed no account:\n%s", out)
	}
	base := "http://" + ln.Addr().String()
	var resp *http.Response
	login := fmt.Sprintf(`{"login":%q,"password":%q}`, m[1], m[2])
	for range 50 {
		if resp, err = http.Post(base+"/api/v1/session", "application/json", strings.NewReader(login)); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated || len(cookies) == 0 {
		t.Fatalf("sign in = %d, cookies %v", resp.StatusCode, cookies)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/organizations?limit=1000", nil)
	req.AddCookie(cookies[0])
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	var served []string
	for _, o := range body.Items {
		served = append(served, o.Code)
	}
	slices.Sort(served)
	if !slices.Equal(codes, served) || body.Total != 11 {
		t.Errorf("printed %v\nserved  %v (total %d)", codes, served, body.Total)
	}
}
