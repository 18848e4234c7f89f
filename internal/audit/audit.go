// Package audit is Khiên's record of every change: who changed what, when, and the object
// before and after. Entries are only ever appended, and each carries the SHA-256 of its own
// content and of the entry before it, so that editing or deleting any entry afterwards breaks
// the chain at that entry and Verify names it (`khien audit verify`).
//
// The services that change things (auth for users and tokens, the scoped inventory, and later
// findings, attestations and gate decisions) describe each change as a Record and hand it to
// a Recorder; Log is the Recorder over a Store. A store that can do so appends the entry in
// the same transaction as the change (auth's users and tokens do); the others record right
// after the change succeeds.
//
// Each entry also keeps the path of organizations its object was under when it changed
// ("/HN/HN.STTTT/"), so that an auditor of a subtree sees the changes made there even after
// an organization is moved or deleted.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// Entry is one appended change. Seq, PrevHash and Hash are assigned by the store when the
// entry is appended.
type Entry struct {
	Seq        int64     // 1, 2, 3, … without gaps
	At         time.Time // UTC, microseconds
	Actor      string    // "user:lan", "token:khien_ab12cd34 (lan)", "local:cli", "system"
	Action     string    // "system.update", "token.revoke", …
	ObjectType string    // "system", "user", …
	ObjectID   string
	// OrgPath is the organizations the object was under, root first, each between slashes:
	// "/HN/HN.STTTT/". "/" is an object of the whole platform (a platform administrator).
	OrgPath string
	// Before and After are the object as JSON, or empty for none (a creation, a deletion).
	Before, After string
	PrevHash      string // the Hash of entry Seq-1; empty for entry 1
	Hash          string // hex SHA-256 of the canonical encoding of every field above
}

// timeFormat is how At enters the hash: fixed width, microseconds, as both stores keep it.
const timeFormat = "2006-01-02T15:04:05.000000Z"

// ComputeHash returns the hash e should carry: SHA-256 over each field as a netstring
// ("5:hello,"), so that no two different entries encode alike, in a fixed order and behind
// a version tag.
func (e Entry) ComputeHash() string {
	h := sha256.New()
	for _, f := range []string{
		"khien-audit-v1", strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(timeFormat), e.Actor, e.Action,
		e.ObjectType, e.ObjectID, e.OrgPath, e.Before, e.After, e.PrevHash,
	} {
		h.Write([]byte(strconv.Itoa(len(f)) + ":" + f + ","))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Head is the last entry appended, as the store remembers it apart from the entries: deleting
// the newest entries leaves the head pointing past them, so that Verify sees the loss.
type Head struct {
	Seq  int64
	Hash string
}

// Chain makes e the entry after head: it sets Seq and PrevHash, truncates At to the
// microsecond and computes Hash. Stores call it inside the transaction that appends e.
func Chain(head Head, e Entry) Entry {
	e.Seq = head.Seq + 1
	e.PrevHash = head.Hash
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Hash = e.ComputeHash()
	return e
}

// Store keeps the log. It is implemented by store/sqlite and store/postgres, which both pass
// storetest.RunAudit.
type Store interface {
	// AppendAudit chains e after the current head and stores it, in one transaction that
	// excludes every other append, and returns it with Seq, PrevHash and Hash set.
	AppendAudit(ctx context.Context, e Entry) (Entry, error)
	// AuditEntries returns one page of the entries f selects, newest first, and how many it
	// selects in all.
	AuditEntries(ctx context.Context, f Filter) ([]Entry, int, error)
	// EachAuditEntry calls fn on every entry in the order of Seq, stopping at fn's first
	// error, and returns the head as it was when the entries were read.
	EachAuditEntry(ctx context.Context, fn func(Entry) error) (Head, error)
	// AuditHead returns the last entry appended; Seq 0 when none was.
	AuditHead(ctx context.Context) (Head, error)
}

// Filter selects entries. Empty fields do not filter.
type Filter struct {
	// Under keeps the entries whose OrgPath holds this organization: the changes made in its
	// subtree, at the time they were made.
	Under      string
	ObjectType string
	ObjectID   string
	Actor      string
	Action     string
	// Since and Until keep the entries appended in [Since, Until); zero times do not filter.
	Since, Until time.Time
	inventory.Page
}

// Record describes a change for a Recorder, which adds who and when.
type Record struct {
	Action     string // "<object type>.<verb>": "system.update"
	ObjectType string
	ObjectID   string
	// Org is the organization the object belongs to; its path is looked up. Path, when set,
	// is used instead: the path root first, for an object whose organization may be gone.
	Org  string
	Path []string
	// Before and After are encoded as JSON; nil for none. They must hold no secret.
	Before, After any
}

// Recorder appends records of changes. The services that change things take one.
type Recorder interface {
	Record(ctx context.Context, r Record) (Entry, error)
}

// Tree looks organizations up, to give each entry the path of its object.
type Tree interface {
	Org(ctx context.Context, code string) (inventory.Organization, error)
}

// Log is the Recorder over a Store, and reads and verifies what it holds.
type Log struct {
	store Store
	tree  Tree
	now   func() time.Time

	// verifying is held while the whole chain is read: one reading at a time, which callers
	// that arrive meanwhile share (see Verify). begun counts the readings started.
	verifying chan struct{}
	begun     atomic.Int64
	mu        sync.Mutex    // guards last, which a page reads while a check runs
	last      *Verification // the latest whole-chain check; nil before the first
	waiting   func()        // for tests: called once a caller of verify has asked
}

// Verification is the outcome of one whole-chain check, kept so that a page can say how the
// log stood without reading all of it on every load: reading grows with the log.
type Verification struct {
	Started, Finished time.Time
	Entries           int64 // entries checked, up to the first broken one
	// Err is nil when the chain holds; it holds a *BrokenError naming the first bad entry,
	// or says why the log could not be read to the end.
	Err error
	n   int64 // which reading of this Log it was: 1, 2, …
	cut bool  // its caller's context ended during the reading: it says nothing of the log
}

// NewLog returns a Log over store; tree gives the organizations' paths and now the time.
func NewLog(store Store, tree Tree, now func() time.Time) *Log {
	return &Log{store: store, tree: tree, now: now, verifying: make(chan struct{}, 1)}
}

// Record appends r with the actor of ctx (see WithActor) and the current time.
func (l *Log) Record(ctx context.Context, r Record) (Entry, error) {
	e, err := l.Entry(ctx, r)
	if err != nil {
		return Entry{}, err
	}
	return l.store.AppendAudit(ctx, e)
}

// Entry turns r into an entry not yet chained, for a store that appends it in the same
// transaction as the change it records.
func (l *Log) Entry(ctx context.Context, r Record) (Entry, error) {
	path := r.Path
	if path == nil && r.Org != "" {
		var err error
		if path, err = Path(ctx, l.tree, r.Org); err != nil {
			return Entry{}, fmt.Errorf("audit %s %s: %w", r.Action, r.ObjectID, err)
		}
	}
	before, err := encode(r.Before)
	if err != nil {
		return Entry{}, fmt.Errorf("audit %s %s: before: %w", r.Action, r.ObjectID, err)
	}
	after, err := encode(r.After)
	if err != nil {
		return Entry{}, fmt.Errorf("audit %s %s: after: %w", r.Action, r.ObjectID, err)
	}
	return Entry{
		At: l.now().UTC(), Actor: ActorFrom(ctx), Action: r.Action, ObjectType: r.ObjectType,
		ObjectID: r.ObjectID, OrgPath: JoinPath(path), Before: before, After: after,
	}, nil
}

func encode(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// Entries returns one page of the entries f selects, newest first, and how many there are.
// It does not check who asks: auth does, and narrows f.Under to the reader's subtree.
func (l *Log) Entries(ctx context.Context, f Filter) ([]Entry, int, error) {
	f.Page = f.Page.Bounded()
	return l.store.AuditEntries(ctx, f)
}

// Verify reads the whole log in order and checks every link of the chain and the head. It
// returns the number of entries checked, and a *BrokenError naming the first bad entry.
// Calls made while a check runs wait for it and then share the next one that starts after
// them (or one that already did): a check's answer is never older than its question.
func (l *Log) Verify(ctx context.Context) (int64, error) {
	v, err := l.verify(ctx, true)
	if err != nil {
		return 0, err
	}
	return v.Entries, v.Err
}

// Verified returns the latest whole-chain check; when none was made yet, it waits for the one
// under way, or makes one. The audit page needs an outcome, not a fresh one: the server checks
// periodically, and a reader can ask for a check now.
func (l *Log) Verified(ctx context.Context) (Verification, error) {
	if v, ok := l.LastVerification(); ok {
		return v, nil
	}
	return l.verify(ctx, false)
}

// verify runs or shares a whole-chain check: with fresh, one that started after the call;
// without, any that finished. Its error is only the caller's context ending while it waited.
func (l *Log) verify(ctx context.Context, fresh bool) (Verification, error) {
	asked := l.begun.Load()
	if l.waiting != nil {
		l.waiting()
	}
	select {
	case l.verifying <- struct{}{}:
	case <-ctx.Done():
		return Verification{}, ctx.Err()
	}
	defer func() { <-l.verifying }()
	if last, ok := l.LastVerification(); ok && (!fresh || last.n > asked) {
		return last, nil
	}
	out := Verification{Started: l.now(), n: l.begun.Add(1)}
	var v Verifier
	head, err := l.store.EachAuditEntry(ctx, v.Add)
	if err == nil {
		err = v.Finish(head)
	}
	out.Entries, out.Err, out.Finished = v.n, err, l.now()
	out.cut = ctx.Err() != nil
	if !out.cut { // a check its caller gave up on says nothing of the log
		l.mu.Lock()
		l.last = &out
		l.mu.Unlock()
	}
	return out, nil
}

// LastVerification returns the latest whole-chain check finished by this process; it does
// not wait for one under way.
func (l *Log) LastVerification() (Verification, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		return Verification{}, false
	}
	return *l.last, true
}

// VerifyEvery checks the whole chain at once and then every d until ctx ends, logging a broken
// chain as an error: the server does so, so that the audit page shows a recent outcome without
// reading the whole log on each load, and a tampered log is reported even if nobody looks.
func (l *Log) VerifyEvery(ctx context.Context, d time.Duration, log *slog.Logger) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		v, err := l.verify(ctx, true)
		switch {
		case err != nil || v.cut: // stopping: what was read says nothing
			return
		case v.Err != nil:
			log.ErrorContext(ctx, "the audit log's chain is broken or unreadable", "entries_checked", v.Entries, "err", v.Err)
		default:
			log.DebugContext(ctx, "audit log chain verified", "entries", v.Entries, "took", v.Finished.Sub(v.Started))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// JoinPath writes the organizations of a path, root first, as "/HN/HN.STTTT/"; none is "/".
func JoinPath(codes []string) string {
	if len(codes) == 0 {
		return "/"
	}
	return "/" + strings.Join(codes, "/") + "/"
}

// maxDepth bounds a walk up the tree, which the stores keep free of cycles.
const maxDepth = 64

// Path returns the codes from the root of code's tree down to code itself.
func Path(ctx context.Context, tree Tree, code string) ([]string, error) {
	var up []string
	for c := code; c != ""; {
		if len(up) == maxDepth {
			return nil, fmt.Errorf("organization %q is more than %d levels deep", code, maxDepth)
		}
		o, err := tree.Org(ctx, c)
		if err != nil {
			return nil, err
		}
		up = append(up, o.Code)
		c = o.Parent
	}
	for i, j := 0, len(up)-1; i < j; i, j = i+1, j-1 {
		up[i], up[j] = up[j], up[i]
	}
	return up, nil
}

// actorKey is the context key of the actor.
type actorKey struct{}

// WithActor returns ctx carrying the name under which changes are recorded.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor of ctx, or "system" for work that no one asked for (a scheduled
// scan).
func ActorFrom(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "system"
}

// BrokenError says which entry breaks the chain and how.
type BrokenError struct {
	Seq    int64
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit entry %d: %s", e.Seq, e.Reason)
}

// broken returns a BrokenError of kind Conflict: the stored log is not what was written.
func broken(seq int64, format string, args ...any) error {
	be := &BrokenError{Seq: seq, Reason: fmt.Sprintf(format, args...)}
	return &errs.Error{Kind: errs.Conflict, Msg: be.Error(), Err: be}
}

// Verifier checks entries one at a time, in the order of Seq, so that a log of any length is
// verified in constant memory.
type Verifier struct {
	prev Entry
	n    int64
}

// Add checks e against the entry before it: its Seq follows, its PrevHash is that entry's
// Hash, and its Hash is that of its content.
func (v *Verifier) Add(e Entry) error {
	want := v.prev.Seq + 1
	switch {
	case e.Seq > want:
		if want == e.Seq-1 {
			return broken(want, "is missing: the log goes from entry %d to entry %d; it was deleted", v.prev.Seq, e.Seq)
		}
		return broken(want, "is missing: the log goes from entry %d to entry %d; entries %d to %d were deleted", v.prev.Seq, e.Seq, want, e.Seq-1)
	case e.Seq < want:
		return broken(e.Seq, "appears out of order or twice, after entry %d", v.prev.Seq)
	case e.PrevHash != v.prev.Hash:
		return broken(e.Seq, "does not chain to entry %d (prev_hash %.12s…, entry %d has hash %.12s…): entry %d was rewritten or replaced",
			v.prev.Seq, e.PrevHash, v.prev.Seq, v.prev.Hash, v.prev.Seq)
	case e.ComputeHash() != e.Hash:
		return broken(e.Seq, "was edited after it was written: its content no longer matches its hash")
	}
	v.prev = e
	v.n++
	return nil
}

// Finish checks that the log ends where head says the last append left it.
func (v *Verifier) Finish(head Head) error {
	switch {
	case head.Seq > v.prev.Seq:
		return broken(v.prev.Seq+1, "is missing: the log ends at entry %d but %d entries were appended; the newest were deleted", v.prev.Seq, head.Seq)
	case head.Seq < v.prev.Seq:
		return broken(v.prev.Seq, "was not appended through the log: the head is at entry %d", head.Seq)
	case head.Hash != v.prev.Hash:
		return broken(v.prev.Seq, "does not match the head's hash: it was rewritten")
	}
	return nil
}

// Verify checks a whole log given as a slice, in the order of Seq, and its head.
func Verify(entries []Entry, head Head) error {
	var v Verifier
	for _, e := range entries {
		if err := v.Add(e); err != nil {
			return err
		}
	}
	return v.Finish(head)
}
