"""A caller's tickets in the order the search and the screen pop read them.

Revision ID: 0005_ticket_search
Revises: 0004_segment_parts
Create Date: 2026-12-01

Written by hand. ``GET /api/tickets?caller=`` (tickets/search.py) and the screen pop's
earlier tickets (tickets/form.py) both ask for one caller's tickets newest first, by
(created_at, id). An index on (caller, created_at, id) answers them in order without a sort,
and serves every lookup the old one-column index did, so it replaces it.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_ticket_search"
down_revision: str | None = "0004_segment_parts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tickets_caller_created_at", "tickets", ["caller", "created_at", "id"])
    op.drop_index("ix_tickets_caller", table_name="tickets")


def downgrade() -> None:
    op.create_index("ix_tickets_caller", "tickets", ["caller"])
    op.drop_index("ix_tickets_caller_created_at", table_name="tickets")
