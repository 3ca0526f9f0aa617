"""Bounded work for every uploaded file, checked before a byte is stored.

A file that is small on the wire can be huge to open: a PNG whose header declares 900
megapixels, a PDF whose few kilobytes inflate to gigabytes, five hundred pages to stamp one by
one. Whatever is stored here is later decoded for people (shown, watermarked, served to
inspectors), so each upload is opened whole now, within limits on pixels, pages, inflated
size and time, and refused with a message when it does not fit. Nothing here touches Flask
or the database.
"""

import io
import time
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from rules.validators import ValidationError

# Pillow's own bomb guard: a warning above this many pixels, an error above twice as many.
# Every limit below is smaller, so our own message comes first; this stops anything else.
Image.MAX_IMAGE_PIXELS = 50_000_000


@dataclass(frozen=True)
class Limits:
    """How much one file of a kind may cost to open."""

    max_pixels: int = 16_000_000  # a 4000x4000 picture; phones take 12 megapixels
    max_pages: int = 100
    max_inflated: int = 32 * 1024 * 1024  # all of a PDF's page contents, decompressed
    seconds: float = 5.0  # a full decode at upload; copies and views then stay quick


DEFAULT = Limits()
PHOTO = Limits(max_pixels=4_000_000)  # a licence photo is a portrait, not a poster

TOO_MANY_PIXELS = _l(
    "This picture is too large (%(mp)d megapixels at most). Save it smaller and upload it again."
)
DAMAGED_PICTURE = _l("This picture is damaged or not really a picture.")
DAMAGED_PDF = _l("This PDF is damaged or not really a PDF.")
TOO_SLOW = _l("This file takes too long to open. Save it again more simply and upload it.")
TOO_MANY_PAGES = _l("This PDF has more than %(n)d pages. Split it into parts.")
TOO_DENSE = _l("This PDF unpacks to too much data. Save it again or print it to PDF.")


def check_file(data: bytes, mime: str, limits: Limits = DEFAULT) -> None:
    """Open the whole file within the limits, or raise ValidationError saying what is wrong."""
    if mime in ("image/jpeg", "image/png"):
        check_image(data, limits)
    elif mime == "application/pdf":
        check_pdf(data, limits)


def check_image(data: bytes, limits: Limits = DEFAULT) -> None:
    """The declared size first (read from the header, nothing decoded), then a full decode."""
    started = time.monotonic()
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > limits.max_pixels:
                raise ValidationError(TOO_MANY_PIXELS % {"mp": limits.max_pixels // 1_000_000})
            img.load()  # every pixel decoded: a truncated or corrupt picture fails here
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        raise ValidationError(TOO_MANY_PIXELS % {"mp": limits.max_pixels // 1_000_000}) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ValidationError(DAMAGED_PICTURE) from None
    if time.monotonic() - started > limits.seconds:
        raise ValidationError(TOO_SLOW)


def check_pdf(data: bytes, limits: Limits = DEFAULT) -> None:
    """Pages counted, then every page's contents inflated, within a total size and time.

    pypdf refuses a single stream that inflates past its own limit (LimitReachedError); the
    total here stops a PDF of many smaller bombs, and the clock stops anything slow.
    """
    started = time.monotonic()
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ValidationError(_l("This PDF is protected by a password. Upload it unlocked."))
        pages = len(reader.pages)
        if pages < 1:
            raise ValidationError(_l("This PDF has no pages."))
        if pages > limits.max_pages:
            raise ValidationError(TOO_MANY_PAGES % {"n": limits.max_pages})
        inflated = 0
        for page in reader.pages:
            contents = page.get_contents()
            inflated += len(contents.get_data()) if contents is not None else 0
            if inflated > limits.max_inflated:
                raise ValidationError(TOO_DENSE)
            if time.monotonic() - started > limits.seconds:
                raise ValidationError(TOO_SLOW)
    except ValidationError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError):
        raise ValidationError(DAMAGED_PDF) from None
    except (MemoryError, RecursionError):
        raise ValidationError(TOO_DENSE) from None
