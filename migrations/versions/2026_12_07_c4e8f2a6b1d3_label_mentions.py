"""Label mentions: the scheme's EU emblem and France Relance line, the collectivité's
default mention and scan prompt

Revision ID: c4e8f2a6b1d3
Revises: c5e8f1a2b3d4
Create Date: 2026-12-07 11:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "c4e8f2a6b1d3"
down_revision = "c5e8f1a2b3d4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("funding_schemes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("label_emblem", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "label_france_relance", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    with op.batch_alter_table("collectivites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label_mention", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("label_prompt", sa.String(length=60), nullable=True))
    # The shipped NextGenerationEU schemes ask for the emblem, as their presets now do.
    op.execute(
        "UPDATE funding_schemes SET label_emblem = true, label_france_relance = true "
        "WHERE funding_mention LIKE '%NextGenerationEU%'"
    )


def downgrade():
    with op.batch_alter_table("collectivites", schema=None) as batch_op:
        batch_op.drop_column("label_prompt")
        batch_op.drop_column("label_mention")
    with op.batch_alter_table("funding_schemes", schema=None) as batch_op:
        batch_op.drop_column("label_france_relance")
        batch_op.drop_column("label_emblem")
