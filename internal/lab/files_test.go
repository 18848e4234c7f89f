package lab

import (
	"errors"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/khien-vn/khien/internal/errs"
)

func TestFileLimitArithmetic(t *testing.T) {
	base := FilesNeeded(0)
	tests := []struct {
		limit uint64
		want  int
	}{
		{0, 0},
		{base, 0},
		{base + 1, 0},
		{base + 2, 1},
		{base + 2*9456 + 1, 9456},
		{20000, int(20000-base) / 2},
		{1 << 20, MaxHosts}, // the addresses run out before the descriptors
	}
	for _, tt := range tests {
		got := MaxHostsFor(tt.limit)
		if got != tt.want {
			t.Errorf("MaxHostsFor(%d) = %d, want %d", tt.limit, got, tt.want)
		}
		if got > 0 && FilesNeeded(got) > tt.limit {
			t.Errorf("MaxHostsFor(%d) = %d hosts, which need %d files", tt.limit, got, FilesNeeded(got))
		}
		if got < MaxHosts && FilesNeeded(got+1) <= tt.limit {
			t.Errorf("MaxHostsFor(%d) = %d, but %d hosts fit too", tt.limit, got, got+1)
		}
	}
	if got, want := FilesNeeded(10000), base+20000; got != want {
		t.Errorf("FilesNeeded(10000) = %d, want %d", got, want)
	}
	if FilesNeeded(-1) != base {
		t.Errorf("FilesNeeded(-1) = %d, want %d", FilesNeeded(-1), base)
	}
}

func TestFileLimitError(t *testing.T) {
	err := fileLimitError(10000, 20000)
	if !errors.Is(err, ErrFileLimit) || errs.KindOf(err) != errs.Invalid {
		t.Fatalf("fileLimitError = %v (kind %v), want ErrFileLimit of kind invalid", err, errs.KindOf(err))
	}
	fit := MaxHostsFor(20000)
	for _, says := range []string{
		"10000 máy",             // Vietnamese first
		"10000 benchmark hosts", // then English
		"21088 open files",      // what they need
		"the limit is 20000",    // what there is
		"start at most 9456",    // what fits
		"ulimit -Hn 21088",      // how to make room
		"LimitNOFILE=21088",     //
		"2 listeners each",      // why
	} {
		if !strings.Contains(err.Error(), says) {
			t.Errorf("fileLimitError(10000, 20000) = %q, does not say %q", err, says)
		}
	}
	if fit != 9456 {
		t.Errorf("MaxHostsFor(20000) = %d; the messages above assume 9456", fit)
	}
}

// TestFilesFixedHolds starts a lab and counts the descriptors it opens, so that filesFixed and
// filesPerBenchHost stay true as servers are added to the lab.
func TestFilesFixedHolds(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts /proc/self/fd")
	}
	open := func() int {
		t.Helper()
		fds, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(fds)
	}
	counts := map[int]int{}
	for _, hosts := range []int{0, 3} {
		before := open()
		l, err := Start(t.Context(), Config{Prefix: netip.MustParsePrefix("127.203.0.0/16"), Hosts: hosts})
		if err != nil && os.Getenv("CI") != "true" && (errors.Is(err, ErrPrivileged) || errors.Is(err, syscall.EADDRINUSE)) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		counts[hosts] = open() - before
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if counts[0] > filesFixed {
		t.Errorf("a lab without benchmark hosts holds %d descriptors; filesFixed says %d", counts[0], filesFixed)
	}
	if got := counts[3] - counts[0]; got != 3*filesPerBenchHost {
		t.Errorf("3 benchmark hosts hold %d descriptors; filesPerBenchHost says %d each", got, filesPerBenchHost)
	}
}
