package scope

import (
	"context"
	"errors"
	"net/netip"
	"testing"
)

// limiter is a shared limiter that counts its callers and refuses while err is set.
type limiter struct {
	calls []netip.Addr
	err   error
}

func (l *limiter) Wait(_ context.Context, a netip.Addr) error {
	l.calls = append(l.calls, a)
	return l.err
}

func TestBudgetWaitsForTheSharedLimiter(t *testing.T) {
	shared := &limiter{}
	b := NewBudget(1, 1000).Shared(shared)
	a := netip.MustParseAddr("127.0.0.7")
	release, err := b.acquire(t.Context(), a)
	if err != nil || len(shared.calls) != 1 || shared.calls[0] != a {
		t.Fatalf("acquire = %v; shared limiter asked for %v, want %v once", err, shared.calls, a)
	}
	release()

	// Refused by the shared budget: no connection, and the local slot is given back.
	shared.err = errors.New("NATS is away")
	if _, err := b.acquire(t.Context(), a); !errors.Is(err, shared.err) {
		t.Fatalf("acquire while the shared limiter refuses = %v, want its error", err)
	}
	if n := len(b.host(a).slots); n != 0 {
		t.Errorf("slots in use after a refusal = %d, want 0", n)
	}
}
