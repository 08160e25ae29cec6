"""The deployments of README "Deployment", each started by the harness on
loopback in a temporary directory and stopped by PID: Apache + mod_fcgid,
lighttpd (bin-path), nginx + spawn-fcgi started by contrib/mfa-spawn from
a spawn.conf, and nginx + the service's own --listen with --workers.

The same black-box smoke suite runs against each: a challenge with a client
secret (Basic through the web server), an error row of the decision table,
a bad input; then the access log (one line per request, no secret), the
lock-down of the serving processes (seccomp on), and for mod_fcgid many
processes on one store, one of them killed mid-load. "make install" is
checked here too (PREFIX and DESTDIR).
"""

import os
import signal
import subprocess
import threading
import time

import pytest

from conftest import make_client, make_user
from servers import (HOST_KINDS, REPO, Http, Snapshot, assert_error,
                     assert_ok, basic_header, challenge, http_token,
                     pid_alive, start_server, stop_server, wait_gone)


@pytest.fixture(scope="module", params=HOST_KINDS)
def host(request, tmp_path_factory):
    srv = start_server(request.param,
                       tmp_path_factory.mktemp("host-" + request.param),
                       workers=2, env={"MFA_LOG_LEVEL": "info"})
    yield srv
    stop_server(srv)


def totp_now(secret):
    return subprocess.run(["oathtool", "--totp", "-b", secret],
                          capture_output=True, text=True, check=True,
                          timeout=10).stdout.strip()


def serving_pids(srv):
    """The processes that answer requests: the supervisor's workers, or
    under mod_fcgid the processes it started."""
    return srv.wait_workers(1)


def status_field(pid, name):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    return None


def test_smoke_challenge_with_secret(host):
    """Basic client authentication through the web server, an mfa_token,
    an otp challenge and its verification, an oob challenge whose code is
    spooled."""
    store = host.store
    app = make_client(store, "smoke", "otp oob")
    user = make_user(store, "smoke")
    http = Http(host.url)
    r = http.post("/mfa/token", form={"user_id": user.id}, basic=app.basic)
    token = assert_ok(r)["mfa_token"]
    assert assert_ok(challenge(http, app, token, auth="basic",
                               challenge_type="otp")) == \
        {"challenge_type": "otp"}
    r = http.post("/oauth/token", basic=app.basic, form={
        "grant_type": "http://auth0.com/oauth/grant-type/mfa-otp",
        "mfa_token": token, "otp": totp_now(user.secret)})
    body = assert_ok(r)
    assert body["token_type"].lower() == "bearer" and body["access_token"]
    before = store.spool_files()
    b = assert_ok(challenge(http, app, http_token(http, app, user.id),
                            challenge_type="oob"))
    assert b["challenge_type"] == "oob" and b["binding_method"] == "prompt"
    assert len(store.wait_new_spool(before)) == 1
    # a wrong secret: 401 with the Basic challenge, through every server
    r = http.post("/mfa/token", form={"user_id": user.id},
                  headers={"Authorization": basic_header(app.id, "wrong")})
    assert_error(r, 401, "invalid_client", "Client authentication failed")


def test_smoke_error_row(host):
    """Row 5a of the decision table: nothing stored."""
    store = host.store
    app = make_client(store, "smoke-err", "otp oob")
    user = make_user(store, "smoke-err")
    http = Http(host.url)
    token = http_token(http, app, user.id)
    snap = Snapshot(store)
    assert_error(challenge(http, app, token, authenticator_id="totp|dev_x"),
                 400, "invalid_request",
                 "authenticator_id does not name an authenticator of this "
                 "user")
    snap.assert_unchanged()


def test_smoke_bad_input(host):
    """Bad inputs answered as JSON by the service, not by the server."""
    http = Http(host.url)
    r = http.post("/mfa/token", raw=b"user_id=a&user_id=b",
                  content_type="application/x-www-form-urlencoded")
    assert_error(r, 400, "invalid_request", "duplicate parameter: user_id")
    r = http.post("/mfa/token", raw=b"{not json",
                  content_type="application/json")
    assert_error(r, 400, "invalid_request",
                 "request body is not valid JSON:", prefix=True)
    r = http.request("GET", "/no/such/endpoint")
    assert_error(r, 404, "not_found", "no such endpoint: /no/such/endpoint")


def test_access_log_without_secrets(host):
    """One access line per request with method, path, status, duration and
    client id; no secret, token or code anywhere in the logs."""
    store = host.store
    app = make_client(store, "logged", "otp oob")
    user = make_user(store, "logged", sms=False)
    http = Http(host.url)
    token = http_token(http, app, user.id)
    code = totp_now(user.secret)
    r = http.post("/oauth/token", form={
        "grant_type": "http://auth0.com/oauth/grant-type/mfa-otp",
        "mfa_token": token, "otp": code, **app.post})
    assert_ok(r)
    r = http.post("/mfa/token", form={"user_id": user.id},
                  headers={"Authorization": basic_header(app.id, "nope")})
    assert r.status_code == 401
    want = ["access: POST /mfa/token 200 ", "access: POST /oauth/token 200 ",
            "access: POST /mfa/token 401 "]
    # the access line is written after the reply: wait for this client's
    # (the host's log has other tests' lines with the same words)
    deadline = time.monotonic() + 5
    while True:
        text = host.log_text(tail=None)
        lines = [ln for ln in text.splitlines() if "access: " in ln]
        hits = {w: [ln for ln in lines if w in ln and
                    "client=%s" % app.id in ln] for w in want}
        if all(hits.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for w in want:
        assert hits[w], (w, lines[-10:])
    assert any(" ms client=" in ln for ln in lines)
    # the 401 is a warning; the 200s are info
    assert [ln for ln in lines if "access: POST /mfa/token 401 " in ln
            and ": warn: " in ln], lines[-10:]
    for secret in (app.secret, token, user.secret, "nope"):
        assert secret not in text, "a secret is in the log"
    if code not in ("000000",):
        assert "otp=%s" % code not in text


def test_serving_processes_are_sandboxed(host):
    pids = serving_pids(host)
    assert pids, host.log_text()
    for p in pids:
        assert status_field(p, "Seccomp") == "2", (p, host.kind)
        assert status_field(p, "NoNewPrivs") == "1", (p, host.kind)
    assert "sandboxed" in host.log_text(tail=None)


def test_install_puts_man_pages_and_programs(tmp_path):
    dest = tmp_path / "dest"
    p = subprocess.run(["make", "-s", "-C", str(REPO), "install",
                        "DESTDIR=%s" % dest, "PREFIX=/opt/mfa"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    root = dest / "opt" / "mfa"
    for f, mode in (("bin/mfa.fcgi", 0o755), ("bin/mfactl", 0o755),
                    ("bin/mfa-deliver", 0o755), ("bin/mfa-gateway", 0o755),
                    ("share/man/man8/mfa-deliver.8", 0o644),
                    ("share/mfa/systemd/mfa-deliver.service", 0o644),
                    ("sbin/mfa-spawn", 0o755),
                    ("share/man/man8/mfa.fcgi.8", 0o644),
                    ("share/man/man8/mfactl.8", 0o644),
                    ("share/man/man5/spawn.conf.5", 0o644),
                    ("share/mfa/spawn.conf", 0o644),
                    ("share/mfa/apache/mfa-fcgid.conf.in", 0o644),
                    ("share/mfa/systemd/mfa.service", 0o644)):
        st = (root / f).stat()
        assert st.st_mode & 0o777 == mode, (f, oct(st.st_mode))
    man = (root / "share/man/man8/mfa.fcgi.8").read_text()
    assert man == (REPO / "man" / "mfa.fcgi.8").read_text()


# ------------------------------------------------------------ mod_fcgid

@pytest.fixture
def apache(tmp_path_factory):
    srv = start_server("apache", tmp_path_factory.mktemp("apache-own"),
                       env={"MFA_LOG_LEVEL": "info"})
    yield srv
    stop_server(srv)


def load(http, app, user, n_threads, seconds, results, stop=None):
    """Threads that create tokens and otp challenges until "seconds" pass
    (or "stop" is set); each result is (status, body or error text)."""
    def run():
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (stop and stop.is_set()):
            try:
                r = http.post("/mfa/token", form={"user_id": user.id,
                                                  **app.post})
                results.append((r.status_code, r.text))
                if r.status_code == 200:
                    tok = r.json()["mfa_token"]
                    r = challenge(http, app, tok, challenge_type="otp")
                    results.append((r.status_code, r.text))
            except Exception as e:      # a connection the kill cut
                results.append((None, repr(e)))
    ts = [threading.Thread(target=run) for _ in range(n_threads)]
    for t in ts:
        t.start()
    return ts


def test_mod_fcgid_processes_share_the_store(apache):
    """Concurrent load makes mod_fcgid run several processes on the one
    store; none pre-forks; every answer is right. Then one process is
    SIGKILLed under load: mod_fcgid replaces it, the store stays usable and
    every later request succeeds."""
    store = apache.store
    app = make_client(store, "fcgid", "otp")
    user = make_user(store, "fcgid", sms=False)
    results = []
    ts = load(Http(apache.url), app, user, 6, 4.0, results)
    for t in ts:
        t.join()
    procs = apache.responders()
    assert len(procs) >= 2, procs
    for p in procs:     # MFA_WORKERS=1: no supervisor, no children
        assert not [c for c in os.listdir("/proc") if c.isdigit() and
                    _ppid(int(c)) == p]
    bad = [r for r in results if r[0] != 200]
    assert not bad, bad[:5]
    assert len(results) > 20

    results = []
    ts = load(Http(apache.url), app, user, 4, 3.0, results)
    time.sleep(0.5)
    victim = apache.responders()[0]
    os.kill(victim, signal.SIGKILL)
    assert wait_gone([victim], 5) == []
    for t in ts:
        t.join()
    # Only requests the killed process held can fail (mod_fcgid answers
    # 500 for them); an answer is never a wrong 200.
    failed = [r for r in results if r[0] != 200]
    assert len(failed) <= 2, failed
    for status, text in results:
        if status == 200:
            assert '"mfa_token"' in text or '"challenge_type"' in text
    http = Http(apache.url)
    for _ in range(5):
        tok = http_token(http, app, user.id)
        assert assert_ok(challenge(http, app, tok, challenge_type="otp"))
    assert victim not in apache.responders()
    # The victim's LMDB reader slot is cleared by a surviving process
    # within a second of a request (mod_fcgid need not start a new one).
    deadline = time.monotonic() + 5
    while True:
        p = subprocess.run(["mdb_stat", "-r", str(store.path)],
                           capture_output=True, text=True, timeout=30)
        # (mdb_stat -r exits 1 even when it lists the table)
        assert "Reader Table Status" in p.stdout, (p.stdout, p.stderr)
        if " %d " % victim not in p.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.5)
        tok = http_token(http, app, user.id)
        assert assert_ok(challenge(http, app, tok, challenge_type="otp"))
    assert " %d " % victim not in p.stdout, p.stdout


def _ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        return int(s[s.rindex(")") + 2:].split()[1])
    except (OSError, ValueError):
        return None


def test_mfa_spawn_reload_and_status(tmp_path_factory):
    """contrib/mfa-spawn: status while running, reload rolls the workers
    (the supervisor stays), stop leaves nothing."""
    srv = start_server("mfa-spawn", tmp_path_factory.mktemp("spawn-own"),
                       workers=2)
    try:
        p = srv.mfa_spawn("status")
        assert "running (pid %d)" % srv.fcgi_pid in p.stdout
        old = srv.wait_workers(2)
        assert len(old) == 2
        srv.mfa_spawn("reload")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            now = srv.workers()
            if len(now) == 2 and not set(now) & set(old):
                break
            time.sleep(0.1)
        assert len(now) == 2 and not set(now) & set(old), (old, now)
        assert srv.supervisor_pid() == srv.fcgi_pid
        app = make_client(srv.store, "spawned", "otp")
        user = make_user(srv.store, "spawned", sms=False)
        http = Http(srv.url)
        assert_ok(challenge(http, app, http_token(http, app, user.id)))
    finally:
        stop_server(srv)
    assert not pid_alive(srv.fcgi_pid)
    assert srv.mfa_spawn("status", check=False).returncode == 3


# -------------------------------------------------------------- systemd

def test_systemd_units_verify(tmp_path):
    """contrib/systemd: the units pass systemd-analyze verify (with the
    built binary in place of /usr/local/bin) and keep the hardening the
    README promises: the socket on FD 0, no new privileges, a read-only
    system with the store as the only writable path."""
    import shutil as sh
    if sh.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    from servers import FCGI_BIN
    deliver = FCGI_BIN.parent / "mfa-deliver"
    for unit in ("mfa.socket", "mfa.service", "mfa-deliver.service"):
        text = (REPO / "contrib" / "systemd" / unit).read_text()
        text = text.replace("/usr/local/bin/mfa.fcgi", str(FCGI_BIN))
        text = text.replace("/usr/local/bin/mfa-deliver", str(deliver))
        text = "\n".join(ln for ln in text.splitlines()
                         if not ln.startswith("Documentation="))
        (tmp_path / unit).write_text(text + "\n")
    p = subprocess.run(["systemd-analyze", "verify",
                        str(tmp_path / "mfa.socket"),
                        str(tmp_path / "mfa.service"),
                        str(tmp_path / "mfa-deliver.service")],
                       capture_output=True, text=True, timeout=60,
                       env={"PATH": os.environ.get("PATH", ""),
                            "SYSTEMD_LOG_LEVEL": "warning"})
    assert p.returncode == 0 and "mfa." not in p.stdout + p.stderr, \
        p.stdout + p.stderr
    svc = (tmp_path / "mfa.service").read_text().splitlines()
    for want in ("StandardInput=socket", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "ReadWritePaths=/var/lib/mfa",
                 "KillMode=mixed", "ExecReload=/bin/kill -HUP $MAINPID"):
        assert want in svc, want
    assert "Accept=no" in (tmp_path / "mfa.socket").read_text()
    dl = (tmp_path / "mfa-deliver.service").read_text().splitlines()
    for want in ("NoNewPrivileges=yes", "ProtectSystem=strict",
                 "ReadWritePaths=/var/lib/mfa", "User=mfa"):
        assert want in dl, want


# -------------------------------------------------------------- syslog

def _can_unshare_mounts():
    """Root, unshare(1), and a kernel/container that lets us make a
    private mount namespace with a tmpfs in it."""
    if os.geteuid() != 0 or __import__("shutil").which("unshare") is None:
        return False
    p = subprocess.run(["unshare", "-m", "sh", "-c",
                        "mount -t tmpfs tmpfs /mnt"], capture_output=True,
                       timeout=30)
    return p.returncode == 0


@pytest.mark.skipif(not _can_unshare_mounts(),
                    reason="needs root, unshare(1) and mount namespaces")
def test_syslog_destination(tmp_path):
    """log = syslog: the lines go to /dev/log (here a datagram socket of
    the test, bound over /dev/log in a private mount namespace), with the
    daemon facility and the level's priority, from a sandboxed worker."""
    import socket
    from servers import FCGI_BIN, Store, clean_env, fcgi_request
    store = Store.create(tmp_path / "store")
    app = make_client(store, "sys", "otp")
    logsock = tmp_path / "log.sock"
    rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    rx.bind(str(logsock))
    rx.settimeout(10)
    lsock = tmp_path / "fcgi.sock"
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(str(lsock))
    ls.listen(8)
    script = ('mount -t tmpfs tmpfs /dev && : > /dev/log && '
              'mount --bind "$1" /dev/log && exec "$2"')
    p = subprocess.Popen(["unshare", "-m", "sh", "-c", script, "sh",
                          str(logsock), str(FCGI_BIN)], stdin=ls.fileno(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=clean_env(MFA_DB=store.path, MFA_LOG="syslog",
                                       MFA_WORKERS=1))
    ls.close()
    try:
        got = []

        def until(text):
            while not any(text in g for g in got):
                got.append(rx.recv(4096).decode(errors="replace"))
        until("worker ready")
        status, _, _ = fcgi_request(lsock, {
            "REQUEST_METHOD": "GET", "REQUEST_URI": "/nope",
            "SERVER_PROTOCOL": "HTTP/1.1"})
        assert status == 404
        body = "user_id=u&client_id=%s&client_secret=wrong" % app.id
        status, _, _ = fcgi_request(lsock, {
            "REQUEST_METHOD": "POST", "REQUEST_URI": "/mfa/token",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body))}, stdin=body.encode())
        assert status == 401
        until("access: POST /mfa/token 401")
    finally:
        p.terminate()
        _, err = p.communicate(timeout=30)
        rx.close()
    ready = [g for g in got if "worker ready" in g][0]
    assert ready.startswith("<30>") and "sandboxed" in ready, ready
    a404 = [g for g in got if "access: GET /nope 404" in g][0]
    assert a404.startswith("<30>") and "mfa.fcgi[" in a404, a404
    a401 = [g for g in got if "access: POST /mfa/token 401" in g][0]
    assert a401.startswith("<28>") and "warn: access:" in a401, a401
    assert "client=%s" % app.id in a401
    assert "wrong" not in "".join(got)
    # nothing of it went to stderr
    assert b"access:" not in err
