package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/queue"
)

func runWorker(ctx context.Context, env Env, g globals, args []string) error {
	fs := newFlags(env, &g, "worker", "--db DSN [--nats URL] [flags]",
		"Run the assessment jobs that `khien serve` schedules, writing runs and findings to the store.\n"+
			"Start as many as needed, on any machines, with the same --db (PostgreSQL) and --nats; without\n"+
			"--nats they share the store's own job table. Connections per target address are limited across\n"+
			"all workers (--rate, kept in NATS). A job whose worker dies is handed to another after --ack-wait.\n"+
			"SIGINT or SIGTERM stops taking jobs, hands back the running ones and exits.")
	concurrency := fs.Int("concurrency", 16, "jobs run at once")
	qf := newQueueFlags(env, fs)
	nf := netFlags(env, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageErr(env, fs, "worker takes no arguments")
	}
	if *concurrency < 1 {
		return usageErr(env, fs, "--concurrency must be positive")
	}
	netCfg, err := nf.config()
	if err != nil {
		return err
	}
	qCfg, err := qf.config()
	if err != nil {
		return err
	}
	log := jsonLogger(env.Stderr)
	a, err := app.Open(ctx, app.Config{DB: g.db, Net: netCfg, Queue: qCfg}, log)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintf(env.Stdout, "Khiên worker: %d jobs at a time from the %s queue (store: %s %s)\n",
		*concurrency, a.QueueBackend, a.Backend, redactDSN(g.db))
	log.Info("worker started", "queue", a.QueueBackend, "store", a.Backend, "concurrency", *concurrency,
		"fence", netCfg.Fence.String())
	err = a.Queue.Work(ctx, []string{assess.JobKind}, *concurrency, a.Assess.HandleJob)
	log.Info("worker stopped")
	return err
}

// queueFlags choose the job queue of serve and worker.
type queueFlags struct {
	nats, prefix *string
	ackWait      *time.Duration
	maxAttempts  *int
	replicas     *int
}

func newQueueFlags(env Env, fs *flag.FlagSet) queueFlags {
	prefix := env.Getenv("KHIEN_NATS_PREFIX")
	if prefix == "" {
		prefix = "khien"
	}
	return queueFlags{
		nats: fs.String("nats", env.Getenv("KHIEN_NATS"),
			"NATS server with JetStream that carries jobs to workers, nats://host:4222 (env KHIEN_NATS; empty: the store's own job table)"),
		prefix: fs.String("nats-prefix", prefix,
			"prefix of the NATS stream, subject and bucket names, for installations sharing a server (env KHIEN_NATS_PREFIX)"),
		ackWait: fs.Duration("ack-wait", queue.DefaultAckWait,
			"how long a job may go without word from its worker before it is handed to another"),
		maxAttempts: fs.Int("max-attempts", queue.DefaultMaxAttempts,
			"deliveries of a failing job before it is set aside as dead"),
		replicas: fs.Int("nats-replicas", 1, "servers of the NATS cluster that keep each stream (1, or 3 to survive losing one)"),
	}
}

func (q queueFlags) config() (app.QueueConfig, error) {
	if *q.ackWait < time.Second || *q.maxAttempts < 1 || *q.replicas < 1 {
		return app.QueueConfig{}, errs.E(errs.Invalid, "--ack-wait must be at least 1s, --max-attempts and --nats-replicas at least 1")
	}
	return app.QueueConfig{NATS: *q.nats, Prefix: *q.prefix, AckWait: *q.ackWait, MaxAttempts: *q.maxAttempts,
		Replicas: *q.replicas}, nil
}
