"""tools/demo.py against a real procured: the year it generates is
accepted event by event, and the numbers it reports (log size, events by
kind, processes, contracted and paid totals by buyer, the planted
anomalies' entries, the refused late commitment) match what the log
serves.  Also: keys are created private and reused, the plan is the same
for the same seed, and a second load into a non-empty log is refused."""

import datetime
import decimal
import json
import os
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from procured_test import (Daemon, Key, eq, finish, ok,  # noqa: E402
                           open_checkpoint)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DEMO = os.path.join(ROOT, "tools", "demo.py")
sys.path.insert(0, os.path.join(ROOT, "tools"))
import demo  # noqa: E402


def run_demo(*args):
    return subprocess.run(["/usr/bin/python3", DEMO] + list(args),
                          capture_output=True, text=True)


def log_ms(s):
    """RFC 3339 to Unix milliseconds."""
    t = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    return round(t.timestamp() * 1000)


def month(ms):
    return datetime.datetime.fromtimestamp(
        ms // 1000, datetime.timezone.utc).strftime("%Y-%m")


def minor(amount, exp):
    return int(decimal.Decimal(amount).scaleb(exp))


def code(it):
    return "%s:%s" % (it["classification"]["scheme"],
                      it["classification"]["id"])


def priced(it):
    return "classification" in it and "unitPrice" in it and \
        "quantity" in it


def expected_totals(events, exps, by, frm=0, to=None, party=None,
                    item=None):
    """/v1/totals recomputed from the entries: the contracts and their
    amendments dated in [frm, to) applied in log order (a contract's
    latest version in the period wins; its month is the contract's own),
    then the payments dated in it, grouped by `by`."""
    con = {}
    pays = []

    def inside(e):
        ms = log_ms(e["date"])
        return ms >= frm and (to is None or ms < to)

    def key(e):
        return "%s/%s" % (e["ocid"], e.get("contractID") or e.get("id", ""))
    for e in events:
        if e["kind"] not in ("contract", "contract.amend", "payment") or \
                "value" not in e or not inside(e):
            continue
        if e["kind"] == "payment":
            pays.append(e)
            continue
        c = con.setdefault(key(e), {"buyer": "", "supplier": "",
                                    "funding": "", "month": ""})
        for f, k in (("buyer", "buyer"), ("supplier", "supplier")):
            if e.get(f, {}).get("id"):
                c[k] = e[f]["id"]
        if e.get("fundingSource"):
            c["funding"] = e["fundingSource"]
        if e["kind"] == "contract":
            c["month"] = month(log_ms(e["date"]))
        cur = e["value"]["currency"]
        c["value"] = (cur, minor(e["value"]["amount"], exps[cur]))
        if e.get("items"):
            c["items"] = e["items"]
    rows = {}

    def add(k, cur, field, v):
        r = rows.setdefault((k or "unknown", cur), [0, 0, 0, 0])
        r[field] += v
        r[field + 2] += 1

    def mine(c):
        return (party is None or party in (c["buyer"], c["supplier"])) \
            and (item is None or any(priced(it) and code(it) == item
                                     for it in c.get("items", [])))
    for c in con.values():
        if not mine(c):
            continue
        if by == "item":
            for it in c.get("items", []):
                if not priced(it) or item not in (None, code(it)):
                    continue
                cur = it["unitPrice"]["currency"]
                price = minor(it["unitPrice"]["amount"], exps[cur])
                qty = decimal.Decimal(str(it["quantity"]))
                line = int((price * qty).quantize(
                    decimal.Decimal(1), decimal.ROUND_HALF_UP))
                add(code(it), cur, 0, line)
        else:
            cur, v = c["value"]
            add(c[by], cur, 0, v)
    for e in pays:
        if by == "item":
            break
        c = con.get(key(e))
        if (party is not None or item is not None) and \
                (c is None or not mine(c)):
            continue
        g = {"buyer": e.get("buyer", {}).get("id"),
             "supplier": e.get("payee", {}).get("id"),
             "funding": e.get("fundingSource"),
             "month": month(log_ms(e["date"]))}[by]
        if not g and c is not None and by != "month":
            g = c[by]
        cur = e["value"]["currency"]
        add(g, cur, 1, minor(e["value"]["amount"], exps[cur]))
    return {k: (v[0], v[1], v[2], v[3]) for k, v in rows.items()}


def served_totals(d, query, exps):
    st, t = d.get_json("/v1/totals?" + query)
    if st != 200:
        return st, None, False
    got = {(r["key"], r["currency"]):
           (minor(r["contracted"], exps[r["currency"]]),
            minor(r["paid"], exps[r["currency"]]), r["contracts"],
            r["payments"]) for r in t["rows"]}
    amounts = [g[0] for g in (got[(r["key"], r["currency"])]
                              for r in t["rows"])]
    return st, got, amounts == sorted(amounts, reverse=True)


def count_kind(d, kind):
    n, cursor = 0, None
    while True:
        q = "/v1/search?kind=%s&limit=1000" % kind
        if cursor:
            q += "&cursor=" + cursor
        st, r = d.get_json(q)
        if st != 200:
            return -1
        n += len(r["results"])
        cursor = r.get("next_cursor")
        if not cursor:
            return n


d = Daemon(origin="demo.procured.example/log")
try:
    keys = os.path.join(d.tmp, "keys")
    r = run_demo("--keys", keys, "--init-only")
    eq(r.returncode, 0, "demo --init-only")
    admin = Key.load(os.path.join(keys, "admin.key"))
    eq(r.stdout.strip(), admin.vkey("admin"), "--init-only prints the "
       "admin verifier key")
    with open(os.path.join(keys, "admin.vkey")) as f:
        eq(f.read().strip(), admin.vkey("admin"), "admin.vkey written")
    eq(stat.S_IMODE(os.stat(keys).st_mode), 0o700, "key directory 0700")
    modes = {stat.S_IMODE(os.stat(os.path.join(keys, f)).st_mode)
             for f in os.listdir(keys) if f.endswith(".key")}
    eq(modes, {0o600}, "private keys 0600")
    eq(len([f for f in os.listdir(keys) if f.endswith(".key")]),
       1 + len(demo.ORGS), "admin and one key an organization")

    d.admins = [admin]
    d.start()
    summ = os.path.join(d.tmp, "summary.json")
    r = run_demo("--keys", keys, "--server", "http://127.0.0.1:%d" % d.port,
                 "--seed", "7", "--summary", summ)
    if not ok(r.returncode == 0, "demo loads a year"):
        print("# " + (r.stdout + r.stderr)[-2000:].replace("\n", "\n# "))
        raise SystemExit(1)
    with open(summ) as f:
        s = json.load(f)

    st, log = d.get_json("/v1/log")
    origin, size, root = open_checkpoint(log["checkpoint"], log["vkey"])
    eq(size, s["tree_size"], "log size matches the summary")
    eq(s["events"], s["tree_size"], "every event logged once")
    ok(40 <= s["processes"] <= 80, "40 to 80 processes (%d)" %
       s["processes"])
    kinds = {k: count_kind(d, k) for k in s["by_kind"]}
    eq(kinds, s["by_kind"], "events by kind match the log")
    for k in ("plan", "tender", "bid.commit", "bid.reveal", "award",
              "contract", "contract.amend", "delivery", "payment",
              "tender.cancel", "tender.amend", "key.grant"):
        ok(s["by_kind"].get(k, 0) > 0, "the year has %s events" % k)
    eq(count_kind(d, "tender"), s["processes"], "one tender a process")
    eq(count_kind(d, "contract"), s["contracts"], "contracts")

    st, tot = d.get_json("/v1/totals?by=buyer")
    got_c = {r_["key"]: r_["contracted"] for r_ in tot["rows"]}
    got_p = {r_["key"]: r_["paid"] for r_ in tot["rows"]}
    eq(got_c, s["contracted"], "contracted by buyer matches /v1/totals")
    eq(got_p, s["paid"], "paid by buyer matches /v1/totals")
    eq(set(s["contracted"]), set(s["buyers"]), "five buyers contracted")

    # Every grouping, over the year, a quarter and for one party, against
    # the same figures recomputed here from every entry of the log.
    events = [d.get_json("/v1/entries/%d" % i)[1]["event"]
              for i in range(size)]
    exps = {"KZT": 2, "USD": 2, "EUR": 2, "RUB": 2}
    buyer = sorted(s["contracted"])[0]
    q2 = (log_ms("2025-04-01T00:00:00Z"), log_ms("2025-07-01T00:00:00Z"))
    item = next(code(it) for e in events if e["kind"] == "contract"
                and e["buyer"]["id"] == buyer for it in e["items"]
                if priced(it))
    supplier = next(e["supplier"]["id"] for e in events
                    if e["kind"] == "contract" and
                    q2[0] <= log_ms(e["date"]) < q2[1])
    for by in ("buyer", "supplier", "item", "funding", "month"):
        for query, args in (
                ("", {}),
                ("&from=2025-04-01&to=2025-07-01",
                 {"frm": q2[0], "to": q2[1]}),
                ("&party=" + buyer, {"party": buyer}),
                ("&party=%s&from=2025-04-01&to=2025-07-01" % supplier,
                 {"party": supplier, "frm": q2[0], "to": q2[1]}),
                ("&item=" + item, {"item": item}),
                ("&item=%s&party=%s" % (item, buyer),
                 {"item": item, "party": buyer})):
            want = expected_totals(events, exps, by, **args)
            st, got, ordered = served_totals(d, "by=" + by + query, exps)
            eq((st, got), (200, want), "totals by %s%s match the entries"
               % (by, query.replace("&", " ")))
            ok(ordered, "totals by %s%s: largest first" % (by, query))
            ok(len(want) > 0, "totals by %s%s: not empty" % (by, query))

    eq(sorted({a["indicator"] for a in s["anomalies"]}),
       sorted(["amendment_increase", "bid_without_commitment",
               "buyer_supplier_share", "close_runner_up",
               "contract_above_award", "direct_below_threshold",
               "heavy_discount", "identical_bids", "item_supplier_share",
               "late_delivery", "lowest_bid_disqualified",
               "many_amendments", "others_disqualified", "overpayment",
               "price_above_median", "price_above_reference",
               "short_tender_period", "single_bid"]),
       "an anomaly planted for every indicator")
    bad = []
    for a in s["anomalies"]:
        for i in a["entries"]:
            st, e = d.get_json("/v1/entries/%d" % i)
            if st != 200 or (a["ocid"] and e["event"].get("ocid") !=
                             a["ocid"]):
                bad.append((a["indicator"], i))
    eq(bad, [], "every anomaly's entries are in the log, in its process")
    eq([x["code"] for x in s["refused"]], ["deadline_passed"],
       "the late commitment was refused by the log")

    st, c = d.get_json("/v1/entries/%d" % min(
        a["entries"][-1] for a in s["anomalies"]
        if a["indicator"] == "contract_above_award"))
    eq(sorted(x["roles"][0] for x in c["signers"]), ["buyer", "supplier"],
       "a contract is signed by buyer and supplier")

    r = run_demo("--keys", keys, "--server", "http://127.0.0.1:%d" % d.port)
    ok(r.returncode != 0 and "not empty" in r.stderr,
       "a second load into a non-empty log is refused")
    r = run_demo("--keys", keys, "--server", "http://127.0.0.1:%d" % d.port,
                 "--if-empty")
    ok(r.returncode == 0 and "nothing loaded" in r.stdout,
       "--if-empty leaves a non-empty log alone")
    eq(d.get_json("/v1/log")[1]["tree_size"], size, "log unchanged")

    # The plan is a function of the seed (keys and times aside).
    def plan(seed, clean=False):
        g = demo.Gen(seed, 2025, clean)
        g.plan_year()
        g.choose_winners()
        g.render()
        g.check_plan()
        return json.dumps([(x.name, x.event, x.signers) for x in g.steps],
                          default=lambda o: getattr(o, "name", str(o)))
    eq(plan(7) == plan(7), True, "same seed, same year")
    eq(plan(7) == plan(8), False, "another seed, another year")
    ok(plan(7, True) != plan(7), "--clean plants nothing")

    eq(d.stop(), 0, "procured stops cleanly")
finally:
    d.cleanup()
finish()
