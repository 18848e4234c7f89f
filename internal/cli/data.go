package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/khien-vn/khien/internal/data"
	"github.com/khien-vn/khien/internal/detect"
	"github.com/khien-vn/khien/internal/errs"
)

// runData is `khien data scan` and `khien data mask`.
func runData(ctx context.Context, env Env, g globals, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := env.Stderr
		fmt.Fprintln(w, "Usage: khien data scan [flags] PATH|postgres://…|mysql://…")
		fmt.Fprintln(w, "       khien data mask --config FILE [flags] IN OUT")
		fmt.Fprintln(w, "\nscan finds Vietnamese personal data, credentials and state-secret markings in files, archives")
		fmt.Fprintln(w, "and databases; mask copies a CSV file, SQL dump or PostgreSQL table into a masked copy.")
		fmt.Fprintln(w, "Run 'khien data scan --help' or 'khien data mask --help' for their flags.")
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "scan":
		return runDataScan(ctx, env, g, args[1:])
	case "mask":
		return runDataMask(ctx, env, g, args[1:])
	}
	fmt.Fprintf(env.Stderr, "khien data: unknown subcommand %q; use scan or mask\n", args[0])
	return errUsage
}

// dataKey reads the evidence key from KHIEN_DATA_KEY (hex, or text of 16 bytes or more); empty
// means a random key for this run.
func dataKey(env Env) ([]byte, error) {
	v := env.Getenv("KHIEN_DATA_KEY")
	if v == "" {
		return nil, nil
	}
	if b, err := hex.DecodeString(v); err == nil && len(b) >= 16 {
		return b, nil
	}
	if len(v) < 16 {
		return nil, errs.E(errs.Invalid, "KHIEN_DATA_KEY must be at least 16 bytes (or 32 hex digits)")
	}
	return []byte(v), nil
}

func runDataScan(ctx context.Context, env Env, g globals, args []string) error {
	fs := newFlags(env, &g, "data scan", "[flags] PATH|postgres://…|mysql://…",
		"Scan a file, a directory (archives included) or a database for Vietnamese personal data,\n"+
			"credentials and state-secret markings. Databases are sampled, never copied; evidence keeps\n"+
			"masked samples and keyed hashes (key: KHIEN_DATA_KEY, else random per run).\n"+
			"Exit 0: nothing past the threshold; 1: places found.")
	format := fs.String("format", "table", "output: table, json or sarif")
	lang := fs.String("lang", "vi", "language of the table: vi or en")
	only := fs.String("only", "", "detector classes to run, comma-separated: personal, secret, state_secret, internal (default all)")
	all := fs.Bool("all", false, "also list places below the reporting threshold")
	sample := fs.Int("sample", 1000, "rows sampled per table of a database")
	workers := fs.Int("workers", 0, "files scanned at once (default: the number of CPUs)")
	maxFile := fs.Int64("max-file-size", 256<<20, "bytes read of one file or archive entry; larger ones are skipped")
	depth := fs.Int("max-depth", 3, "archives inside archives")
	hidden := fs.Bool("hidden", false, "also scan dot-files and dot-directories (.git never)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr(env, fs, "data scan takes exactly one PATH or database URL, got %d", fs.NArg())
	}
	if *format != "table" && *format != "json" && *format != "sarif" {
		return usageErr(env, fs, "--format must be table, json or sarif, got %q", *format)
	}
	if *sample < 1 || *maxFile < 1 || *depth < 0 || *workers < 0 {
		return usageErr(env, fs, "--sample, --max-file-size and --max-depth must be positive")
	}
	ds := detect.All(time.Now())
	if *only != "" {
		var classes []detect.Class
		for _, c := range strings.Split(*only, ",") {
			c = strings.TrimSpace(c)
			switch detect.Class(c) {
			case detect.ClassPersonal, detect.ClassSecret, detect.ClassStateSecret, detect.ClassInternal:
				classes = append(classes, detect.Class(c))
			case "marking":
				classes = append(classes, detect.ClassStateSecret, detect.ClassInternal)
			default:
				return usageErr(env, fs, "--only: %q is not one of personal, secret, state_secret, internal, marking", c)
			}
		}
		ds = detect.Select(ds, classes...)
	}
	key, err := dataKey(env)
	if err != nil {
		return err
	}
	bar := newByteProgress(env.Stderr)
	opts := data.Options{Key: key, Detectors: ds, All: *all, SampleRows: *sample, Workers: *workers,
		MaxFileSize: *maxFile, MaxDepth: max(1, *depth+1), FollowHidden: *hidden, Progress: bar.update}
	rep, err := data.Scan(ctx, fs.Arg(0), opts)
	bar.done()
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		err = data.WriteJSON(env.Stdout, rep)
	case "sarif":
		err = data.WriteSARIF(env.Stdout, rep, env.Version)
	default:
		err = data.WriteTable(env.Stdout, rep, *lang)
	}
	if err != nil {
		return err
	}
	if len(rep.Reportable()) > 0 {
		return errBlocked
	}
	return nil
}

func runDataMask(ctx context.Context, env Env, g globals, args []string) error {
	fs := newFlags(env, &g, "data mask", "--config FILE [flags] IN OUT",
		"Copy IN into a masked OUT: a CSV file, a SQL dump (.sql), or a PostgreSQL table\n"+
			"(postgres://…/db?table=schema.name; OUT a new table). Pseudonyms are deterministic under the\n"+
			"key the configuration names (KHIEN_MASK_KEY by default), keep formats, and keep joins working.\n"+
			"A failed run writes nothing.")
	config := fs.String("config", "", "masking configuration (YAML): key_env or key_file, default, columns")
	format := fs.String("format", "table", "report: table or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *config == "" {
		return usageErr(env, fs, "--config is required")
	}
	if fs.NArg() != 2 {
		return usageErr(env, fs, "data mask takes IN and OUT, got %d argument(s)", fs.NArg())
	}
	if *format != "table" && *format != "json" {
		return usageErr(env, fs, "--format must be table or json, got %q", *format)
	}
	in, out := fs.Arg(0), fs.Arg(1)
	if in == out {
		return usageErr(env, fs, "IN and OUT must differ")
	}
	m, err := data.LoadMaskConfig(*config, env.Getenv)
	if err != nil {
		return err
	}
	rep, err := m.Mask(ctx, in, out)
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSON(env.Stdout, rep)
	}
	return data.WriteMaskReport(env.Stdout, rep)
}

// byteProgress draws a bar of bytes (files) or columns (databases) done on a terminal, and
// nothing when output is piped.
type byteProgress struct {
	mu   sync.Mutex
	w    io.Writer
	on   bool
	last time.Time
}

func newByteProgress(w io.Writer) *byteProgress {
	p := &byteProgress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *byteProgress) update(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.on || time.Since(p.last) < 100*time.Millisecond && done < total {
		return
	}
	p.last = time.Now()
	const width = 30
	filled := int(int64(width) * done / max(total, 1))
	fmt.Fprintf(p.w, "\r[%s%s] %d%%", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), 100*done/max(total, 1))
}

func (p *byteProgress) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
