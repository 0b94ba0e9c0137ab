"""Init images for image-to-image: decoding what a request sends (a data URL) or points at (an
image of this site), and the PNG the worker gets, which the server always makes itself (at the
generation's size) rather than storing what was sent."""

import base64
import binascii
import io
import math

from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

from generation.models import GenerationImage
from generation.schemas import MAX_INIT_IMAGE_BYTES, MIN_SIDE
from rollerai.exceptions import InvalidRequest

FIELD = "init_image"
# The data URL's type -> the format PIL must find in it.
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
# Cameras' JPEGs with a second picture inside are "MPO" to PIL: JPEGs all the same.
FORMAT_SAME_AS = {"MPO": "JPEG"}
READABLE_FORMATS = {*FORMATS.values(), *FORMAT_SAME_AS}
# What PIL raises, one decoder or another, on data that is not the image it claims to be.
UNREADABLE = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError)


def _refusal(message: str, code: str) -> InvalidRequest:
    return InvalidRequest(message, code=code, field=FIELD)


def _megabytes(size: int) -> str:
    # Rounded up, so that a size just over the limit never reads as the limit itself.
    return f"{math.ceil(size * 10 / (1024 * 1024)) / 10:g} MB"


def data_url_decode(value: str, *, max_width: int, max_height: int) -> Image.Image:
    """The image in a data URL (PNG, JPEG or WebP, base64, at most MAX_INIT_IMAGE_BYTES and
    max_width x max_height), decoded and checked whole."""
    header, comma, payload = value.partition(",")
    if not comma or not header.startswith("data:"):
        raise _refusal(
            'Init image must be a data URL (data:image/png;base64,...) or {"generation": id, '
            '"index": n}.',
            "not_a_data_url",
        )
    media_type, _, encoding = header.removeprefix("data:").partition(";")
    media_type = media_type.strip().lower()
    if media_type not in FORMATS:
        raise _refusal(
            "Init image must be a PNG, JPEG or WebP image (data:image/png, data:image/jpeg or "
            f"data:image/webp), not {media_type or 'untyped data'}.",
            "unsupported_image_type",
        )
    if encoding.strip().lower() != "base64":
        raise _refusal(
            f"Init image must be base64-encoded (data:{media_type};base64,...).", "not_base64"
        )
    # Refused before decoding: four base64 characters hold three bytes.
    if len(payload) > (MAX_INIT_IMAGE_BYTES + 2) // 3 * 4:
        raise _too_large(len(payload) * 3 // 4)
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise _refusal("Init image is not valid base64.", "invalid_base64") from None
    if len(raw) > MAX_INIT_IMAGE_BYTES:
        raise _too_large(len(raw))
    return _decode(raw, media_type=media_type, max_width=max_width, max_height=max_height)


def _too_large(size: int) -> InvalidRequest:
    return _refusal(
        f"Init image must be at most {_megabytes(MAX_INIT_IMAGE_BYTES)} (it has "
        f"{_megabytes(size)}).",
        "image_too_large",
    )


def _decode(raw: bytes, *, media_type: str, max_width: int, max_height: int) -> Image.Image:
    """The image in `raw`, which must be what its data URL's `media_type` says it is."""
    not_an_image = _refusal(
        "Init image could not be read as a PNG, JPEG or WebP image.", "invalid_image"
    )
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            kind, (width, height) = probe.format, probe.size
            # The header's size, before a single pixel is decoded: a small file may claim a
            # huge image.
            if max(width, height) > max(max_width, max_height):
                raise _sides_refusal(width, height, max_width, max_height)
            probe.verify()
        if kind not in READABLE_FORMATS:
            raise not_an_image
        _media_type_check(kind, media_type)
        with Image.open(io.BytesIO(raw)) as picture:
            picture.load()
            # As the photo was taken: phones store it sideways with an orientation tag.
            image = ImageOps.exif_transpose(picture)
    except Image.DecompressionBombError:
        raise _refusal("Init image has too many pixels.", "image_too_large") from None
    except UNREADABLE:
        raise not_an_image from None
    if image.width > max_width or image.height > max_height:
        raise _sides_refusal(image.width, image.height, max_width, max_height)
    return image


def _media_type_check(kind: str, media_type: str) -> None:
    # A mislabelled file is a client's mistake worth naming: it would decode, but nothing else
    # that reads the label (a browser, a proxy's checks) would agree on what it is.
    detected = FORMAT_SAME_AS.get(kind, kind)
    if detected != FORMATS[media_type]:
        actual = next(name for name, found in FORMATS.items() if found == detected)
        raise _refusal(
            f"Init image is a {detected} image but its data URL says {media_type}: send it as "
            f"data:{actual};base64,...",
            "image_type_mismatch",
        )


def _sides_refusal(width: int, height: int, max_width: int, max_height: int) -> InvalidRequest:
    return _refusal(
        f"Init image must be at most {max_width}x{max_height} pixels for this model (it is "
        f"{width}x{height}).",
        "image_too_large",
    )


def stored_image_open(image: GenerationImage) -> Image.Image:
    """One of this site's images (a PNG the worker stored)."""
    try:
        with default_storage.open(str(image.image.name)) as file:
            raw = file.read()
        with Image.open(io.BytesIO(raw)) as picture:
            picture.load()
            return picture.copy()
    except UNREADABLE:
        raise _refusal("That image can no longer be read.", "unreadable_image") from None


def side_from_image(side: int, *, maximum: int) -> int:
    """A generation's side taken from its init image's: a multiple of 8 within the limits."""
    return max(MIN_SIDE, min(maximum, side // 8 * 8))


def init_png(image: Image.Image, *, width: int, height: int) -> bytes:
    """The init image as the worker gets it: RGB, width x height, PNG."""
    picture = image.convert("RGB")
    if picture.size != (width, height):
        picture = picture.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()
