#!/bin/sh
# `make run`: procured in the foreground on 127.0.0.1:8480 with its data
# in ./var and a demo year of procurement loaded on first start.
#
#   var/keys/          the development admin key and one key for each demo
#                      organization (tools/demo.py; mode 0700, keys 0600)
#   var/data/          the log (LMDB) and the log's own key
#   var/procured.conf  written on every start from the values below
#   var/reference-prices.csv  the demo's formulary price caps, for the
#                      price_above_reference red flag
#
# Later runs reuse var/ and skip loading.  Ctrl-C (or SIGTERM) stops
# procured cleanly; the script exits with procured's status.
set -eu
BUILD=${1:-build}
PY=/usr/bin/python3
ADDR=127.0.0.1:8480
URL=http://$ADDR
ORIGIN=localhost/procured-demo
VAR=$(pwd)/var

umask 077
mkdir -p "$VAR/data" "$VAR/keys"
chmod 0700 "$VAR" "$VAR/data" "$VAR/keys"

# Keys (created once) and the demo's reference price list.
VKEY=$($PY tools/demo.py --keys "$VAR/keys" --init-only \
	--reference-out "$VAR/reference-prices.csv")
cat >"$VAR/procured.conf" <<EOF
# Written by mk/run.sh for \`make run\` (development only).
origin = $ORIGIN
data-dir = $VAR/data
listen = $ADDR
admin-key = $VKEY
flag-reference-prices = $VAR/reference-prices.csv
EOF

if curl -s -o /dev/null --max-time 1 "$URL/healthz"; then
	echo "run: $ADDR is already serving (another procured?); stop it" \
		"first" >&2
	exit 1
fi
"$BUILD/procured" -c "$VAR/procured.conf" &
pid=$!
stop() { kill -TERM "$pid" 2>/dev/null || true; }
trap stop INT TERM HUP

i=0
until curl -s -o /dev/null --max-time 1 "$URL/healthz" &&
	kill -0 "$pid" 2>/dev/null; do
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" || true
		echo "run: procured exited during start (is $ADDR in use?)" >&2
		exit 1
	fi
	i=$((i + 1))
	if [ $i -ge 150 ]; then
		echo "run: procured did not answer on $URL within 15 s" >&2
		stop
		wait "$pid" || true
		exit 1
	fi
	sleep 0.1
done

if ! $PY tools/demo.py --keys "$VAR/keys" --server "$URL" --if-empty ||
	! curl -sf "$URL/v1/log" | $PY -c \
		'import json, sys; print(json.load(sys.stdin)["vkey"])' \
		>"$VAR/log.vkey"; then
	echo "run: loading the demo failed; stopping procured" >&2
	stop
	wait "$pid" || true
	exit 1
fi

cat <<EOF

procured is running on $URL with its data in $VAR
(origin $ORIGIN; admin key $VAR/keys/admin.key).  Try:

    curl -s $URL/v1/log
    curl -s $URL/checkpoint
    curl -s '$URL/v1/prices?item=ATC:A10AE04'
    curl -s '$URL/v1/totals?by=supplier'
    curl -s '$URL/v1/search?kind=contract&limit=5'
    curl -s '$URL/v1/flags?indicator=single_bid'

    $BUILD/procurectl log
    $BUILD/procurectl search --kind contract --limit 5
    $BUILD/procurectl prices ATC:J01CA04 --reference 35.00
    $BUILD/procurectl totals --by buyer
    $BUILD/procurectl process ocds-pr0kz1-2025-ED-0001
    $BUILD/procurectl verify --vkey var/log.vkey --admin-key var/keys/admin.vkey \\
        --state var/audit.state

Ctrl-C stops procured.
EOF

# Foreground until procured exits; a signal only interrupts `wait`.
while :; do
	rc=0
	wait "$pid" || rc=$?
	if ! kill -0 "$pid" 2>/dev/null; then
		exit $rc
	fi
done
