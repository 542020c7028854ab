"""A fake procured log for procurectl's tests, written from the specs
(C2SP tlog-tiles, tlog-checkpoint, signed-note; RFC 9162; DSSE; the entry
layout of proto/entry.h) with Python's cryptography package, independent
of proto/.  It can serve an honest log, or one that lies in a chosen way.

usage: cli_fakelog.py DIR [--size N] [--tamper-entry K] [--fork-at M]
                          [--bad-root] [--page N]

Writes DIR/vkey (the log's verifier key) and DIR/admin (the admin key's
vkey), then listens on a free loopback port and writes it to DIR/port (a
FIFO the caller reads: the readiness signal).  The log: entry 0 grants a buyer key (signed by the admin), entries
1..N-1 are plans signed by the buyer, logged 1 ms apart.

  --tamper-entry K  entry bundles carry entry K with one payload byte
                    changed (hash tiles and checkpoint stay honest)
  --fork-at M       entries M.. are logged 1 s later: another history,
                    correctly signed
  --bad-root        the checkpoint is signed over the root of a forked
                    tree while tiles and bundles are of the honest one
  --page N          /v1/search pages hold N results
  --missing-bundle N  entry bundle N is not found (404)
  --delay-ms N      entry bundles and search pages are answered N ms late
                    (a slow server: long enough for a progress line)
"""

import base64
import hashlib
import json
import os
import struct
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ORIGIN = "fake.procured.example/log"
PTYPE = "application/vnd.procured.event+json; version=1"
T0 = 1767225600000
BUYER = "KZ-BIN-090640001233"


def key(b):
    k = Ed25519PrivateKey.from_private_bytes(bytes([b]) * 32)
    pub = k.public_key().public_bytes(serialization.Encoding.Raw,
                                      serialization.PublicFormat.Raw)
    return k, pub


def vkey(name, pub):
    kid = hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4]
    return "%s+%s+%s" % (name, kid.hex(),
                         base64.b64encode(b"\x01" + pub).decode())


def pae(body):
    t = PTYPE.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def entry(log_time, body, k, pub):
    keyid = hashlib.sha256(pub).hexdigest().encode()
    sig = k.sign(pae(body))
    t = PTYPE.encode()
    return (struct.pack(">BQH", 1, log_time, len(t)) + t +
            struct.pack(">H", len(body)) + body + b"\x01" +
            struct.pack(">B", len(keyid)) + keyid +
            struct.pack(">H", len(sig)) + sig)


def make_log(n, shift_from=None):
    admin, apub = key(2)
    buyer, bpub = key(3)
    out = []
    for i in range(n):
        lt = T0 + i + (1000 if shift_from is not None and i >= shift_from
                       else 0)
        if i == 0:
            ev = {"schema": 1, "kind": "key.grant",
                  "date": "2026-01-01T00:00:00Z", "party": {"id": BUYER},
                  "roles": ["buyer"],
                  "publicKey": base64.b64encode(bpub).decode()}
            out.append(entry(lt, json.dumps(ev).encode(), admin, apub))
        else:
            ev = {"schema": 1, "ocid": "ocds-pr0kz1-F-%06d" % i,
                  "kind": "plan", "date": "2026-01-01T00:00:00Z",
                  "buyer": {"id": BUYER},
                  "value": {"amount": "%d.00" % (1000 + i),
                            "currency": "KZT"},
                  "fundingSource": "OSMS"}
            out.append(entry(lt, json.dumps(ev).encode(), buyer, bpub))
    return out


def h_node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def levels(leaves):
    """levels[k][i]: hash of the full subtree at level k, index i."""
    lv = [[hashlib.sha256(b"\x00" + e).digest() for e in leaves]]
    while len(lv[-1]) > 1:
        prev = lv[-1]
        lv.append([h_node(prev[2 * i], prev[2 * i + 1])
                   for i in range(len(prev) // 2)])
    return lv


def mth(hashes):
    """RFC 9162 root of a list of leaf hashes."""
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return h_node(mth(hashes[:k]), mth(hashes[k:]))


def subproof(m, hashes, b):
    """RFC 9162 section 2.1.4.1 SUBPROOF over leaf hashes."""
    n = len(hashes)
    if m == n:
        return [] if b else [mth(hashes)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, hashes[:k], b) + [mth(hashes[k:])]
    return subproof(m - k, hashes[k:], False) + [mth(hashes[:k])]


def tile_path(level, n, width):
    s = "%03d" % (n % 1000)
    n //= 1000
    while n:
        s = "x%03d/" % (n % 1000) + s
        n //= 1000
    p = "tile/%s/%s" % (level, s)
    return p + (".p/%d" % width if width < 256 else "")


class Log:
    def __init__(self, a):
        self.k, self.pub = key(1)
        self.entries = make_log(a.size, a.fork_at)
        self.lv = levels(self.entries)
        self.leaves = self.lv[0]
        root = mth(self.leaves)
        if a.bad_root:
            root = mth(levels(make_log(a.size, a.size // 2))[0])
        self.root = root
        self.tamper = a.tamper_entry
        text = "%s\n%d\n%s\n" % (ORIGIN, len(self.entries),
                                 base64.b64encode(root).decode())
        kid = hashlib.sha256(ORIGIN.encode() + b"\n\x01" +
                             self.pub).digest()[:4]
        sig = base64.b64encode(kid + self.k.sign(text.encode())).decode()
        self.checkpoint = text + "\n\u2014 %s %s\n" % (ORIGIN, sig)
        self.files = {}
        size = len(self.entries)
        for level in range(8):
            count = size >> (8 * level)
            if count == 0:
                break
            hashes = self.lv[8 * level]
            for t in range((count + 255) // 256):
                w = min(256, count - 256 * t)
                self.files[tile_path(level, t, w)] = b"".join(
                    hashes[256 * t:256 * t + w])
        for t in range((size + 255) // 256):
            w = min(256, size - 256 * t)
            b = b""
            for i in range(256 * t, 256 * t + w):
                e = self.entries[i]
                if i == self.tamper:
                    e = bytearray(e)
                    e[60] ^= 0x01  # inside the JSON payload
                    e = bytes(e)
                b += struct.pack(">H", len(e)) + e
            if t != a.missing_bundle:
                self.files[tile_path("entries", t, w)] = b


class Handler(BaseHTTPRequestHandler):
    log = None
    page = 100
    delay = 0.0

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/json", headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, code, msg, field=None, headers=()):
        self.reply(status, {"error": {"code": code, "message": msg,
                                      "field": field}}, headers=headers)

    def do_GET(self):
        u = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        lg = self.log
        if u.path == "/checkpoint":
            return self.reply(200, lg.checkpoint, "text/plain; charset=utf-8")
        if u.path.startswith("/tile/entries/") or u.path == "/v1/search":
            time.sleep(self.delay)
        if u.path.startswith("/tile/"):
            b = lg.files.get(u.path[1:])
            if b is None:
                return self.error(404, "not_found", "no such tile")
            return self.reply(200, b, "application/octet-stream")
        if u.path == "/v1/log":
            return self.reply(200, {
                "origin": ORIGIN, "vkey": vkey(ORIGIN, lg.pub),
                "tree_size": len(lg.entries), "root_hash": lg.root.hex(),
                "checkpoint": lg.checkpoint})
        if u.path == "/v1/proof/consistency":
            m, n = int(q["first"]), int(q["second"])
            return self.reply(200, {"first": m, "second": n, "proof": [
                h.hex() for h in subproof(m, lg.leaves[:n], True)]})
        if u.path == "/v1/search":
            start = int(q.get("cursor", "1"))
            limit = min(int(q.get("limit", "100")), self.page)
            end = min(start + limit, len(lg.entries))
            res = [{"index": i, "ocid": "ocds-pr0kz1-F-%06d" % i,
                    "kind": "plan", "log_time": "2026-01-01T00:00:00.%03dZ"
                    % (i % 1000), "date": "2026-01-01T00:00:00Z",
                    "buyer": BUYER, "supplier": None,
                    "value": {"amount": "%d.00" % (1000 + i),
                              "currency": "KZT"}}
                   for i in range(start, end)]
            nxt = str(end) if end < len(lg.entries) else None
            return self.reply(200, {"results": res, "next_cursor": nxt})
        if u.path == "/v1/processes/slow":
            time.sleep(5)
            return self.error(500, "slow", "too late")
        if u.path.startswith("/v1/processes/"):
            return self.error(503, "overloaded",
                              "the log is busy; retry in a second",
                              headers=[("Retry-After", "2")])
        return self.error(404, "not_found", "no such route")


def main():
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--size", type=int, default=600)
    p.add_argument("--tamper-entry", type=int, default=None)
    p.add_argument("--fork-at", type=int, default=None)
    p.add_argument("--bad-root", action="store_true")
    p.add_argument("--page", type=int, default=100)
    p.add_argument("--missing-bundle", type=int, default=None)
    p.add_argument("--delay-ms", type=int, default=0)
    a = p.parse_args()
    Handler.log = Log(a)
    Handler.page = a.page
    Handler.delay = a.delay_ms / 1000.0
    with open(os.path.join(a.dir, "vkey"), "w") as f:
        f.write(vkey(ORIGIN, Handler.log.pub) + "\n")
    with open(os.path.join(a.dir, "admin"), "w") as f:
        f.write(vkey("admin", key(2)[1]) + "\n")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(os.path.join(a.dir, "port"), "w") as f:
        f.write("%d\n" % srv.server_address[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
