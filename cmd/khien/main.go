// Command khien is Khiên, a self-hosted cybersecurity assurance platform. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/khien-vn/khien/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Version: version})
	stop()
	os.Exit(code)
}
