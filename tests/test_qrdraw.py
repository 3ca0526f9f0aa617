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


def matrix_integers(matrix, width: int) -> tuple[int, int]:
    """A matrix of 0/1 rows as qrdraw scores it: one integer row by row, one column by column
    (bit p is module p, each line followed by qrdraw.PAD light bits)."""
    stride = width + qrdraw.PAD
    rows = columns = 0
    for i in range(width):
        for j in range(width):
            if matrix[i][j]:
                rows |= 1 << (i * stride + j)
                columns |= 1 << (j * stride + i)
    return rows, columns


@pytest.mark.parametrize("version", [1, 5, 7])
def test_penalty_is_segnos_on_any_matrix(version):
    """The penalty of random matrices, and of ones holding finder-like patterns that overlap
    (1:1:3:1:1 four or six modules after another, light or not around them, at a line's ends),
    is segno's sum of N1 to N4: so the same mask wins."""
    from segno import encoder

    width, _count, _rows, _columns, _masks, same_line, below = qrdraw._layout(version)
    rng = random.Random(version)
    pieces = [
        [1, 0, 1, 1, 1, 0, 1],
        [1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1],  # the next one 4 modules on
        [1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1],  # and 6 modules on
        [0, 0, 0, 0],
    ]
    for trial in range(150):
        dark_share = rng.choice([0.2, 0.5, 0.8])
        matrix = [
            bytearray(1 if rng.random() < dark_share else 0 for _ in range(width))
            for _ in range(width)
        ]
        for _ in range(trial % 12):
            piece = rng.choice(pieces)
            row, start = rng.randrange(width), rng.randrange(width - len(piece) + 1)
            matrix[row][start : start + len(piece)] = bytearray(piece)
        if trial % 2:
            matrix = [bytearray(column) for column in zip(*matrix, strict=True)]
        rows, columns = matrix_integers(matrix, width)
        expected = sum(encoder.mask_scores(matrix, width, width))
        assert qrdraw._penalty(rows, columns, width, same_line, below) == expected


def test_a_byte_mode_text_makes_segnos_segment():
    """The verify URL's segment, written from one integer, is segno's prepare_data's."""
    from segno import encoder

    for text in ["https://jiaoguan.example.cn/v/AbCdEfGhIjKlMnOpQrStUv/0123456789", "a b", "x"]:
        ours, theirs = qrdraw._segments(text), encoder.prepare_data(text, None, None)
        assert list(ours) == list(theirs)
        assert (ours.bit_length, ours.modes) == (theirs.bit_length, theirs.modes)
