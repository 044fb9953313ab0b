"""Who is calling: a bearer token on every route, and the roles a route allows.

    Caller = Annotated[Principal, Depends(auth.require("supervisor"))]

No token or a bad one is 401; a valid token whose role the route does not allow is 403.
The admin role may use every route. WebSockets carry the token in ``?token=`` (browsers
cannot set headers on a WebSocket).
"""

# No `from __future__ import annotations`: FastAPI resolves the nested signatures at run time.

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from accounts.tokens import InvalidToken, Principal, TokenSigner

bearer = HTTPBearer(auto_error=False, description="a token from POST /api/auth/token")

ADMIN = "admin"


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail,
                         headers={"WWW-Authenticate": 'Bearer realm="hotline"'})


class Auth:
    def __init__(self, signer: TokenSigner) -> None:
        self.signer = signer

    def principal_of(self, token: str | None) -> Principal | None:
        if not token:
            return None
        try:
            return self.signer.verify(token)
        except InvalidToken:
            return None

    def require(self, *roles: str) -> Callable[..., Principal]:
        allowed = {*roles, ADMIN}

        def dependency(
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        ) -> Principal:
            if credentials is None:
                raise _unauthorized("a bearer token is required")
            who = self.principal_of(credentials.credentials)
            if who is None:
                raise _unauthorized("invalid or expired token")
            if who.role not in allowed:
                raise HTTPException(status.HTTP_403_FORBIDDEN,
                                    f"this route is for: {', '.join(sorted(allowed))}")
            return who

        return dependency
