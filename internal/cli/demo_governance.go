package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/assurance"
	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/demo"
	"github.com/khien-vn/khien/internal/gate"
	"github.com/khien-vn/khien/internal/index"
	"github.com/khien-vn/khien/internal/inventory"
)

// demoShare is how far along each system of the demo is with its controls: the share of its
// required controls attested and approved. The departments are at different points on
// purpose, so that the province shows a spread of grades; what their hosts fail is found by
// real scans of the lab, not written here.
var demoShare = map[string]float64{
	"sh-cong-ttdt": 1.0, "sh-dichvucong": 0.9, "sh-qlvb": 1.0, "sh-email": 0.7, "sh-trungtam-dulieu": 0.6,
	"sh-lgsp": 0.4, "sh-hsba": 0.8, "sh-yte-tiemchung": 0.6, "sh-gd-csdl": 0.15, "sh-tc-ngansach": 1.0,
	"sh-bd-mot-cua": 0.5, "sh-ns-camera": 0.1, "sh-ta-trang": 0.6, "sh-dl-trang": 0.3,
}

var demoOrgShare = map[string]float64{"SH": 1, "SH.VP": 0.9, "SH.KHCN": 0.7, "SH.YT": 0.6, "SH.GDDT": 0.2, "SH.TC": 0.8,
	"SH.BD": 0.5, "SH.NS": 0.3, "SH.BD.TA": 0.5, "SH.BD.PH": 0.3, "SH.NS.DL": 0.3}

// demoGateSystem is the system the demo asks the gate about: denied, with readable reasons.
const demoGateSystem = "sh-hsba"

// seedGovernance records what people declare for the demo province: attestations (approved, rejected and lapsed), a breach notified
// late, an authority request and a gate exception. It does nothing if attestations exist.
func seedGovernance(ctx context.Context, a *app.App) error {
	if atts, err := a.Assurance.Attestations(ctx, "", ""); err != nil || len(atts) > 0 {
		return err
	}
	now := a.Now()
	inv, err := a.Inventory.Store().Snapshot(ctx)
	if err != nil {
		return err
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
		share, ok := demoShare[s.ID]
		if !ok {
			continue
		}
		req := control.ForSystem(cat.Controls, s.Level, s.DataClasses, now)
		n := int(share * float64(len(req)))
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
	// The public-service portal may go on with its remaining high findings while the provider
	// replaces the old front end; the critical ones still block it.
	_, err = a.Assurance.AddException(ctx, gate.Exception{ID: "EX-2026-01", System: "sh-dichvucong", Stage: inventory.StageOperation,
		Reasons: []string{"open_high"}, Approver: "Nguyễn Văn Hùng (Chủ tịch UBND tỉnh)",
		Justification: "Nhà cung cấp thay máy chủ giao diện trong đợt nâng cấp tháng 12; đã bật tường lửa ứng dụng web",
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
