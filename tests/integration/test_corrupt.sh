#!/bin/sh
# Corruption: random bytes flipped in copies of a real data.mdb are found
# by the store's deep check (naming the entry, checkpoint or database) or
# refused at open; never a silent pass (tests/integration/corrupt.py).
# CORRUPT_TRIALS (default 200) and CORRUPT_SEED reproduce a run.
exec /usr/bin/python3 "$(dirname "$0")/corrupt.py" --trials "${CORRUPT_TRIALS:-200}"
