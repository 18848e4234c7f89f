package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/khien-vn/khien/internal/assurance"
	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/gate"
	"github.com/khien-vn/khien/internal/index"
	"github.com/khien-vn/khien/internal/inventory"
)

// The assurance records are stored as the JSON of their domain type, with the columns that
// queries select on beside it. Their times are text in a fixed-width RFC 3339 form with
// nanoseconds, in both backends: a stored Input must give back exactly the times it was
// computed from, and the fixed width sorts as time does.
const nanoTime = "2006-01-02T15:04:05.000000000Z07:00"

func stamp(t time.Time) string { return t.UTC().Format(nanoTime) }

func unstamp(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// conflictOr maps a unique violation to errs.Conflict with msg.
func (s *Store) conflictOr(err error, format string, args ...any) error {
	if err != nil && s.d.Constraint(err) == Unique {
		return errs.E(errs.Conflict, format, args...)
	}
	return err
}

func docOf(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// PutEvidence stores content under its SHA-256.
func (s *Store) PutEvidence(ctx context.Context, sha string, content []byte, now time.Time) error {
	sum := sha256.Sum256(content)
	if hex.EncodeToString(sum[:]) != sha {
		return errs.Field("evidence", "content does not hash to %s", sha)
	}
	return s.write(ctx, "store evidence", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO evidence_blobs (sha256, size, content, created) VALUES (?, ?, ?, ?)
			ON CONFLICT (sha256) DO NOTHING`), sha, int64(len(content)), content, stamp(now))
		return err
	})
}

// Evidence returns the content stored under sha.
func (s *Store) Evidence(ctx context.Context, sha string) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, s.q(`SELECT content FROM evidence_blobs WHERE sha256 = ?`), sha).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "evidence %s not found", sha)
	}
	if err != nil {
		return nil, s.fail(err, "read evidence")
	}
	return b, nil
}

// CreateAttestation stores a declaration and links its evidence files.
func (s *Store) CreateAttestation(ctx context.Context, a control.Attestation) error {
	doc, err := docOf(a)
	if err != nil {
		return err
	}
	return s.write(ctx, "store attestation", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO attestations (id, control, org, system, declared_at, doc) VALUES (?, ?, ?, ?, ?, ?)`),
			a.ID, a.Control, nullString(a.Org), nullString(a.System), stamp(a.DeclaredAt), doc)
		if err = s.conflictOr(err, "attestation %q exists already", a.ID); err != nil {
			return err
		}
		for _, e := range a.Evidence {
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO attestation_evidence (attestation, sha256, name) VALUES (?, ?, ?)
				ON CONFLICT DO NOTHING`), a.ID, e.SHA256, e.Name)
			if err != nil && s.d.Constraint(err) == ForeignKey {
				return errs.Field("evidence", "file %s (%s) was not uploaded", e.Name, e.SHA256)
			}
			if err != nil {
				return err
			}
		}
		if a.Review != nil {
			return s.insertReview(ctx, tx, a.ID, *a.Review)
		}
		return nil
	})
}

func (s *Store) insertReview(ctx context.Context, tx *sql.Tx, id string, r control.Review) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO attestation_reviews (attestation, at, reviewer, approved, comment) VALUES (?, ?, ?, ?, ?)`),
		id, stamp(r.At), r.By, r.Approved, r.Comment)
	return s.conflictOr(err, "attestation %q already has a review at %s", id, stamp(r.At))
}

func attestationByID(ctx context.Context, s *Store, q queryer, id string) (control.Attestation, error) {
	var doc string
	err := q.QueryRowContext(ctx, s.q(`SELECT doc FROM attestations WHERE id = ?`), id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return control.Attestation{}, errs.E(errs.NotFound, "attestation %q not found", id)
	}
	if err != nil {
		return control.Attestation{}, err
	}
	var a control.Attestation
	return a, json.Unmarshal([]byte(doc), &a)
}

// ReviewAttestation records the review of an attestation awaiting one.
func (s *Store) ReviewAttestation(ctx context.Context, id string, r control.Review) (control.Attestation, error) {
	var out control.Attestation
	err := s.write(ctx, "review attestation", func(tx *sql.Tx) error {
		a, err := attestationByID(ctx, s, tx, id)
		if err != nil {
			return err
		}
		if a.Review != nil {
			return errs.E(errs.Conflict, "attestation %q was reviewed already by %s; declare it again to have it reviewed again", id, a.Review.By)
		}
		a.Review = &r
		doc, err := docOf(a)
		if err != nil {
			return err
		}
		if err := s.insertReview(ctx, tx, id, r); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE attestations SET doc = ? WHERE id = ?`), doc, id); err != nil {
			return err
		}
		out = a
		return nil
	})
	return out, err
}

// Attestation returns one attestation.
func (s *Store) Attestation(ctx context.Context, id string) (control.Attestation, error) {
	a, err := attestationByID(ctx, s, s.db, id)
	if err != nil {
		return a, s.fail(err, "read attestation")
	}
	return a, nil
}

// Attestations lists attestations of org or system, or all.
func (s *Store) Attestations(ctx context.Context, org, system string) ([]control.Attestation, error) {
	q, args := `SELECT doc FROM attestations`, []any{}
	switch {
	case system != "":
		q, args = q+` WHERE system = ?`, append(args, system)
	case org != "":
		q, args = q+` WHERE org = ?`, append(args, org)
	}
	return docs[control.Attestation](ctx, s, "list attestations", q+` ORDER BY declared_at, id`, args...)
}

// docs reads the doc column of every row of query.
func docs[T any](ctx context.Context, s *Store, what, query string, args ...any) ([]T, error) {
	out, err := collect(ctx, s, s.db, func(sc scanner) (T, error) {
		var doc string
		var v T
		if err := sc.Scan(&doc); err != nil {
			return v, err
		}
		return v, json.Unmarshal([]byte(doc), &v)
	}, query, args...)
	if err != nil {
		return nil, s.fail(err, what)
	}
	return out, nil
}

// PutIncident creates or replaces an incident.
func (s *Store) PutIncident(ctx context.Context, i index.Incident) error {
	doc, err := docOf(i)
	if err != nil {
		return err
	}
	return s.write(ctx, "store incident", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO incidents (id, org, system, discovered_at, doc) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET org = excluded.org, system = excluded.system,
			discovered_at = excluded.discovered_at, doc = excluded.doc`), i.ID, i.Org, nullString(i.System), stamp(i.DiscoveredAt), doc)
		return err
	})
}

// Incidents lists every incident.
func (s *Store) Incidents(ctx context.Context) ([]index.Incident, error) {
	return docs[index.Incident](ctx, s, "list incidents", `SELECT doc FROM incidents ORDER BY discovered_at, id`)
}

// PutRequest creates or replaces an authority request.
func (s *Store) PutRequest(ctx context.Context, r index.Request) error {
	doc, err := docOf(r)
	if err != nil {
		return err
	}
	return s.write(ctx, "store request", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO authority_requests (id, org, received_at, doc) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET org = excluded.org, received_at = excluded.received_at, doc = excluded.doc`),
			r.ID, r.Org, stamp(r.ReceivedAt), doc)
		return err
	})
}

// Requests lists every authority request.
func (s *Store) Requests(ctx context.Context) ([]index.Request, error) {
	return docs[index.Request](ctx, s, "list requests", `SELECT doc FROM authority_requests ORDER BY received_at, id`)
}

// RecordRemoval records a system deleted from the inventory.
func (s *Store) RecordRemoval(ctx context.Context, r index.RemovedSystem, last inventory.System) error {
	doc, err := docOf(r)
	if err != nil {
		return err
	}
	lastDoc, err := docOf(last)
	if err != nil {
		return err
	}
	return s.write(ctx, "record removal", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO system_removals (system, removed_at, org, doc, last) VALUES (?, ?, ?, ?, ?)`),
			r.ID, stamp(r.RemovedAt), r.Org, doc, lastDoc)
		return s.conflictOr(err, "the removal of %s at %s is recorded already", r.ID, stamp(r.RemovedAt))
	})
}

// Removals lists every recorded removal.
func (s *Store) Removals(ctx context.Context) ([]index.RemovedSystem, error) {
	return docs[index.RemovedSystem](ctx, s, "list removals", `SELECT doc FROM system_removals ORDER BY removed_at, system`)
}

// PutSnapshot stores one day's computation, replacing the day's earlier one.
func (s *Store) PutSnapshot(ctx context.Context, d assurance.DaySnapshot) error {
	return s.write(ctx, "store index snapshot", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM index_snapshots WHERE day = ?`), d.Day); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM index_inputs WHERE day = ?`), d.Day); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO index_inputs (day, as_of, method, input) VALUES (?, ?, ?, ?)`),
			d.Day, stamp(d.AsOf), d.Method, string(d.Input)); err != nil {
			return err
		}
		for _, o := range d.Orgs {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO index_snapshots (org, day, tenths, grade, result) VALUES (?, ?, ?, ?, ?)`),
				o.Org, d.Day, o.Tenths, string(o.Grade), string(o.Result)); err != nil {
				return err
			}
		}
		return nil
	})
}

// IndexSnapshot returns the stored computation of day for org.
func (s *Store) IndexSnapshot(ctx context.Context, org, day string) (assurance.DaySnapshot, error) {
	var (
		d             assurance.DaySnapshot
		asOf, in, res string
		o             assurance.OrgSnapshot
		grade         string
	)
	err := s.db.QueryRowContext(ctx, s.q(`SELECT i.day, i.as_of, i.method, i.input, s.org, s.tenths, s.grade, s.result
		FROM index_snapshots s JOIN index_inputs i ON i.day = s.day WHERE s.org = ? AND s.day = ?`), org, day).
		Scan(&d.Day, &asOf, &d.Method, &in, &o.Org, &o.Tenths, &grade, &res)
	if errors.Is(err, sql.ErrNoRows) {
		return d, errs.E(errs.NotFound, "no index of %s is stored for %s", org, day)
	}
	if err != nil {
		return d, s.fail(err, "read index snapshot")
	}
	if d.AsOf, err = unstamp(asOf); err != nil {
		return d, err
	}
	d.Input, o.Grade, o.Result = []byte(in), index.Grade(grade), []byte(res)
	d.Orgs = []assurance.OrgSnapshot{o}
	return d, nil
}

// History returns org's stored figures from..to.
func (s *Store) History(ctx context.Context, org, from, to string) ([]assurance.HistoryPoint, error) {
	out, err := collect(ctx, s, s.db, func(sc scanner) (assurance.HistoryPoint, error) {
		var p assurance.HistoryPoint
		var asOf, grade string
		if err := sc.Scan(&p.Day, &asOf, &p.Method, &p.Tenths, &grade); err != nil {
			return p, err
		}
		var err error
		p.AsOf, err = unstamp(asOf)
		p.Index, p.Grade = float64(p.Tenths)/10, index.Grade(grade)
		return p, err
	}, `SELECT s.day, i.as_of, i.method, s.tenths, s.grade FROM index_snapshots s JOIN index_inputs i ON i.day = s.day
		WHERE s.org = ? AND s.day >= ? AND s.day <= ? ORDER BY s.day`, org, from, to)
	if err != nil {
		return nil, s.fail(err, "read index history")
	}
	return out, nil
}

// PutMethod stores an index method.
func (s *Store) PutMethod(ctx context.Context, id string, effectiveFrom time.Time, yaml []byte, now time.Time) error {
	return s.write(ctx, "store index method", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO index_methods (id, effective_from, yaml, stored) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET effective_from = excluded.effective_from, yaml = excluded.yaml, stored = excluded.stored`),
			id, stamp(effectiveFrom), string(yaml), stamp(now))
		return err
	})
}

// Methods returns every stored method's YAML.
func (s *Store) Methods(ctx context.Context) ([][]byte, error) {
	out, err := collect(ctx, s, s.db, func(sc scanner) ([]byte, error) {
		var y string
		err := sc.Scan(&y)
		return []byte(y), err
	}, `SELECT yaml FROM index_methods ORDER BY effective_from, id`)
	if err != nil {
		return nil, s.fail(err, "read index methods")
	}
	return out, nil
}

// SetGatePolicy stores a new gate policy.
func (s *Store) SetGatePolicy(ctx context.Context, id string, yaml []byte, by string, at time.Time) error {
	return s.write(ctx, "store gate policy", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO gate_policies (set_at, id, yaml, set_by) VALUES (?, ?, ?, ?)`), stamp(at), id, string(yaml), by)
		return s.conflictOr(err, "gate policy %s was set at %s already", id, stamp(at))
	})
}

// GatePolicy returns the latest policy set.
func (s *Store) GatePolicy(ctx context.Context) ([]byte, error) {
	var y string
	err := s.db.QueryRowContext(ctx, `SELECT yaml FROM gate_policies ORDER BY set_at DESC, id DESC LIMIT 1`).Scan(&y)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "no gate policy is stored")
	}
	if err != nil {
		return nil, s.fail(err, "read gate policy")
	}
	return []byte(y), nil
}

// CreateException stores a gate exception.
func (s *Store) CreateException(ctx context.Context, x gate.Exception) error {
	doc, err := docOf(x)
	if err != nil {
		return err
	}
	return s.write(ctx, "store gate exception", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO gate_exceptions (id, system, doc) VALUES (?, ?, ?)`), x.ID, x.System, doc)
		return s.conflictOr(err, "gate exception %q exists already", x.ID)
	})
}

// Exceptions lists the exceptions of system, or all.
func (s *Store) Exceptions(ctx context.Context, system string) ([]gate.Exception, error) {
	if system == "" {
		return docs[gate.Exception](ctx, s, "list gate exceptions", `SELECT doc FROM gate_exceptions ORDER BY id`)
	}
	return docs[gate.Exception](ctx, s, "list gate exceptions", `SELECT doc FROM gate_exceptions WHERE system = ? ORDER BY id`, system)
}

// RecordDecision stores a gate decision.
func (s *Store) RecordDecision(ctx context.Context, id string, d gate.Decision, by string) error {
	doc, err := docOf(d)
	if err != nil {
		return err
	}
	return s.write(ctx, "record gate decision", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO gate_decisions (id, system, at, allowed, decided_by, doc) VALUES (?, ?, ?, ?, ?, ?)`),
			id, d.System, stamp(d.AsOf), d.Allowed, by, doc)
		return s.conflictOr(err, "gate decision %q exists already", id)
	})
}

// Decisions lists the latest decisions of system.
func (s *Store) Decisions(ctx context.Context, system string, limit int) ([]assurance.DecisionRecord, error) {
	if limit <= 0 {
		limit = 20
	}
	out, err := collect(ctx, s, s.db, func(sc scanner) (assurance.DecisionRecord, error) {
		var r assurance.DecisionRecord
		var doc string
		if err := sc.Scan(&r.ID, &r.By, &doc); err != nil {
			return r, err
		}
		return r, json.Unmarshal([]byte(doc), &r.Decision)
	}, `SELECT id, decided_by, doc FROM gate_decisions WHERE system = ? ORDER BY at DESC, id DESC LIMIT ?`, system, limit)
	if err != nil {
		return nil, s.fail(err, "list gate decisions")
	}
	return out, nil
}
