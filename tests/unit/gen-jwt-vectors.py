#!/usr/bin/python3
"""gen-jwt-vectors.py -- fixtures for tests/unit/test-jwt.c.

Usage: /usr/bin/python3 tests/unit/gen-jwt-vectors.py OUT.h

Every run generates fresh keys with python3-cryptography and signs the
assertions with PyJWT (Debian's python3-jwt) or, where PyJWT refuses to
make a hostile token (alg "none", HS256 keyed with a PEM, broken base64,
duplicate names, ...), with python3-cryptography and hmac directly. The C
code under test never makes a token or a key. The output is a C header of
string literals and byte arrays; it lives under build/ and is never
committed.

Claims use a fixed clock (FX_NOW) so the tests do not depend on the time.
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import sys
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature, encode_dss_signature)
from cryptography.x509.oid import NameOID

NOW = 1700000000
CLIENT = "client-1"
ISSUER = "https://mfa.example.com/"
ENDPOINT = "https://mfa.example.com/oauth/token"
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def compact(o):
    return json.dumps(o, separators=(",", ":")).encode()


def uint(n, size=None):
    if size is None:
        size = max(1, (n.bit_length() + 7) // 8)
    return n.to_bytes(size, "big")


# ---- keys -----------------------------------------------------------------

ed = ed25519.Ed25519PrivateKey.generate()
ed_atk = ed25519.Ed25519PrivateKey.generate()
rsa1 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
rsa2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
rsa4k = rsa.generate_private_key(public_exponent=65537, key_size=4096)
rsa1k = rsa.generate_private_key(public_exponent=65537, key_size=1024)
ec1 = ec.generate_private_key(ec.SECP256R1())
ec384 = ec.generate_private_key(ec.SECP384R1())
hs = os.urandom(32)
hs16 = os.urandom(16)


def pem(priv):
    return priv.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def der(priv):
    return priv.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)


def cert(priv, hash_alg):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CLIENT)])
    t0 = datetime.datetime(2023, 1, 1)
    c = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
         .public_key(priv.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(t0)
         .not_valid_after(t0 + datetime.timedelta(days=3650))
         .sign(priv, hash_alg))
    return c.public_bytes(serialization.Encoding.PEM).decode()


def members(priv):
    """RFC 7638 required members of the public key."""
    pub = priv.public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        nums = pub.public_numbers()
        return {"kty": "RSA", "n": b64(uint(nums.n)), "e": b64(uint(nums.e))}
    if isinstance(pub, ec.EllipticCurvePublicKey):
        nums = pub.public_numbers()
        size = (pub.curve.key_size + 7) // 8
        crv = {256: "P-256", 384: "P-384"}[pub.curve.key_size]
        return {"kty": "EC", "crv": crv, "x": b64(uint(nums.x, size)),
                "y": b64(uint(nums.y, size))}
    raw = pub.public_bytes(serialization.Encoding.Raw,
                           serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}


def canonical(o):
    return json.dumps(o, separators=(",", ":"), sort_keys=True)


def thumbprint(priv):
    return b64(hashlib.sha256(canonical(members(priv)).encode()).digest())


def jwk(priv, **extra):
    o = members(priv)
    o.update(extra)
    return json.dumps(o)


# ---- signing (independent of the code under test) -------------------------

def sign(alg, key, msg):
    if alg in ("EdDSA", "Ed25519"):
        return key.sign(msg)
    if alg in ("RS256", "RS384", "RS512"):
        h = {"RS256": hashes.SHA256, "RS384": hashes.SHA384,
             "RS512": hashes.SHA512}[alg]()
        return key.sign(msg, padding.PKCS1v15(), h)
    if alg == "PS256":
        return key.sign(msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                         salt_length=32), hashes.SHA256())
    if alg == "ES256":
        r, s = decode_dss_signature(key.sign(msg, ec.ECDSA(hashes.SHA256())))
        return uint(r, 32) + uint(s, 32)
    if alg == "HS256":
        return hmac.new(key, msg, hashlib.sha256).digest()
    raise ValueError(alg)


DROP = object()  # claims(name=DROP) leaves the claim out


def claims(**kw):
    c = {"iss": CLIENT, "sub": CLIENT, "aud": ISSUER, "iat": NOW,
         "exp": NOW + 120, "jti": uuid.uuid4().hex}
    for k, v in kw.items():
        if v is DROP:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def make(header, payload, alg, key, raw_header=None, raw_payload=None):
    """A compact JWS signed with python3-cryptography / hmac."""
    h = b64(raw_header if raw_header is not None else compact(header))
    p = b64(raw_payload if raw_payload is not None else compact(payload))
    si = (h + "." + p).encode()
    return h + "." + p + "." + b64(sign(alg, key, si))


def pyjwt(alg, key, payload=None, headers=None):
    """A compact JWS signed by PyJWT."""
    return jwt.encode(payload if payload is not None else claims(), key,
                      algorithm=alg, headers=headers)


def with_sig(tok, sig):
    h, p, _ = tok.split(".")
    return h + "." + p + "." + b64(sig)


def sig_of(tok):
    return b64d(tok.split(".")[2])


def flip(tok):
    s = bytearray(sig_of(tok))
    s[10] ^= 0x01
    return with_sig(tok, bytes(s))


T = {}

# valid, one per algorithm (PyJWT) and both EdDSA names
T["OK_EDDSA"] = pyjwt("EdDSA", ed)
T["OK_ED25519_NAME"] = make({"alg": "Ed25519", "typ": "JWT"}, claims(),
                            "Ed25519", ed)
T["OK_RS256"] = pyjwt("RS256", rsa1)
T["OK_RS384"] = pyjwt("RS384", rsa1)
T["OK_PS256"] = pyjwt("PS256", rsa1)
T["OK_ES256"] = pyjwt("ES256", ec1)
T["OK_HS256"] = pyjwt("HS256", hs)
T["OK_RS256_4096"] = pyjwt("RS256", rsa4k)

# typ (F16)
T["TYP_CLIENT_AUTH"] = pyjwt("EdDSA", ed,
                             headers={"typ": "client-authentication+jwt"})
T["TYP_APP_CLIENT_AUTH"] = pyjwt(
    "EdDSA", ed, headers={"typ": "application/client-authentication+jwt"})
T["TYP_LOWER"] = pyjwt("EdDSA", ed, headers={"typ": "jwt"})
T["TYP_ABSENT"] = pyjwt("EdDSA", ed, headers={"typ": None})
T["TYP_AT_JWT"] = pyjwt("EdDSA", ed, headers={"typ": "at+jwt"})
T["TYP_INT"] = make({"alg": "EdDSA", "typ": 1}, claims(), "EdDSA", ed)

# alg none in every spelling (F8 a-c)
for name, a in (("NONE_LOWER", "none"), ("NONE_CAP", "None"),
                ("NONE_UPPER", "NONE"), ("NONE_MIXED", "nOnE")):
    h = b64(compact({"alg": a, "typ": "JWT"}))
    T[name] = h + "." + b64(compact(claims())) + "."
T["NONE_GARBAGE_SIG"] = T["NONE_LOWER"] + b64(b"garbage signature")

# algorithm confusion (F8 d-f, F9)
T["HS256_RSA_PEM"] = make({"alg": "HS256", "typ": "JWT"}, claims(), "HS256",
                          pem(rsa1).encode())
T["HS256_RSA_DER"] = make({"alg": "HS256", "typ": "JWT"}, claims(), "HS256",
                          der(rsa1))
T["HS256_EMPTY_KEY"] = make({"alg": "HS256"}, claims(), "HS256", b"")
T["RS512_RSA"] = make({"alg": "RS512", "typ": "JWT"}, claims(), "RS512",
                      rsa1)
T["RS256_BY_OTHER_KEY"] = pyjwt("RS256", rsa2)
T["EDDSA_BY_OTHER_KEY"] = pyjwt("EdDSA", ed_atk)

# ES256 signature form and range (F10)
es_sig = sig_of(T["OK_ES256"])
r, s = int.from_bytes(es_sig[:32], "big"), int.from_bytes(es_sig[32:], "big")
T["ES256_SIG_63"] = with_sig(T["OK_ES256"], es_sig[:63])
T["ES256_SIG_65"] = with_sig(T["OK_ES256"], es_sig + b"\x00")
T["ES256_SIG_DER"] = with_sig(T["OK_ES256"], encode_dss_signature(r, s))
T["ES256_SIG_ZERO"] = with_sig(T["OK_ES256"], bytes(64))
T["ES256_R_IS_N"] = with_sig(T["OK_ES256"], uint(P256_N, 32) + es_sig[32:])
T["ES256_S_IS_N"] = with_sig(T["OK_ES256"], es_sig[:32] + uint(P256_N, 32))
T["ES256_S_ZERO"] = with_sig(T["OK_ES256"], es_sig[:32] + bytes(32))

# one flipped bit per algorithm, a swapped payload, short signatures
for a in ("EDDSA", "RS256", "RS384", "PS256", "ES256", "HS256"):
    T["FLIP_" + a] = flip(T["OK_" + a])
other = pyjwt("RS256", rsa1, claims(sub="client-2", iss="client-2"))
T["PAYLOAD_SWAPPED"] = (other.rsplit(".", 1)[0] + "." +
                        T["OK_RS256"].split(".")[2])
T["RS256_SIG_SHORT"] = with_sig(T["OK_RS256"], sig_of(T["OK_RS256"])[:-1])
T["RS256_SIG_EMPTY"] = T["OK_RS256"].rsplit(".", 1)[0] + "."
T["EDDSA_SIG_63"] = with_sig(T["OK_EDDSA"], sig_of(T["OK_EDDSA"])[:63])
T["HS256_SIG_31"] = with_sig(T["OK_HS256"], sig_of(T["OK_HS256"])[:31])
T["SIG_TOO_LONG"] = with_sig(T["OK_RS256"], os.urandom(600))

# PS256 parameters are fixed (RFC 7518 §3.5): salt = hash length, MGF1
# with the same hash; RS256 means SHA-256
def pss(tok_claims, salt, mgf_hash):
    h = b64(compact({"alg": "PS256"}))
    p = b64(compact(tok_claims))
    sig = rsa1.sign((h + "." + p).encode(),
                    padding.PSS(mgf=padding.MGF1(mgf_hash), salt_length=salt),
                    hashes.SHA256())
    return h + "." + p + "." + b64(sig)


T["PS256_SALT_0"] = pss(claims(), 0, hashes.SHA256())
T["PS256_SALT_MAX"] = pss(claims(), padding.PSS.MAX_LENGTH, hashes.SHA256())
T["PS256_MGF1_SHA1"] = pss(claims(), 32, hashes.SHA1())
T["RS256_SIGNED_SHA384"] = with_sig(
    T["OK_RS256"], rsa1.sign(T["OK_RS256"].rsplit(".", 1)[0].encode(),
                             padding.PKCS1v15(), hashes.SHA384()))

# HS256 with a 16-byte secret
T["HS256_SHORT_SECRET"] = make({"alg": "HS256"}, claims(), "HS256", hs16)

# kid selection among two registered keys (k1 = rsa1, k2 = rsa2)
T["KID_K1"] = pyjwt("RS256", rsa1, headers={"kid": "k1"})
T["KID_K2"] = pyjwt("RS256", rsa2, headers={"kid": "k2"})
T["NOKID_RSA2"] = pyjwt("RS256", rsa2)
T["KID_K1_BY_RSA2"] = pyjwt("RS256", rsa2, headers={"kid": "k1"})
T["KID_THUMBPRINT"] = pyjwt("RS256", rsa1, headers={"kid": thumbprint(rsa1)})
T["KID_UNKNOWN"] = pyjwt("RS256", rsa1, headers={"kid": "k3"})
T["KID_DOTDOT"] = pyjwt("RS256", rsa1, headers={"kid": "../../k1"})
T["KID_QUOTE"] = pyjwt("RS256", rsa1, headers={"kid": "k1' OR '1'='1"})
T["KID_NUL"] = pyjwt("RS256", rsa1, headers={"kid": "k1\u0000"})
T["KID_LONG"] = pyjwt("RS256", rsa1, headers={"kid": "k" * 300})
T["KID_INT"] = make({"alg": "RS256", "kid": 1}, claims(), "RS256", rsa1)

# header keys are never used (F12)
atk_jwk = json.loads(jwk(ed_atk))
T["HEADER_JWK_IGNORED"] = make(
    {"alg": "EdDSA", "jwk": atk_jwk, "jku": "https://evil.example/jwks",
     "x5u": "https://evil.example/cert", "x5c": ["AAAA"]},
    claims(), "EdDSA", ed)
T["HEADER_JWK_ATTACKER"] = make({"alg": "EdDSA", "jwk": atk_jwk}, claims(),
                                "EdDSA", ed_atk)

# crit (F14)
T["CRIT_EXP"] = make({"alg": "RS256", "crit": ["exp"], "exp": NOW + 60},
                     claims(), "RS256", rsa1)
T["CRIT_FOO"] = make({"alg": "RS256", "crit": ["foo"], "foo": 1}, claims(),
                     "RS256", rsa1)
T["CRIT_EMPTY"] = make({"alg": "RS256", "crit": []}, claims(), "RS256", rsa1)

# duplicate names (F13)
c = claims()
dup = ('{"iss":"%s","sub":"client-2","sub":"%s","aud":"%s","iat":%d,'
       '"exp":%d,"jti":"%s"}' % (CLIENT, CLIENT, ISSUER, c["iat"], c["exp"],
                                 c["jti"])).encode()
T["DUP_CLAIM"] = make(None, None, "EdDSA", ed,
                      raw_header=compact({"alg": "EdDSA"}), raw_payload=dup)
T["DUP_HEADER_ALG"] = make(None, claims(), "EdDSA", ed,
                           raw_header=b'{"alg":"EdDSA","alg":"EdDSA"}')

# segment counts
h, p, s = T["OK_RS256"].split(".")
T["NO_DOTS"] = h + p + s
T["ONE_DOT"] = h + "." + p
T["THREE_DOTS"] = T["OK_RS256"] + "." + s
T["FIVE_DOTS"] = T["OK_RS256"] + "." + s + "." + s + "." + s
T["JWE"] = ".".join([b64(compact({"alg": "RSA-OAEP", "enc": "A256GCM"})),
                     b64(os.urandom(256)), b64(os.urandom(12)),
                     b64(os.urandom(64)), b64(os.urandom(16))])
T["DOTS_ONLY"] = ".."
T["EMPTY_HEADER"] = "." + p + "." + s
T["EMPTY_PAYLOAD"] = h + ".." + s

# base64url strictness (F13)
es_h, es_p, es_s = T["OK_ES256"].split(".")
T["B64_HEADER_PAD"] = h + "=." + p + "." + s
T["B64_SIG_PAD"] = es_h + "." + es_p + "." + es_s + "=="
T["B64_PAYLOAD_PLUS"] = h + "." + p[:7] + "+" + p[8:] + "." + s
T["B64_PAYLOAD_SLASH"] = h + "." + p[:7] + "/" + p[8:] + "." + s
T["B64_HEADER_SPACE"] = h[:5] + " " + h[5:] + "." + p + "." + s
T["B64_SIG_NEWLINE"] = T["OK_RS256"] + "\n"
# 64 bytes encode to 86 characters: the last one carries 4 zero bits
alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
            "0123456789-_")
last = alphabet.index(es_s[-1])
T["B64_TRAILING_BITS"] = (es_h + "." + es_p + "." + es_s[:-1] +
                          alphabet[last | 0x01])
hh = h
while len(hh) % 4 != 1:
    hh += "A"
T["B64_HEADER_LEN_MOD4"] = hh + "." + p + "." + s
T["B64_PAYLOAD_NON_ASCII"] = h + "." + p[:3] + "\u00e9" + p[3:] + "." + s

# header and payload contents
def raw_h(raw, alg="RS256", key=rsa1):
    return make(None, claims(), alg, key, raw_header=raw)


T["HEADER_NOT_JSON"] = raw_h(b"hello")
T["HEADER_ARRAY"] = raw_h(b'["alg","RS256"]')
T["HEADER_BAD_UTF8"] = raw_h(b'{"alg":"RS256","x":"\xff\xfe"}')
T["ALG_INT"] = raw_h(b'{"alg":256}')
T["ALG_MISSING"] = raw_h(b'{"typ":"JWT"}')
T["ALG_NULL"] = raw_h(b'{"alg":null}')
T["ALG_17"] = raw_h(b'{"alg":"RS256RS256RS256RS"}')
T["ALG_LOWER"] = raw_h(b'{"alg":"rs256"}')
T["ALG_ES256K"] = raw_h(b'{"alg":"ES256K"}')
T["PAYLOAD_ARRAY"] = make({"alg": "EdDSA"}, None, "EdDSA", ed,
                          raw_payload=b"[1,2]")
T["PAYLOAD_NOT_JSON"] = make({"alg": "EdDSA"}, None, "EdDSA", ed,
                             raw_payload=b"exp=1")
T["PAYLOAD_BAD_UTF8"] = make({"alg": "EdDSA"}, None, "EdDSA", ed,
                             raw_payload=b'{"sub":"\xc3\x28"}')

# size and nesting (F15)
T["OVERSIZED"] = pyjwt("EdDSA", ed, claims(pad="x" * 1600))
T["NEST_OK"] = make(
    {"alg": "EdDSA"}, None, "EdDSA", ed,
    raw_payload=compact(claims())[:-1] + b',"n":' + b"[" * 40 + b"]" * 40 +
    b"}")
T["NEST_DEEP_PAYLOAD"] = make(
    {"alg": "EdDSA"}, None, "EdDSA", ed,
    raw_payload=compact(claims())[:-1] + b',"n":' + b"[" * 10000 +
    b"]" * 10000 + b"}")
T["NEST_DEEP_HEADER"] = make(
    None, claims(), "EdDSA", ed,
    raw_header=b'{"alg":"EdDSA","n":' + b"{\"a\":" * 10000 + b"1" +
    b"}" * 10000 + b"}")

# claims through the whole path (skew 10 s, lifetime 300 s)
def ed_claims(**kw):
    return pyjwt("EdDSA", ed, claims(**kw))


T["C_EXP_AT_SKEW_EDGE"] = ed_claims(exp=NOW - 10, iat=NOW - 100)
T["C_EXP_INSIDE_SKEW"] = ed_claims(exp=NOW - 9, iat=NOW - 100)
T["C_EXP_MS"] = ed_claims(exp=NOW * 1000)
T["C_LIFETIME_EDGE_OK"] = ed_claims(exp=NOW + 310)
T["C_LIFETIME_OVER"] = ed_claims(exp=NOW + 311)
T["C_NBF_EDGE_OK"] = ed_claims(nbf=NOW + 10)
T["C_NBF_FUTURE"] = ed_claims(nbf=NOW + 11)
T["C_IAT_FUTURE"] = ed_claims(iat=NOW + 11)
T["C_NO_EXP"] = ed_claims(exp=DROP)
T["C_EXP_STRING"] = ed_claims(exp=str(NOW + 60))
T["C_EXP_REAL"] = ed_claims(exp=float(NOW + 60))
T["C_EXP_HUGE_INT"] = make({"alg": "EdDSA"}, None, "EdDSA", ed,
                           raw_payload=compact(claims(exp=DROP))[:-1] +
                           b',"exp":99999999999999999999}')
T["C_EXP_HUGE_REAL"] = make({"alg": "EdDSA"}, None, "EdDSA", ed,
                            raw_payload=compact(claims(exp=DROP))[:-1] +
                            b',"exp":1e400}')
T["C_NO_JTI"] = ed_claims(jti=DROP)
T["C_JTI_65"] = ed_claims(jti="j" * 65)
T["C_JTI_64"] = ed_claims(jti="j" * 64)
T["C_ISS_NE_SUB"] = ed_claims(iss="client-2")
T["C_SUB_NE_CLIENT"] = ed_claims(sub="client-2")
T["C_OTHER_CLIENT"] = ed_claims(iss="client-2", sub="client-2")
T["C_AUD_ENDPOINT"] = ed_claims(aud=ENDPOINT)
T["C_AUD_NO_SLASH"] = ed_claims(aud=ISSUER.rstrip("/"))
T["C_AUD_ARRAY"] = ed_claims(aud=["https://other.example/", ISSUER])
T["C_AUD_WRONG"] = ed_claims(aud="https://other.example/")
T["C_AUD_MISSING"] = ed_claims(aud=DROP)

# ---- key files -------------------------------------------------------------

# A 4104-bit odd modulus: only its size matters (refused before use).
rsa_big_n = (int.from_bytes(os.urandom(513), "big") | (1 << 4103) | 1)

K = {
    "ED_PEM": pem(ed),
    "ED_CERT": cert(ed, None),
    "ED_JWK": jwk(ed, alg="EdDSA"),
    "ED_JWK_ED25519_NAME": jwk(ed, alg="Ed25519", kid="ed-1", use="sig"),
    "ED_PRIV_PEM": ed.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode(),
    "ED_SMALL_ORDER_JWK": json.dumps(
        {"kty": "OKP", "crv": "Ed25519", "x": b64(b"\x01" + bytes(31))}),
    "RSA_PEM": pem(rsa1),
    "RSA_CERT": cert(rsa1, hashes.SHA256()),
    "RSA_JWK": jwk(rsa1),
    "RSA_JWK_ALG_RS256": jwk(rsa1, alg="RS256"),
    "RSA_PRIV_JWK": jwk(rsa1, d=b64(uint(
        rsa1.private_numbers().d))),
    "RSA2_PEM": pem(rsa2),
    "RSA4096_PEM": pem(rsa4k),
    "RSA1024_PEM": pem(rsa1k),
    "RSA1024_JWK": jwk(rsa1k),
    "RSA_BIG_JWK": json.dumps({"kty": "RSA", "n": b64(uint(rsa_big_n)),
                               "e": "AQAB"}),
    "JWKS": json.dumps({"keys": [json.loads(jwk(rsa1, kid="k1")),
                                 json.loads(jwk(rsa2, kid="k2",
                                                alg="RS256"))]}),
    "JWKS_3": json.dumps({"keys": [json.loads(jwk(k)) for k in
                                   (rsa1, rsa2, rsa4k)]}),
    "JWKS_EMPTY": '{"keys":[]}',
    "JWKS_DUP_KID": json.dumps({"keys": [json.loads(jwk(rsa1, kid="k1")),
                                         json.loads(jwk(rsa2, kid="k1"))]}),
    "JWKS_DUP_KEY": json.dumps({"keys": [json.loads(jwk(rsa1, kid="k1")),
                                         json.loads(jwk(rsa1, kid="k2"))]}),
    "JWK_DUP_MEMBER": '{"kty":"OKP","crv":"Ed25519","x":"%s","x":"%s"}' % (
        members(ed)["x"], members(ed_atk)["x"]),
    "JWK_OCT": json.dumps({"kty": "oct", "k": b64(hs)}),
    "JWK_USE_ENC": jwk(ec1, use="enc"),
    "JWK_KID_LONG": jwk(ec1, kid="k" * 65),
    "EC_PEM": pem(ec1),
    "EC_CERT": cert(ec1, hashes.SHA256()),
    "EC_JWK": jwk(ec1, alg="ES256", kid="ec-1"),
    "EC_OFF_CURVE_JWK": json.dumps(
        {"kty": "EC", "crv": "P-256", "x": members(ec1)["x"],
         "y": b64(uint((int.from_bytes(b64d(members(ec1)["y"]), "big") ^ 1),
                       32))}),
    "EC384_PEM": pem(ec384),
    "EC384_JWK": jwk(ec384),
}

EXPECT = {
    "ED_TP": thumbprint(ed),
    "RSA_TP": thumbprint(rsa1),
    "RSA2_TP": thumbprint(rsa2),
    "EC_TP": thumbprint(ec1),
    # what jwk_to_json must write (sorted, compact)
    "ED_STORED": canonical(dict(members(ed), alg="EdDSA")),
    "RSA_STORED_K1": canonical(dict(members(rsa1), alg="RS256", kid="k1")),
    "EC_STORED": canonical(dict(members(ec1), alg="ES256", kid="ec-1")),
}

# ---- output ----------------------------------------------------------------

def cstr(s):
    """A C string literal split over lines; bytes outside printable ASCII
    become three-digit octal escapes, which a following digit cannot
    extend."""
    if isinstance(s, str):
        s = s.encode()
    out, line = [], ""
    for b in s:
        ch = chr(b)
        if ch == '"' or ch == "\\":
            piece = "\\" + ch
        elif ch == "\n":
            piece = "\\n"
        elif 0x20 <= b < 0x7f:
            piece = ch
        else:
            piece = "\\%03o" % b
        line += piece
        if len(line) >= 72 or ch == "\n":
            out.append('"' + line + '"')
            line = ""
    if line or not out:
        out.append('"' + line + '"')
    return " \\\n\t".join(out)


def cbytes(b):
    return "{ " + ", ".join("0x%02x" % x for x in b) + " }"


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: gen-jwt-vectors.py OUT.h\n")
        return 2
    lines = [
        "/* Generated by tests/unit/gen-jwt-vectors.py with PyJWT %s and"
        % jwt.__version__,
        " * fresh keys; never commit. */",
        "#ifndef JWT_VECTORS_H",
        "#define JWT_VECTORS_H",
        "",
        "#define FX_NOW %dLL" % NOW,
        "#define FX_CLIENT %s" % cstr(CLIENT),
        "#define FX_ISSUER %s" % cstr(ISSUER),
        "#define FX_ENDPOINT %s" % cstr(ENDPOINT),
        "",
        "static const unsigned char FX_HS_SECRET[%d] = %s;" % (len(hs),
                                                               cbytes(hs)),
        "static const unsigned char FX_HS16_SECRET[%d] = %s;" % (
            len(hs16), cbytes(hs16)),
        "",
    ]
    for name, v in K.items():
        lines.append("#define KEY_%s \\\n\t%s" % (name, cstr(v)))
    lines.append("")
    for name, v in EXPECT.items():
        lines.append("#define FX_%s \\\n\t%s" % (name, cstr(v)))
    lines.append("")
    for name, v in T.items():
        lines.append("#define TOK_%s \\\n\t%s" % (name, cstr(v)))
    lines += ["", "#endif", ""]
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines))
    os.replace(tmp, sys.argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
