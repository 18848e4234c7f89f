package cli

import (
	"bytes"
	"database/sql"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/app"
	"github.com/khien-vn/khien/internal/auth"
)

const testSecretKey = "khien-cli-test-secret-key-0123456789"

// runCmd runs one of the account commands with stdin, as Main would.
func runCmd(t *testing.T, fn func(Env) error, stdin string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := Env{Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr, Version: "test",
		Getenv: func(k string) string {
			return map[string]string{"KHIEN_SECRET_KEY": testSecretKey, "USER": "ops"}[k]
		}}
	err := fn(env)
	return stdout.String(), stderr.String(), err
}

func user(t *testing.T, db, stdin string, args ...string) (string, string, error) {
	return runCmd(t, func(env Env) error { return runUser(t.Context(), env, globals{db: db}, args) }, stdin)
}

func auditVerify(t *testing.T, db string) (string, error) {
	out, _, err := runCmd(t, func(env Env) error { return runAudit(t.Context(), env, globals{db: db}, []string{"verify"}) }, "")
	return out, err
}

// signIn checks credentials against the store as the server would.
func signIn(t *testing.T, db, login, password, totpSecret string) error {
	t.Helper()
	st, _, err := app.OpenStore(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, _, err := authFor(st, Env{Getenv: func(k string) string { return map[string]string{"KHIEN_SECRET_KEY": testSecretKey}[k] }})
	if err != nil {
		t.Fatal(err)
	}
	code := ""
	if totpSecret != "" {
		code, _ = auth.TOTP(totpSecret, time.Now())
	}
	_, err = a.Login(t.Context(), auth.Credentials{Login: login, Password: password, TOTP: code})
	return err
}

func totpSecret(t *testing.T, out string) string {
	t.Helper()
	i := strings.Index(out, "otpauth://")
	if i < 0 {
		t.Fatalf("no otpauth URI in:\n%s", out)
	}
	u, err := url.Parse(strings.Fields(out[i:])[0])
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("secret")
}

func TestUserCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	const pw = "mật khẩu của quản trị viên"

	out, errOut, err := user(t, db, pw+"\n", "add", "--login", "root", "--role", "platform_admin", "--name", "Quản trị")
	if err != nil {
		t.Fatalf("user add = %v\n%s", err, errOut)
	}
	if !strings.Contains(out, "created the account root (platform_admin") ||
		!strings.Contains(out, "otpauth://totp/Khi%C3%AAn:root?") || !strings.Contains(out, "issuer=Khi%C3%AAn") ||
		!strings.Contains(errOut, "Password: ") || strings.Contains(out+errOut, pw) {
		t.Errorf("user add printed:\n%s\n%s", out, errOut)
	}
	secret := totpSecret(t, out)
	if err := signIn(t, db, "root", pw, secret); err != nil {
		t.Errorf("sign in as the new administrator: %v", err)
	}

	// The password may be piped without a newline; an organization must exist.
	_, _, err = user(t, db, "mật khẩu kiểm toán viên", "add", "--login", "lan", "--role", "auditor", "--org", "HN")
	if err == nil || !strings.Contains(err.Error(), `org: organization "HN" does not exist`) {
		t.Errorf("user add with a missing org = %v", err)
	}

	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string // in the error
		kind  string
	}{
		{"no subcommand", "", nil, "", "usage"},
		{"unknown subcommand", "", []string{"remove", "--login", "x"}, "", "usage"},
		{"no login", "", []string{"add", "--role", "auditor"}, "", "usage"},
		{"no role", "", []string{"add", "--login", "x"}, "", "usage"},
		{"role on passwd", "", []string{"passwd", "--login", "root", "--role", "auditor"}, "", "usage"},
		{"no password", "", []string{"add", "--login", "x", "--role", "platform_admin"}, "none was given on standard input", ""},
		{"short password", "ngắn\n", []string{"add", "--login", "x", "--role", "platform_admin"}, "at least 12 characters", ""},
		{"auditor without org", pw + "\n", []string{"add", "--login", "x", "--role", "auditor"}, "org: is required", ""},
		{"bad role", pw + "\n", []string{"add", "--login", "x", "--role", "king"}, `"king" is not one of`, ""},
		{"taken", pw + "\n", []string{"add", "--login", "ROOT", "--role", "platform_admin"}, "is taken", ""},
		{"passwd unknown", pw + "\n", []string{"passwd", "--login", "nobody"}, `no user has the login "nobody"`, ""},
	}
	for _, tt := range tests {
		_, _, err := user(t, db, tt.stdin, tt.args...)
		switch {
		case tt.kind == "usage" && !errors.Is(err, errUsage):
			t.Errorf("%s: %v, want a usage error", tt.name, err)
		case tt.kind == "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.want)
		}
	}

	const newPW = "một mật khẩu mới hoàn toàn"
	if out, _, err := user(t, db, newPW+"\n", "passwd", "--login", "root"); err != nil || !strings.Contains(out, "the password of root is changed") {
		t.Fatalf("user passwd = %v\n%s", err, out)
	}
	if err := signIn(t, db, "root", pw, secret); err == nil {
		t.Error("the old password still works")
	}
	out, _, err = user(t, db, "", "reset-mfa", "--login", "root")
	if err != nil {
		t.Fatalf("user reset-mfa = %v", err)
	}
	if fresh := totpSecret(t, out); fresh == secret {
		t.Error("reset-mfa gave the same secret")
	} else if err := signIn(t, db, "root", newPW, fresh); err != nil {
		t.Errorf("sign in with the new password and second factor: %v", err)
	}

	out, err = auditVerify(t, db)
	if err != nil || !strings.Contains(out, "the audit log is intact: 3 entries") {
		t.Errorf("audit verify = %v\n%s", err, out)
	}
	// Every change was recorded as the operator's.
	raw := openRaw(t, db)
	var actors string
	if err := raw.QueryRow(`SELECT group_concat(actor || ' ' || action, ', ') FROM audit_log`).Scan(&actors); err != nil ||
		actors != "local:ops user.create, local:ops user.password, local:ops user.reset_mfa" {
		t.Errorf("audit log holds %q, %v", actors, err)
	}
}

// openRaw opens the store's file directly, as someone with access to the server could.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestAuditVerifyFindsTampering edits one audit row in the database, then deletes another,
// and checks that khien audit verify fails and names the row each time.
func TestAuditVerifyFindsTampering(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	for _, login := range []string{"an", "binh", "chi", "dung"} {
		if _, _, err := user(t, db, "một mật khẩu đủ dài\n", "add", "--login", login, "--role", "platform_admin"); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := auditVerify(t, db); err != nil {
		t.Fatalf("audit verify of an intact log = %v\n%s", err, out)
	}
	raw := openRaw(t, db)
	exec := func(q string) {
		t.Helper()
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := raw.Exec(`UPDATE audit_log SET after_json = '{}' WHERE seq = 2`); err == nil {
		t.Fatal("the append-only guard let an entry be edited")
	}
	exec(`DROP TRIGGER audit_log_no_update`)
	exec(`DROP TRIGGER audit_log_no_delete`)

	exec(`UPDATE audit_log SET after_json = replace(after_json, '"role":"platform_admin"', '"role":"auditor"') WHERE seq = 3`)
	out, err := auditVerify(t, db)
	if !errors.Is(err, errBlocked) || !strings.Contains(out, "audit entry 3: was edited after it was written") {
		t.Errorf("audit verify after editing entry 3 = %v\n%s", err, out)
	}
	if code := exitCode(err); code != ExitBlocked {
		t.Errorf("exit code %d, want %d", code, ExitBlocked)
	}

	exec(`UPDATE audit_log SET after_json = replace(after_json, '"role":"auditor"', '"role":"platform_admin"') WHERE seq = 3`)
	if _, err := auditVerify(t, db); err != nil {
		t.Fatalf("audit verify after undoing the edit = %v", err)
	}
	exec(`DELETE FROM audit_log WHERE seq = 2`)
	out, err = auditVerify(t, db)
	if !errors.Is(err, errBlocked) || !strings.Contains(out, "audit entry 2: is missing") {
		t.Errorf("audit verify after deleting entry 2 = %v\n%s", err, out)
	}
}

// exitCode is the code Main gives err.
func exitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errBlocked):
		return ExitBlocked
	case errors.Is(err, errUsage):
		return ExitUsage
	}
	return ExitError
}
