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
	PROCURED_BIN=${PROCURED:-$BUILD/procured}
	case $PROCURED_BIN in /*) ;; *) PROCURED_BIN=$PWD/$PROCURED_BIN ;; esac
	export PROCURED_BIN
	export PROCURED="$PWD/tests/valgrind-procured"
	export VALGRIND
fi

# Under memcheck everything runs 20 to 50 times slower, so VALGRIND=1
# skips the programs whose size is the point of the test (tens of
# thousands of entries, many crash rounds, filling a disk) and keeps the
# ones that drive every code path of the daemon and the CLI.
VG_SKIP="test_cli_verify test_crash.sh test_space.sh test_flags.sh test_ocds.sh \
	test_demo.sh test_corrupt.sh test_overload.sh"
skip() {
	[ -n "$VG" ] || return 1
	case " $(echo $VG_SKIP) " in
	*" $1 "*) echo "== skipped under valgrind: $1"; return 0 ;;
	esac
	return 1
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	skip "$(basename "$t")" && continue
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
	skip "$(basename "$s")" && continue
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
