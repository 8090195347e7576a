"""asset search text and list index

Revision ID: 3b7d9e5a1c24
Revises: 8a4f2c6e1d37
Create Date: 2026-11-30 05:00:00
"""

import sqlalchemy as sa
from alembic import op

from inventory.core import search
from inventory.core.text import fold

revision = "3b7d9e5a1c24"
down_revision = "8a4f2c6e1d37"
branch_labels = None
depends_on = None


def _fill_search_text() -> None:
    """The text of the items already there: one UPDATE per catalogue model (its folded
    maker and name are constants), tag and serial lowered by the database; the few rows
    whose tag or serial is not ASCII, which SQL's lower() does not fold, one by one."""
    bind = op.get_bind()
    models = bind.execute(
        sa.text(
            "SELECT m.id, f.name, m.name FROM equipment_models m "
            "JOIN manufacturers f ON f.id = m.manufacturer_id"
        )
    ).all()
    for model_id, maker, name in models:
        bind.execute(
            sa.text(
                "UPDATE assets SET search_text = substr(lower(tag) || "
                "CASE WHEN serial IS NULL OR serial = '' THEN '' ELSE ' ' || lower(serial) END"
                " || ' ' || :words, 1, 300) WHERE model_id = :id"
            ),
            {"words": fold(f"{maker} {name}"), "id": model_id},
        )
    not_ascii = (
        "a.tag ~ '[^ -~]' OR a.serial ~ '[^ -~]'"
        if bind.dialect.name == "postgresql"
        else "a.tag GLOB '*[^ -~]*' OR a.serial GLOB '*[^ -~]*'"
    )
    rows = bind.execute(
        sa.text(
            "SELECT a.id, a.tag, a.serial, f.name, m.name FROM assets a "
            "JOIN equipment_models m ON m.id = a.model_id "
            f"JOIN manufacturers f ON f.id = m.manufacturer_id WHERE {not_ascii}"
        )
    ).all()
    for asset_id, tag, serial, maker, name in rows:
        words = " ".join(p for p in (tag, serial, maker, name) if p)
        bind.execute(
            sa.text("UPDATE assets SET search_text = :text WHERE id = :id"),
            {"text": fold(words)[:300], "id": asset_id},
        )


def upgrade():
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("search_text", sa.String(length=300), server_default="", nullable=False)
        )
        batch_op.drop_index("ix_assets_category_status")
        batch_op.create_index(
            "ix_assets_category_status_id", ["category_id", "status", "id"], unique=False
        )
    _fill_search_text()
    for statement in search.create_index_sql(op.get_bind().dialect.name, "assets"):
        op.execute(statement)


def downgrade():
    for statement in search.drop_index_sql(op.get_bind().dialect.name, "assets"):
        op.execute(statement)
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index("ix_assets_category_status_id")
        batch_op.create_index("ix_assets_category_status", ["category_id", "status"], unique=False)
        batch_op.drop_column("search_text")
