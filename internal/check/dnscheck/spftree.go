package dnscheck

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/khien-vn/khien/internal/check"
)

// SPF limits from RFC 7208 section 4.6.4.
const (
	spfMaxLookups = 10
	spfMaxVoid    = 2
	spfMaxMX      = 10
)

// SPFNode is one SPF record in the tree reached from a domain through include and redirect,
// as kept in evidence.
type SPFNode struct {
	Domain string `json:"domain"`
	Via    string `json:"via,omitempty"` // "include" or "redirect"; "" at the root
	Query  Query  `json:"query"`
	Record string `json:"record,omitempty"`
	// Lookups counts this record's own terms that cost a DNS lookup (children not included).
	Lookups int `json:"lookups"`
	// All is the qualifier of this record's "all" ("+", "-", "~", "?"), "" when it has none.
	All string `json:"all,omitempty"`
	// Result is "none" (no SPF record), "permerror", "temperror" or "" for a usable record.
	Result   string     `json:"result,omitempty"`
	Problem  string     `json:"problem,omitempty"`
	Skipped  []string   `json:"skipped,omitempty"` // terms not followed, with why
	Children []*SPFNode `json:"children,omitempty"`
	// VoidLookups are the lookups of a, mx and exists that found nothing.
	VoidLookups []Query `json:"void_lookups,omitempty"`

	rec spfRecord // parsed record, for evaluation
}

// SPFResult is the outcome of following a domain's SPF record.
type SPFResult struct {
	Tree *SPFNode `json:"tree"`
	// Records are the SPF strings found at the domain itself.
	Records []string `json:"records,omitempty"`
	// Lookups is the total of terms costing a DNS lookup across the tree; when
	// LimitReached, following stopped and the real total may be higher.
	Lookups      int  `json:"lookups"`
	LimitReached bool `json:"limit_reached,omitempty"`
	Void         int  `json:"void_lookups"`
	// Result is "none", "permerror", "temperror" or "" (a record was evaluated).
	Result  string `json:"result,omitempty"`
	Problem string `json:"problem,omitempty"`

	problem spfProblem
}

// spfProblem is why an SPF evaluation ends in an error, to be told in both languages.
type spfProblem struct {
	kind   string // multiple, syntax, loop, norecord, mx, lookups, void, temp
	domain string
	detail string
	n      int
}

func (p spfProblem) text() check.Text {
	d := p.domain
	switch p.kind {
	case "multiple":
		return check.Text{
			VI: fmt.Sprintf("%s có %d bản ghi SPF trong khi chỉ được phép có một", d, p.n),
			EN: fmt.Sprintf("%s has %d SPF records where one is allowed", d, p.n),
		}
	case "syntax":
		return check.Text{
			VI: fmt.Sprintf("bản ghi SPF của %s sai cú pháp (%s)", d, p.detail),
			EN: fmt.Sprintf("the SPF record of %s is malformed (%s)", d, p.detail),
		}
	case "loop":
		return check.Text{
			VI: "các bản ghi include/redirect tạo thành vòng lặp: " + p.detail,
			EN: "include/redirect loop: " + p.detail,
		}
	case "norecord":
		return check.Text{
			VI: fmt.Sprintf("%s được tham chiếu bằng %s nhưng không có bản ghi SPF", d, p.detail),
			EN: fmt.Sprintf("%s is the target of %s but has no SPF record", d, p.detail),
		}
	case "mx":
		return check.Text{
			VI: fmt.Sprintf("%s có %d bản ghi MX, vượt giới hạn %d của SPF", d, p.n, spfMaxMX),
			EN: fmt.Sprintf("%s has %d MX records, more than SPF's limit of %d", d, p.n, spfMaxMX),
		}
	case "lookups":
		return check.Text{
			VI: fmt.Sprintf("cần hơn %d lượt truy vấn DNS (đã đếm %d trước khi dừng)", spfMaxLookups, p.n),
			EN: fmt.Sprintf("it needs more than %d DNS lookups (%d counted before stopping)", spfMaxLookups, p.n),
		}
	case "void":
		return check.Text{
			VI: fmt.Sprintf("%d lượt truy vấn không tìm thấy bản ghi nào, vượt giới hạn %d", p.n, spfMaxVoid),
			EN: fmt.Sprintf("%d lookups found nothing, more than the limit of %d", p.n, spfMaxVoid),
		}
	}
	return check.Text{
		VI: fmt.Sprintf("không truy vấn được %s: %s", d, p.detail),
		EN: fmt.Sprintf("could not look up %s: %s", d, p.detail),
	}
}

// spfWalker follows one domain's SPF tree.
type spfWalker struct {
	a       *asker
	lookups int
	void    int
	records []string
	// The first permanent and temporary errors met.
	perm, temp *spfProblem
}

// walkSPF fetches domain's SPF record and follows its includes and redirect, counting DNS
// lookups and void lookups. It stops following once the lookup limit is passed (the verdict
// is then known). A permanent error anywhere wins over a temporary one, as it would for a
// verifier that evaluates every term.
func walkSPF(ctx context.Context, a *asker, domain string) SPFResult {
	w := &spfWalker{a: a}
	res := SPFResult{Tree: w.node(ctx, dns.CanonicalName(domain), "", nil)}
	res.Records, res.Lookups, res.Void = w.records, w.lookups, w.void
	res.LimitReached = w.lookups > spfMaxLookups
	switch {
	case res.Tree.Result == "none":
		res.Result = "none"
	case w.perm != nil:
		res.Result, res.problem = "permerror", *w.perm
	case w.lookups > spfMaxLookups:
		res.Result, res.problem = "permerror", spfProblem{kind: "lookups", n: w.lookups}
	case w.void > spfMaxVoid:
		res.Result, res.problem = "permerror", spfProblem{kind: "void", n: w.void}
	case w.temp != nil:
		res.Result, res.problem = "temperror", *w.temp
	}
	if res.problem.kind != "" {
		res.Problem = res.problem.text().EN
	}
	return res
}

// fail records an error at n.
func (w *spfWalker) fail(n *SPFNode, result string, p spfProblem) {
	if p.domain == "" {
		p.domain = n.Domain
	}
	if n.Result == "" || n.Result == "none" {
		n.Result, n.Problem = result, p.text().EN
	}
	switch {
	case result == "permerror" && w.perm == nil:
		w.perm = &p
	case result == "temperror" && w.temp == nil:
		w.temp = &p
	}
}

func (w *spfWalker) node(ctx context.Context, domain, via string, path []string) *SPFNode {
	n := &SPFNode{Domain: trimName(domain), Via: via}
	m, q := w.a.ask(ctx, domain, dns.TypeTXT)
	n.Query = q
	if !answerOK(m) {
		w.fail(n, "temperror", spfProblem{kind: "temp", detail: failure(q)})
		return n
	}
	var spf []string
	for _, t := range records[*dns.TXT](m) {
		if s := strings.Join(t.Txt, ""); isSPF(s) {
			spf = append(spf, s)
		}
	}
	if via == "" {
		w.records = spf
	}
	switch len(spf) {
	case 0:
		n.Result = "none"
		if via != "" {
			w.fail(n, "permerror", spfProblem{kind: "norecord", detail: via})
		}
		return n
	case 1:
	default:
		w.fail(n, "permerror", spfProblem{kind: "multiple", n: len(spf)})
		return n
	}
	n.Record = spf[0]
	rec, err := parseSPF(spf[0])
	if err != nil {
		w.fail(n, "permerror", spfProblem{kind: "syntax", detail: err.Error()})
		return n
	}
	n.rec = rec
	path = append(slices.Clone(path), domain)
	hasAll := false
	for _, t := range rec.Terms {
		if t.Modifier {
			continue
		}
		if t.Name == "all" {
			hasAll = true
			n.All = string(t.Qualifier)
		}
		if !t.lookup() {
			continue
		}
		n.Lookups++
		w.lookups++
		if w.lookups > spfMaxLookups {
			n.Skipped = append(n.Skipped, t.String()+": beyond the lookup limit")
			continue
		}
		w.follow(ctx, n, t, domain, path)
	}
	if rec.Redirect != "" && !hasAll {
		t := spfTerm{Modifier: true, Name: "redirect", Value: rec.Redirect}
		n.Lookups++
		w.lookups++
		if w.lookups > spfMaxLookups {
			n.Skipped = append(n.Skipped, t.String()+": beyond the lookup limit")
		} else {
			w.follow(ctx, n, t, domain, path)
		}
	}
	return n
}

// follow makes the lookup of one term: include and redirect recurse; a, mx and exists are
// asked once to count void lookups; ptr and terms whose domain needs the sender's address
// are not asked.
func (w *spfWalker) follow(ctx context.Context, n *SPFNode, t spfTerm, domain string, path []string) {
	spec := t.Value
	if spec == "" {
		spec = domain
	}
	target, ok := expandDomain(spec, domain)
	if !ok {
		n.Skipped = append(n.Skipped, t.String()+": needs the sender's address")
		return
	}
	target = dns.CanonicalName(target)
	switch t.Name {
	case "include", "redirect":
		if slices.Contains(path, target) {
			c := &SPFNode{Domain: trimName(target), Via: t.Name}
			w.fail(c, "permerror", spfProblem{kind: "loop", detail: strings.Join(append(trimAll(path), trimName(target)), " → ")})
			n.Children = append(n.Children, c)
			return
		}
		n.Children = append(n.Children, w.node(ctx, target, t.Name, path))
	case "a", "mx", "exists":
		qtype := dns.TypeA
		if t.Name == "mx" {
			qtype = dns.TypeMX
		}
		m, q := w.a.ask(ctx, target, qtype)
		if !answerOK(m) {
			w.fail(n, "temperror", spfProblem{kind: "temp", domain: trimName(target), detail: failure(q)})
			return
		}
		found := countType(m, qtype)
		if found == 0 && t.Name == "a" {
			// An IPv6-only host is not a void lookup: "a" matches AAAA for IPv6 senders.
			m6, q6 := w.a.ask(ctx, target, dns.TypeAAAA)
			if !answerOK(m6) {
				w.fail(n, "temperror", spfProblem{kind: "temp", domain: trimName(target), detail: failure(q6)})
				return
			}
			if found = countType(m6, dns.TypeAAAA); found == 0 {
				q = q6
			}
		}
		if found == 0 {
			w.void++
			n.VoidLookups = append(n.VoidLookups, q)
		}
		if t.Name == "mx" && found > spfMaxMX {
			w.fail(n, "permerror", spfProblem{kind: "mx", domain: trimName(target), n: found})
		}
	default: // ptr
		n.Skipped = append(n.Skipped, t.String()+": depends on the sender's address")
	}
}

func countType(m *dns.Msg, t uint16) int {
	n := 0
	for _, rr := range m.Answer {
		if rr.Header().Rrtype == t {
			n++
		}
	}
	return n
}

func trimAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = trimName(n)
	}
	return out
}

// spfPolicy is what the evaluated tree allows, for mail.spf.permissive.
type spfPolicy struct {
	// All is the effective qualifier of the root's final "all", following redirect; "" when
	// there is none (the result is then neutral for unlisted senders).
	All string
	// Via names the redirect chain the "all" came from.
	Via []string
	// PassAll are the includes whose own record passes everyone ("+all"), which makes the
	// include match every sender.
	PassAll []string
	// Wide are pass mechanisms covering a huge share of the address space.
	Wide []string
}

// policy derives the effective policy of a walked tree.
func (n *SPFNode) policy() spfPolicy {
	var p spfPolicy
	cur := n
	for cur != nil {
		if cur.All != "" {
			p.All = cur.All
			break
		}
		var next *SPFNode
		for _, c := range cur.Children {
			if c.Via == "redirect" {
				next = c
			}
		}
		if next != nil {
			p.Via = append(p.Via, next.Domain)
		}
		cur = next
	}
	var walk func(*SPFNode)
	walk = func(x *SPFNode) {
		for _, t := range x.rec.Terms {
			if t.Modifier || t.Qualifier != '+' {
				continue
			}
			if (t.Name == "ip4" && t.Prefix4 >= 0 && t.Prefix4 < 8) || (t.Name == "ip6" && t.Prefix4 >= 0 && t.Prefix4 < 16) {
				p.Wide = append(p.Wide, x.Domain+": "+t.String())
			}
		}
		for _, c := range x.Children {
			if c.Via == "include" && c.policy().All == "+" {
				p.PassAll = append(p.PassAll, c.Domain)
			}
			walk(c)
		}
	}
	walk(n)
	return p
}
