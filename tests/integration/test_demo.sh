#!/bin/sh
# The demo generator (tools/demo.py) against the real daemon: its summary
# matches the log (tests/integration/demo_check.py).
exec /usr/bin/python3 "$(dirname "$0")/demo_check.py"
