package cli

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/demo"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
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
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageErr(env, fs, "demo takes no arguments")
	}
	log := textLogger(env.Stderr)
	a, err := openApp(ctx, g, log, app.Net{})
	if err != nil {
		return err
	}
	defer a.Close()
	created, err := seedDemo(ctx, a)
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
	return serveApp(ctx, env, a, ln)
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
func seedDemo(ctx context.Context, a *app.App) (bool, error) {
	_, err := a.Inventory.Org(ctx, demo.Root)
	switch {
	case err == nil:
		return false, nil
	case !errs.Is(err, errs.NotFound):
		return false, err
	}
	if err := a.Inventory.ApplyInventory(ctx, demo.Inventory()); err != nil {
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
