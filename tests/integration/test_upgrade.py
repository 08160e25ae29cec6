"""Upgrading a schema-1 store (JSON records) to schema 2 (binary records)
end to end (README "Upgrading is automatic", fcgi-app/store_migrate.c).

A store is built the normal way (mfactl, then requests to a server on it:
a client, a user with a TOTP and an sms authenticator, a second TOTP-only
user, mfa_tokens, an otp and an oob challenge, the sms bucket, the signing
keys), the server is stopped, and the store is turned back into schema 1
offline: every value of the six record databases decoded with records.py
and written as record_json.c writes it (a compact object, "v":1 and one
member per field of the kind's table, hashes in base64url without
padding), one mdb_load per database, and meta "schema" set to "1". Then a
server is started on it (lighttpd: the responder's stderr is in its log):

- the upgrade is logged once with the exact number of records rewritten,
  0 left; right after it, every record reads back byte for byte as it was
  before the conversion; the schema is "2";
- the old mfa_tokens still work: an otp challenge, the authenticator list
  (the sms authenticator included), the oob challenge made before the
  upgrade verified with its binding code, and a fresh TOTP code; the
  access tokens are signed with the signing key made before the upgrade.

A second store has one authenticator that is not JSON ("{"): the upgrade
leaves it as it is ("1 left"), that authenticator fails closed (500
server_error, as for a record cut in half in test_adversarial.py), and
everything else works.
"""

import base64
import json
import re
import subprocess
from dataclasses import dataclass

import jwt
import pytest

import records
from conftest import make_client, make_user
from servers import (Http, Store, assert_error, assert_ok, challenge, call,
                     start_server, stop_server)
import test_adversarial
from test_adversarial import G_OOB, G_OTP, SERVER_ERROR, oathtool, step_margin

KIND = "lighttpd"   # the responder's stderr (the upgrade's log line) is kept
RECORD_DBS = ["clients", "authns", "tokens", "challenges", "buckets",
              "signing"]
UPGRADED = re.compile(r"store: upgraded from schema 1 to 2: (\d+) record\(s\)"
                      r" rewritten, (\d+) left")


@dataclass
class V1Store:
    store: Store
    app: object
    user: object        # otp + sms
    other: object       # otp only
    tok: str            # mfa_token of "user", never used for a code yet
    tok_oob: str        # mfa_token of "user" its oob challenge belongs to
    tok_other: str      # mfa_token of "other"
    oob_code: str
    binding: str
    kid: str            # the current signing key
    binary: dict        # {db: {key: schema-2 value}} before the conversion
    converted: int      # records written as JSON
    broken: int         # records written as something that is not JSON


# ------------------------------------------------------------- schema 1

def v1_json(kind, value):
    """The schema-1 value of the schema-2 record "value" of "kind", as
    record_json.c writes it: {"v":1, every field in table order}, compact,
    hashes base64url without padding, UTF-8 as is (jansson's default)."""
    rec = records.decode(kind, value)
    obj = {"v": 1}
    for name, fk, _ in records.KINDS[kind][1]:
        v = rec[name]
        if fk == records.HASH:
            v = base64.urlsafe_b64encode(v).rstrip(b"=").decode()
        obj[name] = v
    return json.dumps(obj, separators=(",", ":"),
                      ensure_ascii=False).encode()


def load(store, db, head, pairs):
    """Writes every (key, value) of "pairs" into database "db" in one
    mdb_load (hex, the header of dump())."""
    lines = list(head)
    for k, v in pairs:
        lines += [" " + k.hex(), " " + v.hex()]
    text = "\n".join(lines + ["DATA=END"]) + "\n"
    p = subprocess.run(["mdb_load", "-s", db, str(store.path)], input=text,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr


def snapshot(store):
    """{db: {key: value}} of the six record databases."""
    return {db: dict(dump(store, db)[1]) for db in RECORD_DBS}


def dump(store, db):
    """test_adversarial.dump without mfactl: opening a schema-1 store
    upgrades it (to_schema_1 commits the queue once, first)."""
    return test_adversarial.dump(store, db, queue=False)


def schema(store):
    return dict(dump(store, "meta")[1]).get(b"schema")


def to_schema_1(store, broken=()):
    """Rewrites the store offline as schema 1; the keys in "broken"
    ((db, key) pairs) get the value b"{" instead. Returns the number of
    records written as JSON."""
    n = 0
    store.commit_queue()
    for db in RECORD_DBS:
        head, pairs = dump(store, db)
        out = []
        for k, v in pairs:
            if (db, k.decode(errors="replace")) in broken:
                out.append((k, b"{"))
            else:
                out.append((k, v1_json(records.DATABASES[db], v)))
                n += 1
        if out:
            load(store, db, head, out)
    head, _ = dump(store, "meta")
    load(store, "meta", head, [(b"schema", b"1")])
    return n


def build_v1_store(base, broken_otp=False):
    """A store made the normal way, then turned into schema 1 (the TOTP
    authenticator of "user" not JSON at all when "broken_otp")."""
    store = Store.create(base / "store")
    app = make_client(store, "upgrade-app", "otp oob")
    user = make_user(store, "upg")
    other = make_user(store, "upg-other", sms=False)
    kid = store.ctl("keys", "rotate")["kid"]
    tok = store.issue_token(app.id, user.id)["mfa_token"]
    tok_oob = store.issue_token(app.id, user.id)["mfa_token"]
    tok_other = store.issue_token(app.id, other.id)["mfa_token"]
    srv = start_server(KIND, base / "before", store=store)
    try:
        http = Http(srv.url)
        assert assert_ok(challenge(http, app, tok, challenge_type="otp")) \
            == {"challenge_type": "otp"}
        before = store.spool_files()
        b = assert_ok(challenge(http, app, tok_oob, challenge_type="oob",
                                authenticator_id=user.sms_id))
        new = store.wait_new_spool(before)
        assert len(new) == 1, new
        binding = store.read_spool(new.pop())["code"]
    finally:
        stop_server(srv)
    binary = snapshot(store)
    # every database holds something to convert
    assert all(binary[db] for db in RECORD_DBS), \
        {db: len(v) for db, v in binary.items()}
    broken = {("authns", user.otp_id)} if broken_otp else set()
    converted = to_schema_1(store, broken)
    assert converted == sum(map(len, binary.values())) - len(broken)
    # the conversion took
    assert schema(store) == b"1"
    clients = dump(store, "clients")[1]
    assert clients and all(v.startswith(b"{") for _, v in clients)
    for db in RECORD_DBS:
        for k, v in dump(store, db)[1]:
            if (db, k.decode(errors="replace")) in broken:
                assert v == b"{"
            else:
                assert json.loads(v)["v"] == 1, (db, k, v)
                with pytest.raises(records.RecordError):
                    records.decode(records.DATABASES[db], v)
    return V1Store(store, app, user, other, tok, tok_oob, tok_other,
                   b["oob_code"], binding, kid, binary, converted,
                   len(broken))


# -------------------------------------------------------------- checks

def upgrade_lines(srv):
    return [(int(m.group(1)), int(m.group(2))) for m in
            UPGRADED.finditer(srv.log_text(tail=None))]


def assert_signed_by(token, v1):
    """The JWT "token" carries the kid of the signing key made before the
    upgrade and verifies with that key's public half, as stored."""
    assert jwt.get_unverified_header(token)["kid"] == v1.kid
    rec = records.decode("signing", v1.binary["signing"][v1.kid.encode()])
    key = jwt.PyJWK({"kty": "OKP", "crv": "Ed25519",
                     "x": rec["public_b64"]}).key
    claims = jwt.decode(token, key, algorithms=["EdDSA"],
                        options={"verify_aud": False})
    assert claims["sub"] == v1.user.id, claims


def assert_all_binary(store, v1):
    """Schema "2"; every record of the six databases decodes as binary,
    but for the ones left broken."""
    assert schema(store) == b"2"
    for db in RECORD_DBS:
        for k, v in dump(store, db)[1]:
            if v1.broken and (db, k.decode(errors="replace")) == \
                    ("authns", v1.user.otp_id):
                assert v == b"{"
                continue
            records.decode(records.DATABASES[db], v)


@pytest.fixture
def run_server():
    started = []

    def run(kind, base, store):
        srv = start_server(kind, base, store=store)
        started.append(srv)
        return srv

    yield run
    for srv in started:
        stop_server(srv)


def test_schema1_store_upgrades_nothing_lost(tmp_path_factory, run_server):
    base = tmp_path_factory.mktemp("upgrade")
    v1 = build_v1_store(base)
    srv = run_server(KIND, base / "after", v1.store)
    http = Http(srv.url)

    # upgraded once, every record rewritten, each as it was before
    assert upgrade_lines(srv) == [(v1.converted, 0)], srv.log_text()
    assert schema(v1.store) == b"2"
    assert snapshot(v1.store) == v1.binary

    # the client and the old mfa_token: an otp challenge
    assert assert_ok(challenge(http, v1.app, v1.tok,
                               challenge_type="otp")) == \
        {"challenge_type": "otp"}
    # both authenticators listed
    lst = assert_ok(http.request("GET", "/mfa/authenticators", headers={
        "Authorization": "Bearer " + v1.tok}))
    by_id = {a["id"]: a for a in lst}
    assert by_id[v1.user.sms_id] == {
        "id": v1.user.sms_id, "authenticator_type": "oob", "active": True,
        "oob_channel": "sms", "oob_channels": ["sms"],
        "name": "XXXXXXXX0100"}, lst
    assert by_id[v1.user.otp_id]["authenticator_type"] == "otp", lst
    assert by_id[v1.user.otp_id]["active"] is True, lst
    # the oob challenge made before the upgrade, with its binding code
    b = assert_ok(call(http, "/oauth/token", v1.app, {
        "grant_type": G_OOB, "mfa_token": v1.tok_oob,
        "oob_code": v1.oob_code, "binding_code": v1.binding}))
    assert_signed_by(b["access_token"], v1)
    # a fresh TOTP code of the old seed
    step_margin()
    http = Http(srv.url)  # the wait may outlast the keep-alive
    b = assert_ok(call(http, "/oauth/token", v1.app, {
        "grant_type": G_OTP, "mfa_token": v1.tok,
        "otp": oathtool(v1.user.secret)}))
    assert_signed_by(b["access_token"], v1)

    assert_all_binary(v1.store, v1)
    assert v1.user.secret not in srv.log_text(tail=None)


def test_schema1_record_not_json_left_and_fails_closed(tmp_path_factory,
                                                       run_server):
    base = tmp_path_factory.mktemp("upgrade-bad")
    v1 = build_v1_store(base, broken_otp=True)
    srv = run_server(KIND, base / "after", v1.store)
    http = Http(srv.url)

    assert upgrade_lines(srv) == [(v1.converted, 1)], srv.log_text()
    after = snapshot(v1.store)
    assert after["authns"].pop(v1.user.otp_id.encode()) == b"{"
    expected = {db: dict(v) for db, v in v1.binary.items()}
    del expected["authns"][v1.user.otp_id.encode()]
    assert after == expected
    assert_all_binary(v1.store, v1)

    # the broken authenticator fails closed
    step_margin()
    http = Http(srv.url)  # the wait may outlast the keep-alive
    r = call(http, "/oauth/token", v1.app, {
        "grant_type": G_OTP, "mfa_token": v1.tok,
        "otp": oathtool(v1.user.secret)})
    assert_error(r, *SERVER_ERROR)
    # the rest works: the same user's sms authenticator and oob challenge,
    # the other user's TOTP
    b = assert_ok(call(http, "/oauth/token", v1.app, {
        "grant_type": G_OOB, "mfa_token": v1.tok_oob,
        "oob_code": v1.oob_code, "binding_code": v1.binding}))
    assert_signed_by(b["access_token"], v1)
    assert assert_ok(challenge(http, v1.app, v1.tok_other,
                               challenge_type="otp")) == \
        {"challenge_type": "otp"}
    step_margin()
    http = Http(srv.url)  # the wait may outlast the keep-alive
    b = assert_ok(call(http, "/oauth/token", v1.app, {
        "grant_type": G_OTP, "mfa_token": v1.tok_other,
        "otp": oathtool(v1.other.secret)}))
    assert jwt.get_unverified_header(b["access_token"])["kid"] == v1.kid
