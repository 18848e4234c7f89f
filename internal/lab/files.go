package lab

import (
	"errors"

	"github.com/khien-vn/khien/internal/errs"
)

// What a lab holds open. Every simulated host listens on an address of its own (a benchmark
// host on 80 and 443), and Linux gives each (address, port) its own socket: a listener bound
// to one loopback address cannot accept another's connections, and one bound to every address
// would listen beyond loopback. So descriptors grow with the hosts, and a large lab meets
// RLIMIT_NOFILE before anything else.
const (
	filesPerBenchHost = 2    // its HTTP and HTTPS listeners
	filesFixed        = 64   // DNS, mail and scenario servers (45 when this was written) and the process's own
	filesSpare        = 1024 // the store, ownership proofs and the connections of scans in progress
)

// FilesNeeded returns how many open files a lab with hosts benchmark hosts needs.
func FilesNeeded(hosts int) uint64 {
	return filesFixed + filesSpare + filesPerBenchHost*uint64(max(hosts, 0))
}

// MaxHostsFor returns the most benchmark hosts a lab can start under an open-file limit.
func MaxHostsFor(limit uint64) int {
	base := FilesNeeded(0)
	if limit <= base {
		return 0
	}
	return int(min((limit-base)/filesPerBenchHost, MaxHosts))
}

// ErrFileLimit is returned, wrapped, when the open-file limit cannot hold the lab asked for.
var ErrFileLimit = errors.New("open-file limit (RLIMIT_NOFILE) too low")

// fileLimitError explains, before anything starts, that hosts benchmark hosts do not fit
// under limit open files, and what does.
func fileLimitError(hosts int, limit uint64) error {
	need := FilesNeeded(hosts)
	return errs.Wrap(errs.Invalid, ErrFileLimit,
		"lab: %d máy đo hiệu năng cần khoảng %d tệp mở nhưng giới hạn là %d; tối đa %d máy / "+
			"%d benchmark hosts need about %d open files (%d listeners each, plus %d for the lab's own servers and connections) "+
			"but the limit is %d: start at most %d, or raise the hard limit first (as root: ulimit -Hn %d; "+
			"in a systemd unit: LimitNOFILE=%d)",
		hosts, need, limit, MaxHostsFor(limit),
		hosts, need, filesPerBenchHost, FilesNeeded(0), limit, MaxHostsFor(limit), need, need)
}

// ensureFiles raises the open-file limit as far as the lab needs and the system allows, and
// says clearly when hosts benchmark hosts still do not fit.
func ensureFiles(hosts int) error {
	limit, err := raiseFileLimit(FilesNeeded(hosts))
	if err != nil {
		return err
	}
	if limit != 0 && limit < FilesNeeded(hosts) {
		return fileLimitError(hosts, limit)
	}
	return nil
}
