#!/bin/sh
# The event documentation agrees with the parser: every example in
# docs/examples validates against docs/schema with Python's jsonschema AND
# parses with the C event model; broken variants fail both (or, for rules
# a JSON Schema cannot express, fail the C parser); the sealed-bid
# commitment and the key id are recomputed by an independent Python
# implementation.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
CHECK=$BUILD/tests/tools/eventcheck
SCHEMA="$PY tests/interop/event_schema.py docs/schema"

if [ ! -x "$CHECK" ]; then
	fail "$CHECK is built (run make test)"
	finish
	exit 1
fi

for f in docs/examples/*.json; do
	name=$(basename "$f" .json)
	want=${name%%-*}
	check_eq "$($SCHEMA "$f")" "ok $want" "schema accepts $name"
	check_eq "$("$CHECK" "$f")" "ok $want" "C parser accepts $name"
done

# Broken variants: file name, then what each validator must say.
$PY - "$TMP" <<'PYEOF'
import json, sys
out = sys.argv[1]
def load(k):
    with open("docs/examples/%s.json" % k, encoding="utf-8") as f:
        return json.load(f)
def save(name, ev):
    with open("%s/%s.json" % (out, name), "w", encoding="utf-8") as f:
        json.dump(ev, f, ensure_ascii=False)
ev = load("tender"); ev["items"][0]["unitPrice"]["amount"] = 28.5
save("both-money-number", ev)
ev = load("payment"); ev["status"] = "paid"; save("both-unknown-field", ev)
ev = load("contract"); ev["date"] = "2025-03-28T11:00:00+05:00"
save("both-offset-date", ev)
ev = load("award"); del ev["suppliers"]; save("both-missing-suppliers", ev)
ev = load("tender"); ev["items"][0]["classification"]["id"] = "J01CA4"
save("both-bad-atc", ev)
ev = load("payment"); ev["value"]["amount"] = "329665000.001"
save("both-decimals", ev)
ev = load("payment"); ev["value"] = {"amount": "329665000.5", "currency": "JPY"}
save("both-jpy-fraction", ev)
ev = load("contract"); ev["supplier"]["id"] = "KZ-BIN-15114000246"
save("both-bin-length", ev)
ev = load("tender"); ev["ocid"] = "ocds-PR0KZ1-2025"; save("both-bad-ocid", ev)
ev = load("tender.amend"); del ev["tenderPeriod"]; save("both-amend-nothing", ev)
ev = load("key.grant"); ev["ocid"] = "ocds-pr0kz1-1"; save("both-key-ocid", ev)
ev = load("award"); ev["bids"][2]["rank"] = 3; save("both-disqualified-rank", ev)
# Rules only the log can check (check digits, calendar, arithmetic).
ev = load("contract"); ev["supplier"]["id"] = "KZ-BIN-151140002469"
save("c-bin-check-digit", ev)
ev = load("tender-devices")
ev["items"][0]["additionalClassifications"][0]["id"] = "04870123456788"
save("c-gtin-check-digit", ev)
ev = load("delivery"); ev["deliveryDate"] = "2025-02-30T09:40:00Z"
save("c-february-30", ev)
ev = load("award"); ev["value"]["amount"] = "659330000.01"
save("c-value-mismatch", ev)
ev = load("tender"); ev["items"][1]["id"] = "1"; save("c-duplicate-item", ev)
PYEOF

for f in "$TMP"/both-*.json; do
	name=$(basename "$f" .json)
	case $($SCHEMA "$f") in
	fail*) ok "schema refuses $name" ;;
	*) fail "schema refuses $name" ;;
	esac
	case $("$CHECK" "$f") in
	ok*) fail "C parser refuses $name" ;;
	*) ok "C parser refuses $name: $("$CHECK" "$f" | cut -d' ' -f1-2)" ;;
	esac
done
for f in "$TMP"/c-*.json; do
	name=$(basename "$f" .json)
	case $("$CHECK" "$f") in
	ok*) fail "C parser refuses $name" ;;
	*) ok "C parser refuses $name: $("$CHECK" "$f" | cut -d' ' -f1-2)" ;;
	esac
done
check_eq "$("$CHECK" "$TMP/c-bin-check-digit.json" | cut -d' ' -f1-2)" \
	"bad_bin /supplier/id" "BIN check digit error names the field"

# Sealed bids and key ids, computed twice.
py=$($PY tests/interop/bid_commitment.py commit docs/examples/bid.reveal.json)
c=$("$CHECK" -c docs/examples/bid.reveal.json)
published=$(sed -n 's/.*"commitment": "\([0-9a-f]*\)".*/\1/p' \
	docs/examples/bid.commit.json)
check_eq "$c" "$py" "C and Python agree on the bid commitment"
check_eq "$published" "$py" "bid.commit example publishes that commitment"
check_eq "$("$CHECK" -k docs/examples/key.grant.json)" \
	"$($PY tests/interop/bid_commitment.py keyid docs/examples/key.grant.json)" \
	"C and Python agree on the key id"
finish
