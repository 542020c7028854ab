"""Independent computation of procured's sealed-bid commitment and key id.

Usage: bid_commitment.py commit REVEAL.json   prints the commitment (hex)
       bid_commitment.py keyid GRANT.json     prints the key id (hex)

Written from the encoding documented in proto/event.h and docs/EVENTS.md,
with Python's decimal-free integer arithmetic on the decimal strings.
"""
import base64
import hashlib
import json
import struct
import sys

EXPONENT = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "XAF": 0,
            "XOF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3,
            "OMR": 3, "TND": 3}


def scaled(text, scale):
    """Exact decimal string (or int) to an integer scaled by 10**scale."""
    text = str(text)
    whole, _, frac = text.partition(".")
    assert len(frac) <= scale, text
    return int(whole + frac.ljust(scale, "0"))


def s16(b):
    return struct.pack(">H", len(b)) + b


def commitment(ev):
    cur = ev["value"]["currency"]
    exp = EXPONENT.get(cur, 2)
    out = b"procured.bid.v1\x00"
    out += s16(ev["ocid"].encode()) + s16(ev["supplier"]["id"].encode())
    out += cur.encode() + struct.pack(">q", scaled(ev["value"]["amount"], exp))
    out += struct.pack(">I", len(ev["items"]))
    for it in ev["items"]:
        codes = ([it["classification"]] if "classification" in it else [])
        codes += it.get("additionalClassifications", [])
        out += s16(it["id"].encode()) + struct.pack(">H", len(codes))
        for c in codes:
            out += s16(("%s:%s" % (c["scheme"], c["id"])).encode())
        out += struct.pack(">q", scaled(it["quantity"], 3))
        out += struct.pack(">q", scaled(it["unitPrice"]["amount"], exp))
    out += bytes.fromhex(ev["nonce"])
    return hashlib.sha256(out).hexdigest()


def main():
    with open(sys.argv[2], encoding="utf-8") as f:
        ev = json.load(f)
    if sys.argv[1] == "commit":
        print(commitment(ev))
    else:
        print(hashlib.sha256(base64.b64decode(ev["publicKey"])).hexdigest())


if __name__ == "__main__":
    main()
