"""Transcriptions, transcript segments and the recording access audit.

Revision ID: 0002_transcripts
Revises: 0001
Create Date: 2026-11-24

Written by hand; constraint names follow tickets.models.NAMING_CONVENTION.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_transcripts"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _ticket_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["ticket_pk"], ["tickets.id"],
                                   name=f"fk_{table}_ticket_pk_tickets", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "transcriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_pk", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(128), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("queued_at", _utc(), nullable=False),
        sa.Column("started_at", _utc(), nullable=True),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.Column("suggested_category", sa.String(16), nullable=True),
        sa.Column("suggestion_basis", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_transcriptions"),
        sa.UniqueConstraint("ticket_pk", name="uq_transcriptions_ticket_pk"),
        _ticket_fk("transcriptions"),
    )
    op.create_index("ix_transcriptions_status", "transcriptions", ["status"])

    op.create_table(
        "transcript_segments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_pk", sa.Integer(), nullable=False),
        sa.Column("speaker", sa.String(16), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transcript_segments"),
        _ticket_fk("transcript_segments"),
    )
    op.create_index("ix_transcript_segments_ticket_pk", "transcript_segments", ["ticket_pk"])

    op.create_table(
        "recording_access",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("ticket_id", sa.String(32), nullable=False),
        sa.Column("leg", sa.String(16), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("who", sa.String(128), nullable=False),
        sa.Column("client", sa.String(128), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_recording_access"),
    )
    op.create_index("ix_recording_access_at", "recording_access", ["at"])
    op.create_index("ix_recording_access_ticket_id", "recording_access", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_recording_access_ticket_id", table_name="recording_access")
    op.drop_index("ix_recording_access_at", table_name="recording_access")
    op.drop_table("recording_access")
    op.drop_index("ix_transcript_segments_ticket_pk", table_name="transcript_segments")
    op.drop_table("transcript_segments")
    op.drop_index("ix_transcriptions_status", table_name="transcriptions")
    op.drop_table("transcriptions")
