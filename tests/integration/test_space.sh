#!/bin/sh
# Out of space: a full file system (a small tmpfs; root only, skipped
# otherwise) and a full LMDB map: 507, reads go on, nothing lost, writes
# resume when space returns (tests/integration/space.py).
exec /usr/bin/python3 "$(dirname "$0")/space.py"
