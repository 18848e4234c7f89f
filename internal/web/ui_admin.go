package web

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// The administration pages: the audit log, the accounts and the API tokens of the
// principal's subtree. Like the other pages they only translate: every read and every change
// goes through auth.Service, which checks the principal's role and subtree, refuses what lies
// outside it and records each change in the audit log. A page never decides access itself;
// the links the navigation shows follow the principal's actions only so as not to offer a
// page that would answer 403.

// actionSet is what a principal may do, as the templates ask: index .Can "audit:read".
type actionSet map[string]bool

func newActionSet(as []auth.Action) actionSet {
	s := actionSet{}
	for _, a := range as {
		s[string(a)] = true
	}
	return s
}

// adminFlash are the messages a redirect from an administration form may ask for.
var adminFlash = map[string]string{
	"updated":  "users.updated",
	"locked":   "users.lockeddone",
	"unlocked": "users.unlockeddone",
	"revoked":  "tokens.revokeddone",
}

// adminView is newView with the messages of the administration forms.
func adminView(r *http.Request, title string, data any) view {
	v := newView(r, title, data)
	if k := adminFlash[r.URL.Query().Get("done")]; k != "" {
		v.Flash = k
	}
	return v
}

// pager is the paging of a list: its page (from 1) and the links to the others.
type pager struct {
	Page, Pages int
	First, Last int // the positions shown, from 1
	Total       int
	Prev, Next  string
}

// newPager pages total items by size, the current page given by the query's "page".
func newPager(r *http.Request, size int) (pager, inventory.Page) {
	n, _ := strconv.Atoi(r.URL.Query().Get("page"))
	n = max(n, 1)
	return pager{Page: n}, inventory.Page{Limit: size, Offset: (n - 1) * size}
}

// finish sets what the pager shows once the total and the items of the page are known.
func (pg *pager) finish(r *http.Request, size, total, shown int) {
	pg.Total, pg.Pages = total, max((total+size-1)/size, 1)
	if shown > 0 {
		pg.First, pg.Last = (pg.Page-1)*size+1, (pg.Page-1)*size+shown
	}
	link := func(page int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(page))
		return r.URL.Path + "?" + q.Encode()
	}
	if pg.Page > 1 {
		pg.Prev = link(pg.Page - 1)
	}
	if pg.Page < pg.Pages {
		pg.Next = link(pg.Page + 1)
	}
}

// --- The audit log.

// auditPageSize is how many entries a page of the audit log shows: each has its diff.
const auditPageSize = 25

// auditForm is the filter of the audit page as the form holds it.
type auditForm struct {
	Actor, Action, Kind, From, To string
}

// Encode writes the filters as a query, to come back to the same view after checking the chain.
func (f auditForm) Encode() string {
	v := url.Values{}
	for k, s := range map[string]string{"actor": f.Actor, "action": f.Action, "kind": f.Kind, "from": f.From, "to": f.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

// diffRow is one field of an object before and after a change.
type diffRow struct {
	Field, Before, After string
	Changed              bool
}

// auditRow is an entry with its change as a readable diff.
type auditRow struct {
	E    audit.Entry
	Diff []diffRow
}

// auditData is the audit page.
type auditData struct {
	Q     auditForm
	Rows  []auditRow
	Pager pager
	// The chain as last verified, at VerifiedAt: Checked entries intact, or BrokenAt the
	// first bad entry; VerifyFailed when the log could not be read to the end.
	Checked      int64
	BrokenAt     int64
	VerifyFailed bool
	VerifiedAt   time.Time
	// Whole is set for a principal of the whole platform: only it is told how many entries
	// the log holds, which says how busy the other subtrees are.
	Whole   bool
	Kinds   []string
	Actions []string
}

// auditKinds and auditActions are offered as the filter's suggestions; others may be typed.
var (
	auditKinds   = []string{"attestation", "finding", "gate_exception", "incident", "inventory", "organization", "resource", "system", "token", "user"}
	auditActions = []string{"attestation.declare", "attestation.review", "finding.accept", "finding.update", "gate_exception.create",
		"incident.report", "inventory.import", "organization.create", "organization.delete", "organization.update",
		"resource.challenge", "resource.create", "resource.delete", "resource.update", "resource.verify",
		"system.create", "system.delete", "system.update", "token.create", "token.revoke",
		"user.create", "user.password", "user.reset_mfa", "user.unlock", "user.update"}
)

// auditQuery reads the filter of the audit page: an actor without a kind is a user's login,
// and the dates are days in Việt Nam, both included.
func auditQuery(r *http.Request) (auditForm, audit.Filter) {
	q := r.URL.Query()
	f := auditForm{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		Kind: strings.TrimSpace(q.Get("kind")), From: q.Get("from"), To: q.Get("to")}
	aq := audit.Filter{Action: f.Action}
	aq.ObjectType = f.Kind
	if f.Actor != "" {
		aq.Actor = f.Actor
		if !strings.Contains(f.Actor, ":") {
			aq.Actor = "user:" + strings.ToLower(f.Actor)
		}
	}
	if d, err := time.ParseInLocation(time.DateOnly, f.From, vietnamTime); err == nil {
		aq.Since = d.UTC()
	} else {
		f.From = ""
	}
	if d, err := time.ParseInLocation(time.DateOnly, f.To, vietnamTime); err == nil {
		aq.Until = d.Add(24 * time.Hour).UTC()
	} else {
		f.To = ""
	}
	return f, aq
}

// jsonDiff compares two JSON objects field by field; values that are not objects are
// compared whole, as one row without a field name.
func jsonDiff(before, after string) []diffRow {
	b, bok := jsonObject(before)
	a, aok := jsonObject(after)
	if !bok || !aok {
		return []diffRow{{Before: before, After: after, Changed: before != after}}
	}
	var keys []string
	for k := range b {
		keys = append(keys, k)
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	rows := make([]diffRow, 0, len(keys))
	for _, k := range keys {
		rows = append(rows, diffRow{Field: k, Before: jsonText(b[k]), After: jsonText(a[k]), Changed: !bytes.Equal(b[k], a[k])})
	}
	return rows
}

// jsonObject decodes s as an object; the empty string is an object of no field (no object).
func jsonObject(s string) (map[string]json.RawMessage, bool) {
	if s == "" {
		return map[string]json.RawMessage{}, true
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

// jsonText is a value as a person reads it: a string without its quotes, the rest as JSON.
func jsonText(raw json.RawMessage) string {
	if raw == nil {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil {
		return buf.String()
	}
	return string(raw)
}

// handleAudit pages through the audit log of the principal's subtree, newest first, under
// the latest check of the whole chain. The server checks it every few minutes (reading the
// whole log, which only grows); the page waits for a check only when none has finished yet,
// and offers to check again now (handleAuditVerify).
func (p *pages) handleAudit() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		form, q := auditQuery(r)
		pg, page := newPager(r, auditPageSize)
		q.Page = page
		es, total, err := p.auth.AuditEntries(ctx, q)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		pr, _ := auth.PrincipalFrom(ctx)
		d := auditData{Q: form, Kinds: auditKinds, Actions: auditActions, Whole: pr.Scope == ""}
		for _, e := range es {
			d.Rows = append(d.Rows, auditRow{E: e, Diff: jsonDiff(e.Before, e.After)})
		}
		pg.finish(r, auditPageSize, total, len(es))
		d.Pager = pg
		v, err := p.auth.AuditVerification(ctx)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		d.Checked, d.VerifiedAt = v.Entries, v.Finished
		if be, broken := errors.AsType[*audit.BrokenError](v.Err); broken {
			d.BrokenAt = be.Seq
		} else if v.Err != nil {
			p.log.ErrorContext(ctx, "verify the audit log", "err", v.Err)
			d.VerifyFailed = true
		}
		p.render(w, r, http.StatusOK, "audit", adminView(r, "audit.title", d))
	})
}

// handleAuditVerify checks the whole chain now, for a reader of the log who does not want to
// wait for the server's next check, and goes back to the page it came from. Readers asking
// at once share one reading of the log.
func (p *pages) handleAuditVerify() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if _, err := p.auth.VerifyAudit(ctx); err != nil && !errs.Is(err, errs.Conflict) {
			p.fail(w, r, err) // a broken chain (Conflict) is what the page shows; the rest is not
			return
		}
		back := "/audit"
		if v, err := url.ParseQuery(r.PostFormValue("q")); err == nil {
			f := auditForm{Actor: v.Get("actor"), Action: v.Get("action"), Kind: v.Get("kind"), From: v.Get("from"), To: v.Get("to")}
			if q := f.Encode(); q != "" {
				back += "?" + q // only the filters, rebuilt: never a path or scheme of the client's
			}
		}
		seeOther(w, r, back)
	})
}

// --- Accounts.

// usersPageSize is how many accounts a page lists.
const usersPageSize = 50

// userRow is an account as the users page lists it.
type userRow struct {
	U      auth.User
	Locked time.Time // sign-ins refused until then after failures; zero when not
	Self   bool
}

// shownOnce is what an administration form made that is shown this once: a password, the
// URI of a second factor, a token's secret.
type shownOnce struct {
	Login, Password, URI, Secret string
}

// usersData is the users page.
type usersData struct {
	Rows    []userRow
	Pager   pager
	Roles   []auth.Role // the roles the principal may give
	Orgs    []inventory.Organization
	Scope   string
	Once    *shownOnce
	Invalid string // the catalog key of the field a form got wrong
	Form    url.Values
}

// grantable are the roles whose actions p has all of: the ones it may give.
func grantable(p auth.Principal) []auth.Role {
	var out []auth.Role
	for _, role := range auth.Roles {
		ok := true
		for _, a := range auth.ActionsOf(role) {
			ok = ok && p.Has(a)
		}
		if ok && (role != auth.PlatformAdmin || p.Scope == "") {
			out = append(out, role)
		}
	}
	return out
}

// subtreeOrgs are the organizations the principal sees, for the forms' suggestions.
func (p *pages) subtreeOrgs(r *http.Request) ([]inventory.Organization, error) {
	return readAll(func(pg inventory.Page) ([]inventory.Organization, int, error) {
		return p.inv.Orgs(r.Context(), inventory.OrgFilter{Page: pg})
	})
}

// renderUsers shows the users page with status; once, invalid and form come from a form
// just handled.
func (p *pages) renderUsers(w http.ResponseWriter, r *http.Request, status int, once *shownOnce, invalid string, form url.Values) {
	ctx := r.Context()
	pr, _ := auth.PrincipalFrom(ctx)
	pg, page := newPager(r, usersPageSize)
	as, total, err := p.auth.Accounts(ctx, auth.UserFilter{Page: page})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d := usersData{Roles: grantable(pr), Scope: pr.Scope, Once: once, Invalid: invalid, Form: form}
	if d.Form == nil {
		d.Form = url.Values{}
	}
	for _, a := range as {
		d.Rows = append(d.Rows, userRow{U: a.User, Locked: a.LockedUntil, Self: a.ID == pr.UserID})
	}
	pg.finish(r, usersPageSize, total, len(as))
	d.Pager = pg
	if d.Orgs, err = p.subtreeOrgs(r); err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, status, "users", adminView(r, "users.title", d))
}

// handleUsers lists the accounts of the principal's subtree.
func (p *pages) handleUsers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.renderUsers(w, r, http.StatusOK, nil, "", nil)
	})
}

// formFields are the fields of the administration forms a service error may name, with
// their labels in the catalog.
var formFields = map[string]string{
	"login": "field.login", "name": "field.name", "role": "field.role", "org": "field.org",
	"password": "field.password", "disabled": "field.disabled", "actions": "field.actions", "expires": "field.expires",
}

// invalidField is the catalog key of the field an invalid input names, or "" for an error
// of another kind, which fails the page.
func invalidField(err error) string {
	var e *errs.Error
	if !errs.Is(err, errs.Invalid) || !errors.As(err, &e) {
		return ""
	}
	if k, ok := formFields[e.Field]; ok {
		return k
	}
	return "field.other"
}

// handleUserCreate creates an account from the form with a random first password, shown
// once with the second factor's URI for an administrator: the page's form of `khien user
// add`, whose operator types the password instead.
func (p *pages) handleUserCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := r.ParseForm(); err != nil {
			p.fail(w, r, errs.E(errs.Invalid, "form: %v", err))
			return
		}
		pw := auth.NewPassword()
		u, uri, err := p.auth.CreateUser(r.Context(), auth.NewUser{Login: r.PostForm.Get("login"), Name: r.PostForm.Get("name"),
			Role: auth.Role(r.PostForm.Get("role")), Org: r.PostForm.Get("org"), Password: pw})
		if k := invalidField(err); k != "" {
			p.renderUsers(w, r, http.StatusBadRequest, nil, k, r.PostForm)
			return
		}
		if err != nil {
			p.fail(w, r, err)
			return
		}
		p.renderUsers(w, r, http.StatusOK, &shownOnce{Login: u.Login, Password: pw, URI: uri}, "", nil)
	})
}

// accountForm handles a form about the account of the path, the same way for each: it reads
// the account (one outside the principal's subtree does not exist for it) and lets change
// act on it. An invalid input change reports shows the users page again with the field it
// names, any other error the error page; what change made to be shown once is shown, and
// otherwise the browser goes back to the users page with the message done.
func (p *pages) accountForm(done string, change func(r *http.Request, u auth.User) (*shownOnce, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		u, err := p.auth.User(r.Context(), r.PathValue("id"))
		var once *shownOnce
		if err == nil {
			once, err = change(r, u)
		}
		if k := invalidField(err); k != "" {
			p.renderUsers(w, r, http.StatusBadRequest, nil, k, nil)
			return
		}
		switch {
		case err != nil:
			p.fail(w, r, err)
		case once != nil:
			p.renderUsers(w, r, http.StatusOK, once, "", nil)
		default:
			seeOther(w, r, "/users?done="+done)
		}
	})
}

// handleUserUpdate changes an account's role and scope (its name with them, if given).
func (p *pages) handleUserUpdate() http.Handler {
	return p.accountForm("updated", func(r *http.Request, old auth.User) (*shownOnce, error) {
		name := cmp.Or(strings.TrimSpace(r.PostFormValue("name")), old.Name)
		u, uri, err := p.auth.UpdateUser(r.Context(), old.ID, auth.UserChange{Name: name, Role: auth.Role(r.PostFormValue("role")),
			Org: r.PostFormValue("org"), Disabled: old.Disabled})
		if err != nil || uri == "" {
			return nil, err
		}
		return &shownOnce{Login: u.Login, URI: uri}, nil
	})
}

// handleUserMFA gives an account a new second factor and shows its URI once.
func (p *pages) handleUserMFA() http.Handler {
	return p.accountForm("", func(r *http.Request, u auth.User) (*shownOnce, error) {
		uri, err := p.auth.ResetMFA(r.Context(), u.ID)
		return &shownOnce{Login: u.Login, URI: uri}, err
	})
}

// handleUserPassword gives an account a new random password and shows it once.
func (p *pages) handleUserPassword() http.Handler {
	return p.accountForm("", func(r *http.Request, u auth.User) (*shownOnce, error) {
		pw := auth.NewPassword()
		return &shownOnce{Login: u.Login, Password: pw}, p.auth.SetPassword(r.Context(), u.ID, pw)
	})
}

// handleUserLock disables an account (lock) or enables it again and forgets its failed
// sign-ins (unlock).
func (p *pages) handleUserLock(lock bool) http.Handler {
	done := "unlocked"
	if lock {
		done = "locked"
	}
	return p.accountForm(done, func(r *http.Request, u auth.User) (*shownOnce, error) {
		ctx := r.Context()
		if u.Disabled != lock {
			if _, _, err := p.auth.UpdateUser(ctx, u.ID, auth.UserChange{Name: u.Name, Role: u.Role, Org: u.Org, Disabled: lock}); err != nil {
				return nil, err
			}
		}
		if lock {
			return nil, nil
		}
		if t, err := p.auth.SignInLock(ctx, u.ID); err != nil || t.IsZero() {
			return nil, err
		}
		return nil, p.auth.ClearSignInLock(ctx, u.ID)
	})
}

// --- API tokens.

// tokensPageSize is how many tokens a page lists.
const tokensPageSize = 50

// tokenRow is a token as the tokens page lists it.
type tokenRow struct {
	T     auth.Token
	Owner string // the owner's login, when the principal may know it
	Mine  bool
}

// tokensData is the tokens page.
type tokensData struct {
	Rows     []tokenRow
	Pager    pager
	Actions  []auth.Action // those a new token may have
	Orgs     []inventory.Organization
	Scope    string
	Once     *shownOnce
	Invalid  string
	Manage   bool // the list holds the subtree's tokens, not only the principal's
	Tomorrow string
	Default  string
}

// tokenActions are the actions a token of p may be given.
func tokenActions(p auth.Principal) []auth.Action {
	var out []auth.Action
	for _, a := range auth.Actions {
		if p.Has(a) && (a != auth.MetricsRead || p.Scope == "") {
			out = append(out, a)
		}
	}
	return out
}

// renderTokens shows the tokens page with status.
func (p *pages) renderTokens(w http.ResponseWriter, r *http.Request, status int, once *shownOnce, invalid string) {
	ctx, now := r.Context(), p.now()
	pr, _ := auth.PrincipalFrom(ctx)
	pg, page := newPager(r, tokensPageSize)
	ts, total, err := p.auth.Tokens(ctx, page)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d := tokensData{Actions: tokenActions(pr), Scope: pr.Scope, Once: once, Invalid: invalid, Manage: pr.Has(auth.UsersManage),
		Tomorrow: now.Add(24 * time.Hour).In(vietnamTime).Format(time.DateOnly),
		Default:  now.Add(90 * 24 * time.Hour).In(vietnamTime).Format(time.DateOnly)}
	// The owners' logins of this page's tokens only (one page, not the whole subtree's users).
	logins := map[string]string{pr.UserID: pr.Login}
	for _, t := range ts {
		if _, ok := logins[t.Owner]; ok {
			continue
		}
		u, err := p.auth.User(ctx, t.Owner)
		if err != nil && !errs.Is(err, errs.NotFound) { // an owner no longer visible shows no login
			p.fail(w, r, err)
			return
		}
		logins[t.Owner] = u.Login
	}
	for _, t := range ts {
		d.Rows = append(d.Rows, tokenRow{T: t, Owner: logins[t.Owner], Mine: t.Owner == pr.UserID})
	}
	pg.finish(r, tokensPageSize, total, len(ts))
	d.Pager = pg
	if d.Orgs, err = p.subtreeOrgs(r); err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, status, "tokens", adminView(r, "tokens.title", d))
}

// handleTokens lists the principal's tokens, and those of its subtree for an administrator.
func (p *pages) handleTokens() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.renderTokens(w, r, http.StatusOK, nil, "")
	})
}

// handleTokenCreate creates a token of the signed-in user and shows its secret this once.
// The expiry is the end of the chosen day in Việt Nam; none means it does not expire.
func (p *pages) handleTokenCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := r.ParseForm(); err != nil {
			p.fail(w, r, errs.E(errs.Invalid, "form: %v", err))
			return
		}
		nt := auth.NewToken{Name: r.PostForm.Get("name"), Org: r.PostForm.Get("org")}
		for _, a := range r.PostForm["action"] {
			nt.Actions = append(nt.Actions, auth.Action(a))
		}
		if s := r.PostForm.Get("expires"); s != "" {
			day, err := time.ParseInLocation(time.DateOnly, s, vietnamTime)
			if err != nil {
				p.renderTokens(w, r, http.StatusBadRequest, nil, "field.expires")
				return
			}
			nt.Expires = day.Add(24*time.Hour - time.Second).UTC()
		}
		t, secret, err := p.auth.CreateToken(r.Context(), nt)
		if k := invalidField(err); k != "" {
			p.renderTokens(w, r, http.StatusBadRequest, nil, k)
			return
		}
		if err != nil {
			p.fail(w, r, err)
			return
		}
		p.renderTokens(w, r, http.StatusOK, &shownOnce{Login: t.Prefix(), Secret: secret}, "")
	})
}

// handleTokenRevoke revokes a token the principal owns or manages.
func (p *pages) handleTokenRevoke() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := p.auth.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
			p.fail(w, r, err)
			return
		}
		seeOther(w, r, "/tokens?done=revoked")
	})
}

// Opt is the catalog text of prefix+s, or s itself when the catalog has none: for values
// such as the kinds of audited objects, which grow with the features.
func (v view) Opt(prefix, s string) string {
	if _, ok := messages[prefix+s]; ok {
		return v.T(prefix + s)
	}
	return s
}
