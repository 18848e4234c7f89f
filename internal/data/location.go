package data

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// Roots are the directories under which the server and its workers read file: locations
// (khien serve --data-root, khien worker --data-root). There are none by default: a server
// reads no file until its operator names a directory, just as it sends no packet outside its
// network fence. A location is read through an os.Root opened on its data root, so neither a
// ".." nor a symbolic link, even one swapped in while the scan runs, reaches a file outside it.
type Roots struct {
	dirs []string
}

// NewRoots checks that every dir is an absolute path to an existing directory and returns
// them, cleaned, as the data roots.
func NewRoots(dirs ...string) (Roots, error) {
	var rs Roots
	for _, d := range dirs {
		if !filepath.IsAbs(d) {
			return Roots{}, errs.Field("data-root", "%q is not an absolute path; give the directory as /path/to/dir", d)
		}
		d = filepath.Clean(d)
		fi, err := os.Stat(d)
		if err != nil {
			return Roots{}, errs.Wrap(errs.Invalid, err, "data root %s cannot be read; give an existing directory", d)
		}
		if !fi.IsDir() {
			return Roots{}, errs.E(errs.Invalid, "data root %s is not a directory", d)
		}
		if !slices.Contains(rs.dirs, d) {
			rs.dirs = append(rs.dirs, d)
		}
	}
	return rs, nil
}

// Dirs returns the data roots.
func (rs Roots) Dirs() []string { return slices.Clone(rs.dirs) }

// locate returns the innermost data root holding the clean absolute path p, and p relative
// to it; ok is false when p lies under none. The comparison is lexical: symbolic links are
// the os.Root's to refuse.
func (rs Roots) locate(p string) (root, rel string, ok bool) {
	for _, d := range rs.dirs {
		r, err := filepath.Rel(d, p)
		if err != nil || !filepath.IsLocal(r) {
			continue
		}
		if !ok || len(d) > len(root) {
			root, rel, ok = d, r, true
		}
	}
	return root, rel, ok
}

// refusal is why a file location was not read, in both languages.
func refusal(vi, en string, a ...any) *check.Text {
	return &check.Text{VI: fmt.Sprintf(vi, a...), EN: fmt.Sprintf(en, a...)}
}

// Scan reads the file: location r under the data roots, naming places relative to the
// location (a directory's files by their path inside it, a single file by its name). When
// the location may not be read — no data roots, a path outside all of them, a symbolic link
// leading out, a path that climbs with "..", a location that is not there — it reads
// nothing and returns the reason as refused; err is for a scan that failed once begun.
func (rs Roots) Scan(ctx context.Context, r inventory.Resource, opts Options) (rep Report, refused *check.Text, err error) {
	if r.Kind() != inventory.KindFile {
		return Report{}, nil, errs.E(errs.Invalid, "%s is not a file location (file:)", r.ID)
	}
	p := r.Value()
	// The inventory normalizes identifiers, but a resource can be built by other code: judge
	// the path itself before any comparison.
	if !strings.HasPrefix(p, "/") || strings.ContainsRune(p, 0) || slices.Contains(strings.Split(p, "/"), "..") {
		return Report{}, refusal(
			"%s không phải đường dẫn tuyệt đối gọn (bắt đầu bằng /, không có \"..\"); không đọc.",
			"%s is not a clean absolute path (starting with /, without \"..\"); not read.", r.ID), nil
	}
	p = filepath.Clean(p)
	if len(rs.dirs) == 0 {
		return Report{}, refusal(
			"Máy chủ chưa được phép đọc vị trí tệp nào nên không đọc %s: khởi động khien serve và khien worker với --data-root THƯ_MỤC chứa vị trí này.",
			"The server may read no file location, so %s was not read: start khien serve and khien worker with --data-root DIR covering it.", r.ID), nil
	}
	dir, rel, ok := rs.locate(p)
	if !ok {
		return Report{}, refusal(
			"%s nằm ngoài mọi thư mục gốc dữ liệu được phép (%s); không đọc. Đăng ký vị trí bên trong một thư mục gốc, hoặc thêm --data-root.",
			"%s is outside every allowed data root (%s); not read. Register a location inside a data root, or add a --data-root.",
			r.ID, strings.Join(rs.dirs, ", ")), nil
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return Report{}, &check.Text{VI: fmt.Sprintf("Không mở được thư mục gốc dữ liệu %s: %s.", dir, fileErrVI(err)),
			EN: fmt.Sprintf("Cannot open the data root %s: %v.", dir, err)}, nil
	}
	defer root.Close()
	fi, err := root.Stat(rel)
	if err != nil {
		if escapes(dir, p) {
			return Report{}, refusal(
				"%s dẫn ra ngoài thư mục gốc dữ liệu %s qua liên kết tượng trưng; không đọc.",
				"%s leads out of the data root %s through a symbolic link; not read.", r.ID, dir), nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			return Report{}, refusal("%s không tồn tại trong thư mục gốc dữ liệu %s.", "%s does not exist in the data root %s.", r.ID, dir), nil
		}
		return Report{}, &check.Text{VI: fmt.Sprintf("Không đọc được %s: %s.", r.ID, fileErrVI(err)),
			EN: fmt.Sprintf("Cannot read %s: %v.", r.ID, pathErr(err))}, nil
	}
	opts = opts.withDefaults()
	rep = Report{Source: r.ID, Started: opts.Now().UTC()}
	var t tree
	switch {
	case fi.IsDir():
		sub, err := root.OpenRoot(rel)
		if err != nil {
			return Report{}, &check.Text{VI: fmt.Sprintf("Không mở được thư mục %s: %s.", r.ID, fileErrVI(err)),
				EN: fmt.Sprintf("Cannot open the directory %s: %v.", r.ID, pathErr(err))}, nil
		}
		defer sub.Close()
		t = tree{fsys: sub.FS(), open: rootOpener(sub), name: func(rel string) string { return rel }}
	case fi.Mode().IsRegular():
		base := path.Base(filepath.ToSlash(rel))
		t = tree{fsys: root.FS(), open: rootOpener(root), file: filepath.ToSlash(rel), size: fi.Size(), name: func(string) string { return base }}
	default:
		return Report{}, refusal("%s không phải tệp thường hay thư mục; không đọc.", "%s is neither a regular file nor a directory; not read.", r.ID), nil
	}
	rep, err = t.scan(ctx, rep, opts)
	return rep, nil, err
}

// escapes reports whether p, resolved through its symbolic links, lies outside dir (also
// resolved). It only words the refusal; the os.Root is what enforces it.
func escapes(dir, p string) bool {
	rd, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false
	}
	rp, err := filepath.EvalSymlinks(p)
	if err != nil {
		// A dangling link, or a link to something the server cannot see: follow the first
		// link by hand so that a link out of the root is still named as one.
		target, lerr := os.Readlink(p)
		if lerr != nil {
			return false
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p), target)
		}
		rp = filepath.Clean(target)
	}
	rel, err := filepath.Rel(rd, rp)
	return err != nil || !filepath.IsLocal(rel)
}

// pathErr drops the operation and path of a *fs.PathError, which would repeat the location.
// fileErrVI says in Vietnamese why a file or directory could not be read; the English
// reason keeps the system's own words.
func fileErrVI(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "không tồn tại"
	case errors.Is(err, fs.ErrPermission):
		return "máy chủ Khiên không có quyền đọc"
	case errors.Is(err, syscall.ENOTDIR):
		return "một phần của đường dẫn không phải thư mục"
	case errors.Is(err, syscall.ELOOP):
		return "đường dẫn có liên kết tượng trưng vòng lặp hoặc trỏ ra ngoài"
	}
	return "lỗi hệ thống tệp (chi tiết trong phần tiếng Anh)"
}

func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
