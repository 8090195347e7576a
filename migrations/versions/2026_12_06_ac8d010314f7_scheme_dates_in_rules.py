"""grants: a scheme's dates live in its rules, frozen on each dossier; payments above the aid

Revision ID: ac8d010314f7
Revises: 263eca3f24ec
Create Date: 2026-12-06 10:00:00

A scheme's spending window was kept in two columns of funding_schemes (window_start,
window_end) that the aid computation never read, and that a dossier did not freeze: a
later edit of the scheme would have moved every dossier's dates silently. The dates now
belong to the rules (``spending_from``, ``spending_to``, and the new ``claim_deadline``),
which each dossier copies when it is created. The upgrade writes each scheme's window into
its rules and into the frozen rules of every dossier of that scheme (the window had no
version: the dossiers were created under the scheme's only one), then drops the columns.
It sets no claim deadline: an administrator gives it on the scheme's page.

payments.over_aid_confirmed records that someone confirmed a payment taking the money
received above the computed aid (existing payments: not confirmed).
"""

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "ac8d010314f7"
down_revision = "263eca3f24ec"
branch_labels = None
depends_on = None

DATE_KEYS = ("spending_from", "spending_to", "claim_deadline")

schemes_v1 = sa.table(
    "funding_schemes",
    sa.column("id", sa.Integer),
    sa.column("window_start", sa.Date),
    sa.column("window_end", sa.Date),
    sa.column("rules", sa.JSON),
)
dossiers = sa.table(
    "dossiers",
    sa.column("id", sa.Integer),
    sa.column("scheme_id", sa.Integer),
    sa.column("rules", sa.JSON),
)


def _with_window(rules, start, end):
    out = dict(rules or {})
    for key, value in (("spending_from", start), ("spending_to", end)):
        if value is not None and not out.get(key):
            out[key] = value.isoformat()
    return out


def upgrade():
    bind = op.get_bind()
    windows = {}
    for scheme_id, start, end, rules in bind.execute(
        sa.select(
            schemes_v1.c.id, schemes_v1.c.window_start, schemes_v1.c.window_end, schemes_v1.c.rules
        )
    ).all():
        windows[scheme_id] = (start, end)
        new = _with_window(rules, start, end)
        if new != rules:
            bind.execute(
                sa.update(schemes_v1).where(schemes_v1.c.id == scheme_id).values(rules=new)
            )
    for dossier_id, scheme_id, rules in bind.execute(
        sa.select(dossiers.c.id, dossiers.c.scheme_id, dossiers.c.rules)
    ).all():
        new = _with_window(rules, *windows.get(scheme_id, (None, None)))
        if new != rules:
            bind.execute(sa.update(dossiers).where(dossiers.c.id == dossier_id).values(rules=new))
    # Plain ALTER TABLE, not a batch copy: SQLite (3.35 and later) drops a column in place,
    # where copying funding_schemes would trip the dossiers' foreign keys.
    op.drop_column("funding_schemes", "window_start")
    op.drop_column("funding_schemes", "window_end")
    op.add_column(
        "payments",
        sa.Column("over_aid_confirmed", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade():
    op.drop_column("payments", "over_aid_confirmed")
    op.add_column("funding_schemes", sa.Column("window_start", sa.Date(), nullable=True))
    op.add_column("funding_schemes", sa.Column("window_end", sa.Date(), nullable=True))
    bind = op.get_bind()

    def parse(value):
        return date.fromisoformat(value) if value else None

    def strip(rules):
        return {k: v for k, v in (rules or {}).items() if k not in DATE_KEYS}

    for scheme_id, rules in bind.execute(sa.select(schemes_v1.c.id, schemes_v1.c.rules)).all():
        rules = rules or {}
        bind.execute(
            sa.update(schemes_v1)
            .where(schemes_v1.c.id == scheme_id)
            .values(
                window_start=parse(rules.get("spending_from")),
                window_end=parse(rules.get("spending_to")),
                rules=strip(rules),
            )
        )
    for dossier_id, rules in bind.execute(sa.select(dossiers.c.id, dossiers.c.rules)).all():
        if any(k in (rules or {}) for k in DATE_KEYS):
            bind.execute(
                sa.update(dossiers).where(dossiers.c.id == dossier_id).values(rules=strip(rules))
            )
