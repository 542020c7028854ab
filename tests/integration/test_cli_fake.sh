#!/bin/sh
# procurectl verify against fake logs (tests/integration/cli_fakelog.py,
# an independent implementation of the tile server): an honest log, then
# logs that lie: a changed byte in an entry bundle, a checkpoint for
# another tree, a forked history against the state file.  Also search's
# cursors, server errors and timeouts.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
CTL=$PROCURECTL
FAKE=$(dirname "$0")/cli_fakelog.py
FPID=

stop_fake() {
	if [ -n "$FPID" ]; then
		kill "$FPID" 2>/dev/null
		wait "$FPID" 2>/dev/null
		FPID=
	fi
}
trap 'stop_fake; cleanup' EXIT INT TERM

# fake ARGS...: (re)start the fake log; sets PROCURECTL_SERVER, VKEY, ADMIN.
fake() {
	stop_fake
	rm -rf "$TMP/fake"
	mkdir "$TMP/fake"
	mkfifo "$TMP/fake/port"
	"$PY" "$FAKE" "$TMP/fake" "$@" 2>"$TMP/fake.log" &
	FPID=$!
	read -r FPORT <"$TMP/fake/port"
	PROCURECTL_SERVER=http://127.0.0.1:$FPORT
	export PROCURECTL_SERVER
	VKEY=$(cat "$TMP/fake/vkey")
	ADMIN=$(cat "$TMP/fake/admin")
}

verify() { # verify [ARGS...]: status in $RC, stderr in $ERR
	"$CTL" verify --vkey "$VKEY" --admin-key "$ADMIN" "$@" \
		>"$TMP/out" 2>"$TMP/err"
	RC=$?
	ERR=$(cat "$TMP/err")
}

export PROCURECTL_CONFIG="$TMP/no-config"
unset PROCURECTL_VKEY

# An honest log of 600 entries (two full bundles and a partial one).
fake --size 600
[ -n "$FPORT" ] && ok "fake log listens on $FPORT" || fail "fake log starts"
verify --state "$TMP/state"
check_eq "$RC" 0 "verify passes on an honest log"
check_contains "$(cat "$TMP/out")" "checked      600 entries, 600 signatures" \
	"and says what it checked"
check_contains "$(cat "$TMP/out")" "3 entry bundles, 4 hash tiles" \
	"every bundle and tile fetched"

"$CTL" export --from 255 --limit 3 >"$TMP/x.jsonl"
check_eq "$("$PY" -c 'import json,sys
print(",".join(str(json.loads(l)["index"]) for l in open(sys.argv[1])))' \
	"$TMP/x.jsonl")" "255,256,257" "export --from --limit across bundles"

# The log grew honestly: only the new entries are checked.
fake --size 700
verify --state "$TMP/state"
check_eq "$RC" 0 "verify passes on the grown log with the state file"
check_contains "$(cat "$TMP/out")" "extends the tree of 600 entries" \
	"consistency with the last checkpoint"
check_contains "$(cat "$TMP/out")" "checked      100 entries" \
	"only new entries are checked"
cp "$TMP/state" "$TMP/state700"

# One byte of one entry changed in the bundle.
fake --size 700 --tamper-entry 300
verify
check_eq "$RC" 1 "a changed byte in an entry bundle fails (exit 1)"
check_contains "$ERR" "entry 300:" "the changed entry is named"
check_contains "$ERR" "leaf_mismatch" "with the rule broken"
fake --size 800 --tamper-entry 750
verify --state "$TMP/state"
check_eq "$RC" 1 "a changed new entry fails an incremental run"
check_contains "$ERR" "entry 750:" "and is named"
cmp -s "$TMP/state" "$TMP/state700" && ok "a failed run keeps the old state" ||
	fail "a failed run keeps the old state"

# A checkpoint signed for another tree than the one served.
fake --size 700 --bad-root
verify
check_eq "$RC" 1 "a checkpoint for a different tree fails"
check_contains "$ERR" "root_mismatch" "the root does not match"

# Another history from entry 500 on, signed by the same log key: fine on
# its own, caught by the state file.
fake --size 750 --fork-at 500
verify
check_eq "$RC" 0 "a forked history verifies on its own"
verify --state "$TMP/state"
check_eq "$RC" 1 "but not against the state file"
check_contains "$ERR" "inconsistent_checkpoint" "history was rewritten"
"$CTL" --json verify --vkey "$VKEY" --admin-key "$ADMIN" \
	--state "$TMP/state" >"$TMP/v.json" 2>/dev/null
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert d["ok"] is False and d["failure"]["rule"] == "inconsistent_checkpoint"
assert d["failure"]["index"] is None' "$TMP/v.json" &&
	ok "verify --json reports the failure" || fail "verify --json failure"

# A server that lost a bundle: a server error, not a hang.
fake --size 700 --missing-bundle 1
verify
check_eq "$RC" 3 "a missing entry bundle is a server error (exit 3)"
check_contains "$ERR" "/tile/entries/001" "naming the bundle"

# A progress line with the rate and the time left, on a terminal only
# (script(1) gives the command a terminal); nothing extra otherwise.
fake --size 700 --delay-ms 300
verify
check_eq "$RC" 0 "verify on a slow server"
check_eq "$ERR" "" "no progress line when stderr is not a terminal"
script -qec "$CTL verify --vkey $VKEY --admin-key $ADMIN" /dev/null \
	>"$TMP/tty.out" 2>&1
check_eq $? 0 "verify on a terminal"
check_contains "$(cat "$TMP/tty.out")" "entries/s, ETA 0:0" \
	"verify: a progress line with the rate and the time left"
"$CTL" export >"$TMP/x.jsonl" 2>"$TMP/err"
check_eq "$(cat "$TMP/err")" "" "export: no progress line off a terminal"
script -qec "$CTL export >$TMP/x.jsonl" /dev/null >"$TMP/tty.out" 2>&1
check_contains "$(cat "$TMP/tty.out")" "export: entries: 256/700" \
	"export: a progress line on a terminal"
check_eq "$(wc -l <"$TMP/x.jsonl" | tr -d ' ')" 700 \
	"export writes every entry all the same"
fake --size 40 --page 3 --delay-ms 50
script -qec "$CTL --csv search --kind plan >$TMP/s.csv" /dev/null \
	>"$TMP/tty.out" 2>&1
check_contains "$(cat "$TMP/tty.out")" "search: results: " \
	"search: a progress line over many pages"
"$CTL" --csv search --kind plan >"$TMP/s2.csv" 2>"$TMP/err"
check_eq "$(cat "$TMP/err")" "" "search: none off a terminal"
cmp -s "$TMP/s.csv" "$TMP/s2.csv" && ok "the same results either way" ||
	fail "the same results either way"

# Search follows cursors across pages.
fake --size 40 --page 3
"$CTL" --json search --kind plan --limit 10 >"$TMP/s.json"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert d["count"] == 10 and [r["index"] for r in d["results"]] == list(range(1, 11))' \
	"$TMP/s.json" && ok "search follows cursors" || fail "search follows cursors"
check_eq "$("$CTL" --csv search --kind plan | grep -c plan)" 39 \
	"search without --limit reads every page"
"$CTL" --json search --kind plan --ocid ocds-pr0kz1-F-000035 >"$TMP/s.json"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert [r["index"] for r in d["results"]] == [35], d' "$TMP/s.json" &&
	ok "every criterion holds, even if the server keeps only one" ||
	fail "search filters kind and ocid"

# Server errors and timeouts.
"$CTL" process x 2>"$TMP/err"
check_eq $? 3 "a server error: exit 3"
check_contains "$(cat "$TMP/err")" \
	"the log is busy; retry in a second (HTTP 503, overloaded)" \
	"the server's message and code"
check_contains "$(cat "$TMP/err")" "retry after 2 s" "and when to retry"
"$CTL" --timeout 1 process slow 2>"$TMP/err"
check_eq $? 3 "a timeout: exit 3"
check_contains "$(cat "$TMP/err")" "timed out after 1 s" "says it timed out"
stop_fake
finish
