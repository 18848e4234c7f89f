package cli

import (
	"context"
	"fmt"
	"net"

	"github.com/khien-vn/khien/internal/app"
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
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageErr(env, fs, "serve takes no arguments")
	}
	log := jsonLogger(env.Stderr)
	a, err := openApp(ctx, g, log)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", *listen)
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
	})
	return web.ServeListener(ctx, a.Log, ln, h)
}
