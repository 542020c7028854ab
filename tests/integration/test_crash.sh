#!/bin/sh
# Crash test: SIGKILL under load from concurrent submitters, restart, and
# check every receipt and checkpoint ever returned (tests/integration/
# crash.py).  CRASH_ROUNDS (default 50) and CRASH_SEED reproduce a run.
if [ "${VALGRIND:-0}" = 1 ]; then
	echo "ok - # SKIP crash test under valgrind (SIGKILL leaves no report)"
	exit 0
fi
exec /usr/bin/python3 "$(dirname "$0")/crash.py" --rounds "${CRASH_ROUNDS:-50}"
