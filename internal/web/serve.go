package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server timeouts. Verification is the slowest request (a DNS lookup and an HTTP fetch,
// each bounded by the scope guard), well within WriteTimeout.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
	// shutdownTimeout is how long requests in flight get to finish after ctx is cancelled.
	shutdownTimeout = 10 * time.Second
)

// Serve listens on addr ("127.0.0.1:8080", ":8080") and serves h until ctx is cancelled,
// then shuts down gracefully: it stops accepting connections and waits up to 10 seconds for
// requests in flight. It returns nil after a clean shutdown.
func Serve(ctx context.Context, log *slog.Logger, addr string, h http.Handler) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ServeListener(ctx, log, ln, h)
}

// ServeListener is Serve on a listener that is already open, such as 127.0.0.1:0 in tests.
// It closes ln.
func ServeListener(ctx context.Context, log *slog.Logger, ln net.Listener, h http.Handler) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// Request contexts do not derive from ctx: cancelling ctx starts the shutdown, and
		// the requests in flight should finish, not be cancelled.
	}
	addr := ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("http server listening", "addr", addr)

	select {
	case err := <-served: // Serve fails only on an accept error; Shutdown was not called
		return fmt.Errorf("serve http on %s: %w", addr, err)
	case <-ctx.Done():
	}

	log.Info("http server shutting down", "addr", addr, "timeout", shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		srv.Close() // the deadline passed: cut the remaining connections
		return fmt.Errorf("shut down http server on %s: %w", addr, err)
	}
	log.Info("http server stopped", "addr", addr)
	return nil
}
