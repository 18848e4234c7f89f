// Package app is the composition root: it opens the store chosen by the DSN and the job queue
// chosen by the NATS URL (none: the store's own jobs table), brings the schema up to date and
// builds every service from explicit dependencies. It is the only package that imports
// concrete backends; everything else sees interfaces.
package app

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/assurance"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/data"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/queue"
	"github.com/khien-vn/khien/internal/queue/jetstream"
	"github.com/khien-vn/khien/internal/queue/local"
	"github.com/khien-vn/khien/internal/scope"
	"github.com/khien-vn/khien/internal/store/postgres"
	"github.com/khien-vn/khien/internal/store/sqlite"
	"github.com/khien-vn/khien/internal/vuln"
)

// DefaultDB is where the embedded store lives when no --db or KHIEN_DB is given.
const DefaultDB = "./khien.db"

// PostgresConns is the most connections one process (server or worker) opens to PostgreSQL;
// they are kept open between uses. Size max_connections by it (docs/scale.md).
const PostgresConns = 16

// Store is what app needs of a backend beyond the domain stores.
type Store interface {
	inventory.Store
	FeedStore
	assess.Store
	assurance.Store
	local.Store // the jobs table of the default queue
	Migrate(ctx context.Context) ([]string, error)
	SchemaVersion(ctx context.Context) (current, latest int, err error)
	Close() error
}

// FeedStore keeps the vulnerability feeds imported offline.
type FeedStore interface {
	PutAdvisories(ctx context.Context, source string, advs []vuln.Advisory, now time.Time) (int, error)
	PutKEV(ctx context.Context, version string, entries []vuln.KEV, now time.Time) (int, error)
	Feeds(ctx context.Context) ([]vuln.Advisory, []vuln.KEV, error)
}

// VulnIndex builds the matching index from the stored feeds.
func VulnIndex(ctx context.Context, st FeedStore) (*vuln.Index, error) {
	advs, kev, err := st.Feeds(ctx)
	if err != nil {
		return nil, err
	}
	return vuln.NewIndex(advs, kev), nil
}

// Config says which backends to use and how Khiên reaches the network.
type Config struct {
	DB    string // file path, sqlite://path, or postgres://…
	Net   Net
	Queue QueueConfig
}

// QueueConfig chooses the job queue: the store's jobs table (queue/local) by default, NATS
// JetStream (queue/jetstream) when NATS is set.
type QueueConfig struct {
	NATS   string // nats://host:4222 (comma-separated for a cluster); empty: the local queue
	Prefix string // names of the NATS streams, subjects and bucket (default "khien")
	// AckWait is how long a job may go without word from its worker before it is handed out
	// again (the local queue's lease); MaxAttempts how many deliveries a job gets before it
	// is set aside as dead. Zero: the queue's defaults.
	AckWait     time.Duration
	MaxAttempts int
	Replicas    int // servers of a NATS cluster that keep each stream (default 1)
}

// Net is how assessments reach targets: through one resolver, inside a fence, within a
// per-address budget.
type Net struct {
	Resolver  string      // DNS resolver host:port for every lookup; empty: names cannot be scanned
	Fence     scope.Fence // networks packets may go to at all
	Timeout   time.Duration
	Roots     *x509.CertPool // trust store for certificate chains; nil: the system's
	Conns     int            // connections at once per target address (default 6)
	Rate      float64        // new connections per second per target address (default 50)
	UserAgent string
	Families  FamilyOptions
}

// App holds the opened backends and the services built on them.
type App struct {
	Log       *slog.Logger
	Store     Store
	Inventory *inventory.Service
	Now       func() time.Time
	// Backend names the kind of store: "sqlite" or "postgres".
	Backend string
	// Prover checks ownership challenges through the guard.
	Prover inventory.Prover
	// Guard is the one way to the network; Assess scans through it.
	Guard  *scope.Guard
	Assess *assess.Service
	// Assurance records attestations, incidents and gate decisions and computes the index.
	Assurance *assurance.Service
	// Queue carries jobs from the scheduler to the workers; QueueBackend names it: "local"
	// or "jetstream".
	Queue        queue.Queue
	QueueBackend string
	nats         *jetstream.Queue // the queue, when it is NATS
}

// OpenStore opens the store named by dsn without migrating it.
func OpenStore(ctx context.Context, dsn string) (Store, string, error) {
	if dsn == "" {
		dsn = DefaultDB
	}
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, "", fmt.Errorf("open PostgreSQL store: %w", err)
		}
		db.PoolSize(PostgresConns)
		return db, "postgres", nil
	case strings.Contains(dsn, "://") && !strings.HasPrefix(dsn, "sqlite://"):
		scheme, _, _ := strings.Cut(dsn, "://")
		return nil, "", errs.Field("db", "unknown store %q: use a file path, sqlite://path or postgres://…", scheme+"://")
	}
	path := strings.TrimPrefix(dsn, "sqlite://")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, "", fmt.Errorf("open SQLite store %s: %w", path, err)
	}
	return db, "sqlite", nil
}

// Open opens the store named by cfg.DB, applies pending migrations (they are forward-only and
// each runs in its own transaction) and builds the services.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	st, backend, err := OpenStore(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate store: %w", err)
	}
	if len(applied) > 0 {
		log.Info("schema migrated", "backend", backend, "applied", strings.Join(applied, ","))
	}
	now := func() time.Time { return time.Now().UTC() }
	a := &App{Log: log, Store: st, Inventory: inventory.NewService(st, now), Now: now, Backend: backend}
	if err := a.openQueue(ctx, cfg.Queue); err != nil {
		st.Close()
		return nil, err
	}
	if err := a.buildAssess(ctx, cfg.Net); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.buildAssurance(); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// openQueue opens the job queue c chooses.
func (a *App) openQueue(ctx context.Context, c QueueConfig) error {
	if c.NATS == "" {
		a.Queue = local.New(a.Store, local.Options{Lease: c.AckWait, MaxAttempts: c.MaxAttempts, Log: a.Log})
		a.QueueBackend = "local"
		return nil
	}
	q, err := jetstream.Open(ctx, c.NATS, jetstream.Options{Prefix: c.Prefix, AckWait: c.AckWait,
		MaxAttempts: c.MaxAttempts, Replicas: c.Replicas, Log: a.Log})
	if err != nil {
		return err
	}
	a.Queue, a.QueueBackend, a.nats = q, "jetstream", q
	return nil
}

// buildAssess builds the guard, the scanner with every family and the assessment service.
func (a *App) buildAssess(ctx context.Context, n Net) error {
	if n.Families.System == nil {
		// The data-security family judges a database by its system's stage and data classes.
		n.Families.System = a.Inventory.System
	}
	cat, err := check.LoadCatalog()
	if err != nil {
		return err
	}
	if n.Families.Vuln == nil {
		ix, err := VulnIndex(ctx, a.Store)
		if err != nil {
			return fmt.Errorf("load vulnerability feeds: %w", err)
		}
		n.Families.Vuln = ix
	}
	if n.Timeout == 0 {
		n.Timeout = 5 * time.Second
	}
	budget := scope.NewBudget(n.Conns, n.Rate)
	if a.nats != nil {
		// Workers on many machines keep to one rate per target address between them; each
		// still bounds its own connections at once.
		limiter, err := a.nats.Limiter(ctx, budget.Rate, max(1, int(budget.Rate/10)))
		if err != nil {
			return err
		}
		budget.Shared(limiter)
	}
	a.Guard = scope.New(n.Fence, n.Resolver, n.Timeout).WithBudget(budget)
	a.Prover = &scope.Prover{Guard: scope.New(n.Fence, n.Resolver, n.Timeout), UserAgent: n.UserAgent,
		Database: data.Ownership{Credentials: n.Families.DBCredentials}}
	scanner := &assess.Scanner{
		Guard:    a.Guard,
		Families: Families(n.Families),
		Env:      check.Env{Now: a.Now, Timeout: n.Timeout, Roots: n.Roots, UserAgent: n.UserAgent},
	}
	a.Assess = assess.NewService(a.Inventory, a.Store, scanner, cat, a.Now, a.Log)
	return nil
}

// buildAssurance builds the assurance service and has the inventory record every system it
// deletes, with who deleted it, for the index's explanations.
func (a *App) buildAssurance() error {
	svc, err := assurance.NewService(a.Store, a.Store, a.Store, a.Now)
	if err != nil {
		return err
	}
	a.Assurance = svc
	a.Inventory.OnSystemDeleted(func(ctx context.Context, sys inventory.System) error {
		by := "khien (command line)"
		if p, ok := auth.PrincipalFrom(ctx); ok {
			by = p.Login
		}
		return svc.SystemRemoved(ctx, sys, by)
	})
	return nil
}

// Ready reports whether the store answers and its schema is current.
func (a *App) Ready(ctx context.Context) error {
	cur, latest, err := a.Store.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if cur != latest {
		return fmt.Errorf("store schema is at version %d, this binary needs %d: run khien migrate", cur, latest)
	}
	return nil
}

// Close releases the backends. Stop the workers first: a JetStream queue closed under them
// leaves their jobs to be handed out again after the ack wait.
func (a *App) Close() error {
	var err error
	if a.nats != nil {
		err = a.nats.Close()
	}
	return errors.Join(err, a.Store.Close())
}
