#!/bin/sh
# Merkle tree throughput next to the machine's own SHA-256 limit, both
# measured in this run:
#   build/bench/bench_merkle        1,000,000 leaves of 2 KiB entries
#   openssl speed -evp sha256       at the leaf (2049) and node (65) sizes
# usage: sh bench/merkle.sh [LEAVES [ENTRY_BYTES]]
set -eu
BUILD=${BUILD:-build}
LEAVES=${1:-1000000}
EBYTES=${2:-2048}
BIN=$BUILD/bench/bench_merkle
[ -x "$BIN" ] || make bench >/dev/null

speed() {
	# openssl speed prints "sha256  NNNN.NNk" in 1000s of bytes/s.
	openssl speed -seconds 3 -evp sha256 -bytes "$1" 2>/dev/null |
		awk '$1 == "sha256" { sub(/k$/, "", $2); printf "%.1f", $2 / 1000 }'
}

OUT=$("$BIN" "$LEAVES" "$EBYTES")
get() { echo "$OUT" | awk -v k="$1" '$1 == k { print $2 }'; }
LEAF_LIMIT=$(speed $((EBYTES + 1)))
NODE_LIMIT=$(speed 65)

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 |
	sed 's/^ //'), $(openssl version | cut -d' ' -f1-2)"
echo "tree of $(get tree_leaves) leaves, entries of $(get tree_entry_bytes) bytes"
printf '%-34s %12s %10s %12s\n' "" "per second" "MB/s" "openssl MB/s"
printf '%-34s %12s %10s %12s\n' "leaf hashes (0x00 || entry)" \
	"$(get leaf_hashes_per_s)" "$(get leaf_mb_per_s)" "$LEAF_LIMIT"
printf '%-34s %12s %10s %12s\n' "leaves + stack push + store" \
	"$(get tree_leaves_per_s)" "$(get tree_mb_per_s)" "$LEAF_LIMIT"
printf '%-34s %12s %10s %12s\n' "node hashes (65 bytes)" \
	"$(get node_hashes_per_s)" \
	"$(awk -v n="$(get node_hashes_per_s)" 'BEGIN { printf "%.1f", n * 65 / 1e6 }')" \
	"$NODE_LIMIT"
printf '%-34s %12s\n' "inclusion proofs ($(get inclusion_proof_hashes) hashes)" \
	"$(get inclusion_proofs_per_s)"
printf '%-34s %12s\n' "consistency proofs" "$(get consistency_proofs_per_s)"
printf '%-34s %12s\n' "inclusion verifications" "$(get inclusion_verifies_per_s)"
printf '%-34s %12s\n' "consistency verifications" \
	"$(get consistency_verifies_per_s)"
echo "tree built in $(get tree_seconds) s"
