#!/bin/sh
# `make install` with DESTDIR and PREFIX puts every file in place.
. "$(dirname "$0")/lib.sh"

if make -s install DESTDIR="$TMP/root" PREFIX=/usr SAN="${SAN:-0}" \
	>"$TMP/install.log" 2>&1; then
	ok "make install succeeds"
else
	fail "make install: $(cat "$TMP/install.log")"
fi
for f in usr/sbin/procured usr/bin/procurectl \
	usr/share/man/man8/procured.8 usr/share/man/man5/procured.conf.5 \
	usr/share/man/man1/procurectl.1 \
	usr/lib/systemd/system/procured.service \
	usr/lib/systemd/system/procured.socket etc/procured/procured.conf; do
	if [ -f "$TMP/root/$f" ]; then ok "installs /$f"; else fail "missing /$f"; fi
done
check_contains "$(cat "$TMP/root/usr/lib/systemd/system/procured.service")" \
	"ExecStart=/usr/sbin/procured" "the unit names the installed binary"
echo "origin = kept" >"$TMP/root/etc/procured/procured.conf"
make -s install DESTDIR="$TMP/root" PREFIX=/usr SAN="${SAN:-0}" >/dev/null 2>&1
check_eq "$(cat "$TMP/root/etc/procured/procured.conf")" "origin = kept" \
	"reinstalling keeps an edited configuration"
finish
