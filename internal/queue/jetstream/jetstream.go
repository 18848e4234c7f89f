// Package jetstream is the job queue for a scaled-out deployment: jobs are messages of a
// NATS JetStream work-queue stream, which `khien serve` fills and any number of `khien
// worker` processes, on any machines, drain. Every kind of job has one durable pull consumer
// that all workers share, with explicit acknowledgement: a job is removed only when its
// worker acknowledges it, a worker that stops answering (killed, cut off) has its jobs handed
// out again after the ack wait, and a job that failed on every attempt, or whose workers
// kept dying, is moved to a dead-letter stream. The same NATS server keeps the per-address
// connection budget that all workers share (Limiter).
//
// Names derive from a prefix ("khien"), so that several installations, or tests, share a
// server: stream <prefix>_jobs on subjects <prefix>.jobs.<kind>, stream <prefix>_dead on
// <prefix>.dead.<kind>, key-value bucket <prefix>_hosts.
package jetstream

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/queue"
)

// Options tune a Queue; zero values take the defaults.
type Options struct {
	// Prefix names the streams, subjects and bucket (default "khien"): letters, digits, _ and -.
	Prefix string
	// AckWait is how long a job may go without word from its worker before it is handed out
	// again (default queue.DefaultAckWait). Workers report progress every third of it while
	// the handler runs, so it bounds how long a killed worker's jobs wait, not how long a
	// job may take.
	AckWait time.Duration
	// MaxAttempts is how many times a job is delivered before it is moved to the dead-letter
	// stream (default queue.DefaultMaxAttempts).
	MaxAttempts int
	// Replicas is how many servers of a NATS cluster keep each stream (default 1).
	Replicas int
	// DeadAge is how long dead jobs are kept (default 30 days).
	DeadAge time.Duration
	// Name names the connection in the server's monitoring (default "khien").
	Name string
	// Log receives connection changes, retries and dead jobs; nil discards.
	Log *slog.Logger
}

// Queue is the JetStream queue over one connection. It is safe for concurrent use.
type Queue struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	o      Options
	jobs   jetstream.Stream
	dead   jetstream.Stream
	prefix string
}

var _ queue.Queue = (*Queue)(nil)

var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Header fields of a job message. The kind is the subject's tail.
const (
	hdrKey    = "Khien-Key"
	hdrReason = "Khien-Reason"
	hdrTries  = "Khien-Attempts"
)

// deduplication is how long JetStream remembers a job's key: a job enqueued again within it
// is dropped. It outlasts a scheduler's lease, so that a slot re-enqueued when its lease ran
// out while its job still waited is not queued twice.
const deduplication = time.Hour

// Open connects to the NATS server at url (nats://host:4222; several, comma-separated, for a
// cluster) and makes sure the job and dead-letter streams exist with the configured names.
// The connection reconnects by itself for as long as the Queue is open.
func Open(ctx context.Context, url string, o Options) (*Queue, error) {
	o.Prefix = cmp.Or(o.Prefix, "khien")
	if !prefixPattern.MatchString(o.Prefix) {
		return nil, errs.Field("nats-prefix", "%q may hold only letters, digits, _ and -", o.Prefix)
	}
	o.AckWait = cmp.Or(o.AckWait, queue.DefaultAckWait)
	o.MaxAttempts = cmp.Or(o.MaxAttempts, queue.DefaultMaxAttempts)
	o.Replicas = cmp.Or(o.Replicas, 1)
	o.DeadAge = cmp.Or(o.DeadAge, 30*24*time.Hour)
	o.Name = cmp.Or(o.Name, "khien")
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	o.Log = o.Log.With("component", "queue", "queue", "jetstream")
	if o.AckWait < time.Second || o.MaxAttempts < 1 {
		return nil, errs.E(errs.Invalid, "the ack wait must be at least a second and attempts at least one")
	}
	log := o.Log
	nc, err := nats.Connect(url, nats.Name(o.Name), nats.Timeout(5*time.Second),
		nats.MaxReconnects(-1), nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("NATS connection lost; reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("NATS connection back", "server", c.ConnectedUrlRedacted()) }))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", redact(url), err)
	}
	q, err := open(ctx, nc, o)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return q, nil
}

func open(ctx context.Context, nc *nats.Conn, o Options) (*Queue, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	q := &Queue{nc: nc, js: js, o: o, prefix: o.Prefix}
	q.jobs, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        q.prefix + "_jobs",
		Description: "Khiên jobs waiting for a worker; each is removed when its worker acknowledges it",
		Subjects:    []string{q.prefix + ".jobs.>"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
		Duplicates:  deduplication,
	})
	if err != nil {
		return nil, fmt.Errorf("NATS stream %s_jobs (is JetStream enabled on the server?): %w", q.prefix, err)
	}
	q.dead, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        q.prefix + "_dead",
		Description: "Khiên jobs given up on: failed on every attempt, or their workers kept dying",
		Subjects:    []string{q.prefix + ".dead.>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
		MaxAge:      o.DeadAge,
	})
	if err != nil {
		return nil, fmt.Errorf("NATS stream %s_dead: %w", q.prefix, err)
	}
	return q, nil
}

// Close closes the connection at once: nothing more is acknowledged, so the jobs in hand are
// handed out again after the ack wait, as if the process had been killed. Stop Work first
// for a graceful end.
func (q *Queue) Close() error {
	q.nc.Close()
	return nil
}

// Delete removes the streams and the bucket of this queue's prefix, with every job in them.
// Tests use it to leave a shared server as they found it.
func (q *Queue) Delete(ctx context.Context) error {
	var all []error
	for _, name := range []string{q.prefix + "_jobs", q.prefix + "_dead"} {
		if err := q.js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			all = append(all, err)
		}
	}
	if err := q.js.DeleteKeyValue(ctx, q.bucket()); err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) {
		all = append(all, err)
	}
	return errors.Join(all...)
}

func (q *Queue) subject(kind string) string { return q.prefix + ".jobs." + kind }

// consumer names the durable consumer of a kind; names cannot hold dots.
func (q *Queue) consumer(kind string) string { return "work_" + strings.ReplaceAll(kind, ".", "_") }

// Enqueue publishes jobs and waits until JetStream has stored each. A job's kind and key make
// its message id, so one enqueued again within an hour (deduplication) is dropped. Jobs are
// published one by one: if the server fails midway, those before are enqueued.
func (q *Queue) Enqueue(ctx context.Context, jobs ...queue.Job) error {
	for _, j := range jobs {
		if err := j.Valid(); err != nil {
			return errs.Wrap(errs.Invalid, err, "%s", err.Error())
		}
	}
	acks := make([]jetstream.PubAckFuture, 0, len(jobs))
	for _, j := range jobs {
		m := nats.NewMsg(q.subject(j.Kind))
		m.Data = j.Payload
		m.Header.Set(hdrKey, j.Key)
		f, err := q.js.PublishMsgAsync(m, jetstream.WithMsgID(j.Kind+"/"+j.Key))
		if err != nil {
			return fmt.Errorf("enqueue %s %s: %w", j.Kind, j.Key, err)
		}
		acks = append(acks, f)
	}
	for i, f := range acks {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("enqueue %s %s: %w", jobs[i].Kind, jobs[i].Key, err)
		case <-ctx.Done():
			return fmt.Errorf("enqueue %d jobs: %w", len(jobs), ctx.Err())
		}
	}
	return nil
}

// Work runs h on jobs of kinds, at most n at a time, until ctx ends; see queue.Queue. It
// fetches only as many jobs as it has free handlers, so jobs wait in the stream, where any
// worker can take them, rather than in one worker's buffer. While the server is away it
// keeps trying; it returns an error if the queue is closed under it.
func (q *Queue) Work(ctx context.Context, kinds []string, n int, h queue.Handler) error {
	if err := queue.ValidKinds(kinds); err != nil {
		return err
	}
	if n < 1 {
		return fmt.Errorf("work on %s: %d handlers at once; want at least one", strings.Join(kinds, ","), n)
	}
	var consumers []jetstream.Consumer
	for _, k := range kinds {
		c, err := q.js.CreateOrUpdateConsumer(ctx, q.prefix+"_jobs", jetstream.ConsumerConfig{
			Durable:       q.consumer(k),
			Description:   "Khiên workers of " + k + " jobs",
			FilterSubject: q.subject(k),
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       q.o.AckWait,
			MaxDeliver:    q.o.MaxAttempts,
			MaxAckPending: 100_000,
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("NATS consumer of %s jobs: %w", k, err)
		}
		consumers = append(consumers, c)
		// Jobs whose last delivery went unanswered are moved to the dead letters by whichever
		// worker hears of it first (a queue group shares the advisories).
		sub, err := q.nc.QueueSubscribe(
			"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES."+q.prefix+"_jobs."+q.consumer(k),
			q.prefix+"-dead-letters", q.onMaxDeliveries)
		if err != nil {
			return fmt.Errorf("NATS dead-letter advisories of %s jobs: %w", k, err)
		}
		defer sub.Unsubscribe()
	}

	// Each kind's loop fetches at most its share of the handlers, and with several kinds waits
	// less long for jobs, so that one kind's loop does not hold the handlers another's needs.
	w := &jsWorker{q: q, h: h, slots: queue.NewSlots(n), share: (n + len(kinds) - 1) / len(kinds), wait: 5 * time.Second}
	if len(kinds) > 1 {
		w.wait = time.Second
	}
	var loops sync.WaitGroup
	errc := make(chan error, len(consumers))
	for _, c := range consumers {
		loops.Go(func() {
			if err := w.fetch(ctx, c); err != nil {
				errc <- err
			}
		})
	}
	loops.Wait()
	w.running.Wait()
	close(errc)
	return <-errc // nil unless a loop failed
}

// jsWorker is one call of Work.
type jsWorker struct {
	q       *Queue
	h       queue.Handler
	slots   queue.Slots   // one per running handler
	share   int           // the most handlers one kind's loop fetches for at once
	wait    time.Duration // how long one fetch waits for jobs
	running sync.WaitGroup
}

// fetch pulls jobs from c for free handlers until ctx ends.
func (w *jsWorker) fetch(ctx context.Context, c jetstream.Consumer) error {
	failures := 0
	for {
		free := w.slots.Take(ctx, w.share)
		if free == 0 {
			return nil
		}
		fctx, cancel := context.WithTimeout(ctx, w.wait)
		got := 0
		batch, err := c.Fetch(free, jetstream.FetchContext(fctx))
		if err == nil {
			for m := range batch.Messages() {
				got++
				if ctx.Err() != nil { // arrived as the worker stopped: hand it back
					m.Nak()
					w.slots.Release(1)
					continue
				}
				w.running.Go(func() {
					defer w.slots.Release(1)
					w.handle(ctx, m)
				})
			}
			err = batch.Error()
		}
		cancel()
		w.slots.Release(free - got)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, nats.ErrConnectionClosed):
			return fmt.Errorf("fetch jobs: %w", err)
		case err == nil, errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
			failures = 0
			continue
		}
		failures++
		wait := min(time.Second<<min(failures, 5), 30*time.Second)
		w.q.o.Log.Warn("cannot fetch jobs; trying again", "err", err, "retry_in", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil
		}
	}
}

// handle runs the handler on one message, tells JetStream it is in progress every third of
// the ack wait, and settles the message by the handler's answer.
func (w *jsWorker) handle(ctx context.Context, m jetstream.Msg) {
	q := w.q
	j := queue.Job{Kind: strings.TrimPrefix(m.Subject(), q.prefix+".jobs."), Key: m.Headers().Get(hdrKey), Payload: m.Data(), Attempt: 1}
	if md, err := m.Metadata(); err == nil {
		j.Attempt = int(md.NumDelivered)
	}
	if j.Attempt > 1 {
		q.o.Log.Info("job delivered again", "job_kind", j.Kind, "job_key", j.Key, "attempt", j.Attempt)
	}
	stop := make(chan struct{})
	var progress sync.WaitGroup
	progress.Go(func() {
		t := time.NewTicker(q.o.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				m.InProgress()
			}
		}
	})
	err := queue.Call(ctx, w.h, j)
	close(stop)
	progress.Wait()

	actx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var aerr error
	switch {
	case err == nil:
		aerr = m.DoubleAck(actx)
	case queue.Interrupted(err):
		aerr = m.Nak() // the worker is stopping: hand it out again at once
	case queue.IsPermanent(err) || j.Attempt >= q.o.MaxAttempts:
		q.o.Log.Error("job set aside as dead", "job_kind", j.Kind, "job_key", j.Key, "attempt", j.Attempt, "err", err)
		if aerr = q.bury(actx, j.Kind, j.Key, m.Data(), j.Attempt, err.Error()); aerr == nil {
			aerr = m.DoubleAck(actx)
		} else {
			m.Nak() // the dead-letter advisory moves it once its deliveries are spent
		}
	default:
		wait := queue.Backoff(j.Attempt)
		q.o.Log.Warn("job failed; it will be retried", "job_kind", j.Kind, "job_key", j.Key, "attempt", j.Attempt,
			"retry_in", wait.Round(time.Second).String(), "err", err)
		aerr = m.NakWithDelay(wait)
	}
	if aerr != nil {
		q.o.Log.Warn("job outcome not told to NATS; it will be delivered again after the ack wait", "job_key", j.Key, "err", aerr)
	}
}

// bury publishes a job to the dead-letter stream.
func (q *Queue) bury(ctx context.Context, kind, key string, payload []byte, attempts int, reason string) error {
	m := nats.NewMsg(q.prefix + ".dead." + kind)
	m.Data = payload
	m.Header.Set(hdrKey, key)
	m.Header.Set(hdrReason, reason)
	m.Header.Set(hdrTries, strconv.Itoa(attempts))
	if _, err := q.js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("dead-letter %s %s: %w", kind, key, err)
	}
	return nil
}

// onMaxDeliveries moves a job whose deliveries are spent without an answer (its workers
// died with it, or stopped on its last attempt) from the work queue to the dead letters.
func (q *Queue) onMaxDeliveries(msg *nats.Msg) {
	var adv struct {
		StreamSeq  uint64 `json:"stream_seq"`
		Deliveries int    `json:"deliveries"`
	}
	if err := json.Unmarshal(msg.Data, &adv); err != nil || adv.StreamSeq == 0 {
		q.o.Log.Warn("unreadable max-deliveries advisory", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := q.jobs.GetMsg(ctx, adv.StreamSeq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return // acknowledged meanwhile, or moved by another worker
	}
	if err != nil {
		q.o.Log.Warn("cannot read a job whose deliveries are spent", "seq", adv.StreamSeq, "err", err)
		return
	}
	kind := strings.TrimPrefix(raw.Subject, q.prefix+".jobs.")
	key := raw.Header.Get(hdrKey)
	reason := fmt.Sprintf("no answer after %d deliveries: its workers stopped while running it", adv.Deliveries)
	q.o.Log.Error("job set aside as dead", "job_kind", kind, "job_key", key, "attempt", adv.Deliveries, "err", reason)
	if err := q.bury(ctx, kind, key, raw.Data, adv.Deliveries, reason); err != nil {
		q.o.Log.Warn("cannot move a job to the dead letters", "job_key", key, "err", err)
		return
	}
	if err := q.jobs.DeleteMsg(ctx, adv.StreamSeq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		q.o.Log.Warn("dead job not removed from the queue", "job_key", key, "err", err)
	}
}

// Dead returns up to limit dead jobs, the latest first (limit 0 means 50).
func (q *Queue) Dead(ctx context.Context, limit int) ([]queue.DeadJob, error) {
	if limit <= 0 {
		limit = 50
	}
	info, err := q.dead.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	var out []queue.DeadJob
	for seq := info.State.LastSeq; seq >= info.State.FirstSeq && seq > 0 && len(out) < limit; seq-- {
		raw, err := q.dead.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("dead letter %d: %w", seq, err)
		}
		tries, _ := strconv.Atoi(raw.Header.Get(hdrTries))
		out = append(out, queue.DeadJob{
			Job: queue.Job{Kind: strings.TrimPrefix(raw.Subject, q.prefix+".dead."), Key: raw.Header.Get(hdrKey),
				Payload: raw.Data, Attempt: tries},
			Reason: raw.Header.Get(hdrReason), At: raw.Time.UTC(),
		})
	}
	return out, nil
}

// Waiting returns how many jobs are in the work queue: waiting, or in a worker's hands.
func (q *Queue) Waiting(ctx context.Context) (int, error) {
	info, err := q.jobs.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("job stream: %w", err)
	}
	return int(info.State.Msgs), nil
}

// redact hides a password in a NATS URL before it is shown.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	at := strings.LastIndex(rest, "@")
	if !ok || at < 0 {
		return url
	}
	return scheme + "://***@" + rest[at+1:]
}
