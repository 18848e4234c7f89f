// Package vulntest gives tests the vulnerability feeds of internal/vuln/testdata (an OSV
// export and a CISA KEV catalog), read as `khien feeds import` reads them.
package vulntest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/khien-vn/khien/internal/vuln"
)

// Index returns the index of the test feeds, failing t if they cannot be read.
func Index(t testing.TB) *vuln.Index {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "testdata")
	o, err := os.Open(filepath.Join(dir, "osv.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	advs, err := vuln.ParseOSV(o)
	if err != nil {
		t.Fatal(err)
	}
	k, err := os.Open(filepath.Join(dir, "kev.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	_, kev, err := vuln.ParseKEV(k)
	if err != nil {
		t.Fatal(err)
	}
	return vuln.NewIndex(advs, kev)
}
