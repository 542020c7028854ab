#!/bin/sh
# Overload: queue-max and rate limits turn submissions away with 503/429
# and Retry-After, reads go on, no receipt is lost
# (tests/integration/overload.py).
exec /usr/bin/python3 "$(dirname "$0")/overload.py"
