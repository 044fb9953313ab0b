"""The ticket's life after the call: stage, version and clocks on the ticket; assignments to
units, workflow events, unit notices, supervisions, the confidential-view audit, the
briefings for the city leaders (呈报); users bound to a unit.

Revision ID: 0006_casework
Revises: 0005_ticket_search
Create Date: 2026-12-02

Written by hand; constraint names follow infra.db.NAMING_CONVENTION. Existing tickets take
stage "intake" and version 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_casework"
down_revision: str | None = "0005_ticket_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def ticket_columns() -> tuple[sa.Column[object], ...]:
    """New each time: a Column belongs to the one table it is added to."""
    return (
        sa.Column("district", sa.String(32), nullable=True),
        sa.Column("street", sa.String(32), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("contact_number", sa.String(32), nullable=True),
        sa.Column("citizen_name", sa.String(64), nullable=True),
        sa.Column("confidential", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("stage", sa.String(16), nullable=False, server_default="intake"),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("dispatched_at", TZ, nullable=True),
        sa.Column("due_at", TZ, nullable=True),
        sa.Column("warn_at", TZ, nullable=True),
        sa.Column("accept_due_at", TZ, nullable=True),
        sa.Column("first_unit_code", sa.String(32), nullable=True),
        sa.Column("first_accepted_at", TZ, nullable=True),
        sa.Column("sent_back", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("reopen_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("replied_at", TZ, nullable=True),
        sa.Column("replied_on_time", sa.Boolean(), nullable=True),
        sa.Column("callback_solved", sa.Boolean(), nullable=True),
        sa.Column("callback_satisfied", sa.Boolean(), nullable=True),
        sa.Column("closed_at", TZ, nullable=True),
    )


def _ticket_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["ticket_pk"], ["tickets.id"], ondelete="CASCADE",
                                   name=f"fk_{table}_ticket_pk_tickets")


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        for column in ticket_columns():
            batch.add_column(column)
    op.create_index("ix_tickets_stage_due_at", "tickets", ["stage", "due_at"])
    op.create_index("ix_tickets_dispatched_at", "tickets", ["dispatched_at"])
    op.create_index("ix_tickets_closed_at", "tickets", ["closed_at"])
    clock = sa.text("stage IN ('dispatched', 'in_progress')")
    op.create_index("ix_tickets_clock_due_at", "tickets", ["due_at", "id"],
                    postgresql_where=clock, sqlite_where=clock)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("unit_code", sa.String(32), nullable=True))

    op.create_table(
        "case_assignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_pk", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(32), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("from_unit", sa.String(32), nullable=True),
        sa.Column("dispatched_at", TZ, nullable=False),
        sa.Column("accepted_at", TZ, nullable=True),
        sa.Column("contacted_at", TZ, nullable=True),
        sa.Column("replied_at", TZ, nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("solved", sa.Boolean(), nullable=True),
        sa.Column("ended_at", TZ, nullable=True),
        _ticket_fk("case_assignments"),
        sa.PrimaryKeyConstraint("id", name="pk_case_assignments"),
    )
    op.create_index("ix_case_assignments_unit_state", "case_assignments",
                    ["unit_code", "state", "dispatched_at"])
    op.create_index("ix_case_assignments_ticket_pk", "case_assignments", ["ticket_pk"])
    live = sa.text("state IN ('dispatched', 'accepted', 'replied')")
    op.create_index("ix_case_assignments_unit_live", "case_assignments", ["unit_code", "id"],
                    postgresql_where=live, sqlite_where=live)

    op.create_table(
        "workflow_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_pk", sa.Integer(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("unit_code", sa.String(32), nullable=True),
        sa.Column("from_stage", sa.String(16), nullable=False),
        sa.Column("to_stage", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        _ticket_fk("workflow_events"),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_events"),
    )
    op.create_index("ix_workflow_events_ticket_pk_at", "workflow_events",
                    ["ticket_pk", "at", "id"])

    op.create_table(
        "unit_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_pk", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("text", sa.Text(), nullable=False, server_default=""),
        sa.Column("read_at", TZ, nullable=True),
        _ticket_fk("unit_notices"),
        sa.PrimaryKeyConstraint("id", name="pk_unit_notices"),
        sa.UniqueConstraint("ticket_pk", "unit_code", "kind", "round",
                            name="uq_unit_notices_once"),
    )
    op.create_index("ix_unit_notices_unit_code_at", "unit_notices", ["unit_code", "at"])

    op.create_table(
        "supervisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_pk", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("opened_at", TZ, nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False, server_default=""),
        sa.Column("closed_at", TZ, nullable=True),
        _ticket_fk("supervisions"),
        sa.PrimaryKeyConstraint("id", name="pk_supervisions"),
        sa.UniqueConstraint("ticket_pk", "reason", "round", name="uq_supervisions_once"),
    )
    open_ = sa.text("closed_at IS NULL")
    op.create_index("ix_supervisions_open", "supervisions", ["ticket_pk"],
                    postgresql_where=open_, sqlite_where=open_)

    op.create_table(
        "confidential_views",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_pk", sa.Integer(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("who", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("unit_code", sa.String(32), nullable=True),
        sa.Column("route", sa.String(128), nullable=False),
        _ticket_fk("confidential_views"),
        sa.PrimaryKeyConstraint("id", name="pk_confidential_views"),
    )
    op.create_index("ix_confidential_views_ticket_pk", "confidential_views", ["ticket_pk"])

    op.create_table(
        "briefings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_briefings"),
    )
    op.create_table(
        "briefing_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("briefing_id", sa.Integer(), nullable=False),
        sa.Column("ticket_pk", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False, server_default=""),
        sa.Column("instructed_by", sa.String(64), nullable=True),
        sa.Column("instructed_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["briefing_id"], ["briefings.id"], ondelete="CASCADE",
                                name="fk_briefing_items_briefing_id_briefings"),
        _ticket_fk("briefing_items"),
        sa.PrimaryKeyConstraint("id", name="pk_briefing_items"),
        sa.UniqueConstraint("briefing_id", "ticket_pk", name="uq_briefing_items_once"),
    )


def downgrade() -> None:
    for table in ("briefing_items", "briefings", "confidential_views", "supervisions",
                  "unit_notices", "workflow_events", "case_assignments"):
        op.drop_table(table)
    with op.batch_alter_table("users") as batch:
        batch.drop_column("unit_code")
    op.drop_index("ix_tickets_clock_due_at", table_name="tickets")
    op.drop_index("ix_tickets_closed_at", table_name="tickets")
    op.drop_index("ix_tickets_dispatched_at", table_name="tickets")
    op.drop_index("ix_tickets_stage_due_at", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        for column in reversed(ticket_columns()):
            batch.drop_column(column.name)
