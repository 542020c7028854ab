"""Out of space: the data directory on a full file system, and the store
at its map size limit.  Either way submissions fail with 507 and a clear
message, reads keep working, the daemon restarts and serves its log,
nothing acknowledged is lost or changed, and writes resume once space
returns (the ballast file removed; map-size-max raised with SIGHUP).

The disk-full half mounts a small tmpfs, so it runs as root only and is
skipped with a message otherwise."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procured_test import (Daemon, Key, envelope, eq, fetch_leaves, finish,
                           grant_event, make_bin, ok, open_checkpoint,
                           plan_event, roots_at)

FS_MB = 24


class Filler:
    """Submits large plans until the daemon answers 507."""

    def __init__(self, d, buyer, party, tag):
        self.d, self.buyer, self.party, self.tag = d, buyer, party, tag
        self.receipts = {}
        self.notes = set()  # checkpoints in receipts
        self.retries = 0
        self.n = 0
        self.full = []  # 507 answers
        self.other = []
        self.lock = threading.Lock()

    def env(self, size=30000):
        with self.lock:
            self.n += 1
            n = self.n
        p = plan_event("ocds-pr0kz1-2026-%s-%05d" % (self.tag, n),
                       self.party)
        # Text fields hold at most 8000 bytes: spread the bulk.
        p["rationale"] = (("space test %d " % n) * 600)[:7900]
        items = []
        for i in range((size - 7900) // 1200):
            it = dict(p["items"][i % len(p["items"])])
            it["id"] = str(i + 1)
            it["description"] = (("item %d of %d " % (i, n)) * 80)[:990]
            items.append(it)
        p["items"] = items
        return envelope(p, self.buyer)

    def submit_one(self):
        st, r = self.d.submit(self.env())
        with self.lock:
            if st == 201:
                self.receipts[r["index"]] = r["leaf_hash"]
                self.notes.add(r["checkpoint"])
            elif st == 507:
                self.full.append(r)
            elif st == 503 and isinstance(r, dict) and \
                    r.get("error", {}).get("code") == "retry":
                # Admitted behind a batch that failed: submit again.
                self.retries += 1
            else:
                self.other.append((st, r))
        return st

    def fill(self, threads=4, limit=5000):
        def run():
            while not self.full and not self.other and self.n < limit:
                self.submit_one()
        ts = [threading.Thread(target=run) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()


def intact(d, vkey, receipts, notes, what):
    """Every receipt's entry is served unchanged and every checkpoint
    seen has the root recomputed from the entries."""
    st, note = d.get("/checkpoint")
    _, size, root = open_checkpoint(note.decode(), vkey)
    leaves = fetch_leaves(d, size)
    sizes = {open_checkpoint(n, vkey)[1] for n in notes} | {size}
    roots = roots_at(leaves, sizes)
    good = roots[size] == root and all(
        i < size and leaves[i].hex() == lh for i, lh in receipts.items())
    good = good and all(roots.get(open_checkpoint(n, vkey)[1]) ==
                        open_checkpoint(n, vkey)[2] for n in notes)
    ok(good, "%s: %d receipts and %d checkpoints intact (tree %d)" %
       (what, len(receipts), len(notes), size))
    return note.decode()


def reads_work(d, what):
    st1, _ = d.get("/checkpoint")
    st2, e = d.get_json("/v1/entries/0")
    st3, _ = d.get("/tile/entries/000.p/1")
    st4, _ = d.get_json("/v1/search?kind=plan&limit=5")
    st5, _ = d.get_json("/v1/log")
    eq((st1, st2, st3, st4, st5), (200,) * 5, "%s: reads work" % what)


def check_507(f, what, word):
    r = f.full[0] if f.full else {}
    err = r.get("error", {}) if isinstance(r, dict) else {}
    ok(bool(f.full) and not f.other and err.get("code") == "out_of_space"
       and word in err.get("message", ""),
       "%s: 507 out_of_space after %d submissions (%s)" %
       (what, len(f.receipts), err.get("message")))
    if f.other:
        print("#   other answers: %r" % f.other[:3])


def wait_log(d, text, timeout=300):
    """Wait for a line of the daemon's log (a bound, not a measure)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in d.logtext(d.log_start):
            return True
        if d.proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def top_up(path):
    """Fill the rest of the file system into file path: nothing is left
    for a write that needs a new block."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        for size in (1 << 16, 1 << 12, 1 << 9, 1):
            while True:
                try:
                    if os.write(fd, b"\0" * size) < size:
                        break
                except OSError:
                    break
    finally:
        os.close(fd)


def until_507(f, tries=100):
    """Submit one at a time until the daemon answers 507: LMDB reuses
    freed pages, so a few more entries may fit after the first 507 (or
    after a restart); those are logged and checked like any other."""
    had = len(f.receipts)
    for i in range(tries):
        if f.submit_one() == 507 or f.other:
            break
    return len(f.receipts) - had


def setup(d):
    d.start()
    buyer, party = Key(), make_bin(6060)
    st, _ = d.submit(envelope(grant_event(buyer, party, ["buyer"]),
                              d.admin))
    ok(st == 201, "grant a buyer")
    return buyer, party, d.vkey()


# ---- map full: map-size-max = 16 MiB, then raised with SIGHUP ----

d = Daemon(conf="map-size-max = 16\n")
try:
    buyer, party, vkey = setup(d)
    conf = os.path.join(d.tmp, "procured.conf")
    f = Filler(d, buyer, party, "MAP")
    f.fill()
    check_507(f, "map full", "database")
    st, cp = d.get("/checkpoint")
    notes = [cp.decode()]
    for i in range(5):
        f.submit_one()
    eq(len(f.other), 0, "map full: later submissions get 507 too")
    reads_work(d, "map full")
    st, h = d.get_json("/healthz")
    ok(st in (200, 503), "map full: /healthz answers %d %s" %
       (st, h.get("reason", "")))
    intact(d, vkey, f.receipts, set(notes) | f.notes, "map full")
    eq(d.stop(), 0, "map full: SIGTERM exits 0")
    d.start()
    reads_work(d, "map full, restarted")
    # Raise the limit in the file and reload: writes resume, no restart.
    with open(conf, "w") as fh:
        fh.write("map-size-max = 64\n")
    d.proc.send_signal(signal.SIGHUP)
    ok(wait_log(d, "SIGHUP: map-size-max 64 MiB"),
       "map full: SIGHUP applies map-size-max 64 MiB")
    f.full, had = [], len(f.receipts)
    f.submit_one()
    ok(len(f.receipts) > had and not f.other and len(f.full) == 0,
       "map full: writes resume after SIGHUP with a larger map-size-max")
    for i in range(20):
        f.submit_one()
    eq((len(f.full), len(f.other)), (0, 0), "map full: 20 more submissions")
    intact(d, vkey, f.receipts, set(notes) | f.notes, "map full, after growth")
    eq(d.stop(), 0, "map full: final SIGTERM exits 0")
finally:
    d.cleanup()

# ---- disk full: the data directory on a small tmpfs ----


def try_mount(mnt):
    if os.geteuid() != 0:
        return "not root"
    os.makedirs(mnt)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o",
                        "size=%dm,mode=0700" % FS_MB, "tmpfs", mnt],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        return "mount failed: " + p.stdout.decode().strip()
    return None


d = Daemon()
mnt = os.path.join(d.tmp, "mnt")
why = try_mount(mnt)
if why is not None:
    print("ok - # SKIP disk-full test: needs root to mount a %d MiB tmpfs "
          "(%s)" % (FS_MB, why))
    d.cleanup()
    finish()
d.data = os.path.join(mnt, "data")
ballast = os.path.join(mnt, "ballast")
try:
    buyer, party, vkey = setup(d)
    f = Filler(d, buyer, party, "DISK")
    for i in range(10):
        f.submit_one()
    eq(len(f.receipts), 10, "disk: 10 submissions before the disk fills")
    # Fill the file system but for 1 MiB.
    sv = os.statvfs(mnt)
    free = sv.f_bavail * sv.f_frsize
    with open(ballast, "wb") as fh:
        fh.write(b"\0" * max(0, free - (1 << 20)))
    f.fill(limit=2000)
    check_507(f, "disk full", "disk")
    # Concurrent batches hit the limit first: fill what one entry could
    # still use, then every submission must get 507.
    top_up(ballast)
    n = until_507(f)
    ok(f.full and not f.other, "disk full: one at a time, 507 after %d more "
       "entries fitted" % n)
    f.full = []
    for i in range(10):
        f.submit_one()
    ok(len(f.full) >= 5 and not f.other,
       "disk full: later submissions get 507 too (%d of 10; the others "
       "logged in pages freed meanwhile)" % len(f.full))
    reads_work(d, "disk full")
    st, cp = d.get("/checkpoint")
    notes = [cp.decode()]
    intact(d, vkey, f.receipts, set(notes) | f.notes, "disk full")
    # SIGKILL and restart on the full disk: the log opens and serves.
    d.stop(signal.SIGKILL)
    d.start()
    reads_work(d, "disk full, after SIGKILL and restart")
    intact(d, vkey, f.receipts, set(notes) | f.notes, "disk full, restarted")
    f.full = []
    n = until_507(f)
    ok(f.full and not f.other, "disk full, restarted: still 507 (after %d "
       "entries in freed pages)" % n)
    os.unlink(ballast)
    f.full = []
    for i in range(20):
        f.submit_one()
    eq((len(f.full), len(f.other)), (0, 0),
       "space freed: 20 submissions logged")
    intact(d, vkey, f.receipts, set(notes) | f.notes, "space freed")
    eq(d.stop(), 0, "disk: SIGTERM exits 0")
    d.start()
    intact(d, vkey, f.receipts, set(notes) | f.notes, "space freed, restarted")
    eq(d.stop(), 0, "disk: final SIGTERM exits 0")
finally:
    if d.proc is not None:
        d.proc.kill()
        d.proc.wait()
    subprocess.run(["umount", mnt])
    d.cleanup()
finish()
