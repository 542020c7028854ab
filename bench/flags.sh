#!/bin/sh
# Red flags and totals at scale: GET /v1/flags and GET /v1/totals over a
# synthetic log of ENTRIES entries (default 1,000,000, built by
# build/bench/bench_flags into $TMPDIR and kept for the next run), next to
# the target of 200 ms for a year of one buyer's data.  Prints the time
# procured takes to analyse the log at start, the latency of each query
# (median and worst of 20), whether each total matches the figures the
# generator counted as it wrote the log (exit status 1 if one does not),
# and procured's anonymous (private, non-file) memory with the log
# analysed, then with 1,000 more connections open, next to the target of
# 64 MiB; exit status 1 too if analysing the log added 16 MiB or more of
# anonymous memory to what procured had once its store was open (the
# aggregates belong in their file-backed arena).
# usage: sh bench/flags.sh [ENTRIES]
set -eu
BUILD=${BUILD:-build}
N=${1:-1000000}
DIR=${FLAGS_BENCH_DIR:-${TMPDIR:-/tmp}/procured-bench-flags-$N}
ORIGIN=bench.procured.example/log
[ -x "$BUILD/bench/bench_flags" ] || make bench >/dev/null
if [ ! -f "$DIR/data.mdb" ] || ! grep -q want_buyer_2025 "$DIR/fixture.txt" \
	2>/dev/null; then
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
anon() { awk '/^Anonymous:/ { printf "%.1f", $2 / 1024 }' \
	/proc/$PID/smaps_rollup; }
# Anonymous memory once the store is open (its index buffer loaded),
# before the red-flag engine has analysed much.
until curl -s -o /dev/null "$URL/healthz"; do
	kill -0 $PID || { cat "$DIR/procured.log"; exit 1; }
	sleep 0.1
done
anon0=$(anon)
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

# Totals: each checked against the generator's own count (contracted,
# paid, contracts, payments in minor units, summed over the rows).
fail=0
printf '%-44s %8s %8s %8s\n' "GET /v1/totals?..." "median" "worst" "figures"
tq() {
	name=$1 query=$2 want=$3
	times=$(for i in $(seq 20); do
		curl -s -o /dev/null -w '%{time_total}\n' "$URL/v1/totals?$query"
	done | sort -n)
	med=$(echo "$times" | sed -n 10p)
	worst=$(echo "$times" | tail -1)
	got=$(curl -s "$URL/v1/totals?$query" | /usr/bin/python3 -c '
import decimal, json, sys
rows = json.load(sys.stdin)["rows"]
m = lambda s: int(decimal.Decimal(s).scaleb(2))
print(sum(m(r["contracted"]) for r in rows), sum(m(r["paid"]) for r in rows),
      sum(r["contracts"] for r in rows), sum(r["payments"] for r in rows))')
	if [ "$got" = "$want" ]; then
		check=match
	else
		check=WRONG fail=1
		echo "  got  $got" >&2
		echo "  want $want" >&2
	fi
	printf '%-44s %6.1fms %6.1fms %8s\n' "$name" \
		"$(echo "$med * 1000" | bc)" "$(echo "$worst * 1000" | bc)" "$check"
}
want() { awk -v k="$1" '$1 == k { print $2, $3, $4, $5 }' "$DIR/fixture.txt"; }
tq "one buyer, one year (target < 200 ms)" \
	"by=buyer&party=$B&from=2025-01-01&to=2026-01-01" "$(want want_buyer_2025)"
tq "one supplier, every year" "by=supplier&party=$(get supplier)" \
	"$(want want_supplier)"
tq "one item code, every year" "by=item&item=$(get item)" "$(want want_item)"
tq "by month, 2025, every buyer" "by=month&from=2025-01-01&to=2026-01-01" \
	"$(want want_months_2025)"
t0=$(date +%s.%N)
curl -s -o /dev/null "$URL/v1/totals?by=supplier"
echo "  (every supplier, every year, with payments: $(echo \
	"($(date +%s.%N) - $t0) * 1000" | bc | cut -d. -f1) ms;" \
	"$(get processes) contracts)"

anon1=$(anon)
echo "procured memory: $anon1 MiB anonymous (private, not file-backed;" \
	"target < 64 MiB), $(awk '/RssFile/ { printf "%.0f MiB", $2 / 1024 }' \
	/proc/$PID/status) resident from files (the log and the aggregates," \
	"$(du -m "$DIR/data.mdb" | cut -f1) MiB of log)"
# 1,000 connections held open, each with half a request sent.
/usr/bin/python3 - "$PORT" "$PID" <<'PY'
import socket, sys, time, urllib.request
port, pid = int(sys.argv[1]), sys.argv[2]
conns = []
for _ in range(1000):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /checkpoint HTTP/1.1\r\nHost: x\r\n")
    conns.append(s)
deadline = time.time() + 10
while time.time() < deadline:
    m = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port).read()
    n = [l for l in m.decode().splitlines()
         if l.startswith("procured_http_connections ")]
    if n and int(n[0].split()[1]) >= 1000:
        break
    time.sleep(0.05)
with open("/proc/%s/smaps_rollup" % pid) as f:
    kb = [int(l.split()[1]) for l in f if l.startswith("Anonymous:")][0]
print("  with %s connections open: %.1f MiB anonymous" % (
    n[0].split()[1] if n else "?", kb / 1024))
for s in conns:
    s.close()
PY
# The aggregates are file-backed: analysing the whole log and answering
# every query above may add little anonymous memory to what procured had
# when it opened the store.
grow=$(echo "$anon1 - $anon0" | bc)
if [ "$(echo "$grow < 16" | bc)" = 1 ]; then
	echo "  growth while analysing the log and answering: $grow MiB (ok, < 16)"
else
	echo "  growth while analysing the log and answering: $grow MiB" \
		"(WRONG: the aggregates should not be on the heap)"
	fail=1
fi
exit $fail
