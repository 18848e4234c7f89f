package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/vuln"
)

func runFeeds(ctx context.Context, env Env, g globals, args []string) error {
	fs := newFlags(env, &g, "feeds", "import [--db DSN] FILE...",
		"Import vulnerability feeds offline: OSV JSON (one record, an array, or {\"vulns\":[…]}) with affected\n"+
			"version ranges, and the CISA Known Exploited Vulnerabilities catalog JSON. Each file is imported\n"+
			"whole or not at all; records with the same id are replaced by the newer import.")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 2 || fs.Arg(0) != "import" {
		return usageErr(env, fs, "use: khien feeds import FILE...")
	}
	st, _, err := app.OpenStore(ctx, g.db)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	now := time.Now().UTC()
	for _, path := range fs.Args()[1:] {
		b, err := os.ReadFile(path)
		if err != nil {
			return errs.Wrap(errs.Invalid, err, "cannot read %s", path)
		}
		switch vuln.Sniff(b) {
		case "kev":
			ver, entries, err := vuln.ParseKEV(bytes.NewReader(b))
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			added, err := st.PutKEV(ctx, ver, entries, now)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			fmt.Fprintf(env.Stdout, "%s: KEV catalog %s, %d entries (%d new)\n", path, ver, len(entries), added)
		default:
			advs, err := vuln.ParseOSV(bytes.NewReader(b))
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			added, err := st.PutAdvisories(ctx, filepath.Base(path), advs, now)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			fmt.Fprintf(env.Stdout, "%s: %d OSV advisories (%d new)\n", path, len(advs), added)
		}
	}
	return nil
}
