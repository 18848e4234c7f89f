package control

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/errs"
)

// EvidenceFile is one file backing an attestation. The file itself is stored once under its
// content address (Key), so the same scan report attached to ten attestations is kept once and
// any change to it is detectable.
type EvidenceFile struct {
	Name   string `json:"name"`   // the name it was uploaded under, for people
	SHA256 string `json:"sha256"` // lower-case hex of the SHA-256 of the content
	Size   int64  `json:"size"`
}

// NewEvidenceFile describes content uploaded under name.
func NewEvidenceFile(name string, content []byte) EvidenceFile {
	sum := sha256.Sum256(content)
	return EvidenceFile{Name: name, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content))}
}

// EvidenceKey is the content address of a file with this SHA-256: "sha256/ab/abcdef…", the
// first byte fanning the files out over 256 directories or key prefixes.
func EvidenceKey(sha string) string {
	if len(sha) < 2 {
		return "sha256/" + sha
	}
	return "sha256/" + sha[:2] + "/" + sha
}

// Key returns the content address of the file (EvidenceKey).
func (e EvidenceFile) Key() string { return EvidenceKey(e.SHA256) }

// Verify reports whether content is the file e describes.
func (e EvidenceFile) Verify(content []byte) error {
	got := NewEvidenceFile(e.Name, content)
	if got.SHA256 != e.SHA256 || got.Size != e.Size {
		return errs.E(errs.Conflict, "evidence %q does not match its record: sha256 %s, size %d, recorded %s, %d",
			e.Name, got.SHA256, got.Size, e.SHA256, e.Size)
	}
	return nil
}

// Validate checks the record's fields.
func (e EvidenceFile) Validate() error {
	switch {
	case strings.TrimSpace(e.Name) == "":
		return errs.Field("evidence.name", "is required")
	case len(e.Name) > 255 || strings.ContainsAny(e.Name, "/\\\x00"):
		return errs.Field("evidence.name", "%q must be a plain file name of at most 255 bytes", e.Name)
	case !isSHA256(e.SHA256):
		return errs.Field("evidence.sha256", "%q is not 64 lower-case hex digits", e.SHA256)
	case e.Size < 0:
		return errs.Field("evidence.size", "must not be negative")
	}
	return nil
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// Review is a reviewer's decision on an attestation.
type Review struct {
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	Approved bool      `json:"approved"`
	Comment  string    `json:"comment,omitempty"` // required when rejecting
}

// Attestation is a person's declaration that a control is met for one organization or one
// system, with the evidence, the review and the period it stands for. Exactly one of Org and
// System is set, as the control's scope says.
type Attestation struct {
	ID         string         `json:"id"`
	Control    string         `json:"control"`
	Org        string         `json:"org,omitempty"`
	System     string         `json:"system,omitempty"`
	DeclaredBy string         `json:"declared_by"`
	DeclaredAt time.Time      `json:"declared_at"`
	Statement  string         `json:"statement,omitempty"` // what was done, in the declarer's words
	Evidence   []EvidenceFile `json:"evidence"`
	Review     *Review        `json:"review,omitempty"` // nil while awaiting review
	ValidFrom  time.Time      `json:"valid_from"`
	// ValidUntil is when the attestation lapses (Control.ValidUntil gives the default); zero
	// when it stands until superseded.
	ValidUntil time.Time `json:"valid_until,omitzero"`
}

// State is where an attestation stands at a time.
type State string

// States. Only StateApproved makes a control met.
const (
	StateMissing  State = "missing"  // no attestation declared by then
	StatePending  State = "pending"  // declared, not reviewed by then
	StateRejected State = "rejected" // the reviewer rejected it
	StateApproved State = "approved" // approved and within its validity: the control is met
	StateExpired  State = "expired"  // approved, but its validity ended
	StateNotYet   State = "not_yet"  // approved, valid only from a later date
)

// Subject returns the scope and code of what a is about.
func (a Attestation) Subject() (Scope, string) {
	if a.System != "" {
		return ScopeSystem, a.System
	}
	return ScopeOrganization, a.Org
}

// StateAt returns where a stands at t, counting only what had happened by t: a declaration or
// review made later does not exist yet, so a past date is judged as it stood then.
func (a Attestation) StateAt(t time.Time) State {
	switch {
	case a.DeclaredAt.After(t):
		return StateMissing
	case a.Review == nil || a.Review.At.After(t):
		return StatePending
	case !a.Review.Approved:
		return StateRejected
	case t.Before(a.ValidFrom):
		return StateNotYet
	case !a.ValidUntil.IsZero() && !t.Before(a.ValidUntil):
		return StateExpired
	}
	return StateApproved
}

// Valid reports whether a makes its control met at t: declared and approved by t, and t within
// [ValidFrom, ValidUntil).
func (a Attestation) Valid(t time.Time) bool { return a.StateAt(t) == StateApproved }

// Validate checks a against its control: the subject matches the control's scope, a declarer,
// at least one well-formed evidence file, a validity period that is not empty, and a review by
// someone other than the declarer (rejections need a comment). Every problem is reported.
func (a Attestation) Validate(c Control) error {
	var problems []error
	if a.Control != c.ID {
		problems = append(problems, errs.Field("control", "attestation is for %q, not %q", a.Control, c.ID))
	}
	switch {
	case a.Org != "" && a.System != "":
		problems = append(problems, errs.Field("system", "an attestation is about one organization or one system, not both"))
	case c.Scope == ScopeOrganization && a.Org == "":
		problems = append(problems, errs.Field("org", "%s is an organization control: name the organization", c.ID))
	case c.Scope == ScopeSystem && a.System == "":
		problems = append(problems, errs.Field("system", "%s is a system control: name the system", c.ID))
	}
	if strings.TrimSpace(a.DeclaredBy) == "" {
		problems = append(problems, errs.Field("declared_by", "is required"))
	}
	if a.DeclaredAt.IsZero() {
		problems = append(problems, errs.Field("declared_at", "is required"))
	}
	if len(a.Evidence) == 0 {
		problems = append(problems, errs.Field("evidence", "attach at least one file: %s", c.Evidence.EN))
	}
	for _, e := range a.Evidence {
		if err := e.Validate(); err != nil {
			problems = append(problems, err)
		}
	}
	if a.ValidFrom.IsZero() {
		problems = append(problems, errs.Field("valid_from", "is required"))
	}
	if !a.ValidUntil.IsZero() && !a.ValidUntil.After(a.ValidFrom) {
		problems = append(problems, errs.Field("valid_until", "must be after valid_from"))
	}
	if r := a.Review; r != nil {
		switch {
		case strings.TrimSpace(r.By) == "":
			problems = append(problems, errs.Field("review.by", "is required"))
		case strings.EqualFold(strings.TrimSpace(r.By), strings.TrimSpace(a.DeclaredBy)):
			problems = append(problems, errs.Field("review.by", "the reviewer cannot be the person who declared the control met"))
		}
		if r.At.Before(a.DeclaredAt) {
			problems = append(problems, errs.Field("review.at", "a review cannot come before the declaration"))
		}
		if !r.Approved && strings.TrimSpace(r.Comment) == "" {
			problems = append(problems, errs.Field("review.comment", "say why the attestation is rejected"))
		}
	}
	return errors.Join(problems...)
}

// Find returns the attestation that decides whether control is met for subject at t, and its
// state: the valid one if there is one (the latest ValidFrom, then the latest review, then the
// highest id), otherwise the one most recently declared by t, for the explanation
// ("rejected on …", "expired on …"), otherwise StateMissing.
func Find(atts []Attestation, controlID string, scope Scope, subject string, t time.Time) (Attestation, State) {
	var valid, latest *Attestation
	for i := range atts {
		a := &atts[i]
		if a.Control != controlID {
			continue
		}
		if s, code := a.Subject(); s != scope || code != subject {
			continue
		}
		switch st := a.StateAt(t); {
		case st == StateMissing:
			continue
		case st == StateApproved:
			if valid == nil || preferValid(a, valid) {
				valid = a
			}
		}
		if latest == nil || a.DeclaredAt.After(latest.DeclaredAt) || a.DeclaredAt.Equal(latest.DeclaredAt) && a.ID > latest.ID {
			latest = a
		}
	}
	switch {
	case valid != nil:
		return *valid, StateApproved
	case latest != nil:
		return *latest, latest.StateAt(t)
	}
	return Attestation{}, StateMissing
}

func preferValid(a, b *Attestation) bool {
	if !a.ValidFrom.Equal(b.ValidFrom) {
		return a.ValidFrom.After(b.ValidFrom)
	}
	if !a.Review.At.Equal(b.Review.At) {
		return a.Review.At.After(b.Review.At)
	}
	return a.ID > b.ID
}

// Describe says in both languages where an attestation of control stands, for explanations.
func Describe(a Attestation, st State) (vi, en string) {
	day := func(t time.Time) string { return t.UTC().Format("02/01/2006") }
	switch st {
	case StateApproved:
		if a.ValidUntil.IsZero() {
			return fmt.Sprintf("đã duyệt (%s)", a.Review.By), fmt.Sprintf("approved (%s)", a.Review.By)
		}
		return fmt.Sprintf("đã duyệt (%s), hiệu lực đến %s", a.Review.By, day(a.ValidUntil)),
			fmt.Sprintf("approved (%s), valid until %s", a.Review.By, a.ValidUntil.UTC().Format(time.DateOnly))
	case StatePending:
		return fmt.Sprintf("chờ duyệt (khai ngày %s)", day(a.DeclaredAt)), fmt.Sprintf("awaiting review (declared %s)", a.DeclaredAt.UTC().Format(time.DateOnly))
	case StateRejected:
		// The reviewer's comment is quoted as written, in whatever language it was written.
		if a.Review.By == "" {
			return fmt.Sprintf("bị từ chối, nhận xét: «%s»", a.Review.Comment), fmt.Sprintf("rejected: “%s”", a.Review.Comment)
		}
		return fmt.Sprintf("bị %s từ chối, nhận xét: «%s»", a.Review.By, a.Review.Comment),
			fmt.Sprintf("rejected by %s, who wrote: “%s”", a.Review.By, a.Review.Comment)
	case StateExpired:
		return fmt.Sprintf("hết hiệu lực từ %s", day(a.ValidUntil)), fmt.Sprintf("lapsed on %s", a.ValidUntil.UTC().Format(time.DateOnly))
	case StateNotYet:
		return fmt.Sprintf("chỉ có hiệu lực từ %s", day(a.ValidFrom)), fmt.Sprintf("valid only from %s", a.ValidFrom.UTC().Format(time.DateOnly))
	}
	return "chưa có xác nhận", "not attested"
}
