"""Hot backup while procured runs, restore of the newest backup, and the
refusal to start from an old backup (rollback protection)."""

import base64
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from procured_test import (PROCURED, Daemon, Key, envelope, eq, finish, ok,
                           open_checkpoint)

EX = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "examples")


def grant(admin):
    with open(os.path.join(EX, "key.grant.json")) as f:
        g = json.load(f)
    for k in ("validFrom", "validUntil"):
        g.pop(k)
    g["publicKey"] = base64.b64encode(Key().pub).decode()
    return envelope(g, admin)


def backup(d, out):
    return subprocess.run([PROCURED, "--data-dir", d.data, "--origin",
                           d.origin, "--backup", out],
                          capture_output=True, text=True)


d = Daemon()
try:
    d.start()
    vkey = d.vkey()
    for i in range(3):
        eq(d.submit(grant(d.admin))[0], 201, "grant %d" % i)
    old = os.path.join(d.tmp, "old")
    b = backup(d, old)
    ok(b.returncode == 0 and os.path.exists(os.path.join(old, "data.mdb")),
       "hot backup while the daemon runs: " + b.stderr.strip())
    for i in range(2):
        eq(d.submit(grant(d.admin))[0], 201, "grant after the backup %d" % i)
    new = os.path.join(d.tmp, "new")
    eq(backup(d, new).returncode, 0, "a second backup")
    b = backup(d, new)
    ok(b.returncode != 0, "a backup never overwrites an existing one")
    st, cp = d.get("/checkpoint")
    size = open_checkpoint(cp.decode(), vkey)[1]
    eq(d.stop(), 0, "stop")

    shutil.copy(os.path.join(old, "data.mdb"),
                os.path.join(d.data, "data.mdb"))
    try:
        d.start()
        ok(False, "procured refuses to start from an old backup")
        d.stop()
    except RuntimeError as e:
        ok("backup" in str(e) and "5" in str(e),
           "procured refuses to start from an old backup, and says why")
        print("#   " + str(e).strip().splitlines()[-1])
        d.proc = None
    shutil.copy(os.path.join(new, "data.mdb"),
                os.path.join(d.data, "data.mdb"))
    d.start()
    st, cp = d.get("/checkpoint")
    eq(open_checkpoint(cp.decode(), vkey)[1], size,
       "the newest backup restores the whole log")
    eq(d.submit(grant(d.admin))[0], 201, "and the log goes on")
    eq(d.stop(), 0, "stop")
finally:
    d.cleanup()
finish()
