#!/bin/sh
# The daemon starts, answers /healthz on loopback and stops cleanly.
. "$(dirname "$0")/lib.sh"

start_procured || { fail "procured starts"; finish; exit 1; }
ok "procured starts and answers"
http GET /healthz
check_eq "$STATUS" 200 "/healthz status"
check_contains "$BODY" '"status":"ok"' "/healthz body"
if stop_procured; then ok "SIGTERM exits 0"; else fail "SIGTERM exit status"; fi
finish
