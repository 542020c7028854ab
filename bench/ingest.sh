#!/bin/sh
# procured's daemon benchmarks, each printed next to the machine's own
# limit measured in the same run:
#
#   Ed25519 verify/s on 2 cores     openssl speed -seconds 3 -multi 2 ed25519
#   sustained ingest (events/s)     build/bench/loadgen, closed loop, durable
#                                   receipts; target >= 80% of verify/s:
#                                   one envelope a request (POST
#                                   /v1/events), then BATCH a request
#                                   (POST /v1/events/batch)
#   receipt latency at 2,000/s      loadgen open loop; target p99 < 25 ms
#   /tile/0/000, /checkpoint        wrk, keep-alive; target 25,000+ req/s
#   /v1/processes/<ocid>            wrk --latency; target p99 < 2 ms
#   private memory                  /proc/PID/smaps_rollup "Anonymous" with
#                                   1,000 idle connections; target < 64 MiB
#   (--full) the same at 1,000,000 entries, and ingest there within 20% of
#   the rate on an empty log
#
# usage: sh bench/ingest.sh [--full]
# environment: BUILD (build), BENCH_DIR (the temporary directory's parent;
#   default: whichever of /var/tmp and /tmp has more room), EVENTS (events
#   per sustained run, 30000), CONC (its connections, 1024), BATCH (32)
#   and BCONC (64) for the batched run, RATE (2000),
#   RATE_SECS (10), FULL_ENTRIES (1000000), KEEP=1 (keep the directory).
set -eu
BUILD=${BUILD:-build}
FULL=0
[ "${1:-}" = "--full" ] && FULL=1
EVENTS=${EVENTS:-30000}
CONC=${CONC:-1024}
BATCH=${BATCH:-32}
BCONC=${BCONC:-64}
RATE=${RATE:-2000}
RATE_SECS=${RATE_SECS:-10}
FULL_ENTRIES=${FULL_ENTRIES:-1000000}
IDLE=1000
LOADGEN=$BUILD/bench/loadgen
MKLOAD=$BUILD/bench/mkload
PROCURED=$BUILD/procured

make -s all bench >/dev/null

for t in curl wrk openssl /usr/bin/python3; do
	command -v "$t" >/dev/null || { echo "ingest.sh: $t is missing" >&2; exit 2; }
done

# Events: the sustained run at 0, the open-loop run, then (--full) the fill
# to FULL_ENTRIES and the sustained run there.
NRATE=$((RATE * RATE_SECS))
NEVENTS=$((2 * EVENTS + NRATE))
[ $FULL = 1 ] && NEVENTS=$((NEVENTS + FULL_ENTRIES + EVENTS))
# Room: the fixture file (~2.9 KB an event) and the store (~3.5 KB an
# entry, with its indexes and tree), with a margin.
NEED_MB=$((NEVENTS * 8 / 1000 + 512))

free_mb() { df -Pm "$1" 2>/dev/null | awk 'NR == 2 { print $4 }'; }
if [ -z "${BENCH_DIR:-}" ]; then
	BENCH_DIR=/var/tmp
	[ "$(free_mb /tmp)" -gt "$(free_mb /var/tmp)" ] && BENCH_DIR=/tmp
fi
FREE_MB=$(free_mb "$BENCH_DIR")
if [ "$FREE_MB" -lt "$NEED_MB" ]; then
	echo "ingest.sh: $BENCH_DIR has $FREE_MB MiB free; this run needs" \
		"$NEED_MB MiB (set BENCH_DIR)" >&2
	exit 2
fi
DIR=$(mktemp -d "$BENCH_DIR/procured-bench.XXXXXX")
PID=
cleanup() {
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
	fi
	[ "${KEEP:-0}" = 1 ] || rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

PORT=$(/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
SERVER=127.0.0.1:$PORT

get() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
verify_rate() {
	openssl speed -seconds 3 -multi 2 ed25519 2>/dev/null |
		awk '/Ed25519/ && NF >= 5 { v = $NF } END { printf "%.0f", v }'
}
# CPU seconds (user + system) the daemon has used so far, in ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
tree_size() {
	curl -s "http://$SERVER/healthz" |
		sed -n 's/.*"tree_size": *\([0-9]*\).*/\1/p'
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", (b > 0 ? 100 * a / b : 0) }'; }
mark() { awk -v ok="$1" 'BEGIN { print (ok ? "ok" : "MISS") }'; }

# A sustained closed-loop run: loadgen output in $1, events from $2, then
# loadgen's options (--concurrency ...).
sustained() {
	_out=$1 _skip=$2
	shift 2
	_t0=$(cpu_ticks)
	"$LOADGEN" --server "$SERVER" "$@" --skip "$_skip" \
		--count "$EVENTS" "$DIR/events.jsonl" >"$_out" || true
	_t1=$(cpu_ticks)
	HZ=$(getconf CLK_TCK)
	echo "cpu_us_per_event $(awk -v d=$((_t1 - _t0)) -v hz="$HZ" \
		-v n="$(get loadgen_ok "$_out")" \
		'BEGIN { printf "%.0f", (n > 0 ? d * 1e6 / hz / n : 0) }')" >>"$_out"
}

# Idle connections held open while the memory is read: Anonymous (kB).
memory() {
	"$LOADGEN" --server "$SERVER" --idle $IDLE --hold 3 >"$DIR/idle.out" &
	_lp=$!
	_i=0
	while ! grep -q idle_ready "$DIR/idle.out" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -gt 300 ] && break
		sleep 0.1
	done
	awk '$1 == "Anonymous:" { print $2 }' "/proc/$PID/smaps_rollup"
	wait $_lp || true
}

echo "procured daemon benchmarks, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo |
	cut -d: -f2 | sed 's/^ //'), $(openssl version | cut -d' ' -f1-2)," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "data: $DIR ($FREE_MB MiB free)"

"$MKLOAD" -n "$NEVENTS" -k 8 "$DIR" >"$DIR/mkload.out"
echo "fixtures: $NEVENTS plan events, payload $(get mkload_payload_bytes_avg \
	"$DIR/mkload.out") bytes, envelope $(get mkload_envelope_bytes_avg \
	"$DIR/mkload.out") bytes on average, 8 buyer keys; signed at" \
	"$(get mkload_events_per_s "$DIR/mkload.out")/s"

ulimit -n 20000 2>/dev/null || true
"$PROCURED" --data-dir "$DIR/data" --origin bench.procured.example/log \
	--listen "$SERVER" --admin-key "$(cat "$DIR/admin.vkey")" \
	>"$DIR/procured.log" 2>&1 &
PID=$!
i=0
until curl -s -o /dev/null "http://$SERVER/healthz"; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $PID 2>/dev/null; then
		echo "ingest.sh: procured did not start:" >&2
		cat "$DIR/procured.log" >&2
		exit 1
	fi
	sleep 0.1
done
"$LOADGEN" --server "$SERVER" --concurrency 1 "$DIR/grants.jsonl" \
	>"$DIR/grants.out"
if [ "$(get loadgen_status_201 "$DIR/grants.out")" != 8 ]; then
	echo "ingest.sh: the grants were not accepted:" >&2
	cat "$DIR/grants.out" >&2
	exit 1
fi

# 1. Verify limit, then ingest right after it on an empty log.
VERIFY0=$(verify_rate)
sustained "$DIR/s0.out" 0 --concurrency "$CONC"
RATE0=$(get loadgen_ok_per_s "$DIR/s0.out")
sustained "$DIR/b0.out" "$EVENTS" --concurrency "$BCONC" --batch "$BATCH"
RATEB=$(get loadgen_ok_per_s "$DIR/b0.out")

# 2. Receipt latency, open loop.
"$LOADGEN" --server "$SERVER" --rate "$RATE" --connections 64 \
	--skip $((2 * EVENTS)) --count "$NRATE" "$DIR/events.jsonl" \
	>"$DIR/r.out" || true

# 3. Reads.
wrk_rate() {
	wrk -t1 -c64 -d5s "http://$SERVER$1" 2>/dev/null |
		awk '/^Requests\/sec/ { printf "%.0f", $2 }'
}
TILE=$(wrk_rate /tile/0/000)
CKPT=$(wrk_rate /checkpoint)
# p99 of GET /v1/processes/<ocid> in ms: one client asking again as soon
# as it has its answer (wrk --latency, one connection), so the figure is
# the lookup's own latency, not the queue of a saturated server.
OCID=$(head -1 "$DIR/events.jsonl" | /usr/bin/python3 -c 'import base64, json, sys
print(json.loads(base64.b64decode(json.load(sys.stdin)["payload"]))["ocid"])')
proc_p99() {
	wrk -t1 -c1 -d5s --latency "http://$SERVER/v1/processes/$OCID" \
		2>/dev/null | awk '$1 == "99%" {
		v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		printf "%.2f", (u == "us" ? v / 1000 : u == "s" ? v * 1000 : v) }'
}
PROC=$(proc_p99)

# 4. Memory with idle connections.
SIZE_SMALL=$(tree_size)
MEM_SMALL=$(memory)

if [ $FULL = 1 ]; then
	# 5. Fill to FULL_ENTRIES, then ingest and memory there.
	have=$(tree_size)
	fill=$((FULL_ENTRIES - have))
	t0=$(date +%s)
	"$LOADGEN" --server "$SERVER" --concurrency "$CONC" \
		--skip $((2 * EVENTS + NRATE)) --count $fill \
		"$DIR/events.jsonl" >"$DIR/fill.out" || true
	FILL_S=$(($(date +%s) - t0))
	SIZE_FULL=$(tree_size)
	VERIFY1=$(verify_rate)
	sustained "$DIR/s1.out" $((2 * EVENTS + NRATE + fill)) \
		--concurrency "$CONC"
	RATE1=$(get loadgen_ok_per_s "$DIR/s1.out")
	PROC1=$(proc_p99)
	MEM_FULL=$(memory)
	DISK_MB=$(du -sm "$DIR/data" | cut -f1)
fi

P99=$(get loadgen_p99_ms "$DIR/r.out")
row() { printf '%-46s %14s %16s %7s %s\n' "$@"; }
# One sustained run's rows: label, rate, verify limit, loadgen output,
# and (if given) what its p50 / p99 latencies are of.
ingest_rows() {
	row "$1" "$2/s" ">= 80% verify" "$(pct "$2" "$3")" \
		"$(mark "$(awk -v a="$2" -v b="$3" 'BEGIN { print (a >= 0.8 * b) }')")"
	row "  daemon CPU per event (user + system)" \
		"$(get cpu_us_per_event "$4") us" "" "" ""
	[ -z "${5:-}" ] || row "  $5 p50 / p99 at that load" \
		"$(get loadgen_p50_ms "$4") / $(get loadgen_p99_ms "$4") ms" \
		"" "" ""
}
echo
row figure measured "limit/target" ratio ""
row "Ed25519 verify, 2 cores (openssl -multi 2)" \
	"$VERIFY0/s" "" "" ""
ingest_rows "ingest, empty log, $CONC conns, durable" "$RATE0" "$VERIFY0" \
	"$DIR/s0.out" receipts
ingest_rows "ingest, empty log, batches of $BATCH, $BCONC conns" "$RATEB" \
	"$VERIFY0" "$DIR/b0.out" "batch replies"
row \
	"receipt latency p50 at $RATE/s open loop" \
	"$(get loadgen_p50_ms "$DIR/r.out") ms" "" "" ""
row "receipt latency p99 at $RATE/s open loop" \
	"$P99 ms" "< 25 ms" "" \
	"$(mark "$(awk -v a="$P99" 'BEGIN { print (a < 25) }')")"
row "  answered at that rate (201)" \
	"$(get loadgen_ok_per_s "$DIR/r.out")/s" "" "" ""
row "GET /tile/0/000 (wrk, 64 conns, keep-alive)" \
	"$TILE/s" ">= 25000/s" "" \
	"$(mark "$(awk -v a="$TILE" 'BEGIN { print (a >= 25000) }')")"
row "GET /checkpoint (wrk, 64 conns, keep-alive)" \
	"$CKPT/s" ">= 25000/s" "" \
	"$(mark "$(awk -v a="$CKPT" 'BEGIN { print (a >= 25000) }')")"
row "GET /v1/processes/<ocid> p99 (wrk, 1 conn)" \
	"$PROC ms" "< 2 ms" "" \
	"$(mark "$(awk -v a="$PROC" 'BEGIN { print (a < 2) }')")"
row \
	"private memory, $SIZE_SMALL entries, $IDLE idle conns" \
	"$((MEM_SMALL / 1024)) MiB" "< 64 MiB" "" \
	"$(mark "$([ "$MEM_SMALL" -lt 65536 ] && echo 1 || echo 0)")"
if [ $FULL = 1 ]; then
	row \
		"fill to $SIZE_FULL entries ($CONC conns)" "${FILL_S} s" "" "" ""
	row \
		"Ed25519 verify, 2 cores, at $SIZE_FULL" "$VERIFY1/s" "" "" ""
	ingest_rows "ingest at $SIZE_FULL entries, $CONC conns" "$RATE1" \
		"$VERIFY1" "$DIR/s1.out"
	# Against the empty log, raw and with each run's verify limit as
	# the yardstick (other load on the machine moves both).
	row "ingest at $SIZE_FULL vs empty log" \
		"$(pct "$RATE1" "$RATE0")" ">= 80%" "" \
		"$(mark "$(awk -v a="$RATE1" -v b="$RATE0" 'BEGIN { print (a >= 0.8 * b) }')")"
	row "  the same, each against its verify limit" \
		"$(awk -v a="$RATE1" -v b="$RATE0" -v c="$VERIFY1" -v d="$VERIFY0" \
		'BEGIN { printf "%.0f%%", 100 * (a / c) / (b / d) }')" "" "" ""
	row \
		"GET /v1/processes/<ocid> p99 at $SIZE_FULL" "$PROC1 ms" \
		"< 2 ms" "" \
		"$(mark "$(awk -v a="$PROC1" 'BEGIN { print (a < 2) }')")"
	row \
		"private memory, $SIZE_FULL entries, $IDLE idle conns" \
		"$((MEM_FULL / 1024)) MiB" "< 64 MiB" "" \
		"$(mark "$([ "$MEM_FULL" -lt 65536 ] && echo 1 || echo 0)")"
	printf '%-46s %14s\n' "store size on disk" "$DISK_MB MiB"
fi
for f in s0 b0 r; do
	bad=$(awk '/^loadgen_status_/ && $1 !~ /_20[01]$/ { printf "%s ", $0 }' \
		"$DIR/$f.out")
	[ -z "$bad" ] || echo "note: $f run answered $bad"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
