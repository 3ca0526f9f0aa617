"""Bounded work for every file (core.filelimits): a 900-megapixel PNG, a deflate-bomb PDF and a
500-page PDF are refused at upload, each with a message and never a 500, for licence photos,
zone maps and accident evidence."""

import io
import struct
import time
import zlib

import pytest
from pypdf import PdfWriter
from pypdf.generic import NameObject, StreamObject

from core.filelimits import DEFAULT, check_file
from models import ACCIDENT_OFFICER
from rules.validators import ValidationError

from .helpers import page, tiny_pdf


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A PNG whose header declares 900 megapixels, a few hundred bytes on disk: the pixel rows
    are one short compressed run (a decoder that believed the header would allocate 2.7 GB)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 65_536, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def pdf_bomb(inflated: int = 48 * 1024 * 1024) -> bytes:
    """A one-page PDF whose content stream inflates from about 50 KB to 48 MB."""
    writer = PdfWriter()
    page_ = writer.add_blank_page(200, 200)
    stream = StreamObject()
    stream._data = zlib.compress(b" " * inflated, 9)
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    page_[NameObject("/Contents")] = writer._add_object(stream)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def test_the_bombs_are_small_on_disk():
    assert len(png_bomb()) < 1_000
    assert len(pdf_bomb()) < 200_000
    assert len(tiny_pdf(500)) < 200_000


@pytest.mark.parametrize(
    ("data", "mime", "says"),
    [
        (png_bomb(), "image/png", "too large"),
        (pdf_bomb(), "application/pdf", "unpacks to too much"),
        (tiny_pdf(500), "application/pdf", "more than 100 pages"),
    ],
)
def test_each_bomb_is_refused_quickly_with_a_message(app, data, mime, says):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        started = time.monotonic()
        with pytest.raises(ValidationError) as refused:
            check_file(data, mime, DEFAULT)
        assert says in str(refused.value.message)
        assert time.monotonic() - started < DEFAULT.seconds


def test_a_picture_over_its_time_budget_is_refused(app):
    from dataclasses import replace

    from .factories import sample_image

    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(ValidationError) as refused:
            check_file(sample_image("PNG"), "image/png", replace(DEFAULT, seconds=-1))
        assert "too long" in str(refused.value.message)


def test_licence_photo_bomb_is_refused_with_a_message(client, make, login):
    record = make.licence_record()
    login(make.staff("licence_clerk"))
    response = client.post(
        f"/licence/records/{record.id}/photo",
        data={"photo": (io.BytesIO(png_bomb()), "photo.png")},
        content_type="multipart/form-data",
    )
    assert "像素" in page(response, 422).find(id="photo-error").get_text()


def test_zone_map_bomb_is_refused_with_a_message(client, make, login):
    login(make.staff("truckpass_clerk"))
    response = client.post(
        "/trucks/zones/new",
        data={"name": "港区", "active": "y", "map_image": (io.BytesIO(png_bomb()), "map.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "像素" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (png_bomb(), "scene.png", "too large"),
        (pdf_bomb(), "survey.pdf", "unpacks to too much"),
        (tiny_pdf(500), "survey.pdf", "more than 100 pages"),
    ],
)
def test_evidence_bombs_are_refused_at_upload_with_a_message(client, make, login, data, name, says):
    from .test_evidence_uploads import upload

    officer = make.staff(ACCIDENT_OFFICER, office=make.office(kind="police_brigade"))
    login(officer)
    case = make.accident_case(officer)
    response = upload(client, case, data, name)
    assert response.status_code == 422
    assert says in response.get_data(as_text=True)
