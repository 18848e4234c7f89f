package detect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The comparison with gitleaks (bench/data-compare.sh) uses two tests that run only when asked:
// TestWriteBenchCorpus writes the mixed corpus of the labelled generator to a directory with a
// manifest of the planted credentials, and TestCompareGitleaks measures, per detector, how many
// of them Khiên's secret detectors and a gitleaks JSON report find (a planted value counts as
// found by a tool that reports something on its line of its file).

type manifestEntry struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Detector string `json:"detector"`
}

func TestWriteBenchCorpus(t *testing.T) {
	dir, manifest := os.Getenv("KHIEN_CORPUS_DIR"), os.Getenv("KHIEN_CORPUS_MANIFEST")
	if dir == "" || manifest == "" {
		t.Skip("set KHIEN_CORPUS_DIR and KHIEN_CORPUS_MANIFEST (and KHIEN_CORPUS_MB) to write the benchmark corpus")
	}
	mb := 1024
	if v := os.Getenv("KHIEN_CORPUS_MB"); v != "" {
		mb, _ = strconv.Atoi(v)
	}
	const fileSize = 4 << 20
	mf, err := os.Create(manifest)
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	w := bufio.NewWriter(mf)
	exts := []string{".txt", ".log", ".env", ".yaml", ".json", ".sql", ".md", ".conf"}
	var total int
	for i := 0; total < mb<<20; i++ {
		c := genLabelled(uint64(1000+i), fileSize, 0.05, 0.05)
		name := filepath.Join(fmt.Sprintf("d%02d", i%16), fmt.Sprintf("f%04d%s", i, exts[i%len(exts)]))
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, c.text, 0o644); err != nil {
			t.Fatal(err)
		}
		lines := lineCounter{b: c.text}
		sort.Slice(c.plants, func(a, b int) bool { return c.plants[a].off < c.plants[b].off })
		for _, pl := range c.plants {
			if ClassOf(pl.id) != ClassSecret {
				continue
			}
			b, _ := json.Marshal(manifestEntry{File: name, Line: lines.at(pl.off), Detector: pl.id})
			w.Write(append(b, '\n'))
		}
		total += len(c.text)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d MB to %s", total>>20, dir)
}

func TestCompareGitleaks(t *testing.T) {
	dir, manifest, report := os.Getenv("KHIEN_CORPUS_DIR"), os.Getenv("KHIEN_CORPUS_MANIFEST"), os.Getenv("KHIEN_GITLEAKS_REPORT")
	if dir == "" || manifest == "" || report == "" {
		t.Skip("set KHIEN_CORPUS_DIR, KHIEN_CORPUS_MANIFEST and KHIEN_GITLEAKS_REPORT to compare with gitleaks")
	}
	mb, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		file string
		line int
	}
	planted := map[key][]string{}
	perDetector := map[string]int{}
	files := map[string]bool{}
	for _, l := range bytes.Split(bytes.TrimSpace(mb), []byte{'\n'}) {
		var e manifestEntry
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatal(err)
		}
		planted[key{e.File, e.Line}] = append(planted[key{e.File, e.Line}], e.Detector)
		perDetector[e.Detector]++
		files[e.File] = true
	}
	// gitleaks: a finding on the line of a planted value finds it.
	rb, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var leaks []struct {
		File      string
		StartLine int
		RuleID    string
	}
	if err := json.Unmarshal(rb, &leaks); err != nil {
		t.Fatal(err)
	}
	glLines := map[key]bool{}
	for _, l := range leaks {
		rel, err := filepath.Rel(dir, l.File)
		if err != nil || strings.HasPrefix(rel, "..") {
			rel = strings.TrimPrefix(l.File, dir+"/")
		}
		glLines[key{rel, l.StartLine}] = true
	}
	// Khiên: the secret detectors at the reporting threshold of a data scan (confidence ≥ 0.5).
	khLines := map[key]bool{}
	var khFalse int
	for f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range Secrets() {
			d.Find(b, func(m Match) {
				if m.Confidence < 0.5 {
					return
				}
				k := key{f, m.Line}
				khLines[k] = true
				if _, ok := planted[k]; !ok {
					khFalse++
				}
			})
		}
	}
	glFound, khFound := map[string]int{}, map[string]int{}
	var glTotal, khTotal, all int
	for k, ids := range planted {
		for _, id := range ids {
			all++
			if glLines[k] {
				glFound[id]++
				glTotal++
			}
			if khLines[k] {
				khFound[id]++
				khTotal++
			}
		}
	}
	var glFalse int
	for k := range glLines {
		if _, ok := planted[k]; !ok {
			glFalse++
		}
	}
	ids := make([]string, 0, len(perDetector))
	for id := range perDetector {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out strings.Builder
	fmt.Fprintf(&out, "| detector | planted | Khiên found | gitleaks found |\n|---|---:|---:|---:|\n")
	for _, id := range ids {
		fmt.Fprintf(&out, "| %s | %d | %d (%.1f %%) | %d (%.1f %%) |\n", id, perDetector[id],
			khFound[id], 100*float64(khFound[id])/float64(perDetector[id]), glFound[id], 100*float64(glFound[id])/float64(perDetector[id]))
	}
	fmt.Fprintf(&out, "| **all secrets** | %d | %d (%.2f %%) | %d (%.2f %%) |\n", all, khTotal, 100*float64(khTotal)/float64(all), glTotal, 100*float64(glTotal)/float64(all))
	fmt.Fprintf(&out, "\nLines reported that hold no planted secret (decoys and prose): Khiên %d, gitleaks %d.\n", khFalse, glFalse)
	t.Log("\n" + out.String())
	if p := os.Getenv("KHIEN_COMPARE_OUT"); p != "" {
		os.WriteFile(p, []byte(out.String()), 0o644)
	}
	if khTotal < glTotal {
		t.Errorf("Khiên found %d planted secrets, gitleaks %d: want equal or better recall", khTotal, glTotal)
	}
}
