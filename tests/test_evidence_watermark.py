"""Copies of evidence: a party's copy carries a visible watermark naming them (PDF text, image
pixels), officers get the original, and every view and download is in the log."""

import datetime as dt
import hashlib
import io
import os
from unittest import mock

import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader

from blueprints.evidence.files import check_structure, watermark_image, watermark_pdf
from models import AuditEvent, EvidenceAccess, Throttle, User
from rules import clock
from rules.validators import ValidationError, mask_id

from .factories import sample_image, sample_pdf
from .helpers import page


@pytest.fixture
def party_case(make, login):
    """A case open for review with one party, whose client is logged in."""
    case = make.accident_case()
    citizen = make.citizen(real_name="孙志强")
    make.party(case, citizen)
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


def test_image_copy_differs_in_the_watermark_band(app, client, make, conn, party_case):
    case, _citizen = party_case
    original = sample_image("JPEG", size=(800, 600))
    item = make.evidence(case, original, mime="image/jpeg", category="photo")
    response = client.get(f"/evidence/cases/{case.id}/items/{item.id}/download")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    before = Image.open(io.BytesIO(original)).convert("RGB")
    after = Image.open(io.BytesIO(response.get_data())).convert("RGB")
    assert after.size == before.size
    band = (0, 520, 800, 600)  # the band of text along the bottom edge
    diff = ImageChops.difference(before.crop(band), after.crop(band)).convert("L")
    changed = sum(diff.histogram()[41:])  # pixels changed by more than a JPEG's noise
    assert changed > 2000, changed
    with conn():
        assert EvidenceAccess.select().where(EvidenceAccess.kind == "download").count() == 1


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
    case, _citizen = party_case
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
    assert "孙志强" in soup.get_text()


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
    from blueprints.evidence import service

    case, citizen = party_case
    item = make.evidence(case, sample_pdf("Survey record", pages=2))
    url = f"/evidence/cases/{case.id}/items/{item.id}/download"
    first = client.get(url).get_data()
    made = []
    monkeypatch.setattr(service, "watermark", lambda *args: made.append(args) or b"remade")
    second = client.get(f"/evidence/cases/{case.id}/items/{item.id}/view")
    assert second.status_code == 200 and second.get_data() == first and made == []
    with conn():
        assert EvidenceAccess.select().count() == 2  # each look is still logged
    assert os.path.exists(
        os.path.join(app.config["UPLOAD_FOLDER"], "evidence-copies", f"{item.id}-{citizen.id}.pdf")
    )
