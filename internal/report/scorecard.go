package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/index"
)

// Scorecard is the yearly scorecard of one organization: one page for its leader (the index
// and grade, the trend over the year, the rank among peers, the pillars, the systems, the open
// serious findings, the exceptions in force and the five actions that raise the index most)
// and annexes for its security officer. Build it from stored facts; WritePDF and WriteHTML
// render the same content.
type Scorecard struct {
	Org, Name        string
	Head, HeadTitle  string
	Year             int
	AsOf             time.Time
	Method           string
	Tenths           int
	Grade            index.Grade
	GradeVI, GradeEN string
	Rank, Peers      int
	Verified         bool // the latest stored snapshot recomputed exactly
	Trend            []TrendPoint
	Pillars          []index.PillarScore
	Systems          []ScorecardSystem
	Children         []ScorecardChild
	Findings         []ScorecardFinding // open critical and high findings of the subtree
	Exceptions       []ScorecardException
	Actions          []index.Action
	Caps             []index.Cap
	Deadlines        []index.Deadline
	Removed          []index.RemovedSystem
	Counts           index.Counts
	Explanation      []string // Vietnamese
}

// TrendPoint is one stored day of the year.
type TrendPoint struct {
	Day    time.Time
	Tenths int
}

// ScorecardSystem is one system of the subtree.
type ScorecardSystem struct {
	ID, Name, Org string
	Level         int
	Stage         string
	Counts        bool // in build, test or operation: it counts in the index
	Tenths        int
	GradeVI       string
	OpenCritical  int
	OpenHigh      int
	ControlsMet   int
	ControlsReq   int
}

// ScorecardChild is one organization directly under the scorecard's.
type ScorecardChild struct {
	Org, Name string
	Tenths    int
	GradeVI   string
	Rank      int
}

// ScorecardFinding is an open critical or high finding.
type ScorecardFinding struct {
	System, Resource, Check, Severity string
	AgeDays                           int
	Overdue                           bool
}

// ScorecardException is a gate exception in force.
type ScorecardException struct {
	ID, System, Reasons, Approver string
	Expires                       time.Time
}

// Limits keep each page of the PDF to one sheet; what is left out is counted.
const (
	leaderSystems  = 12
	leaderFindings = 6
	annexRows      = 34
)

// Fig writes a number of tenths with a decimal comma, as Vietnamese documents do: 64,5.
func Fig(tenths int) string {
	return strings.Replace(strconv.FormatFloat(float64(tenths)/10, 'f', 1, 64), ".", ",", 1)
}

func pillarVI(p index.Pillar) string {
	return map[index.Pillar]string{index.PillarLegal: "Pháp lý – tuân thủ", index.PillarTechnical: "Kỹ thuật",
		index.PillarOrganizational: "Tổ chức", index.PillarCapacity: "Năng lực", index.PillarCooperation: "Phối hợp"}[p]
}

func sevVI(s string) string {
	switch s {
	case "critical":
		return "Nghiêm trọng"
	case "high":
		return "Cao"
	}
	return s
}

func day(t time.Time) string { return t.UTC().Format("02/01/2006") }

//go:embed scorecard.html.tmpl
var scorecardHTML string

var scorecardTmpl = template.Must(template.New("scorecard").Funcs(template.FuncMap{
	"fig": Fig, "pillar": pillarVI, "sev": sevVI, "day": day,
	"pts": func(x float64) string { return Fig(index.Tenths(x)) },
	"bar": func(x float64) string { return strconv.FormatFloat(x*5, 'f', 1, 64) }, // 20 points → 100 %
	"first": func(n int, xs any) any {
		switch v := xs.(type) {
		case []index.Action:
			return v[:min(n, len(v))]
		case []ScorecardSystem:
			return v[:min(n, len(v))]
		case []ScorecardFinding:
			return v[:min(n, len(v))]
		}
		return xs
	},
	"trend": trendSVG,
}).Parse(scorecardHTML))

// WriteHTML writes the scorecard as one standalone HTML file.
func WriteHTML(w io.Writer, sc Scorecard) error { return scorecardTmpl.Execute(w, sc) }

// trendSVG draws the year's trend as an SVG polyline, 0–100 vertically, the year horizontally.
func trendSVG(sc Scorecard) template.HTML {
	const wd, ht = 600.0, 160.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %.0f %.0f" width="100%%" role="img" aria-label="Diễn biến chỉ số năm %d">`, wd, ht+20, sc.Year)
	for _, g := range []int{50, 75, 90} {
		y := ht - float64(g)/100*ht
		fmt.Fprintf(&b, `<line x1="0" x2="%.0f" y1="%.1f" y2="%.1f" class="grid"/><text x="2" y="%.1f" class="axis">%d</text>`, wd, y, y, y-2, g)
	}
	start := time.Date(sc.Year, 1, 1, 0, 0, 0, 0, time.UTC)
	var pts []string
	for _, p := range sc.Trend {
		x := p.Day.Sub(start).Hours() / 24 / 365 * wd
		y := ht - float64(p.Tenths)/1000*ht
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" class="pt"/>`, x, y)
	}
	if len(pts) > 1 {
		fmt.Fprintf(&b, `<polyline points="%s" class="line"/>`, strings.Join(pts, " "))
	}
	for m := 1; m <= 12; m++ {
		x := time.Date(sc.Year, time.Month(m), 1, 0, 0, 0, 0, time.UTC).Sub(start).Hours() / 24 / 365 * wd
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" class="axis">T%d</text>`, x+2, ht+14, m)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
