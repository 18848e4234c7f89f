// Package data is data discovery and test-data masking: it finds Vietnamese personal data,
// credentials and state-secret markings in files, archives, databases and crawled pages with
// the detectors of package detect, turns what it finds into findings of the data-security
// policy (real data in a test environment, classified material on a system not cleared for
// it), and copies CSV files, SQL dumps and PostgreSQL tables into masked copies for testing.
//
// Nothing it reports holds a value: a place found is a location (a file and line, or a
// table.column), a detector, counts, a confidence, and masked samples with keyed hashes that
// recognize the same value across places without storing it. Databases are sampled, never
// copied. The server runs the Family on inventory resources of kind db:, dialling through the
// scope guard, and of kind file:, reading them only under the operator's data Roots; an agent
// runs ScanLocation on a path it reads; the CLI runs Scan on a path or a database URL.
package data

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/detect"
)

// Options tunes a scan. Zero fields take the defaults.
type Options struct {
	// Key keys the evidence hashes. Scans that pass the same key recognize the same value
	// across files, tables and runs; without one a random key is drawn per scan.
	Key []byte
	// Detectors to run (default detect.All).
	Detectors []detect.Detector
	// Now gives the current time (default time.Now); it bounds plausible birth years.
	Now func() time.Time
	// All reports every detector that matched, not only those past the reporting threshold
	// (3 distinct values, one strong match, or one credential).
	All bool

	MaxFileSize  int64 // bytes read of one file or archive entry (default 256 MiB); larger ones are skipped
	MaxDepth     int   // archives inside archives (default 3)
	MaxExpanded  int64 // bytes expanded from one archive, all levels together (default 2 GiB)
	MaxEntries   int   // entries read from one archive (default 100,000)
	Workers      int   // files scanned at once (default GOMAXPROCS)
	SampleRows   int   // rows sampled per table of a database (default 1000)
	FollowHidden bool  // scan dot-files and dot-directories (.git is never scanned)

	// Progress, when set, is called with the bytes (files) or columns (databases) done and
	// the total, from one goroutine at a time.
	Progress func(done, total int64)
	// Dial connects to databases; nil uses a plain net.Dialer. The server passes the scope
	// guard's dialer so that a database is reached only within the resource's scope.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if len(o.Detectors) == 0 {
		o.Detectors = detect.All(o.Now())
	}
	if len(o.Key) == 0 {
		o.Key = make([]byte, 32)
		_, _ = rand.Read(o.Key) // crypto/rand.Read never fails
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = 256 << 20
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 3
	}
	if o.MaxExpanded <= 0 {
		o.MaxExpanded = 2 << 30
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = 100_000
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.SampleRows <= 0 {
		o.SampleRows = 1000
	}
	return o
}

// Place is one detector's findings in one place: a file (and the line of its first value),
// an archive entry, or a table column. It never holds a value.
type Place struct {
	Location   string  `json:"location"` // path:line, archive.zip!entry:line, or schema.table.column
	Path       string  `json:"path,omitempty"`
	Line       int     `json:"line,omitempty"`
	Table      string  `json:"table,omitempty"`
	Column     string  `json:"column,omitempty"`
	Detector   string  `json:"detector"`
	Class      string  `json:"class"`
	Count      int     `json:"count"`    // occurrences
	Distinct   int     `json:"distinct"` // distinct values, by keyed hash
	Confidence float64 `json:"confidence"`
	Sample     string  `json:"sample"` // masked
	Hash       string  `json:"hash"`   // keyed hash of the sample's value
	Lines      []int   `json:"lines,omitempty"`
	Rows       int     `json:"rows_sampled,omitempty"`
	Reportable bool    `json:"reportable"`
}

// Skip is a file or table the scan did not read, and why.
type Skip struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Report is the result of one scan.
type Report struct {
	Source   string    `json:"source"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Files    int       `json:"files,omitempty"`
	Bytes    int64     `json:"bytes"`
	Tables   int       `json:"tables,omitempty"`
	Columns  int       `json:"columns,omitempty"`
	Places   []Place   `json:"places"`
	Skipped  []Skip    `json:"skipped,omitempty"`
}

// Reportable returns the places past the reporting threshold.
func (r Report) Reportable() []Place {
	var out []Place
	for _, p := range r.Places {
		if p.Reportable {
			out = append(out, p)
		}
	}
	return out
}

// Classes returns the classes of the reportable places.
func (r Report) Classes() map[detect.Class]int {
	out := map[detect.Class]int{}
	for _, p := range r.Places {
		if p.Reportable {
			out[detect.Class(p.Class)]++
		}
	}
	return out
}

// reportable decides whether one detector's finding in one place is worth reporting: detect's
// threshold (3 distinct values, or one strong match), or one credential, or one internal
// marking that stands as a stamp.
func reportable(f detect.Finding) bool {
	switch detect.ClassOf(f.Detector) {
	case detect.ClassSecret:
		return f.MaxConfidence >= 0.8
	case detect.ClassInternal:
		return f.MaxConfidence >= 0.85
	}
	return f.Reportable
}

// placesOf turns the findings of one text into places.
func placesOf(rep detect.Report, all bool, mk func(f detect.Finding) Place) []Place {
	var out []Place
	for _, f := range rep.Findings {
		ok := reportable(f)
		if !ok && !all {
			continue
		}
		p := mk(f)
		p.Detector, p.Class = f.Detector, string(detect.ClassOf(f.Detector))
		p.Count, p.Distinct, p.Confidence, p.Reportable = f.Matches, f.Distinct, f.MaxConfidence, ok
		if len(f.Samples) > 0 {
			p.Sample, p.Hash = f.Samples[0].Masked, f.Samples[0].Hash
		}
		out = append(out, p)
	}
	return out
}

// sortPlaces orders places by location, then line, then detector.
func sortPlaces(ps []Place) {
	slices.SortStableFunc(ps, func(a, b Place) int {
		if c := cmp.Compare(a.Path+a.Table, b.Path+b.Table); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Line, b.Line); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Column, b.Column); c != 0 {
			return c
		}
		return cmp.Compare(a.Detector, b.Detector)
	})
}

// Scan scans source: a postgres:// or mysql:// URL, or a file or directory path.
func Scan(ctx context.Context, source string, opts Options) (Report, error) {
	switch {
	case strings.HasPrefix(source, "postgres://"), strings.HasPrefix(source, "postgresql://"):
		return ScanPostgres(ctx, source, opts)
	case strings.HasPrefix(source, "mysql://"):
		return ScanMySQL(ctx, source, opts)
	}
	return ScanPath(ctx, source, opts)
}

// location writes path:line, or path when there is no line.
func location(path string, line int) string {
	if line <= 0 {
		return path
	}
	return path + ":" + strconv.Itoa(line)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
