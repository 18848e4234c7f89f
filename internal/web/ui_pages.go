package web

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/finding"
	"github.com/khien-vn/khien/internal/index"
	"github.com/khien-vn/khien/internal/inventory"
)

// treeRow is one node of the organization tree.
type treeRow struct {
	Org      index.OrgResult
	Trend    string // up, down, flat
	Covered  int    // resources assessed within their cadence
	Total    int    // resources
	Coverage int    // percent
}

// treeData is the home page.
type treeData struct {
	Rows     []treeRow
	Assessed bool // any resource was ever assessed
}

// coverage counts, for each organization, its subtree's resources and those fresh.
func coverage(res index.Result) map[string][2]int {
	parent := map[string]string{}
	for _, o := range res.Orgs {
		parent[o.Org] = o.Parent
	}
	out := map[string][2]int{}
	for _, s := range res.Systems {
		for _, r := range s.Resources {
			for o, seen := s.Org, 0; o != "" && seen < 64; o, seen = parent[o], seen+1 {
				c := out[o]
				c[1]++
				if r.State == "fresh" {
					c[0]++
				}
				out[o] = c
			}
		}
	}
	return out
}

// treeRows orders the result's organizations depth first, each with its trend and coverage.
func treeRows(now, before index.Result, under string) []treeRow {
	prev := map[string]int{}
	for _, o := range before.Orgs {
		prev[o.Org] = o.Tenths
	}
	cov := coverage(now)
	children := map[string][]index.OrgResult{}
	known := map[string]bool{}
	for _, o := range now.Orgs {
		known[o.Org] = true
	}
	var roots []index.OrgResult
	for _, o := range now.Orgs {
		if o.Parent == "" || !known[o.Parent] || o.Org == under {
			roots = append(roots, o)
			continue
		}
		children[o.Parent] = append(children[o.Parent], o)
	}
	var rows []treeRow
	var walk func(o index.OrgResult, depth int)
	walk = func(o index.OrgResult, depth int) {
		o.Depth = min(depth, 6)
		row := treeRow{Org: o, Trend: "flat", Covered: cov[o.Org][0], Total: cov[o.Org][1]}
		if t, ok := prev[o.Org]; ok && o.Tenths > t {
			row.Trend = "up"
		} else if ok && o.Tenths < t {
			row.Trend = "down"
		}
		if row.Total > 0 {
			row.Coverage = row.Covered * 100 / row.Total
		}
		rows = append(rows, row)
		for _, c := range children[o.Org] {
			walk(c, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return rows
}

// handleTree is the home page: the principal's organization tree.
func (p *pages) handleTree() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := p.now()
		f, err := p.loadFacts(r.Context(), "", now)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		res := f.compute(now)
		d := treeData{Rows: treeRows(res, f.compute(now.Add(-7*24*time.Hour)), ""), Assessed: len(f.assessed) > 0}
		p.render(w, r, http.StatusOK, "tree", newView(r, "tree.title", d))
	})
}

// sysRow is a system of an organization page.
type sysRow struct {
	System inventory.System
	Tenths int
	Gate   string
	Open   map[check.Severity]int
}

// orgData is an organization's page.
type orgData struct {
	Org      inventory.Organization
	Result   index.OrgResult
	Chart    chart
	Systems  []sysRow
	Ranking  []index.OrgResult
	Severity []check.Severity
}

// severities are the severities shown, worst first.
var severities = []check.Severity{check.Critical, check.High, check.Medium, check.Low}

// openBySystem counts the open (not accepted) findings of each system by severity.
func openBySystem(f *facts, now time.Time) map[string]map[check.Severity]int {
	sysOf := map[string]string{}
	for _, r := range f.resources {
		sysOf[r.ID] = r.System
	}
	out := map[string]map[check.Severity]int{}
	for _, fd := range f.findings {
		if !fd.Effective(now).IsOpen() {
			continue
		}
		s := sysOf[fd.Resource]
		if out[s] == nil {
			out[s] = map[check.Severity]int{}
		}
		out[s][fd.Severity]++
	}
	return out
}

// handleOrg is an organization's page.
func (p *pages) handleOrg() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, now, code := r.Context(), p.now(), r.PathValue("code")
		org, err := p.inv.Org(ctx, code)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		f, err := p.loadFacts(ctx, org.Code, now)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		res := f.compute(now)
		d := orgData{Org: org, Severity: severities}
		if o, ok := res.Org(org.Code); ok {
			d.Result = *o
		}
		var points []chartPoint
		for k := 11; k >= 1; k-- {
			at := now.Add(-time.Duration(k) * 7 * 24 * time.Hour)
			past := f.compute(at)
			if o, ok := past.Org(org.Code); ok {
				points = append(points, chartPoint{At: at, Value: o.Index})
			}
		}
		points = append(points, chartPoint{At: now, Value: d.Result.Index})
		d.Chart = newChart(points)
		open := openBySystem(f, now)
		for _, s := range f.systems {
			row := sysRow{System: s, Gate: f.gateStatus(s, p.controls, now), Open: open[s.ID]}
			if sr, ok := res.System(s.ID); ok {
				row.Tenths = sr.Tenths
			}
			d.Systems = append(d.Systems, row)
		}
		for _, o := range res.Orgs {
			if o.Org != org.Code {
				d.Ranking = append(d.Ranking, o)
			}
		}
		slices.SortStableFunc(d.Ranking, func(a, b index.OrgResult) int { return cmp.Compare(b.Tenths, a.Tenths) })
		p.render(w, r, http.StatusOK, "org", newView(r, "org.title", d))
	})
}

// familyGroup is a system's findings of one check family.
type familyGroup struct {
	Family   string
	Findings []findingRow
}

// findingRow is a finding with what the page shows of it.
type findingRow struct {
	F     finding.Finding
	Title check.Text
	Age   int
}

// systemData is a system's page.
type systemData struct {
	System    inventory.System
	Resources []inventory.Resource
	Assessed  map[string]time.Time
	Result    index.SystemResult
	Families  []familyGroup
	Gate      string
	// Decisions are the gate's recorded answers about the system, newest first: what was
	// asked, by whom, and why it was refused.
	Decisions []gateRow
	Tomorrow  string // the earliest expiry the accept form offers
	Default   string // its default: 90 days
	Latest    string // the latest: a year
	// Verify links each resource not yet verified to its ownership page (ui_verify.go),
	// escaped for a path: a resource identifier holds slashes.
	Verify map[string]string
}

func (p *pages) row(f finding.Finding, now time.Time) findingRow {
	fr := findingRow{F: f.Effective(now), Title: check.Text{VI: f.Check, EN: f.Check}}
	if p.catalog != nil {
		if d, ok := p.catalog.Def(f.Check); ok {
			fr.Title = d.Title
		}
	}
	if !f.FirstSeen.IsZero() {
		fr.Age = int(now.Sub(f.FirstSeen).Hours() / 24)
	}
	return fr
}

// gateRow is one recorded gate decision as the system page shows it.
type gateRow struct {
	At      string
	By      string
	Stage   inventory.Stage
	Allowed bool
	Reasons []check.Text
}

// handleSystem is a system's page.
func (p *pages) handleSystem() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, now := r.Context(), p.now()
		sys, err := p.inv.System(ctx, r.PathValue("id"))
		if err != nil {
			p.fail(w, r, err)
			return
		}
		f, err := p.loadFacts(ctx, sys.Org, now)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		d := systemData{System: sys, Assessed: f.assessed, Gate: f.gateStatus(sys, p.controls, now),
			Tomorrow: now.Add(24 * time.Hour).Format(time.DateOnly), Default: now.Add(90 * 24 * time.Hour).Format(time.DateOnly),
			Latest: now.Add(365 * 24 * time.Hour).Format(time.DateOnly)}
		d.Verify = map[string]string{}
		for _, res := range f.resources {
			if res.System == sys.ID {
				d.Resources = append(d.Resources, res)
				if res.Scope != inventory.ScopeVerified {
					d.Verify[res.ID] = verifyPath(res.ID)
				}
			}
		}
		if p.ix != nil {
			recs, err := p.ix.Decisions(ctx, sys.ID)
			if err != nil {
				p.fail(w, r, err)
				return
			}
			for i, rec := range recs {
				if i == 5 {
					break
				}
				g := gateRow{At: rec.Decision.AsOf.UTC().Format("2006-01-02 15:04"), By: rec.By, Stage: rec.Decision.Stage, Allowed: rec.Decision.Allowed}
				for _, reason := range rec.Decision.Reasons {
					g.Reasons = append(g.Reasons, check.Text{VI: reason.VI, EN: reason.EN})
				}
				d.Decisions = append(d.Decisions, g)
			}
		}
		res := f.compute(now)
		if sr, ok := res.System(sys.ID); ok {
			d.Result = *sr
		}
		if p.as != nil {
			fs, err := readAll(func(pg inventory.Page) ([]finding.Finding, int, error) {
				return p.as.Findings(ctx, assess.FindingFilter{System: sys.ID, At: now, Page: pg})
			})
			if err != nil {
				p.fail(w, r, err)
				return
			}
			byFamily := map[string][]findingRow{}
			for _, fd := range fs {
				fam, _, _ := strings.Cut(fd.Check, ".")
				byFamily[fam] = append(byFamily[fam], p.row(fd, now))
			}
			for _, fam := range slices.Sorted(mapsKeys(byFamily)) {
				d.Families = append(d.Families, familyGroup{Family: fam, Findings: byFamily[fam]})
			}
		}
		p.render(w, r, http.StatusOK, "system", newView(r, "system.title", d))
	})
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// handleScan assesses a system's in-scope resources now and comes back to its page.
func (p *pages) handleScan() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		back := "/systems/" + url.PathEscape(id)
		if p.as == nil {
			p.fail(w, r, unavailable("assessment"))
			return
		}
		if _, err := p.inv.System(r.Context(), id); err != nil {
			p.fail(w, r, err)
			return
		}
		if _, err := p.as.AssessSystem(r.Context(), id, assess.TriggerManual); err != nil {
			if errs.Is(err, errs.NotFound) {
				p.fail(w, r, err)
				return
			}
			p.log.InfoContext(r.Context(), "scan from the page refused", "system", id, "err", err)
			seeOther(w, r, back+"?e=scan")
			return
		}
		seeOther(w, r, back+"?done=scanned")
	})
}

// handleAccept records an accepted risk from the form on a system's page: a reason and an
// expiry date, approved by the signed-in user.
func (p *pages) handleAccept() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.as == nil {
			p.fail(w, r, unavailable("assessment"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		ctx, now, fp := r.Context(), p.now(), r.PathValue("fingerprint")
		back := localPath(r.PostFormValue("back"))
		pr, _ := auth.PrincipalFrom(ctx)
		reason := strings.TrimSpace(r.PostFormValue("reason"))
		day, err := time.ParseInLocation(time.DateOnly, r.PostFormValue("expires"), vietnamTime)
		expires := day.Add(24*time.Hour - time.Second).UTC() // the end of that day in Việt Nam
		if _, ferr := p.as.Finding(ctx, fp); ferr != nil {
			p.fail(w, r, ferr)
			return
		}
		if err != nil || reason == "" || !expires.After(now) || expires.After(now.Add(366*24*time.Hour)) {
			seeOther(w, r, withQuery(back, "e=accept"))
			return
		}
		if _, err := p.as.Accept(ctx, fp, pr.Actor(), reason, expires); err != nil {
			if errs.Is(err, errs.Invalid) {
				seeOther(w, r, withQuery(back, "e=accept"))
				return
			}
			p.fail(w, r, err)
			return
		}
		seeOther(w, r, withQuery(back, "done=accepted"))
	})
}

func withQuery(path, q string) string {
	path, _, _ = strings.Cut(path, "?")
	return path + "?" + q
}

// findingData is a finding's page.
type findingData struct {
	Row     findingRow
	Remedy  check.Text
	History []assess.Event
}

// handleFinding is a finding's page with its history.
func (p *pages) handleFinding() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.as == nil {
			p.fail(w, r, unavailable("assessment"))
			return
		}
		ctx, now := r.Context(), p.now()
		f, err := p.as.Finding(ctx, r.PathValue("fingerprint"))
		if err != nil {
			p.fail(w, r, err)
			return
		}
		h, err := p.as.FindingHistory(ctx, f.Fingerprint)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		d := findingData{Row: p.row(f, now), History: h}
		if p.catalog != nil {
			if def, ok := p.catalog.Def(f.Check); ok {
				d.Remedy = def.Remediation
			}
		}
		p.render(w, r, http.StatusOK, "finding", newView(r, "finding.title", d))
	})
}

// findingsQuery is the filter of the findings list.
type findingsQuery struct {
	Severity, Family, Status string
	Age                      int
}

// findingsData is the findings list.
type findingsData struct {
	Q          findingsQuery
	Rows       []findingRow
	Total      int
	More       bool
	Severities []check.Severity
	Families   []string
	Statuses   []finding.Status
	CSV        string
}

// maxListed is how many findings the list shows; the CSV has them all.
const maxListed = 500

// listFindings reads the findings the query selects across the principal's subtree.
func (p *pages) listFindings(r *http.Request) (findingsQuery, []findingRow, error) {
	q := r.URL.Query()
	fq := findingsQuery{Severity: q.Get("severity"), Family: q.Get("family"), Status: q.Get("status")}
	fq.Age, _ = strconv.Atoi(q.Get("age"))
	filter := assess.FindingFilter{At: p.now()}
	if slices.Contains(severities, check.Severity(fq.Severity)) || fq.Severity == string(check.Info) {
		filter.Severity = check.Severity(fq.Severity)
	} else {
		fq.Severity = ""
	}
	if slices.Contains(findingFamilies, fq.Family) {
		filter.Family = fq.Family
	} else {
		fq.Family = ""
	}
	if slices.Contains(finding.Statuses, finding.Status(fq.Status)) {
		filter.Status = finding.Status(fq.Status)
	} else {
		fq.Status = ""
	}
	if p.as == nil {
		return fq, nil, unavailable("assessment")
	}
	fs, err := readAll(func(pg inventory.Page) ([]finding.Finding, int, error) {
		filter.Page = pg
		return p.as.Findings(r.Context(), filter)
	})
	if err != nil {
		return fq, nil, err
	}
	var rows []findingRow
	for _, f := range fs {
		row := p.row(f, filter.At)
		if row.Age >= fq.Age {
			rows = append(rows, row)
		}
	}
	return fq, rows, nil
}

// findingFamilies are the check families a filter may name.
var findingFamilies = []string{"tls", "http", "dns", "mail", "exposure", "vuln", "data", "datasec"}

// handleFindings lists the findings of the principal's subtree.
func (p *pages) handleFindings() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fq, rows, err := p.listFindings(r)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		d := findingsData{Q: fq, Total: len(rows), Severities: append(severities, check.Info), Families: findingFamilies,
			Statuses: finding.Statuses, CSV: "/findings.csv?" + r.URL.RawQuery}
		if len(rows) > maxListed {
			rows, d.More = rows[:maxListed], true
		}
		d.Rows = rows
		p.render(w, r, http.StatusOK, "findings", newView(r, "findings.title", d))
	})
}

// handleFindingsCSV exports the same list as CSV, with the header in the page's language.
func (p *pages) handleFindingsCSV() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, rows, err := p.listFindings(r)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		l := langOf(r)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="khien-findings.csv"`)
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{tr(l, "col.resource"), tr(l, "col.endpoint"), tr(l, "col.check"), tr(l, "col.severity"),
			tr(l, "col.status"), tr(l, "col.firstseen"), tr(l, "col.age"), "fingerprint"})
		for _, row := range rows {
			f := row.F
			_ = cw.Write([]string{cell(f.Resource), cell(f.Endpoint), cell(f.Check), tr(l, "sev."+string(f.Severity)),
				tr(l, "status."+string(f.Status)), f.FirstSeen.UTC().Format(time.RFC3339), fmt.Sprint(row.Age), f.Fingerprint})
		}
		cw.Flush()
	})
}

// cell keeps a spreadsheet from reading a value as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
