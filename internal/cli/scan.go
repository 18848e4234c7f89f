package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/report"
	"github.com/khien-vn/khien/internal/scope"
)

// UserAgent identifies Khiên's scanner to the agencies it assesses, so they can allow-list it.
const UserAgent = "Khien-Scanner/1 (+https://khien.gov.vn.test/scanner; an toàn thông tin / security assessment)"

func runScan(ctx context.Context, env Env, g globals, args []string) error {
	fs := newFlags(env, &g, "scan", "[flags] TARGET...",
		"Assess targets (a domain name, URL, IP address or unified identifier) with every applicable check.\n"+
			"Each target must be a resource of the inventory (--db) whose scope allows it: assigned for\n"+
			"passive checks, verified for active probes. Exit 0: no failure at or above --fail-on; 1: failures.")
	format := fs.String("format", "table", "output: table, json or sarif")
	lang := fs.String("lang", "vi", "language of the table: vi or en")
	concurrency := fs.Int("concurrency", 64, "targets assessed at once")
	failOn := fs.String("fail-on", "high", "exit 1 when a check fails at or above this severity: critical, high, medium, low, info")
	profile := fs.String("profile", string(check.ProfileKhien), "grade the tls and http checks by the choices of: khien, testssl (testssl.sh) or observatory (MDN HTTP Observatory)")
	nf := netFlags(env, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErr(env, fs, "name at least one target")
	}
	if *format != "table" && *format != "json" && *format != "sarif" {
		return usageErr(env, fs, "--format must be table, json or sarif, got %q", *format)
	}
	if sev := check.Severity(*failOn); sev.Rank() < 0 {
		return usageErr(env, fs, "--fail-on must be critical, high, medium, low or info, got %q", *failOn)
	}
	if *concurrency < 1 {
		return usageErr(env, fs, "--concurrency must be positive")
	}
	prof, err := check.ParseProfile(*profile)
	if err != nil {
		return usageErr(env, fs, "--profile: %v", err)
	}
	netCfg, err := nf.config()
	if err != nil {
		return err
	}
	cat, err := check.LoadCatalog()
	if err != nil {
		return err
	}

	st, _, err := app.OpenStore(ctx, g.db)
	if err != nil {
		return err
	}
	defer st.Close()
	if cur, latest, err := st.SchemaVersion(ctx); err != nil || cur != latest {
		if err == nil {
			err = errs.E(errs.Invalid, "store %s is at schema version %d of %d: run khien migrate", redactDSN(g.db), cur, latest)
		}
		return err
	}
	var resources []inventory.Resource
	var problems []string
	for _, t := range fs.Args() {
		r, err := findTarget(ctx, st, t)
		if err != nil {
			msg, _ := errs.Message(err)
			problems = append(problems, msg)
			continue
		}
		resources = append(resources, r)
	}
	if len(problems) > 0 {
		return errs.E(errs.OutOfScope, "%s", strings.Join(problems, "\n  "))
	}

	ix, err := app.VulnIndex(ctx, st)
	if err != nil {
		return err
	}
	netCfg.Families.Vuln = ix
	netCfg.Families.System = st.System
	netCfg.Families.Profile = prof
	scanner := &assess.Scanner{
		Guard:       scope.New(netCfg.Fence, netCfg.Resolver, netCfg.Timeout).WithBudget(scope.NewBudget(netCfg.Conns, netCfg.Rate)),
		Families:    app.Families(netCfg.Families),
		Env:         check.Env{Now: time.Now, Timeout: netCfg.Timeout, Roots: netCfg.Roots, UserAgent: UserAgent},
		Concurrency: *concurrency,
	}
	out := report.Scan{Catalog: cat, Started: time.Now(), Targets: len(resources), Version: env.Version}
	bar := newProgress(env.Stderr, len(resources))
	err = scanner.Scan(ctx, resources, func(_ inventory.Resource, res []check.Result) {
		out.Results = append(out.Results, res...)
		bar.step()
	})
	bar.done()
	out.Finished = time.Now()
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		err = report.WriteJSON(env.Stdout, out)
	case "sarif":
		err = report.WriteSARIF(env.Stdout, out)
	default:
		err = report.WriteTable(env.Stdout, out, *lang)
	}
	if err != nil {
		return err
	}
	if report.FailuresAtOrAbove(out, check.Severity(*failOn)) > 0 {
		return errBlocked
	}
	return nil
}

// resourceGetter is what scan needs of the store.
type resourceGetter interface {
	Resource(ctx context.Context, id string) (inventory.Resource, error)
}

// findTarget turns a command-line target into its inventory resource. A target that is not in
// the inventory is refused: Khiên scans only what an organization has registered.
func findTarget(ctx context.Context, st resourceGetter, target string) (inventory.Resource, error) {
	id, err := inventory.ParseTarget(target)
	if err != nil {
		return inventory.Resource{}, err
	}
	r, err := st.Resource(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return inventory.Resource{}, errs.E(errs.OutOfScope, "%s is not in the inventory: register it (khien import) and verify or assign its scope before scanning it", id)
	}
	if err != nil {
		return inventory.Resource{}, err
	}
	if !r.Scannable() {
		return inventory.Resource{}, errs.E(errs.OutOfScope, "%s is %s: verify its ownership or have an administrator assign it before scanning it", id, r.Scope)
	}
	return r, nil
}

// progress draws a bar on a terminal and nothing when output is piped.
type progress struct {
	w     io.Writer
	total int
	n     int
	on    bool
	last  time.Time
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) step() {
	p.n++
	if !p.on || (time.Since(p.last) < 100*time.Millisecond && p.n < p.total) {
		return
	}
	p.last = time.Now()
	const width = 30
	filled := width * p.n / max(p.total, 1)
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), p.n, p.total)
}

func (p *progress) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
