package cli

import (
	"context"
)

func runReport(ctx context.Context, env Env, g globals, args []string) error {
	fs := newFlags(env, &g, "report", "scorecard --org CODE --year YYYY --out FILE.pdf|FILE.html", "Write a report.")
	if err := parse(fs, args); err != nil {
		return err
	}
	return usageErr(env, fs, "not yet")
}
