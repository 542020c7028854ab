"""Bad-input suite: malformed and hostile requests against the real daemon,
each answered with the right status and error code, and the daemon still
healthy (and its log intact) after all of them.

Requests libevent refuses before they reach procured (a broken request
line, oversized headers or body, bad Content-Length, unknown methods) get
libevent's own HTML error page: for those only the status is checked.
Everything procured answers itself must be a JSON error with the code
listed here."""

import base64
import copy
import json
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procured_test import (PAYLOAD_TYPE, Daemon, Key, envelope, eq, example,
                           finish, grant_event, iso, make_bin, ok, pae,
                           plan_event)

CONF = """timeout = 1
request-deadline = 2
max-connections = 32
"""
HTML = "html"  # libevent's own error page: status only

d = Daemon(conf=CONF)
cases = []  # (name, status, code or HTML or None, got status, got code)


def jerr(data):
    try:
        return json.loads(data)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def raw(data, timeout=5, pace=None):
    """Send bytes on a fresh connection; (status, code, content type) of
    the answer, or (None, None, why) if the connection closed first."""
    s = socket.create_connection(("127.0.0.1", d.port))
    s.settimeout(timeout)
    out = b""
    try:
        if pace is None:
            s.sendall(data)
        else:
            for i in range(len(data)):
                s.sendall(data[i:i + 1])
                time.sleep(pace)
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
            head, sep, body = out.partition(b"\r\n\r\n")
            m = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
            if sep and m and len(body) >= int(m.group(1)):
                break
    except socket.timeout:
        return None, None, "timeout"
    except (BrokenPipeError, ConnectionResetError):
        if not out:
            return None, None, "reset"
    finally:
        s.close()
    if not out:
        return None, None, "closed"
    head, _, body = out.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    ct = re.search(rb"\r\ncontent-type: *([^\r;]*)", head, re.I)
    ct = ct.group(1).decode() if ct else ""
    return status, (jerr(body) if ct == "application/json" else HTML), ct


def check(name, want_status, want_code, got_status, got_code):
    cases.append(name)
    good = got_status == want_status and (want_code is None or
                                          got_code == want_code)
    if not ok(good, "%s: %s %s" % (name, want_status, want_code or "")):
        print("#   got %s %s" % (got_status, got_code))


def get(name, path, status, code):
    st, data = d.get(path)
    check(name, status, code, st, jerr(data))


def post(name, body, status, code, ctype="application/json", headers=None):
    if isinstance(body, dict):
        body = json.dumps(body)
    h = {"Content-Type": ctype} if ctype else {}
    h.update(headers or {})
    st, data = d.request("POST", "/v1/events", body, h)
    check(name, status, code, st, jerr(data))
    return st, data


def rawcase(name, data, status, code, **kw):
    st, c, _ = raw(data, **kw)
    check(name, status, code, st, c)


def req(method, target, headers=b"", body=b"", version=b"HTTP/1.1"):
    return (method + b" " + target + b" " + version + b"\r\nHost: x\r\n" +
            headers + b"\r\n" + body)


def b64(b):
    return base64.b64encode(b).decode()


def env_raw(payload_bytes, *keys, ptype=PAYLOAD_TYPE):
    return {"payloadType": ptype, "payload": b64(payload_bytes),
            "signatures": [{"keyid": k.keyid,
                            "sig": b64(k.sign(pae(ptype, payload_bytes)))}
                           for k in keys]}


try:
    d.start()
    admin = d.admin
    buyer, sup, gone, payer = Key(), Key(), Key(), Key()
    BUYER, SUP, GONE, PAYER = (make_bin(1100), make_bin(2200),
                               make_bin(3300), make_bin(5500))
    setup = [envelope(grant_event(buyer, BUYER, ["buyer"]), admin),
             envelope(grant_event(sup, SUP, ["supplier"]), admin),
             envelope(grant_event(gone, GONE, ["buyer"]), admin),
             envelope(grant_event(payer, PAYER, ["payer"]), admin)]
    for e in setup:
        st, r = d.submit(e)
        ok(st == 201, "setup: grant")
    rk = example("key.revoke")
    rk["date"] = iso(time.time())
    rk["keyid"] = gone.keyid
    st, _ = d.submit(envelope(rk, admin))
    ok(st == 201, "setup: revoke a key")
    OCID = "ocds-pr0kz1-2026-BAD-0001"
    plan = plan_event(OCID, BUYER)
    good_plan = envelope(plan, buyer)
    st, rplan = d.submit(good_plan)
    ok(st == 201, "setup: a plan")
    tender = example("tender")
    tender.update(ocid=OCID, date=iso(time.time()),
                  parent=rplan["leaf_hash"])
    tender["buyer"] = plan["buyer"]
    tender["tenderPeriod"] = {"startDate": iso(time.time() - 60),
                              "endDate": iso(time.time() + 86400)}
    st, rtender = d.submit(envelope(tender, buyer))
    ok(st == 201, "setup: a tender")
    st, before = d.get("/checkpoint")

    # ---- HTTP framing (libevent answers these itself) ----
    rawcase("garbage request line", b"GARBAGE\r\n\r\n", 400, HTML)
    rawcase("request line without version", b"GET /v1/log\r\n\r\n", 400,
            HTML)
    rawcase("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, HTML)
    rawcase("unknown version", req(b"GET", b"/v1/log", version=b"HTTP/9.9"),
            400, HTML)
    rawcase("DELETE", req(b"DELETE", b"/v1/log"), 501, HTML)
    rawcase("PUT on /v1/events", req(b"PUT", b"/v1/events",
                                     b"Content-Length: 0\r\n"), 501, HTML)
    rawcase("OPTIONS *", req(b"OPTIONS", b"*"), 501, HTML)
    rawcase("lower-case method", req(b"get", b"/v1/log"), 501, HTML)
    rawcase("a 20 KB header", req(b"GET", b"/v1/log",
                                  b"X-A: " + b"a" * 20000 + b"\r\n"),
            400, HTML)
    rawcase("2,000 small headers", req(b"GET", b"/v1/log", b"".join(
        b"X-%d: y\r\n" % i for i in range(2000))), 400, HTML)
    rawcase("a 20 KB request target", req(b"GET", b"/v1/log?" +
                                          b"a" * 20000), 400, HTML)
    rawcase("header line without colon",
            req(b"GET", b"/v1/log", b"NoColonHere\r\n"), 400, HTML)
    rawcase("Content-Length not a number",
            req(b"POST", b"/v1/events", b"Content-Length: abc\r\n"),
            400, HTML)
    rawcase("negative Content-Length",
            req(b"POST", b"/v1/events", b"Content-Length: -5\r\n"),
            400, HTML)
    rawcase("Content-Length over the limit",
            req(b"POST", b"/v1/events", b"Content-Length: 200000\r\n"),
            413, HTML)
    rawcase("Content-Length 2^64",
            req(b"POST", b"/v1/events",
                b"Content-Length: 18446744073709551616\r\n"), 413, HTML)
    rawcase("bad chunk size",
            req(b"POST", b"/v1/events", b"Transfer-Encoding: chunked\r\n",
                b"zz\r\n"), 413, HTML)
    rawcase("chunked body over the limit",
            req(b"POST", b"/v1/events",
                b"Transfer-Encoding: chunked\r\n",
                b"".join(b"8000\r\n" + b"a" * 0x8000 + b"\r\n"
                         for _ in range(6)) + b"0\r\n\r\n"), 413, HTML)
    rawcase("raw NUL in the request target",
            req(b"GET", b"/v1/\x00log"), 400, HTML)

    # ---- request targets procured parses ----
    rawcase("absolute-form target", req(b"GET", b"http://x/v1/log"), 200,
            None)
    rawcase("HTTP/1.0 without Host", b"GET /v1/log HTTP/1.0\r\n\r\n", 200,
            None)
    rawcase("escaped NUL in the path", req(b"GET", b"/v1/%00log"), 400,
            "bad_request")
    rawcase("invalid UTF-8 in the path", req(b"GET", b"/nope%ff%fe"), 404,
            "not_found")
    rawcase("raw invalid UTF-8 in the path", req(b"GET", b"/nope\xff"),
            404, "not_found")
    rawcase("invalid UTF-8 ocid", req(b"GET", b"/v1/processes/%c0%af"),
            404, "not_found")
    rawcase("unknown route", req(b"GET", b"/v2/log"), 404, "not_found")
    rawcase("POST on a read route", req(b"POST", b"/v1/log",
                                        b"Content-Length: 0\r\n"),
            405, "method_not_allowed")
    rawcase("GET on /v1/events", req(b"GET", b"/v1/events"), 405,
            "method_not_allowed")
    get("dot segments in a tile path", "/tile/../checkpoint", 404,
        "bad_tile_path")
    get("tile level 9", "/tile/9/000", 404, "not_found")
    get("tile width 0", "/tile/0/000.p/0", 404, "bad_tile_path")
    get("tile width 257", "/tile/0/000.p/257", 404, "bad_tile_path")
    get("tile index not zero-padded", "/tile/0/1", 404, "bad_tile_path")
    get("tile index negative", "/tile/0/-01", 404, "bad_tile_path")
    get("tile beyond the tree", "/tile/0/x001/000", 404, "not_found")
    get("bundle wider than the tree", "/tile/entries/000.p/200", 404,
        "not_found")
    get("entry index not a number", "/v1/entries/abc", 400, "bad_index")
    get("entry index negative", "/v1/entries/-1", 400, "bad_index")
    get("entry index with a leading zero", "/v1/entries/01", 400,
        "bad_index")
    get("entry index with a sign", "/v1/entries/+1", 400, "bad_index")
    get("entry index 2^64", "/v1/entries/18446744073709551616", 400,
        "bad_index")
    get("entry index 2^64-1", "/v1/entries/18446744073709551615", 404,
        "not_found")
    get("entry index empty", "/v1/entries/", 400, "bad_index")
    get("entry index with spaces", "/v1/entries/%201", 400, "bad_index")
    get("inclusion without index", "/v1/proof/inclusion", 400, "bad_query")
    get("inclusion index not a number", "/v1/proof/inclusion?index=x",
        400, "bad_query")
    get("inclusion index 2^64", "/v1/proof/inclusion?index="
        "18446744073709551616", 400, "bad_query")
    get("inclusion tree_size 0", "/v1/proof/inclusion?index=0&tree_size=0",
        404, "not_found")
    get("inclusion past the tree", "/v1/proof/inclusion?index=0&"
        "tree_size=18446744073709551615", 404, "not_found")
    get("inclusion leaf_hash not hex", "/v1/proof/inclusion?leaf_hash=zz",
        400, "bad_query")
    get("inclusion unknown leaf_hash", "/v1/proof/inclusion?leaf_hash=" +
        "ab" * 32, 404, "not_found")
    get("inclusion index given twice",
        "/v1/proof/inclusion?index=0&index=1", 400, "bad_query")
    get("consistency first 0", "/v1/proof/consistency?first=0&second=1",
        400, "bad_query")
    get("consistency first > second",
        "/v1/proof/consistency?first=3&second=2", 400, "bad_query")
    get("consistency without first", "/v1/proof/consistency?second=2",
        400, "bad_query")
    get("consistency past the tree",
        "/v1/proof/consistency?first=1&second=18446744073709551615", 404,
        "not_found")
    get("consistency negative", "/v1/proof/consistency?first=-1&second=2",
        400, "bad_query")
    get("query string without values", "/v1/proof/consistency?&&&", 400,
        "bad_query")
    get("search without a filter", "/v1/search", 400, "bad_query")
    get("search limit 0", "/v1/search?kind=plan&limit=0", 400, "bad_query")
    get("search limit 1001", "/v1/search?kind=plan&limit=1001", 400,
        "bad_query")
    get("search limit 2^64", "/v1/search?kind=plan&limit="
        "18446744073709551616", 400, "bad_query")
    get("search bad cursor", "/v1/search?kind=plan&cursor=zz", 400,
        "bad_query")
    get("search bad from", "/v1/search?kind=plan&from=yesterday", 400,
        "bad_query")
    get("search from 2026-02-30", "/v1/search?kind=plan&from=2026-02-30",
        400, "bad_query")
    get("search party of 600 bytes", "/v1/search?party=" + "K" * 600, 400,
        "bad_query")
    get("search kind given twice", "/v1/search?kind=plan&kind=award", 400,
        "bad_query")
    get("process ocid of 600 bytes", "/v1/processes/" + "o" * 600, 400,
        "bad_ocid")
    get("process ocid with a slash", "/v1/processes/a/b", 400, "bad_ocid")
    get("process ocid empty", "/v1/processes/", 400, "bad_ocid")
    get("prices without item", "/v1/prices", 400, "bad_query")
    get("prices item without scheme", "/v1/prices?item=J01CA04", 400,
        "bad_query")
    get("prices item of 600 bytes", "/v1/prices?item=ATC:" + "J" * 600,
        404, "not_found")
    get("totals party of 600 bytes", "/v1/totals?by=buyer&party=" +
        "K" * 600, 200, None)
    get("search party empty", "/v1/search?party=", 400, "bad_query")
    get("search kind of 600 bytes", "/v1/search?kind=" + "k" * 600, 400,
        "bad_query")
    get("65 query parameters", "/v1/search?" + "&".join(
        "p%d=1" % i for i in range(65)), 400, "bad_query")
    get("totals by nothing", "/v1/totals?by=zz", 400, "bad_query")
    get("totals bad to", "/v1/totals?by=buyer&to=2026-13-01", 400,
        "bad_query")

    # ---- the body of POST /v1/events ----
    post("empty body", b"", 400, "empty_body")
    post("text/plain", json.dumps(good_plan), 415, "unsupported_media_type",
         ctype="text/plain")
    post("multipart/form-data", json.dumps(good_plan), 415,
         "unsupported_media_type", ctype="multipart/form-data; boundary=x")
    post("not JSON", b"{not json", 400, "bad_json")
    post("truncated JSON", json.dumps(good_plan)[:-10], 400, "bad_json")
    post("a JSON array", b"[]", 400, "not_object")
    post("a JSON string", b'"x"', 400, "bad_json")
    post("JSON null", b"null", 400, "bad_json")
    post("two JSON documents", b"{}{}", 400, "bad_json")
    post("duplicate keys", b'{"payloadType": "x", "payloadType": "y"}',
         400, "duplicate_key")
    post("invalid UTF-8", b'{"payloadType": "\xff\xfe", "payload": "", '
         b'"signatures": []}', 400, "bad_utf8")
    post("overlong UTF-8", b'{"payloadType": "\xc0\xaf"}', 400, "bad_utf8")
    post("UTF-16 surrogate escape", b'{"payloadType": "\\ud800"}', 400,
         "bad_json")
    post("raw NUL byte", b'{"payloadType": "a\x00b"}', 400, "bad_json")
    post("escaped NUL", b'{"payloadType": "a\\u0000b", "payload": "", '
         b'"signatures": []}', 400, "bad_json")
    post("10,000 nested arrays", b"[" * 10000 + b"]" * 10000, 400,
         "bad_json")
    post("nesting in an unknown member",
         b'{"x": ' + b"[" * 100 + b"]" * 100 + b"}", 400, "unknown_field")
    post("unknown member", dict(good_plan, extra=1), 400, "unknown_field")
    e = dict(good_plan)
    del e["payload"]
    post("missing payload", e, 400, "missing")
    e = dict(good_plan)
    del e["payloadType"]
    post("missing payloadType", e, 400, "missing")
    e = dict(good_plan)
    del e["signatures"]
    post("missing signatures", e, 400, "missing")
    post("payload a number", dict(good_plan, payload=5), 400, "wrong_type")
    post("signatures an object", dict(good_plan, signatures={}), 400,
         "wrong_type")
    post("no signatures", dict(good_plan, signatures=[]), 400, "empty")
    post("17 signatures", dict(good_plan,
                               signatures=good_plan["signatures"] * 17),
         400, "too_many")
    post("a signature not an object", dict(good_plan, signatures=[1]), 400,
         "wrong_type")
    post("a signature without sig", dict(good_plan, signatures=[
        {"keyid": buyer.keyid}]), 400, "missing")
    post("payload not base64", dict(good_plan, payload="!!"), 400,
         "bad_base64")
    post("payload base64 with a newline",
         dict(good_plan, payload=good_plan["payload"][:8] + "\n" +
              good_plan["payload"][8:]), 400, "bad_base64")
    post("payload base64 bad padding",
         dict(good_plan, payload=b64(b"ab") + "="), 400, "bad_base64")
    sg = copy.deepcopy(good_plan)
    sg["signatures"][0]["sig"] = "***"
    post("sig not base64", sg, 400, "bad_base64")
    sg = copy.deepcopy(good_plan)
    sg["signatures"][0]["keyid"] = "k" * 300
    post("keyid of 300 bytes", sg, 400, "too_long")
    post("payloadType not ours", envelope(plan, buyer, ptype="text/plain"),
         422, "bad_payload_type")
    post("body over max-body", b"x" * 200000, 413, None)
    big = plan_event("ocds-pr0kz1-2026-BAD-BIG", BUYER)
    big["rationale"] = "r" * 70000
    post("payload over 65,536 bytes", envelope(big, buyer), 413,
         "too_large")
    big["rationale"] = ""
    big["rationale"] = "r" * (65530 - len(json.dumps(big).encode()))
    post("envelope over 65,526 bytes", envelope(big, buyer), 413,
         "too_large")

    # ---- the event inside the envelope ----
    def ev(name, mutate, status, code, signer=None):
        p = plan_event("ocds-pr0kz1-2026-BAD-%04d" % len(cases), BUYER)
        body = mutate(p)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        post(name, env_raw(body, signer or buyer), status, code)

    def setk(k, v):
        def f(p):
            p[k] = v
            return p
        return f

    def item0(k, v):
        def f(p):
            p["items"][0][k] = v
            return p
        return f

    ev("payload not JSON", lambda p: b"plan", 400, "bad_json")
    ev("payload duplicate keys", lambda p: b'{"kind":"plan","kind":"plan"}',
       400, "duplicate_key")
    ev("payload invalid UTF-8",
       lambda p: json.dumps(p).encode().replace(b"Test buyer", b"\xff\xfe"),
       400, "bad_json")
    ev("payload 17 levels deep", setk("x", json.loads(
        "[" * 17 + "]" * 17)), 400, "too_deep")
    ev("payload an array", lambda p: [p], 422, None)
    ev("payload unknown field", setk("surprise", 1), 422, "unknown_field")
    ev("payload unknown kind", setk("kind", "bribe"), 422, None)
    ev("payload schema 2", setk("schema", 2), 422, None)
    ev("payload without ocid", lambda p: {k: v for k, v in p.items()
                                          if k != "ocid"}, 422,
       "missing_field")
    ev("payload ocid with a newline", setk("ocid", "ocds-a\nb"), 422, None)
    ev("payload ocid of 600 bytes", setk("ocid", "ocds-" + "a" * 600), 422,
       None)
    ev("payload date not RFC 3339", setk("date", "yesterday"), 422,
       "bad_date")
    ev("payload date 2026-02-30", setk("date", "2026-02-30T00:00:00Z"), 422,
       "bad_date")
    ev("payload date with an offset", setk("date",
                                           "2026-01-01T00:00:00+05:00"),
       422, "bad_date")
    ev("payload date year 99999", setk("date", "99999-01-01T00:00:00Z"),
       422, "bad_date")
    ev("payload BIN with a bad check digit",
       setk("buyer", {"id": BUYER[:-1] + str((int(BUYER[-1]) + 1) % 10)}),
       422, "bad_bin")
    ev("payload quantity 1e400", lambda p: json.dumps(p).replace(
        '"quantity": 1200000', '"quantity": 1e400').encode(), 400,
       "bad_json")
    ev("payload quantity 2^64", item0("quantity", 2 ** 64), 400, "bad_json")
    ev("payload quantity 2^63", item0("quantity", 2 ** 63 - 1), 422, None)
    ev("payload quantity negative", item0("quantity", -1), 422, None)
    ev("payload quantity with 4 decimals", item0("quantity", "1.0005"),
       422, "too_many_decimals")
    ev("payload quantity an object", item0("quantity", {}), 422,
       "bad_type")
    ev("payload quantity true", item0("quantity", True), 422, "bad_type")
    ev("payload amount a number", setk("value", {"amount": 12.5,
                                                 "currency": "KZT"}),
       422, "bad_money")
    ev("payload amount with 3 decimals",
       setk("value", {"amount": "1.005", "currency": "KZT"}), 422,
       "too_many_decimals")
    ev("payload amount 10^20",
       setk("value", {"amount": "1" + "0" * 20, "currency": "KZT"}), 422,
       "money_overflow")
    ev("payload amount in exponent form",
       setk("value", {"amount": "1e5", "currency": "KZT"}), 422,
       "bad_money")
    ev("payload amount negative",
       setk("value", {"amount": "-5.00", "currency": "KZT"}), 422, None)
    ev("payload currency unknown",
       setk("value", {"amount": "5.00", "currency": "XYZ1"}), 422,
       "bad_currency")
    ev("payload name of 10,000 bytes",
       setk("buyer", {"id": BUYER, "name": "n" * 10000}), 422, "bad_string")
    ev("payload control character in a name",
       setk("buyer", {"id": BUYER, "name": "a\u0007b"}), 422, "bad_string")
    ev("payload no items", setk("items", []), 422, "empty_array")
    ev("payload with a parent (a plan has none)", setk("parent", "ab" * 32),
       422, "unknown_field")

    # ---- signatures, keys and parties ----
    pl = plan_event("ocds-pr0kz1-2026-BAD-SIG1", BUYER)
    body = json.dumps(pl).encode()
    f = env_raw(body, buyer)
    s = bytearray(base64.b64decode(f["signatures"][0]["sig"]))
    s[10] ^= 0x40
    f["signatures"][0]["sig"] = b64(bytes(s))
    post("forged signature (a bit flipped)", f, 401, "bad_signature")
    f = env_raw(body, buyer)
    f["signatures"][0]["sig"] = b64(b"\x00" * 64)
    post("all-zero signature", f, 401, "bad_signature")
    f = env_raw(body, buyer)
    f["signatures"][0]["sig"] = b64(b"\x01" * 10)
    post("10-byte signature", f, 401, "bad_signature")
    other = env_raw(json.dumps(plan_event("ocds-pr0kz1-2026-BAD-SIG2",
                                          BUYER)).encode(), buyer)
    f = env_raw(body, buyer)
    f["signatures"] = other["signatures"]
    post("a signature replayed from another envelope", f, 401,
         "bad_signature")
    f = env_raw(body, buyer)
    f["signatures"] = good_plan["signatures"]
    post("the logged plan's signature on a new payload", f, 401,
         "bad_signature")
    f = env_raw(body, buyer)
    f["payloadType"] = PAYLOAD_TYPE + " "
    post("a signature over another payloadType", f, 422, "bad_payload_type")
    f = env_raw(body, buyer)
    f["signatures"][0]["keyid"] = sup.keyid
    post("the buyer's signature under the supplier's keyid", f, 401,
         "bad_signature")
    f = env_raw(body, buyer)
    del f["signatures"][0]["keyid"]
    post("a signature without keyid", f, 401, "unknown_key")
    f = env_raw(body, buyer)
    f["signatures"][0]["keyid"] = ""
    post("a signature with an empty keyid", f, 401, "unknown_key")
    post("a signature by an unknown key", env_raw(body, Key()), 401,
         "unknown_key")
    gp = plan_event("ocds-pr0kz1-2026-BAD-GONE", GONE)
    post("a signature by a revoked key", envelope(gp, gone), 403,
         "key_revoked")
    post("a plan signed by a supplier", env_raw(body, sup), 403,
         "unexpected_signer")
    post("a plan signed by buyer and supplier", env_raw(body, buyer, sup),
         403, "unexpected_signer")
    post("a plan signed twice by the buyer (allowed)",
         env_raw(body, buyer, buyer), 201, None)
    post("a plan naming another buyer",
         envelope(plan_event("ocds-pr0kz1-2026-BAD-OTHR", PAYER), buyer),
         403, "unexpected_signer")
    post("a plan for an existing process", envelope(
        dict(plan_event(OCID, BUYER), title="again"), buyer), 409,
        "process_exists")
    post("a key.grant by a buyer", envelope(grant_event(
        Key(), SUP, ["supplier"]), buyer), 403, "not_admin")
    post("a key.grant of a granted key", envelope(grant_event(
        buyer, BUYER, ["buyer"]), admin), 409, "key_exists")
    rv = example("key.revoke")
    rv["date"] = iso(time.time())
    rv["keyid"] = Key().keyid
    post("revoking an unknown key", envelope(rv, admin), 409, "unknown_key")
    rv["keyid"] = gone.keyid
    post("revoking a revoked key", envelope(rv, admin), 409, "key_revoked")
    post("a tender whose parent is not hex",
         envelope(dict(tender, parent="zz"), buyer), 422, "bad_hex")
    t2 = dict(tender, parent="ab" * 32, date=iso(time.time()))
    post("a tender with an unknown parent", envelope(t2, buyer), 409,
         "parent_not_found")
    aw = example("award")
    aw.update(ocid=OCID, parent=rplan["leaf_hash"], date=iso(time.time()))
    aw["buyer"] = plan["buyer"]
    aw["suppliers"] = [{"id": SUP}]
    aw.pop("bids", None)
    post("an award following the plan", envelope(aw, buyer), 409,
         "bad_transition")
    other_plan = plan_event("ocds-pr0kz1-2026-BAD-0002", BUYER)
    st, rother = d.submit(envelope(other_plan, buyer))
    t3 = dict(tender, parent=rother["leaf_hash"], date=iso(time.time()))
    post("a tender whose parent is another process's", envelope(t3, buyer),
         409, "foreign_parent")
    cm = example("bid.commit")
    cm.update(ocid=OCID, parent=rtender["leaf_hash"], date=iso(time.time()))
    cm["supplier"] = {"id": BUYER}
    post("a bid.commit naming a buyer as supplier", envelope(cm, buyer),
         403, None)
    st, r1 = post("the logged plan again", good_plan, 200, None)
    eq(json.loads(r1).get("index"), rplan["index"],
       "the replayed envelope gets its first receipt")

    # ---- slow and idle clients (timeout 1 s, request-deadline 2 s) ----
    t0 = time.time()
    st, c, why = raw(b"GET /v1/log HTTP/1.1\r\nHost: x\r\n", timeout=8)
    check("headers never finished: closed", None, None, st, None)
    ok(time.time() - t0 < 5, "  ... within the timeout (%.1f s)" %
       (time.time() - t0))
    t0 = time.time()
    st, c, why = raw(b"GET /v1/log HTTP/1.1\r\nHost: x\r\nX-Slow: " +
                     b"s" * 40, timeout=10, pace=0.1)
    check("a header sent a byte every 100 ms: cut off", None, None, st, None)
    ok(time.time() - t0 < 8, "  ... by the request deadline (%.1f s)" %
       (time.time() - t0))
    t0 = time.time()
    st, c, why = raw(req(b"POST", b"/v1/events",
                         b"Content-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n", b"{\"pay"), timeout=8)
    check("a body shorter than its Content-Length: closed", None, None, st,
          None)
    ok(time.time() - t0 < 5, "  ... within the timeout (%.1f s)" %
       (time.time() - t0))
    # Every connection slot held by idle clients: others wait, then
    # are served once the idle ones time out.
    idle = [socket.create_connection(("127.0.0.1", d.port))
            for _ in range(40)]
    t0 = time.time()
    st, _ = d.request("GET", "/healthz", timeout=15)
    check("40 idle connections (cap 32): /healthz still answered", 200,
          None, st, None)
    ok(time.time() - t0 < 8, "  ... in %.1f s" % (time.time() - t0))
    for s in idle:
        s.close()
    # Half a request, then the client goes away.
    for i in range(20):
        s = socket.create_connection(("127.0.0.1", d.port))
        s.sendall(req(b"POST", b"/v1/events",
                      b"Content-Type: application/json\r\n"
                      b"Content-Length: 5000\r\n", b"{" * (i * 10)))
        s.close()
    ok(True, "20 clients hang up mid-body")

    # ---- still healthy, and nothing logged by any of the above ----
    st, h = d.get_json("/healthz")
    eq((st, h.get("status")), (200, "ok"), "healthy after %d bad requests" %
       len(cases))
    st, after = d.get("/checkpoint")
    eq(json.loads(d.get("/v1/log")[1])["tree_size"], rother["index"] + 1,
       "no bad request added an entry")
    st, r = d.submit(envelope(plan_event("ocds-pr0kz1-2026-BAD-LAST",
                                         BUYER), buyer))
    eq(st, 201, "a good submission still works")
    st, m = d.get("/metrics")
    ok(st == 200 and b"procured_http_requests_total" in m, "metrics answer")
    ok(len(cases) >= 100, "%d bad requests (at least 100)" % len(cases))
    eq(d.stop(), 0, "SIGTERM: exit status 0")
finally:
    d.cleanup()
finish()
