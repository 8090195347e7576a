"""asset serial index

Revision ID: 8a4f2c6e1d37
Revises: 5c1e0a7d2b91
Create Date: 2026-11-30 03:05:00
"""

from alembic import op

revision = "8a4f2c6e1d37"
down_revision = "5c1e0a7d2b91"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.create_index("ix_assets_serial", ["serial"], unique=False)


def downgrade():
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index("ix_assets_serial")
