package app

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/data"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/queue/queuetest"
)

// fileLocationInventory registers, under a test-stage system, a file location inside the data
// root, one outside it, and a database (which stays an active probe: assigned is not enough).
const fileLocationInventory = `version: 1
organizations:
  - {code: T, name: Sở thử nghiệm, level: department}
systems:
  - id: t-uat
    org: T
    name: Hồ sơ một cửa (UAT)
    purpose: Môi trường kiểm thử
    level: 2
    stage: test
    resources:
      - {id: "file:ROOT/share/ho-so/", scope: assigned, scope_reason: "Thư mục chia sẻ của hệ thống, Quyết định 1/QĐ"}
      - {id: "file:ROOT/outside", scope: assigned, scope_reason: "Ngoài thư mục gốc dữ liệu"}
      - {id: "db:postgres://127.0.0.1:1/hoso", scope: assigned, scope_reason: "Cơ sở dữ liệu thử nghiệm"}
`

// TestFileLocationThroughAssess scans a registered file location the way the server does —
// assessment service, scanner, guard, data-security family, store — and reads back the
// results and findings, on SQLite and on PostgreSQL (KHIEN_TEST_POSTGRES). The values planted
// are synthetic (valid structure, nobody's).
func TestFileLocationThroughAssess(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "khien.db")
			if backend == "postgres" {
				dsn = queuetest.Postgres(t)
			}
			base := t.TempDir()
			for name, content := range map[string]string{
				"share/ho-so/cong-dan.csv": "ho_ten,so_cccd,so_dien_thoai\nNguyễn Văn An,001099000123,0901234567\nTrần Thị Bình,079305000456,0912345678\nLê Văn Cường,001085000789,0387654321\n",
				"share/ho-so/bao-cao.txt":  "TUYỆT MẬT\n\nBáo cáo tổng hợp\n",
				"outside/secret.txt":       "TỐI MẬT\nSố CCCD: 001099000123\n",
			} {
				p := filepath.Join(base, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink(filepath.Join(base, "outside", "secret.txt"), filepath.Join(base, "share", "ho-so", "link")); err != nil {
				t.Fatal(err)
			}
			roots, err := data.NewRoots(filepath.Join(base, "share"))
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			a, err := Open(ctx, Config{DB: dsn, Net: Net{Families: FamilyOptions{DataRoots: roots, DataKey: []byte("test key of sixteen bytes")}}},
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			inv := strings.ReplaceAll(fileLocationInventory, "ROOT", base)
			if _, err := a.Inventory.Import(ctx, "inv.yaml", strings.NewReader(inv), inventory.FormatYAML); err != nil {
				t.Fatal(err)
			}
			in := "file:" + base + "/share/ho-so"
			if _, err := a.Inventory.Resource(ctx, in); err != nil {
				t.Fatalf("the location was not registered under its normalized id: %v", err)
			}

			want := map[string]map[string]check.Status{
				in:                               {data.CheckTestEnvRealData: check.Fail, data.CheckClassifiedMisplaced: check.Fail},
				"file:" + base + "/outside":      {data.CheckTestEnvRealData: check.Error, data.CheckClassifiedMisplaced: check.Error},
				"db:postgres://127.0.0.1:1/hoso": {data.CheckTestEnvRealData: check.Error, data.CheckClassifiedMisplaced: check.Error},
			}
			for id, checks := range want {
				sum, err := a.Assess.AssessResource(ctx, id, assess.TriggerManual)
				if err != nil {
					t.Fatalf("assess %s: %v", id, err)
				}
				results, err := a.Assess.RunResults(ctx, sum.ID)
				if err != nil {
					t.Fatal(err)
				}
				if len(results) != len(checks) {
					t.Errorf("%s: %d results, want %d: %+v", id, len(results), len(checks), results)
				}
				for _, r := range results {
					if r.Status != checks[r.Check] {
						t.Errorf("%s %s = %s (%s), want %s", id, r.Check, r.Status, r.Reason.EN, checks[r.Check])
					}
					for _, s := range []string{"001099000123", "0901234567", "TỐI MẬT", "link"} {
						if strings.Contains(r.Reason.EN+r.Reason.VI+evidenceText(r), s) {
							t.Errorf("%s %s: %q in the result: a full value, or the file behind a link out", id, r.Check, s)
						}
					}
					switch {
					case id == in && r.Status == check.Fail && !strings.Contains(evidenceText(r), `"location":"cong-dan.csv:2"`) && r.Check == data.CheckTestEnvRealData:
						t.Errorf("%s: evidence %s lacks the place relative to the location", r.Check, evidenceText(r))
					case strings.HasSuffix(id, "/outside") && !strings.Contains(r.Reason.EN, "outside every allowed data root"):
						t.Errorf("%s outside the roots: %q", r.Check, r.Reason.EN)
					case strings.HasPrefix(id, "db:") && !strings.Contains(r.Reason.EN, "not verified"):
						t.Errorf("db: resource assigned but not verified was not refused by the guard: %q", r.Reason.EN)
					}
				}
			}
			fs, _, err := a.Assess.Findings(ctx, assess.FindingFilter{Resource: in, At: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			open := map[string]bool{}
			for _, f := range fs {
				open[f.Check] = true
			}
			if !open[data.CheckTestEnvRealData] || !open[data.CheckClassifiedMisplaced] {
				t.Errorf("findings of %s: %+v, want both data-security checks", in, fs)
			}
		})
	}
}

func evidenceText(r check.Result) string {
	b, _ := json.Marshal(r.Evidence)
	return string(b)
}
