package scope

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/data"
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
		name    string
		prover  DatabaseProver
		id      string
		kind    errs.Kind // 0 with want: proven
		want    string
		outcome inventory.ProofOutcome
	}{
		{"not configured", nil, "db:postgres://127.0.0.1/hoso", errs.Invalid, "database ownership proofs are not configured", inventory.OutcomeDBNotConfigured},
		{"inside the fence", dialingProver{ln.Addr().String()}, "db:postgres://127.0.0.1/hoso", 0, "test postgres://127.0.0.1/hoso", ""},
		{"outside the fence", dialingProver{"192.0.2.1:5432"}, "db:postgres://192.0.2.1/hoso", errs.OutOfScope, "refused 192.0.2.1", inventory.OutcomeRefusedByScope},
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
			c := challenge(tt.id)
			checkProofError(t, err, c.Resource, tt.kind, wantAttempt{inventory.ProofDB, c.Database, tt.outcome, 0, 0})
		})
	}
}

// TestProveDatabaseOutcomes fails database proofs through the real prover (data.Ownership)
// against the PostgreSQL of KHIEN_TEST_POSTGRES, a closed loopback port and an address outside
// the fence, and checks the attempt each error carries. Nothing is written to the database:
// its comment is not the token, so the proof reads it and fails.
func TestProveDatabaseOutcomes(t *testing.T) {
	dsn := os.Getenv("KHIEN_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("KHIEN_TEST_POSTGRES is not set; CI must provide a PostgreSQL server")
		}
		t.Skip("KHIEN_TEST_POSTGRES not set (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pass, _ := u.User.Password()
	as := func(context.Context, string, data.CredentialUse) (string, string, error) {
		return u.User.Username(), pass, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	noCreds := func(context.Context, string, data.CredentialUse) (string, string, error) {
		return "", "", errs.E(errs.NotFound, "no line of the password file matches")
	}
	tests := []struct {
		name    string
		id      string
		creds   data.Credentials
		kind    errs.Kind
		outcome inventory.ProofOutcome
	}{
		{"token missing", "db:postgres://" + u.Host + u.Path, as, errs.Invalid, inventory.OutcomeDBTokenMissing},
		{"unreachable", "db:postgres://" + closed + "/hoso", as, errs.Invalid, inventory.OutcomeDBUnreachable},
		{"no credentials", "db:postgres://" + u.Host + u.Path, noCreds, errs.Invalid, inventory.OutcomeDBNoCredentials},
		{"outside the fence", "db:postgres://192.0.2.1:5432/hoso", as, errs.OutOfScope, inventory.OutcomeRefusedByScope},
	}
	guard := New(LoopbackFence(), "", 5*time.Second)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := inventory.ChallengeFor(inventory.Resource{ID: tt.id}, "tok")
			if err != nil {
				t.Fatal(err)
			}
			p := &Prover{Guard: guard, Database: data.Ownership{Credentials: tt.creds}}
			how, err := p.Prove(t.Context(), c)
			if err == nil {
				t.Fatalf("Prove = %q, nil; want not proven", how)
			}
			pe := checkProofError(t, err, c.Resource, tt.kind, wantAttempt{inventory.ProofDB, c.Database, tt.outcome, 0, 0})
			// The database prover's bilingual account stays the message.
			if msg, _ := errs.Message(err); !strings.Contains(msg, " / ") || pe.Error() != err.Error() {
				t.Errorf("message %q, Error %q; want the prover's bilingual account", msg, pe.Error())
			}
			if pass != "" && strings.Contains(err.Error(), pass) {
				t.Errorf("the error holds the password: %v", err)
			}
		})
	}
}
