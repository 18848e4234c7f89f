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
// other connection, never leaves the fence.
type DatabaseProver interface {
	ProveDatabase(ctx context.Context, c inventory.Challenge, dial func(ctx context.Context, network, address string) (net.Conn, error)) (string, error)
}

// proveDatabase checks the challenge of a db: resource through p.Database and the guard's
// fenced dialer. A refusal by the fence is reported as out of scope: nothing was sent.
func (p *Prover) proveDatabase(ctx context.Context, c inventory.Challenge) (string, error) {
	if p.Database == nil {
		return "", errs.E(errs.Invalid,
			"máy chủ này chưa cấu hình kiểm chứng quyền sở hữu cơ sở dữ liệu; quản trị viên có thể gán %s kèm lý do / "+
				"database ownership proofs are not configured on this server; an administrator can assign %s with a reason",
			c.Resource, c.Resource)
	}
	how, err := p.Database.ProveDatabase(ctx, c, p.Guard.DialFenced)
	if err != nil && errors.Is(err, ErrFenced) {
		msg, _ := errs.Message(err)
		return "", errs.Wrap(errs.OutOfScope, err, "%s", msg)
	}
	return how, err
}
