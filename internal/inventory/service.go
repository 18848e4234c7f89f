package inventory

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/errs"
)

// Service applies the inventory's rules (validation, the tree stays a tree, a resource belongs
// to one system, scope changes need a reason or a proof) on top of a Store. The API, the CLI
// and the web pages all go through it, so the rules hold whichever door is used.
type Service struct {
	store Store
	now   func() time.Time
	// removed, when set, hears of every system deleted, after the delete succeeded, so
	// that the removal is recorded (the index shows it) without the Store contract knowing.
	removed func(ctx context.Context, sys System) error
}

// OnSystemDeleted sets fn to be called with each system this service deletes, after the
// delete succeeded. The composition root sets it once, before the service is used.
func (s *Service) OnSystemDeleted(fn func(ctx context.Context, sys System) error) { s.removed = fn }

// NewService returns a Service over store; now gives the current time (tests fix it).
func NewService(store Store, now func() time.Time) *Service {
	return &Service{store: store, now: now}
}

// Store returns the underlying store, for read paths that need no rules.
func (s *Service) Store() Store { return s.store }

// Org returns one organization.
func (s *Service) Org(ctx context.Context, code string) (Organization, error) {
	return s.store.Org(ctx, code)
}

// Orgs lists organizations.
func (s *Service) Orgs(ctx context.Context, f OrgFilter) ([]Organization, int, error) {
	f.Page = f.Page.Bounded()
	return s.store.Orgs(ctx, f)
}

// CreateOrg validates and stores a new organization.
func (s *Service) CreateOrg(ctx context.Context, o Organization) (Organization, error) {
	if err := o.Validate(); err != nil {
		return Organization{}, err
	}
	o.Created = s.now().UTC()
	o.Updated = o.Created
	if err := s.store.CreateOrg(ctx, o); err != nil {
		return Organization{}, err
	}
	return s.store.Org(ctx, o.Code)
}

// UpdateOrg validates and replaces an organization, refusing a parent that would make a cycle.
func (s *Service) UpdateOrg(ctx context.Context, o Organization) (Organization, error) {
	if err := o.Validate(); err != nil {
		return Organization{}, err
	}
	if err := s.checkNoCycle(ctx, o.Code, o.Parent); err != nil {
		return Organization{}, err
	}
	o.Updated = s.now().UTC()
	if err := s.store.UpdateOrg(ctx, o); err != nil {
		return Organization{}, err
	}
	return s.store.Org(ctx, o.Code)
}

// checkNoCycle walks up from parent and fails if it meets code.
func (s *Service) checkNoCycle(ctx context.Context, code, parent string) error {
	seen := map[string]bool{code: true}
	path := []string{code}
	for p := parent; p != ""; {
		path = append(path, p)
		if seen[p] {
			return errs.Field("parent", "making %q the parent of %q would create a cycle (%s)", parent, code, strings.Join(path, " → "))
		}
		seen[p] = true
		o, err := s.store.Org(ctx, p)
		if errs.Is(err, errs.NotFound) {
			return errs.Field("parent", "organization %q does not exist", p)
		}
		if err != nil {
			return err
		}
		p = o.Parent
	}
	return nil
}

// DeleteOrg removes an organization that has no children and no systems.
func (s *Service) DeleteOrg(ctx context.Context, code string) error {
	return s.store.DeleteOrg(ctx, code)
}

// System returns one system.
func (s *Service) System(ctx context.Context, id string) (System, error) {
	return s.store.System(ctx, id)
}

// Systems lists systems.
func (s *Service) Systems(ctx context.Context, f SystemFilter) ([]System, int, error) {
	f.Page = f.Page.Bounded()
	return s.store.Systems(ctx, f)
}

// CreateSystem validates and stores a new system; an empty ID gets a generated one.
func (s *Service) CreateSystem(ctx context.Context, sys System) (System, error) {
	if sys.ID == "" {
		sys.ID = "sys-" + strings.ToLower(randomToken(8))
	}
	if err := sys.Validate(); err != nil {
		return System{}, err
	}
	sys.Created = s.now().UTC()
	sys.Updated = sys.Created
	if err := s.store.CreateSystem(ctx, sys); err != nil {
		return System{}, err
	}
	return s.store.System(ctx, sys.ID)
}

// UpdateSystem validates and replaces a system.
func (s *Service) UpdateSystem(ctx context.Context, sys System) (System, error) {
	if err := sys.Validate(); err != nil {
		return System{}, err
	}
	sys.Updated = s.now().UTC()
	if err := s.store.UpdateSystem(ctx, sys); err != nil {
		return System{}, err
	}
	return s.store.System(ctx, sys.ID)
}

// DeleteSystem removes a system that has no resources.
func (s *Service) DeleteSystem(ctx context.Context, id string) error {
	if s.removed == nil {
		return s.store.DeleteSystem(ctx, id)
	}
	sys, err := s.store.System(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteSystem(ctx, id); err != nil {
		return err
	}
	if err := s.removed(ctx, sys); err != nil {
		return fmt.Errorf("system %s was deleted but its removal could not be recorded: %w", id, err)
	}
	return nil
}

// Resource returns one resource by its identifier, normalized first.
func (s *Service) Resource(ctx context.Context, id string) (Resource, error) {
	norm, err := Normalize(id)
	if err != nil {
		return Resource{}, err
	}
	return s.store.Resource(ctx, norm)
}

// Resources lists resources.
func (s *Service) Resources(ctx context.Context, f ResourceFilter) ([]Resource, int, error) {
	f.Page = f.Page.Bounded()
	return s.store.Resources(ctx, f)
}

// CreateResource normalizes and stores a new resource. A resource already registered under
// another system is a conflict that names that system.
func (s *Service) CreateResource(ctx context.Context, r Resource) (Resource, error) {
	if err := r.Validate(); err != nil {
		return Resource{}, err
	}
	if r.Scope == ScopeVerified {
		return Resource{}, errs.Field("scope", "verified is earned by passing the ownership challenge, not set by hand; use assigned with a reason")
	}
	if old, err := s.store.Resource(ctx, r.ID); err == nil {
		return Resource{}, errs.E(errs.Conflict, "resource %s already belongs to system %q", r.ID, old.System)
	}
	r.Created = s.now().UTC()
	r.Updated = r.Created
	if err := s.store.CreateResource(ctx, r); err != nil {
		return Resource{}, err
	}
	return s.store.Resource(ctx, r.ID)
}

// UpdateResource changes a resource's system or scope. Its identifier cannot change: delete
// it and create the new one. Scope cannot be raised to verified by hand, and a verified
// resource keeps its proof unless the scope is lowered.
func (s *Service) UpdateResource(ctx context.Context, r Resource) (Resource, error) {
	if err := r.Validate(); err != nil {
		return Resource{}, err
	}
	old, err := s.store.Resource(ctx, r.ID)
	if err != nil {
		return Resource{}, err
	}
	if r.Scope == ScopeVerified && old.Scope != ScopeVerified {
		return Resource{}, errs.Field("scope", "verified is earned by passing the ownership challenge, not set by hand")
	}
	if r.Scope == ScopeVerified {
		r.ScopeReason, r.VerifiedAt = old.ScopeReason, old.VerifiedAt
	}
	r.VerifyToken = old.VerifyToken
	r.Updated = s.now().UTC()
	if err := s.store.UpdateResource(ctx, r); err != nil {
		return Resource{}, err
	}
	return s.store.Resource(ctx, r.ID)
}

// DeleteResource removes a resource.
func (s *Service) DeleteResource(ctx context.Context, id string) error {
	norm, err := Normalize(id)
	if err != nil {
		return err
	}
	return s.store.DeleteResource(ctx, norm)
}

// Challenge tells an agency how to prove that it controls a resource.
type Challenge struct {
	Resource string
	Token    string
	// DNSName and DNSValue: publish a TXT record DNSName with the value DNSValue.
	DNSName, DNSValue string
	// HTTPURL: or serve the token as the body of this URL.
	HTTPURL string
	// Database is set for a db: resource instead of the above: the URL (without
	// credentials) of the database whose owner leaves DBValue in it, as DBSQL does: a
	// comment on the PostgreSQL database, a row of the table khien_verification in MySQL.
	Database, DBValue, DBSQL string
}

// ChallengeLabel is the DNS label under which the TXT token is published.
const ChallengeLabel = "_khien-challenge"

// ChallengePath is the HTTP path at which the token is served.
const ChallengePath = "/.well-known/khien-verification.txt"

// ChallengeFor returns the ways to prove control of r with token.
func ChallengeFor(r Resource, token string) (Challenge, error) {
	c := Challenge{Resource: r.ID, Token: token}
	host := ""
	switch r.Kind() {
	case KindDNS:
		host = strings.TrimPrefix(r.Value(), "*.")
	case KindURL:
		rest := strings.SplitN(strings.SplitN(r.Value(), "://", 2)[1], "/", 2)[0]
		host = rest
	case KindIP:
		host = r.Value()
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	case KindDB:
		return databaseChallenge(c, r)
	default:
		return Challenge{}, errs.E(errs.Invalid, "a %s: resource cannot be verified by DNS or HTTP; an administrator can assign it with a reason", r.Kind())
	}
	if r.Kind() != KindIP {
		name := host
		if h, _, err := splitHostPort(host); err == nil {
			name = h
		}
		c.DNSName = ChallengeLabel + "." + name
		c.DNSValue = "khien-verification=" + token
	}
	c.HTTPURL = "http://" + host + ChallengePath
	return c, nil
}

// databaseChallenge fills c for a db: resource: the owner proves control by writing the token
// into the database itself, which Khiên then reads with the credentials it scans with.
func databaseChallenge(c Challenge, r Resource) (Challenge, error) {
	v := r.Value()
	u, err := url.Parse(v)
	if err != nil || !strings.Contains(v, "://") {
		return Challenge{}, errs.E(errs.Invalid,
			"cơ sở dữ liệu %s không có URL nên không kiểm chứng được; đăng ký dạng db:postgres://máy/tên hoặc nhờ quản trị viên gán kèm lý do / "+
				"%s names no database URL and cannot be verified; register it as db:postgres://host/name or db:mysql://host/name, or have an administrator assign it with a reason", r.ID, r.ID)
	}
	c.Database = v
	c.DBValue = "khien-verification=" + c.Token
	name := strings.Trim(u.Path, "/")
	if u.Scheme == "mysql" {
		c.DBSQL = "CREATE TABLE khien_verification (token VARCHAR(200) NOT NULL); " +
			"INSERT INTO khien_verification (token) VALUES ('" + c.DBValue + "');"
	} else {
		c.DBSQL = `COMMENT ON DATABASE "` + strings.ReplaceAll(name, `"`, `""`) + `" IS '` + c.DBValue + `';`
	}
	return c, nil
}

// IssueChallenge creates (or returns the pending) ownership token of a resource.
func (s *Service) IssueChallenge(ctx context.Context, id string) (Challenge, error) {
	r, err := s.Resource(ctx, id)
	if err != nil {
		return Challenge{}, err
	}
	if r.VerifyToken == "" {
		r.VerifyToken = randomToken(20)
		r.Updated = s.now().UTC()
		if _, err := ChallengeFor(r, r.VerifyToken); err != nil {
			return Challenge{}, err
		}
		if err := s.store.UpdateResource(ctx, r); err != nil {
			return Challenge{}, err
		}
	}
	return ChallengeFor(r, r.VerifyToken)
}

// Prover checks that a challenge has been met, over the network. It is implemented in the
// scope package, which keeps every connection within the safety fence.
type Prover interface {
	// Prove returns how the challenge was met ("dns-txt _khien-challenge.x.vn") or an error
	// saying what was looked up and found: a *ProofError, whose attempts the pages show.
	Prove(ctx context.Context, c Challenge) (string, error)
}

// Verify checks the pending challenge of a resource with p and, when it is met, marks the
// resource verified with the method as its reason.
func (s *Service) Verify(ctx context.Context, id string, p Prover) (Resource, error) {
	r, err := s.Resource(ctx, id)
	if err != nil {
		return Resource{}, err
	}
	if r.VerifyToken == "" {
		return Resource{}, errs.E(errs.Invalid, "no challenge was issued for %s; request one first", r.ID)
	}
	c, err := ChallengeFor(r, r.VerifyToken)
	if err != nil {
		return Resource{}, err
	}
	how, err := p.Prove(ctx, c)
	if err != nil {
		return Resource{}, err
	}
	now := s.now().UTC()
	r.Scope, r.ScopeReason, r.VerifiedAt, r.Updated = ScopeVerified, how, now, now
	if err := s.store.UpdateResource(ctx, r); err != nil {
		return Resource{}, err
	}
	return s.store.Resource(ctx, r.ID)
}

// randomToken returns n random bytes as lower-case base32 without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the OS has no randomness: nothing is safe
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
