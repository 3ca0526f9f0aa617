"""Evidence files: the structural check at upload, and the watermarked copies parties get.

A copy carries the party's name, masked ID number, the time and the copy's number, drawn twice:
faint and diagonal across the whole page or picture (hard to crop away), and plainly in a band
at the bottom (easy to read). A leaked copy names its source. Pure functions of bytes in,
bytes out: no Flask, no database.
"""

import functools
import io
import math
import os

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from rules.validators import ValidationError

# A GBK subset of WenQuanYi Micro Hei shipped with the project (see rules/data/README.md):
# names are Chinese, and the host's fonts are nobody's promise.
FONT_PATH = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "rules",
    "data",
    "fonts",
    "wqy-microhei-gbk.ttf",
)
PDF_FONT = "WatermarkCJK"
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; more is a decompression bomb, not evidence
MAX_PAGES = 500
INK = (170, 0, 0)  # a dark red that reads on white paper and on photos


def check_structure(data: bytes, mime: str) -> None:
    """Refuse a file we could not show or watermark, whatever its first bytes claim.

    The type was sniffed from the magic number; here the whole file must parse as that type:
    an image Pillow can decode within the pixel cap, a PDF with pages and no password.
    """
    if mime in ("image/jpeg", "image/png"):
        try:
            with Image.open(io.BytesIO(data)) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise ValidationError(_l("This picture has too many pixels."))
                img.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
            raise ValidationError(_l("This picture is damaged or not really a picture.")) from None
        return
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ValidationError(_l("This PDF is protected by a password. Upload it unlocked."))
        pages = len(reader.pages)
    except ValidationError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        raise ValidationError(_l("This PDF is damaged or not really a PDF.")) from None
    if pages < 1:
        raise ValidationError(_l("This PDF has no pages."))
    if pages > MAX_PAGES:
        raise ValidationError(_l("This PDF has more than %(n)d pages.", n=MAX_PAGES))


def watermark(data: bytes, mime: str, lines: list[str]) -> bytes:
    """A watermarked copy of an evidence file (same type as the original)."""
    if mime == "application/pdf":
        return watermark_pdf(data, lines)
    return watermark_image(data, lines, "PNG" if mime == "image/png" else "JPEG")


@functools.lru_cache(maxsize=16)
def _image_font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT_PATH, size)


def watermark_image(data: bytes, lines: list[str], fmt: str = "JPEG") -> bytes:
    """Draw the lines diagonally across the picture and in a band at its bottom."""
    with Image.open(io.BytesIO(data)) as src:
        img = ImageOps.exif_transpose(src).convert("RGBA")
    width, height = img.size
    size = max(12, min(width, height) // 28)
    font = _image_font(size)
    text = "  ".join(lines)

    # Diagonal, faint and repeated: drawn on a layer large enough to cover the picture once
    # rotated, then cut back to the picture's size.
    side = int(math.hypot(width, height)) + size * 4
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    step_x = int(draw.textlength(text, font=font)) + size * 3
    for row, y in enumerate(range(0, side, size * 5)):
        for x in range(-(row % 2) * step_x // 2, side, step_x):
            draw.text((x, y), text, font=font, fill=(*INK, 60))
    layer = layer.rotate(30, resample=Image.BICUBIC)
    left, top = (side - width) // 2, (side - height) // 2
    img.alpha_composite(layer.crop((left, top, left + width, top + height)))

    # The band: every line in full, on a light background, along the bottom edge.
    band_size = max(12, min(width // 40, height // 12))
    band_font = _image_font(band_size)
    band_height = int(band_size * 1.35 * len(lines) + band_size)
    band = Image.new("RGBA", (width, band_height), (255, 255, 255, 200))
    draw = ImageDraw.Draw(band)
    for i, line in enumerate(lines):
        draw.text(
            (band_size // 2, band_size // 2 + i * band_size * 1.35),
            line,
            font=band_font,
            fill=(*INK, 255),
        )
    img.alpha_composite(band, (0, max(0, height - band_height)))

    out = io.BytesIO()
    if fmt == "PNG":
        img.save(out, "PNG", optimize=False)
    else:
        img.convert("RGB").save(out, "JPEG", quality=88)
    return out.getvalue()


def _register_pdf_font() -> None:
    """Make the CJK font known to ReportLab once per process (it embeds only the glyphs used)."""
    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(PDF_FONT, FONT_PATH))


def _pdf_overlay(width: float, height: float, lines: list[str]):
    """One transparent page of the given size carrying the watermark."""
    _register_pdf_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width, height))
    text = "  ".join(lines)
    size = max(8.0, min(width, height) / 42)
    c.saveState()
    c.setFont(PDF_FONT, size)
    c.setFillColorRGB(*(v / 255 for v in INK), alpha=0.16)
    c.translate(width / 2, height / 2)
    c.rotate(30)
    span = pdfmetrics.stringWidth(text, PDF_FONT, size) + size * 3
    reach = math.hypot(width, height)
    y, row = -reach / 2, 0
    while y < reach / 2:
        x = -reach / 2 - (row % 2) * span / 2
        while x < reach / 2:
            c.drawString(x, y, text)
            x += span
        y += size * 5
        row += 1
    c.restoreState()
    # The band along the bottom edge.
    band_size = max(7.0, min(width / 60, 10.0))
    band_height = band_size * 1.35 * len(lines) + band_size
    c.setFillColorRGB(1, 1, 1, alpha=0.8)
    c.rect(0, 0, width, band_height, stroke=0, fill=1)
    c.setFillColorRGB(*(v / 255 for v in INK), alpha=1)
    c.setFont(PDF_FONT, band_size)
    for i, line in enumerate(reversed(lines)):
        c.drawString(band_size, band_size * 0.6 + i * band_size * 1.35, line)
    c.showPage()
    c.save()
    return PdfReader(io.BytesIO(buf.getvalue())).pages[0]


def watermark_pdf(data: bytes, lines: list[str]) -> bytes:
    """Stamp the watermark onto every page (one overlay per page size)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    overlays = {}
    for page in writer.pages:
        # Rotated pages are turned upright in their content first, so the band is at the
        # bottom of the page as it is seen.
        page.transfer_rotation_to_content()
        box = page.mediabox
        key = (round(float(box.width), 1), round(float(box.height), 1))
        if key not in overlays:
            overlays[key] = _pdf_overlay(*key, lines)
        page.merge_translated_page(overlays[key], float(box.left), float(box.bottom))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
