package scope

import (
	"context"
	"errors"
	"net"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// DatabaseProver proves control of a db: resource by reading, from inside the database, the
// token its owner left there (data.Ownership: a comment on a PostgreSQL database, a row of
// khien_verification in MySQL). It is an interface because the drivers live with the data
// package; the scope package only hands it the fenced dialer, so that a proof, like every
// other connection, never leaves the fence. When the token is not found it returns an
// *inventory.ProofError saying why (db-unreachable, db-token-missing, …).
type DatabaseProver interface {
	ProveDatabase(ctx context.Context, c inventory.Challenge, dial func(ctx context.Context, network, address string) (net.Conn, error)) (string, error)
}

// proveDatabase checks the challenge of a db: resource through p.Database and the guard's
// fenced dialer. A refusal by the fence is reported as out of scope: nothing was sent. The
// errors are *inventory.ProofError with one db attempt, whose Err keeps the message (and,
// for the fence, the kind) they had before attempts were typed.
func (p *Prover) proveDatabase(ctx context.Context, c inventory.Challenge) (string, error) {
	attempt := inventory.ProofAttempt{Method: inventory.ProofDB, Target: c.Database, Expected: c.DBValue}
	if p.Database == nil {
		attempt.Outcome, attempt.Detail = inventory.OutcomeDBNotConfigured, "database ownership proofs are not configured on this server"
		return "", &inventory.ProofError{Resource: c.Resource, Attempts: []inventory.ProofAttempt{attempt},
			Err: errs.E(errs.Invalid,
				"máy chủ này chưa cấu hình kiểm chứng quyền sở hữu cơ sở dữ liệu; quản trị viên có thể gán %s kèm lý do / "+
					"database ownership proofs are not configured on this server; an administrator can assign %s with a reason",
				c.Resource, c.Resource)}
	}
	how, err := p.Database.ProveDatabase(ctx, c, p.Guard.DialFenced)
	if err != nil && errors.Is(err, ErrFenced) {
		msg, _ := errs.Message(err)
		attempt.Outcome, attempt.Detail, attempt.Err = inventory.OutcomeRefusedByScope, msg, err
		return "", &inventory.ProofError{Resource: c.Resource, Attempts: []inventory.ProofAttempt{attempt},
			Err: errs.Wrap(errs.OutOfScope, err, "%s", msg)}
	}
	return how, err
}
