package cli

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
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

const userUsage = `add --login LOGIN --role ROLE [--org CODE] [--name NAME] | passwd --login LOGIN | reset-mfa --login LOGIN | link-oidc --login LOGIN --issuer URL --subject SUB | list [--org CODE] [--format table|json]`

// userSubcommands are the subcommands of khien user, as its messages name them.
const userSubcommands = "add, passwd, reset-mfa, link-oidc or list"

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
			"  list       list the accounts (of --org's subtree): role, scope, second factor, locks,\n"+
			"             links to a provider and last sign-in. Never a password, secret or token.\n"+
			"Roles: "+joinRoleNames()+". Every role but platform_admin needs --org.")
	login := fs.String("login", "", "the account's login")
	role := fs.String("role", "", "add: the role")
	org := fs.String("org", "", "add: the organization whose subtree the account sees; list: list only the accounts of its subtree")
	name := fs.String("name", "", "add: the display name (default: the login)")
	issuer := fs.String("issuer", "", "link-oidc: the provider's issuer URL, as its ID tokens state it")
	subject := fs.String("subject", "", "link-oidc: the person's sub claim at the provider")
	format := fs.String("format", "table", "list: table or json")
	if len(args) == 0 {
		return usageErr(env, fs, "name a subcommand: %s", userSubcommands)
	}
	sub := args[0]
	if strings.HasPrefix(sub, "-") { // flags first: --help, or a subcommand forgotten
		if err := parse(fs, args); err != nil {
			return err
		}
		return usageErr(env, fs, "name a subcommand first: %s", userSubcommands)
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	formatSet := false
	fs.Visit(func(f *flag.Flag) { formatSet = formatSet || f.Name == "format" })
	switch {
	case sub != "add" && sub != "passwd" && sub != "reset-mfa" && sub != "link-oidc" && sub != "list":
		return usageErr(env, fs, "unknown subcommand %q: use %s", sub, userSubcommands)
	case fs.NArg() != 0:
		return usageErr(env, fs, "user %s takes no arguments, got %q", sub, fs.Args())
	case sub == "list" && (*login != "" || *role != "" || *name != "" || *issuer != "" || *subject != ""):
		return usageErr(env, fs, "user list takes only --org and --format")
	case sub == "list" && *format != "table" && *format != "json":
		return usageErr(env, fs, "--format must be table or json, got %q", *format)
	case sub != "list" && formatSet:
		return usageErr(env, fs, "--format is for user list")
	case sub != "list" && *login == "":
		return usageErr(env, fs, "--login is required")
	case sub == "add" && *role == "":
		return usageErr(env, fs, "--role is required: one of %s", joinRoleNames())
	case sub != "add" && sub != "list" && (*role != "" || *org != "" || *name != ""):
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
	case "list":
		return listUsers(ctx, env.Stdout, a, *org, *format)
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

// accountJSON is an account as `khien user list --format json` prints it. The field names
// are a contract for scripts. It is built field by field from auth.Account so that nothing
// secret (the password hash, the sealed second factor) can reach the output by being added
// to auth.User.
type accountJSON struct {
	ID              string     `json:"id"`
	Login           string     `json:"login"`
	Name            string     `json:"name"`
	Role            auth.Role  `json:"role"`
	Org             string     `json:"org"` // empty for the whole platform
	MFA             bool       `json:"mfa"`
	Disabled        bool       `json:"disabled"` // locked by an administrator
	Locked          bool       `json:"locked"`   // sign-ins refused after repeated failures
	LockedUntil     *time.Time `json:"locked_until"`
	OIDCLinked      bool       `json:"oidc_linked"`
	LastLogin       *time.Time `json:"last_login"`
	LastLoginMethod string     `json:"last_login_method"`
}

// accountList is the whole JSON output of user list.
type accountList struct {
	Accounts []accountJSON `json:"accounts"`
}

func newAccountJSON(a auth.Account) accountJSON {
	j := accountJSON{ID: a.ID, Login: a.Login, Name: a.Name, Role: a.Role, Org: a.Org, MFA: a.TOTPSecret != "",
		Disabled: a.Disabled, Locked: !a.LockedUntil.IsZero(), OIDCLinked: a.OIDCLinks > 0, LastLoginMethod: a.LastLoginMethod}
	if !a.LockedUntil.IsZero() {
		t := a.LockedUntil.UTC()
		j.LockedUntil = &t
	}
	if !a.LastLogin.IsZero() {
		t := a.LastLogin.UTC()
		j.LastLogin = &t
	}
	return j
}

// listUsers prints every account the operator's filter selects, a page of the store at a
// time, as a table or JSON.
func listUsers(ctx context.Context, w io.Writer, a *auth.Service, org, format string) error {
	if org != "" { // an unknown organization is a mistake to report, not an empty list
		if _, err := a.Policy().Path(ctx, org); errs.Is(err, errs.NotFound) {
			return errs.Field("org", "organization %q does not exist", org)
		} else if err != nil {
			return err
		}
	}
	list := accountList{Accounts: []accountJSON{}}
	for page := (inventory.Page{Limit: 1000}); ; page.Offset += page.Limit {
		as, total, err := a.Accounts(ctx, auth.UserFilter{Under: org, Page: page})
		if err != nil {
			return err
		}
		for _, acc := range as {
			list.Accounts = append(list.Accounts, newAccountJSON(acc))
		}
		if len(as) == 0 || page.Offset+len(as) >= total {
			break
		}
	}
	if format == "json" {
		return writeJSON(w, list)
	}
	return printAccounts(w, list.Accounts)
}

// printAccounts writes accounts as a table, times in UTC.
func printAccounts(w io.Writer, accounts []accountJSON) error {
	if len(accounts) == 0 {
		_, err := fmt.Fprintln(w, "Không có tài khoản nào / no accounts")
		return err
	}
	yes := func(b bool) string {
		if b {
			return "có/yes"
		}
		return "không/no"
	}
	when := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.Format("2006-01-02 15:04 UTC")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TÀI KHOẢN/LOGIN\tTÊN/NAME\tVAI TRÒ/ROLE\tPHẠM VI/SCOPE\tMFA\tVÔ HIỆU/DISABLED\tTẠM KHÓA/LOCKED\tOIDC\tĐĂNG NHẬP CUỐI/LAST SIGN-IN")
	for _, a := range accounts {
		locked := yes(false)
		if a.Locked {
			locked = yes(true) + ", đến/until " + when(a.LockedUntil)
		}
		last := when(a.LastLogin)
		if a.LastLoginMethod != "" {
			last += " (" + a.LastLoginMethod + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Login, cmp.Or(a.Name, "-"), a.Role, cmp.Or(a.Org, "(toàn hệ thống/platform)"),
			yes(a.MFA), yes(a.Disabled), locked, yes(a.OIDCLinked), last)
	}
	return tw.Flush()
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
