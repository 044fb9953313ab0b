"""Passwords and tokens: pure logic, no stack."""

from __future__ import annotations

import pytest

from accounts.passwords import hash_password, verify_password
from accounts.tokens import InvalidToken, Principal, TokenSigner


def test_password_hash_verifies_only_the_password() -> None:
    stored = hash_password("秘密-pass")
    assert stored.startswith("scrypt$") and "秘密" not in stored
    assert verify_password("秘密-pass", stored)
    assert not verify_password("秘密-pasS", stored)
    assert not verify_password("x", "garbage")
    assert hash_password("same") != hash_password("same")  # salted


def test_token_round_trip_expiry_and_tampering() -> None:
    signer = TokenSigner("key-one", ttl_s=60)
    who = Principal("li", "agent", "seat-007")
    token, exp = signer.issue(who, now=1000)
    assert exp == 1060
    assert signer.verify(token, now=1059) == who
    with pytest.raises(InvalidToken, match="expired"):
        signer.verify(token, now=1061)
    with pytest.raises(InvalidToken):
        TokenSigner("key-two", ttl_s=60).verify(token, now=1000)
    body, mac = token.split(".")
    forged, _ = TokenSigner("key-one", 60).issue(Principal("li", "admin", None), now=1000)
    with pytest.raises(InvalidToken):
        signer.verify(forged.split(".")[0] + "." + mac, now=1000)
    for junk in ("", ".", "abc", "a.b.c", body):
        with pytest.raises(InvalidToken):
            signer.verify(junk, now=1000)
