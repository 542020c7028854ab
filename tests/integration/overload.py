"""Overload: more submissions than the log takes at once get 503 with
Retry-After (queue-max) or 429 with Retry-After (rate limits), never a
crash or a lost receipt; reads keep being answered meanwhile, and the
daemon is healthy and exits cleanly afterwards."""

import http.client
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procured_test import (Daemon, Key, envelope, eq, fetch_leaves, finish,
                           grant_event, make_bin, ok, open_checkpoint,
                           plan_event, roots_at, verify_inclusion)

SECONDS = float(os.environ.get("OVERLOAD_SECONDS", "3"))


def post(d, env):
    """POST an envelope on a connection of its own: status, body,
    headers (Daemon.request keeps headers per daemon, not per thread)."""
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    try:
        c.request("POST", "/v1/events", json.dumps(env),
                  {"Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, json.loads(r.read()), dict(r.getheaders())
    finally:
        c.close()


def storm(d, buyer, party, threads, tag):
    """threads clients submitting as fast as they can for SECONDS."""
    out = {"receipts": {}, "status": {}, "bad": [], "reads": 0,
           "read_fail": 0}
    lock = threading.Lock()
    stop = time.time() + SECONDS
    n = [0]

    def client(i):
        while time.time() < stop:
            with lock:
                n[0] += 1
                k = n[0]
            env = envelope(plan_event("ocds-pr0kz1-2026-%s-%06d" % (tag, k),
                                      party), buyer)
            try:
                st, r, h = post(d, env)
            except OSError as e:
                with lock:
                    out["bad"].append("connection: %s" % e)
                continue
            with lock:
                out["status"][st] = out["status"].get(st, 0) + 1
                if st == 201:
                    out["receipts"][r["index"]] = r
                elif st in (429, 503):
                    code = r.get("error", {}).get("code")
                    if "Retry-After" not in h or code not in (
                            "overloaded", "rate_limited"):
                        out["bad"].append("%d without Retry-After or "
                                          "code: %r %r" % (st, h, r))
                else:
                    out["bad"].append("%d %r" % (st, r))

    def reader():
        while time.time() < stop:
            try:
                st, _ = d.get("/checkpoint")
                ok_ = st == 200
            except OSError:
                ok_ = False
            with lock:
                out["reads"] += 1
                out["read_fail"] += not ok_
            time.sleep(0.01)

    ts = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    ts.append(threading.Thread(target=reader))
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def receipts_hold(d, vkey, receipts, what):
    st, cp = d.get("/checkpoint")
    _, size, root = open_checkpoint(cp.decode(), vkey)
    leaves = fetch_leaves(d, size)
    good = all(r["index"] < size and
               leaves[r["index"]].hex() == r["leaf_hash"]
               for r in receipts.values())
    good = good and roots_at(leaves, {size})[size] == root
    good = good and all(verify_inclusion(
        r["index"], r["tree_size"], bytes.fromhex(r["leaf_hash"]),
        [bytes.fromhex(h) for h in r["inclusion_proof"]],
        open_checkpoint(r["checkpoint"], vkey)[2])
        for r in receipts.values())
    ok(good, "%s: all %d receipts verify and are in the log" %
       (what, len(receipts)))


# queue-max 8 and a slow group commit: most of 32 clients are turned away.
d = Daemon(conf="queue-max = 8\nbatch-delay-ms = 100\nbatch-max = 4\n")
try:
    d.start()
    vkey = d.vkey()
    buyer, party = Key(), make_bin(3131)
    st, _ = d.submit(envelope(grant_event(buyer, party, ["buyer"]), d.admin))
    ok(st == 201, "grant a buyer")
    o = storm(d, buyer, party, 32, "OVL")
    print("# queue-max 8, 32 clients, %.0f s: %s; %d reads (%d failed)" %
          (SECONDS, json.dumps(o["status"], sort_keys=True), o["reads"],
           o["read_fail"]))
    ok(o["status"].get(503, 0) > 0, "some submissions turned away with 503")
    ok(o["status"].get(201, 0) > 0, "others logged")
    ok(not o["bad"], "every 503 has Retry-After and code overloaded")
    for b in o["bad"][:5]:
        print("#   " + b)
    ok(o["read_fail"] == 0, "reads answered throughout")
    receipts_hold(d, vkey, o["receipts"], "queue-max")
    st, m = d.get("/metrics")
    ok(b'route="events",status="503"' in m, "503s counted in /metrics")
    st, h = d.get_json("/healthz")
    eq((st, h.get("status")), (200, "ok"), "healthy after the storm")
    eq(d.stop(), 0, "SIGTERM: exit status 0")
finally:
    d.cleanup()

# rate-per-addr 20/s: one address flooding gets 429 with Retry-After.
d = Daemon(conf="rate-per-addr = 20\n")
try:
    d.start()
    vkey = d.vkey()
    buyer, party = Key(), make_bin(3232)
    st, _ = d.submit(envelope(grant_event(buyer, party, ["buyer"]), d.admin))
    ok(st == 201, "grant a buyer")
    o = storm(d, buyer, party, 8, "RATE")
    print("# rate-per-addr 20, 8 clients, %.0f s: %s" %
          (SECONDS, json.dumps(o["status"], sort_keys=True)))
    ok(o["status"].get(429, 0) > 0, "the flood gets 429")
    # A bucket of 2 s worth (40), refilled at 20 a second.
    ok(0 < o["status"].get(201, 0) <= 40 + 20 * (SECONDS + 0.5),
       "at most 40 + 20 a second logged (%d)" % o["status"].get(201, 0))
    ok(not o["bad"], "every 429 has Retry-After and code rate_limited")
    for b in o["bad"][:5]:
        print("#   " + b)
    receipts_hold(d, vkey, o["receipts"], "rate limit")
    eq(d.stop(), 0, "SIGTERM: exit status 0")
finally:
    d.cleanup()
finish()
