package cli

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/auth"
)

// userListEnv is the environment the list tests run khien with.
var userListEnv = map[string]string{"KHIEN_SECRET_KEY": testSecretKey, "USER": "ops"}

// listFixture is a store with the inventory of ../inventory/testdata (HN and its
// departments) and four accounts: root, who signed in; hoa, an administrator of HN; lan, an
// auditor of HN.VP locked by failed sign-ins; minh, a security officer of HN.SYT linked to a
// provider and holding an API token. It returns the database and every secret it made, for
// the tests to look for in the output.
func listFixture(t *testing.T) (db string, secrets []string) {
	t.Helper()
	db = filepath.Join(t.TempDir(), "k.db")
	if code, _, errOut := run(t, userListEnv, "--db", db, "import", "../inventory/testdata/valid.yaml"); code != ExitOK {
		t.Fatalf("import = %d %s", code, errOut)
	}
	const pw = "mật khẩu đủ dài để thử"
	secrets = append(secrets, pw)
	totp := map[string]string{}
	for _, u := range []struct{ login, role, org string }{
		{"root", "platform_admin", ""}, {"hoa", "org_admin", "HN"}, {"lan", "auditor", "HN.VP"}, {"minh", "security_officer", "HN.SYT"},
	} {
		args := []string{"add", "--login", u.login, "--role", u.role, "--name", "Tên " + u.login}
		if u.org != "" {
			args = append(args, "--org", u.org)
		}
		out, errOut, err := user(t, db, pw+"\n", args...)
		if err != nil {
			t.Fatalf("user add %s = %v\n%s", u.login, err, errOut)
		}
		if strings.Contains(out, "otpauth://") {
			totp[u.login] = totpSecret(t, out)
			secrets = append(secrets, totp[u.login])
		}
	}
	if err := signIn(t, db, "root", pw, totp["root"]); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		signIn(t, db, "lan", "không phải mật khẩu", "")
	}
	if err := signIn(t, db, "lan", pw, ""); err == nil {
		t.Fatal("five failed sign-ins did not lock lan")
	}
	if _, errOut, err := user(t, db, "", "link-oidc", "--login", "minh", "--issuer", "https://idp.example.vn", "--subject", "s-minh"); err != nil {
		t.Fatalf("user link-oidc = %v\n%s", err, errOut)
	}

	st, _, err := app.OpenStore(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, _, err := authFor(st, Env{Getenv: func(k string) string { return userListEnv[k] }})
	if err != nil {
		t.Fatal(err)
	}
	as := st.(accountStore)
	minh, err := as.UserByLogin(t.Context(), "minh")
	if err != nil {
		t.Fatal(err)
	}
	tok, secret, err := a.CreateToken(auth.WithPrincipal(t.Context(), auth.UserPrincipal(minh)),
		auth.NewToken{Name: "CI", Actions: []auth.Action{auth.InventoryRead}})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, secret, tok.Hash)
	for _, login := range []string{"root", "hoa", "lan", "minh"} {
		u, err := as.UserByLogin(t.Context(), login)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, u.PasswordHash)
		if u.TOTPSecret != "" {
			secrets = append(secrets, u.TOTPSecret)
		}
	}
	return db, secrets
}

// listUsersJSON runs khien user list --format json with args and decodes its accounts.
func listUsersJSON(t *testing.T, db string, args ...string) []map[string]any {
	t.Helper()
	code, out, errOut := run(t, userListEnv, append([]string{"--db", db, "user", "list", "--format", "json"}, args...)...)
	if code != ExitOK {
		t.Fatalf("user list %v = %d\n%s", args, code, errOut)
	}
	var got struct {
		Accounts []map[string]any `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("user list --format json printed no JSON (%v):\n%s", err, out)
	}
	return got.Accounts
}

// TestUserList lists the accounts of one fixture, made once: the accounts' hashes are slow
// to make on purpose.
func TestUserList(t *testing.T) {
	db, secrets := listFixture(t)
	t.Run("json", func(t *testing.T) { testUserListJSON(t, db) })
	t.Run("table", func(t *testing.T) { testUserListTable(t, db) })
	t.Run("no secret", func(t *testing.T) { testUserListShowsNoSecret(t, db, secrets) })
}

// testUserListJSON checks the fields of each account in JSON, their stable names, and the
// filter to a subtree.
func testUserListJSON(t *testing.T, db string) {
	accounts := listUsersJSON(t, db)
	byLogin := map[string]map[string]any{}
	for _, a := range accounts {
		byLogin[a["login"].(string)] = a
	}
	if logins := slices.Sorted(maps.Keys(byLogin)); !slices.Equal(logins, []string{"hoa", "lan", "minh", "root"}) || len(accounts) != 4 {
		t.Fatalf("user list = %v", logins)
	}
	if first := accounts[0]["login"]; first != "hoa" {
		t.Errorf("the list starts with %v, want the logins in order", first)
	}
	fields := []string{"disabled", "id", "last_login", "last_login_method", "locked", "locked_until", "login", "mfa", "name",
		"oidc_linked", "org", "role"}
	for login, a := range byLogin {
		if got := slices.Sorted(maps.Keys(a)); !slices.Equal(got, fields) {
			t.Errorf("%s has the fields %v, want %v", login, got, fields)
		}
	}
	for _, c := range []struct {
		login, field string
		want         any
	}{
		{"root", "role", "platform_admin"},
		{"root", "org", ""},
		{"root", "mfa", true},
		{"root", "last_login_method", "password"},
		{"root", "locked", false},
		{"root", "locked_until", nil},
		{"root", "oidc_linked", false},
		{"hoa", "name", "Tên hoa"},
		{"hoa", "org", "HN"},
		{"hoa", "mfa", true},
		{"hoa", "last_login", nil},
		{"lan", "role", "auditor"},
		{"lan", "mfa", false},
		{"lan", "locked", true},
		{"lan", "disabled", false},
		{"lan", "last_login", nil},
		{"minh", "oidc_linked", true},
		{"minh", "locked", false},
	} {
		if got := byLogin[c.login][c.field]; got != c.want {
			t.Errorf("%s.%s = %#v, want %#v", c.login, c.field, got, c.want)
		}
	}
	// Times are RFC 3339 in UTC: the sign-in a moment ago, the lock's end to come.
	for _, c := range []struct {
		login, field string
		past         bool
	}{{"root", "last_login", true}, {"lan", "locked_until", false}} {
		s, _ := byLogin[c.login][c.field].(string)
		at, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || !strings.HasSuffix(s, "Z") || at.Before(time.Now()) != c.past {
			t.Errorf("%s.%s = %q, want a time in UTC, in the past %v", c.login, c.field, s, c.past)
		}
	}

	for _, c := range []struct {
		org  string
		want []string
	}{
		{"HN", []string{"hoa", "lan", "minh"}},
		{"HN.VP", []string{"lan"}},
		{"HN.SKHCN", nil},
	} {
		var got []string
		for _, a := range listUsersJSON(t, db, "--org", c.org) {
			got = append(got, a["login"].(string))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("user list --org %s = %v, want %v", c.org, got, c.want)
		}
	}
}

// testUserListTable checks the table: a row for each account, every column of it.
func testUserListTable(t *testing.T, db string) {
	code, out, errOut := run(t, userListEnv, "--db", db, "user", "list")
	if code != ExitOK {
		t.Fatalf("user list = %d\n%s", code, errOut)
	}
	// The columns are apart by two spaces or more; a cell holds single spaces at most.
	lines := strings.Split(strings.TrimSpace(out), "\n")
	cells := func(line string) []string { return regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1) }
	header := []string{"TÀI KHOẢN/LOGIN", "TÊN/NAME", "VAI TRÒ/ROLE", "PHẠM VI/SCOPE", "MFA", "VÔ HIỆU/DISABLED",
		"TẠM KHÓA/LOCKED", "OIDC", "ĐĂNG NHẬP CUỐI/LAST SIGN-IN"}
	if got := cells(lines[0]); !slices.Equal(got, header) || len(lines) != 5 {
		t.Fatalf("user list printed:\n%s", out)
	}
	rows := map[string][]string{}
	for _, line := range lines[1:] {
		rows[cells(line)[0]] = cells(line)
	}
	for _, c := range []struct {
		login string
		want  []string // the cells; a trailing * matches any end
	}{
		{"root", []string{"root", "Tên root", "platform_admin", "(toàn hệ thống/platform)", "có/yes", "không/no", "không/no", "không/no", "20* UTC (password)"}},
		{"hoa", []string{"hoa", "Tên hoa", "org_admin", "HN", "có/yes", "không/no", "không/no", "không/no", "-"}},
		{"lan", []string{"lan", "Tên lan", "auditor", "HN.VP", "không/no", "không/no", "có/yes, đến/until 20* UTC", "không/no", "-"}},
		{"minh", []string{"minh", "Tên minh", "security_officer", "HN.SYT", "không/no", "không/no", "không/no", "có/yes", "-"}},
	} {
		got := rows[c.login]
		ok := len(got) == len(c.want)
		for i := 0; ok && i < len(got); i++ {
			pre, post, wild := strings.Cut(c.want[i], "*")
			ok = got[i] == c.want[i] || wild && strings.HasPrefix(got[i], pre) && strings.HasSuffix(got[i], post)
		}
		if !ok {
			t.Errorf("%s's row = %q\nwant %q", c.login, got, c.want)
		}
	}
}

// testUserListShowsNoSecret looks for every password, hash and secret the fixture made in
// both formats of the list.
func testUserListShowsNoSecret(t *testing.T, db string, secrets []string) {
	if len(secrets) < 8 {
		t.Fatalf("the fixture made %d secrets, want the password, 4 hashes, 2 second factors sealed and clear, a token", len(secrets))
	}
	for _, format := range []string{"table", "json"} {
		code, out, errOut := run(t, userListEnv, "--db", db, "user", "list", "--format", format)
		if code != ExitOK {
			t.Fatalf("user list --format %s = %d\n%s", format, code, errOut)
		}
		for _, s := range secrets {
			if strings.Contains(out+errOut, s) {
				t.Errorf("user list --format %s printed the secret %q", format, s)
			}
		}
		for _, s := range []string{"argon2id", "khien_", "otpauth"} {
			if strings.Contains(out+errOut, s) {
				t.Errorf("user list --format %s printed %q", format, s)
			}
		}
	}
}

// TestUserListUsage checks the refused invocations of user list.
func TestUserListUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"empty store", []string{"list"}, ExitOK, ""},
		{"login", []string{"list", "--login", "root"}, ExitUsage, "user list takes only --org and --format"},
		{"role", []string{"list", "--role", "auditor"}, ExitUsage, "user list takes only --org and --format"},
		{"format", []string{"list", "--format", "csv"}, ExitUsage, `--format must be table or json, got "csv"`},
		{"format elsewhere", []string{"passwd", "--login", "root", "--format", "json"}, ExitUsage, "--format is for user list"},
		{"argument", []string{"list", "HN"}, ExitUsage, "user list takes no arguments"},
		{"unknown org", []string{"list", "--org", "XX"}, ExitUsage, `organization "XX" does not exist`},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := run(t, userListEnv, append([]string{"--db", db, "user"}, c.args...)...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Errorf("khien user %v = %d, want %d\n%s", c.args, code, c.code, errOut)
			}
		})
	}
	if code, out, _ := run(t, userListEnv, "--db", db, "user", "list", "--format", "json"); code != ExitOK ||
		strings.TrimSpace(out) != `{`+"\n"+`  "accounts": []`+"\n"+`}` {
		t.Errorf("user list of no account in JSON = %d %q", code, out)
	}
}
