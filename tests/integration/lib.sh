# Shared helpers for integration tests; source it from a test script.
#
#   tmpdir          a fresh temporary directory, removed on exit
#   free_port       prints a free TCP port on 127.0.0.1
#   start_procured  ARGS...: starts build/procured on 127.0.0.1:$PORT with
#                   data in $TMP/data and origin $ORIGIN, waits until
#                   /healthz answers
#   stop_procured   SIGTERM, then waits for exit; fails if exit status != 0
#   http METHOD PATH [curl args]: sets $STATUS and $BODY
#   fail MSG / ok MSG / check_eq GOT WANT MSG
set -u
BUILD=${BUILD:-build}
PROCURED=${PROCURED:-$BUILD/procured}
PROCURECTL=${PROCURECTL:-$BUILD/procurectl}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/procured-test.XXXXXX")
PID=
NPASS=0
NFAIL=0

cleanup() {
	if [ -n "$PID" ]; then
		kill -9 "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ok() { NPASS=$((NPASS + 1)); echo "ok - $*"; }
fail() { NFAIL=$((NFAIL + 1)); echo "not ok - $*"; }
check_eq() {
	if [ "$1" = "$2" ]; then ok "$3"; else fail "$3: got '$1', want '$2'"; fi
}
check_contains() {
	case "$1" in
	*"$2"*) ok "$3" ;;
	*) fail "$3: '$2' not in '$1'" ;;
	esac
}

free_port() {
	/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# http METHOD PATH [extra curl args]: status in $STATUS, body in $BODY
# (and in the file $TMP/body).
http() {
	_m=$1 _p=$2
	shift 2
	STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -X "$_m" \
		--max-time 10 "$@" "http://127.0.0.1:$PORT$_p")
	BODY=$(cat "$TMP/body")
}

ORIGIN=${ORIGIN:-test.procured.example/log}

start_procured() {
	PORT=$(free_port)
	"$PROCURED" --listen "127.0.0.1:$PORT" --data-dir "$TMP/data" \
		--origin "$ORIGIN" "$@" >"$TMP/procured.log" 2>&1 &
	PID=$!
	_i=0
	# A bound, not a measure: under ASan or memcheck on a loaded machine
	# procured may take a while to answer.
	while [ $_i -lt 3000 ]; do
		if curl -s -o /dev/null --max-time 1 \
			"http://127.0.0.1:$PORT/healthz"; then
			return 0
		fi
		if ! kill -0 "$PID" 2>/dev/null; then
			echo "procured exited during start:" >&2
			cat "$TMP/procured.log" >&2
			PID=
			return 1
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "procured did not answer within 300 s" >&2
	return 1
}

stop_procured() {
	kill -TERM "$PID"
	wait "$PID"
	_rc=$?
	PID=
	return $_rc
}

finish() {
	echo "# $NPASS passed, $NFAIL failed"
	[ "$NFAIL" -eq 0 ]
}
