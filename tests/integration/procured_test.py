"""Helpers for the daemon's integration tests, written against the
specifications (C2SP signed notes, RFC 9162 proofs, DSSE) with Python's
cryptography package: an implementation independent of proto/.

Used by tests/integration/*.py; each test starts its own procured on a
free loopback port with its data in a temporary directory.  The
protocol helpers (keys, DSSE, proofs, checkpoints, commitments, the HTTP
client) live in tools/procured_client.py and are re-exported here.
"""

import base64
import hashlib
import json
import os
import random
import select
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
    """A loopback port nothing listens on, from below the ephemeral range
    (where the kernel picks the local ports of outgoing connections, this
    test's and any other program's on the machine, one of which could
    take the port before the daemon binds it)."""
    lo = 20000
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            hi = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        hi = 32768
    r = random.SystemRandom()
    for _ in range(100 if hi - lo > 1000 else 0):
        port = r.randrange(lo, hi)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Daemon(Client):
    # Seconds to wait for READY=1: a bound, never a measure (procured
    # under ASan or memcheck on a loaded machine starts slowly).
    START_TIMEOUT = 300

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
        self.notify = None  # socket for sd_notify's READY=1
        self.launches = 0

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

    def launch(self, env=None):
        """Start procured without waiting for it to answer.  Unless env
        names one, it gets a NOTIFY_SOCKET of its own (a new one each
        launch, so nothing a killed daemon sent is read as the next one's
        readiness)."""
        self.port = self.port or free_port()
        self.close_notify()
        env = dict(os.environ if env is None else env)
        if "NOTIFY_SOCKET" not in env:
            self.launches += 1
            path = os.path.join(self.tmp, "notify.%d" % self.launches)
            self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.notify.bind(path)
            env["NOTIFY_SOCKET"] = path
        path = os.path.join(self.tmp, "procured.log")
        self.log_start = os.path.getsize(path) if os.path.exists(path) else 0
        self.log = open(path, "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=self.log,
                                     stderr=self.log, env=env)

    def close_notify(self):
        if self.notify is not None:
            self.notify.close()
            self.notify = None

    def start(self, env=None, ports=5):
        """Start procured and wait until it is ready: READY=1 on its
        NOTIFY_SOCKET (or, with the caller's NOTIFY_SOCKET, /healthz
        answering).  If its port was taken meanwhile, another one."""
        for _ in range(ports):
            self.launch(env)
            if self.wait_ready():
                return self
            self.proc.wait()
            self.proc = None
            self.log.close()
            self.port = None
        raise RuntimeError("procured found no free port: %s" %
                           self.logtext())

    def wait_ready(self):
        """True once ready; False if it exited because its port was in
        use; raises if it exited otherwise or never got ready."""
        deadline = time.time() + self.START_TIMEOUT
        while time.time() < deadline:
            if self.notify is not None:
                r, _, _ = select.select([self.notify], [], [], 0.05)
                if r and b"READY=1" in self.notify.recv(4096).split(b"\n"):
                    return True
            if self.proc.poll() is not None:
                if "Address already in use" in self.logtext(self.log_start):
                    return False
                raise RuntimeError("procured exited: %s" % self.logtext())
            if self.notify is None:
                try:
                    st, _ = self.get("/healthz")
                    if st in (200, 503):
                        return True
                except OSError:
                    pass
                time.sleep(0.05)
        raise RuntimeError("procured was not ready after %d s: %s" %
                           (self.START_TIMEOUT, self.logtext()))

    def logtext(self, start=0):
        with open(os.path.join(self.tmp, "procured.log"), "rb") as f:
            f.seek(start)
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=self.START_TIMEOUT)
        self.proc = None
        self.log.close()
        self.close_notify()
        return rc

    def cleanup(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        self.close_notify()
        shutil.rmtree(self.tmp, ignore_errors=True)

# ---- events, tiles and trees (shared by the reliability tests) ----

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "..", "docs", "examples")
PROCURECTL = os.environ.get("PROCURECTL", os.path.join(BUILD, "procurectl"))


def example(kind):
    with open(os.path.join(EXAMPLES, kind + ".json")) as f:
        return json.load(f)








def grant_event(key, party, roles):
    g = example("key.grant")
    g.pop("validFrom", None)
    g.pop("validUntil", None)
    g["date"] = iso(time.time())
    g["party"] = {"id": party}
    g["roles"] = roles
    g["publicKey"] = base64.b64encode(key.pub).decode()
    return g


def plan_event(ocid, buyer):
    p = example("plan")
    p.update(ocid=ocid, date=iso(time.time()))
    p["buyer"] = {"id": buyer, "name": "Test buyer"}
    return p


def tile_index_path(n):
    """tlog-tiles encoding of a tile index: x001/x234/067."""
    s = "%03d" % (n % 1000)
    n //= 1000
    while n > 0:
        s = "x%03d/%s" % (n % 1000, s)
        n //= 1000
    return s


def split_bundle(data):
    """Entries of an entry bundle (uint16 big-endian length + bytes)."""
    out, off = [], 0
    while off < len(data):
        if off + 2 > len(data):
            raise ValueError("truncated bundle")
        n = (data[off] << 8) | data[off + 1]
        if off + 2 + n > len(data):
            raise ValueError("truncated bundle entry")
        out.append(data[off + 2:off + 2 + n])
        off += 2 + n
    return out


def fetch_leaves(d, size, start=0, cache=None):
    """Leaf hashes 0..size-1 recomputed from the served entry bundles.
    cache (dict tile index -> leaf hashes) keeps full tiles between calls;
    only tiles from start//256 on are fetched again when given."""
    leaves = []
    for t in range((size + 255) // 256):
        w = min(256, size - t * 256)
        if cache is not None and w == 256 and t in cache and \
                t * 256 + 256 <= start:
            leaves.extend(cache[t])
            continue
        path = "/tile/entries/" + tile_index_path(t)
        if w < 256:
            path += ".p/%d" % w
        st, data = d.get(path)
        if st != 200:
            raise ValueError("GET %s: %d" % (path, st))
        hs = [leaf_hash(e) for e in split_bundle(data)]
        if len(hs) != w:
            raise ValueError("%s holds %d entries, want %d" %
                             (path, len(hs), w))
        if cache is not None and w == 256:
            cache[t] = hs
        leaves.extend(hs)
    return leaves


def roots_at(leaves, sizes):
    """RFC 9162 roots of the first n leaves for every n in sizes, in one
    pass (a stack of perfect subtrees)."""
    out = {}
    if 0 in sizes:
        out[0] = hashlib.sha256(b"").digest()
    stack = []  # (leaf count, hash)
    for i, lh in enumerate(leaves):
        stack.append((1, lh))
        while len(stack) >= 2 and stack[-2][0] == stack[-1][0]:
            (n, l), (_, r) = stack[-2], stack[-1]
            stack[-2:] = [(2 * n, node_hash(l, r))]
        if i + 1 in sizes:
            r = stack[-1][1]
            for _, l in reversed(stack[:-1]):
                r = node_hash(l, r)
            out[i + 1] = r
    return out
