package index

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPure keeps the package a pure function of its inputs: no I/O (os, net, files, SQL,
// syscalls), no randomness, and no clock — time comes in as asOf. It reads the package's own
// non-test files.
func TestPure(t *testing.T) {
	forbiddenImports := []string{"os", "os/", "net", "net/", "io/ioutil", "io/fs", "database/sql", "syscall", "math/rand", "crypto/rand", "unsafe", "runtime", "log", "log/"}
	forbiddenCalls := map[string][]string{"time": {"Now", "Since", "Until", "Sleep", "After", "Tick", "NewTimer", "NewTicker", "AfterFunc", "LoadLocation"}}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbiddenImports {
				if path == bad || strings.HasSuffix(bad, "/") && strings.HasPrefix(path, bad) {
					t.Errorf("%s imports %s: the index does no I/O", name, path)
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); ok {
				for _, fn := range forbiddenCalls[pkg.Name] {
					if sel.Sel.Name == fn {
						t.Errorf("%s uses %s.%s: time comes in as asOf", name, pkg.Name, fn)
					}
				}
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no source files read")
	}
}
