package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/report"
)

func runReport(ctx context.Context, env Env, g globals, args []string) error {
	fs := newFlags(env, &g, "report", "scorecard --org CODE --year YYYY --out FILE.pdf|FILE.html",
		"Write an organization's yearly cybersecurity scorecard: one page for its leader (the index and\n"+
			"grade, the year's trend, the rank among peers, pillars, systems, open serious findings,\n"+
			"exceptions in force, the five actions that raise the index most) and annexes for its security\n"+
			"officer. The file's extension chooses PDF or HTML.")
	if len(args) == 0 || args[0] != "scorecard" {
		if err := parse(fs, args); err != nil {
			return err
		}
		return usageErr(env, fs, "name the report: khien report scorecard …")
	}
	org := fs.String("org", "", "organization code")
	year := fs.Int("year", 0, "the year")
	out := fs.String("out", "", "the file to write: FILE.pdf or FILE.html")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	ext := strings.ToLower(filepath.Ext(*out))
	switch {
	case *org == "" || *year == 0 || *out == "":
		return usageErr(env, fs, "give --org, --year and --out")
	case ext != ".pdf" && ext != ".html":
		return usageErr(env, fs, "--out must end in .pdf or .html, got %q", *out)
	}
	a, err := openApp(ctx, g, textLogger(env.Stderr), app.Net{})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := writeScorecard(ctx, a, *org, *year, *out); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Đã ghi bảng điểm / wrote the scorecard: %s\n", *out)
	return nil
}

// writeScorecard writes org's scorecard of year to path, as PDF or HTML by its extension,
// atomically: a reader never sees half a file.
func writeScorecard(ctx context.Context, a *app.App, org string, year int, path string) error {
	sc, err := a.Assurance.Scorecard(ctx, org, year)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if strings.EqualFold(filepath.Ext(path), ".html") {
		err = report.WriteHTML(&b, sc)
	} else {
		err = report.WritePDF(&b, sc)
	}
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".scorecard-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
