package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDataRootFlag checks --data-root (and KHIEN_DATA_ROOTS) on the commands that run
// data-security scans: each root must be an existing absolute directory, and a bad one stops
// the command before it opens anything.
func TestDataRootFlag(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		stderr string
	}{
		{"worker, relative root", nil, []string{"--db", db, "worker", "--data-root", "share"}, `"share" is not an absolute path`},
		{"serve, missing root", nil, []string{"--db", db, "serve", "--listen", "127.0.0.1:0", "--data-root", filepath.Join(dir, "missing")}, "cannot be read"},
		{"scan, missing root", nil, []string{"--db", db, "scan", "--data-root", db + "-x", "dns:a.example.test"}, "cannot be read"},
		{"worker, from the environment", map[string]string{"KHIEN_DATA_ROOTS": dir + string(filepath.ListSeparator) + "rel"}, []string{"--db", db, "worker"}, `"rel" is not an absolute path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, tt.env, tt.args...)
			if code != ExitUsage || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("khien %v = %d, stderr %q; want %d containing %q", tt.args, code, errOut, ExitUsage, tt.stderr)
			}
		})
	}
}
