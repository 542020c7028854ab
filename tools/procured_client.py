"""A small client for procured, written against the specifications
(DSSE, C2SP signed notes and checkpoints, RFC 9162 proofs, the bid
commitment of docs/EVENTS.md) with Python's cryptography package, so it
is independent of proto/.

Used by tools/demo.py (the demo data generator) and by the integration
tests in tests/integration/.  Needs only the standard library and
python3-cryptography (Debian 12).
"""

import base64
import hashlib
import http.client
import json
import os
import struct
import time
import urllib.parse

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)

PAYLOAD_TYPE = "application/vnd.procured.event+json; version=1"


# ---- keys and signatures ----

class Key:
    """An Ed25519 key pair; keyid is the SHA-256 of the raw public key."""

    def __init__(self, priv=None):
        self.priv = priv or Ed25519PrivateKey.generate()
        self.pub = self.priv.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.keyid = hashlib.sha256(self.pub).hexdigest()

    @classmethod
    def from_seed(cls, seed):
        """A key from 32 bytes of seed (deterministic demos only)."""
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def load(cls, path):
        """A PKCS#8 PEM private key file, as procurectl keygen writes."""
        with open(path, "rb") as f:
            priv = serialization.load_pem_private_key(f.read(), None)
        if not isinstance(priv, Ed25519PrivateKey):
            raise ValueError("%s: not an Ed25519 private key" % path)
        return cls(priv)

    def save(self, path):
        """Write the private key as PKCS#8 PEM, mode 0600, never
        overwriting a file."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self.pem())

    def sign(self, msg):
        return self.priv.sign(msg)

    def vkey(self, name):
        """C2SP signed-note verifier key."""
        h = hashlib.sha256(name.encode() + b"\n\x01" + self.pub).digest()
        return "%s+%s+%s" % (name, h[:4].hex(),
                             base64.b64encode(b"\x01" + self.pub).decode())

    def pub_b64(self):
        return base64.b64encode(self.pub).decode()

    def pem(self):
        return self.priv.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())


def pae(ptype, body):
    """DSSE pre-authentication encoding."""
    t = ptype.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def envelope(event, *keys, ptype=PAYLOAD_TYPE, urlsafe=False):
    """A DSSE envelope of event (a dict, or the payload bytes) signed by
    every key in keys."""
    body = event if isinstance(event, bytes) else \
        json.dumps(event, ensure_ascii=False).encode()
    enc = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    sigs = [{"keyid": k.keyid, "sig": enc(k.sign(pae(ptype, body))).decode()}
            for k in keys]
    return {"payloadType": ptype, "payload": enc(body).decode(),
            "signatures": sigs}


# ---- identifiers, times, money ----

def bin_check(d11):
    """Kazakh BIN/IIN check digit of the first eleven digits, or None when
    none exists (docs/EVENTS.md)."""
    digits = [int(c) for c in d11]
    s = sum(d * w for d, w in zip(digits, range(1, 12))) % 11
    if s == 10:
        s = sum(d * w for d, w in
                zip(digits, [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2])) % 11
        if s == 10:
            return None
    return s


def make_bin(seed):
    """A fictional BIN with a valid check digit, derived from seed."""
    n = seed
    while True:
        d11 = "%02d%02d4%06d" % (n % 25, 1 + n % 12, n % 1000000)
        c = bin_check(d11)
        if c is not None:
            return "KZ-BIN-" + d11 + str(c)
        n += 1


def gtin_check(body):
    """GS1 mod-10 check digit for the digits of body (without it)."""
    total = 0
    for i, c in enumerate(reversed(body)):
        total += int(c) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def make_gtin(body):
    return body + str(gtin_check(body))


def iso(t):
    """Seconds since the epoch as RFC 3339 UTC with milliseconds."""
    ms = int(round(t * 1000))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + \
        ".%03dZ" % (ms % 1000)


def minor(amount, exp=2):
    """A decimal amount string as an integer count of minor units."""
    whole, _, frac = amount.partition(".")
    if len(frac) > exp:
        raise ValueError("too many decimals: %s" % amount)
    return int(whole) * 10 ** exp + int((frac + "0" * exp)[:exp] or 0)


def decimal(units, exp=2):
    """Minor units as a canonical decimal string ("1234.50")."""
    if exp == 0:
        return "%d" % units
    return "%d.%0*d" % (units // 10 ** exp, exp, units % 10 ** exp)


def money(units, currency="KZT"):
    return {"amount": decimal(units), "currency": currency}


def qty_thousandths(q):
    """A quantity (JSON integer or decimal string) in thousandths."""
    if isinstance(q, int):
        return q * 1000
    whole, _, frac = str(q).partition(".")
    return int(whole) * 1000 + int((frac + "000")[:3] or 0)


def line_total(price_units, q):
    """unit price x quantity rounded half up to a minor unit."""
    return (price_units * qty_thousandths(q) + 500) // 1000


def commitment(ocid, supplier, value, items, nonce):
    """The bid commitment as proto/event.h specifies it (hex)."""
    def s(x):
        b = x.encode()
        return struct.pack(">H", len(b)) + b

    m = b"procured.bid.v1\x00" + s(ocid) + s(supplier)
    m += value["currency"].encode() + struct.pack(">q", minor(value["amount"]))
    m += struct.pack(">I", len(items))
    for it in items:
        codes = [it["classification"]] + \
            it.get("additionalClassifications", [])
        m += s(it["id"]) + struct.pack(">H", len(codes))
        for c in codes:
            m += s(c["scheme"] + ":" + c["id"])
        m += struct.pack(">q", qty_thousandths(it["quantity"]))
        m += struct.pack(">q", minor(it["unitPrice"]["amount"]))
    m += bytes.fromhex(nonce)
    return hashlib.sha256(m).hexdigest()


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


# ---- HTTP ----

class Client:
    """procured's HTTP API at http://host:port (one connection a
    request, so one Client may be shared by threads)."""

    def __init__(self, server="http://127.0.0.1:8480", timeout=30):
        u = urllib.parse.urlsplit(server)
        if u.scheme != "http" or not u.hostname:
            raise ValueError("server must be http://HOST:PORT, not %r" %
                             server)
        self.host = u.hostname
        self.port = u.port or 80
        self.timeout = timeout
        self.last_headers = {}

    def request(self, method, path, body=None, headers=None, timeout=None):
        c = http.client.HTTPConnection(self.host, self.port,
                                       timeout=timeout or self.timeout)
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
        try:
            return st, json.loads(data) if data else None
        except ValueError:
            return st, data

    def submit(self, env):
        """POST /v1/events: (status, receipt or error JSON)."""
        body = env if isinstance(env, (bytes, str)) else json.dumps(env)
        st, data = self.request("POST", "/v1/events", body,
                                {"Content-Type": "application/json"})
        try:
            return st, json.loads(data)
        except ValueError:
            return st, data

    def vkey(self):
        return self.get_json("/v1/log")[1]["vkey"]

    def tree_size(self):
        st, log = self.get_json("/v1/log")
        if st != 200:
            raise RuntimeError("GET /v1/log: %s %r" % (st, log))
        return log["tree_size"]
