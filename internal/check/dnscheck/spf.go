package dnscheck

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// spfRecord is a parsed SPF record (RFC 7208 section 4.6 and 12).
type spfRecord struct {
	Terms    []spfTerm
	Redirect string // the redirect modifier's domain-spec; "" when absent
	Exp      string
}

// spfTerm is one directive (a mechanism with its qualifier) or modifier.
type spfTerm struct {
	Modifier  bool
	Qualifier byte   // '+', '-', '~' or '?'; '+' when omitted; 0 for modifiers
	Name      string // mechanism or modifier name, lower case
	Value     string // domain-spec, network or modifier value; "" when absent
	Prefix4   int    // CIDR length of a, mx, ip4 (or ip6's); -1 when absent
	Prefix6   int    // the second CIDR length of a and mx; -1 when absent
}

func (t spfTerm) String() string {
	if t.Modifier {
		return t.Name + "=" + t.Value
	}
	var b strings.Builder
	if t.Qualifier != '+' {
		b.WriteByte(t.Qualifier)
	}
	b.WriteString(t.Name)
	if t.Value != "" {
		b.WriteString(":" + t.Value)
	}
	if t.Prefix4 >= 0 {
		b.WriteString("/" + strconv.Itoa(t.Prefix4))
	}
	if t.Prefix6 >= 0 {
		b.WriteString("//" + strconv.Itoa(t.Prefix6))
	}
	return b.String()
}

// lookup reports whether the term costs a DNS lookup against the limit of 10
// (RFC 7208 section 4.6.4: include, a, mx, ptr, exists and redirect).
func (t spfTerm) lookup() bool {
	switch t.Name {
	case "include", "a", "mx", "ptr", "exists":
		return !t.Modifier
	case "redirect":
		return t.Modifier
	}
	return false
}

// isSPF reports whether a TXT string is an SPF record: "v=spf1" alone or followed by a
// space (RFC 7208 section 4.5), in any case.
func isSPF(txt string) bool {
	if len(txt) < 6 || !strings.EqualFold(txt[:6], "v=spf1") {
		return false
	}
	return len(txt) == 6 || txt[6] == ' '
}

// parseSPF parses an SPF record. An error is what RFC 7208 calls a permerror.
func parseSPF(txt string) (spfRecord, error) {
	var rec spfRecord
	if !isSPF(txt) {
		return rec, errors.New(`the record does not start with "v=spf1"`)
	}
	seen := map[string]bool{}
	for _, f := range strings.Fields(txt[6:]) {
		t, err := parseSPFTerm(f)
		if err != nil {
			return spfRecord{}, fmt.Errorf("term %q: %w", f, err)
		}
		if t.Modifier {
			switch t.Name {
			case "redirect", "exp":
				if seen[t.Name] {
					return spfRecord{}, fmt.Errorf("modifier %q appears more than once", t.Name)
				}
				seen[t.Name] = true
				if t.Name == "redirect" {
					rec.Redirect = t.Value
				} else {
					rec.Exp = t.Value
				}
			}
		}
		rec.Terms = append(rec.Terms, t)
	}
	return rec, nil
}

func parseSPFTerm(s string) (spfTerm, error) {
	t := spfTerm{Prefix4: -1, Prefix6: -1}
	// A modifier is name "=" macro-string; name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ).
	if n := nameLen(s); n > 0 && n < len(s) && s[n] == '=' {
		t.Modifier, t.Name, t.Value = true, strings.ToLower(s[:n]), s[n+1:]
		if err := checkMacroString(t.Value); err != nil {
			return t, err
		}
		if t.Name == "redirect" {
			if err := checkDomainSpec(t.Value); err != nil {
				return t, err
			}
		}
		return t, nil
	}
	t.Qualifier = '+'
	if strings.IndexByte("+-~?", s[0]) >= 0 {
		t.Qualifier, s = s[0], s[1:]
	}
	i := strings.IndexAny(s, ":/")
	if i < 0 {
		i = len(s)
	}
	t.Name = strings.ToLower(s[:i])
	rest := s[i:]
	switch t.Name {
	case "all":
		if rest != "" {
			return t, errors.New(`"all" takes no argument`)
		}
	case "include", "exists":
		if !strings.HasPrefix(rest, ":") {
			return t, fmt.Errorf("%q needs a domain", t.Name)
		}
		t.Value = rest[1:]
		return t, checkDomainSpec(t.Value)
	case "a", "mx", "ptr":
		if t.Name != "ptr" {
			var err error
			if rest, t.Prefix4, t.Prefix6, err = cutDualCIDR(rest); err != nil {
				return t, err
			}
		}
		if rest == "" {
			return t, nil
		}
		if !strings.HasPrefix(rest, ":") {
			return t, fmt.Errorf("unexpected %q after %q", rest, t.Name)
		}
		t.Value = rest[1:]
		return t, checkDomainSpec(t.Value)
	case "ip4", "ip6":
		if !strings.HasPrefix(rest, ":") {
			return t, fmt.Errorf("%q needs an address", t.Name)
		}
		ip, bits, hasBits := strings.Cut(rest[1:], "/")
		a, err := netip.ParseAddr(ip)
		if err != nil || a.Zone() != "" || (t.Name == "ip4") != a.Is4() {
			return t, fmt.Errorf("%q is not an %s address", ip, map[string]string{"ip4": "IPv4", "ip6": "IPv6"}[t.Name])
		}
		t.Value = ip
		if hasBits {
			n, err := cidrLen(bits, a.BitLen())
			if err != nil {
				return t, err
			}
			t.Prefix4 = n
		}
	default:
		return t, fmt.Errorf("unknown mechanism %q", t.Name)
	}
	return t, nil
}

// nameLen returns the length of the modifier name at the start of s, 0 if there is none.
func nameLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'):
		default:
			return i
		}
	}
	return len(s)
}

// cutDualCIDR removes a trailing "/n", "//m" or "/n//m" (RFC 7208 dual-cidr-length).
func cutDualCIDR(s string) (rest string, v4, v6 int, err error) {
	v4, v6 = -1, -1
	if i := strings.LastIndex(s, "//"); i >= 0 && allDigits(s[i+2:]) {
		if v6, err = cidrLen(s[i+2:], 128); err != nil {
			return "", 0, 0, err
		}
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '/'); i >= 0 && allDigits(s[i+1:]) {
		if v4, err = cidrLen(s[i+1:], 32); err != nil {
			return "", 0, 0, err
		}
		s = s[:i]
	}
	return s, v4, v6, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cidrLen parses a prefix length: no leading zeros, at most max.
func cidrLen(s string, max int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || !allDigits(s) || n > max || len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("prefix length %q is not between 0 and %d", s, max)
	}
	return n, nil
}

// checkMacroString checks the macro syntax of s (RFC 7208 section 7.1).
func checkMacroString(s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e {
			return fmt.Errorf("character %q is not allowed", c)
		}
		if c != '%' {
			continue
		}
		if i+1 >= len(s) {
			return errors.New(`"%" at the end`)
		}
		switch s[i+1] {
		case '%', '_', '-':
			i++
			continue
		case '{':
		default:
			return fmt.Errorf(`"%%%c" is not a macro`, s[i+1])
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return errors.New(`macro without "}"`)
		}
		if _, err := parseMacro(s[i+2 : i+end]); err != nil {
			return err
		}
		i += end
	}
	return nil
}

// macro is the inside of "%{...}": a letter, how many labels to keep, reversal, delimiters.
type macro struct {
	letter  byte
	keep    int // 0: all
	reverse bool
	delims  string
}

func parseMacro(s string) (macro, error) {
	var m macro
	if s == "" || strings.IndexByte("slodiphcrtvSLODIPHCRTV", s[0]) < 0 {
		return m, fmt.Errorf("macro %%{%s} has no valid letter", s)
	}
	m.letter = s[0] | 0x20
	s = s[1:]
	j := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j > 0 {
		n, err := strconv.Atoi(s[:j])
		if err != nil || n == 0 || n > 128 {
			return m, fmt.Errorf("macro transformer %q is not a label count", s[:j])
		}
		m.keep = n
	}
	s = s[j:]
	if s != "" && (s[0] == 'r' || s[0] == 'R') {
		m.reverse = true
		s = s[1:]
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(".-+,/_=", s[i]) < 0 {
			return m, fmt.Errorf("macro delimiter %q is not one of .-+,/_=", s[i])
		}
	}
	m.delims = s
	return m, nil
}

// checkDomainSpec checks a domain-spec: a macro-string whose end is a top label (not all
// digits) or a macro.
func checkDomainSpec(s string) error {
	if s == "" {
		return errors.New("empty domain")
	}
	if err := checkMacroString(s); err != nil {
		return err
	}
	if strings.HasSuffix(s, "}") {
		return nil
	}
	labels := strings.Split(strings.TrimSuffix(s, "."), ".")
	if len(labels) < 2 {
		return fmt.Errorf("%q is not a domain with at least two labels", s)
	}
	top := labels[len(labels)-1]
	if top == "" || allDigits(top) || strings.HasPrefix(top, "-") || strings.HasSuffix(top, "-") {
		return fmt.Errorf("%q does not end in a valid top label", s)
	}
	for _, c := range []byte(top) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("%q does not end in a valid top label", s)
		}
	}
	return nil
}

// expandDomain expands the macros of a domain-spec that need only the domain being checked
// (%{d} and %{o}, with transformers). It reports false when the spec needs the sender or
// the connecting address (%{s}, %{i}, …), which an outside scan does not have.
func expandDomain(spec, domain string) (string, bool) {
	domain = strings.TrimSuffix(domain, ".")
	var b strings.Builder
	for i := 0; i < len(spec); i++ {
		c := spec[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(spec) {
			return "", false
		}
		switch spec[i+1] {
		case '%':
			b.WriteByte('%')
			i++
			continue
		case '_':
			b.WriteByte(' ')
			i++
			continue
		case '-':
			b.WriteString("%20")
			i++
			continue
		}
		end := strings.IndexByte(spec[i:], '}')
		if spec[i+1] != '{' || end < 0 {
			return "", false
		}
		m, err := parseMacro(spec[i+2 : i+end])
		if err != nil || (m.letter != 'd' && m.letter != 'o') {
			return "", false
		}
		b.WriteString(m.apply(domain))
		i += end
	}
	out := strings.TrimSuffix(b.String(), ".")
	// RFC 7208 section 7.3: drop leading labels until the result is at most 253 characters.
	for len(out) > 253 {
		_, rest, ok := strings.Cut(out, ".")
		if !ok {
			return "", false
		}
		out = rest
	}
	return out, out != ""
}

func (m macro) apply(value string) string {
	delims := m.delims
	if delims == "" {
		delims = "."
	}
	parts := strings.FieldsFunc(value, func(r rune) bool { return strings.ContainsRune(delims, r) })
	if m.reverse {
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
	}
	if m.keep > 0 && m.keep < len(parts) {
		parts = parts[len(parts)-m.keep:]
	}
	return strings.Join(parts, ".")
}
