"""A request that only read ends its transaction with COMMIT (so that psycopg keeps the
statements it prepared); one that wrote without committing, failed, or came by an unsafe
method still ends with ROLLBACK, and loses what it did not commit, as before."""

from __future__ import annotations

import pytest
from flask import abort, stream_with_context
from sqlalchemy import event, func, insert, select

from inventory.extensions import db
from inventory.orgs.models import Academie


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Academie)) or 0


@pytest.fixture
def ends(app):
    """The app with routes that read, write or fail, and the endings they get."""

    @app.route("/t/read", methods=["GET", "POST"])
    def read():
        return str(_count())

    @app.get("/t/read-then-refuse")
    def read_then_refuse():
        _count()
        abort(404)

    @app.get("/t/write-orm")
    def write_orm():  # an object added, not committed
        db.session.add(Academie(code="T1", name="Essai"))
        db.session.flush()
        return "added"

    @app.get("/t/write-core")
    def write_core():  # a statement that writes, not committed
        db.session.execute(insert(Academie).values(code="T2", name="Essai"))
        return "inserted"

    @app.get("/t/stream")
    def stream():  # an export: read as it is sent
        def rows():
            yield "count: "
            yield str(_count())

        return app.response_class(stream_with_context(rows()))

    seen: list[str] = []
    with app.app_context():
        engine = db.engine
    on_commit = lambda _conn: seen.append("commit")  # noqa: E731
    on_rollback = lambda _conn: seen.append("rollback")  # noqa: E731
    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)
    yield app.test_client(), seen
    event.remove(engine, "commit", on_commit)
    event.remove(engine, "rollback", on_rollback)


@pytest.mark.own_app
def test_a_read_ends_with_commit_and_anything_else_as_before(ends, app):
    client, seen = ends
    with app.app_context():
        before = _count()
        db.session.remove()
    seen.clear()

    assert client.get("/t/read").status_code == 200
    assert seen[:1] == ["commit"], "a GET that only read is committed"
    for url in ("/t/write-orm", "/t/write-core"):
        seen.clear()
        assert client.get(url).status_code == 200
        assert "commit" not in seen and "rollback" in seen, url
    seen.clear()
    assert client.get("/t/read-then-refuse").status_code == 404
    assert "commit" not in seen and "rollback" in seen
    seen.clear()
    streamed = client.get("/t/stream")
    assert streamed.get_data(as_text=True) == f"count: {before}"
    assert "commit" not in seen, "a streamed answer reads on until its end"
    seen.clear()
    assert client.post("/t/read").status_code == 200
    assert "commit" not in seen and "rollback" in seen

    with app.app_context():
        assert _count() == before, "what a GET wrote without committing is lost"
