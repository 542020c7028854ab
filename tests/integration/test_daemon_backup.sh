#!/bin/sh
# Hot backup, restore, and refusal of an old backup.
exec /usr/bin/python3 "$(dirname "$0")/daemon_backup.py"
