#!/bin/sh
# Khiên against testssl.sh on the same lab hosts: the verdict of each TLS check side by side,
# and the wall time of each tool per host, with Khiên's default per-address budget (6
# connections, 50 new connections a second). Khiên's verdicts are compared twice: graded by
# testssl.sh's own choices (khien scan --profile testssl), and by Khiên's default profile, so
# that what remains under the peer's profile is a difference of observation, not of policy.
#
#   bench/testssl-compare.sh [HOST...]     (default: every TLS scenario of the lab)
#
# Needs: Go, testssl.sh 3.x (Debian: apt-get install testssl.sh), jq, hyperfine, iproute2.
# Writes results under $KHIEN_BENCH_DIR (default /tmp/khien-bench/testssl) and a Markdown
# table on stdout. testssl runs with --nodns none, --ip <lab address> and no --phone-out, in
# a network namespace that holds only loopback.
. "$(dirname -- "$0")/lib.sh"

HOSTS=${*:-"good oldtls legacy ssl3 expired expiring selfsigned wrongname weakkey sha1"}
KHIEN_RUNS=${KHIEN_RUNS:-10}
TESTSSL_RUNS=${TESTSSL_RUNS:-3}
TESTSSL=${TESTSSL:-$(command -v testssl.sh || command -v testssl)}

if ! inside; then
	build_khien
	# The engine benchmark of the TLS family alone, compiled here: the namespace has no network.
	(cd "$ROOT" && go test -c -o "$WORK/lab.test" ./internal/lab)
fi
enter_netns "$@"
OUT=$WORK/testssl
rm -rf "$OUT"
mkdir -p "$OUT"
start_lab

addr_of() { awk -v n="$1" '$1 == n { print $2 }' "$LAB_DIR/lab.out"; }

echo "Machine: $(machine)"
echo "testssl.sh $("$TESTSSL" --version 2>/dev/null | sed -n 's/.*testssl[^0-9]*\([0-9][0-9.]*\) from.*/\1/p' | head -1), $(openssl version)"
echo
for h in $HOSTS; do
	name=$h.lab.khien.test
	ip=$(addr_of "$name")
	[ -n "$ip" ] || { echo "no lab host $name" >&2; exit 1; }
	khien_scan --format json --profile testssl "$name" >"$OUT/$h.khien.json" || true
	khien_scan --format json "$name" >"$OUT/$h.khien-default.json" || true
	hyperfine --runs "$KHIEN_RUNS" --warmup 1 -i --export-json "$OUT/$h.khien.time.json" \
		"'$KHIEN' --db '$LAB_DB' scan --resolver $LAB_RESOLVER --ca-file '$LAB_CA' --fence loopback --format json $name" >/dev/null 2>&1
	hyperfine --runs "$TESTSSL_RUNS" -i --export-json "$OUT/$h.testssl.time.json" \
		"rm -f '$OUT/$h.testssl.json'; '$TESTSSL' --quiet --color 0 --warnings off --nodns none --add-ca '$LAB_CA' -p -E -f -S -P --ip $ip --jsonfile '$OUT/$h.testssl.json' $name:443 >'$OUT/$h.testssl.txt'" >/dev/null 2>&1
done
stop_lab
# The TLS family alone against the same hosts (a lab of its own on 127.201.0.0/16), through the
# guard with the same default budget: what testssl.sh's -p -E -f -S -P covers.
re=$(echo $HOSTS | tr ' ' '|')
(cd "$ROOT/internal/lab" && "$WORK/lab.test" -test.run '^$' -test.bench "BenchmarkFamilies/($re)/tls\$" -test.benchtime 20x) >"$OUT/tls-family.txt"

# Khiên's verdicts: check → pass/fail/error/not_applicable.
khien_verdicts() {
	jq -r '.findings[] | select(.check | startswith("tls.")) | "\(.check) \(.result)"' "$1"
}

# testssl's verdicts, mapped onto Khiên's checks: protocols from -p, suites from -E (a weak one
# is NULL, EXPORT, anonymous, RC4, DES or 3DES, as in tlscheck), forward secrecy from the
# cipher negotiated with -P, and the certificate from -S with testssl's own severities.
testssl_verdicts() {
	jq -r '
	  def v($ok): if $ok then "pass" else "fail" end;
	  def f($id): (map(select(.id == $id)) | first | .finding) // "";
	  def s($id): (map(select(.id == $id)) | first | .severity) // "";
	  def offered($id): f($id) | startswith("offered");
	  def weak: test("NULL|EXPORT|_anon_|RC4|_DES_|DES40|3DES|_DES_CBC");
	  (map(select(.id | startswith("cipher-"))) | map(.finding | split(" ") | map(select(. != "")) | last)) as $suites |
	  (f("cipher_negotiated") | split(",")[0]) as $neg |
	  if (f("SSLv3") == "" and f("TLS1_2") == "") then empty else
	  "tls.protocol.ssl3 \(v(offered("SSLv3") | not))",
	  "tls.protocol.tls10 \(v(offered("TLS1") | not))",
	  "tls.protocol.tls11 \(v(offered("TLS1_1") | not))",
	  "tls.protocol.no_tls13 \(v(offered("TLS1_3")))",
	  "tls.cipher.weak \(v([$suites[] | select(weak)] | length == 0))",
	  "tls.cipher.no_forward_secrecy \(v($neg | test("^(ECDHE|DHE|EDH|TLS_AES|TLS_CHACHA)")))",
	  "tls.cert.expired \(v(f("cert_expirationStatus") | test("expired|not yet valid") | not))",
	  "tls.cert.expiring \(if f("cert_expirationStatus") | test("expired|not yet valid") then "not_applicable" else v(s("cert_expirationStatus") == "OK") end)",
	  "tls.cert.untrusted \(v(f("cert_chain_of_trust") | startswith("passed")))",
	  "tls.cert.hostname_mismatch \(v(f("cert_trust") | startswith("Ok via SAN")))",
	  "tls.cert.weak_key \(v(s("cert_keySize") == "OK" or s("cert_keySize") == "INFO"))",
	  "tls.cert.weak_signature \(v(s("cert_signatureAlgorithm") == "OK" or s("cert_signatureAlgorithm") == "INFO"))"
	  end' "$1"
}

# Khiên's accepted suites per protocol against testssl's.
suites_khien() {
	jq -r '.findings[] | select(.check == "tls.cipher.weak") | .evidence.endpoints[0].accepted // {} | to_entries[] | .key as $p | .value[] | "\($p | sub("SSL 3.0";"SSLv3") | sub("TLS 1.0";"TLS 1")) \(.)"' "$1" | sort
}
suites_testssl() {
	jq -r '.[] | select(.id | startswith("cipher-")) | .finding | split(" ") | map(select(. != "")) |
	  (if .[0] == "SSLv3" then "SSLv3" else "\(.[0]) \(.[1])" end) + " " + last' "$1" | sort
}

mean() { jq -r '.results[0].mean' "$1"; }

echo "| host | check | Khiên --profile testssl | testssl.sh | agree | Khiên, default profile |"
echo "| --- | --- | --- | --- | --- | --- |"
agree=0
total=0
agree_default=0
for h in $HOSTS; do
	khien_verdicts "$OUT/$h.khien.json" | sort >"$OUT/$h.k"
	khien_verdicts "$OUT/$h.khien-default.json" | sort >"$OUT/$h.kd"
	testssl_verdicts "$OUT/$h.testssl.json" | sort >"$OUT/$h.t"
	join "$OUT/$h.k" "$OUT/$h.t" | join - "$OUT/$h.kd" | while read -r c k t d; do
		a=yes
		[ "$k" = "$t" ] || a=NO
		echo "| $h | $c | $k | $t | $a | $d |"
	done
	n=$(join "$OUT/$h.k" "$OUT/$h.t" | wc -l)
	same=$(join "$OUT/$h.k" "$OUT/$h.t" | awk '$2 == $3' | wc -l)
	same_default=$(join "$OUT/$h.kd" "$OUT/$h.t" | awk '$2 == $3' | wc -l)
	total=$((total + n))
	agree=$((agree + same))
	agree_default=$((agree_default + same_default))
	suites_khien "$OUT/$h.khien.json" >"$OUT/$h.ks"
	suites_testssl "$OUT/$h.testssl.json" >"$OUT/$h.ts"
done
echo
echo "Verdicts: $agree of $total agree under --profile testssl ($agree_default of $total under Khiên's default profile)."
echo
echo "| host | testssl.sh -p -E -f -S -P (s, mean of $TESTSSL_RUNS) | Khiên, TLS family (s) | ratio | khien scan, whole catalog (s, mean of $KHIEN_RUNS) | ratio | TLS connections | same accepted suites |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for h in $HOSTS; do
	k=$(mean "$OUT/$h.khien.time.json")
	t=$(mean "$OUT/$h.testssl.time.json")
	f=$(awk -v h="BenchmarkFamilies/$h/tls-" 'index($1, h) == 1 { print $3 / 1e9 }' "$OUT/tls-family.txt")
	c=$(awk -v h="BenchmarkFamilies/$h/tls-" 'index($1, h) == 1 { print $5 }' "$OUT/tls-family.txt")
	same=yes
	cmp -s "$OUT/$h.ks" "$OUT/$h.ts" || same="NO (see $OUT/$h.ks, $OUT/$h.ts)"
	awk -v h="$h" -v k="$k" -v t="$t" -v f="$f" -v c="$c" -v s="$same" \
		'BEGIN { printf "| %s | %.1f | %.3f | %.0f× | %.3f | %.0f× | %s | %s |\n", h, t, f, t / f, k, t / k, c, s }'
done
