"""Drawing a QR symbol (二维码) the way segno draws it, in a fifth of the time.

The code page draws a new QR for every holder every code step. `segno.make` spent about 80% of
that page on choosing the data mask (ISO/IEC 18004:2015 7.8): it applies each of the eight
masks and scores the result module by module in Python. `make` here builds the very same
symbol (same version, error level, mask and modules: tests/test_qrdraw.py compares it with
segno's for many addresses) with segno's own encoder for the data and the function patterns,
and does the per-module work with whole rows at once: the placement order of the codewords
and each mask's pattern are worked out once per version, a row is masked with one integer XOR,
and the penalty rules (N1 runs, N2 blocks, N3 finder-like patterns, N4 balance) are counted
with regular expressions, byte searches and integer operations over rows and columns. The
rule that picks the mask is segno's, unchanged: the lowest total penalty, the first mask on a
tie.

Only the symbols segno would make as a regular QR Code (not Micro QR, no ECI, no Structured
Append) take this path; anything else is handed to segno.make as it is. `svg_inline` writes
segno's inline SVG of a symbol, the same text, from each row's runs of dark modules.
"""

import re
from functools import lru_cache

import segno
from segno import consts, encoder

_RUNS = re.compile(rb"\x00{5,}|\x01{5,}")  # N1: five or more modules of one colour in a line
_N3 = b"\x01\x00\x01\x01\x01\x00\x01"  # N3: dark, light, dark x3, light, dark (1:1:3:1:1)


@lru_cache(maxsize=64)
def _layout(version: int):
    """What does not change within a version: the empty matrix with its function patterns,
    the modules the codewords fill in segno's placement order, and each mask's row patterns
    (as integers: one byte a module, so a row is masked with one XOR)."""
    width = encoder.calc_matrix_size(version)
    base = encoder.make_matrix(width, width)
    encoder.add_finder_patterns(base, width, width)
    encoder.add_alignment_patterns(base, width, width)
    # The modules add_codewords fills: those still 0x2, in its column-pair zigzag order.
    order = []
    seen = set()
    for right in range(width - 1, 0, -2):
        if right <= 6:
            right -= 1
        for vertical in range(width):
            for z in (0, 1):
                j = right - z
                upwards = ((right & 2) == 0) ^ (j < 6)
                i = (width - 1 - vertical) if upwards else vertical
                if base[i][j] == 0x2 and (i, j) not in seen:
                    seen.add((i, j))
                    order.append((i, j))
    # The encoding region as find_and_apply_best_mask sees it: what the finder and alignment
    # patterns leave 0x2, the dark module excepted.
    function = encoder.make_matrix(width, width)
    encoder.add_finder_patterns(function, width, width)
    encoder.add_alignment_patterns(function, width, width)
    function[-8][8] = 0x1
    masks = []
    for pattern in encoder.get_data_mask_functions(False):
        rows = []
        for i in range(width):
            row = bytes(1 if function[i][j] > 0x1 and pattern(i, j) else 0 for j in range(width))
            rows.append(int.from_bytes(row, "big"))
        masks.append(tuple(rows))
    return width, tuple(bytes(row) for row in base), tuple(order), tuple(masks)


def _n3(seq: bytes, size: int) -> int:
    """N3 points of one row or column, counted as segno counts them."""
    count = 0
    idx = seq.find(_N3)
    while idx != -1:
        offset = idx + 7
        if (
            idx in (0, size - 7)
            or not any(seq[max(idx - 4, 0) : min(idx, size)])
            or not any(seq[max(offset, 0) : min(offset + 4, size)])
        ):
            count += 40
        else:
            offset = idx + 4
        idx = seq.find(_N3, offset)
    return count


def _penalty(rows: list[bytes], ints: list[int], size: int) -> int:
    """The total penalty of a masked matrix of 0s and 1s (segno's encoder.mask_scores, summed).

    Rows and columns are each joined into one byte string with a separator no module has, so
    one regular expression finds every run (N1) and one search every finder-like pattern (N3)
    without a Python loop over the lines."""
    joined_rows = b"\xff".join(rows)
    joined_columns = b"\xff".join(bytes(column) for column in zip(*rows, strict=True))
    n1 = n3 = 0
    for joined in (joined_rows, joined_columns):
        runs = _RUNS.findall(joined)
        n1 += sum(map(len, runs)) - 2 * len(runs)
        # N3 is rare: only the lines with a match are counted, each as segno counts it.
        stride = size + 1
        pos = joined.find(_N3)
        while pos != -1:
            line = pos // stride
            n3 += _n3(joined[line * stride : line * stride + size], size)
            pos = joined.find(_N3, (line + 1) * stride)
    # N2: a module with the same colour as its left, upper and upper-left neighbours. With one
    # byte a module, (row ^ row >> 8) is zero where a module equals its left neighbour.
    n2 = 0
    for upper, lower in zip(ints, ints[1:], strict=False):
        differ = (lower ^ (lower >> 8)) | (upper ^ (upper >> 8)) | (lower ^ upper)
        n2 += differ.to_bytes(size, "big").count(0, 1)
    dark = joined_rows.count(1)
    n4 = 10 * int(abs(float(dark) / (size**2) * 100 - 50) / 5)
    return n1 + 3 * n2 + n3 + n4


def make(content: str, error: str = "m") -> segno.QRCode:
    """The QR symbol of `content` as segno.make(content, error=error) makes it."""
    segments = encoder.prepare_data(content, None, None)
    level = encoder.normalize_errorlevel(error, accept_none=True)
    version = encoder.find_version(segments, level, eci=False, micro=None)
    if version < 1:
        return segno.make(content, error=error)
    level = encoder.boost_error_level(version, level, segments, False, is_sa=False)
    buff = encoder.Buffer()
    ver_range = encoder.version_range(version)
    for segment in segments:
        encoder.write_segment(buff, segment, None, ver_range, False)
    capacity = consts.SYMBOL_CAPACITY[version][level]
    encoder.write_terminator(buff, capacity, None, len(buff))
    encoder.write_padding_bits(buff, version, len(buff))
    encoder.write_pad_codewords(buff, version, capacity, len(buff))
    bits = encoder.make_final_message(version, level, buff).getbits()
    size, base, order, masks = _layout(version)
    if len(bits) != len(order):  # every module filled (remainder bits included), else segno
        return segno.make(content, error=error)
    matrix = [bytearray(row) for row in base]
    for (i, j), bit in zip(order, bits, strict=False):
        matrix[i][j] = bit
    unmasked = [int.from_bytes(row, "big") for row in matrix]
    best, best_score, best_ints = None, None, None
    for number, mask in enumerate(masks):
        ints = [row ^ m for row, m in zip(unmasked, mask, strict=True)]
        rows = [value.to_bytes(size, "big") for value in ints]
        score = _penalty(rows, ints, size)
        if best_score is None or score < best_score:
            best, best_score, best_ints = number, score, ints
    final = tuple(bytearray(value.to_bytes(size, "big")) for value in best_ints)
    encoder.add_format_info(final, version, level, best)
    encoder.add_version_info(final, version)
    return segno.QRCode(encoder.Code(final, version, level, best, segments))


_DARK_RUNS = re.compile(rb"\x01+")
# segno's SVG around the dark modules' path, per (size, dark, light, border): see svg_inline.
_SVG_FRAMES: dict = {}


def _dark_path(matrix, border: int) -> str:
    """The `d` of segno's path of the dark modules: each row's runs of dark modules as
    horizontal lines, the first absolute (M), the others relative to the end of the one before
    (m), on the modules' middle line (y + 0.5), written as segno writes the numbers."""
    parts = []
    last_x, last_y = 0, 0
    for index, row in enumerate(matrix):
        y = border + index + 0.5
        for run in _DARK_RUNS.finditer(row):
            x1, x2 = border + run.start(), border + run.end()
            dy = y - last_y
            parts.append(
                f"{'m' if parts else 'M'}{x1 - last_x} {int(dy) if int(dy) == dy else dy}h{x2 - x1}"
            )
            last_x, last_y = x2, y
    return "".join(parts)


def svg_inline(symbol: segno.QRCode, *, dark: str, light: str, border: int) -> str:
    """symbol.svg_inline(omitsize=True, border=border, dark=dark, light=light), the same text.

    segno writes the path of the dark modules one module at a time through generators; it is
    written here from each row's runs of dark modules (one regular expression a row). What
    surrounds the path (the svg element, the background) depends only on the size, the colours
    and the border: it is taken from segno's own output once, and that first output is checked
    to be rebuilt exactly, else segno keeps writing every symbol of that shape itself.
    """
    size = len(symbol.matrix)
    key = (size, dark, light, border)
    frame = _SVG_FRAMES.get(key)
    if frame is None:
        text = symbol.svg_inline(omitsize=True, border=border, dark=dark, light=light)
        start = text.find(' d="', text.find('class="qrline"')) + 4
        end = text.find('"/>', start)
        path = _dark_path(symbol.matrix, border)
        # False: this shape is left to segno (its text could not be rebuilt).
        _SVG_FRAMES[key] = (text[:start], text[end:]) if text[start:end] == path else False
        return text
    if frame is False:
        return symbol.svg_inline(omitsize=True, border=border, dark=dark, light=light)
    return frame[0] + _dark_path(symbol.matrix, border) + frame[1]
