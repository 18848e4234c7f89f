package cli

import (
	"context"
	"flag"
	"fmt"
	"net"
	"time"

	"github.com/khien-vn/khien/internal/app"
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
	fs := newFlags(env, &g, "serve", "[--db DSN] [--listen ADDR]",
		"Serve the JSON API (/api/v1, described at /api/v1/openapi.json), /healthz and /metrics.\n"+
			"Pending schema migrations are applied at start. SIGINT or SIGTERM shuts down gracefully.")
	listen := fs.String("listen", listenFlag(env), "address to listen on (env KHIEN_LISTEN)")
	net := netFlags(env, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageErr(env, fs, "serve takes no arguments")
	}
	log := jsonLogger(env.Stderr)
	guard, err := net.guard()
	if err != nil {
		return err
	}
	a, err := openApp(ctx, g, log)
	if err != nil {
		return err
	}
	defer a.Close()
	a.Prover = &scope.Prover{Guard: guard, UserAgent: UserAgent}
	ln, err := netListen(*listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	fmt.Fprintf(env.Stdout, "Khiên đang chạy tại / is serving at http://%s/ (store: %s %s)\n", ln.Addr(), a.Backend, redactDSN(g.db))
	return serveApp(ctx, env, a, ln)
}

// serveApp serves a's handler on ln until ctx ends.
func serveApp(ctx context.Context, env Env, a *app.App, ln net.Listener) error {
	h := web.NewServer(web.Deps{
		Log:       a.Log,
		Inventory: a.Inventory,
		Now:       a.Now,
		Version:   env.Version,
		Ready:     a.Ready,
		Prover:    a.Prover,
	})
	return web.ServeListener(ctx, a.Log, ln, h)
}

// netListen is net.Listen on TCP; a variable name "net" is taken by the flags in callers.
func netListen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

// networkFlags are the flags of every command that sends packets: which resolver answers
// every lookup, and which networks packets may go to at all.
type networkFlags struct {
	resolver *string
	fence    *string
	timeout  *time.Duration
}

func netFlags(env Env, fs *flag.FlagSet) networkFlags {
	return networkFlags{
		resolver: fs.String("resolver", env.Getenv("KHIEN_RESOLVER"), "DNS resolver host:port used for every lookup and connection (env KHIEN_RESOLVER)"),
		fence:    fs.String("fence", env.Getenv("KHIEN_NET_FENCE"), "networks packets may go to at all, CIDRs or \"loopback\" (env KHIEN_NET_FENCE; empty: public addresses)"),
		timeout:  fs.Duration("timeout", 5*time.Second, "timeout of each network operation"),
	}
}

func (n networkFlags) guard() (*scope.Guard, error) {
	fence, err := scope.ParseFence(*n.fence)
	if err != nil {
		return nil, err
	}
	if *n.timeout <= 0 {
		return nil, fmt.Errorf("--timeout must be positive")
	}
	return scope.New(fence, *n.resolver, *n.timeout), nil
}
