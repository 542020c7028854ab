#!/bin/sh
# Event parse + validate rate on one core, next to the same run's rates of
# the JSON parser alone, of jansson (a general-purpose parser) on the same
# bytes, and of OpenSSL's Ed25519 verify (what every event also costs at
# ingest and audit): the machine's own limits.
#
#   sh bench/event.sh [SECONDS]      (after `make bench`)
set -eu
BUILD=${BUILD:-build}
SECS=${1:-3}
BIN=$BUILD/bench/bench_event
[ -x "$BIN" ] || { echo "run 'make bench' first" >&2; exit 1; }

echo "# event parse + validate, one core, ${SECS} s per figure"
out=$("$BIN" -s "$SECS" docs/examples/award.json docs/examples/contract.json \
	docs/examples/tender.json docs/examples/bid.reveal.json \
	docs/examples/bid.commit.json docs/examples/payment.json)
echo "$out"
verify=$(openssl speed -seconds "$SECS" ed25519 2>/dev/null |
	awk '/Ed25519/ { print int($NF) }')
echo "# machine limit: OpenSSL Ed25519 verify ${verify}/s on one core"
echo "$out" | awk -v v="$verify" 'NR == 1 && v > 0 {
	printf "# a %d-byte award parses %.1fx faster than one signature " \
	    "verifies (%.0f%% of a verify)\n", $2, $5 / v, 100 * v / $5 }'
