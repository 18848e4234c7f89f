package sqlstore

import "time"

// PoolSize bounds the connections the store holds to its database: at most n open, and all
// of them kept between uses. database/sql's default keeps only two idle, so a worker running
// many jobs would open and close a connection (on PostgreSQL, a server process) for nearly
// every query. With the bound, every process costs the database at most n connections, which
// is what max_connections is sized by (docs/scale.md).
//
// No method of the store may query through s.db while it holds a transaction: with a full
// pool, that would wait for itself.
func (s *Store) PoolSize(n int) {
	s.db.SetMaxOpenConns(n)
	s.db.SetMaxIdleConns(n)
	s.db.SetConnMaxIdleTime(5 * time.Minute)
}
