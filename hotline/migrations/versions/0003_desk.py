"""The agent desk: user accounts, and the ticket form's fields.

Revision ID: 0003_desk
Revises: 0001
Create Date: 2026-11-24

Written by hand; constraint names follow tickets.models.NAMING_CONVENTION.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_desk"
down_revision: str | None = "0002_transcripts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TICKET_FORM_COLUMNS = (
    ("request_type", sa.String(16)),  # 咨询 求助 建议 投诉 举报
    ("category", sa.String(16)),  # a taxonomy code, e.g. 050102
    ("urgency", sa.String(16)),  # 一般 紧急 特急
    ("summary", sa.Text()),
    ("disposition", sa.String(16)),  # 直办 (resolved on the call) or 转办 (dispatched)
    ("unit", sa.String(128)),  # the responsible unit of a 转办
)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("seat", sa.String(32), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    with op.batch_alter_table("tickets") as batch:
        for name, kind in TICKET_FORM_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    op.create_index("ix_tickets_caller", "tickets", ["caller"])


def downgrade() -> None:
    op.drop_index("ix_tickets_caller", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        for name, _ in reversed(TICKET_FORM_COLUMNS):
            batch.drop_column(name)
    op.drop_table("users")
