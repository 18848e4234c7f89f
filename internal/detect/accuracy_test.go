package detect

import (
	"strings"
	"testing"
)

// TestAccuracy plants synthetic values and decoys and measures, per detector, how many
// planted values are found (recall) and how many matches are planted values (precision).
func TestAccuracy(t *testing.T) {
	c := genCorpus(1, 1<<20, 0.3, 0.3)
	opts := Options{}.withDefaults()
	for _, d := range Default(testNow) {
		t.Run(d.ID(), func(t *testing.T) {
			want := map[int]int{} // offset → end
			for _, p := range c.plants {
				if p.id == d.ID() {
					want[p.off] = p.end
				}
			}
			var tp, fp int
			var falses []string
			d.Find(c.text, func(m Match) {
				if m.Confidence < opts.MinConfidence {
					return
				}
				if end, ok := want[m.Offset]; ok && end == m.Offset+m.Len {
					tp++
					delete(want, m.Offset)
					return
				}
				fp++
				if len(falses) < 5 {
					falses = append(falses, lineAround(c.text, m.Offset))
				}
			})
			var missed []string
			for off := range want {
				if len(missed) < 5 {
					missed = append(missed, lineAround(c.text, off))
				}
			}
			planted := tp + len(want)
			if planted < 100 {
				t.Fatalf("only %d values planted; the corpus is too small to measure", planted)
			}
			recall := float64(tp) / float64(planted)
			precision := float64(tp) / float64(max(1, tp+fp))
			if fp > 0 {
				t.Logf("false e.g. %q", falses)
			}
			t.Logf("%s: planted %d, found %d, false %d: recall %.4f precision %.4f", d.ID(), planted, tp, fp, recall, precision)
			if recall < 0.98 {
				t.Errorf("%s recall %.4f < 0.98; missed e.g. %q", d.ID(), recall, missed)
			}
			if precision < 0.98 {
				t.Errorf("%s precision %.4f < 0.98; false matches e.g. %q", d.ID(), precision, falses)
			}
		})
	}
}

func lineAround(b []byte, off int) string {
	s := strings.LastIndexByte(string(b[:off]), '\n') + 1
	e := strings.IndexByte(string(b[off:]), '\n')
	if e < 0 {
		e = len(b) - off
	}
	return string(b[s : off+e])
}
