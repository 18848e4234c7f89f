#!/bin/sh
# Khiên against the MDN HTTP Observatory on the same lab pages: each header check's verdict
# side by side. Khiên's verdicts are compared twice: graded by the Observatory's own choices
# (khien scan --profile observatory), and by Khiên's default profile, so that what remains
# under the peer's profile is a difference of observation, not of policy.
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
import { getFirstHttpHeader } from "./node_modules/@mdn/mdn-http-observatory/src/analyzer/utils.js";
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
// What the CORS test compared: the Access-Control-Allow-Origin it got back, and the Origin it
// reads from its own request (null means it could not read it, and then never sees an echo).
const cors = requests.responses.cors;
out._cors = {
  origin_sent: cors?.config?.headers?.Origin ?? null,
  acao: getFirstHttpHeader(cors, "access-control-allow-origin"),
  acac: getFirstHttpHeader(cors, "access-control-allow-credentials"),
  origin_read_by_test: getFirstHttpHeader(cors?.request, "origin"),
};
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
	khien_scan --format json --profile observatory "$name" >"$OUT/$h.khien.json" || true
	khien_scan --format json "$name" >"$OUT/$h.khien-default.json" || true
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
	  "http.hsts.missing \(v(r("strict-transport-security") | IN("hsts-implemented-max-age-at-least-six-months", "hsts-implemented-max-age-less-than-six-months", "hsts-preloaded"))) \(r("strict-transport-security"))",
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
# cmp KHIEN OBSERVATORY: "-" when either side has no verdict, else yes or NO.
cmp_verdict() {
	if [ "$1" = not_applicable ] || [ "$2" = not_applicable ] || [ "$1" = error ]; then
		echo -
	elif [ "$1" = "$2" ]; then
		echo yes
	else
		echo NO
	fi
}

echo "| host | check | Khiên --profile observatory | Observatory | Observatory result | agree | Khiên, default profile | agree |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for h in $HOSTS; do
	for f in khien khien-default; do
		jq -r '.findings[] | select(.check | startswith("http.")) | "\(.check) \(.result)"' "$OUT/$h.$f.json" | sort >"$OUT/$h.$f.v"
	done
	obs_verdicts "$OUT/$h.obs.json" | sort >"$OUT/$h.o"
	join "$OUT/$h.khien.v" "$OUT/$h.khien-default.v" | join - "$OUT/$h.o" | while read -r c k d o res; do
		a=$(cmp_verdict "$k" "$o")
		ad=$(cmp_verdict "$d" "$o")
		echo "| $h | $c | $k | $o | $res | $a | $d | $ad |"
		echo "$c $a $ad" >>"$OUT/agree.txt"
	done
done >"$OUT/table.md"
cat "$OUT/table.md"
echo
echo "| check | hosts compared | agree, --profile observatory | hosts compared | agree, default profile |"
echo "| --- | --- | --- | --- | --- |"
awk '$2 != "-" { n[$1]++; if ($2 == "yes") y[$1]++ } $3 != "-" { nd[$1]++; if ($3 == "yes") yd[$1]++ }
	END { for (c in n) printf "| %s | %d | %d | %d | %d |\n", c, n[c], y[c], nd[c], yd[c] }' "$OUT/agree.txt" | sort
awk '$2 != "-" { n++; if ($2 == "yes") y++ } $3 != "-" { nd++; if ($3 == "yes") yd++ }
	END { printf "\nVerdicts: %d of %d agree under --profile observatory (%d of %d under Khiên'"'"'s default profile).\n", y, n, yd, nd }' "$OUT/agree.txt"
echo
echo "What the Observatory's CORS test compared, per host (origin it sent, Access-Control-Allow-Origin and -Credentials it got, the Origin its test read back):"
for h in $HOSTS; do
	echo "  $h: $(jq -c '._cors' "$OUT/$h.obs.json")"
done
