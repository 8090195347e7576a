"""Stale marks: a business change marks the summaries it makes stale, in its transaction

The dashboards' summaries no longer follow the change log: the state keeps only when they
were last refreshed, and its row is removed, so that the first read after the upgrade
computes every summary again (changes made before it were marked by no one).

Revision ID: 5d1e7a3c9b42
Revises: 7c4e9b2d5a18
Create Date: 2026-12-07 00:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "5d1e7a3c9b42"
down_revision = "7c4e9b2d5a18"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stale_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("key", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stale_marks")),
    )
    with op.batch_alter_table("stale_marks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stale_marks_kind"), ["kind"], unique=False)
    op.execute("DELETE FROM summary_state")
    with op.batch_alter_table("summary_state", schema=None) as batch_op:
        batch_op.drop_column("audit_id")
        batch_op.drop_column("last_ids")
        batch_op.drop_column("gaps")


def downgrade():
    op.execute("DELETE FROM summary_state")
    with op.batch_alter_table("summary_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gaps", sa.JSON(), nullable=False))
        batch_op.add_column(sa.Column("last_ids", sa.JSON(), nullable=False))
        batch_op.add_column(sa.Column("audit_id", sa.Integer(), nullable=False))
    with op.batch_alter_table("stale_marks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stale_marks_kind"))
    op.drop_table("stale_marks")
