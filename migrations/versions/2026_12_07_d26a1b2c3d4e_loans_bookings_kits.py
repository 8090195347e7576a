"""Loans: kits to book (a classe mobile and its devices), their bookings and quarter-hour
slots (the clash guarantee), loans of items, and each collectivité's loan conditions

Revision ID: d26a1b2c3d4e
Revises: d24a1c5e7b90
Create Date: 2026-12-07 14:00:34.348410
"""

import sqlalchemy as sa
from alembic import op


revision = "d26a1b2c3d4e"
down_revision = "d24a1c5e7b90"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "loan_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collectivite_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collectivite_id"],
            ["collectivites.id"],
            name=op.f("fk_loan_terms_collectivite_id_collectivites"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_terms")),
        sa.UniqueConstraint("collectivite_id", name=op.f("uq_loan_terms_collectivite_id")),
    )
    op.create_table(
        "loan_kits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collectivite_id", sa.Integer(), nullable=False),
        sa.Column("ecole_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("booking_token", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collectivite_id"],
            ["collectivites.id"],
            name=op.f("fk_loan_kits_collectivite_id_collectivites"),
        ),
        sa.ForeignKeyConstraint(
            ["ecole_id"], ["ecoles.id"], name=op.f("fk_loan_kits_ecole_id_ecoles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_kits")),
        sa.UniqueConstraint("booking_token", name=op.f("uq_loan_kits_booking_token")),
        sa.UniqueConstraint("ecole_id", "name", name=op.f("uq_loan_kits_ecole_id_name")),
    )
    with op.batch_alter_table("loan_kits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loan_kits_collectivite_id"), ["collectivite_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_loan_kits_ecole_id"), ["ecole_id"], unique=False)

    op.create_table(
        "loan_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kit_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("confirmed", "cancelled", name="booking_status", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("group_label", sa.String(length=60), nullable=False),
        sa.Column("booked_by", sa.String(length=120), nullable=False),
        sa.Column("classroom_id", sa.Integer(), nullable=True),
        sa.Column("series", sa.String(length=16), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["classroom_id"],
            ["classrooms.id"],
            name=op.f("fk_loan_bookings_classroom_id_classrooms"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_loan_bookings_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["kit_id"],
            ["loan_kits.id"],
            name=op.f("fk_loan_bookings_kit_id_loan_kits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_bookings")),
    )
    with op.batch_alter_table("loan_bookings", schema=None) as batch_op:
        batch_op.create_index("ix_loan_bookings_kit_starts", ["kit_id", "starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_loan_bookings_series"), ["series"], unique=False)

    op.create_table(
        "loan_booking_slots",
        sa.Column("kit_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["loan_bookings.id"],
            name=op.f("fk_loan_booking_slots_booking_id_loan_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["kit_id"],
            ["loan_kits.id"],
            name=op.f("fk_loan_booking_slots_kit_id_loan_kits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kit_id", "starts_at", name=op.f("pk_loan_booking_slots")),
    )
    with op.batch_alter_table("loan_booking_slots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loan_booking_slots_booking_id"), ["booking_id"], unique=False
        )

    op.create_table(
        "loan_kit_items",
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("kit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets.id"],
            name=op.f("fk_loan_kit_items_asset_id_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["kit_id"],
            ["loan_kits.id"],
            name=op.f("fk_loan_kit_items_kit_id_loan_kits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("asset_id", name=op.f("pk_loan_kit_items")),
    )
    with op.batch_alter_table("loan_kit_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loan_kit_items_kit_id"), ["kit_id"], unique=False)

    op.create_table(
        "loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collectivite_id", sa.Integer(), nullable=False),
        sa.Column("ecole_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("kit_id", sa.Integer(), nullable=True),
        sa.Column(
            "borrower_kind",
            sa.Enum(
                "classroom", "staff", "family", name="borrower_kind", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("classroom_id", sa.Integer(), nullable=True),
        sa.Column("staff_name", sa.String(length=120), nullable=True),
        sa.Column("pupil_first_name", sa.String(length=60), nullable=True),
        sa.Column("pupil_class", sa.String(length=30), nullable=True),
        sa.Column("guardian_name", sa.String(length=120), nullable=True),
        sa.Column("guardian_contact", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            sa.Enum("out", "returned", name="loan_status", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("returned_on", sa.Date(), nullable=True),
        sa.Column(
            "condition_out",
            sa.Enum(
                "new",
                "good",
                "worn",
                "damaged",
                "missing",
                name="loan_condition",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "condition_in",
            sa.Enum(
                "new",
                "good",
                "worn",
                "damaged",
                "missing",
                name="loan_condition",
                native_enum=False,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("return_notes", sa.Text(), nullable=True),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], name=op.f("fk_loans_asset_id_assets")),
        sa.ForeignKeyConstraint(
            ["classroom_id"], ["classrooms.id"], name=op.f("fk_loans_classroom_id_classrooms")
        ),
        sa.ForeignKeyConstraint(
            ["collectivite_id"],
            ["collectivites.id"],
            name=op.f("fk_loans_collectivite_id_collectivites"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_loans_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(["ecole_id"], ["ecoles.id"], name=op.f("fk_loans_ecole_id_ecoles")),
        sa.ForeignKeyConstraint(
            ["kit_id"],
            ["loan_kits.id"],
            name=op.f("fk_loans_kit_id_loan_kits"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
    )
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loans_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_loans_collectivite_id"), ["collectivite_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_loans_ecole_id"), ["ecole_id"], unique=False)
        batch_op.create_index("ix_loans_status_due_on", ["status", "due_on"], unique=False)
        batch_op.create_index(
            "uq_loans_open_asset",
            ["asset_id"],
            unique=True,
            sqlite_where=sa.text("status = 'out'"),
            postgresql_where=sa.text("status = 'out'"),
        )


def downgrade():
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_loans_open_asset",
            sqlite_where=sa.text("status = 'out'"),
            postgresql_where=sa.text("status = 'out'"),
        )
        batch_op.drop_index("ix_loans_status_due_on")
        batch_op.drop_index(batch_op.f("ix_loans_ecole_id"))
        batch_op.drop_index(batch_op.f("ix_loans_collectivite_id"))
        batch_op.drop_index(batch_op.f("ix_loans_asset_id"))

    op.drop_table("loans")
    with op.batch_alter_table("loan_kit_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_kit_items_kit_id"))

    op.drop_table("loan_kit_items")
    with op.batch_alter_table("loan_booking_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_booking_slots_booking_id"))

    op.drop_table("loan_booking_slots")
    with op.batch_alter_table("loan_bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_bookings_series"))
        batch_op.drop_index("ix_loan_bookings_kit_starts")

    op.drop_table("loan_bookings")
    with op.batch_alter_table("loan_kits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_kits_ecole_id"))
        batch_op.drop_index(batch_op.f("ix_loan_kits_collectivite_id"))

    op.drop_table("loan_kits")
    op.drop_table("loan_terms")
