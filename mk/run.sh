#!/bin/sh
# `make run`: start procured in the foreground on 127.0.0.1:8480 with its
# data in ./var.  Stop it with Ctrl-C.
set -eu
BUILD=${1:-build}
mkdir -p var
exec "$BUILD/procured" --listen 127.0.0.1:8480
