#!/bin/sh
# procurectl verify from scratch, next to the machine's own limit measured
# in the same run: OpenSSL's Ed25519 verify rate on every core
# (`openssl speed -seconds 3 -multi NCPU ed25519`, before and after the
# audit, averaged), and verify's CPU time a signature next to OpenSSL's
# one-core verify time (a figure other load on the machine does not
# skew).  The log is a data directory written through store/
# by build/bench/verify (one signature an entry; processes of a plan, a
# tender and two amendments, so three entries in four have a parent),
# audited read-only with --data-dir, so the figure is verify's own work:
# bundles and tiles read, every leaf hashed and the tree recomputed,
# every entry and event decoded, every signature checked, the admission
# rules and the chain rules replayed.
#
# Then the incremental figure: the from-scratch run kept a state file;
# 1,000 entries are appended and verify runs again with it, checking the
# new entries only (their parents before the old checkpoint are read
# again from the store).  Its wall time includes reading and rewriting
# the state file and the data directory's deep check (st_verify).
#
#   sh bench/verify.sh [ENTRIES]        (default 100000; after `make bench`)
set -eu
BUILD=${BUILD:-build}
N=${1:-100000}
GEN=$BUILD/bench/verify
CTL=$BUILD/procurectl
[ -x "$GEN" ] && [ -x "$CTL" ] || make bench >/dev/null
NCPU=$(getconf _NPROCESSORS_ONLN)
T=$(mktemp -d "${TMPDIR:-/tmp}/bench-verify.XXXXXX")
trap 'rm -rf "$T"' EXIT

limit() { # limit [-multi N]: OpenSSL's Ed25519 verifications a second
	openssl speed -seconds 3 "$@" ed25519 2>/dev/null |
		awk '/EdDSA \(Ed25519\)/ { v = int($NF) } END { print v }'
}

echo "# generating a log of $N entries"
"$GEN" "$T/data" "$N" >"$T/keys"
VKEY=$(sed -n 1p "$T/keys")
ADMIN=$(sed -n 2p "$T/keys")

L1=$(limit -multi "$NCPU")
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
/usr/bin/time -f %U -o "$T/cpu" "$CTL" --json verify --data-dir "$T/data" \
	--vkey "$VKEY" --admin-key "$ADMIN" --state "$T/state" >"$T/v.json"
L2=$(limit -multi "$NCPU")
L1CORE=$(limit)
field() { sed -n "s/^ *\"$1\": \([0-9.]*\).*/\1/p" "${2:-$T/v.json}"; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 |
	sed 's/^ //'), $NCPU cores, $(openssl version | cut -d' ' -f1-2)"
awk -v n="$(field entries_checked)" -v s="$(field seconds)" \
    -v sig="$(field signatures_checked)" -v b="$(field entry_bytes)" \
    -v l1="$L1" -v l2="$L2" -v c="$NCPU" -v cpu="$(cat "$T/cpu")" \
    -v one="$L1CORE" 'BEGIN {
	rate = sig / s; lim = (l1 + l2) / 2
	printf "verify from scratch: %d entries, %d signatures, %.1f MB " \
	    "in %.2f s\n", n, sig, b / 1e6, s
	printf "%-44s %10.0f /s\n", "procurectl verify (signatures)", rate
	printf "%-44s %10.0f /s  (%d, %d)\n", \
	    "openssl speed -multi " c " ed25519 verify", lim, l1, l2
	printf "ratio %.0f%% of the machine limit (target >= 80%%)\n",
	    100 * rate / lim
	# Robust to other load: CPU time a signature against openssl.
	printf "cpu: %.1f us of verify'"'"'s CPU time a signature (all its " \
	    "work), openssl %.1f us a bare verify on one core: %.2fx\n",
	    1e6 * cpu / sig, 1e6 / one, (1e6 / one) / (1e6 * cpu / sig)
}'

# Incremental: 1,000 more entries, verified against the state file.
"$GEN" "$T/data" $((N + 1000)) "$N" >/dev/null
STATE_MB=$(du -m "$T/state" | cut -f1)
/usr/bin/time -f "%e %U" -o "$T/inc.time" "$CTL" --json verify \
	--data-dir "$T/data" --vkey "$VKEY" --admin-key "$ADMIN" \
	--state "$T/state" >"$T/inc.json"
awk -v prev="$(field previous_size "$T/inc.json")" \
    -v n="$(field entries_checked "$T/inc.json")" \
    -v s="$(field seconds "$T/inc.json")" \
    -v par="$(field parents_checked "$T/inc.json")" \
    -v rd="$(field parent_bundles_read "$T/inc.json")" \
    -v wall="$(cut -d' ' -f1 "$T/inc.time")" \
    -v cpu="$(cut -d' ' -f2 "$T/inc.time")" -v mb="$STATE_MB" 'BEGIN {
	printf "incremental: %d new entries on %d (state file %d MB): " \
	    "checked %d entries\n", n, prev, mb, n
	printf "  %.2f s wall, %.2f s CPU for the whole run; the new " \
	    "entries in %.3f s (%.0f entries/s)\n", wall, cpu, s, n / s
	printf "  %d parents checked, %d entry bundles read again for " \
	    "parents before the old checkpoint\n", par, rd
}'
echo "load average: $LOAD0 before, $(cut -d' ' -f1-3 /proc/loadavg) after"
