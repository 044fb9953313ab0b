"""Signed bearer tokens: ``base64url(json claims) . base64url(HMAC-SHA256)``.

Signed with the generated ``api_signing_key``; stateless, with an expiry (``exp``, Unix
seconds). Claims: ``sub`` (user name), ``role``, ``seat`` (agents), ``unit`` (unit users),
``exp``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    seat: str | None
    unit: str | None = None  # the unit a `unit` user is bound to


class InvalidToken(Exception):
    pass


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(self, key: str, ttl_s: int) -> None:
        self._key = key.encode()
        self.ttl_s = ttl_s

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def issue(self, principal: Principal, now: float | None = None) -> tuple[str, int]:
        """The token and its expiry (Unix seconds)."""
        exp = int((now if now is not None else time.time()) + self.ttl_s)
        claims = {"sub": principal.name, "role": principal.role, "seat": principal.seat,
                  "unit": principal.unit, "exp": exp}
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{body}.{self._mac(body)}", exp

    def verify(self, token: str, now: float | None = None) -> Principal:
        body, _, mac = token.partition(".")
        if not body or not mac or not hmac.compare_digest(mac, self._mac(body)):
            raise InvalidToken("bad signature")
        try:
            claims = json.loads(_unb64(body))
            exp = int(claims["exp"])
            principal = Principal(str(claims["sub"]), str(claims["role"]), claims.get("seat"),
                                  claims.get("unit"))
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise InvalidToken("malformed token") from exc
        if exp < (now if now is not None else time.time()):
            raise InvalidToken("token expired")
        return principal
