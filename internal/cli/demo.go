package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/demo"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/lab"
	"github.com/khien-vn/khien/internal/scope"
	"github.com/khien-vn/khien/internal/vuln"
)

// demoDB is the demo's own store, kept apart from a real ./khien.db.
const demoDB = "./khien-demo.db"

func runDemo(ctx context.Context, env Env, g globals, args []string) error {
	if g.db == app.DefaultDB && env.Getenv("KHIEN_DB") == "" {
		g.db = demoDB
	}
	fs := newFlags(env, &g, "demo", "[--db DSN] [--listen ADDR] [--no-serve]",
		"Create (or reuse) a demo store holding a sample province — its People's Committee, departments,\n"+
			"districts, communes, systems at every security level and stage, and their resources — print it,\n"+
			"and serve it. Everything lives under the reserved .test domain; nothing leaves this machine.")
	listen := fs.String("listen", listenFlag(env), "address to serve on (env KHIEN_LISTEN)")
	tf := newTLSFlags(env, fs)
	noServe := fs.Bool("no-serve", false, "create and print the sample, then exit")
	labPrefix := fs.String("lab-prefix", lab.DefaultPrefix.String(), "loopback network of the lab's simulated hosts")
	noLab := fs.Bool("no-lab", false, "do not start the lab: show the inventory without assessing it")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageErr(env, fs, "demo takes no arguments")
	}
	log := textLogger(env.Stderr)
	prefix, err := netip.ParsePrefix(*labPrefix)
	if err != nil {
		return usageErr(env, fs, "--lab-prefix %q is not a network like 127.77.0.0/16", *labPrefix)
	}
	// The lab: simulated hosts on loopback that the demo inventory's names resolve to, so the
	// assessments below are real scans that never leave this machine.
	var l *lab.Lab
	netCfg := app.Net{Fence: scope.LoopbackFence()}
	if !*noLab {
		if l, err = lab.Start(ctx, lab.Config{Prefix: prefix}); err != nil {
			fmt.Fprintf(env.Stderr, "khien demo: the lab did not start (%v); showing the inventory without assessments\n", err)
			l = nil
		} else {
			defer l.Close()
			netCfg.Resolver, netCfg.Roots, netCfg.Timeout, netCfg.UserAgent = l.Resolver(), l.Roots(), 3*time.Second, UserAgent
		}
	}
	if err := importSampleFeeds(ctx, g); err != nil {
		return err
	}
	a, err := openApp(ctx, g, log, netCfg)
	if err != nil {
		return err
	}
	defer a.Close()
	created, err := seedDemo(ctx, a, prefix)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(env.Stdout, "Đã tạo dữ liệu mẫu / created the sample in %s\n\n", redactDSN(g.db))
	} else {
		fmt.Fprintf(env.Stdout, "Dùng lại dữ liệu mẫu / reusing the sample in %s\n\n", redactDSN(g.db))
	}
	if err := printInventory(ctx, env.Stdout, a.Inventory); err != nil {
		return err
	}
	if l != nil {
		if err := assessDemo(ctx, env.Stdout, a, l, prefix); err != nil {
			return err
		}
	}
	if err := demoGovernance(ctx, env.Stdout, a, g.db); err != nil {
		return err
	}
	login, password, err := demoAccount(ctx, env, a)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "\nĐăng nhập / sign in: %s / %s (cán bộ an toàn thông tin của tỉnh / the province's security officer)\n", login, password)
	if *noServe {
		return nil
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (choose another with --listen)", *listen, err)
	}
	ln, scheme, err := tf.listener(g.db, ln)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "\nMở / open %s://%s/ — Ctrl+C để dừng / to stop\n", scheme, ln.Addr())
	if scheme == "https" {
		fmt.Fprintln(env.Stdout, "(chứng chỉ tự ký: trình duyệt sẽ cảnh báo / self-signed certificate: the browser will warn)")
	}
	if l != nil {
		sched := assess.NewScheduler(a.Assess, "")
		go func() {
			if err := sched.Run(ctx); err != nil {
				log.Error("scheduler stopped", "err", err)
			}
		}()
	}
	return serveApp(ctx, env, a, ln)
}

// importSampleFeeds stores the demo's vulnerability feeds before the app builds its index.
func importSampleFeeds(ctx context.Context, g globals) error {
	st, _, err := app.OpenStore(ctx, g.db)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	advs, err := vuln.ParseOSV(bytes.NewReader(demo.SampleOSV))
	if err != nil {
		return err
	}
	ver, kev, err := vuln.ParseKEV(bytes.NewReader(demo.SampleKEV))
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if _, err := st.PutAdvisories(ctx, "demo-osv-sample.json", advs, now); err != nil {
		return err
	}
	_, err = st.PutKEV(ctx, ver, kev, now)
	return err
}

// assessDemo proves ownership of the demo's names through the lab's DNS (the real challenge,
// answered by the lab), then assesses every resource of the province against the lab and
// prints what each system's scan found.
func assessDemo(ctx context.Context, w io.Writer, a *app.App, l *lab.Lab, prefix netip.Prefix) error {
	rs, _, err := a.Inventory.Resources(ctx, inventory.ResourceFilter{Under: demo.Root, Page: inventory.Page{Limit: 1000}})
	if err != nil {
		return err
	}
	var ids []string
	for _, r := range rs {
		k := r.Kind()
		inLab := k == inventory.KindIP && prefix.Contains(netip.MustParseAddr(r.Value()))
		if r.Scope == inventory.ScopeAssigned && (k == inventory.KindDNS || k == inventory.KindURL || inLab) {
			ids = append(ids, r.ID)
		}
	}
	if err := l.Verify(ctx, a.Inventory, ids...); err != nil {
		return fmt.Errorf("verify demo names through the lab: %w", err)
	}
	started := time.Now()
	outs, err := a.Assess.AssessOrg(ctx, demo.Root, assess.TriggerManual)
	if err != nil {
		return err
	}
	type tally struct{ fail, errs, runs int }
	bySystem := map[string]*tally{}
	var order []string
	for _, o := range outs {
		if o.Err != nil {
			continue
		}
		t := bySystem[o.Summary.System]
		if t == nil {
			t = &tally{}
			bySystem[o.Summary.System] = t
			order = append(order, o.Summary.System)
		}
		t.fail += o.Summary.Counts.Fail
		t.errs += o.Summary.Counts.Error
		t.runs++
	}
	slices.Sort(order)
	fmt.Fprintf(w, "\nĐánh giá trên phòng thí nghiệm / assessed against the lab (%d tài nguyên / resources, %.1f s, DNS %s):\n",
		len(outs), time.Since(started).Seconds(), l.Resolver())
	for _, s := range order {
		t := bySystem[s]
		fmt.Fprintf(w, "  %-20s %2d lần quét / runs  %3d không đạt / failing  %3d lỗi / errors\n", s, t.runs, t.fail, t.errs)
	}
	return nil
}

// demoLogin is the demo's account: a security officer of the province, who needs no second
// factor, so that the demo runs without a sealing key.
const demoLogin = "sh.canbo"

// demoAccount creates the demo account, or gives it a new password, and returns both. The
// password is fresh on every run and printed once; the store keeps only its hash.
func demoAccount(ctx context.Context, env Env, a *app.App) (string, string, error) {
	au, _, err := authFor(a.Store, env)
	if err != nil {
		return "", "", err
	}
	ctx = auth.WithPrincipal(ctx, auth.Operator("demo"))
	password := "demo-" + strings.ToLower(rand.Text()[:12])
	u, err := au.UserByLogin(ctx, demoLogin)
	switch {
	case errs.Is(err, errs.NotFound):
		_, _, err = au.CreateUser(ctx, auth.NewUser{Login: demoLogin, Name: "Cán bộ an toàn thông tin tỉnh Sông Hồng",
			Role: auth.SecurityOfficer, Org: demo.Root, Password: password})
	case err == nil:
		err = au.SetPassword(ctx, u.ID, password)
	}
	if err != nil {
		return "", "", fmt.Errorf("demo account: %w", err)
	}
	return demoLogin, password, nil
}

// seedDemo writes the sample unless the demo province exists already.
func seedDemo(ctx context.Context, a *app.App, prefix netip.Prefix) (bool, error) {
	_, err := a.Inventory.Org(ctx, demo.Root)
	switch {
	case err == nil:
		return false, nil
	case !errs.Is(err, errs.NotFound):
		return false, err
	}
	if err := a.Inventory.ApplyInventory(ctx, demo.InventoryIn(prefix)); err != nil {
		return false, fmt.Errorf("seed demo: %w", err)
	}
	return true, nil
}

// printInventory prints the organization tree with each organization's systems.
func printInventory(ctx context.Context, w io.Writer, svc *inventory.Service) error {
	inv, err := svc.Store().Snapshot(ctx)
	if err != nil {
		return err
	}
	children := map[string][]inventory.Organization{}
	for _, o := range inv.Orgs {
		children[o.Parent] = append(children[o.Parent], o)
	}
	systems := map[string][]inventory.System{}
	for _, s := range inv.Systems {
		systems[s.Org] = append(systems[s.Org], s)
	}
	resources := map[string]int{}
	for _, r := range inv.Resources {
		resources[r.System]++
	}
	var walk func(parent string, depth int)
	walk = func(parent string, depth int) {
		for _, o := range children[parent] {
			ind := strings.Repeat("  ", depth)
			fmt.Fprintf(w, "%s%-10s %s [%s] — %s, %s\n", ind, o.Code, o.Name, o.Level, o.Head.Name, o.Head.Title)
			for _, s := range systems[o.Code] {
				fmt.Fprintf(w, "%s    · %-20s cấp độ %d, %-9s %2d tài nguyên  %s\n", ind, s.ID, s.Level, s.Stage, resources[s.ID], s.Name)
			}
			walk(o.Code, depth+1)
		}
	}
	walk("", 0)
	fmt.Fprintf(w, "\n%d tổ chức / organizations, %d hệ thống / systems, %d tài nguyên / resources\n", len(inv.Orgs), len(inv.Systems), len(inv.Resources))
	return nil
}
