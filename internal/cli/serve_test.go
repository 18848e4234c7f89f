package cli

import (
	"context"
	"io"
	"net"
)

// serveForTest serves db on ln until ctx ends, as `khien serve` does.
func serveForTest(ctx context.Context, db string, ln net.Listener) int {
	a, err := openApp(ctx, globals{db: db}, textLogger(io.Discard))
	if err != nil {
		return ExitError
	}
	defer a.Close()
	if err := serveApp(ctx, Env{Version: "test"}, a, ln); err != nil {
		return ExitError
	}
	return ExitOK
}
