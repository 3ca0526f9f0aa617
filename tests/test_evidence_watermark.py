"""Copies of evidence: a party's copy carries a visible watermark naming them (PDF text, image
pixels), officers get the original, and every view and download is in the log."""

import datetime as dt
import hashlib
import io
import os
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops
from pypdf import PdfReader

from blueprints.evidence.files import (
    check_structure,
    image_layout,
    watermark_image,
    watermark_pdf,
)
from models import AuditEvent, EvidenceAccess, Throttle, User
from rules import clock
from rules.validators import ValidationError, mask_id

from .factories import sample_image, sample_pdf
from .helpers import page


@pytest.fixture
def party_case(make, login):
    """A case open for review with one party, whose client is logged in. The account's name
    has a typo: the copies carry the party's name as the case records it."""
    case = make.accident_case()
    citizen = make.citizen(real_name="孙志墙")
    make.party(case, citizen, name="孙志强")
    login(citizen)
    return case, citizen


def test_pdf_copy_names_its_holder_on_every_page(app, client, make, conn, party_case):
    case, citizen = party_case
    original = sample_pdf("Survey record", pages=3)
    item = make.evidence(case, original)
    response = client.get(f"/evidence/cases/{case.id}/items/{item.id}/download")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    copy = response.get_data()
    assert copy != original
    with conn():
        row = EvidenceAccess.get(EvidenceAccess.kind == "download")
        assert (row.user_id, row.item_id, row.as_party) == (citizen.id, item.id, True)
        audit_row = AuditEvent.get(AuditEvent.action == "evidence.item_download")
        assert audit_row.actor_id == citizen.id and audit_row.detail_dict["access"] == row.id
    pages = PdfReader(io.BytesIO(copy)).pages
    assert len(pages) == 3
    for n, pdf_page in enumerate(pages, 1):
        text = pdf_page.extract_text()
        assert f"Survey record {n}" in text  # the content is still there
        assert "孙志强" in text and mask_id(citizen.resident_id) in text
        assert f"{row.id:06d}" in text and case.case_no in text
        assert citizen.resident_id not in text


def test_image_copy_keeps_every_pixel_and_adds_a_margin(app, client, make, conn, party_case):
    """The watermark is drawn in a frame added around the picture: inside it, the copy is
    the original pixel for pixel (PNG) or within a JPEG's re-encoding noise (JPEG)."""
    case, _citizen = party_case
    original = sample_image("PNG", size=(800, 600))
    item = make.evidence(case, original, mime="image/png", category="photo")
    response = client.get(f"/evidence/cases/{case.id}/items/{item.id}/download")
    assert response.status_code == 200 and response.mimetype == "image/png"
    before = Image.open(io.BytesIO(original)).convert("RGB")
    after = Image.open(io.BytesIO(response.get_data())).convert("RGB")
    assert after.width > before.width and after.height > before.height
    layout = image_layout(800, 600, ["x"])  # the frame depends on the picture's size only
    left, top = layout["content"]
    inside = after.crop((left, top, left + 800, top + 600))
    assert ImageChops.difference(before, inside).getbbox() is None  # every pixel kept
    band = after.crop((0, top + 600, after.width, after.height)).convert("L")
    assert sum(band.histogram()[:128]) > 500  # dark red ink below the picture
    with conn():
        assert EvidenceAccess.select().where(EvidenceAccess.kind == "download").count() == 1


def test_jpeg_copy_keeps_the_picture_within_re_encoding_noise():
    original = sample_image("JPEG", size=(640, 480))
    lines = ["孙志强  370202********1234", "2021-09-01 08:30 · 3702022021000101", "No. 000001"]
    copy = Image.open(io.BytesIO(watermark_image(original, lines, "JPEG"))).convert("RGB")
    before = Image.open(io.BytesIO(original)).convert("RGB")
    left, top = image_layout(640, 480, lines)["content"]
    diff = ImageChops.difference(before, copy.crop((left, top, left + 640, top + 480)))
    assert max(high for _low, high in diff.getextrema()) < 40  # no watermark stroke inside


@settings(max_examples=25, deadline=None)
@given(
    width=st.integers(1, 900),
    height=st.integers(1, 900),
    name=st.text(alphabet="孙志强李娜王伟 abcXYZ", min_size=1, max_size=12),
)
def test_any_picture_is_kept_whole_inside_the_frame(width, height, name):
    img = Image.new("RGB", (width, height))
    img.putdata(
        [
            ((x * 7) % 256, (y * 13) % 256, (x + y) % 256)
            for y in range(height)
            for x in range(width)
        ]
    )
    buf = io.BytesIO()
    img.save(buf, "PNG")
    lines = [f"{name}  370202********1234", "2021-09-01 08:30 · 3702022021000101"]
    copy = Image.open(io.BytesIO(watermark_image(buf.getvalue(), lines, "PNG"))).convert("RGB")
    left, top = image_layout(width, height, lines)["content"]
    inside = copy.crop((left, top, left + width, top + height))
    assert ImageChops.difference(img, inside).getbbox() is None


def _text_positions(pdf_page) -> list[tuple[str, float, float]]:
    """(text, x, y) of each piece of text on a page, in the page's user space."""
    found = []

    def visit(text, cm, tm, _font, _size):
        if text.strip():
            a, b, c, d, e, f = cm
            x, y = tm[4], tm[5]
            found.append((text.strip(), a * x + c * y + e, b * x + d * y + f))

    pdf_page.extract_text(visitor_text=visit)
    return found


def test_pdf_page_grows_and_its_content_stays_in_place():
    """The page box grows by the frame; the original text is where it was, and every piece
    of the watermark lies outside the original page."""
    lines = ["孙志强  370202********1234", "2021-09-01 08:30 · 3702022021000101", "No. 000001"]
    original = PdfReader(io.BytesIO(sample_pdf("Survey record", pages=2)))
    copy = PdfReader(io.BytesIO(watermark_pdf(sample_pdf("Survey record", pages=2), lines)))
    for before, after in zip(original.pages, copy.pages, strict=True):
        old, new = before.mediabox, after.mediabox
        assert float(new.left) < float(old.left) and float(new.bottom) < float(old.bottom)
        assert float(new.right) > float(old.right) and float(new.top) > float(old.top)
        assert after.cropbox == new
        kept = _text_positions(before)
        placed = _text_positions(after)
        for text, x, y in kept:
            assert any(t == text and (x, y) == pytest.approx((px, py)) for t, px, py in placed)
        marks = [(x, y) for t, x, y in placed if "孙志强" in t or "No. 000001" in t]
        assert len(marks) >= 4  # the band and the frame's rows
        for x, y in marks:
            inside_x = float(old.left) <= x < float(old.right)
            inside_y = float(old.bottom) <= y < float(old.top)
            assert not (inside_x and inside_y), (x, y)
    # The original page's drawing operations are in the copy, in order and unchanged.
    before_ops, after_ops = _operations(original, 0), _operations(copy, 0)
    n = len(before_ops)
    assert any(after_ops[k : k + n] == before_ops for k in range(len(after_ops) - n + 1))


def _operations(reader, n):
    """The page's content stream as (operands, operator) pairs."""
    from pypdf.generic import ContentStream

    stream = ContentStream(reader.pages[n].get_contents(), reader)
    return [(repr(list(args)), op) for args, op in stream.operations]


def test_pdf_with_a_crop_box_grows_around_what_is_shown():
    from pypdf import PdfWriter
    from pypdf.generic import RectangleObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sample_pdf())))
    writer.pages[0].cropbox = RectangleObject([50, 600, 400, 800])
    buf = io.BytesIO()
    writer.write(buf)
    copy = PdfReader(io.BytesIO(watermark_pdf(buf.getvalue(), ["孙志强", "No. 000001"])))
    box = copy.pages[0].cropbox
    assert float(box.left) < 50 and float(box.right) > 400
    assert float(box.bottom) < 600 and float(box.top) > 800
    assert float(box.width) < 595  # grown around the crop box, not the whole sheet


def test_after_the_copy_limit_the_item_page_says_so_in_words(app, client, make, conn, party_case):
    """No picture that would be refused (a broken image): a message with the time copies
    resume, in both languages."""
    app.config["EVIDENCE_COPIES_PER_HOUR"] = 2
    case, citizen = party_case
    item = make.evidence(case, sample_image("PNG"), mime="image/png", category="photo")
    url = f"/evidence/cases/{case.id}/items/{item.id}"
    assert page(client.get(url)).select(".evidence-preview img")
    client.get(f"{url}/view")
    client.get(f"{url}/download")
    with conn():
        resume = Throttle.get(
            Throttle.key == f"evidence-copies:user:{citizen.id}"
        ).locked_until + dt.timedelta(hours=8)
    soup = page(client.get(url))
    assert not soup.select("img") or not soup.select(".evidence-preview")
    assert not soup.select(f'a[href="{url}/download"]')
    notice = soup.select_one(".copy-limit").get_text()
    assert "已达副本数量上限" in notice and f"{resume:%H:%M}" in notice
    english = page(client.get(url, headers={"Accept-Language": "en"})).select_one(".copy-limit")
    assert "Copy limit reached" in english.get_text() and f"{resume:%H:%M}" in english.get_text()
    with conn():
        assert EvidenceAccess.select().count() == 2  # looking at the page made no copy


def test_png_stays_png(make, client, party_case):
    case, _citizen = party_case
    item = make.evidence(case, sample_image("PNG"), mime="image/png")
    response = client.get(f"/evidence/cases/{case.id}/items/{item.id}/view")
    assert response.mimetype == "image/png" and response.get_data()[:4] == b"\x89PNG"
    assert response.headers["Content-Disposition"].startswith("inline;")


def test_officer_gets_the_original_and_is_logged_too(app, client, make, login, conn):
    case = make.accident_case()
    original = sample_pdf()
    item = make.evidence(case, original)
    with conn():
        officer = User.get_by_id(case.officer_id)
    login(officer)
    response = client.get(f"/evidence/cases/{case.id}/items/{item.id}/download")
    assert hashlib.sha256(response.get_data()).hexdigest() == item.sha256
    with conn():
        row = EvidenceAccess.get()
        assert row.kind == "download" and not row.as_party


def test_a_party_gets_a_limited_number_of_copies_an_hour(
    app, client, login, make, conn, party_case
):
    """Each copy is made for its holder (CPU) and leaks sensitive evidence: past the hour's
    limit a party is refused with the time copies resume, nothing made and nothing logged;
    the officer's originals are not limited, and copies resume after the hour."""
    app.config["EVIDENCE_COPIES_PER_HOUR"] = 3
    case, citizen = party_case
    item = make.evidence(case, sample_image("PNG"), mime="image/png")
    url = f"/evidence/cases/{case.id}/items/{item.id}"
    assert [client.get(f"{url}/{kind}").status_code for kind in ("view", "download", "view")] == [
        200,
        200,
        200,
    ]
    refused = client.get(f"{url}/download")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    with conn():
        assert EvidenceAccess.select().count() == 3  # the refused copy was never made
        resume = Throttle.get(
            Throttle.key == f"evidence-copies:user:{citizen.id}"
        ).locked_until + dt.timedelta(hours=8)  # shown in Beijing time
    text = page(refused, status=429).get_text()
    assert "已达副本数量上限" in text and f"{resume:%H:%M}" in text
    client.post("/logout", data={})
    with conn():
        officer = User.get_by_id(case.officer_id)
    login(officer)
    assert [client.get(f"{url}/download").status_code for _ in range(5)] == [200] * 5
    client.post("/logout", data={})
    login(citizen)
    later = clock.utc_now() + dt.timedelta(hours=1, minutes=1)
    with mock.patch("rules.clock.utc_now", return_value=later):
        assert client.get(f"{url}/view").status_code == 200


def test_views_are_logged_and_parties_see_their_case_log(app, client, make, conn, party_case):
    case, citizen = party_case
    item = make.evidence(case, title="现场勘查笔录")
    page(client.get(f"/evidence/cases/{case.id}"))
    client.get(f"/evidence/cases/{case.id}/items/{item.id}/view")
    client.get(f"/evidence/cases/{case.id}/items/{item.id}/download")
    with conn():
        kinds = [a.kind for a in EvidenceAccess.select().order_by(EvidenceAccess.id)]
        assert kinds == ["case", "view", "download"]
        actions = {a.action for a in AuditEvent.select()}
        assert {"evidence.case_view", "evidence.item_view", "evidence.item_download"} <= actions
    soup = page(client.get(f"/evidence/cases/{case.id}/log", headers={"Accept-Language": "en"}))
    rows = soup.select("tbody tr")
    assert len(rows) == 3 and "Downloaded a copy" in rows[0].get_text()
    assert "现场勘查笔录" in rows[0].get_text() and citizen.real_name in rows[0].get_text()


def test_officer_sees_who_looked_with_copy_numbers(app, client, make, login, conn, party_case):
    case, citizen = party_case
    item = make.evidence(case)
    client.get(f"/evidence/cases/{case.id}/items/{item.id}/download")
    client.post("/logout", data={})
    with conn():
        officer = User.get_by_id(case.officer_id)
        serial = f"{EvidenceAccess.get(EvidenceAccess.kind == 'download').id:06d}"
    login(officer)
    soup = page(client.get(f"/evidence/cases/{case.id}/log"))
    assert serial in soup.get_text()
    soup = page(client.get(f"/evidence/cases/{case.id}/items/{item.id}"))
    assert citizen.real_name in soup.get_text()  # the account that looked


def test_watermark_functions_directly():
    lines = ["孙志强  370202********1234", "2021-09-01 08:30 · 3702022021000101", "No. 000001"]
    pdf = watermark_pdf(sample_pdf(), lines)
    assert "370202********1234" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    png = watermark_image(sample_image("PNG"), lines, "PNG")
    assert Image.open(io.BytesIO(png)).format == "PNG"


def test_structure_check_refuses_pixel_bombs(monkeypatch):
    from blueprints.evidence import files

    monkeypatch.setattr(files, "MAX_PIXELS", 1000)
    with pytest.raises(ValidationError):
        check_structure(sample_image("PNG", size=(100, 100)), "image/png")


def test_a_partys_copy_is_made_once_and_kept(app, client, make, conn, party_case, monkeypatch):
    """The second look serves the kept copy: the same bytes, and no watermarking work."""
    from blueprints.evidence import copies

    case, citizen = party_case
    item = make.evidence(case, sample_pdf("Survey record", pages=2))
    url = f"/evidence/cases/{case.id}/items/{item.id}/download"
    first = client.get(url).get_data()
    made = []
    monkeypatch.setattr(copies, "watermark", lambda *args: made.append(args) or b"remade")
    second = client.get(f"/evidence/cases/{case.id}/items/{item.id}/view")
    assert second.status_code == 200 and second.get_data() == first and made == []
    with conn():
        assert EvidenceAccess.select().count() == 2  # each look is still logged
    assert os.path.exists(
        os.path.join(
            app.config["UPLOAD_FOLDER"], "evidence-copies", f"{item.id}-{citizen.id}-v2.pdf"
        )
    )


def test_a_copy_kept_with_the_old_layout_is_made_again(app, client, make, party_case):
    """Layout 1 painted its band over the evidence: its kept copies are not served but remade
    (and the old file removed)."""
    case, citizen = party_case
    item = make.evidence(case, sample_image("PNG"), mime="image/png")
    folder = os.path.join(app.config["UPLOAD_FOLDER"], "evidence-copies")
    os.makedirs(folder, exist_ok=True)
    old = os.path.join(folder, f"{item.id}-{citizen.id}.png")
    with open(old, "wb") as fh:
        fh.write(b"an old-layout copy")
    copy = client.get(f"/evidence/cases/{case.id}/items/{item.id}/view").get_data()
    assert copy != b"an old-layout copy" and copy[:4] == b"\x89PNG"
    assert Image.open(io.BytesIO(copy)).size != (640, 480)  # the new layout's frame
    assert not os.path.exists(old)
    assert os.path.exists(os.path.join(folder, f"{item.id}-{citizen.id}-v2.png"))
