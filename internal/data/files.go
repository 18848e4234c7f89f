package data

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/khien-vn/khien/internal/detect"
	"github.com/khien-vn/khien/internal/errs"
)

// doc is the text of one file or archive entry, ready for the detectors. lineMap, when set,
// maps a line of text to the line of the original (a CSV record may span lines); hasLines
// is false for formats whose text has no lines of its own (DOCX, PDF, HTML).
type doc struct {
	name     string
	text     []byte
	hasLines bool
	lineMap  []int
}

// ScanPath scans a file or a directory tree: text, CSV, JSON, XML, HTML, DOCX, XLSX, PPTX,
// PDF text, and ZIP, TAR and GZ archives recursively within the size and depth limits.
// Symbolic links are not followed and .git directories are not read.
func ScanPath(ctx context.Context, root string, opts Options) (Report, error) {
	opts = opts.withDefaults()
	rep := Report{Source: root, Started: opts.Now().UTC()}
	fi, err := os.Stat(root)
	if err != nil {
		return rep, errs.Wrap(errs.Invalid, err, "cannot read %s: give an existing file or directory, or a postgres:// or mysql:// URL", root)
	}
	t := tree{fsys: os.DirFS(root), open: dirOpener(root), name: func(rel string) string { return filepath.Join(root, filepath.FromSlash(rel)) }}
	if !fi.IsDir() {
		dir := filepath.Dir(root)
		t = tree{fsys: os.DirFS(dir), open: dirOpener(dir), file: filepath.Base(root), size: fi.Size(), name: func(string) string { return root }}
	}
	return t.scan(ctx, rep, opts)
}

// tree is what one scan reads: a directory tree of fsys walked from ".", or the one regular
// file named file in it, and how its paths are written in places (name).
type tree struct {
	fsys fs.FS
	// open opens a file of fsys by its slash-separated path for reading without blocking
	// (see openFlags): a file listed as regular may be a FIFO by the time it is opened.
	open func(rel string) (*os.File, error)
	file string // a single file instead of the tree
	size int64  // of file
	name func(rel string) string
}

// openFlags open a file for reading without waiting: opening a FIFO blocks until a writer
// comes, which would hang the scan whatever its context says. The open handle is checked to
// be a regular file before a byte is read.
const openFlags = os.O_RDONLY | openNonblock

// dirOpener opens the files under dir (ScanPath, which reads what its caller names).
func dirOpener(dir string) func(string) (*os.File, error) {
	return func(rel string) (*os.File, error) {
		return os.OpenFile(filepath.Join(dir, filepath.FromSlash(rel)), openFlags, 0)
	}
}

// rootOpener opens the files under root, which refuses any path leading out of it.
func rootOpener(root *os.Root) func(string) (*os.File, error) {
	return func(rel string) (*os.File, error) {
		return root.OpenFile(filepath.FromSlash(rel), openFlags, 0)
	}
}

// scan walks t and scans its files, Workers at a time, into rep. Only regular files are
// read: symbolic links, devices and sockets are passed over, whatever they point at.
func (t tree) scan(ctx context.Context, rep Report, opts Options) (Report, error) {
	type job struct {
		rel  string
		size int64
	}
	var jobs []job
	var total int64
	if t.file != "" {
		jobs = append(jobs, job{t.file, t.size})
		total = t.size
	} else {
		err := fs.WalkDir(t.fsys, ".", func(rel string, d fs.DirEntry, err error) error {
			if err := ctx.Err(); err != nil {
				return err // a cancelled scan stops walking
			}
			if err != nil {
				rep.Skipped = append(rep.Skipped, Skip{Path: t.name(rel), Reason: err.Error()})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			name := d.Name()
			if d.IsDir() {
				if rel != "." && (name == ".git" || strings.HasPrefix(name, ".") && !opts.FollowHidden) {
					return fs.SkipDir
				}
				return nil
			}
			if strings.HasPrefix(name, ".") && !opts.FollowHidden && !isConfigDotFile(name) {
				return nil
			}
			if !d.Type().IsRegular() {
				return nil // symbolic links, devices, sockets
			}
			info, err := d.Info()
			if err != nil {
				rep.Skipped = append(rep.Skipped, Skip{Path: t.name(rel), Reason: err.Error()})
				return nil
			}
			jobs = append(jobs, job{rel, info.Size()})
			total += info.Size()
			return nil
		})
		if err != nil {
			return rep, err
		}
	}
	var (
		mu   sync.Mutex
		done int64
		wg   sync.WaitGroup
		work = make(chan job)
	)
	for range min(opts.Workers, max(1, len(jobs))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				places, skips, n := scanFile(t.open, j.rel, t.name(j.rel), opts)
				mu.Lock()
				rep.Places = append(rep.Places, places...)
				rep.Skipped = append(rep.Skipped, skips...)
				rep.Files++
				rep.Bytes += n
				done += j.size
				if opts.Progress != nil {
					opts.Progress(done, total)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, j := range jobs {
		if ctx.Err() != nil {
			break // select picks at random among ready cases: do not start one more file
		}
		select {
		case work <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	sortPlaces(rep.Places)
	rep.Finished = opts.Now().UTC()
	return rep, nil
}

// isConfigDotFile keeps the dot-files that hold secrets in practice.
func isConfigDotFile(name string) bool {
	switch name {
	case ".env", ".npmrc", ".pgpass", ".my.cnf", ".netrc", ".git-credentials", ".dockercfg", ".htpasswd":
		return true
	}
	return strings.HasPrefix(name, ".env.")
}

// scanFile reads the file rel through open and scans it under name; it returns the places,
// the skips and the bytes of text scanned.
func scanFile(open func(string) (*os.File, error), rel, name string, opts Options) ([]Place, []Skip, int64) {
	b, err := readFile(open, rel, opts.MaxFileSize)
	if err != nil {
		return nil, []Skip{{Path: name, Reason: err.Error()}}, 0
	}
	s := &scanner{opts: opts}
	s.content(name, b, 0)
	return s.places, s.skips, s.bytes
}

// readFile reads rel through open, at most limit bytes. The file was listed as regular, but
// it is judged again on the open handle: what was listed may since have been replaced by a
// FIFO or a device, and the size that counts is the one of what is open. A file that grew
// since it was checked is cut at the limit rather than read whole.
func readFile(open func(string) (*os.File, error), rel string, limit int64) ([]byte, error) {
	f, err := open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s) when opened; not read", fi.Mode().Type())
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("larger than the limit of %d bytes", limit)
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

// scanner holds the state of one top-level file: its places, skips and the archive budget.
type scanner struct {
	opts     Options
	places   []Place
	skips    []Skip
	bytes    int64
	expanded int64
	entries  int
}

func (s *scanner) skip(name, format string, a ...any) {
	s.skips = append(s.skips, Skip{Path: name, Reason: fmt.Sprintf(format, a...)})
}

// content dispatches on the format of b, recursing into archives.
func (s *scanner) content(name string, b []byte, depth int) {
	lower := strings.ToLower(name)
	switch {
	case bytes.HasPrefix(b, []byte("PK\x03\x04")) || bytes.HasPrefix(b, []byte("PK\x05\x06")):
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			s.skip(name, "not a readable ZIP file: %v", err)
			return
		}
		if d, ok := s.officeText(name, zr); ok {
			s.scanDoc(d)
			return
		}
		s.zip(name, zr, depth)
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		if depth >= s.opts.MaxDepth {
			s.skip(name, "archive nested deeper than %d levels", s.opts.MaxDepth)
			return
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			s.skip(name, "not a readable gzip file: %v", err)
			return
		}
		data, err := s.readLimited(name, zr)
		if err != nil {
			s.skip(name, "%v", err)
			return
		}
		base := filepath.Base(strings.ReplaceAll(name, "!", "/"))
		inner := strings.TrimSuffix(strings.TrimSuffix(base, ".gz"), ".GZ")
		if strings.HasSuffix(lower, ".tgz") {
			inner = base[:len(base)-4] + ".tar"
		}
		s.content(name+"!"+inner, data, depth+1)
	case isTar(b):
		s.tar(name, b, depth)
	case bytes.HasPrefix(b, []byte("%PDF-")):
		text := pdfText(b, s.opts.MaxFileSize)
		s.scanDoc(doc{name: name, text: text})
	case hasExt(lower, ".html", ".htm", ".xhtml"):
		s.scanDoc(doc{name: name, text: htmlText(b)})
	case hasExt(lower, ".csv", ".tsv"):
		d, cut := csvDoc(name, b, s.opts.MaxFileSize)
		if cut {
			s.skip(name, "labelled text past the limit of %d bytes; the records after it are not scanned", s.opts.MaxFileSize)
		}
		s.scanDoc(d)
	default:
		if u, ok := utf16Text(b); ok {
			b = u
		} else if isBinary(b) {
			s.skip(name, "binary content of no format read")
			return
		}
		s.scanDoc(doc{name: name, text: b, hasLines: true})
	}
}

func hasExt(lower string, exts ...string) bool {
	for _, e := range exts {
		if strings.HasSuffix(lower, e) {
			return true
		}
	}
	return false
}

// isTar recognizes a POSIX or GNU tar header.
func isTar(b []byte) bool {
	return len(b) >= 512 && (bytes.Equal(b[257:262], []byte("ustar")))
}

// isBinary reports whether b looks like binary content: a NUL byte in its first 8 KiB.
func isBinary(b []byte) bool {
	return bytes.IndexByte(b[:min(len(b), 8192)], 0) >= 0
}

var errTooLarge = errors.New("larger than the size limit")

// readLimited reads r within the file-size limit and the archive's expansion budget.
func (s *scanner) readLimited(name string, r io.Reader) ([]byte, error) {
	limit := min(s.opts.MaxFileSize, s.opts.MaxExpanded-s.expanded)
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	s.expanded += int64(len(b))
	if err != nil {
		return nil, fmt.Errorf("cannot expand: %v", err)
	}
	if int64(len(b)) > limit {
		if limit < s.opts.MaxFileSize {
			return nil, fmt.Errorf("archive expands past the limit of %d bytes; the rest is not read", s.opts.MaxExpanded)
		}
		return nil, fmt.Errorf("entry %w of %d bytes", errTooLarge, s.opts.MaxFileSize)
	}
	return b, nil
}

func (s *scanner) zip(name string, zr *zip.Reader, depth int) {
	if depth >= s.opts.MaxDepth {
		s.skip(name, "archive nested deeper than %d levels", s.opts.MaxDepth)
		return
	}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		entry := name + "!" + f.Name
		if s.entries++; s.entries > s.opts.MaxEntries {
			s.skip(name, "more than %d archive entries; the rest are not read", s.opts.MaxEntries)
			return
		}
		if s.expanded >= s.opts.MaxExpanded {
			s.skip(name, "archive expands past the limit of %d bytes; the rest is not read", s.opts.MaxExpanded)
			return
		}
		rc, err := f.Open()
		if err != nil {
			s.skip(entry, "%v", err)
			continue
		}
		b, err := s.readLimited(entry, rc)
		rc.Close()
		if err != nil {
			s.skip(entry, "%v", err)
			continue
		}
		s.content(entry, b, depth+1)
	}
}

func (s *scanner) tar(name string, b []byte, depth int) {
	if depth >= s.opts.MaxDepth {
		s.skip(name, "archive nested deeper than %d levels", s.opts.MaxDepth)
		return
	}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			s.skip(name, "tar: %v", err)
			return
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		entry := name + "!" + h.Name
		if s.entries++; s.entries > s.opts.MaxEntries {
			s.skip(name, "more than %d archive entries; the rest are not read", s.opts.MaxEntries)
			return
		}
		data, err := s.readLimited(entry, tr)
		if err != nil {
			s.skip(entry, "%v", err)
			continue
		}
		s.content(entry, data, depth+1)
	}
}

// scanDoc runs the detectors over one text and records its places.
func (s *scanner) scanDoc(d doc) {
	name := d.name
	s.bytes += int64(len(d.text))
	rep := detect.Scan(d.text, s.opts.Detectors, detect.Options{Key: s.opts.Key})
	s.places = append(s.places, placesOf(rep, s.opts.All, func(f detect.Finding) Place {
		p := Place{Path: name, Location: name}
		if !d.hasLines {
			return p
		}
		for _, smp := range f.Samples {
			p.Lines = append(p.Lines, mapLine(d.lineMap, smp.Line))
		}
		if len(p.Lines) > 0 {
			p.Line = p.Lines[0]
			for _, l := range p.Lines {
				p.Line = min(p.Line, l)
			}
			p.Location = location(name, p.Line)
		}
		return p
	})...)
}

func mapLine(m []int, line int) int {
	if m == nil || line < 1 || line > len(m) {
		return line
	}
	return m[line-1]
}

// ScanText scans one text that came from elsewhere (a page the assessment crawled, a message)
// under the name given, with lines.
func ScanText(name string, text []byte, opts Options) Report {
	opts = opts.withDefaults()
	s := &scanner{opts: opts}
	s.scanDoc(doc{name: name, text: text, hasLines: true})
	now := opts.Now().UTC()
	sortPlaces(s.places)
	return Report{Source: name, Started: now, Finished: now, Files: 1, Bytes: s.bytes, Places: s.places}
}
