#!/usr/bin/python3
"""run.py -- make bench: mfa.fcgi against the FastCGI ceiling, side by side.

    /usr/bin/python3 tests/bench/run.py BUILD_DIR

BUILD_DIR holds mfa.fcgi, mfactl, bench-provision, lmdb-commits and
ceiling.fcgi (make bench builds them optimised into build/bench). Knobs,
from the environment:

    BENCH_SERVER    lighttpd (default) or nginx (+ spawn-fcgi)
    BENCH_PROCS     responder processes, for both the ceiling and mfa.fcgi (4)
    BENCH_ROUNDS    rounds; the case order rotates every round (5)
    BENCH_SECONDS   wrk duration per case and round (3)
    BENCH_CONNS     wrk connections (32)     BENCH_THREADS  wrk threads (2)
    BENCH_JWT_POOL  fresh assertions per JWT case and round (8000)
    BENCH_VERIFY_POOL  fresh TOTP codes (users) per round (15000)
    BENCH_CASES     comma-separated case-name prefixes to run ("challenge
                    otp,verify"); the ceiling always runs; default all
    BENCH_PROFILE   a case name ("challenge otp post"): instead of the
                    rounds, run that case once under "perf record -g" on
                    the workers and print the top of "perf report"
    BENCH_CALLGRAPH dwarf: perf's call chains from DWARF unwinding, which
                    see through libraries without frame pointers (fp)

Everything runs on loopback in a private directory under /tmp (the same
file system as the repository here). The synced-commit probe runs there
too, in every round just before the verification it is compared with. The results go to bench/results/: bench.csv (one row per case),
rounds.csv (every measurement), bench.png (the chart), bench-chart.txt
(the chart as text, for README) and bench.txt (the table as printed).
"""

import base64
import csv
import hashlib
import hmac
import json
import multiprocessing
import os
import platform
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
from servers import (children, clean_env, fill, free_port,  # noqa: E402
                     pid_alive, port_open, procs_mentioning, terminate)

HOST = "127.0.0.1"
ISSUER = "http://127.0.0.1:8080/"
OTP_GRANT = "http://auth0.com/oauth/grant-type/mfa-otp"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FORM = "application/x-www-form-urlencoded"

SERVER = os.environ.get("BENCH_SERVER", "lighttpd")
PROCS = int(os.environ.get("BENCH_PROCS", "4"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
# the disk probe's run of each commit rate
PROBE_SECONDS = 1.0
CONNS = int(os.environ.get("BENCH_CONNS", "32"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
PROFILE = os.environ.get("BENCH_PROFILE", "")
ONLY = [c.strip() for c in os.environ.get("BENCH_CASES", "").split(",")
        if c.strip()]
JWT_POOL = int(os.environ.get("BENCH_JWT_POOL", "8000"))
VERIFY_POOL = int(os.environ.get("BENCH_VERIFY_POOL", "15000"))
CH_USERS = 500       # challenge users (each with otp and sms)
WRONG_USERS = 1500   # users for wrong codes (fail_burst 100 each)

# The service's settings for the run: room for the benchmark's volume in
# the per-user buckets (the defaults are Auth0's production numbers) and
# assertions that live through the run. Everything else is the default,
# log level (info: a line per challenge) and challenge_sync_ms included.
MFA_ENV = {
    "MFA_SMS_BURST": "1000", "MFA_SMS_REFILL": "1",
    "MFA_FAIL_BURST": "100", "MFA_ASSERTION_LIFETIME": "1800",
}
# BENCH_ENV="MFA_LOG_LEVEL=warn ...": more settings, to measure what one costs.
MFA_ENV.update(kv.split("=", 1) for kv in os.environ.get("BENCH_ENV", "").split()
               if "=" in kv)

# The issue's targets: (case prefix, ratio to the ceiling).
TARGETS = [("challenge otp post", 0.75), ("challenge oob post", 0.75),
           ("challenge otp basic", 0.75), ("challenge oob basic", 0.75),
           ("challenge otp RS256", 0.65), ("challenge oob RS256", 0.65),
           ("challenge otp EdDSA", 0.6), ("challenge oob EdDSA", 0.6)]
P99_TARGET_MS = 5.0
RSS_TARGET_KIB = 8 * 1024
DURABLE_FACTOR = 1.5


def say(*a):
    print(*a, flush=True)


# ------------------------------------------------------------ servers

class Server:
    """One web server in front of one responder binary ("bin") that
    pre-forks PROCS processes on the socket it is handed."""

    def __init__(self, root, name, binary, env):
        self.state = Path(root) / name
        self.state.mkdir()
        self.port = free_port()
        self.url = "http://%s:%d" % (HOST, self.port)
        self.bin = binary
        self.env = dict(env)
        self.proc = None
        self.spawn_pid = None

    def start(self):
        if SERVER == "lighttpd":
            conf = self.state / "lighttpd.conf"
            conf.write_text(fill(REPO / "contrib/bench/lighttpd.conf.in", {
                "HOST": HOST, "PORT": self.port, "STATE": self.state,
                "FCGI_BIN": self.bin,
                "COPY_ENV": ", ".join('"%s"' % k for k in sorted(self.env)),
            }))
            self.proc = subprocess.Popen(
                ["lighttpd", "-D", "-f", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=open(self.state / "stdout.log", "wb"),
                stderr=subprocess.STDOUT, env=clean_env(**self.env),
                cwd=str(self.state))
        else:
            pidfile = self.state / "spawn.pid"
            subprocess.run(
                ["spawn-fcgi", "-s", str(self.state / "fcgi.sock"),
                 "-M", "0600", "-P", str(pidfile), "--", str(self.bin)],
                check=True, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env=clean_env(**self.env), cwd=str(self.state), timeout=30)
            self.spawn_pid = int(pidfile.read_text().strip())
            conf = self.state / "nginx.conf"
            conf.write_text(fill(REPO / "contrib/bench/nginx.conf.in", {
                "HOST": HOST, "PORT": self.port, "STATE": self.state,
                "USER": "user root;" if os.geteuid() == 0 else ""}))
            self.proc = subprocess.Popen(
                ["nginx", "-p", str(self.state), "-c", str(conf),
                 "-e", str(self.state / "nginx-error.log"),
                 "-g", "daemon off; pid %s;" % (self.state / "nginx.pid")],
                stdin=subprocess.DEVNULL,
                stdout=open(self.state / "stdout.log", "wb"),
                stderr=subprocess.STDOUT, env=clean_env(),
                cwd=str(self.state))
        deadline = time.monotonic() + 15
        while len(self.workers()) < PROCS or not port_open(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("bench: %s did not start:\n%s" % (
                    self.bin, self.logs()))
            time.sleep(0.05)
        return self

    def responder(self):
        if self.spawn_pid is not None:
            return self.spawn_pid if pid_alive(self.spawn_pid) else None
        kids = children(self.proc.pid) if self.proc else []
        return kids[0] if kids else None

    def workers(self):
        r = self.responder()
        return children(r) if r else []

    def logs(self):
        return "\n".join(f.read_text(errors="replace")[-3000:]
                         for f in sorted(self.state.glob("*.log")))

    def stop(self):
        if self.proc is not None:
            terminate(self.proc.pid, popen=self.proc)
        if self.spawn_pid is not None:
            terminate(self.spawn_pid)
        left = procs_mentioning(str(self.state))
        for p in left:
            terminate(p, timeout=5)


NO_MEMORY = {"rss": 0, "private": 0, "heap": 0, "libcrypto": 0, "libc": 0}


def memory_kib(pid):
    """Resident KiB of "pid" without the LMDB files' mappings: "rss" in
    all, "private" (its own pages: what one more worker costs), "heap",
    "libcrypto" (shared code pages) and "libc"."""
    out = dict(NO_MEMORY)
    name = ""
    try:
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                    parts = line.split()
                    name = parts[5] if len(parts) > 5 else ""
                    continue
                if name.endswith(".mdb"):
                    continue
                key, _, rest = line.partition(":")
                if key == "Rss":
                    kib = int(rest.split()[0])
                    out["rss"] += kib
                    base = os.path.basename(name)
                    if name == "[heap]":
                        out["heap"] += kib
                    elif base.startswith("libcrypto.so"):
                        out["libcrypto"] += kib
                    elif base.startswith("libc.so"):
                        out["libc"] += kib
                elif key in ("Private_Clean", "Private_Dirty"):
                    out["private"] += int(rest.split()[0])
    except OSError:
        pass
    return out


def cpu_seconds(pids):
    """User + system CPU seconds used so far by "pids" (gone ones count 0)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def written_bytes(pids):
    """Bytes "pids" passed to write system calls so far (/proc/PID/io
    wchar: LMDB's page writes, the replies, the log lines; gone ones count
    0). Unlike the CPU time, the machine's speed does not move it."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/io" % pid) as f:
                for ln in f:
                    if ln.startswith("wchar:"):
                        total += int(ln.split()[1])
        except OSError:
            continue
    return total


# --------------------------------------------------------- provisioning

def mfactl(build, db, *args):
    p = subprocess.run([str(build / "mfactl"), "--db", str(db), "--json"] +
                       [str(a) for a in args], capture_output=True,
                       text=True, env=clean_env(), check=False)
    if p.returncode != 0:
        raise SystemExit("bench: mfactl %s: %s" % (args, p.stderr))
    return json.loads(p.stdout)


def provision(build, db, prefix, count, sms, clients):
    p = subprocess.run([str(build / "bench-provision"), str(db), prefix,
                        "0", str(count), "1" if sms else "0"] + clients,
                       capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise SystemExit("bench: bench-provision: %s" % p.stderr)
    return [line.split("\t") for line in p.stdout.splitlines()]


def totp(secret_b32, step):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = mac[-1] & 0x0F
    v = struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF
    return "%06d" % (v % 1000000)


_SIGN = {}


def _sign_init(pem, alg):
    from cryptography.hazmat.primitives import serialization
    _SIGN["key"] = serialization.load_pem_private_key(pem, None)
    _SIGN["alg"] = alg


def _sign_one(args):
    import jwt
    client_id, exp = args
    now = int(time.time())
    return jwt.encode({"iss": client_id, "sub": client_id, "aud": ISSUER,
                       "iat": now, "exp": exp, "jti": uuid.uuid4().hex},
                      _SIGN["key"], algorithm=_SIGN["alg"])


def assertions(pem, alg, client_id, n):
    """"n" assertions signed in parallel. The pool's processes come from a
    fork server, not from this process, where an earlier pool's handler
    threads may still hold a lock at the moment of a fork: a plain fork
    pool hung once, its child waiting on such a lock. A pool that still
    does not finish fails the run instead of hanging it."""
    exp = int(time.time()) + 1700
    ctx = multiprocessing.get_context("forkserver")
    with ctx.Pool(os.cpu_count() or 2, _sign_init, (pem, alg)) as pool:
        return pool.map_async(_sign_one, [(client_id, exp)] * n,
                              chunksize=500).get(timeout=600)


def basic(cid, secret):
    raw = "%s:%s" % (urllib.parse.quote(cid, safe=""),
                     urllib.parse.quote(secret, safe=""))
    return "Basic " + base64.b64encode(raw.encode()).decode()


def line(path, authz, body):
    return "%s\t%s\t%s\t%s\n" % (path, authz, FORM,
                                 urllib.parse.urlencode(body))


# ---------------------------------------------------------------- wrk

def run_wrk(url, reqfile, mode, seconds=None):
    cmd = ["wrk", "-t%d" % THREADS, "-c%d" % CONNS,
           "-d%gs" % (seconds or SECONDS), "--latency",
           "-s", str(REPO / "tests/bench/pool.lua"), url, "--",
           str(reqfile), mode, str(THREADS), str(CONNS)]
    p = subprocess.run(cmd, capture_output=True, text=True,
                       timeout=(seconds or SECONDS) + 60)
    m = re.search(r"^BENCHJSON (.*)$", p.stdout, re.M)
    if p.returncode != 0 or not m:
        raise SystemExit("bench: wrk failed:\n%s\n%s" % (p.stdout,
                                                          p.stderr))
    r = json.loads(m.group(1))
    r["rate"] = r["responses"] / r["seconds"] if r["seconds"] > 0 else 0
    return r


def sync_counters(db):
    """(fdatasyncs, durable commits, challenge batch commits, challenges
    they carried) from the group-commit state file."""
    try:
        b = (Path(db) / "sync.state").read_bytes()[:64]
        f = struct.unpack("<8Q", b)
        return f[4], f[5], f[6], f[7]
    except (OSError, struct.error):
        return 0, 0, 0, 0


def median(xs):
    s = sorted(xs)
    n = len(s)
    return (s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2) \
        if n else 0


# --------------------------------------------------------------- main

def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for ln in f:
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    fs = subprocess.run(["df", "-T", "/tmp"], capture_output=True,
                        text=True).stdout.splitlines()[-1].split()
    return {"nproc": os.cpu_count(), "cpu": cpu, "fs": fs[1],
            "kernel": platform.release(),
            "load": open("/proc/loadavg").read().split()[0]}


def main():
    build = Path(sys.argv[1] if len(sys.argv) > 1 else "build/bench")
    build = (REPO / build).resolve() if not build.is_absolute() else build
    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    t_start = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="mfa-bench-", dir="/tmp"))
    servers = []
    # a SIGTERM (timeout(1), CI) unwinds like Ctrl-C, so that every server
    # started is stopped by its pid and nothing is left running
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        setup_and_run(build, root, results, t_start, servers)
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(root, ignore_errors=True)


def setup_and_run(build, root, results, t_start, servers):
    """Runs the benchmark; appends each server it starts to "servers"
    (the caller stops them, whatever happens here)."""
    mach = machine()
    say("bench: %s, %d processes, %d rounds x %g s per case, wrk -t%d -c%d"
        % (SERVER, PROCS, ROUNDS, SECONDS, THREADS, CONNS))
    say("bench: machine: %d x %s, %s, load %s" % (
        mach["nproc"], mach["cpu"], mach["fs"], mach["load"]))

    # both commit rates once; the synced one again in every round
    first = disk_probe(build, root)
    say("bench: LMDB single writer: %.0f synced commits/s, %.0f with "
        "MDB_NOSYNC" % (first["synced_commits_per_s"],
                        first["nosync_commits_per_s"]))

    # the store, three clients, the users
    db = root / "store"
    mfactl(build, db, "init")
    sec = mfactl(build, db, "client", "add", "bench-secret",
                 "--challenge-types", "otp oob")
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    jwt_clients = {}
    for alg, key in (("RS256", rsa.generate_private_key(65537, 2048)),
                     ("EdDSA", ed25519.Ed25519PrivateKey.generate())):
        pub = root / ("%s.pem" % alg)
        pub.write_bytes(key.public_key().public_bytes(
            ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo))
        c = mfactl(build, db, "client", "add", "bench-" + alg, "--auth",
                   "private_key_jwt", "--alg", alg, "--key", pub,
                   "--challenge-types", "otp oob")
        pem = key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8,
                                ser.NoEncryption())
        jwt_clients[alg] = (c["client_id"], pem)
    ids = [sec["client_id"], jwt_clients["RS256"][0],
           jwt_clients["EdDSA"][0]]
    ch_users = provision(build, db, "ch", CH_USERS, True, ids)
    v_users = provision(build, db, "v", VERIFY_POOL * ROUNDS, False,
                        ids[:1])
    w_users = provision(build, db, "w", WRONG_USERS, False, ids[:1])
    say("bench: provisioned %d users" % (len(ch_users) + len(v_users) +
                                         len(w_users)))

    # request files that do not change between rounds
    reqs = root / "req"
    reqs.mkdir()
    cid, csec = sec["client_id"], sec["client_secret"]
    files = {}

    def write(name, lines):
        path = reqs / name
        with open(path, "w") as f:
            f.writelines(lines)
        return path

    # the ceiling's body: 200 bytes of form, like a challenge request
    ceil_lines = []
    for u in ch_users:
        body = urllib.parse.urlencode({"client_id": cid, "mfa_token": u[2],
                                       "challenge_type": "oob"})
        body += "&pad=" + "x" * max(0, 200 - len(body) - 5)
        ceil_lines.append("/\t\t%s\t%s\n" % (FORM, body))
    files["ceiling"] = write("ceiling", ceil_lines)
    for t in ("otp", "oob"):
        files["challenge %s post" % t] = write("post-" + t, [
            line("/mfa/challenge", "", {
                "client_id": cid, "client_secret": csec,
                "mfa_token": u[2], "challenge_type": t})
            for u in ch_users])
        files["challenge %s basic" % t] = write("basic-" + t, [
            line("/mfa/challenge", basic(cid, csec), {
                "mfa_token": u[2], "challenge_type": t})
            for u in ch_users])
    wrong = []
    for u in w_users:
        step = int(time.time()) // 30
        good = {totp(u[1], step + d) for d in (-2, -1, 0, 1, 2)}
        code = next(c for c in ("%06d" % i for i in range(1000000))
                    if c not in good)
        wrong.append(line("/oauth/token", "", {
            "grant_type": OTP_GRANT, "client_id": cid,
            "client_secret": csec, "mfa_token": u[2], "otp": code}))
    files["verify wrong code"] = write("wrong", wrong)

    # fresh assertions: a pool per JWT case and round
    t0 = time.monotonic()
    pools = {}
    for alg, (jcid, pem) in jwt_clients.items():
        tokcol = 3 if alg == "RS256" else 4
        for t in ("otp", "oob"):
            toks = assertions(pem, alg, jcid, JWT_POOL * ROUNDS)
            for r in range(ROUNDS):
                chunk = toks[r * JWT_POOL:(r + 1) * JWT_POOL]
                pools[("challenge %s %s" % (t, alg), r)] = write(
                    "%s-%s-%d" % (alg, t, r), [
                        line("/mfa/challenge", "", {
                            "client_assertion_type": ASSERTION_TYPE,
                            "client_assertion": a,
                            "mfa_token": ch_users[i % len(ch_users)][tokcol],
                            "challenge_type": t})
                        for i, a in enumerate(chunk)])
    say("bench: signed %d assertions in %.1f s" % (
        4 * JWT_POOL * ROUNDS, time.monotonic() - t0))

    # the servers: the ceiling and the service, same web server set-up
    mfa_env = dict(MFA_ENV, MFA_DB=str(db), MFA_WORKERS=str(PROCS))
    ceiling = Server(root, "ceiling", build / "ceiling.fcgi",
                     {"BENCH_PROCS": str(PROCS)})
    mfa = Server(root, "mfa", build / "mfa.fcgi", mfa_env)
    for srv in (ceiling, mfa):
        servers.append(srv)     # listed first: stopped even if half-started
        srv.start()
    # warm-up, not recorded
    run_wrk(ceiling.url, files["ceiling"], "cycle", 1)
    run_wrk(mfa.url, files["challenge otp post"], "cycle", 1)
    clear_outbox(build, db)

    cases = (["ceiling"] + ["challenge %s %s" % (t, a)
                            for a in ("post", "basic", "RS256", "EdDSA")
                            for t in ("otp", "oob")] +
             ["verify otp (fresh code)", "verify wrong code"])
    if ONLY:
        cases = [c for c in cases
                 if c == "ceiling" or any(c.startswith(o) for o in ONLY)]
    def verify_file(rnd):
        """Fresh codes of this round's users (each consumes a step)."""
        step = int(time.time()) // 30
        users = v_users[rnd * VERIFY_POOL:(rnd + 1) * VERIFY_POOL]
        return write("verify-%d" % rnd, [line("/oauth/token", "", {
            "grant_type": OTP_GRANT, "client_id": cid,
            "client_secret": csec, "mfa_token": u[2],
            "otp": totp(u[1], step)}) for u in users])

    if PROFILE:
        profile(PROFILE, ceiling if PROFILE == "ceiling" else mfa,
                files.get(PROFILE) or pools.get((PROFILE, 0)) or
                (verify_file(0) if PROFILE.startswith("verify otp")
                 else None), results)
        return
    expected = {c: 200 for c in cases}
    expected["verify wrong code"] = 403
    rows = []
    probes = []
    replays = 0
    syncs = [0, 0]
    batches = [0, 0]
    for rnd in range(ROUNDS):
        order = cases[rnd % len(cases):] + cases[:rnd % len(cases)]
        for case in order:
            srv = ceiling if case == "ceiling" else mfa
            mode = "cycle"
            if case in files:
                f = files[case]
            elif case.startswith("verify otp"):
                mode = "pool"
                f = verify_file(rnd)
                # measured next to the verification it is compared
                # with, as the ceiling is
                probe = disk_probe(build, root, "synced")
                probes.append(dict(probe, round=rnd + 1))
                say("bench: round %d: LMDB single writer %.0f synced "
                    "commits/s" % (rnd + 1, probe["synced_commits_per_s"]))
            else:
                mode = "pool"
                f = pools[(case, rnd)]
            s0 = sync_counters(db)
            pids = srv.workers()
            c0, w0 = cpu_seconds(pids), written_bytes(pids)
            r = run_wrk(srv.url, f, mode)
            cpu_us = (cpu_seconds(pids) - c0) * 1e6 / max(r["responses"], 1)
            wr_kb = (written_bytes(pids) - w0) / 1024 / max(r["responses"], 1)
            s1 = sync_counters(db)
            if case.startswith("verify otp"):
                syncs[0] += s1[0] - s0[0]
                syncs[1] += s1[1] - s0[1]
                replays += replay_check(srv.url, f)
            if case.startswith("challenge otp"):
                batches[0] += s1[2] - s0[2]
                batches[1] += s1[3] - s0[3]
            mem = max((memory_kib(p) for p in srv.workers()),
                      key=lambda m: m["rss"], default=NO_MEMORY)
            bad = sum(v for k, v in r["statuses"].items()
                      if int(k) != expected[case]) + r["socket_errors"]
            rows.append({"round": rnd + 1, "case": case,
                         "rate": r["rate"], "p50_ms": r["p50_us"] / 1000,
                         "p99_ms": r["p99_us"] / 1000, "errors": bad,
                         "statuses": r["statuses"], "rss_kib": mem["rss"],
                         "memory": mem,
                         "cpu_us": cpu_us, "wr_kb": wr_kb,
                         "responses": r["responses"]})
            clear_outbox(build, db)
        say("bench: round %d/%d done (%.0f s)" % (
            rnd + 1, ROUNDS, time.monotonic() - t_start))
    report(rows, cases, expected, first, probes, syncs, batches, replays,
           mach, results, t_start)


def profile(case, srv, reqfile, results):
    """perf record -g on the workers while wrk drives "case"."""
    if reqfile is None:
        raise SystemExit("bench: no request file for %r" % case)
    data = results / ("perf-%s.data" % re.sub(r"\W+", "-", case))
    pids = ",".join(str(p) for p in srv.workers())
    # BENCH_CALLGRAPH=dwarf: call chains through libraries built without
    # frame pointers (bigger data, fewer samples per second)
    cg = os.environ.get("BENCH_CALLGRAPH", "fp")
    perf = subprocess.Popen(["perf", "record", "-q", "--call-graph",
                             "dwarf,16384" if cg == "dwarf" else "fp",
                             "-F", "500" if cg == "dwarf" else "2000",
                             "-o", str(data), "-p", pids],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    r = run_wrk(srv.url, reqfile, "pool" if "RS256" in case or
                "EdDSA" in case or case.startswith("verify otp") else "cycle")
    perf.send_signal(2)
    perf.wait()
    say("bench: %s: %.0f req/s, p99 %.2f ms" % (case, r["rate"],
                                                 r["p99_us"] / 1000))
    p = subprocess.run(["perf", "report", "-i", str(data), "--stdio",
                        "--no-children", "--sort", "symbol", "-g", "none",
                        "--percent-limit", "0.7"],
                       capture_output=True, text=True)
    say("\n".join(ln for ln in p.stdout.splitlines()
                   if ln.strip() and not ln.startswith("#")))


def disk_probe(build, root, *mode):
    """The single-writer commit rates on this file system (lmdb-commits):
    synced, and with MDB_NOSYNC unless "mode" is ("synced",). The synced
    rate is the base of the durable-verification target."""
    d = root / "lmdb"
    p = subprocess.run([str(build / "lmdb-commits"), str(d),
                        str(PROBE_SECONDS), *mode], capture_output=True,
                       text=True, check=True)
    shutil.rmtree(d, ignore_errors=True)
    return dict((k, float(v)) for k, v in
                (ln.split() for ln in p.stdout.splitlines()))


def clear_outbox(build, db):
    """Removes the out-of-band messages a case left in the outbox, as a
    delivery agent would have (bench-provision --clear-outbox)."""
    p = subprocess.run([str(build / "bench-provision"), str(db),
                        "--clear-outbox"], capture_output=True, text=True,
                       timeout=120)
    if p.returncode != 0:
        raise SystemExit("bench: bench-provision: %s" % p.stderr)


def replay_check(url, reqfile, n=20):
    """Sends "n" of the codes just accepted again; returns how many were
    accepted a second time (must be 0). wrk calls request() once in thread
    0 before it starts (to count pipelined requests), so the first line is
    never sent: the check starts after the first lines of every thread."""
    import requests
    s = requests.Session()
    s.trust_env = False
    accepted = 0
    with open(reqfile) as f:
        lines = f.readlines()
    for ln in lines[2 * THREADS:2 * THREADS + n]:
        path, _, ctype, body = ln.rstrip("\n").split("\t", 3)
        r = s.post(url + path, data=body, headers={"Content-Type": ctype},
                   timeout=10)
        accepted += r.status_code == 200
    return accepted


def durable_ratio(rows, probes):
    """The median over the rounds of verification's requests/s over the
    synced-commit rate measured just before it in the same round."""
    synced = {p["round"]: p["synced_commits_per_s"] for p in probes}
    return median([r["rate"] / synced[r["round"]] for r in rows
                   if r["case"].startswith("verify otp") and
                   synced.get(r["round"])] or [0])


def report(rows, cases, expected, first, probes, syncs, batches, replays,
           mach, results, t_start):
    ceil = {r["round"]: r["rate"] for r in rows if r["case"] == "ceiling"}
    for r in rows:
        r["ratio"] = r["rate"] / ceil[r["round"]] if ceil[r["round"]] else 0
    summary = []
    for c in cases:
        rs = [r for r in rows if r["case"] == c]
        summary.append({
            "case": c, "expected": expected[c],
            "rps_median": median([r["rate"] for r in rs]),
            "rps_min": min(r["rate"] for r in rs),
            "rps_max": max(r["rate"] for r in rs),
            "ratio_median": median([r["ratio"] for r in rs]),
            "p50_ms": median([r["p50_ms"] for r in rs]),
            "p99_ms": median([r["p99_ms"] for r in rs]),
            "p99_max_ms": max(r["p99_ms"] for r in rs),
            "errors": sum(r["errors"] for r in rs),
            "cpu_us": median([r["cpu_us"] for r in rs]),
            "wr_kb": median([r["wr_kb"] for r in rs]),
            "rss_kib": max(r["rss_kib"] for r in rs)})
    out = []
    w = out.append
    w("make bench: %s, %d processes, wrk -t%d -c%d, %d rounds x %g s, "
      "%s" % (SERVER, PROCS, THREADS, CONNS, ROUNDS, SECONDS,
              time.strftime("%Y-%m-%d %H:%M")))
    w("machine: %d x %s, %s, Linux %s, load at start %s" % (
        mach["nproc"], mach["cpu"], mach["fs"], mach["kernel"],
        mach["load"]))
    w("")
    w("%-26s %4s %8s %8s %8s %6s %7s %7s %6s %7s %6s %6s" % (
        "case", "want", "req/s", "min", "max", "x ceil", "p50 ms",
        "p99 ms", "errors", "RSS KiB", "CPU us", "wr KB"))
    for s in summary:
        w("%-26s %4d %8.0f %8.0f %8.0f %6.2f %7.2f %7.2f %6d %7d %6.0f "
          "%6.1f" % (
              s["case"], s["expected"], s["rps_median"], s["rps_min"],
              s["rps_max"], s["ratio_median"], s["p50_ms"], s["p99_ms"],
              s["errors"], s["rss_kib"], s["cpu_us"], s["wr_kb"]))
    w("")
    ver = next((s for s in summary if s["case"].startswith("verify otp")),
               None)
    durable = durable_ratio(rows, probes)
    syn = [p["synced_commits_per_s"] for p in probes] or [0]
    w("LMDB single writer on this file system: %.0f synced commits/s before "
      "the rounds, %.0f with MDB_NOSYNC" % (first["synced_commits_per_s"],
                                            first["nosync_commits_per_s"]))
    if probes:
        w("  synced again before each round's verification: median %.0f/s "
          "(%.0f-%.0f)" % (median(syn), min(syn), max(syn)))
    if syncs[0]:
        w("durable verification: %d durable commits in %d fdatasyncs "
          "(%.1f commits per sync)" % (syncs[1], syncs[0],
                                       syncs[1] / syncs[0]))
    if batches[0]:
        w("queued challenges: %d in %d write transactions (%.2f per commit)"
          % (batches[1], batches[0], batches[1] / batches[0]))
    big = max((r for r in rows if r["case"] != "ceiling"),
              key=lambda r: r["rss_kib"], default=None)
    if big is not None and big["memory"]["rss"]:
        m = big["memory"]
        w("largest worker (%s, round %d): %d KiB resident without the LMDB "
          "map, %d KiB of it its own (heap %d), libcrypto's shared pages "
          "%d, libc's %d" % (big["case"], big["round"], m["rss"],
                              m["private"], m["heap"], m["libcrypto"],
                              m["libc"]))
    w("")
    w("targets (printed, not enforced):")
    by = {s["case"]: s for s in summary}
    for c, t in TARGETS:
        s = by.get(c)
        if s is None:
            continue
        w("  %-40s %5.2f x ceiling (>= %.2f)  %s" % (
            c, s["ratio_median"], t,
            "met" if s["ratio_median"] >= t else "NOT met"))
    if ver:
        w("  %-40s %5.2f x synced commits (>= %.1f), %d replays accepted  %s"
          % ("durable verification", durable, DURABLE_FACTOR, replays,
             "met" if durable >= DURABLE_FACTOR and replays == 0
             else "NOT met"))
        # the rested disk often reads faster than in the rounds: said too
        w("  %-40s %5.2f x the probe before the rounds" % (
            "", ver["rps_median"] / first["synced_commits_per_s"]
            if first["synced_commits_per_s"] else 0))
    p99s = [s["p99_max_ms"] for s in summary
            if s["case"].startswith("challenge")]
    if p99s:    # none when BENCH_CASES left the challenges out
        worst = max(p99s)
        w("  %-40s %5.2f ms worst round (< %.0f ms)  %s" % (
            "challenge p99 at %d connections" % CONNS, worst, P99_TARGET_MS,
            "met" if worst < P99_TARGET_MS else "NOT met"))
    rss = max([s["rss_kib"] for s in summary if s["case"] != "ceiling"]
              or [0])
    w("  %-40s %5.1f MiB (< 8 MiB)  %s" % (
        "worker RSS without the LMDB map", rss / 1024,
        "met" if rss < RSS_TARGET_KIB else "NOT met"))
    errs = sum(s["errors"] for s in summary)
    w("  %-40s %d  %s" % ("non-expected statuses", errs,
                          "met" if errs == 0 else "NOT met"))
    w("")
    w("total time %.0f s; results in bench/results/" % (
        time.monotonic() - t_start))
    text = "\n".join(out) + "\n"
    say("")
    say(text)
    (results / "bench.txt").write_text(text)
    with open(results / "bench.csv", "w", newline="") as fh:
        cw = csv.writer(fh)
        keys = ["case", "expected", "rps_median", "rps_min", "rps_max",
                "ratio_median", "p50_ms", "p99_ms", "p99_max_ms", "errors",
                "rss_kib", "cpu_us", "wr_kb"]
        cw.writerow(keys)
        for s in summary:
            cw.writerow([("%.3f" % s[k]) if isinstance(s[k], float)
                         else s[k] for k in keys])
    with open(results / "rounds.csv", "w", newline="") as fh:
        cw = csv.writer(fh)
        keys = ["round", "case", "rate", "ratio", "p50_ms", "p99_ms",
                "errors", "rss_kib", "cpu_us", "wr_kb", "responses"]
        cw.writerow(keys + ["synced_commits_per_s"])
        synced = {p["round"]: p["synced_commits_per_s"] for p in probes}
        for r in rows:
            cw.writerow([("%.3f" % r[k]) if isinstance(r[k], float)
                         else r[k] for k in keys] +
                        ["%.0f" % synced[r["round"]]
                         if r["case"].startswith("verify otp") and
                         r["round"] in synced else ""])
    chart(summary, results)
    text_chart(summary, results)


def text_chart(summary, results):
    """The chart as text for README: each case's median requests/s as a
    bar against the ceiling's, with the target ratio marked "|"."""
    width = 50
    ceil = next(s for s in summary if s["case"] == "ceiling")["rps_median"]
    want = dict(TARGETS)
    out = ["requests/s, median of %d rounds; the bar is that median over "
           "the ceiling's (the table's ratio is the median of each round's "
           "ratio), | the target" % ROUNDS, ""]
    for s in summary:
        ratio = s["rps_median"] / ceil if ceil else 0
        bar = list("#" * min(width, int(round(ratio * width))) +
                   " " * max(0, width - int(round(ratio * width))))
        if s["case"] in want:
            i = min(width - 1, int(round(want[s["case"]] * width)))
            bar[i] = "|" if bar[i] == " " else "+"
        out.append("%-24s %s %6.0f  %4.2f" % (s["case"], "".join(bar),
                                               s["rps_median"], ratio))
    text = "\n".join(out) + "\n"
    (results / "bench-chart.txt").write_text(text)
    say(text)


def chart(summary, results):
    dat = results / "bench.dat"
    with open(dat, "w") as f:
        for i, s in enumerate(summary):
            f.write('%d "%s" %.1f %.1f %.1f %.3f\n' % (
                i, s["case"], s["rps_median"], s["rps_min"], s["rps_max"],
                s["p99_ms"]))
    script = """
set terminal pngcairo size 1200,640 noenhanced font ",10"
set output "%(png)s"
set title "make bench: requests/s (median, min-max of %(rounds)d rounds), %(server)s, %(procs)d processes, %(conns)d connections"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -35
set ylabel "requests/s"
set y2label "p99 latency, ms"
set y2tics
set ytics nomirror
set yrange [0:*]
set y2range [0:*]
set grid ytics
set key top right
plot "%(dat)s" using 1:3:xtic(2) with boxes title "req/s (median)", \\
     "" using 1:3:4:5 with yerrorbars lc rgb "black" pt 0 title "min-max", \\
     "" using 1:6 axes x1y2 with linespoints lw 2 pt 7 title "p99 ms"
""" % {"png": results / "bench.png", "dat": dat, "rounds": ROUNDS,
       "server": SERVER, "procs": PROCS, "conns": CONNS}
    p = subprocess.run(["gnuplot"], input=script, text=True,
                       capture_output=True)
    if p.returncode != 0:
        # pngcairo may be missing: the plain png terminal then
        script = script.replace("pngcairo", "png")
        p = subprocess.run(["gnuplot"], input=script, text=True,
                           capture_output=True)
    if p.returncode != 0:
        say("bench: gnuplot failed: %s" % p.stderr)
    dat.unlink()


if __name__ == "__main__":
    main()
