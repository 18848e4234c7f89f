// Package cli is the khien command line: it parses flags, opens the application through app,
// runs one subcommand and maps errors to exit codes. Exit codes are a contract that scripts
// depend on: 0 ok, 1 blocked or failures found, 2 usage or invalid input, 3 internal error.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/errs"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitBlocked = 1 // the gate said no, or a scan found failures at or above --fail-on
	ExitUsage   = 2 // bad flags, or invalid input such as a malformed file or an unknown system
	ExitError   = 3 // anything else: the store is down, a bug
)

// Env is the outside world as the CLI sees it; tests pass buffers and a fake getenv.
type Env struct {
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Getenv  func(string) string
	Version string
}

// errUsage marks an error that was already explained to the user along with usage.
var errUsage = errors.New("usage")

// errBlocked marks a "no" that is an answer, not a failure (exit 1).
var errBlocked = errors.New("blocked")

type command struct {
	summary string
	run     func(ctx context.Context, env Env, g globals, args []string) error
}

// commands lists every subcommand. Later issues add rows here.
func commands() map[string]command {
	return map[string]command{
		"demo":    {"create a sample province inventory and serve it", runDemo},
		"serve":   {"serve the web dashboard and the JSON API", runServe},
		"migrate": {"bring the store's schema up to date", runMigrate},
		"import":  {"import an inventory from a YAML or CSV file (all or nothing)", runImport},
		"export":  {"export the inventory as YAML or CSV", runExport},
		"version": {"print the version", runVersion},
		"user":    {"manage local accounts: add, list, passwd, reset-mfa, link-oidc", runUser},
		"audit":   {"verify the audit log's hash chain", runAudit},
		"policy":  {"schedule an index method or replace the go-live gate policy (rules as data)", runPolicy},
		"feeds":   {"import vulnerability feeds (OSV, CISA KEV) for offline matching", runFeeds},
		"scan":    {"assess targets of the inventory with every applicable check", runScan},
		"data":    {"scan data for personal data, secrets and state-secret markings; mask test data", runData},
		"worker":  {"run scheduled assessment jobs from the queue (scale out with --nats)", runWorker},
		"lab":     {"start simulated targets on loopback and register them for scanning", runLab},
		"index":   {"the cybersecurity assurance index of an organization; --snapshot stores today's", runIndex},
		"gate":    {"ask the go-live gate whether a system may enter a stage (exit 1 if denied)", runGate},
		"report":  {"write reports: scorecard --org CODE --year YYYY --out FILE.pdf|FILE.html", runReport},
	}
}

// globals are the flags accepted before the subcommand and by every subcommand.
type globals struct {
	db string
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.db, "db", g.db, "store: a file path or sqlite://path (embedded), or postgres://… (env KHIEN_DB)")
}

// Main runs the subcommand named in args and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	g := globals{db: env.Getenv("KHIEN_DB")}
	if g.db == "" {
		g.db = app.DefaultDB
	}
	top := flag.NewFlagSet("khien", flag.ContinueOnError)
	top.SetOutput(env.Stderr)
	g.register(top)
	top.Usage = func() { usage(env.Stderr, top) }
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	args = top.Args()
	if len(args) == 0 {
		usage(env.Stderr, top)
		return ExitUsage
	}
	name := args[0]
	if name == "help" {
		usage(env.Stdout, top)
		return ExitOK
	}
	cmd, ok := commands()[name]
	if !ok {
		fmt.Fprintf(env.Stderr, "khien: unknown command %q\n\n", name)
		usage(env.Stderr, top)
		return ExitUsage
	}
	err := cmd.run(ctx, env, g, args[1:])
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.Is(err, errUsage):
		return ExitUsage
	case errors.Is(err, errBlocked):
		return ExitBlocked
	}
	fmt.Fprintf(env.Stderr, "khien %s: %v\n", name, err)
	switch errs.KindOf(err) {
	case errs.Invalid, errs.NotFound, errs.Conflict, errs.OutOfScope:
		return ExitUsage
	}
	return ExitError
}

func usage(w io.Writer, top *flag.FlagSet) {
	fmt.Fprintln(w, "Khiên — nền tảng bảo đảm an toàn thông tin / cybersecurity assurance platform")
	fmt.Fprintln(w, "\nUsage: khien [--db DSN] <command> [flags]\n\nCommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nGlobal flags:")
	top.SetOutput(w)
	top.PrintDefaults()
	fmt.Fprintln(w, "\nRun 'khien <command> --help' for a command's flags.")
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 blocked or failures found, 2 usage or invalid input, 3 error.")
}

// newFlags makes a subcommand's flag set with the global flags and a usage line.
func newFlags(env Env, g *globals, name, args, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet("khien "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	g.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: khien %s %s\n\n%s\n\nFlags:\n", name, args, summary)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses a subcommand's flags; a parse error has already been printed.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// usageErr prints msg and the subcommand's usage and returns errUsage.
func usageErr(env Env, fs *flag.FlagSet, format string, a ...any) error {
	fmt.Fprintf(env.Stderr, "khien: "+format+"\n\n", a...)
	fs.Usage()
	return errUsage
}

// textLogger is for interactive commands; jsonLogger for serve and worker.
func textLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func jsonLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func openApp(ctx context.Context, g globals, log *slog.Logger, n app.Net) (*app.App, error) {
	return app.Open(ctx, app.Config{DB: g.db, Net: n}, log)
}

// redactDSN hides a password in a DSN before it is printed.
func redactDSN(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return dsn
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return dsn
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return dsn
	}
	return scheme + "://" + user + ":***@" + rest[at+1:]
}
