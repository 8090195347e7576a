"""The one version check and its guard (inventory.core.versioning), on a model of their own
in the real test database: what a save finds when someone else saved first, and that no
flush anywhere in a guarded service escapes as StaleDataError."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from inventory.core.errors import ConflictError
from inventory.core.versioning import Versioned, check_version, commit, conflicts_as, guarded
from tests.concurrently import simultaneously


class ProbeBase(DeclarativeBase):
    pass


class Probe(Versioned, ProbeBase):
    __tablename__ = "versioning_probe"
    id: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str] = mapped_column(String(50), default="")


class Lost(ConflictError):
    pass


def lost() -> Lost:
    return Lost("lost the race")


@pytest.fixture
def engine(database_url: str) -> Iterator[object]:
    engine = create_engine(database_url)
    ProbeBase.metadata.create_all(engine)
    yield engine
    ProbeBase.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def probe_id(engine) -> int:
    with Session(engine) as session:
        probe = Probe(note="first")
        session.add(probe)
        session.commit()
        return probe.id


def saved_version(engine, probe_id: int) -> tuple[int, str]:
    with Session(engine) as session:
        probe = session.get(Probe, probe_id)
        return probe.version, probe.note


def someone_else_saves(engine, probe_id: int, note: str = "theirs") -> None:
    with Session(engine) as other:
        other.get(Probe, probe_id).note = note
        other.commit()


def test_the_mixin_declares_the_version_counter(engine, probe_id):
    assert Probe.__mapper__.version_id_col is Probe.__table__.c.version
    assert not Probe.__table__.c.version.nullable
    assert saved_version(engine, probe_id) == (1, "first")
    someone_else_saves(engine, probe_id)
    assert saved_version(engine, probe_id) == (2, "theirs")


def test_a_save_at_the_loaded_version_claims_the_record_and_moves_it_on(engine, probe_id):
    with Session(engine) as session:
        probe = session.get(Probe, probe_id)
        check_version(probe, 1, lost())
        # Claimed, even before any column changes: a save of linked rows only is a new
        # version too.
        assert probe.version == 2
        session.commit()
    assert saved_version(engine, probe_id) == (2, "first")
    with Session(engine) as session:
        probe = session.get(Probe, probe_id)
        check_version(probe, None, lost())  # no form: the version loaded here
        probe.note = "mine"
        session.commit()
    version, note = saved_version(engine, probe_id)
    assert note == "mine" and version > 2


def test_a_form_older_than_the_record_is_a_conflict_and_writes_nothing(engine, probe_id):
    someone_else_saves(engine, probe_id)
    with Session(engine) as session:
        probe = session.get(Probe, probe_id)
        with pytest.raises(Lost):
            check_version(probe, 1, lost())
        session.rollback()
    assert saved_version(engine, probe_id) == (2, "theirs")


def test_a_save_made_meanwhile_is_found_by_the_claim(engine, probe_id):
    with Session(engine) as session:
        probe = session.get(Probe, probe_id)
        someone_else_saves(engine, probe_id)
        # The form and the copy loaded here agree, but the row has moved on.
        with pytest.raises(Lost):
            check_version(probe, 1, lost())
        session.rollback()
    assert saved_version(engine, probe_id) == (2, "theirs")


def test_two_saves_at_the_same_instant_one_wins_one_conflicts(engine, probe_id):
    """Both load version 1 before either claims it: the second claim waits for the first
    save (the row or the database is locked), then finds the version moved on."""

    def save(note: str) -> str:
        with Session(engine) as session:
            probe = session.get(Probe, probe_id)
            try:
                check_version(probe, 1, lost())
                probe.note = note
                commit(session, lost())
            except Lost:
                session.rollback()
                return "conflict"
            return "saved"

    for _round in range(5):
        with Session(engine) as session:
            session.get(Probe, probe_id).version = 1  # each round starts at version 1
            session.commit()
        results = simultaneously(Probe, lambda: save("a"), lambda: save("b"))
        assert sorted(results) == ["conflict", "saved"], results
        assert saved_version(engine, probe_id)[1] == ("a" if results[0] == "saved" else "b")


def test_a_guarded_service_turns_a_stale_autoflush_into_its_conflict(engine, probe_id):
    @guarded(lost)
    def rename(session: Session, probe: Probe, note: str) -> None:
        probe.note = note
        # Any read autoflushes the change; the row was saved meanwhile.
        session.scalars(select(Probe.id)).all()
        session.commit()

    with Session(engine) as session:
        probe = session.get(Probe, probe_id)
        someone_else_saves(engine, probe_id)
        with pytest.raises(Lost):
            rename(session, probe, "mine")
        # Rolled back by the guard: the session is usable again.
        assert session.get(Probe, probe_id).note == "theirs"
    assert saved_version(engine, probe_id) == (2, "theirs")


def test_the_guard_and_the_commit_leave_other_errors_alone(engine, probe_id):
    with Session(engine) as session:
        with pytest.raises(ZeroDivisionError), conflicts_as(session, lost):
            _ = 1 / 0
        probe = session.get(Probe, probe_id)
        someone_else_saves(engine, probe_id)
        probe.note = "mine"
        with pytest.raises(Lost) as err:
            commit(session, lost())
        assert not isinstance(err.value.__cause__, StaleDataError)
    assert saved_version(engine, probe_id) == (2, "theirs")
