"""POST /oauth/token with Auth0's three MFA grants (mfa-otp, mfa-oob,
mfa-recovery-code), the failed-code lockout, replay refusal under
concurrency and the signed result tokens, behind lighttpd and nginx +
spawn-fcgi.

Everything here runs against the test-clock build (make testclock:
build/testclock/mfa.fcgi and build/testclock/mfactl), whose clock runs
ahead by the milliseconds written in the file named by MFA_TEST_CLOCK_FILE,
so expiry and bucket refills are tested by moving that clock, never by
sleeping. The clock only ever moves forward; every test makes its own
users and mfa_tokens after any move it depends on.

TOTP codes come from oathtool (Debian's oath-toolkit), result tokens are
verified with PyJWT against GET /.well-known/jwks.json.
"""

import base64
import contextlib
import hashlib
import json
import os
import re
import secrets
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jwt
import pytest

import servers
from conftest import PHONE, Client, User, make_client, new_user_id
from servers import (KINDS, REPO, Http, Store, assert_error, assert_ok,
                     call, challenge, clean_env, http_token)

TC_FCGI = REPO / "build" / "testclock" / "mfa.fcgi"
TC_MFACTL = REPO / "build" / "testclock" / "mfactl"

GRANT = "http://auth0.com/oauth/grant-type/"
G_OTP = GRANT + "mfa-otp"
G_OOB = GRANT + "mfa-oob"
G_REC = GRANT + "mfa-recovery-code"

ISSUER = "https://mfa.example.test/"
ACR = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
TOO_MANY = "Too many failed codes. Wait for some minutes before retrying."
LOCKED = ("The challenge is locked after too many failed codes; request a "
          "new one")
NO_MATCH = "The oob_code doesn't match the mfa_token"
SLOW = "Polling too fast: wait before retrying"

RECOVERY_RE = re.compile(r"^[A-Z0-9]{24}$")
B64URL_RE = re.compile(r"^[A-Za-z0-9_-]+$")
CLAIMS = {"iss", "sub", "aud", "iat", "exp", "auth_time", "amr", "acr",
          "jti"}
STEP = 30


# ----------------------------------------------------------- test clock

class Clock:
    """The file the test-clock build reads on every request: its clock
    runs ahead of the real one by this many milliseconds."""

    def __init__(self, path):
        self.path = Path(path)
        self.offset_ms = 0
        self._write()

    def _write(self):
        tmp = self.path.with_name("." + self.path.name + ".tmp")
        tmp.write_text("%d\n" % self.offset_ms)
        os.replace(tmp, self.path)

    def advance(self, seconds):
        assert seconds >= 0
        self.offset_ms += int(round(seconds * 1000))
        self._write()

    def now(self):
        """The server's time, in seconds."""
        return time.time() + self.offset_ms / 1000.0

    def align(self, margin=5.0):
        """Makes sure at least "margin" seconds are left in the current
        TOTP step (moving the clock into the next step when not), so
        codes made now are judged in the step they were made for.
        Returns the server time."""
        left = STEP - self.now() % STEP
        if left < margin:
            self.advance(left + 0.5)
        return self.now()


class ClockStore(Store):
    """A Store driven by the test-clock mfactl, on the same clock."""

    def __init__(self, path, clock):
        super().__init__(path)
        self.clock = clock

    def run(self, *args, json_out=True, env=None):
        argv = [str(TC_MFACTL), "--db", str(self.path)]
        if json_out:
            argv.append("--json")
        argv += [str(a) for a in args]
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=30,
            stdin=subprocess.DEVNULL,
            env=env or clean_env(MFA_TEST_CLOCK_FILE=self.clock.path))


@contextlib.contextmanager
def clock_binaries():
    """The harness starts servers.FCGI_BIN (and checks servers.MFACTL):
    point both at the test-clock build while a server starts."""
    saved = servers.FCGI_BIN, servers.MFACTL
    servers.FCGI_BIN, servers.MFACTL = TC_FCGI, TC_MFACTL
    try:
        yield
    finally:
        servers.FCGI_BIN, servers.MFACTL = saved


def start_clock_server(kind, base, workers=3, **env):
    """Like servers.start_server, with the test-clock build, a clock file
    in the server's private directory and "env" (MFA_* settings)."""
    for b in (TC_FCGI, TC_MFACTL):
        if not os.access(b, os.X_OK):
            pytest.fail("%s is not built (make testclock)" % b)
    root, temporary = servers.short_root(base)
    clock = Clock(root / "clock")
    store = ClockStore(root / "store", clock)
    assert store.ctl("init").get("created") is True
    mfa_env = {"MFA_TEST_CLOCK_FILE": str(clock.path), "MFA_ISSUER": ISSUER}
    mfa_env.update(env)
    srv = servers.SERVERS[kind](root, store, workers=workers, env=mfa_env)
    srv.temporary_root = temporary
    srv.clock = clock
    with clock_binaries():
        try:
            srv.start()
        except BaseException:
            srv.stop()
            raise
    return srv


# ------------------------------------------------------------- helpers

def oathtool(secret, at, alg="sha1", digits=6):
    """The TOTP code of base32 "secret" at server time "at" (seconds)."""
    now = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(int(at)))
    mode = "--totp" if alg == "sha1" else "--totp=" + alg
    p = subprocess.run(["oathtool", mode, "-b", "-d", str(digits),
                        "--now", now, secret],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    code = p.stdout.strip()
    assert re.fullmatch(r"[0-9]{%d}" % digits, code), code
    return code


def wrong_code(secret, at, alg="sha1", digits=6, window=3):
    """A well-formed code that is none of the codes of the steps around
    "at" (so it is wrong whatever step the server is in)."""
    near = {oathtool(secret, at + k * STEP, alg, digits)
            for k in range(-window, window + 1)}
    for n in range(100):
        c = str(n).zfill(digits)
        if c not in near:
            return c
    raise AssertionError("no wrong code?")


class Svc:
    """One test-clock server with its store, clock and clients."""

    def __init__(self, srv):
        self.srv = srv
        self.kind = srv.kind
        self.store = srv.store
        self.clock = srv.clock
        self.http = Http(srv.url)
        self.app = make_client(self.store, "app", "otp oob")
        self.other = make_client(self.store, "other-app", "otp oob")

    # -- provisioning
    def user(self, prefix, otp=True, sms=False, **otp_opts):
        u = User(new_user_id(prefix))
        if otp:
            args = ["user", "enroll", u.id, "--type", "otp"]
            for k, v in otp_opts.items():
                args += ["--" + k, v]
            a = self.store.ctl(*args)
            u.otp_id, u.secret = a["authenticator_id"], a["secret"]
            u.otpauth_uri = a["otpauth_uri"]
        if sms:
            a = self.store.enroll_oob(u.id, "sms", PHONE)
            u.sms_id, u.phone = a["authenticator_id"], PHONE
        return u

    def token(self, user, client=None):
        return http_token(self.http, client or self.app, user.id)

    # -- the grants
    def grant(self, grant_type, params, client=None, auth="post",
              body="form", http=None):
        p = dict(params)
        if grant_type is not None:
            p["grant_type"] = grant_type
        return call(http or self.http, "/oauth/token", client or self.app,
                    p, auth, body)

    def otp(self, token, code, client=None, http=None, **extra):
        return self.grant(G_OTP, dict(mfa_token=token, otp=code, **extra),
                          client=client, http=http)

    def oob(self, token, oob_code, binding=None, client=None, http=None,
            **extra):
        p = dict(mfa_token=token, oob_code=oob_code, **extra)
        if binding is not None:
            p["binding_code"] = binding
        return self.grant(G_OOB, p, client=client, http=http)

    def recovery(self, token, code, client=None, **extra):
        return self.grant(G_REC, dict(mfa_token=token, recovery_code=code,
                                      **extra), client=client)

    def oob_challenge(self, token, client=None):
        """An oob challenge: (oob_code, binding code, challenge id), the
        binding code read from the spool."""
        before = self.store.spool_files()
        b = assert_ok(challenge(self.http, client or self.app, token,
                                challenge_type="oob"))
        assert set(b) == {"challenge_type", "oob_code", "binding_method"}
        assert b["challenge_type"] == "oob"
        assert b["binding_method"] == "prompt"
        new = self.store.wait_new_spool(before)
        assert len(new) == 1, new
        msg = self.store.read_spool(new.pop())
        assert re.fullmatch(r"[0-9]{6}", msg["code"]), msg
        return b["oob_code"], msg["code"], msg["challenge_id"]

    def sweep(self):
        """What every worker does once a minute: delete expired records
        (run here with the test-clock mfactl, so it happens for sure)."""
        return self.store.ctl("sweep")["deleted"]

    def state(self, cid):
        c = self.store.challenge_show(cid)
        return c["state"], c["attempts"]

    def jwks(self):
        return assert_ok(self.http.request("GET", "/.well-known/jwks.json"))


SEEN_JTI = set()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verify_jwt(svc, token, client, user, method, scope=None, ttl=600):
    """Verifies "token" with PyJWT against the server's JWKS (signature,
    alg, iss, aud, exp) and checks every claim. Returns (header, claims).
    iat is checked against the server's (moved) clock, not by PyJWT."""
    header = jwt.get_unverified_header(token)
    assert set(header) == {"alg", "typ", "kid"}, header
    assert header["alg"] == "EdDSA" and header["typ"] == "JWT", header
    keys = {k["kid"]: k for k in svc.jwks()["keys"]}
    assert header["kid"] in keys, (header, list(keys))
    key = jwt.PyJWK(keys[header["kid"]])
    claims = jwt.decode(
        token, key.key, algorithms=["EdDSA"], audience=client.id,
        issuer=ISSUER,
        options={"require": ["iss", "sub", "aud", "iat", "exp"],
                 "verify_iat": False})
    want = CLAIMS | ({"scope"} if scope is not None else set())
    assert set(claims) == want, claims
    assert claims["iss"] == ISSUER
    assert claims["sub"] == user.id
    assert claims["aud"] == client.id
    assert abs(claims["iat"] - svc.clock.now()) < 10, (claims,
                                                       svc.clock.now())
    assert claims["exp"] - claims["iat"] == ttl, claims
    assert claims["auth_time"] == claims["iat"], claims
    assert claims["amr"] == ["mfa", method], claims
    assert claims["acr"] == ACR, claims
    jti = claims["jti"]
    assert isinstance(jti, str) and len(jti) >= 22 and \
        B64URL_RE.match(jti), jti
    assert jti not in SEEN_JTI, jti
    SEEN_JTI.add(jti)
    if scope is not None:
        assert claims["scope"] == scope, claims
    return header, claims


def check_result(svc, r, client, user, method, scope=None, ttl=600,
                 recovery=False):
    """A 200 token response: exact keys, both JWTs verified."""
    body = assert_ok(r)
    want = {"access_token", "token_type", "expires_in"}
    if scope is not None:
        want.add("scope")
        if "openid" in scope.split():
            want.add("id_token")
    if recovery:
        want.add("recovery_code")
    assert set(body) == want, body
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == ttl
    if scope is not None:
        assert body["scope"] == scope
    verify_jwt(svc, body["access_token"], client, user, method, scope, ttl)
    if "id_token" in body:
        verify_jwt(svc, body["id_token"], client, user, method, None, ttl)
    return body


def parallel(n, fn):
    """Runs fn(i) for i in range(n) on n threads released together (each
    request on its own connection); returns the results in order."""
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait(timeout=10)
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as ex:
        return list(ex.map(run, range(n)))


def outcome(r):
    try:
        b = r.json()
    except ValueError:
        return (r.status_code, r.text[:100])
    return (r.status_code, b.get("error"), b.get("error_description"))


# ------------------------------------------------------------- fixtures

@pytest.fixture(scope="module", params=KINDS)
def svc(request, tmp_path_factory):
    """A test-clock server (3 workers) with the default limits."""
    srv = start_clock_server(request.param,
                             tmp_path_factory.mktemp("tc-" + request.param))
    try:
        yield Svc(srv)
    finally:
        servers.stop_server(srv)


SMALL = {"MFA_FAIL_BURST": 3, "MFA_FAIL_REFILL": 60, "MFA_POLL_BURST": 3,
         "MFA_POLL_REFILL": 5, "MFA_CHALLENGE_MAX_ATTEMPTS": 2,
         "MFA_OOB_TTL": 30, "MFA_RESULT_TTL": 120,
         "MFA_OTP_WINDOW_BACK": 0, "MFA_OTP_WINDOW_FWD": 0}


@pytest.fixture(scope="module", params=KINDS)
def small(request, tmp_path_factory):
    """A test-clock server with small limits (SMALL)."""
    srv = start_clock_server(
        request.param, tmp_path_factory.mktemp("tcs-" + request.param),
        **SMALL)
    try:
        yield Svc(srv)
    finally:
        servers.stop_server(srv)


# ---------------------------------------------------- grant-level errors

def test_grant_type_missing_and_unknown(svc):
    u = svc.user("gt")
    tok = svc.token(u)
    assert_error(svc.grant(None, {"mfa_token": tok, "otp": "123456"}),
                 400, "invalid_request",
                 "Missing required parameter: grant_type")
    for gt in ("password", GRANT + "mfa-foo", GRANT, "mfa-otp",
               GRANT.upper() + "mfa-otp", G_OTP + " "):
        assert_error(svc.grant(gt, {"mfa_token": tok, "otp": "123456"}),
                     400, "unsupported_grant_type",
                     "Unsupported grant type: " + gt)


@pytest.mark.parametrize("grant_type,params", [
    (G_OTP, {"otp": "123456"}),
    (G_OOB, {"oob_code": "x" * 43, "binding_code": "123456"}),
    (G_REC, {"recovery_code": "A" * 24}),
])
def test_mfa_token_checked_first(svc, grant_type, params):
    u = svc.user("tok")
    assert_error(svc.grant(grant_type, params), 400, "invalid_request",
                 "Missing required parameter: mfa_token")
    assert_error(svc.grant(grant_type, dict(params, mfa_token="garbage")),
                 400, "invalid_grant", "Malformed mfa_token")
    assert_error(svc.grant(grant_type,
                           dict(params, mfa_token=secrets.token_urlsafe(32))),
                 400, "invalid_grant", "Malformed mfa_token")
    other_tok = svc.token(u, svc.other)
    assert_error(svc.grant(grant_type, dict(params, mfa_token=other_tok)),
                 400, "invalid_request", "mfa_token not issued to this client")
    # wrong client secret: client authentication comes before anything
    bad = Client(svc.app.id, "wrong-secret", "app", [])
    assert_error(svc.grant(grant_type, dict(params, mfa_token=other_tok),
                           client=bad),
                 401, "invalid_client", "Client authentication failed")


def test_grant_of_a_type_the_client_may_not_use(svc):
    """A client allowed only otp challenges may not finish MFA with an oob
    code, nor one allowed only oob with an otp (Auth0: a grant not
    enabled for the application, 403 unauthorized_client); nothing is
    consumed. A recovery code is every client's way back."""
    only_otp = make_client(svc.store, "only-otp", "otp")
    only_oob = make_client(svc.store, "only-oob", "oob")
    u = svc.user("types", sms=True)
    codes = svc.store.ctl("user", "recovery-codes", u.id)["recovery_codes"]
    t = svc.clock.align()
    code = oathtool(u.secret, t)
    r = svc.otp(svc.token(u, only_oob), code, client=only_oob)
    assert_error(r, 403, "unauthorized_client",
                 "Grant type '%s' not allowed for the client." % G_OTP)
    tok = svc.token(u)
    oob, binding, _ = svc.oob_challenge(tok)
    r = svc.oob(svc.token(u, only_otp), oob, binding, client=only_otp)
    assert_error(r, 403, "unauthorized_client",
                 "Grant type '%s' not allowed for the client." % G_OOB)
    # nothing was spent: the code and the oob challenge still work
    check_result(svc, svc.otp(svc.token(u, only_otp), code,
                              client=only_otp), only_otp, u, "otp")
    check_result(svc, svc.oob(tok, oob, binding), svc.app, u, "oob")
    check_result(svc, svc.recovery(svc.token(u, only_oob), codes[0],
                                   client=only_oob),
                 only_oob, u, "recovery-code", recovery=True)


def test_expired_mfa_token(svc):
    u = svc.user("exp")
    tok = svc.token(u)
    svc.clock.advance(601)
    t = svc.clock.align()
    # Every worker sweeps expired records once a minute, and another
    # worker may do so while this request is served: sweep first, so the
    # answer is the one a client gets any time after expiry.
    svc.sweep()
    assert_error(svc.otp(tok, oathtool(u.secret, t)), 403, "expired_token",
                 "mfa_token is expired")
    # nothing was consumed: a fresh token verifies the same code
    check_result(svc, svc.otp(svc.token(u), oathtool(u.secret, t)),
                 svc.app, u, "otp")


# ------------------------------------------------------------------ otp

@pytest.mark.parametrize("auth", ["post", "basic"])
@pytest.mark.parametrize("body", ["form", "json"])
def test_otp_verified_then_replay_refused(svc, auth, body):
    u = svc.user("otp")
    tok = svc.token(u)
    t = svc.clock.align()
    code = oathtool(u.secret, t)
    r = svc.grant(G_OTP, {"mfa_token": tok, "otp": code}, auth=auth,
                  body=body)
    check_result(svc, r, svc.app, u, "otp")
    # the same code, the same token: refused
    r = svc.grant(G_OTP, {"mfa_token": tok, "otp": code}, auth=auth,
                  body=body)
    assert_error(r, 403, "invalid_grant", "Invalid otp_code.")
    # the same code with a fresh token: still refused (per authenticator)
    assert_error(svc.otp(svc.token(u), code), 403, "invalid_grant",
                 "Invalid otp_code.")


def test_otp_previous_step_accepted(svc):
    u = svc.user("prev")
    tok = svc.token(u)
    t = svc.clock.align()
    check_result(svc, svc.otp(tok, oathtool(u.secret, t - STEP)), svc.app,
                 u, "otp")
    # the current step is newer than the last accepted one: accepted too
    check_result(svc, svc.otp(tok, oathtool(u.secret, t)), svc.app, u,
                 "otp")
    # and now the previous step is older than the last accepted: refused
    assert_error(svc.otp(tok, oathtool(u.secret, t - STEP)), 403,
                 "invalid_grant", "Invalid otp_code.")


def test_otp_next_step_accepted_then_older_refused(svc):
    u = svc.user("next")
    tok = svc.token(u)
    t = svc.clock.align()
    nxt, cur = oathtool(u.secret, t + STEP), oathtool(u.secret, t)
    check_result(svc, svc.otp(tok, nxt), svc.app, u, "otp")
    # the current step is older than the last accepted one
    assert_error(svc.otp(tok, cur), 403, "invalid_grant",
                 "Invalid otp_code.")
    assert_error(svc.otp(tok, nxt), 403, "invalid_grant",
                 "Invalid otp_code.")


def test_otp_two_steps_away_refused(svc):
    u = svc.user("far")
    tok = svc.token(u)
    t = svc.clock.align()
    for k in (-2, 2, -3, 3):
        assert_error(svc.otp(tok, oathtool(u.secret, t + k * STEP)), 403,
                     "invalid_grant", "Invalid otp_code.")
    # refusals burn nothing: the current code still works
    check_result(svc, svc.otp(tok, oathtool(u.secret, t)), svc.app, u,
                 "otp")


@pytest.mark.parametrize("alg,digits", [("SHA256", 8), ("SHA512", 8),
                                        ("SHA256", 6), ("SHA1", 8)])
def test_otp_algorithms_and_digits(svc, alg, digits):
    u = svc.user("alg", algorithm=alg, digits=str(digits))
    assert "algorithm=%s" % alg in u.otpauth_uri, u.otpauth_uri
    assert "digits=%d" % digits in u.otpauth_uri, u.otpauth_uri
    tok = svc.token(u)
    t = svc.clock.align()
    good = oathtool(u.secret, t, alg.lower(), digits)
    # the code of another hash function or length is refused
    other_alg = "sha1" if alg != "SHA1" else "sha256"
    other = oathtool(u.secret, t, other_alg, digits)
    if other != good:
        assert_error(svc.otp(tok, other), 403, "invalid_grant",
                     "Invalid otp_code.")
    other_len = oathtool(u.secret, t, alg.lower(), 14 - digits)
    assert_error(svc.otp(tok, other_len), 403, "invalid_grant",
                 "Invalid otp_code.")
    check_result(svc, svc.otp(tok, good), svc.app, u, "otp")
    assert_error(svc.otp(tok, good), 403, "invalid_grant",
                 "Invalid otp_code.")


def test_otp_missing_malformed_not_enrolled(svc):
    u = svc.user("otperr")
    tok = svc.token(u)
    assert_error(svc.grant(G_OTP, {"mfa_token": tok}), 400,
                 "invalid_request", "Missing required parameter: otp")
    for bad in ("12345", "1234567", "abcdef", "12345a", " 123456",
                "123 456"):
        assert_error(svc.otp(tok, bad), 403, "invalid_grant",
                     "Invalid otp_code.")
    # an sms-only user has no otp authenticator
    carol = svc.user("carol", otp=False, sms=True)
    assert_error(svc.otp(svc.token(carol), "123456"), 403, "invalid_grant",
                 "User is not enrolled with otp")
    # six malformed codes counted as failures: four are left
    t = svc.clock.align()
    for _ in range(4):
        assert_error(svc.otp(tok, wrong_code(u.secret, t)), 403,
                     "invalid_grant", "Invalid otp_code.")
    assert_error(svc.otp(tok, oathtool(u.secret, t)), 429,
                 "too_many_attempts", TOO_MANY)


# -------------------------------------------------------------- lockout

def test_lockout_after_ten_failures_and_refill(svc):
    u = svc.user("lock")
    bystander = svc.user("bystander")
    tok = svc.token(u)
    t = svc.clock.align(margin=10)
    wrong = wrong_code(u.secret, t)
    t0 = svc.clock.now()  # just before the first failure
    for _ in range(10):
        assert_error(svc.otp(tok, wrong), 403, "invalid_grant",
                     "Invalid otp_code.")
    # the 11th is refused before any check, even with the right code
    right = oathtool(u.secret, t)
    assert_error(svc.otp(tok, right), 429, "too_many_attempts", TOO_MANY)
    assert_error(svc.otp(tok, wrong), 429, "too_many_attempts", TOO_MANY)
    assert_error(svc.otp(svc.token(u), right), 429, "too_many_attempts",
                 TOO_MANY)
    # per user and authenticator: another user is not affected
    check_result(svc, svc.otp(svc.token(bystander),
                              oathtool(bystander.secret, t)),
                 svc.app, bystander, "otp")

    # (codes near a step boundary still verify: the window is +-1 step)
    def at(offset):
        svc.clock.advance(t0 + offset - svc.clock.now())
        return svc.clock.now()

    # 355 s after the first failure is not yet the 360 s refill
    t = at(355)
    assert_error(svc.otp(tok, oathtool(u.secret, t)), 429,
                 "too_many_attempts", TOO_MANY)
    # 360 s after it (2 s of slack): exactly one attempt is back
    t = at(362)
    assert_error(svc.otp(tok, wrong_code(u.secret, t)), 403, "invalid_grant",
                 "Invalid otp_code.")
    assert_error(svc.otp(tok, oathtool(u.secret, t)), 429,
                 "too_many_attempts", TOO_MANY)
    # another 360 s: one back, and the right code works
    t = at(722)
    check_result(svc, svc.otp(svc.token(u), oathtool(u.secret, t)),
                 svc.app, u, "otp")
    if svc.kind == "lighttpd":
        # the responder's stderr: the lockout is logged, without codes
        log = svc.srv.log_text(tail=None)
        lines = [ln for ln in log.splitlines() if u.id in ln]
        assert any("lockout" in ln for ln in lines), lines
        assert not any(wrong in ln or right in ln for ln in lines), lines


def test_failure_count_survives_worker_restarts(svc):
    u = svc.user("restart")
    tok = svc.token(u)
    t = svc.clock.align(margin=15)
    wrong = wrong_code(u.secret, t)
    for _ in range(5):
        assert_error(svc.otp(tok, wrong), 403, "invalid_grant",
                     "Invalid otp_code.")
    # every worker dies (SIGKILL, as in a crash) and is respawned
    old = svc.srv.wait_workers(3)
    assert len(old) == 3, old
    for pid in old:
        os.kill(pid, signal.SIGKILL)
    assert servers.wait_gone(old, 5) == []
    new = svc.srv.wait_workers(3, exclude=old)
    assert len(new) == 3 and not set(new) & set(old), (old, new)
    # the counter is in the store: five failures left, not ten
    for _ in range(5):
        assert_error(svc.otp(tok, wrong, http=Http(svc.srv.url)), 403,
                     "invalid_grant", "Invalid otp_code.")
    assert_error(svc.otp(tok, oathtool(u.secret, t)), 429,
                 "too_many_attempts", TOO_MANY)


def test_recovery_code_lockout(svc):
    u = svc.user("reclock")
    codes = svc.store.ctl("user", "recovery-codes", u.id)["recovery_codes"]
    tok = svc.token(u)
    for _ in range(10):
        assert_error(svc.recovery(tok, "A" * 24), 403, "invalid_grant",
                     "Invalid recovery code.")
    assert_error(svc.recovery(tok, codes[0]), 429, "too_many_attempts",
                 TOO_MANY)
    # the otp authenticator has its own bucket
    t = svc.clock.align()
    check_result(svc, svc.otp(tok, oathtool(u.secret, t)), svc.app, u,
                 "otp")
    svc.clock.advance(360)
    check_result(svc, svc.recovery(svc.token(u), codes[0]), svc.app, u,
                 "recovery-code", recovery=True)


def test_concurrent_wrong_codes_exact_limit(svc):
    u = svc.user("conc")
    tok = svc.token(u)
    t = svc.clock.align(margin=10)
    wrong = wrong_code(u.secret, t)

    def one(i):
        return outcome(svc.otp(tok, wrong, http=Http(svc.srv.url)))

    got = parallel(20, one)
    assert len(svc.srv.workers()) >= 3
    bad = (403, "invalid_grant", "Invalid otp_code.")
    many = (429, "too_many_attempts", TOO_MANY)
    assert sorted(got, key=str) == sorted([bad] * 10 + [many] * 10,
                                          key=str), got
    assert_error(svc.otp(tok, oathtool(u.secret, t)), 429,
                 "too_many_attempts", TOO_MANY)


def test_concurrent_same_totp_code_once(svc):
    u = svc.user("race")
    tok = svc.token(u)
    t = svc.clock.align(margin=10)
    code = oathtool(u.secret, t)

    def one(i):
        return svc.otp(tok, code, http=Http(svc.srv.url))

    rs = parallel(8, one)
    ok = [r for r in rs if r.status_code == 200]
    assert len(ok) == 1, [outcome(r) for r in rs]
    check_result(svc, ok[0], svc.app, u, "otp")
    assert sorted(outcome(r) for r in rs if r.status_code != 200) == \
        [(403, "invalid_grant", "Invalid otp_code.")] * 7


# ------------------------------------------------------------------ oob

def test_oob_verified_then_reuse_refused(svc):
    u = svc.user("oob", otp=False, sms=True)
    tok = svc.token(u)
    oob, code, cid = svc.oob_challenge(tok)
    assert svc.state(cid) == ("pending", 0)
    check_result(svc, svc.oob(tok, oob, code), svc.app, u, "oob")
    assert svc.state(cid) == ("verified", 0)
    assert_error(svc.oob(tok, oob, code), 400, "invalid_grant",
                 "oob_code has already been used")
    assert_error(svc.oob(tok, oob, "000000"), 400, "invalid_grant",
                 "oob_code has already been used")


def test_oob_scope_openid(svc):
    u = svc.user("oobid", otp=False, sms=True)
    tok = svc.token(u)
    oob, code, _ = svc.oob_challenge(tok)
    check_result(svc, svc.oob(tok, oob, code, scope="openid email"),
                 svc.app, u, "oob", scope="openid email")


def test_oob_wrong_missing_malformed_binding_code(svc):
    u = svc.user("oobbad", otp=False, sms=True)
    tok = svc.token(u)
    oob, code, cid = svc.oob_challenge(tok)
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    assert_error(svc.oob(tok, oob, wrong), 403, "invalid_grant",
                 "Invalid binding_code.")
    assert svc.state(cid) == ("pending", 1)
    assert_error(svc.oob(tok, oob), 400, "invalid_request",
                 "Missing required parameter: binding_code")
    assert_error(svc.grant(G_OOB, {"mfa_token": tok, "binding_code": code}),
                 400, "invalid_request",
                 "Missing required parameter: oob_code")
    assert_error(svc.oob(tok, oob, code[:5]), 403, "invalid_grant",
                 "Invalid binding_code.")
    assert_error(svc.oob(tok, oob, code + "0"), 403, "invalid_grant",
                 "Invalid binding_code.")
    assert svc.state(cid) == ("pending", 3)
    # still pending: the right code works
    check_result(svc, svc.oob(tok, oob, code), svc.app, u, "oob")


def test_oob_code_of_another_token_user_client(svc):
    alice = svc.user("alice", otp=True, sms=True)
    bob = svc.user("bob", otp=False, sms=True)
    tok = svc.token(alice)
    oob, code, cid = svc.oob_challenge(tok)
    # another user's mfa_token
    assert_error(svc.oob(svc.token(bob), oob, code), 400, "invalid_request",
                 NO_MATCH)
    # another mfa_token of the same user
    assert_error(svc.oob(svc.token(alice), oob, code), 400,
                 "invalid_request", NO_MATCH)
    # the same user through another client
    assert_error(svc.oob(svc.token(alice, svc.other), oob, code,
                         client=svc.other),
                 400, "invalid_request", NO_MATCH)
    # an oob_code nobody made
    assert_error(svc.oob(tok, secrets.token_urlsafe(32), code), 400,
                 "invalid_request", NO_MATCH)
    # this challenge's id with another handle, or with none
    assert oob.startswith(cid + ".")
    for forged in (cid + "." + secrets.token_urlsafe(32), cid + ".",
                   cid + "." + oob[len(cid) + 2:], cid, "." + oob,
                   oob[len(cid) + 1:], oob[len(cid):],
                   oob + "x", "x" * 65 + "." + oob[len(cid) + 1:]):
        assert_error(svc.oob(tok, forged, code), 400, "invalid_request",
                     NO_MATCH)
    # the handle of this code under another challenge's id: an otp
    # challenge of the same token, and another oob challenge of it
    before = svc.store.challenge_ids()
    assert assert_ok(challenge(svc.http, svc.app, tok,
                               challenge_type="otp")) == \
        {"challenge_type": "otp"}
    (otp_cid,) = svc.store.challenge_ids() - before
    handle = oob[len(cid) + 1:]
    oob2, code2, cid2 = svc.oob_challenge(tok)
    for other in (otp_cid, cid2):
        assert_error(svc.oob(tok, other + "." + handle, code), 400,
                     "invalid_request", NO_MATCH)
    assert_error(svc.oob(tok, cid2 + "." + handle, code2), 400,
                 "invalid_request", NO_MATCH)
    # none of that touched the challenges
    assert svc.state(cid) == ("pending", 0)
    assert svc.state(cid2) == ("pending", 0)
    check_result(svc, svc.oob(tok, oob, code), svc.app, alice, "oob")
    check_result(svc, svc.oob(tok, oob2, code2), svc.app, alice, "oob")


def test_oob_locked_after_five_wrong_codes(svc):
    u = svc.user("ooblock", otp=False, sms=True)
    tok = svc.token(u)
    oob, code, cid = svc.oob_challenge(tok)
    wrong = "%06d" % ((int(code) + 500000) % 1000000)
    for i in range(5):
        assert_error(svc.oob(tok, oob, wrong), 403, "invalid_grant",
                     "Invalid binding_code.")
    assert svc.state(cid) == ("locked", 5)
    assert_error(svc.oob(tok, oob, code), 400, "invalid_grant", LOCKED)
    assert_error(svc.oob(tok, oob, wrong), 400, "invalid_grant", LOCKED)
    assert svc.state(cid) == ("locked", 5)
    # a new challenge works (5 of the 10 failures of the factor left)
    oob2, code2, _ = svc.oob_challenge(tok)
    check_result(svc, svc.oob(tok, oob2, code2), svc.app, u, "oob")


def test_oob_failures_count_per_factor(svc):
    """Wrong binding codes also drain the factor's failed-code bucket:
    two locked challenges make ten failures, and the third challenge is
    refused with 429 before its code is checked."""
    u = svc.user("oobfail", otp=True, sms=True)
    tok = svc.token(u)
    for _ in range(2):
        oob, code, cid = svc.oob_challenge(tok)
        wrong = "%06d" % ((int(code) + 1) % 1000000)
        for _ in range(5):
            assert_error(svc.oob(tok, oob, wrong), 403, "invalid_grant",
                         "Invalid binding_code.")
        assert svc.state(cid) == ("locked", 5)
    oob, code, cid = svc.oob_challenge(tok)
    assert_error(svc.oob(tok, oob, code), 429, "too_many_attempts", TOO_MANY)
    assert svc.state(cid) == ("pending", 0)
    # the user's otp authenticator has a bucket of its own
    t = svc.clock.align()
    check_result(svc, svc.otp(tok, oathtool(u.secret, t)), svc.app, u,
                 "otp")


def test_oob_expiry(svc):
    u = svc.user("oobexp", otp=False, sms=True)
    tok = svc.token(u)
    oob_a, code_a, cid_a = svc.oob_challenge(tok)
    oob_b, code_b, cid_b = svc.oob_challenge(tok)
    svc.clock.advance(295)
    # 295 s of the default 300: still good
    check_result(svc, svc.oob(tok, oob_b, code_b), svc.app, u, "oob")
    svc.clock.advance(6)
    # swept as any worker may do at any time after expiry (see
    # test_expired_mfa_token)
    svc.sweep()
    assert_error(svc.oob(tok, oob_a, code_a), 403, "expired_token",
                 "oob_code is expired")
    assert svc.state(cid_a)[0] == "expired"
    assert_error(svc.oob(tok, oob_a, code_a), 403, "expired_token",
                 "oob_code is expired")
    # the verified one is never accepted again, swept or not
    assert outcome(svc.oob(tok, oob_b, code_b)) in (
        (400, "invalid_grant", "oob_code has already been used"),
        (400, "invalid_request", NO_MATCH))


def test_oob_polling_default_limit(svc):
    u = svc.user("poll", otp=False, sms=True)
    tok = svc.token(u)
    oob, code, _ = svc.oob_challenge(tok)
    for _ in range(12):
        assert_error(svc.oob(tok, oob), 400, "invalid_request",
                     "Missing required parameter: binding_code")
    assert_error(svc.oob(tok, oob, code), 400, "slow_down", SLOW)
    svc.clock.advance(5)
    check_result(svc, svc.oob(tok, oob, code), svc.app, u, "oob")


def test_concurrent_same_oob_verification_once(svc):
    u = svc.user("oobrace", otp=False, sms=True)
    tok = svc.token(u)
    oob, code, cid = svc.oob_challenge(tok)

    def one(i):
        return svc.oob(tok, oob, code, http=Http(svc.srv.url))

    rs = parallel(8, one)
    ok = [r for r in rs if r.status_code == 200]
    assert len(ok) == 1, [outcome(r) for r in rs]
    check_result(svc, ok[0], svc.app, u, "oob")
    assert sorted(outcome(r) for r in rs if r.status_code != 200) == \
        [(400, "invalid_grant", "oob_code has already been used")] * 7
    assert svc.state(cid) == ("verified", 0)


# ------------------------------------------------------------- recovery

def test_recovery_code_flow(svc):
    u = svc.user("rec")
    out = svc.store.ctl("user", "recovery-codes", u.id)
    assert set(out) == {"user_id", "recovery_codes"}
    assert out["user_id"] == u.id
    codes = out["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10, codes
    assert all(RECOVERY_RE.match(c) for c in codes), codes
    tok = svc.token(u)
    body = check_result(svc, svc.recovery(tok, codes[0]), svc.app, u,
                        "recovery-code", recovery=True)
    fresh = body["recovery_code"]
    assert RECOVERY_RE.match(fresh) and fresh not in codes, fresh
    # the used code never works again
    assert_error(svc.recovery(tok, codes[0]), 403, "invalid_grant",
                 "Invalid recovery code.")
    # the fresh one does, and hands out another
    body = check_result(svc, svc.recovery(tok, fresh), svc.app, u,
                        "recovery-code", recovery=True)
    fresh2 = body["recovery_code"]
    assert RECOVERY_RE.match(fresh2) and fresh2 not in codes + [fresh]
    assert_error(svc.recovery(tok, fresh), 403, "invalid_grant",
                 "Invalid recovery code.")
    # the rest of the set is untouched; a code may be typed in lower
    # case, in groups
    typed = "-".join(codes[1][i:i + 4] for i in range(0, 24, 4)).lower()
    check_result(svc, svc.recovery(tok, typed, scope="openid"), svc.app, u,
                 "recovery-code", scope="openid", recovery=True)
    assert_error(svc.recovery(tok, codes[1]), 403, "invalid_grant",
                 "Invalid recovery code.")
    # a new set revokes the old one, including the fresh code
    new = svc.store.ctl("user", "recovery-codes", u.id)["recovery_codes"]
    assert not set(new) & set(codes + [fresh, fresh2])
    assert_error(svc.recovery(tok, codes[2]), 403, "invalid_grant",
                 "Invalid recovery code.")
    assert_error(svc.recovery(tok, fresh2), 403, "invalid_grant",
                 "Invalid recovery code.")
    check_result(svc, svc.recovery(tok, new[9]), svc.app, u,
                 "recovery-code", recovery=True)


def test_recovery_code_errors(svc):
    alice, bob = svc.user("reca"), svc.user("recb")
    codes = svc.store.ctl("user", "recovery-codes", alice.id)[
        "recovery_codes"]
    tok_b = svc.token(bob)
    assert_error(svc.grant(G_REC, {"mfa_token": tok_b}), 400,
                 "invalid_request",
                 "Missing required parameter: recovery_code")
    # alice's code is not bob's
    assert_error(svc.recovery(tok_b, codes[0]), 403, "invalid_grant",
                 "Invalid recovery code.")
    for bad in ("short", codes[0][:23], codes[0] + "A", codes[0][:23] + "_"):
        assert_error(svc.recovery(svc.token(alice), bad), 403,
                     "invalid_grant", "Invalid recovery code.")
    # and still alice's
    check_result(svc, svc.recovery(svc.token(alice), codes[0]), svc.app,
                 alice, "recovery-code", recovery=True)


# -------------------------------------------------------- result tokens

def test_result_tokens_scope(svc):
    u = svc.user("scope")
    t = svc.clock.align()
    # no scope: no scope claim, no id_token
    check_result(svc, svc.otp(svc.token(u), oathtool(u.secret, t - STEP)),
                 svc.app, u, "otp")
    # scope without openid: scope echoed, no id_token
    check_result(svc, svc.otp(svc.token(u), oathtool(u.secret, t),
                              scope="profile email"),
                 svc.app, u, "otp", scope="profile email")
    # openid: an id_token too
    body = check_result(svc, svc.otp(svc.token(u),
                                     oathtool(u.secret, t + STEP),
                                     scope="openid"),
                        svc.app, u, "otp", scope="openid")
    assert body["access_token"] != body["id_token"]


def test_result_token_other_client_and_forgeries(svc):
    u = svc.user("forge")
    t = svc.clock.align()
    body = check_result(svc, svc.otp(svc.token(u, svc.other),
                                     oathtool(u.secret, t),
                                     client=svc.other),
                        svc.other, u, "otp")
    at = body["access_token"]
    kid = jwt.get_unverified_header(at)["kid"]
    key = jwt.PyJWK({k["kid"]: k for k in svc.jwks()["keys"]}[kid]).key
    opts = {"verify_iat": False}
    # the audience is the client the token was issued to
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(at, key, algorithms=["EdDSA"], audience=svc.app.id,
                   issuer=ISSUER, options=opts)
    with pytest.raises(jwt.InvalidIssuerError):
        jwt.decode(at, key, algorithms=["EdDSA"], audience=svc.other.id,
                   issuer="https://evil.example/", options=opts)
    # a changed claim breaks the signature
    h, p, s = at.split(".")
    claims = json.loads(b64url_decode(p))
    claims["sub"] = "mallory"
    p2 = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(
        b"=").decode()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode("%s.%s.%s" % (h, p2, s), key, algorithms=["EdDSA"],
                   audience=svc.other.id, issuer=ISSUER, options=opts)


def test_jwks_shape(svc):
    keys = svc.jwks()
    assert set(keys) == {"keys"} and keys["keys"], keys
    for k in keys["keys"]:
        assert set(k) == {"kty", "crv", "x", "kid", "alg", "use"}, k
        assert (k["kty"], k["crv"], k["alg"], k["use"]) == \
            ("OKP", "Ed25519", "EdDSA", "sig"), k
        assert len(b64url_decode(k["x"])) == 32 and "=" not in k["x"]
        # kid: the RFC 7638 thumbprint of the public key
        canon = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": k["x"]},
                           separators=(",", ":"), sort_keys=True)
        thumb = base64.urlsafe_b64encode(
            hashlib.sha256(canon.encode()).digest()).rstrip(b"=").decode()
        assert k["kid"] == thumb, k


def test_key_rotation(svc):
    u = svc.user("rot")
    t = svc.clock.align()
    old_body = check_result(svc, svc.otp(svc.token(u),
                                         oathtool(u.secret, t),
                                         scope="openid"),
                            svc.app, u, "otp", scope="openid")
    old_kid = jwt.get_unverified_header(old_body["access_token"])["kid"]
    assert svc.jwks()["keys"][0]["kid"] == old_kid
    out = svc.store.ctl("keys", "rotate")
    assert out["retired"] == old_kid and out["kid"] != old_kid, out
    kids = [k["kid"] for k in svc.jwks()["keys"]]
    assert kids[0] == out["kid"] and old_kid in kids, kids
    t = svc.clock.align()
    new_body = check_result(svc, svc.otp(svc.token(u),
                                         oathtool(u.secret, t + STEP),
                                         scope="openid"),
                            svc.app, u, "otp", scope="openid")
    for tok in (new_body["access_token"], new_body["id_token"]):
        assert jwt.get_unverified_header(tok)["kid"] == out["kid"]
    # tokens of the old key still verify against the published set
    for tok in (old_body["access_token"], old_body["id_token"]):
        h = jwt.get_unverified_header(tok)
        assert h["kid"] == old_kid
        key = jwt.PyJWK({k["kid"]: k for k in svc.jwks()["keys"]}[
            old_kid]).key
        jwt.decode(tok, key, algorithms=["EdDSA"], audience=svc.app.id,
                   issuer=ISSUER, options={"verify_iat": False,
                                           "verify_exp": False})
    # ... for as long as they live: still published 5 s before they expire
    exp = jwt.decode(old_body["access_token"],
                     options={"verify_signature": False})["exp"]
    svc.clock.advance(exp - 5 - svc.clock.now())
    kids = [k["kid"] for k in svc.jwks()["keys"]]
    assert kids[0] == out["kid"] and old_kid in kids, kids


# ------------------------------------------------------ configured limits

def test_small_fail_burst_and_refill(small):
    u = small.user("sfail")
    tok = small.token(u)
    t = small.clock.align(margin=10)
    wrong = wrong_code(u.secret, t)
    for _ in range(3):
        assert_error(small.otp(tok, wrong), 403, "invalid_grant",
                     "Invalid otp_code.")
    assert_error(small.otp(tok, oathtool(u.secret, t)), 429,
                 "too_many_attempts", TOO_MANY)
    small.clock.advance(60)
    t = small.clock.align()
    check_result(small, small.otp(small.token(u), oathtool(u.secret, t)),
                 small.app, u, "otp", ttl=120)


def test_small_otp_window_zero(small):
    u = small.user("swin")
    tok = small.token(u)
    t = small.clock.align()
    for k in (-1, 1):
        assert_error(small.otp(tok, oathtool(u.secret, t + k * STEP)), 403,
                     "invalid_grant", "Invalid otp_code.")
    check_result(small, small.otp(tok, oathtool(u.secret, t)), small.app, u,
                 "otp", ttl=120)


def test_small_oob_limits(small):
    u = small.user("soob", otp=False, sms=True)
    tok = small.token(u)
    # two wrong codes lock (MFA_CHALLENGE_MAX_ATTEMPTS=2)
    oob, code, cid = small.oob_challenge(tok)
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    for _ in range(2):
        assert_error(small.oob(tok, oob, wrong), 403, "invalid_grant",
                     "Invalid binding_code.")
    assert_error(small.oob(tok, oob, code), 400, "invalid_grant", LOCKED)
    assert small.state(cid) == ("locked", 2)
    # three polls (MFA_POLL_BURST=3), then slow_down even with the code;
    # one poll back after MFA_POLL_REFILL=5 s
    oob, code, cid = small.oob_challenge(tok)
    for _ in range(3):
        assert_error(small.oob(tok, oob), 400, "invalid_request",
                     "Missing required parameter: binding_code")
    assert_error(small.oob(tok, oob, code), 400, "slow_down", SLOW)
    assert small.state(cid) == ("pending", 0)
    small.clock.advance(5)
    check_result(small, small.oob(tok, oob, code), small.app, u, "oob",
                 ttl=120)
    # expiry after MFA_OOB_TTL=30 s
    oob, code, cid = small.oob_challenge(tok)
    small.clock.advance(31)
    small.sweep()
    assert_error(small.oob(tok, oob, code), 403, "expired_token",
                 "oob_code is expired")
    assert small.state(cid)[0] == "expired"
