package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/errs"
)

// runPolicy lets an administrator change the rules that judge agencies, as data: schedule a new
// index method (every organization then sees its future index under it before it takes
// effect) or replace the go-live gate's policy. Both are recorded and take effect without a
// new release.
func runPolicy(ctx context.Context, env Env, g globals, args []string) error {
	fs := newFlags(env, &g, "policy", "method FILE.yaml | gate FILE.yaml",
		"  method  schedule an index method (the format of internal/index/methods/khien-2026.1.yaml, with\n"+
			"          a new id and a future effective_from); indexes show the future figure until it applies.\n"+
			"  gate    replace the go-live gate's policy (the format of internal/gate/policy.yaml).")
	by := fs.String("by", env.Getenv("USER"), "who changes the policy, recorded with it (env USER)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 || (fs.Arg(0) != "method" && fs.Arg(0) != "gate") {
		return usageErr(env, fs, "use: khien policy method FILE.yaml, or khien policy gate FILE.yaml")
	}
	b, err := os.ReadFile(fs.Arg(1))
	if err != nil {
		return errs.Wrap(errs.Invalid, err, "cannot read %s", fs.Arg(1))
	}
	a, err := openApp(ctx, g, textLogger(env.Stderr), app.Net{})
	if err != nil {
		return err
	}
	defer a.Close()
	if fs.Arg(0) == "method" {
		m, err := a.Assurance.ScheduleMethod(ctx, b)
		if err != nil {
			return fmt.Errorf("%s: %w", fs.Arg(1), err)
		}
		fmt.Fprintf(env.Stdout, "Đã lên lịch phương pháp / scheduled method %s, áp dụng từ / effective from %s\n", m.ID, m.EffectiveFrom.UTC().Format(time.DateOnly))
		return nil
	}
	who := *by
	if who == "" {
		who = "khien (command line)"
	}
	p, err := a.Assurance.SetPolicy(ctx, b, who)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(1), err)
	}
	fmt.Fprintf(env.Stdout, "Đã áp dụng chính sách cổng / gate policy %s set by %s\n", p.ID, who)
	return nil
}
