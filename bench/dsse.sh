#!/bin/sh
# DSSE parse + PAE + verify rate (2 KiB payload, one core) next to the
# machine's own Ed25519 verify rate from `openssl speed`, measured in the
# same run.  Target: within 10% of openssl speed.  Also the rate of
# pr_dsse_parse() alone (parse and free), as time per envelope.
#
#   sh bench/dsse.sh [SECONDS] [ROUNDS]     (defaults 2 and 5)
#
# Both divide by CPU time (openssl speed's default; see bench_dsse.c).
# They are measured alternately, ROUNDS times each, and the medians are
# compared.
set -eu
BUILD=${BUILD:-build}
SECS=${1:-2}
ROUNDS=${2:-5}
BIN=$BUILD/bench/bench_dsse
[ -x "$BIN" ] || { echo "build $BIN first: make bench" >&2; exit 1; }

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
: >"${TMPDIR:-/tmp}/bench_dsse.$$"
trap 'rm -f "${TMPDIR:-/tmp}/bench_dsse.$$"' EXIT
log=${TMPDIR:-/tmp}/bench_dsse.$$
r=0
while [ $r -lt "$ROUNDS" ]; do
	o=$(openssl speed -seconds "$SECS" ed25519 2>/dev/null |
		awk '/Ed25519/ && NF >= 2 { v = $NF } END { print v + 0 }')
	out=$("$BIN" "$SECS")
	d=$(echo "$out" | sed -n 's/^dsse_verify_per_s //p')
	k=$(echo "$out" | sed -n 's/^key_verify_per_s //p')
	p=$(echo "$out" | sed -n 's/^dsse_parse_per_s //p')
	echo "round $((r + 1)): openssl speed verify/s $o, DSSE/s $d, pr_key_verify/s $k, parse/s $p"
	echo "$o $d $k $p" >>"$log"
	r=$((r + 1))
done
ossl=$(awk '{ print $1 }' "$log" | median)
dsse=$(awk '{ print $2 }' "$log" | median)
raw=$(awk '{ print $3 }' "$log" | median)
parse=$(awk '{ print $4 }' "$log" | median)
echo "$out" | sed -n 's/^payload_bytes /payload bytes: /p; s/^envelope_json_bytes /envelope JSON bytes: /p'
echo "median openssl speed ed25519 verify/s:           $ossl"
echo "median pr_key_verify over the 2 KiB PAE /s:      $raw"
echo "median DSSE parse+PAE+verify, 2 KiB payload /s:  $dsse"
awk -v d="$dsse" -v o="$ossl" -v p="$parse" 'BEGIN {
	printf "DSSE rate / openssl speed verify rate:          %.1f%%\n", 100 * d / o
	printf "median DSSE parse alone (parse + free) /s:     %.0f (%.2f us, %.1f%% of one openssl verify)\n", p, 1e6 / p, 100 * o / p
}'
