package assess

import (
	"slices"
	"time"

	"github.com/khien-vn/khien/internal/check"
)

// sortResults orders results as the catalog lists families and checks, so output is stable
// whatever order the families finished in.
func sortResults(rs []check.Result, families []check.Runner) {
	rank := map[string]int{}
	for _, f := range families {
		for _, id := range f.CheckIDs() {
			if _, ok := rank[id]; !ok {
				rank[id] = len(rank)
			}
		}
	}
	slices.SortStableFunc(rs, func(a, b check.Result) int {
		if d := rank[a.Check] - rank[b.Check]; d != 0 {
			return d
		}
		if a.Endpoint < b.Endpoint {
			return -1
		}
		if a.Endpoint > b.Endpoint {
			return 1
		}
		return 0
	})
}

func nowUTC(now func() time.Time) time.Time {
	if now == nil {
		return time.Now().UTC()
	}
	return now().UTC()
}
