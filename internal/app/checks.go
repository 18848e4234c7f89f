package app

import (
	"context"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/datacheck"
	"github.com/khien-vn/khien/internal/check/dnscheck"
	"github.com/khien-vn/khien/internal/check/exposure"
	"github.com/khien-vn/khien/internal/check/httpcheck"
	"github.com/khien-vn/khien/internal/check/tlscheck"
	"github.com/khien-vn/khien/internal/check/vulncheck"
	"github.com/khien-vn/khien/internal/data"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/vuln"
)

// FamilyOptions tunes the check families; zero values take each family's defaults (the
// standard ports). Tests that cannot bind privileged ports map them through here.
type FamilyOptions struct {
	HTTPPort, HTTPSPort int
	SMTPPort, DNSPort   int
	// ServicePorts maps an exposure protocol name to the ports probed for it.
	ServicePorts map[string][]int
	// BannerPorts maps "ssh", "ftp", "smtp" to the ports the vulnerability family reads.
	BannerPorts map[string]int
	// Vuln is the index of imported feeds; nil means none imported.
	Vuln *vuln.Index
	// DataKey keys the hashes of personal data found on pages, so that the same value is
	// recognized across scans without being stored. Nil draws one per process.
	DataKey []byte
	// System looks up a resource's system for the data-security family (stage, data classes);
	// the inventory Store or Service provides it. Nil: that family reports errors saying so.
	System func(ctx context.Context, id string) (inventory.System, error)
	// DBCredentials gives the data-security family the user and password of db: resources
	// (data.PassFile reads them from a libpq-style password file); nil connects without.
	DBCredentials data.Credentials
	// DataRoots are the directories the data-security family may read file: locations under
	// (khien serve/worker --data-root); none means file locations are reported as not read.
	DataRoots data.Roots
	// Profile grades the tls and http families by Khiên's choices (empty, check.ProfileKhien)
	// or by a peer's (testssl.sh, the MDN HTTP Observatory); observation is the same.
	Profile check.Profile
}

// Families lists every check family, explicitly and in catalog order (no init() registration).
func Families(o FamilyOptions) []check.Runner {
	dns := dnscheck.Options{SMTPPort: o.SMTPPort, DNSPort: o.DNSPort}
	ports := o.ServicePorts
	if o.HTTPPort != 0 || o.HTTPSPort != 0 {
		ports = map[string][]int{}
		for k, v := range o.ServicePorts {
			ports[k] = v
		}
		if o.HTTPPort != 0 {
			ports[exposure.HTTP] = []int{o.HTTPPort}
		}
		if o.HTTPSPort != 0 {
			ports[exposure.HTTPS] = []int{o.HTTPSPort}
		}
	}
	fams := []check.Runner{
		tlscheck.FamilyWith(tlscheck.GradingFor(o.Profile)),
		httpcheck.Family(httpcheck.Options{HTTPPort: o.HTTPPort, HTTPSPort: o.HTTPSPort, Grading: httpcheck.GradingFor(o.Profile)}),
		exposure.Family(exposure.Options{Ports: ports}),
	}
	fams = append(fams, dnscheck.Families(dns)...)
	fams = append(fams,
		vulncheck.Family(o.Vuln, vulncheck.Options{HTTPPort: o.HTTPPort, HTTPSPort: o.HTTPSPort, BannerPorts: o.BannerPorts}),
		datacheck.Family(datacheck.Config{Key: o.DataKey}),
		data.Family(data.FamilyConfig{System: o.System, Credentials: o.DBCredentials, Roots: o.DataRoots, Key: o.DataKey}),
	)
	return fams
}
