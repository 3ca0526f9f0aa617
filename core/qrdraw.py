"""Drawing a QR symbol (二维码) exactly as segno draws it, in a small part of segno's time.

The code page draws a new QR for every holder every code step. `segno.make` spends most of
that on choosing the data mask (ISO/IEC 18004:2015 7.8): it applies each of the eight masks
and scores the result module by module in Python. `make` here builds the very same symbol
(same version, error level, mask and modules: tests/test_qrdraw.py compares it with segno's for
many addresses) with segno's own encoder for the data bits, and does the rest on whole
matrices at once:

- the error correction codewords (Reed-Solomon over GF(256), 7.5.2) with one table look-up a
  codeword instead of one multiplication a codeword and generator term;
- the matrix as one Python integer, one bit a module, row after row, each row followed by four
  light padding bits (and the same matrix column after column): the codewords are put in place
  with one precomputed gather, a mask is one XOR with that mask's pattern as an integer;
- the penalty rules (7.8.3.1), counted with shifts, ANDs and bit counts over the whole integer:
  N1 (five or more modules of one colour in a line), N2 (2x2 blocks of one colour), N3 (the
  1:1:3:1:1 finder-like pattern with four light modules on one side, counted as segno counts
  it, its skip after a match included) and N4 (the dark share).

The rule that picks the mask is segno's, unchanged: every mask is scored, the lowest total
penalty wins, the first mask on a tie. Only the symbols segno would make as a regular QR Code
(not Micro QR, no ECI, no Structured Append) take this path; anything else is handed to
segno.make as it is. `svg_inline` writes segno's inline SVG of a symbol, the same text, from
each row's runs of dark modules.
"""

import re
from functools import lru_cache
from operator import itemgetter

import segno
from segno import consts, encoder

PAD = 4  # light bits after each line: N3's four light modules may reach past a line's end
_ASCII_BITS = bytes.maketrans(b"\x00\x01", b"01")  # one 0/1 byte a bit -> "0"/"1" text
_BINARY_BITS = bytes.maketrans(b"01", b"\x00\x01")  # and back
# Light bits after the last codeword (7.6): segno's make_final_message, version by version.
_REMAINDER_BITS = {
    **dict.fromkeys((2, 3, 4, 5, 6), 7),
    **dict.fromkeys((14, 15, 16, 17, 18, 19, 20, 28, 29, 30, 31, 32, 33, 34), 3),
    **dict.fromkeys((21, 22, 23, 24, 25, 26, 27), 4),
}


@lru_cache(maxsize=64)
def _layout(version: int):
    """What does not change within a version, worked out once: the matrix size, the function
    patterns, the gathers that put the final message's bits (as "0"/"1" text) in place row by
    row and column by column, each mask's pattern as an integer in both orders, and the bit
    masks the penalty rules use."""
    width = encoder.calc_matrix_size(version)
    base = encoder.make_matrix(width, width)
    encoder.add_finder_patterns(base, width, width)
    encoder.add_alignment_patterns(base, width, width)
    # The modules add_codewords fills: those still 0x2, in its column-pair zigzag order.
    order = {}
    for right in range(width - 1, 0, -2):
        if right <= 6:
            right -= 1
        for vertical in range(width):
            for z in (0, 1):
                j = right - z
                upwards = ((right & 2) == 0) ^ (j < 6)
                i = (width - 1 - vertical) if upwards else vertical
                if base[i][j] == 0x2 and (i, j) not in order:
                    order[(i, j)] = len(order)
    # The encoding region as find_and_apply_best_mask sees it: what the finder and alignment
    # patterns leave 0x2, the dark module excepted.
    function = encoder.make_matrix(width, width)
    encoder.add_finder_patterns(function, width, width)
    encoder.add_alignment_patterns(function, width, width)
    function[-8][8] = 0x1
    stride = width + PAD
    count = len(order)  # the text is the message's bits, then "0" and "1" for fixed modules

    def position(i: int, j: int, by_column: bool) -> int:
        """The bit of module (i, j) in the matrix integer, row by row or column by column."""
        return (j * stride + i) if by_column else (i * stride + j)

    def gather(by_column: bool):
        """The message's bits and the fixed modules in the integer's order, as characters of
        the text (most significant first: bit p of the integer is character -1 - p)."""
        source = [count] * (width * stride)
        for i in range(width):
            for j in range(width):
                index = order.get((i, j), count + base[i][j])
                source[position(i, j, by_column)] = index
        return itemgetter(*reversed(source))

    masks = []
    for pattern in encoder.get_data_mask_functions(False):
        in_rows = in_columns = 0
        for i in range(width):
            for j in range(width):
                if function[i][j] > 0x1 and pattern(i, j):
                    in_rows |= 1 << position(i, j, False)
                    in_columns |= 1 << position(i, j, True)
        masks.append((in_rows, in_columns))
    # Bit p set where module p and the one after it (p + 1) are in the same line, and where
    # module p has one below it (p + stride): N1's and N2's neighbours.
    same_line = sum(1 << (i * stride + j) for i in range(width) for j in range(width - 1))
    below = sum(1 << (i * stride + j) for i in range(width - 1) for j in range(width))
    return width, count, gather(False), gather(True), tuple(masks), same_line, below


@lru_cache(maxsize=32)
def _ec_table(ec_words: int) -> tuple[int, ...]:
    """For each leading coefficient, the generator polynomial times it, as one integer of
    `ec_words` bytes: the step of the Reed-Solomon division segno's make_blocks does term by
    term (same field, same generator, consts.GEN_POLY)."""
    gen = consts.GEN_POLY[ec_words]
    log, exp = consts.GALIOS_LOG, consts.GALIOS_EXP
    table = [0]
    for coef in range(1, 256):
        table.append(int.from_bytes(bytes(exp[log[coef] + g] for g in gen), "big"))
    return tuple(table)


def _final_message(version: int, level: int, bits: bytearray) -> bytes:
    """The final message (7.6) as "0"/"1" text: the data codewords and their error correction
    codewords, block by block, interleaved, then the remainder bits (segno's
    make_final_message)."""
    text = bytes(bits).translate(_ASCII_BITS)
    text += b"0" * (-len(text) % 8)
    codewords = int(text, 2).to_bytes(len(text) // 8, "big")
    data_blocks, error_blocks = [], []
    offset = 0
    for info in consts.ECC[version][level]:
        ec_words = info.num_total - info.num_data
        table = _ec_table(ec_words)
        shift, keep = 8 * (ec_words - 1), (1 << 8 * ec_words) - 1
        for _ in range(info.num_blocks):
            block = codewords[offset : offset + info.num_data]
            offset += info.num_data
            remainder = 0
            for byte in block:
                remainder = ((remainder << 8) & keep) ^ table[byte ^ (remainder >> shift)]
            data_blocks.append(block)
            error_blocks.append(remainder.to_bytes(ec_words, "big"))
    message = bytearray()
    for blocks in (data_blocks, error_blocks):
        for k in range(max(map(len, blocks))):
            message.extend(block[k] for block in blocks if k < len(block))
    text = format(int.from_bytes(message, "big"), f"0{8 * len(message)}b").encode()
    return text + b"0" * _REMAINDER_BITS.get(version, 0)


def _n3_points(matrix: int) -> int:
    """N3 of every line of a matrix integer: a 1:1:3:1:1 pattern (dark, light, dark x3, light,
    dark) with four light modules before or after it (the line's end counts as light), 40
    points each, the way segno counts them: after a counted pattern the search goes on past
    it, so a pattern overlapping a counted one (4 or 6 modules on) is not counted."""
    found = (
        matrix
        & ~(matrix >> 1)
        & (matrix >> 2)
        & (matrix >> 3)
        & (matrix >> 4)
        & ~(matrix >> 5)
        & (matrix >> 6)
    )
    if not found:
        return 0
    dark_before = (matrix << 1) | (matrix << 2) | (matrix << 3) | (matrix << 4)
    dark_after = (matrix >> 7) | (matrix >> 8) | (matrix >> 9) | (matrix >> 10)
    counted = found & ~(dark_before & dark_after)
    if not counted & ((found >> 4) | (found >> 6)):  # no counted pattern overlapped (usual)
        return 40 * counted.bit_count()
    points, resume = 0, 0
    while found:
        lowest = found & -found
        found ^= lowest
        start = lowest.bit_length() - 1
        if start < resume:
            continue
        if counted & lowest:
            points += 40
            resume = start + 7
        else:
            resume = start + 4
    return points


def _n1_points(matrix: int, same_line: int) -> int:
    """N1 of every line: a run of L >= 5 modules of one colour scores L - 2. Bit p of `full`
    marks five equal modules from p on: a run of L has L - 4 of them, one of them its first."""
    equal = ~(matrix ^ (matrix >> 1)) & same_line
    full = equal & (equal >> 1) & (equal >> 2) & (equal >> 3)
    return full.bit_count() + 2 * (full & ~(full << 1)).bit_count()


def _penalty(rows: int, columns: int, width: int, same_line: int, below: int) -> int:
    """The total penalty of a masked matrix (segno's encoder.mask_scores, summed), from the
    matrix row by row and column by column."""
    n1 = _n1_points(rows, same_line) + _n1_points(columns, same_line)
    # N2: a module equal to the one after it, the one below it, and the one below that's next.
    right = ~(rows ^ (rows >> 1)) & same_line
    down = ~(rows ^ (rows >> (width + PAD))) & below
    n2 = 3 * (right & (right >> (width + PAD)) & down).bit_count()
    n3 = _n3_points(rows) + _n3_points(columns)
    n4 = 10 * int(abs(float(rows.bit_count()) / (width**2) * 100 - 50) / 5)
    return n1 + n2 + n3 + n4


def _segments(content: str) -> encoder.Segments:
    """The data segment of `content` (segno's prepare_data). An ASCII text in byte mode, like
    a verify URL, has its bits written eight at a time from one integer rather than one
    generator a byte; any other content is left to segno."""
    if not content.isascii():
        return encoder.prepare_data(content, None, None)
    data = content.encode(consts.DEFAULT_BYTE_ENCODING)
    if not data or encoder.find_mode(data) != consts.MODE_BYTE:
        return encoder.prepare_data(content, None, None)
    bits = format(int.from_bytes(data, "big"), f"0{8 * len(data)}b").encode()
    segments = encoder.Segments()
    segments.add_segment(
        encoder._Segment(
            bytearray(bits.translate(_BINARY_BITS)),
            len(data),
            consts.MODE_BYTE,
            consts.DEFAULT_BYTE_ENCODING,
        )
    )
    return segments


def make(content: str, error: str = "m") -> segno.QRCode:
    """The QR symbol of `content` as segno.make(content, error=error) makes it."""
    segments = _segments(content)
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
    message = _final_message(version, level, buff.getbits())
    width, count, by_rows, by_columns, masks, same_line, below = _layout(version)
    if len(message) != count:  # every module filled (remainder bits included), else segno
        return segno.make(content, error=error)
    text = message + b"01"  # the fixed modules' light and dark follow the message
    rows, columns = int(bytes(by_rows(text)), 2), int(bytes(by_columns(text)), 2)
    best, best_score = 0, None
    for number, (in_rows, in_columns) in enumerate(masks):
        score = _penalty(rows ^ in_rows, columns ^ in_columns, width, same_line, below)
        if best_score is None or score < best_score:
            best, best_score = number, score
    # Back to segno's matrix: rows of one 0/1 byte a module (bit p is character -1 - p).
    stride = width + PAD
    flat = format(rows ^ masks[best][0], f"0{width * stride}b")[::-1].encode()
    flat = flat.translate(_BINARY_BITS)
    final = tuple(bytearray(flat[i * stride : i * stride + width]) for i in range(width))
    encoder.add_format_info(final, version, level, best)
    encoder.add_version_info(final, version)
    return segno.QRCode(encoder.Code(final, version, level, best, segments))


# A row's pieces: light modules (maybe none) then a run of dark ones.
_PIECES = re.compile(rb"\x00*\x01+")


class _PieceText(dict):
    """segno's text of a row's piece after the row's first one, by the piece's modules: move
    past the light ones on the same line (m<gap> 0), then a line over the dark ones
    (h<run>). Few pieces exist (at most one per gap and run length), so each is written
    once per process."""

    def __missing__(self, piece: bytes) -> str:
        gap = piece.index(1)
        text = self[piece] = f"m{gap} 0h{len(piece) - gap}"
        return text


_PIECE_TEXT = _PieceText()
# segno's SVG around the dark modules' path, per (size, dark, light, border): see svg_inline.
_SVG_FRAMES: dict = {}


def _dark_path(matrix, border: int) -> str:
    """The `d` of segno's path of the dark modules: each row's runs of dark modules as
    horizontal lines, the first absolute (M), the others relative to the end of the one before
    (m), on the modules' middle line (y + 0.5), written as segno writes the numbers.

    Only a row's first run depends on the rows before it (where the last line ended); the
    others are the row's own pieces, each written from the cached text of its modules."""
    parts = []
    last_x, last_index = 0, None
    for index, row in enumerate(matrix):
        pieces = _PIECES.findall(row)
        if not pieces:
            continue
        first = pieces[0]
        gap = first.index(1)
        if last_index is None:
            parts.append(f"M{border + gap} {border + index + 0.5}h{len(first) - gap}")
        else:
            parts.append(f"m{border + gap - last_x} {index - last_index}h{len(first) - gap}")
        parts.extend(map(_PIECE_TEXT.__getitem__, pieces[1:]))
        last_x, last_index = border + row.rindex(1) + 1, index
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
