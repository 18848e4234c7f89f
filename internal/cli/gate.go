package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/assurance"
	"github.com/khien-vn/khien/internal/inventory"
)

func runGate(ctx context.Context, env Env, g globals, args []string) error {
	fs := newFlags(env, &g, "gate", "--system ID --stage STAGE [--format text|json]",
		"Ask the go-live gate whether a system may enter a stage (usually operation), print the answer\n"+
			"with every blocking reason in Vietnamese and English, and record the decision.\n"+
			"Exit 0 allowed, 1 denied, 2 unknown system or stage, 3 error.")
	system := fs.String("system", "", "system id")
	stage := fs.String("stage", "", "stage to enter: planning, design, build, test, operation, retired")
	format := fs.String("format", "text", "text or json")
	by := fs.String("by", env.Getenv("USER"), "who asks, recorded with the decision (env USER)")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *format != "text" && *format != "json":
		return usageErr(env, fs, "--format must be text or json, got %q", *format)
	case *system == "" || *stage == "":
		return usageErr(env, fs, "name the system and the stage: --system ID --stage STAGE")
	}
	who := *by
	if who == "" {
		who = "khien (command line)"
	}
	a, err := openApp(ctx, g, textLogger(env.Stderr), app.Net{})
	if err != nil {
		return err
	}
	defer a.Close()
	rec, err := a.Assurance.Decide(ctx, *system, inventory.Stage(*stage), who)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rec); err != nil {
			return err
		}
	} else {
		printDecision(env.Stdout, rec)
	}
	if !rec.Decision.Allowed {
		return errBlocked
	}
	return nil
}

func printDecision(w io.Writer, rec assurance.DecisionRecord) {
	d := rec.Decision
	verdict := "ĐƯỢC PHÉP / ALLOWED"
	if !d.Allowed {
		verdict = "KHÔNG ĐƯỢC PHÉP / DENIED"
	}
	fmt.Fprintf(w, "Cổng kiểm soát đưa vào vận hành / go-live gate: %s → %s (cấp độ / level %d)\n", d.System, d.Stage, d.Level)
	fmt.Fprintf(w, "%s\n%s\n%s\n", verdict, d.Text.VI, d.Text.EN)
	for i, r := range d.Reasons {
		fmt.Fprintf(w, "\n%2d. [%s] %s\n    %s\n", i+1, r.Code, r.VI, r.EN)
	}
	for _, r := range d.Waived {
		fmt.Fprintf(w, "\n miễn / waived (%s): [%s] %s\n    %s\n", r.Evidence["exception"], r.Code, r.VI, r.EN)
	}
	fmt.Fprintf(w, "\nChính sách / policy %s; quyết định / decision %s, ghi nhận lúc / recorded at %s\n", d.Policy, rec.ID, d.AsOf.Format("2006-01-02 15:04:05 UTC"))
}
