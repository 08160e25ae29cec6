"""POST /mfa/token: a confidential client gets an mfa_token for a user it
has logged in itself, with Auth0's mfa_requirements."""

import pytest

from conftest import EMAIL, PHONE2, new_user_id
from servers import (AUTHS, BODIES, TOKEN43, assert_error, assert_ok,
                     call, challenge)

OTP = {"type": "otp"}
PHONE = {"type": "phone"}
MAIL = {"type": "email"}


def token(http, client, user_id, auth="post", body="form"):
    b = assert_ok(call(http, "/mfa/token", client, {"user_id": user_id},
                       auth, body))
    assert set(b) == {"mfa_token", "expires_in", "mfa_requirements"}, b
    assert TOKEN43.match(b["mfa_token"]), b
    assert b["expires_in"] == 600
    return b


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("auth", AUTHS)
def test_token_for_enrolled_user(http, app, alice, auth, body):
    b = token(http, app, alice.id, auth, body)
    assert b["mfa_requirements"] == {"challenge": [OTP, PHONE]}
    # usable at once, by the same client
    assert assert_ok(challenge(http, app, b["mfa_token"], auth, body,
                               challenge_type="otp")) == \
        {"challenge_type": "otp"}


def test_tokens_differ(http, app, alice):
    assert token(http, app, alice.id)["mfa_token"] != \
        token(http, app, alice.id)["mfa_token"]


def test_requirements_only_client_types(http, otp_app, alice):
    assert token(http, otp_app, alice.id)["mfa_requirements"] == \
        {"challenge": [OTP]}


def test_requirements_sms_only_user(http, app, carol):
    assert token(http, app, carol.id)["mfa_requirements"] == \
        {"challenge": [PHONE]}


def test_requirements_phone_once_in_order(http, store, app):
    uid = new_user_id("dave")
    store.enroll_oob(uid, "email", EMAIL)
    store.enroll_oob(uid, "voice", PHONE2)
    store.enroll_oob(uid, "sms", PHONE2)
    store.enroll_otp(uid)
    assert token(http, app, uid)["mfa_requirements"] == \
        {"challenge": [OTP, PHONE, MAIL]}


def test_enroll_for_unknown_user(http, app):
    assert token(http, app, new_user_id("nobody"))["mfa_requirements"] == \
        {"enroll": [OTP, PHONE, MAIL]}


def test_enroll_when_client_cannot_use_any(http, otp_app, carol):
    assert token(http, otp_app, carol.id)["mfa_requirements"] == \
        {"enroll": [OTP]}


def test_user_id_at_bound(http, app):
    token(http, app, "u" * 128)


@pytest.mark.parametrize("auth", AUTHS)
def test_missing_user_id(http, app, bob, auth):
    assert_error(call(http, "/mfa/token", app, {}, auth),
                 400, "invalid_request", "Missing required parameter: user_id")
    token(http, app, bob.id, auth)


@pytest.mark.parametrize("params, description", [
    ({"user_id": "u" * 129}, "parameter 'user_id' is longer than 128 bytes"),
    ({"user_id": "a\x01b"}, "parameter 'user_id' contains a control character"),
    ({"user_id": "a\nb"}, "parameter 'user_id' contains a control character"),
    ({"user_id": "a\x7fb"}, "parameter 'user_id' contains a control character"),
])
@pytest.mark.parametrize("body", BODIES)
def test_bad_user_id(http, app, bob, params, description, body):
    assert_error(call(http, "/mfa/token", app, params, body=body),
                 400, "invalid_request", description)
    token(http, app, bob.id)


def test_token_bound_to_client(http, app, other_app, bob):
    t = token(http, app, bob.id)["mfa_token"]
    assert_error(challenge(http, other_app, t, challenge_type="otp"),
                 400, "invalid_request", "mfa_token not issued to this client")
    assert assert_ok(challenge(http, app, t, challenge_type="otp")) == \
        {"challenge_type": "otp"}


def test_token_needs_client_auth(http, app, bob):
    assert_error(call(http, "/mfa/token", None,
                      {"user_id": bob.id, "client_id": app.id}),
                 401, "invalid_client", "Client authentication failed")
    token(http, app, bob.id)
