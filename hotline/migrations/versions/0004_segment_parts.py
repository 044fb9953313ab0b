"""Transcript segments say which seat's recording they came from (transfers record apart).

Revision ID: 0004_segment_parts
Revises: 0003_desk
Create Date: 2026-12-01

Written by hand. Existing segments are all from the first seat's recording: part "".
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_segment_parts"
down_revision: str | None = "0003_desk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("transcript_segments") as batch:
        batch.add_column(sa.Column("part", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("seat", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transcript_segments") as batch:
        batch.drop_column("seat")
        batch.drop_column("part")
