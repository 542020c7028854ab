#!/bin/sh
# Red flags at scale: GET /v1/flags over a synthetic log of ENTRIES
# entries (default 1,000,000, built by build/bench/bench_flags into
# $TMPDIR and kept for the next run), next to the target of 200 ms for a
# year of one buyer's data.  Prints the time procured takes to analyse
# the log at start, the latency of each query (median and worst of 20)
# and procured's memory.
# usage: sh bench/flags.sh [ENTRIES]
set -eu
BUILD=${BUILD:-build}
N=${1:-1000000}
DIR=${FLAGS_BENCH_DIR:-${TMPDIR:-/tmp}/procured-bench-flags-$N}
ORIGIN=bench.procured.example/log
[ -x "$BUILD/bench/bench_flags" ] || make bench >/dev/null
if [ ! -f "$DIR/data.mdb" ] || [ ! -f "$DIR/fixture.txt" ]; then
	rm -rf "$DIR"
	t0=$(date +%s.%N)
	"$BUILD/bench/bench_flags" "$DIR" "$ORIGIN" "$N" >"$DIR.txt"
	mv "$DIR.txt" "$DIR/fixture.txt"
	echo "fixture: $N entries written in $(echo "$(date +%s.%N) - $t0" |
		bc) s to $DIR"
fi
get() { awk -v k="$1" '$1 == k { print $2 }' "$DIR/fixture.txt"; }
PORT=$(/usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
t0=$(date +%s.%N)
"$BUILD/procured" --data-dir "$DIR" --origin "$ORIGIN" \
	--listen "127.0.0.1:$PORT" >"$DIR/procured.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null' EXIT INT TERM
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/flags?limit=1")" = 200 ]; do
	kill -0 $PID || { cat "$DIR/procured.log"; exit 1; }
	sleep 0.2
done
ready=$(echo "$(date +%s.%N) - $t0" | bc)

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 |
	sed 's/^ //'), $(nproc) cores"
echo "log: $(get entries) entries, $(get processes) processes," \
	"$(get buyers) buyers over $(get years) years"
echo "start-up: flags ready after ${ready} s (indexer: $(grep -o \
	'analysed [0-9]* entries in [0-9.]* s' "$DIR/procured.log"))"
printf '%-44s %8s %8s %8s\n' "GET /v1/flags?..." "median" "worst" "flags"
q() {
	name=$1 query=$2
	times=$(for i in $(seq 20); do
		curl -s -o /dev/null -w '%{time_total}\n' "$URL/v1/flags?$query"
	done | sort -n)
	med=$(echo "$times" | sed -n 10p)
	worst=$(echo "$times" | tail -1)
	case $query in
	*limit=*) one=$(echo "$query" | sed 's/limit=[0-9]*/limit=1/') ;;
	*) one="$query&limit=1" ;;
	esac
	total=$(curl -s "$URL/v1/flags?$one" | /usr/bin/python3 -c \
		'import json, sys; print(json.load(sys.stdin)["total"])')
	printf '%-44s %6.1fms %6.1fms %8s\n' "$name" \
		"$(echo "$med * 1000" | bc)" "$(echo "$worst * 1000" | bc)" "$total"
}
B=$(get buyer)
q "one buyer, one year (target < 200 ms)" \
	"buyer=$B&from=2025-01-01&to=2026-01-01"
q "one buyer, every year" "buyer=$B"
q "one supplier" "supplier=$(get supplier)"
q "one item code" "item=$(get item)"
q "one indicator, whole log" "indicator=single_bid"
q "price benchmarks, whole log" "indicator=price_above_median"
q "everything (first 1000)" "limit=1000"
echo "procured memory: $(awk '/RssAnon/ { printf "%.0f MiB", $2 / 1024 }' \
	/proc/$PID/status) private (aggregates, buffers), $(awk \
	'/RssFile/ { printf "%.0f MiB", $2 / 1024 }' /proc/$PID/status) of" \
	"the log mapped from the page cache"
