"""socle référentiels, capabilities, ratios, the director's kit, digital services

The requirements of the socle now belong to a référentiel that a funding scheme points to;
the SNEE 2021 one is created, made current, given the existing requirements and the new
ones, and linked to the SNEE 2021 scheme when it is installed. Image capture, microphone
and speakers become a requirement of capabilities (declared per category, and per model
when it has them built in); the pupils' mobile equipment a ratio per target classrooms,
with its charging cart or MDM; the director's kit and a way to share work are added.

Revision ID: 7c4e9b2d5a18
Revises: ac8d010314f7
Create Date: 2026-12-06 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from inventory.core.db import UTCDateTime, utcnow

revision = "7c4e9b2d5a18"
down_revision = "ac8d010314f7"
branch_labels = None
depends_on = None

SNEE_CODE = "snee-2021"
SNEE_NAME = "Socle numérique de base — AAP SNEE 2021"
SNEE_NOTE = (
    "Référentiel du ministère pour l'appel à projets « socle numérique dans les écoles "
    "élémentaires » (2021), tel que le résument la DSDEN 27 et l'ERUN 58. Le visualiseur "
    "est facultatif. Exigences par défaut : vérifiez-les avec votre convention."
)

# code, level, kind, French, English, categories, work kinds, service kinds, capabilities,
# minimum, ratio (items, classes). Frozen as shipped on this date.
REQUIREMENTS = [
    ("affichage_collectif", "classroom", "items",
     "Affichage collectif fixe (VP, VPI, TNI ou ENI)",
     "Fixed collective display (projector, VPI, TNI or ENI)",
     "tni,vpi,eni,vp", "", "", "", 1, None),
    ("poste_enseignant", "classroom", "items", "Poste enseignant", "Teacher laptop",
     "poste_enseignant", "", "", "", 1, None),
    ("connexion", "classroom", "items", "Connexion à internet (filaire ou Wi-Fi)",
     "Internet connection (wired or wifi)", "borne_wifi", "cabling,wifi", "", "", 1, None),
    ("captation", "classroom", "capabilities", "Captation d'image, micro et haut-parleurs",
     "Image capture, microphone and speakers", "", "", "", "image,microphone,speakers", 1,
     None),
    ("equipement_mobile", "school", "ratio",
     "Équipement mobile des élèves (tablettes ou portables)",
     "Mobile pupil equipment (tablets or laptops)", "tablette,pc_eleve", "", "", "", 0,
     (10, 4)),
    ("chariot_mdm", "school", "items",
     "Chariot de recharge ou gestion des appareils (MDM)",
     "Charging cart or device management (MDM)", "classe_mobile", "", "mdm", "", 1, None),
    ("wifi_ecole", "school", "items", "Bornes Wi-Fi de l'école", "School wifi access points",
     "borne_wifi", "wifi", "", "", 1, None),
    ("partage", "school", "items", "Partage des travaux (ENT ou cloud)",
     "A way to share work (ENT or cloud)", "", "", "ent,cloud", "", 1, None),
    ("direction_poste", "direction", "items", "Ordinateur de la direction",
     "Head teacher's computer", "poste_direction", "", "", "", 1, None),
    ("direction_connexion", "direction", "items", "Connexion de la direction",
     "Head teacher's connection", "borne_wifi", "cabling,wifi,internet", "", "", 1, None),
    ("direction_copieur", "direction", "items", "Copieur multifonction en réseau",
     "Networked multifunction printer", "copieur", "", "", "", 1, None),
]
# The requirements of the SNEE référentiel before this revision, as they were shipped.
OLD_REQUIREMENTS = {
    "captation": {"kind": "items", "category_codes": "captation,tni,vpi,eni", "capabilities": ""},
    "equipement_mobile": {
        "kind": "items",
        "category_codes": "classe_mobile,tablette,pc_eleve",
        "minimum": 1,
    },
}
NEW_CATEGORIES = [
    # code, French, English, networked, capabilities, position
    ("webcam", "Webcam", "Webcam", False, "image,microphone", 14),
    ("enceintes", "Enceintes", "Speakers", False, "speakers", 15),
    ("micro", "Microphone", "Microphone", False, "microphone", 16),
]
CATEGORY_CAPABILITIES = {"visualiseur": "image", "captation": "image,microphone,speakers"}

referentiels = sa.table(
    "socle_referentiels",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("note", sa.Text),
    sa.column("is_current", sa.Boolean),
    sa.column("created_at", UTCDateTime),
)
requirements = sa.table(
    "socle_requirements",
    sa.column("id", sa.Integer),
    sa.column("referentiel_id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("level", sa.String),
    sa.column("kind", sa.String),
    sa.column("label_fr", sa.String),
    sa.column("label_en", sa.String),
    sa.column("category_codes", sa.String),
    sa.column("work_kinds", sa.String),
    sa.column("service_kinds", sa.String),
    sa.column("capabilities", sa.String),
    sa.column("minimum", sa.Integer),
    sa.column("ratio_items", sa.Integer),
    sa.column("ratio_classes", sa.Integer),
    sa.column("active", sa.Boolean),
    sa.column("position", sa.Integer),
)
categories = sa.table(
    "equipment_categories",
    sa.column("code", sa.String),
    sa.column("name_fr", sa.String),
    sa.column("name_en", sa.String),
    sa.column("networked", sa.Boolean),
    sa.column("position", sa.Integer),
    sa.column("capabilities", sa.String),
)
schemes = sa.table(
    "funding_schemes",
    sa.column("code", sa.String),
    sa.column("referentiel_id", sa.Integer),
)


def upgrade():
    op.create_table(
        "socle_referentiels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_socle_referentiels")),
        sa.UniqueConstraint("code", name=op.f("uq_socle_referentiels_code")),
    )
    with op.batch_alter_table("socle_referentiels", schema=None) as batch_op:
        batch_op.create_index(
            "ix_socle_referentiels_one_current",
            ["is_current"],
            unique=True,
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        )
    op.create_table(
        "digital_services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collectivite_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("ent", "cloud", "mdm", "resource", name="service_kind", native_enum=False,
                    length=20),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=150), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collectivite_id"],
            ["collectivites.id"],
            name=op.f("fk_digital_services_collectivite_id_collectivites"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digital_services")),
    )
    with op.batch_alter_table("digital_services", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_digital_services_collectivite_id"), ["collectivite_id"], unique=False
        )
    op.create_table(
        "digital_service_schools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("ecole_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ecole_id"], ["ecoles.id"], name=op.f("fk_digital_service_schools_ecole_id_ecoles")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["digital_services.id"],
            name=op.f("fk_digital_service_schools_service_id_digital_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digital_service_schools")),
        sa.UniqueConstraint(
            "service_id", "ecole_id", name=op.f("uq_digital_service_schools_service_id_ecole_id")
        ),
    )
    with op.batch_alter_table("digital_service_schools", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_digital_service_schools_ecole_id"), ["ecole_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_digital_service_schools_service_id"), ["service_id"], unique=False
        )

    # Capabilities: a category's, and a model's own (None: its category's).
    with op.batch_alter_table("equipment_categories", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("capabilities", sa.String(length=100), server_default="", nullable=False)
        )
    with op.batch_alter_table("equipment_models", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capabilities", sa.String(length=100), nullable=True))

    with op.batch_alter_table("socle_requirements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referentiel_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum("items", "capabilities", "ratio", name="requirement_kind",
                        native_enum=False, length=20),
                server_default="items",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("service_kinds", sa.String(length=100), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("capabilities", sa.String(length=100), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("ratio_items", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("ratio_classes", sa.Integer(), nullable=True))

    with op.batch_alter_table("funding_schemes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referentiel_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_funding_schemes_referentiel_id"), ["referentiel_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_funding_schemes_referentiel_id_socle_referentiels"),
            "socle_referentiels",
            ["referentiel_id"],
            ["id"],
        )

    seed()

    with op.batch_alter_table("socle_requirements", schema=None) as batch_op:
        batch_op.alter_column("referentiel_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint("uq_socle_requirements_code", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_socle_requirements_referentiel_id_code"), ["referentiel_id", "code"]
        )
        batch_op.create_index(
            batch_op.f("ix_socle_requirements_referentiel_id"), ["referentiel_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_socle_requirements_referentiel_id_socle_referentiels"),
            "socle_referentiels",
            ["referentiel_id"],
            ["id"],
        )

    bind = op.get_bind()
    # The requirements changed under every classroom: the summary is computed again by the
    # app's own rule, and the dashboards' summaries rebuilt when next read.
    if bind.execute(sa.text("SELECT count(*) FROM classrooms")).scalar():
        from inventory.assets.socle import refresh

        refresh(bind)
    bind.execute(sa.text("DELETE FROM summary_state"))


def seed():
    bind = op.get_bind()
    bind.execute(
        sa.insert(referentiels).values(
            code=SNEE_CODE, name=SNEE_NAME, note=SNEE_NOTE, is_current=True, created_at=utcnow()
        )
    )
    snee = bind.execute(
        sa.select(referentiels.c.id).where(referentiels.c.code == SNEE_CODE)
    ).scalar_one()
    # The existing requirements (the shipped ones, and any an administrator added) are
    # the SNEE référentiel's.
    bind.execute(sa.update(requirements).values(referentiel_id=snee))
    existing = set(bind.execute(sa.select(requirements.c.code)).scalars())
    for position, (code, level, kind, fr, en, cats, works, services, caps, minimum, ratio) in (
        enumerate(REQUIREMENTS)
    ):
        values = {
            "level": level,
            "kind": kind,
            "label_fr": fr,
            "label_en": en,
            "category_codes": cats,
            "work_kinds": works,
            "service_kinds": services,
            "capabilities": caps,
            "minimum": minimum,
            "ratio_items": ratio[0] if ratio else None,
            "ratio_classes": ratio[1] if ratio else None,
            "position": position,
        }
        if code in OLD_REQUIREMENTS and code in existing:
            # What the référentiel asks of these two changed: they become its new rows.
            bind.execute(sa.update(requirements).where(requirements.c.code == code).values(values))
        elif code in existing:
            # Kept as they are (an administrator may have changed them), in the new order.
            bind.execute(
                sa.update(requirements)
                .where(requirements.c.code == code)
                .values(position=position)
            )
        else:
            bind.execute(
                sa.insert(requirements).values(
                    referentiel_id=snee, code=code, active=True, **values
                )
            )
    # Requirements added by an administrator come after the shipped ones.
    bind.execute(
        sa.update(requirements)
        .where(requirements.c.code.not_in([r[0] for r in REQUIREMENTS]))
        .values(position=requirements.c.position + len(REQUIREMENTS))
    )

    for code, caps in CATEGORY_CAPABILITIES.items():
        bind.execute(sa.update(categories).where(categories.c.code == code).values(capabilities=caps))
    have = set(bind.execute(sa.select(categories.c.code)).scalars())
    for code, fr, en, networked, caps, position in NEW_CATEGORIES:
        if code not in have:
            bind.execute(
                sa.insert(categories).values(
                    code=code, name_fr=fr, name_en=en, networked=networked, position=position,
                    capabilities=caps,
                )
            )
    bind.execute(
        sa.update(categories)
        .where(categories.c.code == "autre")
        .values(position=max(c[5] for c in NEW_CATEGORIES) + 1)
    )
    bind.execute(
        sa.update(schemes).where(schemes.c.code == SNEE_CODE).values(referentiel_id=snee)
    )


def downgrade():
    bind = op.get_bind()
    snee = bind.execute(
        sa.select(referentiels.c.id).where(referentiels.c.code == SNEE_CODE)
    ).scalar()
    # One set of requirements again: the SNEE référentiel's, as they were shipped.
    bind.execute(sa.delete(requirements).where(requirements.c.referentiel_id != snee))
    new_codes = {r[0] for r in REQUIREMENTS} - {
        "affichage_collectif", "poste_enseignant", "connexion", "wifi_ecole", *OLD_REQUIREMENTS
    }
    bind.execute(sa.delete(requirements).where(requirements.c.code.in_(sorted(new_codes))))
    for code, values in OLD_REQUIREMENTS.items():
        bind.execute(
            sa.update(requirements)
            .where(requirements.c.code == code)
            .values(ratio_items=None, ratio_classes=None, **values)
        )
    bind.execute(
        sa.delete(categories).where(categories.c.code.in_([c[0] for c in NEW_CATEGORIES]))
    )
    bind.execute(sa.update(categories).where(categories.c.code == "autre").values(position=14))

    with op.batch_alter_table("socle_requirements", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_socle_requirements_referentiel_id_socle_referentiels"),
            type_="foreignkey",
        )
        batch_op.drop_index(batch_op.f("ix_socle_requirements_referentiel_id"))
        batch_op.drop_constraint(
            batch_op.f("uq_socle_requirements_referentiel_id_code"), type_="unique"
        )
        batch_op.create_unique_constraint("uq_socle_requirements_code", ["code"])
        batch_op.drop_column("ratio_classes")
        batch_op.drop_column("ratio_items")
        batch_op.drop_column("capabilities")
        batch_op.drop_column("service_kinds")
        batch_op.drop_column("kind")
        batch_op.drop_column("referentiel_id")
    with op.batch_alter_table("funding_schemes", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_funding_schemes_referentiel_id_socle_referentiels"),
            type_="foreignkey",
        )
        batch_op.drop_index(batch_op.f("ix_funding_schemes_referentiel_id"))
        batch_op.drop_column("referentiel_id")
    with op.batch_alter_table("equipment_models", schema=None) as batch_op:
        batch_op.drop_column("capabilities")
    with op.batch_alter_table("equipment_categories", schema=None) as batch_op:
        batch_op.drop_column("capabilities")
    with op.batch_alter_table("digital_service_schools", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digital_service_schools_service_id"))
        batch_op.drop_index(batch_op.f("ix_digital_service_schools_ecole_id"))
    op.drop_table("digital_service_schools")
    with op.batch_alter_table("digital_services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digital_services_collectivite_id"))
    op.drop_table("digital_services")
    with op.batch_alter_table("socle_referentiels", schema=None) as batch_op:
        batch_op.drop_index("ix_socle_referentiels_one_current")
    op.drop_table("socle_referentiels")
    # The dashboards' summaries are rebuilt when next read. (The per-classroom summary
    # keeps the figures of the newer rules until a change recomputes it.)
    bind.execute(sa.text("DELETE FROM summary_state"))
