"""collectivités: a provisional name and kind, and no more 'SIREN nnn'

Revision ID: 263eca3f24ec
Revises: 912c018b228d
Create Date: 2026-12-06 10:00:00

The Annuaire import named every owner whose SIREN was not a classic commune SIREN
"SIREN nnn", kind EPCI. Such a body is now either the commune of its schools (a commune
nouvelle has a 200… SIREN: kind commune, named after it, linked to it) or, when its schools
lie in several communes, an intercommunal body with a readable provisional name, flagged
provisional until an administrator names it and sets its kind.

The names are written in French, as the import writes them
(inventory.orgs.owners.provisional_name, with which a test compares this copy).
"""

import sqlalchemy as sa
from alembic import op

revision = "263eca3f24ec"
down_revision = "912c018b228d"
branch_labels = None
depends_on = None

collectivites = sa.table(
    "collectivites",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("name", sa.String),
    sa.column("siren", sa.String),
    sa.column("commune_id", sa.Integer),
    sa.column("provisional", sa.Boolean),
)
communes = sa.table(
    "communes",
    sa.column("id", sa.Integer),
    sa.column("insee", sa.String),
    sa.column("name", sa.String),
)
ecoles = sa.table(
    "ecoles", sa.column("collectivite_id", sa.Integer), sa.column("commune_id", sa.Integer)
)
members = sa.table(
    "collectivite_members",
    sa.column("collectivite_id", sa.Integer),
    sa.column("commune_id", sa.Integer),
)


def _fold(value):
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def provisional_name(commune_names):
    """The import's provisional name of an intercommunal body, in French."""
    names = sorted(set(commune_names), key=lambda n: (_fold(n), n)) or ["?"]
    if len(names) == 1:
        return f"Regroupement de la commune {names[0]}"[:200]
    if len(names) <= 3:
        listed = f"{', '.join(names[:-1])} et {names[-1]}"
    else:
        listed = f"{', '.join(names[:2])} et {len(names) - 2} autres"
    return f"Regroupement des communes {listed}"[:200]


def upgrade():
    # A plain ADD COLUMN, on SQLite too (a batch would copy the table, which the rows of
    # other tables reference).
    op.add_column(
        "collectivites",
        sa.Column("provisional", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    bind = op.get_bind()
    legacy = [
        (coll_id, siren)
        for coll_id, name, siren in bind.execute(
            sa.select(collectivites.c.id, collectivites.c.name, collectivites.c.siren).where(
                collectivites.c.name.like("SIREN %"), collectivites.c.siren.is_not(None)
            )
        )
        if name == f"SIREN {siren}"
    ]
    if not legacy:
        return
    names = dict(bind.execute(sa.select(communes.c.id, communes.c.name)).all())
    taken = set(
        bind.execute(
            sa.select(collectivites.c.commune_id).where(collectivites.c.commune_id.is_not(None))
        ).scalars()
    )
    for coll_id, _siren in legacy:
        places = set(
            bind.execute(
                sa.select(members.c.commune_id).where(members.c.collectivite_id == coll_id)
            ).scalars()
        ) | set(
            bind.execute(
                sa.select(ecoles.c.commune_id).where(ecoles.c.collectivite_id == coll_id)
            ).scalars()
        )
        if len(places) == 1 and (seat := next(iter(places))) not in taken:
            # A commune nouvelle (or any commune with a newer SIREN): that commune.
            taken.add(seat)
            bind.execute(
                sa.update(collectivites)
                .where(collectivites.c.id == coll_id)
                .values(kind="commune", name=names[seat], commune_id=seat, provisional=False)
            )
            bind.execute(sa.delete(members).where(members.c.collectivite_id == coll_id))
        else:
            bind.execute(
                sa.update(collectivites)
                .where(collectivites.c.id == coll_id)
                .values(
                    name=provisional_name(names[c] for c in places if c in names),
                    provisional=True,
                )
            )


def downgrade():
    # The names given stay; the new kind 'syndicat' becomes 'epci' (a syndicat is an EPCI).
    bind = op.get_bind()
    bind.execute(
        sa.update(collectivites).where(collectivites.c.kind == "syndicat").values(kind="epci")
    )
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("ALTER TABLE collectivites DROP COLUMN provisional")
    else:
        op.drop_column("collectivites", "provisional")
