#!/bin/sh
# Bad-input suite: more than 100 malformed and hostile requests, each with
# its status and error code, then the daemon must still be healthy
# (tests/integration/badinput.py).
exec /usr/bin/python3 "$(dirname "$0")/badinput.py"
