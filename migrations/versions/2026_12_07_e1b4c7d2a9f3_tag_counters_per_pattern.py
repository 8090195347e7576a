"""Asset-tag counters per pattern (prefix and year) instead of per collectivité

Collectivités of the same prefix numbered from counters of their own, each skipping the
other's tags: searches, and the same number taken twice by two of them adding items at
once. One counter per pattern now: it stands at the highest counter of the collectivités
that used it.

Revision ID: e1b4c7d2a9f3
Revises: d25a1b2c3d4e
Create Date: 2026-12-07 23:10:00.000000
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op


revision = "e1b4c7d2a9f3"
down_revision = "d25a1b2c3d4e"
branch_labels = None
depends_on = None


def _prefix(name, chosen):
    """The collectivité's tag prefix as the application gave it at this revision (kept
    here as it was: a later change of the rule must not change this migration)."""
    if chosen:
        return chosen
    folded = "".join(
        c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
    )
    letters = re.sub(r"[^A-Z]", "", folded.upper())
    return (letters[:3] or "SOC").ljust(3, "X")


def _collectivites(conn):
    rows = conn.execute(sa.text("SELECT id, name, asset_tag_prefix FROM collectivites"))
    return {row.id: _prefix(row.name, row.asset_tag_prefix) for row in rows}


def upgrade():
    conn = op.get_bind()
    prefixes = _collectivites(conn)
    highest = {}
    for coll_id, year, last in conn.execute(
        sa.text("SELECT collectivite_id, year, last FROM asset_tag_counters")
    ):
        key = (prefixes[coll_id], year)
        highest[key] = max(highest.get(key, 0), last)
    op.drop_table("asset_tag_counters")
    table = op.create_table(
        "asset_tag_counters",
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year", name=op.f("pk_asset_tag_counters")),
    )
    rows = [{"prefix": p, "year": y, "last": last} for (p, y), last in sorted(highest.items())]
    if rows:
        op.bulk_insert(table, rows)


def downgrade():
    conn = op.get_bind()
    counters = {}
    for prefix, year, last in conn.execute(
        sa.text("SELECT prefix, year, last FROM asset_tag_counters ORDER BY prefix, year")
    ):
        counters.setdefault(prefix, []).append((year, last))
    prefixes = _collectivites(conn)
    op.drop_table("asset_tag_counters")
    table = op.create_table(
        "asset_tag_counters",
        sa.Column("collectivite_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collectivite_id"],
            ["collectivites.id"],
            name=op.f("fk_asset_tag_counters_collectivite_id_collectivites"),
        ),
        sa.PrimaryKeyConstraint("collectivite_id", "year", name=op.f("pk_asset_tag_counters")),
    )
    # Each collectivité of a pattern gets its counter: the numbers below it are taken or
    # were given, and the numbering skips taken ones.
    rows = [
        {"collectivite_id": coll_id, "year": year, "last": last}
        for coll_id, prefix in sorted(prefixes.items())
        for year, last in counters.get(prefix, ())
    ]
    if rows:
        op.bulk_insert(table, rows)
