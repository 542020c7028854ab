#!/bin/sh
# The systemd units pass `systemd-analyze verify` without a single
# warning, and the service's exposure score is at most 2.0.
. "$(dirname "$0")/lib.sh"

if ! command -v systemd-analyze >/dev/null 2>&1; then
	fail "systemd-analyze is missing (package systemd, in mk/packages)"
	finish
	exit 1
fi
bin=$(cd "$(dirname "$PROCURED")" && pwd)/$(basename "$PROCURED")
mkdir -p "$TMP/units"
for u in procured.service procured.socket; do
	sed "s|/usr/sbin/procured|$bin|g" "systemd/$u" >"$TMP/units/$u"
done
if systemd-analyze verify --man=no "$TMP/units/procured.service" \
	"$TMP/units/procured.socket" >"$TMP/verify.out" 2>&1 &&
	[ ! -s "$TMP/verify.out" ]; then
	ok "systemd-analyze verify is silent"
else
	fail "systemd-analyze verify: $(cat "$TMP/verify.out")"
fi
score=$(systemd-analyze security --offline=yes --no-pager \
	"$TMP/units/procured.service" 2>&1 |
	sed -n 's/.*Overall exposure level for procured.service: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
	ok "exposure $score <= 2.0"
else
	fail "exposure '$score' is above 2.0 or unreadable"
fi
finish
