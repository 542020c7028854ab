"""Rollback: a data directory restored from an old backup must make
procured refuse to start, saying why, and a forked history must never be
served.  The record of the largest tree the log signed (signed-tree) is
what catches it; a backup never holds it (st_backup leaves it out)."""

import base64
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procured_test import (PROCURED, Daemon, Key, envelope, eq, finish,
                           grant_event, make_bin, ok, open_checkpoint,
                           plan_event)


def refused(d, what, *phrases):
    """procured must exit non-zero without serving, naming the problem."""
    p = subprocess.run(d.argv(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode(errors="replace")
    good = p.returncode != 0 and all(x in out for x in phrases)
    if not ok(good, "%s: refused to start (exit %d)" % (what, p.returncode)):
        print("#   " + out.replace("\n", "\n#   "))
    return out


def signed_tree_text(note, vkey):
    _, size, root = open_checkpoint(note, vkey)
    return "procured signed-tree 1\n%d %s\n" % (size, root.hex())


def copy_files(src, dst, names):
    os.makedirs(dst, 0o700, exist_ok=True)
    for n in names:
        shutil.copy(os.path.join(src, n), dst)


def signed_tree_size(path):
    """The tree size signed-tree records: the one line of the first
    format, or the highest sequence's slot of the two-slot form."""
    with open(path) as f:
        lines = [l.split() for l in f.read().split("\n") if l.strip()]
    if lines and lines[0] == ["procured", "signed-tree", "1"]:
        return int(lines[1][0])
    slots = [l for l in lines if l[:3] == ["procured", "signed-tree", "2"]]
    return int(max(slots, key=lambda l: int(l[3]))[4]) if slots else -1


d = Daemon()
try:
    d.start()
    vkey = d.vkey()
    buyer, party = Key(), make_bin(7070)
    st, _ = d.submit(envelope(grant_event(buyer, party, ["buyer"]), d.admin))
    ok(st == 201, "grant a buyer")
    for i in range(5):
        st, _ = d.submit(envelope(plan_event(
            "ocds-pr0kz1-2026-RB-%04d" % i, party), buyer))
    eq(d.stop(), 0, "stop after 6 entries")
    old = os.path.join(d.tmp, "backup-old")
    old_full = os.path.join(d.tmp, "backup-old-full")
    copy_files(d.data, old, ["data.mdb"])  # what st_backup writes
    shutil.copytree(d.data, old_full)  # a file-level copy of everything
    d.start()
    for i in range(5, 10):
        st, _ = d.submit(envelope(plan_event(
            "ocds-pr0kz1-2026-RB-%04d" % i, party), buyer))
    st, latest = d.get("/checkpoint")
    latest = latest.decode()
    eq(open_checkpoint(latest, vkey)[1], 11, "11 entries signed")
    eq(d.stop(), 0, "stop after 11 entries")
    live = d.data
    new = os.path.join(d.tmp, "backup-new")
    copy_files(live, new, ["data.mdb", "signed-tree", "log.key"])

    # 1. The old data.mdb restored over the live directory.
    shutil.copy(os.path.join(old, "data.mdb"), live)
    os.unlink(os.path.join(live, "lock.mdb"))
    refused(d, "old data.mdb under the newer signed-tree",
            "store holds 6 entries but this log already signed a "
            "checkpoint of 11", "restored from an old backup",
            "must never sign a checkpoint inconsistent")

    # 2. The old backup on a new machine: no signed-tree at all.
    d.data = os.path.join(d.tmp, "fresh")
    copy_files(old, d.data, ["data.mdb"])
    copy_files(new, d.data, ["log.key"])
    refused(d, "old backup in an empty directory", "signed-tree is missing",
            "checkpoint of 6 entries")
    # ... and after the operator writes the latest published checkpoint
    # into signed-tree, as procured(8) says: still refused, it is older.
    with open(os.path.join(d.data, "signed-tree"), "w") as f:
        f.write(signed_tree_text(latest, vkey))
    refused(d, "old backup with the latest published checkpoint",
            "store holds 6 entries but this log already signed a "
            "checkpoint of 11")

    # 3. A history forked from the old backup (the file-level copy with
    # its own, older signed-tree starts) can never be served where the
    # log's record of what it signed is.
    d.data = os.path.join(d.tmp, "forked")
    shutil.copytree(old_full, d.data)
    d.start()
    for i in range(6):
        st, r = d.submit(envelope(plan_event(
            "ocds-pr0kz1-2026-FORK-%04d" % i, party), buyer))
    st, forked = d.get("/checkpoint")
    _, fsize, froot = open_checkpoint(forked.decode(), vkey)
    ok(fsize == 12, "a fork of 12 entries grown from the old copy")
    eq(d.stop(), 0, "stop the fork")
    forked_store = d.data
    d.data = live
    shutil.copy(os.path.join(forked_store, "data.mdb"), live)
    refused(d, "the forked store under the live signed-tree",
            "tree at size 11 differs from the checkpoint this log signed")
    d.data = os.path.join(d.tmp, "fresh2")
    copy_files(forked_store, d.data, ["data.mdb", "log.key"])
    with open(os.path.join(d.data, "signed-tree"), "w") as f:
        f.write(signed_tree_text(latest, vkey))
    refused(d, "the forked store with the latest published checkpoint",
            "tree at size 11 differs")

    # 4. The newest backup and its signed-tree: starts, same log.
    d.data = live
    for n in ("data.mdb", "signed-tree"):
        shutil.copy(os.path.join(new, n), live)
    d.start()
    st, cp = d.get("/checkpoint")
    eq(cp.decode(), latest, "the newest backup serves the latest "
       "checkpoint")
    st, r = d.submit(envelope(plan_event("ocds-pr0kz1-2026-RB-NEXT",
                                         party), buyer))
    eq((st, r.get("index")), (201, 11), "and logs the next event at 11")
    eq(d.stop(), 0, "stop")
    # The operator's recovery on a new machine: newest data.mdb plus the
    # latest published checkpoint written into signed-tree.
    d.data = os.path.join(d.tmp, "moved")
    copy_files(live, d.data, ["data.mdb", "log.key"])
    with open(os.path.join(d.data, "signed-tree"), "w") as f:
        f.write(signed_tree_text(latest, vkey))
    d.start()
    st, cp = d.get("/checkpoint")
    eq(open_checkpoint(cp.decode(), vkey)[1], 12,
       "moved with the latest published checkpoint: starts")
    ok(signed_tree_size(os.path.join(d.data, "signed-tree")) == 12,
       "signed-tree brought up to the store's latest checkpoint")
    eq(d.stop(), 0, "stop")
finally:
    d.cleanup()
finish()
