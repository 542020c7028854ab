"""Corruption: random bytes flipped in copies of a real data.mdb must be
detected by the offline audit (naming the entry) or make the store
refuse to open; never a silent pass.  Damage to an entry or the tree is
named by entry; damage elsewhere (checkpoint notes, lookups, indexes,
derived state) by database, through the store's record digests.

A flip that lands in free or unused space changes nothing stored; the
test tells those apart by digesting every database of the copy
(tests/tools/dbdigest) and comparing with the original.  Every copy whose
stored data changed (or became unreadable) must then fail
tests/tools/storecheck (st_open read-only + st_verify, what `procurectl
verify --data-dir` runs first).

Usage: corrupt.py [--trials N] [--seed S]  (CORRUPT_TRIALS, CORRUPT_SEED)
"""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procured_test import (BUILD, PROCURECTL, Daemon, Key, envelope, eq,
                           finish, grant_event, make_bin, ok, plan_event)

# HOOK: also run `procurectl verify --data-dir` on every changed copy
# (CORRUPT_PROCURECTL_VERIFY=1) once it accepts admin-signed entries.
PROCURECTL_VERIFY = os.environ.get("CORRUPT_PROCURECTL_VERIFY", "0") == "1"

ap = argparse.ArgumentParser()
ap.add_argument("--trials", type=int,
                default=int(os.environ.get("CORRUPT_TRIALS", "200")))
ap.add_argument("--seed", type=int,
                default=int(os.environ.get("CORRUPT_SEED", "0")) or
                random.SystemRandom().randrange(1, 1 << 31))
ap.add_argument("--entries", type=int, default=600)
ap.add_argument("--keep", metavar="DIR",
                help="copy every crashing or silently passing store here")
args = ap.parse_args()
print("# corruption test: seed %d, %d trials" % (args.seed, args.trials))
rng = random.Random(args.seed)
TOOLS = os.path.join(BUILD, "tests", "tools")


def run(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=120)
    return p.returncode, p.stdout.decode(errors="replace")


def digest(path):
    rc, out = run([os.path.join(TOOLS, "dbdigest"), path])
    if rc != 0:
        return None
    return dict((l.split()[0], l.split(None, 1)[1])
                for l in out.splitlines())


d = Daemon()
try:
    d.start()
    buyer, party = Key(), make_bin(8080)
    st, _ = d.submit(envelope(grant_event(buyer, party, ["buyer"]),
                              d.admin))
    ok(st == 201, "grant a buyer")
    n = [0]
    lock = threading.Lock()

    def submitter():
        while True:
            with lock:
                n[0] += 1
                i = n[0]
            if i > args.entries:
                return
            if i % 10 == 0:
                e = envelope(grant_event(Key(), make_bin(9000 + i),
                                         ["supplier"]), d.admin)
            else:
                e = envelope(plan_event("ocds-pr0kz1-2026-COR-%05d" % i,
                                        party), buyer)
            d.submit(e)
    ts = [threading.Thread(target=submitter) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    vkey = d.vkey()
    size = d.get_json("/v1/log")[1]["tree_size"]
    eq(size, args.entries + 1, "%d entries logged" % size)
    eq(d.stop(), 0, "stopped cleanly")
    orig = os.path.join(d.tmp, "orig")
    shutil.copytree(d.data, orig)
    base = digest(orig)
    ok(base is not None, "the original digests")
    rc, out = run([os.path.join(TOOLS, "storecheck"), orig])
    eq((rc, out.strip()), (0, "ok %d" % size), "the original verifies")
    fsize = os.path.getsize(os.path.join(orig, "data.mdb"))

    counts = {"unchanged": 0, "verify": 0, "refused": 0, "crash": 0,
              "error": 0, "silent": 0}
    silent_dbs = {}
    trial_dir = os.path.join(d.tmp, "trial")
    for t in range(args.trials):
        shutil.rmtree(trial_dir, ignore_errors=True)
        os.mkdir(trial_dir, 0o700)
        for f in ("data.mdb", "signed-tree", "log.key"):
            shutil.copy(os.path.join(orig, f), trial_dir)
        flips = []
        with open(os.path.join(trial_dir, "data.mdb"), "r+b") as f:
            for _ in range(rng.choice([1, 1, 1, 2, 4, 16])):
                off = rng.randrange(fsize)
                f.seek(off)
                b = f.read(1)[0]
                x = 1 << rng.randrange(8) if rng.random() < 0.5 else \
                    rng.randrange(1, 256)
                f.seek(off)
                f.write(bytes([b ^ x]))
                flips.append("%d^%02x" % (off, x))
        dg = digest(trial_dir)
        # The main database holds LMDB's records of the named ones: a
        # change there that leaves every named database's records as
        # they were (page counts, statistics) changed no stored data.
        if dg is not None and all(dg.get(k) == base[k] for k in base
                                  if k != "(main)"):
            counts["unchanged"] += 1
            continue
        changed = sorted(k for k in base if dg is None or
                         dg.get(k) != base[k]) if dg else ["(unreadable)"]
        rc, out = run([os.path.join(TOOLS, "storecheck"), trial_dir])
        if args.keep and rc <= 0:
            shutil.copytree(trial_dir, os.path.join(args.keep, "t%d" % t))
        if rc == 1:
            counts["verify"] += 1
            if not any(w in out for w in ("entry", "database", "checkpoint")):
                counts["verify"] -= 1
                counts["error"] += 1
                print("# trial %d: detected without naming an entry or "
                      "a database: %s" % (t, out.strip()))
        elif rc == 2:
            counts["refused"] += 1
        elif rc < 0:
            counts["crash"] += 1
            print("# trial %d (%s): storecheck killed by signal %d; "
                  "changed %s" % (t, " ".join(flips), -rc, changed))
        elif rc == 0:
            counts["silent"] += 1
            for db in changed:
                silent_dbs[db] = silent_dbs.get(db, 0) + 1
            print("# trial %d (%s): SILENT PASS; changed %s" %
                  (t, " ".join(flips), ", ".join(changed)))
        else:
            counts["error"] += 1
            print("# trial %d: %s" % (t, out.strip()))
        if PROCURECTL_VERIFY and rc in (0, 1):
            prc, pout = run([PROCURECTL, "verify", "--data-dir", trial_dir,
                             "--vkey", vkey, "--quiet", "--admin-key",
                             d.admin.vkey("admin")])
            if prc == 0:
                counts["silent"] += 1
                print("# trial %d: procurectl verify passes: %s" %
                      (t, changed))
    print("# %d trials (seed %d): %s" % (
        args.trials, args.seed,
        ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
    if silent_dbs:
        print("# silent passes by database: %s" % ", ".join(
            "%s %d" % kv for kv in sorted(silent_dbs.items())))
    ok(counts["silent"] == 0, "no silent pass: every change to stored data "
       "is detected or refused")
    # LMDB trusts its pages: a damaged page can still crash the reader
    # inside LMDB (a loud failure, counted here, never a pass).
    print("# crashes inside LMDB: %d of %d changed stores" %
          (counts["crash"], args.trials - counts["unchanged"]))
    ok(counts["verify"] + counts["refused"] > 0, "some flips hit data")
finally:
    d.cleanup()
finish()
