"""Generated secrets: AMI, seat SIP passwords, API signing key.

Created on first use with `secrets.token_urlsafe`, stored in the git-ignored state dir
with mode 0600, never hard-coded. Seats added later get a secret on the next load.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from infra.settings import Settings


@dataclass(frozen=True)
class Secrets:
    ami_user: str
    ami_password: str
    api_signing_key: str
    seat_passwords: dict[str, str]


def _new() -> str:
    return secrets.token_urlsafe(18)


def load_secrets(settings: Settings) -> Secrets:
    path: Path = settings.secrets_file
    data: dict[str, object] = {}
    if path.exists():
        data = json.loads(path.read_text())
    changed = False
    for key in ("ami_password", "api_signing_key"):
        if not data.get(key):
            data[key] = _new()
            changed = True
    seats = dict(data.get("seat_passwords") or {})  # type: ignore[call-overload]
    for seat in settings.seat_names():
        if seat not in seats:
            seats[seat] = _new()
            changed = True
    data["seat_passwords"] = seats
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=1)
        os.replace(tmp, path)
    return Secrets(
        ami_user="hotline",
        ami_password=str(data["ami_password"]),
        api_signing_key=str(data["api_signing_key"]),
        seat_passwords=seats,
    )
