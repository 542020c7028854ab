"""Helpers for the daemon's integration tests, written against the
specifications (C2SP signed notes, RFC 9162 proofs, DSSE) with Python's
cryptography package: an implementation independent of proto/.

Used by tests/integration/*.py; each test starts its own procured on a
free loopback port with its data in a temporary directory.
"""

import base64
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)

BUILD = os.environ.get("BUILD", "build")
PROCURED = os.environ.get("PROCURED", os.path.join(BUILD, "procured"))
PAYLOAD_TYPE = "application/vnd.procured.event+json; version=1"

NPASS = 0
NFAIL = 0


def ok(cond, what):
    global NPASS, NFAIL
    if cond:
        NPASS += 1
        print("ok - %s" % what)
    else:
        NFAIL += 1
        print("not ok - %s" % what)
    sys.stdout.flush()
    return cond


def eq(got, want, what):
    if not ok(got == want, what):
        print("#   got:  %r\n#   want: %r" % (got, want))


def finish():
    print("# %d passed, %d failed" % (NPASS, NFAIL))
    sys.exit(1 if NFAIL else 0)


# ---- keys and signatures ----

class Key:
    def __init__(self, priv=None):
        self.priv = priv or Ed25519PrivateKey.generate()
        self.pub = self.priv.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.keyid = hashlib.sha256(self.pub).hexdigest()

    def sign(self, msg):
        return self.priv.sign(msg)

    def vkey(self, name):
        """C2SP signed-note verifier key."""
        h = hashlib.sha256(name.encode() + b"\n\x01" + self.pub).digest()
        return "%s+%s+%s" % (name, h[:4].hex(),
                             base64.b64encode(b"\x01" + self.pub).decode())

    def pem(self):
        return self.priv.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())


def pae(ptype, body):
    t = ptype.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def envelope(event, *keys, ptype=PAYLOAD_TYPE, urlsafe=False):
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    enc = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    sigs = [{"keyid": k.keyid, "sig": enc(k.sign(pae(ptype, body))).decode()}
            for k in keys]
    return {"payloadType": ptype, "payload": enc(body).decode(),
            "signatures": sigs}


# ---- Merkle proofs (RFC 9162 section 2.1) ----

def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def verify_inclusion(index, size, leaf, proof, root):
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m, n, proof, root1, root2):
    if m == n:
        return not proof and root1 == root2
    if m == 0 or m > n or not proof:
        return False
    if m & (m - 1) == 0:
        proof = [root1] + list(proof)
    fn, sn = m - 1, n - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root1 and sr == root2


# ---- signed notes and checkpoints ----

def open_checkpoint(note, vkey):
    """Verify a C2SP checkpoint against one vkey; return (origin, size,
    root) or raise ValueError."""
    name, keyid, b64 = vkey.split("+", 2)
    raw = base64.b64decode(b64)
    pub = Ed25519PublicKey.from_public_bytes(raw[1:])
    text, sep, sigs = note.partition("\n\n")
    if not sep:
        raise ValueError("no signature block")
    text += "\n"
    good = False
    for line in sigs.splitlines():
        if not line.startswith("\u2014 "):
            raise ValueError("bad signature line %r" % line)
        sname, sig = line[2:].split(" ")
        blob = base64.b64decode(sig)
        if sname == name and blob[:4].hex() == keyid:
            pub.verify(blob[4:], text.encode())
            good = True
    if not good:
        raise ValueError("no signature by %s" % name)
    lines = text.split("\n")
    return lines[0], int(lines[1]), base64.b64decode(lines[2])


# ---- the daemon ----

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Daemon:
    def __init__(self, origin="test.procured.example/log", extra=(),
                 admins=None, conf=None):
        self.tmp = tempfile.mkdtemp(prefix="procured-test.")
        self.data = os.path.join(self.tmp, "data")
        self.origin = origin
        self.admin = Key()
        self.admins = admins if admins is not None else [self.admin]
        self.extra = list(extra)
        self.conf = conf
        self.proc = None
        self.port = None

    def argv(self):
        a = [PROCURED, "--data-dir", self.data, "--origin", self.origin,
             "--listen", "127.0.0.1:%d" % self.port]
        for k in self.admins:
            a += ["--admin-key", k.vkey("admin")]
        if self.conf:
            path = os.path.join(self.tmp, "procured.conf")
            with open(path, "w") as f:
                f.write(self.conf)
            a += ["-c", path]
        return a + self.extra

    def launch(self, env=None):
        """Start procured without waiting for it to answer."""
        self.port = self.port or free_port()
        self.log = open(os.path.join(self.tmp, "procured.log"), "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=self.log,
                                     stderr=self.log, env=env)

    def start(self, env=None):
        self.launch(env)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("procured exited: %s" % self.logtext())
            try:
                st, _ = self.get("/healthz")
                if st in (200, 503):
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("procured did not answer: %s" % self.logtext())

    def logtext(self):
        with open(os.path.join(self.tmp, "procured.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=30)
        self.proc = None
        self.log.close()
        return rc

    def cleanup(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def request(self, method, path, body=None, headers=None, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", self.port,
                                       timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            self.last_headers = dict(r.getheaders())
            return r.status, data
        finally:
            c.close()

    def get(self, path):
        return self.request("GET", path)

    def get_json(self, path):
        st, data = self.get(path)
        return st, json.loads(data) if data else None

    def submit(self, env):
        body = env if isinstance(env, (bytes, str)) else json.dumps(env)
        st, data = self.request("POST", "/v1/events", body,
                                {"Content-Type": "application/json"})
        try:
            return st, json.loads(data)
        except ValueError:
            return st, data

    def vkey(self):
        return self.get_json("/v1/log")[1]["vkey"]


# ---- events, tiles and trees (shared by the reliability tests) ----

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "..", "docs", "examples")
PROCURECTL = os.environ.get("PROCURECTL", os.path.join(BUILD, "procurectl"))


def example(kind):
    with open(os.path.join(EXAMPLES, kind + ".json")) as f:
        return json.load(f)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + \
        ".%03dZ" % int((t % 1) * 1000)


def bin_check(d11):
    """Kazakh BIN/IIN check digit, or None when none exists."""
    digits = [int(c) for c in d11]
    s = sum(d * w for d, w in zip(digits, range(1, 12))) % 11
    if s == 10:
        s = sum(d * w for d, w in
                zip(digits, [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2])) % 11
        if s == 10:
            return None
    return s


def make_bin(seed):
    n = seed
    while True:
        d11 = "%02d%02d4%06d" % (n % 25, 1 + n % 12, n)
        c = bin_check(d11)
        if c is not None:
            return "KZ-BIN-" + d11 + str(c)
        n += 1


def grant_event(key, party, roles):
    g = example("key.grant")
    g.pop("validFrom", None)
    g.pop("validUntil", None)
    g["date"] = iso(time.time())
    g["party"] = {"id": party}
    g["roles"] = roles
    g["publicKey"] = base64.b64encode(key.pub).decode()
    return g


def plan_event(ocid, buyer):
    p = example("plan")
    p.update(ocid=ocid, date=iso(time.time()))
    p["buyer"] = {"id": buyer, "name": "Test buyer"}
    return p


def tile_index_path(n):
    """tlog-tiles encoding of a tile index: x001/x234/067."""
    s = "%03d" % (n % 1000)
    n //= 1000
    while n > 0:
        s = "x%03d/%s" % (n % 1000, s)
        n //= 1000
    return s


def split_bundle(data):
    """Entries of an entry bundle (uint16 big-endian length + bytes)."""
    out, off = [], 0
    while off < len(data):
        if off + 2 > len(data):
            raise ValueError("truncated bundle")
        n = (data[off] << 8) | data[off + 1]
        if off + 2 + n > len(data):
            raise ValueError("truncated bundle entry")
        out.append(data[off + 2:off + 2 + n])
        off += 2 + n
    return out


def fetch_leaves(d, size, start=0, cache=None):
    """Leaf hashes 0..size-1 recomputed from the served entry bundles.
    cache (dict tile index -> leaf hashes) keeps full tiles between calls;
    only tiles from start//256 on are fetched again when given."""
    leaves = []
    for t in range((size + 255) // 256):
        w = min(256, size - t * 256)
        if cache is not None and w == 256 and t in cache and \
                t * 256 + 256 <= start:
            leaves.extend(cache[t])
            continue
        path = "/tile/entries/" + tile_index_path(t)
        if w < 256:
            path += ".p/%d" % w
        st, data = d.get(path)
        if st != 200:
            raise ValueError("GET %s: %d" % (path, st))
        hs = [leaf_hash(e) for e in split_bundle(data)]
        if len(hs) != w:
            raise ValueError("%s holds %d entries, want %d" %
                             (path, len(hs), w))
        if cache is not None and w == 256:
            cache[t] = hs
        leaves.extend(hs)
    return leaves


def roots_at(leaves, sizes):
    """RFC 9162 roots of the first n leaves for every n in sizes, in one
    pass (a stack of perfect subtrees)."""
    out = {}
    if 0 in sizes:
        out[0] = hashlib.sha256(b"").digest()
    stack = []  # (leaf count, hash)
    for i, lh in enumerate(leaves):
        stack.append((1, lh))
        while len(stack) >= 2 and stack[-2][0] == stack[-1][0]:
            (n, l), (_, r) = stack[-2], stack[-1]
            stack[-2:] = [(2 * n, node_hash(l, r))]
        if i + 1 in sizes:
            r = stack[-1][1]
            for _, l in reversed(stack[:-1]):
                r = node_hash(l, r)
            out[i + 1] = r
    return out
