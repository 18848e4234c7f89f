package detect

import (
	"fmt"
	"sort"
	"testing"
)

type tally struct{ planted, found, false_ int }

func (t tally) recall() float64    { return float64(t.found) / float64(max(1, t.planted)) }
func (t tally) precision() float64 { return float64(t.found) / float64(max(1, t.found+t.false_)) }

// measure runs ds over c and tallies, per detector, planted values found, missed and false
// matches (a match counts only if it covers a planted value of its detector exactly).
func measure(c corpus, ds []Detector, minConf float64) (map[string]*tally, map[string][]string) {
	out := map[string]*tally{}
	falses := map[string][]string{}
	for _, d := range ds {
		want := map[int]int{}
		for _, p := range c.plants {
			if p.id == d.ID() {
				want[p.off] = p.end
			}
		}
		t := &tally{planted: len(want)}
		out[d.ID()] = t
		d.Find(c.text, func(m Match) {
			if m.Confidence < minConf {
				return
			}
			if end, ok := want[m.Offset]; ok && end == m.Offset+m.Len {
				t.found++
				delete(want, m.Offset)
				return
			}
			t.false_++
			if len(falses[d.ID()]) < 5 {
				falses[d.ID()] = append(falses[d.ID()], "false: "+lineAround(c.text, m.Offset))
			}
		})
		for off := range want {
			if len(falses[d.ID()]) < 15 {
				falses[d.ID()] = append(falses[d.ID()], "missed: "+lineAround(c.text, off))
			}
		}
	}
	return out, falses
}

// TestLabelledAccuracy is the acceptance test of the detectors of All on the labelled corpus:
// recall and precision of at least 98 % per detector and per family (personal data, secrets,
// markings).
func TestLabelledAccuracy(t *testing.T) {
	c := genLabelled(2026, 3<<20, 0.35, 0.35)
	ds := All(testNow)
	tallies, notes := measure(c, ds, Options{}.withDefaults().MinConfidence)
	families := map[string]*tally{}
	ids := make([]string, 0, len(tallies))
	for id := range tallies {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		tl := tallies[id]
		fam := familyOf(id)
		if families[fam] == nil {
			families[fam] = &tally{}
		}
		f := families[fam]
		f.planted, f.found, f.false_ = f.planted+tl.planted, f.found+tl.found, f.false_+tl.false_
		t.Logf("%-26s planted %5d found %5d false %4d recall %.4f precision %.4f", id, tl.planted, tl.found, tl.false_, tl.recall(), tl.precision())
		if tl.planted < 40 {
			t.Errorf("%s: only %d values planted; the corpus is too small to measure it", id, tl.planted)
		}
		if tl.recall() < 0.98 || tl.precision() < 0.98 {
			t.Errorf("%s: recall %.4f precision %.4f, want ≥ 0.98 each; e.g. %q", id, tl.recall(), tl.precision(), notes[id])
		}
	}
	for _, fam := range []string{"personal", "secret", "marking"} {
		f := families[fam]
		if f == nil {
			t.Fatalf("no detector of family %s", fam)
		}
		t.Logf("family %-9s planted %6d found %6d false %4d recall %.4f precision %.4f", fam, f.planted, f.found, f.false_, f.recall(), f.precision())
		if f.recall() < 0.98 || f.precision() < 0.98 {
			t.Errorf("family %s: recall %.4f precision %.4f, want ≥ 0.98", fam, f.recall(), f.precision())
		}
	}
}

// familyOf groups a detector id into the three families the acceptance criteria name.
func familyOf(id string) string {
	switch ClassOf(id) {
	case ClassPersonal:
		return "personal"
	case ClassSecret:
		return "secret"
	case ClassStateSecret, ClassInternal:
		return "marking"
	}
	return fmt.Sprintf("unknown(%s)", id)
}
