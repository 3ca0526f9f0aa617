"""Test helpers: a client that sends CSRF tokens like a browser, and page(), which asserts what
every page owes."""

import contextlib
import os
import re
from collections import Counter

from bs4 import BeautifulSoup
from flask.testing import FlaskClient

from rules.validators import ValidationError, normalize_resident_id

TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
ID_CANDIDATE = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])")


class CSRFClient(FlaskClient):
    """Adds the page's CSRF token to form posts, as a browser submitting the real form would.

    Pass csrf=False to send a post without one. Requests go over https, as on a real
    deployment, so the Secure session cookie comes back.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base["wsgi.url_scheme"] = "https"
        # Flask-WTF checks the Referer of https posts, as browsers send it (same-origin policy).
        self.environ_base["HTTP_REFERER"] = "https://localhost/"

    def post(self, *args, csrf=True, **kwargs):
        data = kwargs.get("data")
        if csrf and isinstance(data, dict) and "csrf_token" not in data:
            kwargs["data"] = {**data, "csrf_token": self.csrf_token()}
        return super().post(*args, **kwargs)

    def csrf_token(self) -> str:
        """The token the current session's pages carry."""
        html = super().get("/").get_data(as_text=True)
        return TOKEN_RE.search(html).group(1)


def unmasked_ids(text: str) -> list[str]:
    """Valid resident ID numbers appearing in full in the text."""
    found = []
    for candidate in ID_CANDIDATE.findall(text):
        with contextlib.suppress(ValidationError):
            found.append(normalize_resident_id(candidate))
    return found


def page(response, status: int = 200, allow_ids: tuple = ()) -> BeautifulSoup:
    """Parse an HTML response and assert what every page owes.

    Status as expected; ids unique; every form has an action and a method, and every POST form
    a CSRF token; no resident ID number in full (unless named in allow_ids, e.g. an audited
    reveal); no stack trace.
    """
    body = response.get_data(as_text=True)
    assert response.status_code == status, f"{response.status_code} != {status}: {body[:300]}"
    assert response.mimetype == "text/html"
    soup = BeautifulSoup(body, "html.parser")
    ids = Counter(tag["id"] for tag in soup.find_all(id=True))
    csrf_exempt = ("/verify/photo",)  # the verifier may set no cookie (blueprints/verify.py)
    dupes = [i for i, n in ids.items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"
    for form in soup.find_all("form"):
        assert form.get("action"), f"form without action: {str(form)[:200]}"
        method = (form.get("method") or "").lower()
        assert method in ("get", "post"), f"form without method: {str(form)[:200]}"
        if method == "post" and form["action"].split("?")[0] not in csrf_exempt:
            assert form.find("input", attrs={"name": "csrf_token"}), f"no CSRF: {str(form)[:200]}"
    leaked = [i for i in unmasked_ids(body) if i not in allow_ids]
    assert not leaked, f"unmasked ID numbers on the page: {leaked}"
    assert "Traceback" not in body
    return soup


def field_error(soup: BeautifulSoup, field_id: str) -> str:
    """The error message shown next to a form field ('' when none)."""
    tag = soup.find(id=f"{field_id}-error")
    return tag.get_text(" ", strip=True) if tag else ""


TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def on_postgres() -> bool:
    """True when the suite runs against PostgreSQL (TEST_DATABASE_URL=postgresql://...)."""
    return TEST_DATABASE_URL.startswith("postgres")


def fresh_database_url(tmp_path) -> str:
    """An empty database for one test: a new SQLite file, or the PostgreSQL test database with
    its schema dropped and made anew."""
    if not on_postgres():
        return f"sqlite:///{tmp_path / 'test.db'}"
    import psycopg2

    conn = psycopg2.connect(TEST_DATABASE_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    conn.close()
    return TEST_DATABASE_URL


def release_database() -> None:
    """End a test's database: close this thread's connection and, on SQLite, every pooled one
    (with its lock-file descriptor), so nothing stays open on the test's temporary file."""
    from models import db

    if db.obj is None:
        return
    if not db.is_closed():
        db.close()
    if hasattr(db.obj, "close_all"):
        db.obj.close_all()


def tiny_png(size=(8, 8)) -> bytes:
    """A real, small PNG (uploads are decoded whole: a magic number alone is refused)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def tiny_pdf(pages: int = 1) -> bytes:
    """A real PDF of blank pages."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(72, 72)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()
