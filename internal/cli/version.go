package cli

import (
	"context"
	"fmt"
	"runtime"
)

func runVersion(_ context.Context, env Env, g globals, args []string) error {
	fs := newFlags(env, &g, "version", "", "Print the version of khien and of the Go toolchain that built it.")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "khien %s (%s %s/%s)\n", env.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
