package dnscheck

import (
	"strings"
	"testing"
)

func TestParseSPF(t *testing.T) {
	tests := []struct {
		in       string
		wantErr  string // substring; "" means valid
		terms    string // the terms rendered back, space-separated
		redirect string
	}{
		{"v=spf1 -all", "", "-all", ""},
		{"V=SPF1 +ALL", "", "all", ""},
		{"v=spf1", "", "", ""},
		{"v=spf1 mx a:mail.example.vn/24 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all", "", "mx a:mail.example.vn/24 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all", ""},
		{"v=spf1 a/24//64 mx//48 ?ptr -exists:%{i}.bl.example.vn", "", "a/24//64 mx//48 ?ptr -exists:%{i}.bl.example.vn", ""},
		{"v=spf1 include:_spf.example.vn redirect=_spf2.example.vn", "", "include:_spf.example.vn redirect=_spf2.example.vn", "_spf2.example.vn"},
		{"v=spf1 include:%{d2}.example.vn exp=explain.%{d} foo=bar -all", "", "include:%{d2}.example.vn exp=explain.%{d} foo=bar -all", ""},
		{"v=spf1   ip4:203.0.113.5   -all  ", "", "ip4:203.0.113.5 -all", ""},
		{"v=spf10 -all", "does not start", "", ""},
		{"spf1 -all", "does not start", "", ""},
		{"v=spf1 all:example.vn", "takes no argument", "", ""},
		{"v=spf1 include", "needs a domain", "", ""},
		{"v=spf1 include:", "empty domain", "", ""},
		{"v=spf1 include:example", "two labels", "", ""},
		{"v=spf1 include:example.123", "top label", "", ""},
		{"v=spf1 ip4:300.1.1.1", "not an IPv4", "", ""},
		{"v=spf1 ip4:2001:db8::1", "not an IPv4", "", ""},
		{"v=spf1 ip6:192.0.2.1", "not an IPv6", "", ""},
		{"v=spf1 ip4:192.0.2.0/33", "prefix length", "", ""},
		{"v=spf1 ip4:192.0.2.0/024", "prefix length", "", ""},
		{"v=spf1 a/129", "prefix length", "", ""},
		{"v=spf1 foo -all", "unknown mechanism", "", ""},
		{"v=spf1 redirect=a.example.vn redirect=b.example.vn", "more than once", "", ""},
		{"v=spf1 include:%{x}.example.vn", "no valid letter", "", ""},
		{"v=spf1 include:%{d0}.example.vn", "label count", "", ""},
		{"v=spf1 include:%{d}example%", `"%" at the end`, "", ""},
		{"v=spf1 include:%a.example.vn", "not a macro", "", ""},
		{"v=spf1 exists:%{i", `without "}"`, "", ""},
		{"v=spf1 +", "unknown mechanism", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			rec, err := parseSPF(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseSPF(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseSPF(%q) = %v", tt.in, err)
			}
			var got []string
			for _, term := range rec.Terms {
				got = append(got, term.String())
			}
			if strings.Join(got, " ") != tt.terms || rec.Redirect != tt.redirect {
				t.Errorf("parseSPF(%q) = %q redirect %q, want %q redirect %q", tt.in, got, rec.Redirect, tt.terms, tt.redirect)
			}
		})
	}
}

func TestSPFTermLookup(t *testing.T) {
	rec, err := parseSPF("v=spf1 include:a.vn a mx ptr exists:b.vn ip4:192.0.2.1 ip6:::1 all exp=c.vn redirect=d.vn")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, term := range rec.Terms {
		if term.lookup() {
			n++
		}
	}
	if n != 6 {
		t.Errorf("%d terms cost a lookup, want 6 (include a mx ptr exists redirect)", n)
	}
}

func TestExpandDomain(t *testing.T) {
	tests := []struct {
		spec, domain, want string
		ok                 bool
	}{
		{"_spf.example.vn", "example.vn", "_spf.example.vn", true},
		{"%{d}", "mail.example.vn.", "mail.example.vn", true},
		{"_spf.%{d2}", "a.b.example.vn", "_spf.example.vn", true},
		{"%{dr}.rev", "a.example.vn", "vn.example.a.rev", true},
		{"%{o1r}.x.vn", "a.example.vn", "a.x.vn", true},
		{"%{d-}.x.vn", "a-b.vn", "a.b.vn.x.vn", true},
		{"100%%.example.vn", "e.vn", "100%.example.vn", true},
		{"%{i}._spf.example.vn", "example.vn", "", false},
		{"%{s}", "example.vn", "", false},
		{"%{l}.%{d}", "example.vn", "", false},
	}
	for _, tt := range tests {
		got, ok := expandDomain(tt.spec, tt.domain)
		if got != tt.want || ok != tt.ok {
			t.Errorf("expandDomain(%q, %q) = %q, %v; want %q, %v", tt.spec, tt.domain, got, ok, tt.want, tt.ok)
		}
	}
}

func TestIsSPF(t *testing.T) {
	tests := map[string]bool{
		"v=spf1": true, "v=spf1 -all": true, "V=SPF1 mx": true,
		"v=spf10": false, "v=spf1\t-all": false, " v=spf1": false, "spf2.0/pra": false, "": false,
	}
	for in, want := range tests {
		if got := isSPF(in); got != want {
			t.Errorf("isSPF(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseDMARC(t *testing.T) {
	tests := []struct {
		in       string
		wantErr  string
		p        string
		implied  bool
		pct      int
		sp       string
		rua      int
		warnings int
	}{
		{"v=DMARC1; p=reject", "", "reject", false, 100, "", 0, 0},
		{"v=DMARC1;p=none;rua=mailto:a@example.vn,mailto:b@example.vn", "", "none", false, 100, "", 2, 0},
		{"v = DMARC1 ; p = Quarantine ; pct = 25 ; sp=reject;", "", "quarantine", false, 25, "reject", 0, 0},
		{"v=DMARC1; p=reject; adkim=s; aspf=r; fo=1; rf=afrf; ri=86400; ruf=mailto:f@example.vn", "", "reject", false, 100, "", 0, 0},
		{"v=DMARC1; rua=mailto:a@example.vn", "", "none", true, 100, "", 1, 0},
		{"v=DMARC1; p=bogus; rua=mailto:a@example.vn", "", "none", true, 100, "", 1, 0},
		{"v=DMARC1; p=reject; pct=150; sp=maybe; adkim=x; p=none; t=y", "", "reject", false, 100, "", 0, 5},
		{"v=DMARC1; p=quarantine; pct=0", "", "quarantine", false, 0, "", 0, 0},
		{"v=DMARC1", "no \"p\" tag", "", false, 0, "", 0, 0},
		{"v=DMARC1; p=bogus", "p=bogus", "", false, 0, "", 0, 0},
		{"v=dmarc1; p=reject", "does not start", "", false, 0, "", 0, 0},
		{"p=reject; v=DMARC1", "does not start", "", false, 0, "", 0, 0},
		{"v=DMARC1x; p=reject", "does not start", "", false, 0, "", 0, 0},
		{"v=DMARC1; p=reject; junk", "not tag=value", "", false, 0, "", 0, 0},
		{"v=DMARC1; p=reject; v=DMARC1", `"v" is repeated`, "", false, 0, "", 0, 0},
		{"v=DMARC1; 1p=reject", "not a tag name", "", false, 0, "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := parseDMARC(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseDMARC(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseDMARC(%q) = %v", tt.in, err)
			}
			if r.Policy != tt.p || r.PolicyImplied != tt.implied || r.Percent != tt.pct || r.Subdomain != tt.sp || len(r.RUA) != tt.rua || len(r.Warnings) != tt.warnings {
				t.Errorf("parseDMARC(%q) = %+v; want p=%s implied=%v pct=%d sp=%q rua=%d warnings=%d",
					tt.in, r, tt.p, tt.implied, tt.pct, tt.sp, tt.rua, tt.warnings)
			}
		})
	}
}

func FuzzParseSPF(f *testing.F) {
	for _, s := range []string{
		"v=spf1 -all",
		"v=spf1 mx a:mail.example.vn/24//64 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.vn ~all",
		"v=spf1 exists:%{ir}.%{v}._spf.%{d2} redirect=_spf.example.vn exp=%{d}",
		"v=spf1 include:%{d-r}.x.vn ?all",
		"v=spf1 a//0 mx/0 ptr:example.vn",
		"V=SPF1 +ALL",
	} {
		f.Add(s, "example.vn")
	}
	f.Fuzz(func(t *testing.T, txt, domain string) {
		rec, err := parseSPF(txt)
		if err != nil {
			return
		}
		// What parses renders back to a record that parses to the same terms.
		var b strings.Builder
		b.WriteString("v=spf1")
		for _, term := range rec.Terms {
			b.WriteString(" " + term.String())
			if term.lookup() && term.Value != "" {
				if out, ok := expandDomain(term.Value, domain); ok && len(out) > 253 {
					t.Errorf("expandDomain(%q, %q) = %d characters", term.Value, domain, len(out))
				}
			}
		}
		again, err := parseSPF(b.String())
		if err != nil {
			t.Fatalf("parseSPF(%q) ok but its rendering %q fails: %v", txt, b.String(), err)
		}
		if len(again.Terms) != len(rec.Terms) || again.Redirect != rec.Redirect {
			t.Fatalf("parseSPF(%q) = %v; its rendering parses to %v", txt, rec.Terms, again.Terms)
		}
		for i := range rec.Terms {
			if again.Terms[i] != rec.Terms[i] {
				t.Fatalf("term %d: %+v, after rendering %+v", i, rec.Terms[i], again.Terms[i])
			}
		}
	})
}

func FuzzParseDMARC(f *testing.F) {
	for _, s := range []string{
		"v=DMARC1; p=reject",
		"v=DMARC1; p=none; rua=mailto:a@example.vn; ruf=mailto:f@example.vn; fo=1",
		"v = DMARC1 ; p = quarantine ; pct = 25 ; sp=reject; adkim=s; aspf=r;",
		"v=DMARC1; rua=mailto:a@example.vn",
		"v=DMARC1; p=reject; pct=150; p=none",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, txt string) {
		r, err := parseDMARC(txt)
		if err != nil {
			return
		}
		if !isDMARC(txt) {
			t.Errorf("parseDMARC(%q) accepted a record isDMARC refuses", txt)
		}
		if !isPolicy(r.Policy) || r.Percent < 0 || r.Percent > 100 || r.Subdomain != "" && !isPolicy(r.Subdomain) {
			t.Errorf("parseDMARC(%q) = %+v", txt, r)
		}
	})
}
