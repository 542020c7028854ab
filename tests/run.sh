#!/bin/sh
# Runs every test: cmocka unit binaries, fuzz corpus replays, then the
# integration scripts.  Called by `make test` with BUILD set.  Exits
# non-zero if anything failed; prints a summary line for each part.
set -u
BUILD=${BUILD:-build}
export BUILD
failed=""
nunit=0 nfuzz=0 nint=0

if [ "${SAN:-0}" = 1 ]; then
	export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi

# VALGRIND=1: every test program, and procured itself, under memcheck
# (tests/valgrind.sh); reports are kept in $BUILD/valgrind/.
VG=
if [ "${VALGRIND:-0}" = 1 ]; then
	if ! command -v valgrind >/dev/null; then
		echo "VALGRIND=1: valgrind is not installed" >&2
		exit 1
	fi
	export VG_LOGDIR="$BUILD/valgrind"
	rm -rf "$VG_LOGDIR"
	VG="sh tests/valgrind.sh"
	export PROCURED_BIN="${PROCURED:-$BUILD/procured}"
	export PROCURED="$PWD/tests/valgrind-procured"
	export VALGRIND
fi

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	nunit=$((nunit + 1))
	echo "== unit: $(basename "$t")"
	if ! $VG "$t"; then
		failed="$failed $(basename "$t")"
	fi
done

for r in "$BUILD"/tests/replay_*; do
	[ -x "$r" ] || continue
	name=${r##*/replay_}
	nfuzz=$((nfuzz + 1))
	echo "== fuzz corpus: $name"
	if ! $VG "$r" "tests/fuzz/corpus/$name"; then
		failed="$failed replay_$name"
	fi
done

for s in tests/integration/test_*.sh; do
	[ -f "$s" ] || continue
	nint=$((nint + 1))
	echo "== integration: $(basename "$s")"
	if ! sh "$s"; then
		failed="$failed $(basename "$s")"
	fi
done

echo
echo "ran $nunit unit, $nfuzz fuzz-corpus and $nint integration test programs"
if [ -n "$failed" ]; then
	echo "FAILED:$failed"
	exit 1
fi
echo "all tests passed"
