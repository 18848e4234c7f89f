package data

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// A database has no DNS name or web root of its own to publish a token in, so its owner
// proves control from inside: on PostgreSQL with a comment on the database, on MySQL and
// MariaDB with a row of a table named khien_verification. Khiên reads it back with the very
// credentials the data-security scan will use, which proves both that the agency controls the
// database and that those credentials reach it. The session is read-only and reads nothing
// else.

// VerificationTable is the MySQL table whose rows hold the ownership token.
const VerificationTable = "khien_verification"

// proveTimeout bounds one proof: connect, one or two queries.
const proveTimeout = 30 * time.Second

// Ownership proves control of db: resources. It is the database counterpart of the DNS and
// HTTP proofs of the scope package, which hands it its fenced dialer.
type Ownership struct {
	// Credentials of the databases, the same the data-security family uses; nil connects
	// without a password (peer or trust authentication).
	Credentials Credentials
}

// ProveDatabase connects to c.Database through dial with the credentials of c.Resource and
// returns how the challenge was met ("postgres-comment postgres://h:5432/hoso"), or an Invalid
// error saying, in Vietnamese then English, what it read and where: an *inventory.ProofError
// whose attempt tells the pages why (db-unreachable, db-token-missing, db-no-credentials). No
// message holds the password.
func (o Ownership) ProveDatabase(ctx context.Context, c inventory.Challenge, dial func(ctx context.Context, network, address string) (net.Conn, error)) (string, error) {
	if c.Database == "" || c.DBValue == "" {
		return "", errs.E(errs.Invalid, "%s không phải thử thách của một cơ sở dữ liệu / %s is not a database challenge", c.Resource, c.Resource)
	}
	if dial == nil {
		// Never fall back to the system's dialer: the proof goes through the fence or not at all.
		return "", errs.E(errs.Internal, "no fenced dialer for the ownership proof of %s", c.Resource)
	}
	var user, pass string
	if o.Credentials != nil {
		var err error
		// The resource is not verified yet: whoever registered it chose the server, so only
		// credentials meant for that very host may go to it.
		if user, pass, err = o.Credentials(ctx, c.Resource, ForProof); err != nil {
			if errors.Is(err, errWildcardHostOnly) {
				host := resourceHost(c.Resource)
				return "", proofError(c, inventory.OutcomeDBNoCredentials,
					fmt.Sprintf("no credentials (--db-passfile): only a line with host '*' matches, and an ownership proof uses only a line naming the host %s exactly", host),
					errs.Wrap(errs.Invalid, err,
						"chưa chứng minh được quyền sở hữu %s: không có thông tin đăng nhập (--db-passfile): chỉ dòng có máy chủ '*' khớp, mà phép chứng minh quyền sở hữu chỉ dùng dòng ghi đúng tên máy chủ %s (thêm dòng %s:CỔNG:CSDL:NGƯỜI_DÙNG:MẬT_KHẨU) / "+
							"ownership of %s is not proven: no credentials (--db-passfile): only a line with host '*' matches, and an ownership proof uses only a line naming the host %s exactly (add a line %s:PORT:DB:USER:PASSWORD)",
						c.Resource, host, host, c.Resource, host, host))
			}
			msg, _ := errs.Message(err)
			return "", proofError(c, inventory.OutcomeDBNoCredentials, "no credentials (--db-passfile): "+msg, errs.Wrap(errs.Invalid, err,
				"chưa chứng minh được quyền sở hữu %s: không có thông tin đăng nhập (--db-passfile): %s / ownership of %s is not proven: no credentials (--db-passfile): %s",
				c.Resource, msg, c.Resource, msg))
		}
	}
	dsn, err := DatabaseURL(inventory.Resource{ID: c.Resource}, user, pass)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, proveTimeout)
	defer cancel()
	p := proof{c: c, user: user, pass: pass}
	if strings.HasPrefix(dsn, "mysql://") {
		return p.mysql(ctx, dsn, dial)
	}
	return p.postgres(ctx, dsn, dial)
}

// resourceHost is the host a db: resource names, for messages.
func resourceHost(id string) string {
	u, err := url.Parse(inventory.Resource{ID: id}.Value())
	if err != nil || u.Hostname() == "" {
		return "HOST"
	}
	return u.Hostname()
}

// proof is one ownership proof under way; its methods build its messages.
type proof struct {
	c          inventory.Challenge
	user, pass string
}

// proofError is the *inventory.ProofError of one db attempt with outcome o; err, the
// prover's bilingual account, speaks for it.
func proofError(c inventory.Challenge, o inventory.ProofOutcome, detail string, err error) error {
	return &inventory.ProofError{Resource: c.Resource, Err: err, Attempts: []inventory.ProofAttempt{{
		Method: inventory.ProofDB, Target: c.Database, Outcome: o, Expected: c.DBValue, Detail: detail, Err: err}}}
}

// failed returns an Invalid error saying that ownership is not proven, because of vi / en.
// The password, should a driver's message ever repeat it, is masked.
func (p proof) failed(o inventory.ProofOutcome, cause error, vi, en string) error {
	if p.pass != "" {
		vi = strings.ReplaceAll(vi, p.pass, "***")
		en = strings.ReplaceAll(en, p.pass, "***")
	}
	return proofError(p.c, o, en, errs.Wrap(errs.Invalid, cause, "chưa chứng minh được quyền sở hữu %s: %s / ownership of %s is not proven: %s",
		p.c.Resource, vi, p.c.Resource, en))
}

// connectFailed reports a failed connection (query false) or query (query true).
func (p proof) connectFailed(err error, query bool) error {
	as := p.user
	if as == "" {
		as = "(mặc định / default)"
	}
	vi, en := "không kết nối được tới", "cannot connect to"
	if query {
		vi, en = "không đọc được", "cannot query"
	}
	detail := err.Error()
	return p.failed(inventory.OutcomeDBUnreachable, err,
		fmt.Sprintf("%s %s với người dùng %s: %s", vi, p.c.Database, as, detail),
		fmt.Sprintf("%s %s as user %s: %s", en, p.c.Database, as, detail))
}

func (p proof) postgres(ctx context.Context, dsn string, dial func(ctx context.Context, network, address string) (net.Conn, error)) (string, error) {
	cfg, err := pgConfig(dsn, dial)
	if err != nil {
		return "", err
	}
	// Never answer a request for the password in clear: the server is not yet shown to be
	// the agency's, and one that asks so would simply read the password (libpq require_auth).
	cfg.RequireAuth = "!password"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		if strings.Contains(err.Error(), "require_auth") {
			return "", p.failed(inventory.OutcomeDBUnreachable, err,
				fmt.Sprintf("máy chủ %s đòi mật khẩu dạng văn bản rõ (password); Khiên không gửi mật khẩu như vậy khi chứng minh quyền sở hữu, hãy cấu hình máy chủ dùng scram-sha-256", p.c.Database),
				fmt.Sprintf("the server of %s asks for the password in clear text (password); Khiên does not send a password so in an ownership proof, configure the server for scram-sha-256", p.c.Database))
		}
		return "", p.connectFailed(err, false)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"); err != nil {
		return "", p.connectFailed(err, true)
	}
	const q = `SELECT current_database(), coalesce(shobj_description(oid, 'pg_database'), '')
		FROM pg_database WHERE datname = current_database()`
	var name, comment string
	if err := conn.QueryRow(ctx, q).Scan(&name, &comment); err != nil {
		return "", p.connectFailed(err, true)
	}
	if hasToken(comment, p.c.DBValue) {
		return "postgres-comment " + p.c.Database, nil
	}
	if comment == "" {
		return "", p.failed(inventory.OutcomeDBTokenMissing, nil,
			fmt.Sprintf("cơ sở dữ liệu %s không có chú thích, cần %s (chạy: %s)", name, p.c.DBValue, p.c.DBSQL),
			fmt.Sprintf("database %s has no comment, expected %s (run: %s)", name, p.c.DBValue, p.c.DBSQL))
	}
	return "", p.failed(inventory.OutcomeDBTokenMissing, nil,
		fmt.Sprintf("chú thích của cơ sở dữ liệu %s là %s, cần chứa %s (chạy: %s)", name, shorten(comment), p.c.DBValue, p.c.DBSQL),
		fmt.Sprintf("database %s: comment is %s, expected %s (run: %s)", name, shorten(comment), p.c.DBValue, p.c.DBSQL))
}

// maxTokenRows bounds the rows of khien_verification read.
const maxTokenRows = 20

func (p proof) mysql(ctx context.Context, dsn string, dial func(ctx context.Context, network, address string) (net.Conn, error)) (string, error) {
	cfg, err := mysqlConfig(dsn, dial)
	if err != nil {
		return "", err
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return "", errs.Wrap(errs.Invalid, err, "%s: bad MySQL settings", p.c.Database)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", p.connectFailed(err, false)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET SESSION TRANSACTION READ ONLY"); err != nil {
		return "", p.connectFailed(err, true)
	}
	name := cfg.DBName
	rows, err := conn.QueryContext(ctx, fmt.Sprintf("SELECT CAST(token AS CHAR) FROM %s LIMIT %d", VerificationTable, maxTokenRows))
	if err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) && (me.Number == 1146 || me.Number == 1054) { // no such table, no such column
			return "", p.failed(inventory.OutcomeDBTokenMissing, err,
				fmt.Sprintf("cơ sở dữ liệu %s không có bảng %s(token) chứa %s (chạy: %s)", name, VerificationTable, p.c.DBValue, p.c.DBSQL),
				fmt.Sprintf("database %s has no table %s(token) holding %s (run: %s)", name, VerificationTable, p.c.DBValue, p.c.DBSQL))
		}
		return "", p.connectFailed(err, true)
	}
	defer rows.Close()
	var seen []string
	for rows.Next() {
		var v sql.NullString
		if err := rows.Scan(&v); err != nil {
			return "", p.connectFailed(err, true)
		}
		if hasToken(v.String, p.c.DBValue) {
			return "mysql-table " + p.c.Database + " " + VerificationTable, nil
		}
		if len(seen) < 3 {
			seen = append(seen, shorten(v.String))
		}
	}
	if err := rows.Err(); err != nil {
		return "", p.connectFailed(err, true)
	}
	if len(seen) == 0 {
		return "", p.failed(inventory.OutcomeDBTokenMissing, nil,
			fmt.Sprintf("bảng %s.%s trống, cần một dòng %s (chạy: %s)", name, VerificationTable, p.c.DBValue, p.c.DBSQL),
			fmt.Sprintf("table %s.%s is empty, expected a row %s (run: %s)", name, VerificationTable, p.c.DBValue, p.c.DBSQL))
	}
	return "", p.failed(inventory.OutcomeDBTokenMissing, nil,
		fmt.Sprintf("bảng %s.%s có %s, cần một dòng %s", name, VerificationTable, strings.Join(seen, ", "), p.c.DBValue),
		fmt.Sprintf("table %s.%s holds %s, expected a row %s", name, VerificationTable, strings.Join(seen, ", "), p.c.DBValue))
}

// hasToken reports whether want is one of the words of s (split at spaces, commas and
// semicolons), so that a comment may say more than the token but a longer token does not
// count as the token.
func hasToken(s, want string) bool {
	if want == "" {
		return false
	}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}) {
		if f == want {
			return true
		}
	}
	return false
}

// shorten quotes s for a message, cut to 120 characters.
func shorten(s string) string {
	const max = 120
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
