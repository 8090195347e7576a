"""Photos of an item: stored under the upload folder with a random name, removed with
their record."""

from __future__ import annotations

from sqlalchemy.orm import Session

from inventory.assets.models import (
    Asset,
    AssetPhoto,
)
from inventory.core import policy, uploads
from inventory.core.policy import Action, Subject
from inventory.core.storage import Storage

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = (uploads.JPEG, uploads.PNG, uploads.WEBP)


def store_photo(
    session: Session, user: Subject, asset: Asset, data: bytes, directory: Storage
) -> AssetPhoto:
    """Keep a JPEG, PNG or WebP photo of ``asset`` under ``directory`` with a random name."""
    if not policy.can(user, Action.EDIT, asset, session):
        raise policy.Denied()
    content_type = uploads.accept(data, PHOTO_TYPES, PHOTO_MAX_BYTES, "photo")
    name = uploads.store(directory, data, content_type)
    photo = AssetPhoto(asset=asset, stored_name=name, content_type=content_type, size=len(data))
    session.add(photo)
    try:
        session.commit()
    except Exception:
        session.rollback()
        uploads.remove(directory, name)
        raise
    return photo


def delete_photo(session: Session, user: Subject, photo: AssetPhoto, directory: Storage) -> None:
    if not policy.can(user, Action.EDIT, photo, session):
        raise policy.Denied()
    name = photo.stored_name
    session.delete(photo)
    session.commit()
    uploads.remove(directory, name)
