"""Validate event payload files against docs/schema/<kind>.json.

Usage: event_schema.py SCHEMA_DIR FILE...
Prints "ok KIND" or "fail POINTER MESSAGE" for each file (one line each)
and exits 0 if every file is valid.  Also checks that every schema in
SCHEMA_DIR is itself a valid JSON Schema (draft 2020-12).
"""
import json
import os
import sys

from jsonschema import Draft202012Validator, RefResolver


def load_schemas(d):
    store = {}
    for name in sorted(os.listdir(d)):
        if name.endswith(".json"):
            with open(os.path.join(d, name), encoding="utf-8") as f:
                s = json.load(f)
            Draft202012Validator.check_schema(s)
            store[s["$id"]] = s
    return store


def main():
    d = sys.argv[1]
    store = load_schemas(d)
    by_kind = {s["properties"]["kind"]["const"]: s
               for s in store.values() if "kind" in s.get("properties", {})}
    status = 0
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            try:
                doc = json.load(f)
            except ValueError as e:
                print("fail - not JSON: %s" % e)
                status = 1
                continue
        kind = doc.get("kind") if isinstance(doc, dict) else None
        schema = by_kind.get(kind)
        if schema is None:
            print("fail /kind unknown kind %r" % (kind,))
            status = 1
            continue
        v = Draft202012Validator(schema, resolver=RefResolver.from_schema(
            schema, store=store))
        errors = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            pointer = "".join("/" + str(p) for p in e.path) or "-"
            print("fail %s %s" % (pointer, e.message[:200]))
            status = 1
        else:
            print("ok %s" % kind)
    return status


if __name__ == "__main__":
    sys.exit(main())
