#!/bin/sh
# procurectl over HTTPS: the server's certificate is checked against
# --cacert and the URL's host; queries and verify work over TLS.
. "$(dirname "$0")/lib.sh"

CTL=$PROCURECTL
# Absolute paths: the test works in $TMP.
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
PROCURED_ABS=$(abs "$PROCURED")
CTL_ABS=$(abs "$CTL")
cd "$TMP" || exit 1
chmod 700 "$TMP"

# A CA and a server certificate for 127.0.0.1 and localhost.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca 2>/dev/null &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout srv.key -out srv.csr -subj /CN=procured 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >ext &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key \
		-CAcreateserial -out srv.pem -days 2 -extfile ext 2>/dev/null ||
	{ fail "test certificates"; finish; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout other.key -out other.pem -days 2 -subj /CN=other 2>/dev/null
chmod 600 srv.key

"$CTL_ABS" keygen --name admin --out admin.key >admin.txt ||
	fail "keygen"
ADMIN=$(head -n 1 admin.txt)
PORT=$(free_port)
mkdir -m 700 data
printf 'tls-cert = %s\ntls-key = %s\n' "$TMP/srv.pem" "$TMP/srv.key" \
	>procured.conf
"$PROCURED_ABS" -c procured.conf --data-dir data --listen \
	"127.0.0.1:$PORT" --origin tls.procured.example/log \
	--admin-key "$ADMIN" >procured.log 2>&1 &
PID=$!
CTL="$CTL_ABS"
URL=https://127.0.0.1:$PORT
i=0
while [ $i -lt 100 ]; do
	"$CTL" --server "$URL" --cacert ca.pem log >/dev/null 2>&1 && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
if ! "$CTL" --server "$URL" --cacert ca.pem --json log >log.json 2>err; then
	fail "procured over TLS: $(cat err) $(cat procured.log)"
	finish
	exit $?
fi
ok "log over HTTPS with --cacert"
VKEY=$(/usr/bin/python3 -c 'import json; print(json.load(open("log.json"))["vkey"])')
"$CTL" --server "https://localhost:$PORT" --cacert ca.pem log >/dev/null
check_eq $? 0 "the certificate matches the host name too"
"$CTL" --server "$URL" log 2>err
check_eq $? 3 "an unknown CA is refused (exit 3)"
check_contains "$(cat err)" "certificate" "and the reason is given"
"$CTL" --server "$URL" --cacert other.pem log 2>err
check_eq $? 3 "a certificate from another CA is refused"
"$CTL" --server "$URL" --cacert nonexistent.pem log 2>err
check_eq $? 4 "an unreadable CA file is a local error (exit 4)"
"$CTL" --server "http://127.0.0.1:$PORT" --cacert ca.pem log 2>/dev/null
check_eq $? 2 "--cacert with http:// is a usage error"
"$CTL" keygen --name buyer --out buyer.key >buyer.txt
/usr/bin/python3 - "$OLDPWD/docs/examples/key.grant.json" \
	"$(awk '/^publicKey/ {print $2}' buyer.txt)" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1]))
e["publicKey"] = sys.argv[2]
e.pop("validFrom"); e.pop("validUntil")
json.dump(e, open("grant.json", "w"))
EOF
"$CTL" --server "$URL" --cacert ca.pem submit --vkey "$VKEY" \
	--key admin.key grant.json >/dev/null
check_eq $? 0 "submit over HTTPS"
"$CTL" --server "$URL" --cacert ca.pem --json verify --vkey "$VKEY" \
	--admin-key "$ADMIN" >v.json
check_eq $? 0 "verify over HTTPS"
check_contains "$(cat v.json)" '"entries_checked": 1' "the entry was checked"
kill -TERM "$PID"
wait "$PID"
PID=
finish
