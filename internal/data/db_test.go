package data

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
)

func randomName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// postgresDB creates a fresh database on the server of KHIEN_TEST_POSTGRES, runs setup in it and
// returns its URL; the database is dropped when the test ends. Under CI=true a missing server
// fails the test.
func postgresDB(t *testing.T, setup ...string) string {
	t.Helper()
	dsn := os.Getenv("KHIEN_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("KHIEN_TEST_POSTGRES is not set; CI must provide a PostgreSQL server")
		}
		t.Skip("KHIEN_TEST_POSTGRES not set (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
	}
	ctx := t.Context()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to KHIEN_TEST_POSTGRES: %v", err)
	}
	name := randomName("khien_data_")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close(ctx)
	})
	u, _ := url.Parse(dsn)
	u.Path = "/" + name
	db, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	for _, s := range setup {
		if _, err := db.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return u.String()
}

// Synthetic rows: serials of zeros, mobile numbers of zeros.
var pgSetup = []string{
	`CREATE TABLE cong_dan (id serial PRIMARY KEY, ho_ten text, so_cccd varchar(12), sdt text, ngay_sinh date, ghi_chu text, anh bytea)`,
	`INSERT INTO cong_dan (ho_ten, so_cccd, sdt, ngay_sinh, ghi_chu) SELECT
		(ARRAY['Nguyễn Văn An','Trần Thị Bình','Lê Hoàng Cường'])[1 + i % 3],
		'0010990' || lpad(i::text, 5, '0'), '09010' || lpad(i::text, 5, '0'), date '1980-01-01' + i,
		CASE WHEN i % 50 = 0 THEN 'TUYỆT MẬT' ELSE 'bình thường' END
		FROM generate_series(1, 300) i`,
	`CREATE SCHEMA kho`,
	`CREATE TABLE kho.hoa_don (so_hoa_don bigint, tong_tien numeric, mo_ta text)`,
	`INSERT INTO kho.hoa_don SELECT 100000 + i, i * 1000, 'Hóa đơn bán hàng số ' || i FROM generate_series(1, 50) i`,
}

func TestScanPostgres(t *testing.T) {
	dsn := postgresDB(t, pgSetup...)
	var dials atomic.Int32
	opts := testOpts()
	opts.SampleRows = 100
	opts.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	}
	rep, err := Scan(t.Context(), dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	if dials.Load() == 0 {
		t.Error("the scan did not connect through Options.Dial")
	}
	got := strings.Join(found(rep), "\n")
	want := strings.Join([]string{
		"cong_dan.ghi_chu marking.tuyet_mat",
		"cong_dan.ho_ten vn.full_name",
		"cong_dan.ngay_sinh vn.birth_date",
		"cong_dan.sdt vn.phone",
		"cong_dan.so_cccd vn.citizen_id",
	}, "\n")
	if got != want {
		t.Errorf("places:\n%s\nwant:\n%s", got, want)
	}
	if rep.Tables != 2 || rep.Columns != 9 {
		t.Errorf("%d tables, %d columns; want 2 and 9 (bytea skipped)", rep.Tables, rep.Columns)
	}
	for _, p := range rep.Places {
		if p.Rows != 100 || strings.Contains(p.Sample, "001099000") && len(p.Sample) == 12 && !strings.Contains(p.Sample, "*") {
			t.Errorf("place %+v: want 100 rows sampled and a masked sample", p)
		}
	}
}

func TestFamilyOnPostgres(t *testing.T) {
	dsn := postgresDB(t, pgSetup...)
	u, _ := url.Parse(dsn)
	user := u.User.Username()
	r := inventory.Resource{ID: "db:postgres://" + u.Host + u.Path, System: "hn-thu-nghiem", Scope: inventory.ScopeVerified}
	systems := map[string]inventory.System{
		"hn-thu-nghiem": {ID: "hn-thu-nghiem", Stage: inventory.StageTest},
	}
	f := Family(FamilyConfig{
		System: func(_ context.Context, id string) (inventory.System, error) { return systems[id], nil },
		Credentials: func(_ context.Context, id string, _ CredentialUse) (string, string, error) {
			pw, _ := u.User.Password()
			return user, pw, nil
		},
		Key: []byte("family key"),
	})
	var dials atomic.Int32
	env := check.Env{Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	}}
	if !f.AppliesTo(r) || f.AppliesTo(inventory.Resource{ID: "dns:a.vn"}) || !f.IsActive() {
		t.Fatal("the family must be active and apply to db: resources only")
	}
	// The sslmode query is not part of a db: identifier; this server accepts plain connections.
	res := f.Run(t.Context(), r, env)
	if dials.Load() == 0 {
		t.Error("the family did not dial through its environment")
	}
	status := map[string]check.Status{}
	for _, x := range res {
		status[x.Check] = x.Status
		if x.Status == check.Error {
			t.Fatalf("%s: %s", x.Check, x.Reason.EN)
		}
	}
	if status[CheckTestEnvRealData] != check.Fail || status[CheckClassifiedMisplaced] != check.Fail {
		t.Errorf("statuses %v: want both checks failing on a test system holding real data and a TUYỆT MẬT stamp", status)
	}
}

// mysqlDB creates a fresh database on the MySQL or MariaDB server of KHIEN_TEST_MYSQL
// (default mysql://root@127.0.0.1:3306/test) and returns its URL; it skips, saying why, where
// no server runs.
func mysqlDB(t *testing.T, setup ...string) string {
	t.Helper()
	dsn := os.Getenv("KHIEN_TEST_MYSQL")
	if dsn == "" {
		dsn = "mysql://root@127.0.0.1:3306/test"
	}
	cfg, err := mysqlConfig(dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MultiStatements = false
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if err := admin.PingContext(t.Context()); err != nil {
		t.Skipf("no MySQL or MariaDB at %s (set KHIEN_TEST_MYSQL): %v", redact(dsn), err)
	}
	name := randomName("khien_data_")
	if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+name+" CHARACTER SET utf8mb4"); err != nil {
		t.Skipf("cannot create a database on %s: %v", redact(dsn), err)
	}
	t.Cleanup(func() { admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name) })
	u, _ := url.Parse(dsn)
	u.Path = "/" + name
	cfg2, _ := mysqlConfig(u.String(), nil)
	db, err := sql.Open("mysql", cfg2.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, s := range setup {
		if _, err := db.ExecContext(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return u.String()
}

func TestScanMySQL(t *testing.T) {
	var rows []string
	for i := 1; i <= 60; i++ {
		rows = append(rows, "('Phạm Thu Dung', '07930500"+pad4(i)+"', 'dung"+pad4(i)+"@gmail.com', '0"+pad4(i)+"000038')")
	}
	dsn := mysqlDB(t,
		"CREATE TABLE khach_hang (ho_ten VARCHAR(100), cccd CHAR(12), email VARCHAR(100), mst VARCHAR(13), anh BLOB) CHARACTER SET utf8mb4",
		"INSERT INTO khach_hang (ho_ten, cccd, email, mst) VALUES "+strings.Join(rows, ", "),
		"CREATE TABLE cau_hinh (khoa VARCHAR(50), gia_tri VARCHAR(200))",
		"INSERT INTO cau_hinh VALUES ('smtp', 'password: \"S3cr3t!x9aa\"')",
	)
	var dials atomic.Int32
	opts := testOpts()
	opts.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	}
	rep, err := Scan(t.Context(), dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	if dials.Load() == 0 {
		t.Error("the scan did not connect through Options.Dial")
	}
	got := strings.Join(found(rep), "\n")
	want := strings.Join([]string{
		"cau_hinh.gia_tri secret.password",
		"khach_hang.cccd vn.citizen_id",
		"khach_hang.email vn.email",
		"khach_hang.ho_ten vn.full_name",
	}, "\n")
	if got != want {
		t.Errorf("places:\n%s\nwant:\n%s", got, want)
	}
}

func pad4(i int) string {
	s := "0000" + itoa(i)
	return s[len(s)-4:]
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// TestScanDatabaseValueCap samples a column of 1 MB values on PostgreSQL and MySQL: each is
// read as its first maxValueChars characters, and what is planted there is still found.
func TestScanDatabaseValueCap(t *testing.T) {
	const rows = 3
	tests := []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"postgres", func(t *testing.T) string {
			return postgresDB(t, `CREATE TABLE ho_so (ghi_chu text)`,
				`INSERT INTO ho_so SELECT 'Số CCCD: 00109900012' || i || ' ' || repeat('x', 1000000) FROM generate_series(1, 3) i`)
		}},
		{"mysql", func(t *testing.T) string {
			requireMySQL(t)
			return mysqlDB(t, "CREATE TABLE ho_so (ghi_chu LONGTEXT) CHARACTER SET utf8mb4",
				"INSERT INTO ho_so VALUES (CONCAT('Số CCCD: 001099000121 ', REPEAT('x', 1000000))), "+
					"(CONCAT('Số CCCD: 001099000122 ', REPEAT('x', 1000000))), (CONCAT('Số CCCD: 001099000123 ', REPEAT('x', 1000000)))")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Scan(t.Context(), tt.dsn(t), testOpts())
			if err != nil {
				t.Fatal(err)
			}
			// 4096 characters of at most 4 bytes, and the label "ghi chu:\t" and a line break
			// a value.
			if max := int64(rows * (4096*4 + len("ghi chu:\t\n"))); rep.Bytes > max {
				t.Errorf("%d bytes read of %d values, want at most %d", rep.Bytes, rows, max)
			}
			if got := strings.Join(found(rep), "\n"); !strings.Contains(got, "ho_so.ghi_chu vn.citizen_id") {
				t.Errorf("the citizen IDs in the first 4 KB were not found: %s", got)
			}
		})
	}
}
