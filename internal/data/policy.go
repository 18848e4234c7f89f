package data

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/detect"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// The two checks of the data-security policy. Their catalog entries are in
// internal/check/catalog/datasec.yaml.
const (
	// CheckTestEnvRealData fails when personal data or markings are found in a system at the
	// build or test stage, or marked as a test environment: test data must be masked.
	CheckTestEnvRealData = "data.test_env.real_data"
	// CheckClassifiedMisplaced fails when state-secret markings are found in a system that is
	// not cleared for state secrets (its data classes lack state_secret).
	CheckClassifiedMisplaced = "data.classified.misplaced"
)

// maxEvidencePlaces bounds the places kept in a result's evidence; the counts cover them all.
const maxEvidencePlaces = 25

// TestEnvironment reports whether sys is a test environment: at the build or test stage, or
// named or described as one (test, staging, UAT, thử nghiệm, kiểm thử).
func TestEnvironment(sys inventory.System) bool {
	if sys.Stage == inventory.StageBuild || sys.Stage == inventory.StageTest {
		return true
	}
	words := strings.ToLower(sys.ID + " " + sys.Name + " " + sys.Purpose)
	for _, w := range []string{"staging", "uat", "sandbox", "thử nghiệm", "kiểm thử", "thu nghiem", "kiem thu", "test"} {
		if strings.Contains(words, w) {
			return true
		}
	}
	return false
}

// ClearedForStateSecrets reports whether sys may hold state secrets.
func ClearedForStateSecrets(sys inventory.System) bool {
	return slices.Contains(sys.DataClasses, inventory.DataStateSecret)
}

// placeEvidence is what a result keeps of one place.
type placeEvidence struct {
	Location   string  `json:"location"`
	Detector   string  `json:"detector"`
	Count      int     `json:"count"`
	Distinct   int     `json:"distinct"`
	Confidence float64 `json:"confidence"`
	Sample     string  `json:"sample"`
	Hash       string  `json:"hash"`
}

func evidenceOf(ps []Place) []placeEvidence {
	out := make([]placeEvidence, 0, min(len(ps), maxEvidencePlaces))
	for _, p := range ps[:min(len(ps), maxEvidencePlaces)] {
		out = append(out, placeEvidence{p.Location, p.Detector, p.Count, p.Distinct, p.Confidence, p.Sample, p.Hash})
	}
	return out
}

// Observation is what the policy checks judge: one scan of a resource and its system.
type Observation struct {
	Resource string
	System   inventory.System
	Report   Report
	// Refused, when set, says why the resource was not read (a file location outside the
	// data roots): both checks report it as an error, not a pass.
	Refused *check.Text
	// Roots are the data roots a refusal was judged against, kept as evidence.
	Roots []string
}

// refusedResult is the error a check reports on a location it was not allowed to read.
func refusedResult(id string, o Observation) check.Result {
	return check.Result{Check: id, Endpoint: o.Resource, Status: check.Error, Reason: *o.Refused,
		Evidence: map[string]any{"not_read": o.Refused.EN, "system": o.System.ID, "data_roots": o.Roots}}
}

// EvaluateTestEnv is the check data.test_env.real_data over one observation.
func EvaluateTestEnv(o Observation) check.Result {
	if o.Refused != nil {
		return refusedResult(CheckTestEnvRealData, o)
	}
	res := check.Result{Check: CheckTestEnvRealData, Endpoint: o.Report.Source, Evidence: baseEvidence(o)}
	if !TestEnvironment(o.System) {
		res.Status = check.NotApplicable
		res.Reason = check.Text{
			VI: fmt.Sprintf("Hệ thống %s ở giai đoạn %s, không phải môi trường thử nghiệm; dữ liệu thật là bình thường ở đây.", o.System.ID, o.System.Stage),
			EN: fmt.Sprintf("System %s is at stage %s, not a test environment; real data is expected there.", o.System.ID, o.System.Stage),
		}
		return res
	}
	var found []Place
	for _, p := range o.Report.Places {
		switch detect.Class(p.Class) {
		case detect.ClassPersonal, detect.ClassStateSecret, detect.ClassInternal:
			if p.Reportable {
				found = append(found, p)
			}
		}
	}
	if len(found) == 0 {
		res.Status = check.Pass
		res.Reason = check.Text{
			VI: fmt.Sprintf("Không phát hiện dữ liệu cá nhân hay dấu chỉ độ mật vượt ngưỡng trong %s của hệ thống thử nghiệm %s.", scanned(o.Report, "vi"), o.System.ID),
			EN: fmt.Sprintf("No personal data or markings above the threshold in %s of test system %s.", scanned(o.Report, "en"), o.System.ID),
		}
		return res
	}
	res.Status = check.Fail
	res.Evidence["places"] = evidenceOf(found)
	res.Evidence["places_found"] = len(found)
	kinds := detectorsOf(found)
	res.Reason = check.Text{
		VI: fmt.Sprintf("Hệ thống %s đang ở giai đoạn %s (môi trường thử nghiệm) nhưng chứa dữ liệu thật: %s ở %d vị trí. Dữ liệu thử nghiệm phải được che (khien data mask).", o.System.ID, o.System.Stage, kinds, len(found)),
		EN: fmt.Sprintf("System %s is at stage %s (a test environment) but holds real data: %s in %d place(s). Test data must be masked (khien data mask).", o.System.ID, o.System.Stage, kinds, len(found)),
	}
	return res
}

// EvaluateClassified is the check data.classified.misplaced over one observation.
func EvaluateClassified(o Observation) check.Result {
	if o.Refused != nil {
		return refusedResult(CheckClassifiedMisplaced, o)
	}
	res := check.Result{Check: CheckClassifiedMisplaced, Endpoint: o.Report.Source, Evidence: baseEvidence(o)}
	var found []Place
	for _, p := range o.Report.Places {
		if detect.Class(p.Class) == detect.ClassStateSecret && p.Reportable {
			found = append(found, p)
		}
	}
	switch {
	case len(found) == 0:
		res.Status = check.Pass
		res.Reason = check.Text{
			VI: fmt.Sprintf("Không phát hiện dấu chỉ độ mật (MẬT, TỐI MẬT, TUYỆT MẬT) trong %s.", scanned(o.Report, "vi")),
			EN: fmt.Sprintf("No state-secret marking (MẬT, TỐI MẬT, TUYỆT MẬT) in %s.", scanned(o.Report, "en")),
		}
	case ClearedForStateSecrets(o.System):
		res.Status = check.Pass
		res.Evidence["places"] = evidenceOf(found)
		res.Reason = check.Text{
			VI: fmt.Sprintf("Có %d vị trí mang dấu chỉ độ mật; hệ thống %s được phép xử lý bí mật nhà nước (lớp dữ liệu state_secret).", len(found), o.System.ID),
			EN: fmt.Sprintf("%d place(s) carry state-secret markings; system %s is cleared for state secrets (data class state_secret).", len(found), o.System.ID),
		}
	default:
		res.Status = check.Fail
		res.Evidence["places"] = evidenceOf(found)
		res.Evidence["places_found"] = len(found)
		res.Reason = check.Text{
			VI: fmt.Sprintf("Phát hiện dấu chỉ độ mật %s ở %d vị trí trên hệ thống %s, vốn không được phép xử lý bí mật nhà nước.", detectorsOf(found), len(found), o.System.ID),
			EN: fmt.Sprintf("Found the state-secret markings %s in %d place(s) on system %s, which is not cleared for state secrets.", detectorsOf(found), len(found), o.System.ID),
		}
	}
	return res
}

func baseEvidence(o Observation) map[string]any {
	return map[string]any{
		"source":         o.Report.Source,
		"system":         o.System.ID,
		"stage":          string(o.System.Stage),
		"files":          o.Report.Files,
		"tables":         o.Report.Tables,
		"columns":        o.Report.Columns,
		"bytes":          o.Report.Bytes,
		"skipped":        len(o.Report.Skipped),
		"test_env":       TestEnvironment(o.System),
		"cleared_secret": ClearedForStateSecrets(o.System),
	}
}

func detectorsOf(ps []Place) string {
	var ids []string
	for _, p := range ps {
		if !slices.Contains(ids, p.Detector) {
			ids = append(ids, p.Detector)
		}
	}
	return strings.Join(ids, ", ")
}

func scanned(r Report, lang string) string {
	if r.Tables > 0 || r.Columns > 0 {
		if lang == "vi" {
			return fmt.Sprintf("%d bảng, %d cột đã lấy mẫu", r.Tables, r.Columns)
		}
		return fmt.Sprintf("%s, %s sampled", plural(r.Tables, "table", "tables"), plural(r.Columns, "column", "columns"))
	}
	if lang == "vi" {
		return fmt.Sprintf("%d tệp đã quét", r.Files)
	}
	return plural(r.Files, "file", "files") + " scanned"
}

// Evaluate judges one observation with both checks, stamping resource and time.
func Evaluate(o Observation, at time.Time) []check.Result {
	out := []check.Result{EvaluateTestEnv(o), EvaluateClassified(o)}
	for i := range out {
		out[i].Resource, out[i].At = o.Resource, at.UTC()
		if out[i].Endpoint == "" {
			out[i].Endpoint = o.Resource
		}
	}
	return out
}

// Credentials returns the user and password to read the database of a db: resource, for use.
type Credentials func(ctx context.Context, resourceID string, use CredentialUse) (user, password string, err error)

// CredentialUse says what credentials are looked up for: an implementation answers an
// ownership proof only with credentials meant for that very host (PassFile skips its '*'
// hosts), since the resource is not yet known to be the agency's.
type CredentialUse int

const (
	// ForScan reads a verified resource: its server is the agency's.
	ForScan CredentialUse = iota
	// ForProof proves ownership of a resource whose server whoever registered it chose.
	ForProof
)

// errWildcardHostOnly is the lookup of an ownership proof that found only lines whose host is
// '*': they serve scans of verified resources, never a proof.
var errWildcardHostOnly = errors.New("only a line with host '*' matches, and an ownership proof uses a line naming the host exactly")

// DatabaseURL turns a db: resource and its credentials into a URL to connect with. A db:
// resource holds no credentials (the inventory refuses them) and names its database by URL.
func DatabaseURL(r inventory.Resource, user, password string) (string, error) {
	if r.Kind() != inventory.KindDB {
		return "", errs.E(errs.Invalid, "%s is not a database resource (db:)", r.ID)
	}
	v := r.Value()
	if !strings.Contains(v, "://") {
		return "", errs.E(errs.Invalid, "%s names no database URL; register it as db:postgres://host/name or db:mysql://host/name", r.ID)
	}
	u, err := url.Parse(v)
	if err != nil {
		return "", errs.Wrap(errs.Invalid, err, "%s is not a database URL", r.ID)
	}
	if user != "" {
		if password != "" {
			u.User = url.UserPassword(user, password)
		} else {
			u.User = url.User(user)
		}
	}
	return u.String(), nil
}

// ScanResource scans the database of a db: resource and judges it with both policy checks. The
// server runs it as a job; opts.Dial should be the scope guard's dialer for r.
func ScanResource(ctx context.Context, r inventory.Resource, sys inventory.System, creds Credentials, opts Options) ([]check.Result, error) {
	var user, pass string
	if creds != nil {
		var err error
		if user, pass, err = creds(ctx, r.ID, ForScan); err != nil {
			return nil, err
		}
	}
	dsn, err := DatabaseURL(r, user, pass)
	if err != nil {
		return nil, err
	}
	rep, err := Scan(ctx, dsn, opts)
	if err != nil {
		return nil, err
	}
	return Evaluate(Observation{Resource: r.ID, System: sys, Report: rep}, time.Now()), nil
}

// ScanLocation scans a registered file location (a directory or file the server or an agent
// can read) of system sys and judges it with both policy checks, reported under resourceID.
func ScanLocation(ctx context.Context, resourceID, path string, sys inventory.System, opts Options) ([]check.Result, error) {
	rep, err := ScanPath(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	return Evaluate(Observation{Resource: resourceID, System: sys, Report: rep}, time.Now()), nil
}

// FamilyConfig configures the data-security family.
type FamilyConfig struct {
	// System looks up a resource's system (stage, data classes). Without it the family reports
	// every check as an error saying so.
	System func(ctx context.Context, id string) (inventory.System, error)
	// Credentials for the databases; nil connects without a password (peer or trust auth).
	Credentials Credentials
	// Roots are the directories file: locations may be read under; with none, every file:
	// resource reports an error saying so.
	Roots      Roots
	Key        []byte
	SampleRows int
}

// SecFamily is the data-security family. It is a check.Family whose authority depends on
// the resource: see ActiveFor.
type SecFamily struct {
	check.Family[Observation]
}

// ActiveFor reports whether assessing r needs the authority of an active probe. A database
// is sampled over the network through the scope guard, which needs a verified resource. A
// file location is read on Khiên's own host, only under the data roots its operator named:
// those roots are the consent, and an administrator's assignment of the resource to a
// system suffices, as ownership of a path cannot be proven by DNS or HTTP.
func (SecFamily) ActiveFor(r inventory.Resource) bool { return r.Kind() != inventory.KindFile }

// Family returns the data-security check family over db: and file: resources: it samples a
// database through the scope-guarded dialer of its environment, or reads a file location
// under cfg.Roots, and judges what it finds with data.test_env.real_data and
// data.classified.misplaced.
func Family(cfg FamilyConfig) SecFamily {
	return SecFamily{check.Family[Observation]{
		Name:   "datasec",
		Active: true,
		Applies: func(r inventory.Resource) bool {
			return r.Kind() == inventory.KindDB || r.Kind() == inventory.KindFile
		},
		Observe: func(ctx context.Context, r inventory.Resource, env check.Env) (Observation, error) {
			if cfg.System == nil {
				return Observation{}, fmt.Errorf("no inventory lookup configured for the data-security family")
			}
			sys, err := cfg.System(ctx, r.System)
			if err != nil {
				return Observation{}, err
			}
			opts := Options{Key: cfg.Key, SampleRows: cfg.SampleRows, Dial: env.Dial, Now: env.Now}
			if r.Kind() == inventory.KindFile {
				rep, refused, err := cfg.Roots.Scan(ctx, r, opts)
				if err != nil {
					return Observation{}, err
				}
				return Observation{Resource: r.ID, System: sys, Report: rep, Refused: refused, Roots: cfg.Roots.Dirs()}, nil
			}
			var user, pass string
			if cfg.Credentials != nil {
				if user, pass, err = cfg.Credentials(ctx, r.ID, ForScan); err != nil {
					return Observation{}, err
				}
			}
			dsn, err := DatabaseURL(r, user, pass)
			if err != nil {
				return Observation{}, err
			}
			rep, err := Scan(ctx, dsn, opts)
			if err != nil {
				return Observation{}, err
			}
			return Observation{Resource: r.ID, System: sys, Report: rep}, nil
		},
		Checks: []check.Check[Observation]{
			{ID: CheckTestEnvRealData, Evaluate: EvaluateTestEnv},
			{ID: CheckClassifiedMisplaced, Evaluate: EvaluateClassified},
		},
	}}
}

// PassFile reads credentials in the libpq password-file format, one
// host:port:database:user:password per line ('*' matches anything, '#' starts a comment),
// for PostgreSQL and MySQL resources alike. The first matching line wins. For an ownership
// proof (ForProof) a line whose host is '*' is passed over: the proof
// connects to whatever server an unverified resource names, and a "*:*:hoso:khien:pw" line
// would hand that server the agency's password.
func PassFile(path string) (Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "cannot read the password file %s", path)
	}
	defer f.Close()
	type entry struct{ host, port, db, user, pass string }
	var entries []entry
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		fields := splitPass(t)
		if len(fields) != 5 {
			return nil, errs.E(errs.Invalid, "%s:%d: want host:port:database:user:password", path, line)
		}
		entries = append(entries, entry{fields[0], fields[1], fields[2], fields[3], fields[4]})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return func(_ context.Context, id string, use CredentialUse) (string, string, error) {
		r := inventory.Resource{ID: id}
		u, err := url.Parse(r.Value())
		if err != nil {
			return "", "", errs.Wrap(errs.Invalid, err, "%s is not a database URL", id)
		}
		port := u.Port()
		if port == "" {
			port = map[string]string{"postgres": "5432", "mysql": "3306"}[u.Scheme]
		}
		db := strings.Trim(u.Path, "/")
		match := func(pattern, v string) bool { return pattern == "*" || pattern == v }
		strict, wildcard := use == ForProof, false
		for _, e := range entries {
			if !match(e.host, u.Hostname()) || !match(e.port, port) || !match(e.db, db) {
				continue
			}
			if strict && e.host != u.Hostname() {
				wildcard = true
				continue
			}
			return e.user, e.pass, nil
		}
		if wildcard {
			return "", "", errs.Wrap(errs.NotFound, errWildcardHostOnly, "no credentials for %s in the password file: %v", id, errWildcardHostOnly)
		}
		return "", "", errs.E(errs.NotFound, "no credentials for %s in the password file", id)
	}, nil
}

// splitPass splits a password-file line at unescaped colons.
func splitPass(s string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case s[i] == ':':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	return append(out, cur.String())
}
