"""The users table, in the ticket database (migration 0003_desk).

An agent account is linked to one seat: the seat it logs into at the desk.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from infra.db import Base, UTCDateTime

# unit: the staff of one responsible unit (承办单位), bound to it; dispatcher: the hotline's
# dispatch desk (sent-back and undispatched tickets).
ROLES: tuple[str, ...] = ("agent", "supervisor", "admin", "unit", "dispatcher")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # ROLES
    seat: Mapped[str | None] = mapped_column(String(32), nullable=True)
    unit_code: Mapped[str | None] = mapped_column(String(32), nullable=True)  # unit users
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
