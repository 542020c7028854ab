#!/bin/sh
# Interoperability of the signature formats with independent
# implementations: Go's golang.org/x/mod/sumdb/note for signed notes and
# checkpoints, Python's cryptography for DSSE, log entries, tlog-proof
# files and PKCS#8 key files.  Any mismatch fails.
. "$(dirname "$0")/lib.sh"

SIGTOOL=$BUILD/tests/tools/sigtool
PY=/usr/bin/python3
CHECK=tests/interop/dsse_check.py
ORIGIN=log.example/procured
TYPE='application/vnd.procured.event+json; version=1'

if [ ! -x "$SIGTOOL" ]; then
	fail "$SIGTOOL is built"
	finish
	exit 1
fi

# Go in GOPATH mode with the Debian golang.org/x/mod.
GOCACHE=${TMPDIR:-/tmp}/procured-gocache
export GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE GOFLAGS=
if go build -o "$TMP/notecheck" ./tests/interop/notecheck 2>"$TMP/go.err"; then
	ok "notecheck (Go) builds"
else
	fail "notecheck (Go) builds: $(cat "$TMP/go.err")"
	finish
	exit 1
fi
NOTECHECK=$TMP/notecheck

# Our key, our checkpoint, Go verifies it.
VKEY=$("$SIGTOOL" keygen "$TMP/log.key" "$ORIGIN")
check_eq "$(stat -c %a "$TMP/log.key")" 600 "key file is created 0600"
PUB=$("$SIGTOOL" info "$TMP/log.key" "$ORIGIN" | sed -n 's/^pub //p')
check_eq "$("$NOTECHECK" vkey "$ORIGIN" "$PUB")" "$VKEY" \
	"Go derives the same verifier key"
ROOT=5f2a1c0e8b7d6a594837261504f3e2d1c0b9a89786756453423120f0e0d0c0b0
"$SIGTOOL" checkpoint-sign "$TMP/log.key" "$ORIGIN" 70000 "$ROOT" \
	>"$TMP/checkpoint"
if GOTTEXT=$("$NOTECHECK" verify "$VKEY" "$TMP/checkpoint"); then
	check_eq "$GOTTEXT" "$(printf '%s\n70000\n%s' "$ORIGIN" \
		"$($PY -c "import base64,sys;print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())" "$ROOT")")" \
		"Go verifies our checkpoint and reads the same text"
else
	fail "Go verifies our checkpoint"
fi
sed 's/^70000$/70001/' "$TMP/checkpoint" >"$TMP/checkpoint.bad"
if "$NOTECHECK" verify "$VKEY" "$TMP/checkpoint.bad" 2>/dev/null; then
	fail "Go rejects our tampered checkpoint"
else
	ok "Go rejects our tampered checkpoint"
fi

# Go's key and note, we verify them.
printf '%s\n5\n%s\nextension line\n' go.example/log \
	CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I= >"$TMP/gotext"
GOVKEY=$("$NOTECHECK" sign go.example/log "$TMP/gotext" "$TMP/gonote")
if OUT=$("$SIGTOOL" note-verify "$GOVKEY" "$TMP/gonote" go.example/log); then
	check_eq "$OUT" "$(printf 'origin go.example/log\nsize 5')" \
		"we verify Go's signed checkpoint"
else
	fail "we verify Go's signed checkpoint"
fi
sed 's/^5$/6/' "$TMP/gonote" >"$TMP/gonote.bad"
if "$SIGTOOL" note-verify "$GOVKEY" "$TMP/gonote.bad" 2>/dev/null; then
	fail "we reject Go's tampered note"
else
	ok "we reject Go's tampered note"
fi
if "$SIGTOOL" note-verify "$VKEY" "$TMP/gonote" 2>/dev/null; then
	fail "Go's note does not verify with another key"
else
	ok "Go's note does not verify with another key"
fi

# The shared signed-note vector, both ways.
VEC=../shared/vectors/signed-note.txt
if [ -f "$VEC" ]; then
	VVKEY=$(sed -n 's/^vkey //p' "$VEC")
	sed -n '/^--- note$/,/^--- end$/p' "$VEC" | sed '1d;$d' >"$TMP/vec"
	if "$SIGTOOL" note-verify "$VVKEY" "$TMP/vec" >/dev/null &&
		"$NOTECHECK" verify "$VVKEY" "$TMP/vec" >/dev/null; then
		ok "signed-note vector verifies with both implementations"
	else
		fail "signed-note vector verifies with both implementations"
	fi
fi

# DSSE: ours with two signers, Python verifies.
printf '{"kind":"contract","ocid":"ocds-213czf-000-00001"}' >"$TMP/payload"
"$SIGTOOL" keygen "$TMP/supplier.key" supplier >/dev/null
SPUB=$("$SIGTOOL" info "$TMP/supplier.key" x | sed -n 's/^pub //p')
"$SIGTOOL" dsse-sign "$TYPE" "$TMP/payload" "$TMP/log.key" \
	"$TMP/supplier.key" >"$TMP/env.json"
check_eq "$($PY "$CHECK" verify "$TMP/env.json" "$PUB" "$SPUB")" \
	"ok 2 signatures" "Python verifies our two DSSE signatures"
if $PY "$CHECK" verify "$TMP/env.json" "$SPUB" "$PUB" 2>/dev/null; then
	fail "Python rejects swapped DSSE keys"
else
	ok "Python rejects swapped DSSE keys"
fi

# DSSE: Python's (URL-safe signature), we verify.
PYPUB=$($PY "$CHECK" sign "$TYPE" "$TMP/payload" "$TMP/pyenv.json")
check_eq "$("$SIGTOOL" dsse-verify "$TMP/pyenv.json" "$PYPUB")" \
	"ok 1 signatures" "we verify Python's DSSE envelope"
sed 's/ocds-213czf/ocds-213czg/' "$TMP/payload" >"$TMP/payload2"
$PY - "$TMP/pyenv.json" "$TMP/payload2" >"$TMP/pyenv.bad" <<'EOF'
import base64, json, sys
env = json.load(open(sys.argv[1]))
env["payload"] = base64.b64encode(open(sys.argv[2], "rb").read()).decode()
print(json.dumps(env))
EOF
if "$SIGTOOL" dsse-verify "$TMP/pyenv.bad" "$PYPUB" 2>/dev/null; then
	fail "we reject Python's envelope with a changed payload"
else
	ok "we reject Python's envelope with a changed payload"
fi

# Log entries: Python decodes the documented layout and agrees on hashes.
"$SIGTOOL" entry "$TMP/env.json" 1772355600123 >"$TMP/entry"
ENTRY=$(sed -n 's/^entry //p' "$TMP/entry")
if PYOUT=$($PY "$CHECK" entry-verify "$ENTRY" "$PUB" "$SPUB"); then
	check_eq "$(echo "$PYOUT" | sed -n 's/^log_time //p')" 1772355600123 \
		"Python reads the entry's log time"
	check_eq "$(echo "$PYOUT" | sed -n 's/^envelope_hash //p')" \
		"$(sed -n 's/^envelope_hash //p' "$TMP/entry")" \
		"Python computes the same envelope hash"
	check_eq "$(echo "$PYOUT" | sed -n 's/^leaf_hash //p')" \
		"$(sed -n 's/^leaf_hash //p' "$TMP/entry")" \
		"Python computes the same leaf hash"
else
	fail "Python decodes our entry and verifies its signatures"
fi

# tlog-proof files: Python verifies ours, and rejects a wrong leaf.
"$SIGTOOL" tproof-demo "$TMP/log.key" "$ORIGIN" 1000 617 >"$TMP/p.tlog-proof"
LEAF=$($PY -c 'import hashlib;print(hashlib.sha256(b"\0entry 617").hexdigest())')
check_eq "$($PY "$CHECK" tproof-verify "$TMP/p.tlog-proof" "$VKEY" "$LEAF")" \
	"ok $ORIGIN index 617 size 1000" "Python verifies our tlog-proof"
LEAF2=$($PY -c 'import hashlib;print(hashlib.sha256(b"\0entry 618").hexdigest())')
if $PY "$CHECK" tproof-verify "$TMP/p.tlog-proof" "$VKEY" "$LEAF2" \
	2>/dev/null; then
	fail "Python rejects a wrong leaf"
else
	ok "Python rejects a wrong leaf"
fi
# The proof's checkpoint is a plain signed note Go accepts too.
sed '1,/^$/d' "$TMP/p.tlog-proof" >"$TMP/p.checkpoint"
if "$NOTECHECK" verify "$VKEY" "$TMP/p.checkpoint" >/dev/null; then
	ok "Go verifies the checkpoint inside our tlog-proof"
else
	fail "Go verifies the checkpoint inside our tlog-proof"
fi

# Key files: Python reads our PKCS#8; we read OpenSSL's own.
check_eq "$($PY "$CHECK" key-pub "$TMP/log.key")" "$PUB" \
	"Python reads our PKCS#8 private key"
openssl genpkey -algorithm ed25519 -out "$TMP/ossl.key" 2>/dev/null
chmod 644 "$TMP/ossl.key"
if "$SIGTOOL" info "$TMP/ossl.key" x >/dev/null 2>"$TMP/perm.err"; then
	fail "a 0644 private key file is refused"
else
	check_contains "$(cat "$TMP/perm.err")" "chmod 600" \
		"a 0644 private key file is refused with a fix"
fi
chmod 600 "$TMP/ossl.key"
check_eq "$("$SIGTOOL" info "$TMP/ossl.key" x | sed -n 's/^pub //p')" \
	"$($PY "$CHECK" key-pub "$TMP/ossl.key")" \
	"we read an openssl genpkey key as Python does"

finish
