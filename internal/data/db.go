package data

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/khien-vn/khien/internal/detect"
	"github.com/khien-vn/khien/internal/errs"
)

// A database is scanned column by column on a sample: up to SampleRows rows of each table,
// every column cast to text, each value written "column name:<TAB>value" on its own line so
// that a column named so_cccd or ngay_sinh gives its values the context a label gives them
// in prose. Only counts, masked samples and keyed hashes leave the scan; the rows are dropped
// when their table is done. The session is read-only.

// column is one column of a table.
type column struct{ schema, table, name, typ string }

// tableName is how a table is reported: table, or schema.table outside public.
func tableName(schema, table string) string {
	if schema == "" || schema == "public" {
		return table
	}
	return schema + "." + table
}

// scanColumn runs the detectors over the sampled values of one column.
func scanColumn(c column, values []string, rows int, opts Options) ([]Place, int64) {
	label := columnLabel(c.name)
	var b strings.Builder
	for _, v := range values {
		b.WriteString(label)
		b.WriteString(":\t")
		b.WriteString(strings.NewReplacer("\n", " ", "\r", " ").Replace(v))
		b.WriteByte('\n')
	}
	text := []byte(b.String())
	rep := detect.Scan(text, opts.Detectors, detect.Options{Key: opts.Key})
	t := tableName(c.schema, c.table)
	return placesOf(rep, opts.All, func(detect.Finding) Place {
		return Place{Location: t + "." + c.name, Table: t, Column: c.name, Rows: rows}
	}), int64(len(text))
}

// skippedTypes are column types that hold no text worth reading: binary, booleans, floating
// point, times, network and geometric types.
var skippedTypes = map[string]bool{
	"bytea": true, "boolean": true, "real": true, "double precision": true, "smallint": true,
	"timestamp without time zone": true, "timestamp with time zone": true, "time without time zone": true,
	"time with time zone": true, "interval": true, "uuid": true, "inet": true, "cidr": true, "macaddr": true,
	"macaddr8": true, "point": true, "line": true, "lseg": true, "box": true, "path": true, "polygon": true,
	"circle": true, "tsvector": true, "tsquery": true, "oid": true, "bit": true, "bit varying": true,
	"money": true, "pg_lsn": true,
	// MySQL
	"blob": true, "tinyblob": true, "mediumblob": true, "longblob": true, "binary": true, "varbinary": true,
	"float": true, "double": true, "timestamp": true, "datetime": true, "time": true, "year": true,
	"geometry": true, "tinyint": true,
}

// sampleTables reads each table's sample with query and scans its columns.
func sampleTables(ctx context.Context, cols []column, opts Options, rep *Report,
	query func(ctx context.Context, t []column) ([][]*string, error)) error {
	var tables [][]column
	for i := 0; i < len(cols); {
		j := i
		for j < len(cols) && cols[j].schema == cols[i].schema && cols[j].table == cols[i].table {
			j++
		}
		tables = append(tables, cols[i:j])
		i = j
	}
	total := int64(len(cols))
	var done int64
	for _, t := range tables {
		if err := ctx.Err(); err != nil {
			return err
		}
		rep.Tables++
		rows, err := query(ctx, t)
		if err != nil {
			rep.Skipped = append(rep.Skipped, Skip{Path: tableName(t[0].schema, t[0].table), Reason: err.Error()})
			done += int64(len(t))
			continue
		}
		for k, c := range t {
			var values []string
			for _, r := range rows {
				if r[k] != nil && *r[k] != "" {
					values = append(values, *r[k])
				}
			}
			places, n := scanColumn(c, values, len(rows), opts)
			rep.Places = append(rep.Places, places...)
			rep.Bytes += n
			rep.Columns++
			done++
			if opts.Progress != nil {
				opts.Progress(done, total)
			}
		}
	}
	return nil
}

// ScanPostgres samples every table of the PostgreSQL database at dsn that the user may read
// (every schema but the system ones) and reports its columns holding what the detectors find.
func ScanPostgres(ctx context.Context, dsn string, opts Options) (Report, error) {
	opts = opts.withDefaults()
	rep := Report{Source: redact(dsn), Started: opts.Now().UTC()}
	cfg, err := pgConfig(dsn, opts.Dial)
	if err != nil {
		return rep, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return rep, fmt.Errorf("connect to %s: %w", redact(dsn), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"); err != nil {
		return rep, fmt.Errorf("make the session read-only: %w", err)
	}
	const q = `SELECT c.table_schema, c.table_name, c.column_name, c.data_type
		FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE t.table_type = 'BASE TABLE'
		  AND c.table_schema NOT IN ('pg_catalog', 'information_schema') AND c.table_schema NOT LIKE 'pg_toast%'
		ORDER BY c.table_schema, c.table_name, c.ordinal_position`
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return rep, fmt.Errorf("list columns: %w", err)
	}
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.schema, &c.table, &c.name, &c.typ); err != nil {
			return rep, err
		}
		if !skippedTypes[c.typ] {
			cols = append(cols, c)
		}
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("list columns: %w", err)
	}
	err = sampleTables(ctx, cols, opts, &rep, func(ctx context.Context, t []column) ([][]*string, error) {
		ident := pgx.Identifier{t[0].schema, t[0].table}.Sanitize()
		var est float64
		_ = conn.QueryRow(ctx, "SELECT reltuples FROM pg_class WHERE oid = $1::regclass", ident).Scan(&est)
		sample := ""
		if n := float64(opts.SampleRows); est > 10*n {
			sample = fmt.Sprintf(" TABLESAMPLE BERNOULLI (%.4f)", min(100, 300*n/est))
		}
		sel := make([]string, len(t))
		for i, c := range t {
			sel[i] = fmt.Sprintf("left(%s::text, %d)", pgx.Identifier{c.name}.Sanitize(), maxValueChars)
		}
		q := fmt.Sprintf("SELECT %s FROM %s%s LIMIT %d", strings.Join(sel, ", "), ident, sample, opts.SampleRows)
		rs, err := conn.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		defer rs.Close()
		var out [][]*string
		for rs.Next() {
			r := make([]*string, len(t))
			ptrs := make([]any, len(t))
			for i := range r {
				ptrs[i] = &r[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, rs.Err()
	})
	if err != nil {
		return rep, err
	}
	sortPlaces(rep.Places)
	rep.Finished = opts.Now().UTC()
	return rep, nil
}

// maxValueChars bounds the characters read of one sampled value: personal data sits in short
// fields, and a thousand rows of a column of 20 MB documents would otherwise be read whole.
// The server cuts the value, so the rest never crosses the network.
const maxValueChars = 4096

// pgConfig parses a postgres:// URL into pgx's configuration, connecting through dial when it
// is not nil.
func pgConfig(dsn string, dial func(ctx context.Context, network, address string) (net.Conn, error)) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "%s is not a PostgreSQL URL (postgres://user@host:5432/db)", redact(dsn))
	}
	if dial != nil {
		cfg.DialFunc = dial
		// Let the dialer resolve: the guarded one uses the configured resolver, never the
		// system's. The fallbacks pgx derives (TLS, then plain) keep the same dialer.
		cfg.LookupFunc = func(_ context.Context, host string) ([]string, error) { return []string{host}, nil }
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	return cfg, nil
}

// mysqlConfig turns a mysql://user:password@host:3306/db URL into the driver's configuration.
func mysqlConfig(dsn string, dial func(ctx context.Context, network, address string) (net.Conn, error)) (*mysql.Config, error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme != "mysql" || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return nil, errs.E(errs.Invalid, "%s is not a MySQL URL (mysql://user@host:3306/db)", redact(dsn))
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	cfg.DBName = strings.Trim(u.Path, "/")
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	cfg.Timeout = 10 * time.Second
	cfg.ReadTimeout = 60 * time.Second
	cfg.DialFunc = dial
	return cfg, nil
}

// ScanMySQL samples every table of the MySQL or MariaDB database at dsn.
func ScanMySQL(ctx context.Context, dsn string, opts Options) (Report, error) {
	opts = opts.withDefaults()
	rep := Report{Source: redact(dsn), Started: opts.Now().UTC()}
	cfg, err := mysqlConfig(dsn, opts.Dial)
	if err != nil {
		return rep, err
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return rep, errs.Wrap(errs.Invalid, err, "%s: bad MySQL settings", redact(dsn))
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return rep, fmt.Errorf("connect to %s: %w", redact(dsn), err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET SESSION TRANSACTION READ ONLY"); err != nil {
		return rep, fmt.Errorf("make the session read-only: %w", err)
	}
	const q = `SELECT c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE
		FROM information_schema.COLUMNS c
		JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
		WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'
		ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return rep, fmt.Errorf("list columns: %w", err)
	}
	var cols []column
	for rows.Next() {
		c := column{schema: "public"}
		if err := rows.Scan(&c.table, &c.name, &c.typ); err != nil {
			rows.Close()
			return rep, err
		}
		if !skippedTypes[strings.ToLower(c.typ)] {
			cols = append(cols, c)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("list columns: %w", err)
	}
	quote := func(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
	err = sampleTables(ctx, cols, opts, &rep, func(ctx context.Context, t []column) ([][]*string, error) {
		sel := make([]string, len(t))
		for i, c := range t {
			sel[i] = fmt.Sprintf("LEFT(CAST(%s AS CHAR), %d)", quote(c.name), maxValueChars)
		}
		q := fmt.Sprintf("SELECT %s FROM %s LIMIT %d", strings.Join(sel, ", "), quote(t[0].table), opts.SampleRows)
		rs, err := conn.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		defer rs.Close()
		var out [][]*string
		for rs.Next() {
			r := make([]sql.NullString, len(t))
			ptrs := make([]any, len(t))
			for i := range r {
				ptrs[i] = &r[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				return nil, err
			}
			row := make([]*string, len(t))
			for i := range r {
				if r[i].Valid {
					row[i] = &r[i].String
				}
			}
			out = append(out, row)
		}
		return out, rs.Err()
	})
	if err != nil {
		return rep, err
	}
	sortPlaces(rep.Places)
	rep.Finished = opts.Now().UTC()
	return rep, nil
}

// redact hides the password of a URL.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "***")
		return strings.Replace(u.String(), "%2A%2A%2A", "***", 1)
	}
	return dsn
}
