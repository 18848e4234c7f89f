// Package archtest keeps the architecture honest: it parses every package's imports and
// checks them against the invariants of docs/ARCHITECTURE.md, checks that every package has
// a doc comment, and that deps.txt lists exactly the modules the binary links.
package archtest

import (
	"bytes"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/khien-vn/khien"

// forbidden maps a package directory (relative to the repository root; a trailing "/..."
// covers its sub-packages) to imports it must not use: an exact import path, or a prefix
// when the rule ends in "/".
var forbidden = map[string][]string{
	"internal/inventory": {"net", "net/http", "database/sql", store, web, app},
	"internal/errs":      {module + "/internal/"},
	"internal/check":     {"net/http", "database/sql", store, web, app},
	"internal/check/...": {"database/sql", store, web, app, module + "/internal/scope"},
	"internal/detect":    {"net", "net/http", "database/sql", "os", module + "/internal/"},
	"internal/scope":     {"database/sql", store, web, app},
	"internal/web":       {store, app},
	"internal/demo":      {"net", "net/http", "database/sql", store},
	"internal/control":   {"net", "net/http", "database/sql", "os", store, web, app},
	"internal/gate":      {"net", "net/http", "database/sql", "os", store, web, app},
	// index is a pure function of its inputs: no I/O at all (its own test also forbids the clock).
	"internal/index": {"net", "net/http", "database/sql", "os", "io/fs", "syscall", "math/rand", "math/rand/v2", "crypto/rand",
		store, web, app, module + "/internal/assess", module + "/internal/scope", module + "/internal/queue"},
}

const (
	store = module + "/internal/store/"
	web   = module + "/internal/web/"
	app   = module + "/internal/app/"
)

// violates reports whether imp breaks rule.
func violates(imp, rule string) bool {
	if strings.HasSuffix(rule, "/") {
		return imp+"/" == rule || strings.HasPrefix(imp, rule)
	}
	return imp == rule
}

// backends may be imported only by app (and their own tests and the conformance suite).
var backends = []string{module + "/internal/store/sqlite", module + "/internal/store/postgres", module + "/internal/queue/jetstream"}

func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

type pkg struct {
	dir     string // relative, slash-separated
	imports []string
	hasDoc  bool
}

func packages(t *testing.T) []pkg {
	t.Helper()
	base := root(t)
	byDir := map[string]*pkg{}
	err := filepath.WalkDir(base, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "testdata" || strings.HasPrefix(n, ".") || n == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		p := byDir[rel]
		if p == nil {
			p = &pkg{dir: rel}
			byDir[rel] = p
		}
		if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
			p.hasDoc = true
		}
		for _, imp := range f.Imports {
			s, _ := strconv.Unquote(imp.Path.Value)
			p.imports = append(p.imports, s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []pkg
	for _, p := range byDir {
		out = append(out, *p)
	}
	return out
}

func rulesFor(dir string) []string {
	var rules []string
	for d, prefixes := range forbidden {
		if sub, ok := strings.CutSuffix(d, "/..."); ok {
			if strings.HasPrefix(dir, sub+"/") {
				rules = append(rules, prefixes...)
			}
		} else if dir == d {
			rules = append(rules, prefixes...)
		}
	}
	return rules
}

func TestImportRules(t *testing.T) {
	for _, p := range packages(t) {
		for _, imp := range p.imports {
			for _, bad := range rulesFor(p.dir) {
				if violates(imp, bad) {
					t.Errorf("%s imports %s, which its layer must not (docs/ARCHITECTURE.md)", p.dir, imp)
				}
			}
			if slices.Contains(backends, imp) && p.dir != "internal/app" {
				t.Errorf("%s imports the backend %s; only internal/app may", p.dir, imp)
			}
		}
	}
}

func TestEveryPackageHasDoc(t *testing.T) {
	for _, p := range packages(t) {
		if !p.hasDoc {
			t.Errorf("package %s has no doc comment saying what it is for", p.dir)
		}
	}
}

// TestDepsTxt keeps deps.txt equal to the non-standard packages the binary links, so every
// new dependency shows up in review. Regenerate with:
//
//	go list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' ./cmd/khien | grep -v '^github.com/khien-vn/khien' > deps.txt
func TestDepsTxt(t *testing.T) {
	if testing.Short() {
		t.Skip("needs go list")
	}
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./cmd/khien")
	cmd.Dir = root(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var got []string
	for _, line := range strings.Split(string(out), "\n") {
		if line != "" && !strings.HasPrefix(line, module) {
			got = append(got, line)
		}
	}
	want, err := os.ReadFile(filepath.Join(root(t), "deps.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if g := strings.Join(got, "\n") + "\n"; !bytes.Equal([]byte(g), want) {
		t.Errorf("deps.txt is out of date; regenerate it (see this test's comment) and give each new module its reason in docs/ARCHITECTURE.md.\ngot:\n%s", g)
	}
}
