#!/bin/sh
# HTTPS with a certificate from the configuration, client certificates
# when tls-client-ca is set, and sockets passed by systemd socket
# activation.
. "$(dirname "$0")/lib.sh"

cd "$TMP" || exit 1
openssl req -x509 -newkey ed25519 -nodes -days 2 -subj /CN=localhost \
	-addext subjectAltName=IP:127.0.0.1 -keyout key.pem -out cert.pem \
	2>/dev/null
openssl req -x509 -newkey ed25519 -nodes -days 2 -subj /CN=client \
	-keyout ckey.pem -out ccert.pem 2>/dev/null
cd - >/dev/null || exit 1

cat >"$TMP/tls.conf" <<CONF
tls-cert = $TMP/cert.pem
tls-key = $TMP/key.pem
CONF
PORT=$(free_port)
"$PROCURED" -c "$TMP/tls.conf" --listen "127.0.0.1:$PORT" \
	--data-dir "$TMP/data" --origin "$ORIGIN" >"$TMP/procured.log" 2>&1 &
PID=$!
i=0
until curl -s --cacert "$TMP/cert.pem" -o /dev/null \
	"https://127.0.0.1:$PORT/healthz" || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
out=$(curl -s --cacert "$TMP/cert.pem" "https://127.0.0.1:$PORT/v1/log")
check_contains "$out" '"origin":"test.procured.example/log"' "HTTPS serves the API"
out=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")
check_eq "$out" 000 "plain HTTP is not served on a TLS listener"
stop_procured && ok "HTTPS daemon stops cleanly"

printf 'tls-client-ca = %s\n' "$TMP/ccert.pem" >>"$TMP/tls.conf"
"$PROCURED" -c "$TMP/tls.conf" --listen "127.0.0.1:$PORT" \
	--data-dir "$TMP/data" --origin "$ORIGIN" >"$TMP/procured.log" 2>&1 &
PID=$!
i=0
until curl -s --cacert "$TMP/cert.pem" --cert "$TMP/ccert.pem" \
	--key "$TMP/ckey.pem" -o /dev/null "https://127.0.0.1:$PORT/healthz" ||
	[ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
out=$(curl -s --cacert "$TMP/cert.pem" --cert "$TMP/ccert.pem" \
	--key "$TMP/ckey.pem" "https://127.0.0.1:$PORT/healthz")
check_contains "$out" '"status":"ok"' "a client certificate is accepted"
if curl -s --cacert "$TMP/cert.pem" -o /dev/null \
	"https://127.0.0.1:$PORT/healthz"; then
	fail "a client without a certificate is refused"
else
	ok "a client without a certificate is refused"
fi
stop_procured && ok "mTLS daemon stops cleanly"

# Socket activation: systemd-socket-activate passes a bound socket.
if command -v systemd-socket-activate >/dev/null 2>&1; then
	PORT=$(free_port)
	systemd-socket-activate -l "127.0.0.1:$PORT" "$PROCURED" \
		--data-dir "$TMP/data" --origin "$ORIGIN" \
		>"$TMP/procured.log" 2>&1 &
	PID=$!
	out=$(curl -s --retry 20 --retry-connrefused --retry-delay 0 \
		--max-time 10 "http://127.0.0.1:$PORT/healthz")
	check_contains "$out" '"status":"ok"' "serves a socket-activated listener"
	check_contains "$(cat "$TMP/procured.log")" "serving 1 sockets from systemd" \
		"uses the passed socket"
	stop_procured && ok "socket-activated daemon stops cleanly"
else
	fail "systemd-socket-activate is missing (package systemd)"
fi
finish
