#!/bin/sh
# Red flags (GET /v1/flags) against the demo year with planted anomalies
# and a clean year (tests/integration/flags_check.py).
exec /usr/bin/python3 "$(dirname "$0")/flags_check.py"
