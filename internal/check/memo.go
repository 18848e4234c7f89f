package check

import (
	"sync"
	"time"
)

// Memo remembers answers that many resources would otherwise ask again (one zone transfer
// per zone and name server, not one per name). The zero Memo remembers for as long as it is
// kept: one scan's memo, dropped with the scan. A memo that outlives scans (a server's, shared
// by the runs of one scheduling round) is made with NewMemo, which bounds how long and how
// many answers it keeps.
//
// It is safe for concurrent use: callers asking for a key being computed wait for that answer
// instead of computing it again.
type Memo struct {
	ttl time.Duration    // 0: answers are never forgotten for their age
	max int              // 0: no bound on how many are kept
	now func() time.Time // set when ttl is

	mu sync.Mutex
	m  map[string]*memoEntry
	// order holds the entries of m, oldest first, when m is bounded: all live equally long,
	// so the oldest are the first to expire and the first to go when m is full.
	order []*memoEntry
}

type memoEntry struct {
	key  string
	at   time.Time // when it was first asked for
	done chan struct{}
	v    any
}

// NewMemo returns a memo that forgets each answer ttl after it was first asked for (ttl ≤ 0:
// never) and keeps at most size answers (size ≤ 0: no bound), forgetting the oldest first.
// now tells the time (nil: time.Now).
func NewMemo(ttl time.Duration, size int, now func() time.Time) *Memo {
	if now == nil {
		now = time.Now
	}
	return &Memo{ttl: max(ttl, 0), max: max(size, 0), now: now}
}

// Len returns how many answers m holds, those being computed included.
func (m *Memo) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bounded() {
		m.expire()
	}
	return len(m.m)
}

func (m *Memo) bounded() bool { return m.ttl > 0 || m.max > 0 }

// expire forgets the answers older than the memo's ttl. m.mu is held.
func (m *Memo) expire() {
	if m.ttl <= 0 {
		return
	}
	cut := m.now().Add(-m.ttl)
	for len(m.order) > 0 && !m.order[0].at.After(cut) {
		m.forgetOldest()
	}
}

// forgetOldest forgets the oldest answer. A caller waiting for it still gets it; later
// callers compute it again. m.mu is held.
func (m *Memo) forgetOldest() {
	e := m.order[0]
	m.order[0] = nil
	m.order = m.order[1:]
	if m.m[e.key] == e {
		delete(m.m, e.key)
	}
}

// Remember returns the value remembered in m for key, computing it with f the first time.
// A nil m remembers nothing: f is called every time. shared reports whether the value came
// from an earlier call.
func Remember[T any](m *Memo, key string, f func() T) (v T, shared bool) {
	return RememberIf(m, key, func() (T, bool) { return f(), true })
}

// RememberIf is Remember for answers that are not always worth keeping: when f reports keep
// false (an attempt cut short because its caller's scan ended, say), callers already waiting
// get the answer but the memo forgets it, so later callers ask again.
func RememberIf[T any](m *Memo, key string, f func() (v T, keep bool)) (v T, shared bool) {
	if m == nil {
		v, _ = f()
		return v, false
	}
	m.mu.Lock()
	if m.m == nil {
		m.m = map[string]*memoEntry{}
	}
	if m.bounded() {
		m.expire()
	}
	if e, ok := m.m[key]; ok {
		m.mu.Unlock()
		<-e.done
		v, _ = e.v.(T) // zero if f panicked
		return v, true
	}
	e := &memoEntry{key: key, done: make(chan struct{})}
	if m.bounded() {
		for m.max > 0 && len(m.m) >= m.max {
			m.forgetOldest()
		}
		if m.ttl > 0 {
			e.at = m.now()
		}
		m.order = append(m.order, e)
	}
	m.m[key] = e
	m.mu.Unlock()
	defer close(e.done)
	v, keep := f()
	e.v = v
	if !keep {
		m.mu.Lock()
		if m.m[key] == e {
			delete(m.m, key) // a bounded memo's order still holds e; it ages out from there
		}
		m.mu.Unlock()
	}
	return v, false
}
