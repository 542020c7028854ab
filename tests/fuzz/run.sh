#!/bin/sh
# Bounded fuzzing (make fuzz-ci): every libFuzzer harness in build/fuzz/
# runs for FUZZ_SECONDS (default 15) under AddressSanitizer and UBSan,
# FUZZ_JOBS (default: one a core) at a time, starting from its committed
# corpus (tests/fuzz/corpus/NAME/, read only: new inputs go to
# build/fuzz/run/NAME/).  A crash, leak, timeout or sanitizer report
# fails the run and leaves the input in build/fuzz/run/NAME/.  Prints
# the executions and corpus size of each harness, and the total.
set -u
SECS=${FUZZ_SECONDS:-15}
JOBS=${FUZZ_JOBS:-$(nproc)}
RUN=build/fuzz/run

if [ "${1:-}" = --one ]; then
	bin=$2
	name=${bin##*/fuzz_}
	dir=$RUN/$name
	rm -rf "$dir"
	mkdir -p "$dir/new"
	corpus=tests/fuzz/corpus/$name
	[ -d "$corpus" ] || corpus=
	"$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$dir/" \
		"$dir/new" $corpus >"$dir/log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
	cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "ok - fuzz $name: ${execs:-?} executions in ${SECS}s, $cov"
	else
		echo "not ok - fuzz $name: exit $rc after ${execs:-?} executions" \
			"(log and input in $dir/)"
		grep -E 'ERROR|SUMMARY|runtime error' "$dir/log" | head -5 |
			sed 's/^/#   /'
	fi
	echo "${execs:-0}" >"$dir/execs"
	exit $rc
fi

set -- build/fuzz/fuzz_*
if [ ! -x "$1" ]; then
	echo "no harnesses in build/fuzz/: run make fuzz" >&2
	exit 1
fi
mkdir -p "$RUN"
printf '%s\n' "$@" | xargs -P "$JOBS" -n 1 sh "$0" --one
rc=$?
total=0
for f in "$RUN"/*/execs; do
	total=$((total + $(cat "$f")))
done
echo "# $# harnesses, ${SECS}s each, $total executions in all"
[ $rc -eq 0 ]
