"""The binary layout of the store's records (schema 2), for tests that
read or rewrite a stored value.

This mirrors fcgi-app/record_fields.c (the field tables: names, kinds,
order) and the sizes in include/record.h and include/mfa.h; the encoding
itself is the one in the header comment of fcgi-app/record.c. Update it
together with them: a field added, moved or resized there must be added,
moved or resized here.

A record is the format byte (2), the kind byte, then every field of the
kind's table in order, and nothing after the last field:

  STR   u16 little-endian length, then that many bytes (no NUL; at most
        the struct's array size - 1)
  I64   8 bytes, little-endian two's complement
  UINT  4 bytes, little-endian
  ENUM  1 byte
  BOOL  1 byte, 0 or 1
  HASH  32 raw bytes

decode(kind, data) -> {field name: value} and encode(kind, rec) -> bytes,
with values str (STR; bytes that are not UTF-8 survive a round trip as
surrogate escapes), int (I64, UINT, ENUM), bool (BOOL) and bytes (HASH).
Decoding is as strict as record_decode() in record.c: another length,
format or kind byte, an over-long string, a NUL in a string or a bool
other than 0 or 1 raises RecordError. The per-kind checks of the C
(record_*_valid: enums in range, kinds consistent) are not repeated here,
so a test can write a record that the service must refuse.
"""

import struct

FORMAT = 2          # RECORD_FORMAT
HASH_BYTES = 32     # MFA_HASH_BYTES

STR, I64, UINT, ENUM, BOOL, HASH = "STR", "I64", "UINT", "ENUM", "BOOL", \
    "HASH"

# array sizes of the struct members (include/mfa.h, include/record.h)
CLIENT_ID = 64 + 1          # MFA_CLIENT_ID_MAX + 1
NAME = 64 + 1               # MFA_NAME_MAX + 1
USER_ID = 128 + 1           # MFA_USER_ID_MAX + 1
AUTHN_ID = 64 + 1           # MFA_AUTHN_ID_MAX + 1
CHALLENGE_ID = 64 + 1       # MFA_CHALLENGE_ID_MAX + 1
DEST = 254 + 1              # MFA_DEST_MAX + 1
SCOPE = 256 + 1             # MFA_SCOPE_MAX + 1
SEALED = ((24 + 64 + 16) * 4 + 2) // 3 + 1  # RECORD_SEALED_MAX (140)
JWK = 1600                  # RECORD_JWK_MAX
KID = 43 + 1                # RECORD_KID_LEN + 1

# kind: (kind byte, [(name, field kind, array size of a STR)]), in the
# order of record_fields.c
KINDS = {
    "client": (b"c", [
        ("id", STR, CLIENT_ID), ("name", STR, NAME),
        ("types", UINT, None), ("auth", ENUM, None),
        ("secret_sealed", STR, SEALED), ("alg", UINT, None),
        ("key0", STR, JWK), ("key1", STR, JWK),
        ("created_at", I64, None), ("updated_at", I64, None),
    ]),
    "authn": (b"a", [
        ("id", STR, AUTHN_ID), ("user_id", STR, USER_ID),
        ("type", ENUM, None), ("channel", ENUM, None),
        ("active", BOOL, None), ("to", STR, DEST),
        ("secret_sealed", STR, SEALED), ("alg", UINT, None),
        ("digits", UINT, None), ("period", UINT, None),
        ("last_step", I64, None), ("created_at", I64, None),
        ("expires_at", I64, None), ("client_id", STR, CLIENT_ID),
        ("label_issuer", STR, 64), ("label_user", STR, USER_ID),
        ("enroll_token", HASH, None),
    ]),
    "token": (b"t", [
        ("client_id", STR, CLIENT_ID), ("user_id", STR, USER_ID),
        ("scope", STR, SCOPE), ("created_at", I64, None),
        ("expires_at", I64, None),
    ]),
    "challenge": (b"h", [
        ("id", STR, CHALLENGE_ID), ("factor_id", STR, AUTHN_ID),
        ("client_id", STR, CLIENT_ID),
        ("user_id", STR, USER_ID), ("type", UINT, None),
        ("state", ENUM, None),
        ("attempts", UINT, None),
        ("created_at", I64, None),
        ("updated_at", I64, None),
        ("expires_at", I64, None),
        ("purge_at", I64, None),
        ("token_hash", HASH, None),
        ("has_oob", BOOL, None),
        ("oob_hash", HASH, None),
        ("binding_hash", HASH, None),
    ]),
    "signing": (b"s", [
        ("kid", STR, KID), ("public_b64", STR, 48),
        ("seed_sealed", STR, SEALED),
        ("created_at", I64, None),
        ("retired_at", I64, None),
    ]),
    "bucket": (b"b", [
        ("level", UINT, None), ("refilled_at", I64, None),
    ]),
}

# the LMDB database that holds each kind (store.c's db_names)
DATABASES = {"clients": "client", "authns": "authn", "tokens": "token",
             "challenges": "challenge", "signing": "signing",
             "buckets": "bucket"}

_FIXED = {I64: "<q", UINT: "<I", ENUM: "<B", BOOL: "<B"}


class RecordError(ValueError):
    """A value that is not a record of the expected kind."""


def _table(kind):
    try:
        return KINDS[kind]
    except KeyError:
        raise RecordError("unknown record kind %r" % (kind,)) from None


def decode(kind, data):
    """{field name: value} of "data", a stored record of "kind" ("client",
    "authn", "token", "challenge", "signing", "bucket"); RecordError
    where record.c's decoder returns MFA_ERR_CORRUPT for a field's type
    or the layout."""
    tag, fields = _table(kind)
    data = bytes(data)
    if len(data) < 2 or data[0] != FORMAT or data[1:2] != tag:
        raise RecordError("not a format-%d %s record: %r" %
                          (FORMAT, kind, data[:2]))
    pos, rec = 2, {}

    def take(n, name):
        nonlocal pos
        if n > len(data) - pos:
            raise RecordError("%s record ends inside %s" % (kind, name))
        pos += n
        return data[pos - n:pos]

    for name, fk, size in fields:
        if fk == STR:
            n = struct.unpack("<H", take(2, name))[0]
            if n >= size:
                raise RecordError("%s.%s: %d bytes, at most %d" %
                                  (kind, name, n, size - 1))
            s = take(n, name)
            if b"\0" in s:
                raise RecordError("%s.%s: NUL in a string" % (kind, name))
            rec[name] = s.decode("utf-8", "surrogateescape")
        elif fk == HASH:
            rec[name] = take(HASH_BYTES, name)
        else:
            fmt = _FIXED[fk]
            v = struct.unpack(fmt, take(struct.calcsize(fmt), name))[0]
            if fk == BOOL:
                if v > 1:
                    raise RecordError("%s.%s: bool %d" % (kind, name, v))
                v = v == 1
            rec[name] = v
    if pos != len(data):
        raise RecordError("%s record: %d bytes after the last field" %
                          (kind, len(data) - pos))
    return rec


def encode(kind, rec):
    """The stored bytes of "rec", a dict with exactly the fields of
    "kind"; RecordError when a field is missing, unknown or out of the
    range its type can hold (what record.c could not have written)."""
    tag, fields = _table(kind)
    names = [f[0] for f in fields]
    if set(rec) != set(names):
        raise RecordError("%s record: fields %s, expected %s" %
                          (kind, sorted(rec), names))
    out = bytearray([FORMAT]) + tag
    for name, fk, size in fields:
        v = rec[name]
        try:
            if fk == STR:
                s = v.encode("utf-8", "surrogateescape")
                if len(s) >= size or b"\0" in s:
                    raise RecordError("%s.%s: %d bytes or a NUL, at most "
                                      "%d" % (kind, name, len(s), size - 1))
                out += struct.pack("<H", len(s)) + s
            elif fk == HASH:
                if not isinstance(v, (bytes, bytearray)) or \
                        len(v) != HASH_BYTES:
                    raise RecordError("%s.%s: not %d bytes" %
                                      (kind, name, HASH_BYTES))
                out += v
            elif fk == BOOL:
                if not isinstance(v, bool):
                    raise RecordError("%s.%s: not a bool" % (kind, name))
                out += bytes([v])
            else:
                if isinstance(v, bool) or not isinstance(v, int):
                    raise RecordError("%s.%s: not an int" % (kind, name))
                out += struct.pack(_FIXED[fk], v)
        except (struct.error, AttributeError) as e:
            raise RecordError("%s.%s: %s" % (kind, name, e)) from None
    return bytes(out)
