"""Request-level errors on every endpoint: body bound, media types, form and
JSON parsing, field bounds, credentials in the query string, unknown paths
and wrong methods. Each bad request gets its exact status and description,
stores nothing, and the next good request on the same server succeeds."""

import json
import urllib.parse

import pytest

from servers import (Snapshot, assert_error, assert_healthy, assert_ok,
                     fcgi_request, raw_exchange)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
LIMIT = 65536


@pytest.fixture
def good(store, app, bob):
    """A good /mfa/challenge request of bob's as form fields."""
    t = store.issue_token(app.id, bob.id)["mfa_token"]
    return {"mfa_token": t, "challenge_type": "otp", **app.post}


def form(fields, extra=""):
    body = urllib.parse.urlencode(fields)
    return (body + ("&" + extra if extra else "")).encode()


def bad_request(http, store, app, bob, path, raw, ctype, status, error,
                description, prefix=False, query=""):
    snap = Snapshot(store)
    r = http.post(path + query, raw=raw, content_type=ctype)
    assert_error(r, status, error, description, prefix=prefix)
    snap.assert_unchanged()
    assert_healthy(http, app, bob)
    return r


# ---- body bound

@pytest.mark.parametrize("path", ["/mfa/challenge", "/mfa/token"])
def test_body_over_limit(http, store, app, bob, good, path):
    raw = form(good, "pad=")
    raw += b"x" * (LIMIT + 1 - len(raw))
    assert len(raw) == LIMIT + 1
    bad_request(http, store, app, bob, path, raw, FORM, 413,
                "invalid_request",
                "Request body is larger than %d bytes" % LIMIT)


def test_body_at_limit(http, good):
    raw = form(good, "pad=")
    raw += b"x" * (LIMIT - len(raw))
    assert len(raw) == LIMIT
    r = http.post("/mfa/challenge", raw=raw, content_type=FORM)
    assert assert_ok(r) == {"challenge_type": "otp"}


# ---- media types

@pytest.mark.parametrize("ctype", ["text/plain", "multipart/form-data",
                                   "application/xml",
                                   "application/jsonx",
                                   "application/x-www-form-urlencodedx"])
@pytest.mark.parametrize("path", ["/mfa/challenge", "/mfa/token"])
def test_unsupported_media_type(http, store, app, bob, good, path, ctype):
    bad_request(http, store, app, bob, path, form(good), ctype, 415,
                "invalid_request",
                "Content-Type must be application/x-www-form-urlencoded or "
                "application/json")


# ---- form parsing

@pytest.mark.parametrize("dup", ["client_id", "mfa_token",
                                 "challenge_type", "client_secret"])
def test_duplicate_parameter(http, store, app, bob, good, dup):
    extra = urllib.parse.urlencode({dup: good[dup]})
    bad_request(http, store, app, bob, "/mfa/challenge", form(good, extra),
                FORM, 400, "invalid_request", "duplicate parameter: " + dup)


def test_duplicate_parameter_token_endpoint(http, store, app, bob):
    raw = form({"user_id": bob.id, **app.post}, "user_id=" + bob.id)
    bad_request(http, store, app, bob, "/mfa/token", raw, FORM, 400,
                "invalid_request", "duplicate parameter: user_id")


@pytest.mark.parametrize("extra, name", [
    ("otp=%zz", "otp"),
    ("otp=12%3", "otp"),
    ("otp=%", "otp"),
    ("otp=%g0", "otp"),
    ("authenticator_id=a%2", "authenticator_id"),
])
def test_bad_percent_encoding(http, store, app, bob, good, extra, name):
    bad_request(http, store, app, bob, "/mfa/challenge", form(good, extra),
                FORM, 400, "invalid_request",
                "invalid percent-encoding in parameter '%s'" % name)


@pytest.mark.parametrize("value", ["%FF", "a%C0%AFb", "%ED%A0%80",
                                   "%E2%82", "%F8%88%80%80%80"])
def test_invalid_utf8(http, store, app, bob, good, value):
    fields = {k: v for k, v in good.items() if k != "client_id"}
    bad_request(http, store, app, bob, "/mfa/challenge",
                form(fields, "client_id=" + value), FORM, 400,
                "invalid_request", "parameter 'client_id' is not valid UTF-8")


@pytest.mark.parametrize("value", ["a%00b", "%01", "a%0Ab", "%1F", "%7F"])
def test_control_character(http, store, app, bob, good, value):
    fields = {k: v for k, v in good.items() if k != "mfa_token"}
    bad_request(http, store, app, bob, "/mfa/challenge",
                form(fields, "mfa_token=" + value), FORM, 400,
                "invalid_request",
                "parameter 'mfa_token' contains a control character")


def test_control_character_user_id(http, store, app, bob):
    raw = form(app.post, "user_id=a%01b")
    bad_request(http, store, app, bob, "/mfa/token", raw, FORM, 400,
                "invalid_request",
                "parameter 'user_id' contains a control character")


@pytest.mark.parametrize("body", ["form", "json"])
def test_field_over_bound(http, store, app, bob, good, body):
    fields = dict(good, client_id="c" * 65)
    raw = form(fields) if body == "form" else json.dumps(fields).encode()
    bad_request(http, store, app, bob, "/mfa/challenge", raw,
                FORM if body == "form" else JSON, 400, "invalid_request",
                "parameter 'client_id' is longer than 64 bytes")


def test_field_at_bound(http, good):
    r = http.post("/mfa/challenge", raw=form(dict(good, client_id="c" * 64)),
                  content_type=FORM)
    assert_error(r, 401, "invalid_client", "Client authentication failed")


def test_unknown_fields_ignored(http, good):
    r = http.post("/mfa/challenge", content_type=FORM,
                  raw=form(good, "foo=bar&x=%FF"))
    assert assert_ok(r) == {"challenge_type": "otp"}


# ---- JSON parsing

@pytest.mark.parametrize("raw", [b'{"a":', b"{'a': 1}", b"{", b"nope",
                                 b'{"a": "\xff"}', b'{"a": 1,}',
                                 b'{"a": "b"} x'])
def test_invalid_json(http, store, app, bob, raw):
    bad_request(http, store, app, bob, "/mfa/challenge", raw, JSON, 400,
                "invalid_request", "request body is not valid JSON: ",
                prefix=True)


@pytest.mark.parametrize("raw", [b"[]", b'["a"]', b'"x"', b"1", b"true",
                                 b"null"])
def test_json_not_object(http, store, app, bob, raw):
    bad_request(http, store, app, bob, "/mfa/challenge", raw, JSON, 400,
                "invalid_request", "request body must be a JSON object")


@pytest.mark.parametrize("field, value", [
    ("mfa_token", 5), ("mfa_token", True), ("mfa_token", {"a": 1}),
    ("mfa_token", ["x"]), ("client_id", 1.5), ("client_secret", [])])
def test_json_wrong_type(http, store, app, bob, good, field, value):
    raw = json.dumps(dict(good, **{field: value})).encode()
    bad_request(http, store, app, bob, "/mfa/challenge", raw, JSON, 400,
                "invalid_request", "parameter '%s' must be a string" % field)


def test_json_unicode_escapes(http, store, app, bob, good):
    """\\u escapes decode before the checks."""
    raw = json.dumps(dict(good, mfa_token="a\u0001b")).encode()
    bad_request(http, store, app, bob, "/mfa/challenge", raw, JSON, 400,
                "invalid_request",
                "parameter 'mfa_token' contains a control character")


# ---- credentials in the query string

@pytest.mark.parametrize("query", [
    "?client_secret=x", "?mfa_token=x", "?client_assertion=x",
    "?otp=123456", "?oob_code=x", "?binding_code=123456",
    "?recovery_code=x", "?a=1&client_secret=x",
    # the name however it is spelled
    "?client%5Fsecret=x", "?client_secret", "?a=1&&client_secret=x",
    "?a=%C3%28&client_assertion=x"])
@pytest.mark.parametrize("path", ["/mfa/challenge", "/mfa/token"])
def test_credentials_in_query(http, store, app, bob, good, path, query):
    fields = good if path == "/mfa/challenge" else {"user_id": bob.id,
                                                    **app.post}
    bad_request(http, store, app, bob, path, form(fields), FORM, 400,
                "invalid_request",
                "credentials must not be sent in the query string",
                query=query)


@pytest.mark.parametrize("query", ["?client_secretx=1", "?x=client_secret",
                                   "?otp_x=1"])
def test_query_without_credentials_is_not_refused(http, good, query):
    """Only a credential's name is refused."""
    r = http.post("/mfa/challenge" + query, raw=form(good),
                  content_type=FORM)
    assert assert_ok(r) == {"challenge_type": "otp"}


def fcgi_challenge(server, body, query):
    """POST /mfa/challenge straight to the responder's socket with
    QUERY_STRING "query" as is: HTTP clients and web servers re-encode or
    refuse a bad escape before the responder could see it."""
    return fcgi_request(server.fcgi_socket(), {
        "REQUEST_METHOD": "POST", "REQUEST_URI": "/mfa/challenge?" + query,
        "SCRIPT_NAME": "/mfa/challenge", "DOCUMENT_URI": "/mfa/challenge",
        "QUERY_STRING": query, "CONTENT_TYPE": FORM,
        "CONTENT_LENGTH": str(len(body)), "SERVER_PROTOCOL": "HTTP/1.1",
        "GATEWAY_INTERFACE": "CGI/1.1", "REMOTE_ADDR": "127.0.0.1",
    }, stdin=body)


@pytest.mark.parametrize("query", [
    "a=%zz&client_secret=x", "client_secret=%zz", "%zz=1&mfa_token=x",
    "a=%&otp=123456", "a=%00&client_assertion=x"])
def test_credentials_after_a_bad_escape_in_query(server, store, http, app,
                                                  bob, good, query):
    """A pair that does not decode hides none of the pairs after it."""
    snap = Snapshot(store)
    status, headers, out = fcgi_challenge(server, form(good), query)
    assert status == 400, (status, out)
    assert json.loads(out) == {
        "error": "invalid_request",
        "error_description":
            "credentials must not be sent in the query string"}
    snap.assert_unchanged()
    assert_healthy(http, app, bob)


def test_bad_escape_alone_in_query_is_not_refused(server, good):
    status, _, out = fcgi_challenge(server, form(good), "a=%zz&b=%")
    assert (status, json.loads(out)) == (200, {"challenge_type": "otp"})


# ---- routing

@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("path", ["/nope", "/", "/mfa/nope", "/mfa"])
def test_unknown_path(http, app, bob, method, path):
    r = http.request(method, path)
    assert_error(r, 404, "not_found", "no such endpoint: " + path)
    assert_healthy(http, app, bob)


def test_unknown_path_query_not_echoed(http, app, bob):
    r = http.request("GET", "/nope?client_id=x")
    assert_error(r, 404, "not_found", "no such endpoint: /nope")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/mfa/challenge", "/mfa/token"])
def test_wrong_method(http, app, bob, method, path):
    r = http.request(method, path)
    assert_error(r, 405, "invalid_request",
                 "method %s is not allowed on %s" % (method, path))
    assert r.headers.get("Allow") == "POST"
    assert_healthy(http, app, bob)


# ---- truncated bodies

def test_truncated_body_http(server, http, app, bob, good):
    """Content-Length 100, 10 bytes, half-close. Both web servers buffer
    the body before passing the request on, so the responder never sees
    it: either the web server answers 400 itself or it drops the
    connection; if an answer is ours it is the contract's. Then the
    service still answers."""
    req = (b"POST /mfa/challenge HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Content-Type: application/x-www-form-urlencoded\r\n"
           b"Content-Length: 100\r\nConnection: close\r\n\r\n0123456789")
    status, headers, body = raw_exchange(server.port, req)
    assert status in (None, 400), (status, body)
    if status == 400 and headers.get("content-type") == JSON:
        assert json.loads(body) == {
            "error": "invalid_request",
            "error_description": "request body is shorter than "
                                 "Content-Length"}
    assert_healthy(http, app, bob)


def test_truncated_body_fastcgi(server, store, http, app, bob, good):
    """The contract's row itself, at the responder: a FastCGI request
    whose stdin ends before CONTENT_LENGTH, sent straight to the socket
    the web server uses."""
    body = form(good)
    snap = Snapshot(store)
    status, headers, out = fcgi_request(server.fcgi_socket(), {
        "REQUEST_METHOD": "POST",
        "REQUEST_URI": "/mfa/challenge",
        "SCRIPT_NAME": "/mfa/challenge",
        "DOCUMENT_URI": "/mfa/challenge",
        "QUERY_STRING": "",
        "CONTENT_TYPE": FORM,
        "CONTENT_LENGTH": str(len(body) + 100),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }, stdin=body)
    assert status == 400, (status, out)
    assert headers.get("content-type") == JSON
    assert headers.get("cache-control") == "no-store"
    assert json.loads(out) == {
        "error": "invalid_request",
        "error_description": "request body is shorter than Content-Length"}
    snap.assert_unchanged()
    assert_healthy(http, app, bob)


def test_fastcgi_direct_good_request(server, good):
    """The same direct path answers a complete request (so the row above
    tests the short body, not the FastCGI client)."""
    body = form(good)
    status, headers, out = fcgi_request(server.fcgi_socket(), {
        "REQUEST_METHOD": "POST",
        "REQUEST_URI": "/mfa/challenge",
        "SCRIPT_NAME": "/mfa/challenge",
        "DOCUMENT_URI": "/mfa/challenge",
        "QUERY_STRING": "",
        "CONTENT_TYPE": FORM,
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }, stdin=body)
    assert (status, json.loads(out)) == (200, {"challenge_type": "otp"})
