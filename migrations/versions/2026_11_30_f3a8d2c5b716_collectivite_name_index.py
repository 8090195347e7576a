"""collectivités by name: an index for the lists' filters and pickers

Revision ID: f3a8d2c5b716
Revises: e7b3c1d9a052
Create Date: 2026-11-30 10:30:00

Every equipment list offers its first collectivités by name; without an index each page
sorted all of them (tens of thousands nationally).
"""

from alembic import op

revision = "f3a8d2c5b716"
down_revision = "e7b3c1d9a052"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_collectivites_name_id", "collectivites", ["name", "id"])


def downgrade():
    op.drop_index("ix_collectivites_name_id", table_name="collectivites")
