#!/bin/sh
# Every man page is clean under mandoc's linter (warnings and above).
. "$(dirname "$0")/lib.sh"

for m in docs/*.[1-8]; do
	[ -f "$m" ] || continue
	out=$(mandoc -T lint -W warning "$m" 2>&1)
	if [ -z "$out" ]; then ok "$m lints clean"; else fail "$m: $out"; fi
done
finish
