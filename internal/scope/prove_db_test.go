package scope

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// dialingProver is a DatabaseProver that dials the database's address with the dialer the
// prover hands it, as the real one (data.Ownership) does through its driver.
type dialingProver struct{ addr string }

func (d dialingProver) ProveDatabase(ctx context.Context, c inventory.Challenge, dial func(ctx context.Context, network, address string) (net.Conn, error)) (string, error) {
	conn, err := dial(ctx, "tcp", d.addr)
	if err != nil {
		return "", errs.Wrap(errs.Invalid, err, "ownership of %s is not proven: cannot connect: %v", c.Resource, err)
	}
	conn.Close()
	return "test " + c.Database, nil
}

func TestProveDatabaseRouting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	challenge := func(id string) inventory.Challenge {
		c, err := inventory.ChallengeFor(inventory.Resource{ID: id}, "tok")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	guard := New(LoopbackFence(), "", 2*time.Second)
	tests := []struct {
		name   string
		prover DatabaseProver
		id     string
		kind   errs.Kind // 0 with want: proven
		want   string
	}{
		{"not configured", nil, "db:postgres://127.0.0.1/hoso", errs.Invalid, "database ownership proofs are not configured"},
		{"inside the fence", dialingProver{ln.Addr().String()}, "db:postgres://127.0.0.1/hoso", 0, "test postgres://127.0.0.1/hoso"},
		{"outside the fence", dialingProver{"192.0.2.1:5432"}, "db:postgres://192.0.2.1/hoso", errs.OutOfScope, "refused 192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Prover{Guard: guard, Database: tt.prover}
			how, err := p.Prove(t.Context(), challenge(tt.id))
			if tt.kind == 0 {
				if err != nil || how != tt.want {
					t.Fatalf("Prove = %q, %v; want %q", how, err, tt.want)
				}
				return
			}
			msg, _ := errs.Message(err)
			if !errs.Is(err, tt.kind) || !strings.Contains(msg, tt.want) {
				t.Fatalf("Prove: %v (message %q); want a %v error saying %q", err, msg, tt.kind, tt.want)
			}
			if tt.kind == errs.OutOfScope && !errors.Is(err, ErrFenced) {
				t.Errorf("%v does not wrap ErrFenced", err)
			}
		})
	}
}
