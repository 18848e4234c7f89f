package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/finding"
)

// Wire forms of assessment results. Times are RFC 3339 in UTC.

type textJSON struct {
	VI string `json:"vi"`
	EN string `json:"en"`
}

type countsJSON struct {
	Pass           int `json:"pass"`
	Fail           int `json:"fail"`
	Error          int `json:"error"`
	NotApplicable  int `json:"not_applicable"`
	New            int `json:"new"`
	Resolved       int `json:"resolved"`
	Reopened       int `json:"reopened"`
	Persisting     int `json:"persisting"`
	Open           int `json:"open"`
	OpenCritical   int `json:"open_critical"`
	KnownExploited int `json:"known_exploited"`
}

type runJSON struct {
	ID       string     `json:"id"`
	Resource string     `json:"resource"`
	System   string     `json:"system"`
	Trigger  string     `json:"trigger"`
	Status   string     `json:"status"`
	Started  time.Time  `json:"started"`
	Finished time.Time  `json:"finished"`
	Counts   countsJSON `json:"counts"`
}

func runToJSON(r assess.RunSummary) runJSON {
	c := r.Counts
	return runJSON{ID: r.ID, Resource: r.Resource, System: r.System, Trigger: string(r.Trigger), Status: string(r.Status),
		Started: r.Started.UTC(), Finished: r.Finished.UTC(),
		Counts: countsJSON{c.Pass, c.Fail, c.Error, c.NotApplicable, c.New, c.Resolved, c.Reopened, c.Persisting, c.Open, c.OpenCritical, c.KnownExploited}}
}

type resultJSON struct {
	Check    string         `json:"check"`
	Resource string         `json:"resource"`
	Endpoint string         `json:"endpoint"`
	Result   string         `json:"result"`
	Reason   textJSON       `json:"reason"`
	Evidence map[string]any `json:"evidence"`
	At       time.Time      `json:"at"`
}

func resultToJSON(r check.Result) resultJSON {
	ev := r.Evidence
	if ev == nil {
		ev = map[string]any{}
	}
	return resultJSON{Check: r.Check, Resource: r.Resource, Endpoint: r.Endpoint, Result: string(r.Status),
		Reason: textJSON(r.Reason), Evidence: ev, At: r.At.UTC()}
}

type acceptanceJSON struct {
	By      string    `json:"by"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
	Expires time.Time `json:"expires"`
}

type findingJSON struct {
	Fingerprint string          `json:"fingerprint"`
	Check       string          `json:"check"`
	Resource    string          `json:"resource"`
	Endpoint    string          `json:"endpoint"`
	Severity    string          `json:"severity"`
	Status      string          `json:"status"`
	Last        string          `json:"last_result"`
	Reason      textJSON        `json:"reason"`
	Evidence    map[string]any  `json:"evidence"`
	FirstSeen   time.Time       `json:"first_seen"`
	LastSeen    time.Time       `json:"last_seen"`
	OpenedAt    time.Time       `json:"opened_at"`
	FixedAt     *time.Time      `json:"fixed_at,omitempty"`
	Due         *time.Time      `json:"due,omitempty"`
	Overdue     bool            `json:"overdue"`
	Reopens     int             `json:"reopens"`
	RunID       string          `json:"run_id"`
	Acceptance  *acceptanceJSON `json:"acceptance,omitempty"`
}

func findingToJSON(now time.Time) func(finding.Finding) findingJSON {
	return func(f finding.Finding) findingJSON {
		f = f.Effective(now)
		j := findingJSON{Fingerprint: f.Fingerprint, Check: f.Check, Resource: f.Resource, Endpoint: f.Endpoint,
			Severity: string(f.Severity), Status: string(f.Status), Last: string(f.Last), Reason: textJSON(f.Reason),
			Evidence: f.Evidence, FirstSeen: f.FirstSeen.UTC(), LastSeen: f.LastSeen.UTC(), OpenedAt: f.OpenedAt.UTC(),
			Overdue: f.Overdue(now), Reopens: f.Reopens, RunID: f.RunID}
		if j.Evidence == nil {
			j.Evidence = map[string]any{}
		}
		if !f.FixedAt.IsZero() {
			t := f.FixedAt.UTC()
			j.FixedAt = &t
		}
		if due, ok := f.Due(); ok {
			due = due.UTC()
			j.Due = &due
		}
		if a := f.Acceptance; a != nil {
			j.Acceptance = &acceptanceJSON{By: a.By, Reason: a.Reason, At: a.At.UTC(), Expires: a.Expires.UTC()}
		}
		return j
	}
}

type eventJSON struct {
	At     time.Time `json:"at"`
	RunID  string    `json:"run_id,omitempty"`
	Change string    `json:"change"`
	Before string    `json:"before,omitempty"`
	After  string    `json:"after"`
	Actor  string    `json:"actor,omitempty"`
	Note   string    `json:"note,omitempty"`
}

// assessmentRequestJSON asks for an assessment of one resource, one system or an
// organization's subtree: exactly one field is set.
type assessmentRequestJSON struct {
	Resource string `json:"resource"`
	System   string `json:"system"`
	Org      string `json:"org"`
}

type outcomeJSON struct {
	Resource string   `json:"resource"`
	Run      *runJSON `json:"run,omitempty"`
	Error    string   `json:"error,omitempty"`
	Code     string   `json:"code,omitempty"`
}

type acceptJSON struct {
	Approver string    `json:"approver"`
	Reason   string    `json:"reason"`
	Expires  time.Time `json:"expires"`
}

type diffJSON struct {
	From       time.Time     `json:"from"`
	To         time.Time     `json:"to"`
	New        []findingJSON `json:"new"`
	Reopened   []findingJSON `json:"reopened"`
	Resolved   []findingJSON `json:"resolved"`
	Persisting []findingJSON `json:"persisting"`
}

func unavailable(what string) *apiError {
	return &apiError{status: http.StatusServiceUnavailable, code: "unavailable", msg: what + " is not configured on this server"}
}

func mapSlice[A, B any](in []A, f func(A) B) []B {
	out := make([]B, 0, len(in))
	for _, a := range in {
		out = append(out, f(a))
	}
	return out
}

// handleAssessmentCreate assesses now, synchronously, what the body names. Only resources in
// scope are assessed; the others come back as outcomes with the reason.
func handleAssessmentCreate(log *slog.Logger, svc assessAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if svc == nil {
			writeError(w, r, log, unavailable("assessment"))
			return
		}
		in, err := decode[assessmentRequestJSON](w, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		set := 0
		for _, v := range []string{in.Resource, in.System, in.Org} {
			if v != "" {
				set++
			}
		}
		if set != 1 {
			writeError(w, r, log, badRequest("", "name exactly one of resource, system or org to assess"))
			return
		}
		if in.Resource != "" {
			run, err := svc.AssessResource(r.Context(), in.Resource, assess.TriggerManual)
			if err != nil {
				writeError(w, r, log, err)
				return
			}
			rj := runToJSON(run)
			writeJSON(w, http.StatusCreated, map[string]any{"outcomes": []outcomeJSON{{Resource: run.Resource, Run: &rj}}})
			return
		}
		var outs []assess.Outcome
		if in.System != "" {
			outs, err = svc.AssessSystem(r.Context(), in.System, assess.TriggerManual)
		} else {
			outs, err = svc.AssessOrg(r.Context(), in.Org, assess.TriggerManual)
		}
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		res := make([]outcomeJSON, 0, len(outs))
		for _, o := range outs {
			oj := outcomeJSON{Resource: o.Resource}
			if o.Err != nil {
				oj.Error, _ = userMessage(o.Err)
				oj.Code = errs.KindOf(o.Err).String()
			} else {
				rj := runToJSON(o.Summary)
				oj.Run = &rj
			}
			res = append(res, oj)
		}
		writeJSON(w, http.StatusCreated, map[string]any{"outcomes": res})
	})
}

func handleFindingList(log *slog.Logger, svc assessAPI, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if svc == nil {
			writeError(w, r, log, unavailable("assessment"))
			return
		}
		q, page, err := listQuery(r, "resource", "system", "under", "status", "severity", "family", "check", "overdue")
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		status, err := enumParam(q, "status", finding.Statuses)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		sev, err := enumParam(q, "severity", []check.Severity{check.Critical, check.High, check.Medium, check.Low, check.Info})
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		overdue := false
		switch q.Get("overdue") {
		case "", "false":
		case "true":
			overdue = true
		default:
			writeError(w, r, log, badRequest("overdue", "overdue must be true or false"))
			return
		}
		at := now()
		f := assess.FindingFilter{Resource: q.Get("resource"), System: q.Get("system"), Under: q.Get("under"),
			Status: status, Severity: sev, Family: q.Get("family"), Check: q.Get("check"), Overdue: overdue, At: at, Page: page}
		fs, total, err := svc.Findings(r.Context(), f)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, newList(fs, total, page, findingToJSON(at)))
	})
}

func handleFindingGet(log *slog.Logger, svc assessAPI, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if svc == nil {
			writeError(w, r, log, unavailable("assessment"))
			return
		}
		f, err := svc.Finding(r.Context(), r.PathValue("fingerprint"))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		hist, err := svc.FindingHistory(r.Context(), f.Fingerprint)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		events := mapSlice(hist, func(e assess.Event) eventJSON {
			return eventJSON{At: e.At.UTC(), RunID: e.RunID, Change: string(e.Change), Before: string(e.Before), After: string(e.After), Actor: e.Actor, Note: e.Note}
		})
		writeJSON(w, http.StatusOK, map[string]any{"finding": findingToJSON(now())(f), "history": events})
	})
}

func handleFindingAccept(log *slog.Logger, svc assessAPI, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if svc == nil {
			writeError(w, r, log, unavailable("assessment"))
			return
		}
		in, err := decode[acceptJSON](w, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		f, err := svc.Accept(r.Context(), r.PathValue("fingerprint"), in.Approver, in.Reason, in.Expires)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, findingToJSON(now())(f))
	})
}

func handleRunGet(log *slog.Logger, svc assessAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if svc == nil {
			writeError(w, r, log, unavailable("assessment"))
			return
		}
		run, err := svc.Run(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		results, err := svc.RunResults(r.Context(), run.ID)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"run": runToJSON(run), "results": mapSlice(results, resultToJSON)})
	})
}

func handleResourceRuns(log *slog.Logger, svc assessAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if svc == nil {
			writeError(w, r, log, unavailable("assessment"))
			return
		}
		runs, err := svc.Runs(r.Context(), r.PathValue("id"), 50)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": mapSlice(runs, runToJSON)})
	})
}

// handleDiff answers "what is new, resolved, reopened and persisting" for a resource, a
// system or an organization subtree, between two times or two runs.
func handleDiff(log *slog.Logger, svc assessAPI, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if svc == nil {
			writeError(w, r, log, unavailable("assessment"))
			return
		}
		q := r.URL.Query()
		for k := range q {
			switch k {
			case "resource", "system", "under", "from", "to", "from_run", "to_run":
			default:
				writeError(w, r, log, badRequest(k, "unknown query parameter %q", k))
				return
			}
		}
		dq := assess.DiffQuery{Resource: q.Get("resource"), System: q.Get("system"), Under: q.Get("under"), FromRun: q.Get("from_run"), ToRun: q.Get("to_run")}
		for _, p := range []struct {
			name string
			dst  *time.Time
		}{{"from", &dq.From}, {"to", &dq.To}} {
			if v := q.Get(p.name); v != "" {
				t, err := time.Parse(time.RFC3339, v)
				if err != nil {
					writeError(w, r, log, badRequest(p.name, "%s must be an RFC 3339 time such as 2026-11-23T00:00:00Z", p.name))
					return
				}
				*p.dst = t
			}
		}
		d, err := svc.Diff(r.Context(), dq)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		conv := findingToJSON(now())
		writeJSON(w, http.StatusOK, diffJSON{From: d.From.UTC(), To: d.To.UTC(),
			New: mapSlice(d.New, conv), Reopened: mapSlice(d.Reopened, conv), Resolved: mapSlice(d.Resolved, conv), Persisting: mapSlice(d.Persisting, conv)})
	})
}
