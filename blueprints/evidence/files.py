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

from PIL import Image, ImageDraw, ImageFont, ImageOps
from pypdf import PdfReader, PdfWriter
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from core.filelimits import Limits, check_file

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
# A 16-megapixel photo (a phone takes 12) and 100 pages: a copy of either is made in about a
# second; the 40-megapixel pictures and 500-page PDFs allowed before took a worker 17 to 30 s.
MAX_PIXELS = 16_000_000
MAX_PAGES = 100
INK = (170, 0, 0)  # a dark red that reads on white paper and on photos


def check_structure(data: bytes, mime: str) -> None:
    """Refuse a file we could not show or watermark, whatever its first bytes claim.

    The type was sniffed from the magic number; here the whole file must open as that type
    within bounded work (core.filelimits): a picture within the pixel cap, fully decoded; a
    PDF with pages, no password, at most MAX_PAGES pages and contents that inflate within
    limits; each within a time budget. So every copy made later stays quick.
    """
    check_file(data, mime, Limits(max_pixels=MAX_PIXELS, max_pages=MAX_PAGES))


def watermark(data: bytes, mime: str, lines: list[str]) -> bytes:
    """A watermarked copy of an evidence file (same type as the original)."""
    if mime == "application/pdf":
        return watermark_pdf(data, lines)
    return watermark_image(data, lines, "PNG" if mime == "image/png" else "JPEG")


@functools.lru_cache(maxsize=16)
def _image_font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT_PATH, size)


def _diagonal_tile(text: str, size: int) -> Image.Image:
    """One line of faint text, turned 30 degrees, on a transparent tile."""
    font = _image_font(size)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font)
    tile = Image.new("RGBA", (right - left + 2, bottom - top + 2), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((-left + 1, -top + 1), text, font=font, fill=(*INK, 60))
    return tile.rotate(30, resample=Image.BICUBIC, expand=True)


def watermark_image(data: bytes, lines: list[str], fmt: str = "JPEG") -> bytes:
    """Draw the lines diagonally across the picture and in a band at its bottom.

    Transparent areas are flattened onto white: a copy is for reading, not for re-editing.
    """
    with Image.open(io.BytesIO(data)) as src:
        upright = ImageOps.exif_transpose(src).convert("RGBA")
    img = Image.new("RGB", upright.size, "white")
    img.paste(upright, mask=upright)
    width, height = img.size
    size = max(12, min(width, height) // 28)

    # Diagonal, faint and repeated: one turned tile pasted along lines 30 degrees up, the lines
    # five text heights apart, every other line shifted by half a tile.
    text = "  ".join(lines)
    tile = _diagonal_tile(text, size)
    angle = math.radians(30)
    span = _image_font(size).getlength(text) + size * 3
    along = (span * math.cos(angle), -span * math.sin(angle))
    across = (size * 5 * math.sin(angle), size * 5 * math.cos(angle))
    reach = int(math.hypot(width, height) / min(span, size * 5)) + 2
    for j in range(-reach, reach + 1):
        for i in range(-reach, reach + 1):
            shift = 0.5 * (j % 2)
            cx = width / 2 + (i + shift) * along[0] + j * across[0]
            cy = height / 2 + (i + shift) * along[1] + j * across[1]
            x, y = int(cx - tile.width / 2), int(cy - tile.height / 2)
            if x < width and y < height and x + tile.width > 0 and y + tile.height > 0:
                img.paste(tile, (x, y), tile)

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
    img.paste(band, (0, max(0, height - band_height)), band)

    out = io.BytesIO()
    if fmt == "PNG":
        img.save(out, "PNG")
    else:
        img.save(out, "JPEG", quality=88)
    return out.getvalue()


def register_pdf_font() -> None:
    """Make the CJK font known to ReportLab once per process (it embeds only the glyphs used)."""
    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(PDF_FONT, FONT_PATH))


def _pdf_overlay(width: float, height: float, lines: list[str]):
    """One transparent page of the given size carrying the watermark."""
    register_pdf_font()
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
