"""procurectl export --ocds: the demo year as one OCDS 1.1 release
package, valid against the OCDS 1.1.5 release package schema
(tests/ocds/), with one release an event of a process, read from the
server or from the data directory, whole or for one process."""

import collections
import copy
import json
import os
import subprocess
import sys

import jsonschema

sys.path.insert(0, os.path.dirname(__file__))
from procured_test import Daemon, Key, eq, finish, ok  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DEMO = os.path.join(ROOT, "tools", "demo.py")
CTL = os.environ.get("PROCURECTL", os.path.join(
    os.environ.get("BUILD", "build"), "procurectl"))
SCHEMAS = os.path.join(ROOT, "tests", "ocds")


def validator():
    with open(os.path.join(SCHEMAS, "release-package-schema.json")) as f:
        ps = json.load(f)
    with open(os.path.join(SCHEMAS, "release-schema.json")) as f:
        rs = json.load(f)
    resolver = jsonschema.RefResolver.from_schema(
        ps, store={rs["id"]: rs, ps["id"]: ps})
    return jsonschema.Draft4Validator(
        ps, resolver=resolver, format_checker=jsonschema.FormatChecker())


def export(*args):
    r = subprocess.run([CTL, "export", "--ocds"] + list(args),
                       capture_output=True, text=True)
    if r.returncode != 0:
        print("# " + r.stderr.strip())
        return None
    return json.loads(r.stdout)


TAG = {"plan": "planning", "tender": "tender",
       "tender.amend": "tenderAmendment",
       "tender.cancel": "tenderCancellation", "bid.commit": "tenderUpdate",
       "bid.reveal": "tenderUpdate", "award": "award",
       "contract": "contract", "contract.amend": "contractAmendment",
       "contract.terminate": "contractTermination",
       "delivery": "implementation", "payment": "implementation"}

d = Daemon(origin="ocds.procured.example/log")
try:
    keys = os.path.join(d.tmp, "keys")
    subprocess.run(["/usr/bin/python3", DEMO, "--keys", keys, "--init-only"],
                   check=True, capture_output=True)
    d.admins = [Key.load(os.path.join(keys, "admin.key"))]
    d.start()
    summ = os.path.join(d.tmp, "summary.json")
    r = subprocess.run(["/usr/bin/python3", DEMO, "--keys", keys, "--server",
                        "http://127.0.0.1:%d" % d.port, "--summary", summ,
                        "--quiet", "--seed", "3"],
                       capture_output=True, text=True)
    if not ok(r.returncode == 0, "demo year loaded"):
        print("# " + r.stderr[-2000:])
        raise SystemExit(1)
    with open(summ) as f:
        s = json.load(f)
    v = validator()
    srv = ["--server", "http://127.0.0.1:%d" % d.port]
    pkg = export(*srv)
    errs = list(v.iter_errors(pkg)) if pkg else ["no package"]
    eq([str(e)[:300] for e in errs[:3]], [],
       "the package is valid OCDS 1.1 (release package schema)")
    want = collections.Counter()
    for kind, n in s["by_kind"].items():
        if kind in TAG:
            want[TAG[kind]] += n
    got = collections.Counter(r_["tag"][0] for r_ in pkg["releases"])
    eq(got, want, "one release an event of a process, tagged by kind")
    eq(len({r_["id"] for r_ in pkg["releases"]}), len(pkg["releases"]),
       "release ids (leaf hashes) are unique")
    eq((pkg["version"], pkg["publisher"]["name"]),
       ("1.1", d.origin), "version and publisher")
    awards = [a for r_ in pkg["releases"] for a in r_.get("awards", [])]
    eq(len(awards), s["by_kind"]["award"], "every award")
    ok(all(isinstance(a["value"]["amount"], (int, float)) for a in awards),
       "amounts are JSON numbers")
    pays = [t for r_ in pkg["releases"] for c in r_.get("contracts", [])
            for t in c.get("implementation", {}).get("transactions", [])]
    eq(len(pays), s["by_kind"]["payment"], "every payment a transaction")
    cids = {c["id"]: c["awardID"] for r_ in pkg["releases"]
            if r_["tag"] == ["contract"] for c in r_["contracts"]}
    later = [c for r_ in pkg["releases"] if r_["tag"] != ["contract"]
             for c in r_.get("contracts", [])]
    ok(later and all(cids.get(c["id"]) == c["awardID"] for c in later),
       "amendments, deliveries and payments name their contract's award")

    ocid = pkg["releases"][-1]["ocid"]
    one = export(*srv + ["--ocid", ocid])
    ok(one is not None and not list(v.iter_errors(one)) and
       {r_["ocid"] for r_ in one["releases"]} == {ocid} and
       len(one["releases"]) == sum(r_["ocid"] == ocid
                                   for r_ in pkg["releases"]),
       "--ocid exports one process")

    # The validator is not vacuous: a tag outside the codelist fails.
    bad = copy.deepcopy(pkg)
    bad["releases"][0]["tag"] = ["bidOpening"]
    ok(list(v.iter_errors(bad)), "an invalid release is caught")

    eq(d.stop(), 0, "stop")
    offline = export("--data-dir", d.data)
    ok(offline is not None and offline["releases"] == pkg["releases"],
       "the same package from the data directory, offline")
finally:
    d.cleanup()
finish()
