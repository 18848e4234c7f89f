package queuetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the admin connection
)

// The queues' integration tests use the NATS server and the PostgreSQL server that CI
// starts, found through KHIEN_TEST_NATS and KHIEN_TEST_POSTGRES. Without them a test is
// skipped, except under CI=true, where a missing service is a failure: CI must not pass by
// testing nothing.

// service returns the value of the environment variable env, or skips or fails t.
func service(t testing.TB, env, example string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set; CI must provide the server", env)
		}
		t.Skipf("%s not set (e.g. %s)", env, example)
	}
	return v
}

// NATS returns the URL of the test NATS server (with JetStream) from KHIEN_TEST_NATS.
func NATS(t testing.TB) string {
	t.Helper()
	return service(t, "KHIEN_TEST_NATS", "nats://127.0.0.1:4222")
}

// Name returns a name no other test run uses, such as a stream prefix on a shared server:
// "khien_test_" and 16 hexadecimal digits.
func Name() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "khien_test_" + hex.EncodeToString(b)
}

// Postgres returns the DSN of a fresh, empty schema on the test PostgreSQL server (from
// KHIEN_TEST_POSTGRES), made the DSN's search path, so that every process given the DSN
// works in it. The schema is dropped with everything in it when t ends.
func Postgres(t testing.TB) string {
	t.Helper()
	dsn := service(t, "KHIEN_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := Name()
	quoted := pgx.Identifier{schema}.Sanitize()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+quoted); err != nil {
		t.Fatalf("KHIEN_TEST_POSTGRES: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+quoted+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("KHIEN_TEST_POSTGRES must be a postgres:// URL, got %q", dsn)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
