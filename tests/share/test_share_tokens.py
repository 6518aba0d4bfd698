"""The secrets of share links, without a database: visitor tokens, signed identities, origins."""

from __future__ import annotations

import time

import pytest

from zhiku.share import tokens
from zhiku.share.tokens import VisitorClaims


def _claims(**changes: object) -> VisitorClaims:
    values: dict[str, object] = dict(link=3, app=7, origin="", channel="share", visitor="v1",
                                     user="", exp=int(time.time()) + 60)
    values.update(changes)
    return VisitorClaims(**values)  # type: ignore[arg-type]


def test_link_tokens_are_random_and_found_by_hash() -> None:
    a, b = tokens.new_link_token(), tokens.new_link_token()
    assert a != b and a.startswith("zkl_") and len(a) > 40
    assert tokens.token_hash(a) == tokens.token_hash(a) != tokens.token_hash(b)
    assert a not in tokens.token_hash(a)


def test_visitor_tokens_verify_only_with_their_key_and_before_expiry() -> None:
    key, other = tokens.new_visitor_key(), tokens.new_visitor_key()
    claims = _claims()
    token = tokens.sign_visitor(key, claims)
    assert tokens.visitor_link(token) == 3
    assert tokens.verify_visitor(key, token, time.time()) == claims
    assert tokens.verify_visitor(other, token, time.time()) is None
    assert tokens.verify_visitor(key, token, claims.exp + 1) is None
    body, mac = token.split(".")
    forged = tokens.sign_visitor(other, _claims(link=4)).split(".")[0] + "." + mac
    assert tokens.verify_visitor(key, forged, time.time()) is None
    assert tokens.verify_visitor(key, body + ".", time.time()) is None
    for junk in ("", "zkv_", "zkv_a.b.c", "zk_abc", "zkv_!!!.x"):
        assert tokens.verify_visitor(key, junk, time.time()) is None
        assert tokens.visitor_link(junk) is None


def test_signed_identity() -> None:
    secret = tokens.new_signing_secret()
    exp = int(time.time()) + 300
    sig = tokens.identity_signature(secret, "张三@corp", exp)
    assert tokens.check_identity(secret, "张三@corp", exp, sig, time.time()) is None
    assert tokens.check_identity(secret, "张三@corp", exp, sig.upper(), time.time()) is None
    assert "match" in str(tokens.check_identity(secret, "李四@corp", exp, sig, time.time()))
    assert "match" in str(tokens.check_identity(secret, "张三@corp", exp + 1, sig, time.time()))
    assert "expired" in str(tokens.check_identity(secret, "张三@corp", exp, sig, exp + 1))
    other = tokens.new_signing_secret()
    assert tokens.check_identity(other, "张三@corp", exp, sig, time.time()) is not None
    for bad in ("", "x" * 201, "a\nb"):
        assert tokens.check_identity(secret, bad, exp, sig, time.time()) is not None


@pytest.mark.parametrize(("given", "want"), [
    ("https://Intranet.Example", "https://intranet.example"),
    ("https://intranet.example/", "https://intranet.example"),
    ("https://intranet.example:443", "https://intranet.example"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("http://[::1]:81", "http://[::1]:81"),
    ("https://intranet.example/page", None),
    ("https://intranet.example?x=1", None),
    ("javascript:alert(1)", None),
    ("file:///etc/passwd", None),
    ("null", None),
    ("https://user@intranet.example", None),
    ("https://intranet.example:99999", None),
    ("*", None),
])
def test_origins_are_normalized(given: str, want: str | None) -> None:
    assert tokens.normalize_origin(given) == want


def test_signed_identity_with_a_display_name() -> None:
    secret, now = tokens.new_signing_secret(), time.time()
    exp = int(now) + 300
    sig = tokens.identity_signature(secret, "e1024@corp", exp, "王小明")
    assert tokens.check_identity(secret, "e1024@corp", exp, sig, now, "王小明") is None
    assert "does not match" in str(tokens.check_identity(secret, "e1024@corp", exp, sig, now,
                                                         "王大明"))
    # a signature without the name does not vouch for one, nor the other way round
    plain = tokens.identity_signature(secret, "e1024@corp", exp)
    assert tokens.check_identity(secret, "e1024@corp", exp, plain, now, "王小明") is not None
    assert tokens.check_identity(secret, "e1024@corp", exp, sig, now) is not None
    # fields cannot slide into one another: ("a", 5, "9") and ("a.5", 9) sign apart
    assert tokens.identity_signature(secret, "a", 5, "9") != \
        tokens.identity_signature(secret, "a.5", 9)
    assert "name" in str(tokens.check_identity(secret, "u", exp, sig, now, "bad\nname"))
    claims = VisitorClaims(link=1, app=2, origin="", channel="share", visitor="v", user="u",
                           exp=exp, name="王小明")
    key = tokens.new_visitor_key()
    assert tokens.verify_visitor(key, tokens.sign_visitor(key, claims), now) == claims
