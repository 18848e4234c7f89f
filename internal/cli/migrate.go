package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/khien-vn/khien/internal/app"
)

func runMigrate(ctx context.Context, env Env, g globals, args []string) error {
	fs := newFlags(env, &g, "migrate", "[--db DSN]", "Apply the store's pending schema migrations (forward-only, each in a transaction).")
	if err := parse(fs, args); err != nil {
		return err
	}
	st, backend, err := app.OpenStore(ctx, g.db)
	if err != nil {
		return err
	}
	defer st.Close()
	applied, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	cur, _, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(env.Stdout, "%s store %s is up to date at schema version %d\n", backend, redactDSN(g.db), cur)
		return nil
	}
	fmt.Fprintf(env.Stdout, "%s store %s migrated to schema version %d (applied %s)\n", backend, redactDSN(g.db), cur, strings.Join(applied, ", "))
	return nil
}
