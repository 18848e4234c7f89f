package cli

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/lab"
	"github.com/khien-vn/khien/internal/scope"
)

// labDB is the lab's own store, kept apart from a real ./khien.db.
const labDB = "./khien-lab.db"

func runLab(ctx context.Context, env Env, g globals, args []string) error {
	if g.db == app.DefaultDB && env.Getenv("KHIEN_DB") == "" {
		g.db = labDB
	}
	fs := newFlags(env, &g, "lab", "[--db DSN] [--hosts N] [--listen-dns ADDR] [--ca-out FILE]",
		"Start simulated targets on loopback only (127.0.0.0/8): a DNS server with good and bad zones,\n"+
			"mail exchangers, and hosts that pass or fail every check, each on an address of its own and on\n"+
			"the standard ports (binding them needs root or CAP_NET_BIND_SERVICE). Register them in the store,\n"+
			"prove their ownership through the lab's DNS, print how to scan them, and run until Ctrl+C.")
	hosts := fs.Int("hosts", 0, "also start N identical benchmark hosts h0001.bench.lab.khien.test… (a typical agency site)")
	prefix := fs.String("prefix", lab.DefaultPrefix.String(), "loopback network the lab's addresses are taken from (a /8 to /16 inside 127.0.0.0/8)")
	listenDNS := fs.String("listen-dns", "", "address of the lab's DNS server (default .0.53:53 of --prefix, e.g. 127.77.0.53:53)")
	caOut := fs.String("ca-out", "", "write the lab CA's certificate here (default lab-ca.pem beside the store)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageErr(env, fs, "lab takes no arguments")
	}
	if *hosts < 0 || *hosts > lab.MaxHosts {
		return usageErr(env, fs, "--hosts must be 0 to %d", lab.MaxHosts)
	}
	pfx, err := netip.ParsePrefix(*prefix)
	if err != nil {
		return usageErr(env, fs, "--prefix %q is not a CIDR prefix like 127.77.0.0/16", *prefix)
	}
	if *caOut == "" {
		*caOut = caBeside(g.db)
	}

	l, err := lab.Start(ctx, lab.Config{Prefix: pfx, DNSAddr: *listenDNS, Hosts: *hosts})
	if err != nil {
		return err
	}
	defer l.Close()
	a, err := openApp(ctx, g, textLogger(env.Stderr), app.Net{
		Resolver: l.Resolver(), Fence: scope.LoopbackFence(), Roots: l.Roots(), UserAgent: UserAgent,
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := os.WriteFile(*caOut, l.CAPEM(), 0o644); err != nil {
		return fmt.Errorf("write the lab CA to %s: %w (choose another file with --ca-out)", *caOut, err)
	}
	if len(l.Hosts) > 100 {
		fmt.Fprintf(env.Stderr, "Đang đăng ký và xác minh %d máy / registering and verifying %d hosts…\n", len(l.Hosts), len(l.Hosts))
	}
	if err := l.Register(ctx, a.Inventory); err != nil {
		return err
	}
	printLab(env.Stdout, l, g.db, *caOut)
	<-ctx.Done()
	fmt.Fprintln(env.Stdout, "\nĐã dừng phòng thí nghiệm / lab stopped")
	return nil
}

// caBeside returns lab-ca.pem in the directory of an embedded store, or in the working
// directory for a server store.
func caBeside(dsn string) string {
	if strings.Contains(dsn, "://") && !strings.HasPrefix(dsn, "sqlite://") {
		return "lab-ca.pem"
	}
	return filepath.Join(filepath.Dir(strings.TrimPrefix(dsn, "sqlite://")), "lab-ca.pem")
}

// printLab says where the lab is and how to scan it.
func printLab(w io.Writer, l *lab.Lab, db, caFile string) {
	fmt.Fprintln(w, "Phòng thí nghiệm Khiên đang chạy, chỉ trên loopback / the Khiên lab is running, on loopback only")
	fmt.Fprintf(w, "  máy chủ DNS / resolver   %s\n", l.Resolver())
	fmt.Fprintf(w, "  CA (--ca-file)           %s\n", caFile)
	fmt.Fprintf(w, "  kho / store              %s (%d máy đã đăng ký và xác minh / hosts registered and verified)\n\n", redactDSN(db), len(l.Hosts))
	var bench []lab.Host
	for _, h := range l.Hosts {
		if h.Scenario == lab.Bench {
			bench = append(bench, h)
			continue
		}
		fmt.Fprintf(w, "  %-28s %-13s %s\n", h.Name, h.Addr, h.About.EN)
	}
	if n := len(bench); n > 0 {
		fmt.Fprintf(w, "  %s … %s  %s … %s  %d × %s\n", bench[0].Name, bench[n-1].Name, bench[0].Addr, bench[n-1].Addr, n, bench[0].About.EN)
	}
	dbArg := ""
	if db != app.DefaultDB {
		dbArg = " --db " + shellQuote(redactDSN(db))
	}
	fmt.Fprintf(w, "\nQuét thử / try:\n  khien scan%s --resolver %s --ca-file %s --fence loopback %s %s\n",
		dbArg, l.Resolver(), shellQuote(caFile), lab.GoodName, lab.BadName)
	if len(bench) > 0 {
		fmt.Fprintf(w, "  khien scan%s --resolver %s --ca-file %s --fence loopback --format json $(seq -f 'h%%04g.%s' 1 %d) > bench.json\n",
			dbArg, l.Resolver(), shellQuote(caFile), lab.BenchZone, len(bench))
	}
	fmt.Fprintln(w, "\nCtrl+C để dừng / to stop")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
