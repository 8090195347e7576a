"""ticket followers: one row per address told of a ticket's progress

Revision ID: a9d4e2f7c318
Revises: f3a8d2c5b716
Create Date: 2026-11-30 19:40:00

The addresses of those who joined a ticket were packed, comma-separated, into the ticket's
reporter_email column (254 characters): past a few of them, a newcomer was silently left
out. Each address now has its row; reporter_email keeps the first reporter's alone.
"""

import sqlalchemy as sa
from alembic import op

from inventory.core.db import UTCDateTime, utcnow

revision = "a9d4e2f7c318"
down_revision = "f3a8d2c5b716"
branch_labels = None
depends_on = None

tickets = sa.table("tickets", sa.column("id", sa.Integer), sa.column("reporter_email", sa.String))
followers = sa.table(
    "ticket_followers",
    sa.column("ticket_id", sa.Integer),
    sa.column("email", sa.String),
    sa.column("since", UTCDateTime),
    sa.column("id", sa.Integer),
)


def upgrade():
    op.create_table(
        "ticket_followers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_followers_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_followers")),
        sa.UniqueConstraint("ticket_id", "email", name=op.f("uq_ticket_followers_ticket_id_email")),
    )
    bind = op.get_bind()
    now = utcnow()
    rows = bind.execute(
        sa.select(tickets.c.id, tickets.c.reporter_email).where(
            tickets.c.reporter_email.is_not(None)
        )
    ).all()
    for ticket_id, packed in rows:
        emails = list(dict.fromkeys(e.strip() for e in packed.split(",") if e.strip()))
        if emails:
            bind.execute(
                sa.insert(followers),
                [{"ticket_id": ticket_id, "email": e, "since": now} for e in emails],
            )
        first = emails[0] if emails else None
        if first != packed:
            bind.execute(
                sa.update(tickets).where(tickets.c.id == ticket_id).values(reporter_email=first)
            )


def downgrade():
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(followers.c.ticket_id, followers.c.email).order_by(
            followers.c.ticket_id, followers.c.id
        )
    ).all()
    packed: dict[int, list[str]] = {}
    for ticket_id, email in rows:
        packed.setdefault(ticket_id, []).append(email)
    for ticket_id, emails in packed.items():
        kept: list[str] = []
        for e in emails:
            if len(", ".join([*kept, e])) <= 254:
                kept.append(e)
        bind.execute(
            sa.update(tickets)
            .where(tickets.c.id == ticket_id)
            .values(reporter_email=", ".join(kept))
        )
    op.drop_table("ticket_followers")
