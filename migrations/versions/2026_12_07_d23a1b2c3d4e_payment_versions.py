"""Payments carry a version: the API and the pages change them under optimistic locking

Revision ID: d23a1b2c3d4e
Revises: c4e8f2a9b611
Create Date: 2026-12-07 14:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "d23a1b2c3d4e"
down_revision = "c4e8f2a9b611"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.alter_column("version", server_default=None)


def downgrade():
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("version")
