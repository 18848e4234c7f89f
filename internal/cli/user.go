package cli

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/errs"
)

// accountStore is what the account commands need of the store beyond app.Store: both
// backends provide it.
type accountStore interface {
	app.Store
	auth.Store
	audit.Store
}

// authFor builds the auth service and audit log over st the way the server does, with the
// sealing key from KHIEN_SECRET_KEY.
func authFor(st app.Store, env Env) (*auth.Service, *audit.Log, error) {
	as, ok := st.(accountStore)
	if !ok {
		return nil, nil, fmt.Errorf("the store %T keeps no accounts", st)
	}
	now := func() time.Time { return time.Now().UTC() }
	log := audit.NewLog(as, as, now)
	a, err := auth.NewService(as, auth.NewPolicy(as), log, auth.Config{SecretKey: env.Getenv(auth.SecretKeyEnv), Now: now})
	return a, log, err
}

// openAccounts opens and migrates the store for a command about accounts or the audit log.
func openAccounts(ctx context.Context, env Env, g globals) (*auth.Service, *audit.Log, func() error, error) {
	st, _, err := app.OpenStore(ctx, g.db)
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	a, log, err := authFor(st, env)
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return a, log, st.Close, nil
}

// operatorName is how the command line's changes are signed in the audit log: local:<user>.
func operatorName(env Env) string {
	return cmp.Or(env.Getenv("USER"), "cli")
}

const userUsage = `add --login LOGIN --role ROLE [--org CODE] [--name NAME] | passwd --login LOGIN | reset-mfa --login LOGIN | link-oidc --login LOGIN --issuer URL --subject SUB`

func runUser(ctx context.Context, env Env, g globals, args []string) error {
	fs := newFlags(env, &g, "user", userUsage,
		"Manage local accounts from the server, as the operator (recorded in the audit log as local:$USER).\n"+
			"  add        create an account; the password is read from standard input (one line).\n"+
			"             Administrators (platform_admin, org_admin) get a second factor: scan the printed\n"+
			"             otpauth:// URI with an authenticator app. Needs KHIEN_SECRET_KEY, which seals it.\n"+
			"  passwd     set an account's password, read from standard input; ends its sessions.\n"+
			"  reset-mfa  give an account a new second factor and print its URI; ends its sessions.\n"+
			"  link-oidc  link an identity of an OpenID Connect provider (its issuer and sub claim) to an\n"+
			"             account: it then signs in through the provider as that account, with its role.\n"+
			"Roles: "+joinRoleNames()+". Every role but platform_admin needs --org.")
	login := fs.String("login", "", "the account's login")
	role := fs.String("role", "", "add: the role")
	org := fs.String("org", "", "add: the organization whose subtree the account sees")
	name := fs.String("name", "", "add: the display name (default: the login)")
	issuer := fs.String("issuer", "", "link-oidc: the provider's issuer URL, as its ID tokens state it")
	subject := fs.String("subject", "", "link-oidc: the person's sub claim at the provider")
	if len(args) == 0 {
		return usageErr(env, fs, "name a subcommand: add, passwd, reset-mfa or link-oidc")
	}
	sub := args[0]
	if strings.HasPrefix(sub, "-") { // flags first: --help, or a subcommand forgotten
		if err := parse(fs, args); err != nil {
			return err
		}
		return usageErr(env, fs, "name a subcommand first: add, passwd, reset-mfa or link-oidc")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	switch {
	case sub != "add" && sub != "passwd" && sub != "reset-mfa" && sub != "link-oidc":
		return usageErr(env, fs, "unknown subcommand %q: use add, passwd, reset-mfa or link-oidc", sub)
	case fs.NArg() != 0:
		return usageErr(env, fs, "user %s takes no arguments, got %q", sub, fs.Args())
	case *login == "":
		return usageErr(env, fs, "--login is required")
	case sub == "add" && *role == "":
		return usageErr(env, fs, "--role is required: one of %s", joinRoleNames())
	case sub != "add" && (*role != "" || *org != "" || *name != ""):
		return usageErr(env, fs, "--role, --org and --name are for user add")
	case sub == "link-oidc" && (*issuer == "" || *subject == ""):
		return usageErr(env, fs, "--issuer and --subject are required")
	case sub != "link-oidc" && (*issuer != "" || *subject != ""):
		return usageErr(env, fs, "--issuer and --subject are for user link-oidc")
	}
	a, _, closeStore, err := openAccounts(ctx, env, g)
	if err != nil {
		return err
	}
	defer closeStore()
	ctx = auth.WithPrincipal(ctx, auth.Operator(operatorName(env)))

	switch sub {
	case "add":
		pw, err := readPassword(env)
		if err != nil {
			return err
		}
		u, uri, err := a.CreateUser(ctx, auth.NewUser{Login: *login, Name: *name, Role: auth.Role(*role), Org: *org, Password: pw})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Đã tạo tài khoản / created the account %s (%s, %s, id %s)\n", u.Login, u.Role, scopeName(u.Org), u.ID)
		printURI(env.Stdout, uri)
	case "passwd":
		u, err := a.UserByLogin(ctx, *login)
		if err != nil {
			return err
		}
		pw, err := readPassword(env)
		if err != nil {
			return err
		}
		if err := a.SetPassword(ctx, u.ID, pw); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Đã đổi mật khẩu / the password of %s is changed; its sessions are ended\n", u.Login)
	case "reset-mfa":
		u, err := a.UserByLogin(ctx, *login)
		if err != nil {
			return err
		}
		uri, err := a.ResetMFA(ctx, u.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Đã cấp lại yếu tố xác thực thứ hai / %s has a new second factor; its sessions are ended\n", u.Login)
		printURI(env.Stdout, uri)
	case "link-oidc":
		u, err := a.UserByLogin(ctx, *login)
		if err != nil {
			return err
		}
		l, err := a.LinkOIDC(ctx, u.ID, *issuer, *subject)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Đã liên kết / linked %s to the subject %q of %s\n", u.Login, l.Subject, l.Issuer)
	}
	return nil
}

// readPassword reads one line from standard input: the password, typed or piped. A prompt
// goes to standard error, so that standard output stays the command's result.
func readPassword(env Env) (string, error) {
	fmt.Fprint(env.Stderr, "Mật khẩu / Password: ")
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	fmt.Fprintln(env.Stderr)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errs.Field("password", "none was given on standard input")
	}
	return pw, nil
}

func printURI(w io.Writer, uri string) {
	if uri == "" {
		return
	}
	fmt.Fprintf(w, "\nQuét bằng ứng dụng xác thực / add to an authenticator app (shown once):\n  %s\n", uri)
}

func scopeName(org string) string {
	if org == "" {
		return "toàn hệ thống / the whole platform"
	}
	return org
}

func joinRoleNames() string {
	s := make([]string, len(auth.Roles))
	for i, r := range auth.Roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}
