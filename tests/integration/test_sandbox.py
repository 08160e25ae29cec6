"""The worker's lock-down: privilege drop and the seccomp allow-list.

"mfa.fcgi --lockdown-test" locks a child down exactly as a worker does and
tries what must be stopped (execve, fork, socket(AF_INET), setuid(0)) and
what serving needs (file I/O, clock, randomness). Run as root (CI is), the
drop to "nobody" is proven: setuid(0) fails afterwards. Then real servers:
workers under "user = nobody" run as nobody with the filter on and serve; a
debug-mode server (sandbox = log) serves too; a worker that cannot lock
down refuses to serve.
"""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import make_client, make_user
from servers import (FCGI_BIN, Http, Store, assert_ok, challenge,
                     clean_env, http_token, start_server, stop_server)

ROOT = os.geteuid() == 0
root_only = pytest.mark.skipif(not ROOT, reason="needs root (CI runs as "
                               "root)")

FORBIDDEN = ["execve", "fork", "socket(AF_INET)", "setuid(0) in the sandbox",
             "unlink", "rename", "link", "chmod"]
FILES = "file I/O (open, create, write, fsync, read), clock, randomness"


def lockdown_test(**env):
    p = subprocess.run([str(FCGI_BIN), "--lockdown-test"],
                       capture_output=True, text=True, timeout=60,
                       env=clean_env(**env), stdin=subprocess.DEVNULL)
    lines = dict(ln.split(": ", 1) for ln in p.stdout.splitlines())
    return p, lines


def test_sandbox_kills_what_is_not_allowed():
    p, lines = lockdown_test(MFA_SANDBOX="on",
                             **({"MFA_USER": "nobody"} if ROOT else {}))
    assert p.returncode == 0, (p.stdout, p.stderr)
    for name in FORBIDDEN:
        assert lines[name] == "killed by SIGSYS", (name, p.stdout)
    assert lines[FILES] == "ok", p.stdout


def test_sandbox_debug_mode_logs_and_refuses():
    p, lines = lockdown_test(MFA_SANDBOX="log",
                             **({"MFA_USER": "nobody"} if ROOT else {}))
    assert p.returncode == 0, (p.stdout, p.stderr)
    for name in FORBIDDEN:
        assert lines[name] == "refused (Function not implemented)", \
            (name, p.stdout)
    assert lines[FILES] == "ok"
    # the offending call is named by number in the log (x86-64: 59 execve)
    warn = [ln for ln in p.stderr.splitlines()
            if "sandbox: system call" in ln and "debug mode" in ln]
    assert len(warn) == len(FORBIDDEN), p.stderr
    if os.uname().machine == "x86_64":
        # 59 execve, 87 unlink, 82 rename, 86 link, 90 chmod
        for nr in (59, 87, 82, 86, 90):
            assert "system call %d is not on the allow-list" % nr \
                in p.stderr, p.stderr


def test_sandbox_off_stops_nothing():
    p, lines = lockdown_test(MFA_SANDBOX="off",
                             **({"MFA_USER": "nobody"} if ROOT else {}))
    assert lines["execve"] == "ok" or lines["execve"] == "ALLOWED"
    assert p.returncode == 1


@root_only
def test_privilege_drop_is_proven():
    p, lines = lockdown_test(MFA_USER="nobody")
    assert lines["identity"].startswith("root; user = \"nobody\"")
    assert lines["setuid(0) after the drop"] == \
        "refused (Operation not permitted)", p.stdout
    # without a user to drop to, root stays root: the test says so
    p, lines = lockdown_test()
    assert lines["setuid(0) after the drop"] == "ALLOWED"
    assert p.returncode == 1


@root_only
def test_unknown_user_refuses_to_start(tmp_path):
    store = Store.create(tmp_path / "store")
    sock = tmp_path / "s.sock"
    # A worker that cannot drop privileges refuses to serve: in the
    # single-process model (FD 0, as under mod_fcgid) the process exits.
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(sock))
    s.listen(8)
    p = subprocess.run([str(FCGI_BIN)], stdin=s.fileno(),
                       capture_output=True, text=True, timeout=30,
                       env=clean_env(MFA_DB=store.path,
                                     MFA_USER="no-such-user-x"))
    s.close()
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "refusing to serve: user no-such-user-x: no such user" in \
        p.stderr, p.stderr


@root_only
def test_workers_run_as_the_configured_user(tmp_path_factory):
    """Standalone as root with user = nobody: each worker runs as nobody
    (real, effective, saved, file system ids), under seccomp with
    no_new_privs, and serves otp and oob (the spool written as nobody)."""
    base = Path(tempfile.mkdtemp(prefix="mfa-it-", dir="/tmp"))
    os.chmod(base, 0o755)
    try:
        store = Store.create(base / "store")
        for d, dirs, files in os.walk(store.path):
            for n in [d] + [os.path.join(d, x) for x in dirs + files]:
                shutil.chown(n, "nobody", "nogroup")
        srv = start_server("standalone", base, workers=2, store=store,
                           env={"MFA_USER": "nobody"})
        try:
            app = make_client(store, "dropped", "otp oob")
            user = make_user(store, "dropped")
            http = Http(srv.url)
            workers = srv.wait_workers(2)
            assert len(workers) == 2
            for w in workers:
                st = open("/proc/%d/status" % w).read()
                uid = [ln.split()[1:] for ln in st.splitlines()
                       if ln.startswith("Uid:")][0]
                assert uid == ["65534"] * 4, uid
                assert "Seccomp:\t2" in st and "NoNewPrivs:\t1" in st
                groups = [ln for ln in st.splitlines()
                          if ln.startswith("Groups:")][0]
                assert groups.split()[1:] in ([], ["65534"]), groups
            token = http_token(http, app, user.id)
            assert_ok(challenge(http, app, token, challenge_type="otp"))
            before = store.spool_files()
            assert_ok(challenge(http, app, token, challenge_type="oob"))
            assert len(store.wait_new_spool(before)) == 1
            assert "as root" not in srv.log_text(tail=None)
        finally:
            stop_server(srv)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_debug_mode_server_serves(server_factory):
    srv = server_factory("lighttpd", workers=2, MFA_SANDBOX="log")
    app = make_client(srv.store, "debug", "otp")
    user = make_user(srv.store, "debug", sms=False)
    http = Http(srv.url)
    assert_ok(challenge(http, app, http_token(http, app, user.id)))
    for w in srv.wait_workers(2):
        assert "Seccomp:\t2" in open("/proc/%d/status" % w).read()
    # nothing the service does is off the list
    time.sleep(0.2)
    assert "not on the allow-list" not in srv.log_text(tail=None)
