package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 123456789, time.UTC)

// chain builds a log of n entries as a store would.
func chain(n int) ([]Entry, Head) {
	var (
		es   []Entry
		head Head
	)
	for i := 1; i <= n; i++ {
		e := Chain(head, Entry{At: t0.Add(time.Duration(i) * time.Minute), Actor: "user:lan", Action: "system.update",
			ObjectType: "system", ObjectID: "hn-dvc", OrgPath: "/HN/", Before: fmt.Sprintf(`{"level":%d}`, i-1), After: fmt.Sprintf(`{"level":%d}`, i)})
		es = append(es, e)
		head = Head{Seq: e.Seq, Hash: e.Hash}
	}
	return es, head
}

// TestHashIsStable pins the canonical encoding: changing it would make every stored log fail
// verification, so it may only change with a new version tag and a migration. The value was
// computed apart from this code, in Python:
//
//	fields = ["khien-audit-v1", "7", "2026-03-01T08:00:00.123456Z", "user:lan", "system.update", "system",
//	          "hn-dvc", "/HN/HN.STTTT/", '{"level":2}', '{"level":3}', "ab" * 32]
//	sha256(b"".join(b"%d:%s," % (len(f.encode()), f.encode()) for f in fields)).hexdigest()
func TestHashIsStable(t *testing.T) {
	e := Entry{Seq: 7, At: t0, Actor: "user:lan", Action: "system.update", ObjectType: "system", ObjectID: "hn-dvc",
		OrgPath: "/HN/HN.STTTT/", Before: `{"level":2}`, After: `{"level":3}`, PrevHash: strings.Repeat("ab", 32)}
	const want = "b5da6de8003972f4255ef10272421f475707c5645ea39ac1cf94bd40d7fd0903"
	if got := e.ComputeHash(); got != want {
		t.Errorf("hash = %s, want %s", got, want)
	}
}

// TestHashSeparatesFields checks that moving text from one field to the next changes the
// hash: the encoding is unambiguous.
func TestHashSeparatesFields(t *testing.T) {
	a := Entry{Actor: "user:a", Action: "b.c"}
	b := Entry{Actor: "user:ab", Action: ".c"}
	if a.ComputeHash() == b.ComputeHash() {
		t.Error("two entries that differ only in where a field ends hash alike")
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(es []Entry, h Head) ([]Entry, Head)
		seq    int64  // the entry Verify must name; 0 for none
		why    string // in its reason
	}{
		{"intact", func(es []Entry, h Head) ([]Entry, Head) { return es, h }, 0, ""},
		{"empty", func([]Entry, Head) ([]Entry, Head) { return nil, Head{} }, 0, ""},
		{"edited", func(es []Entry, h Head) ([]Entry, Head) { es[2].After = `{"level":9}`; return es, h }, 3, "edited"},
		{"edited time", func(es []Entry, h Head) ([]Entry, Head) { es[1].At = es[1].At.Add(time.Second); return es, h }, 2, "edited"},
		{"rehashed", func(es []Entry, h Head) ([]Entry, Head) {
			es[1].Actor = "user:mallory"
			es[1].Hash = es[1].ComputeHash()
			return es, h
		}, 3, "entry 2 was rewritten"},
		{"deleted first", func(es []Entry, h Head) ([]Entry, Head) { return es[1:], h }, 1, "missing"},
		{"deleted middle", func(es []Entry, h Head) ([]Entry, Head) { return append(es[:2:2], es[3:]...), h }, 3, "missing"},
		{"deleted two", func(es []Entry, h Head) ([]Entry, Head) { return append(es[:1:1], es[3:]...), h }, 2, "entries 2 to 3 were deleted"},
		{"deleted newest", func(es []Entry, h Head) ([]Entry, Head) { return es[:4], h }, 5, "newest were deleted"},
		{"deleted newest and head", func(es []Entry, h Head) ([]Entry, Head) {
			return es[:4], Head{Seq: 4, Hash: es[3].Hash}
		}, 0, ""}, // undetectable from the store alone: keep the head elsewhere too
		{"appended past head", func(es []Entry, h Head) ([]Entry, Head) { return es, Head{Seq: 4, Hash: es[3].Hash} }, 5, "not appended through the log"},
		{"head rewritten", func(es []Entry, h Head) ([]Entry, Head) { h.Hash = strings.Repeat("0", 64); return es, h }, 5, "head's hash"},
		{"duplicated", func(es []Entry, h Head) ([]Entry, Head) { return append(es[:3:3], es[2:]...), h }, 3, "out of order or twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, head := tt.tamper(chain(5))
			err := Verify(es, head)
			if tt.seq == 0 {
				if err != nil {
					t.Errorf("Verify = %v, want nil", err)
				}
				return
			}
			be, ok := errors.AsType[*BrokenError](err)
			if !ok || be.Seq != tt.seq || !strings.Contains(be.Reason, tt.why) {
				t.Fatalf("Verify = %v; want entry %d named, %q", err, tt.seq, tt.why)
			}
			if !errs.Is(err, errs.Conflict) || !strings.HasPrefix(err.Error(), fmt.Sprintf("audit entry %d: ", tt.seq)) {
				t.Errorf("error %q: want kind Conflict, starting with the entry", err)
			}
		})
	}
}

type tree map[string]string // code → parent

func (tr tree) Org(_ context.Context, code string) (inventory.Organization, error) {
	p, ok := tr[code]
	if !ok {
		return inventory.Organization{}, errs.E(errs.NotFound, "organization %q not found", code)
	}
	return inventory.Organization{Code: code, Parent: p}, nil
}

func TestPath(t *testing.T) {
	tr := tree{"HN": "", "HN.BD": "HN", "HN.BD.PX": "HN.BD"}
	got, err := Path(t.Context(), tr, "HN.BD.PX")
	if err != nil || JoinPath(got) != "/HN/HN.BD/HN.BD.PX/" {
		t.Errorf("Path = %v, %v", got, err)
	}
	if _, err := Path(t.Context(), tr, "XX"); !errs.Is(err, errs.NotFound) {
		t.Errorf("Path of a missing organization = %v", err)
	}
	if JoinPath(nil) != "/" {
		t.Errorf("JoinPath(nil) = %q", JoinPath(nil))
	}
	loop := tree{"A": "B", "B": "A"}
	if _, err := Path(t.Context(), loop, "A"); err == nil {
		t.Error("Path ran around a cycle without end")
	}
}

// memStore is a Store in memory, for Log's own tests.
type memStore struct {
	es   []Entry
	head Head
}

func (m *memStore) AppendAudit(_ context.Context, e Entry) (Entry, error) {
	e = Chain(m.head, e)
	m.es = append(m.es, e)
	m.head = Head{Seq: e.Seq, Hash: e.Hash}
	return e, nil
}

func (m *memStore) AuditEntries(context.Context, Filter) ([]Entry, int, error) {
	return m.es, len(m.es), nil
}

func (m *memStore) EachAuditEntry(_ context.Context, fn func(Entry) error) (Head, error) {
	for _, e := range m.es {
		if err := fn(e); err != nil {
			return m.head, err
		}
	}
	return m.head, nil
}

func (m *memStore) AuditHead(context.Context) (Head, error) { return m.head, nil }

func TestLogRecord(t *testing.T) {
	st := &memStore{}
	log := NewLog(st, tree{"HN": "", "HN.STTTT": "HN"}, func() time.Time { return t0 })
	ctx := WithActor(t.Context(), "user:lan")
	e, err := log.Record(ctx, Record{Action: "system.create", ObjectType: "system", ObjectID: "s1", Org: "HN.STTTT",
		After: map[string]any{"name": "Cổng <dịch vụ> & công", "level": 3}})
	if err != nil {
		t.Fatal(err)
	}
	if e.Seq != 1 || e.Actor != "user:lan" || e.OrgPath != "/HN/HN.STTTT/" || e.Before != "" ||
		e.After != `{"level":3,"name":"Cổng \u003cdịch vụ\u003e \u0026 công"}` || !e.At.Equal(t0.Truncate(time.Microsecond)) {
		t.Errorf("recorded %+v", e)
	}
	e, err = log.Record(t.Context(), Record{Action: "finding.update", ObjectType: "finding", ObjectID: "f", Path: []string{"DN"}})
	if err != nil || e.Actor != "system" || e.OrgPath != "/DN/" || e.PrevHash == "" {
		t.Errorf("second entry %+v, %v", e, err)
	}
	if _, err := log.Record(t.Context(), Record{Action: "x", Org: "XX"}); !errs.Is(err, errs.NotFound) {
		t.Errorf("record under a missing organization = %v", err)
	}
	if n, err := log.Verify(t.Context()); n != 2 || err != nil {
		t.Errorf("Verify = %d, %v", n, err)
	}
	st.es[0].Actor = "user:mallory"
	if _, err := log.Verify(t.Context()); err == nil || !strings.Contains(err.Error(), "audit entry 1:") {
		t.Errorf("Verify after an edit = %v", err)
	}
}
