"""Crash test: the real daemon under load from concurrent submitters is
killed with SIGKILL at random moments and restarted, ROUNDS times.  After
every restart:

  - every receipt the daemon ever returned is in the log at the same index
    with the same leaf hash (leaf hashes recomputed here from the served
    entry bundles);
  - every checkpoint it ever served (in receipts and on GET /checkpoint)
    verifies and has the root recomputed here for its size, so all are
    consistent with the latest one; the daemon's own consistency proof
    from the previous round's checkpoint verifies too;
  - envelopes whose submission was cut off by the kill are submitted again
    and get a receipt (the same one if they had been logged);
  - `procurectl verify` (state file: consistency with its last run, and
    every new entry's signatures and authorization) passes.

Usage: crash.py [--rounds N] [--seed S] [--submitters K] [--max-load-ms MS]
Environment: CRASH_ROUNDS, CRASH_SEED.  The seed is printed first; the
same seed gives the same kill times and event mix (the daemon's own
timing still varies)."""

import argparse
import base64
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procured_test import (PROCURECTL, Daemon, Key, envelope, fetch_leaves,
                           finish, grant_event, leaf_hash, make_bin, ok,
                           open_checkpoint, plan_event, roots_at,
                           verify_consistency, verify_inclusion)

# `procurectl verify` after every round (CRASH_PROCURECTL_VERIFY=0 turns
# it off); the checks done here in Python (every receipt's entry, every
# checkpoint's root, consistency proofs) run either way.
PROCURECTL_VERIFY = os.environ.get("CRASH_PROCURECTL_VERIFY", "1") == "1"

ap = argparse.ArgumentParser()
ap.add_argument("--rounds", type=int,
                default=int(os.environ.get("CRASH_ROUNDS", "50")))
ap.add_argument("--seed", type=int,
                default=int(os.environ.get("CRASH_SEED", "0")) or
                random.SystemRandom().randrange(1, 1 << 31))
ap.add_argument("--submitters", type=int, default=6)
ap.add_argument("--max-load-ms", type=int, default=400)
ap.add_argument("--keep", action="store_true",
                help="keep the data directory (printed) on failure")
args = ap.parse_args()
print("# crash test: seed %d, %d rounds, %d submitters" %
      (args.seed, args.rounds, args.submitters))
sys.stdout.flush()
rng = random.Random(args.seed)
# Stopped from outside: still kill the daemon and remove its directory.
signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))


class Ledger:
    """What the daemon acknowledged, and what is in doubt."""

    def __init__(self):
        self.lock = threading.Lock()
        self.receipts = {}  # index -> (leaf hash hex, envelope hash hex)
        self.by_env = {}  # envelope hash -> index
        self.notes = set()  # every checkpoint text seen
        self.in_doubt = []  # envelopes cut off by the kill
        self.acked = []  # (envelope, index) for resubmission checks
        self.errors = []
        self.count = 0

    def error(self, msg):
        with self.lock:
            self.errors.append(msg)


def env_hash(env):
    return hashlib.sha256(json.dumps(env, sort_keys=True).encode()).hexdigest()


def check_receipt(ledger, vkey, env, r, status):
    """Verify a receipt on arrival and record it."""
    try:
        _, size, root = open_checkpoint(r["checkpoint"], vkey)
        proof = [bytes.fromhex(h) for h in r["inclusion_proof"]]
        lh = bytes.fromhex(r["leaf_hash"])
        if size != r["tree_size"] or not verify_inclusion(
                r["index"], size, lh, proof, root):
            ledger.error("receipt %d does not verify" % r["index"])
            return
    except (KeyError, ValueError, TypeError) as e:
        ledger.error("bad receipt (%s): %r" % (e, r))
        return
    eh = env_hash(env)
    with ledger.lock:
        ledger.notes.add(r["checkpoint"])
        old = ledger.receipts.get(r["index"])
        if old is not None and old[0] != r["leaf_hash"]:
            ledger.errors.append("index %d acknowledged twice with leaf "
                                 "hashes %s and %s" %
                                 (r["index"], old[0], r["leaf_hash"]))
        if eh in ledger.by_env and ledger.by_env[eh] != r["index"]:
            ledger.errors.append("one envelope logged at %d and %d" %
                                 (ledger.by_env[eh], r["index"]))
        if status == 201 and old is not None:
            ledger.errors.append("201 for index %d again" % r["index"])
        ledger.receipts[r["index"]] = (r["leaf_hash"], eh)
        ledger.by_env[eh] = r["index"]
        ledger.acked.append((env, r["index"]))
        ledger.count += 1


class Load:
    """Submitters and a checkpoint reader, until stop is set or the
    daemon goes away."""

    def __init__(self, d, ledger, vkey, buyer, party, admin, rnd, seq):
        self.d, self.ledger, self.vkey = d, ledger, vkey
        self.buyer, self.party, self.admin = buyer, party, admin
        self.rnd, self.seq = rnd, seq
        self.stop = threading.Event()
        self.threads = []

    def next_env(self, r):
        with self.ledger.lock:
            self.seq[0] += 1
            n = self.seq[0]
            acked = self.ledger.acked[-50:]
        x = r.random()
        if x < 0.05 and acked:
            return r.choice(acked)[0], "resubmit"
        if x < 0.15:
            return envelope(grant_event(Key(), make_bin(7000 + n),
                                        ["supplier"]), self.admin), "grant"
        ocid = "ocds-pr0kz1-2026-CRS-%06d" % n
        return envelope(plan_event(ocid, self.party), self.buyer), "plan"

    def submitter(self, tid):
        r = random.Random("%d-%d" % (self.rnd, tid))
        while not self.stop.is_set():
            env, what = self.next_env(r)
            try:
                st, body = self.d.submit(env)
            except (OSError, ValueError, TypeError) as e:
                # Cut off by the kill: the outcome is unknown.
                with self.ledger.lock:
                    if what != "resubmit":
                        self.ledger.in_doubt.append(env)
                return
            if st in (200, 201) and isinstance(body, dict):
                check_receipt(self.ledger, self.vkey, env, body, st)
                if what == "resubmit" and st != 200:
                    self.ledger.error("resubmission answered %d" % st)
            elif st == 503:
                # Overloaded or stopping: nothing was logged.
                with self.ledger.lock:
                    self.ledger.in_doubt.append(env)
            else:
                self.ledger.error("%s: %s %r" % (what, st, body))
                return

    def reader(self):
        while not self.stop.is_set():
            try:
                st, note = self.d.get("/checkpoint")
            except OSError:
                return
            if st == 200:
                with self.ledger.lock:
                    self.ledger.notes.add(note.decode())
            time.sleep(0.01)

    def start(self, k):
        for i in range(k):
            t = threading.Thread(target=self.submitter, args=(i,))
            t.start()
            self.threads.append(t)
        t = threading.Thread(target=self.reader)
        t.start()
        self.threads.append(t)

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(60)
            if t.is_alive():
                self.ledger.error("a client thread hangs")


def procurectl_verify(d, state, admin):
    argv = [PROCURECTL, "--server", "http://127.0.0.1:%d" % d.port,
            "verify", "--vkey", d.vkey(), "--state", state, "--quiet",
            "--threads", "2", "--admin-key", admin.vkey("admin")]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return p.returncode, p.stdout.decode(errors="replace")


# Checkpoint note -> (size, root), for notes whose signature verified.
OPENED = {}


def audit(d, ledger, vkey, prev, cache):
    """Everything acknowledged so far is in the log, unchanged."""
    errs = []
    st, note = d.get("/checkpoint")
    if st != 200:
        return ["GET /checkpoint: %d" % st], prev
    note = note.decode()
    _, size, root = open_checkpoint(note, vkey)
    leaves = fetch_leaves(d, size, start=prev[0], cache=cache)
    with ledger.lock:
        ledger.notes.add(note)
        notes = list(ledger.notes)
        receipts = dict(ledger.receipts)
    seen = {}
    for n in notes:
        if n not in OPENED:  # each note's signature is checked once
            OPENED[n] = open_checkpoint(n, vkey)[1:]
        s, r = OPENED[n]
        if s in seen and seen[s] != r:
            errs.append("two checkpoints of size %d with different roots" %
                        s)
        seen[s] = r
    if max(seen) > size:
        errs.append("a checkpoint of size %d was served but the log now "
                    "holds %d entries" % (max(seen), size))
    roots = roots_at(leaves, set(seen) | {size})
    if roots.get(size) != root:
        errs.append("the entries do not hash to the checkpoint's root")
    for s, r in seen.items():
        if s <= size and roots.get(s) != r:
            errs.append("checkpoint of size %d is not consistent with the "
                        "log" % s)
    for i, (lh, _) in receipts.items():
        if i >= size:
            errs.append("acknowledged entry %d lost (size %d)" % (i, size))
        elif leaves[i].hex() != lh:
            errs.append("entry %d changed: leaf %s, receipt %s" %
                        (i, leaves[i].hex(), lh))
    # The daemon's own consistency proof from the last audit's tree.
    if 0 < prev[0] < size:
        st, c = d.get_json("/v1/proof/consistency?first=%d&second=%d" %
                           (prev[0], size))
        if st != 200 or not verify_consistency(
                prev[0], size, [bytes.fromhex(h) for h in c["proof"]],
                prev[1], root):
            errs.append("consistency proof %d -> %d fails" %
                        (prev[0], size))
    return errs, (size, root)


def resubmit_in_doubt(d, ledger, vkey):
    with ledger.lock:
        todo, ledger.in_doubt = ledger.in_doubt, []
    logged = 0
    for env in todo:
        st, r = d.submit(env)
        if st in (200, 201) and isinstance(r, dict):
            check_receipt(ledger, vkey, env, r, st)
            logged += st == 200
        else:
            ledger.error("resubmitting an envelope cut off by the kill: "
                         "%s %r" % (st, r))
    return len(todo), logged


d = Daemon()
t0 = time.time()
failed = False
try:
    d.start()
    vkey = d.vkey()
    admin = d.admin
    buyer, party = Key(), make_bin(4242)
    g = envelope(grant_event(buyer, party, ["buyer"]), admin)
    st, r = d.submit(g)
    ok(st == 201, "grant the buyer key")
    ledger = Ledger()
    check_receipt(ledger, vkey, g, r, 201)
    state = os.path.join(d.tmp, "verify.state")
    prev, cache, seq = (0, b""), {}, [0]
    kills = {"load": 0, "startup": 0}
    doubt_total = doubt_logged = 0
    for rnd in range(1, args.rounds + 1):
        load = Load(d, ledger, vkey, buyer, party, admin, args.seed + rnd,
                    seq)
        load.start(args.submitters)
        time.sleep(rng.uniform(0.02, args.max_load_ms / 1000.0))
        d.stop(signal.SIGKILL)
        kills["load"] += 1
        load.join()
        # Now and then, kill again during recovery and start-up.
        if rng.random() < 0.15:
            d.launch()
            time.sleep(rng.uniform(0, 0.05))
            d.stop(signal.SIGKILL)
            kills["startup"] += 1
        d.start()
        n, logged = resubmit_in_doubt(d, ledger, vkey)
        doubt_total += n
        doubt_logged += logged
        if rnd % 10 == 0:
            cache.clear()  # refetch every entry now and then
        errs, prev = audit(d, ledger, vkey, prev, cache)
        errs += ledger.errors
        ledger.errors = []
        if PROCURECTL_VERIFY:
            rc, out = procurectl_verify(d, state, admin)
            if rc != 0:
                errs.append("procurectl verify: exit %d: %s" %
                            (rc, out.strip()))
        if not ok(not errs, "round %d: %d acknowledged entries intact, tree "
                  "%d, %d checkpoints consistent" %
                  (rnd, len(ledger.receipts), prev[0], len(ledger.notes))):
            for e in errs[:20]:
                print("#   " + e)
            failed = True
            break
    print("# %d rounds in %.1f s: %d kills under load, %d during start-up; "
          "%d receipts, %d checkpoints, %d envelopes in doubt (%d had been "
          "logged); seed %d" %
          (rnd, time.time() - t0, kills["load"], kills["startup"],
           len(ledger.receipts), len(ledger.notes), doubt_total,
           doubt_logged, args.seed))
    ok(d.stop() == 0, "SIGTERM after the last round: exit status 0")
finally:
    if failed and args.keep:
        print("# data kept in %s" % d.tmp)
        if d.proc is not None:
            d.proc.kill()
            d.proc.wait()
    else:
        d.cleanup()
finish()
