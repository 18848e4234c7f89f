package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/khien-vn/khien/internal/assess"
)

// pruneBatch bounds how many runs one pruning transaction empties, so that pruning a year
// of results never holds the write lock long enough to stall the runs being recorded.
const pruneBatch = 200

const (
	// qPrunable selects runs whose results may go: finished before the cut-off, superseded
	// by a later run of the same resource (the latest run of every resource is what the index
	// reads), not the run a finding was last folded from, and still holding results.
	qPrunable = `SELECT r.id FROM runs r
		WHERE r.finished < ?
		  AND EXISTS (SELECT 1 FROM runs n WHERE n.resource = r.resource AND n.started > r.started)
		  AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.run_id = r.id)
		  AND EXISTS (SELECT 1 FROM results x WHERE x.run_id = r.id)
		ORDER BY r.finished LIMIT ?`
	qPruneResults = `DELETE FROM results WHERE run_id = ?`
	// qRunCounted tells a run whose results were pruned (its counts say it had some) from
	// a run that never had any.
	qRunCounted = `SELECT n_pass + n_fail + n_error + n_not_applicable FROM runs WHERE id = ?`
)

// PruneResults deletes the per-check results of runs finished before before, keeping the
// run rows with their counts, every finding and its history, the latest run of each resource
// and any run a finding still points to. See assess.Store.
func (s *Store) PruneResults(ctx context.Context, before time.Time) (assess.Pruned, error) {
	var total assess.Pruned
	for {
		var n assess.Pruned
		err := s.write(ctx, "prune results", func(tx *sql.Tx) error {
			ids, err := collect(ctx, s, tx, scanID, qPrunable, s.time(before), pruneBatch)
			if err != nil {
				return err
			}
			for _, id := range ids {
				res, err := tx.ExecContext(ctx, s.q(qPruneResults), id)
				if err != nil {
					return err
				}
				rows, err := res.RowsAffected()
				if err != nil {
					return err
				}
				n.Runs++
				n.Results += rows
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("after %d runs: %w", total.Runs, err)
		}
		total.Runs += n.Runs
		total.Results += n.Results
		if n.Runs < pruneBatch || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

func scanID(row scanner) (string, error) {
	var id string
	err := row.Scan(&id)
	return id, err
}
