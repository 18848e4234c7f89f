package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/assurance"
	"github.com/khien-vn/khien/internal/errs"
)

func runIndex(ctx context.Context, env Env, g globals, args []string) error {
	fs := newFlags(env, &g, "index", "--org CODE [--at YYYY-MM-DD] [--format table|json] | --snapshot",
		"Print an organization's cybersecurity assurance index (chỉ số bảo đảm an ninh mạng): the figure,\n"+
			"its grade, the pillars, the systems of its subtree and the actions that raise it most.\n"+
			"With --at of a day whose snapshot is stored, the index is recomputed from the Input stored that\n"+
			"day and checked against the stored result; exit 3 if they differ. --snapshot computes and stores\n"+
			"today's snapshot for every organization (khien serve does so once a day).")
	org := fs.String("org", "", "organization code")
	at := fs.String("at", "", "a day YYYY-MM-DD whose stored snapshot to recompute and verify")
	format := fs.String("format", "table", "table or json")
	snapshot := fs.Bool("snapshot", false, "compute and store today's index of every organization")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *format != "table" && *format != "json":
		return usageErr(env, fs, "--format must be table or json, got %q", *format)
	case !*snapshot && *org == "":
		return usageErr(env, fs, "name the organization: --org CODE")
	case *at != "":
		if _, err := time.Parse(time.DateOnly, *at); err != nil {
			return usageErr(env, fs, "--at must be a day YYYY-MM-DD, got %q", *at)
		}
	}
	a, err := openApp(ctx, g, textLogger(env.Stderr), app.Net{})
	if err != nil {
		return err
	}
	defer a.Close()
	if *snapshot {
		d, err := a.Assurance.Snapshot(ctx, a.Assurance.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Đã lưu chỉ số ngày %s của %d tổ chức / stored the index of %d organizations for %s (method %s)\n",
			d.Day, len(d.Orgs), len(d.Orgs), d.Day, d.Method)
		if *org == "" {
			return nil
		}
	}
	var ans assurance.Answer
	if *at != "" && *at != assurance.Day(a.Assurance.Now()) {
		ans, err = a.Assurance.IndexAt(ctx, *org, *at)
		if errs.Is(err, errs.NotFound) {
			if _, oerr := a.Inventory.Org(ctx, *org); oerr != nil {
				return oerr
			}
			return errs.E(errs.NotFound, "no index of %s is stored for %s: snapshots are taken daily by khien serve or khien index --snapshot", *org, *at)
		}
	} else if *at != "" {
		ans, err = a.Assurance.IndexAt(ctx, *org, *at)
		if errs.Is(err, errs.NotFound) {
			ans, err = a.Assurance.Index(ctx, *org)
		}
	} else {
		ans, err = a.Assurance.Index(ctx, *org)
	}
	if err != nil {
		return err
	}
	methods, err := a.Assurance.Methods(ctx)
	if err != nil {
		return err
	}
	v := assurance.ViewOf(ans, methods)
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return err
		}
	} else {
		printIndex(env.Stdout, v)
	}
	if v.Stored && !v.Verified {
		fmt.Fprintf(env.Stderr, "khien index: the index of %s for %s recomputed from its stored Input does NOT match the stored snapshot: %s\n"+
			"Chỉ số tính lại không khớp bản đã lưu: kiểm tra tính toàn vẹn của kho dữ liệu.\n", v.Org, v.Day, v.Mismatch)
		return errMismatch
	}
	return nil
}

// errMismatch is a stored snapshot that does not recompute: exit 3, explained already.
var errMismatch = errs.E(errs.Internal, "stored snapshot does not recompute")

func printIndex(w io.Writer, v assurance.View) {
	fmt.Fprintf(w, "Chỉ số bảo đảm an ninh mạng / cybersecurity assurance index\n")
	fmt.Fprintf(w, "%s — %s\n", v.Org, v.Name)
	fmt.Fprintf(w, "Ngày / as of: %s   phương pháp / method: %s\n", v.At.Format("2006-01-02 15:04 UTC"), v.Method)
	fmt.Fprintf(w, "Chỉ số / index: %.1f — %s / %s", float64(v.Index), v.GradeVI, v.GradeEN)
	if v.Peers > 0 {
		fmt.Fprintf(w, "   xếp hạng / rank %d/%d", v.Rank, v.Peers)
	}
	fmt.Fprintln(w)
	if v.Stored {
		if v.Verified {
			fmt.Fprintf(w, "Đã tính lại từ dữ liệu lưu ngày %s: khớp tuyệt đối / recomputed from the Input stored for %s: matches the stored snapshot exactly\n", v.Day, v.Day)
		} else {
			fmt.Fprintf(w, "TÍNH LẠI KHÔNG KHỚP / RECOMPUTATION DOES NOT MATCH: %s\n", v.Mismatch)
		}
	}
	fmt.Fprintln(w, "\nTrụ cột / pillars:")
	for _, p := range v.Pillars {
		fmt.Fprintf(w, "  %-15s %5.1f / 20\n", p.Pillar, float64(p.Points))
	}
	for _, c := range v.Caps {
		fmt.Fprintf(w, "Giới hạn / cap %.0f: %s\n", c.Value, c.Reason.VI)
	}
	if len(v.Systems) > 0 {
		fmt.Fprintln(w, "\nHệ thống / systems:")
		for _, s := range v.Systems {
			fmt.Fprintf(w, "  %-22s %-10s cấp %d %-9s %5.1f  %s\n", s.System, s.Org, s.Level, s.Stage, float64(s.Index), s.Grade)
		}
	}
	if len(v.Actions) > 0 {
		fmt.Fprintln(w, "\nViệc nên làm / actions that raise the index most:")
		for i, a := range v.Actions {
			if i == 5 {
				break
			}
			fmt.Fprintf(w, "  +%.1f  %s\n", a.Delta, strings.TrimSpace(a.Text.VI))
		}
	}
	if v.Future != nil {
		fmt.Fprintf(w, "\nTheo phương pháp %s (áp dụng từ %s) / under the next method: %.1f\n", v.Future.Method, v.Future.From.Format(time.DateOnly), float64(v.Future.Index))
	}
}
