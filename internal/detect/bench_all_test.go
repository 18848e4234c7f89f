package detect

import (
	"sync"
	"testing"
)

// benchLabelled is 4 MB of the labelled corpus with 5 % planted lines and 5 % decoys: mostly
// prose, as files on a file server are.
var benchLabelled = sync.OnceValue(func() []byte { return genLabelled(42, 4<<20, 0.05, 0.05).text })

// BenchmarkDetector measures each detector of All alone, in MB/s of text.
func BenchmarkDetector(b *testing.B) {
	text := benchLabelled()
	for _, d := range All(testNow) {
		b.Run(d.ID(), func(b *testing.B) {
			n := 0
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				d.Find(text, func(Match) { n++ })
			}
			b.ReportMetric(float64(n)/float64(b.N), "matches/op")
		})
	}
}

// BenchmarkScanAll runs every detector with the counting, as a data scan does per file; the
// secret and personal subsets are what `khien data scan --only` runs.
func BenchmarkScanAll(b *testing.B) {
	text := benchLabelled()
	for _, c := range []struct {
		name string
		ds   []Detector
	}{
		{"all", All(testNow)},
		{"personal", Personal(testNow)},
		{"secrets", Secrets()},
		{"markings", Markings()},
	} {
		b.Run(c.name, func(b *testing.B) {
			opts := Options{Key: []byte("bench")}
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				Scan(text, c.ds, opts)
			}
		})
	}
}
