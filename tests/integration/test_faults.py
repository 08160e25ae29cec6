"""Faults injected for real, each with the same two assertions: no
acknowledged write is lost (every mfa_token answered 200 still works, every
oob challenge answered 200 is in the store with its published message) and
no request got a wrong answer (every answer is the right 200, or a clean
JSON 503, or -- for a request a killed process held -- a failed
connection; never a 200 for something that was not stored).

  kill -9 of workers in the middle of write transactions, under load
  kill -9 of the supervisor: the workers exit, nothing is orphaned
  SIGTERM under load: every request a worker took is answered in full
  SIGHUP under load: the new configuration takes effect, no request fails
  a tiny map (MDB_MAP_FULL): clean 503, reads go on, mfactl store grow
  a full disk (tmpfs) and a read-only store directory: 503, no corruption
  a missing or wrong master key: refuses to start and says why

Most run against the standalone deployment (nginx + mfa.fcgi --listen),
whose supervisor the harness starts itself.
"""

import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import make_client, make_user
from servers import (FCGI_BIN, Http, Store, assert_error, assert_ok,
                     challenge, clean_env, fcgi_request, http_token,
                     pid_alive, procs_mentioning, start_server, stop_server,
                     wait_gone)

ROOT = os.geteuid() == 0
UNAVAILABLE = "The service is temporarily unavailable; retry later"


# --------------------------------------------------------------- helpers

class Load:
    """Threads that each loop "step(http, out)" until stopped; "out" is
    the thread's list of results."""

    def __init__(self, url, step, threads=4):
        self.stop = threading.Event()
        self.results = []
        self.threads = []
        for _ in range(threads):
            out = []
            self.results.append(out)
            t = threading.Thread(target=self._run, args=(url, step, out))
            self.threads.append(t)
            t.start()

    def _run(self, url, step, out):
        http = Http(url)
        while not self.stop.is_set():
            step(http, out)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(60)
        return [r for out in self.results for r in out]


def token_step(app, user):
    """POST /mfa/token; records ("ok", token, expires_in, time),
    ("503", None), ("fail", text) for a cut connection or 502, or
    ("wrong", text)."""
    def step(http, out):
        try:
            r = http.post("/mfa/token", form={"user_id": user.id,
                                              **app.post})
        except requests.RequestException as e:
            out.append(("fail", repr(e)))
            return
        if r.status_code == 200:
            try:
                b = r.json()
                out.append(("ok", b["mfa_token"], b["expires_in"],
                            time.monotonic()))
            except (ValueError, KeyError):
                out.append(("wrong", r.text))
        elif r.status_code == 503 and r.headers.get(
                "Content-Type") == "application/json":
            b = r.json()
            out.append(("503" if b == {
                "error": "temporarily_unavailable",
                "error_description": UNAVAILABLE} else "wrong", r.text))
        elif r.status_code in (500, 502, 504) and not r.headers.get(
                "Content-Type", "").startswith("application/json"):
            out.append(("fail", r.status_code))     # the web server's
        else:
            out.append(("wrong", "%d %s" % (r.status_code, r.text)))
    return step


def assert_tokens_valid(http, app, tokens, sample=40, one_503=False):
    """No acknowledged token was lost: each works for a challenge. With
    "one_503" a request may first get one clean 503 (after a map grow, a
    worker that has not hit the full map yet adopts the new size after its
    own first MDB_MAP_FULL: README "Faults")."""
    tokens = list(tokens)
    random.shuffle(tokens)
    for tok in tokens[:sample]:
        r = challenge(http, app, tok, challenge_type="otp")
        if one_503 and r.status_code == 503:
            assert_error(r, 503, "temporarily_unavailable", UNAVAILABLE)
            r = challenge(http, app, tok, challenge_type="otp")
        assert assert_ok(r) == {"challenge_type": "otp"}


def assert_store_clean(store, dead=()):
    """The environment opens and every database reads (mdb_stat -a), and
    no reader slot belongs to a dead process."""
    p = subprocess.run(["mdb_stat", "-a", str(store.path)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "Status of challenges" in p.stdout and "Status of tokens" in \
        p.stdout
    p = subprocess.run(["mdb_stat", "-r", str(store.path)],
                       capture_output=True, text=True, timeout=60)
    assert "Reader Table Status" in p.stdout, p.stderr
    for pid in dead:
        assert not [ln for ln in p.stdout.splitlines()
                    if ln.split()[:1] == [str(pid)]], (pid, p.stdout)


# ----------------------------------------------------------------- kills

def test_kill_workers_mid_write(server_factory):
    """SIGKILL random workers while four clients create tokens and oob
    challenges (each queued with its message for the outbox, or one LMDB
    write transaction)."""
    srv = server_factory("standalone", workers=3, MFA_SMS_BURST=1000,
                         MFA_LOG_LEVEL="info")
    store = srv.store
    app = make_client(store, "kill", "otp oob")
    # several users: each has its own SMS bucket (at most 1000)
    users = [make_user(store, "kill") for _ in range(8)]
    oob = []

    def step(http, out):
        user = random.choice(users)
        token_step(app, user)(http, out)
        if out[-1][0] != "ok":
            return
        try:
            r = challenge(http, app, out[-1][1], challenge_type="oob")
        except requests.RequestException as e:
            out.append(("fail", repr(e)))
            return
        if r.status_code == 200:
            b = r.json()
            if b.get("challenge_type") != "oob" or not b.get("oob_code"):
                out.append(("wrong", r.text))
            else:
                oob.append(b["oob_code"])
        elif r.status_code not in (500, 502, 504):
            out.append(("wrong", "%d %s" % (r.status_code, r.text)))

    load = Load(srv.url, step)
    victims = []
    rng = random.Random(8)
    try:
        time.sleep(0.5)
        deadline = time.monotonic() + 30
        while len(victims) < 10 and time.monotonic() < deadline:
            time.sleep(rng.uniform(0.1, 0.4))
            # respawns back off while workers keep dying young
            ws = [w for w in srv.workers() if w not in victims]
            if ws:
                v = rng.choice(ws)
                os.kill(v, signal.SIGKILL)
                victims.append(v)
        time.sleep(0.5)
    finally:
        results = load.finish()
    assert len(victims) == 10
    assert wait_gone(victims, 10) == []
    assert [r for r in results if r[0] == "wrong"] == []
    tokens = [r[1] for r in results if r[0] == "ok"]
    assert len(tokens) > 20 and len(oob) > 10, (len(tokens), len(oob))
    assert len(srv.wait_workers(3)) == 3
    assert_store_clean(store, dead=victims)
    # every acknowledged oob challenge was committed with its message
    msgs = [json.loads(v) for v in store.outbox().values()]
    assert len(msgs) >= len(oob)
    for m in msgs:
        assert store.challenge_show(m["challenge_id"])["state"] == "pending"
    http = Http(srv.url)
    assert_tokens_valid(http, app, tokens)
    for user in users[:5]:      # and the next requests just work
        assert_ok(challenge(http, app, http_token(http, app, user.id),
                            challenge_type="oob"))
    log = srv.log_text(tail=None)
    for v in victims:
        assert "(pid %d) killed by signal 9 (SIGKILL)" % v in log


def test_kill_supervisor_leaves_no_orphans(server_factory, tmp_path):
    srv = server_factory("standalone", workers=3)
    store = srv.store
    app = make_client(store, "orphan", "otp")
    user = make_user(store, "orphan", sms=False)
    workers = srv.wait_workers(3)
    assert len(workers) == 3
    load = Load(srv.url, token_step(app, user), threads=2)
    try:
        time.sleep(0.5)
        os.kill(srv.fcgi_pid, signal.SIGKILL)
        # PR_SET_PDEATHSIG: each worker gets SIGTERM, finishes its
        # request and exits
        assert wait_gone(workers, 10) == []
    finally:
        results = load.finish()
    assert procs_mentioning(str(store.path)) == {}
    assert [r for r in results if r[0] == "wrong"] == []
    tokens = [r[1] for r in results if r[0] == "ok"]
    assert tokens
    # a new instance on the same store finds every acknowledged token
    srv2 = start_server("standalone", tmp_path / "again", workers=2,
                        store=store)
    try:
        assert_tokens_valid(Http(srv2.url), app, tokens)
    finally:
        stop_server(srv2)


def _fcgi_token(sock, app, user):
    body = ("user_id=%s&client_id=%s&client_secret=%s" % (
        user.id, app.id, app.secret)).encode()
    params = {"REQUEST_METHOD": "POST", "REQUEST_URI": "/mfa/token",
              "SCRIPT_NAME": "/mfa/token",
              "CONTENT_TYPE": "application/x-www-form-urlencoded",
              "CONTENT_LENGTH": str(len(body)), "SERVER_PROTOCOL":
              "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1"}
    return fcgi_request(sock, params, stdin=body, timeout=20)


def test_sigterm_under_load_answers_every_taken_request(server_factory,
                                                          tmp_path):
    """FastCGI straight to the socket: a connection is either refused
    (socket gone), dropped unread by the kernel when the listener closes,
    or answered in full with the right 200. Never a partial answer or an
    error from the service."""
    srv = server_factory("standalone", workers=3)
    store = srv.store
    app = make_client(store, "term", "otp")
    user = make_user(store, "term", sms=False)
    sock = srv.fcgi_socket()
    outcomes = []
    stop = threading.Event()

    def client():
        while not stop.is_set():
            try:
                status, headers, body = _fcgi_token(sock, app, user)
            except (FileNotFoundError, ConnectionRefusedError):
                outcomes.append(("refused",))
                time.sleep(0.01)
                continue
            except (ConnectionResetError, BrokenPipeError):
                outcomes.append(("dropped",))
                continue
            if body == b"":
                outcomes.append(("dropped",))
                continue
            try:
                outcomes.append((status, json.loads(body)))
            except ValueError:
                outcomes.append(("partial", body))

    ts = [threading.Thread(target=client) for _ in range(6)]
    for t in ts:
        t.start()
    try:
        time.sleep(1.0)
        os.kill(srv.fcgi_pid, signal.SIGTERM)
        assert srv.backend.wait(40) == 0
        time.sleep(0.3)
    finally:
        stop.set()
        for t in ts:
            t.join(60)
    answered = [o for o in outcomes if isinstance(o[0], int)]
    assert [o for o in outcomes if o[0] == "partial"] == []
    assert len(answered) > 20, outcomes[:5]
    for status, body in answered:
        assert status == 200 and len(body["mfa_token"]) == 43, body
    # no new ones taken: the socket is gone
    assert not sock.exists()
    assert "SIGTERM received" in srv.log_text(tail=None)
    srv2 = start_server("standalone", tmp_path / "again", workers=2,
                        store=store)
    try:
        assert_tokens_valid(Http(srv2.url), app,
                            [b["mfa_token"] for _, b in answered])
    finally:
        stop_server(srv2)


def test_sighup_under_load_zero_failures(tmp_path_factory):
    srv = start_server("standalone", tmp_path_factory.mktemp("hup"),
                       workers=3, config="token_ttl = 600\n")
    try:
        store = srv.store
        app = make_client(store, "hup", "otp")
        user = make_user(store, "hup", sms=False)
        load = Load(srv.url, token_step(app, user), threads=4)
        try:
            time.sleep(0.7)
            srv.config_path.write_text("token_ttl = 120\n")
            os.kill(srv.fcgi_pid, signal.SIGHUP)
            deadline = time.monotonic() + 30
            while "reload complete" not in srv.log_text(tail=None):
                assert time.monotonic() < deadline, srv.log_text()
                time.sleep(0.05)
            done = time.monotonic()
            time.sleep(0.7)
        finally:
            results = load.finish()
        assert [r for r in results if r[0] != "ok"] == []
        ttls = [r[2] for r in results]
        assert ttls[0] == 600 and 120 in ttls
        after = [r[2] for r in results if r[3] > done + 0.05]
        assert after and set(after) == {120}, after
        assert_tokens_valid(Http(srv.url), app, [r[1] for r in results],
                            sample=20)
    finally:
        stop_server(srv)


# ------------------------------------------------------------ full store

def test_map_full_then_grow(tmp_path_factory):
    """A 1 MiB map fills: writes answer a clean 503, reads go on, nothing
    acknowledged is lost; "mfactl store grow" lets writes resume with no
    restart (each worker may answer one more 503 before it adopts)."""
    small = {"MFA_MAP_SIZE": "1M"}
    srv = start_server("standalone", tmp_path_factory.mktemp("full"),
                       workers=2, env=small, init_env=small)
    try:
        store = srv.store
        app = make_client(store, "full", "otp")
        user = make_user(store, "full", sms=False)
        http = Http(srv.url)
        load = Load(srv.url, token_step(app, user), threads=4)
        deadline = time.monotonic() + 240
        try:
            while not any(r[0] == "503" for out in load.results
                          for r in out):
                assert time.monotonic() < deadline, "the map never filled"
                time.sleep(0.2)
            time.sleep(0.3)
        finally:
            results = load.finish()
        assert [r for r in results if r[0] in ("wrong", "fail")] == []
        tokens = [r[1] for r in results if r[0] == "ok"]
        # full: writes fail cleanly (one that fits in pages freed since,
        # by the last commits before the map filled, may still pass)
        refused = 0
        for _ in range(50):
            r = http.post("/mfa/token", form={"user_id": user.id,
                                              **app.post})
            if r.status_code == 200:
                tokens.append(r.json()["mfa_token"])
                continue
            assert_error(r, 503, "temporarily_unavailable", UNAVAILABLE)
            refused += 1
            if refused == 3:
                break
        assert refused == 3
        # reads go on
        r = http.request("GET", "/.well-known/jwks.json")
        assert r.status_code == 200 and r.json()["keys"]
        assert store.ctl("client", "show", app.id)["client_id"] == app.id
        assert "no room to write" in srv.log_text(tail=None)
        assert_store_clean(store)
        grown = store.ctl("store", "grow", "16M")
        assert grown["map_size"] == 16 * 1024 * 1024
        # each worker adopts the grown map when a write needs a page
        # beyond the old one (one that fits in freed pages needs none),
        # after one more 503 of its own at most; it logs after its reply
        codes = []
        deadline = time.monotonic() + 30
        while "map size grown" not in srv.log_text(tail=None) or \
                len(codes) < 12:
            assert time.monotonic() < deadline, ("no map adopted", codes)
            codes.append(http.post("/mfa/token", form={
                "user_id": user.id, **app.post}).status_code)
        for _ in range(8):
            codes.append(http.post("/mfa/token", form={
                "user_id": user.id, **app.post}).status_code)
        assert codes[-8:] == [200] * 8, codes
        assert codes.count(503) <= 2, codes
        assert_tokens_valid(http, app, tokens, one_503=True)
    finally:
        stop_server(srv)


def _mount(*args):
    return subprocess.run(["mount", *args], capture_output=True, text=True,
                          timeout=30)


needs_mount = pytest.mark.skipif(not ROOT, reason="mounts need root")


@needs_mount
def test_disk_full_then_space_freed(tmp_path_factory):
    mnt = Path(tempfile.mkdtemp(prefix="mfa-full-", dir="/tmp"))
    p = _mount("-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(mnt))
    if p.returncode != 0:
        mnt.rmdir()
        pytest.skip("cannot mount a tmpfs here: %s" % p.stderr.strip())
    srv = None
    try:
        store = Store.create(mnt / "store")
        srv = start_server("standalone", tmp_path_factory.mktemp("disk"),
                           workers=2, store=store)
        app = make_client(store, "disk", "otp")
        user = make_user(store, "disk", sms=False)
        http = Http(srv.url)
        st = os.statvfs(mnt)
        with open(mnt / "ballast", "wb") as f:
            f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - 96 * 1024))
        load = Load(srv.url, token_step(app, user), threads=3)
        deadline = time.monotonic() + 120
        try:
            while not any(r[0] == "503" for out in load.results
                          for r in out):
                assert time.monotonic() < deadline, "the disk never filled"
                time.sleep(0.1)
        finally:
            results = load.finish()
        assert [r for r in results if r[0] in ("wrong", "fail")] == []
        # A full disk is not a steady state (LMDB reuses freed pages, so
        # a small write may still fit): each answer is a right 200 or a
        # clean 503, never a 500.
        step = token_step(app, user)
        more = []
        for _ in range(20):
            step(http, more)
        assert [r for r in more if r[0] not in ("ok", "503")] == []
        tokens = [r[1] for r in results + more if r[0] == "ok"]
        assert tokens
        r = http.request("GET", "/.well-known/jwks.json")
        assert r.status_code == 200
        assert_store_clean(store)
        os.unlink(mnt / "ballast")
        for _ in range(10):
            assert_ok(http.post("/mfa/token", form={"user_id": user.id,
                                                    **app.post}))
        assert_tokens_valid(http, app, tokens)
    finally:
        if srv is not None:
            stop_server(srv)
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True,
                       timeout=30)
        shutil.rmtree(mnt, ignore_errors=True)


@needs_mount
def test_read_only_store(tmp_path_factory, tmp_path):
    """A store on a read-only file system: the service refuses to start
    and says so. A store that turns read-only while serving: a challenge,
    otp or oob, is answered 200 (queued in sync.state, committed once the
    store can be written again, an oob one with its message) or a clean
    503; nothing is corrupted; back to read-write, everything works and
    no acknowledged challenge is lost."""
    store = Store.create(tmp_path / "store")
    d = str(store.path)
    p = _mount("--bind", d, d)
    if p.returncode != 0:
        pytest.skip("cannot bind-mount here: %s" % p.stderr.strip())
    try:
        assert _mount("-o", "remount,ro,bind", d).returncode == 0
        p = subprocess.run([str(FCGI_BIN), "--check"], capture_output=True,
                           text=True, timeout=30,
                           env=clean_env(MFA_DB=d))
        assert p.returncode == 1
        assert "store directory %s: Read-only file system" % d in \
            p.stderr, p.stderr
    finally:
        subprocess.run(["umount", d], capture_output=True, timeout=30)

    srv = start_server("standalone", tmp_path_factory.mktemp("ro"),
                       workers=2, store=store)
    try:
        app = make_client(store, "ro", "otp oob")
        user = make_user(store, "ro")
        http = Http(srv.url)
        token = http_token(http, app, user.id)
        assert _mount("--bind", d, d).returncode == 0
        try:
            assert _mount("-o", "remount,ro,bind", d).returncode == 0
            before = store.spool_files()
            # 200 (LMDB's files were open before, the queue is a shared
            # mapping) or a clean 503, never anything else
            oob = challenge(http, app, token, challenge_type="oob")
            assert oob.status_code in (200, 503), oob.text
            if oob.status_code == 503:
                assert oob.json()["error"] == "temporarily_unavailable"
            for _ in range(5):
                r = challenge(http, app, token, challenge_type="otp")
                assert r.status_code in (200, 503), r.text
        finally:
            subprocess.run(["umount", d], capture_output=True, timeout=30)
        assert_store_clean(store)
        new = store.wait_new_spool(before)
        assert len(new) == (1 if oob.status_code == 200 else 0), new
        assert_ok(challenge(http, app, token, challenge_type="oob"))
        assert_tokens_valid(http, app, [token], sample=1)
    finally:
        stop_server(srv)


# ------------------------------------------------------------ master key

def test_missing_or_wrong_master_key_refuses_to_start(tmp_path):
    store = Store.create(tmp_path / "store")
    key = store.path / "master.key"
    env = clean_env(MFA_DB=store.path)

    def check():
        return subprocess.run([str(FCGI_BIN), "--check"],
                              capture_output=True, text=True, timeout=30,
                              env=env)

    assert check().returncode == 0
    good = key.read_bytes()
    key.chmod(0o600)
    key.unlink()
    p = check()
    assert p.returncode == 1
    assert "%s: No such file or directory (create the store with" % key \
        in p.stderr, p.stderr
    key.write_bytes(os.urandom(32))
    key.chmod(0o400)
    p = check()
    assert p.returncode == 1
    assert "master.key does not open the store's sealed keys: it is not " \
        "the master key this store was made with" in p.stderr, p.stderr
    # the supervisor refuses too, before it forks a worker
    sock = tmp_path / "s.sock"
    p = subprocess.run([str(FCGI_BIN), "--listen", "unix:%s" % sock],
                       capture_output=True, text=True, timeout=30, env=env)
    assert p.returncode == 1 and "does not open" in p.stderr
    assert "worker" not in p.stderr and not sock.exists()
    key.chmod(0o600)
    key.write_bytes(good[:16])
    p = check()
    assert p.returncode == 1 and "cannot load" in p.stderr, p.stderr
    key.write_bytes(good)
    assert check().returncode == 0
