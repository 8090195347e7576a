"""Suppliers: the directory, contracts and the items they cover, the terms of the digital
services' subscriptions, maintenance records and plans, the alerts sent before an end; items
link to their supplier (the free-text suppliers become the directory's, per collectivité)

Revision ID: d27a1c5e9b70
Revises: d27b1a5e0f37
Create Date: 2026-12-07 13:59:31.585254
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from inventory.core import search

revision = "d27a1c5e9b70"
down_revision = "d27b1a5e0f37"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "expiry_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "subject",
            sa.Enum(
                "subscription",
                "contract",
                "warranty",
                name="alert_subject",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expiry_alerts")),
        sa.UniqueConstraint(
            "subject",
            "object_id",
            "ends_on",
            "days_before",
            name=op.f("uq_expiry_alerts_subject_object_id_ends_on_days_before"),
        ),
    )
    op.create_table(
        "suppliers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collectivite_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("siret", sa.String(length=14), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collectivite_id"],
            ["collectivites.id"],
            name=op.f("fk_suppliers_collectivite_id_collectivites"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppliers")),
        sa.UniqueConstraint(
            "collectivite_id", "name", name=op.f("uq_suppliers_collectivite_id_name")
        ),
        sa.UniqueConstraint(
            "collectivite_id", "siret", name=op.f("uq_suppliers_collectivite_id_siret")
        ),
    )
    with op.batch_alter_table("suppliers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_suppliers_collectivite_id"), ["collectivite_id"], unique=False
        )

    op.create_table(
        "supplier_contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("collectivite_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "maintenance",
                "warranty",
                "leasing",
                name="contract_kind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("cost_per_year_cents", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collectivite_id"],
            ["collectivites.id"],
            name=op.f("fk_supplier_contracts_collectivite_id_collectivites"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_supplier_contracts_supplier_id_suppliers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_contracts")),
        sa.UniqueConstraint(
            "supplier_id", "reference", name=op.f("uq_supplier_contracts_supplier_id_reference")
        ),
    )
    with op.batch_alter_table("supplier_contracts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supplier_contracts_collectivite_id"), ["collectivite_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supplier_contracts_ends_on"), ["ends_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supplier_contracts_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "service_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=True),
        sa.Column("seats_bought", sa.Integer(), nullable=True),
        sa.Column("seats_used", sa.Integer(), nullable=True),
        sa.Column("cost_per_year_cents", sa.Integer(), nullable=True),
        sa.Column("renews", sa.Boolean(), nullable=False),
        sa.Column("expense_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["expense_id"],
            ["expenses.id"],
            name=op.f("fk_service_subscriptions_expense_id_expenses"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["digital_services.id"],
            name=op.f("fk_service_subscriptions_service_id_digital_services"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_service_subscriptions_supplier_id_suppliers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_subscriptions")),
        sa.UniqueConstraint("service_id", name=op.f("uq_service_subscriptions_service_id")),
    )
    with op.batch_alter_table("service_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_subscriptions_expense_id"), ["expense_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_subscriptions_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "maintenance_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("every_months", sa.Integer(), nullable=False),
        sa.Column("next_due", sa.Date(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_maintenance_plans_asset_id_assets")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_maintenance_plans_supplier_id_suppliers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_plans")),
    )
    with op.batch_alter_table("maintenance_plans", schema=None) as batch_op:
        batch_op.create_index(
            "ix_maintenance_plans_active_next_due", ["active", "next_due"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_maintenance_plans_asset_id"), ["asset_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_maintenance_plans_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "subscription_classrooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("classroom_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["classroom_id"],
            ["classrooms.id"],
            name=op.f("fk_subscription_classrooms_classroom_id_classrooms"),
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["service_subscriptions.id"],
            name=op.f("fk_subscription_classrooms_subscription_id_service_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_classrooms")),
        sa.UniqueConstraint(
            "subscription_id",
            "classroom_id",
            name=op.f("uq_subscription_classrooms_subscription_id_classroom_id"),
        ),
    )
    with op.batch_alter_table("subscription_classrooms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscription_classrooms_classroom_id"), ["classroom_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_subscription_classrooms_subscription_id"),
            ["subscription_id"],
            unique=False,
        )

    op.create_table(
        "supplier_contract_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_supplier_contract_items_asset_id_assets")
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["supplier_contracts.id"],
            name=op.f("fk_supplier_contract_items_contract_id_supplier_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_contract_items")),
        sa.UniqueConstraint(
            "contract_id", "asset_id", name=op.f("uq_supplier_contract_items_contract_id_asset_id")
        ),
    )
    with op.batch_alter_table("supplier_contract_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supplier_contract_items_asset_id"), ["asset_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supplier_contract_items_contract_id"), ["contract_id"], unique=False
        )

    op.create_table(
        "maintenance_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "repair", "visit", "claim", name="maintenance_kind", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("supplier_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("cost_cents", sa.Integer(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("under_warranty", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_maintenance_records_asset_id_assets")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_maintenance_records_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["maintenance_plans.id"],
            name=op.f("fk_maintenance_records_plan_id_maintenance_plans"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_maintenance_records_supplier_id_suppliers"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_maintenance_records_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_records")),
    )
    with op.batch_alter_table("maintenance_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_maintenance_records_asset_id_done_on", ["asset_id", "done_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_maintenance_records_plan_id"), ["plan_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_maintenance_records_supplier_id"), ["supplier_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_maintenance_records_ticket_id"), ["ticket_id"], unique=False
        )

    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supplier_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_assets_supplier_id"), ["supplier_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_assets_supplier_id_suppliers"),
            "suppliers",
            ["supplier_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # SQLite rebuilt the table for its foreign key, dropping the text search's triggers.
    for statement in search.rebuilt_table_sql(op.get_bind().dialect.name, "assets"):
        op.execute(statement)

    _suppliers_from_free_text()


def _suppliers_from_free_text():
    """Each collectivité's suppliers as its items name them (one per name, whatever its
    case), and each item linked to its own."""
    named = "supplier IS NOT NULL AND TRIM(supplier) <> ''"
    op.get_bind().execute(
        sa.text(
            "INSERT INTO suppliers (collectivite_id, name, version, created_at) "
            "SELECT collectivite_id, MIN(TRIM(supplier)), 1, :now FROM assets "
            f"WHERE {named} GROUP BY collectivite_id, LOWER(TRIM(supplier))"
        ),
        {"now": datetime.now(UTC)},
    )
    op.execute(
        "UPDATE assets SET supplier_id = (SELECT s.id FROM suppliers s "
        "WHERE s.collectivite_id = assets.collectivite_id "
        "AND LOWER(s.name) = LOWER(TRIM(assets.supplier))) "
        f"WHERE {named}"
    )


def downgrade():
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_assets_supplier_id_suppliers"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_assets_supplier_id"))
        batch_op.drop_column("supplier_id")
    for statement in search.rebuilt_table_sql(op.get_bind().dialect.name, "assets"):
        op.execute(statement)

    with op.batch_alter_table("maintenance_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintenance_records_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_maintenance_records_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_maintenance_records_plan_id"))
        batch_op.drop_index("ix_maintenance_records_asset_id_done_on")

    op.drop_table("maintenance_records")
    with op.batch_alter_table("supplier_contract_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplier_contract_items_contract_id"))
        batch_op.drop_index(batch_op.f("ix_supplier_contract_items_asset_id"))

    op.drop_table("supplier_contract_items")
    with op.batch_alter_table("subscription_classrooms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscription_classrooms_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_subscription_classrooms_classroom_id"))

    op.drop_table("subscription_classrooms")
    with op.batch_alter_table("maintenance_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintenance_plans_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_maintenance_plans_asset_id"))
        batch_op.drop_index("ix_maintenance_plans_active_next_due")

    op.drop_table("maintenance_plans")
    with op.batch_alter_table("service_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_subscriptions_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_service_subscriptions_expense_id"))

    op.drop_table("service_subscriptions")
    with op.batch_alter_table("supplier_contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplier_contracts_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_supplier_contracts_ends_on"))
        batch_op.drop_index(batch_op.f("ix_supplier_contracts_collectivite_id"))

    op.drop_table("supplier_contracts")
    with op.batch_alter_table("suppliers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suppliers_collectivite_id"))

    op.drop_table("suppliers")
    op.drop_table("expiry_alerts")
