"""Helpers for the daemon's integration tests, written against the
specifications (C2SP signed notes, RFC 9162 proofs, DSSE) with Python's
cryptography package: an implementation independent of proto/.

Used by tests/integration/*.py; each test starts its own procured on a
free loopback port with its data in a temporary directory.  The
protocol helpers (keys, DSSE, proofs, checkpoints, commitments, the HTTP
client) live in tools/procured_client.py and are re-exported here.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tools"))
from procured_client import (  # noqa: E402,F401  (re-exported)
    PAYLOAD_TYPE, Client, Key, bin_check, commitment, envelope, iso,
    leaf_hash, make_bin, node_hash, open_checkpoint, pae, verify_consistency,
    verify_inclusion)

BUILD = os.environ.get("BUILD", "build")
PROCURED = os.environ.get("PROCURED", os.path.join(BUILD, "procured"))

NPASS = 0
NFAIL = 0


def ok(cond, what):
    global NPASS, NFAIL
    if cond:
        NPASS += 1
        print("ok - %s" % what)
    else:
        NFAIL += 1
        print("not ok - %s" % what)
    sys.stdout.flush()
    return cond


def eq(got, want, what):
    if not ok(got == want, what):
        print("#   got:  %r\n#   want: %r" % (got, want))


def finish():
    print("# %d passed, %d failed" % (NPASS, NFAIL))
    sys.exit(1 if NFAIL else 0)


# ---- the daemon ----

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Daemon(Client):
    def __init__(self, origin="test.procured.example/log", extra=(),
                 admins=None, conf=None):
        Client.__init__(self, "http://127.0.0.1:1")
        self.tmp = tempfile.mkdtemp(prefix="procured-test.")
        self.data = os.path.join(self.tmp, "data")
        self.origin = origin
        self.admin = Key()
        self.admins = admins if admins is not None else [self.admin]
        self.extra = list(extra)
        self.conf = conf
        self.proc = None
        self.port = None

    def argv(self):
        a = [PROCURED, "--data-dir", self.data, "--origin", self.origin,
             "--listen", "127.0.0.1:%d" % self.port]
        for k in self.admins:
            a += ["--admin-key", k.vkey("admin")]
        if self.conf:
            path = os.path.join(self.tmp, "procured.conf")
            with open(path, "w") as f:
                f.write(self.conf)
            a += ["-c", path]
        return a + self.extra

    def start(self, env=None):
        self.port = self.port or free_port()
        self.log = open(os.path.join(self.tmp, "procured.log"), "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=self.log,
                                     stderr=self.log, env=env)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("procured exited: %s" % self.logtext())
            try:
                st, _ = self.get("/healthz")
                if st in (200, 503):
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("procured did not answer: %s" % self.logtext())

    def logtext(self):
        with open(os.path.join(self.tmp, "procured.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=30)
        self.proc = None
        self.log.close()
        return rc

    def cleanup(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)
