package control

import (
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/errs"
)

func day(n int) time.Time { return time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC).AddDate(0, 0, n) }

func backupAttestation() Attestation {
	return Attestation{
		ID: "a1", Control: "sys.op.backup", System: "sh-dichvucong",
		DeclaredBy: "Trần Văn Nam", DeclaredAt: day(0),
		Evidence:  []EvidenceFile{NewEvidenceFile("lich-sao-luu.pdf", []byte("lịch sao lưu"))},
		Review:    &Review{By: "Lê Thị Hoa", At: day(2), Approved: true},
		ValidFrom: day(0), ValidUntil: day(0).AddDate(0, 6, 0),
	}
}

func TestStateAt(t *testing.T) {
	ok := backupAttestation()
	rejected := backupAttestation()
	rejected.Review = &Review{By: "Lê Thị Hoa", At: day(2), Comment: "nhật ký sao lưu không có ngày"}
	pending := backupAttestation()
	pending.Review = nil
	later := backupAttestation()
	later.ValidFrom = day(10)
	open := backupAttestation()
	open.ValidUntil = time.Time{}
	tests := []struct {
		name string
		a    Attestation
		at   time.Time
		want State
	}{
		{"before declaration it does not exist", ok, day(-1), StateMissing},
		{"declared, review still to come", ok, day(1), StatePending},
		{"approved", ok, day(2), StateApproved},
		{"last instant of validity", ok, ok.ValidUntil.Add(-time.Nanosecond), StateApproved},
		{"lapses at ValidUntil", ok, ok.ValidUntil, StateExpired},
		{"rejected", rejected, day(5), StateRejected},
		{"never reviewed", pending, day(100), StatePending},
		{"valid only later", later, day(5), StateNotYet},
		{"no end", open, day(3000), StateApproved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.StateAt(tt.at); got != tt.want {
				t.Errorf("StateAt(%v) = %s, want %s", tt.at, got, tt.want)
			}
			if tt.a.Valid(tt.at) != (tt.want == StateApproved) {
				t.Errorf("Valid disagrees with StateAt")
			}
		})
	}
}

func TestValidate(t *testing.T) {
	cat := mustLoad(t)
	backup, _ := cat.Control("sys.op.backup")
	tests := []struct {
		name  string
		edit  func(*Attestation)
		field string // "" means valid
	}{
		{"valid", func(*Attestation) {}, ""},
		{"own review", func(a *Attestation) { a.Review.By = " trần văn nam " }, "review.by"},
		{"rejection without comment", func(a *Attestation) { a.Review.Approved = false }, "review.comment"},
		{"review before declaration", func(a *Attestation) { a.Review.At = day(-1) }, "review.at"},
		{"no evidence", func(a *Attestation) { a.Evidence = nil }, "evidence"},
		{"bad hash", func(a *Attestation) { a.Evidence[0].SHA256 = "ABC" }, "evidence.sha256"},
		{"path in name", func(a *Attestation) { a.Evidence[0].Name = "../etc/passwd" }, "evidence.name"},
		{"org on a system control", func(a *Attestation) { a.System, a.Org = "", "SH" }, "system"},
		{"empty period", func(a *Attestation) { a.ValidUntil = a.ValidFrom }, "valid_until"},
		{"no declarer", func(a *Attestation) { a.DeclaredBy = "" }, "declared_by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := backupAttestation()
			tt.edit(&a)
			err := a.Validate(backup)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want ok", err)
				}
				return
			}
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("Validate = %v, want invalid %s", err, tt.field)
			}
			if !strings.Contains(err.Error(), tt.field+":") {
				t.Errorf("Validate = %v, want field %s", err, tt.field)
			}
		})
	}
}

func TestEvidence(t *testing.T) {
	content := []byte("biên bản khôi phục thử")
	e := NewEvidenceFile("bien-ban.pdf", content)
	if len(e.SHA256) != 64 || e.Size != int64(len(content)) {
		t.Fatalf("NewEvidenceFile = %+v", e)
	}
	if want := "sha256/" + e.SHA256[:2] + "/" + e.SHA256; e.Key() != want {
		t.Errorf("Key = %s, want %s", e.Key(), want)
	}
	if err := e.Verify(content); err != nil {
		t.Errorf("Verify(original) = %v", err)
	}
	if err := e.Verify(append(content, '.')); !errs.Is(err, errs.Conflict) {
		t.Errorf("Verify(changed) = %v, want conflict", err)
	}
	// The same content uploaded twice has one address.
	if NewEvidenceFile("other-name.pdf", content).Key() != e.Key() {
		t.Error("content addressing depends on the name")
	}
	if got := NewEvidenceFile("empty", nil).SHA256; got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("SHA-256 of nothing = %s", got)
	}
}

func TestFind(t *testing.T) {
	old := backupAttestation()
	renewed := backupAttestation()
	renewed.ID, renewed.DeclaredAt, renewed.ValidFrom = "a2", day(150), day(150)
	renewed.Review = &Review{By: "Lê Thị Hoa", At: day(151), Approved: true}
	renewed.ValidUntil = day(150).AddDate(0, 6, 0)
	rejected := backupAttestation()
	rejected.ID, rejected.DeclaredAt = "a3", day(200)
	rejected.Review = &Review{By: "Lê Thị Hoa", At: day(201), Comment: "thiếu nhật ký"}
	other := backupAttestation()
	other.ID, other.System = "a4", "sh-qlvb"
	atts := []Attestation{rejected, renewed, old, other}

	tests := []struct {
		at        time.Time
		wantID    string
		wantState State
	}{
		{day(-1), "", StateMissing},
		{day(1), "a1", StatePending},
		{day(10), "a1", StateApproved},
		{day(152), "a2", StateApproved}, // both valid: the later one decides
		{day(202), "a2", StateApproved}, // a rejected renewal does not undo a valid one
		{day(400), "a3", StateRejected}, // nothing valid: the latest declaration explains
		{day(185), "a2", StateApproved}, // a1 has lapsed, a2 holds
		{day(0).AddDate(0, 6, 0), "a2", StateApproved},
	}
	for _, tt := range tests {
		a, st := Find(atts, "sys.op.backup", ScopeSystem, "sh-dichvucong", tt.at)
		if a.ID != tt.wantID || st != tt.wantState {
			t.Errorf("Find at %s = %s %s, want %s %s", tt.at.Format(time.DateOnly), a.ID, st, tt.wantID, tt.wantState)
		}
	}
	if _, st := Find(atts, "sys.op.backup", ScopeOrganization, "sh-dichvucong", day(10)); st != StateMissing {
		t.Error("an attestation about a system must not count for an organization of the same code")
	}
}

// TestDescribeRejected: a rejection names its reviewer and quotes the comment as written, in
// both sentences, so that a Vietnamese comment in the English one reads as a quotation.
func TestDescribeRejected(t *testing.T) {
	a := backupAttestation()
	a.Review = &Review{By: "Lê Thị Hoa", At: day(2), Comment: "nhật ký sao lưu không có ngày"}
	anon := backupAttestation()
	anon.Review = &Review{At: day(2), Comment: "thiếu biên bản"}
	tests := []struct {
		a      Attestation
		vi, en string
	}{
		{a, "bị Lê Thị Hoa từ chối, nhận xét: «nhật ký sao lưu không có ngày»", "rejected by Lê Thị Hoa, who wrote: “nhật ký sao lưu không có ngày”"},
		{anon, "bị từ chối, nhận xét: «thiếu biên bản»", "rejected: “thiếu biên bản”"},
	}
	for _, tt := range tests {
		vi, en := Describe(tt.a, StateRejected)
		if vi != tt.vi || en != tt.en {
			t.Errorf("Describe = %q, %q\nwant       %q, %q", vi, en, tt.vi, tt.en)
		}
	}
}
