"""asset indexes an import writes: none redundant, none for empty addresses

Revision ID: e7b3c1d9a052
Revises: c240927deac3
Create Date: 2026-11-30 09:00:00

The model index repeats the first column of the unique (model, serial) index, and the
import now finds items by (model, serial) through that one: both single-column indexes
go. The address indexes keep the addresses given only.
"""

import sqlalchemy as sa
from alembic import op

revision = "e7b3c1d9a052"
down_revision = "c240927deac3"
branch_labels = None
depends_on = None

ADDRESSES = ("mac", "mac_wifi", "ip")


def upgrade():
    op.drop_index("ix_assets_model_id", table_name="assets")
    op.drop_index("ix_assets_serial", table_name="assets")
    for name in ADDRESSES:
        op.drop_index(f"ix_assets_{name}", table_name="assets")
        where = sa.text(f"{name} IS NOT NULL")
        op.create_index(
            f"ix_assets_{name}",
            "assets",
            [name],
            sqlite_where=where,
            postgresql_where=where,
        )


def downgrade():
    for name in ADDRESSES:
        op.drop_index(f"ix_assets_{name}", table_name="assets")
        op.create_index(f"ix_assets_{name}", "assets", [name])
    op.create_index("ix_assets_serial", "assets", ["serial"])
    op.create_index("ix_assets_model_id", "assets", ["model_id"])
