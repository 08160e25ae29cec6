"""Fixtures of the integration tests (see servers.py for the harness).

server        session-scoped, parametrized over lighttpd and nginx +
              spawn-fcgi: a fresh store and a real web server in front of
              the pre-forked responder (3 workers); stopped by PID at the
              end, and nothing may be left running
store         the server's store (mfactl --db DIR --json)
app           client "app" allowing otp and oob
otp_app       client allowing only otp
other_app     a second otp+oob client (tokens of one are not the other's)
alice         a fresh user with an otp and an sms authenticator
bob           a fresh user with only an otp authenticator
carol         a fresh user with only an sms authenticator
http          requests against the server
server_factory  starts a dedicated server (own store, own MFA_* settings,
              optionally another responder build: fcgi_bin=)
"""

import itertools
import uuid
from dataclasses import dataclass

import pytest

from servers import (FCGI_BIN, KINDS, MFACTL, Http, start_server,
                     stop_server)

PHONE = "+15555550100"
PHONE2 = "+15555550111"
EMAIL = "user@example.com"


def pytest_report_header(config):
    return "mfa.fcgi: %s, mfactl: %s" % (FCGI_BIN, MFACTL)


@dataclass
class Client:
    id: str
    secret: str
    name: str
    types: list

    @property
    def basic(self):
        return (self.id, self.secret)

    @property
    def post(self):
        return {"client_id": self.id, "client_secret": self.secret}


@dataclass
class User:
    id: str
    otp_id: str = None
    secret: str = None
    sms_id: str = None
    phone: str = None


_seq = itertools.count(1)


def new_user_id(prefix="user"):
    return "%s-%d-%s" % (prefix, next(_seq), uuid.uuid4().hex[:8])


def make_client(store, name, types):
    c = store.add_client(name, types)
    return Client(c["client_id"], c["client_secret"], c["name"],
                  c["challenge_types"])


def make_user(store, prefix, otp=True, sms=True):
    u = User(new_user_id(prefix))
    if otp:
        a = store.enroll_otp(u.id)
        u.otp_id, u.secret = a["authenticator_id"], a["secret"]
    if sms:
        a = store.enroll_oob(u.id, "sms", PHONE)
        u.sms_id, u.phone = a["authenticator_id"], PHONE
    return u


@pytest.fixture(scope="session", params=KINDS)
def server(request, tmp_path_factory):
    srv = start_server(request.param, tmp_path_factory.mktemp(request.param))
    yield srv
    stop_server(srv)


@pytest.fixture(scope="session")
def store(server):
    return server.store


@pytest.fixture(scope="session")
def app(store):
    return make_client(store, "app", "otp oob")


@pytest.fixture(scope="session")
def otp_app(store):
    return make_client(store, "otp-app", "otp")


@pytest.fixture(scope="session")
def other_app(store):
    return make_client(store, "other-app", "otp oob")


@pytest.fixture
def alice(store):
    return make_user(store, "alice")


@pytest.fixture
def bob(store):
    return make_user(store, "bob", sms=False)


@pytest.fixture
def carol(store):
    return make_user(store, "carol", otp=False)


@pytest.fixture
def http(server):
    return Http(server.url)


@pytest.fixture
def server_factory(tmp_path_factory):
    """make(kind, **MFA_env) -> a started dedicated server, stopped (and
    checked for leftovers) at teardown."""
    started = []

    def make(kind, workers=3, fcgi_bin=None, **env):
        srv = start_server(kind, tmp_path_factory.mktemp(kind + "-own"),
                           workers=workers, env=env, fcgi_bin=fcgi_bin)
        started.append(srv)
        return srv

    yield make
    failures = []
    for srv in started:
        try:
            stop_server(srv)
        except AssertionError as e:
            failures.append(e)
    if failures:
        raise failures[0]
