"""End-to-end test of procured's write and read paths: a whole
procurement (grants, plan, tender, sealed bids, award, contract,
amendment, delivery, payment) submitted as DSSE envelopes signed here,
every rejection path, and every receipt, proof, tile and checkpoint
checked with an implementation independent of proto/."""

import base64
import copy
import hashlib
import json
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from procured_test import (Daemon, Key, commitment, envelope, eq, finish,
                           iso, leaf_hash, make_bin, node_hash, ok,
                           open_checkpoint, verify_consistency,
                           verify_inclusion)

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "docs",
                        "examples")


def example(kind):
    with open(os.path.join(EXAMPLES, kind + ".json")) as f:
        return json.load(f)


d = Daemon()
try:
    d.start()
    st, log = d.get_json("/v1/log")
    eq(st, 200, "GET /v1/log")
    vkey = log["vkey"]
    ok(vkey.startswith(d.origin + "+"), "vkey names the origin")
    st, cp = d.get("/checkpoint")
    origin, size, root = open_checkpoint(cp.decode(), vkey)
    eq((origin, size), (d.origin, 0), "empty log's checkpoint verifies")
    eq(root, hashlib.sha256(b"").digest(), "empty root is SHA-256('')")
    eq(d.last_headers.get("Cache-Control"), "no-store",
       "checkpoint is not cached")

    receipts = []

    def submit_ok(env, what, status=201):
        st, r = d.submit(env)
        if not ok(st == status and isinstance(r, dict) and "index" in r,
                  "%s: %d" % (what, status)):
            print("#   %s %s" % (st, r))
            return None
        # The receipt proves itself: checkpoint signature, inclusion.
        o, size, root = open_checkpoint(r["checkpoint"], vkey)
        raw = base64.b64decode(d.get_json("/v1/entries/%d" %
                                          r["index"])[1]["entry"])
        lh = leaf_hash(raw)
        ok(lh.hex() == r["leaf_hash"] and size == r["tree_size"] and
           verify_inclusion(r["index"], size, lh,
                            [bytes.fromhex(h) for h in r["inclusion_proof"]],
                            root), "%s: receipt's proof verifies" % what)
        receipts.append(r)
        return r

    def submit_err(env, status, code, what):
        st, r = d.submit(env)
        good = st == status and isinstance(r, dict) and \
            r.get("error", {}).get("code") == code
        if not ok(good, "%s: %d %s" % (what, status, code)):
            print("#   got %s %s" % (st, r))

    admin = d.admin
    buyer, sup_a, sup_b, sup_c, payer = Key(), Key(), Key(), Key(), Key()
    BUYER, SA, SB, SC, PAYER = (make_bin(1000), make_bin(2000),
                                make_bin(3000), make_bin(4000),
                                make_bin(5000))

    def grant(k, party, roles, signer=None):
        g = example("key.grant")
        g.pop("validFrom", None)
        g.pop("validUntil", None)
        g["date"] = iso(time.time())
        g["party"] = {"id": party}
        g["roles"] = roles
        g["publicKey"] = base64.b64encode(k.pub).decode()
        return envelope(g, signer or admin)

    r = submit_ok(grant(buyer, BUYER, ["buyer"]), "key.grant by admin")
    again = d.submit(grant(buyer, BUYER, ["buyer"]))
    ok(again[0] in (200, 409), "a second grant of the same key is refused "
       "or deduplicated")
    first = grant(sup_a, SA, ["supplier"])
    logged_env = first
    r1 = submit_ok(first, "grant supplier A")
    st, r2 = d.submit(first)
    eq((st, r2.get("index")), (200, r1["index"]),
       "resubmitting an envelope returns the same receipt")
    submit_ok(grant(sup_b, SB, ["supplier"]), "grant supplier B")
    submit_ok(grant(sup_c, SC, ["supplier"]), "grant supplier C")
    submit_ok(grant(payer, PAYER, ["payer"]), "grant payer")
    submit_err(grant(Key(), SA, ["supplier"], signer=buyer), 403,
               "not_admin", "key.grant signed by a buyer")
    submit_err(grant(Key(), SA, ["supplier"], signer=Key()), 401,
               "unknown_key", "key.grant signed by an unknown key")

    ocid = "ocds-pr0kz1-2026-TST-0001"
    plan = example("plan")
    plan.update(ocid=ocid, date=iso(time.time()))
    plan["buyer"] = {"id": BUYER, "name": "Тест сатып алушы"}
    rp = submit_ok(envelope(plan, buyer), "plan")
    submit_err(envelope(plan, sup_a), 403, "unexpected_signer",
               "plan signed by a supplier")

    deadline = time.time() + 3
    tender = example("tender")
    tender.update(ocid=ocid, date=iso(time.time()), parent=rp["leaf_hash"])
    tender["buyer"] = plan["buyer"]
    tender["tenderPeriod"] = {"startDate": iso(time.time() - 60),
                              "endDate": iso(deadline)}
    rt = submit_ok(envelope(tender, buyer), "tender")
    wrong = copy.deepcopy(tender)
    wrong["buyer"] = {"id": SB}
    submit_err(envelope(wrong, buyer), 403, "unexpected_signer",
               "tender naming another buyer")
    orphan = copy.deepcopy(tender)
    orphan["parent"] = "ab" * 32
    submit_err(envelope(orphan, buyer), 409, "parent_not_found",
               "tender with an unknown parent")

    bid = example("bid.reveal")
    bids = {}
    for name, key, party, price in (("A", sup_a, SA, "27.90"),
                                    ("B", sup_b, SB, "28.10")):
        rv = copy.deepcopy(bid)
        rv.update(ocid=ocid, parent=rt["leaf_hash"])
        rv["supplier"] = {"id": party}
        rv["items"] = rv["items"][:1]
        rv["items"][0]["unitPrice"]["amount"] = price
        total = int(price.replace(".", "")) * rv["items"][0]["quantity"]
        rv["value"] = {"amount": "%d.%02d" % (total // 100, total % 100),
                       "currency": "KZT"}
        rv["nonce"] = os.urandom(32).hex()
        cm = example("bid.commit")
        cm.update(ocid=ocid, parent=rt["leaf_hash"], date=iso(time.time()))
        cm["supplier"] = {"id": party}
        cm["commitment"] = commitment(ocid, party, rv["value"], rv["items"],
                                      rv["nonce"])
        rc = submit_ok(envelope(cm, key), "bid.commit %s" % name)
        bids[name] = (key, rv, rc)
    early = copy.deepcopy(bids["A"][1])
    early["parent"] = bids["A"][2]["leaf_hash"]
    submit_err(envelope(early, sup_a), 409, "deadline_not_passed",
               "a reveal before the deadline")
    time.sleep(max(0, deadline - time.time()) + 0.2)
    late = example("bid.commit")
    late.update(ocid=ocid, parent=rt["leaf_hash"], date=iso(time.time()))
    late["supplier"] = {"id": SC}
    late["commitment"] = "cd" * 32
    submit_err(envelope(late, sup_c), 409, "deadline_passed",
               "a commitment after the deadline")
    key, rv, rc = bids["A"]
    rv["date"] = iso(time.time())
    rv["parent"] = rc["leaf_hash"]
    ra = submit_ok(envelope(rv, key), "bid.reveal A matches its commitment")
    key, rv, rc = bids["B"]
    forged = copy.deepcopy(rv)
    forged["date"] = iso(time.time())
    forged["parent"] = rc["leaf_hash"]
    forged["items"][0]["unitPrice"]["amount"] = "20.00"
    total = 2000 * forged["items"][0]["quantity"]
    forged["value"]["amount"] = "%d.00" % (total // 100)
    submit_err(envelope(forged, key), 409, "commitment_mismatch",
               "a reveal that does not match its commitment")

    award = example("award")
    award.update(ocid=ocid, parent=rt["leaf_hash"], date=iso(time.time()))
    award["buyer"] = plan["buyer"]
    award["suppliers"] = [{"id": SA}]
    award["items"] = copy.deepcopy(bids["A"][1]["items"])
    for it in award["items"]:
        it["description"] = "Amoxicillin 500 mg hard capsules"
        it.pop("relatedLot", None)
    award["value"] = bids["A"][1]["value"]
    award.pop("bids", None)
    rw = submit_ok(envelope(award, buyer), "award")

    contract = example("contract")
    contract.update(ocid=ocid, parent=rw["leaf_hash"], date=iso(time.time()))
    contract["buyer"] = plan["buyer"]
    contract["supplier"] = {"id": SA}
    contract["awardID"] = award["id"]
    contract["items"] = award["items"]
    contract["value"] = award["value"]
    contract.pop("milestones", None)
    submit_err(envelope(contract, buyer), 403, "missing_signer",
               "a contract signed by the buyer alone")
    submit_err(envelope(contract, buyer, sup_b), 403, "unexpected_signer",
               "a contract co-signed by the wrong supplier")
    other = copy.deepcopy(contract)
    other["awardID"] = "not-the-award"
    st, r = d.submit(envelope(other, buyer, sup_a))
    ok(st == 409 and r["error"]["code"] in ("bad_reference",
                                             "parent_mismatch"),
       "a contract naming another award: 409 (%s)" % r)
    rct = submit_ok(envelope(contract, buyer, sup_a),
                    "a contract signed by buyer and supplier")

    pay = example("payment")
    pay.update(ocid=ocid, parent=rct["leaf_hash"], date=iso(time.time()))
    pay["payer"] = {"id": PAYER}
    pay["payee"] = {"id": SA}
    pay["contractID"] = contract["id"]
    pay.pop("milestoneID", None)
    pay["value"] = {"amount": "1000.00", "currency": "KZT"}
    submit_ok(envelope(pay, payer), "payment by the payer")
    submit_err(envelope(pay, sup_a), 403, "unexpected_signer",
               "a payment signed by the supplier")

    # Envelope-level errors.
    good = envelope(pay, payer)
    bad = dict(good, payload="!!notbase64!!")
    st, r = d.submit(bad)
    eq(st, 400, "bad base64: 400")
    st, r = d.submit(b'{"payloadType": "x", "payloadType": "y"}')
    eq(st, 400, "duplicate JSON keys: 400")
    st, r = d.submit(b"{not json")
    eq(st, 400, "not JSON: 400")
    forged = copy.deepcopy(good)
    sig = bytearray(base64.b64decode(forged["signatures"][0]["sig"]))
    sig[0] ^= 1
    forged["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    submit_err(forged, 401, "bad_signature", "a forged signature")
    submit_err(envelope(pay, payer, ptype="text/plain"), 422,
               "bad_payload_type", "a foreign payloadType")
    st, r = d.submit(b"x" * 300000)
    eq(st, 413, "an oversized body: 413")

    # Revocation: the revoked key can sign nothing more.
    rk = example("key.revoke")
    rk["date"] = iso(time.time())
    rk["keyid"] = sup_b.keyid
    submit_ok(envelope(rk, admin), "key.revoke")
    cm = example("bid.commit")
    cm.update(ocid="ocds-pr0kz1-2026-TST-0002", parent=rt["leaf_hash"],
              date=iso(time.time()))
    cm["supplier"] = {"id": SB}
    submit_err(envelope(cm, sup_b), 403, "key_revoked",
               "a revoked key signs")

    # Reads: proofs, tiles, queries.
    st, cp = d.get("/checkpoint")
    origin, size, root = open_checkpoint(cp.decode(), vkey)
    eq(size, len({r["index"] for r in receipts}),
       "tree size counts every logged event")
    first = receipts[0]
    st, c = d.get_json("/v1/proof/consistency?first=%d&second=%d" %
                       (first["tree_size"], size))
    o1, s1, root1 = open_checkpoint(first["checkpoint"], vkey)
    ok(st == 200 and verify_consistency(
        s1, size, [bytes.fromhex(h) for h in c["proof"]], root1, root),
        "consistency proof from the first receipt to now")
    st, bundle = d.get("/tile/entries/000.p/%d" % size)
    eq(st, 200, "partial entry bundle")
    leaves, off = [], 0
    while off < len(bundle):
        n = struct.unpack(">H", bundle[off:off + 2])[0]
        leaves.append(leaf_hash(bundle[off + 2:off + 2 + n]))
        off += 2 + n
    eq(len(leaves), size, "the bundle holds every entry")

    def mth(ls):
        if len(ls) == 1:
            return ls[0]
        k = 1
        while k * 2 < len(ls):
            k *= 2
        return node_hash(mth(ls[:k]), mth(ls[k:]))
    eq(mth(leaves), root, "root recomputed from the entry bundle")
    st, tile = d.get("/tile/0/000.p/%d" % size)
    eq(tile, b"".join(leaves), "level-0 tile holds the leaf hashes")
    st, _ = d.get("/tile/0/001")
    eq(st, 404, "a tile beyond the tree: 404")
    st, proc = d.get_json("/v1/processes/" + ocid)
    eq([e["kind"] for e in proc["events"]],
       ["plan", "tender", "bid.commit", "bid.commit", "bid.reveal",
        "award", "contract", "payment"], "process chain in log order")
    st, gz = d.request("GET", "/v1/processes/" + ocid,
                       headers={"Accept-Encoding": "gzip"})
    import gzip
    ok(d.last_headers.get("Content-Encoding") == "gzip" and
       json.loads(gzip.decompress(gz)) == proc, "gzip when asked")
    st, b = d.request("GET", "/tile/entries/000.p/%d" % size,
                      headers={"Accept-Encoding": "gzip"})
    ok(d.last_headers.get("Content-Encoding") == "gzip" and
       gzip.decompress(b) == bundle, "entry bundles gzip too: %s %d" % (d.last_headers, len(b)))
    st, s = d.get_json("/v1/search?party=%s" % SA)
    ok(st == 200 and len(s["results"]) >= 4, "search by party")
    st, s = d.get_json("/v1/search?party=%s&kind=bid.reveal" % SA)
    eq([x["kind"] for x in s["results"]], ["bid.reveal"],
       "search by party and kind applies both")
    st, s = d.get_json("/v1/search?kind=contract&item=ATC:J01CA04&ocid=" +
                       ocid)
    eq([x["kind"] for x in s["results"]], ["contract"],
       "search by kind, item and ocid applies all three")
    st, pr = d.get_json("/v1/prices?item=ATC:J01CA04")
    eq((st, pr.get("median"), pr.get("count")), (200, "27.90", 1),
       "prices for amoxicillin from the contract")
    st, t = d.get_json("/v1/totals?by=buyer")
    eq(st, 200, "totals by buyer")
    st, m = d.get("/metrics")
    ok(b"procured_events_committed_total" in m, "metrics")
    st, _ = d.get("/v1/entries/999999")
    eq(st, 404, "missing entry: 404")
    st, e = d.get_json("/nope")
    eq((st, e["error"]["code"]), (404, "not_found"), "unknown route")

    # POST /v1/events/batch: one envelope a line, one answer a line.
    def batch(body, ctype="application/x-ndjson"):
        st, data = d.request("POST", "/v1/events/batch", body,
                             {"Content-Type": ctype})
        return st, data

    plans = []
    for i in range(3):
        p = example("plan")
        p.update(ocid="ocds-pr0kz1-2026-TST-B%03d" % i, date=iso(time.time()))
        p["buyer"] = {"id": BUYER, "name": "Batch buyer"}
        plans.append(json.dumps(envelope(p, buyer)))
    lines = plans + ['{"payloadType": 1}', "", json.dumps(logged_env), plans[0]]
    st, data = batch("\n".join(lines) + "\n")
    eq((st, d.last_headers.get("Content-Type")),
       (200, "application/x-ndjson"), "batch: 200, NDJSON")
    got = [json.loads(x) for x in data.decode().splitlines()]
    eq([g["status"] for g in got], [201, 201, 201, 400, 400, 200, 200],
       "batch: a status a line, in order (new, refused, empty, logged "
       "before, repeated in the batch)")
    eq((got[3]["error"]["code"], got[4]["error"]["code"]),
       ("wrong_type", "empty_body"), "batch: refused lines say why")
    eq(got[5]["receipt"]["index"], r1["index"],
       "batch: an envelope logged before gets its receipt")
    eq(got[6]["receipt"]["index"], got[0]["receipt"]["index"],
       "batch: the same envelope twice is logged once")
    eq(len({g["receipt"]["index"] for g in got[:3]}), 3,
       "batch: three new entries")
    for g in got[:3]:
        r = g["receipt"]
        o, n, rt = open_checkpoint(r["checkpoint"], vkey)
        raw = base64.b64decode(d.get_json("/v1/entries/%d" %
                                          r["index"])[1]["entry"])
        ok(leaf_hash(raw).hex() == r["leaf_hash"] and verify_inclusion(
            r["index"], n, leaf_hash(raw),
            [bytes.fromhex(h) for h in r["inclusion_proof"]], rt),
            "batch: receipt %d's proof verifies" % r["index"])
    st, data = batch("\n".join(lines), ctype="text/plain")
    eq((st, json.loads(data)["error"]["code"]),
       (415, "unsupported_media_type"), "batch: wrong Content-Type: 415")
    st, data = batch("")
    eq((st, json.loads(data)["error"]["code"]), (400, "empty_body"),
       "batch: empty body: 400")
    st, data = batch("x\n" * 513)
    eq((st, json.loads(data)["error"]["code"]), (413, "too_many_events"),
       "batch: more lines than max-batch-events: 413")
    st, data = batch(plans[1] + "\r\n" + plans[2])
    eq([json.loads(x)["status"] for x in data.decode().splitlines()],
       [200, 200], "batch: CRLF line ends and no final newline")
    st, cpb = d.get("/checkpoint")
    size = open_checkpoint(cpb.decode(), vkey)[1]

    eq(d.stop(), 0, "SIGTERM: exit status 0")
    d.start()
    st, cp2 = d.get("/checkpoint")
    eq(open_checkpoint(cp2.decode(), vkey)[1], size,
       "restart keeps every entry")
    eq(d.stop(), 0, "second stop")
finally:
    d.cleanup()
finish()
