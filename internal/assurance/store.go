package assurance

import (
	"context"
	"time"

	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/gate"
	"github.com/khien-vn/khien/internal/index"
	"github.com/khien-vn/khien/internal/inventory"
)

// Store keeps the assurance records. store/sqlite and store/postgres implement it (both pass
// storetest.RunAssurance). Contract:
//   - a missing record gives errs.NotFound, a duplicate id errs.Conflict;
//   - every write is one transaction;
//   - times come back with the nanoseconds they went in with (the index is recomputed
//     from them bit for bit);
//   - lists are in a stable order, given with each method.
type Store interface {
	// PutEvidence stores a file under its SHA-256 (lower-case hex); storing the same content
	// again is a no-op. Content that does not hash to sha is refused.
	PutEvidence(ctx context.Context, sha string, content []byte, now time.Time) error
	// Evidence returns the content stored under sha.
	Evidence(ctx context.Context, sha string) ([]byte, error)

	// CreateAttestation stores a declaration; its evidence files must be stored already.
	CreateAttestation(ctx context.Context, a control.Attestation) error
	// ReviewAttestation records a review of an attestation awaiting one and returns it
	// reviewed; an attestation reviewed already gives errs.Conflict.
	ReviewAttestation(ctx context.Context, id string, r control.Review) (control.Attestation, error)
	Attestation(ctx context.Context, id string) (control.Attestation, error)
	// Attestations returns the attestations of an organization or a system, or all when both
	// are empty; by declaration time, then id.
	Attestations(ctx context.Context, org, system string) ([]control.Attestation, error)

	// PutIncident creates or replaces an incident (its report times are filled in later).
	PutIncident(ctx context.Context, i index.Incident) error
	Incidents(ctx context.Context) ([]index.Incident, error) // by discovery, then id
	// PutRequest creates or replaces an authority request.
	PutRequest(ctx context.Context, r index.Request) error
	Requests(ctx context.Context) ([]index.Request, error) // by receipt, then id

	// RecordRemoval records that a system was deleted from the inventory, with the system as
	// it last stood.
	RecordRemoval(ctx context.Context, r index.RemovedSystem, last inventory.System) error
	Removals(ctx context.Context) ([]index.RemovedSystem, error) // by removal, then id

	// PutSnapshot stores the index of one day, replacing that day's earlier computation.
	PutSnapshot(ctx context.Context, s DaySnapshot) error
	// IndexSnapshot returns the stored computation of day (YYYY-MM-DD) for org.
	IndexSnapshot(ctx context.Context, org, day string) (DaySnapshot, error)
	// History returns org's stored figures for the days from..to (inclusive), oldest first.
	History(ctx context.Context, org, from, to string) ([]HistoryPoint, error)

	// PutMethod stores an index method (its YAML), replacing one of the same id.
	PutMethod(ctx context.Context, id string, effectiveFrom time.Time, yaml []byte, now time.Time) error
	Methods(ctx context.Context) ([][]byte, error) // the YAML of each, by effective_from

	// SetGatePolicy stores a new gate policy (its YAML); the latest one set applies.
	SetGatePolicy(ctx context.Context, id string, yaml []byte, by string, at time.Time) error
	// GatePolicy returns the YAML of the latest policy set, or errs.NotFound.
	GatePolicy(ctx context.Context) ([]byte, error)
	CreateException(ctx context.Context, x gate.Exception) error
	// Exceptions returns the exceptions of a system (all when empty), by id.
	Exceptions(ctx context.Context, system string) ([]gate.Exception, error)
	// RecordDecision stores a gate decision under id.
	RecordDecision(ctx context.Context, id string, d gate.Decision, by string) error
	// Decisions returns the latest decisions of a system, newest first; limit 0 means 20.
	Decisions(ctx context.Context, system string, limit int) ([]DecisionRecord, error)
}

// DaySnapshot is one day's computation: the Input and method it used, and each
// organization's result as computed (the JSON of index.OrgResult, kept byte for byte).
type DaySnapshot struct {
	Day    string    // YYYY-MM-DD, UTC
	AsOf   time.Time // the exact time computed at
	Method string
	Input  []byte // JSON of index.Input
	Orgs   []OrgSnapshot
}

// OrgSnapshot is one organization's stored result of a day.
type OrgSnapshot struct {
	Org    string
	Tenths int
	Grade  index.Grade
	Result []byte // JSON of index.OrgResult
}

// HistoryPoint is one day of an organization's trend.
type HistoryPoint struct {
	Day    string      `json:"day"`
	AsOf   time.Time   `json:"as_of"`
	Method string      `json:"method"`
	Index  float64     `json:"index"` // Tenths / 10
	Tenths int         `json:"tenths"`
	Grade  index.Grade `json:"grade"`
}

// DecisionRecord is a stored gate decision.
type DecisionRecord struct {
	ID       string        `json:"id"`
	By       string        `json:"by"`
	Decision gate.Decision `json:"decision"`
}
