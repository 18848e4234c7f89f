package vuln

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/errs"
)

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"2.4.49", "2.4.50", -1}, {"2.4.50", "2.4.49", 1}, {"2.4.49", "2.4.49", 0},
		{"2.4", "2.4.1", -1}, {"1.10.0", "1.9.9", 1}, {"1.1.1k", "1.1.1j", 1}, {"1.1.1k", "1.1.1", 1},
		{"9.3p1", "9.3p2", -1}, {"8.2p1", "9.3p2", -1}, {"9.3", "9.3p2", -1}, {"v1.2.0", "1.2.0", 0},
		{"1.0.0-rc1", "1.0.0", -1}, {"1.0.0-alpha", "1.0.0-beta", -1}, {"8.0.30-0ubuntu0.20.04.2", "8.0.30", 1},
		{"010", "9", 1}, {"1.0.a", "1.0.1", -1},
	}
	for _, tt := range tests {
		if got := Compare(tt.a, tt.b); got != tt.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func loadIndex(t *testing.T) *Index {
	t.Helper()
	f, err := os.Open("testdata/osv.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	advs, err := ParseOSV(f)
	if err != nil {
		t.Fatal(err)
	}
	k, err := os.Open("testdata/kev.json")
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	ver, kev, err := ParseKEV(k)
	if err != nil || ver != "2026.11.20" || len(kev) != 2 {
		t.Fatalf("ParseKEV = %q, %d entries, %v", ver, len(kev), err)
	}
	return NewIndex(advs, kev)
}

func TestLookup(t *testing.T) {
	ix := loadIndex(t)
	tests := []struct {
		product, version string
		want             []string // advisories, known-exploited first
		kev              int
	}{
		{"Apache", "2.4.49", []string{"KHIEN-TEST-2021-41773", "KHIEN-TEST-2021-42013"}, 2},
		{"apache httpd", "2.4.50", []string{"KHIEN-TEST-2021-42013"}, 1},
		{"httpd", "2.4.51", nil, 0},
		{"apache", "2.4.48", nil, 0},
		{"nginx", "1.18.0", []string{"KHIEN-TEST-2021-23017"}, 0},
		{"nginx", "1.20.1", nil, 0},
		{"openssh", "8.2p1", []string{"KHIEN-TEST-2023-38408"}, 0},
		{"OpenSSH", "9.3p2", nil, 0},
		{"nginx", "", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.product+" "+tt.version, func(t *testing.T) {
			ms := ix.Lookup(Software{Product: tt.product, Version: tt.version})
			var got []string
			kev := 0
			for _, m := range ms {
				got = append(got, m.Advisory)
				if m.KnownExploited {
					kev++
				}
				if m.Confidence != VersionInferred {
					t.Errorf("%s: confidence %s, want version-inferred", m.Advisory, m.Confidence)
				}
			}
			if !slices.Equal(got, tt.want) || kev != tt.kev {
				t.Errorf("Lookup = %v (%d KEV), want %v (%d KEV)", got, kev, tt.want, tt.kev)
			}
		})
	}
}

func TestParseBanner(t *testing.T) {
	tests := []struct {
		raw  string
		want []string
	}{
		{"nginx/1.18.0 (Ubuntu)", []string{"nginx 1.18.0"}},
		{"nginx", nil},
		{"Apache/2.4.49 (Unix) OpenSSL/1.1.1k PHP/7.4.3", []string{"apache httpd 2.4.49", "openssl 1.1.1k", "php 7.4.3"}},
		{"Microsoft-IIS/8.5", []string{"microsoft iis 8.5"}},
		{"SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5", []string{"openssh 8.2p1"}},
		{"220 (vsFTPd 2.3.4)", []string{"vsftpd 2.3.4"}},
		{"220 mail.example.test ESMTP Exim 4.92 Mon, 23 Nov 2026", []string{"exim 4.92"}},
		{"PHP/8.2.12", []string{"php 8.2.12"}},
	}
	for _, tt := range tests {
		var got []string
		for _, s := range ParseBanner(tt.raw, "test") {
			got = append(got, s.Product+" "+s.Version)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ParseBanner(%q) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, msg string
	}{
		{"empty", "", "the OSV file is empty"},
		{"syntax", "[{\"id\": \"X\",\n \"affected\": [}]", "OSV file line 2 column 15: invalid character '}' looking for beginning of value"},
		{"no id", `[{"affected":[{"package":{"name":"x"}}]}]`, "OSV record 1 has no id"},
		{"no affected", `{"id":"X-1"}`, "OSV record X-1 lists no affected package"},
		{"no package name", `{"vulns":[{"id":"X-2","affected":[{"package":{}}]}]}`, "OSV record X-2 has an affected entry without a package name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOSV(strings.NewReader(tt.in))
			if msg, _ := errs.Message(err); !errs.Is(err, errs.Invalid) || msg != tt.msg {
				t.Errorf("ParseOSV error = %v\nwant %q", err, tt.msg)
			}
		})
	}
	if _, _, err := ParseKEV(strings.NewReader(`{"vulnerabilities":[{"cveID":"GHSA-1"}]}`)); err == nil || !strings.Contains(err.Error(), `KEV entry 1 has cveID "GHSA-1"`) {
		t.Errorf("ParseKEV bad id = %v", err)
	}
	if _, _, err := ParseKEV(strings.NewReader(`{"title":"x"}`)); err == nil || !strings.Contains(err.Error(), "not a KEV catalog") {
		t.Errorf("ParseKEV not kev = %v", err)
	}
	if Sniff([]byte(`{"vulnerabilities":[]}`)) != "kev" || Sniff([]byte(`[{"id":"x"}]`)) != "osv" {
		t.Error("Sniff")
	}
}

func FuzzParseOSV(f *testing.F) {
	b, _ := os.ReadFile("testdata/osv.json")
	f.Add(b)
	f.Add([]byte(`{"id":"x","affected":[{"package":{"name":"p"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1"}]}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		advs, err := ParseOSV(strings.NewReader(string(b)))
		if err != nil {
			return
		}
		ix := NewIndex(advs, nil)
		for _, a := range advs {
			for _, af := range a.Affected {
				ix.Lookup(Software{Product: af.Package.Name, Version: "1.2.3"})
			}
		}
	})
}

func FuzzCompare(f *testing.F) {
	f.Add("2.4.49", "2.4.50")
	f.Add("1.1.1k", "9.3p2-rc1")
	f.Fuzz(func(t *testing.T, a, b string) {
		if Compare(a, b) != -Compare(b, a) {
			t.Errorf("Compare(%q,%q) is not antisymmetric", a, b)
		}
		if Compare(a, a) != 0 {
			t.Errorf("Compare(%q,%q) != 0", a, a)
		}
	})
}

func FuzzParseBanner(f *testing.F) {
	f.Add("Apache/2.4.49 (Unix) OpenSSL/1.1.1k")
	f.Add("SSH-2.0-OpenSSH_8.2p1")
	f.Fuzz(func(t *testing.T, raw string) {
		for _, s := range ParseBanner(raw, "fuzz") {
			if s.Product == "" || s.Version == "" {
				t.Errorf("ParseBanner(%q) gave an empty product or version: %+v", raw, s)
			}
		}
	})
}
