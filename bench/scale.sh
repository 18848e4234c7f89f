#!/bin/sh
# `khien scan` over N lab hosts (default 1,000), full catalog, default options: wall time and
# peak RSS of the scan process, while `khien lab --hosts N` serves them from another process
# on the same machine.
#
#   bench/scale.sh [N]
#
# KHIEN_SCAN_FLAGS adds flags to the scan (e.g. "--concurrency 256").
#
# Needs: Go, GNU time (/usr/bin/time), jq, iproute2. The vulnerability feeds of the tests
# (internal/vuln/testdata) are imported so that the vuln family matches versions too.
. "$(dirname -- "$0")/lib.sh"

N=${1:-1000}
if ! inside; then
	build_khien
fi
enter_netns "$@"
OUT=$WORK/scale
rm -rf "$OUT"
mkdir -p "$OUT"

echo "Machine: $(machine)"
t0=$(date +%s.%N)
start_lab --hosts "$N"
t1=$(date +%s.%N)
"$KHIEN" --db "$LAB_DB" feeds import "$ROOT/internal/vuln/testdata/osv.json" "$ROOT/internal/vuln/testdata/kev.json" >/dev/null
targets=$(seq -f "h%04g.bench.lab.khien.test" 1 "$N")
# CPU seconds the lab has used so far (utime + stime of /proc/PID/stat, in clock ticks).
lab_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$LAB_PID/stat"; }
lab0=$(lab_cpu)
# shellcheck disable=SC2086 # one argument per target and flag
/usr/bin/time -v -o "$OUT/time.txt" "$KHIEN" --db "$LAB_DB" scan --resolver "$LAB_RESOLVER" --ca-file "$LAB_CA" \
	--fence loopback --format json ${KHIEN_SCAN_FLAGS:-} $targets >"$OUT/scan.json" 2>"$OUT/scan.err" || true
lab1=$(lab_cpu)
lab_rss=$(awk '/VmHWM/ { print $2 }' "/proc/$LAB_PID/status")
stop_lab

wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$OUT/time.txt")
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$OUT/time.txt")
cpu=$(sed -n 's/.*Percent of CPU this job got: //p' "$OUT/time.txt")
user=$(sed -n 's/.*User time (seconds): //p' "$OUT/time.txt")
sys=$(sed -n 's/.*System time (seconds): //p' "$OUT/time.txt")
echo "lab: $N benchmark hosts started, registered and verified in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s; lab peak RSS $((lab_rss / 1024)) MiB"
echo "scan: $N targets, wall $wall, CPU $cpu (user $user s, system $sys s), peak RSS $((rss / 1024)) MiB"
echo "lab during the scan: $(awk -v a="$lab0" -v b="$lab1" 'BEGIN { printf "%.1f", b - a }') CPU seconds"
jq -r '.summary | "results: \(.checks) checks: \(.by_result | to_entries | map("\(.value) \(.key)") | join(", "))"' "$OUT/scan.json"
jq -r '[.findings[] | select(.result == "error")] | group_by(.resource) | map("\(.[0].resource): \(length) errors, e.g. \(.[0].check): \(.[0].reason.en[0:200])") | .[]' "$OUT/scan.json" | sed 's/^/error: /'
