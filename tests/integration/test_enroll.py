"""Enrollment and authenticator management through the HTTP API alone,
behind lighttpd and nginx + spawn-fcgi:

  POST /mfa/associate               Auth0's enrollment (Bearer mfa_token or
                                    an access token with scope "enroll")
  GET /mfa/authenticators           Bearer mfa_token or access token with
                                    read:authenticators
  DELETE /mfa/authenticators/{id}   access token with remove:authenticators
  POST /auth/factors/enroll, GET/DELETE /auth/factors/{id},
  POST /auth/factors/{id}/challenge WorkOS's factor API (client secret as
                                    Bearer API key)

Runs on the test-clock build (test_verify.py's server and helpers), so
the expiry of unconfirmed enrollments is tested by moving the clock. TOTP
codes come from oathtool, binding codes from the spool, and QR codes are
decoded back with zbarimg.
"""

import base64
import re
import subprocess
import urllib.parse

import pytest

from conftest import EMAIL, PHONE, Client, User, new_user_id
from servers import assert_error, assert_ok, body_of, challenge
from test_verify import (ISSUER, RECOVERY_RE, STEP, Svc, oathtool,
                         start_clock_server)
import servers

MFA_AUD = ISSUER.rstrip("/") + "/mfa/"
ALL_SCOPES = "enroll read:authenticators remove:authenticators"
ACR = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
UNSUPPORTED_OOB = "No matching challenge_type. Requested: [oob]. Available: [otp]."
B32_RE = re.compile(r"^[A-Z2-7]{32}$")
ID_RE = {"otp": re.compile(r"^totp\|dev_[A-Za-z0-9]{16}$"),
         "sms": re.compile(r"^sms\|dev_[A-Za-z0-9]{16}$"),
         "email": re.compile(r"^email\|dev_[A-Za-z0-9]{16}$"),
         "recovery": re.compile(r"^recovery-code\|dev_[A-Za-z0-9]{16}$")}
FACTOR_RE = re.compile(r"^auth_factor_[0-9A-HJKMNP-TV-Z]{26}$")
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
WWW_ABSENT = 'Bearer realm="mfa"'


@pytest.fixture(scope="module", params=servers.KINDS)
def svc(request, tmp_path_factory):
    srv = start_clock_server(request.param,
                             tmp_path_factory.mktemp("en-" + request.param))
    try:
        yield Svc(srv)
    finally:
        servers.stop_server(srv)


# ------------------------------------------------------------- helpers

def bearer(token):
    return {"Authorization": "Bearer " + token}


def associate(svc, token, params, client=None, creds=True):
    """POST /mfa/associate as JSON with "Bearer token" and, when "creds",
    the client's secret in the body."""
    body = dict(params)
    client = client or svc.app
    if creds and client is not None:
        body.update(client_id=client.id, client_secret=client.secret)
    return svc.http.post("/mfa/associate", json_body=body,
                         headers=bearer(token) if token else {})


def listing(svc, token):
    return svc.http.request("GET", "/mfa/authenticators",
                            headers=bearer(token) if token else {})


def delete(svc, token, aid, raw=None):
    path = raw or "/mfa/authenticators/" + urllib.parse.quote(aid, safe="")
    return svc.http.request("DELETE", path,
                            headers=bearer(token) if token else {})


def assert_www(r, status, error, desc, www):
    """An OAuth-shape error with exactly this WWW-Authenticate."""
    b = body_of(r)
    assert (r.status_code, b) == (status, {"error": error,
                                           "error_description": desc}), \
        (r.status_code, b)
    assert r.headers.get("WWW-Authenticate") == www, \
        r.headers.get("WWW-Authenticate")


def qr_text(tmp_path, data_uri):
    """Decodes a data:image/png;base64 QR code with zbarimg."""
    prefix = "data:image/png;base64,"
    assert data_uri.startswith(prefix), data_uri[:40]
    png = tmp_path / "qr.png"
    png.write_bytes(base64.b64decode(data_uri[len(prefix):]))
    return zbar(png)


def zbar(path):
    p = subprocess.run(["zbarimg", "--raw", "-q", str(path)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout.rstrip("\n")


def expected_uri(user_id, secret, issuer="MFA"):
    q = urllib.parse.quote
    return ("otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1"
            "&digits=6&period=30" % (q(issuer, safe=""), q(user_id, safe=""),
                                     secret, q(issuer, safe="")))


def fresh_user():
    return User(new_user_id("enr"))


def enroll_otp(svc, user, token=None):
    """Associates and confirms an otp authenticator for "user"; returns
    (secret, token used)."""
    token = token or svc.token(user)
    b = assert_ok(associate(svc, token, {"authenticator_types": ["otp"]}))
    at = svc.clock.align()
    assert_ok(svc.otp(token, oathtool(b["secret"], at)))
    user.secret = b["secret"]
    return b, token


def access_token(svc, user, scope=ALL_SCOPES, client=None):
    """An access token for the MFA API from a fresh otp verification."""
    svc.clock.advance(STEP)
    token = svc.token(user, client)
    at = svc.clock.align()
    b = assert_ok(svc.otp(token, oathtool(user.secret, at), client=client,
                          scope=scope, audience=MFA_AUD))
    return b["access_token"]


def entries(svc, token):
    return assert_ok(listing(svc, token))


# ----------------------------------------------------------- otp: Auth0

def test_first_otp_enrollment_confirm_and_second(svc, tmp_path):
    u = fresh_user()
    token = svc.token(u)
    r = associate(svc, token, {"authenticator_types": ["otp"]})
    b = assert_ok(r)
    assert set(b) == {"authenticator_type", "secret", "barcode_uri",
                      "barcode", "recovery_codes"}, b
    assert b["authenticator_type"] == "otp"
    assert B32_RE.match(b["secret"]), b["secret"]
    assert b["barcode_uri"] == expected_uri(u.id, b["secret"])
    assert qr_text(tmp_path, b["barcode"]) == b["barcode_uri"]
    assert len(b["recovery_codes"]) == 1
    assert RECOVERY_RE.match(b["recovery_codes"][0])

    # inactive until confirmed: listed as such, never challenged
    lst = entries(svc, token)
    assert [(e["authenticator_type"], e["active"]) for e in lst] == \
        [("otp", False), ("recovery-code", True)], lst
    assert ID_RE["otp"].match(lst[0]["id"])
    assert ID_RE["recovery"].match(lst[1]["id"])
    assert_error(challenge(svc.http, svc.app, token), 400,
                 "association_required",
                 "The user has no active authenticator; enroll one first")

    # confirmed by the first code (oathtool)
    at = svc.clock.align()
    assert_ok(svc.otp(token, oathtool(b["secret"], at)))
    assert entries(svc, token)[0]["active"] is True
    u.secret = b["secret"]

    # an mfa_token no longer enrolls; an access token with "enroll" does
    t2 = svc.token(u)
    assert_error(associate(svc, t2, {"authenticator_types": ["otp"]}), 403,
                 "access_denied", "User is already enrolled")
    at_tok = access_token(svc, u)
    b2 = assert_ok(associate(svc, at_tok, {"authenticator_types": ["otp"]}))
    assert set(b2) == {"authenticator_type", "secret", "barcode_uri",
                       "barcode"}, b2   # recovery codes on the first only
    assert b2["secret"] != b["secret"]

    # the second one is confirmed by its own first code, with an mfa_token
    svc.clock.advance(STEP)
    t3 = svc.token(u)
    at = svc.clock.align()
    assert_ok(svc.otp(t3, oathtool(b2["secret"], at)))
    lst = entries(svc, t3)
    assert [(e["authenticator_type"], e["active"]) for e in lst] == \
        [("otp", True), ("otp", True), ("recovery-code", True)], lst


def test_recovery_code_from_enrollment_works(svc):
    u = fresh_user()
    b, token = enroll_otp(svc, u)
    r = assert_ok(svc.recovery(svc.token(u), b["recovery_codes"][0]))
    assert RECOVERY_RE.match(r["recovery_code"])
    assert r["recovery_code"] != b["recovery_codes"][0]


def test_planted_enrollment_needs_its_own_token(svc):
    """An otp enrolled with one mfa_token is confirmed only through it:
    a second login of the same user (another token) cannot confirm it."""
    u = fresh_user()
    t1, t2 = svc.token(u), svc.token(u)
    b = assert_ok(associate(svc, t1, {"authenticator_types": ["otp"]}))
    at = svc.clock.align()
    assert_error(svc.otp(t2, oathtool(b["secret"], at)), 403,
                 "invalid_grant", "User is not enrolled with otp")
    assert_ok(svc.otp(t1, oathtool(b["secret"], at)))


def test_enroll_scope_required_for_access_tokens(svc):
    u = fresh_user()
    enroll_otp(svc, u)
    tok = access_token(svc, u, scope="read:authenticators")
    assert_www(associate(svc, tok, {"authenticator_types": ["otp"]}), 403,
               "insufficient_scope",
               "The access token lacks the required scope",
               'Bearer realm="mfa", error="insufficient_scope", '
               'error_description="The access token lacks the required '
               'scope", scope="enroll"')
    # a result token without the MFA API audience is not accepted
    svc.clock.advance(STEP)
    t = svc.token(u)
    at = svc.clock.align()
    plain = assert_ok(svc.otp(t, oathtool(u.secret, at),
                              scope="enroll"))["access_token"]
    assert_www(associate(svc, plain, {"authenticator_types": ["otp"]}), 401,
               "invalid_token", "the token is not for the MFA API",
               'Bearer realm="mfa", error="invalid_token", '
               'error_description="the token is not for the MFA API"')


def test_unconfirmed_enrollment_expires(svc):
    u = fresh_user()
    token = svc.token(u)
    b = assert_ok(associate(svc, token, {"authenticator_types": ["otp"]}))
    svc.clock.advance(601)   # enroll_ttl 600 s
    token = svc.token(u)
    assert [e["authenticator_type"] for e in entries(svc, token)] == \
        ["recovery-code"]
    at = svc.clock.align()
    assert_error(svc.otp(token, oathtool(b["secret"], at)), 403,
                 "invalid_grant", "User is not enrolled with otp")


# ------------------------------------------------------------ oob: Auth0

def test_oob_sms_then_email_enrollment(svc):
    u = fresh_user()
    token = svc.token(u)
    before = svc.store.spool_files()
    b = assert_ok(associate(svc, token, {"authenticator_types": ["oob"],
                                         "oob_channels": ["sms"],
                                         "phone_number": PHONE}))
    assert set(b) == {"authenticator_type", "oob_channel", "oob_code",
                      "binding_method", "recovery_codes"}, b
    assert (b["authenticator_type"], b["oob_channel"],
            b["binding_method"]) == ("oob", "sms", "prompt")
    new = svc.store.wait_new_spool(before)
    msg = svc.store.read_spool(new.pop())
    assert (msg["channel"], msg["to"], msg["user_id"]) == ("sms", PHONE, u.id)
    assert re.fullmatch(r"[0-9]{6}", msg["code"])
    # a wrong binding code does not confirm it
    wrong = "%06d" % ((int(msg["code"]) + 1) % 1000000)
    assert_error(svc.oob(token, b["oob_code"], wrong), 403, "invalid_grant",
                 "Invalid binding_code.")
    assert entries(svc, token)[0]["active"] is False
    assert_ok(svc.oob(token, b["oob_code"], msg["code"]))
    lst = entries(svc, token)
    assert lst[0] == {"id": lst[0]["id"], "authenticator_type": "oob",
                      "active": True, "oob_channel": "sms",
                      "oob_channels": ["sms"], "name": "XXXXXXXX0100"}, lst
    assert ID_RE["sms"].match(lst[0]["id"])

    # email, added with an access token, confirmed with a new mfa_token;
    # the singular oob_channel is accepted too
    u.secret = None
    at_tok = None
    svc.clock.advance(STEP)
    t2 = svc.token(u)
    oob_code, code, _ = svc.oob_challenge(t2)
    at_tok = assert_ok(svc.oob(t2, oob_code, code, scope=ALL_SCOPES,
                               audience=MFA_AUD))["access_token"]
    before = svc.store.spool_files()
    b2 = assert_ok(associate(svc, at_tok, {"authenticator_types": "oob",
                                           "oob_channel": "email",
                                           "email": EMAIL}))
    assert set(b2) == {"authenticator_type", "oob_channel", "oob_code",
                       "binding_method"}, b2
    msg = svc.store.read_spool(svc.store.wait_new_spool(before).pop())
    assert (msg["channel"], msg["to"]) == ("email", EMAIL)
    t3 = svc.token(u)
    assert_ok(svc.oob(t3, b2["oob_code"], msg["code"]))
    names = {e["oob_channel"]: e["name"] for e in entries(svc, t3)
             if e["authenticator_type"] == "oob"}
    assert names == {"sms": "XXXXXXXX0100", "email": "u***@example.com"}


@pytest.mark.parametrize("params,desc", [
    ({"authenticator_types": ["oob"], "oob_channels": ["sms"],
      "phone_number": "5555550100"},
     "phone_number must be in E.164 format (+ and 8 to 15 digits)"),
    ({"authenticator_types": ["oob"], "oob_channels": ["voice"],
      "phone_number": "+1-555-555"},
     "phone_number must be in E.164 format (+ and 8 to 15 digits)"),
    ({"authenticator_types": ["oob"], "oob_channels": ["email"],
      "email": "not-an-address"}, "email is not a valid e-mail address"),
    ({"authenticator_types": ["oob"], "oob_channels": ["email"]},
     "Missing required parameter: email"),
    ({"authenticator_types": ["oob"], "oob_channels": ["sms"]},
     "Missing required parameter: phone_number"),
    ({"authenticator_types": ["oob"], "phone_number": PHONE},
     "Missing required parameter: oob_channels"),
    ({"authenticator_types": ["oob"], "oob_channels": ["auth0"]},
     'oob_channels must be one of "sms", "voice" or "email"'),
    ({}, "Missing required parameter: authenticator_types"),
    ({"authenticator_types": ["webauthn"]},
     'authenticator_types must be ["otp"] or ["oob"]'),
    ({"authenticator_types": ["otp", "oob"]},
     'authenticator_types must be ["otp"] or ["oob"]'),
])
def test_associate_invalid_input(svc, params, desc):
    u = fresh_user()
    token = svc.token(u)
    assert_error(associate(svc, token, params), 400, "invalid_request", desc)
    assert entries(svc, token) == []   # nothing was stored


def test_associate_token_and_client_problems(svc):
    u = fresh_user()
    token = svc.token(u)
    otp = {"authenticator_types": ["otp"]}
    assert_www(associate(svc, None, otp), 401, "unauthorized",
               "Send the mfa_token or an access token as Authorization: "
               "Bearer", WWW_ABSENT)
    assert_www(associate(svc, "x" * 43, otp), 401, "invalid_token",
               "The token is not valid",
               'Bearer realm="mfa", error="invalid_token", '
               'error_description="The token is not valid"')
    # a confidential client must authenticate in the body
    assert_error(associate(svc, token, otp, creds=False), 401,
                 "invalid_client",
                 "Client authentication is required: send client_secret or "
                 "client_assertion (only a public client relies on the "
                 "Bearer token alone)")
    # wrong secret: the client chain's answer
    bad = Client(svc.app.id, "wrong", "app", [])
    assert_error(associate(svc, token, otp, client=bad), 401,
                 "invalid_client", "Client authentication failed")
    # another client's credentials with this client's token
    assert_error(associate(svc, token, otp, client=svc.other), 400,
                 "invalid_request", "The token was not issued to this client")


def test_public_client_bearer_only(svc):
    pub = svc.store.ctl("client", "add", "spa", "--auth", "none")
    assert pub["auth_method"] == "none" and "client_secret" not in pub
    u = fresh_user()
    tok = svc.store.issue_token(pub["client_id"], u.id)["mfa_token"]
    b = assert_ok(associate(svc, tok, {"authenticator_types": ["otp"]},
                            creds=False))
    assert b["authenticator_type"] == "otp"
    # a public client cannot use the confidential endpoints
    pc = Client(pub["client_id"], "", "spa", [])
    assert_error(challenge(svc.http, pc, tok), 401, "invalid_client",
                 "Client authentication failed")


# ----------------------------------------------------------- list/delete

def test_list_requires_token_or_scope(svc):
    u = fresh_user()
    enroll_otp(svc, u)
    assert_www(listing(svc, None), 401, "unauthorized",
               "Send the mfa_token or an access token as Authorization: "
               "Bearer", WWW_ABSENT)
    tok = access_token(svc, u, scope="enroll")
    assert_www(listing(svc, tok), 403, "insufficient_scope",
               "The access token lacks the required scope",
               'Bearer realm="mfa", error="insufficient_scope", '
               'error_description="The access token lacks the required '
               'scope", scope="read:authenticators"')
    tok = access_token(svc, u, scope="read:authenticators")
    assert [e["authenticator_type"] for e in entries(svc, tok)] == \
        ["otp", "recovery-code"]


def test_delete_rules_and_encoded_ids(svc):
    u = fresh_user()
    b, token = enroll_otp(svc, u)
    otp_id = entries(svc, token)[0]["id"]
    # an mfa_token never deletes (RFC 9470 step-up challenge)
    assert_www(delete(svc, token, otp_id), 401,
               "insufficient_user_authentication",
               "Complete MFA and use an access token for the MFA API",
               'Bearer realm="mfa", error="insufficient_user_authentication",'
               ' error_description="Complete MFA and use an access token '
               'for the MFA API", acr_values="%s"' % ACR)
    tok = access_token(svc, u, scope="read:authenticators")
    assert_www(delete(svc, tok, otp_id), 403, "insufficient_scope",
               "The access token lacks the required scope",
               'Bearer realm="mfa", error="insufficient_scope", '
               'error_description="The access token lacks the required '
               'scope", scope="remove:authenticators"')
    tok = access_token(svc, u)
    # another user's authenticator, an unknown id, a traversal: 404
    other = fresh_user()
    enroll_otp(svc, other)
    other_id = entries(svc, svc.token(other))[0]["id"]
    for aid in (other_id, "totp|dev_AAAAAAAAAAAAAAAA"):
        assert_error(delete(svc, tok, aid), 404, "not_found",
                     "Authenticator not found")
    assert_error(delete(svc, tok, None,
                        raw="/mfa/authenticators/..%2F..%2Fetc"), 404,
                 "not_found", "Authenticator not found")
    # the %7C-encoded id through the web server
    raw = "/mfa/authenticators/" + otp_id.replace("|", "%7C")
    r = delete(svc, tok, None, raw=raw)
    assert (r.status_code, r.content) == (204, b"")
    assert_error(delete(svc, tok, None, raw=raw), 404, "not_found",
                 "Authenticator not found")
    # recovery codes are one authenticator; then the user has none left
    rid = [e["id"] for e in entries(svc, tok)
           if e["authenticator_type"] == "recovery-code"][0]
    r = delete(svc, tok, rid)
    assert r.status_code == 204
    assert entries(svc, tok) == []
    assert_error(challenge(svc.http, svc.app, svc.token(u)), 400,
                 "association_required",
                 "The user has no active authenticator; enroll one first")
    assert_error(svc.recovery(svc.token(u), b["recovery_codes"][0]), 403,
                 "invalid_grant", "Invalid recovery code.")


def test_deleted_oob_factor_challenge_is_void(svc):
    u = fresh_user()
    enroll_otp(svc, u)
    tok = access_token(svc, u)
    before = svc.store.spool_files()
    b = assert_ok(associate(svc, tok, {"authenticator_types": ["oob"],
                                       "oob_channels": ["sms"],
                                       "phone_number": PHONE}))
    msg = svc.store.read_spool(svc.store.wait_new_spool(before).pop())
    sms_id = [e["id"] for e in entries(svc, tok)
              if e["authenticator_type"] == "oob"][0]
    assert delete(svc, tok, sms_id).status_code == 204
    assert_error(svc.oob(svc.token(u), b["oob_code"], msg["code"]), 400,
                 "invalid_grant",
                 "The authenticator of this challenge no longer exists")


# --------------------------------------------------------- WorkOS factors

def wos(svc, method, path, body=None, key=None):
    h = {"Authorization": "Bearer " + (key or svc.app.secret)}
    if body is None:
        return svc.http.request(method, path, headers=h)
    return svc.http.post(path, json_body=body, headers=h)


def assert_wos(r, status, code, message):
    b = body_of(r)
    assert (r.status_code, b) == (status, {"code": code,
                                           "message": message}), \
        (r.status_code, b)


def test_workos_totp_factor_flow(svc, tmp_path):
    r = wos(svc, "POST", "/auth/factors/enroll",
            {"type": "totp", "totp_issuer": "Foo Corp",
             "totp_user": "alan@foo.test"})
    f = body_of(r)
    assert r.status_code == 201, f
    assert set(f) == {"object", "id", "created_at", "updated_at", "type",
                      "user_id", "totp"}, f
    assert (f["object"], f["type"], f["user_id"]) == \
        ("authentication_factor", "totp", None)
    assert FACTOR_RE.match(f["id"]) and ISO_RE.match(f["created_at"])
    t = f["totp"]
    assert set(t) == {"issuer", "user", "secret", "qr_code", "uri"}
    assert (t["issuer"], t["user"]) == ("Foo Corp", "alan@foo.test")
    assert t["uri"] == expected_uri("alan@foo.test", t["secret"], "Foo Corp")
    assert qr_text(tmp_path, t["qr_code"]) == t["uri"]

    g = body_of(wos(svc, "GET", "/auth/factors/" + f["id"]))
    assert g["totp"] == {"issuer": "Foo Corp", "user": "alan@foo.test"}
    assert g["id"] == f["id"] and "secret" not in str(g)

    r = wos(svc, "POST", "/auth/factors/%s/challenge" % f["id"], {})
    c = body_of(r)
    assert r.status_code == 201, c
    assert set(c) == {"object", "id", "created_at", "updated_at",
                      "authentication_factor_id"}, c   # no expiry: TOTP
    at = svc.clock.align()
    v = body_of(wos(svc, "POST", "/auth/challenges/%s/verify" % c["id"],
                    {"code": oathtool(t["secret"], at)}))
    assert v.get("valid") is True and v["challenge"]["id"] == c["id"], v
    assert_wos(wos(svc, "POST", "/auth/challenges/%s/verify" % c["id"],
                   {"code": oathtool(t["secret"], at)}), 422,
               "authentication_challenge_previously_verified",
               "The authentication challenge '%s' has already been "
               "verified." % c["id"])

    # another client's key does not see it; a bad key is 401
    assert_wos(wos(svc, "GET", "/auth/factors/" + f["id"],
                   key=svc.other.secret), 404, "entity_not_found",
               "Authentication factor not found")
    r = wos(svc, "GET", "/auth/factors/" + f["id"], key="nope")
    assert r.status_code == 401
    r = wos(svc, "DELETE", "/auth/factors/" + f["id"])
    assert (r.status_code, r.content) == (204, b"")
    assert_wos(wos(svc, "GET", "/auth/factors/" + f["id"]), 404,
               "entity_not_found", "Authentication factor not found")


def test_workos_sms_factor_flow(svc):
    # the user_id of an Auth0-surface user: the WorkOS factor lands in the
    # client's own namespace and never shows up on the Auth0 surface
    u = fresh_user()
    enroll_otp(svc, u)
    r = wos(svc, "POST", "/auth/factors/enroll",
            {"type": "sms", "phone_number": PHONE, "user_id": u.id})
    f = body_of(r)
    assert r.status_code == 201, f
    assert (f["type"], f["user_id"], f["sms"]) == \
        ("sms", u.id, {"phone_number": PHONE})
    token = svc.token(u)
    assert [e["authenticator_type"] for e in entries(svc, token)] == \
        ["otp", "recovery-code"]
    assert_error(challenge(svc.http, svc.app, token, challenge_type="oob"),
                 400, "unsupported_challenge_type",
                 UNSUPPORTED_OOB)
    before = svc.store.spool_files()
    r = wos(svc, "POST", "/auth/factors/%s/challenge" % f["id"],
            {"sms_template": "Your Foo code is {{code}}."})
    c = body_of(r)
    assert r.status_code == 201, c
    assert set(c) == {"object", "id", "created_at", "updated_at",
                      "expires_at", "authentication_factor_id"}, c
    msg = svc.store.read_spool(svc.store.wait_new_spool(before).pop())
    assert msg["text"] == "Your Foo code is %s." % msg["code"]
    assert msg["to"] == PHONE
    v = body_of(wos(svc, "POST", "/auth/challenges/%s/verify" % c["id"],
                    {"code": msg["code"]}))
    assert v.get("valid") is True, v
    assert_wos(wos(svc, "POST", "/auth/factors/%s/challenge" % f["id"],
                   {"sms_template": "no code here"}), 422,
               "invalid_request_parameters",
               "sms_template must contain {{code}} and fit 320 bytes")


@pytest.mark.parametrize("body,code,message", [
    ({"type": "sms", "phone_number": "foo"}, "invalid_phone_number",
     "Phone number is invalid: 'foo'"),
    ({"type": "sms"}, "invalid_request_parameters",
     "phone_number is required"),
    ({"type": "totp", "totp_user": "u"}, "invalid_request_parameters",
     "totp_issuer is required"),
    ({"type": "totp", "totp_issuer": "i"}, "invalid_request_parameters",
     "totp_user is required"),
    ({"type": "webauthn"}, "invalid_request_parameters",
     'type must be "totp" or "sms"'),
    ({}, "invalid_request_parameters", "type is required"),
])
def test_workos_enroll_errors(svc, body, code, message):
    assert_wos(wos(svc, "POST", "/auth/factors/enroll", body), 422, code,
               message)


# ---------------------------------------------------------------- mfactl

def test_mfactl_show_rm_factor_and_qr(svc, tmp_path):
    u = fresh_user()
    token = svc.token(u)
    assert_ok(associate(svc, token, {"authenticator_types": ["otp"]}))
    png = tmp_path / "code.png"
    e = svc.store.ctl("user", "enroll", u.id, "--type", "otp", "--qr",
                      str(png))
    assert zbar(png) == e["otpauth_uri"]
    s = svc.store.ctl("user", "show", u.id)
    states = sorted(a["state"] for a in s["authenticators"])
    assert states == ["active", "unconfirmed"], s
    assert s["recovery_codes_left"] == 1
    svc.clock.advance(601)
    s = svc.store.ctl("user", "show", u.id)
    assert sorted(a["state"] for a in s["authenticators"]) == \
        ["active", "expired"]
    r = svc.store.ctl("user", "rm-factor", u.id, e["authenticator_id"])
    assert r == {"user_id": u.id, "authenticator_id": e["authenticator_id"],
                 "removed": True}
    p = svc.store.run("user", "rm-factor", u.id, e["authenticator_id"])
    assert p.returncode != 0


def test_associate_oob_send_limit(tmp_path_factory):
    """The oob enrollment takes from the user's SMS bucket in its write
    transaction: when the bucket is empty the answer is 429 and nothing
    is stored (no authenticator, no spool file)."""
    srv = start_clock_server("lighttpd", tmp_path_factory.mktemp("en-lim"),
                             MFA_SMS_BURST=1)
    try:
        s = Svc(srv)
        u = fresh_user()
        token = s.token(u)
        sms = {"authenticator_types": ["oob"], "oob_channels": ["sms"],
               "phone_number": PHONE}
        assert_ok(associate(s, token, sms))
        spooled = s.store.spool_files()
        assert_error(associate(s, token, sms), 429, "too_many_requests",
                     "Too many SMS sent by the user. Wait for some minutes "
                     "before retrying.")
        assert s.store.spool_files() == spooled
        assert [e["authenticator_type"] for e in entries(s, token)] == \
            ["oob", "recovery-code"]
    finally:
        servers.stop_server(srv)
