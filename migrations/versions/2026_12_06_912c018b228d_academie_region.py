"""académies: their région académique (code and name), for the open-data files

Revision ID: 912c018b228d
Revises: a9d4e2f7c318
Create Date: 2026-12-06 10:00:00

The ministry's open datasets of the programme start with the région académique
(``code_region``, ``region_academique_ou_com``). The Annuaire gives it on every row
(``Code_region``, ``Libelle_region``); the importer now keeps it on the académie. Existing
académies start empty (nothing in the database says their region) and are filled by the
next Annuaire import, which completes an académie whose region is empty.
"""

import sqlalchemy as sa
from alembic import op

revision = "912c018b228d"
down_revision = "a9d4e2f7c318"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("academies") as batch:
        batch.add_column(sa.Column("region_code", sa.String(length=3), nullable=True))
        batch.add_column(sa.Column("region_name", sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table("academies") as batch:
        batch.drop_column("region_name")
        batch.drop_column("region_code")
