#!/usr/bin/python3
"""procured demo data: a year of public procurement of medicines and
medical devices in Kazakhstan, signed and submitted to a running procured.

The buyers are a national single distributor of medicines (buying for the
regional health departments, paid by the compulsory social health
insurance fund, OSMS, and by the state budget for the guaranteed volume
of free medical care, GVFMC) and four regional hospitals (devices from
their local budgets, medicines for their own wards).  Twelve suppliers
bid.  Every organization, BIN and name is fictional; the medicines (by
INN and ATC code) and devices (by GMDN or KTRU code) are real products.

Each process runs as the log requires: plan, tender, sealed bid
commitments before the deadline, reveals after it, awards with every bid
ranked or disqualified, contracts signed by buyer and supplier,
amendments, deliveries against milestones and payments.  Event "date"
fields are spread over the chosen year; the log's own clock decides the
deadlines, so every tender closes a few seconds after the generator
starts: commitments go in first, the generator waits once, then the
rest follows.

Without --clean the year also holds planted anomalies, one or more for
every red-flag indicator of docs/FLAGS.md; --summary writes them, with
the log indexes of the entries behind each, for tests to compare with
GET /v1/flags.  Everything but the keys is deterministic for a --seed
(nonces too: this is demo data, not a way to bid).

    tools/demo.py --keys DIR --init-only
    tools/demo.py --keys DIR --server http://127.0.0.1:8480 [--clean]
                  [--seed N] [--year YYYY] [--summary FILE] [--if-empty]
                  [--jobs N]

With --jobs 1 the events reach the log in date order, the same order on
every run; by default eight submitters work in parallel (one process
each at a time) and the log interleaves processes as they arrive.
"""

import argparse
import calendar
import copy
import json
import os
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procured_client import (Client, Key, bin_check,  # noqa: E402
                             commitment, decimal, envelope, iso,
                             make_gtin, money)

OCID_PREFIX = "ocds-pr0kz1"
DAY = 86400.0

# Thresholds of the red-flag indicators, as procured's defaults
# (docs/FLAGS.md, procured.conf(5)): the generator keeps its clean year
# inside them and checks its plan against the cross-process ones.
FLAG_DEFAULTS = {
    "price_median_percent": 50,
    "price_min_observations": 5,
    "buyer_share_percent": 50,
    "item_share_percent": 50,
    "share_min_contracts": 5,
    "direct_threshold": 15728000 * 100,  # minor units, KZT
    "direct_margin_percent": 10,
}

# ---- organizations (fictional) ----

ORGS = [
    # slug, BIN (registration YYMM, serial), role, name
    ("distributor", (908, 3), "buyer",
     "ТОО «Единый дистрибьютор лекарств» (демо)"),
    ("hosp-krg", (1203, 11), "buyer",
     "КГП «Областная клиническая больница» Карагандинской области (демо)"),
    ("hosp-ala", (1105, 27), "buyer",
     "ГКП на ПХВ «Городская клиническая больница №7» г. Алматы (демо)"),
    ("hosp-shy", (1309, 14), "buyer",
     "ГКП на ПХВ «Городская многопрофильная больница» г. Шымкент (демо)"),
    ("hosp-akt", (1402, 8), "buyer",
     "ГКП на ПХВ «Областной перинатальный центр» г. Актобе (демо)"),
    ("fund", (1607, 21), "payer",
     "НАО «Фонд социального медицинского страхования» (демо)"),
    ("budget", (9902, 5), "payer",
     "РГУ «Министерство здравоохранения», программа ГОБМП (демо)"),
    ("s01", (1511, 246), "supplier", "ТОО «Дала Фарм» (демо)"),
    ("s02", (1705, 831), "supplier", "ТОО «Алтын Мед» (демо)"),
    ("s03", (1910, 987), "supplier", "ТОО «Шымкент Фарма Трейд» (демо)"),
    ("s04", (1406, 412), "supplier", "ТОО «Каспий Фарм Дистрибьюшн» (демо)"),
    ("s05", (1802, 155), "supplier", "ТОО «Есиль Фарм» (демо)"),
    ("s06", (1603, 620), "supplier", "ТОО «Байтерек Фармацевтика» (демо)"),
    ("s07", (1309, 733), "supplier", "ТОО «Сарыарка Фарм» (демо)"),
    ("s08", (2001, 94), "supplier", "ТОО «Тараз Фармснаб» (демо)"),
    ("s09", (1107, 358), "supplier", "ТОО «Алатау Медтехника» (демо)"),
    ("s10", (1504, 276), "supplier", "ТОО «Орда Медикал Системс» (демо)"),
    ("s11", (1712, 509), "supplier", "ТОО «Жетысу Медсервис» (демо)"),
    ("s12", (1905, 640), "supplier", "ТОО «Нур Медснаб» (демо)"),
]
PHARMA = ["s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08"]
DEVICES = ["s09", "s10", "s11", "s12"]
HOSPITALS = ["hosp-krg", "hosp-ala", "hosp-shy", "hosp-akt"]
BUYER_CODE = {"distributor": "ED", "hosp-krg": "KRG", "hosp-ala": "ALA",
              "hosp-shy": "SHY", "hosp-akt": "AKT"}

# ---- the catalog ----
# key: (description, scheme, code, INN or None, unit code, unit name,
#       base unit price in tiyn, distributor quantity a lot,
#       hospital quantity, kind)
CATALOG = {
    "amoxicillin": ("Amoxicillin 500 mg hard capsules", "ATC", "J01CA04",
                    "amoxicillin", "H87", "capsule", 2790, 400000, 20000,
                    "med"),
    "ceftriaxone": ("Ceftriaxone 1 g powder for solution for injection, "
                    "vial", "ATC", "J01DD04", "ceftriaxone", "H87", "vial",
                    26500, 500000, 40000, "med"),
    "glargine": ("Insulin glargine 100 IU/ml solution for injection, 3 ml "
                 "cartridge", "ATC", "A10AE04", "insulin glargine", "H87",
                 "cartridge", 239000, 80000, 2000, "med"),
    "metformin": ("Metformin 850 mg film-coated tablets", "ATC", "A10BA02",
                  "metformin", "H87", "tablet", 945, 1000000, 50000, "med"),
    "enoxaparin": ("Enoxaparin sodium 4000 anti-Xa IU/0.4 ml solution for "
                   "injection, pre-filled syringe", "ATC", "B01AB05",
                   "enoxaparin sodium", "H87", "syringe", 115000, 130000,
                   10000, "med"),
    "paracetamol": ("Paracetamol 500 mg tablets", "ATC", "N02BE01",
                    "paracetamol", "H87", "tablet", 380, 2000000, 60000,
                    "med"),
    "paracetamol-pack": ("Paracetamol 500 mg tablets, pack of 20", "ATC",
                         "N02BE01", "paracetamol", "PK", "pack", 7900, 0,
                         3000, "med"),
    "omeprazole": ("Omeprazole 20 mg gastro-resistant capsules", "ATC",
                   "A02BC01", "omeprazole", "H87", "capsule", 1250, 600000,
                   20000, "med"),
    "nacl": ("Sodium chloride 0.9% solution for infusion, 500 ml bottle",
             "ATC", "B05XA03", "sodium chloride", "H87", "bottle", 21500,
             300000, 30000, "med"),
    "azithromycin": ("Azithromycin 500 mg film-coated tablets", "ATC",
                     "J01FA10", "azithromycin", "H87", "tablet", 16500,
                     150000, 5000, "med"),
    "heparin": ("Heparin sodium 5000 IU/ml solution for injection, 5 ml "
                "vial", "ATC", "B01AB01", "heparin", "H87", "vial", 128000,
                40000, 600, "med"),
    "pump": ("Volumetric infusion pump with drug library", "GMDN", "13215",
             None, "H87", "piece", 185000000, 0, 12, "device"),
    "monitor": ("Bedside patient monitor, 5-parameter", "GMDN", "33586",
                None, "H87", "piece", 240000000, 0, 8, "device"),
    "syringe": ("Sterile single-use syringe 5 ml with needle", "KTRU",
                "325013.300.000001", None, "H87", "piece", 3800, 0, 30000,
                "device"),
}
# The distributor's annual tenders: one a medicine, three regional lots.
DISTRIBUTOR_ITEMS = [
    ("amoxicillin", "OSMS"), ("ceftriaxone", "OSMS"), ("glargine", "GVFMC"),
    ("metformin", "GVFMC"), ("enoxaparin", "OSMS"), ("paracetamol", "OSMS"),
    ("omeprazole", "OSMS"), ("nacl", "GVFMC"), ("azithromycin", "OSMS"),
    ("heparin", "GVFMC")]
REGIONS = ["North and Centre", "South", "West and East"]
REFERENCE_MARKUP = 125  # formulary price cap, percent of the base price

REASONS = [
    "No valid GMP certificate for the declared manufacturing site.",
    "The registration certificate of the offered product expires before "
    "the end of the supply period.",
    "Bid security was not provided in the required amount.",
    "The offered product does not meet the technical specification "
    "(dosage form).",
]


def org_bin(yymm, serial):
    """A fictional BIN shaped like a real one: registration year and
    month, 4 (a legal entity), 0 (its head office), a serial number and
    the check digit (docs/EVENTS.md)."""
    while True:
        d11 = "%04d40%05d" % (yymm, serial)
        c = bin_check(d11)
        if c is not None:
            return "KZ-BIN-%s%d" % (d11, c)
        serial += 1


def reference_rows():
    """The formulary price caps the demo's reference list holds:
    (item code, unit, cap in minor units, currency)."""
    rows = []
    for key, c in sorted(CATALOG.items()):
        if c[9] != "med" or c[4] != "H87":
            continue
        cap = (c[6] * REFERENCE_MARKUP + 50) // 100
        rows.append(("%s:%s" % (c[1], c[2]), c[4], cap, "KZT"))
    return rows


def write_reference(path):
    with open(path, "w") as f:
        f.write("# Formulary price caps (demo): item code, unit, price, "
                "currency\n")
        f.write("item,unit,price,currency\n")
        for code, unit, cap, cur in reference_rows():
            f.write("%s,%s,%s,%s\n" % (code, unit, decimal(cap), cur))


class Ref:
    """The leaf hash of an earlier step, filled in at submission."""

    def __init__(self, name):
        self.name = name


class Step:
    def __init__(self, name, phase, date, event, signers, expect=None):
        self.name = name
        self.phase = phase
        self.date = date
        self.event = event
        self.signers = signers
        self.expect = expect  # (status, code) for a refusal
        self.seq = 0
        self.receipt = None


class Lot:
    def __init__(self, lid, title, items):
        self.id = lid  # None: the tender has no lots
        self.title = title
        self.items = items  # [(line id, catalog key, quantity)]
        self.winner = None
        self.prices = {}  # supplier -> {line id: unit price}


class Proc:
    def __init__(self, gen, buyer, title, method, funding, lots, bidders,
                 start, criteria="priceOnly", details=None, period_days=28):
        gen.nproc[buyer] = gen.nproc.get(buyer, 0) + 1
        self.num = gen.nproc[buyer]
        self.ocid = "%s-%d-%s-%04d" % (OCID_PREFIX, gen.year,
                                       BUYER_CODE[buyer], self.num)
        self.tid = "%s-%d-%04d" % (BUYER_CODE[buyer], gen.year, self.num)
        self.buyer = buyer
        self.title = title
        self.method = method
        self.funding = funding
        self.lots = lots
        self.bidders = bidders
        self.start = start  # plan date
        self.criteria = criteria
        self.details = details
        self.period_days = period_days
        self.plan = True
        self.cancel = False
        self.amend_tender = False
        self.forced = {}  # lot index -> winner
        self.quirks = {}  # anomaly settings
        self.contract_quirks = {}  # lot index -> {...}

    def payer(self):
        if self.buyer != "distributor":
            return self.buyer
        return "fund" if self.funding == "OSMS" else "budget"


class Gen:
    def __init__(self, seed, year, clean):
        self.rng = random.Random(seed)
        self.year = year
        self.clean = clean
        self.nproc = {}
        self.procs = []
        self.steps = []
        self.byname = {}
        self.anomalies = []  # planted: indicator, refs to steps
        self.shares = []  # planted share anomalies, named at the end
        self.contracts = []  # for the plan's self-check
        self.org = {}
        for slug, reg, role, name in ORGS:
            self.org[slug] = {"id": org_bin(*reg), "name": name,
                              "role": role}

    # ---- small helpers ----

    def party(self, slug):
        o = self.org[slug]
        return {"id": o["id"], "name": o["name"]}

    def when(self, month, day):
        t = calendar.timegm((self.year, month, day, 0, 0, 0))
        return t + 3 * 3600 + self.rng.randrange(0, 8 * 3600)

    def add(self, name, phase, date, event, signers, expect=None):
        s = Step(name, phase, date, event, signers, expect)
        s.seq = len(self.steps)
        self.steps.append(s)
        self.byname[name] = s
        return s

    def gtin(self, supplier, key):
        n = (sorted(CATALOG).index(key) * 100 + int(supplier[1:])) * 7919
        return make_gtin("487%09d" % (n % 10 ** 9))

    def item_json(self, key, line, qty, lot=None, price=None, supplier=None,
                  brief=False):
        c = CATALOG[key]
        it = {"id": line}
        if not brief:
            it["description"] = c[0]
        it["classification"] = {"scheme": c[1], "id": c[2]}
        extra = []
        if c[3] and not brief:
            extra.append({"scheme": "INN", "id": c[3]})
        if supplier:
            extra.append({"scheme": "GTIN", "id": self.gtin(supplier, key)})
        if extra:
            it["additionalClassifications"] = extra
        it["quantity"] = qty
        it["unit"] = {"code": c[4]} if brief else \
            {"code": c[4], "name": c[5]}
        if price is not None:
            it["unitPrice"] = money(price)
        if lot:
            it["relatedLot"] = lot
        return it

    def anomaly(self, indicator, proc, steps, supplier=None, item=None,
                buyer=None):
        self.anomalies.append({
            "indicator": indicator,
            "ocid": proc.ocid if proc else None,
            "buyer": self.org[buyer or proc.buyer]["id"],
            "supplier": self.org[supplier]["id"] if supplier else None,
            "item": item, "steps": steps})

    # ---- the plan of the year ----

    def plan_year(self):
        r = self.rng
        # The distributor: one annual tender a medicine, three lots.
        for n, (key, funding) in enumerate(DISTRIBUTOR_ITEMS):
            c = CATALOG[key]
            lots = []
            for i, region in enumerate(REGIONS):
                q = c[7] * r.choice([8, 9, 10, 11, 12]) // 10
                lots.append(Lot("lot-%d" % (i + 1), "%s: %s" % (
                    c[0].split(",")[0], region), [(str(i + 1), key, q)]))
            p = Proc(self, "distributor", "%s for %d, three regional lots" %
                     (c[0].split(",")[0], self.year + 1), "open", funding,
                     lots, r.sample(PHARMA, r.choice([4, 4, 5])),
                     self.when(1 + n % 4, 5 + 2 * n),
                     details="Open tender, two-stage submission (sealed "
                     "commitment, then reveal)")
            if n == 7:
                p.amend_tender = True
            self.procs.append(p)
        # The hospitals.
        for h, hosp in enumerate(HOSPITALS):
            m0 = 2 + h
            self.procs.append(Proc(
                self, hosp, "Infusion pumps and syringes", "open", "local",
                [Lot(None, None, [("1", "pump", 12), ("2", "syringe",
                                                       30000)])],
                r.sample(DEVICES, 3), self.when(m0, 3)))
            self.procs.append(Proc(
                self, hosp, "Bedside patient monitors", "open", "local",
                [Lot(None, None, [("1", "monitor", 8)])],
                r.sample(DEVICES, r.choice([2, 3])), self.when(m0 + 1, 10)))
            for k, key in enumerate(["ceftriaxone", "enoxaparin", "nacl"]):
                q = CATALOG[key][8]
                self.procs.append(Proc(
                    self, hosp, "%s for the wards" % CATALOG[key][0].split(
                        ",")[0], "open", "OSMS",
                    [Lot(None, None, [("1", key, q)])],
                    r.sample(PHARMA, r.choice([3, 4, 5])),
                    self.when(m0 + 2 + k, 8 + 3 * k),
                    details="Request for price quotations"))
            self.procs.append(Proc(
                self, hosp, "Paracetamol tablets in packs", "open", "OSMS",
                [Lot(None, None, [("1", "paracetamol-pack", 3000)])],
                r.sample(PHARMA, 3), self.when(m0 + 5, 12),
                details="Request for price quotations"))
            for k, (key, q) in enumerate([("heparin", 600 + 100 * h),
                                          ("azithromycin", 3000)]):
                p = Proc(self, hosp, "%s, urgent single-source purchase" %
                         CATALOG[key][0].split(",")[0], "direct", "own",
                         [Lot(None, None, [("1", key, q)])],
                         [r.choice(PHARMA)], self.when(m0 + 3 + 2 * k, 20),
                         details="Single-source purchase: urgent need "
                         "below the competitive threshold", period_days=3)
                p.plan = False
                self.procs.append(p)
        # A second monitor tender in Almaty after a cancelled one.
        p = Proc(self, "hosp-ala", "Bedside patient monitors (cancelled: "
                 "specification named one manufacturer)", "open", "local",
                 [Lot(None, None, [("1", "monitor", 10)])], [],
                 self.when(5, 5))
        p.cancel = True
        self.procs.append(p)
        self.procs.append(Proc(
            self, "hosp-ala", "Bedside patient monitors, re-announced",
            "open", "local", [Lot(None, None, [("1", "monitor", 10)])],
            list(DEVICES), self.when(6, 2)))
        # Contract amendments (small volume changes) on some contracts.
        for p in self.procs:
            for i in range(len(p.lots)):
                if p.method == "open" and r.random() < 0.15:
                    p.contract_quirks.setdefault(i, {})["amend"] = 5
        if not self.clean:
            self.plant()

    def plant(self):
        """One process or change for each red-flag indicator."""
        r = self.rng
        P = self.procs

        def proc(buyer, title, items, bidders, month, day, **kw):
            p = Proc(self, buyer, title, kw.pop("method", "open"),
                     kw.pop("funding", "OSMS"),
                     [Lot(None, None, items)], bidders,
                     self.when(month, day), **kw)
            P.append(p)
            return p

        p = proc("hosp-ala", "Enoxaparin for the cardiology department",
                 [("1", "enoxaparin", 8000)], ["s05"], 7, 14)
        p.quirks["single_bid"] = True
        p = proc("hosp-shy", "Sodium chloride infusions, urgent top-up",
                 [("1", "nacl", 20000)], r.sample(PHARMA, 4), 8, 4,
                 period_days=5)
        p.quirks["short_period"] = True
        p = proc("hosp-krg", "Ceftriaxone for the surgical wards",
                 [("1", "ceftriaxone", 30000)], ["s01", "s02", "s06"], 9, 1)
        p.quirks["late_bidder"] = "s08"
        p = proc("distributor", "Metformin, supplementary purchase",
                 [("1", "metformin", 300000)], ["s03", "s04", "s07"], 6, 9,
                 funding="GVFMC")
        p.quirks["close_second"] = True
        p = proc("hosp-akt", "Paracetamol tablets, supplementary purchase",
                 [("1", "paracetamol", 40000)], ["s02", "s06", "s08"], 9, 18)
        p.quirks["heavy_discount"] = True
        p = proc("hosp-shy", "Omeprazole capsules",
                 [("1", "omeprazole", 30000)], ["s01", "s04", "s05", "s07"],
                 10, 2)
        p.quirks["identical"] = True
        p = proc("hosp-krg", "Infusion pumps for the intensive care unit",
                 [("1", "pump", 6)], ["s09", "s11", "s12"], 7, 22,
                 funding="local")
        p.quirks["others_disqualified"] = True
        p = proc("hosp-ala", "Amoxicillin capsules for the polyclinics",
                 [("1", "amoxicillin", 30000)], ["s02", "s03", "s05", "s08"],
                 8, 11)
        p.quirks["lowest_disqualified"] = True
        p = proc("hosp-shy", "Patient monitors for the new surgical block",
                 [("1", "monitor", 6)], ["s09", "s11", "s12"], 10, 14,
                 funding="local")
        p.quirks["price_factor"] = 220
        p = proc("hosp-shy", "Enoxaparin syringes, second half-year",
                 [("1", "enoxaparin", 6000)], ["s02", "s05", "s06"], 7, 1)
        p.quirks["price_factor"] = 135
        p = proc("hosp-akt", "Ceftriaxone for the neonatal unit",
                 [("1", "ceftriaxone", 15000)], ["s01", "s03", "s07"], 5, 19)
        p.contract_quirks[0] = {"contract_markup": 8}
        p = proc("hosp-krg", "Enoxaparin for the vascular surgery unit",
                 [("1", "enoxaparin", 9000)], ["s02", "s04", "s06"], 4, 7)
        p.contract_quirks[0] = {"amend": 30}
        p = proc("hosp-ala", "Sodium chloride infusions",
                 [("1", "nacl", 25000)], ["s01", "s04", "s07"], 3, 10)
        p.contract_quirks[0] = {"amend_times": 3}
        p = proc("hosp-akt", "Enoxaparin syringes",
                 [("1", "enoxaparin", 7000)], ["s03", "s05", "s08"], 3, 20)
        p.contract_quirks[0] = {"late_days": 45}
        p = proc("hosp-shy", "Ceftriaxone vials",
                 [("1", "ceftriaxone", 25000)], ["s02", "s05", "s06"], 4, 1)
        p.contract_quirks[0] = {"overpay": True}
        p = proc("hosp-krg", "Heparin vials, single-source purchase",
                 [("1", "heparin", 12000)], ["s07"], 11, 3,
                 method="direct", funding="own", period_days=3,
                 details="Single-source purchase")
        p.plan = False
        p.quirks["near_threshold"] = True
        # One supplier takes most of the perinatal centre's spending.
        for q in P:
            if q.buyer == "hosp-akt" and q.lots[0].items[0][1] in (
                    "pump", "monitor"):
                q.bidders = ["s10"] + [s for s in q.bidders if s != "s10"]
                q.forced[0] = "s10"
        p = proc("hosp-akt", "Infusion pumps for the maternity wards",
                 [("1", "pump", 10)], ["s10", "s09", "s12"], 11, 10,
                 funding="local")
        p.forced[0] = "s10"
        self.shares.append(("buyer_supplier_share", "hosp-akt", "s10",
                            None))
        # One supplier wins every regional lot of the distributor's
        # ceftriaxone tender.
        for q in P:
            if q.buyer == "distributor" and \
                    q.lots[0].items[0][1] == "ceftriaxone" and \
                    len(q.lots) == 3:
                q.bidders = ["s04"] + [s for s in q.bidders if s != "s04"]
                for i in range(3):
                    q.forced[i] = "s04"
        self.shares.append(("item_supplier_share", None, "s04",
                            "ATC:J01DD04"))

    # ---- winners and prices ----

    def choose_winners(self):
        """Winners balanced over buyers and item codes, so that no supplier
        takes too much of either (the planted ones excepted): forced
        winners first, then the largest lots, each to the bidder whose
        larger share (of the buyer's or the item's spending) stays
        smallest."""
        lots, tot_b, tot_i = [], {}, {}
        for p in self.procs:
            if p.cancel:
                continue
            for i, lot in enumerate(p.lots):
                value = sum(CATALOG[k][6] * q for _, k, q in lot.items)
                code = CATALOG[lot.items[0][1]][2]
                lots.append((i not in p.forced and
                             not p.quirks.get("late_bidder"), -value,
                             p.ocid, i, p, lot, code))
                tot_b[p.buyer] = tot_b.get(p.buyer, 0) + value
                tot_i[code] = tot_i.get(code, 0) + value
        lots.sort(key=lambda x: x[:4])
        by_buyer, by_item = {}, {}
        for free, negv, _, i, p, lot, code in lots:
            value = -negv
            if i in p.forced:
                w = p.forced[i]
            elif p.quirks.get("late_bidder"):
                w = p.quirks["late_bidder"]
            else:
                def load(s):
                    b = (by_buyer.get((p.buyer, s), 0) + value) / \
                        tot_b[p.buyer]
                    it = (by_item.get((code, s), 0) + value) / tot_i[code]
                    return (max(b, it), b + it, s)
                w = min(p.bidders, key=load)
            lot.winner = w
            by_buyer[(p.buyer, w)] = by_buyer.get((p.buyer, w), 0) + value
            by_item[(code, w)] = by_item.get((code, w), 0) + value

    def price_bids(self, p, lot):
        """Unit prices of every bidder for the lot: the winner lowest, the
        runner-up at least 3% above, no two bids equal."""
        r = self.rng
        others = [s for s in p.bidders if s != lot.winner]
        if p.quirks.get("late_bidder"):
            others = list(p.bidders)
        base_factor = p.quirks.get("price_factor", 100) / 100.0
        while True:
            factors = {}
            if p.quirks.get("price_factor"):
                f = base_factor * r.uniform(0.99, 1.0)
            elif p.quirks.get("near_threshold"):
                base = sum(CATALOG[k][6] * q for _, k, q in lot.items)
                f = FLAG_DEFAULTS["direct_threshold"] * 0.98 / base
            else:
                f = r.uniform(0.90, 0.99)
            factors[lot.winner] = f
            order = list(others)
            r.shuffle(order)
            g = f
            for k, s in enumerate(order):
                g = g * (r.uniform(1.035, 1.10) if k == 0 else
                         r.uniform(1.02, 1.07))
                factors[s] = g
            if p.quirks.get("close_second") and order:
                factors[order[0]] = f * 1.004
            if p.quirks.get("identical") and len(order) >= 3:
                factors[order[2]] = factors[order[1]]
            if p.quirks.get("heavy_discount"):
                factors[lot.winner] = f * 0.52
            if p.quirks.get("lowest_disqualified"):
                factors[order[0]] = f * 0.97
            prices = {}
            for s, fs in factors.items():
                prices[s] = {}
                for line, key, q in lot.items:
                    jitter = 1.0 if p.quirks.get("identical") else \
                        r.uniform(0.995, 1.005)
                    prices[s][line] = max(1, int(round(
                        CATALOG[key][6] * fs * jitter)))
            totals = {s: self.lot_total(lot, prices[s]) for s in prices}
            if p.quirks.get("identical"):
                return prices, order
            vals = sorted(totals.values())
            if len(set(vals)) != len(vals):
                continue
            w = totals[lot.winner]
            ok = True
            for s in others:
                gap = (totals[s] - w) * 100.0 / w
                if p.quirks.get("close_second") and s == order[0]:
                    ok = ok and 0 < gap < 1
                elif p.quirks.get("lowest_disqualified") and s == order[0]:
                    ok = ok and gap < 0
                elif gap < 3:
                    ok = False
            if ok:
                return prices, order

    @staticmethod
    def lot_total(lot, prices):
        return sum(prices[line] * q for line, _, q in lot.items)

    # ---- events ----

    def render(self):
        r = self.rng
        for slug, *_ in ORGS:
            o = self.org[slug]
            g = {"schema": 1, "kind": "key.grant",
                 "date": iso(calendar.timegm((self.year, 1, 9, 4, 0, 0))),
                 "party": self.party(slug), "roles": [o["role"]],
                 "publicKey": Ref("pub:" + slug)}
            self.add("grant/" + slug, 0, 0, g, ["admin"])
        for p in self.procs:
            self.render_proc(p, r)

    def render_proc(self, p, r):
        buyer = self.party(p.buyer)
        est = {}
        for lot in p.lots:
            for line, key, q in lot.items:
                est[line] = CATALOG[key][6] * 103 // 100
        items, lots_json = [], []
        for lot in p.lots:
            for line, key, q in lot.items:
                items.append((line, key, q, lot.id))
            if lot.id:
                lots_json.append({"id": lot.id, "title": lot.title,
                                  "value": money(sum(
                                      est[l] * q for l, _, q in lot.items))})
        total_est = sum(est[l] * q for l, _, q, _ in items)
        t = p.start
        n = p.ocid
        parent = None
        if p.plan:
            plan = {"schema": 1, "ocid": n, "kind": "plan", "date": iso(t),
                    "buyer": buyer, "title": p.title,
                    "rationale": "Consolidated %d demand for the guaranteed "
                    "volume of free medical care and compulsory social "
                    "health insurance." % (self.year + 1)
                    if p.buyer == "distributor" else
                    "Annual procurement plan of the hospital.",
                    "items": [self.item_json(k, l, q) for l, k, q, _ in
                              items],
                    "value": money(total_est), "fundingSource": p.funding}
            self.add(n + "/plan", 1, t, plan, [p.buyer])
            parent = n + "/plan"
            t += r.randrange(5, 20) * DAY
        tender = {"schema": 1, "ocid": n, "kind": "tender", "date": iso(t),
                  "buyer": buyer, "id": p.tid, "title": p.title,
                  "items": [self.item_json(k, l, q, lot,
                                           price=est[l])
                            for l, k, q, lot in items],
                  "value": money(total_est),
                  "procurementMethod": p.method,
                  "mainProcurementCategory": "goods",
                  "awardCriteria": p.criteria,
                  "tenderPeriod": {"startDate": ("deadline", -p.period_days),
                                   "endDate": ("deadline", 0)},
                  "fundingSource": p.funding}
        if parent:
            tender["parent"] = Ref(parent)
        if lots_json:
            tender["lots"] = lots_json
        if p.details:
            tender["procurementMethodDetails"] = p.details
        self.add(n + "/tender", 1, t, tender, [p.buyer])
        tparent = n + "/tender"
        if p.amend_tender:
            t += DAY
            am = {"schema": 1, "ocid": n, "kind": "tender.amend",
                  "date": iso(t), "parent": Ref(tparent), "buyer": buyer,
                  "rationale": "Clarification of the packaging requested by "
                  "bidders; the bid deadline moves accordingly.",
                  "tenderPeriod": {"startDate": ("deadline",
                                                 -p.period_days),
                                   "endDate": ("deadline", 0.5)}}
            self.add(n + "/tender.amend", 1, t, am, [p.buyer])
            tparent = n + "/tender.amend"
        if p.cancel:
            t += 9 * DAY
            c = {"schema": 1, "ocid": n, "kind": "tender.cancel",
                 "date": iso(t), "parent": Ref(tparent), "buyer": buyer,
                 "rationale": "The technical specification of the patient "
                 "monitors named a single manufacturer; the tender is "
                 "cancelled and will be re-announced with a neutral "
                 "specification."}
            self.add(n + "/cancel", 1, t, c, [p.buyer])
            return
        close = t + p.period_days * DAY
        # Bids: prices for every lot, one reveal a bidder covering all.
        reveals = {}
        competitive = p.method in ("open", "selective")
        for lot in p.lots:
            lot.prices, lot.order = self.price_bids(p, lot)
        if competitive:
            bidders = [s for s in p.bidders if s != p.quirks.get(
                "late_bidder")]
            for k, s in enumerate(bidders):
                its, total = [], 0
                for lot in p.lots:
                    for line, key, q in lot.items:
                        price = lot.prices[s][line]
                        its.append(self.item_json(key, line, q, lot.id,
                                                  price, s, brief=True))
                        total += price * q
                rv = {"schema": 1, "ocid": n, "kind": "bid.reveal",
                      "date": iso(close + DAY + k * 600),
                      "parent": Ref("%s/commit/%s" % (n, s)),
                      "supplier": self.party(s),
                      "nonce": "%064x" % r.getrandbits(256),
                      "items": its, "value": money(total)}
                cm = {"schema": 1, "ocid": n, "kind": "bid.commit",
                      "date": iso(t + (2 + k) * DAY + r.randrange(0, 30000)),
                      "parent": Ref(tparent), "supplier": self.party(s),
                      "commitment": commitment(n, self.org[s]["id"],
                                               rv["value"], its,
                                               rv["nonce"])}
                self.add("%s/commit/%s" % (n, s), 1,
                         t + (2 + k) * DAY, cm, [s])
                self.add("%s/reveal/%s" % (n, s), 2,
                         close + DAY + k * 600, rv, [s])
                reveals[s] = rv
            late = p.quirks.get("late_bidder")
            if late:
                cm = {"schema": 1, "ocid": n, "kind": "bid.commit",
                      "date": iso(close + 2 * 3600),
                      "parent": Ref(tparent), "supplier": self.party(late),
                      "commitment": "%064x" % r.getrandbits(256)}
                self.add("%s/late-commit/%s" % (n, late), 2, close + 3600,
                         cm, [late], expect=(409, "deadline_passed"))
        t = close + r.randrange(6, 12) * DAY
        for i, lot in enumerate(p.lots):
            self.render_award(p, i, lot, t + i * 3600, tparent, reveals)

    def render_award(self, p, i, lot, t, tparent, reveals):
        r = self.rng
        n = p.ocid
        buyer = self.party(p.buyer)
        w = lot.winner
        aid = "%s-%s" % (p.tid, lot.id or "1")
        its = [self.item_json(key, line, q, lot.id, lot.prices[w][line], w)
               for line, key, q in lot.items]
        value = self.lot_total(lot, lot.prices[w])
        award = {"schema": 1, "ocid": n, "kind": "award", "date": iso(t),
                 "parent": Ref(tparent), "buyer": buyer, "id": aid,
                 "title": lot.title or p.title,
                 "suppliers": [self.party(w)], "items": its,
                 "value": money(value)}
        name = "%s/award/%d" % (n, i)
        disq = {}
        if p.method in ("open", "selective"):
            order = sorted(lot.prices, key=lambda s: (
                self.lot_total(lot, lot.prices[s]), s))
            if p.quirks.get("others_disqualified"):
                for s in order:
                    if s != w:
                        disq[s] = REASONS[len(disq) % len(REASONS)]
            elif p.quirks.get("lowest_disqualified"):
                disq[order[0]] = REASONS[1]
            elif len(order) >= 4 and r.random() < 0.3:
                disq[order[-1]] = REASONS[r.randrange(len(REASONS))]
            bids, rank = [], 0
            # The late bidder's bid is ranked first although it was never
            # committed in the log.
            for s in order:
                b = {"supplier": self.party(s)}
                if s in disq:
                    b["status"] = "disqualified"
                    b["reason"] = disq[s]
                else:
                    rank += 1
                    b["status"] = "valid"
                    b["rank"] = rank
                b["value"] = money(self.lot_total(lot, lot.prices[s]))
                if s in reveals:
                    b["reveal"] = Ref("%s/reveal/%s" % (n, s))
                bids.append(b)
            award["bids"] = bids
        self.add(name, 2, t, award, [p.buyer])
        self.anomalies_for_award(p, i, lot, name, order=None, disq=disq)
        self.render_contract(p, i, lot, t + r.randrange(4, 9) * DAY, name,
                             its, value, aid)

    def anomalies_for_award(self, p, i, lot, award, order, disq):
        n = p.ocid
        q = p.quirks
        tender = n + "/tender"
        rev = lambda s: "%s/reveal/%s" % (n, s)  # noqa: E731
        by_total = sorted((s for s in lot.prices if s not in disq),
                          key=lambda s: (self.lot_total(lot, lot.prices[s]),
                                         s))
        if q.get("single_bid"):
            s = p.bidders[0]
            self.anomaly("single_bid", p, [tender, "%s/commit/%s" % (n, s),
                                           rev(s), award], supplier=s)
        if q.get("short_period"):
            self.anomaly("short_tender_period", p, [tender])
        if q.get("late_bidder"):
            self.anomaly("bid_without_commitment", p, [tender, award],
                         supplier=q["late_bidder"])
        if q.get("close_second"):
            self.anomaly("close_runner_up", p,
                         [award, rev(by_total[0]), rev(by_total[1])],
                         supplier=by_total[0])
        if q.get("heavy_discount"):
            self.anomaly("heavy_discount", p,
                         [award, rev(by_total[0]), rev(by_total[1])],
                         supplier=by_total[0])
        if q.get("identical"):
            tot = {}
            for s in lot.prices:
                tot.setdefault(self.lot_total(lot, lot.prices[s]),
                               []).append(s)
            same = [v for v in tot.values() if len(v) > 1][0]
            self.anomaly("identical_bids", p, [rev(s) for s in same])
        if q.get("others_disqualified"):
            self.anomaly("others_disqualified", p,
                         [award] + [rev(s) for s in disq],
                         supplier=lot.winner)
        if q.get("lowest_disqualified"):
            low = [s for s in disq][0]
            self.anomaly("lowest_bid_disqualified", p,
                         [award, rev(low), rev(lot.winner)], supplier=low)
        if q.get("near_threshold"):
            self.anomaly("direct_below_threshold", p, [tender, award],
                         supplier=lot.winner)

    def render_contract(self, p, i, lot, t, award, its, value, aid):
        r = self.rng
        n = p.ocid
        cq = p.contract_quirks.get(i, {})
        w = lot.winner
        cid = "%s-C%d" % (aid, i + 1)
        buyer, sup = self.party(p.buyer), self.party(w)
        citems = [dict(it) for it in its]
        if cq.get("contract_markup"):
            for it in citems:
                a = int(it["unitPrice"]["amount"].replace(".", ""))
                it["unitPrice"] = money(a * (100 + cq["contract_markup"])
                                        // 100)
        value = sum(int(it["unitPrice"]["amount"].replace(".", "")) *
                    it["quantity"] for it in citems)
        ndel = 2 if p.buyer == "distributor" or cq.get("amend") or \
            cq.get("amend_times") or cq.get("late_days") else 1
        end = t + 300 * DAY
        due = [t + (35 + 100 * k) * DAY for k in range(ndel)]
        ms, paid_parts = [], []
        left = {it["id"]: it["quantity"] for it in citems}
        for k in range(ndel):
            part = []
            for it in citems:
                qk = it["quantity"] // ndel if k < ndel - 1 else \
                    left[it["id"]]
                left[it["id"]] -= qk
                part.append({"id": it["id"], "quantity": qk})
            ms.append({"id": "m%d" % (k + 1), "title": "Delivery %d" %
                       (k + 1), "type": "delivery", "dueDate": iso(due[k]),
                       "items": part})
        for k in range(ndel):
            pv = value // ndel if k < ndel - 1 else value - sum(paid_parts)
            paid_parts.append(pv)
            ms.append({"id": "p%d" % (k + 1), "title": "Payment for "
                       "delivery %d" % (k + 1), "type": "payment",
                       "dueDate": iso(due[k] + 30 * DAY),
                       "value": money(pv)})
        contract = {"schema": 1, "ocid": n, "kind": "contract",
                    "date": iso(t), "parent": Ref(award), "buyer": buyer,
                    "supplier": sup, "id": cid, "awardID": aid,
                    "title": "Supply contract: %s" % (lot.title or p.title),
                    "items": citems, "value": money(value),
                    "period": {"startDate": iso(t), "endDate": iso(end)},
                    "dateSigned": iso(t - 3600), "milestones": ms,
                    "fundingSource": p.funding}
        cname = "%s/contract/%d" % (n, i)
        self.add(cname, 2, t, copy.deepcopy(contract), [p.buyer, w])
        record = {"buyer": p.buyer, "supplier": w, "value": value,
                  "items": [(it["classification"]["scheme"] + ":" +
                             it["classification"]["id"], it["unit"]["code"],
                             int(it["unitPrice"]["amount"].replace(".", "")),
                             int(it["unitPrice"]["amount"].replace(".", "")) *
                             it["quantity"]) for it in citems],
                  "step": cname, "proc": p}
        self.contracts.append(record)
        if cq.get("contract_markup"):
            self.anomaly("contract_above_award", p, [award, cname],
                         supplier=w)
        if p.quirks.get("price_factor", 100) > 100:
            code = record["items"][0][0]
            pf = p.quirks["price_factor"]
            self.anomaly("price_above_reference" if pf < 150 else
                         "price_above_median", p, [cname], supplier=w,
                         item=code)
        # Deliveries and payments, with an amendment between them.
        cur = cname
        amends = []
        pay_steps = []
        for k in range(ndel):
            dd = due[k] - r.randrange(1, 10) * DAY
            if cq.get("late_days") and k == ndel - 1:
                dd = due[k] + cq["late_days"] * DAY
            if k == 1 and (cq.get("amend") or cq.get("amend_times")):
                times = cq.get("amend_times", 1)
                for a in range(times):
                    ta = due[0] + (10 + 5 * a) * DAY
                    am = self.amendment(p, lot, contract, cid, ta, cq, a,
                                        cur, paid_parts)
                    aname = "%s/amend/%d/%d" % (n, i, a)
                    self.add(aname, 2, ta, am, [p.buyer, w])
                    amends.append(aname)
                    cur = aname
                if cq.get("amend", 0) > 10:
                    self.anomaly("amendment_increase", p,
                                 [cname] + amends, supplier=w)
                if times >= 3:
                    self.anomaly("many_amendments", p, [cname] + amends,
                                 supplier=w)
                if cq.get("amend"):
                    record["value"] = value = sum(
                        int(it["unitPrice"]["amount"].replace(".", "")) *
                        it["quantity"] for it in contract["items"])
                    record["items"] = [
                        (x[0], x[1], x[2], x[2] * it["quantity"])
                        for x, it in zip(record["items"],
                                         contract["items"])]
            dv = {"schema": 1, "ocid": n, "kind": "delivery",
                  "date": iso(dd + 3600), "parent": Ref(cur),
                  "buyer": buyer, "supplier": sup, "contractID": cid,
                  "milestoneID": "m%d" % (k + 1), "deliveryDate": iso(dd),
                  "items": contract["milestones"][k]["items"]}
            dname = "%s/delivery/%d/%d" % (n, i, k)
            self.add(dname, 2, dd + 3600, dv, [w])
            if cq.get("late_days") and k == ndel - 1:
                self.anomaly("late_delivery", p, [cname, dname], supplier=w)
            tp = dd + r.randrange(12, 25) * DAY
            payer = p.payer()
            pay = {"schema": 1, "ocid": n, "kind": "payment",
                   "date": iso(tp), "parent": Ref(dname),
                   "id": "PAY-%s-%d%d" % (p.tid, i + 1, k + 1),
                   "payer": self.party(payer), "payee": sup,
                   "contractID": cid, "milestoneID": "p%d" % (k + 1),
                   "value": money(paid_parts[k]),
                   "fundingSource": p.funding}
            pname = "%s/payment/%d/%d" % (n, i, k)
            self.add(pname, 2, tp, pay, [payer])
            pay_steps.append(pname)
        if cq.get("overpay"):
            tp = self.byname[pay_steps[-1]].date + 9 * DAY
            dup = dict(self.byname[pay_steps[-1]].event)
            dup["id"] = dup["id"] + "-R"
            dup["date"] = iso(tp)
            dname = "%s/payment/%d/dup" % (n, i)
            self.add(dname, 2, tp, dup, [p.payer()])
            pay_steps.append(dname)
            self.anomaly("overpayment", p, [cname] + pay_steps, supplier=w)

    def amendment(self, p, lot, contract, cid, ta, cq, a, parent,
                  paid_parts):
        """A contract.amend: more volume (cq["amend"] percent), or a new
        end date and second delivery date."""
        ev = {"schema": 1, "ocid": p.ocid, "kind": "contract.amend",
              "date": iso(ta), "parent": Ref(parent),
              "buyer": contract["buyer"], "supplier": contract["supplier"],
              "contractID": cid}
        pct = cq.get("amend")
        if pct:
            items = []
            for it in contract["items"]:
                it = dict(it)
                it["quantity"] = it["quantity"] * (100 + pct) // 100
                items.append(it)
            value = sum(int(it["unitPrice"]["amount"].replace(".", "")) *
                        it["quantity"] for it in items)
            m2 = dict(contract["milestones"][1])
            m1 = contract["milestones"][0]
            m2["items"] = [{"id": it["id"], "quantity": it["quantity"] -
                            x["quantity"]} for it, x in zip(items,
                                                             m1["items"])]
            m2["title"] = "Delivery 2 (amended)"
            p2 = dict(contract["milestones"][3])
            paid_parts[1] = value - paid_parts[0]
            p2["value"] = money(paid_parts[1])
            p2["title"] = "Payment for delivery 2 (amended)"
            ev["rationale"] = "Additional demand confirmed by the " \
                "departments: +%d%% volume at the contract unit prices." % \
                pct
            ev["items"] = items
            ev["value"] = money(value)
            ev["milestones"] = [m2, p2]
            contract["items"] = items
            contract["milestones"][1] = m2
            contract["milestones"][3] = p2
        else:
            ev["rationale"] = "Supply period extended at the supplier's " \
                "request (amendment %d)." % (a + 1)
            ev["value"] = contract["value"]
            ev["period"] = {"startDate": contract["period"]["startDate"],
                            "endDate": iso(ta + 200 * DAY)}
        return ev

    # ---- the plan's self-check (cross-process indicators) ----

    def expected_cross(self, refs):
        """Share and price-benchmark flags the plan raises, computed as
        docs/FLAGS.md defines them, with procured's default thresholds."""
        F = FLAG_DEFAULTS
        out = []
        by_buyer, by_item = {}, {}
        for c in self.contracts:
            by_buyer.setdefault(c["buyer"], []).append(c)
            for code, unit, price, line in c["items"]:
                by_item.setdefault(code, []).append((c, line))
        for b, cs in sorted(by_buyer.items()):
            if len(cs) < F["share_min_contracts"]:
                continue
            total = sum(c["value"] for c in cs)
            sups = {}
            for c in cs:
                sups.setdefault(c["supplier"], []).append(c)
            for s, mine in sorted(sups.items()):
                v = sum(c["value"] for c in mine)
                if v * 100 > total * F["buyer_share_percent"]:
                    out.append(("buyer_supplier_share", None, b, s, None,
                                [c["step"] for c in mine]))
        for code, lines in sorted(by_item.items()):
            cs = {id(c): c for c, _ in lines}
            if len(cs) < F["share_min_contracts"]:
                continue
            total = sum(l for _, l in lines)
            sups = {}
            for c, l in lines:
                sups.setdefault(c["supplier"], [0, []])
                sups[c["supplier"]][0] += l
                if c["step"] not in sups[c["supplier"]][1]:
                    sups[c["supplier"]][1].append(c["step"])
            for s, (v, steps) in sorted(sups.items()):
                if v * 100 > total * F["item_share_percent"]:
                    out.append(("item_supplier_share", None, None, s, code,
                                steps))
        groups = {}
        for c in self.contracts:
            for code, unit, price, line in c["items"]:
                groups.setdefault((code, unit), []).append((price, c))
        caps = {(code, unit): cap for code, unit, cap, _ in refs}
        for key, obs in sorted(groups.items()):
            prices = sorted(x for x, _ in obs)
            med = prices[(len(prices) + 1) // 2 - 1]
            for price, c in obs:
                if len(prices) >= F["price_min_observations"] and \
                        price * 100 > med * (100 + F["price_median_percent"]):
                    out.append(("price_above_median", c["proc"].ocid,
                                c["buyer"], c["supplier"], key[0],
                                [c["step"]]))
                if key in caps and price > caps[key]:
                    out.append(("price_above_reference", c["proc"].ocid,
                                c["buyer"], c["supplier"], key[0],
                                [c["step"]]))
        for p in self.procs:
            if p.method not in ("direct", "limited") or p.cancel:
                continue
            for lot in p.lots:
                v = self.lot_total(lot, lot.prices[lot.winner])
                lo = F["direct_threshold"] * \
                    (100 - F["direct_margin_percent"]) // 100
                if lo <= v < F["direct_threshold"]:
                    out.append(("direct_below_threshold", p.ocid, p.buyer,
                                lot.winner, None, None))
        return out

    def check_plan(self):
        """Plant the share anomalies and check that the cross-process
        indicators flag exactly what was planted: raises on a plan that
        does not hold (a seed whose chance draws break it)."""
        got = self.expected_cross(reference_rows())
        shares = {(x[0], x[2], x[3], x[4]): x[5] for x in got
                  if x[0].endswith("_share")}
        if set(shares) != set(self.shares):
            raise SystemExit("demo: the plan does not hold: supplier "
                             "shares %s, planted %s" % (sorted(shares),
                                                        sorted(self.shares)))
        for ind, b, s, item in self.shares:
            self.anomalies.append({
                "indicator": ind, "ocid": None,
                "buyer": self.org[b]["id"] if b else None,
                "supplier": self.org[s]["id"], "item": item,
                "steps": shares[(ind, b, s, item)]})
        ids = {o["id"]: k for k, o in self.org.items()}
        want = {(a["indicator"], a["ocid"], ids.get(a["buyer"]),
                 ids.get(a["supplier"]), a["item"])
                for a in self.anomalies if not a["indicator"].endswith(
                    "_share") and a["indicator"] in (
                    "price_above_median", "price_above_reference",
                    "direct_below_threshold")}
        have = {(x[0], x[1], x[2], x[3], x[4]) for x in got
                if not x[0].endswith("_share")}
        if want != have:
            raise SystemExit("demo: the plan does not hold: price and "
                             "threshold flags %s, planted %s" %
                             (sorted(have), sorted(want)))


# ---- submission ----

def load_keys(keydir):
    """admin.key and one key an organization in keydir, created (0600)
    when missing; admin.vkey holds the admin verifier key."""
    os.makedirs(keydir, mode=0o700, exist_ok=True)
    keys = {}
    for slug in ["admin"] + [o[0] for o in ORGS]:
        path = os.path.join(keydir, slug + ".key")
        if os.path.exists(path):
            keys[slug] = Key.load(path)
        else:
            keys[slug] = Key()
            keys[slug].save(path)
    vpath = os.path.join(keydir, "admin.vkey")
    vkey = keys["admin"].vkey("admin")
    if not os.path.exists(vpath) or open(vpath).read().strip() != vkey:
        with open(vpath, "w") as f:
            f.write(vkey + "\n")
    return keys


def resolve(x, steps, deadline):
    if isinstance(x, Ref):
        if x.name.startswith("pub:"):
            return steps["__keys__"][x.name[4:]].pub_b64()
        return steps[x.name].receipt["leaf_hash"]
    if isinstance(x, tuple) and x and x[0] == "deadline":
        return iso(deadline + x[1] * (DAY if x[1] < 0 else 1))
    if isinstance(x, dict):
        return {k: resolve(v, steps, deadline) for k, v in x.items()}
    if isinstance(x, list):
        return [resolve(v, steps, deadline) for v in x]
    return x


def submit_all(gen, client, keys, args):
    """Submit every step: grants, then plans, tenders and commitments
    before the bid deadline, then the rest after it.  With --jobs 1 the
    log holds the steps in date order; with more, each worker takes one
    process at a time (its own events stay in order, so parents always
    come first) and the log interleaves processes as they arrive."""
    table = dict(gen.byname)
    table["__keys__"] = keys
    state = {"done": 0, "deadline": None, "by_kind": {}, "refused": []}
    lock = threading.Lock()
    say = (lambda m: None) if args.quiet else \
        (lambda m: (sys.stdout.write(m + "\n"), sys.stdout.flush()))

    def one(s):
        ev = resolve(s.event, table, state["deadline"] or time.time())
        env = envelope(ev, *[keys[k] for k in s.signers])
        st, rec = client.submit(env)
        if s.expect:
            if (st, rec.get("error", {}).get("code")) != s.expect:
                raise RuntimeError("%s: expected %s, got %s %s" %
                                   (s.name, s.expect, st, rec))
            with lock:
                state["refused"].append({"step": s.name, "status": st,
                                         "code": s.expect[1]})
            say("refused as it must be: %s (%d %s)" % (s.name, st,
                                                       s.expect[1]))
            return
        if st not in (200, 201) or not isinstance(rec, dict):
            hint = ""
            if isinstance(rec, dict) and rec.get("error", {}).get(
                    "code") == "deadline_passed":
                hint = " (the server is slow: try --deadline-seconds 60)"
            raise RuntimeError("%s: %s %s%s" % (s.name, st, rec, hint))
        s.receipt = rec
        s.index = rec["index"]
        with lock:
            state["done"] += 1
            k = ev["kind"]
            state["by_kind"][k] = state["by_kind"].get(k, 0) + 1
            if state["done"] % 200 == 0:
                say("%d events logged" % state["done"])

    def run(chains):
        if args.jobs <= 1:
            for c in chains:
                for s in c:
                    one(s)
            return
        with ThreadPoolExecutor(max_workers=args.jobs) as ex:
            futs = [ex.submit(lambda c=c: [one(s) for s in c])
                    for c in chains]
            for f in futs:
                f.result()

    def chains(phase):
        steps = sorted((s for s in gen.steps if s.phase == phase),
                       key=lambda s: (s.date, s.seq))
        if args.jobs <= 1:
            return [steps]
        by = {}
        for s in steps:
            by.setdefault(s.event.get("ocid") or s.name, []).append(s)
        return list(by.values())

    t0 = time.time()
    try:
        run(chains(0))
        n1 = sum(1 for s in gen.steps if s.phase == 1)
        per = max((time.time() - t0) / max(state["done"], 1), 0.002)
        state["deadline"] = time.time() + (args.deadline_seconds or
                                           1.5 + n1 * per * 2)
        say("tenders close at %s (log clock); submitting %d plans, "
            "tenders and sealed bids" % (iso(state["deadline"]), n1))
        run(chains(1))
        wait = state["deadline"] + 0.6 - time.time()
        if wait > 0:
            say("waiting %.1f s for the bid deadline" % wait)
            time.sleep(wait)
        run(chains(2))
    except RuntimeError as e:
        raise SystemExit("demo: %s" % e)
    return state["by_kind"], state["refused"], time.time() - t0


def summary(gen, by_kind, refused, client):
    contracted, paid, cur = {}, {}, {}
    for s in sorted((s for s in gen.steps if s.receipt),
                    key=lambda s: s.index):
        ev = s.event
        if ev["kind"] in ("contract", "contract.amend"):
            cid = ev.get("id") or ev["contractID"]
            cur[(ev["ocid"], cid)] = (ev["buyer"]["id"],
                                      int(ev["value"]["amount"].replace(
                                          ".", "")))
        if ev["kind"] == "payment":
            b = cur[(ev["ocid"], ev["contractID"])][0]
            paid[b] = paid.get(b, 0) + int(ev["value"]["amount"].replace(
                ".", ""))
    for (o, c), (b, v) in cur.items():
        contracted[b] = contracted.get(b, 0) + v
    anomalies = []
    for a in gen.anomalies:
        anomalies.append({
            "indicator": a["indicator"], "ocid": a["ocid"],
            "buyer": a["buyer"], "supplier": a["supplier"],
            "item": a["item"],
            "entries": sorted(gen.byname[n].index for n in a["steps"])})
    anomalies.sort(key=lambda a: (a["indicator"], a["ocid"] or "",
                                  a["supplier"] or "", a["item"] or ""))
    buyers = sorted({p.buyer for p in gen.procs})
    return {
        "tree_size": client.tree_size(),
        "events": sum(by_kind.values()),
        "by_kind": dict(sorted(by_kind.items())),
        "processes": len(gen.procs),
        "contracts": len(gen.contracts),
        "buyers": {gen.org[b]["id"]: gen.org[b]["name"] for b in buyers},
        "contracted": {k: decimal(v) for k, v in sorted(contracted.items())},
        "paid": {k: decimal(v) for k, v in sorted(paid.items())},
        "currency": "KZT",
        "anomalies": anomalies,
        "refused": refused,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", default=os.environ.get(
        "PROCURECTL_SERVER", "http://127.0.0.1:8480"))
    ap.add_argument("--keys", required=True,
                    help="directory of keys (created; reused if present)")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--year", type=int, default=2025)
    ap.add_argument("--clean", action="store_true",
                    help="no planted anomalies: a year that raises no flags")
    ap.add_argument("--summary", help="write the summary as JSON here")
    ap.add_argument("--reference-out",
                    help="write the demo's formulary price caps (CSV)")
    ap.add_argument("--init-only", action="store_true",
                    help="create the keys (and --reference-out), then exit")
    ap.add_argument("--if-empty", action="store_true",
                    help="do nothing (exit 0) if the log is not empty")
    ap.add_argument("--deadline-seconds", type=float, default=0,
                    help="seconds from the first tender to the bid "
                    "deadline (default: measured)")
    ap.add_argument("--jobs", type=int, default=8,
                    help="concurrent submissions (1: the log holds the "
                    "events in date order, the same for every run)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()

    keys = load_keys(args.keys)
    if args.reference_out:
        write_reference(args.reference_out)
    if args.init_only:
        print(keys["admin"].vkey("admin"))
        return 0
    client = Client(args.server)
    size = client.tree_size()
    if size != 0:
        if args.if_empty:
            print("demo: the log already holds %d entries; nothing loaded"
                  % size)
            return 0
        raise SystemExit("demo: the log at %s is not empty (%d entries)" %
                         (args.server, size))
    gen = Gen(args.seed, args.year, args.clean)
    gen.plan_year()
    gen.choose_winners()
    gen.render()
    gen.check_plan()
    if not args.quiet:
        print("demo: %d processes, %d events to sign, %s" % (
            len(gen.procs), len(gen.steps),
            "clean" if args.clean else "%d planted anomalies" %
            len(gen.anomalies)))
    by_kind, refused, secs = submit_all(gen, client, keys, args)
    s = summary(gen, by_kind, refused, client)
    if args.summary:
        with open(args.summary, "w") as f:
            json.dump(s, f, indent=1, ensure_ascii=False)
            f.write("\n")
    if not args.quiet:
        print("demo: %d events in %.1f s; log size %d" % (
            s["events"], secs, s["tree_size"]))
        for k, v in s["by_kind"].items():
            print("  %-20s %5d" % (k, v))
        print("  contracted by buyer (KZT):")
        for b, v in s["contracted"].items():
            print("    %s %20s  paid %20s" % (b, v, s["paid"].get(b, "0")))
        if s["anomalies"]:
            print("  planted anomalies (GET /v1/flags should show them):")
            for a in s["anomalies"]:
                print("    %-24s %s %s" % (a["indicator"], a["ocid"] or
                                           a["item"] or a["buyer"],
                                           a["entries"][:6]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
