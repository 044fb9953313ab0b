"""Users in the ticket database: add, find, authenticate, list, remove."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.models import ROLES, User
from accounts.passwords import hash_password, verify_password
from accounts.tokens import Principal
from infra.db import make_engine

MAX_PASSWORD = 256
# Verified against when the user does not exist, so a wrong name costs as long as a wrong
# password (no user enumeration by timing).
_DUMMY_HASH = hash_password("not-a-password")


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class UserRecord:
    name: str
    role: str
    seat: str | None
    created_at: datetime
    unit: str | None = None


def _record(user: User) -> UserRecord:
    return UserRecord(user.name, user.role, user.seat, user.created_at, user.unit_code)


class AccountStore:
    def __init__(self, database_url: str) -> None:
        self._engine = make_engine(database_url)

    def dispose(self) -> None:
        self._engine.dispose()

    def add(self, name: str, role: str, password: str, seat: str | None = None,
            unit: str | None = None) -> UserRecord:
        """A new user. A unit user needs its unit's code (the caller checks that the
        directory holds it: accounts does not know the units)."""
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").replace(
                ".", "").isalnum():
            raise AccountError("name: 1-64 letters, digits, '-', '_' or '.'")
        if role == "agent" and not seat:
            raise AccountError("an agent needs a seat (--seat seat-001)")
        if role == "unit" and not unit:
            raise AccountError("a unit user needs its unit (--unit 370102)")
        if role != "unit" and unit:
            raise AccountError("only a unit user is bound to a unit")
        if not password or len(password) > MAX_PASSWORD:
            raise AccountError(f"password: 1-{MAX_PASSWORD} characters")
        user = User(name=name, role=role, seat=seat, unit_code=unit,
                    password_hash=hash_password(password), created_at=datetime.now(UTC))
        try:
            with Session(self._engine) as session, session.begin():
                session.add(user)
                session.flush()
                return _record(user)
        except IntegrityError as exc:
            raise AccountError(f"user {name!r} exists already") from exc

    def get(self, name: str) -> UserRecord | None:
        with Session(self._engine) as session:
            user = session.scalars(select(User).where(User.name == name)).one_or_none()
            return _record(user) if user else None

    def list(self) -> list[UserRecord]:
        with Session(self._engine) as session:
            return [_record(u) for u in session.scalars(select(User).order_by(User.name))]

    def remove(self, name: str) -> bool:
        with Session(self._engine) as session, session.begin():
            user = session.scalars(select(User).where(User.name == name)).one_or_none()
            if user is None:
                return False
            session.delete(user)
            return True

    def authenticate(self, name: str, password: str) -> Principal | None:
        if len(password) > MAX_PASSWORD or len(name) > 64:
            return None
        with Session(self._engine) as session:
            user = session.scalars(select(User).where(User.name == name)).one_or_none()
        if user is None:
            verify_password(password, _DUMMY_HASH)
            return None
        if not verify_password(password, user.password_hash):
            return None
        return Principal(user.name, user.role, user.seat, user.unit_code)
