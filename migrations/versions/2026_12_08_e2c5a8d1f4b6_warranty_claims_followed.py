"""Warranty claims followed to their end: what was claimed, where the claim stands (sent,
then repaired, replaced or refused), the supplier's answer and reference; maintenance
records carry a version (optimistic locking)

Claims sent before this revision are "sent": their answer was never recorded.

Revision ID: e2c5a8d1f4b6
Revises: e1b4c7d2a9f3
Create Date: 2026-12-08 02:40:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = "e2c5a8d1f4b6"
down_revision = "e1b4c7d2a9f3"
branch_labels = None
depends_on = None

CLAIM_STATUSES = ("sent", "repaired", "replaced", "refused")


def upgrade():
    with op.batch_alter_table("maintenance_records") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("problem", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column(
                "claim_status",
                sa.Enum(
                    *CLAIM_STATUSES,
                    name="claim_status",
                    native_enum=False,
                    length=20,
                    create_constraint=False,
                ),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("claim_reference", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("answered_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("answer", sa.Text(), nullable=True))
    op.execute("UPDATE maintenance_records SET claim_status = 'sent' WHERE kind = 'claim'")


def downgrade():
    with op.batch_alter_table("maintenance_records") as batch:
        for name in ("answer", "answered_on", "claim_reference", "claim_status", "problem"):
            batch.drop_column(name)
        batch.drop_column("version")
