package detect

import (
	"sync"
	"testing"
)

// benchCorpus is 4 MB of mostly prose with planted values and decoys (5 % of lines each),
// generated once.
var benchCorpus = sync.OnceValue(func() []byte { return genCorpus(42, 4<<20, 0.05, 0.05).text })

func benchDetect(b *testing.B, id string) {
	text := benchCorpus()
	d := detector(b, id)
	n := 0
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		d.Find(text, func(Match) { n++ })
	}
	b.ReportMetric(float64(n)/float64(b.N), "matches/op")
}

func BenchmarkDetectCitizenID(b *testing.B)  { benchDetect(b, CitizenID) }
func BenchmarkDetectOldID(b *testing.B)      { benchDetect(b, OldID) }
func BenchmarkDetectPhone(b *testing.B)      { benchDetect(b, Phone) }
func BenchmarkDetectTaxCode(b *testing.B)    { benchDetect(b, TaxCode) }
func BenchmarkDetectMarkMat(b *testing.B)    { benchDetect(b, MarkMat) }
func BenchmarkDetectMarkToiMat(b *testing.B) { benchDetect(b, MarkToiMat) }
func BenchmarkDetectMarkTuyet(b *testing.B)  { benchDetect(b, MarkTuyet) }

// BenchmarkScan runs every detector and the counting, as the data family does on each page.
func BenchmarkScan(b *testing.B) {
	text := benchCorpus()
	ds := Default(testNow)
	opts := Options{Key: []byte("bench")}
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		Scan(text, ds, opts)
	}
}
