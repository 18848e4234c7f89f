package data

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/resolve"
	"github.com/khien-vn/khien/internal/scope"
)

// dbProver is the prover the server builds: the loopback fence, no resolver, and the
// credentials of a password file holding lines.
func dbProver(t *testing.T, lines ...string) *scope.Prover {
	t.Helper()
	path := filepath.Join(t.TempDir(), "passfile")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	creds, err := PassFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return &scope.Prover{Guard: scope.New(scope.LoopbackFence(), "", 5*time.Second), Database: Ownership{Credentials: creds}}
}

// dbChallenge is the challenge of the db: resource id with token.
func dbChallenge(t *testing.T, id, token string) inventory.Challenge {
	t.Helper()
	norm, err := inventory.Normalize(id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := inventory.ChallengeFor(inventory.Resource{ID: norm}, token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// message is the user-facing message of err.
func message(err error) string {
	msg, _ := errs.Message(err)
	return msg
}

func TestProveDatabasePostgres(t *testing.T) {
	const token = "n5tqj3xkzv6m2bq7rw4ahc8ydf3e9gsp"
	tests := []struct {
		name    string
		comment string // "" sets none; "challenge" runs the challenge's own SQL
		want    string // in the message, or the method when ok
		ok      bool
	}{
		{name: "no comment", want: "has no comment, expected khien-verification=" + token},
		{name: "wrong token", comment: "khien-verification=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			want: `comment is "khien-verification=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", expected khien-verification=` + token},
		{name: "token as a prefix of a longer word", comment: "khien-verification=" + token + "x",
			want: "expected khien-verification=" + token},
		{name: "the challenge's SQL", comment: "challenge", ok: true},
		{name: "token among other words", comment: "CSDL hồ sơ một cửa; khien-verification=" + token + "; liên hệ: phòng CNTT", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn := postgresDB(t)
			u, _ := url.Parse(dsn)
			name := strings.Trim(u.Path, "/")
			c := dbChallenge(t, "db:postgres://127.0.0.1:5432/"+name, token)
			switch tt.comment {
			case "":
			case "challenge":
				execPostgres(t, dsn, c.DBSQL)
			default:
				execPostgres(t, dsn, "COMMENT ON DATABASE "+name+" IS '"+tt.comment+"'")
			}
			p := dbProver(t, "127.0.0.1:5432:"+name+":"+u.User.Username()+":")
			how, err := p.Prove(t.Context(), c)
			if tt.ok {
				if err != nil {
					t.Fatalf("Prove: %v", err)
				}
				if want := "postgres-comment " + c.Database; how != want {
					t.Errorf("method %q, want %q", how, want)
				}
				return
			}
			if err == nil || !errs.Is(err, errs.Invalid) {
				t.Fatalf("Prove = %q, %v; want an invalid error", how, err)
			}
			msg := message(err)
			t.Logf("message: %s", msg)
			for _, s := range []string{tt.want, "database " + name, "ownership of " + c.Resource + " is not proven", "chưa chứng minh được quyền sở hữu"} {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q lacks %q", msg, s)
				}
			}
		})
	}
}

func execPostgres(t *testing.T, dsn string, stmts ...string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, s := range stmts {
		if _, err := conn.Exec(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// requireMySQL fails the test under CI=true when no MySQL or MariaDB answers; otherwise
// mysqlDB skips, saying why.
func requireMySQL(t *testing.T) {
	t.Helper()
	if os.Getenv("CI") != "true" {
		return
	}
	dsn := os.Getenv("KHIEN_TEST_MYSQL")
	if dsn == "" {
		dsn = "mysql://root@127.0.0.1:3306/test"
	}
	cfg, err := mysqlConfig(dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PingContext(t.Context()); err != nil {
		t.Fatalf("CI=true but no MySQL or MariaDB at %s (set KHIEN_TEST_MYSQL): %v", redact(dsn), err)
	}
}

func TestProveDatabaseMySQL(t *testing.T) {
	requireMySQL(t)
	const token = "b7wq2m4kx9zt3hc6rv8ena5ydj2f7gsq"
	tests := []struct {
		name  string
		setup []string // "challenge" runs the challenge's own SQL
		want  string
		ok    bool
	}{
		{name: "no table", want: "has no table khien_verification(token) holding khien-verification=" + token},
		{name: "empty table", setup: []string{"CREATE TABLE khien_verification (token VARCHAR(200) NOT NULL)"},
			want: "khien_verification is empty, expected a row khien-verification=" + token},
		{name: "wrong token", setup: []string{"CREATE TABLE khien_verification (token VARCHAR(200) NOT NULL)",
			"INSERT INTO khien_verification VALUES ('khien-verification=cccccccccccccccccccccccccccccccc')"},
			want: `khien_verification holds "khien-verification=cccccccccccccccccccccccccccccccc", expected a row khien-verification=` + token},
		{name: "the challenge's SQL", setup: []string{"challenge"}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn := mysqlDB(t)
			u, _ := url.Parse(dsn)
			name := strings.Trim(u.Path, "/")
			c := dbChallenge(t, "db:mysql://"+u.Host+"/"+name, token)
			var stmts []string
			for _, s := range tt.setup {
				if s == "challenge" {
					stmts = append(stmts, splitSQL(c.DBSQL)...)
				} else {
					stmts = append(stmts, s)
				}
			}
			execMySQL(t, dsn, stmts...)
			pw, _ := u.User.Password()
			p := dbProver(t, "*:*:"+name+":"+u.User.Username()+":"+pw)
			how, err := p.Prove(t.Context(), c)
			if tt.ok {
				if err != nil {
					t.Fatalf("Prove: %v", err)
				}
				if want := "mysql-table " + c.Database + " khien_verification"; how != want {
					t.Errorf("method %q, want %q", how, want)
				}
				return
			}
			if err == nil || !errs.Is(err, errs.Invalid) {
				t.Fatalf("Prove = %q, %v; want an invalid error", how, err)
			}
			msg := message(err)
			for _, s := range []string{tt.want, name, "ownership of " + c.Resource + " is not proven"} {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q lacks %q", msg, s)
				}
			}
		})
	}
}

// TestProveDatabaseHidesPassword gives MariaDB a wrong password: the refusal says who
// connected where, never with what.
func TestProveDatabaseHidesPassword(t *testing.T) {
	requireMySQL(t)
	dsn := mysqlDB(t)
	u, _ := url.Parse(dsn)
	name := strings.Trim(u.Path, "/")
	c := dbChallenge(t, "db:mysql://"+u.Host+"/"+name, "b7wq2m4kx9zt3hc6rv8ena5ydj2f7gsq")
	const secret = "Sai-mat-khau-7Qx"
	p := dbProver(t, "*:*:*:khien_nobody:"+secret)
	_, err := p.Prove(t.Context(), c)
	if err == nil {
		t.Fatal("a wrong password proved ownership")
	}
	msg := message(err)
	if strings.Contains(msg, secret) {
		t.Errorf("message shows the password: %q", msg)
	}
	if !strings.Contains(msg, "cannot connect to "+c.Database+" as user khien_nobody") {
		t.Errorf("message %q does not say who could not connect where", msg)
	}
}

// splitSQL splits the statements of a challenge's SQL (the MySQL driver runs one at a time).
func splitSQL(s string) []string {
	var out []string
	for _, st := range strings.Split(s, ";") {
		if st = strings.TrimSpace(st); st != "" {
			out = append(out, st)
		}
	}
	return out
}

func execMySQL(t *testing.T, dsn string, stmts ...string) {
	t.Helper()
	cfg, err := mysqlConfig(dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.ExecContext(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestProveDatabaseFenced proves databases outside the fence: the guard refuses them before
// any packet (192.0.2.1 is TEST-NET-1; it is never dialled), and a name is never resolved
// without the configured resolver.
func TestProveDatabaseFenced(t *testing.T) {
	tests := []struct {
		id   string
		want error
	}{
		{"db:postgres://192.0.2.1:5432/hoso", scope.ErrFenced},
		{"db:mysql://192.0.2.1:3306/hoso", scope.ErrFenced},
		{"db:postgres://[2001:db8::5]/hoso", scope.ErrFenced},
		{"db:postgres://csdl.hanoi.gov.vn/hoso", resolve.ErrNoServer},
	}
	guard := scope.New(scope.LoopbackFence(), "", 5*time.Second)
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			c := dbChallenge(t, tt.id, "n5tqj3xkzv6m2bq7rw4ahc8ydf3e9gsp")
			// Through the prover the server uses.
			p := &scope.Prover{Guard: guard, Database: Ownership{}}
			_, err := p.Prove(t.Context(), c)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Prove: %v; want %v", err, tt.want)
			}
			if tt.want == scope.ErrFenced {
				msg := message(err)
				if !errs.Is(err, errs.OutOfScope) || !strings.Contains(msg, "fence 127.0.0.0/8,::1/128") {
					t.Errorf("error %v (message %q): want out of scope, naming the fence", err, msg)
				}
			}
			// And directly: every connection the driver makes goes through the dialer given,
			// which here refuses before dialling.
			var calls atomic.Int32
			dial := func(ctx context.Context, network, address string) (net.Conn, error) {
				calls.Add(1)
				return guard.DialFenced(ctx, network, address)
			}
			if _, err := (Ownership{}).ProveDatabase(t.Context(), c, dial); !errors.Is(err, tt.want) {
				t.Fatalf("ProveDatabase: %v; want %v", err, tt.want)
			}
			if calls.Load() == 0 {
				t.Error("the driver did not connect through the dialer it was given")
			}
		})
	}
}

func TestProveDatabaseNoCredentials(t *testing.T) {
	c := dbChallenge(t, "db:postgres://127.0.0.1:5432/hoso", "n5tqj3xkzv6m2bq7rw4ahc8ydf3e9gsp")
	p := dbProver(t, "10.0.0.1:5432:*:khien:x")
	_, err := p.Prove(t.Context(), c)
	if !errs.Is(err, errs.Invalid) || !strings.Contains(message(err), "no credentials (--db-passfile)") {
		t.Fatalf("Prove: %v; want an invalid error saying no credentials were found", err)
	}
}

func TestHasToken(t *testing.T) {
	const want = "khien-verification=abc"
	tests := []struct {
		s  string
		ok bool
	}{
		{"khien-verification=abc", true},
		{"  khien-verification=abc\n", true},
		{"CSDL một cửa; khien-verification=abc; phòng CNTT", true},
		{"a,khien-verification=abc,b", true},
		{"khien-verification=abcd", false},
		{"xkhien-verification=abc", false},
		{"khien-verification=ab", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := hasToken(tt.s, want); got != tt.ok {
			t.Errorf("hasToken(%q) = %v, want %v", tt.s, got, tt.ok)
		}
	}
	if hasToken("anything", "") {
		t.Error("an empty token matched")
	}
}

func FuzzHasToken(f *testing.F) {
	f.Add("CSDL; khien-verification=abc; x", "khien-verification=abc")
	f.Add("khien-verification=abcd", "khien-verification=abc")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, s, want string) {
		if hasToken(s, want) && (want == "" || !strings.Contains(s, want)) {
			t.Fatalf("hasToken(%q, %q) matched what s does not contain", s, want)
		}
		if want != "" && !strings.ContainsAny(want, ",; \t\r\n") && !hasToken(s+" "+want, want) {
			t.Fatalf("hasToken(%q, %q) missed an appended token", s+" "+want, want)
		}
	})
}
