package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/finding"
	"github.com/khien-vn/khien/internal/inventory"
)

// AssessmentStore is a store that keeps assessments as well as the inventory they are of.
type AssessmentStore interface {
	inventory.Store
	assess.Store
}

// RunAssessment runs the contract of assess.Store, one subtest per documented behaviour.
// open must return an empty, migrated store that is closed when its t ends.
func RunAssessment(t *testing.T, open func(t *testing.T) AssessmentStore) {
	tests := []struct {
		name string
		test func(t *testing.T, st AssessmentStore)
	}{
		{"RecordRunRoundTrip", testRecordRunRoundTrip},
		{"Lifecycle", testLifecycle},
		{"RecordRunIdempotent", testRecordRunIdempotent},
		{"RecordRunSameIDConcurrently", testRecordRunSameIDConcurrently},
		{"RecordRunsConcurrently", testRecordRunsConcurrently},
		{"RecordRunLate", testRecordRunLate},
		{"RecordRunDuplicateResults", testRecordRunDuplicateResults},
		{"RecordRunInvalid", testRecordRunInvalid},
		{"FindingsMoveWithResource", testFindingsMoveWithResource},
		{"AssessmentNotFound", testAssessmentNotFound},
		{"Runs", testRuns},
		{"PruneResults", testPruneResults},
		{"FindingFilters", testFindingFilters},
		{"FindingFiltersInvalid", testFindingFiltersInvalid},
		{"AcceptFinding", testAcceptFinding},
		{"AcceptRefused", testAcceptRefused},
		{"Overdue", testOverdue},
		{"DiffByTime", testDiffByTime},
		{"DiffInvalid", testDiffInvalid},
		{"ScheduleRoundTrip", testScheduleRoundTrip},
		{"LeaseDue", testLeaseDue},
		{"LeaseOnlyInScope", testLeaseOnlyInScope},
		{"LeaseExclusive", testLeaseExclusive},
		{"SaveScheduleReleasesOwnLease", testSaveScheduleReleasesOwnLease},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, open(t)) })
	}
}

// Resources of the fixture that may be scanned, and their systems.
const (
	dvc    = "dns:dichvucong.hanoi.gov.vn" // hn-dvc, under HN, level 3, verified
	dvcURL = "url:https://dichvucong.hanoi.gov.vn/"
	badinh = "dns:badinh.hanoi.gov.vn" // hn-bd-web, under HN.BD, level 1, assigned
)

// Checks of the fixture and their severities.
const (
	tls10  = "tls.protocol.tls10" // high
	hsts   = "http.hsts"          // medium
	kev    = "vuln.known_exploited"
	dnssec = "dns.dnssec" // low
)

func severities() map[string]check.Severity {
	return map[string]check.Severity{tls10: check.High, hsts: check.Medium, kev: check.Critical, dnssec: check.Low}
}

// day is n days after t0(), with nanoseconds that the stores drop.
func day(n int) time.Time { return t0().Add(time.Duration(n) * 24 * time.Hour) }

// endpoint gives each resource one endpoint per check, as families name them.
func endpoint(resource string) string {
	_, v, _ := strings.Cut(resource, ":")
	return v + "|192.0.2.7:443"
}

func res(resource, checkID string, s check.Status) check.Result {
	r := check.Result{Check: checkID, Resource: resource, Endpoint: endpoint(resource), Status: s,
		Reason: check.Text{VI: "Lý do: " + string(s), EN: "reason: " + string(s)}}
	if s == check.Fail {
		r.Evidence = map[string]any{"seen": "TLS 1.0", "ports": []any{443.0}}
	}
	return r
}

func fp(resource, checkID string) string {
	return finding.Fingerprint(checkID, resource, endpoint(resource))
}

// systemOf is the fixture system of each scannable resource.
func systemOf(resource string) string {
	if resource == badinh {
		return "hn-bd-web"
	}
	return "hn-dvc"
}

// newRun is a run of resource starting at start and lasting 90 seconds and a bit.
func newRun(id, resource string, start time.Time) assess.Run {
	return assess.Run{ID: id, Resource: resource, System: systemOf(resource), Trigger: assess.TriggerSchedule,
		Status: assess.RunComplete, Started: start, Finished: start.Add(90*time.Second + 500*time.Nanosecond)}
}

// record records a run, failing the test on error.
func record(t *testing.T, st assess.Store, run assess.Run, results ...check.Result) assess.RunSummary {
	t.Helper()
	sum, err := st.RecordRun(t.Context(), run, results, severities())
	if err != nil {
		t.Fatalf("RecordRun(%s) = %v", run.ID, err)
	}
	return sum
}

func getFinding(t *testing.T, st assess.Store, fingerprint string) finding.Finding {
	t.Helper()
	f, err := st.Finding(t.Context(), fingerprint)
	if err != nil {
		t.Fatalf("Finding(%s) = %v", fingerprint, err)
	}
	return f
}

func history(t *testing.T, st assess.Store, fingerprint string) []string {
	t.Helper()
	evs, err := st.FindingHistory(t.Context(), fingerprint)
	if err != nil {
		t.Fatalf("FindingHistory(%s) = %v", fingerprint, err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s:%s→%s", e.Change, e.Before, e.After))
	}
	return out
}

func findings(t *testing.T, st assess.Store, f assess.FindingFilter) ([]finding.Finding, int) {
	t.Helper()
	items, total, err := st.Findings(t.Context(), f)
	if err != nil {
		t.Fatalf("Findings(%+v) = %v", f, err)
	}
	return items, total
}

// keysOf names findings as "check@resource", in the order given.
func keysOf(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Check+"@"+f.Resource)
	}
	return out
}

func checkCounts(t *testing.T, what string, got, want assess.Counts) {
	t.Helper()
	if got != want {
		t.Errorf("%s counts =\n\t%+v\nwant\n\t%+v", what, got, want)
	}
}

func testRecordRunRoundTrip(t *testing.T, st AssessmentStore) {
	seed(t, st)
	ctx := t.Context()
	run := newRun("r1", dvc, day(0))
	run.Trigger = assess.TriggerManual
	results := []check.Result{
		res(dvc, tls10, check.Fail),
		res(dvc, hsts, check.Pass),
		res(dvc, kev, check.Error),
		res(dvc, dnssec, check.NotApplicable),
	}
	results[1].At = day(0).Add(time.Second)
	sum := record(t, st, run, results...)

	wantRun := run
	wantRun.Started, wantRun.Finished = normTime(run.Started), normTime(run.Finished)
	want := assess.RunSummary{Run: wantRun, Counts: assess.Counts{Pass: 1, Fail: 1, Error: 1, NotApplicable: 1, New: 1, Open: 1}}
	if !reflect.DeepEqual(sum, want) {
		t.Errorf("RecordRun() =\n\t%+v\nwant\n\t%+v", sum, want)
	}
	if got, err := st.Run(ctx, "r1"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Run(r1) =\n\t%+v, %v\nwant\n\t%+v", got, err, want)
	}

	got, err := st.RunResults(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	wantResults := slices.Clone(results)
	for i := range wantResults {
		wantResults[i].At = normTime(cmpTime(wantResults[i].At, run.Started))
	}
	slices.SortFunc(wantResults, func(a, b check.Result) int { return strings.Compare(a.Check, b.Check) })
	diff(t, "RunResults(r1): result", got, wantResults)

	wantFinding := finding.Finding{
		Fingerprint: fp(dvc, tls10), Check: tls10, Resource: dvc, Endpoint: endpoint(dvc), Severity: check.High,
		Status: finding.Open, Last: check.Fail, Reason: results[0].Reason, Evidence: results[0].Evidence,
		FirstSeen: wantRun.Finished, LastSeen: wantRun.Finished, OpenedAt: wantRun.Finished, RunID: "r1",
	}
	if f := getFinding(t, st, fp(dvc, tls10)); !reflect.DeepEqual(f, wantFinding) {
		t.Errorf("Finding() =\n\t%+v\nwant\n\t%+v", f, wantFinding)
	}
	// Passes, errors and results not applicable make no finding.
	if items, n := findings(t, st, assess.FindingFilter{Resource: dvc, At: day(1)}); n != 1 || len(items) != 1 {
		t.Errorf("Findings(resource) = %q (total %d), want the one failure", keysOf(items), n)
	}
}

func cmpTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

// testLifecycle folds fail → pass → fail → error, and another check that fails throughout.
func testLifecycle(t *testing.T, st AssessmentStore) {
	seed(t, st)
	steps := []struct {
		tls  check.Status
		want assess.Counts
	}{
		{check.Fail, assess.Counts{Fail: 2, New: 2, Open: 2}},
		{check.Pass, assess.Counts{Pass: 1, Fail: 1, Resolved: 1, Persisting: 1, Open: 1}},
		{check.Fail, assess.Counts{Fail: 2, Reopened: 1, Persisting: 1, Open: 2}},
		{check.Error, assess.Counts{Fail: 1, Error: 1, Persisting: 1, Open: 2}},
	}
	var runs []assess.RunSummary
	for i, s := range steps {
		sum := record(t, st, newRun(fmt.Sprintf("r%d", i+1), dvc, day(i)), res(dvc, tls10, s.tls), res(dvc, hsts, check.Fail))
		checkCounts(t, sum.ID, sum.Counts, s.want)
		runs = append(runs, sum)
	}

	f := getFinding(t, st, fp(dvc, tls10))
	if f.Status != finding.Reopened || f.Reopens != 1 || f.Last != check.Error || f.RunID != "r4" ||
		!f.FirstSeen.Equal(runs[0].Finished) || !f.OpenedAt.Equal(runs[2].Finished) ||
		!f.LastSeen.Equal(runs[3].Finished) || !f.FixedAt.IsZero() {
		t.Errorf("after fail, pass, fail, error: %+v", f)
	}
	// An error keeps the reason and evidence of the failure it could not re-check.
	if f.Reason.EN != "reason: fail" || f.Evidence["seen"] != "TLS 1.0" {
		t.Errorf("reason %+v, evidence %v; want those of the last failure", f.Reason, f.Evidence)
	}
	want := []string{"new:→open", "resolved:open→fixed", "reopened:fixed→reopened"}
	if got := history(t, st, fp(dvc, tls10)); !slices.Equal(got, want) {
		t.Errorf("history = %q, want %q", got, want)
	}
	if got := history(t, st, fp(dvc, hsts)); !slices.Equal(got, []string{"new:→open"}) {
		t.Errorf("history of a persisting failure = %q, want only its opening", got)
	}
	evs, _ := st.FindingHistory(t.Context(), fp(dvc, tls10))
	for i, e := range evs {
		if e.RunID != runs[i].ID || !e.At.Equal(runs[i].Finished) {
			t.Errorf("event %d: run %q at %v, want %q at %v", i, e.RunID, e.At, runs[i].ID, runs[i].Finished)
		}
	}

	// Between runs of the resource.
	tests := []struct {
		from, to string
		want     string
	}{
		{"", "r1", "new=tls.protocol.tls10,http.hsts"},
		{"r1", "r2", "resolved=tls.protocol.tls10 persisting=http.hsts"},
		{"r2", "r3", "reopened=tls.protocol.tls10 persisting=http.hsts"},
		{"r1", "r3", "persisting=tls.protocol.tls10,http.hsts"},
		{"r3", "r4", "persisting=tls.protocol.tls10,http.hsts"},
	}
	for _, tt := range tests {
		d, err := st.Diff(t.Context(), assess.DiffQuery{Resource: dvc, FromRun: tt.from, ToRun: tt.to})
		if err != nil {
			t.Fatalf("Diff(%s..%s) = %v", tt.from, tt.to, err)
		}
		if got := diffString(d); got != tt.want {
			t.Errorf("Diff(%s..%s) = %q, want %q", tt.from, tt.to, got, tt.want)
		}
	}
}

// diffString lists a diff's findings by check id, in listing order.
func diffString(d assess.Diff) string {
	var parts []string
	for _, l := range []struct {
		name string
		fs   []finding.Finding
	}{{"new", d.New}, {"reopened", d.Reopened}, {"resolved", d.Resolved}, {"persisting", d.Persisting}} {
		if len(l.fs) == 0 {
			continue
		}
		var ids []string
		for _, f := range l.fs {
			ids = append(ids, f.Check)
		}
		parts = append(parts, l.name+"="+strings.Join(ids, ","))
	}
	return strings.Join(parts, " ")
}

func testRecordRunIdempotent(t *testing.T, st AssessmentStore) {
	seed(t, st)
	ctx := t.Context()
	run := newRun("r1", dvc, day(0))
	first := record(t, st, run, res(dvc, tls10, check.Fail), res(dvc, hsts, check.Pass))
	before := getFinding(t, st, fp(dvc, tls10))

	// Delivered again, even with other results observed on the second attempt.
	again := record(t, st, run, res(dvc, tls10, check.Pass), res(dvc, kev, check.Fail))
	if !reflect.DeepEqual(again, first) {
		t.Errorf("RecordRun() again =\n\t%+v\nwant the stored\n\t%+v", again, first)
	}
	if rs, err := st.RunResults(ctx, "r1"); err != nil || len(rs) != 2 || rs[1].Check != tls10 || rs[1].Status != check.Fail {
		t.Errorf("RunResults after recording twice = %+v, %v; want the first two", rs, err)
	}
	if f := getFinding(t, st, fp(dvc, tls10)); !reflect.DeepEqual(f, before) {
		t.Errorf("finding changed by recording the run again:\n\t%+v\nwas\n\t%+v", f, before)
	}
	if got := history(t, st, fp(dvc, tls10)); len(got) != 1 {
		t.Errorf("history after recording twice = %q, want one event", got)
	}
	if _, err := st.Finding(ctx, fp(dvc, kev)); !errs.Is(err, errs.NotFound) {
		t.Errorf("the second attempt's failure made a finding: %v", err)
	}
	if runs, _ := st.Runs(ctx, dvc, 0); len(runs) != 1 {
		t.Errorf("Runs() = %d runs, want 1", len(runs))
	}

	other := newRun("r1", badinh, day(0))
	_, err := st.RecordRun(ctx, other, nil, severities())
	checkErr(t, "RecordRun(run id of another resource)", err, errs.Conflict, "", "r1")
}

// testRecordRunSameIDConcurrently delivers one run to several workers at once.
func testRecordRunSameIDConcurrently(t *testing.T, st AssessmentStore) {
	seed(t, st)
	const workers = 6
	run := newRun("r1", dvc, day(0))
	sums := make([]assess.RunSummary, workers)
	errc := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			sums[i], errc[i] = st.RecordRun(t.Context(), run, []check.Result{res(dvc, tls10, check.Fail), res(dvc, hsts, check.Fail)}, severities())
		})
	}
	wg.Wait()
	for i := range workers {
		if errc[i] != nil {
			t.Fatalf("worker %d: %v", i, errc[i])
		}
		if !reflect.DeepEqual(sums[i], sums[0]) {
			t.Errorf("worker %d got %+v, worker 0 %+v", i, sums[i], sums[0])
		}
	}
	checkCounts(t, "r1", sums[0].Counts, assess.Counts{Fail: 2, New: 2, Open: 2})
	if rs, err := st.RunResults(t.Context(), "r1"); err != nil || len(rs) != 2 {
		t.Errorf("RunResults = %d results, %v; want 2", len(rs), err)
	}
	if got := history(t, st, fp(dvc, tls10)); len(got) != 1 {
		t.Errorf("history = %q, want one event", got)
	}
}

// testRecordRunsConcurrently records runs of one resource at once: each must fold into the
// state the others left, so exactly one of them finds the failure new.
func testRecordRunsConcurrently(t *testing.T, st AssessmentStore) {
	seed(t, st)
	const runs = 8
	sums := make([]assess.RunSummary, runs)
	errc := make([]error, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			run := newRun(fmt.Sprintf("r%d", i), dvc, day(0).Add(time.Duration(i)*time.Hour))
			sums[i], errc[i] = st.RecordRun(t.Context(), run, []check.Result{res(dvc, tls10, check.Fail)}, severities())
		})
	}
	wg.Wait()
	var news int
	for i := range runs {
		if errc[i] != nil {
			t.Fatalf("run %d: %v", i, errc[i])
		}
		news += sums[i].Counts.New
	}
	if news != 1 {
		t.Errorf("%d runs recorded at once found %d new findings, want 1", runs, news)
	}
	f := getFinding(t, st, fp(dvc, tls10))
	if last := normTime(newRun("", dvc, day(0).Add((runs-1)*time.Hour)).Finished); !f.LastSeen.Equal(last) {
		t.Errorf("LastSeen = %v, want the latest run's end %v", f.LastSeen, last)
	}
	if got := history(t, st, fp(dvc, tls10)); len(got) != 1 {
		t.Errorf("history = %q, want one event", got)
	}
}

// testRecordRunLate records a run after a later one: its results are kept, but its finding
// does not move back.
func testRecordRunLate(t *testing.T, st AssessmentStore) {
	seed(t, st)
	record(t, st, newRun("later", dvc, day(2)), res(dvc, tls10, check.Fail))
	late := record(t, st, newRun("earlier", dvc, day(1)), res(dvc, tls10, check.Pass))
	if late.Counts.Resolved != 0 || late.Counts.Pass != 1 || late.Counts.Open != 1 {
		t.Errorf("late run counts %+v: want its pass kept but nothing resolved", late.Counts)
	}
	if f := getFinding(t, st, fp(dvc, tls10)); f.Status != finding.Open || f.RunID != "later" {
		t.Errorf("finding after a late pass: %s from run %s, want open from run later", f.Status, f.RunID)
	}
	if rs, err := st.RunResults(t.Context(), "earlier"); err != nil || len(rs) != 1 {
		t.Errorf("RunResults(earlier) = %+v, %v", rs, err)
	}
}

func testRecordRunDuplicateResults(t *testing.T, st AssessmentStore) {
	seed(t, st)
	sum := record(t, st, newRun("r1", dvc, day(0)), res(dvc, tls10, check.Pass), res(dvc, tls10, check.Fail), res(dvc, tls10, check.Error))
	checkCounts(t, "r1", sum.Counts, assess.Counts{Fail: 1, New: 1, Open: 1})
	if rs, _ := st.RunResults(t.Context(), "r1"); len(rs) != 1 || rs[0].Status != check.Fail {
		t.Errorf("RunResults = %+v, want the failure only", rs)
	}
}

func testRecordRunInvalid(t *testing.T, st AssessmentStore) {
	seed(t, st)
	good := newRun("r1", dvc, day(0))
	tests := []struct {
		name    string
		edit    func(r *assess.Run, rs []check.Result, sev map[string]check.Severity) []check.Result
		field   string
		message string
	}{
		{"no id", func(r *assess.Run, rs []check.Result, _ map[string]check.Severity) []check.Result {
			r.ID = " "
			return rs
		}, "id", "id"},
		{"no resource", func(r *assess.Run, rs []check.Result, _ map[string]check.Severity) []check.Result {
			r.Resource = ""
			return rs
		}, "resource", "resource"},
		{"no system", func(r *assess.Run, rs []check.Result, _ map[string]check.Severity) []check.Result {
			r.System = ""
			return rs
		}, "system", "system"},
		{"bad trigger", func(r *assess.Run, rs []check.Result, _ map[string]check.Severity) []check.Result {
			r.Trigger = "cron"
			return rs
		}, "trigger", "cron"},
		{"bad status", func(r *assess.Run, rs []check.Result, _ map[string]check.Severity) []check.Result {
			r.Status = "done"
			return rs
		}, "status", "done"},
		{"no start", func(r *assess.Run, rs []check.Result, _ map[string]check.Severity) []check.Result {
			r.Started = time.Time{}
			return rs
		}, "started", ""},
		{"finished before started", func(r *assess.Run, rs []check.Result, _ map[string]check.Severity) []check.Result {
			r.Finished = r.Started.Add(-time.Second)
			return rs
		}, "finished", "before"},
		{"result of another resource", func(_ *assess.Run, rs []check.Result, _ map[string]check.Severity) []check.Result {
			return append(rs, res(badinh, tls10, check.Fail))
		}, "results", badinh},
		{"result without endpoint", func(_ *assess.Run, rs []check.Result, _ map[string]check.Severity) []check.Result {
			rs[0].Endpoint = ""
			return rs
		}, "results", "endpoint"},
		{"bad result status", func(_ *assess.Run, rs []check.Result, _ map[string]check.Severity) []check.Result {
			rs[0].Status = "warn"
			return rs
		}, "results", "warn"},
		{"no severity", func(_ *assess.Run, rs []check.Result, sev map[string]check.Severity) []check.Result {
			delete(sev, tls10)
			return rs
		}, "severities", tls10},
		{"bad severity", func(_ *assess.Run, rs []check.Result, sev map[string]check.Severity) []check.Result {
			sev[tls10] = "urgent"
			return rs
		}, "severities", "urgent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run, sev := good, severities()
			rs := tt.edit(&run, []check.Result{res(dvc, tls10, check.Fail)}, sev)
			_, err := st.RecordRun(t.Context(), run, rs, sev)
			var parts []string
			if tt.message != "" {
				parts = append(parts, tt.message)
			}
			checkErr(t, "RecordRun("+tt.name+")", err, errs.Invalid, tt.field, parts...)
		})
	}
	if runs, _ := st.Runs(t.Context(), dvc, 0); len(runs) != 0 {
		t.Errorf("refused runs were stored: %+v", runs)
	}
}

// testFindingsMoveWithResource: the system of a finding is its resource's at the latest run.
func testFindingsMoveWithResource(t *testing.T, st AssessmentStore) {
	seed(t, st)
	record(t, st, newRun("r1", dvc, day(0)), res(dvc, tls10, check.Fail), res(dvc, hsts, check.Fail))
	run := newRun("r2", dvc, day(1))
	run.System = "hn-bd-web" // moved meanwhile; the run checks only tls10
	record(t, st, run, res(dvc, tls10, check.Fail))
	if _, n := findings(t, st, assess.FindingFilter{System: "hn-bd-web", At: day(2)}); n != 2 {
		t.Errorf("findings of the new system = %d, want both of the moved resource", n)
	}
	if _, n := findings(t, st, assess.FindingFilter{Under: "HN.BD", At: day(2)}); n != 2 {
		t.Errorf("findings under the new system's organization = %d, want 2", n)
	}
	if _, n := findings(t, st, assess.FindingFilter{System: "hn-dvc", At: day(2)}); n != 0 {
		t.Errorf("findings left in the old system = %d, want 0", n)
	}
}

func testAssessmentNotFound(t *testing.T, st AssessmentStore) {
	ctx := t.Context()
	_, err := st.Run(ctx, "nope")
	checkErr(t, "Run(nope)", err, errs.NotFound, "", "nope")
	_, err = st.RunResults(ctx, "nope")
	checkErr(t, "RunResults(nope)", err, errs.NotFound, "", "nope")
	_, err = st.Finding(ctx, "feed")
	checkErr(t, "Finding(feed)", err, errs.NotFound, "", "feed")
	_, err = st.FindingHistory(ctx, "feed")
	checkErr(t, "FindingHistory(feed)", err, errs.NotFound, "", "feed")
	_, err = st.AcceptFinding(ctx, "feed", finding.Acceptance{By: "A", Reason: "long enough reason", At: day(0), Expires: day(1)})
	checkErr(t, "AcceptFinding(feed)", err, errs.NotFound, "", "feed")
	_, err = st.Schedule(ctx, dvc)
	checkErr(t, "Schedule(never assessed)", err, errs.NotFound, "", dvc)
	_, err = st.Diff(ctx, assess.DiffQuery{Resource: dvc, FromRun: "nope", To: day(1)})
	checkErr(t, "Diff(from a missing run)", err, errs.NotFound, "", "nope")
	if runs, err := st.Runs(ctx, dvc, 0); err != nil || len(runs) != 0 {
		t.Errorf("Runs(never assessed) = %+v, %v; want none", runs, err)
	}
}

func testRuns(t *testing.T, st AssessmentStore) {
	seed(t, st)
	for i, id := range []string{"a", "b", "c"} {
		record(t, st, newRun(id, dvc, day(i)), res(dvc, tls10, check.Pass))
	}
	record(t, st, newRun("other", badinh, day(5)), res(badinh, tls10, check.Pass))
	ids := func(rs []assess.RunSummary) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	if rs, err := st.Runs(t.Context(), dvc, 0); err != nil || !slices.Equal(ids(rs), []string{"c", "b", "a"}) {
		t.Errorf("Runs(dvc) = %q, %v; want newest first", ids(rs), err)
	}
	if rs, err := st.Runs(t.Context(), dvc, 2); err != nil || !slices.Equal(ids(rs), []string{"c", "b"}) {
		t.Errorf("Runs(dvc, 2) = %q, %v", ids(rs), err)
	}
}

// seedFindings records, at days 0 and 1:
//
//	dvc     tls10 fail (high), kev fail (critical), hsts fail then pass (fixed)
//	dvcURL  hsts fail (medium)
//	badinh  tls10 fail (high), dnssec fail (low)
func seedFindings(t *testing.T, st AssessmentStore) {
	seed(t, st)
	record(t, st, newRun("dvc1", dvc, day(0)), res(dvc, tls10, check.Fail), res(dvc, kev, check.Fail), res(dvc, hsts, check.Fail))
	record(t, st, newRun("dvc2", dvc, day(1)), res(dvc, tls10, check.Fail), res(dvc, kev, check.Fail), res(dvc, hsts, check.Pass))
	record(t, st, newRun("url1", dvcURL, day(0)), res(dvcURL, hsts, check.Fail))
	record(t, st, newRun("bd1", badinh, day(0)), res(badinh, tls10, check.Fail), res(badinh, dnssec, check.Fail))
}

func testFindingFilters(t *testing.T, st AssessmentStore) {
	seedFindings(t, st)
	at := day(2)
	tests := []struct {
		name string
		f    assess.FindingFilter
		want []string
	}{
		{"all, by severity then resource", assess.FindingFilter{}, []string{
			kev + "@" + dvc, tls10 + "@" + badinh, tls10 + "@" + dvc, hsts + "@" + dvc, hsts + "@" + dvcURL, dnssec + "@" + badinh}},
		{"resource", assess.FindingFilter{Resource: dvc}, []string{kev + "@" + dvc, tls10 + "@" + dvc, hsts + "@" + dvc}},
		{"system", assess.FindingFilter{System: "hn-bd-web"}, []string{tls10 + "@" + badinh, dnssec + "@" + badinh}},
		{"under a subtree", assess.FindingFilter{Under: "HN.BD"}, []string{tls10 + "@" + badinh, dnssec + "@" + badinh}},
		{"under the root", assess.FindingFilter{Under: "HN", Severity: check.High}, []string{tls10 + "@" + badinh, tls10 + "@" + dvc}},
		{"under another root", assess.FindingFilter{Under: "BTTTT"}, nil},
		{"under a missing organization", assess.FindingFilter{Under: "XX"}, nil},
		{"open", assess.FindingFilter{Status: finding.Open, Resource: dvc}, []string{kev + "@" + dvc, tls10 + "@" + dvc}},
		{"fixed", assess.FindingFilter{Status: finding.Fixed}, []string{hsts + "@" + dvc}},
		{"reopened", assess.FindingFilter{Status: finding.Reopened}, nil},
		{"accepted", assess.FindingFilter{Status: finding.Accepted}, nil},
		{"severity", assess.FindingFilter{Severity: check.Critical}, []string{kev + "@" + dvc}},
		{"family", assess.FindingFilter{Family: "http"}, []string{hsts + "@" + dvc, hsts + "@" + dvcURL}},
		{"check", assess.FindingFilter{Check: dnssec}, []string{dnssec + "@" + badinh}},
		{"combined", assess.FindingFilter{Under: "HN", Status: finding.Open, Family: "http"}, []string{hsts + "@" + dvcURL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.At = at
			items, total := findings(t, st, tt.f)
			if got := keysOf(items); !slices.Equal(got, tt.want) || total != len(tt.want) {
				t.Errorf("Findings(%+v) = %q (total %d), want %q", tt.f, got, total, tt.want)
			}
		})
	}
	all, _ := findings(t, st, assess.FindingFilter{At: at})
	items, total := findings(t, st, assess.FindingFilter{At: at, Page: inventory.Page{Limit: 2, Offset: 3}})
	if total != 6 || !slices.Equal(keysOf(items), keysOf(all[3:5])) {
		t.Errorf("page 2 of 2 at offset 3 = %q (total %d), want %q of 6", keysOf(items), total, keysOf(all[3:5]))
	}
}

func testFindingFiltersInvalid(t *testing.T, st AssessmentStore) {
	ctx := t.Context()
	_, _, err := st.Findings(ctx, assess.FindingFilter{Status: "closed", At: day(0)})
	checkErr(t, "Findings(status closed)", err, errs.Invalid, "status", "closed")
	_, _, err = st.Findings(ctx, assess.FindingFilter{Severity: "urgent", At: day(0)})
	checkErr(t, "Findings(severity urgent)", err, errs.Invalid, "severity", "urgent")
	_, _, err = st.Findings(ctx, assess.FindingFilter{})
	checkErr(t, "Findings(no time)", err, errs.Invalid, "at")
}

func testAcceptFinding(t *testing.T, st AssessmentStore) {
	seed(t, st)
	ctx := t.Context()
	record(t, st, newRun("r1", dvc, day(0)), res(dvc, tls10, check.Fail))
	a := finding.Acceptance{By: "Nguyễn Văn An, Giám đốc Sở", Reason: "Chờ thay máy chủ trong quý I", At: day(1), Expires: day(11)}
	got, err := st.AcceptFinding(ctx, fp(dvc, tls10), a)
	if err != nil {
		t.Fatal(err)
	}
	wantA := finding.Acceptance{By: a.By, Reason: a.Reason, At: normTime(a.At), Expires: normTime(a.Expires)}
	if got.Status != finding.Accepted || got.Acceptance == nil || *got.Acceptance != wantA {
		t.Errorf("AcceptFinding() = %+v (acceptance %+v)", got, got.Acceptance)
	}
	if stored := getFinding(t, st, fp(dvc, tls10)); !reflect.DeepEqual(stored, got) {
		t.Errorf("stored =\n\t%+v\nreturned\n\t%+v", stored, got)
	}

	// While it holds, the finding is accepted, not open; once expired, open from the expiry.
	for _, tt := range []struct {
		at     time.Time
		status finding.Status
	}{{day(5), finding.Accepted}, {day(11), finding.Open}, {day(12), finding.Open}} {
		for _, s := range []finding.Status{finding.Open, finding.Accepted} {
			items, _ := findings(t, st, assess.FindingFilter{Status: s, At: tt.at})
			if want := s == tt.status; (len(items) == 1) != want {
				t.Errorf("Findings(status %s) at %v = %d, want the finding: %v", s, tt.at, len(items), want)
			}
			if len(items) == 1 && (items[0].Status != tt.status ||
				tt.status == finding.Open && !items[0].OpenedAt.Equal(normTime(a.Expires))) {
				t.Errorf("at %v: %s opened %v, want %s (opened at the expiry when open)", tt.at, items[0].Status, items[0].OpenedAt, tt.status)
			}
		}
	}
	events, _ := st.FindingHistory(ctx, fp(dvc, tls10))
	if last := events[len(events)-1]; last.Change != assess.ChangeAccepted || last.Actor != a.By || last.Note != a.Reason ||
		last.RunID != "" || !last.At.Equal(normTime(a.At)) {
		t.Errorf("acceptance event = %+v", last)
	}

	// The next run after the expiry records that it ran out, at the expiry, then persists.
	sum := record(t, st, newRun("r2", dvc, day(13)), res(dvc, tls10, check.Fail))
	checkCounts(t, "r2", sum.Counts, assess.Counts{Fail: 1, Persisting: 1, Open: 1})
	want := []string{"new:→open", "accepted:open→accepted", "expired:accepted→open"}
	if h := history(t, st, fp(dvc, tls10)); !slices.Equal(h, want) {
		t.Errorf("history = %q, want %q", h, want)
	}
	events, _ = st.FindingHistory(ctx, fp(dvc, tls10))
	if e := events[2]; !e.At.Equal(normTime(a.Expires)) || e.RunID != "r2" {
		t.Errorf("expiry event at %v by run %q, want at %v by r2", e.At, e.RunID, normTime(a.Expires))
	}
	if f := getFinding(t, st, fp(dvc, tls10)); f.Status != finding.Open || !f.OpenedAt.Equal(normTime(a.Expires)) {
		t.Errorf("after the expiry: %s opened %v", f.Status, f.OpenedAt)
	}

	// Accepted again, then fixed: a pass clears the acceptance.
	a2 := finding.Acceptance{By: "Trần Thị Bình", Reason: "Gia hạn thêm một tháng", At: day(14), Expires: day(44)}
	if _, err := st.AcceptFinding(ctx, fp(dvc, tls10), a2); err != nil {
		t.Fatal(err)
	}
	sum = record(t, st, newRun("r3", dvc, day(15)), res(dvc, tls10, check.Pass))
	if f := getFinding(t, st, fp(dvc, tls10)); f.Status != finding.Fixed || f.Acceptance != nil || sum.Counts.Resolved != 1 {
		t.Errorf("after a pass: %s with acceptance %+v, resolved %d", f.Status, f.Acceptance, sum.Counts.Resolved)
	}
}

func testAcceptRefused(t *testing.T, st AssessmentStore) {
	seed(t, st)
	ctx := t.Context()
	record(t, st, newRun("r1", dvc, day(0)), res(dvc, tls10, check.Fail), res(dvc, hsts, check.Fail))
	record(t, st, newRun("r2", dvc, day(1)), res(dvc, hsts, check.Pass))
	ok := finding.Acceptance{By: "Nguyễn Văn An", Reason: "Chờ thay máy chủ", At: day(2), Expires: day(30)}
	tests := []struct {
		name  string
		fp    string
		edit  func(a *finding.Acceptance)
		kind  errs.Kind
		field string
	}{
		{"fixed", fp(dvc, hsts), func(*finding.Acceptance) {}, errs.Conflict, ""},
		{"no approver", fp(dvc, tls10), func(a *finding.Acceptance) { a.By = "" }, errs.Invalid, "approver"},
		{"short reason", fp(dvc, tls10), func(a *finding.Acceptance) { a.Reason = "vì" }, errs.Invalid, "reason"},
		{"expired already", fp(dvc, tls10), func(a *finding.Acceptance) { a.Expires = day(1) }, errs.Invalid, "expires"},
		{"over a year", fp(dvc, tls10), func(a *finding.Acceptance) { a.Expires = day(400) }, errs.Invalid, "expires"},
		{"no time", fp(dvc, tls10), func(a *finding.Acceptance) { a.At = time.Time{} }, errs.Invalid, "at"},
	}
	for _, tt := range tests {
		a := ok
		tt.edit(&a)
		_, err := st.AcceptFinding(ctx, tt.fp, a)
		checkErr(t, "AcceptFinding("+tt.name+")", err, tt.kind, tt.field)
	}
	if h := history(t, st, fp(dvc, tls10)); len(h) != 1 {
		t.Errorf("refused acceptances left events: %q", h)
	}
}

func testOverdue(t *testing.T, st AssessmentStore) {
	seed(t, st)
	ctx := t.Context()
	// Critical: 15 days; high: 30 days; medium: no deadline.
	record(t, st, newRun("bd1", badinh, day(0)), res(badinh, kev, check.Fail))
	record(t, st, newRun("dvc1", dvc, day(0)), res(dvc, tls10, check.Fail), res(dvc, hsts, check.Fail))
	overdue := func(at time.Time) []string {
		items, _ := findings(t, st, assess.FindingFilter{Overdue: true, At: at})
		return keysOf(items)
	}
	tests := []struct {
		at   time.Time
		want []string
	}{
		{day(14), nil},
		{day(16), []string{kev + "@" + badinh}},
		{day(31), []string{kev + "@" + badinh, tls10 + "@" + dvc}},
	}
	for _, tt := range tests {
		if got := overdue(tt.at); !slices.Equal(got, tt.want) {
			t.Errorf("overdue at %v = %q, want %q", tt.at, got, tt.want)
		}
	}
	// An accepted risk is not overdue; once its acceptance expires the clock starts again.
	a := finding.Acceptance{By: "Nguyễn Văn An", Reason: "Chờ thay máy chủ", At: day(20), Expires: day(40)}
	if _, err := st.AcceptFinding(ctx, fp(dvc, tls10), a); err != nil {
		t.Fatal(err)
	}
	if got := overdue(day(69)); !slices.Equal(got, []string{kev + "@" + badinh}) {
		t.Errorf("overdue at day 69 = %q, want the accepted finding not yet overdue again", got)
	}
	if got := overdue(day(71)); !slices.Equal(got, []string{kev + "@" + badinh, tls10 + "@" + dvc}) {
		t.Errorf("overdue at day 71 = %q, want both", got)
	}
	// A fixed finding is never overdue.
	record(t, st, newRun("bd2", badinh, day(21)), res(badinh, kev, check.Pass))
	if got := overdue(day(31)); len(got) != 0 {
		t.Errorf("overdue at day 31 after the fix and the acceptance = %q, want none", got)
	}
}

func testDiffByTime(t *testing.T, st AssessmentStore) {
	seed(t, st)
	ctx := t.Context()
	r1 := record(t, st, newRun("dvc1", dvc, day(0)), res(dvc, tls10, check.Fail))
	record(t, st, newRun("bd1", badinh, day(0)), res(badinh, dnssec, check.Fail))
	record(t, st, newRun("dvc2", dvc, day(1)), res(dvc, tls10, check.Pass))
	record(t, st, newRun("bd2", badinh, day(1)), res(badinh, dnssec, check.Fail))
	record(t, st, newRun("url2", dvcURL, day(1)), res(dvcURL, hsts, check.Fail))
	end0, end1 := day(0).Add(time.Hour), day(1).Add(time.Hour)
	tests := []struct {
		name string
		q    assess.DiffQuery
		want string
	}{
		{"organization", assess.DiffQuery{Under: "HN", From: end0, To: end1},
			"new=http.hsts resolved=tls.protocol.tls10 persisting=dns.dnssec"},
		{"organization from the start", assess.DiffQuery{Under: "HN", To: end0}, "new=tls.protocol.tls10,dns.dnssec"},
		{"subtree", assess.DiffQuery{Under: "HN.BD", From: end0, To: end1}, "persisting=dns.dnssec"},
		{"system", assess.DiffQuery{System: "hn-dvc", From: end0, To: end1}, "new=http.hsts resolved=tls.protocol.tls10"},
		{"resource, run to time", assess.DiffQuery{Resource: dvc, FromRun: r1.ID, To: end1}, "resolved=tls.protocol.tls10"},
		{"same point", assess.DiffQuery{Under: "HN", From: end1, To: end1}, "persisting=http.hsts,dns.dnssec"},
		{"another organization", assess.DiffQuery{Under: "BTTTT", From: end0, To: end1}, ""},
	}
	for _, tt := range tests {
		d, err := st.Diff(ctx, tt.q)
		if err != nil {
			t.Fatalf("Diff(%s) = %v", tt.name, err)
		}
		if got := diffString(d); got != tt.want {
			t.Errorf("Diff(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func testDiffInvalid(t *testing.T, st AssessmentStore) {
	seed(t, st)
	ctx := t.Context()
	r := record(t, st, newRun("bd1", badinh, day(0)), res(badinh, dnssec, check.Fail))
	tests := []struct {
		name  string
		q     assess.DiffQuery
		field string
	}{
		{"no scope", assess.DiffQuery{To: day(1)}, "scope"},
		{"two scopes", assess.DiffQuery{Resource: dvc, System: "hn-dvc", To: day(1)}, "scope"},
		{"no end", assess.DiffQuery{System: "hn-dvc", From: day(0)}, "to"},
		{"backwards", assess.DiffQuery{System: "hn-dvc", From: day(2), To: day(1)}, "from"},
		{"time and run", assess.DiffQuery{Resource: badinh, From: day(0), FromRun: r.ID, To: day(1)}, "from"},
		{"run of another resource", assess.DiffQuery{Resource: dvc, FromRun: r.ID, To: day(1)}, "from_run"},
	}
	for _, tt := range tests {
		_, err := st.Diff(ctx, tt.q)
		checkErr(t, "Diff("+tt.name+")", err, errs.Invalid, tt.field)
	}
}

func testScheduleRoundTrip(t *testing.T, st AssessmentStore) {
	seed(t, st)
	ctx := t.Context()
	sc := assess.Schedule{Resource: dvc, NextDue: day(1), LastRun: day(0), Cadence: 6 * time.Hour,
		Reason: "security level 5: every 6 hours", UnreachableRuns: 2, CleanSince: day(-3)}
	if err := st.SaveSchedule(ctx, sc, ""); err != nil {
		t.Fatal(err)
	}
	want := sc
	want.NextDue, want.LastRun, want.CleanSince = normTime(sc.NextDue), normTime(sc.LastRun), normTime(sc.CleanSince)
	if got, err := st.Schedule(ctx, dvc); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Schedule() =\n\t%+v, %v\nwant\n\t%+v", got, err, want)
	}
	sc.UnreachableRuns, sc.CleanSince = 0, time.Time{}
	if err := st.SaveSchedule(ctx, sc, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Schedule(ctx, dvc); got.UnreachableRuns != 0 || !got.CleanSince.IsZero() {
		t.Errorf("Schedule() after saving again = %+v", got)
	}
	err := st.SaveSchedule(ctx, assess.Schedule{Resource: dvc}, "")
	checkErr(t, "SaveSchedule(no next due)", err, errs.Invalid, "next_due")
}

func dueIDs(ds []assess.Due) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Resource)
	}
	return out
}

func lease(t *testing.T, st assess.Store, owner string, now time.Time, limit int) []assess.Due {
	t.Helper()
	ds, err := st.LeaseDue(t.Context(), owner, now, 10*time.Minute, limit)
	if err != nil {
		t.Fatalf("LeaseDue(%s, %v) = %v", owner, now, err)
	}
	return ds
}

func testLeaseDue(t *testing.T, st AssessmentStore) {
	seed(t, st)
	ctx := t.Context()
	now := day(0)
	// Never assessed resources are due at once: the three in scope, by id.
	got := lease(t, st, "a", now, 0)
	if want := []string{badinh, dvc, dvcURL}; !slices.Equal(dueIDs(got), want) {
		t.Fatalf("LeaseDue() = %q, want %q", dueIDs(got), want)
	}
	if d := got[0]; d.Level != 1 || !d.Schedule.LastRun.IsZero() || !d.LeaseUntil.Equal(normTime(now).Add(10*time.Minute)) {
		t.Errorf("LeaseDue()[0] = %+v", d)
	}
	if got := lease(t, st, "b", now.Add(time.Minute), 0); len(got) != 0 {
		t.Errorf("LeaseDue() by another owner while leased = %q, want none", dueIDs(got))
	}
	// One is assessed: its lease released and next due tomorrow. The other leases run out.
	sc := assess.Schedule{Resource: dvc, NextDue: now.Add(24 * time.Hour), LastRun: now, Cadence: 24 * time.Hour}
	if err := st.SaveSchedule(ctx, sc, "a"); err != nil {
		t.Fatal(err)
	}
	if got := lease(t, st, "b", now.Add(11*time.Minute), 0); !slices.Equal(dueIDs(got), []string{badinh, dvcURL}) {
		t.Errorf("LeaseDue() after the leases ran out = %q, want the two not assessed", dueIDs(got))
	}
	got = lease(t, st, "c", now.Add(25*time.Hour), 1)
	if !slices.Equal(dueIDs(got), []string{badinh}) {
		t.Errorf("LeaseDue(limit 1) = %q, want the most overdue first", dueIDs(got))
	}
	got = lease(t, st, "c", now.Add(25*time.Hour), 0)
	if !slices.Equal(dueIDs(got), []string{dvcURL, dvc}) {
		t.Errorf("LeaseDue() a day later = %q, want the rest, most overdue first", dueIDs(got))
	}
	if d := got[1]; d.Schedule.Cadence != 24*time.Hour || !d.Schedule.LastRun.Equal(normTime(now)) {
		t.Errorf("leased schedule = %+v, want the saved one", d.Schedule)
	}

	for _, tt := range []struct {
		owner string
		ttl   time.Duration
		now   time.Time
		field string
	}{{"", time.Minute, now, "owner"}, {"a", 0, now, "ttl"}, {"a", time.Minute, time.Time{}, "now"}} {
		_, err := st.LeaseDue(ctx, tt.owner, tt.now, tt.ttl, 0)
		checkErr(t, "LeaseDue(bad "+tt.field+")", err, errs.Invalid, tt.field)
	}
}

// testLeaseOnlyInScope: resources out of scope, and those of retired systems, are never due.
func testLeaseOnlyInScope(t *testing.T, st AssessmentStore) {
	inv := seed(t, st)
	ctx := t.Context()
	sys := inv.Systems[1] // hn-bd-web, of badinh
	sys.Stage = inventory.StageRetired
	if err := st.UpdateSystem(ctx, sys); err != nil {
		t.Fatal(err)
	}
	r := inv.Resources[5] // dvcURL
	r.Scope, r.ScopeReason = inventory.ScopeUnverified, ""
	if err := st.UpdateResource(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got := lease(t, st, "a", day(0), 0); !slices.Equal(dueIDs(got), []string{dvc}) {
		t.Errorf("LeaseDue() = %q, want only %s", dueIDs(got), dvc)
	}
}

// testLeaseExclusive has several servers lease at once: every due resource goes to exactly one.
func testLeaseExclusive(t *testing.T, st AssessmentStore) {
	seed(t, st)
	ctx := t.Context()
	const extra = 30
	for i := range extra {
		r := inventory.Resource{ID: fmt.Sprintf("dns:r%02d.hanoi.gov.vn", i), System: "hn-dvc", Scope: inventory.ScopeAssigned,
			ScopeReason: "Sở vouched", Created: t0(), Updated: t0()}
		if err := st.CreateResource(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	const servers = 4
	leased := make([][]string, servers)
	errc := make(chan error, servers)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Go(func() {
			for {
				ds, err := st.LeaseDue(ctx, fmt.Sprintf("server-%d", i), day(0), time.Hour, 3)
				if err != nil {
					errc <- err
					return
				}
				if len(ds) == 0 {
					return
				}
				leased[i] = append(leased[i], dueIDs(ds)...)
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, ids := range leased {
		for _, id := range ids {
			count[id]++
		}
	}
	if len(count) != extra+3 {
		t.Errorf("%d resources leased, want all %d due", len(count), extra+3)
	}
	for id, n := range count {
		if n != 1 {
			t.Errorf("%s leased %d times", id, n)
		}
	}
}

func testSaveScheduleReleasesOwnLease(t *testing.T, st AssessmentStore) {
	seed(t, st)
	ctx := t.Context()
	now := day(0)
	if got := lease(t, st, "a", now, 0); len(got) != 3 {
		t.Fatalf("LeaseDue() = %q", dueIDs(got))
	}
	due := assess.Schedule{Resource: dvc, NextDue: now, Reason: "due again"}
	// Saved by an on-demand run, or by a server that does not hold the lease: still leased.
	for _, owner := range []string{"", "b"} {
		if err := st.SaveSchedule(ctx, due, owner); err != nil {
			t.Fatal(err)
		}
		if got := lease(t, st, "c", now.Add(time.Minute), 0); len(got) != 0 {
			t.Errorf("after saving as %q: LeaseDue() = %q, want the lease of a kept", owner, dueIDs(got))
		}
	}
	if err := st.SaveSchedule(ctx, due, "a"); err != nil {
		t.Fatal(err)
	}
	if got := lease(t, st, "c", now.Add(time.Minute), 0); !slices.Equal(dueIDs(got), []string{dvc}) {
		t.Errorf("after the holder saved: LeaseDue() = %q, want %s", dueIDs(got), dvc)
	}
}

// testPruneResults: old results go, what the index, the findings and their evidence need stays.
func testPruneResults(t *testing.T, st AssessmentStore) {
	seed(t, st)
	ctx := t.Context()
	// dvc: r1 fails dnssec (a finding only r1 touched), r2 and r3 pass tls10; badinh: one old run.
	record(t, st, newRun("r1", dvc, day(0)), res(dvc, dnssec, check.Fail), res(dvc, tls10, check.Fail))
	record(t, st, newRun("r2", dvc, day(1)), res(dvc, tls10, check.Pass))
	record(t, st, newRun("r3", dvc, day(2)), res(dvc, tls10, check.Pass))
	record(t, st, newRun("b1", badinh, day(0)), res(badinh, tls10, check.Fail))
	record(t, st, newRun("r4", dvc, day(40)), res(dvc, tls10, check.Pass))
	histBefore := history(t, st, fp(dvc, tls10))

	got, err := st.PruneResults(ctx, day(30))
	if err != nil {
		t.Fatalf("PruneResults = %v", err)
	}
	// r1 stays (the dnssec finding was last folded from it), r4 and b1 stay (latest runs).
	if want := (assess.Pruned{Runs: 2, Results: 2}); got != want {
		t.Errorf("PruneResults = %+v, want %+v", got, want)
	}
	for _, id := range []string{"r2", "r3"} {
		_, err := st.RunResults(ctx, id)
		checkErr(t, "RunResults("+id+") after pruning", err, errs.NotFound, "", id, "retention")
		if sum, err := st.Run(ctx, id); err != nil || sum.Counts.Pass != 1 {
			t.Errorf("Run(%s) after pruning = %+v, %v; want its counts kept", id, sum, err)
		}
	}
	for id, n := range map[string]int{"r1": 2, "r4": 1, "b1": 1} {
		if rs, err := st.RunResults(ctx, id); err != nil || len(rs) != n {
			t.Errorf("RunResults(%s) after pruning = %d results, %v; want %d kept", id, len(rs), err, n)
		}
	}
	if f := getFinding(t, st, fp(dvc, dnssec)); f.RunID != "r1" || f.Evidence == nil {
		t.Errorf("dnssec finding after pruning = run %q, evidence %v; want r1 with evidence", f.RunID, f.Evidence)
	}
	if h := history(t, st, fp(dvc, tls10)); !slices.Equal(h, histBefore) {
		t.Errorf("history after pruning = %q, want %q", h, histBefore)
	}
	if again, err := st.PruneResults(ctx, day(30)); err != nil || again != (assess.Pruned{}) {
		t.Errorf("PruneResults again = %+v, %v; want nothing left to prune", again, err)
	}
	// A run that never had results is not reported as pruned.
	empty := newRun("empty", badinh, day(41))
	empty.Status = assess.RunUnreachable
	record(t, st, empty)
	if rs, err := st.RunResults(ctx, "empty"); err != nil || len(rs) != 0 {
		t.Errorf("RunResults(empty) = %+v, %v", rs, err)
	}
}
