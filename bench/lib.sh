# Shared by the comparison scripts of bench/: sourced, not run.
#
# Network safety: every script re-runs itself inside a private network namespace holding
# only a loopback interface (unshare -n), so whatever the tools compared try to do, no packet
# can leave the machine. The lab listens on 127.77.0.0/16 inside that namespace and the tools
# are pointed at its addresses only. Preparation that needs the network (building Khiên,
# installing the Observatory with npm) happens before the namespace is entered.

set -eu

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
WORK=${KHIEN_BENCH_DIR:-${TMPDIR:-/tmp}/khien-bench}
KHIEN=$WORK/khien

# inside reports whether this process runs in the private namespace.
inside() { [ "${KHIEN_BENCH_NETNS:-}" = 1 ]; }

# enter_netns re-executes the calling script in a new network namespace with only loopback,
# which it brings up. Without unshare (or the privilege for it) it refuses to go on, unless
# KHIEN_BENCH_NO_NETNS=1 says the caller accepts running the tools in the host namespace
# (they are still pointed at loopback addresses only).
enter_netns() {
	inside && { ip link set lo up; return 0; }
	if command -v unshare >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
		KHIEN_BENCH_NETNS=1 exec unshare -n -- "$0" "$@"
	fi
	if [ "${KHIEN_BENCH_NO_NETNS:-}" = 1 ]; then
		echo "warning: no private network namespace (unshare -n failed); tools are pointed at loopback only" >&2
		return 0
	fi
	echo "cannot enter a private network namespace (unshare -n needs root or CAP_SYS_ADMIN);" >&2
	echo "run as root, or set KHIEN_BENCH_NO_NETNS=1 to run on the host's loopback" >&2
	exit 2
}

# build_khien builds the binary under test into $KHIEN.
build_khien() {
	mkdir -p "$WORK"
	(cd "$ROOT" && go build -trimpath -o "$KHIEN" ./cmd/khien)
}

# start_lab [khien lab flags] starts the lab with its own store in $WORK/lab, waits until it
# prints the scan command, and sets LAB_PID, LAB_DB, LAB_CA and LAB_RESOLVER.
start_lab() {
	LAB_DIR=$WORK/lab
	rm -rf "$LAB_DIR"
	mkdir -p "$LAB_DIR"
	LAB_DB=$LAB_DIR/lab.db
	LAB_CA=$LAB_DIR/lab-ca.pem
	"$KHIEN" --db "$LAB_DB" lab "$@" >"$LAB_DIR/lab.out" 2>"$LAB_DIR/lab.err" &
	LAB_PID=$!
	i=0
	until grep -q '^  khien scan' "$LAB_DIR/lab.out" 2>/dev/null; do
		if ! kill -0 "$LAB_PID" 2>/dev/null; then
			cat "$LAB_DIR/lab.err" >&2
			exit 1
		fi
		i=$((i + 1))
		[ "$i" -lt 1200 ] || { echo "the lab did not start in 120 s" >&2; exit 1; }
		sleep 0.1
	done
	LAB_RESOLVER=$(sed -n 's/^  máy chủ DNS \/ resolver *//p' "$LAB_DIR/lab.out")
	trap stop_lab EXIT INT TERM
}

stop_lab() {
	[ -n "${LAB_PID:-}" ] && kill "$LAB_PID" 2>/dev/null && wait "$LAB_PID" 2>/dev/null || true
	LAB_PID=
}

# khien_scan [flags] TARGET... scans lab targets with the lab's resolver, CA and fence.
khien_scan() {
	"$KHIEN" --db "$LAB_DB" scan --resolver "$LAB_RESOLVER" --ca-file "$LAB_CA" --fence loopback "$@"
}

# machine prints what the numbers were measured on.
machine() {
	echo "cores: $(nproc); CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1);" \
		"memory: $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(go version | cut -d' ' -f3-); kernel $(uname -r);" \
		"load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
}
