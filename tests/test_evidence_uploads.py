"""Evidence uploads: hostile files are refused with a clear message and leave nothing on disk;
real PDFs, JPEGs and PNGs are stored under server-made names with their SHA-256."""

import hashlib
import io
import os
import subprocess

import pytest
from PIL import Image
from pypdf import PdfWriter

from models import ACCIDENT_OFFICER, AuditEvent, EvidenceItem

from .factories import sample_image, sample_pdf
from .helpers import field_error, page

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"


def stored_files(app) -> list[str]:
    """Every file under the upload folder (temporary .part files included)."""
    found = []
    for root, _dirs, files in os.walk(app.config["UPLOAD_FOLDER"]):
        found += [os.path.join(root, f) for f in files]
    return found


def upload(client, case, data: bytes, filename: str, **fields):
    """Post the upload form of a case with one file."""
    form = {
        "category": "photo",
        "title": "现场照片",
        "release": "released",
        "reason": "",
        "note": "",
        **fields,
        "file": (io.BytesIO(data), filename),
    }
    return client.post(
        f"/evidence/cases/{case.id}/items", data=form, headers={"Accept-Language": "en"}
    )


@pytest.fixture
def officer_case(make, login):
    """A case, with the client logged in as its handling officer."""
    officer = make.staff(ACCIDENT_OFFICER, office=make.office(kind="police_brigade"))
    login(officer)
    return make.accident_case(officer)


def encrypted_pdf() -> bytes:
    """A real PDF that opens only with a password."""
    writer = PdfWriter(clone_from=io.BytesIO(sample_pdf()))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


HOSTILE = [
    ("renamed Linux executable", ELF, "scene.jpg", "Only PDF, JPEG and PNG"),
    ("renamed Windows executable", WINDOWS_EXE, "record.pdf", "Only PDF, JPEG and PNG"),
    ("HTML named .pdf", HTML, "record.pdf", "Only PDF, JPEG and PNG"),
    ("path-traversal name", sample_pdf(), "../../../etc/cron.d/x.pdf", "file name"),
    ("Windows path-traversal name", sample_pdf(), "..\\..\\boot.pdf", "file name"),
    ("empty file", b"", "empty.pdf", "empty"),
    ("PDF header over HTML", b"%PDF-1.7\n" + HTML, "record.pdf", "damaged"),
    ("JPEG header, no picture", b"\xff\xd8\xff\xe0" + b"\x00" * 100, "a.jpg", "damaged"),
    ("password-protected PDF", encrypted_pdf(), "locked.pdf", "password"),
]


@pytest.mark.parametrize(
    "data,filename,message", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
def test_hostile_uploads_are_refused_and_leave_nothing(
    app, client, officer_case, conn, data, filename, message
):
    response = upload(client, officer_case, data, filename)
    soup = page(response, 422)
    assert message.lower() in field_error(soup, "file").lower(), field_error(soup, "file")
    assert stored_files(app) == []
    with conn():
        assert EvidenceItem.select().count() == 0
        assert not AuditEvent.select().where(AuditEvent.action == "evidence.item_upload").exists()


def test_file_over_the_cap_is_refused(app, client, officer_case, conn):
    app.config["EVIDENCE_MAX_BYTES"] = 1000
    soup = page(upload(client, officer_case, sample_pdf(pages=3), "big.pdf"), 422)
    assert "larger than" in field_error(soup, "file")
    assert stored_files(app) == []


def test_request_over_the_server_limit_gets_413(app, client, officer_case):
    app.config["MAX_CONTENT_LENGTH"] = 50_000
    response = upload(client, officer_case, b"%PDF-1.7\n" + b"0" * 60_000, "huge.pdf")
    page(response, 413)
    assert stored_files(app) == []


@pytest.mark.parametrize(
    "data,mime,name",
    [
        (sample_pdf(), "application/pdf", "勘查笔录.pdf"),
        (sample_image("JPEG"), "image/jpeg", "IMG_0001.JPG"),
        (sample_image("PNG"), "image/png", "diagram.png"),
    ],
    ids=["pdf", "jpeg", "png"],
)
def test_real_files_are_accepted(app, client, officer_case, conn, data, mime, name):
    response = upload(client, officer_case, data, name)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    with conn():
        item = EvidenceItem.get()
        assert item.mime == mime and item.size == len(data) and item.released
        assert item.sha256 == hashlib.sha256(data).hexdigest()
        assert name not in item.file_path and ".." not in item.file_path
        row = AuditEvent.get(AuditEvent.action == "evidence.item_upload")
        assert row.detail_dict["sha256"] == item.sha256
    files = stored_files(app)
    assert len(files) == 1
    with open(files[0], "rb") as fh:
        assert fh.read() == data


def test_withheld_upload_needs_a_reason(app, client, officer_case, conn):
    soup = page(upload(client, officer_case, sample_pdf(), "w.pdf", release="withheld"), 422)
    assert field_error(soup, "reason")
    # The page drawn again cannot keep the chosen file: it says to choose it again.
    assert "choose it again" in soup.find(id="file-note").get_text()
    assert "file-note" in soup.find(id="file")["aria-describedby"]
    assert stored_files(app) == []
    response = upload(
        client, officer_case, sample_pdf(), "w.pdf", release="withheld", reason="witness"
    )
    assert response.status_code == 303
    with conn():
        item = EvidenceItem.get()
        assert not item.released and item.withhold_reason == "witness"


def test_a_form_without_title_or_file_says_both(app, client, officer_case):
    form = {"category": "photo", "title": "", "release": "released", "reason": "", "note": ""}
    response = client.post(
        f"/evidence/cases/{officer_case.id}/items", data=form, headers={"Accept-Language": "en"}
    )
    soup = page(response, 422)
    assert field_error(soup, "title") and "Choose a file" in field_error(soup, "file")
    assert not soup.find(id="file-note")  # no file was sent: nothing to choose again
    assert stored_files(app) == []


def test_only_the_officer_can_upload(app, client, make, login):
    case = make.accident_case()
    citizen = make.citizen()
    make.party(case, citizen)
    login(citizen)
    assert upload(client, case, sample_pdf(), "x.pdf").status_code == 404
    assert stored_files(app) == []


@pytest.fixture
def full_upload_disk(app):
    """The upload folder on a 1 MB file system of its own (tmpfs; the tests run as root, as CI
    does), filled up to about 16 KB."""
    folder = app.config["UPLOAD_FOLDER"]
    os.makedirs(folder, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", folder], check=True)
    try:
        stats = os.statvfs(folder)
        with open(os.path.join(folder, "filler"), "wb") as fh:
            fh.write(b"\0" * max(0, stats.f_bavail * stats.f_frsize - 16 * 1024))
        yield folder
    finally:
        subprocess.run(["umount", "-l", folder], check=False)


def noisy_jpeg() -> bytes:
    """A photo that does not compress: about 200 KB, far more than the disk has left."""
    image = Image.frombytes("RGB", (400, 400), os.urandom(400 * 400 * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def test_an_upload_to_a_full_disk_answers_storage_full_and_leaves_nothing(
    app, client, officer_case, full_upload_disk, conn
):
    response = upload(client, officer_case, noisy_jpeg(), "photo.jpg")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "storage is full" in response.get_data(as_text=True)
    assert [os.path.basename(f) for f in stored_files(app)] == ["filler"]  # no .part left
    with conn():
        assert EvidenceItem.select().count() == 0
