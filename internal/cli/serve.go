package cli

import (
	"context"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/data"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/scope"
	"github.com/khien-vn/khien/internal/web"
)

func listenFlag(env Env) string {
	if v := env.Getenv("KHIEN_LISTEN"); v != "" {
		return v
	}
	return "127.0.0.1:8080"
}

func runServe(ctx context.Context, env Env, g globals, args []string) error {
	fs := newFlags(env, &g, "serve", "[--db DSN] [--nats URL] [--listen ADDR] [--tls-cert F --tls-key F | --insecure-http]\n  [--oidc-issuer URL --oidc-client-id ID --oidc-client-secret-file F [--oidc-redirect-url URL]]",
		"Serve the dashboard (/), the JSON API (/api/v1, described at /api/v1/openapi.json), /healthz and /metrics\n"+
			"over TLS (a self-signed certificate beside the store unless --tls-cert is given).\n"+
			"Pending schema migrations are applied at start. SIGINT or SIGTERM shuts down gracefully.")
	listen := fs.String("listen", listenFlag(env), "address to listen on (env KHIEN_LISTEN)")
	nf := netFlags(env, fs)
	qf := newQueueFlags(env, fs)
	schedule := fs.Bool("schedule", true, "assess in-scope resources on their schedule (daily; levels 4–5 every 6 hours; adapted to risk)")
	tf := newTLSFlags(env, fs)
	of := newOIDCFlags(env, fs)
	var retain retention
	fs.Var(&retain, "retain-results", "keep per-check results this long (e.g. 400d, 9000h; default: forever); run counts,\nfindings, their history and each resource's latest run are always kept")
	workers := fs.Int("workers", -1, "assessment jobs run in this process at once (default 8 with the local queue, 0 with --nats: `khien worker` runs them)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageErr(env, fs, "serve takes no arguments")
	}
	log := jsonLogger(env.Stderr)
	netCfg, err := nf.config()
	if err != nil {
		return err
	}
	qCfg, err := qf.config()
	if err != nil {
		return err
	}
	oidc, err := of.provider(netCfg)
	if err != nil {
		return err
	}
	if *workers < 0 {
		*workers = 8
		if qCfg.NATS != "" {
			*workers = 0
		}
	}
	a, err := app.Open(ctx, app.Config{DB: g.db, Net: netCfg, Queue: qCfg}, log)
	if err != nil {
		return err
	}
	defer a.Close()
	// The scheduler and the workers stop with ctx; they are waited for before the store and
	// the queue close (defers run last in, first out).
	var wg sync.WaitGroup
	defer wg.Wait()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	ln, scheme, err := tf.listener(g.db, ln)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Khiên đang chạy tại / is serving at %s://%s/ (store: %s %s)\n", scheme, ln.Addr(), a.Backend, redactDSN(g.db))
	if *schedule {
		sched := assess.NewScheduler(a.Assess, "")
		// Due resources become jobs, run by the workers. The lease covers the job's wait in
		// the queue; when a backlog outlasts it, the slot is enqueued again under the same key.
		sched.Queue, sched.Lease = a.Queue, time.Hour
		sched.Retain = time.Duration(retain)
		wg.Go(func() {
			if err := sched.Run(ctx); err != nil {
				log.Error("scheduler stopped", "err", err)
			}
		})
	}
	if *workers > 0 {
		wg.Go(func() {
			if err := a.Queue.Work(ctx, []string{assess.JobKind}, *workers, a.Assess.HandleJob); err != nil {
				log.Error("workers stopped", "err", err)
			}
		})
	}
	log.Info("job queue", "queue", a.QueueBackend, "workers", *workers, "schedule", *schedule)
	return serveAppWith(ctx, env, a, ln, oidc)
}

// serveApp serves a's handler on ln until ctx ends.
// auditVerifyEvery is how often the server reads the whole audit log to check its chain: the
// audit page shows the latest outcome and its time, and a broken chain is logged as an error
// even when nobody opens the page.
const auditVerifyEvery = 10 * time.Minute

func serveApp(ctx context.Context, env Env, a *app.App, ln net.Listener) error {
	return serveAppWith(ctx, env, a, ln, nil)
}

// serveAppWith is serveApp offering sign-in through oidc too, unless it is nil.
func serveAppWith(ctx context.Context, env Env, a *app.App, ln net.Listener, oidc *auth.OIDC) error {
	au, auditLog, err := authFor(a.Store, env)
	if err != nil {
		return err
	}
	h := web.NewServer(web.Deps{
		Log:       a.Log,
		Inventory: a.Inventory,
		Auth:      au,
		Now:       a.Now,
		Version:   env.Version,
		Ready:     a.Ready,
		Prover:    a.Prover,
		Assess:    a.Assess,
		Assurance: a.Assurance,
		OIDC:      oidc,
	})
	// Background work ends with the server, and is waited for: the caller closes the store
	// next, and nothing may still be reading it then.
	bg, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { a.Assurance.RunDaily(bg, a.Log) }) // today's index snapshot, once a day
	wg.Go(func() { auditLog.VerifyEvery(bg, auditVerifyEvery, a.Log.With("component", "audit")) })
	err = web.ServeListener(ctx, a.Log, ln, h)
	stop()
	wg.Wait()
	return err
}

// networkFlags are the flags of every command that sends packets: which resolver answers
// every lookup, which networks packets may go to at all, whom to trust, how politely.
type networkFlags struct {
	resolver, fence, caFile *string
	dbPass                  *string
	dataRoots               *stringsFlag
	timeout                 *time.Duration
	conns                   *int
	rate                    *float64
}

func netFlags(env Env, fs *flag.FlagSet) networkFlags {
	n := networkFlags{
		resolver: fs.String("resolver", env.Getenv("KHIEN_RESOLVER"), "DNS resolver host:port used for every lookup and connection (env KHIEN_RESOLVER)"),
		fence:    fs.String("fence", env.Getenv("KHIEN_NET_FENCE"), "networks packets may go to at all, CIDRs or \"loopback\" (env KHIEN_NET_FENCE; empty: public addresses)"),
		caFile:   fs.String("ca-file", env.Getenv("KHIEN_CA_FILE"), "PEM file of trusted root certificates (env KHIEN_CA_FILE; default: the system's)"),
		timeout:  fs.Duration("timeout", 5*time.Second, "timeout of each network operation"),
		conns:    fs.Int("conns", 6, "connections open at once to one IP address"),
		rate:     fs.Float64("rate", 50, "new connections per second to one IP address (down to 1 for fragile hosts)"),
		dbPass:   fs.String("db-passfile", env.Getenv("KHIEN_DB_PASSFILE"), "credentials of db: resources for data-security scans and database ownership proofs, one host:port:database:user:password per line (env KHIEN_DB_PASSFILE)"),
	}
	n.dataRoots = dataRootsFlag(env, fs)
	return n
}

// stringsFlag is a repeatable string flag whose first use on the command line replaces the
// values taken from the environment.
type stringsFlag struct {
	vals []string
	set  bool
}

func (s *stringsFlag) String() string {
	if s == nil {
		return ""
	}
	return strings.Join(s.vals, string(filepath.ListSeparator))
}

func (s *stringsFlag) Set(v string) error {
	if !s.set {
		s.vals, s.set = nil, true
	}
	s.vals = append(s.vals, v)
	return nil
}

// dataRootsFlag defines --data-root, the directories file: locations may be read under.
func dataRootsFlag(env Env, fs *flag.FlagSet) *stringsFlag {
	s := &stringsFlag{}
	if v := env.Getenv("KHIEN_DATA_ROOTS"); v != "" {
		s.vals = filepath.SplitList(v)
	}
	fs.Var(s, "data-root", "directory under which file: locations are read by data-security scans; repeatable (env KHIEN_DATA_ROOTS, "+string(filepath.ListSeparator)+"-separated; default none: no file is read)")
	return s
}

// config checks the flags and turns them into the application's network configuration.
func (n networkFlags) config() (app.Net, error) {
	fence, err := scope.ParseFence(*n.fence)
	if err != nil {
		return app.Net{}, err
	}
	if *n.timeout <= 0 || *n.conns < 1 || *n.rate <= 0 {
		return app.Net{}, errs.E(errs.Invalid, "--timeout, --conns and --rate must be positive")
	}
	cfg := app.Net{Resolver: *n.resolver, Fence: fence, Timeout: *n.timeout, Conns: *n.conns, Rate: *n.rate, UserAgent: UserAgent}
	if *n.dbPass != "" {
		creds, err := data.PassFile(*n.dbPass)
		if err != nil {
			return app.Net{}, err
		}
		cfg.Families.DBCredentials = creds
	}
	roots, err := data.NewRoots(n.dataRoots.vals...)
	if err != nil {
		return app.Net{}, err
	}
	cfg.Families.DataRoots = roots
	if *n.caFile != "" {
		pem, err := os.ReadFile(*n.caFile)
		if err != nil {
			return app.Net{}, errs.Wrap(errs.Invalid, err, "cannot read --ca-file")
		}
		cfg.Roots = x509.NewCertPool()
		if !cfg.Roots.AppendCertsFromPEM(pem) {
			return app.Net{}, errs.Field("ca-file", "%s holds no PEM certificate", *n.caFile)
		}
	}
	return cfg, nil
}
