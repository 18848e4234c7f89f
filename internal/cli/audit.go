package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/khien-vn/khien/internal/audit"
)

func runAudit(ctx context.Context, env Env, g globals, args []string) error {
	fs := newFlags(env, &g, "audit", "verify [--db DSN]",
		"Check the audit log: every entry's hash matches its content and chains to the entry before it,\n"+
			"no entry is missing, and the log ends where the last append left it. An edited or deleted entry\n"+
			"is named by its sequence number; the exit code is then 1.")
	if len(args) == 0 || args[0] != "verify" {
		if err := parse(fs, args); err != nil {
			return err
		}
		return usageErr(env, fs, "use: khien audit verify")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageErr(env, fs, "audit verify takes no arguments")
	}
	_, log, closeStore, err := openAccounts(ctx, env, g)
	if err != nil {
		return err
	}
	defer closeStore()
	n, err := log.Verify(ctx)
	if be, ok := errors.AsType[*audit.BrokenError](err); ok {
		fmt.Fprintf(env.Stdout, "Nhật ký kiểm toán đã bị sửa / the audit log was tampered with: %v (%d entries before it are intact)\n", be, n)
		return errBlocked
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Nhật ký kiểm toán nguyên vẹn / the audit log is intact: %d entries, each chained to the one before\n", n)
	return nil
}
