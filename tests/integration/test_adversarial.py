"""Hostile input through a real web server (lighttpd and nginx +
spawn-fcgi), each case with its exact status and body.

What the other files already assert is not repeated here: form-level
UTF-8, control characters and bounds (test_requests), the decision table
with another user's authenticator id (test_challenge_errors), an oob_code
of another mfa_token (test_verify), one token racing itself
(test_verify, test_workos). Added here:

- injection strings (SQL, NoSQL/JSON, template, format, script, path) in
  every field of /mfa/token, /mfa/challenge and /oauth/token, as form and
  as JSON: each field gives its one documented answer whatever the string;
- CR/LF in the Basic credentials never reaches a response header;
- path traversal in authenticator_id and in the WorkOS challenge path;
- control characters, overlong UTF-8 and duplicate keys inside JSON, 1 MB
  of JSON nesting, numbers where strings belong;
- a body longer than its Content-Length (the rest is never read as
  parameters); X-HTTP-Method-Override and _method are ignored;
- one TOTP code sent with 8 different mfa_tokens of one user on 8
  connections: exactly one succeeds;
- one oob challenge verified 4 times through /oauth/token and 4 times
  through the WorkOS endpoint at once: exactly one succeeds;
- 1,000 guessed codes on 8 connections: 10 are checked, 990 refused by
  the bucket, and the right code among the late ones is refused too;
- records tampered on disk, rewritten in their binary layout (records.py):
  sealed TOTP seed, sealed seed moved to another authenticator, sealed
  client secret, a record cut in half: the service fails closed, never a
  success.
"""

import json
import re
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import records
from conftest import PHONE, make_client, make_user, new_user_id
from servers import (COMMON_HEADERS, HOST, Http, assert_error, assert_ok,
                     basic_header, body_of, call, challenge, raw_exchange)

GRANT = "http://auth0.com/oauth/grant-type/"
G_OTP, G_OOB, G_REC = (GRANT + g for g in
                       ("mfa-otp", "mfa-oob", "mfa-recovery-code"))
TOO_MANY = "Too many failed codes. Wait for some minutes before retrying."
AUTH_FAILED = (401, "invalid_client", "Client authentication failed")
MALFORMED = (400, "invalid_grant", "Malformed mfa_token")
BAD_OTP = (403, "invalid_grant", "Invalid otp_code.")
NO_MATCH = (400, "invalid_request", "The oob_code doesn't match the mfa_token")
NOT_USERS = (400, "invalid_request",
             "authenticator_id does not name an authenticator of this user")
SERVER_ERROR = (500, "server_error", "Internal server error")

INJECTIONS = [
    "' OR '1'='1' --",
    "1; DROP TABLE users; --",
    '{"$ne": null}',
    '"},{"admin":true,"x":"',
    "${jndi:ldap://127.0.0.1/a}",
    "{{7*7}}",
    "%s%n%x%p",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "totp|dev_*",
]


def oathtool(secret, at=None):
    argv = ["oathtool", "--totp", "-b", secret]
    if at is not None:
        argv[2:2] = ["--now", time.strftime("%Y-%m-%d %H:%M:%S UTC",
                                            time.gmtime(int(at)))]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def step_margin(margin=6):
    """Waits until "margin" seconds are left in the TOTP step, so codes
    made now are judged in the step they were made for. Returns now."""
    left = 30 - time.time() % 30
    if left < margin:
        time.sleep(left + 0.3)
    return time.time()


def outcome(r):
    try:
        b = r.json()
    except ValueError:
        return (r.status_code, r.text[:80])
    return (r.status_code, b.get("error", b.get("code")),
            b.get("error_description", b.get("message")))


def parallel(n, fn):
    """fn(i) for i in range(n) on n threads released together, each on
    its own connection."""
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait(timeout=10)
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as ex:
        return list(ex.map(run, range(n)))


def err(r, expected):
    status, error, description = expected
    return assert_error(r, status, error, description)


# ----------------------------------------------------------- injections

@pytest.fixture
def tok(store, app, alice):
    return store.issue_token(app.id, alice.id)["mfa_token"]


BOUNDS = {"client_id": 64, "client_secret": 256, "mfa_token": 128,
          "challenge_type": 64, "authenticator_id": 64, "user_id": 128,
          "otp": 16, "oob_code": 128, "binding_code": 16,
          "recovery_code": 64, "scope": 256}


def bounded(name, inj, expected):
    """A value over its field's bound is refused before anything else."""
    if len(inj.encode()) > BOUNDS.get(name, 1 << 20):
        return (400, "invalid_request", "parameter '%s' is longer than %d "
                "bytes" % (name, BOUNDS[name]))
    return expected


def field_cases(app, tok, inj):
    """(endpoint, params, client, expected) with "inj" in one field."""
    otp = {"grant_type": G_OTP, "mfa_token": tok, "otp": "12"}
    yield "/mfa/token", {"user_id": "u", "client_id": inj,
                         "client_secret": app.secret}, None, AUTH_FAILED
    yield "/mfa/token", {"user_id": "u", "client_id": app.id,
                         "client_secret": inj}, None, AUTH_FAILED
    yield "/mfa/challenge", {"mfa_token": inj}, app, MALFORMED
    yield "/mfa/challenge", {"mfa_token": tok, "authenticator_id": inj}, \
        app, NOT_USERS
    yield "/mfa/challenge", {"mfa_token": tok, "client_id": inj,
                             "client_secret": app.secret}, None, AUTH_FAILED
    yield "/oauth/token", {"grant_type": inj, "mfa_token": tok}, app, \
        (400, "unsupported_grant_type", "Unsupported grant type: " + inj)
    yield "/oauth/token", dict(otp, mfa_token=inj), app, MALFORMED
    yield "/oauth/token", {"grant_type": G_OOB, "mfa_token": tok,
                           "oob_code": inj, "binding_code": "123456"}, \
        app, NO_MATCH
    yield "/oauth/token", {"grant_type": G_OOB, "mfa_token": tok,
                           "oob_code": "A" * 43, "binding_code": inj}, \
        app, bounded("binding_code", inj, NO_MATCH)
    yield "/oauth/token", {"grant_type": G_REC, "mfa_token": tok,
                           "recovery_code": inj}, app, \
        (403, "invalid_grant", "Invalid recovery code.")


@pytest.mark.parametrize("body", ["form", "json"])
@pytest.mark.parametrize("inj", INJECTIONS)
def test_injection_in_every_field(http, store, app, alice, tok, inj, body):
    for path, params, client, expected in field_cases(app, tok, inj):
        r = call(http, path, client, params, "post", body)
        got = err(r, expected)
        assert got, (path, params)
    # challenge_type: the first unknown word is named
    first = inj.split()[0]
    err(challenge(http, app, tok, body=body, challenge_type=inj),
        (400, "unsupported_challenge_type",
         "Unsupported challenge type: " + first))
    # user_id is the site's opaque name: any string gets a token (for a
    # user with nothing enrolled), bound to exactly that string
    b = assert_ok(call(http, "/mfa/token", app, {"user_id": inj}, "post",
                       body))
    assert b["mfa_requirements"] == {"enroll": [{"type": "otp"},
                                                {"type": "phone"},
                                                {"type": "email"}]}
    # the code fields and scope/audience never get past the code check
    for extra in ({"otp": inj}, {"otp": "12", "scope": inj},
                  {"otp": "12", "audience": inj}):
        p = {"grant_type": G_OTP, "mfa_token": tok}
        p.update(extra)
        name = next(iter(extra)) if "otp" in extra and extra["otp"] == inj \
            else "scope"
        err(call(http, "/oauth/token", app, p, "post", body),
            bounded(name, inj, BAD_OTP))


def test_crlf_in_basic_credentials_not_reflected(http, app, bob):
    r = http.post("/mfa/token", form={"user_id": bob.id},
                  basic=(app.id + "\r\nX-Injected: 1", app.secret))
    err(r, AUTH_FAILED)
    assert "X-Injected" not in r.headers
    assert r.headers["WWW-Authenticate"] == \
        'Basic realm="mfa", charset="UTF-8"'
    # a raw header line with CR LF inside the base64 is not a header
    status, headers, body = raw_exchange(
        int(http.url.rsplit(":", 1)[1]),
        b"POST /mfa/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Authorization: " + basic_header(app.id, app.secret).encode() +
        b"%0d%0aX-Injected: 1\r\nContent-Type: "
        b"application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\n"
        b"user_id", shut_wr=False)
    assert status == 401 and "x-injected" not in headers, (status, headers)
    assert json.loads(body) == {"error": "invalid_client",
                                "error_description":
                                "Client authentication failed"}


# ------------------------------------------------------- path traversal

@pytest.mark.parametrize("aid", [
    "../../../../etc/passwd", "totp|dev_../../x", "..%2F..%2Fx",
    "sms|dev_/../totp|dev_x", "%2e%2e%2f%2e%2e", "*", "totp|*",
])
def test_traversal_in_authenticator_id(http, app, tok, aid):
    err(challenge(http, app, tok, authenticator_id=aid), NOT_USERS)


@pytest.mark.parametrize("path", [
    "/auth/challenges/..%2F..%2Fetc%2Fpasswd/verify",
    "/auth/challenges/%2e%2e/verify",
    "/auth/challenges/auth_challenge_01..%2F..%2Fx/verify",
    "/auth/challenges/auth_challenge_%252e%252e/verify",
])
def test_traversal_in_workos_challenge_path(http, app, path):
    r = http.request("POST", path, data="code=123456", headers={
        "Authorization": "Bearer " + app.secret,
        "Content-Type": "application/x-www-form-urlencoded"})
    assert (r.status_code, body_of(r)) == (404, {
        "code": "entity_not_found",
        "message": "Authentication challenge not found"}), r.text


def test_dot_segments_in_workos_path_stay_outside(http, app):
    """Dot segments are resolved by the web server: what is left is
    another, unknown path, never a file or another challenge."""
    r = http.request("POST", "/auth/challenges/../../mfa/x/verify",
                     data="code=1", headers={
                         "Content-Type": "application/x-www-form-urlencoded"})
    err(r, (404, "not_found", "no such endpoint: /mfa/x/verify"))


# ------------------------------------------------------------ JSON body

def post_json(http, path, raw, client):
    return http.post(path, raw=raw, content_type="application/json",
                     basic=client.basic)


def test_json_overlong_utf8(http, app):
    err(post_json(http, "/mfa/token", b'{"user_id":"a\xc0\xafb"}', app),
        (400, "invalid_request", "request body is not valid JSON: unable "
         "to decode byte 0xc0 near '\"a' at line 1 column 13"))


@pytest.mark.parametrize("esc,name", [("\\u0000", "user_id"),
                                      ("\\u0007", "user_id"),
                                      ("\\u001b[2J", "user_id"),
                                      ("\\u007f", "user_id")])
def test_json_control_characters(http, app, esc, name):
    raw = ('{"%s":"a%sb"}' % (name, esc)).encode()
    err(post_json(http, "/mfa/token", raw, app),
        (400, "invalid_request",
         "parameter '%s' contains a control character" % name))


def test_json_duplicate_keys(http, app, tok):
    err(post_json(http, "/mfa/token", b'{"user_id":"a","user_id":"b"}', app),
        (400, "invalid_request", "request body is not valid JSON: "
         "duplicate object key near '\"user_id\"' at line 1 column 24"))
    raw = ('{"grant_type":"%s","mfa_token":"%s","otp":"1","otp":"2"}'
           % (G_OTP, tok)).encode()
    r = post_json(http, "/oauth/token", raw, app)
    assert outcome(r)[:2] == (400, "invalid_request"), outcome(r)
    assert outcome(r)[2].startswith(
        "request body is not valid JSON: duplicate object key"), outcome(r)


@pytest.mark.parametrize("params,name", [
    ({"otp": 123456}, "otp"),
    ({"otp": 1.5e300}, "otp"),
    ({"otp": None}, "otp"),
    ({"otp": ["123456"]}, "otp"),
    ({"mfa_token": {"$ne": None}}, "mfa_token"),
    ({"grant_type": True}, "grant_type"),
])
def test_json_wrong_types_token_endpoint(http, app, tok, params, name):
    p = {"grant_type": G_OTP, "mfa_token": tok, "otp": "123456"}
    p.update(params)
    err(post_json(http, "/oauth/token", json.dumps(p).encode(), app),
        (400, "invalid_request", "parameter '%s' must be a string" % name))


def test_json_one_megabyte_of_nesting(http, app):
    """1 MB of '[' is over the body limit: 413 before any parsing."""
    err(post_json(http, "/mfa/token", b"[" * (1 << 20), app),
        (413, "invalid_request", "Request body is larger than 65536 bytes"))


def test_json_deep_nesting_within_limit(server_factory, server):
    """Within the web servers' own 1 MB bound and a 2 MB body limit, the
    parser's depth bound answers (jansson stops at 2048 levels); the
    worker lives on."""
    srv = server_factory(server.kind, workers=1, MFA_BODY_LIMIT="2M")
    c = make_client(srv.store, "app", "otp oob")
    h = Http(srv.url)
    for raw in (b"[" * 500000, b'{"a":' * 100000 + b"1" + b"}" * 100000):
        r = post_json(h, "/mfa/token", raw, c)
        assert outcome(r)[:2] == (400, "invalid_request"), outcome(r)
        assert outcome(r)[2].startswith(
            "request body is not valid JSON: maximum parsing depth "
            "reached"), outcome(r)
    assert_ok(call(h, "/mfa/token", c, {"user_id": "after"}))


# ------------------------------------------- Content-Length, overrides

def test_body_longer_than_content_length(server, app, bob):
    """Bytes after Content-Length are not this request's: the duplicate
    user_id there would make it a 400 if they were read."""
    body = ("user_id=%s" % bob.id).encode()
    extra = b"&user_id=evil&client_secret=x"
    req = (b"POST /mfa/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
           b"Authorization: " + basic_header(*app.basic).encode() +
           b"\r\nContent-Type: application/x-www-form-urlencoded\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body)) + body + extra
    status, headers, resp = raw_exchange(server.port, req, shut_wr=False)
    assert status == 200, (status, resp[:300])
    b = json.loads(resp[:int(headers["content-length"])])
    assert b["mfa_requirements"] == {"challenge": [{"type": "otp"}]}


@pytest.mark.parametrize("header", ["X-HTTP-Method-Override",
                                    "X-Method-Override", "X-HTTP-Method"])
def test_method_override_ignored(http, app, bob, header):
    # GET stays GET
    r = http.request("GET", "/mfa/token", headers={header: "POST"})
    err(r, (405, "invalid_request", "method GET is not allowed on "
            "/mfa/token"))
    assert r.headers["Allow"] == "POST"
    # POST stays POST, whatever the header or a _method field say
    for h, extra in (({header: "DELETE"}, {}), ({}, {"_method": "GET"})):
        r = http.post("/mfa/token", form=dict(user_id=bob.id, **extra),
                      basic=app.basic, headers=h)
        assert assert_ok(r)["mfa_requirements"] == \
            {"challenge": [{"type": "otp"}]}


# ----------------------------------------------------------- concurrency

def test_one_totp_code_with_eight_tokens(server, http, store, app):
    """The replay rule is per authenticator, not per token: the same code
    sent with 8 mfa_tokens of one user at once verifies once."""
    u = make_user(store, "race8", sms=False)
    toks = [store.issue_token(app.id, u.id)["mfa_token"] for _ in range(8)]
    step_margin()
    code = oathtool(u.secret)

    def one(i):
        return call(Http(server.url), "/oauth/token", app,
                    {"grant_type": G_OTP, "mfa_token": toks[i],
                     "otp": code})

    rs = parallel(8, one)
    assert sorted(outcome(r) for r in rs) == \
        sorted([BAD_OTP] * 7 + [(200, None, None)]), [outcome(r) for r in rs]


def test_one_oob_challenge_through_both_apis(server, http, store, app):
    """4 mfa-oob grants and 4 WorkOS verifies of one challenge at once:
    exactly one succeeds, the others hear 'already used/verified'."""
    u = make_user(store, "race-oob", otp=False)
    tok = store.issue_token(app.id, u.id)["mfa_token"]
    before = store.spool_files()
    b = assert_ok(challenge(http, app, tok, challenge_type="oob"))
    new = store.wait_new_spool(before)
    assert len(new) == 1
    msg = store.read_spool(new.pop())
    cid, code = msg["challenge_id"], msg["code"]

    def one(i):
        h = Http(server.url)
        if i % 2:
            return call(h, "/oauth/token", app,
                        {"grant_type": G_OOB, "mfa_token": tok,
                         "oob_code": b["oob_code"], "binding_code": code})
        return h.post("/auth/challenges/%s/verify" % cid,
                      form={"code": code},
                      headers={"Authorization": "Bearer " + app.secret})

    rs = parallel(8, one)
    ok = [r for r in rs if r.status_code in (200, 201)]
    assert len(ok) == 1, [outcome(r) for r in rs]
    if ok[0].status_code == 201:
        assert ok[0].json()["valid"] is True
    used = (400, "invalid_grant", "oob_code has already been used")
    done = (422, "authentication_challenge_previously_verified",
            "The authentication challenge '%s' has already been verified."
            % cid)
    rest = sorted(outcome(r) for r in rs if r not in ok)
    n_oauth = sum(1 for i, r in enumerate(rs) if i % 2 and r not in ok)
    assert rest == sorted([used] * n_oauth + [done] * (7 - n_oauth)), rest
    assert store.challenge_show(cid)["state"] == "verified"


def test_brute_force_thousand_codes(server, store, app):
    """1,000 guesses on 8 connections: the bucket (10) stops all but 10;
    the right code, sent among the late guesses, is not even checked."""
    u = make_user(store, "brute", sms=False)
    tok = store.issue_token(app.id, u.id)["mfa_token"]
    now = step_margin(margin=20)
    near = {oathtool(u.secret, now + k * 30) for k in range(-2, 3)}
    guesses = [c for c in ("%06d" % n for n in range(1100))
               if c not in near][:1000]
    right = oathtool(u.secret)
    guesses[500] = right
    lock = threading.Lock()
    results = []

    def worker(chunk):
        h = Http(server.url)
        for i in chunk:
            r = call(h, "/oauth/token", app,
                     {"grant_type": G_OTP, "mfa_token": tok,
                      "otp": guesses[i]})
            with lock:
                results.append((i, outcome(r)))

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as ex:
        list(ex.map(worker, [range(k, 1000, 8) for k in range(8)]))
    assert time.monotonic() - t0 < 120
    got = [o for _, o in results]
    many = (429, "too_many_attempts", TOO_MANY)
    assert got.count(BAD_OTP) == 10, sorted(set(got))
    assert got.count(many) == 990, sorted(set(got))
    # the right code was a late guess: refused unchecked, then still
    assert dict(results)[500] in (many, BAD_OTP)
    err(call(Http(server.url), "/oauth/token", app,
             {"grant_type": G_OTP, "mfa_token": tok, "otp": right}), many)


# ------------------------------------------------------ tampered records

def dump(store, db, queue=True):
    """The header lines and the (key, value) bytes of database "db" of
    the store (mdb_dump without -p: every key and value in hex), after
    Store.commit_queue unless "queue" is false (a store mfactl must not
    open yet, as opening upgrades it)."""
    if queue:
        store.commit_queue()
    p = subprocess.run(["mdb_dump", "-s", db, str(store.path)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    head = lines[:lines.index("HEADER=END") + 1]
    assert "format=bytevalue" in head, head
    data = lines[len(head):lines.index("DATA=END")]
    assert len(data) % 2 == 0 and all(ln.startswith(" ") for ln in data)
    pairs = [(bytes.fromhex(data[i][1:]), bytes.fromhex(data[i + 1][1:]))
             for i in range(0, len(data), 2)]
    return head, pairs


def value_of(pairs, db, key):
    """The value of "key" (a str) among the pairs of dump()."""
    for k, v in pairs:
        if k == key.encode():
            return v
    raise AssertionError("%s not in %s" % (key, db))


def tamper(store, db, key, change):
    """Rewrites the value of "key" in database "db" of the live store
    with change(value), on bytes (mdb_dump, then mdb_load of that one
    record, both in hex; LMDB serialises it with the workers' write
    transactions)."""
    head, pairs = dump(store, db)
    value = change(value_of(pairs, db, key))
    text = "\n".join(head + [" " + key.encode().hex(), " " + value.hex(),
                            "DATA=END"]) + "\n"
    p = subprocess.run(["mdb_load", "-s", db, str(store.path)],
                       input=text, capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    assert value_of(dump(store, db)[1], db, key) == value


def record(store, db, key):
    """The record of "key" in database "db", decoded (records.py)."""
    return records.decode(records.DATABASES[db],
                          value_of(dump(store, db)[1], db, key))


def flip(sealed):
    """One base64url character of a sealed value changed (a bit flip in
    the ciphertext or its tag)."""
    i = len(sealed) // 2
    return sealed[:i] + ("A" if sealed[i] != "A" else "B") + sealed[i + 1:]


def set_field(db, name, fn):
    """A change for tamper(): the record of database "db" decoded, field
    "name" replaced by fn(its value), encoded again."""
    kind = records.DATABASES[db]

    def change(value):
        rec = records.decode(kind, value)
        rec[name] = fn(rec[name])
        return records.encode(kind, rec)
    return change


def test_tampered_totp_seed_fails_closed(server, http, store, app):
    u = make_user(store, "tamper", sms=False)
    tok = store.issue_token(app.id, u.id)["mfa_token"]
    tamper(store, "authns", u.otp_id,
           set_field("authns", "secret_sealed", flip))
    step_margin()
    err(call(http, "/oauth/token", app, {"grant_type": G_OTP,
                                         "mfa_token": tok,
                                         "otp": oathtool(u.secret)}),
        SERVER_ERROR)
    log = server.log_text(tail=None)
    assert u.secret not in log


def test_sealed_seed_moved_to_another_authenticator(server, http, store,
                                                    app):
    """The seed is sealed with its authenticator id as associated data:
    A's sealed seed copied into B's record does not open there, so A's
    codes never verify as B."""
    a = make_user(store, "sealA", sms=False)
    b = make_user(store, "sealB", sms=False)
    a_sealed = record(store, "authns", a.otp_id)["secret_sealed"]
    tamper(store, "authns", b.otp_id,
           set_field("authns", "secret_sealed", lambda _: a_sealed))
    tok = store.issue_token(app.id, b.id)["mfa_token"]
    step_margin()
    err(call(http, "/oauth/token", app, {"grant_type": G_OTP,
                                         "mfa_token": tok,
                                         "otp": oathtool(a.secret)}),
        SERVER_ERROR)


def test_tampered_client_secret_fails_closed(server, http, store, bob):
    c = make_client(store, "tampered", "otp")
    assert_ok(call(http, "/mfa/token", c, {"user_id": bob.id}))
    tamper(store, "clients", c.id,
           set_field("clients", "secret_sealed", flip))
    for auth in ("post", "basic"):
        err(call(http, "/mfa/token", c, {"user_id": bob.id}, auth),
            AUTH_FAILED)


def test_record_truncated_fails_closed(server, http, store, app):
    """The user's TOTP authenticator record cut in half on disk: it no
    longer decodes (record.c is strict about the length), and the
    service answers server_error, never a success."""
    u = make_user(store, "garbled", sms=False)
    tok = store.issue_token(app.id, u.id)["mfa_token"]
    tamper(store, "authns", u.otp_id, lambda v: v[:len(v) // 2])
    step_margin()
    r = call(http, "/oauth/token", app, {"grant_type": G_OTP,
                                         "mfa_token": tok,
                                         "otp": oathtool(u.secret)})
    assert outcome(r)[0] >= 400 and r.status_code != 200, outcome(r)
    err(r, SERVER_ERROR)
