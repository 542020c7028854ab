"""GET /v1/flags against the demo year (tools/demo.py): every planted
anomaly is flagged with the right entries and nothing else is; the
filters (indicator, buyer, supplier, item, period, limit) select what
they say; thresholds come from the configuration; a clean year raises no
flag; the reference price list is checked at start."""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from procured_test import PROCURED, Daemon, Key, eq, finish, ok  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DEMO = os.path.join(ROOT, "tools", "demo.py")
KEYS = ("indicator", "ocid", "buyer", "supplier", "item")


def load_year(d, keys, *extra):
    summ = os.path.join(d.tmp, "summary.json")
    r = subprocess.run(["/usr/bin/python3", DEMO, "--keys", keys,
                        "--server", "http://127.0.0.1:%d" % d.port,
                        "--summary", summ, "--quiet"] + list(extra),
                       capture_output=True, text=True)
    if r.returncode != 0:
        print("# " + (r.stdout + r.stderr)[-3000:].replace("\n", "\n# "))
        raise SystemExit("demo failed")
    with open(summ) as f:
        return json.load(f)


def start(d, keys, conf):
    ref = os.path.join(d.tmp, "reference.csv")
    subprocess.run(["/usr/bin/python3", DEMO, "--keys", keys, "--init-only",
                    "--reference-out", ref], check=True,
                   capture_output=True)
    d.admins = [Key.load(os.path.join(keys, "admin.key"))]
    d.conf = "flag-reference-prices = %s\n%s" % (ref, conf)
    d.start()


def flags_doc(d, query=""):
    """GET /v1/flags; right after a start or a burst of events the
    indexer may still be behind (503 indexing, with Retry-After): wait
    for it."""
    deadline = time.time() + 120
    while True:
        st, r = d.get_json("/v1/flags" + query)
        if st != 503 or time.time() > deadline:
            return st, r
        time.sleep(float(d.last_headers.get("Retry-After", "1")))


def flags(d, query=""):
    st, r = flags_doc(d, query)
    if st != 200:
        print("# GET /v1/flags%s: %s %s" % (query, st, r))
        return []
    return r["flags"]


def indexed_from(d):
    """The engine's entries by source, from /metrics."""
    st, text = d.get("/metrics")
    src = {}
    for line in text.decode().splitlines():
        if line.startswith("procured_flags_entries_total{source="):
            name, value = line.split()
            src[name.split('"')[1]] = int(value)
    return src


def key(f):
    return tuple(f.get(k) for k in KEYS) + (tuple(f["entries"]),)


a = Daemon(origin="flags.procured.example/log")
c = Daemon(origin="clean.procured.example/log")
try:
    keys = os.path.join(a.tmp, "keys")
    start(a, keys, "")
    s = load_year(a, keys, "--seed", "11")
    planted = sorted(key(x) for x in s["anomalies"])
    got = flags(a)
    eq(sorted(key(x) for x in got), planted,
       "the flags are exactly the %d planted anomalies, with their "
       "entries" % len(planted))
    eq(indexed_from(a), {"feed": s["tree_size"], "store": 0},
       "the engine took every event from the sequencer, parsed, "
       "without reading it back")
    for x in s["anomalies"]:
        hit = [g for g in got if key(g) == key(x)]
        ok(hit and hit[0]["explanation"] and hit[0]["value"] and
           hit[0]["date"], "%s %s: flagged and explained" %
           (x["indicator"], x["ocid"] or x["item"] or x["buyer"]))
    ok(all(len(g["entries"]) > 0 and g["entries"] == sorted(g["entries"])
           for g in got), "every flag lists its entries in log order")
    byind = {}
    for x in s["anomalies"]:
        byind.setdefault(x["indicator"], []).append(key(x))
    for ind, want in sorted(byind.items()):
        eq(sorted(key(g) for g in flags(a, "?indicator=" + ind)),
           sorted(want), "indicator=%s" % ind)

    buyer = next(x["buyer"] for x in s["anomalies"]
                 if x["indicator"] == "buyer_supplier_share")
    eq(sorted(key(g) for g in flags(a, "?buyer=" + buyer)),
       sorted(key(g) for g in got if g["buyer"] == buyer),
       "buyer= selects that buyer's flags")
    sup = next(x["supplier"] for x in s["anomalies"]
               if x["indicator"] == "item_supplier_share")
    eq(sorted(key(g) for g in flags(a, "?supplier=" + sup)),
       sorted(key(g) for g in got if g["supplier"] == sup or
              sup in g.get("suppliers", [])),
       "supplier= selects the flags naming that supplier")
    item = next(x["item"] for x in s["anomalies"]
                if x["indicator"] == "item_supplier_share")
    byitem = flags(a, "?item=" + item)
    ok(any(g["indicator"] == "item_supplier_share" for g in byitem) and
       all(g["item"] in (item, None) and g["buyer"] is not None or
           g["indicator"] == "item_supplier_share" for g in byitem),
       "item= selects flags about that item and its processes")
    ok(all(g["indicator"] != "buyer_supplier_share" for g in byitem),
       "item= leaves out buyer shares")
    mid = "2025-07-01"
    late = flags(a, "?from=" + mid)
    early = flags(a, "?to=" + mid)
    ok(late and early and all(g["date"] >= mid for g in late) and
       all(g["date"] < mid for g in early), "from= and to= split by date")
    st, r = flags_doc(a, "?limit=3")
    eq((st, r["count"], r["total"], r["truncated"]),
       (200, 3, len(planted), True), "limit= truncates and says so")
    eq(flags(a, "?buyer=KZ-BIN-090640001233"), [],
       "an unknown buyer has no flags")
    for q, field in (("indicator=nope", "indicator"), ("item=J01", "item"),
                     ("from=yesterday", "from"), ("limit=0", "limit")):
        st, r = a.get_json("/v1/flags?" + q)
        eq((st, r["error"]["field"]), (400, field), "bad %s: 400" % q)

    # procurectl flags: the same flags as a table, CSV and JSON.
    ctl = os.environ.get("PROCURECTL", os.path.join(
        os.environ.get("BUILD", "build"), "procurectl"))
    srv = ["--server", "http://127.0.0.1:%d" % a.port]
    r = subprocess.run([ctl] + srv + ["flags", "--csv"],
                       capture_output=True, text=True)
    import csv
    import io
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    eq((r.returncode, sorted((x["indicator"], x["ocid"] or x["item"] or
                              x["buyer"], x["entries"]) for x in rows)),
       (0, sorted((g["indicator"], g["ocid"] or g["item"] or g["buyer"],
                   " ".join(str(i) for i in g["entries"])) for g in got)),
       "procurectl flags --csv lists every flag with its entries")
    r = subprocess.run([ctl] + srv + ["--json", "flags", "single_bid"],
                       capture_output=True, text=True)
    ok(r.returncode == 0 and json.loads(r.stdout)["flags"] ==
       flags(a, "?indicator=single_bid"), "procurectl flags --json INDICATOR")
    r = subprocess.run([ctl] + srv + ["flags", "--buyer", buyer],
                       capture_output=True, text=True)
    ok(r.returncode == 0 and "INDICATOR" in r.stdout and
       r.stdout.count("\n") == 1 + len(flags(a, "?buyer=" + buyer)),
       "procurectl flags --buyer: a table, a row a flag")
    r = subprocess.run([ctl] + srv + ["flags", "nope"],
                       capture_output=True, text=True)
    ok(r.returncode != 0 and "unknown indicator" in r.stderr,
       "procurectl flags with an unknown indicator fails")

    # Restart: the aggregates are rebuilt from the log.
    eq(a.stop(), 0, "stop")
    a.conf = a.conf.replace("\n", "\n", 1) + \
        "flag-min-tender-days = 3\nflag-amendments = 0\n" \
        "flag-price-percent = 300\n"
    a.start()
    gone = {"short_tender_period", "many_amendments", "price_above_median"}
    eq(sorted(key(g) for g in flags(a)),
       sorted(k for k in planted if k[0] not in gone),
       "thresholds come from the configuration")
    eq(indexed_from(a), {"feed": 0, "store": s["tree_size"]},
       "after a restart the engine reads the log back from the store")
    eq(a.stop(), 0, "stop")

    # A reference list with a bad row keeps procured from starting.
    bad = os.path.join(a.tmp, "bad.csv")
    with open(bad, "w") as f:
        f.write("item,unit,price,currency\nATC:J01CA04,H87,35.00,KZT\n"
                "ATC:J01CA04,H87,35.001,KZT\n")
    conf = os.path.join(a.tmp, "bad.conf")
    with open(conf, "w") as f:
        f.write("flag-reference-prices = %s\n" % bad)
    r = subprocess.run([PROCURED, "-c", conf, "--data-dir", a.data,
                        "--origin", a.origin, "--listen", "127.0.0.1:1"],
                       capture_output=True, text=True, timeout=30)
    ok(r.returncode != 0 and "bad.csv:3" in r.stderr,
       "a bad reference price row is refused at start: %s" %
       r.stderr.strip().splitlines()[-1:])

    # A clean year raises no flag.
    ckeys = os.path.join(c.tmp, "keys")
    start(c, ckeys, "")
    s = load_year(c, ckeys, "--seed", "11", "--clean")
    eq(s["anomalies"], [], "the clean year plants nothing")
    st, r = flags_doc(c)
    eq((st, r["total"], r["tree_size"]), (200, 0, s["tree_size"]),
       "a clean year of %d events raises no flags" % s["events"])
    eq(c.stop(), 0, "stop")
finally:
    for x in (a, c):
        if os.environ.get("FLAGS_CHECK_LOG") and x.proc is not None:
            print(x.logtext())
    a.cleanup()
    c.cleanup()
finish()
