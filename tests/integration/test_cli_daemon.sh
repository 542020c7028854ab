#!/bin/sh
# procurectl against the real daemon: keys, signed submissions with
# checked receipts, every query command in text, JSON and CSV, proofs,
# exports, and verify from scratch, incrementally and on the data
# directory; exit statuses for the failures a user meets.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
CTL=$PROCURECTL
ORIGIN=cli-test.procured.example/log
OCID=ocds-pr0kz1-2026-CLI-0001
K=$TMP/keys
mkdir -p "$K" "$TMP/ev"
chmod 700 "$TMP"

# mkevent KIND PARENT OUT [FIELD=JSON]...: an event from docs/examples.
mkevent() {
	"$PY" - "$@" <<'EOF'
import json, sys
kind, parent, out = sys.argv[1:4]
e = json.load(open("docs/examples/%s.json" % kind))
e["ocid"] = "ocds-pr0kz1-2026-CLI-0001"
e.pop("bids", None)
if parent == "-":
    e.pop("parent", None)
else:
    e["parent"] = parent
for kv in sys.argv[4:]:
    k, v = kv.split("=", 1)
    e[k] = json.loads(v)
json.dump(e, open(out, "w"), ensure_ascii=False)
EOF
}

# jget FILE KEY: a top-level member of a JSON document.
jget() {
	"$PY" -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]
print(v if not isinstance(v, bool) else str(v).lower())' "$1" "$2"
}

# --- keys ---------------------------------------------------------------
for r in admin buyer supplier payer stranger; do
	"$CTL" keygen --name "$r" --out "$K/$r.key" >"$K/$r.txt" ||
		fail "keygen $r"
done
check_eq "$(stat -c %a "$K/buyer.key")" 600 "keygen writes the key file 0600"
"$CTL" keygen --name buyer --out "$K/buyer.key" >/dev/null 2>"$TMP/err"
check_eq $? 4 "keygen refuses to overwrite a key (exit 4)"
check_contains "$(cat "$TMP/err")" "not overwriting" "keygen says why"
ADMIN=$(head -n 1 "$K/admin.txt")
case "$ADMIN" in
admin+????????+*) ok "keygen prints the verifier key first" ;;
*) fail "keygen's first line is a vkey: $ADMIN" ;;
esac
"$CTL" keygen --name "bad name" --out "$K/x.key" 2>/dev/null
check_eq $? 2 "keygen refuses an invalid key name (exit 2)"
pub() { awk '/^publicKey/ {print $2}' "$K/$1.txt"; }

# --- the daemon -----------------------------------------------------------
mkdir -m 700 "$TMP/data"
if ! start_procured --data-dir "$TMP/data" --origin "$ORIGIN" \
	--admin-key "$ADMIN"; then
	fail "procured starts"
	finish
	exit 1
fi
http GET /v1/log
if [ "$STATUS" != 200 ]; then
	echo "# procured has no /v1/log yet: skipping"
	finish
	exit 0
fi
export PROCURECTL_SERVER="http://127.0.0.1:$PORT"
unset PROCURECTL_VKEY
export PROCURECTL_CONFIG="$TMP/no-config"
"$CTL" --json log >"$TMP/log.json" || fail "log --json"
VKEY=$(jget "$TMP/log.json" vkey)
check_eq "$(jget "$TMP/log.json" origin)" "$ORIGIN" "log shows the origin"

# --- submissions ----------------------------------------------------------
grant() { # grant NAME ROLE PARTY
	"$PY" - "$1" "$2" "$3" "$(pub "$1")" "$TMP/ev/g-$1.json" <<'EOF'
import json, sys
e = json.load(open("docs/examples/key.grant.json"))
e["party"] = {"id": sys.argv[3], "name": "Party of " + sys.argv[1]}
e["roles"] = [sys.argv[2]]
e["publicKey"] = sys.argv[4]
e.pop("validFrom"); e.pop("validUntil")
json.dump(e, open(sys.argv[5], "w"))
EOF
	"$CTL" submit --vkey "$VKEY" --key "$K/admin.key" "$TMP/ev/g-$1.json" \
		>"$TMP/out" || fail "grant $1: $(cat "$TMP/out")"
}
grant buyer buyer KZ-BIN-090640001233
grant supplier supplier KZ-BIN-151140002468
grant payer payer KZ-BIN-160740000214
check_contains "$(cat "$TMP/out")" "signature ok" \
	"submit checks the receipt's checkpoint signature with --vkey"
check_contains "$(cat "$TMP/out")" "inclusion   ok" \
	"submit checks the receipt's inclusion proof"

# submit_ev KIND PARENT KEYS...: prints the new leaf hash.
submit_ev() {
	_kind=$1 _parent=$2
	shift 2
	mkevent "$_kind" "$_parent" "$TMP/ev/$_kind.json"
	_args=""
	for _k in "$@"; do _args="$_args --key $K/$_k.key"; done
	# shellcheck disable=SC2086
	"$CTL" --json submit --vkey "$VKEY" $_args "$TMP/ev/$_kind.json" \
		>"$TMP/r-$_kind.json" 2>"$TMP/e-$_kind" ||
		{ fail "submit $_kind: $(cat "$TMP/e-$_kind")"; return 1; }
	jget "$TMP/r-$_kind.json" leaf_hash
}
H1=$(submit_ev plan - buyer)
H2=$(submit_ev tender "$H1" buyer)
H3=$(submit_ev award "$H2" buyer)
H4=$(submit_ev contract "$H3" buyer supplier)
H5=$(submit_ev contract.amend "$H4" buyer supplier)
H6=$(submit_ev delivery "$H4" supplier)
H7=$(submit_ev payment "$H4" payer)
[ -n "$H7" ] && ok "a whole process submitted (co-signed contract)"
check_eq "$(jget "$TMP/r-payment.json" index)" 9 "receipt index"
check_eq "$(jget "$TMP/r-contract.json" already_logged)" false \
	"first submission is logged"

# Resubmitting the same envelope gives the same receipt.
"$CTL" sign --key "$K/buyer.key" --key "$K/supplier.key" \
	"$TMP/ev/contract.json" >"$TMP/env.json" || fail "sign"
check_eq "$(jget "$TMP/env.json" payloadType)" \
	"application/vnd.procured.event+json; version=1" "sign: DSSE envelope"
"$CTL" --json submit --envelope "$TMP/env.json" --vkey "$VKEY" \
	>"$TMP/again.json" || fail "submit --envelope"
check_eq "$(jget "$TMP/again.json" already_logged)" true \
	"resubmitted envelope: already logged"
check_eq "$(jget "$TMP/again.json" leaf_hash)" "$H4" "same receipt"

# Refusals are server errors (exit 3) with the server's code.
mkevent plan - "$TMP/ev/plan2.json" ocid='"ocds-pr0kz1-2026-CLI-0002"'
"$CTL" submit --key "$K/stranger.key" "$TMP/ev/plan2.json" 2>"$TMP/err"
check_eq $? 3 "submit with an unknown key: exit 3"
check_contains "$(cat "$TMP/err")" "unknown_key" "the server's error code"
check_contains "$(cat "$TMP/err")" "HTTP 401" "the HTTP status"
"$CTL" submit --key "$K/buyer.key" "$TMP/nonexistent.json" 2>/dev/null
check_eq $? 4 "submit of a missing file: exit 4"
echo '{"kind": "plan"}' >"$TMP/ev/bad.json"
"$CTL" sign --key "$K/buyer.key" "$TMP/ev/bad.json" >/dev/null 2>"$TMP/err"
check_eq $? 4 "sign refuses an invalid event"
check_contains "$(cat "$TMP/err")" "missing" "and names what is wrong"
chmod 644 "$K/payer.key"
"$CTL" sign --key "$K/payer.key" "$TMP/ev/payment.json" >/dev/null \
	2>"$TMP/err"
check_eq $? 4 "a group-readable key is refused"
check_contains "$(cat "$TMP/err")" "chmod" "with the fix"
chmod 600 "$K/payer.key"

# --- queries ----------------------------------------------------------------
OUT=$("$CTL" process "$OCID")
check_eq $? 0 "process"
check_contains "$OUT" "└─ tender" "process draws the chain as a tree"
check_contains "$OUT" "├─ contract.amend" "amendments under the contract"
check_contains "$OUT" "719,080,000.00 KZT" "running contracted total"
check_contains "$OUT" "329,665,000.00 KZT" "running paid total"
check_contains "$OUT" "(пример); supplier: " "co-signers, by name"
"$CTL" --csv process "$OCID" >"$TMP/p.csv"
check_eq "$(head -n 1 "$TMP/p.csv" | tr -d '\r')" \
	"kind,index,log_time,signers,value,contracted,paid,currency,depth,parent_index,leaf_hash" \
	"process --csv header"
check_eq "$(grep -c . "$TMP/p.csv")" 8 "process --csv: one row an event"
"$CTL" --json process "$OCID" >"$TMP/p.json" &&
	"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert len(d["tree"]) == 7 and d["tree"][-1]["paid"] == "329665000.00"' \
		"$TMP/p.json" && ok "process --json has the tree and totals" ||
	fail "process --json"

OUT=$("$CTL" search --party KZ-BIN-151140002468)
check_contains "$OUT" "contract.amend" "search by party"
"$CTL" --csv search --kind payment >"$TMP/s.csv"
check_eq "$(sed -n 2p "$TMP/s.csv" | cut -d, -f3)" payment "search --csv"
"$CTL" --json search --item ATC:J01CA04 --limit 2 >"$TMP/s.json"
check_eq "$(jget "$TMP/s.json" count)" 2 "search --limit"
"$CTL" search 2>/dev/null
check_eq $? 2 "search without a criterion: usage error"

OUT=$("$CTL" prices ATC:J01CA04 --reference 30.00)
check_contains "$OUT" "27.90 KZT" "prices: unit price"
check_contains "$OUT" "0.93" "prices: median ratio to the reference"
OUT=$("$CTL" --csv totals --by supplier | tr -d '\r')
check_contains "$OUT" "KZ-BIN-151140002468,,719080000.00,329665000.00,1,1,KZT" \
	"totals --by supplier --csv"
"$CTL" totals --by nothing 2>/dev/null
check_eq $? 2 "totals with a bad --by: usage error"

OUT=$("$CTL" get 6)
check_contains "$OUT" "kind       contract" "get shows the kind"
check_contains "$OUT" '"awardID"' "get shows the event"
"$CTL" get 999 2>"$TMP/err"
check_eq $? 3 "get past the end: exit 3"
check_contains "$(cat "$TMP/err")" "404" "with the status"

# Every query in all three forms: a table, one JSON document, and CSV
# with a header and rows of as many fields (as many rows as the JSON
# list named ROWS has members, unless ROWS is -).
modes() { # modes NAME ROWS ARGS...
	_name=$1 _rows=$2
	shift 2
	"$CTL" "$@" >"$TMP/m.txt" 2>"$TMP/m.err" &&
		"$CTL" --json "$@" >"$TMP/m.json" 2>>"$TMP/m.err" &&
		"$CTL" --csv "$@" >"$TMP/m.csv" 2>>"$TMP/m.err" ||
		{ fail "$_name: $(cat "$TMP/m.err")"; return; }
	"$PY" - "$TMP/m.txt" "$TMP/m.json" "$TMP/m.csv" "$_rows" <<'EOF2' &&
import csv, json, sys
txt = open(sys.argv[1], encoding="utf-8").read()
doc = json.load(open(sys.argv[2], encoding="utf-8"))
rows = list(csv.reader(open(sys.argv[3], encoding="utf-8", newline="")))
assert txt.strip(), "an empty table"
assert isinstance(doc, dict) and doc, "not one JSON object"
assert len(rows) >= 2, "CSV without rows"
assert all(len(r) == len(rows[0]) for r in rows), "ragged CSV"
assert len(set(rows[0])) == len(rows[0]), "repeated CSV columns"
if sys.argv[4] != "-":
    assert len(doc[sys.argv[4]]) == len(rows) - 1, \
        "JSON and CSV disagree on the rows"
EOF2
		ok "$_name: a table, one JSON document, CSV" ||
		fail "$_name: a table, one JSON document, CSV"
}
modes "log" - log
modes "get" - get 6
modes "process" tree process "$OCID"
modes "search" results search --party KZ-BIN-151140002468
modes "prices" - prices ATC:J01CA04 --reference 30.00
modes "totals" rows totals --by buyer
modes "flags" - flags

# --- proofs and export ---------------------------------------------------
"$CTL" prove 6 --vkey "$VKEY" --out "$TMP/p6.proof" >"$TMP/out" ||
	fail "prove: $(cat "$TMP/out")"
check_eq "$(head -n 1 "$TMP/p6.proof")" "c2sp.org/tlog-proof@v1" \
	"prove writes a tlog-proof file"
"$PY" - "$TMP/p6.proof" "$H4" <<'EOF' && ok "the proof file verifies independently" || fail "independent proof check"
import base64, hashlib, sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[1] == "index 6", lines[1]
proof, i = [], 2
while lines[i]:
    proof.append(base64.b64decode(lines[i])); i += 1
size = int(lines[i + 2]); root = base64.b64decode(lines[i + 3])
h = lambda *p: hashlib.sha256(b"".join(p)).digest()
fn, sn, r = 6, size - 1, bytes.fromhex(sys.argv[2])
for p in proof:
    if fn % 2 == 1 or fn == sn:
        r = h(b"\x01", p, r)
        while fn % 2 == 0 and fn:
            fn >>= 1; sn >>= 1
    else:
        r = h(b"\x01", r, p)
    fn >>= 1; sn >>= 1
assert sn == 0 and r == root
EOF
"$CTL" prove --check "$TMP/p6.proof" --vkey "$VKEY" >"$TMP/out"
check_eq $? 0 "prove --check verifies a proof file (entry from the server)"
check_contains "$(cat "$TMP/out")" "entry 6 is in the tree" "and says so"
"$CTL" --server http://127.0.0.1:1 prove --check "$TMP/p6.proof" \
	--vkey "$VKEY" --leaf "$H4" >/dev/null
check_eq $? 0 "prove --check --leaf works offline"
"$CTL" prove --check "$TMP/p6.proof" --vkey "$VKEY" --leaf "$H5" \
	2>/dev/null
check_eq $? 1 "a proof does not prove another entry"
awk 'NR == 3 { $0 = (substr($0, 1, 1) == "A" ? "B" : "A") substr($0, 2) }
	{ print }' "$TMP/p6.proof" >"$TMP/bad.proof"
"$CTL" prove --check "$TMP/bad.proof" --vkey "$VKEY" --leaf "$H4" \
	2>/dev/null
check_eq $? 1 "a changed proof hash fails"
"$CTL" export >"$TMP/export.jsonl"
check_eq "$(wc -l <"$TMP/export.jsonl" | tr -d ' ')" 10 "export: a line an entry"
check_eq "$(sed -n 7p "$TMP/export.jsonl" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["leaf_hash"])')" \
	"$H4" "export carries leaf hashes"

# --- verify -----------------------------------------------------------------
"$CTL" verify --vkey "$VKEY" --admin-key "$ADMIN" --state "$TMP/state" \
	>"$TMP/out" 2>&1
check_eq $? 0 "verify from scratch"
check_contains "$(cat "$TMP/out")" "checked      10 entries, 12 signatures" \
	"verify reports what it checked"
mkevent plan - "$TMP/ev/plan3.json" ocid='"ocds-pr0kz1-2026-CLI-0003"'
"$CTL" submit --key "$K/buyer.key" "$TMP/ev/plan3.json" >/dev/null ||
	fail "submit after verify"
"$CTL" --json verify --vkey "$VKEY" --admin-key "$ADMIN" \
	--state "$TMP/state" >"$TMP/v.json"
check_eq $? 0 "verify again with the state file"
check_eq "$(jget "$TMP/v.json" previous_size)" 10 "consistency from size 10"
check_eq "$(jget "$TMP/v.json" entries_checked)" 1 "only the new entry"
PROCURECTL_VKEY=$VKEY "$CTL" verify --quiet --admin-key "$ADMIN"
check_eq $? 0 "the vkey from PROCURECTL_VKEY"
printf 'vkey = %s\nadmin-key = %s\n' "$VKEY" "$ADMIN" >"$TMP/config"
PROCURECTL_CONFIG=$TMP/config "$CTL" verify --quiet
check_eq $? 0 "the vkey and admin key from the configuration file"
OTHER=$("$CTL" keygen --name "$ORIGIN" --out "$K/other.key" | head -n 1)
"$CTL" verify --vkey "$OTHER" --admin-key "$ADMIN" 2>"$TMP/err"
check_eq $? 1 "verify with another key of the same name: exit 1"
check_contains "$(cat "$TMP/err")" "checkpoint_signature" "the rule broken"
"$CTL" verify --vkey "$VKEY" 2>"$TMP/err"
check_eq $? 1 "verify without the admin key fails at entry 0"
check_contains "$(cat "$TMP/err")" "entry 0" "and names the entry"
"$CTL" verify 2>/dev/null
check_eq $? 2 "verify without any vkey: usage error"
"$CTL" verify --quiet --vkey "$VKEY" --admin-key "$ADMIN" \
	--data-dir "$TMP/data"
check_eq $? 0 "verify the data directory read-only while the daemon runs"
"$CTL" export --data-dir "$TMP/data" | wc -l | tr -d ' ' >"$TMP/n"
check_eq "$(cat "$TMP/n")" 11 "export from the data directory"

# --- network errors -------------------------------------------------------
if stop_procured; then ok "procured stops"; else fail "procured stops"; fi

# --- a changed byte in a copy of the data directory -----------------------
# Entry 6 (the contract) keeps its payload verbatim in data.mdb: change
# one byte of a stretch of it found nowhere else in the file.
mkdir -m 700 "$TMP/copy"
cp -p "$TMP/data"/* "$TMP/copy/"
"$PY" - "$TMP/export.jsonl" "$TMP/copy/data.mdb" 6 <<'EOF2' &&
import base64, json, sys
lines = open(sys.argv[1]).read().splitlines()
e = json.loads(lines[int(sys.argv[3])])
payload = base64.b64decode(e["envelope"]["payload"])
db = bytearray(open(sys.argv[2], "rb").read())
for i in range(len(payload) // 2, len(payload) - 32):
    w = payload[i:i + 32]
    at = db.find(w)
    if at >= 0 and db.find(w, at + 1) < 0:
        db[at + 16] ^= 0x01
        open(sys.argv[2], "wb").write(bytes(db))
        sys.exit(0)
sys.exit(1)
EOF2
	ok "one byte of entry 6 changed in the copy" ||
	fail "one byte of entry 6 changed in the copy"
"$CTL" verify --vkey "$VKEY" --admin-key "$ADMIN" --data-dir "$TMP/copy" \
	2>"$TMP/err"
check_eq $? 1 "verify of the changed copy fails (exit 1)"
check_contains "$(cat "$TMP/err")" "entry 6:" "and names the changed entry"
"$CTL" verify --quiet --vkey "$VKEY" --admin-key "$ADMIN" \
	--data-dir "$TMP/data"
check_eq $? 0 "the original still verifies"
"$CTL" log 2>"$TMP/err"
check_eq $? 3 "no server: exit 3"
check_eq "$(cat "$TMP/err")" \
	"procurectl: cannot connect to 127.0.0.1:$PORT: Connection refused" \
	"one clear line"
"$CTL" --server ftp://x log 2>/dev/null
check_eq $? 2 "a bad server URL: usage error"
finish
