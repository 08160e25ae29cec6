"""POST /auth/challenges/{id}/verify, the WorkOS-compatible verification of
a stored challenge, behind lighttpd and nginx + spawn-fcgi.

Authenticated like a WorkOS API key: "Authorization: Bearer <client
secret>" of the client that created the challenge. Answers in WorkOS's
shapes: 201 {"challenge": <authentication_challenge>, "valid": bool};
422 authentication_challenge_expired / _previously_verified; 400
one_time_code_too_many_attempts; 404 entity_not_found; errors are
{"code", "message"}.

Runs against the test-clock build (make testclock), with the server,
clock and helpers of test_verify.py: expiry and bucket refills are tested
by moving the clock forward, never by sleeping. Binding codes come from the
spool, TOTP codes from oathtool.
"""

import json
import secrets
import subprocess
import time

import pytest

import servers
from servers import COMMON_HEADERS, KINDS, Http, assert_error, challenge
from test_verify import (STEP, TOO_MANY as GRANT_TOO_MANY, Svc, oathtool,
                         outcome, parallel, start_clock_server, wrong_code)

TOO_MANY = "Too many failed codes. Wait for some minutes before retrying."
NO_BEARER = "Send the client secret as Authorization: Bearer"
BAD_KEY = "The API key is not valid for this challenge"
WWW_ABSENT = 'Bearer realm="mfa"'
WWW_INVALID = 'Bearer realm="mfa", error="invalid_token"'
PUBLIC_KEYS = {"object", "id", "created_at", "updated_at",
               "authentication_factor_id"}
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def path_of(cid):
    return "/auth/challenges/%s/verify" % cid


# ----------------------------------------------------------------- calls

def verify(svc, cid, code=None, secret=None, body="form", http=None,
           headers=None, raw_path=None):
    """POST the verify endpoint of challenge "cid" with "code" (None: no
    code) as a form or JSON "body", "Authorization: Bearer <secret>"
    (secret None: the app's; "": no Authorization header)."""
    if secret is None:
        secret = svc.app.secret
    h = dict(headers or {})
    if secret != "" and "Authorization" not in h:
        h["Authorization"] = "Bearer " + secret
    params = {} if code is None else {"code": code}
    http = http or svc.http
    path = raw_path or path_of(cid)
    if body == "form":
        return http.post(path, form=params, headers=h)
    return http.post(path, json_body=params, headers=h)


def check_headers(r, www=None):
    """The headers of every response; WWW-Authenticate exactly "www"."""
    for k, v in COMMON_HEADERS.items():
        assert r.headers.get(k) == v, (k, r.status_code, r.text[:300])
    assert r.headers.get("WWW-Authenticate") == www, \
        (r.status_code, r.headers.get("WWW-Authenticate"), r.text[:300])


def assert_wos(r, status, code, message, www=None):
    """Exact status, body {"code", "message"} and headers."""
    try:
        body = r.json()
    except ValueError:
        raise AssertionError("%d: not JSON: %r" % (r.status_code,
                                                   r.text[:300]))
    assert (r.status_code, body) == (status, {"code": code,
                                              "message": message}), \
        (r.status_code, body)
    check_headers(r, www)
    return body


def assert_verdict(svc, r, cid, valid, before):
    """A 201 {"challenge", "valid"}: the challenge object is exactly the
    public part of what "mfactl challenge show" says now, its updated_at
    moved on from "before" (the show before the request)."""
    body = r.json()
    assert r.status_code == 201, (r.status_code, body)
    check_headers(r)
    assert set(body) == {"challenge", "valid"}, body
    assert body["valid"] is valid, body
    shown = svc.store.challenge_show(cid)
    want = {k: shown[k] for k in PUBLIC_KEYS | {"expires_at"} if k in shown}
    assert body["challenge"] == want, (body, shown)
    assert body["challenge"]["object"] == "authentication_challenge"
    assert body["challenge"]["id"] == cid
    assert shown["created_at"] == before["created_at"]
    assert shown["updated_at"] != before["updated_at"], (before, shown)
    assert shown["updated_at"] > before["updated_at"], (before, shown)
    if shown["challenge_type"] == "oob":
        assert set(body["challenge"]) == PUBLIC_KEYS | {"expires_at"}
        assert shown["expires_at"] == before["expires_at"]
    else:
        assert set(body["challenge"]) == PUBLIC_KEYS
    return shown


def show(svc, cid):
    return svc.store.challenge_show(cid)


def state(svc, cid):
    c = show(svc, cid)
    return c["state"], c["attempts"]


def otp_challenge(svc, token, client=None):
    """An otp challenge through POST /mfa/challenge; its id is the one
    challenge id that is new in the store."""
    before = svc.store.challenge_ids()
    r = challenge(svc.http, client or svc.app, token, challenge_type="otp")
    assert (r.status_code, r.json()) == (200, {"challenge_type": "otp"}), \
        (r.status_code, r.text)
    new = svc.store.challenge_ids() - before
    assert len(new) == 1, new
    cid = new.pop()
    c = show(svc, cid)
    assert (c["challenge_type"], c["state"], c["attempts"]) == \
        ("otp", "pending", 0), c
    assert "expires_at" not in c, c
    return cid


def new_challenge(svc, kind, user, tok):
    """(challenge id, right code, wrong code) of a fresh challenge of
    "kind" for "user"; the codes are good for the current TOTP step (the
    clock aligned with 10 s left in it)."""
    if kind == "oob":
        _, code, cid = svc.oob_challenge(tok)
        return cid, code, "%06d" % ((int(code) + 500000) % 1000000)
    cid = otp_challenge(svc, tok)
    t = svc.clock.align(margin=10)
    return cid, oathtool(user.secret, t), wrong_code(user.secret, t)


def unknown_id():
    return "auth_challenge_0" + "".join(secrets.choice(CROCKFORD)
                                        for _ in range(25))


# -------------------------------------------------------------- fixtures

@pytest.fixture(scope="module", params=KINDS)
def svc(request, tmp_path_factory):
    """A test-clock server (3 workers) with the default limits."""
    srv = start_clock_server(request.param,
                             tmp_path_factory.mktemp("wos-" + request.param))
    try:
        yield Svc(srv)
    finally:
        servers.stop_server(srv)


@pytest.fixture(scope="module", params=KINDS)
def burst2(request, tmp_path_factory):
    """A test-clock server whose failed-code bucket holds 2."""
    srv = start_clock_server(
        request.param, tmp_path_factory.mktemp("wos2-" + request.param),
        MFA_FAIL_BURST=2)
    try:
        yield Svc(srv)
    finally:
        servers.stop_server(srv)


# --------------------------------------------------------------- success

@pytest.mark.parametrize("body", ["form", "json"])
def test_oob_verified_once(svc, body):
    u = svc.user("wosoob", otp=False, sms=True)
    tok = svc.token(u)
    oob, code, cid = svc.oob_challenge(tok)
    before = show(svc, cid)
    assert (before["state"], before["attempts"]) == ("pending", 0)
    assert before["authentication_factor_id"] == u.sms_id
    svc.clock.advance(1)
    r = verify(svc, cid, code, body=body)
    after = assert_verdict(svc, r, cid, True, before)
    assert (after["state"], after["attempts"]) == ("verified", 0)
    # the right code again, or a wrong one: previously verified
    gone = "The authentication challenge '%s' has already been verified." \
        % cid
    for c in (code, "%06d" % ((int(code) + 1) % 1000000)):
        assert_wos(verify(svc, cid, c, body=body), 422,
                   "authentication_challenge_previously_verified", gone)
    assert show(svc, cid) == after
    # one lifecycle: the Auth0 grant sees the same challenge as used
    assert_error(svc.oob(tok, oob, code), 400, "invalid_grant",
                 "oob_code has already been used")


@pytest.mark.parametrize("body", ["form", "json"])
def test_otp_verified_once_and_code_replay(svc, body):
    u = svc.user("wosotp")
    tok = svc.token(u)
    cid = otp_challenge(svc, tok)
    before = show(svc, cid)
    assert before["authentication_factor_id"] == u.otp_id
    svc.clock.advance(1)
    t = svc.clock.align()
    code = oathtool(u.secret, t)
    after = assert_verdict(svc, verify(svc, cid, code, body=body), cid,
                           True, before)
    assert (after["state"], after["attempts"]) == ("verified", 0)
    assert_wos(verify(svc, cid, code, body=body), 422,
               "authentication_challenge_previously_verified",
               "The authentication challenge '%s' has already been "
               "verified." % cid)
    # the accepted code never verifies again, on a new challenge either
    # (per authenticator, as in the Auth0 otp grant)
    cid2 = otp_challenge(svc, tok)
    before2 = show(svc, cid2)
    svc.clock.advance(1)
    a2 = assert_verdict(svc, verify(svc, cid2, code, body=body), cid2, False,
                        before2)
    assert (a2["state"], a2["attempts"]) == ("pending", 1)
    assert_error(svc.otp(svc.token(u), code), 403, "invalid_grant",
                 "Invalid otp_code.")
    # the next step's code does
    svc.clock.advance(0.01)
    t = svc.clock.align()
    a3 = assert_verdict(svc, verify(svc, cid2, oathtool(u.secret, t + STEP),
                                    body=body), cid2, True, a2)
    assert (a3["state"], a3["attempts"]) == ("verified", 1)


# ------------------------------------------------- wrong codes, lockout

@pytest.mark.parametrize("kind", ["oob", "otp"])
def test_wrong_codes_then_locked(svc, kind):
    u = svc.user("woslock", otp=(kind == "otp"), sms=(kind == "oob"))
    tok = svc.token(u)
    cid, right, wrong = new_challenge(svc, kind, u, tok)
    for n in range(1, 6):
        before = show(svc, cid)
        svc.clock.advance(0.01)
        after = assert_verdict(svc, verify(svc, cid, wrong), cid, False,
                               before)
        assert (after["state"], after["attempts"]) == \
            ("pending" if n < 5 else "locked", n), (n, after)
    locked = show(svc, cid)
    # the sixth: refused before any check, right code or wrong
    for c in (right, wrong):
        assert_wos(verify(svc, cid, c), 400,
                   "one_time_code_too_many_attempts", TOO_MANY)
    assert show(svc, cid) == locked


def test_wrong_code_shapes_are_wrong(svc):
    """Codes of the wrong length or with non-digits are wrong codes (201
    valid:false, counted), never a crash or a 4xx."""
    u = svc.user("wosshape", otp=False, sms=True)
    tok = svc.token(u)
    _, code, cid = svc.oob_challenge(tok)
    for n, bad in enumerate((code[:5], code + "0", "abcdef", " " + code),
                            start=1):
        before = show(svc, cid)
        svc.clock.advance(0.01)
        after = assert_verdict(svc, verify(svc, cid, bad), cid, False, before)
        assert (after["state"], after["attempts"]) == ("pending", n), bad
    before = show(svc, cid)
    svc.clock.advance(0.01)
    after = assert_verdict(svc, verify(svc, cid, code), cid, True, before)
    assert (after["state"], after["attempts"]) == ("verified", 4)


# ----------------------------------------------------------------- expiry

def test_oob_expired(svc):
    u = svc.user("wosexp", otp=False, sms=True)
    tok = svc.token(u)
    _, code_a, cid_a = svc.oob_challenge(tok)
    _, code_b, cid_b = svc.oob_challenge(tok)
    svc.clock.advance(295)
    # 295 s of the default 300 (MFA_OOB_TTL): still good
    before = show(svc, cid_b)
    assert_verdict(svc, verify(svc, cid_b, code_b), cid_b, True, before)
    svc.clock.advance(6)
    expired = "The authentication challenge '%s' has expired." % cid_a
    assert_wos(verify(svc, cid_a, code_a), 422,
               "authentication_challenge_expired", expired)
    assert state(svc, cid_a) == ("expired", 0)
    # a sweep keeps the expired record for its grace time: same answer,
    # wrong code or right
    svc.sweep()
    for c in (code_a, "000000" if code_a != "000000" else "000001"):
        assert_wos(verify(svc, cid_a, c), 422,
                   "authentication_challenge_expired", expired)
    assert state(svc, cid_a) == ("expired", 0)
    # the verified one stays verified
    assert_wos(verify(svc, cid_b, code_b), 422,
               "authentication_challenge_previously_verified",
               "The authentication challenge '%s' has already been "
               "verified." % cid_b)


# ------------------------------------------------------- authentication

def test_authorization(svc):
    u = svc.user("wosauth", otp=False, sms=True)
    tok = svc.token(u)
    _, code, cid = svc.oob_challenge(tok)
    # no Authorization, or another scheme
    assert_wos(verify(svc, cid, code, secret=""), 401, "unauthorized",
               NO_BEARER, WWW_ABSENT)
    assert_wos(verify(svc, cid, code, headers={
        "Authorization": servers.basic_header(svc.app.id, svc.app.secret)}),
        401, "unauthorized", NO_BEARER, WWW_ABSENT)
    # a key that is not this challenge's client's secret
    for secret in ("wrong-secret", svc.other.secret, svc.app.id,
                   svc.app.secret[:-1], svc.app.secret + "x"):
        assert_wos(verify(svc, cid, code, secret=secret), 401,
                   "unauthorized", BAD_KEY, WWW_INVALID)
    # a Bearer without a token, or a malformed one: not valid
    for value in ("Bearer", "Bearer a b", "Bearer " + "a" * 300,
                  "Bearer " + svc.app.secret + ",x", "Bearer =abc"):
        assert_wos(verify(svc, cid, code, headers={"Authorization": value}),
                   401, "unauthorized", BAD_KEY, WWW_INVALID)
    # none of that counted or changed anything
    assert state(svc, cid) == ("pending", 0)
    before = show(svc, cid)
    svc.clock.advance(0.01)
    assert_verdict(svc, verify(svc, cid, code), cid, True, before)


def test_wrong_key_is_answered_while_the_writer_lock_is_held(svc):
    """A wrong API key for a stored challenge is answered from a read
    transaction: while another process holds LMDB's writer lock (an
    mdb_load waiting for its input), the 401 still comes back, and a
    flood of such requests could not stall the workers' verifications."""
    u = svc.user("woslock", otp=False, sms=True)
    _, code, cid = svc.oob_challenge(svc.token(u))
    svc.store.challenge_show(cid)      # committed, not only queued
    holder = subprocess.Popen(["mdb_load", "-T", "-s", "outbox",
                               str(svc.store.path)],
                              stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)                # it begins its write transaction
        assert holder.poll() is None, holder.stderr.read()
        assert_wos(verify(svc, cid, code, secret="wrong-secret"), 401,
                   "unauthorized", BAD_KEY, WWW_INVALID)
        assert holder.poll() is None   # the lock was held all along
    finally:
        holder.stdin.close()           # no pair: it commits nothing
        assert holder.wait(timeout=30) == 0
    assert state(svc, cid) == ("pending", 0)
    before = show(svc, cid)
    svc.clock.advance(0.01)
    assert_verdict(svc, verify(svc, cid, code), cid, True, before)


def test_other_clients_challenge(svc):
    """A challenge made by "other" is verified with other's secret only."""
    u = svc.user("wosother", otp=False, sms=True)
    tok = svc.token(u, svc.other)
    _, code, cid = svc.oob_challenge(tok, client=svc.other)
    assert show(svc, cid)["client_id"] == svc.other.id
    assert_wos(verify(svc, cid, code), 401, "unauthorized", BAD_KEY,
               WWW_INVALID)
    assert state(svc, cid) == ("pending", 0)
    before = show(svc, cid)
    svc.clock.advance(0.01)
    # the scheme is case-insensitive (RFC 7235)
    assert_verdict(svc, verify(svc, cid, code, headers={
        "Authorization": "bearer " + svc.other.secret}), cid, True, before)


# ---------------------------------------------------- request mistakes

@pytest.mark.parametrize("body", ["form", "json"])
def test_missing_code(svc, body):
    u = svc.user("woscode", otp=False, sms=True)
    _, code, cid = svc.oob_challenge(svc.token(u))
    assert_wos(verify(svc, cid, None, body=body), 422,
               "invalid_request_parameters", "code is required")
    # an empty code is no code
    assert_wos(verify(svc, cid, "", body=body), 422,
               "invalid_request_parameters", "code is required")
    # no body at all; a code in the query string is not read
    for path in (path_of(cid), path_of(cid) + "?code=" + code):
        assert_wos(svc.http.post(path, headers={
            "Authorization": "Bearer " + svc.app.secret}), 422,
            "invalid_request_parameters", "code is required")
    assert state(svc, cid) == ("pending", 0)


def test_unknown_and_malformed_ids(svc):
    u = svc.user("wosid", otp=False, sms=True)
    _, code, cid = svc.oob_challenge(svc.token(u))
    for _ in range(3):
        uid = unknown_id()
        assert uid != cid
        assert_wos(verify(svc, uid, code), 404, "entity_not_found",
                   "Authentication challenge not found: '%s'" % uid)
    plain = "Authentication challenge not found"
    for bad in ("nope", "..%2Fx", "..%2F..%2Fx", "%2E%2E",
                cid.lower(), cid + "0", cid[:-1],
                cid[:15] + "8" + cid[16:],            # above the ULID range
                cid[:-1] + "U", cid[:-1] + "I",       # not Crockford
                "auth_challenge_", "x" * 65,
                "auth_chAllenge_" + cid[15:]):
        assert_wos(verify(svc, None, code, raw_path=path_of(bad)), 404,
                   "entity_not_found", plain)
        # the id is checked before the credential
        assert_wos(verify(svc, None, code, secret="",
                          raw_path=path_of(bad)), 404,
                   "entity_not_found", plain)
    # an unencoded "/" makes it another path (the router's 404, not the
    # endpoint's): both servers pass REQUEST_URI as sent
    req = ("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
           "Content-Type: application/x-www-form-urlencoded\r\n"
           "Content-Length: 11\r\nConnection: close\r\n\r\ncode=%s" % (
               path_of("../x"), servers.HOST, svc.app.secret, code))
    st, h, b = servers.raw_exchange(svc.srv.port, req.encode(),
                                    shut_wr=False)
    assert (st, json.loads(b)) == (404, {
        "error": "not_found",
        "error_description": "no such endpoint: %s" % path_of("../x")}), \
        (st, b)
    assert state(svc, cid) == ("pending", 0)


def test_get_not_allowed(svc):
    u = svc.user("wosget", otp=False, sms=True)
    _, _, cid = svc.oob_challenge(svc.token(u))
    for cid_ in (cid, unknown_id(), "nope"):
        r = svc.http.request("GET", path_of(cid_), headers={
            "Authorization": "Bearer " + svc.app.secret})
        assert r.status_code == 405, (r.status_code, r.text)
        assert r.headers.get("Allow") == "POST", r.headers
        assert r.json() == {
            "error": "invalid_request",
            "error_description": "method GET is not allowed on %s"
            % path_of(cid_)}, r.text
        check_headers(r)
    assert state(svc, cid) == ("pending", 0)


# -------------------------------------------- the shared failed-code bucket

def test_bucket_shared_between_challenges(burst2):
    """MFA_FAIL_BURST=2: two wrong codes on two fresh challenges of the
    same authenticator empty its bucket; the third challenge is refused
    before its code is checked."""
    svc = burst2
    u = svc.user("wosb", otp=True, sms=True)
    tok = svc.token(u)
    for _ in range(2):
        _, code, cid = svc.oob_challenge(tok)
        before = show(svc, cid)
        svc.clock.advance(0.01)
        assert_verdict(svc, verify(svc, cid, "%06d" % ((int(code) + 1) %
                                                      1000000)),
                       cid, False, before)
    _, code, cid = svc.oob_challenge(tok)
    assert_wos(verify(svc, cid, code), 400,
               "one_time_code_too_many_attempts", TOO_MANY)
    assert state(svc, cid) == ("pending", 0)
    # the user's otp authenticator has a bucket of its own
    ocid = otp_challenge(svc, tok)
    before = show(svc, ocid)
    svc.clock.advance(1)
    t = svc.clock.align()
    assert_verdict(svc, verify(svc, ocid, oathtool(u.secret, t)), ocid, True,
                   before)


def test_bucket_shared_with_auth0_grants(burst2):
    """One wrong code through WorkOS verify, one through the Auth0 oob
    grant: the WorkOS verify of a third challenge is refused (400), and
    so is the Auth0 grant (429). One failure comes back after
    MFA_FAIL_REFILL (360 s)."""
    svc = burst2
    u = svc.user("wosg", otp=False, sms=True)
    tok = svc.token(u)
    _, code, cid = svc.oob_challenge(tok)
    before = show(svc, cid)
    svc.clock.advance(0.01)
    assert_verdict(svc, verify(svc, cid, "%06d" % ((int(code) + 1) %
                                                  1000000)),
                   cid, False, before)
    oob, code, cid = svc.oob_challenge(tok)
    assert_error(svc.oob(tok, oob, "%06d" % ((int(code) + 1) % 1000000)),
                 403, "invalid_grant", "Invalid binding_code.")
    assert state(svc, cid) == ("pending", 1)
    oob, code, cid = svc.oob_challenge(tok)
    assert_wos(verify(svc, cid, code), 400,
               "one_time_code_too_many_attempts", TOO_MANY)
    assert_error(svc.oob(tok, oob, code), 429, "too_many_attempts",
                 GRANT_TOO_MANY)
    assert state(svc, cid) == ("pending", 0)
    # and the other way round: an Auth0 otp failure empties what WorkOS
    # verify of the same otp authenticator would use
    v = svc.user("wosh")
    vtok = svc.token(v)
    t = svc.clock.align(margin=10)
    assert_error(svc.otp(vtok, wrong_code(v.secret, t)), 403,
                 "invalid_grant", "Invalid otp_code.")
    vcid = otp_challenge(svc, vtok)
    before = show(svc, vcid)
    svc.clock.advance(0.01)
    assert_verdict(svc, verify(svc, vcid, wrong_code(v.secret, t)), vcid,
                   False, before)
    assert_wos(verify(svc, vcid, oathtool(v.secret, svc.clock.now())), 400,
               "one_time_code_too_many_attempts", TOO_MANY)
    assert state(svc, vcid) == ("pending", 1)
    # refill: one failure back after 360 s; the otp challenge has no
    # expiry (it is purged after 600 s), so it verifies now
    svc.clock.advance(361)
    t = svc.clock.align()
    before = show(svc, vcid)
    assert_verdict(svc, verify(svc, vcid, oathtool(v.secret, t)), vcid, True,
                   before)


# ------------------------------------------------------------ concurrency

@pytest.mark.parametrize("kind", ["oob", "otp"])
def test_concurrent_right_code_once(svc, kind):
    u = svc.user("wosrace", otp=(kind == "otp"), sms=(kind == "oob"))
    tok = svc.token(u)
    cid, right, _ = new_challenge(svc, kind, u, tok)
    svc.clock.advance(0.01)

    def one(i):
        return verify(svc, cid, right, http=Http(svc.srv.url))

    rs = parallel(6, one)
    ok = [r for r in rs if r.status_code == 201]
    assert len(ok) == 1, [(r.status_code, r.text) for r in rs]
    body = ok[0].json()
    assert body["valid"] is True, body
    check_headers(ok[0])
    shown = show(svc, cid)
    assert (shown["state"], shown["attempts"]) == ("verified", 0)
    assert body["challenge"] == {k: shown[k] for k in
                                 PUBLIC_KEYS | {"expires_at"} if k in shown}
    gone = ("The authentication challenge '%s' has already been verified."
            % cid)
    rest = [r for r in rs if r.status_code != 201]
    for r in rest:
        assert_wos(r, 422, "authentication_challenge_previously_verified",
                   gone)
    assert len(rest) == 5, [outcome(r) for r in rs]
