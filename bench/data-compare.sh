#!/bin/sh
# Khiên's data scan against gitleaks on the same 1 GB mixed corpus, one core each.
#
#   bench/data-compare.sh            # 1 GB (KHIEN_CORPUS_MB=1024); results in docs/data.md form
#
# The corpus is written by the labelled generator of internal/detect (TestWriteBenchCorpus):
# prose with 5 % planted lines (Vietnamese personal data, credentials, markings) and 5 % decoys,
# in 4 MB files of several extensions, plus a manifest of the planted credentials (outside the
# scanned directory). Everything is synthetic. Both tools read local files only; neither sends
# a packet. gitleaks is installed from the Go module proxy into the work directory, never into
# go.mod. Each tool runs on one core (taskset -c 0, GOMAXPROCS=1, one worker); throughput is
# bytes per CPU second, which other load on the machine does not distort as it does wall time.
set -eu

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
WORK=${KHIEN_BENCH_DIR:-${TMPDIR:-/tmp}/khien-data-bench}
MB=${KHIEN_CORPUS_MB:-1024}
GITLEAKS_VERSION=${GITLEAKS_VERSION:-v8.30.1}
CORPUS=$WORK/corpus
mkdir -p "$WORK"
cd "$ROOT"

echo "== build"
go build -o "$WORK/khien" ./cmd/khien
if [ ! -x "$WORK/gl/gitleaks" ]; then
	GOBIN=$WORK/gl go install "github.com/zricethezav/gitleaks/v8@$GITLEAKS_VERSION"
fi

if [ ! -f "$WORK/manifest.jsonl" ]; then
	echo "== corpus: $MB MB in $CORPUS"
	rm -rf "$CORPUS"
	KHIEN_CORPUS_DIR=$CORPUS KHIEN_CORPUS_MANIFEST=$WORK/manifest.jsonl KHIEN_CORPUS_MB=$MB \
		go test ./internal/detect -run '^TestWriteBenchCorpus$' -count=1 -timeout 2h
fi
BYTES=$(du -sb "$CORPUS" | cut -f1)

one_core() { taskset -c 0 env GOMAXPROCS=1 "$@"; }

# seconds runs a command with its output to the file $1 and prints the CPU seconds it used
# (user + system; the fair measure on a shared machine) and its wall time; exit status 1
# (places found) is fine.
seconds() {
	out=$1
	shift
	/usr/bin/time -f "%U %S %e" -o "$WORK/time.txt" "$@" >"$out" || [ $? -eq 1 ]
	tail -1 "$WORK/time.txt" | awk '{printf "%.2f %.2f", $1 + $2, $3}'
}

mbps() { echo "$BYTES $1" | awk '{printf "%.1f", $1 / 1048576 / $2}'; }
cpu() { echo "$1" | cut -d' ' -f1; }
wall() { echo "$1" | cut -d' ' -f2; }

echo "== Khiên, secret detectors"
T_KS=$(seconds "$WORK/khien-secrets.json" one_core "$WORK/khien" data scan --only secret --workers 1 --format json "$CORPUS")
echo "== Khiên, all detectors"
T_KA=$(seconds "$WORK/khien-all.json" one_core "$WORK/khien" data scan --workers 1 --format json "$CORPUS")
echo "== gitleaks $GITLEAKS_VERSION"
T_GL=$(seconds "$WORK/gitleaks.out" one_core "$WORK/gl/gitleaks" dir "$CORPUS" --no-banner --log-level error \
	--report-format json --report-path "$WORK/gitleaks.json" --exit-code 0)

echo "== recall on the planted credentials"
KHIEN_CORPUS_DIR=$CORPUS KHIEN_CORPUS_MANIFEST=$WORK/manifest.jsonl KHIEN_GITLEAKS_REPORT=$WORK/gitleaks.json \
	KHIEN_COMPARE_OUT=$WORK/recall.md go test ./internal/detect -run '^TestCompareGitleaks$' -count=1 -timeout 1h >/dev/null
cat "$WORK/recall.md"

echo
echo "| tool (one core) | detectors | CPU seconds | wall seconds | MB per CPU second |"
echo "|---|---|---:|---:|---:|"
echo "| Khiên | secrets (16) | $(cpu "$T_KS") | $(wall "$T_KS") | $(mbps "$(cpu "$T_KS")") |"
echo "| Khiên | all (33) | $(cpu "$T_KA") | $(wall "$T_KA") | $(mbps "$(cpu "$T_KA")") |"
echo "| gitleaks $GITLEAKS_VERSION | its default rules | $(cpu "$T_GL") | $(wall "$T_GL") | $(mbps "$(cpu "$T_GL")") |"
echo "corpus: $BYTES bytes in $(find "$CORPUS" -type f | wc -l) files"
echo "speed-up on secrets (CPU): $(echo "$(cpu "$T_GL") $(cpu "$T_KS")" | awk '{printf "%.1f", $1 / $2}')×"
echo
echo "== Go benchmarks of each detector (one core, 4 MB of the corpus)"
go test ./internal/detect -run '^$' -bench 'BenchmarkDetector|BenchmarkScanAll' -cpu 1 -benchtime 10x | grep -E '^Benchmark' |
	awk '{printf "| %s | %s MB/s |\n", $1, $5}'
