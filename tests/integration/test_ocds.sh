#!/bin/sh
# procurectl export --ocds validated against the OCDS 1.1 release package
# schema (tests/ocds/) with Python's jsonschema.
exec /usr/bin/python3 "$(dirname "$0")/ocds_check.py"
