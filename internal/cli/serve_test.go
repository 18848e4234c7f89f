package cli

import (
	"context"
	"github.com/khien-vn/khien/internal/app"
	"io"
	"net"
)

// serveForTest serves db on ln until ctx ends, as `khien serve` does.
func serveForTest(ctx context.Context, db string, ln net.Listener) int {
	a, err := openApp(ctx, globals{db: db}, textLogger(io.Discard), app.Net{})
	if err != nil {
		return ExitError
	}
	defer a.Close()
	if err := serveApp(ctx, Env{Version: "test", Getenv: func(string) string { return "" }}, a, ln); err != nil {
		return ExitError
	}
	return ExitOK
}
