package inventory

import (
	"errors"
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/errs"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // the normalized identifier, or
		wantErr  string // the exact error message
	}{
		// dns
		{"dns lower", "dns:portal.hanoi.gov.vn", "dns:portal.hanoi.gov.vn", ""},
		{"dns upper case", "DNS:Portal.HaNoi.GOV.VN", "dns:portal.hanoi.gov.vn", ""},
		{"dns trailing dot", "dns:hanoi.gov.vn.", "dns:hanoi.gov.vn", ""},
		{"dns spaces around", "  dns: hanoi.gov.vn  ", "dns:hanoi.gov.vn", ""},
		{"dns IDNA Unicode", "dns:bộ-y-tế.vn", "dns:xn--b-y-t-s61b7g.vn", ""},
		{"dns IDNA xn-- form", "dns:xn--b-y-t-s61b7g.vn", "dns:xn--b-y-t-s61b7g.vn", ""},
		{"dns IDNA upper case", "dns:Bộ-Y-Tế.VN.", "dns:xn--b-y-t-s61b7g.vn", ""},
		{"dns IDNA upper xn--", "dns:XN--B-Y-T-S61B7G.VN", "dns:xn--b-y-t-s61b7g.vn", ""},
		{"dns ideographic full stop", "dns:hanoi。gov。vn", "dns:hanoi.gov.vn", ""},
		{"dns _dmarc label", "dns:_dmarc.Hanoi.gov.vn", "dns:_dmarc.hanoi.gov.vn", ""},
		{"dns two service labels", "dns:_443._tcp.hanoi.gov.vn", "dns:_443._tcp.hanoi.gov.vn", ""},
		{"dns wildcard", "dns:*.hanoi.gov.vn", "dns:*.hanoi.gov.vn", ""},
		{"dns space", "dns:exa mple.vn", "", `id: "dns:exa mple.vn": not a valid domain name (idna: disallowed rune U+0020)`},
		{"dns empty label", "dns:a..vn", "", `id: "dns:a..vn": domain name has an empty label`},
		{"dns bare underscore", "dns:_.hanoi.gov.vn", "", `id: "dns:_.hanoi.gov.vn": label "_" is not valid`},
		{"dns leading hyphen", "dns:-a.vn", "", `id: "dns:-a.vn": not a valid domain name (idna: invalid label "-a")`},
		{"dns long label", "dns:" + strings.Repeat("a", 64) + ".vn", "", `id: "dns:` + strings.Repeat("a", 64) + `.vn": label "` + strings.Repeat("a", 64) + `" is longer than 63 characters`},
		{"dns long name", "dns:" + strings.Repeat("a.", 127) + "vn", "", `id: "dns:` + strings.Repeat("a.", 127) + `vn": domain name is 256 characters long, more than 253`},
		{"dns is an IP", "dns:192.0.2.1", "", `id: "dns:192.0.2.1": an IP address is not a domain name; use ip:`},
		{"dns full-width IP", "dns:１９２.０.２.１", "", `id: "dns:１９２.０.２.１": is the IP address 192.0.2.1 written in other characters; write it in ASCII digits`},
		{"dns only a dot", "dns:.", "", `id: "dns:.": empty domain name`},
		{"dns mistyped IP", "dns:999.1.1.1", "", `id: "dns:999.1.1.1": ends in the number 1, which no top-level domain is; for an IP address use ip:`},
		{"dns numeric label inside", "dns:123.hanoi.vn", "dns:123.hanoi.vn", ""},

		// ip
		{"IPv4", "ip:192.0.2.10", "ip:192.0.2.10", ""},
		{"IPv4 bad octet", "ip:999.1.1.1", "", `id: "ip:999.1.1.1": not an IP address`},
		{"IPv4 leading zero", "ip:192.0.2.010", "", `id: "ip:192.0.2.010": not an IP address`},
		{"IPv6 canonical", "ip:2001:DB8:0:0::1", "ip:2001:db8::1", ""},
		{"IPv6 long form", "ip:2001:0db8:0000:0000:0000:0000:0000:0001", "ip:2001:db8::1", ""},
		{"IPv6 brackets", "ip:[2001:db8::1]", "ip:2001:db8::1", ""},
		{"IPv4-mapped", "ip:::ffff:192.0.2.1", "ip:192.0.2.1", ""},
		{"IPv4-mapped hex", "ip:::FFFF:C000:0201", "ip:192.0.2.1", ""},
		{"IPv6 zone refused", "ip:fe80::1%eth0", "", `id: "ip:fe80::1%eth0": an address with a zone (%eth0) cannot be scanned from elsewhere`},
		{"ip hostname", "ip:hanoi.gov.vn", "", `id: "ip:hanoi.gov.vn": not an IP address`},

		// cidr
		{"CIDR masked", "cidr:192.0.2.7/24", "cidr:192.0.2.0/24", ""},
		{"CIDR host route", "cidr:192.0.2.7/32", "cidr:192.0.2.7/32", ""},
		{"CIDR IPv6", "cidr:2001:DB8::1/32", "cidr:2001:db8::/32", ""},
		{"CIDR IPv4-mapped", "cidr:::ffff:192.0.2.7/120", "cidr:192.0.2.0/24", ""},
		{"CIDR IPv4-mapped too short", "cidr:::ffff:0.0.0.0/64", "", `id: "cidr:::ffff:0.0.0.0/64": IPv4-mapped prefix is shorter than /96`},
		{"CIDR without bits", "cidr:192.0.2.0", "", `id: "cidr:192.0.2.0": not a network in CIDR form (address/bits)`},
		{"CIDR bits too many", "cidr:192.0.2.0/33", "", `id: "cidr:192.0.2.0/33": not a network in CIDR form (address/bits)`},

		// url
		{"URL default port removed", "url:https://example.vn:443/a", "url:https://example.vn/a", ""},
		{"URL upper case https 443", "url:HTTPS://Example.VN:443", "url:https://example.vn/", ""},
		{"URL http 80", "url:http://example.vn:80/", "url:http://example.vn/", ""},
		{"URL other port kept", "url:https://example.vn:8443/", "url:https://example.vn:8443/", ""},
		{"URL port leading zero", "url:https://example.vn:0443/", "url:https://example.vn/", ""},
		{"URL fragment dropped", "url:https://example.vn/a?b=1#c", "url:https://example.vn/a?b=1", ""},
		{"URL IDNA host", "url:https://Bộ-Y-Tế.vn/", "url:https://xn--b-y-t-s61b7g.vn/", ""},
		{"URL IPv6 host", "url:http://[2001:DB8::1]:8080/", "url:http://[2001:db8::1]:8080/", ""},
		{"URL IPv4-mapped host", "url:http://[::ffff:192.0.2.1]/", "url:http://192.0.2.1/", ""},
		{"URL userinfo refused", "url:https://admin:secret@example.vn/", "", `id: "url:https://admin:secret@example.vn/": credentials do not belong in the inventory; remove the user:password@ part`},
		{"URL scheme", "url:ftp://example.vn/", "", `id: "url:ftp://example.vn/": scheme must be http or https, got "ftp"`},
		{"URL no host", "url:https:///a", "", `id: "url:https:///a": URL has no host`},
		{"URL bad port", "url:https://example.vn:70000/", "", `id: "url:https://example.vn:70000/": port "70000" is not 1 to 65535`},

		// db
		{"db name", "db:HoSo_Dan_Cu", "db:hoso_dan_cu", ""},
		{"db postgres URL", "db:postgresql://DB.HaNoi.gov.vn:5432/hoso", "db:postgres://db.hanoi.gov.vn/hoso", ""},
		{"db postgres other port", "db:postgres://db.hanoi.gov.vn:6432/hoso/", "db:postgres://db.hanoi.gov.vn:6432/hoso", ""},
		{"db mysql URL", "db:MYSQL://db.hanoi.gov.vn:3306/cms", "db:mysql://db.hanoi.gov.vn/cms", ""},
		{"db escaped name kept escaped", "db:postgres://db.hanoi.gov.vn/a%3Fb", "db:postgres://db.hanoi.gov.vn/a%3Fb", ""},
		{"db credentials", "db:postgres://u:p@db.hanoi.gov.vn/hoso", "", `id: "db:postgres://u:p@db.hanoi.gov.vn/hoso": credentials do not belong in the inventory; remove the user:password@ part`},
		{"db query", "db:postgres://db.hanoi.gov.vn/hoso?sslmode=disable", "", `id: "db:postgres://db.hanoi.gov.vn/hoso?sslmode=disable": a database identifier takes no query or fragment`},
		{"db no name", "db:postgres://db.hanoi.gov.vn/", "", `id: "db:postgres://db.hanoi.gov.vn/": database URL names no database (…/name)`},
		{"db scheme", "db:mongodb://db.hanoi.gov.vn/x", "", `id: "db:mongodb://db.hanoi.gov.vn/x": database scheme must be postgres or mysql, got "mongodb"`},
		{"db bad name", "db:hồ sơ", "", `id: "db:hồ sơ": database name "hồ sơ" may hold only ASCII letters, digits, '.', '-' and '_'`},

		// host
		{"host id", "host:SRV-Web-01.hanoi", "host:srv-web-01.hanoi", ""},
		{"host bad", "host:srv/01", "", `id: "host:srv/01": agent id may hold only letters, digits, '-', '_' and '.'`},
		{"host Kelvin sign", "host:\u212A1", "", `id: "host:` + "\u212A" + `1": agent id may hold only letters, digits, '-', '_' and '.'`},

		// file
		{"file path", "file:/srv/share/ho-so", "file:/srv/share/ho-so", ""},
		{"file upper kind, case kept", "FILE:/Srv/Hồ Sơ", "file:/Srv/Hồ Sơ", ""},
		{"file cleaned", "file://srv//share/./ho-so/", "file:/srv/share/ho-so", ""},
		{"file root", "file:/", "file:/", ""},
		{"file dots in names", "file:/srv/a..b/.env", "file:/srv/a..b/.env", ""},
		{"file relative", "file:srv/share", "", `id: "file:srv/share": a file location is an absolute path starting with /`},
		{"file climbs", "file:/srv/share/../etc", "", `id: "file:/srv/share/../etc": path climbs with ".."; write the directory it means`},
		{"file climbs at end", "file:/srv/..", "", `id: "file:/srv/..": path climbs with ".."; write the directory it means`},
		{"file NUL", "file:/srv/a\x00b", "", `id: "file:/srv/a\x00b": path holds the control character U+0000`},
		{"file C1 control", "file:/srv/a\u0085b", "", `id: "file:/srv/a\u0085b": path holds the control character U+0085`},
		{"file too long", "file:/" + strings.Repeat("a", 4096), "", `id: "file:/` + strings.Repeat("a", 4096) + `": path is 4097 bytes long, more than 4096`},
		{"file name ends with a space", "file:/ /", "", `id: "file:/ /": the name " " ends with a space`},
		{"file Windows path", `file:C:\share`, "", `id: "file:C:\\share": a file location is an absolute path starting with /`},

		// kind
		{"unknown kind", "mail:a@example.vn", "", `id: unknown kind "mail" in "mail:a@example.vn"; use one of dns, ip, cidr, url, host, db, file`},
		{"no kind", "example.vn", "", `id: "example.vn" has no kind prefix; write one of dns:, ip:, cidr:, url:, host:, db:, file:`},
		{"empty", "", "", `id: "" has no kind prefix; write one of dns:, ip:, cidr:, url:, host:, db:, file:`},
		{"invalid UTF-8", "dns:\xbf.vn", "", `id: "dns:\xbf.vn" is not valid UTF-8 text`},
		{"empty kind", ":example.vn", "", `id: ":example.vn" has no kind prefix; write one of dns:, ip:, cidr:, url:, host:, db:, file:`},
		{"nothing after kind", "dns: ", "", `id: "dns:" has nothing after "dns:"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Normalize(%q) = %q, want error %q", tt.in, got, tt.wantErr)
				}
				if err.Error() != tt.wantErr {
					t.Errorf("Normalize(%q) error:\n got  %s\n want %s", tt.in, err, tt.wantErr)
				}
				var e *errs.Error
				if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Field != "id" {
					t.Errorf("Normalize(%q) error = %#v, want an errs.Invalid about field id", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again, err := Normalize(got); err != nil || again != got {
				t.Errorf("Normalize(%q) = %q, %v; not idempotent", got, again, err)
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{"hanoi.gov.vn", "dns:hanoi.gov.vn", ""},
		{"Bộ-Y-Tế.vn.", "dns:xn--b-y-t-s61b7g.vn", ""},
		{"192.0.2.1", "ip:192.0.2.1", ""},
		{"2001:DB8:0:0::1", "ip:2001:db8::1", ""},
		{"[2001:db8::1]", "ip:2001:db8::1", ""},
		{"::ffff:192.0.2.1", "ip:192.0.2.1", ""},
		{"192.0.2.7/24", "cidr:192.0.2.0/24", ""},
		{"2001:db8::1/32", "cidr:2001:db8::/32", ""},
		{"HTTPS://Example.VN:443", "url:https://example.vn/", ""},
		{"http://example.vn:8080/a#b", "url:http://example.vn:8080/a", ""},
		{"dns:Example.VN", "dns:example.vn", ""},
		{"IP:192.0.2.1", "ip:192.0.2.1", ""},
		{"host:srv-01", "host:srv-01", ""},
		{"db:postgres://db.example.vn/x", "db:postgres://db.example.vn/x", ""},
		{"  example.vn  ", "dns:example.vn", ""},
		{"file:/srv/share/", "file:/srv/share", ""},
		{"/srv/share/ho-so/", "file:/srv/share/ho-so", ""},
		{"exa mple.vn", "", `id: "dns:exa mple.vn": not a valid domain name (idna: disallowed rune U+0020)`},
		{"999.1.1.1", "", `id: "dns:999.1.1.1": ends in the number 1, which no top-level domain is; for an IP address use ip:`},
		{"https://u:p@example.vn/", "", `id: "url:https://u:p@example.vn/": credentials do not belong in the inventory; remove the user:password@ part`},
		{"", "", `id: "dns:" has nothing after "dns:"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTarget(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("ParseTarget(%q) = %q, %v; want error %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseTarget(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// FuzzNormalize checks that Normalize never panics, that its errors are Invalid errors about
// the id, and that it is idempotent: a normalized identifier normalizes to itself. The
// inventory relies on that: export writes normalized identifiers and import normalizes them
// again, so a lapse would turn one resource into two.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"dns:bộ-y-tế.vn", "dns:xn--b-y-t-s61b7g.vn", "DNS:Example.VN.", "dns:_dmarc.example.vn", "dns:*.example.vn",
		"dns:１.２.３.４", "dns:a。b", "ip:2001:DB8:0:0::1", "ip:::ffff:192.0.2.1", "ip:fe80::1%eth0", "ip:999.1.1.1",
		"cidr:192.0.2.7/24", "cidr:::ffff:1.2.3.4/120", "url:HTTPS://Example.VN:443", "url:http://[::1]:80/a?b#c",
		"url:http://a.vn/%7e", "url:https://u:p@example.vn/", "db:postgres://h:5432/a%3Fb", "db:Name", "host:SRV-01",
		"mail:x", "", ":", "dns:",
		"file:/srv/share/ho-so", "file://a/./b/", "file:/a/../b", "file:rel", "file:/a\x00", "FILE:/Hồ Sơ/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		norm, err := Normalize(id)
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Field != "id" {
				t.Fatalf("Normalize(%q) error %#v is not an errs.Invalid about id", id, err)
			}
			return
		}
		again, err := Normalize(norm)
		if err != nil {
			t.Fatalf("Normalize(%q) = %q, which does not normalize: %v", id, norm, err)
		}
		if again != norm {
			t.Fatalf("Normalize(%q) = %q, but Normalize(%q) = %q", id, norm, norm, again)
		}
		if target, err := ParseTarget(norm); err != nil || target != norm {
			t.Fatalf("ParseTarget(%q) = %q, %v; want it unchanged", norm, target, err)
		}
	})
}
