#!/bin/sh
# Concurrent submitters, then procured's tiles and proofs checked by Go's
# golang.org/x/mod/sumdb/tlog.
exec /usr/bin/python3 "$(dirname "$0")/daemon_tlog.py"
