#!/bin/sh
# Start-up, configuration checks, data directory ownership and shutdown.
. "$(dirname "$0")/lib.sh"

# --check-config: a good file passes, a bad one names file, line, problem.
cat >"$TMP/good.conf" <<CONF
# a comment
origin = test.procured.example/log
listen = 127.0.0.1:1
batch-max = 500
CONF
out=$("$PROCURED" -c "$TMP/good.conf" --check-config 2>&1)
check_eq "$?:$out" "0:procured: configuration OK" "--check-config passes a good file"
printf 'origin = x/y\nbatch-max = lots\n' >"$TMP/bad.conf"
out=$("$PROCURED" -c "$TMP/bad.conf" --check-config 2>&1)
check_eq "$?" 1 "--check-config fails a bad file"
check_contains "$out" "bad.conf:2: batch-max: 'lots' is not a non-negative integer" \
	"the error names file, line and problem"
printf 'origin = x/y\nbogus = 1\n' >"$TMP/bad2.conf"
out=$("$PROCURED" -c "$TMP/bad2.conf" --check-config 2>&1)
check_contains "$out" "bad2.conf:2: unknown option 'bogus'" "unknown options are refused"
out=$("$PROCURED" --check-config 2>&1)
check_contains "$out" "origin is not set" "a missing origin is refused"
out=$("$PROCURED" -c "$TMP/good.conf" --print-config 2>&1)
check_contains "$out" "listen = 127.0.0.1:1" "--print-config shows the file's values"
out=$("$PROCURED" -c "$TMP/good.conf" --listen 127.0.0.1:2 --print-config 2>&1)
check_contains "$out" "listen = 127.0.0.1:2" "flags override the file"
out=$("$PROCURED" --admin-key not-a-vkey --origin a/b --check-config 2>&1)
check_eq "$?" 1 "a malformed admin key is refused"

# The sample configuration is every option at its default.
"$PROCURED" --print-config >"$TMP/defaults.conf"
if diff -u "$TMP/defaults.conf" systemd/procured.conf >"$TMP/diff" 2>&1; then
	ok "systemd/procured.conf matches the defaults"
else
	fail "systemd/procured.conf differs from --print-config: $(cat "$TMP/diff")"
fi

start_procured || { fail "procured starts"; finish; exit 1; }
ok "procured starts and answers"
http GET /healthz
check_eq "$STATUS" 200 "/healthz status"
check_contains "$BODY" '"status":"ok"' "/healthz body"
mode=$(stat -c %a "$TMP/data/log.key")
check_eq "$mode" 600 "the generated log key is 0600"
if stop_procured; then ok "SIGTERM exits 0"; else fail "SIGTERM exit status"; fi

# The data directory belongs to its origin and key.
ORIGIN=other.example/log
if start_procured 2>/dev/null; then
	fail "a data directory of another origin is refused"
	stop_procured
else
	check_contains "$(cat "$TMP/procured.log")" "is not other.example/log" \
		"a data directory of another origin is refused"
fi
ORIGIN=test.procured.example/log
chmod 644 "$TMP/data/log.key"
if start_procured 2>/dev/null; then
	fail "a group-readable log key is refused"
	stop_procured
else
	check_contains "$(cat "$TMP/procured.log")" "chmod 600" \
		"a group-readable log key is refused with the fix"
fi
chmod 600 "$TMP/data/log.key"

# systemd notifications: READY=1, WATCHDOG=1, STOPPING=1.
/usr/bin/python3 - "$TMP/notify" >"$TMP/notify.out" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
got = []
while "STOPPING=1" not in got:
    got.append(s.recv(4096).decode())
    print(got[-1], flush=True)
PY
NPID=$!
i=0
while [ ! -S "$TMP/notify" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
NOTIFY_SOCKET="$TMP/notify" WATCHDOG_USEC=400000 start_procured ||
	fail "procured starts under a notify socket"
sleep 0.5
stop_procured
wait $NPID
out=$(cat "$TMP/notify.out")
check_contains "$out" "READY=1" "READY=1 is sent"
check_contains "$out" "WATCHDOG=1" "WATCHDOG=1 is sent"
check_contains "$out" "STOPPING=1" "STOPPING=1 is sent"
finish
