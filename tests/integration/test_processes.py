"""The responder's processes behind both web servers (each test on a
dedicated server): pre-forked workers, respawn after a crash, rolling on
SIGHUP, a clean stop, per-user send buckets, and MFA_* configuration."""

import os
import signal
import time

import pytest

from conftest import EMAIL, PHONE, PHONE2, make_client, make_user, \
    new_user_id
from servers import (KINDS, Http, Snapshot, assert_error, assert_healthy,
                     assert_ok, basic_header, challenge, children,
                     http_token, pid_alive, procs_mentioning, wait_gone)

SMS_LIMIT = "Too many SMS sent by the user. Wait for some minutes before " \
            "retrying."
EMAIL_LIMIT = "Too many emails sent by the user. Wait for some minutes " \
              "before retrying."


def provision(srv):
    store = srv.store
    app = make_client(store, "app", "otp oob")
    bob = make_user(store, "bob", sms=False)
    return store, app, bob, Http(srv.url)


@pytest.mark.parametrize("kind", KINDS)
def test_prefork_and_respawn(server_factory, kind):
    srv = server_factory(kind)
    store, app, bob, http = provision(srv)
    sup = srv.supervisor_pid()
    assert sup and pid_alive(sup)
    workers = srv.wait_workers(3)
    assert len(workers) == 3, workers
    victim = workers[0]
    os.kill(victim, signal.SIGKILL)
    # Once it is dead (a request it had just accepted dies with it, as in
    # any crash), the others keep answering at once.
    assert wait_gone([victim], 5) == []
    for _ in range(6):
        assert_healthy(http, app, bob)
    now = srv.wait_workers(3, exclude=[victim])
    assert len(now) == 3, (workers, now)
    assert victim not in now
    assert set(now) - set(workers), "no new worker"
    assert srv.supervisor_pid() == sup
    for _ in range(6):
        assert_healthy(http, app, bob)
    if kind == "lighttpd":
        # the responder's stderr is lighttpd's (spawn-fcgi drops it): the
        # crash is logged there
        log = (srv.state / "lighttpd-stdout.log").read_text(
            errors="replace")
        assert "pid %d" % victim in log


@pytest.mark.parametrize("kind", KINDS)
def test_sighup_rolls_workers(server_factory, kind):
    srv = server_factory(kind)
    store, app, bob, http = provision(srv)
    sup = srv.supervisor_pid()
    old = srv.wait_workers(3)
    assert len(old) == 3
    os.kill(sup, signal.SIGHUP)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert_healthy(http, app, bob)
        now = srv.workers()
        if len(now) == 3 and not set(now) & set(old):
            break
    now = srv.workers()
    assert len(now) == 3 and not set(now) & set(old), (old, now)
    assert srv.supervisor_pid() == sup
    assert_healthy(http, app, bob)


@pytest.mark.parametrize("kind", KINDS)
def test_stop_leaves_nothing(server_factory, kind):
    srv = server_factory(kind)
    store, app, bob, http = provision(srv)
    assert_healthy(http, app, bob)
    pids = [srv.proc.pid, srv.supervisor_pid()] + srv.wait_workers(3)
    assert len(pids) == 5 and all(pids)
    assert set(pids[1:]) <= set(procs_mentioning(str(srv.root)))
    srv.stop()          # raises if anything is left
    assert not [p for p in pids if pid_alive(p)]
    assert procs_mentioning(str(srv.root)) == {}


@pytest.mark.parametrize("kind", KINDS)
def test_single_worker_mode(server_factory, kind):
    """MFA_WORKERS=1 serves in-process: no worker children."""
    srv = server_factory(kind, workers=1)
    store, app, bob, http = provision(srv)
    assert_healthy(http, app, bob)
    assert children(srv.supervisor_pid()) == []


@pytest.mark.parametrize("kind", KINDS)
def test_sms_bucket(server_factory, kind):
    srv = server_factory(kind, MFA_SMS_BURST=2)
    store, app, bob, http = provision(srv)
    alice = make_user(store, "alice")
    voice = store.enroll_oob(alice.id, "voice", PHONE2)["authenticator_id"]
    token = http_token(http, app, alice.id)
    for i in range(2):
        before = store.spool_files()
        b = assert_ok(challenge(http, app, token, challenge_type="oob"))
        assert b["challenge_type"] == "oob"
        assert len(store.wait_new_spool(before)) == 1
    snap = Snapshot(store)
    assert_error(challenge(http, app, token, challenge_type="oob"),
                 429, "too_many_requests", SMS_LIMIT)
    snap.assert_unchanged()
    # voice calls share the SMS bucket
    assert_error(challenge(http, app, token, challenge_type="oob",
                           authenticator_id=voice),
                 429, "too_many_requests", SMS_LIMIT)
    snap.assert_unchanged()
    # otp is not rate-limited by it, and the bucket is per user
    assert assert_ok(challenge(http, app, token, challenge_type="otp")) == \
        {"challenge_type": "otp"}
    carol = make_user(store, "carol", otp=False)
    before = store.spool_files()
    assert_ok(challenge(http, app, http_token(http, app, carol.id)))
    assert len(store.wait_new_spool(before)) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_email_bucket(server_factory, kind):
    srv = server_factory(kind, MFA_EMAIL_BURST=2)
    store, app, bob, http = provision(srv)
    uid = new_user_id("erin")
    store.enroll_oob(uid, "email", EMAIL)
    token = http_token(http, app, uid)
    for i in range(2):
        before = store.spool_files()
        assert_ok(challenge(http, app, token))
        assert len(store.wait_new_spool(before)) == 1
    snap = Snapshot(store)
    assert_error(challenge(http, app, token), 429, "too_many_requests",
                 EMAIL_LIMIT)
    snap.assert_unchanged()
    assert_healthy(http, app, bob)


@pytest.mark.parametrize("kind", KINDS)
def test_configuration_from_environment(server_factory, tmp_path, kind):
    spool = tmp_path / "outbox"
    srv = server_factory(kind, MFA_REALM="test realm", MFA_TOKEN_TTL=120,
                         MFA_OOB_TTL=60, MFA_BODY_LIMIT=1024,
                         MFA_SPOOL=str(spool))
    store, app, bob, http = provision(srv)
    # realm
    r = http.post("/mfa/token", form={"user_id": bob.id},
                  headers={"Authorization": basic_header(app.id, "wrong")})
    assert_error(r, 401, "invalid_client", "Client authentication failed",
                 realm="test realm")
    assert r.headers["WWW-Authenticate"] == \
        'Basic realm="test realm", charset="UTF-8"'
    # token lifetime
    r = http.post("/mfa/token", form={"user_id": bob.id, **app.post})
    assert assert_ok(r)["expires_in"] == 120
    # body limit
    r = http.post("/mfa/token", form={"user_id": bob.id, **app.post,
                                      "pad": "x" * 1024})
    assert_error(r, 413, "invalid_request",
                 "Request body is larger than 1024 bytes")
    # OOB lifetime; the message waits in the store's outbox, and the
    # service writes nothing in the spool directory (mfa-deliver's)
    uid = new_user_id("carol")
    store.enroll_oob(uid, "sms", PHONE)
    token = http_token(http, app, uid)
    before = store.spool_files()
    assert_ok(challenge(http, app, token, challenge_type="oob"))
    new = store.wait_new_spool(before)
    assert len(new) == 1 and new <= set(store.outbox()), new
    assert not spool.exists()
    msg = store.read_spool(new.pop())
    c = store.challenge_show(msg["challenge_id"])
    from datetime import datetime
    f = "%Y-%m-%dT%H:%M:%S.%fZ"
    ttl = (datetime.strptime(c["expires_at"], f) -
           datetime.strptime(c["created_at"], f)).total_seconds()
    assert 59 <= ttl <= 61, ttl
    assert_healthy(http, app, bob)


@pytest.mark.parametrize("kind", KINDS)
def test_oob_without_spool_directory(server_factory, kind):
    """The spool directory is mfa-deliver's: with it unusable (a file in
    its place) an oob challenge is answered and its message waits in the
    store's outbox all the same."""
    import shutil
    srv = server_factory(kind)
    store, app, bob, http = provision(srv)
    alice = make_user(store, "alice")
    token = http_token(http, app, alice.id)
    shutil.rmtree(store.spool, ignore_errors=True)
    store.spool.write_text("not a directory\n")
    before = store.spool_files()
    b = assert_ok(challenge(http, app, token, challenge_type="oob"))
    assert (b["challenge_type"], b["binding_method"]) == ("oob", "prompt")
    new = store.wait_new_spool(before)
    assert len(new) == 1, new
    assert store.read_spool(new.pop())["user_id"] == alice.id
    assert store.spool.read_text() == "not a directory\n"
    assert assert_ok(challenge(http, app, token, challenge_type="otp")) == \
        {"challenge_type": "otp"}
