//go:build unix

package data

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/inventory"
)

// TestScanFileSwappedForFIFO replaces a file, after it was listed as regular and before it is
// opened, by a FIFO nobody writes to: the scan must pass it over with a reason instead of
// waiting forever for a writer. Both ways in are tried: a file: location under the data roots
// (os.Root) and a path the CLI names (ScanPath).
func TestScanFileSwappedForFIFO(t *testing.T) {
	tests := []struct {
		name string
		scan func(ctx context.Context, dir string, opts Options) (Report, error)
	}{
		{"data root", func(ctx context.Context, dir string, opts Options) (Report, error) {
			roots, err := NewRoots(dir)
			if err != nil {
				return Report{}, err
			}
			rep, refused, err := roots.Scan(ctx, inventory.Resource{ID: "file:" + dir}, opts)
			if refused != nil {
				return rep, errors.New(refused.EN)
			}
			return rep, err
		}},
		{"path", ScanPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string][]byte{"a.txt": []byte("Số CCCD: 001099000123\n"), "b.txt": []byte("hello\n")})
			fifo := filepath.Join(dir, "b.txt")
			opts := testOpts()
			opts.Workers = 1 // a.txt, then the swap, then b.txt
			swapped := false
			opts.Progress = func(done, total int64) {
				if swapped {
					return
				}
				swapped = true
				if err := os.Remove(fifo); err != nil {
					t.Error(err)
				}
				if err := syscall.Mkfifo(fifo, 0o644); err != nil {
					t.Error(err)
				}
			}
			type result struct {
				rep Report
				err error
			}
			done := make(chan result, 1)
			go func() {
				rep, err := tt.scan(t.Context(), dir, opts)
				done <- result{rep, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(time.Minute): // a watchdog, not a measure: the scan hangs
				if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
					f.Close() // let the blocked open return so the test can end
				}
				<-done
				t.Fatal("the scan blocked opening a FIFO swapped in for a listed file")
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			if !swapped {
				t.Fatal("no file was scanned before b.txt")
			}
			var reason string
			for _, s := range r.rep.Skipped {
				if filepath.Base(s.Path) == "b.txt" {
					reason = s.Reason
				}
			}
			if !strings.Contains(reason, "not a regular file") {
				t.Errorf("b.txt skipped for %q, want a FIFO refused as not a regular file (skips %v)", reason, r.rep.Skipped)
			}
			if got := strings.Join(found(r.rep), ","); !strings.Contains(got, "vn.citizen_id") {
				t.Errorf("a.txt was not scanned: %s", got)
			}
		})
	}
}
