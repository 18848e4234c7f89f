package check_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
)

// fakeClock is a test's time, moved by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestMemoRemembers: each step asks for a key after moving the clock, and says whether the
// answer must be a remembered one.
func TestMemoRemembers(t *testing.T) {
	type step struct {
		advance time.Duration
		key     string
		shared  bool
	}
	tests := []struct {
		name  string
		memo  func(now func() time.Time) *check.Memo
		steps []step
		len   int // Len at the end
	}{
		{"nil remembers nothing", func(func() time.Time) *check.Memo { return nil },
			[]step{{0, "a", false}, {0, "a", false}}, 0},
		{"zero value remembers for ever", func(func() time.Time) *check.Memo { return new(check.Memo) },
			[]step{{0, "a", false}, {0, "b", false}, {time.Hour, "a", true}, {24 * time.Hour, "b", true}}, 2},
		{"forgets after ttl", func(now func() time.Time) *check.Memo { return check.NewMemo(5*time.Minute, 0, now) },
			[]step{{0, "a", false}, {4 * time.Minute, "a", true}, {0, "b", false}, {time.Minute, "a", false},
				{0, "a", true}, {3 * time.Minute, "b", true}, {time.Minute, "b", false}}, 2},
		{"keeps at most size, oldest first out", func(now func() time.Time) *check.Memo { return check.NewMemo(0, 2, now) },
			[]step{{0, "a", false}, {0, "b", false}, {0, "c", false}, {0, "b", true}, {0, "c", true}, {0, "a", false}, {0, "b", false}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
			m := tt.memo(clk.Now)
			computed := map[string]int{}
			for i, s := range tt.steps {
				clk.Advance(s.advance)
				v, shared := check.Remember(m, s.key, func() string { computed[s.key]++; return fmt.Sprint(s.key, computed[s.key]) })
				if shared != s.shared {
					t.Errorf("step %d (%s): shared = %v, want %v", i, s.key, shared, s.shared)
				}
				if want := fmt.Sprint(s.key, computed[s.key]); v != want {
					t.Errorf("step %d (%s): value %q, want the latest computed %q", i, s.key, v, want)
				}
			}
			if m != nil {
				if n := m.Len(); n != tt.len {
					t.Errorf("Len = %d, want %d", n, tt.len)
				}
			}
		})
	}
}

// TestMemoBounded: a long-lived memo does not grow with the keys asked of it.
func TestMemoBounded(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	m := check.NewMemo(time.Minute, 100, clk.Now)
	for i := range 10_000 {
		check.Remember(m, fmt.Sprint("zone", i), func() int { return i })
		if i%1000 == 0 {
			clk.Advance(time.Second)
		}
	}
	if n := m.Len(); n != 100 {
		t.Errorf("Len = %d after 10000 keys, want the bound 100", n)
	}
	clk.Advance(time.Minute)
	if n := m.Len(); n != 0 {
		t.Errorf("Len = %d a minute later, want 0: every answer expired", n)
	}
}

// TestMemoConcurrent: callers asking for one key at once compute it once and all get it,
// while other keys come and go.
func TestMemoConcurrent(t *testing.T) {
	tests := []struct {
		name string
		memo *check.Memo
		once bool // the key cannot be forgotten meanwhile
	}{
		{"unbounded", new(check.Memo), true},
		{"bounded below the other keys", check.NewMemo(time.Hour, 10, nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var computed, shared atomic.Int32
			release := make(chan struct{})
			var wg sync.WaitGroup
			for range 50 {
				wg.Go(func() {
					v, sh := check.Remember(tt.memo, "zone", func() int { computed.Add(1); <-release; return 42 })
					if sh {
						shared.Add(1)
					}
					if v != 42 {
						t.Errorf("value %d, want 42", v)
					}
				})
			}
			for i := range 30 {
				check.Remember(tt.memo, fmt.Sprint("other", i), func() int { return i })
			}
			close(release)
			wg.Wait()
			n := computed.Load()
			if n+shared.Load() != 50 || n < 1 || tt.once && n != 1 {
				t.Errorf("computed %d times, shared %d times, for 50 callers", n, shared.Load())
			}
			if l := tt.memo.Len(); !tt.once && l > 10 {
				t.Errorf("Len = %d, want at most 10", l)
			}
		})
	}
}

// An answer its caller says not to keep is handed to those waiting, then asked again.
func TestRememberIfForgets(t *testing.T) {
	for _, m := range []*check.Memo{new(check.Memo), check.NewMemo(time.Minute, 2, nil)} {
		calls := 0
		ask := func(keep bool) (int, bool) {
			return check.RememberIf(m, "k", func() (int, bool) { calls++; return calls, keep })
		}
		if v, shared := ask(false); v != 1 || shared {
			t.Errorf("first ask = %d, %v; want 1, not shared", v, shared)
		}
		if v, shared := ask(true); v != 2 || shared {
			t.Errorf("after an answer not kept = %d, %v; want a new answer 2", v, shared)
		}
		if v, shared := ask(true); v != 2 || !shared {
			t.Errorf("after a kept answer = %d, %v; want 2, shared", v, shared)
		}
		if n := m.Len(); n != 1 {
			t.Errorf("Len = %d, want 1", n)
		}
	}
}
