"""Concurrent submitters, then the tiles, roots and proofs procured
serves, mirrored to a directory and checked by Go's
golang.org/x/mod/sumdb/tlog (tests/interop/tlogcheck), which rebuilds the
tree from the entry bundles on its own."""

import base64
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from procured_test import Daemon, Key, envelope, eq, finish, ok, \
    open_checkpoint

N = int(os.environ.get("TLOG_EVENTS", "600"))
THREADS = 8
ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
EX = os.path.join(ROOT, "docs", "examples")


def example(kind):
    with open(os.path.join(EX, kind + ".json")) as f:
        return json.load(f)


def tile_path(level, index, width):
    s = "%03d" % (index % 1000)
    index //= 1000
    while index > 0:
        s = "x%03d/" % (index % 1000) + s
        index //= 1000
    lv = "entries" if level < 0 else str(level)
    return "tile/%s/%s%s" % (lv, s, "" if width == 256 else ".p/%d" % width)


def tiles(size):
    """Every tile (level, index, width) of a tree of size leaves."""
    out, level, n = [], 0, size
    while n > 0:
        for i in range((n + 255) // 256):
            out.append((level, i, min(256, n - 256 * i)))
        if level == 0:
            for i in range((n + 255) // 256):
                out.append((-1, i, min(256, n - 256 * i)))
        n //= 256
        level += 1
    return out


d = Daemon()
try:
    d.start()
    vkey = d.vkey()
    buyer = Key()
    grant = example("key.grant")
    for k in ("validFrom", "validUntil"):
        grant.pop(k)
    grant["party"] = {"id": "KZ-BIN-090640001233"}
    grant["publicKey"] = base64.b64encode(buyer.pub).decode()
    st, r = d.submit(envelope(grant, d.admin))
    eq(st, 201, "grant the buyer's key")

    plan = example("plan")
    plan["buyer"] = {"id": "KZ-BIN-090640001233"}
    envs = []
    for i in range(N):
        p = dict(plan, ocid="ocds-pr0kz1-2026-TLG-%05d" % i)
        envs.append(envelope(p, buyer))
    receipts, errors = [], []
    lock = threading.Lock()

    def worker(part):
        for e in part:
            st, r = d.submit(e)
            with lock:
                (receipts if st == 201 else errors).append((st, r))

    t0 = time.time()
    ths = [threading.Thread(target=worker, args=(envs[k::THREADS],))
           for k in range(THREADS)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    eq(len(errors), 0, "%d concurrent submissions in %.1f s, none refused"
       % (N, time.time() - t0))
    idx = sorted(r["index"] for _, r in receipts)
    eq(idx, list(range(1, N + 1)), "every submission has its own index")

    # The same envelope from several clients at once: one entry, one
    # receipt for all, 201 for exactly one of them.
    same = envelope(dict(plan, ocid="ocds-pr0kz1-2026-TLG-SAME"), buyer)
    res = []

    def twin():
        st, r = d.submit(same)
        with lock:
            res.append((st, r.get("index") if isinstance(r, dict) else r))
    ths = [threading.Thread(target=twin) for _ in range(6)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    eq(len({r for _, r in res}), 1, "identical submissions share one index")
    eq(sorted(st for st, _ in res), [200] * 5 + [201],
       "one 201, the others 200")
    N += 1

    st, cp = d.get("/checkpoint")
    origin, size, root = open_checkpoint(cp.decode(), vkey)
    eq(size, N + 1, "checkpoint covers everything")
    out = os.path.join(d.tmp, "mirror")
    for (lv, i, w) in tiles(size):
        path = tile_path(lv, i, w)
        st, body = d.get("/" + path)
        if not ok(st == 200, "GET /" + path):
            continue
        if w == 256:
            eq(d.last_headers.get("Cache-Control"),
               "public, max-age=31536000, immutable",
               "full tile %s is immutable" % path)
        os.makedirs(os.path.dirname(os.path.join(out, path)), exist_ok=True)
        with open(os.path.join(out, path), "wb") as f:
            f.write(body)

    lines = ["root %d %s" % (size, root.hex())]
    seen = {size}
    for _, r in receipts[::97]:
        o, s, rt = open_checkpoint(r["checkpoint"], vkey)
        if s not in seen:
            lines.append("root %d %s" % (s, rt.hex()))
            seen.add(s)
        st, c = d.get_json("/v1/proof/consistency?first=%d&second=%d"
                           % (s, size))
        lines.append("cons %d %d %s" % (s, size, " ".join(c["proof"])))
        lines.append("incl %d %d %s" % (r["index"], s,
                                        " ".join(r["inclusion_proof"])))
    for i in (0, 1, 255, 256, size - 1):
        st, p = d.get_json("/v1/proof/inclusion?index=%d&tree_size=%d"
                           % (i, size))
        lines.append("incl %d %d %s" % (i, size, " ".join(p["proof"])))
    with open(os.path.join(out, "proofs.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")

    env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode",
               GOCACHE=os.environ.get("GOCACHE", os.path.join(
                   os.environ.get("TMPDIR", "/tmp"), "procured-gocache")))
    exe = os.path.join(d.tmp, "tlogcheck")
    b = subprocess.run(["go", "build", "-o", exe, "./tests/interop/tlogcheck"],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    if ok(b.returncode == 0, "build tlogcheck"):
        c = subprocess.run([exe, "-dir", out, "-n", str(size), "-root",
                            root.hex()], capture_output=True, text=True)
        if not ok(c.returncode == 0, "Go's tlog accepts procured's tiles, "
                  "roots and proofs: " + c.stdout.strip()):
            print("# " + c.stdout + c.stderr)
    else:
        print("# " + b.stderr)
    eq(d.stop(), 0, "clean stop")
finally:
    d.cleanup()
finish()
