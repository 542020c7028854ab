#!/bin/sh
# Interop: the tile tree, roots and proofs that procured's proto/merkle.c
# and proto/tile.c produce, checked by golang.org/x/mod/sumdb/tlog
# (tests/interop/tlogcheck).  Any differing byte fails.
. tests/integration/lib.sh

DUMP=$BUILD/tests/tools/tlog_dump
GOCACHE=${GOCACHE:-${TMPDIR:-/tmp}/procured-gocache}
export GOCACHE

if ! env GO111MODULE=off GOPATH=/usr/share/gocode \
	go build -o "$TMP/tlogcheck" ./tests/interop/tlogcheck; then
	fail "build tests/interop/tlogcheck"
	finish
	exit 1
fi

check() {
	_n=$1
	rm -rf "$TMP/d"
	if ! _root=$("$DUMP" "$_n" "$TMP/d"); then
		fail "tlog_dump $_n"
		return
	fi
	if _out=$("$TMP/tlogcheck" -dir "$TMP/d" -n "$_n" -root "$_root" 2>&1)
	then
		ok "$_out"
	else
		fail "size $_n: $_out"
	fi
}

for n in 1 2 7 256 257 65536 70000; do
	check "$n"
done

# The checker must notice a single changed bit anywhere.
flip() {
	/usr/bin/python3 -c 'import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
b[off % len(b)] ^= 0x10
open(p, "wb").write(bytes(b))' "$1" "$2"
}

must_fail() {
	if "$TMP/tlogcheck" -dir "$TMP/d" -n 700 -root "$root" \
		>/dev/null 2>&1; then
		fail "tlogcheck accepts $1"
	else
		ok "tlogcheck rejects $1"
	fi
}

fresh() {
	rm -rf "$TMP/d"
	root=$("$DUMP" 700 "$TMP/d")
}

fresh
flip "$TMP/d/tile/0/001" 4321
must_fail "a flipped bit in a full level-0 tile"
fresh
flip "$TMP/d/tile/1/000.p/2" 63
must_fail "a flipped bit in a partial level-1 tile"
fresh
flip "$TMP/d/tile/entries/002.p/188" 777
must_fail "a flipped bit in a partial entry bundle"
fresh
head -c 40 /dev/zero >>"$TMP/d/tile/0/002.p/188"
must_fail "a longer partial tile"
fresh
cp "$TMP/d/tile/0/001" "$TMP/d/tile/0/003"
must_fail "a tile that should not exist"
# tamper_proof KIND M N: flip a bit in the first hash of that proof line.
tamper_proof() {
	/usr/bin/python3 -c 'import sys
p, key = sys.argv[1], sys.argv[2:5]
out, hit = [], 0
for line in open(p):
    f = line.split()
    if f[:3] == key:
        f[3] = "%x" % (int(f[3][0], 16) ^ 4) + f[3][1:]
        hit += 1
    out.append(" ".join(f) + "\n")
open(p, "w").write("".join(out))
sys.exit(0 if hit == 1 else 1)' "$TMP/d/proofs.txt" "$@"
}

fresh
tamper_proof incl 350 700 || fail "no inclusion proof 350 in 700"
must_fail "a flipped bit in an inclusion proof"
fresh
tamper_proof cons 257 700 || fail "no consistency proof 257 to 700"
must_fail "a flipped bit in a consistency proof"
fresh
root=$(echo "$root" | tr 0123456789abcdef 123456789abcdef0)
must_fail "a wrong root"
fresh
must_pass=$("$TMP/tlogcheck" -dir "$TMP/d" -n 700 -root "$root" 2>&1) &&
	ok "untouched tree of 700 passes" || fail "size 700: $must_pass"

finish
