// Package report renders domain values for people and tools: scan results as a table, as
// JSON for scripts and as SARIF 2.1.0 for code-scanning tools. Renderers take values and a
// writer; they do no I/O of their own and hold no state.
package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/khien-vn/khien/internal/check"
)

// Scan is one scan's results with what is needed to render them.
type Scan struct {
	Results  []check.Result
	Catalog  *check.Catalog
	Started  time.Time
	Finished time.Time
	Targets  int
	Version  string // of khien, for SARIF
}

type jsonFinding struct {
	Check       string         `json:"check"`
	Resource    string         `json:"resource"`
	Endpoint    string         `json:"endpoint"`
	Result      check.Status   `json:"result"`
	Severity    check.Severity `json:"severity"`
	Title       check.Text     `json:"title"`
	Reason      check.Text     `json:"reason"`
	Remediation *check.Text    `json:"remediation,omitempty"`
	Evidence    map[string]any `json:"evidence"`
	At          time.Time      `json:"at"`
}

// Summary counts a scan's results.
type Summary struct {
	Targets       int                    `json:"targets"`
	Checks        int                    `json:"checks"`
	ByResult      map[check.Status]int   `json:"by_result"`
	FailsBySev    map[check.Severity]int `json:"failures_by_severity"`
	Started       time.Time              `json:"started"`
	Finished      time.Time              `json:"finished"`
	DurationSecs  float64                `json:"duration_seconds"`
	WorstSeverity check.Severity         `json:"worst_failure_severity,omitempty"`
}

// Summarize counts s's results by verdict and failures by severity.
func Summarize(s Scan) Summary {
	sum := Summary{
		Targets: s.Targets, Checks: len(s.Results),
		ByResult:   map[check.Status]int{check.Pass: 0, check.Fail: 0, check.Error: 0, check.NotApplicable: 0},
		FailsBySev: map[check.Severity]int{},
		Started:    s.Started.UTC(), Finished: s.Finished.UTC(),
		DurationSecs: s.Finished.Sub(s.Started).Seconds(),
	}
	for _, r := range s.Results {
		sum.ByResult[r.Status]++
		if r.Status != check.Fail {
			continue
		}
		sev := severity(s.Catalog, r.Check)
		sum.FailsBySev[sev]++
		if sev.Rank() > sum.WorstSeverity.Rank() {
			sum.WorstSeverity = sev
		}
	}
	return sum
}

// FailuresAtOrAbove counts failing results whose severity ranks at least min.
func FailuresAtOrAbove(s Scan, min check.Severity) int {
	n := 0
	for _, r := range s.Results {
		if r.Status == check.Fail && severity(s.Catalog, r.Check).Rank() >= min.Rank() {
			n++
		}
	}
	return n
}

func severity(c *check.Catalog, id string) check.Severity {
	if d, ok := c.Def(id); ok {
		return d.Severity
	}
	return check.Info
}

// WriteJSON writes {"findings":[…],"summary":{…}} with every result, failing or not. Findings
// are encoded one at a time, so a scan of thousands of hosts never holds its whole report in
// memory twice (the bytes are those of one json.Encoder with two-space indentation).
func WriteJSON(w io.Writer, s Scan) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("{\n  \"findings\": [")
	for i, r := range s.Results {
		b, err := json.MarshalIndent(newJSONFinding(s.Catalog, r), "    ", "  ")
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		bw.Write(b)
	}
	if len(s.Results) > 0 {
		bw.WriteString("\n  ")
	}
	b, err := json.MarshalIndent(Summarize(s), "  ", "  ")
	if err != nil {
		return err
	}
	bw.WriteString("],\n  \"summary\": ")
	bw.Write(b)
	bw.WriteString("\n}\n")
	return bw.Flush()
}

func newJSONFinding(c *check.Catalog, r check.Result) jsonFinding {
	f := jsonFinding{Check: r.Check, Resource: r.Resource, Endpoint: r.Endpoint, Result: r.Status,
		Severity: severity(c, r.Check), Reason: r.Reason, Evidence: r.Evidence, At: r.At.UTC()}
	if d, ok := c.Def(r.Check); ok {
		f.Title = d.Title
		if r.Status == check.Fail {
			rem := d.Remediation
			f.Remediation = &rem
		}
	}
	if f.Evidence == nil {
		f.Evidence = map[string]any{}
	}
	return f
}

// WriteTable writes one line per result that is not a pass, worst first, then the summary.
// lang is "vi" (default) or "en".
func WriteTable(w io.Writer, s Scan, lang string) error {
	rs := slices.Clone(s.Results)
	rank := func(r check.Result) int {
		switch r.Status {
		case check.Fail:
			return 100 + severity(s.Catalog, r.Check).Rank()
		case check.Error:
			return 50
		}
		return 0
	}
	slices.SortStableFunc(rs, func(a, b check.Result) int { return rank(b) - rank(a) })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "KẾT QUẢ\tMỨC ĐỘ\tKIỂM TRA\tTÀI NGUYÊN\tLÝ DO"
	if lang == "en" {
		head = "RESULT\tSEVERITY\tCHECK\tRESOURCE\tREASON"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rs {
		if r.Status == check.Pass || r.Status == check.NotApplicable {
			continue
		}
		reason := r.Reason.VI
		if lang == "en" || reason == "" {
			reason = r.Reason.EN
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Status, severity(s.Catalog, r.Check), r.Check, r.Resource, oneLine(reason, 100))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	sum := Summarize(s)
	if lang == "en" {
		_, err := fmt.Fprintf(w, "\n%d targets, %d checks: %d pass, %d fail, %d error, %d not applicable in %.1f s\n",
			sum.Targets, sum.Checks, sum.ByResult[check.Pass], sum.ByResult[check.Fail], sum.ByResult[check.Error], sum.ByResult[check.NotApplicable], sum.DurationSecs)
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d mục tiêu, %d kiểm tra: %d đạt, %d không đạt, %d lỗi, %d không áp dụng trong %.1f giây\n",
		sum.Targets, sum.Checks, sum.ByResult[check.Pass], sum.ByResult[check.Fail], sum.ByResult[check.Error], sum.ByResult[check.NotApplicable], sum.DurationSecs)
	return err
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
