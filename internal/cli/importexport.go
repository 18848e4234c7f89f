package cli

import (
	"bytes"
	"context"
	"fmt"
	"github.com/khien-vn/khien/internal/app"
	"os"
	"path/filepath"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

func runImport(ctx context.Context, env Env, g globals, args []string) error {
	fs := newFlags(env, &g, "import", "[--db DSN] FILE.yaml|FILE.csv",
		"Import organizations, systems and resources. All or nothing: any error rolls everything back,\n"+
			"and every error is reported as file:line: field: reason. Existing entries with the same code or id\n"+
			"are updated; nothing is deleted. The format is described in docs/inventory.md.")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr(env, fs, "import takes exactly one file, got %d", fs.NArg())
	}
	path := fs.Arg(0)
	format, err := inventory.FormatOf(path)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return errs.Wrap(errs.Invalid, err, "cannot read the inventory file")
	}
	defer f.Close()
	a, err := openApp(ctx, g, textLogger(env.Stderr), app.Net{})
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.Inventory.Import(ctx, path, f, format)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "imported %s: %s\n", path, res)
	return nil
}

func runExport(ctx context.Context, env Env, g globals, args []string) error {
	fs := newFlags(env, &g, "export", "[--db DSN] [--format yaml|csv] [--out FILE]",
		"Write the whole inventory in the import format (re-importing it changes nothing).")
	format := fs.String("format", "", "yaml or csv (default: from --out's extension, else yaml)")
	out := fs.String("out", "", "write to this file (atomically) instead of standard output")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageErr(env, fs, "export takes no arguments")
	}
	f := inventory.Format(*format)
	switch {
	case *format == "" && *out != "":
		var err error
		if f, err = inventory.FormatOf(*out); err != nil {
			return err
		}
	case *format == "":
		f = inventory.FormatYAML
	case f != inventory.FormatYAML && f != inventory.FormatCSV:
		return usageErr(env, fs, "--format must be yaml or csv, got %q", *format)
	}
	a, err := openApp(ctx, g, textLogger(env.Stderr), app.Net{})
	if err != nil {
		return err
	}
	defer a.Close()
	var buf bytes.Buffer
	if err := a.Inventory.Export(ctx, &buf, f); err != nil {
		return err
	}
	if *out == "" {
		_, err := env.Stdout.Write(buf.Bytes())
		return err
	}
	return writeFileAtomic(*out, buf.Bytes())
}

// writeFileAtomic writes data to a temporary file beside path and renames it into place, so
// a reader never sees half a file and a failure leaves the old file whole.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
