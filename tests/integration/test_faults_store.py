"""Store fault injection: every store failure is a clean 5xx JSON error,
leaves no partial write, and the next request succeeds.

Runs the fault-injection build (make faultinject: build/fault/mfa.fcgi,
compiled with -DMFA_FAULT_INJECT): with MFA_FAULT_EVERY=N in its
environment, every Nth call of the store's entry points (transaction
begin, get, put, del, cursor open, commit) in a worker fails as LMDB can
fail (MDB_READERS_FULL, MDB_CORRUPTED, MDB_MAP_FULL, EIO). One worker, so
the count is the whole flow's.

The flow, for each N: mfa_token, otp challenge, oob challenge, mfa-oob
grant, mfa-otp grant, mfa-recovery-code grant, WorkOS verify of the otp
challenge (a wrong code: 201 valid=false), the JWKS. Each
request that fails must answer exactly 503 temporarily_unavailable or 500
server_error with the usual headers, and the whole store (mdb_dump of
every database) and the spool must be byte for byte what they were before
it: a failed decision wrote nothing. The request is then repeated until
it succeeds: once N is larger than twice the store calls of any request,
the first repeat must succeed.
"""

import re
import subprocess
import time

import pytest

from conftest import PHONE, make_client, new_user_id
from servers import (COMMON_HEADERS, REPO, Http, assert_ok, body_of,
                     call, challenge)

FAULT_FCGI = REPO / "build" / "fault" / "mfa.fcgi"
GRANT = "http://auth0.com/oauth/grant-type/"
UNAVAILABLE = (503, "temporarily_unavailable",
               "The service is temporarily unavailable; retry later")
SERVER_ERROR = (500, "server_error", "Internal server error")
# Every request of the flow makes about 9 to 20 store calls, so below that a
# request can never succeed (N=1 has its own test); from 16 to 40 the
# fault moves through every position of every request.
PERIODS = list(range(16, 41)) + [47, 64]
SURE = 41     # from here on the first repeat of a failed request succeeds


def oathtool(secret):
    p = subprocess.run(["oathtool", "--totp", "-b", secret],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def state_of(store):
    """Everything a request could have written: every database's
    entries (mdb_dump) and the published spool files."""
    dump = store.lmdb_dump()
    return dump, sorted(store.spool_files())


def assert_clean_failure(r):
    """A store failure: exactly one of the two 5xx answers, as JSON with
    the common headers."""
    body = body_of(r)
    got = (r.status_code, body.get("error"), body.get("error_description"))
    assert got in (UNAVAILABLE, SERVER_ERROR), got
    assert set(body) == {"error", "error_description"}, body
    for k, v in COMMON_HEADERS.items():
        assert r.headers.get(k) == v, (k, r.headers.get(k))


class Flow:
    """One pass of the flow on a fault-injecting server; counts what
    failed."""

    def __init__(self, srv, period):
        self.srv = srv
        self.store = srv.store
        self.http = Http(srv.url)
        self.period = period
        self.failures = 0
        self.codes = set()

    def send(self, name, fn, ok_status=200, tries=None):
        """Sends fn() until it answers "ok_status"; every other answer
        must be a clean store failure that changed nothing. Returns the
        successful response."""
        tries = tries or (2 if self.period >= SURE else 3 * self.period)
        for attempt in range(tries):
            before = state_of(self.store)
            r = fn()
            if r.status_code == ok_status:
                return r
            assert_clean_failure(r)
            self.failures += 1
            self.codes.add(r.status_code)
            after = state_of(self.store)
            assert after == before, "%s (N=%d): a failed request wrote" \
                % (name, self.period)
            if self.period >= SURE:
                assert attempt == 0, "%s (N=%d) failed twice" % (
                    name, self.period)
        raise AssertionError("%s (N=%d): no success in %d tries" % (
            name, self.period, tries))

    def run(self, app, user):
        tok = assert_ok(self.send("mfa/token", lambda: call(
            self.http, "/mfa/token", app, {"user_id": user["id"]})))[
                "mfa_token"]
        ids = self.store.challenge_ids()
        b = assert_ok(self.send("otp challenge", lambda: challenge(
            self.http, app, tok, challenge_type="otp")))
        assert b == {"challenge_type": "otp"}
        new = self.store.challenge_ids() - ids
        assert len(new) == 1, new
        self.otp_cid = new.pop()
        spool = self.store.spool_files()
        b = assert_ok(self.send("oob challenge", lambda: challenge(
            self.http, app, tok, challenge_type="oob")))
        new = self.store.wait_new_spool(spool)
        assert len(new) == 1, new
        msg = self.store.read_spool(new.pop())
        r = self.send("mfa-oob grant", lambda: call(
            self.http, "/oauth/token", app,
            {"grant_type": GRANT + "mfa-oob", "mfa_token": tok,
             "oob_code": b["oob_code"], "binding_code": msg["code"]}))
        assert assert_ok(r)["token_type"] == "Bearer"
        user["code"] = oathtool(user["secret"])
        r = self.send("mfa-otp grant", lambda: call(
            self.http, "/oauth/token", app,
            {"grant_type": GRANT + "mfa-otp", "mfa_token": tok,
             "otp": user["code"]}))
        assert assert_ok(r)["token_type"] == "Bearer"
        r = self.send("mfa-recovery-code grant", lambda: call(
            self.http, "/oauth/token", app,
            {"grant_type": GRANT + "mfa-recovery-code", "mfa_token": tok,
             "recovery_code": user["recovery"][0]}))
        assert assert_ok(r)["token_type"] == "Bearer"
        # WorkOS verify of the otp challenge with a wrong code: a write
        # (the failed-code bucket) answered 201 valid=false.
        r = self.send("workos verify", lambda: self.http.post(
            "/auth/challenges/%s/verify" % self.otp_cid,
            form={"code": "000000" if user["code"] != "000000"
                  else "111111"},
            headers={"Authorization": "Bearer " + app.secret}),
            ok_status=201)
        assert body_of(r)["valid"] is False
        r = self.send("jwks", lambda: self.http.request(
            "GET", "/.well-known/jwks.json"))
        assert len(assert_ok(r)["keys"]) >= 1


def new_user(store):
    uid = new_user_id("fault")
    a = store.enroll_otp(uid)
    store.enroll_oob(uid, "sms", PHONE)
    rec = store.ctl("user", "recovery-codes", uid)["recovery_codes"]
    return {"id": uid, "secret": a["secret"], "recovery": rec}


def wait_step_margin(margin=4):
    """The otp grant must not straddle a TOTP step with its repeats."""
    left = 30 - time.time() % 30
    if left < margin:
        time.sleep(left + 0.2)


@pytest.fixture(scope="module")
def fault_bin():
    if not FAULT_FCGI.exists():
        pytest.fail("%s is not built (make faultinject)" % FAULT_FCGI)
    return FAULT_FCGI


@pytest.mark.parametrize("period", PERIODS)
def test_store_faults_in_flow(server_factory, fault_bin, period):
    kind = "lighttpd" if period % 2 else "nginx"
    srv = server_factory(kind, workers=1, fcgi_bin=fault_bin,
                         MFA_FAULT_EVERY=period)
    app = make_client(srv.store, "app", "otp oob")
    user = new_user(srv.store)
    wait_step_margin()
    # With MFA_WORKERS=1 the spawned responder serves by itself.
    worker = srv.supervisor_pid()
    assert worker
    flow = Flow(srv, period)
    flow.run(app, user)
    if period < SURE:
        assert flow.failures > 0, "N=%d injected nothing" % period
    # The fault was handled, not survived by a respawn: same process.
    assert srv.supervisor_pid() == worker
    # Every failure is logged as a store error, never as a crash (the
    # responder's stderr is lighttpd's log; spawn-fcgi discards it).
    if kind == "lighttpd":
        log = srv.log_text(tail=None)
        assert "injected fault" in log or flow.failures == 0
        assert not re.search(r"signal|abort|segfault", log, re.I), \
            log[-2000:]


@pytest.mark.parametrize("kind", ["lighttpd", "nginx"])
def test_store_always_failing(server_factory, fault_bin, kind):
    """N=1: every store call fails. Every endpoint answers a clean 5xx (or
    its non-store answer), nothing is written, and the worker lives."""
    srv = server_factory(kind, workers=1, fcgi_bin=fault_bin,
                         MFA_FAULT_EVERY=1)
    # mfactl (not fault-injected) provisions.
    app = make_client(srv.store, "app", "otp oob")
    user = new_user(srv.store)
    tok = srv.store.issue_token(app.id, user["id"])["mfa_token"]
    http = Http(srv.url)
    worker = srv.supervisor_pid()
    assert worker
    before = state_of(srv.store)
    calls = [
        lambda: call(http, "/mfa/token", app, {"user_id": user["id"]}),
        lambda: challenge(http, app, tok, challenge_type="otp"),
        lambda: challenge(http, app, tok, challenge_type="oob"),
        lambda: call(http, "/oauth/token", app,
                     {"grant_type": GRANT + "mfa-otp", "mfa_token": tok,
                      "otp": oathtool(user["secret"])}),
        lambda: call(http, "/oauth/token", app,
                     {"grant_type": GRANT + "mfa-recovery-code",
                      "mfa_token": tok, "recovery_code": "A" * 24}),
        lambda: http.request("GET", "/.well-known/jwks.json"),
        lambda: http.post("/auth/challenges/auth_challenge_0000000000000"
                          "0000000000000/verify", form={"code": "123456"},
                          headers={"Authorization": "Bearer " +
                                   app.secret}),
    ]
    for fn in calls:
        assert_clean_failure(fn())
    assert state_of(srv.store) == before
    assert srv.supervisor_pid() == worker
