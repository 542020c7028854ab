#!/usr/bin/python3
"""Independent checks of procured's signature formats (python3-cryptography).

  dsse_check.py verify ENVFILE PUBHEX...     signature i verifies with key i
  dsse_check.py sign TYPE PAYLOADFILE OUT    new key, sign, print public hex
  dsse_check.py entry-verify ENTRYHEX PUBHEX...
                                             decode a log entry, verify its
                                             signatures, print its hashes
  dsse_check.py tproof-verify FILE VKEY LEAFHEX
                                             verify a tlog-proof file
  dsse_check.py key-pub KEYFILE              public hex of a PKCS#8 PEM key

Written from the specifications (DSSE protocol.md, C2SP signed-note,
tlog-checkpoint, tlog-proof, RFC 9162) and docs/PROTOCOL.md, sharing no
code with procured.  Exit status 0 on success, 1 on failure.
"""
import base64
import hashlib
import json
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)


def fail(msg):
    sys.stderr.write("dsse_check: %s\n" % msg)
    sys.exit(1)


def pae(ptype, body):
    t = ptype.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def b64any(s):
    if "-" in s or "_" in s:
        return base64.urlsafe_b64decode(s.encode("ascii"))
    return base64.b64decode(s.encode("ascii"), validate=True)


def no_duplicates(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            fail("duplicate key %r" % k)
        seen[k] = v
    return seen


def pubkey(hexstr):
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(hexstr))


def verify_sig(pub_hex, ptype, body, sig, keyid):
    try:
        pubkey(pub_hex).verify(sig, pae(ptype, body))
    except InvalidSignature:
        fail("signature does not verify with %s" % pub_hex)
    want = hashlib.sha256(bytes.fromhex(pub_hex)).hexdigest()
    if keyid not in (None, "", want):
        fail("keyid %s is not sha256(public key) %s" % (keyid, want))


def cmd_verify(envfile, *pubs):
    with open(envfile, "rb") as f:
        env = json.loads(f.read(), object_pairs_hook=no_duplicates)
    if set(env) != {"payloadType", "payload", "signatures"}:
        fail("unexpected members %s" % sorted(env))
    body = b64any(env["payload"])
    sigs = env["signatures"]
    if len(sigs) != len(pubs):
        fail("%d signatures, %d keys" % (len(sigs), len(pubs)))
    for s, p in zip(sigs, pubs):
        verify_sig(p, env["payloadType"], body, b64any(s["sig"]),
                   s.get("keyid"))
    print("ok %d signatures" % len(sigs))


def cmd_sign(ptype, payloadfile, out):
    key = Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    with open(payloadfile, "rb") as f:
        body = f.read()
    sig = key.sign(pae(ptype, body))
    env = {
        "payloadType": ptype,
        "payload": base64.b64encode(body).decode(),
        # URL-safe on purpose: verifiers must accept either alphabet.
        "signatures": [{"keyid": hashlib.sha256(pub).hexdigest(),
                        "sig": base64.urlsafe_b64encode(sig).decode()}],
    }
    with open(out, "w") as f:
        json.dump(env, f)
    print(pub.hex())


def cmd_entry_verify(entry_hex, *pubs):
    e = bytes.fromhex(entry_hex)
    if len(e) > 65535 or len(e) < 9 or e[0] != 1:
        fail("bad entry header")
    log_time = struct.unpack(">Q", e[1:9])[0]
    off = 9

    def take(n):
        nonlocal off
        if off + n > len(e):
            fail("entry truncated")
        b = e[off:off + n]
        off += n
        return b
    ptype = take(struct.unpack(">H", take(2))[0]).decode("utf-8")
    body = take(struct.unpack(">H", take(2))[0])
    nsig = take(1)[0]
    if not 1 <= nsig <= 16 or nsig != len(pubs):
        fail("signature count %d" % nsig)
    for i in range(nsig):
        keyid = take(take(1)[0]).decode("utf-8")
        sig = take(struct.unpack(">H", take(2))[0])
        verify_sig(pubs[i], ptype, body, sig, keyid)
    if off != len(e):
        fail("trailing bytes")
    print("log_time %d" % log_time)
    print("envelope_hash %s" % hashlib.sha256(e[9:]).hexdigest())
    print("leaf_hash %s" % hashlib.sha256(b"\x00" + e).hexdigest())


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def inclusion_root(index, size, leaf, proof):
    # RFC 9162 section 2.1.3.2.
    if index >= size:
        fail("index beyond tree size")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            fail("proof too long")
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        fail("proof too short")
    return r


def cmd_tproof_verify(path, vkey, leaf_hex):
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8").split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1":
        fail("bad header")
    i = 1
    if lines[i].startswith("extra "):
        i += 1
    if not lines[i].startswith("index "):
        fail("no index")
    index = int(lines[i][6:])
    i += 1
    proof = []
    while lines[i] != "":
        h = base64.b64decode(lines[i], validate=True)
        if len(h) != 32:
            fail("hash of %d bytes" % len(h))
        proof.append(h)
        i += 1
    note = "\n".join(lines[i + 1:])
    text, sigs = note.rsplit("\n\n", 1)
    text += "\n"
    name, kid, kb64 = vkey.split("+", 2)
    raw = base64.b64decode(kb64)
    verified = False
    for line in sigs.rstrip("\n").split("\n"):
        if not line.startswith("\u2014 "):
            fail("bad signature line")
        sname, sb64 = line[2:].split(" ", 1)
        sig = base64.b64decode(sb64, validate=True)
        if sname == name and sig[:4].hex() == kid:
            try:
                Ed25519PublicKey.from_public_bytes(raw[1:]).verify(
                    sig[4:], text.encode("utf-8"))
            except InvalidSignature:
                fail("checkpoint signature does not verify")
            verified = True
    if not verified:
        fail("no signature by the log key")
    origin, size, root_b64 = text.split("\n")[:3]
    root = base64.b64decode(root_b64, validate=True)
    got = inclusion_root(index, int(size), bytes.fromhex(leaf_hex), proof)
    if got != root:
        fail("inclusion proof does not lead to the root")
    print("ok %s index %d size %s" % (origin, index, size))


def cmd_key_pub(path):
    with open(path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    print(key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw).hex())


CMDS = {"verify": cmd_verify, "sign": cmd_sign,
        "entry-verify": cmd_entry_verify, "tproof-verify": cmd_tproof_verify,
        "key-pub": cmd_key_pub}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in CMDS:
        fail("usage: dsse_check.py %s ..." % "|".join(CMDS))
    try:
        CMDS[sys.argv[1]](*sys.argv[2:])
    except (ValueError, KeyError, TypeError, IndexError) as e:
        fail("%s: %s" % (type(e).__name__, e))
