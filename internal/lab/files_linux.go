//go:build linux

package lab

import (
	"fmt"
	"syscall"
)

// raiseFileLimit raises the soft open-file limit to the hard one and, when even that is below
// need, tries to raise both to need, which a process with CAP_SYS_RESOURCE (root, usually)
// may do. It returns the soft limit it leaves in force.
func raiseFileLimit(need uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("lab: read the open-file limit: %w", err)
	}
	if lim.Max < need {
		raised := syscall.Rlimit{Cur: need, Max: need}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			return need, nil
		}
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, fmt.Errorf("lab: raise the open-file limit to %d: %w", lim.Max, err)
		}
	}
	return lim.Cur, nil
}
