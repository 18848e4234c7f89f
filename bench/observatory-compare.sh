#!/bin/sh
# Khiên against the MDN HTTP Observatory on the same lab pages: each header check's verdict
# side by side.
#
#   bench/observatory-compare.sh [HOST...]    (default: the lab's web scenarios)
#
# Needs: Go, Node.js ≥ 20 with npm, jq, iproute2. The Observatory (npm
# @mdn/mdn-http-observatory, $OBSERVATORY_VERSION) is installed once into
# $KHIEN_BENCH_DIR/observatory with --ignore-scripts: its install scripts download the HSTS
# preload and TLD lists, which a loopback comparison does not need (an empty preload list is
# written instead). Its retriever is then driven directly, host by host, by address: it fetches
# http://ADDRESS/ and https://ADDRESS/ (trusting the lab CA through NODE_EXTRA_CA_CERTS) inside a
# network namespace that holds only loopback, while Khiên scans the host's name.
. "$(dirname -- "$0")/lib.sh"

HOSTS=${*:-"good bad typical nohttps oldtls database camera leak expired selfsigned"}
OBSERVATORY_VERSION=${OBSERVATORY_VERSION:-1.4.8}
OBS=$WORK/observatory

if ! inside; then
	build_khien
	if [ ! -d "$OBS/node_modules/@mdn/mdn-http-observatory" ]; then
		mkdir -p "$OBS"
		(cd "$OBS" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error "@mdn/mdn-http-observatory@$OBSERVATORY_VERSION")
	fi
	conf=$OBS/node_modules/@mdn/mdn-http-observatory/conf
	[ -s "$conf/hsts-preload.json" ] || echo '{}' >"$conf/hsts-preload.json"
	# The driver: the Observatory's own retriever and tests, for one loopback address.
	cat >"$OBS/drive.mjs" <<'JS'
import { retrieve } from "./node_modules/@mdn/mdn-http-observatory/src/retriever/retriever.js";
import { ALL_TESTS } from "./node_modules/@mdn/mdn-http-observatory/src/constants.js";
const [host, httpPort, httpsPort] = process.argv.slice(2);
if (!/^127\.\d+\.\d+\.\d+$/.test(host)) {
  console.error("drive.mjs: give a 127.0.0.0/8 address; nothing else is scanned");
  process.exit(2);
}
const requests = await retrieve(host, { httpPort, httpsPort });
const out = {};
for (const test of ALL_TESTS) {
  const o = test(requests);
  out[o.constructor.name] = { result: o.result, pass: o.pass };
}
console.log(JSON.stringify(out));
JS
fi
enter_netns "$@"
OUT=$WORK/observatory-compare
rm -rf "$OUT"
mkdir -p "$OUT"
start_lab

addr_of() { awk -v n="$1" '$1 == n { print $2 }' "$LAB_DIR/lab.out"; }
name_of() { case $1 in good) echo good.lab.khien.test ;; bad) echo bad.lab.khien.test ;; *) echo "$1.lab.khien.test" ;; esac; }

for h in $HOSTS; do
	name=$(name_of "$h")
	ip=$(addr_of "$name")
	khien_scan --format json "$name" >"$OUT/$h.khien.json" || true
	(cd "$OBS" && NODE_EXTRA_CA_CERTS=$LAB_CA node drive.mjs "$ip" 80 443) >"$OUT/$h.obs.json"
done
stop_lab

# The Observatory's verdict for each Khiên check it has a counterpart for.
obs_verdicts() {
	jq -r '
	  def v($ok): if $ok then "pass" else "fail" end;
	  def r($t): .[$t].result;
	  def p($t): .[$t].pass;
	  "http.https.missing \(v(r("strict-transport-security") != "hsts-not-implemented-no-https")) \(r("strict-transport-security"))",
	  "http.redirect.missing \(v(r("redirection") | IN("redirection-to-https", "redirection-not-needed-no-http", "redirection-all-redirects-preloaded"))) \(r("redirection"))",
	  "http.hsts.missing \(if r("strict-transport-security") == "hsts-invalid-cert" then "not_applicable" else v(r("strict-transport-security") | IN("hsts-implemented-max-age-at-least-six-months", "hsts-implemented-max-age-less-than-six-months", "hsts-preloaded")) end) \(r("strict-transport-security"))",
	  "http.hsts.short \(if r("strict-transport-security") | IN("hsts-implemented-max-age-at-least-six-months", "hsts-preloaded") then "pass" elif r("strict-transport-security") == "hsts-implemented-max-age-less-than-six-months" then "fail" else "not_applicable" end) \(r("strict-transport-security"))",
	  "http.csp.missing \(v(r("content-security-policy") | IN("csp-not-implemented", "csp-not-implemented-but-reporting-enabled") | not)) \(r("content-security-policy"))",
	  "http.csp.unsafe \(if r("content-security-policy") | IN("csp-not-implemented", "csp-not-implemented-but-reporting-enabled") then "not_applicable" else v(p("content-security-policy")) end) \(r("content-security-policy"))",
	  "http.xcto.missing \(v(p("x-content-type-options"))) \(r("x-content-type-options"))",
	  "http.framing.unprotected \(v(p("x-frame-options"))) \(r("x-frame-options"))",
	  "http.referrer.unsafe \(v(p("referrer-policy"))) \(r("referrer-policy"))",
	  "http.cookie.insecure \(v(p("cookies"))) \(r("cookies"))",
	  "http.cors.permissive \(v(p("cross-origin-resource-sharing"))) \(r("cross-origin-resource-sharing"))",
	  "http.mixed_content \(v(r("subresource-integrity") | endswith("not-loaded-securely") | not)) \(r("subresource-integrity"))"
	' "$1"
}

echo "Machine: $(machine); Observatory $OBSERVATORY_VERSION, Node.js $(node --version)"
echo
echo "| host | check | Khiên | Observatory | Observatory result | agree |"
echo "| --- | --- | --- | --- | --- | --- |"
for h in $HOSTS; do
	jq -r '.findings[] | select(.check | startswith("http.")) | "\(.check) \(.result)"' "$OUT/$h.khien.json" | sort >"$OUT/$h.k"
	obs_verdicts "$OUT/$h.obs.json" | sort >"$OUT/$h.o"
	join "$OUT/$h.k" "$OUT/$h.o" | while read -r c k o res; do
		a=yes
		if [ "$k" = not_applicable ] || [ "$o" = not_applicable ] || [ "$k" = error ]; then
			a=-
		elif [ "$k" != "$o" ]; then
			a=NO
		fi
		echo "| $h | $c | $k | $o | $res | $a |"
		echo "$c $a" >>"$OUT/agree.txt"
	done
done >"$OUT/table.md"
cat "$OUT/table.md"
echo
echo "| check | hosts compared | agree |"
echo "| --- | --- | --- |"
awk '$2 != "-" { n[$1]++; if ($2 == "yes") y[$1]++ } END { for (c in n) printf "| %s | %d | %d |\n", c, n[c], y[c] }' "$OUT/agree.txt" | sort
