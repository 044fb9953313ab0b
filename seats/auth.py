"""Who may act for a seat: HTTP Basic with the seat's name and its generated SIP secret.

The agent's softphone already holds these credentials. Accounts with roles (agent,
supervisor, admin) replace this with the agent desk.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from hotline.secrets import Secrets

basic = HTTPBasic(auto_error=False)


class SeatAuth:
    def __init__(self, secrets: Secrets) -> None:
        self.secrets = secrets

    def __call__(
        self, seat: str,
        credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)],
    ) -> str:
        unauthorized = HTTPException(
            status.HTTP_401_UNAUTHORIZED, "seat credentials required",
            headers={"WWW-Authenticate": 'Basic realm="hotline"'},
        )
        if credentials is None:
            raise unauthorized
        expected = self.secrets.seat_passwords.get(seat)
        if expected is None or credentials.username != seat or not hmac.compare_digest(
            credentials.password.encode(), expected.encode()
        ):
            raise unauthorized
        return seat
