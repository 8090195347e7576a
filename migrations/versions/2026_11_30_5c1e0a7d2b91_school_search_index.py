"""school search index

Revision ID: 5c1e0a7d2b91
Revises: d6c2f181cde0
Create Date: 2026-11-30 01:40:00
"""

from alembic import op

from inventory.core import search

revision = "5c1e0a7d2b91"
down_revision = "d6c2f181cde0"
branch_labels = None
depends_on = None


def upgrade():
    for statement in search.create_index_sql(op.get_bind().dialect.name, "ecoles"):
        op.execute(statement)


def downgrade():
    for statement in search.drop_index_sql(op.get_bind().dialect.name, "ecoles"):
        op.execute(statement)
