"""mfactl's contract: one JSON object per command with --json, exit codes
(0 success, 1 error, 2 usage) and "mfactl: " messages on stderr. No web
server needed."""

import json
import re
import stat
import subprocess
from urllib.parse import parse_qs, urlparse

import pytest

from servers import MFACTL, TOKEN43, Store, clean_env

AUTH_ID = {
    "otp": re.compile(r"^totp\|dev_[0-9A-Za-z]{16}$"),
    "sms": re.compile(r"^sms\|dev_[0-9A-Za-z]{16}$"),
    "voice": re.compile(r"^voice\|dev_[0-9A-Za-z]{16}$"),
    "email": re.compile(r"^email\|dev_[0-9A-Za-z]{16}$"),
}
B32 = re.compile(r"^[A-Z2-7]+=*$")
RFC6238_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


@pytest.fixture
def store(tmp_path):
    return Store.create(tmp_path / "db")


def fails(p, code=1):
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert p.stderr.startswith("mfactl: "), p.stderr
    return p


def test_init(tmp_path):
    d = tmp_path / "new"
    s = Store(d)
    spool = str(d / "spool")
    assert s.ctl("init") == {"db": str(d), "created": True, "spool": spool}
    assert s.ctl("init") == {"db": str(d), "created": False, "spool": spool}
    key = d / "master.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o400
    assert list(d.glob("*.mdb"))


def test_init_creates_the_missing_directories_above(tmp_path):
    d = tmp_path / "a" / "b" / "var"
    s = Store(d)
    assert s.ctl("init")["created"] is True
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert (tmp_path / "a" / "b").is_dir()
    s = Store(str(tmp_path / "c" / "var") + "//")   # the store itself 0700
    assert s.ctl("init")["created"] is True
    assert stat.S_IMODE((tmp_path / "c" / "var").stat().st_mode) == 0o700
    (tmp_path / "file").write_text("")
    for db in (tmp_path / "file" / "var", tmp_path / "file"):
        p = fails(Store(db).run("init"))
        assert p.stderr == "mfactl: %s is not a directory\n" % (
            tmp_path / "file")


def test_help_and_usage(store):
    p = subprocess.run([str(MFACTL), "--help"], capture_output=True,
                       text=True, env=clean_env())
    assert p.returncode == 0
    for word in ("init", "client", "user", "token", "challenge", "sweep",
                 "--db", "--json"):
        assert word in p.stdout, word
    fails(store.run("frobnicate"), 2)
    fails(store.run("client"), 2)
    fails(store.run("client", "add"), 2)
    fails(store.run("user", "enroll", "u1", "--type", "otp", "--bogus"), 2)


def test_db_from_environment(store):
    store.add_client("x")
    p = subprocess.run([str(MFACTL), "--json", "client", "list"],
                       capture_output=True, text=True,
                       env=clean_env(MFA_DB=str(store.path)))
    assert p.returncode == 0, p.stderr
    assert [c["name"] for c in json.loads(p.stdout)["clients"]] == ["x"]


def test_client_lifecycle(store):
    c = store.add_client("web", "otp oob")
    assert set(c) == {"client_id", "client_secret", "name",
                      "challenge_types", "auth_method", "created_at"}
    assert c["auth_method"] == "client_secret_basic client_secret_post"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
                        c["created_at"])
    assert c["name"] == "web" and c["challenge_types"] == ["otp", "oob"]
    # at least 256 bits
    assert len(c["client_secret"]) >= 43
    o = store.add_client("otp-only", "otp")
    assert o["challenge_types"] == ["otp"]
    d = store.ctl("client", "add", "defaults")
    assert d["challenge_types"] == ["otp", "oob"]
    assert len({c["client_id"], o["client_id"], d["client_id"]}) == 3

    p = store.run("client", "list")
    assert p.returncode == 0
    assert c["client_secret"] not in p.stdout
    lst = json.loads(p.stdout)["clients"]
    assert {x["client_id"] for x in lst} == {c["client_id"], o["client_id"],
                                            d["client_id"]}
    for x in lst:
        assert set(x) == {"client_id", "name", "challenge_types",
                          "auth_method", "created_at"}

    p = store.run("client", "show", c["client_id"])
    assert p.returncode == 0 and c["client_secret"] not in p.stdout
    shown = json.loads(p.stdout)
    assert set(shown) == {"client_id", "name", "challenge_types",
                          "auth_method", "created_at"}
    assert (shown["client_id"], shown["name"], shown["challenge_types"]) == \
        (c["client_id"], "web", ["otp", "oob"])

    r = store.ctl("client", "rotate-secret", c["client_id"])
    assert set(r) == {"client_id", "client_secret"}
    assert r["client_secret"] != c["client_secret"]

    assert store.ctl("client", "rm", c["client_id"]) == \
        {"client_id": c["client_id"], "removed": True}
    fails(store.run("client", "show", c["client_id"]))
    fails(store.run("client", "rm", c["client_id"]))
    fails(store.run("client", "rotate-secret", "no-such-client"))


@pytest.mark.parametrize("types", ["otp foo", "sms"])
def test_client_bad_types(store, types):
    p = store.run("client", "add", "bad", "--challenge-types", types)
    assert p.returncode in (1, 2) and p.stderr.startswith("mfactl: ")
    assert json.loads(store.run("client", "list").stdout)["clients"] == []


def test_enroll_otp(store):
    a = store.enroll_otp("u1")
    assert set(a) == {"user_id", "authenticator_id", "authenticator_type",
                      "secret", "otpauth_uri"}
    assert (a["user_id"], a["authenticator_type"]) == ("u1", "otp")
    assert AUTH_ID["otp"].match(a["authenticator_id"]), a
    assert B32.match(a["secret"]) and len(a["secret"].rstrip("=")) >= 32
    u = urlparse(a["otpauth_uri"])
    assert (u.scheme, u.netloc) == ("otpauth", "totp")
    q = parse_qs(u.query)
    assert q["secret"] == [a["secret"].rstrip("=")] or \
        q["secret"] == [a["secret"]]
    assert "issuer" in q


def test_enroll_otp_given_secret(store):
    a = store.enroll_otp("u1", RFC6238_SECRET)
    assert a["secret"].rstrip("=") == RFC6238_SECRET
    b = store.enroll_otp("u1", RFC6238_SECRET.lower())
    assert b["secret"].rstrip("=") == RFC6238_SECRET
    assert a["authenticator_id"] != b["authenticator_id"]


@pytest.mark.parametrize("secret", ["not base32!", "A", "GEZDGNBV1"])
def test_enroll_otp_bad_secret(store, secret):
    p = store.run("user", "enroll", "u1", "--type", "otp", "--secret",
                  secret)
    assert p.returncode in (1, 2) and p.stderr.startswith("mfactl: ")


@pytest.mark.parametrize("channel, to", [("sms", "+15555550100"),
                                         ("voice", "+15555550111"),
                                         ("email", "a@example.com")])
def test_enroll_oob(store, channel, to):
    a = store.enroll_oob("u2", channel, to)
    assert a == {"user_id": "u2", "authenticator_id": a["authenticator_id"],
                 "authenticator_type": "oob", "oob_channel": channel,
                 "to": to}
    assert AUTH_ID[channel].match(a["authenticator_id"]), a


@pytest.mark.parametrize("args", [
    ["--channel", "push", "--to", "x"],
    ["--channel", "sms"],
    ["--to", "+15555550100"],
])
def test_enroll_oob_bad(store, args):
    p = store.run("user", "enroll", "u3", "--type", "oob", *args)
    assert p.returncode in (1, 2) and p.stderr.startswith("mfactl: ")


def test_user_list_and_rm(store):
    o = store.enroll_otp("u1")
    s = store.enroll_oob("u1", "sms", "+15555550100")
    e = store.enroll_oob("u2", "email", "a@example.com")
    p = store.run("user", "list")
    assert p.returncode == 0 and o["secret"] not in p.stdout
    users = {u["user_id"]: u for u in json.loads(p.stdout)["users"]}
    assert set(users) == {"u1", "u2"}
    a1 = {a["id"]: a for a in users["u1"]["authenticators"]}
    assert set(a1) == {o["authenticator_id"], s["authenticator_id"]}
    assert a1[o["authenticator_id"]]["authenticator_type"] == "otp"
    assert a1[s["authenticator_id"]]["authenticator_type"] == "oob"
    assert a1[s["authenticator_id"]]["oob_channel"] == "sms"
    for a in list(a1.values()) + users["u2"]["authenticators"]:
        assert {"id", "authenticator_type", "active", "name"} <= set(a)
        assert a["active"] is True
    assert users["u2"]["authenticators"][0]["id"] == e["authenticator_id"]
    store.ctl("user", "recovery-codes", "u1")
    assert store.ctl("user", "show", "u1")["recovery_codes_left"] == 10
    assert store.ctl("user", "rm", "u1") == {"user_id": "u1",
                                             "removed": True}
    users = json.loads(store.run("user", "list").stdout)["users"]
    assert [u["user_id"] for u in users] == ["u2"]
    fails(store.run("user", "show", "u1"))     # no codes left either
    fails(store.run("user", "rm", "u1"))
    # a user with recovery codes alone is a user to remove
    store.ctl("user", "recovery-codes", "u3")
    assert store.ctl("user", "rm", "u3") == {"user_id": "u3",
                                             "removed": True}
    fails(store.run("user", "show", "u3"))


def test_token_issue(store):
    c = store.add_client("web")
    t = store.issue_token(c["client_id"], "u1")
    assert set(t) == {"mfa_token", "expires_in", "client_id", "user_id"}
    assert TOKEN43.match(t["mfa_token"])
    assert (t["expires_in"], t["client_id"], t["user_id"]) == \
        (600, c["client_id"], "u1")
    t2 = store.issue_token(c["client_id"], "u1", "--ttl", "86400")
    assert t2["expires_in"] == 86400
    assert t2["mfa_token"] != t["mfa_token"]
    fails(store.run("token", "issue", "--client", "nope", "--user", "u1"))
    p = store.run("token", "issue", "--client", c["client_id"])
    assert p.returncode == 2 and p.stderr.startswith("mfactl: ")


def test_challenge_show_unknown(store):
    fails(store.run("challenge", "show", "auth_challenge_01NOPE"))
    fails(store.run("challenge", "show", "garbage"))


def test_sweep(store):
    c = store.add_client("web")
    store.issue_token(c["client_id"], "u1")
    out = store.ctl("sweep")
    assert set(out) == {"deleted"} and out["deleted"] == 0


def test_sweep_deletes_expired(store, tmp_path):
    """An expired token is kept for the purge grace (an hour: late requests
    hear "expired", not "unknown"), then swept. Time is moved with the
    test-clock mfactl (make testclock), never slept."""
    def sweep(ahead_s):
        return store.sweep_ahead(ahead_s * 1000, tmp_path / "clock")

    c = store.add_client("web")
    store.issue_token(c["client_id"], "u1", "--ttl", "1")
    store.issue_token(c["client_id"], "u1")
    assert sweep(5) == {"deleted": 0}          # expired, within the grace
    assert sweep(1 + 3600 + 5) == {"deleted": 1}
    assert sweep(1 + 3600 + 5) == {"deleted": 0}
    assert sweep(600 + 3600 + 5) == {"deleted": 1}


def test_text_output(store):
    p = store.run("client", "add", "plain", json_out=False)
    assert p.returncode == 0 and p.stdout.strip()
    assert "plain" in store.run("client", "list", json_out=False).stdout
