package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDataCommand(t *testing.T) {
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean")
	leaky := filepath.Join(dir, "leaky")
	os.MkdirAll(clean, 0o755)
	os.MkdirAll(leaky, 0o755)
	// Synthetic values only.
	os.WriteFile(filepath.Join(clean, "a.txt"), []byte("Không có gì ở đây. Quên mật khẩu?\n"), 0o644)
	os.WriteFile(filepath.Join(leaky, "ds.csv"), []byte("ho_ten,so_cccd\nNguyễn Văn An,001099000123\nTrần Thị Bình,079305000456\nLê Hoàng Cường,001085000789\n"), 0o644)
	os.WriteFile(filepath.Join(leaky, "bc.txt"), []byte("TUYỆT MẬT\nSố: 12/BC\n"), 0o644)
	os.WriteFile(filepath.Join(leaky, "app.env"), []byte("DB_PASSWORD=S3cr3t!x9\n"), 0o644)
	cfg := filepath.Join(dir, "mask.yaml")
	os.WriteFile(cfg, []byte("columns:\n  so_cccd: citizen_id\n  ho_ten: name\n"), 0o644)
	env := map[string]string{"KHIEN_MASK_KEY": "a masking key of 32 bytes......", "KHIEN_DATA_KEY": "an evidence key, 16 bytes or more"}

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no subcommand", []string{"data"}, ExitUsage, "", "Usage: khien data scan"},
		{"unknown subcommand", []string{"data", "wipe"}, ExitUsage, "", `unknown subcommand "wipe"`},
		{"scan without path", []string{"data", "scan"}, ExitUsage, "", "exactly one PATH"},
		{"scan bad format", []string{"data", "scan", "--format", "xml", clean}, ExitUsage, "", "--format must be"},
		{"scan bad class", []string{"data", "scan", "--only", "gold", clean}, ExitUsage, "", `"gold" is not one of`},
		{"scan missing path", []string{"data", "scan", filepath.Join(dir, "nope")}, ExitUsage, "", "cannot read"},
		{"scan clean", []string{"data", "scan", clean}, ExitOK, "0 vị trí vượt ngưỡng", ""},
		{"scan leaky", []string{"data", "scan", "--lang", "en", leaky}, ExitBlocked, "vn.citizen_id", ""},
		{"scan secrets only", []string{"data", "scan", "--only", "secret", "--format", "sarif", leaky}, ExitBlocked, `"ruleId": "secret.password"`, ""},
		{"mask without config", []string{"data", "mask", "a", "b"}, ExitUsage, "", "--config is required"},
		{"mask one arg", []string{"data", "mask", "--config", cfg, "a"}, ExitUsage, "", "IN and OUT"},
		{"mask", []string{"data", "mask", "--config", cfg, filepath.Join(leaky, "ds.csv"), filepath.Join(dir, "ds.masked.csv")}, ExitOK, "so_cccd", ""},
		{"mask missing input", []string{"data", "mask", "--config", cfg, filepath.Join(dir, "nope.csv"), filepath.Join(dir, "x.csv")}, ExitUsage, "", "cannot read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, env, tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("khien %s = %d\nstdout: %s\nstderr: %s\nwant %d, stdout ∋ %q, stderr ∋ %q",
					strings.Join(tt.args, " "), code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}

	// The JSON form scripts depend on: location, detector, count, confidence, masked sample.
	code, stdout, _ := run(t, env, "data", "scan", "--format", "json", leaky)
	if code != ExitBlocked {
		t.Fatalf("exit %d", code)
	}
	var rep struct {
		Places []struct {
			Location   string  `json:"location"`
			Detector   string  `json:"detector"`
			Count      int     `json:"count"`
			Confidence float64 `json:"confidence"`
			Sample     string  `json:"sample"`
		} `json:"places"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range rep.Places {
		got[p.Detector] = filepath.Base(p.Location)
		if p.Count < 1 || p.Confidence <= 0 || p.Sample == "" || strings.Contains(p.Sample, "001099000123") || strings.Contains(p.Sample, "S3cr3t") {
			t.Errorf("place %+v", p)
		}
	}
	for id, loc := range map[string]string{"vn.citizen_id": "ds.csv:2", "marking.tuyet_mat": "bc.txt:1", "secret.password": "app.env:1", "vn.full_name": "ds.csv:2"} {
		if got[id] != loc {
			t.Errorf("%s at %q, want %q (all: %v)", id, got[id], loc, got)
		}
	}
	masked, _ := os.ReadFile(filepath.Join(dir, "ds.masked.csv"))
	if strings.Contains(string(masked), "001099000123") || strings.Contains(string(masked), "Nguyễn Văn An") {
		t.Errorf("masked file holds an original value:\n%s", masked)
	}
}
