package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/assurance"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/demo"
	"github.com/khien-vn/khien/internal/gate"
	"github.com/khien-vn/khien/internal/index"
	"github.com/khien-vn/khien/internal/inventory"
)

// demoProfile is how far along one system of the demo is: the share of its required controls
// attested and approved, and the checks that fail on its resources.
type demoProfile struct {
	share float64
	fails []string
}

// The demo's departments are at different points on purpose, so that the province shows a
// spread of grades: the Office is well along, Finance has a known-exploited vulnerability
// that the gate stops, Health reported a breach late, Education has barely started.
var demoProfiles = map[string]demoProfile{
	"sh-cong-ttdt":       {0.95, []string{"tls.protocol.no_tls13"}},
	"sh-dichvucong":      {0.9, []string{"tls.cipher.weak"}},
	"sh-qlvb":            {0.95, nil},
	"sh-email":           {0.7, []string{"http.hsts.missing", "tls.protocol.tls10"}},
	"sh-trungtam-dulieu": {0.6, []string{"tls.cert.expiring"}},
	"sh-lgsp":            {0.4, nil},
	"sh-hsba":            {0.8, []string{"http.csp.missing"}},
	"sh-yte-tiemchung":   {0.6, nil},
	"sh-gd-csdl":         {0.15, []string{"http.https.missing", "tls.cipher.weak", "tls.cert.untrusted"}},
	"sh-tc-ngansach":     {0.85, []string{"vuln.known_exploited"}},
	"sh-bd-mot-cua":      {0.5, []string{"http.xcto.missing"}},
	"sh-ns-camera":       {0.1, []string{"http.https.missing"}},
	"sh-ta-trang":        {0.6, nil},
	"sh-dl-trang":        {0.3, []string{"http.hsts.missing"}},
}

var demoOrgShare = map[string]float64{"SH": 1, "SH.VP": 0.9, "SH.KHCN": 0.7, "SH.YT": 0.6, "SH.GDDT": 0.2, "SH.TC": 0.8,
	"SH.BD": 0.5, "SH.NS": 0.3, "SH.BD.TA": 0.5, "SH.BD.PH": 0.3, "SH.NS.DL": 0.3}

// demoChecks are the checks every assessed resource of the demo reports on.
var demoChecks = []string{"tls.protocol.ssl3", "tls.protocol.tls10", "tls.protocol.tls11", "tls.protocol.no_tls13", "tls.cipher.weak",
	"tls.cert.expired", "tls.cert.expiring", "tls.cert.untrusted", "tls.cert.hostname_mismatch", "http.https.missing",
	"http.hsts.missing", "http.csp.missing", "http.xcto.missing", "http.framing.unprotected", "http.cors.permissive", "vuln.known_exploited"}

// demoGateSystem is the system the demo asks the gate about: denied, with readable reasons.
const demoGateSystem = "sh-tc-ngansach"

// seedGovernance records what the index and the gate read for the demo province: an assessment
// of every resource in scope, attestations (approved, rejected and lapsed), a breach notified
// late, an authority request and a gate exception. It does nothing if attestations exist.
func seedGovernance(ctx context.Context, a *app.App) error {
	if atts, err := a.Assurance.Attestations(ctx, "", ""); err != nil || len(atts) > 0 {
		return err
	}
	now := a.Now()
	checks, err := check.LoadCatalog()
	if err != nil {
		return err
	}
	sev := map[string]check.Severity{}
	for _, id := range demoChecks {
		d, _ := checks.Def(id)
		sev[id] = d.Severity
	}
	inv, err := a.Inventory.Store().Snapshot(ctx)
	if err != nil {
		return err
	}
	systems := map[string]inventory.System{}
	for _, s := range inv.Systems {
		systems[s.ID] = s
	}
	for i, r := range inv.Resources {
		p, ok := demoProfiles[r.System]
		if !ok || r.Scope != inventory.ScopeAssigned && r.Scope != inventory.ScopeVerified {
			continue
		}
		// Everything failing was first seen 20 days ago and is seen again today.
		for j, at := range []time.Time{now.Add(-20 * 24 * time.Hour), now.Add(-2 * time.Hour)} {
			var results []check.Result
			for _, c := range demoChecks {
				st := check.Pass
				for _, f := range p.fails {
					if f == c {
						st = check.Fail
					}
				}
				results = append(results, check.Result{Check: c, Resource: r.ID, Endpoint: r.ID, Status: st, At: at,
					Reason: check.Text{VI: "kết quả mẫu của bản demo", EN: "sample result of the demo"}})
			}
			run := assess.Run{ID: fmt.Sprintf("demo-%03d-%d", i, j), Resource: r.ID, System: r.System, Trigger: assess.TriggerSchedule,
				Status: assess.RunComplete, Started: at.Add(-time.Minute), Finished: at}
			if _, err := a.Store.RecordRun(ctx, run, results, sev); err != nil {
				return fmt.Errorf("demo run of %s: %w", r.ID, err)
			}
		}
	}
	cat := a.Assurance.Catalog()
	evidence := func(what string) []assurance.File {
		return []assurance.File{{Name: "bien-ban.txt", Content: []byte("Biên bản: " + what)}}
	}
	attest := func(c control.Control, org, system string, approve bool, declared time.Time, until time.Time) error {
		att, err := a.Assurance.Declare(ctx, control.Attestation{Control: c.ID, Org: org, System: system,
			DeclaredBy: "Cán bộ chuyên trách " + org + system, DeclaredAt: declared, ValidFrom: declared, ValidUntil: until,
			Statement: "Đã thực hiện: " + c.Title.VI}, evidence(c.ID))
		if err != nil {
			return fmt.Errorf("demo attestation %s %s%s: %w", c.ID, org, system, err)
		}
		r := control.Review{By: "Lãnh đạo phụ trách", At: declared.Add(24 * time.Hour), Approved: approve}
		if !approve {
			r.Comment = "Bằng chứng chưa đủ: thiếu biên bản có chữ ký"
		}
		_, err = a.Assurance.Review(ctx, att.ID, r)
		return err
	}
	declared := now.Add(-30 * 24 * time.Hour)
	for _, s := range inv.Systems {
		p, ok := demoProfiles[s.ID]
		if !ok {
			continue
		}
		req := control.ForSystem(cat.Controls, s.Level, s.DataClasses, now)
		n := int(p.share * float64(len(req)))
		for k, c := range req {
			var err error
			switch {
			case k < n:
				err = attest(c, "", s.ID, true, declared, time.Time{})
			case k == n:
				err = attest(c, "", s.ID, false, declared, time.Time{})
			case k == n+1 && s.ID == "sh-trungtam-dulieu":
				// Approved two years ago for a year: lapsed.
				err = attest(c, "", s.ID, true, now.AddDate(-2, 0, 0), now.AddDate(-1, 0, 0))
			}
			if err != nil {
				return err
			}
		}
	}
	for _, o := range inv.Orgs {
		level := 1
		for _, s := range inv.Systems {
			if s.Org == o.Code && s.Level > level && s.Stage != inventory.StageRetired {
				level = s.Level
			}
		}
		req := control.ForOrg(cat.Controls, level, now)
		n := int(demoOrgShare[o.Code] * float64(len(req)))
		for k, c := range req[:n] {
			until := time.Time{}
			at := declared
			if o.Code == "SH.GDDT" && k == 0 {
				at, until = now.AddDate(-2, 0, 0), now.AddDate(-1, 0, 0) // lapsed
			}
			if err := attest(c, o.Code, "", true, at, until); err != nil {
				return err
			}
		}
	}
	// A personal-data breach at the Department of Health, notified after 80 hours (72 allowed).
	disc := now.Add(-15 * 24 * time.Hour)
	if _, err := a.Assurance.ReportIncident(ctx, index.Incident{ID: "SC-2026-07", Org: "SH.YT", System: "sh-hsba", PersonalData: true,
		DiscoveredAt: disc, ReportedAt: disc.Add(20 * time.Hour), FullReportAt: disc.Add(60 * time.Hour), NotifiedAt: disc.Add(80 * time.Hour)}); err != nil {
		return err
	}
	recv := now.Add(-10 * 24 * time.Hour)
	if _, err := a.Assurance.RecordRequest(ctx, index.Request{ID: "YC-101", Org: "SH.VP", ReceivedAt: recv, AnsweredAt: recv.Add(6 * time.Hour)}); err != nil {
		return err
	}
	// The public-service portal may go on with its weak cipher while the provider replaces it.
	_, err = a.Assurance.AddException(ctx, gate.Exception{ID: "EX-2026-01", System: "sh-dichvucong", Stage: inventory.StageOperation,
		Reasons: []string{"open_high"}, Approver: "Nguyễn Văn Hùng (Chủ tịch UBND tỉnh)",
		Justification: "Nhà cung cấp thay bộ mã hóa trong đợt nâng cấp tháng 12; đã bật tường lửa ứng dụng web",
		ApprovedAt:    now.Add(-24 * time.Hour), Expires: now.AddDate(0, 0, 60)})
	return err
}

// demoGovernance seeds the records, stores today's snapshot, prints the province's grades, asks
// the gate about one system and writes the scorecard next to the demo store.
func demoGovernance(ctx context.Context, w io.Writer, a *app.App, db string) error {
	if err := seedGovernance(ctx, a); err != nil {
		return err
	}
	d, err := a.Assurance.Snapshot(ctx, a.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nChỉ số bảo đảm an ninh mạng ngày %s / assurance index:\n", d.Day)
	methods, err := a.Assurance.Methods(ctx)
	if err != nil {
		return err
	}
	for _, o := range d.Orgs {
		if strings.Count(o.Org, ".") > 1 {
			continue
		}
		vi, _ := assurance.GradeName(methods, d.Method, o.Grade)
		fmt.Fprintf(w, "  %5.1f  %-8s %s\n", float64(o.Tenths)/10, o.Org, vi)
	}
	rec, err := a.Assurance.Decide(ctx, demoGateSystem, inventory.StageOperation, "demo")
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	printDecision(w, rec)
	dir := "."
	if !strings.Contains(db, "://") {
		dir = filepath.Dir(db)
	}
	path := filepath.Join(dir, fmt.Sprintf("khien-demo-scorecard-%s-%d.pdf", demo.Root, a.Now().Year()))
	if err := writeScorecard(ctx, a, demo.Root, a.Now().Year(), path); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nBảng điểm / scorecard: %s\n", path)
	return nil
}
