"""Evidence files: the structural check at upload, and the watermarked copies parties get.

A copy carries the party's name, masked ID number, the time and the copy's number. The
watermark is drawn in a margin added around the evidence, never over it: the picture or page
is kept pixel for pixel (and a PDF page's content where it was), and the canvas grows by a
frame. The frame's top and sides repeat the lines in one row (cropping one edge leaves the
others), and a band at the bottom gives every line in full, easy to read. A leaked copy names
its source, and a scene diagram's legend stays legible. Pure functions of bytes in, bytes out:
no Flask, no database.
"""

import functools
import io
import os

from PIL import Image, ImageDraw, ImageFont, ImageOps
from pypdf import PdfReader, PdfWriter
from pypdf.generic import RectangleObject
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
FAINT = (*INK, 110)  # the frame's repeated row: readable, quieter than the band
# The layout of the copies: kept copies carry it in their name, so a copy made with an older
# layout (layout 1 painted its band over the bottom of the evidence) is made again.
LAYOUT = 2


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
    """The watermark font at a pixel size (loading a TrueType font costs; sizes repeat)."""
    return ImageFont.truetype(FONT_PATH, size)


def _text_width(text: str, size: int) -> int:
    """The width in pixels of a line at a size."""
    return int(_image_font(size).getlength(text)) + 1


def _row_tile(text: str, size: int) -> Image.Image:
    """One faint line of text on a transparent tile (the frame's repeated row)."""
    font = _image_font(size)
    left, top, right, bottom = font.getbbox(text)
    tile = Image.new("RGBA", (right - left + size * 2, bottom - top + 2), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((-left + size, -top + 1), text, font=font, fill=FAINT)
    return tile


def _repeat(canvas_img: Image.Image, tile: Image.Image, box: tuple[int, int, int, int]) -> None:
    """Paste a tile side by side along a strip of the canvas, clipped to the strip."""
    x0, y0, x1, y1 = box
    strip = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
    horizontal = strip.width >= strip.height
    step = tile.width if horizontal else tile.height
    offset = 0
    while offset < (strip.width if horizontal else strip.height):
        if horizontal:
            strip.paste(tile, (offset, (strip.height - tile.height) // 2), tile)
        else:
            strip.paste(tile, ((strip.width - tile.width) // 2, offset), tile)
        offset += step
    canvas_img.paste(strip, (x0, y0), strip)


def image_layout(width: int, height: int, lines: list[str]) -> dict:
    """Where the evidence and the watermark go on a copy of a width x height picture.

    The frame is a twentieth of the shorter side (at least 18 px) on the top and the sides;
    the band below holds every line at a size that fits the copy's width (at least 12 px: a
    tiny picture gets a wider copy rather than unreadable words).
    """
    margin = max(18, min(width, height) // 20)
    size = max(12, min((width + 2 * margin) // 40, 28))
    widest = max(_text_width(line, size) for line in lines)
    if widest > width + 2 * margin - size:
        size = max(12, int(size * (width + 2 * margin - size) / widest))
        widest = max(_text_width(line, size) for line in lines)
    canvas_width = max(width + 2 * margin, widest + size)
    band = int(size * 1.35 * len(lines) + size)
    left = (canvas_width - width) // 2
    return {
        "size": (canvas_width, margin + height + band),
        "content": (left, margin),
        "margin": margin,
        "band": band,
        "band_font": size,
    }


def watermark_image(data: bytes, lines: list[str], fmt: str = "JPEG") -> bytes:
    """A copy of the picture on a larger canvas, the watermark drawn in the added frame.

    The picture (turned upright by its EXIF orientation) is pasted unscaled, so every pixel of
    it is in the copy. Transparent areas are flattened onto white: a copy is for reading, not
    for re-editing.
    """
    with Image.open(io.BytesIO(data)) as src:
        upright = ImageOps.exif_transpose(src).convert("RGBA")
    width, height = upright.size
    layout = image_layout(width, height, lines)
    img = Image.new("RGB", layout["size"], "white")
    left, top = layout["content"]
    img.paste(upright, (left, top), upright)
    canvas_width, canvas_height = layout["size"]
    margin = layout["margin"]

    # The frame: one row of all the lines, repeated along the top and down both sides.
    row_size = max(9, int(margin * 0.55))
    tile = _row_tile("  ·  ".join(lines), row_size)
    _repeat(img, tile, (0, 0, canvas_width, top))
    upright_tile = tile.rotate(90, expand=True)
    _repeat(img, upright_tile, (0, top, left, top + height))
    _repeat(img, tile.rotate(-90, expand=True), (left + width, top, canvas_width, top + height))

    # The band: every line in full, along the bottom edge, below the evidence.
    size = layout["band_font"]
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text(
            (size // 2, top + height + size // 2 + i * size * 1.35),
            line,
            font=_image_font(size),
            fill=INK,
        )

    out = io.BytesIO()
    if fmt == "PNG":
        img.save(out, "PNG")
    else:
        img.save(out, "JPEG", quality=92)
    return out.getvalue()


def register_pdf_font() -> None:
    """Make the CJK font known to ReportLab once per process (it embeds only the glyphs used)."""
    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(PDF_FONT, FONT_PATH))


def pdf_margins(width: float, height: float, lines: list[str]) -> dict:
    """The frame added around a page of this size: margin (top, sides), band (bottom), sizes."""
    register_pdf_font()
    margin = max(18.0, min(width, height) / 30)
    size = max(7.0, min((width + 2 * margin) / 60, 10.0))
    widest = max(pdfmetrics.stringWidth(line, PDF_FONT, size) for line in lines)
    room = width + 2 * margin - 2 * size
    if widest > room:
        size = max(4.0, size * room / widest)
    return {"margin": margin, "band": size * 1.35 * len(lines) + size, "band_font": size}


def _pdf_overlay(width: float, height: float, lines: list[str]):
    """A transparent page of the enlarged size carrying the watermark in its frame only.

    (width, height) is the original page; the overlay is the page with its frame, its origin
    at the frame's lower left corner. Nothing is drawn over the original page's area.
    """
    sizes = pdf_margins(width, height, lines)
    margin, band, size = sizes["margin"], sizes["band"], sizes["band_font"]
    total_w, total_h = width + 2 * margin, height + margin + band
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(total_w, total_h))
    row = "  ·  ".join(lines)
    row_size = max(5.0, margin * 0.45)
    span = pdfmetrics.stringWidth(row, PDF_FONT, row_size) + row_size * 2
    c.setFillColorRGB(*(v / 255 for v in INK), alpha=0.45)
    c.setFont(PDF_FONT, row_size)
    # The top of the frame, then each side (turned to read along it), each clipped to its strip.
    strips = [
        (0, height + band, total_w, margin, 0),
        (0, band, margin, height, 90),
        (margin + width, band, margin, height, -90),
    ]
    for x, y, w, h, angle in strips:
        c.saveState()
        clip = c.beginPath()
        clip.rect(x, y, w, h)
        c.clipPath(clip, stroke=0, fill=0)
        if angle == 0:
            c.translate(x, y + (h - row_size) / 2 + row_size * 0.15)
            length = w
        elif angle == 90:
            c.translate(x + (w + row_size) / 2 - row_size * 0.15, y)
            c.rotate(90)
            length = h
        else:
            c.translate(x + (w - row_size) / 2 + row_size * 0.15, y + h)
            c.rotate(-90)
            length = h
        offset = 0.0
        while offset < length:
            c.drawString(offset + row_size, 0, row)
            offset += span
        c.restoreState()
    # The band along the bottom edge, below the page.
    c.setFillColorRGB(*(v / 255 for v in INK), alpha=1)
    c.setFont(PDF_FONT, size)
    for i, line in enumerate(reversed(lines)):
        c.drawString(size, size * 0.6 + i * size * 1.35, line)
    c.showPage()
    c.save()
    return PdfReader(io.BytesIO(buf.getvalue())).pages[0]


def watermark_pdf(data: bytes, lines: list[str]) -> bytes:
    """Enlarge every page's box by the frame and draw the watermark there (one overlay per
    page size). The page's content stream is left where it was: only the box grows."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    overlays = {}
    for page in writer.pages:
        # Rotated pages are turned upright in their content first, so the band is at the
        # bottom of the page as it is seen.
        page.transfer_rotation_to_content()
        box = page.cropbox  # what a reader shows (the media box when no crop box is set)
        left, bottom = float(box.left), float(box.bottom)
        width, height = round(float(box.width), 1), round(float(box.height), 1)
        key = (width, height)
        if key not in overlays:
            overlays[key] = (_pdf_overlay(width, height, lines), pdf_margins(width, height, lines))
        overlay, sizes = overlays[key]
        margin, band = sizes["margin"], sizes["band"]
        grown = RectangleObject(
            [left - margin, bottom - band, left + width + margin, bottom + height + margin]
        )
        page.mediabox = grown
        page.cropbox = grown
        page.merge_translated_page(overlay, left - margin, bottom - band, expand=False)
        page.mediabox = grown  # merging must not shrink or move it back
        page.cropbox = grown
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
