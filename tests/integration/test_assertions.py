"""JWT client assertions (RFC 7523 section 2.2 and 3, OpenID Connect Core
section 9): private_key_jwt and client_secret_jwt on /mfa/token and
/mfa/challenge, behind both web servers.

Every assertion here is made by an independent library: PyJWT
(python3-jwt) for the well-formed ones, python3-cryptography (and the
standard library's hmac) for the hand-built and tampered ones. Keys are
generated in the test's tmp directories; the service only ever sees their
public halves, registered with "mfactl client add --auth private_key_jwt".

Every rejection asserts the exact status, error and error_description
(and, through servers.assert_error, the common headers and the absence of
WWW-Authenticate when no Basic header was sent).
"""

import base64
import datetime
import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import \
    decode_dss_signature
from cryptography.x509.oid import NameOID

from servers import TOKEN43, Http, Store, assert_error, assert_ok

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# The harness does not set MFA_ISSUER: the configured default applies.
ISSUER = "http://127.0.0.1:8080/"
ISSUER_NO_SLASH = "http://127.0.0.1:8080"
ENDPOINTS = ["/mfa/token", "/mfa/challenge"]
MAX_LEN = 2048          # assertion_max_len default
FIELD_MAX = 8192        # request-level bound of client_assertion
LIFETIME = 300          # assertion_lifetime default
SKEW = 10               # assertion_skew default
SKEW_MAX = 300          # its largest value: how long past exp a jti stays
# The algorithms accepted per client (the header alg must be this one).
ALGS = ["EdDSA", "Ed25519", "RS256", "RS384", "PS256", "ES256", "HS256"]
AUTH_METHODS = ["client_secret_basic", "client_secret_post",
                "client_secret_jwt", "private_key_jwt"]

REJECTED = "Client assertion rejected: "
R_SIG = "signature does not verify"
R_MISMATCH = "alg does not match the client's registered algorithm"
R_FAMILY = "alg family does not match the client's key type"
R_UNSUPPORTED = "alg is not supported"
R_NONE = "alg none is not accepted"
R_SEGMENTS = "assertion is not a compact JWS of three segments"
R_BASE64 = "assertion segment is not base64url without padding"
R_TOO_LONG = "assertion is too long"
R_REPLAY = "jti has already been used"
R_AUD_ARRAY = "aud is not this server's issuer as a string"
R_KID = "kid does not match a registered key"
ONE_METHOD = "Client authentication must use only one method"
FAILED = "Client authentication failed"


# ------------------------------------------------------------- encoding

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64u_json(obj):
    return b64u(json.dumps(obj, separators=(",", ":")).encode())


def spki_pem(pub):
    return pub.public_bytes(ser.Encoding.PEM,
                            ser.PublicFormat.SubjectPublicKeyInfo)


def thumbprint(jwk):
    """RFC 7638: SHA-256 of the required members, sorted, no spaces."""
    req = {"OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n"),
           "EC": ("crv", "kty", "x", "y")}[jwk["kty"]]
    canon = json.dumps({k: jwk[k] for k in req}, sort_keys=True,
                       separators=(",", ":"))
    return b64u(hashlib.sha256(canon.encode()).digest())


def public_jwk(pub):
    """The public JWK of a cryptography public key."""
    if isinstance(pub, ed25519.Ed25519PublicKey):
        raw = pub.public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64u(raw)}
    if isinstance(pub, rsa.RSAPublicKey):
        n = pub.public_numbers()

        def be(i):
            return b64u(i.to_bytes((i.bit_length() + 7) // 8, "big"))
        return {"kty": "RSA", "n": be(n.n), "e": be(n.e)}
    n = pub.public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": b64u(n.x.to_bytes(32, "big")),
            "y": b64u(n.y.to_bytes(32, "big"))}


def raw_sign(key, alg, data):
    """A JWS signature (RFC 7518 section 3) of "data" with python3-
    cryptography (or hmac for HS*), for headers PyJWT will not write."""
    if alg in ("EdDSA", "Ed25519"):
        return key.sign(data)
    if alg.startswith("HS"):
        h = {"HS256": hashlib.sha256, "HS384": hashlib.sha384}[alg]
        return hmac.new(key, data, h).digest()
    h = {"256": hashes.SHA256(), "384": hashes.SHA384(),
         "512": hashes.SHA512()}[alg[2:]]
    if alg.startswith("RS"):
        return key.sign(data, padding.PKCS1v15(), h)
    if alg.startswith("PS"):
        return key.sign(data, padding.PSS(mgf=padding.MGF1(h),
                                          salt_length=h.digest_size), h)
    if alg == "ES256":
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(h)))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    raise ValueError(alg)


def hand_jws(header, claims, key, alg):
    """A compact JWS built by hand: "header" and "claims" as given,
    signed with "key" under "alg" (None: an empty signature)."""
    h = header if isinstance(header, str) else b64u_json(header)
    p = claims if isinstance(claims, str) else b64u_json(claims)
    inp = ("%s.%s" % (h, p)).encode()
    sig = b"" if alg is None else raw_sign(key, alg, inp)
    return "%s.%s.%s" % (h, p, b64u(sig))


def flip_sig_bit(token, bit=0):
    h, p, s = token.split(".")
    sig = bytearray(b64u_dec(s))
    sig[-1 - bit // 8] ^= 1 << (bit % 8)
    return "%s.%s.%s" % (h, p, b64u(bytes(sig)))


class _Drop:
    pass


DROP = _Drop()


def new_jti():
    return uuid.uuid4().hex


def make_claims(client_id, aud=ISSUER, **over):
    """Good claims for "client_id"; keyword arguments override, DROP
    removes."""
    now = int(time.time())
    c = {"iss": client_id, "sub": client_id, "iat": now,
         "exp": now + 120, "jti": new_jti()}
    for k, v in dict(over, aud=aud).items():
        if v is DROP:
            c.pop(k, None)
        else:
            c[k] = v
    return c


# --------------------------------------------------------------- keys

@dataclass
class Signer:
    """A registered client and the private half of (one of) its keys."""
    client_id: str
    alg: str                 # the header alg this client signs with
    key: object              # cryptography private key, or secret bytes
    kid: str = None
    pem: bytes = b""         # the public key as PEM (SPKI), if any
    info: dict = field(default_factory=dict)

    def claims(self, **over):
        return make_claims(self.client_id, **over)

    def sign(self, claims=None, alg=None, headers=None, **over):
        """An assertion made by PyJWT (hand-built for the header name
        "Ed25519", which PyJWT does not know)."""
        alg = alg or self.alg
        c = claims if claims is not None else self.claims(**over)
        hdr = dict(headers or {})
        if self.kid is not None and "kid" not in hdr:
            hdr["kid"] = self.kid
        if alg == "Ed25519":
            return hand_jws({"alg": "Ed25519", "typ": "JWT", **hdr}, c,
                            self.key, alg)
        return jwt.encode(c, self.key, algorithm=alg, headers=hdr or None)

    def hand(self, header=None, claims=None, alg=None, **over):
        alg = alg or self.alg
        hdr = {"alg": alg, "typ": "JWT"} if header is None else header
        c = claims if claims is not None else self.claims(**over)
        return hand_jws(hdr, c, self.key, alg)


def gen_key(kind):
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY_KIND = {"EdDSA": "ed25519", "Ed25519": "ed25519", "RS256": "rsa",
            "RS384": "rsa", "PS256": "rsa", "ES256": "p256"}


@pytest.fixture(scope="module")
def keys():
    """Private keys shared by the module (RSA generation is the slow
    part): one per algorithm, and the extra ones the format tests use."""
    k = {alg: gen_key(kind) for alg, kind in KEY_KIND.items()}
    k["cert"] = gen_key("rsa")
    k["jwk"] = gen_key("p256")
    k["jwks1"] = gen_key("ed25519")
    k["jwks2"] = gen_key("ed25519")
    k["other_ed"] = gen_key("ed25519")
    return k


def self_signed_cert(key):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mfa-test")])
    now = time.time()
    t0 = datetime.datetime.fromtimestamp(now - 3600, datetime.timezone.utc)
    t1 = datetime.datetime.fromtimestamp(now + 86400, datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(t0).not_valid_after(t1)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(ser.Encoding.PEM)


def register(store, path, name, alg, data, kid=None, auth="private_key_jwt"):
    """mfactl client add NAME --auth AUTH --alg ALG --key FILE; returns
    the JSON it printed."""
    path.write_bytes(data)
    args = ["client", "add", name, "--auth", auth, "--alg", alg,
            "--key", str(path)]
    if kid is not None:
        args += ["--kid", kid]
    return store.ctl(*args)


@pytest.fixture(scope="module")
def reg(store, keys, tmp_path_factory):
    """The clients of this module on the server's store, by name:
    one per algorithm, plus "cert" (RS256 from a PEM certificate), "jwk"
    (ES256 from a JWK with a kid), "jwks1"/"jwks2" (one EdDSA client from
    a JWKS of two keys, kids k1 and k2) and "other_ed" (another EdDSA
    client)."""
    d = tmp_path_factory.mktemp("assertion-keys")
    out = {}
    for alg in KEY_KIND:
        pem = spki_pem(keys[alg].public_key())
        c = register(store, d / (alg + ".pem"), "pk-" + alg, alg, pem)
        out[alg] = Signer(c["client_id"], alg, keys[alg], pem=pem, info=c)
    c = store.ctl("client", "add", "sj-HS256", "--auth", "client_secret_jwt")
    out["HS256"] = Signer(c["client_id"], "HS256",
                          c["client_secret"].encode(), info=c)

    c = register(store, d / "cert.pem", "pk-cert", "RS256",
                 self_signed_cert(keys["cert"]))
    out["cert"] = Signer(c["client_id"], "RS256", keys["cert"], info=c)

    jwk = dict(public_jwk(keys["jwk"].public_key()), kid="ec-1",
               alg="ES256", use="sig")
    c = register(store, d / "key.jwk", "pk-jwk", "ES256",
                 json.dumps(jwk).encode())
    out["jwk"] = Signer(c["client_id"], "ES256", keys["jwk"], info=c)

    jwks = {"keys": [dict(public_jwk(keys[n].public_key()), kid=kid,
                          alg="EdDSA")
                     for n, kid in (("jwks1", "k1"), ("jwks2", "k2"))]}
    c = register(store, d / "keys.jwks", "pk-jwks", "EdDSA",
                 json.dumps(jwks).encode())
    out["jwks1"] = Signer(c["client_id"], "EdDSA", keys["jwks1"], "k1",
                          info=c)
    out["jwks2"] = Signer(c["client_id"], "EdDSA", keys["jwks2"], "k2",
                          info=c)

    pem = spki_pem(keys["other_ed"].public_key())
    c = register(store, d / "other.pem", "pk-other", "EdDSA", pem)
    out["other_ed"] = Signer(c["client_id"], "EdDSA", keys["other_ed"],
                             pem=pem, info=c)
    return out


@pytest.fixture(scope="module")
def user(store):
    """A user with one otp authenticator."""
    uid = "assert-user-" + uuid.uuid4().hex[:8]
    store.enroll_otp(uid)
    return uid


# ---------------------------------------------------------------- HTTP

def endpoint_params(store, path, client_id, user):
    """The non-credential parameters of a good request to "path"
    (a fresh mfa_token issued to "client_id" for /mfa/challenge)."""
    if path == "/mfa/token":
        return {"user_id": user}
    t = store.issue_token(client_id, user)["mfa_token"]
    return {"mfa_token": t, "challenge_type": "otp"}


def send(http, path, assertion, params, body="form",
         assertion_type=ASSERTION_TYPE, basic=None, **extra):
    """POSTs "params" with the assertion (None: no client_assertion;
    assertion_type None: no client_assertion_type) in a form or JSON body."""
    p = dict(params)
    if assertion_type is not None:
        p["client_assertion_type"] = assertion_type
    if assertion is not None:
        p["client_assertion"] = assertion
    p.update(extra)
    if body == "json":
        return http.post(path, json_body=p, basic=basic)
    return http.post(path, form=p, basic=basic)


def assert_success(r, path):
    b = assert_ok(r)
    if path == "/mfa/token":
        assert set(b) == {"mfa_token", "expires_in", "mfa_requirements"}, b
        assert TOKEN43.match(b["mfa_token"]), b
        assert b["expires_in"] == 600, b
        assert b["mfa_requirements"] == {"challenge": [{"type": "otp"}]}, b
    else:
        assert b == {"challenge_type": "otp"}, b
    return b


def assert_rejected(r, reason):
    return assert_error(r, 401, "invalid_client", REJECTED + reason)


@pytest.fixture
def hidden(server):
    """hidden(send, reason): "send()" is refused for a reason that depends
    on the client's registration (whether it exists, how it authenticates,
    its keys and their algorithm). The answer says only R_SIG, as for any
    signature that does not verify (checklist F17); the reason is in the
    log (checked where the harness keeps it: under lighttpd; spawn-fcgi
    sends the responder's stderr to /dev/null)."""
    def check(send, reason):
        before = {f: f.stat().st_size for f in server.state.glob("*.log")}
        assert_rejected(send(), R_SIG)
        if server.kind != "lighttpd":
            return
        want = "client authentication failed (client_assertion: %s)" % reason
        deadline = time.monotonic() + 5
        while True:     # a worker writes its log lines after the reply
            new = b"".join(f.read_bytes()[before.get(f, 0):] for f in
                           sorted(server.state.glob("*.log")))
            if want.encode() in new:
                return
            assert time.monotonic() < deadline, new.decode(
                errors="replace")[-2000:]
            time.sleep(0.02)
    return check


@pytest.fixture
def go(http, store, user):
    """go(signer_or_client_id, assertion, path="/mfa/token", **kw): sends
    the assertion with good endpoint parameters for that client."""
    def run(who, assertion, path="/mfa/token", **kw):
        cid = who if isinstance(who, str) else who.client_id
        return send(http, path, assertion,
                    endpoint_params(store, path, cid, user), **kw)
    return run


# ------------------------------------------------------------ accepted

@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("alg", ALGS)
def test_accepted_per_alg_and_endpoint(reg, go, alg, path):
    s = reg[alg]
    tok = s.sign()
    assert json.loads(b64u_dec(tok.split(".")[0]))["alg"] == alg
    assert_success(go(s, tok, path), path)


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("alg", ["EdDSA", "RS256", "ES256", "HS256"])
def test_accepted_json_body_with_client_id(reg, go, alg, path):
    s = reg[alg]
    assert_success(go(s, s.sign(), path, body="json",
                      client_id=s.client_id), path)


def test_eddsa_and_ed25519_names_are_one(reg, go):
    """A client registered as EdDSA accepts the fully specified name
    Ed25519 and the reverse."""
    assert_success(go(reg["EdDSA"], reg["EdDSA"].sign(alg="Ed25519")),
                   "/mfa/token")
    assert_success(go(reg["Ed25519"], reg["Ed25519"].sign(alg="EdDSA")),
                   "/mfa/token")


def test_token_from_assertion_works_on_challenge(http, reg, user):
    """The mfa_token issued to an assertion-authenticated client is that
    client's: a second assertion spends it on /mfa/challenge."""
    s = reg["ES256"]
    b = assert_success(send(http, "/mfa/token", s.sign(),
                            {"user_id": user}), "/mfa/token")
    r = send(http, "/mfa/challenge", s.sign(),
             {"mfa_token": b["mfa_token"], "challenge_type": "otp"})
    assert_success(r, "/mfa/challenge")
    # ...and not another client's.
    o = reg["EdDSA"]
    r = send(http, "/mfa/challenge", o.sign(),
             {"mfa_token": b["mfa_token"], "challenge_type": "otp"})
    assert_error(r, 400, "invalid_request",
                 "mfa_token not issued to this client")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_accepted_audiences(reg, go, path):
    """Checklist F2 (assertion_audience = strict, the default): the issuer
    as the sole audience, a string; not in an array, not the endpoint's
    URL (audience injection: another server the client trusts could have
    named this one's endpoint as its own)."""
    s = reg["EdDSA"]
    for aud in (ISSUER, ISSUER_NO_SLASH):
        assert_success(go(s, s.sign(aud=aud), path), path)
    for aud, reason in (
            (ISSUER_NO_SLASH + path, "aud does not name this server"),
            ([ISSUER], R_AUD_ARRAY),
            (["https://elsewhere.example/", ISSUER], R_AUD_ARRAY)):
        assert_rejected(go(s, s.sign(aud=aud), path), reason)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_legacy_audiences(server_factory, keys, tmp_path, path):
    """assertion_audience = legacy: also an array holding one accepted
    value, and the endpoint's URL (this endpoint's only)."""
    srv = server_factory("lighttpd", workers=1,
                         MFA_ASSERTION_AUDIENCE="legacy")
    pem = spki_pem(keys["EdDSA"].public_key())
    c = register(srv.store, tmp_path / "ed.pem", "legacy-aud", "EdDSA", pem)
    s = Signer(c["client_id"], "EdDSA", keys["EdDSA"], pem=pem, info=c)
    uid = "legacy-aud-" + uuid.uuid4().hex[:8]
    srv.store.enroll_otp(uid)
    http = Http(srv.url)
    other = "/mfa/token" if path == "/mfa/challenge" else "/mfa/challenge"

    def go_(aud):
        return send(http, path, s.sign(aud=aud),
                    endpoint_params(srv.store, path, s.client_id, uid))
    for aud in (ISSUER, ISSUER_NO_SLASH, ISSUER_NO_SLASH + path, [ISSUER],
                ["https://elsewhere.example/", ISSUER_NO_SLASH + path]):
        assert_success(go_(aud), path)
    for aud, reason in (
            (ISSUER_NO_SLASH + other, "aud does not name this server"),
            (["https://elsewhere.example/"], "aud does not name this server"),
            ([], "aud does not name this server"),
            ([ISSUER, 1], "aud is not a string or an array of strings")):
        assert_rejected(go_(aud), reason)


def test_typ_variants_and_no_typ(reg, go):
    s = reg["EdDSA"]
    for typ in ("JWT", "jwt", "client-authentication+jwt",
                "application/client-authentication+jwt", None):
        hdr = {"alg": "EdDSA"}
        if typ is not None:
            hdr["typ"] = typ
        assert_success(go(s, s.hand(header=hdr)), "/mfa/token")


def test_time_claims_within_skew(reg, go):
    """exp just past, nbf and iat just ahead, and the longest lifetime,
    all within the 10 s of skew; no iat at all."""
    s = reg["EdDSA"]
    now = int(time.time())
    for over in ({"iat": now - 60, "exp": now - 3},
                 {"nbf": now + 3},
                 {"iat": now + 3, "exp": now + 120},
                 {"iat": now, "exp": now + LIFETIME},
                 {"iat": DROP, "exp": now + LIFETIME},
                 {"nbf": now - 5, "iat": now - 5, "exp": now + 60}):
        assert_success(go(s, s.sign(**over)), "/mfa/token")


def test_jti_of_64_characters(reg, go):
    s = reg["EdDSA"]
    jti = (uuid.uuid4().hex * 2)[:64]
    assert_success(go(s, s.sign(jti=jti)), "/mfa/token")


def test_assertion_of_max_len_is_accepted(reg, go):
    s = reg["EdDSA"]
    tok = sized_assertion(s, MAX_LEN)
    assert len(tok) == MAX_LEN
    assert_success(go(s, tok), "/mfa/token")


# ---------------------------------------------------------- key formats

def test_certificate_key(reg, go):
    s = reg["cert"]
    assert s.info["alg"] == "RS256"
    jwk = public_jwk(s.key.public_key())
    assert s.info["keys"] == [{"kid": "", "thumbprint": thumbprint(jwk),
                               "alg": "RS256"}]
    for path in ENDPOINTS:
        assert_success(go(s, s.sign(), path), path)


def test_jwk_key_with_kid(reg, go, hidden):
    s = reg["jwk"]
    jwk = public_jwk(s.key.public_key())
    tp = thumbprint(jwk)
    assert s.info["keys"] == [{"kid": "ec-1", "thumbprint": tp,
                               "alg": "ES256"}]
    # Selected by its kid, by its thumbprint, or tried without a kid.
    for kid in ("ec-1", tp, None):
        hdr = {} if kid is None else {"kid": kid}
        assert_success(go(s, s.sign(headers=hdr)), "/mfa/token")
    hidden(lambda: go(s, s.sign(headers={"kid": "ec-2"})), R_KID)


def test_pem_keys_listed_with_thumbprints(reg, store):
    for alg in KEY_KIND:
        s = reg[alg]
        shown = store.ctl("client", "show", s.client_id)
        want = {"client_id": s.client_id, "name": "pk-" + alg,
                "challenge_types": ["otp", "oob"],
                "auth_method": "private_key_jwt",
                "alg": "EdDSA" if alg == "Ed25519" else alg,
                "keys": [{"kid": "", "alg": "EdDSA" if alg == "Ed25519"
                          else alg,
                          "thumbprint": thumbprint(
                              public_jwk(s.key.public_key()))}]}
        assert {k: shown.get(k) for k in want} == want, shown
        assert "client_secret" not in shown
    hs = reg["HS256"]
    shown = store.ctl("client", "show", hs.client_id)
    assert shown["auth_method"] == "client_secret_jwt", shown
    assert shown["alg"] == "HS256", shown
    assert "client_secret" not in shown and "keys" not in shown, shown


def test_jwks_two_keys_selected_by_kid(reg, go, store, hidden):
    s1, s2 = reg["jwks1"], reg["jwks2"]
    assert s1.client_id == s2.client_id
    shown = store.ctl("client", "show", s1.client_id)
    assert shown["keys"] == [
        {"kid": "k1", "alg": "EdDSA",
         "thumbprint": thumbprint(public_jwk(s1.key.public_key()))},
        {"kid": "k2", "alg": "EdDSA",
         "thumbprint": thumbprint(public_jwk(s2.key.public_key()))}]
    for s in (s1, s2):
        assert_success(go(s, s.sign()), "/mfa/token")
        # Without a kid every key of the alg is tried.
        assert_success(go(s, hand_jws({"alg": "EdDSA"}, s.claims(),
                                      s.key, "EdDSA")), "/mfa/token")
    # Key 2's signature under kid k1: the one selected key refuses it.
    assert_rejected(go(s1, s2.sign(headers={"kid": "k1"})), R_SIG)
    hidden(lambda: go(s1, s1.sign(headers={"kid": "k3"})), R_KID)


# ------------------------------------------------------------- rotation

def test_rotation_add_key_then_rm_key(store, go, tmp_path, hidden):
    old, new = gen_key("ed25519"), gen_key("ed25519")
    c = register(store, tmp_path / "old.pem", "rotating", "EdDSA",
                 spki_pem(old.public_key()), kid="old")
    cid = c["client_id"]
    s_old = Signer(cid, "EdDSA", old, "old")
    s_new = Signer(cid, "EdDSA", new, "new")
    assert_success(go(s_old, s_old.sign()), "/mfa/token")
    hidden(lambda: go(s_new, s_new.sign()), R_KID)

    (tmp_path / "new.pem").write_bytes(spki_pem(new.public_key()))
    out = store.ctl("client", "add-key", cid, "--key",
                    str(tmp_path / "new.pem"), "--kid", "new")
    assert [k["kid"] for k in out["keys"]] == ["old", "new"], out
    for s in (s_old, s_new):
        for path in ENDPOINTS:
            assert_success(go(s, s.sign(), path), path)

    # The same key twice is refused; a third key does not fit; the last
    # key cannot go.
    p = store.run("client", "add-key", cid, "--key",
                  str(tmp_path / "new.pem"))
    assert p.returncode == 1 and "already registered" in p.stderr, p
    third = gen_key("ed25519")
    (tmp_path / "third.pem").write_bytes(spki_pem(third.public_key()))
    p = store.run("client", "add-key", cid, "--key",
                  str(tmp_path / "third.pem"))
    assert p.returncode == 1 and p.stderr.startswith("mfactl: "), p

    out = store.ctl("client", "rm-key", cid, "old")
    assert [k["kid"] for k in out["keys"]] == ["new"], out
    assert_success(go(s_new, s_new.sign()), "/mfa/token")
    hidden(lambda: go(s_old, s_old.sign()), R_KID)
    # Without a kid the remaining key is tried and refuses it.
    assert_rejected(go(s_old, hand_jws({"alg": "EdDSA"}, s_old.claims(),
                                       old, "EdDSA")), R_SIG)
    p = store.run("client", "rm-key", cid, "new")
    assert p.returncode == 1 and p.stderr.startswith("mfactl: "), p

    # rm-key by thumbprint.
    store.ctl("client", "add-key", cid, "--key", str(tmp_path / "old.pem"))
    tp_new = thumbprint(public_jwk(new.public_key()))
    out = store.ctl("client", "rm-key", cid, tp_new)
    assert [k["thumbprint"] for k in out["keys"]] == \
        [thumbprint(public_jwk(old.public_key()))], out
    # No key has a kid any more: "new" is only a hint, the remaining key
    # is tried and refuses the signature.
    assert_rejected(go(s_new, s_new.sign()), R_SIG)
    assert_success(go(s_old, hand_jws({"alg": "EdDSA"}, s_old.claims(),
                                      old, "EdDSA")), "/mfa/token")


def test_client_secret_jwt_rotate_secret(store, go, tmp_path):
    c = store.ctl("client", "add", "sj-rotating", "--auth",
                  "client_secret_jwt")
    s_old = Signer(c["client_id"], "HS256", c["client_secret"].encode())
    assert_success(go(s_old, s_old.sign()), "/mfa/token")
    out = store.ctl("client", "rotate-secret", c["client_id"])
    assert out["client_secret"] != c["client_secret"], out
    s_new = Signer(c["client_id"], "HS256", out["client_secret"].encode())
    assert_rejected(go(s_old, s_old.sign()), R_SIG)
    for path in ENDPOINTS:
        assert_success(go(s_new, s_new.sign(), path), path)


# ---------------------------------------------------- algorithm attacks

@pytest.mark.parametrize("name", ["none", "None", "NONE"])
def test_alg_none(reg, go, name):
    s = reg["RS256"]
    c = s.claims()
    if name == "none":
        tok = jwt.encode(c, None, algorithm="none")
        assert tok.endswith(".")
    else:
        tok = hand_jws({"alg": name, "typ": "JWT"}, c, None, None)
    assert_rejected(go(s, tok), R_NONE)
    # With a signature appended it is still "none".
    h, p, _ = tok.split(".")
    assert_rejected(go(s, "%s.%s.%s" % (h, p, b64u(b"\x00" * 32))), R_NONE)


def test_hs256_with_the_rsa_public_key_pem(reg, go, hidden):
    """Algorithm confusion: HS256 keyed with the RS256 client's own public
    key PEM (what a naive verifier would use as the HMAC secret)."""
    s = reg["RS256"]
    for key in (s.pem, s.pem.strip()):
        tok = hand_jws({"alg": "HS256", "typ": "JWT"}, s.claims(), key,
                       "HS256")
        hidden(lambda: go(s, tok), R_FAMILY)
    # The same against EdDSA and ES256 clients.
    for name in ("EdDSA", "ES256"):
        o = reg[name]
        tok = hand_jws({"alg": "HS256"}, o.claims(), o.pem, "HS256")
        hidden(lambda: go(o, tok), R_FAMILY)


def test_public_key_alg_against_hmac_client(reg, go, keys, hidden):
    hs = reg["HS256"]
    tok = hand_jws({"alg": "RS256"}, hs.claims(), keys["RS256"], "RS256")
    hidden(lambda: go(hs, tok), R_FAMILY)


@pytest.mark.parametrize("alg,reason", [
    ("PS256", R_MISMATCH),
    ("RS384", R_MISMATCH),
    ("RS512", R_UNSUPPORTED),
    ("PS512", R_UNSUPPORTED),
])
def test_alg_other_than_registered(reg, go, hidden, alg, reason):
    """The RS256 client's own key, correctly signed under another alg: an
    alg the service does not offer is refused as such (nothing about the
    client in that); one it offers is the client's pin, hidden."""
    s = reg["RS256"]
    tok = jwt.encode(s.claims(), s.key, algorithm=alg)
    if reason == R_MISMATCH:
        hidden(lambda: go(s, tok), reason)
    else:
        assert_rejected(go(s, tok), reason)


def test_alg_other_than_registered_other_families(reg, go, keys, hidden):
    s = reg["ES256"]
    tok = hand_jws({"alg": "EdDSA"}, s.claims(), keys["EdDSA"], "EdDSA")
    hidden(lambda: go(s, tok), R_MISMATCH)
    s = reg["EdDSA"]
    tok = hand_jws({"alg": "ES256"}, s.claims(), keys["ES256"], "ES256")
    hidden(lambda: go(s, tok), R_MISMATCH)
    # An alg JOSE does not define, and a HMAC the service does not offer.
    tok = hand_jws({"alg": "HS384"}, s.claims(), b"k" * 48, "HS384")
    assert_rejected(go(s, tok), R_UNSUPPORTED)
    tok = hand_jws({"alg": "eddsa"}, s.claims(), s.key, "EdDSA")
    assert_rejected(go(s, tok), R_UNSUPPORTED)


@pytest.mark.parametrize("alg", ALGS)
def test_flipped_signature_bit(reg, go, alg):
    s = reg[alg]
    for bit in (0, 77):
        tok = flip_sig_bit(s.sign(), bit)
        assert_rejected(go(s, tok), R_SIG)
    # The unflipped assertion (a fresh jti) is fine.
    assert_success(go(s, s.sign()), "/mfa/token")


def test_signature_of_wrong_length(reg, go, hidden):
    """The length a signature must have depends on the client's key (RSA's
    modulus): hidden."""
    for alg in ("EdDSA", "RS256", "ES256", "HS256"):
        s = reg[alg]
        h, p, sig = s.sign().split(".")
        short = "%s.%s.%s" % (h, p, b64u(b64u_dec(sig)[:-1]))
        hidden(lambda: go(s, short), "signature has the wrong length")
        empty = "%s.%s." % (h, p)
        hidden(lambda: go(s, empty), "signature has the wrong length")


def test_es256_signature_out_of_range(reg, go, hidden):
    s = reg["ES256"]
    h, p, _ = s.sign().split(".")
    n = bytes.fromhex("ffffffff00000000ffffffffffffffff"
                      "bce6faada7179e84f3b9cac2fc632551")
    for sig in (b"\x00" * 32 + b"\x01" * 32, n + b"\x01" * 32):
        hidden(lambda: go(s, "%s.%s.%s" % (h, p, b64u(sig))),
               "signature values are out of range")


def test_crit_and_jwe(reg, go):
    s = reg["EdDSA"]
    tok = s.hand(header={"alg": "EdDSA", "crit": ["exp"], "exp": 1})
    assert_rejected(go(s, tok), "crit header parameters are not supported")
    tok = s.hand(header={"alg": "EdDSA", "typ": "JOSE"})
    assert_rejected(go(s, tok),
                    "typ is not JWT or client-authentication+jwt")
    tok = s.hand(header={"alg": "EdDSA", "kid": 7})
    assert_rejected(go(s, tok), "kid is not a string")
    jwe = ".".join([b64u_json({"alg": "RSA-OAEP", "enc": "A256GCM"}),
                    b64u(b"k" * 256), b64u(b"i" * 12), b64u(b"c" * 40),
                    b64u(b"t" * 16)])
    assert_rejected(go(s, jwe),
                    "encrypted (JWE) assertions are not accepted")


def test_embedded_jwk_is_not_a_key_source(reg, go, keys):
    """A header "jwk" naming the attacker's key does not make it trusted."""
    s = reg["EdDSA"]
    evil = keys["other_ed"]
    hdr = {"alg": "EdDSA", "jwk": public_jwk(evil.public_key())}
    tok = hand_jws(hdr, s.claims(), evil, "EdDSA")
    assert_rejected(go(s, tok), R_SIG)


# --------------------------------------------------------------- claims

def test_wrong_iss(reg, go):
    s = reg["EdDSA"]
    assert_rejected(go(s, s.sign(iss=reg["other_ed"].client_id)),
                    "iss is not the client_id")
    assert_rejected(go(s, s.sign(iss=DROP)),
                    "iss is missing or not a string")
    assert_rejected(go(s, s.sign(iss=7)), "iss is missing or not a string")


def test_wrong_sub(reg, go, hidden):
    """sub names another registered client: that client's key is used,
    and the signature does not verify with it."""
    s, other = reg["EdDSA"], reg["other_ed"]
    tok = s.sign(sub=other.client_id)
    assert_rejected(go(s, tok), R_SIG)
    # Another client of another alg: the alg pin refuses it first.
    tok = s.sign(sub=reg["RS256"].client_id)
    hidden(lambda: go(s, tok), R_MISMATCH)
    tok = s.sign(sub="no-such-client")
    hidden(lambda: go(s, tok), "unknown client")
    tok = s.sign(sub=DROP)
    assert_rejected(go(s, tok), "sub is missing or not a string")


def test_wrong_aud(reg, go):
    s = reg["EdDSA"]
    for aud, reason in (
            ("https://evil.example/", "aud does not name this server"),
            ("http://127.0.0.1:8080//", "aud does not name this server"),
            ("HTTP://127.0.0.1:8080/", "aud does not name this server"),
            (ISSUER_NO_SLASH + "/mfa/challenge",
             "aud does not name this server"),
            (ISSUER + "mfa/token/", "aud does not name this server"),
            (["https://evil.example/"], R_AUD_ARRAY),
            ([], R_AUD_ARRAY),
            (DROP, "aud is missing"),
            (8080, "aud is not a string or an array of strings"),
            ([ISSUER, 1], R_AUD_ARRAY)):
        assert_rejected(go(s, s.sign(aud=aud)), reason)


def test_aud_is_per_endpoint(reg, go):
    s = reg["EdDSA"]
    r = go(s, s.sign(aud=ISSUER_NO_SLASH + "/mfa/token"), "/mfa/challenge")
    assert_rejected(r, "aud does not name this server")


def test_expired(reg, go):
    s = reg["EdDSA"]
    now = int(time.time())
    assert_rejected(go(s, s.sign(iat=now - 120, exp=now - 60)),
                    "assertion has expired")
    assert_rejected(go(s, s.sign(iat=DROP, exp=now - 30)),
                    "assertion has expired")


def test_nbf_in_the_future(reg, go):
    s = reg["EdDSA"]
    now = int(time.time())
    assert_rejected(go(s, s.sign(nbf=now + 60)),
                    "assertion is not yet valid (nbf)")


def test_iat_bounds(reg, go):
    s = reg["EdDSA"]
    now = int(time.time())
    assert_rejected(go(s, s.sign(iat=now + 60, exp=now + 120)),
                    "iat is in the future")
    assert_rejected(go(s, s.sign(iat=now - 1000, exp=now + 60)),
                    "iat is too far in the past")


def test_lifetime_over_the_limit(reg, go):
    s = reg["EdDSA"]
    now = int(time.time())
    for over in ({"iat": now, "exp": now + LIFETIME + SKEW + 30},
                 {"iat": DROP, "exp": now + 3600},
                 {"iat": now - 100, "exp": now + LIFETIME},
                 {"exp": (now + 60) * 1000}):     # milliseconds
        assert_rejected(go(s, s.sign(**over)),
                        "exp is too far in the future")


def test_claim_types(reg, go):
    s = reg["EdDSA"]
    now = int(time.time())
    assert_rejected(go(s, s.sign(exp=DROP)), "exp is missing")
    assert_rejected(go(s, s.sign(exp=str(now + 60))),
                    "exp is not an integer")
    assert_rejected(go(s, s.sign(exp=now + 60.5)), "exp is not an integer")
    assert_rejected(go(s, s.sign(nbf="0")), "nbf is not an integer")
    assert_rejected(go(s, s.sign(iat=float(now))), "iat is not an integer")


def test_jti_missing_or_bad(reg, go):
    s = reg["EdDSA"]
    assert_rejected(go(s, s.sign(jti=DROP)), "jti is missing")
    bad = "jti is not a string of 1 to 64 bytes"
    assert_rejected(go(s, s.sign(jti="j" * 65)), bad)
    assert_rejected(go(s, s.sign(jti="")), bad)
    assert_rejected(go(s, s.sign(jti=12345)), bad)


def test_same_jti_twice(reg, go):
    s = reg["EdDSA"]
    tok = s.sign()
    assert_success(go(s, tok), "/mfa/token")
    assert_rejected(go(s, tok), R_REPLAY)
    # The same jti in another, well-signed assertion: still used.
    jti = json.loads(b64u_dec(tok.split(".")[1]))["jti"]
    assert_rejected(go(s, s.sign(jti=jti, aud=ISSUER_NO_SLASH)), R_REPLAY)
    # Across the endpoints too.
    assert_rejected(go(s, tok, "/mfa/challenge"), R_REPLAY)


def test_challenge_records_jti_with_the_challenge(http, reg, go, store):
    """On /mfa/challenge the jti is recorded in the challenge's own write
    transaction: after a success it is in the jti table and the
    assertion is a replay, on this endpoint and on /mfa/token."""
    s = reg["RS256"]
    jti = "ch-" + new_jti()
    tok = s.sign(jti=jti)
    assert_success(go(s, tok, "/mfa/challenge"), "/mfa/challenge")
    marker = " %s\\00%s" % (s.client_id, jti)
    assert [ln for ln in store.lmdb_dump().splitlines()
            if ln.endswith(marker)], "jti not in the store"
    assert_rejected(go(s, tok, "/mfa/challenge"), R_REPLAY)
    assert_rejected(go(s, s.sign(jti=jti), "/mfa/challenge"), R_REPLAY)
    assert_rejected(go(s, tok), R_REPLAY)
    # a replay on a request that fails for another reason too (a bad
    # mfa_token) is still answered as the replay
    r = send(http, "/mfa/challenge", tok,
             {"mfa_token": "A" * 43, "challenge_type": "otp"})
    assert_rejected(r, R_REPLAY)


@pytest.mark.parametrize("first", ["bad mfa_token", "unsupported type"])
def test_challenge_error_answer_still_spends_jti(http, reg, store, user,
                                                 first):
    """A well-signed assertion whose request fails after client
    authentication (an unknown mfa_token, a challenge type the user has
    no authenticator for) is single-use all the same: the jti is recorded
    before the error goes back, and the replay is refused with the 401
    even though the second request is good."""
    s = reg["EdDSA"]
    tok = s.sign()
    good = endpoint_params(store, "/mfa/challenge", s.client_id, user)
    if first == "bad mfa_token":
        r = send(http, "/mfa/challenge", tok,
                 dict(good, mfa_token="A" * 43))
        assert_error(r, 400, "invalid_grant", "Malformed mfa_token")
    else:
        r = send(http, "/mfa/challenge", tok,
                 dict(good, challenge_type="oob"))
        assert_error(r, 400, "unsupported_challenge_type",
                     "No matching challenge_type. Requested: [oob]. "
                     "Available: [otp].")
    assert_rejected(send(http, "/mfa/challenge", tok, good), R_REPLAY)


def race(server, n, request):
    """Runs request(http, i) for i in 0..n-1 from n threads released at
    once (each on its own warmed keep-alive connection); the responses."""
    barrier = threading.Barrier(n)
    results = [None] * n
    errors = []

    def run(i):
        try:
            h = Http(server.url)
            # Warm a keep-alive connection so the POSTs start together.
            h.request("GET", "/.well-known/openid-configuration")
            barrier.wait(timeout=10)
            results[i] = request(h, i)
        except Exception as e:      # reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    return results


def assert_one_wins(results, path):
    """Exactly one response succeeded on "path"; the others are replays."""
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] + [401] * (len(results) - 1), \
        [(r.status_code, r.text) for r in results]
    for r in results:
        if r.status_code == 200:
            assert_success(r, path)
        else:
            assert_rejected(r, R_REPLAY)


def test_same_jti_concurrently_on_challenge(server, reg, store, user):
    """One assertion sent by 8 threads at once to /mfa/challenge (each
    with its own mfa_token): exactly one challenge is created."""
    s = reg["RS256"]
    tok = s.sign()
    n = 8
    params = [endpoint_params(store, "/mfa/challenge", s.client_id, user)
              for _ in range(n)]
    results = race(server, n, lambda h, i: send(h, "/mfa/challenge", tok,
                                                params[i]))
    assert_one_wins(results, "/mfa/challenge")


def test_jti_is_per_client(reg, go):
    jti = new_jti()
    for name in ("EdDSA", "other_ed", "HS256"):
        s = reg[name]
        assert_success(go(s, s.sign(jti=jti)), "/mfa/token")


def test_rejected_assertion_does_not_spend_its_jti(reg, go):
    s = reg["EdDSA"]
    jti = new_jti()
    assert_rejected(go(s, s.sign(jti=jti, aud="https://evil.example/")),
                    "aud does not name this server")
    assert_rejected(go(s, flip_sig_bit(s.sign(jti=jti))), R_SIG)
    assert_success(go(s, s.sign(jti=jti)), "/mfa/token")
    assert_rejected(go(s, s.sign(jti=jti)), R_REPLAY)


def test_jti_table_is_swept(reg, go, store, tmp_path):
    """The jti is kept (LMDB "jti" table) until exp plus the largest skew a
    configuration allows (300 s), not the current one (10 s): a reload
    that raised assertion_skew must not make it usable again. Refused as a
    replay while valid, then as expired; the sweep keeps it until that
    time and removes it after (time moved with the test-clock mfactl)."""
    s = reg["EdDSA"]
    now = int(time.time())
    exp = now - 7                 # valid for 3 more seconds (skew 10 s)
    jti = "sweep-" + new_jti()
    tok = s.sign(iat=now - 60, exp=exp, jti=jti)
    assert_success(go(s, tok), "/mfa/token")
    marker = " %s\\00%s" % (s.client_id, jti)

    def stored():
        return [ln for ln in store.lmdb_dump().splitlines()
                if ln.endswith(marker)]

    def sweep_at(t):
        return store.sweep_ahead((t - time.time()) * 1000,
                                 tmp_path / "clock")
    assert stored(), "jti not in the store"
    assert_rejected(go(s, tok), R_REPLAY)
    time.sleep(max(0.0, exp + SKEW + 1.5 - time.time()))
    assert_rejected(go(s, tok), "assertion has expired")
    assert isinstance(sweep_at(exp + SKEW_MAX - 5).get("deleted"), int)
    assert stored(), "swept before exp + 300 s"
    assert sweep_at(exp + SKEW_MAX + 5)["deleted"] >= 1
    assert stored() == []


def test_same_jti_concurrently(server, reg, user):
    """One assertion sent by 8 threads at once to a server with 3
    workers: the LMDB jti table lets exactly one through."""
    s = reg["ES256"]
    tok = s.sign()
    n = 8
    results = race(server, n, lambda h, i: send(h, "/mfa/token", tok,
                                                {"user_id": user}))
    assert_one_wins(results, "/mfa/token")


# ------------------------------------------------------ size and syntax

def sized_assertion(s, target):
    """A valid EdDSA assertion of exactly "target" bytes (a padding
    claim; the header's typ varies the length modulo 4)."""
    claims = s.claims()
    for typ in (None, "JWT", "client-authentication+jwt"):
        hdr = {"alg": "EdDSA"}
        if typ:
            hdr["typ"] = typ
        base = len(hand_jws(hdr, dict(claims, pad=""), s.key, "EdDSA"))
        if base > target:
            continue
        for n in range(max(0, (target - base) * 3 // 4 - 4),
                       (target - base) * 3 // 4 + 8):
            tok = hand_jws(hdr, dict(claims, pad="x" * n), s.key, "EdDSA")
            if len(tok) == target:
                return tok
    raise AssertionError("cannot make an assertion of %d bytes" % target)


@pytest.mark.parametrize("body", ["form", "json"])
def test_oversized_assertion(reg, go, body):
    s = reg["EdDSA"]
    for size in (MAX_LEN + 1, 4096, FIELD_MAX):
        tok = sized_assertion(s, size)
        assert_rejected(go(s, tok, body=body), R_TOO_LONG)
    for size in (FIELD_MAX + 1, 20000):
        tok = sized_assertion(s, size)
        assert_error(go(s, tok, body=body), 400, "invalid_request",
                     "parameter 'client_assertion' is longer than "
                     "8192 bytes")


def test_malformed_base64url(reg, go):
    s = reg["EdDSA"]
    h, p, sig = s.sign().split(".")
    for tok in ("%s=.%s.%s" % (h, p, sig),           # padding
                "%s.%s==.%s" % (h, p, sig),
                "%s.%s.%s=" % (h, p, sig),
                "%s.%s.%s" % (h.replace("J", "+", 1), p, sig),
                "%s.%s.%s" % (h, p[:10] + "/" + p[11:], sig),
                "%s.%s.%s" % (h, p[:10] + "!" + p[11:], sig),
                "%s.%s.%s" % (h, p, sig[:10] + "*" + sig[11:]),
                "%s.%s %s.%s" % (h, p[:5], p[5:], sig),
                "%s.%s.%s" % (h, p, sig[:-1])):      # 85 chars: bad bits
        assert_rejected(go(s, tok), R_BASE64)


def test_non_json_header_and_payload(reg, go):
    s = reg["EdDSA"]
    c = s.claims()
    for hdr in (b64u(b"not json"), b64u(b'["alg","EdDSA"]'),
                b64u(b'{"alg":"EdDSA","alg":"EdDSA"}'), b64u(b"\xff\xfe"),
                b64u(b'{"alg":"EdDSA"'), ""):
        tok = hand_jws(hdr, c, s.key, "EdDSA")
        assert_rejected(go(s, tok), "header is not a JSON object")
    hdr = b64u_json({"alg": "EdDSA"})
    for pl in (b64u(b"not json"), b64u(b"[1,2]"), b64u(b'"claims"'),
               b64u(b'{"jti":"a","jti":"b"}'), ""):
        tok = hand_jws(hdr, pl, s.key, "EdDSA")
        assert_rejected(go(s, tok), "payload is not a JSON object")
    tok = hand_jws(b64u_json({"typ": "JWT"}), c, s.key, "EdDSA")
    assert_rejected(go(s, tok), "alg is missing or not a string")


def test_wrong_segment_count(reg, go):
    s = reg["EdDSA"]
    h, p, sig = s.sign().split(".")
    for tok in (h, "%s.%s" % (h, p), "%s.%s.%s.%s" % (h, p, sig, sig),
                "%s..%s.%s" % (h, p, sig), "abc", "...."[:1]):
        assert_rejected(go(s, tok), R_SEGMENTS)


# ------------------------------------------------------- wire mistakes

def test_client_id_different_from_sub(reg, go):
    s = reg["EdDSA"]
    for cid in (reg["other_ed"].client_id, "nobody"):
        r = go(s, s.sign(), client_id=cid)
        assert_rejected(r, "client_id does not match the assertion's sub")
        r = go(s, s.sign(), body="json", client_id=cid)
        assert_rejected(r, "client_id does not match the assertion's sub")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_assertion_plus_secret(reg, go, app, path):
    s = reg["EdDSA"]
    for extra in ({"client_secret": "whatever"},
                  {"client_id": s.client_id, "client_secret": "whatever"},
                  {"client_id": app.id, "client_secret": app.secret}):
        r = go(s, s.sign(), path, **extra)
        assert_error(r, 400, "invalid_request", ONE_METHOD)
    r = go(s, s.sign(), path, body="json", client_secret=app.secret)
    assert_error(r, 400, "invalid_request", ONE_METHOD)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_assertion_plus_basic(reg, go, app, path):
    s = reg["EdDSA"]
    for basic in (app.basic, (s.client_id, "x")):
        r = go(s, s.sign(), path, basic=basic)
        assert_error(r, 400, "invalid_request", ONE_METHOD)
    # The assertion's type alone with Basic is an assertion too.
    r = go(s, None, path, basic=app.basic)
    assert_error(r, 400, "invalid_request", ONE_METHOD)


def test_assertion_type_wrong_or_missing(reg, go):
    s = reg["EdDSA"]
    must = "client_assertion_type must be " + ASSERTION_TYPE
    for t in ("urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
              ASSERTION_TYPE.upper(), ASSERTION_TYPE + " ", "jwt-bearer"):
        assert_error(go(s, s.sign(), assertion_type=t), 400,
                     "invalid_request", must)
    assert_error(go(s, s.sign(), assertion_type=None), 400,
                 "invalid_request",
                 "Missing required parameter: client_assertion_type")
    assert_error(go(s, None), 400, "invalid_request",
                 "Missing required parameter: client_assertion")
    assert_error(go(s, s.sign() + "\n"), 400, "invalid_request",
                 "parameter 'client_assertion' contains a control "
                 "character")
    # An empty value is an absent one (RFC 6749 section 3.1).
    assert_error(go(s, ""), 400, "invalid_request",
                 "Missing required parameter: client_assertion")
    assert_error(go(s, s.sign(), body="json", assertion_type=None), 400,
                 "invalid_request",
                 "Missing required parameter: client_assertion_type")


def test_assertion_wrong_json_type(reg, go):
    s = reg["EdDSA"]
    r = go(s, [s.sign()], body="json")
    assert_error(r, 400, "invalid_request",
                 "parameter 'client_assertion' must be a string")


def test_assertion_in_query_string(http, reg, user):
    s = reg["EdDSA"]
    r = http.request("POST", "/mfa/token?client_assertion=" + s.sign(),
                     data={"user_id": user,
                           "client_assertion_type": ASSERTION_TYPE})
    assert_error(r, 400, "invalid_request",
                 "credentials must not be sent in the query string")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_secret_client_presenting_an_assertion(http, store, user, app,
                                               path, hidden):
    """A client_secret_basic client signs HS256 with its own secret: it is
    not registered for assertions (hidden: how a client authenticates is
    its registration's business)."""
    tok = jwt.encode(make_claims(app.id), app.secret.encode(),
                     algorithm="HS256")
    hidden(lambda: send(http, path, tok,
                        endpoint_params(store, path, app.id, user)),
           "the client is not registered for client assertions")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_jwt_clients_presenting_a_secret(http, store, user, reg, path):
    """A private_key_jwt client has no secret; a client_secret_jwt
    client's secret is an HMAC key, not a password to send."""
    for s, secret in ((reg["EdDSA"], "anything"),
                      (reg["HS256"], reg["HS256"].key.decode())):
        params = endpoint_params(store, path, s.client_id, user)
        r = http.post(path, form=dict(params, client_id=s.client_id,
                                      client_secret=secret))
        assert_error(r, 401, "invalid_client", FAILED)
        r = http.post(path, form=params, basic=(s.client_id, secret))
        assert_error(r, 401, "invalid_client", FAILED)
        assert r.headers["WWW-Authenticate"] == \
            'Basic realm="mfa", charset="UTF-8"'


def test_hs256_client_wrong_secret(reg, go, app):
    s = reg["HS256"]
    tok = jwt.encode(s.claims(), app.secret.encode(), algorithm="HS256")
    assert_rejected(go(s, tok), R_SIG)


# ------------------------------------------------------------ discovery

def test_discovery_lists_methods_and_algs(http):
    r = http.request("GET", "/.well-known/openid-configuration")
    b = assert_ok(r)
    assert b["issuer"] == ISSUER, b
    assert b["mfa_challenge_endpoint"] == ISSUER_NO_SLASH + \
        "/mfa/challenge", b
    assert sorted(b["token_endpoint_auth_methods_supported"]) == \
        sorted(AUTH_METHODS), b
    assert sorted(b["token_endpoint_auth_signing_alg_values_supported"]) \
        == sorted(ALGS), b
    assert "none" not in b["token_endpoint_auth_signing_alg_values_supported"]


# ------------------------------------------------ registration refusals

@pytest.fixture(scope="module")
def lone_store(tmp_path_factory):
    """A store of its own (no server): what mfactl refuses to register."""
    return Store.create(tmp_path_factory.mktemp("assert-reg") / "store")


def _refused(store, *args):
    p = store.run(*args)
    assert p.returncode in (1, 2), (p.returncode, p.stdout, p.stderr)
    assert p.stderr.startswith("mfactl: "), p.stderr
    assert p.stdout == "", p.stdout
    return p


def test_registration_refusals(lone_store, tmp_path, keys):
    st = lone_store
    ed = keys["EdDSA"]
    priv = tmp_path / "priv.pem"
    priv.write_bytes(ed.private_bytes(ser.Encoding.PEM,
                                      ser.PrivateFormat.PKCS8,
                                      ser.NoEncryption()))
    pub = tmp_path / "ed.pem"
    pub.write_bytes(spki_pem(ed.public_key()))
    small = tmp_path / "rsa1024.pem"
    small.write_bytes(spki_pem(rsa.generate_private_key(
        public_exponent=65537, key_size=1024).public_key()))
    three = tmp_path / "three.jwks"
    three.write_text(json.dumps({"keys": [
        dict(public_jwk(gen_key("ed25519").public_key()), kid="k%d" % i)
        for i in range(3)]}))
    dkey = tmp_path / "d.jwk"
    dkey.write_text(json.dumps(dict(public_jwk(ed.public_key()),
                                    d=b64u(b"\x01" * 32))))
    add = ("client", "add", "x", "--auth", "private_key_jwt")
    _refused(st, *add, "--alg", "EdDSA", "--key", str(priv))
    _refused(st, *add, "--alg", "RS256", "--key", str(pub))
    _refused(st, *add, "--alg", "RS256", "--key", str(small))
    _refused(st, *add, "--alg", "EdDSA", "--key", str(three))
    _refused(st, *add, "--alg", "EdDSA", "--key", str(dkey))
    _refused(st, *add, "--alg", "none", "--key", str(pub))
    _refused(st, *add, "--alg", "HS256", "--key", str(pub))
    _refused(st, *add, "--alg", "EdDSA")
    _refused(st, "client", "add", "x", "--auth", "client_secret_jwt",
             "--key", str(pub))
    assert st.ctl("client", "list")["clients"] == []
    # The one that is right goes in.
    c = st.ctl(*add, "--alg", "EdDSA", "--key", str(pub))
    assert c["auth_method"] == "private_key_jwt" and c["alg"] == "EdDSA"
    assert "client_secret" not in c
    p = st.run("client", "rotate-secret", c["client_id"])
    assert p.returncode == 1 and p.stderr.startswith("mfactl: "), p
