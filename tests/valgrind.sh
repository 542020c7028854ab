#!/bin/sh
# Runs a command under valgrind memcheck (make test VALGRIND=1): a memory
# error or a leak (definite, indirect or possible) makes it exit 99.  The
# report goes to stderr, and with VG_LOGDIR set also to a file there.
d=$(dirname "$0")
log=
if [ -n "${VG_LOGDIR:-}" ]; then
	mkdir -p "$VG_LOGDIR"
	log="--log-file=$VG_LOGDIR/$(basename "$1").%p.log"
fi
exec valgrind -q --error-exitcode=99 --leak-check=full \
	--show-leak-kinds=definite,indirect,possible \
	--errors-for-leak-kinds=definite,indirect,possible \
	--num-callers=30 --suppressions="$d/valgrind.supp" $log "$@"
