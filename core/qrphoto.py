"""Reading a QR code from an inspector's photo (拍照核验), for phones with no scanner app.

The photo arrives as bytes in memory and leaves as the QR's text: it is never written to disk
or logged. The work is bounded whatever is uploaded: a byte limit (checked by the caller before
reading), JPEG and PNG only, a pixel limit checked from the header before any pixel is decoded
(a decompression bomb is refused, not decoded; lower for a PNG, decoded whole), JPEGs decoded
straight at a reduced scale, and at most two downscaled passes through the decoder (zxing-cpp).
The verifier counts a client network's photos too (blueprints/verify.py).
"""

import io
import warnings

import zxingcpp
from PIL import Image, UnidentifiedImageError

PHOTO_MAX_BYTES = 8 * 1024 * 1024  # a 12-megapixel phone JPEG is 3-6 MB
PHOTO_MAX_PIXELS = 50_000_000  # a 48-megapixel phone camera; above it the header lies
# A PNG is decoded whole (only a JPEG can be decoded at a reduced scale): a screenshot of a
# phone's screen is a few megapixels; a small file declaring tens of them costs a second of
# CPU and hundreds of MB to decode, and is refused from its header.
PNG_MAX_PIXELS = 16_000_000
# What a phone's camera or screenshot gives; any other format Pillow could open is refused.
PHOTO_FORMATS = {"JPEG": PHOTO_MAX_PIXELS, "PNG": PNG_MAX_PIXELS}
# The longest side of each decoding pass: a full-frame QR reads best large, a small or blurred
# one often best smaller (the binariser sees sharper edges).
DECODE_SIDES = (1600, 800)


class UnreadablePhoto(Exception):
    """The photo gave no QR code; `reason` is not-image, too-large or no-code."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _greyscale(data: bytes) -> Image.Image:
    """The photo as a greyscale image no larger than the first decoding pass needs."""
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check warns between its limit and twice it: ours is stricter.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(PHOTO_FORMATS)) as img:
                width, height = img.size
                if width * height > PHOTO_FORMATS[img.format]:
                    raise UnreadablePhoto("too-large")
                img.draft("L", (DECODE_SIDES[0], DECODE_SIDES[0]))  # JPEG: decode scaled down
                grey = img.convert("L")
    except Image.DecompressionBombError as exc:
        raise UnreadablePhoto("too-large") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnreadablePhoto("not-image") from exc
    grey.thumbnail((DECODE_SIDES[0], DECODE_SIDES[0]))
    return grey


def read_qr_texts(data: bytes) -> list[str]:
    """The texts of the QR codes in a photo, first pass that finds any; raises UnreadablePhoto."""
    grey = _greyscale(data)
    for side in DECODE_SIDES:
        if max(grey.size) > side:
            grey.thumbnail((side, side))
        found = zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.QRCode)
        texts = [barcode.text for barcode in found if barcode.valid and barcode.text]
        if texts:
            return texts
    raise UnreadablePhoto("no-code")
