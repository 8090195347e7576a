"""One store for every file, tested the same way on a local folder and on a real S3 API
(moto's server on the loopback): the interface, uploads through the HTTP routes, and the
purge of old generated files."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from inventory.assets import catalogue, lifecycle
from inventory.assets import photos as asset_photos
from inventory.assets.models import Asset, AssetPhoto
from inventory.core import storage
from inventory.core.storage import LocalStorage, S3Storage, StorageError
from inventory.orgs.models import Classroom, Ecole
from tests.conftest import ADMIN, PASSWORD
from tests.core.conftest import S3_CREDENTIALS, new_bucket, s3_client
from tests.factories import tiny_png


@pytest.fixture
def app_config(backend):
    return backend


@pytest.fixture
def store(app):
    return storage.of(app)


def test_the_configuration_chooses_the_backend(app, backend):
    kind = S3Storage if "STORAGE_URL" in backend else LocalStorage
    assert isinstance(storage.of(app), kind)


def test_save_read_list_delete(store):
    folder = store.folder("uploads/tests")
    assert folder.stat("a.txt") is None and not folder.exists("a.txt")
    with pytest.raises(FileNotFoundError):
        folder.open("a.txt")
    folder.save("a.txt", b"first")
    folder.save("a.txt", b"second")  # replaced whole
    folder.save("sub/b.bin", io.BytesIO(b"\x00" * 70_000))  # a stream, read to its end
    store.save("uploads/testsuite.txt", b"a neighbour with the same prefix text")
    assert folder.read("a.txt") == b"second"
    with folder.open("sub/b.bin") as stream:
        assert stream.read() == b"\x00" * 70_000
    found = folder.stat("a.txt")
    assert found.key == "a.txt" and found.size == 6
    assert abs(found.modified - datetime.now(UTC)) < timedelta(minutes=5)
    listed = list(folder.list())
    assert [(f.key, f.size) for f in listed] == [("a.txt", 6), ("sub/b.bin", 70_000)]
    assert [f.key for f in folder.list("sub/")] == ["sub/b.bin"]
    assert [f.key for f in store.list("uploads/tests")] == [
        "uploads/tests/a.txt",
        "uploads/tests/sub/b.bin",
        "uploads/testsuite.txt",
    ]
    assert folder.folder("sub").read("b.bin") == b"\x00" * 70_000
    folder.delete("a.txt")
    folder.delete("a.txt")  # already gone: nothing to do
    assert not folder.exists("a.txt")
    assert [f.key for f in folder.list()] == ["sub/b.bin"]


@pytest.mark.parametrize(
    "key", ["", "../x", "a/../b", "/abs", "a//b", ".hidden", "a/.b", "a b", "a\n", "é"]
)
def test_keys_outside_the_rules_are_refused(store, key):
    with pytest.raises(StorageError):
        store.save(key, b"x")
    with pytest.raises(StorageError):
        store.folder("uploads").stat(key)


def test_local_files_live_under_the_storage_path(tmp_path):
    store = storage.from_config({"STORAGE_PATH": str(tmp_path / "files")}, str(tmp_path))
    store.folder("uploads/x").save("f.txt", b"here")
    assert (tmp_path / "files" / "uploads" / "x" / "f.txt").read_bytes() == b"here"
    default = storage.from_config({}, str(tmp_path / "instance"))
    assert default.root == tmp_path / "instance" / "files"


def test_s3_files_are_in_the_bucket_under_the_prefix(s3_endpoint):
    bucket = new_bucket(s3_endpoint)
    config = {"STORAGE_URL": f"s3://{bucket}/socle/", "S3_ENDPOINT_URL": s3_endpoint}
    store = storage.from_config({**config, **S3_CREDENTIALS}, "")
    store.folder("uploads/x").save("f.txt", b"there")
    client = s3_client(s3_endpoint)
    body = client.get_object(Bucket=bucket, Key="socle/uploads/x/f.txt")["Body"].read()
    assert body == b"there"
    assert [f.key for f in store.list()] == ["uploads/x/f.txt"]


def test_a_bad_storage_url_is_refused(app):
    with pytest.raises(StorageError):
        storage.from_config({"STORAGE_URL": "ftp://host/x"}, app.instance_path)


# -- through the HTTP routes ---------------------------------------------------------------


def _asset(db_session, uai):
    ecole = db_session.scalar(select(Ecole).filter_by(uai=uai))
    room = db_session.scalars(select(Classroom).filter_by(ecole_id=ecole.id)).first()
    cat = catalogue.category_by_code(db_session, "eni")
    model = catalogue.get_or_create_model(db_session, "Speechi", "SPE-75", cat)
    asset = lifecycle.create_asset(
        db_session, ADMIN, where=lifecycle.Where(ecole.collectivite, ecole, room), model=model
    )
    return asset.id, ecole.collectivite_id


def _signed_in(app, make_user, role, scopes):
    client = app.test_client()
    email = make_user(role, scopes)
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


def test_a_photo_uploaded_downloaded_in_scope_only_and_deleted(
    app, registry, make_user, db_session, store
):
    asset_id, coll = _asset(db_session, "0940176F")
    tech = _signed_in(app, make_user, "technicien", [("collectivite", coll)])
    png = tiny_png()
    boundary, body = encode_multipart({"photo": FileStorage(io.BytesIO(png), "IMG_1.JPG")})
    sent = tech.post(
        f"/equipements/{asset_id}/photos",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert sent.status_code == 302
    photo = db_session.scalars(select(AssetPhoto)).one()
    assert store.folder("uploads/assets").read(photo.stored_name) == png
    with tech.get(f"/equipements/photos/{photo.id}") as served:
        assert served.status_code == 200 and served.data == png
        assert served.mimetype == "image/png"
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert served.headers["Cache-Control"] == "private, no-cache"
    elsewhere = registry["collectivites"]["Créteil"]
    assert elsewhere != coll
    other = _signed_in(app, make_user, "technicien", [("collectivite", elsewhere)])
    assert other.get(f"/equipements/photos/{photo.id}").status_code == 404
    assert app.test_client().get(f"/equipements/photos/{photo.id}").status_code == 302
    name = photo.stored_name
    assert tech.post(f"/equipements/photos/{photo.id}/supprimer").status_code == 302
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(AssetPhoto)) == 0
    assert not store.folder("uploads/assets").exists(name)


def test_a_record_whose_file_is_gone_answers_404(app, registry, make_user, db_session, store):
    asset_id, coll = _asset(db_session, "0940176F")
    photo = asset_photos.store_photo(
        db_session,
        ADMIN,
        db_session.get(Asset, asset_id),
        tiny_png(),
        store.folder("uploads/assets"),
    )
    tech = _signed_in(app, make_user, "technicien", [("collectivite", coll)])
    with tech.get(f"/equipements/photos/{photo.id}") as served:
        assert served.status_code == 200
    store.folder("uploads/assets").delete(photo.stored_name)
    assert tech.get(f"/equipements/photos/{photo.id}").status_code == 404


# -- old generated files -------------------------------------------------------------------
def test_old_generated_files_are_purged_and_uploads_kept(store):
    store.save("generated/labels/job-1.pdf", b"%PDF-1.4")
    store.save("generated/packs/pack-1.zip", b"PK")
    store.save("uploads/assets/" + "a" * 32 + ".png", b"png")
    now = datetime.now(UTC)
    assert storage.purge_generated(store, timedelta(days=7), now) == []
    later = now + timedelta(days=8)
    gone = storage.purge_generated(store, timedelta(days=7), later)
    assert gone == ["generated/labels/job-1.pdf", "generated/packs/pack-1.zip"]
    assert [f.key for f in store.list()] == ["uploads/assets/" + "a" * 32 + ".png"]


def test_flask_storage_purge(app, store):
    store.save("generated/labels/job-2.pdf", b"%PDF-1.4")
    runner = app.test_cli_runner()
    kept = runner.invoke(args=["storage", "purge"])
    assert kept.exit_code == 0 and "0 generated file(s) older than 7 day(s)" in kept.output
    assert store.exists("generated/labels/job-2.pdf")
    purged = runner.invoke(args=["storage", "purge", "--days", "0"])
    assert purged.exit_code == 0 and "1 generated file(s)" in purged.output
    assert not store.exists("generated/labels/job-2.pdf")
