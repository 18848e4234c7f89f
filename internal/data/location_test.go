package data

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/detect"
	"github.com/khien-vn/khien/internal/inventory"
)

// stampedMemo is a synthetic document stamped as a state secret, with a labelled citizen ID
// of nobody (structure valid, number invented).
const stampedMemo = "TUYỆT MẬT\n\nBÁO CÁO\nSố CCCD: 001099000123\n"

// locationFixture builds, under a temporary directory:
//
//	share/                      the data root
//	share/ho-so/ds.csv          planted personal data
//	share/ho-so/sub/memo.txt    a stamped memo
//	share/ho-so/link-out        symbolic link to outside/secret.txt
//	share/ho-so/dir-out         symbolic link to outside/
//	share/export.csv            a single-file location
//	share/escape                symbolic link to outside/
//	share/dangling              symbolic link to /nonexistent outside
//	outside/secret.txt          planted data the scan must never read
func locationFixture(t *testing.T) (base, share string) {
	t.Helper()
	base = t.TempDir()
	share = filepath.Join(base, "share")
	writeFiles(t, base, map[string][]byte{
		"share/ho-so/ds.csv":       []byte(peopleCSV),
		"share/ho-so/sub/memo.txt": []byte(stampedMemo),
		"share/export.csv":         []byte(peopleCSV),
		"outside/secret.txt":       []byte(stampedMemo + "mật khẩu: Xk9#mQ2$vL7pR4wZ\n"),
	})
	for link, target := range map[string]string{
		"share/ho-so/link-out": "../../outside/secret.txt",
		"share/ho-so/dir-out":  "../../outside",
		"share/escape":         filepath.Join(base, "outside"),
		"share/dangling":       filepath.Join(base, "outside", "nothing-here"),
	} {
		if err := os.Symlink(target, filepath.Join(base, link)); err != nil {
			t.Fatal(err)
		}
	}
	return base, share
}

func TestNewRoots(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o600)
	tests := []struct {
		name string
		dirs []string
		want string // error substring; "" for success
	}{
		{"none", nil, ""},
		{"one, cleaned", []string{dir + "/./"}, ""},
		{"relative", []string{"share"}, `"share" is not an absolute path`},
		{"missing", []string{filepath.Join(dir, "missing")}, "cannot be read"},
		{"a file", []string{file}, "is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := NewRoots(tt.dirs...)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(tt.dirs) > 0 && !slices.Equal(rs.Dirs(), []string{dir}) {
					t.Errorf("Dirs() = %v, want [%s]", rs.Dirs(), dir)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewRoots(%v) = %v, want an error containing %q", tt.dirs, err, tt.want)
			}
		})
	}
}

// TestRootsScan is the file-system counterpart of the network scope guard: a location is
// read only under a data root, never through ".." or a symbolic link that leads out.
func TestRootsScan(t *testing.T) {
	base, share := locationFixture(t)
	roots, err := NewRoots(share)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewRoots(filepath.Join(base, "outside"), share)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		roots   Roots
		id      string
		refused string   // substring of the English refusal; "" when read
		places  []string // locations of reportable places
	}{
		{"directory", roots, "file:" + share + "/ho-so", "", []string{"ds.csv:2 " + detect.CitizenID, "ds.csv:2 " + detect.Phone, "ds.csv:2 vn.birth_date", "ds.csv:2 vn.full_name", "sub/memo.txt:1 " + detect.MarkTuyet, "sub/memo.txt:4 " + detect.CitizenID}},
		{"single file", roots, "file:" + share + "/export.csv", "", []string{"export.csv:2 " + detect.CitizenID, "export.csv:2 " + detect.Phone, "export.csv:2 vn.birth_date", "export.csv:2 vn.full_name"}},
		{"the root itself", roots, "file:" + share, "", []string{"export.csv:2 " + detect.CitizenID, "export.csv:2 " + detect.Phone, "export.csv:2 vn.birth_date", "export.csv:2 vn.full_name",
			"ho-so/ds.csv:2 " + detect.CitizenID, "ho-so/ds.csv:2 " + detect.Phone, "ho-so/ds.csv:2 vn.birth_date", "ho-so/ds.csv:2 vn.full_name", "ho-so/sub/memo.txt:1 " + detect.MarkTuyet, "ho-so/sub/memo.txt:4 " + detect.CitizenID}},
		{"no data roots", Roots{}, "file:" + share + "/ho-so", "start khien serve and khien worker with --data-root", nil},
		{"outside every root", roots, "file:" + base + "/outside", "is outside every allowed data root (" + share + ")", nil},
		{"a prefix is not a parent", roots, "file:" + share + "-old", "is outside every allowed data root", nil},
		{"climbs with ..", roots, "file:" + share + "/ho-so/../../outside", `is not a clean absolute path`, nil},
		{"relative", roots, "file:share/ho-so", `is not a clean absolute path`, nil},
		{"symbolic link out", roots, "file:" + share + "/escape", "leads out of the data root " + share + " through a symbolic link", nil},
		{"through a link out", roots, "file:" + share + "/escape/secret.txt", "through a symbolic link", nil},
		{"dangling link out", roots, "file:" + share + "/dangling", "through a symbolic link", nil},
		{"missing", roots, "file:" + share + "/nothing", "does not exist in the data root", nil},
		{"under a file", roots, "file:" + share + "/export.csv/x", "not a directory", nil},
		{"other root allows it", other, "file:" + base + "/outside/secret.txt", "", []string{"secret.txt:1 " + detect.MarkTuyet, "secret.txt:4 " + detect.CitizenID, "secret.txt:5 " + detect.SecretPassword}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, refused, err := tt.roots.Scan(t.Context(), inventory.Resource{ID: tt.id}, testOpts())
			if err != nil {
				t.Fatal(err)
			}
			if tt.refused != "" {
				if refused == nil || !strings.Contains(refused.EN, tt.refused) || refused.VI == "" || refused.VI == refused.EN {
					t.Fatalf("refused = %+v, want one containing %q in English and a Vietnamese text", refused, tt.refused)
				}
				for _, f := range []string{"no such file", "permission denied", "not a directory", "too many levels"} {
					if strings.Contains(refused.VI, f) {
						t.Errorf("the Vietnamese refusal carries the system's English %q: %s", f, refused.VI)
					}
				}
				if rep.Files != 0 || len(rep.Places) != 0 {
					t.Errorf("a refused location was read: %d files, %d places", rep.Files, len(rep.Places))
				}
				return
			}
			if refused != nil {
				t.Fatalf("refused: %s", refused.EN)
			}
			var got []string
			for _, p := range rep.Reportable() {
				got = append(got, p.Location+" "+p.Detector)
				if strings.Contains(p.Sample, "001099000123") || strings.Contains(p.Sample, "Xk9#mQ2$vL7pR4wZ") {
					t.Errorf("%s: sample %q holds a full value", p.Location, p.Sample)
				}
				if tt.roots.dirs[0] == share && (strings.Contains(p.Location, "secret") || strings.Contains(p.Location, "-out")) {
					t.Errorf("read through a symbolic link: %s", p.Location)
				}
			}
			slices.Sort(got)
			slices.Sort(tt.places)
			if !slices.Equal(got, tt.places) {
				t.Errorf("places = %v, want %v", got, tt.places)
			}
			if rep.Source != tt.id {
				t.Errorf("Source = %q, want %q", rep.Source, tt.id)
			}
		})
	}
}

// TestRootsScanSwappedLink replaces a scanned file by a symbolic link out of the root after
// it was listed, as an attacker racing the scan would: the os.Root refuses to follow it.
func TestRootsScanSwappedLink(t *testing.T) {
	base, share := locationFixture(t)
	root, err := os.OpenRoot(filepath.Join(share, "ho-so"))
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	target := filepath.Join(share, "ho-so", "ds.csv")
	os.Remove(target)
	if err := os.Symlink(filepath.Join(base, "outside", "secret.txt"), target); err != nil {
		t.Fatal(err)
	}
	places, skips, _ := scanFile(rootOpener(root), "ds.csv", "ds.csv", testOpts())
	if len(places) != 0 || len(skips) != 1 {
		t.Errorf("a file swapped for a link out was read: places %v, skips %v", places, skips)
	}
}

func TestFamilyFileLocation(t *testing.T) {
	_, share := locationFixture(t)
	roots, err := NewRoots(share)
	if err != nil {
		t.Fatal(err)
	}
	systems := map[string]inventory.System{
		"hn-test": {ID: "hn-test", Stage: inventory.StageTest},
		"hn-prod": {ID: "hn-prod", Stage: inventory.StageOperation},
	}
	f := Family(FamilyConfig{Roots: roots, Key: testOpts().Key, System: func(_ context.Context, id string) (inventory.System, error) {
		return systems[id], nil
	}})
	in := inventory.Resource{ID: "file:" + share + "/ho-so", System: "hn-test", Scope: inventory.ScopeAssigned}
	if !f.AppliesTo(in) || f.ActiveFor(in) || !f.ActiveFor(inventory.Resource{ID: "db:x"}) {
		t.Fatalf("AppliesTo %v, ActiveFor file %v, db %v; want a passive file location and an active database",
			f.AppliesTo(in), f.ActiveFor(in), f.ActiveFor(inventory.Resource{ID: "db:x"}))
	}
	tests := []struct {
		name             string
		r                inventory.Resource
		testEnv, classif check.Status
	}{
		{"test system", in, check.Fail, check.Fail},
		{"production system", inventory.Resource{ID: in.ID, System: "hn-prod"}, check.NotApplicable, check.Fail},
		{"outside the roots", inventory.Resource{ID: "file:/etc", System: "hn-test"}, check.Error, check.Error},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.Run(t.Context(), tt.r, check.Env{})
			if len(res) != 2 || res[0].Status != tt.testEnv || res[1].Status != tt.classif {
				t.Fatalf("results %+v, want %s and %s", res, tt.testEnv, tt.classif)
			}
			for _, r := range res {
				if r.Endpoint != tt.r.ID || r.Reason.VI == "" || r.Reason.EN == "" {
					t.Errorf("%s: endpoint %q, reason %+v", r.Check, r.Endpoint, r.Reason)
				}
				if r.Status == check.Error && !strings.Contains(r.Reason.EN, "outside every allowed data root") {
					t.Errorf("%s: error %q does not say why", r.Check, r.Reason.EN)
				}
			}
			if tt.testEnv == check.Fail {
				ps := res[0].Evidence["places"].([]placeEvidence)
				for _, p := range ps {
					if filepath.IsAbs(p.Location) || detect.ClassOf(p.Detector) == "" {
						t.Errorf("evidence place %+v: want a location relative to the registered path", p)
					}
				}
			}
		})
	}
}
