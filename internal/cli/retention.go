package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// retention is a flag value for how long to keep something: a Go duration ("9000h") or a
// whole number of days ("400d"), the unit retention policies are written in.
type retention time.Duration

func (r *retention) String() string {
	if r == nil || *r == 0 {
		return ""
	}
	d := time.Duration(*r)
	if d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

func (r *retention) Set(s string) error {
	s = strings.TrimSpace(s)
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 100*366 {
			return fmt.Errorf("%q: write a number of days from 1 to 36600, like 400d", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return fmt.Errorf("%q: write days (400d) or a duration (9000h)", s)
		}
	}
	if d < time.Hour {
		return fmt.Errorf("%q: keep results at least an hour", s)
	}
	*r = retention(d)
	return nil
}
