package storetest

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/assurance"
	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/gate"
	"github.com/khien-vn/khien/internal/index"
	"github.com/khien-vn/khien/internal/inventory"
)

// RunAssurance checks the assurance records: evidence by content address, attestations with
// one review each, incidents and requests replaced by id, removals, daily index snapshots
// that give back their Input byte for byte and times to the nanosecond, methods, the latest
// gate policy, exceptions and decisions newest first.
func RunAssurance(t *testing.T, open func(t *testing.T) assurance.Store) {
	// A time with nanoseconds in Vietnam's zone: stores must give it back exactly, in UTC.
	at := time.Date(2026, 12, 1, 7, 0, 0, 123456789, time.FixedZone("ICT", 7*3600))
	t.Run("Evidence", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		content := []byte("Biên bản kiểm tra — bản quét")
		ev := control.NewEvidenceFile("bienban.pdf", content)
		if err := st.PutEvidence(ctx, ev.SHA256, content, at); err != nil {
			t.Fatal(err)
		}
		if err := st.PutEvidence(ctx, ev.SHA256, content, at); err != nil {
			t.Errorf("storing the same content again = %v, want a no-op", err)
		}
		if err := st.PutEvidence(ctx, ev.SHA256, []byte("khác"), at); !errs.Is(err, errs.Invalid) {
			t.Errorf("content under another hash = %v, want invalid", err)
		}
		got, err := st.Evidence(ctx, ev.SHA256)
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("Evidence = %q, %v", got, err)
		}
		if _, err := st.Evidence(ctx, "00"); !errs.Is(err, errs.NotFound) {
			t.Errorf("Evidence(missing) = %v, want not found", err)
		}
	})
	t.Run("Attestations", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		content := []byte("quy chế")
		ev := control.NewEvidenceFile("quyche.pdf", content)
		a := control.Attestation{ID: "att-1", Control: "org.policy.approved", Org: "SH", DeclaredBy: "Nguyễn Văn A",
			DeclaredAt: at, Evidence: []control.EvidenceFile{ev}, ValidFrom: at}
		if err := st.CreateAttestation(ctx, a); !errs.Is(err, errs.Invalid) {
			t.Errorf("attestation with evidence not uploaded = %v, want invalid", err)
		}
		if err := st.PutEvidence(ctx, ev.SHA256, content, at); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateAttestation(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateAttestation(ctx, a); !errs.Is(err, errs.Conflict) {
			t.Errorf("second CreateAttestation = %v, want conflict", err)
		}
		b := a
		b.ID, b.Org, b.System, b.Control, b.DeclaredAt = "att-2", "", "sh-portal", "sys.level.approved", at.Add(time.Hour)
		if err := st.CreateAttestation(ctx, b); err != nil {
			t.Fatal(err)
		}
		r := control.Review{By: "Trần Thị B", At: at.Add(2 * time.Hour), Approved: true}
		got, err := st.ReviewAttestation(ctx, "att-1", r)
		if err != nil || got.Review == nil || !got.Review.At.Equal(r.At) {
			t.Fatalf("ReviewAttestation = %+v, %v", got, err)
		}
		if _, err := st.ReviewAttestation(ctx, "att-1", r); !errs.Is(err, errs.Conflict) {
			t.Errorf("second review = %v, want conflict", err)
		}
		if _, err := st.ReviewAttestation(ctx, "att-9", r); !errs.Is(err, errs.NotFound) {
			t.Errorf("review of a missing attestation = %v, want not found", err)
		}
		one, err := st.Attestation(ctx, "att-1")
		if err != nil || one.Review == nil || !one.DeclaredAt.Equal(at) || !one.Valid(at.Add(3*time.Hour)) {
			t.Errorf("Attestation(att-1) = %+v, %v; want reviewed, the time to the nanosecond", one, err)
		}
		all, err := st.Attestations(ctx, "", "")
		if err != nil || len(all) != 2 || all[0].ID != "att-1" {
			t.Errorf("Attestations() = %+v, %v", all, err)
		}
		sys, err := st.Attestations(ctx, "", "sh-portal")
		if err != nil || len(sys) != 1 || sys[0].ID != "att-2" {
			t.Errorf("Attestations(system) = %+v, %v", sys, err)
		}
		org, err := st.Attestations(ctx, "SH", "")
		if err != nil || len(org) != 1 || org[0].ID != "att-1" {
			t.Errorf("Attestations(org) = %+v, %v", org, err)
		}
	})
	t.Run("IncidentsRequestsRemovals", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		inc := index.Incident{ID: "SC-1", Org: "SH.YT", PersonalData: true, DiscoveredAt: at}
		if err := st.PutIncident(ctx, inc); err != nil {
			t.Fatal(err)
		}
		inc.NotifiedAt = at.Add(80 * time.Hour)
		if err := st.PutIncident(ctx, inc); err != nil {
			t.Fatal(err)
		}
		incs, err := st.Incidents(ctx)
		if err != nil || len(incs) != 1 || !incs[0].NotifiedAt.Equal(inc.NotifiedAt) || !incs[0].DiscoveredAt.Equal(at) || incs[0].DiscoveredAt.Nanosecond() != at.Nanosecond() {
			t.Errorf("Incidents = %+v, %v; want the replaced one", incs, err)
		}
		req := index.Request{ID: "YC-1", Org: "SH", ReceivedAt: at, Urgent: true}
		if err := st.PutRequest(ctx, req); err != nil {
			t.Fatal(err)
		}
		if reqs, err := st.Requests(ctx); err != nil || len(reqs) != 1 || !reqs[0].Urgent {
			t.Errorf("Requests = %+v, %v", reqs, err)
		}
		rm := index.RemovedSystem{ID: "sh-cu", Org: "SH.YT", Name: "Hệ thống cũ", Level: 2, Stage: inventory.StageOperation, RemovedAt: at, By: "Phạm Thu Hà"}
		if err := st.RecordRemoval(ctx, rm, inventory.System{ID: "sh-cu", Org: "SH.YT", Level: 2}); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordRemoval(ctx, rm, inventory.System{}); !errs.Is(err, errs.Conflict) {
			t.Errorf("the same removal twice = %v, want conflict", err)
		}
		rms, err := st.Removals(ctx)
		if err == nil && len(rms) == 1 && rms[0].RemovedAt.Equal(at) {
			rms[0].RemovedAt = at
		}
		if err != nil || len(rms) != 1 || !reflect.DeepEqual(rms[0], rm) {
			t.Errorf("Removals = %+v, %v", rms, err)
		}
	})
	t.Run("Snapshots", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		input := []byte(`{"orgs":[{"code":"SH","name":"Sông Hồng"}]}`)
		day := func(d string, tenths int, result string) assurance.DaySnapshot {
			return assurance.DaySnapshot{Day: d, AsOf: at, Method: "khien-2026.1", Input: input,
				Orgs: []assurance.OrgSnapshot{{Org: "SH", Tenths: tenths, Grade: index.Meets, Result: []byte(result)},
					{Org: "SH.YT", Tenths: 483, Grade: index.Fails, Result: []byte(`{}`)}}}
		}
		for _, d := range []assurance.DaySnapshot{day("2026-11-30", 640, `{"a":1}`), day("2026-12-01", 600, `{"index":60.00000000000001}`), day("2026-12-01", 645, `{"index":64.50666666666667}`)} {
			if err := st.PutSnapshot(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.IndexSnapshot(ctx, "SH", "2026-12-01")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Input, input) || got.AsOf != at.UTC() || got.Method != "khien-2026.1" || len(got.Orgs) != 1 ||
			string(got.Orgs[0].Result) != `{"index":64.50666666666667}` || got.Orgs[0].Tenths != 645 {
			t.Errorf("IndexSnapshot = %+v; want the day's second computation, byte for byte", got)
		}
		if _, err := st.IndexSnapshot(ctx, "SH", "2026-12-02"); !errs.Is(err, errs.NotFound) {
			t.Errorf("IndexSnapshot(missing day) = %v, want not found", err)
		}
		h, err := st.History(ctx, "SH", "2026-11-01", "2026-12-31")
		if err != nil || len(h) != 2 || h[0].Day != "2026-11-30" || h[1].Tenths != 645 || h[1].Index != 64.5 {
			t.Errorf("History = %+v, %v", h, err)
		}
	})
	t.Run("MethodsAndGate", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		if err := st.PutMethod(ctx, "khien-2027.1", at.AddDate(1, 0, 0), []byte("id: khien-2027.1\n"), at); err != nil {
			t.Fatal(err)
		}
		if err := st.PutMethod(ctx, "khien-2026.2", at, []byte("id: khien-2026.2\n"), at); err != nil {
			t.Fatal(err)
		}
		if ms, err := st.Methods(ctx); err != nil || len(ms) != 2 || string(ms[0]) != "id: khien-2026.2\n" {
			t.Errorf("Methods = %q, %v", ms, err)
		}
		if _, err := st.GatePolicy(ctx); !errs.Is(err, errs.NotFound) {
			t.Errorf("GatePolicy() with none = %v, want not found", err)
		}
		for i, id := range []string{"p1", "p2"} {
			if err := st.SetGatePolicy(ctx, id, []byte("id: "+id), "admin", at.Add(time.Duration(i)*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if y, err := st.GatePolicy(ctx); err != nil || string(y) != "id: p2" {
			t.Errorf("GatePolicy = %q, %v; want the latest", y, err)
		}
		x := gate.Exception{ID: "EX-1", System: "sh-portal", Reasons: []string{"open_high"}, Approver: "Chủ tịch",
			Justification: "Đang thay thế thư viện, có biện pháp bù", ApprovedAt: at, Expires: at.AddDate(0, 1, 0)}
		if err := st.CreateException(ctx, x); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateException(ctx, x); !errs.Is(err, errs.Conflict) {
			t.Errorf("second CreateException = %v, want conflict", err)
		}
		if xs, err := st.Exceptions(ctx, "sh-portal"); err != nil || len(xs) != 1 || !xs[0].Active("sh-portal", inventory.StageOperation, at) {
			t.Errorf("Exceptions = %+v, %v", xs, err)
		}
		if xs, err := st.Exceptions(ctx, "other"); err != nil || len(xs) != 0 {
			t.Errorf("Exceptions(other) = %+v, %v", xs, err)
		}
		for i, allowed := range []bool{false, true} {
			d := gate.Decision{System: "sh-portal", Stage: inventory.StageOperation, AsOf: at.Add(time.Duration(i) * time.Minute), Allowed: allowed,
				Reasons: []gate.Reason{{Code: gate.OpenHigh, VI: "Phát hiện mức cao", EN: "Open high finding"}}}
			if err := st.RecordDecision(ctx, "gd-"+string(rune('a'+i)), d, "cli"); err != nil {
				t.Fatal(err)
			}
		}
		ds, err := st.Decisions(ctx, "sh-portal", 0)
		if err != nil || len(ds) != 2 || ds[0].ID != "gd-b" || !ds[0].Decision.Allowed || ds[1].Decision.Reasons[0].VI != "Phát hiện mức cao" {
			t.Errorf("Decisions = %+v, %v; want newest first", ds, err)
		}
	})
}
