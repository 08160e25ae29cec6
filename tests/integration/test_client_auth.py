"""Client authentication on /mfa/token and /mfa/challenge:
client_secret_basic, client_secret_post, their failures, and
WWW-Authenticate exactly when the request carried Authorization: Basic."""

import base64

import pytest

from servers import (assert_error, assert_healthy, assert_ok,
                     basic_header, check_headers)

ENDPOINTS = ["/mfa/token", "/mfa/challenge"]
FAILED = "Client authentication failed"


def b64(s):
    return base64.b64encode(s.encode()).decode()


@pytest.fixture
def params_for(store, app, bob):
    """The non-credential parameters of a good request to "path"."""
    def make(path, client=app):
        if path == "/mfa/token":
            return {"user_id": bob.id}
        t = store.issue_token(client.id, bob.id)["mfa_token"]
        return {"mfa_token": t, "challenge_type": "otp"}
    return make


def post(http, path, params, authorization=None):
    h = {} if authorization is None else {"Authorization": authorization}
    return http.post(path, form=params, headers=h)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_basic_and_post_succeed(http, app, params_for, path):
    r = post(http, path, params_for(path), basic_header(*app.basic))
    assert_ok(r)
    r = post(http, path, {**params_for(path), **app.post})
    assert_ok(r)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_basic_is_form_urlencoded(http, app, params_for, path):
    """RFC 6749 2.3.1: id and secret are form-urlencoded inside the
    base64; a fully percent-encoded pair is the same credentials."""
    enc = "".join("%%%02X" % b for b in app.id.encode())
    sec = "".join("%%%02X" % b for b in app.secret.encode())
    r = post(http, path, params_for(path), "Basic " + b64(enc + ":" + sec))
    assert_ok(r)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_two_methods(http, app, bob, params_for, path):
    for extra in ({"client_secret": app.secret},
                  {"client_id": app.id, "client_secret": app.secret},
                  {"client_secret": "wrong"}):
        r = post(http, path, {**params_for(path), **extra},
                 basic_header(*app.basic))
        assert_error(r, 400, "invalid_request",
                     "Client authentication must use only one method")
        assert_healthy(http, app, bob)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_body_client_id_differs_from_basic(http, app, other_app, bob,
                                           params_for, path):
    r = post(http, path, {**params_for(path), "client_id": other_app.id},
             basic_header(*app.basic))
    assert_error(r, 400, "invalid_request",
                 "client_id does not match the Authorization header")
    assert_healthy(http, app, bob)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_body_client_id_same_as_basic(http, app, params_for, path):
    r = post(http, path, {**params_for(path), "client_id": app.id},
             basic_header(*app.basic))
    assert_ok(r)


def wrong_secrets(secret):
    return ["wrong", secret[:-1], secret + "x",
            secret[:-1] + ("A" if secret[-1] != "A" else "B"), ""]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_wrong_secret_post(http, app, bob, params_for, path):
    for bad in wrong_secrets(app.secret):
        if bad == "":
            continue    # that is "client_id without secret", below
        r = post(http, path, {**params_for(path), "client_id": app.id,
                              "client_secret": bad})
        assert_error(r, 401, "invalid_client", FAILED)
        assert "WWW-Authenticate" not in r.headers
    assert_healthy(http, app, bob)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_wrong_secret_basic(http, app, bob, params_for, path):
    for bad in wrong_secrets(app.secret):
        r = post(http, path, params_for(path), basic_header(app.id, bad))
        assert_error(r, 401, "invalid_client", FAILED)
        assert r.headers["WWW-Authenticate"] == \
            'Basic realm="mfa", charset="UTF-8"'
    assert_healthy(http, app, bob)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_other_clients_secret(http, app, other_app, bob, params_for, path):
    r = post(http, path, {**params_for(path), "client_id": app.id,
                          "client_secret": other_app.secret})
    assert_error(r, 401, "invalid_client", FAILED)
    r = post(http, path, params_for(path),
             basic_header(app.id, other_app.secret))
    assert_error(r, 401, "invalid_client", FAILED)
    assert_healthy(http, app, bob)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_unknown_client(http, app, bob, params_for, path):
    for cid in ("no-such-client", app.id + "x", app.id.upper()
                if app.id.upper() != app.id else app.id.lower()):
        r = post(http, path, {**params_for(path), "client_id": cid,
                              "client_secret": app.secret})
        assert_error(r, 401, "invalid_client", FAILED)
        r = post(http, path, params_for(path),
                 basic_header(cid, app.secret))
        assert_error(r, 401, "invalid_client", FAILED)
    assert_healthy(http, app, bob)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_no_credentials(http, app, bob, params_for, path):
    r = post(http, path, params_for(path))
    assert_error(r, 401, "invalid_client", FAILED)
    assert "WWW-Authenticate" not in r.headers
    r = post(http, path, {**params_for(path), "client_id": app.id})
    assert_error(r, 401, "invalid_client", FAILED)
    assert "WWW-Authenticate" not in r.headers
    assert_healthy(http, app, bob)


@pytest.mark.parametrize("authorization", [
    "Basic !!!!",
    "Basic " + b64("no-colon-here"),
    "Basic " + b64(":"),
    "Basic " + b64(":secret"),
    "Basic " + b64("id%zz:secret"),
    "Basic " + b64("id:sec%zzret"),
    "Basic " + "QQ",
])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_malformed_basic(http, app, bob, params_for, path, authorization):
    r = post(http, path, params_for(path), authorization)
    assert_error(r, 401, "invalid_client", FAILED)
    assert r.headers.get("WWW-Authenticate") == \
        'Basic realm="mfa", charset="UTF-8"'
    assert_healthy(http, app, bob)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_bearer_is_not_client_auth(http, app, bob, params_for, path):
    r = post(http, path, params_for(path), "Bearer " + "x" * 43)
    assert_error(r, 401, "invalid_client", FAILED)
    assert "WWW-Authenticate" not in r.headers
    assert_healthy(http, app, bob)


def test_rotate_secret(http, store, bob, params_for):
    from conftest import make_client
    c = make_client(store, "rotating", "otp oob")
    old = c.secret
    out = store.ctl("client", "rotate-secret", c.id)
    assert set(out) == {"client_id", "client_secret"}
    assert out["client_id"] == c.id and out["client_secret"] != old
    r = post(http, "/mfa/token", {"user_id": bob.id},
             basic_header(c.id, old))
    assert_error(r, 401, "invalid_client", FAILED)
    c.secret = out["client_secret"]
    assert_ok(post(http, "/mfa/token", {"user_id": bob.id},
                   basic_header(*c.basic)))
    assert_healthy(http, c, bob)


def test_removed_client(http, store, app, bob):
    from conftest import make_client
    c = make_client(store, "doomed", "otp")
    assert_healthy(http, c, bob)
    t = store.issue_token(c.id, bob.id)["mfa_token"]
    assert store.ctl("client", "rm", c.id) == \
        {"client_id": c.id, "removed": True}
    r = post(http, "/mfa/token", {"user_id": bob.id, **c.post})
    assert_error(r, 401, "invalid_client", FAILED)
    r = post(http, "/mfa/challenge", {"mfa_token": t},
             basic_header(*c.basic))
    assert_error(r, 401, "invalid_client", FAILED)
    assert_healthy(http, app, bob)


def test_success_has_no_challenge_header(http, app, bob):
    r = post(http, "/mfa/token", {"user_id": bob.id},
             basic_header(*app.basic))
    check_headers(r)
    assert "WWW-Authenticate" not in r.headers
