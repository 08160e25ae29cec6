"""POST /mfa/challenge: successful otp and oob challenges, what is stored
and what is spooled, and the selection of the authenticator."""

import re
from datetime import datetime, timezone

import pytest

from conftest import EMAIL, PHONE2, new_user_id
from servers import (AUTHS, BODIES, CHALLENGE_ID, ISO_MS, TOKEN43,
                     assert_ok, challenge, http_token)

SPOOL_KEYS = {"channel", "to", "code", "user_id", "challenge_id",
              "created_at"}


def ts(s):
    assert ISO_MS.match(s), s
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")


def one_new_challenge(store, before):
    new = store.challenge_ids() - before
    assert len(new) == 1, new
    return new.pop()


def check_stored(store, cid, kind, client, user, factor_id):
    """challenge show of "cid" is a pending challenge of "kind"."""
    c = store.challenge_show(cid)
    assert c["object"] == "authentication_challenge"
    assert c["id"] == cid and CHALLENGE_ID.match(cid)
    assert c["state"] == "pending"
    assert c["challenge_type"] == kind
    assert c["authentication_factor_id"] == factor_id
    assert c["client_id"] == client.id
    assert c["user_id"] == user.id
    assert c["attempts"] == 0
    created, updated = ts(c["created_at"]), ts(c["updated_at"])
    assert abs((datetime.utcnow() - created).total_seconds()) < 60
    assert updated == created
    if kind == "otp":
        assert "expires_at" not in c
    else:
        ttl = (ts(c["expires_at"]) - created).total_seconds()
        assert 299 <= ttl <= 301, ttl
    return c


def spool_message(store, before):
    """The one message for the delivery agent put in the store's outbox
    since "before", checked for shape; its key is "<ms>-<challenge id>"
    of its time; the service writes no spool file."""
    new = store.wait_new_spool(before)
    assert len(new) == 1, new
    name = new.pop()
    assert name in store.outbox(), name
    msg = store.read_spool(name)
    assert set(msg) == SPOOL_KEYS, msg
    assert re.fullmatch(r"[0-9]{6}", msg["code"]), msg
    assert CHALLENGE_ID.match(msg["challenge_id"]), msg
    ms = int(ts(msg["created_at"]).replace(
        tzinfo=timezone.utc).timestamp() * 1000 + 0.5)
    assert name == "%013d-%s.json" % (ms, msg["challenge_id"])
    assert not store.spool.exists() or list(store.spool.iterdir()) == []
    return msg


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("auth", AUTHS)
def test_otp_challenge(http, store, app, alice, auth, body):
    token = store.issue_token(app.id, alice.id)["mfa_token"]
    before = store.challenge_ids()
    spool = store.spool_files()
    r = challenge(http, app, token, auth, body, challenge_type="otp")
    assert assert_ok(r) == {"challenge_type": "otp"}
    cid = one_new_challenge(store, before)
    check_stored(store, cid, "otp", app, alice, alice.otp_id)
    assert store.spool_files() == spool


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("auth", AUTHS)
def test_oob_challenge(http, store, app, alice, auth, body):
    token = http_token(http, app, alice.id, auth, body)
    before = store.challenge_ids()
    spool = store.spool_files()
    r = challenge(http, app, token, auth, body, challenge_type="oob")
    b = assert_ok(r)
    assert set(b) == {"challenge_type", "oob_code", "binding_method"}, b
    assert b["challenge_type"] == "oob"
    assert b["binding_method"] == "prompt"
    msg = spool_message(store, spool)
    assert msg["channel"] == "sms"
    assert msg["to"] == alice.phone
    assert msg["user_id"] == alice.id
    cid = one_new_challenge(store, before)
    assert msg["challenge_id"] == cid
    # the challenge's id, a dot, 256 random bits (challenge.h)
    assert re.fullmatch(re.escape(cid) + r"\.[A-Za-z0-9_-]{43}",
                        b["oob_code"]), b
    check_stored(store, cid, "oob", app, alice, alice.sms_id)
    assert b["oob_code"] not in str(msg)


def test_oob_secrets_not_in_clear(http, server, store, app, alice):
    """The store holds keyed hashes of the token and the oob_code and
    the sealed client secret; none appears in the LMDB file or the logs."""
    token = http_token(http, app, alice.id)
    spool = store.spool_files()
    b = assert_ok(challenge(http, app, token, challenge_type="oob"))
    code = spool_message(store, spool)["code"]
    dump = store.lmdb_dump()
    # the data file itself too, when small enough to read (a WRITEMAP
    # environment is as large as its map)
    raw = b"".join(p.read_bytes() for p in store.path.glob("*.mdb")
                   if p.stat().st_size <= 64 << 20)
    handle = b["oob_code"].split(".", 1)[1]  # the id before it is public
    for secret in (token, handle, app.secret, alice.secret):
        assert secret not in dump
        assert secret.encode() not in raw
    logs = server.log_text(tail=None)
    for secret in (token, handle, app.secret, code):
        assert secret not in logs


def test_mfactl_token_response(store, app, alice):
    t = store.issue_token(app.id, alice.id)
    assert set(t) == {"mfa_token", "expires_in", "client_id", "user_id"}
    assert TOKEN43.match(t["mfa_token"])
    assert (t["expires_in"], t["client_id"], t["user_id"]) == \
        (600, app.id, alice.id)


def test_token_usable_more_than_once(http, store, app, alice):
    token = store.issue_token(app.id, alice.id)["mfa_token"]
    for _ in range(2):
        assert assert_ok(challenge(http, app, token, challenge_type="otp")) \
            == {"challenge_type": "otp"}


@pytest.mark.parametrize("types", [None, "otp oob", "oob otp", "otp"])
def test_selection_prefers_otp(http, store, app, alice, types):
    token = store.issue_token(app.id, alice.id)["mfa_token"]
    before = store.challenge_ids()
    params = {} if types is None else {"challenge_type": types}
    assert assert_ok(challenge(http, app, token, **params)) == \
        {"challenge_type": "otp"}
    cid = one_new_challenge(store, before)
    check_stored(store, cid, "otp", app, alice, alice.otp_id)


def test_selection_named_oob_authenticator(http, store, app, alice):
    token = store.issue_token(app.id, alice.id)["mfa_token"]
    spool = store.spool_files()
    b = assert_ok(challenge(http, app, token, authenticator_id=alice.sms_id))
    assert b["challenge_type"] == "oob"
    msg = spool_message(store, spool)
    assert (msg["channel"], msg["to"]) == ("sms", alice.phone)
    assert store.challenge_show(msg["challenge_id"])[
        "authentication_factor_id"] == alice.sms_id


def test_selection_named_otp_authenticator(http, store, app, alice):
    token = store.issue_token(app.id, alice.id)["mfa_token"]
    before = store.challenge_ids()
    assert assert_ok(challenge(http, app, token, challenge_type="otp oob",
                               authenticator_id=alice.otp_id)) == \
        {"challenge_type": "otp"}
    cid = one_new_challenge(store, before)
    check_stored(store, cid, "otp", app, alice, alice.otp_id)


def test_selection_earliest_oob_then_named(http, store, app, carol):
    voice = store.enroll_oob(carol.id, "voice", PHONE2)
    assert voice["authenticator_id"].startswith("voice|dev_")
    token = store.issue_token(app.id, carol.id)["mfa_token"]
    spool = store.spool_files()
    assert_ok(challenge(http, app, token, challenge_type="oob"))
    msg = spool_message(store, spool)
    assert (msg["channel"], msg["to"]) == ("sms", carol.phone)
    spool = store.spool_files()
    assert_ok(challenge(http, app, token, challenge_type="oob",
                        authenticator_id=voice["authenticator_id"]))
    msg = spool_message(store, spool)
    assert (msg["channel"], msg["to"]) == ("voice", PHONE2)
    c = store.challenge_show(msg["challenge_id"])
    assert c["authentication_factor_id"] == voice["authenticator_id"]


def test_email_challenge(http, store, app):
    uid = new_user_id("erin")
    a = store.enroll_oob(uid, "email", EMAIL)
    assert a["authenticator_id"].startswith("email|dev_")
    token = http_token(http, app, uid)
    spool = store.spool_files()
    b = assert_ok(challenge(http, app, token))
    assert b["challenge_type"] == "oob"
    msg = spool_message(store, spool)
    assert (msg["channel"], msg["to"], msg["user_id"]) == \
        ("email", EMAIL, uid)


def test_otp_only_client_defaults_to_otp(http, store, otp_app, alice):
    token = store.issue_token(otp_app.id, alice.id)["mfa_token"]
    spool = store.spool_files()
    assert assert_ok(challenge(http, otp_app, token)) == \
        {"challenge_type": "otp"}
    assert store.spool_files() == spool


@pytest.mark.parametrize("ctype", [
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
])
def test_json_charset_tolerated(http, store, app, alice, ctype):
    token = store.issue_token(app.id, alice.id)["mfa_token"]
    import json
    body = json.dumps({"mfa_token": token, "challenge_type": "otp",
                       **app.post}).encode()
    r = http.post("/mfa/challenge", raw=body, content_type=ctype)
    assert assert_ok(r) == {"challenge_type": "otp"}


def test_form_charset_tolerated(http, store, app, alice):
    import urllib.parse
    token = store.issue_token(app.id, alice.id)["mfa_token"]
    body = urllib.parse.urlencode({"mfa_token": token,
                                   "challenge_type": "otp",
                                   **app.post}).encode()
    r = http.post("/mfa/challenge", raw=body, content_type=(
        "application/x-www-form-urlencoded; charset=utf-8"))
    assert assert_ok(r) == {"challenge_type": "otp"}


def test_concurrent_challenges(server, store, app, alice):
    """Requests in parallel across the pre-forked workers: every one
    succeeds and stores its own challenge."""
    from concurrent.futures import ThreadPoolExecutor
    from servers import Http
    token = store.issue_token(app.id, alice.id)["mfa_token"]
    before = store.challenge_ids()

    def one(_):
        return assert_ok(challenge(Http(server.url), app, token,
                                   challenge_type="otp"))

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(one, range(48)))
    assert results == [{"challenge_type": "otp"}] * 48
    assert len(store.challenge_ids() - before) == 48
