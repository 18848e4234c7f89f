package control

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Period is a calendar period in the ISO 8601 form the catalog uses: "P1Y", "P6M", "P3M",
// "P1M", "P30D", or a combination such as "P1Y6M". Calendar units matter: an attestation made
// on 31 January for one month lapses on 3 March in a common year, as time.AddDate counts.
type Period struct {
	Years, Months, Days int
}

// ParsePeriod parses an ISO 8601 period of years, months and days. The empty string is the
// zero period.
func ParsePeriod(s string) (Period, error) {
	if s == "" {
		return Period{}, nil
	}
	rest, ok := strings.CutPrefix(s, "P")
	if !ok || rest == "" {
		return Period{}, fmt.Errorf("period %q: want the form P1Y, P6M or P30D", s)
	}
	var p Period
	last := -1 // order of units: Y=0, M=1, D=2
	for rest != "" {
		i := strings.IndexAny(rest, "YMD")
		if i <= 0 {
			return Period{}, fmt.Errorf("period %q: want the form P1Y, P6M or P30D", s)
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n < 0 || n > 100 {
			return Period{}, fmt.Errorf("period %q: %q is not a count from 0 to 100", s, rest[:i])
		}
		unit := strings.IndexByte("YMD", rest[i])
		if unit <= last {
			return Period{}, fmt.Errorf("period %q: units must come once each, in the order Y, M, D", s)
		}
		last = unit
		switch unit {
		case 0:
			p.Years = n
		case 1:
			p.Months = n
		case 2:
			p.Days = n
		}
		rest = rest[i+1:]
	}
	return p, nil
}

// IsZero reports whether p is the zero period.
func (p Period) IsZero() bool { return p == Period{} }

// AddTo returns t plus p.
func (p Period) AddTo(t time.Time) time.Time { return t.AddDate(p.Years, p.Months, p.Days) }

// String returns p in ISO 8601 form, or "" for the zero period.
func (p Period) String() string {
	if p.IsZero() {
		return ""
	}
	var b strings.Builder
	b.WriteByte('P')
	for _, u := range []struct {
		n    int
		unit byte
	}{{p.Years, 'Y'}, {p.Months, 'M'}, {p.Days, 'D'}} {
		if u.n != 0 {
			b.WriteString(strconv.Itoa(u.n))
			b.WriteByte(u.unit)
		}
	}
	return b.String()
}

// MarshalText writes p in ISO 8601 form, for JSON and YAML.
func (p Period) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText parses p from ISO 8601 form, for JSON and YAML.
func (p *Period) UnmarshalText(b []byte) error {
	v, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
