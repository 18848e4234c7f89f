package data

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
			p := dbProver(t, u.Hostname()+":*:"+name+":"+u.User.Username()+":"+pw)
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
	p := dbProver(t, u.Hostname()+":*:*:khien_nobody:"+secret)
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

// cleartextServer is a PostgreSQL impostor on a loopback address: it answers every startup
// with AuthenticationCleartextPassword and keeps all the bytes each client sends. received
// closes the listener, waits for every connection to end and returns those bytes.
func cleartextServer(t *testing.T, addr string) (hostPort string, received func() []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	var (
		mu  sync.Mutex
		got []byte
		wg  sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				var all bytes.Buffer
				defer func() { mu.Lock(); got = append(got, all.Bytes()...); mu.Unlock() }()
				r := io.TeeReader(c, &all)
				for {
					var hdr [8]byte
					if _, err := io.ReadFull(r, hdr[:]); err != nil {
						return
					}
					n := binary.BigEndian.Uint32(hdr[:4])
					if n < 8 || n > 1<<16 {
						return
					}
					if _, err := io.CopyN(io.Discard, r, int64(n-8)); err != nil {
						return
					}
					if binary.BigEndian.Uint32(hdr[4:]) == 80877103 { // SSLRequest: no TLS here
						c.Write([]byte("N"))
						continue
					}
					break // the startup message
				}
				c.Write([]byte{'R', 0, 0, 0, 8, 0, 0, 0, 3}) // AuthenticationCleartextPassword
				io.Copy(io.Discard, r)                       // until the client hangs up
			}()
		}
	}()
	var once sync.Once
	received = func() []byte {
		once.Do(func() { ln.Close(); wg.Wait() })
		mu.Lock()
		defer mu.Unlock()
		return got
	}
	t.Cleanup(func() { received() })
	return ln.Addr().String(), received
}

// TestProveDatabaseWithholdsPassword proves a db: resource naming a server that asks for the
// password in clear. The resource is not verified, so the password of --db-passfile must not
// reach that server: not through a line whose host is '*' (meant for scans of verified
// databases), nor through a cleartext-password request to a host named exactly.
func TestProveDatabaseWithholdsPassword(t *testing.T) {
	const secret = "S3cret-of-the-agency"
	tests := []struct {
		name    string
		line    string // of the password file; HOST is the impostor's address
		outcome inventory.ProofOutcome
		want    []string
	}{
		{name: "wildcard host", line: "*:*:hoso:khien:" + secret, outcome: inventory.OutcomeDBNoCredentials,
			want: []string{"no credentials (--db-passfile)", "naming the host 127.0.0.2 exactly", "ghi đúng tên máy chủ 127.0.0.2"}},
		{name: "exact host, cleartext request", line: "HOST:*:hoso:khien:" + secret, outcome: inventory.OutcomeDBUnreachable,
			want: []string{"asks for the password in clear text", "đòi mật khẩu dạng văn bản rõ"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, received := cleartextServer(t, "127.0.0.2:0")
			host, _, _ := net.SplitHostPort(addr)
			c := dbChallenge(t, "db:postgres://"+addr+"/hoso", "n5tqj3xkzv6m2bq7rw4ahc8ydf3e9gsp")
			p := dbProver(t, strings.ReplaceAll(tt.line, "HOST", host))
			_, err := p.Prove(t.Context(), c)
			if got := received(); bytes.Contains(got, []byte(secret)) {
				t.Fatalf("the impostor at %s received the password (%q)", addr, got)
			}
			var pe *inventory.ProofError
			if !errors.As(err, &pe) || len(pe.Attempts) != 1 || pe.Attempts[0].Outcome != tt.outcome {
				t.Fatalf("Prove: %v; want a proof error with outcome %s", err, tt.outcome)
			}
			msg := message(err)
			if strings.Contains(msg, secret) {
				t.Errorf("message shows the password: %q", msg)
			}
			for _, s := range tt.want {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q lacks %q", msg, s)
				}
			}
		})
	}
}

// TestPassFileHostForProof: a line with host '*' still serves scans of verified resources,
// but never an ownership proof; a line naming the host serves both.
func TestPassFileHostForProof(t *testing.T) {
	pf := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(pf, []byte("*:*:hoso:any:w\n10.0.0.5:5432:tonghop:exact:e\n*:*:tonghop:any:w\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	creds, err := PassFile(pf)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id       string
		proof    bool
		user     string
		wildcard bool
	}{
		{id: "db:postgres://10.0.0.9:5432/hoso", user: "any"},
		{id: "db:postgres://10.0.0.9:5432/hoso", proof: true, wildcard: true},
		{id: "db:postgres://10.0.0.5:5432/tonghop", user: "exact"},
		{id: "db:postgres://10.0.0.5:5432/tonghop", proof: true, user: "exact"},
		{id: "db:postgres://10.0.0.6:5432/tonghop", user: "any"},
		{id: "db:postgres://10.0.0.6:5432/tonghop", proof: true, wildcard: true},
	}
	for _, tt := range tests {
		use := ForScan
		if tt.proof {
			use = ForProof
		}
		user, _, err := creds(t.Context(), tt.id, use)
		if tt.wildcard {
			if !errors.Is(err, errWildcardHostOnly) || !errs.Is(err, errs.NotFound) {
				t.Errorf("%s (proof %v): %q, %v; want no credentials, a '*' host only", tt.id, tt.proof, user, err)
			}
			continue
		}
		if err != nil || user != tt.user {
			t.Errorf("%s (proof %v): %q, %v; want %q", tt.id, tt.proof, user, err, tt.user)
		}
	}
}
