package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"github.com/khien-vn/khien/internal/errs"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/assurance"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/gate"
	"github.com/khien-vn/khien/internal/index"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/report"
)

// The assurance API: the index and its history, the go-live gate, attestations, incidents and
// the scorecard, all through auth.Assurance, which scopes every call to the principal.

// maxEvidenceBody bounds a request that carries evidence files.
const maxEvidenceBody = 32 << 20

// scopedAssurance is d.Assurance as each request's principal may use it, or nil (the routes
// then answer 503 unavailable).
func scopedAssurance(d Deps) *auth.Assurance {
	if d.Auth == nil || d.Assurance == nil {
		return nil
	}
	return d.Auth.Assurance(d.Assurance, d.Inventory)
}

func noAssurance(w http.ResponseWriter, r *http.Request, log *slog.Logger, svc *auth.Assurance) bool {
	if svc == nil {
		writeError(w, r, log, unavailable("the assurance index"))
		return true
	}
	return false
}

func handleIndexGet(log *slog.Logger, svc *auth.Assurance, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if noAssurance(w, r, log, svc) {
			return
		}
		org, at := r.PathValue("org"), r.URL.Query().Get("at")
		var (
			ans assurance.Answer
			err error
		)
		switch {
		case at == "":
			ans, err = svc.Index(r.Context(), org)
		default:
			if _, perr := time.Parse(time.DateOnly, at); perr != nil {
				writeError(w, r, log, badRequest("at", "%q is not a date YYYY-MM-DD", at))
				return
			}
			ans, err = svc.IndexAt(r.Context(), org, at)
			if err != nil && at == assurance.Day(now()) && errs.Is(err, errs.NotFound) {
				ans, err = svc.Index(r.Context(), org)
			}
		}
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		methods, err := svc.Methods(r.Context())
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, assurance.ViewOf(ans, methods))
	})
}

func handleIndexHistory(log *slog.Logger, svc *auth.Assurance, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if noAssurance(w, r, log, svc) {
			return
		}
		q := r.URL.Query()
		today := now().UTC()
		from, to := q.Get("from"), q.Get("to")
		if from == "" {
			from = strconv.Itoa(today.Year()) + "-01-01"
		}
		if to == "" {
			to = assurance.Day(today)
		}
		h, err := svc.History(r.Context(), r.PathValue("org"), from, to)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"org": r.PathValue("org"), "from": from, "to": to, "points": h})
	})
}

type gateJSON struct {
	System string `json:"system"`
	Stage  string `json:"stage"`
}

func handleGateDecide(log *slog.Logger, svc *auth.Assurance) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if noAssurance(w, r, log, svc) {
			return
		}
		in, err := decode[gateJSON](w, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		if in.System == "" {
			writeError(w, r, log, badRequest("system", "is required"))
			return
		}
		rec, err := svc.Decide(r.Context(), in.System, inventory.Stage(in.Stage))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, rec)
	})
}

func handleSystemGate(log *slog.Logger, svc *auth.Assurance) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if noAssurance(w, r, log, svc) {
			return
		}
		ds, err := svc.Decisions(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		if ds == nil {
			ds = []assurance.DecisionRecord{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"system": r.PathValue("id"), "decisions": ds})
	})
}

func handleExceptionCreate(log *slog.Logger, svc *auth.Assurance) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if noAssurance(w, r, log, svc) {
			return
		}
		in, err := decode[gate.Exception](w, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		x, err := svc.AddException(r.Context(), in)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, x)
	})
}

// attestationJSON is a declaration; evidence comes as base64 in JSON, or as the files of a
// multipart/form-data request (field "evidence", the other fields as form values).
type attestationJSON struct {
	Control    string         `json:"control"`
	Org        string         `json:"org"`
	System     string         `json:"system"`
	Statement  string         `json:"statement"`
	ValidFrom  time.Time      `json:"valid_from"`
	ValidUntil time.Time      `json:"valid_until"`
	Evidence   []evidenceJSON `json:"evidence"`
}

type evidenceJSON struct {
	Name          string `json:"name"`
	ContentBase64 string `json:"content_base64"`
}

func handleAttestationCreate(log *slog.Logger, svc *auth.Assurance) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if noAssurance(w, r, log, svc) {
			return
		}
		in, files, err := readAttestation(w, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		p, _ := auth.PrincipalFrom(r.Context())
		a, err := svc.Declare(r.Context(), control.Attestation{Control: in.Control, Org: in.Org, System: in.System, Statement: in.Statement,
			DeclaredBy: p.Login, ValidFrom: in.ValidFrom, ValidUntil: in.ValidUntil}, files)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, a)
	})
}

func readAttestation(w http.ResponseWriter, r *http.Request) (attestationJSON, []assurance.File, error) {
	var in attestationJSON
	var files []assurance.File
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		r.Body = http.MaxBytesReader(w, r.Body, maxEvidenceBody)
		if err := r.ParseMultipartForm(maxEvidenceBody); err != nil {
			return in, nil, badRequest("", "cannot read the form: %v", err)
		}
		in.Control, in.Org, in.System, in.Statement = r.FormValue("control"), r.FormValue("org"), r.FormValue("system"), r.FormValue("statement")
		for _, fh := range r.MultipartForm.File["evidence"] {
			b, err := readPart(fh)
			if err != nil {
				return in, nil, badRequest("evidence", "cannot read %s: %v", fh.Filename, err)
			}
			files = append(files, assurance.File{Name: fh.Filename, Content: b})
		}
		return in, files, nil
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxEvidenceBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, nil, decodeError(err)
	}
	for i, e := range in.Evidence {
		b, err := base64.StdEncoding.DecodeString(e.ContentBase64)
		if err != nil {
			return in, nil, badRequest("evidence", "file %d (%s): content_base64 is not base64", i+1, e.Name)
		}
		files = append(files, assurance.File{Name: e.Name, Content: b})
	}
	return in, files, nil
}

func readPart(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, assurance.MaxEvidence+1))
}

type reviewJSON struct {
	Approved bool   `json:"approved"`
	Comment  string `json:"comment"`
}

func handleAttestationReview(log *slog.Logger, svc *auth.Assurance) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if noAssurance(w, r, log, svc) {
			return
		}
		in, err := decode[reviewJSON](w, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		p, _ := auth.PrincipalFrom(r.Context())
		a, err := svc.Review(r.Context(), r.PathValue("id"), control.Review{By: p.Login, Approved: in.Approved, Comment: in.Comment})
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, a)
	})
}

func handleAttestationList(log *slog.Logger, svc *auth.Assurance) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if noAssurance(w, r, log, svc) {
			return
		}
		q := r.URL.Query()
		as, err := svc.Attestations(r.Context(), q.Get("org"), q.Get("system"))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"attestations": as, "total": len(as)})
	})
}

func handleIncidentCreate(log *slog.Logger, svc *auth.Assurance) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if noAssurance(w, r, log, svc) {
			return
		}
		in, err := decode[index.Incident](w, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		i, err := svc.ReportIncident(r.Context(), in)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, i)
	})
}

func handleIncidentList(log *slog.Logger, svc *auth.Assurance) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if noAssurance(w, r, log, svc) {
			return
		}
		is, err := svc.Incidents(r.Context(), r.URL.Query().Get("org"))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"incidents": is, "total": len(is)})
	})
}

func handleScorecard(log *slog.Logger, svc *auth.Assurance, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if noAssurance(w, r, log, svc) {
			return
		}
		q := r.URL.Query()
		org, format := q.Get("org"), q.Get("format")
		if org == "" {
			writeError(w, r, log, badRequest("org", "is required"))
			return
		}
		year := now().UTC().Year()
		if y := q.Get("year"); y != "" {
			var err error
			if year, err = strconv.Atoi(y); err != nil {
				writeError(w, r, log, badRequest("year", "%q is not a year", y))
				return
			}
		}
		if format == "" {
			format = "pdf"
		}
		if format != "pdf" && format != "html" {
			writeError(w, r, log, badRequest("format", "must be pdf or html, got %q", format))
			return
		}
		sc, err := svc.Scorecard(r.Context(), org, year)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		var b bytes.Buffer
		ctype := "application/pdf"
		if format == "html" {
			err, ctype = report.WriteHTML(&b, sc), "text/html; charset=utf-8"
		} else {
			err = report.WritePDF(&b, sc)
		}
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Disposition", `attachment; filename="scorecard-`+sanitizeName(org)+"-"+strconv.Itoa(year)+"."+format+`"`)
		w.WriteHeader(http.StatusOK)
		w.Write(b.Bytes())
	})
}

// sanitizeName keeps an organization code safe in a file name.
func sanitizeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
