#!/bin/sh
# Store benchmark: append rates in batches of 1, 100 and 1,000 next to
# LMDB's raw mdb_put rate for the same bytes and sync policy (measured in
# the same run), first vs last 100k of 1,000,000 entries, read rates,
# bytes on disk per entry.  Also prints the machine's synchronous write
# rates and load, since the figures are only comparable side by side.
#
#   sh bench/store.sh [ENTRIES]        (default 1000000)
#
# Uses a directory under $BENCH_DIR, /var/tmp or /tmp (the one with the
# most free space, at least 10 GB), removed on exit.
set -eu
BUILD=${BUILD:-build}
N=${1:-1000000}
BIN=$BUILD/bench/bench_store
[ -x "$BIN" ] || make -s bench >/dev/null

best= bestfree=0
for d in ${BENCH_DIR:-} /var/tmp /tmp; do
	[ -d "$d" ] || continue
	free=$(df -Pk "$d" | awk 'NR == 2 { print $4 }')
	if [ "$free" -gt "$bestfree" ]; then
		best=$d bestfree=$free
	fi
done
need=$((N / 1000 * 9 * 1024)) # ~9 KB an entry: store + raw copy, in KiB
if [ "$bestfree" -lt "$need" ]; then
	echo "bench/store.sh: need $((need / 1024 / 1024)) GB free," \
	    "have $((bestfree / 1024 / 1024)) GB in $best" >&2
	exit 1
fi
DIR=$(mktemp -d "$best/procured-bench-store.XXXXXX")
trap 'rm -rf "$DIR"' EXIT INT TERM

echo "store benchmark: $N entries in $DIR ($(df -Ph "$DIR" |
	awk 'NR == 2 { print $1 ", " $4 " free" }'))"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
# The machine's own limits: synchronous 4 KiB and 2 MiB writes.
dd if=/dev/zero of="$DIR/dd" bs=4k count=1000 oflag=dsync 2>&1 |
	awk '/copied/ { printf "machine: 4 KiB O_DSYNC writes %.0f/s\n", 1000 / $(NF - 3) }'
dd if=/dev/zero of="$DIR/dd" bs=2M count=100 oflag=dsync 2>&1 |
	awk '/copied/ { printf "machine: 2 MiB O_DSYNC writes %s %s\n", $(NF - 1), $NF }'
rm -f "$DIR/dd"
echo "command: $BIN -v -n $N -m 100000 -o 5000 $DIR"
"$BIN" -v -n "$N" -m 100000 -o 5000 "$DIR" 2>&1 | grep -v 'map grown'
echo "machine: load after $(cut -d' ' -f1-3 /proc/loadavg)"
