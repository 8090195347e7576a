"""Reporters' photos: checked by content and re-encoded without metadata, before they are
kept as any upload is (core.uploads).

A phone photo carries EXIF data (GPS position, device, time). Every photo is decoded and
re-encoded to a fresh JPEG, at most 1600 px on its longer side, so that nothing of the
original file but its pixels is kept.
"""

from __future__ import annotations

import io
import warnings

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps

from inventory.core import uploads
from inventory.core.errors import DomainError

try:  # HEIC/HEIF (iPhone photos) when the optional plug-in is installed.
    from pillow_heif import register_heif_opener  # type: ignore[import-not-found]

    register_heif_opener()
except ImportError:  # pragma: no cover - depends on the environment
    pass

MAX_BYTES = 8 * 1024 * 1024
MAX_SIDE = 1600
MAX_PIXELS = 50_000_000  # a larger image is refused rather than decoded
ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "HEIF", "HEIC"})


class PhotoError(DomainError):
    pass


def reencode(data: bytes) -> bytes:
    """A clean JPEG of the image in ``data``: oriented, at most MAX_SIDE px, no metadata."""
    uploads.check_size(data, MAX_BYTES, "photo", photo=True)
    refused = PhotoError(_l("Send a JPEG, PNG, WebP or HEIC photo."), field="photo")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as source:
                if source.format not in ACCEPTED_FORMATS:
                    raise refused
                if source.width * source.height > MAX_PIXELS:
                    raise PhotoError(_l("This photo is too large."), field="photo")
                source.load()
                image = ImageOps.exif_transpose(source)
                image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
                rgb = _flatten(image)
    except PhotoError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise PhotoError(_l("This photo is too large."), field="photo") from None
    except Exception:  # untrusted bytes: any decoding failure is a refusal
        raise refused from None
    # A new image holds the pixels only: no EXIF, XMP, ICC profile or comment survives.
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """RGB pixels; transparent parts become white."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")
