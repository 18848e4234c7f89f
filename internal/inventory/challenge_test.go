package inventory

import (
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/errs"
)

func TestChallengeForDatabase(t *testing.T) {
	tests := []struct {
		id              string
		database, value string
		sql             string
		wantErr         string
	}{
		{id: "db:postgres://db.hanoi.gov.vn/hoso", database: "postgres://db.hanoi.gov.vn/hoso", value: "khien-verification=tok",
			sql: `COMMENT ON DATABASE "hoso" IS 'khien-verification=tok';`},
		{id: `db:postgres://127.0.0.1:6543/Ho"So`, database: "postgres://127.0.0.1:6543/Ho%22So", value: "khien-verification=tok",
			sql: `COMMENT ON DATABASE "Ho""So" IS 'khien-verification=tok';`},
		{id: "db:mysql://10.0.0.5:3307/thue", database: "mysql://10.0.0.5:3307/thue", value: "khien-verification=tok",
			sql: "CREATE TABLE khien_verification (token VARCHAR(200) NOT NULL); INSERT INTO khien_verification (token) VALUES ('khien-verification=tok');"},
		{id: "db:hoso", wantErr: "db:hoso names no database URL and cannot be verified"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			id, err := Normalize(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			c, err := ChallengeFor(Resource{ID: id}, "tok")
			if tt.wantErr != "" {
				msg, _ := errs.Message(err)
				if !errs.Is(err, errs.Invalid) || !strings.Contains(msg, tt.wantErr) {
					t.Fatalf("ChallengeFor(%s): %v; want an invalid error saying %q", id, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Database != tt.database || c.DBValue != tt.value || c.DBSQL != tt.sql || c.DNSName != "" || c.HTTPURL != "" {
				t.Errorf("challenge %+v\nwant database %q, value %q, SQL %q and no DNS or HTTP", c, tt.database, tt.value, tt.sql)
			}
		})
	}
}
