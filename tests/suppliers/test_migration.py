"""The migration of the free-text suppliers: each collectivité gets one supplier per name its
items give (whatever the case and spaces), and each item is linked to its own."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import create_engine

from inventory import create_app

ROW = (
    "INSERT INTO assets (id, tag, model_id, category_id, collectivite_id, placement, status, "
    "status_since, supplier, created_at, search_text, version) VALUES "
    "(?, ?, 1, 1, ?, 'storage', 'delivered', '2026-01-05 10:00:00.000000', ?, "
    "'2026-01-05 10:00:00.000000', '', 1)"
)


def test_free_text_suppliers_become_the_directory_s(tmp_path):
    url = f"sqlite:///{tmp_path / 'suppliers.db'}"
    app = create_app(
        {"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "t", "INSTANCE_PATH": str(tmp_path)}
    )
    engine = create_engine(url)
    items = [
        (1, "A-1", 1, "UGAP"),
        (2, "A-2", 1, " ugap "),
        (3, "A-3", 1, "Manutan"),
        (4, "A-4", 2, "UGAP"),
        (5, "A-5", 2, None),
        (6, "A-6", 2, "  "),
    ]
    with app.app_context():
        upgrade(revision="c4e8f2a9b611")
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # the items alone matter here
            for values in items:
                conn.exec_driver_sql(ROW, values)
        upgrade(revision="d27a1c5e9b70")
        with engine.connect() as conn:
            suppliers = conn.exec_driver_sql(
                "SELECT id, collectivite_id, name FROM suppliers ORDER BY collectivite_id, name"
            ).all()
            links = dict(conn.exec_driver_sql("SELECT id, supplier_id FROM assets").all())
    engine.dispose()
    named = {(c, n): i for i, c, n in suppliers}
    assert sorted(named) == [(1, "Manutan"), (1, "UGAP"), (2, "UGAP")]
    assert links[1] == links[2] == named[(1, "UGAP")]
    assert links[3] == named[(1, "Manutan")] and links[4] == named[(2, "UGAP")]
    assert links[5] is None and links[6] is None
