"""core.qrdraw draws exactly segno's symbol: the same version, error level, mask and modules,
so the code page's QR is the one segno would draw (only faster)."""

import random
import string

import pytest
import segno
import zxingcpp

from core import qrdraw

ALPHABET = string.ascii_letters + string.digits + "/:.-_?=&"


def random_texts(seed: int, lengths) -> list[str]:
    """Texts of the given lengths (deterministic), in byte mode like a verify URL."""
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(n)) for n in lengths]


def assert_same_symbol(text: str, error: str = "m") -> None:
    """qrdraw.make and segno.make give the same symbol, down to the SVG the page shows."""
    ours, theirs = qrdraw.make(text, error=error), segno.make(text, error=error)
    assert (ours.version, ours.error, ours.mask) == (theirs.version, theirs.error, theirs.mask)
    assert ours.matrix == theirs.matrix
    assert ours.svg_inline(omitsize=True, border=2, dark="#000", light="#fff") == theirs.svg_inline(
        omitsize=True, border=2, dark="#000", light="#fff"
    )


def test_verify_urls_draw_as_segno_draws_them():
    """Addresses of the verify URL's shape: every mask gets chosen among them."""
    rng = random.Random(17)
    masks = set()
    for _ in range(200):
        handle = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(22))
        code = "".join(rng.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(20))
        url = f"https://jiaoguan.example.cn/v/{handle}/{code}"
        assert_same_symbol(url)
        masks.add(qrdraw.make(url).mask)
    assert masks == set(range(8))


@pytest.mark.parametrize("error", ["l", "m", "q", "h"])
def test_every_size_draws_as_segno_draws_it(error):
    """From version 1 to version 20 (version information from 7 on), each error level."""
    versions = set()
    for text in random_texts(ord(error), range(1, 400, 13)):
        assert_same_symbol(text, error)
        symbol = qrdraw.make(text, error=error)
        if not symbol.is_micro:
            versions.add(symbol.version)
    assert min(versions) <= 2 and max(versions) >= 7


def test_micro_qr_content_is_left_to_segno():
    """A text short enough for a Micro QR symbol: segno draws it, as before."""
    assert_same_symbol("12345")
    assert qrdraw.make("12345").is_micro


def test_a_decoder_reads_the_symbol():
    """A real decoder reads the text back from the drawn symbol."""
    import io

    from PIL import Image

    url = "https://jiaoguan.example.cn/v/AbCdEfGhIjKlMnOpQrStUv/0123456789ABCDEFGHJK"
    png = io.BytesIO()
    qrdraw.make(url).save(png, kind="png", scale=6, border=4)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.getvalue())))
    assert [barcode.text for barcode in found] == [url]


@pytest.mark.parametrize("dark", ["#000", "#c62828"])
def test_inline_svg_is_segnos_text(dark):
    """The code page's SVG (both colours) as segno writes it, for the first symbol of a size
    (taken from segno) and for the ones after it (written here)."""
    qrdraw._SVG_FRAMES.clear()
    for text in random_texts(len(dark), [60] * 30 + list(range(20, 300, 11))):
        symbol = qrdraw.make(text)
        expected = symbol.svg_inline(omitsize=True, border=2, dark=dark, light="#fff")
        assert qrdraw.svg_inline(symbol, border=2, dark=dark, light="#fff") == expected
    assert all(qrdraw._SVG_FRAMES.values())  # every size rebuilt, none left to segno
