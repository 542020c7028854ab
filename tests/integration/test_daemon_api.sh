#!/bin/sh
# Submissions, rejections, receipts, proofs, tiles and queries against the
# real daemon, checked with Python's cryptography (tests/integration/).
exec /usr/bin/python3 "$(dirname "$0")/daemon_api.py"
