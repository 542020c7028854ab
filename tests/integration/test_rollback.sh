#!/bin/sh
# Rollback: old backups restored over or without the record of the
# largest signed tree make procured refuse to start; forks are refused
# (tests/integration/rollback.py).
exec /usr/bin/python3 "$(dirname "$0")/rollback.py"
