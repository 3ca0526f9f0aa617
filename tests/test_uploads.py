"""Uploads: type by content, size cap, server-made names, SHA-256."""

import hashlib
import os

import pytest

from core.uploads import absolute_path, sniff_type, store_bytes
from rules.validators import ValidationError

from .helpers import tiny_pdf, tiny_png

PNG = tiny_png()
PDF = tiny_pdf()


def test_sniff_by_content_not_name():
    assert sniff_type(PNG) == "image/png"
    assert sniff_type(PDF) == "application/pdf"
    assert sniff_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff_type(b"<html><script>") is None


def test_store_checks_type_and_size_and_hashes(app):
    with app.test_request_context():
        stored = store_bytes(PDF, "evidence", {"application/pdf"}, 1000)
        assert stored.sha256 == hashlib.sha256(PDF).hexdigest() and stored.mime == "application/pdf"
        path = absolute_path(stored.relpath)
        with open(path, "rb") as fh:
            assert fh.read() == PDF
        assert os.path.basename(path) != "evidence.pdf" and path.endswith(".pdf")
        with pytest.raises(ValidationError):
            store_bytes(PNG, "evidence", {"application/pdf"}, 1000)
        with pytest.raises(ValidationError):
            store_bytes(PDF * 100, "evidence", {"application/pdf"}, 1000)
        with pytest.raises(ValidationError):
            store_bytes(b"", "evidence", {"application/pdf"}, 1000)
        with pytest.raises(ValueError):
            absolute_path("../../etc/passwd")
