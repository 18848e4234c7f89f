package web

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// The pages: server-rendered html/template, plain HTML forms, one stylesheet and no script,
// all embedded, so that the Content-Security-Policy can forbid everything else. They read the
// inventory and the assessments through the same scoped services as the API (auth.Inventory
// and auth.Assess), so a principal's pages show only its subtree.

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds what the page handlers need.
type pages struct {
	log      *slog.Logger
	auth     *auth.Service
	inv      inventoryAPI
	as       assessAPI
	ix       *auth.Assurance // recorded gate decisions; nil without the assurance service
	now      func() time.Time
	catalog  *check.Catalog
	controls []control.Control
	tmpl     map[string]*template.Template
	oidc     *auth.OIDC       // nil: no sign-in through a provider
	prover   inventory.Prover // nil: ownership cannot be verified on this server
}

// pageNames are the page templates; each is rendered inside templates/layout.html.
var pageNames = []string{"login", "tree", "org", "system", "findings", "finding", "error", "audit", "users", "tokens", "verify"}

func newPages(d Deps) *pages {
	p := &pages{log: d.Log, auth: d.Auth, now: d.Now, ix: scopedAssurance(d), tmpl: map[string]*template.Template{},
		oidc: d.OIDC, prover: d.Prover}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.inv, p.as = scopedInventory(d), scopedAssess(d)
	// Both catalogs are embedded in the binary and checked by their packages' tests.
	if c, err := check.LoadCatalog(); err == nil {
		p.catalog = c
	}
	if c, err := control.Load(); err == nil {
		p.controls = c.Controls
	}
	for _, name := range pageNames {
		p.tmpl[name] = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return p
}

// view is what every template gets: the request's language and principal, and the page's data.
type view struct {
	Lang   lang
	CSRF   string
	Login  string
	Signed bool
	Path   string // the page's own path and query, for the language switch to come back to
	Title  string // a catalog key
	Flash  string // a catalog key
	Error  string // a catalog key
	Data   any

	Can actionSet // what the principal may do, for the links the navigation shows
}

// T is the catalog text of key.
func (v view) T(key string) string { return tr(v.Lang, key) }

// L is the text of the data in the page's language.
func (v view) L(t check.Text) string { return local(v.Lang, t) }

// Num formats a score.
func (v view) Num(x float64) string { return number(v.Lang, x) }

// Tenths formats a stored index figure.
func (v view) Tenths(t int) string { return number(v.Lang, float64(t)/10) }

// Date formats a time, or says never.
func (v view) Date(t time.Time) string {
	if t.IsZero() {
		return v.T("never")
	}
	if v.Lang == langEN {
		return t.UTC().Format("2006-01-02")
	}
	return t.In(vietnamTime).Format("02/01/2006")
}

// Time formats a moment.
func (v view) Time(t time.Time) string {
	if t.IsZero() {
		return v.T("never")
	}
	if v.Lang == langEN {
		return t.UTC().Format("2006-01-02 15:04 UTC")
	}
	return t.In(vietnamTime).Format("15:04 02/01/2006")
}

// vietnamTime is Indochina Time, without daylight saving since 1975.
var vietnamTime = time.FixedZone("ICT", 7*60*60)

// newView is the view of r for a page titled by the catalog key title.
func newView(r *http.Request, title string, data any) view {
	v := view{Lang: langOf(r), Path: r.URL.RequestURI(), Title: title, Data: data}
	if pr, ok := auth.PrincipalFrom(r.Context()); ok && pr.Kind == auth.KindSession {
		v.Signed, v.CSRF, v.Login, v.Can = true, pr.CSRF, pr.Login, newActionSet(pr.Actions)
	}
	if k := "flash." + r.URL.Query().Get("done"); flashKeys[k] != "" {
		v.Flash = flashKeys[k]
	}
	if k := "error." + r.URL.Query().Get("e"); flashKeys[k] != "" {
		v.Error = flashKeys[k]
	}
	return v
}

// flashKeys are the messages a redirect may ask a page to show, by name: a query parameter
// never carries text of its own onto a page.
var flashKeys = map[string]string{
	"flash.scanned":    "system.scanned",
	"flash.accepted":   "system.accepted",
	"error.scan":       "system.scanfail",
	"error.accept":     "accept.invalid",
	"flash.verified":   "verify.done",
	"error.verify":     "verify.failed",
	"error.verifynone": "verify.none",
}

// render writes page name with status.
func (p *pages) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	var b strings.Builder
	if err := p.tmpl[name].ExecuteTemplate(&b, "layout", v); err != nil {
		p.log.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, tr(v.Lang, "err.internal"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", string(v.Lang))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// fail renders the error page of err: a catalog message by kind, never the error's own text,
// which may be in the other language.
func (p *pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, key := http.StatusInternalServerError, "err.internal"
	if ae, ok := err.(*apiError); ok && ae.status == http.StatusServiceUnavailable {
		status, key = ae.status, "err.unavailable"
	} else {
		switch errs.KindOf(err) {
		case errs.NotFound:
			status, key = http.StatusNotFound, "err.notfound"
		case errs.Forbidden, errs.OutOfScope:
			status, key = http.StatusForbidden, "err.forbidden"
		case errs.Invalid:
			status, key = http.StatusBadRequest, "err.invalid"
		case errs.Conflict:
			status, key = http.StatusConflict, "err.conflict"
		case errs.Unauthenticated:
			status, key = http.StatusUnauthorized, "err.signin"
		}
	}
	if status == http.StatusInternalServerError {
		p.log.ErrorContext(r.Context(), "page failed", "route", routeOf(r), "err", err)
	}
	p.render(w, r, status, "error", newView(r, "err.title", key))
}

// localPath returns s if it is a path of this site ("/orgs/HN"), else "/": a form's "next"
// must not send the browser elsewhere.
func localPath(s string) string {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") || strings.ContainsAny(s, "\r\n") {
		return "/"
	}
	return s
}

// seeOther answers a form with a redirect to a local path.
func seeOther(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, localPath(to), http.StatusSeeOther)
}

// staticTypes are the types of the embedded assets.
var staticTypes = map[string]string{".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".js": "text/javascript; charset=utf-8"}

// handleStatic serves an embedded asset.
func (p *pages) handleStatic() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		b, err := fs.ReadFile(sub, name)
		ct, known := staticTypes[path.Ext(name)]
		if err != nil || !known || strings.Contains(name, "/") {
			p.fail(w, r, errs.E(errs.NotFound, "no asset %q", name))
			return
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(b)
	})
}

// handleLoginPage shows the sign-in form, or the tree to a signed-in user.
func (p *pages) handleLoginPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := auth.PrincipalFrom(r.Context()); ok {
			seeOther(w, r, "/")
			return
		}
		p.render(w, r, http.StatusOK, "login", newView(r, "login.title", p.loginData()))
	})
}

// handleLoginForm signs in from the form: login, password and the one-time code. The form
// has no CSRF token (there is no session yet); a cross-site post is refused by crossOrigin,
// and the session cookie is SameSite.
func (p *pages) handleLoginForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		c := auth.Credentials{Login: r.PostFormValue("login"), Password: r.PostFormValue("password"),
			TOTP: strings.TrimSpace(r.PostFormValue("totp")), ClientIP: clientIP(r)}
		if old, err := r.Cookie(sessionCookie); err == nil {
			c.Replace = old.Value
		}
		ns, err := p.auth.Login(r.Context(), c)
		if err != nil {
			v := newView(r, "login.title", p.loginData())
			status := http.StatusUnauthorized
			switch le := lockedError(w, err, p.now()); {
			case le != nil:
				v.Error, status = "login.locked", http.StatusTooManyRequests
			case errs.Is(err, errs.Forbidden):
				v.Error, status = "login.nomfa", http.StatusForbidden
			case errs.Is(err, errs.Unauthenticated):
				v.Error = "login.failed"
			default:
				p.fail(w, r, err)
				return
			}
			p.render(w, r, status, "login", v)
			return
		}
		http.SetCookie(w, sessionCookieFor(ns.ID, ns.Session.Expires, p.now()))
		seeOther(w, r, "/")
	})
}

// handleLogoutForm ends the session.
func (p *pages) handleLogoutForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := p.auth.Logout(r.Context()); err != nil && !errs.Is(err, errs.Invalid) {
			p.fail(w, r, err)
			return
		}
		http.SetCookie(w, endedCookie())
		seeOther(w, r, "/login")
	})
}

// handleLang sets the language cookie and goes back to the page the switch was on.
func (p *pages) handleLang() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		l := langVI
		if r.PostFormValue("lang") == string(langEN) {
			l = langEN
		}
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600,
			Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		seeOther(w, r, r.PostFormValue("next"))
	})
}
