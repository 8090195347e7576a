"""saved filters: a user's named filters of a list, their owner's only

Revision ID: c5e8f1a2b3d4
Revises: a7b3c9d1e2f4
Create Date: 2026-12-07 11:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "c5e8f1a2b3d4"
down_revision = "a7b3c9d1e2f4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_filters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_saved_filters_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_filters")),
        sa.UniqueConstraint(
            "user_id", "list_name", "name", name=op.f("uq_saved_filters_user_id_list_name_name")
        ),
    )


def downgrade():
    op.drop_table("saved_filters")
