package data

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/detect"
	"github.com/khien-vn/khien/internal/inventory"
)

func place(id string, reportable bool) Place {
	return Place{Location: "cong_dan.so_cccd", Detector: id, Class: string(detect.ClassOf(id)), Count: 5, Distinct: 5,
		Confidence: 0.95, Sample: "0010990*****", Hash: "00112233445566778899aabbccddeeff", Reportable: reportable}
}

func TestPolicy(t *testing.T) {
	test := inventory.System{ID: "hn-ho-so", Stage: inventory.StageTest}
	build := inventory.System{ID: "hn-ho-so", Stage: inventory.StageBuild}
	prod := inventory.System{ID: "hn-ho-so", Stage: inventory.StageOperation}
	staging := inventory.System{ID: "hn-ho-so-staging", Stage: inventory.StageOperation}
	cleared := inventory.System{ID: "bc-mat", Stage: inventory.StageOperation, DataClasses: []inventory.DataClass{inventory.DataStateSecret}}
	tests := []struct {
		name       string
		sys        inventory.System
		places     []Place
		testEnv    check.Status
		classified check.Status
	}{
		{"test system with personal data", test, []Place{place(detect.CitizenID, true)}, check.Fail, check.Pass},
		{"build system with a marking", build, []Place{place(detect.MarkMat, true)}, check.Fail, check.Fail},
		{"test system, below threshold", test, []Place{place(detect.Phone, false)}, check.Pass, check.Pass},
		{"test system with a secret only", test, []Place{place(detect.SecretPassword, true)}, check.Pass, check.Pass},
		{"test system with an internal marking", test, []Place{place(detect.MarkNoiBo, true)}, check.Fail, check.Pass},
		{"named staging", staging, []Place{place(detect.Email, true)}, check.Fail, check.Pass},
		{"production with personal data", prod, []Place{place(detect.CitizenID, true)}, check.NotApplicable, check.Pass},
		{"production with a marking", prod, []Place{place(detect.MarkTuyet, true)}, check.NotApplicable, check.Fail},
		{"cleared system with a marking", cleared, []Place{place(detect.MarkTuyet, true)}, check.NotApplicable, check.Pass},
		{"nothing found", test, nil, check.Pass, check.Pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Observation{Resource: "db:postgres://db.example.vn/hoso", System: tt.sys, Report: Report{Source: "postgres://db.example.vn/hoso", Tables: 1, Columns: 3, Places: tt.places}}
			res := Evaluate(o, testNow)
			if res[0].Check != CheckTestEnvRealData || res[0].Status != tt.testEnv {
				t.Errorf("%s = %s (%s), want %s", res[0].Check, res[0].Status, res[0].Reason.EN, tt.testEnv)
			}
			if res[1].Check != CheckClassifiedMisplaced || res[1].Status != tt.classified {
				t.Errorf("%s = %s (%s), want %s", res[1].Check, res[1].Status, res[1].Reason.EN, tt.classified)
			}
			for _, r := range res {
				if r.Resource != o.Resource || r.Reason.VI == "" || r.Reason.EN == "" || r.At.IsZero() {
					t.Errorf("incomplete result %+v", r)
				}
			}
		})
	}
}

func TestCatalogHasPolicyChecks(t *testing.T) {
	cat, err := check.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range Family(FamilyConfig{}).CheckIDs() {
		d, ok := cat.Def(id)
		if !ok || d.Severity != check.Critical {
			t.Errorf("%s: in catalog %v, severity %s; want critical", id, ok, d.Severity)
		}
	}
}

func TestFamilyWithoutInventory(t *testing.T) {
	res := Family(FamilyConfig{}).Run(t.Context(), inventory.Resource{ID: "db:postgres://db.example.vn/x"}, check.Env{})
	for _, r := range res {
		if r.Status != check.Error {
			t.Errorf("%s = %s without an inventory lookup, want error", r.Check, r.Status)
		}
	}
}

func TestScanLocationAndPassFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string][]byte{"ds.csv": []byte(peopleCSV)})
	res, err := ScanLocation(t.Context(), "host:agent-01", dir, inventory.System{ID: "s", Stage: inventory.StageTest}, testOpts())
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != check.Fail || res[0].Resource != "host:agent-01" {
		t.Errorf("ScanLocation: %+v", res[0])
	}
	pf := filepath.Join(dir, "pgpass")
	os.WriteFile(pf, []byte("# comment\ndb.example.vn:5432:hoso:reader:p\\:w\n*:*:*:any:x\n"), 0o600)
	creds, err := PassFile(pf)
	if err != nil {
		t.Fatal(err)
	}
	u, p, err := creds(context.Background(), "db:postgres://db.example.vn/hoso", ForScan)
	if err != nil || u != "reader" || p != "p:w" {
		t.Errorf("PassFile = %q %q %v", u, p, err)
	}
	if u, _, _ := creds(context.Background(), "db:mysql://other.vn/x", ForScan); u != "any" {
		t.Errorf("wildcard line not used: %q", u)
	}
	dsn, err := DatabaseURL(inventory.Resource{ID: "db:postgres://db.example.vn/hoso"}, "reader", "p:w")
	if err != nil || dsn != "postgres://reader:p%3Aw@db.example.vn/hoso" {
		t.Errorf("DatabaseURL = %q %v", dsn, err)
	}
	if _, err := DatabaseURL(inventory.Resource{ID: "db:hoso"}, "", ""); err == nil {
		t.Error("a db: name without a URL gave a DSN")
	}
}
