"""Test helpers: a client that sends CSRF tokens like a browser, and page(), which asserts what
every page owes."""

import contextlib
import os
import re
import shutil
import time
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


def _worker_database_url(url: str) -> str:
    """The PostgreSQL database of this pytest-xdist worker: TEST_DATABASE_URL's name + `_gw0`,
    `_gw1`, ... (the workers run side by side, each resetting its own database), or
    TEST_DATABASE_URL itself when the suite runs in one process."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url.startswith("postgres") or not worker:
        return url
    base, _, name = url.rpartition("/")
    name, sep, query = name.partition("?")
    return f"{base}/{name}_{worker}{sep}{query}"


TEST_DATABASE_URL = _worker_database_url(os.environ.get("TEST_DATABASE_URL", ""))


def on_postgres() -> bool:
    """True when the suite runs against PostgreSQL (TEST_DATABASE_URL=postgresql://...)."""
    return TEST_DATABASE_URL.startswith("postgres")


def ensure_worker_database() -> None:
    """Create this worker's PostgreSQL database when it is missing (pytest-xdist workers each
    have one; the role of TEST_DATABASE_URL needs CREATEDB, as scripts/pg-test-server.sh gives)."""
    if not on_postgres() or os.environ.get("TEST_DATABASE_URL") == TEST_DATABASE_URL:
        return
    import psycopg2
    from psycopg2 import errors, sql

    name = TEST_DATABASE_URL.rpartition("/")[2]
    name = name.partition("?")[0]
    admin = psycopg2.connect(os.environ["TEST_DATABASE_URL"])  # any database to connect to
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                # Another run's worker of the same id may have made it meanwhile.
                with contextlib.suppress(errors.DuplicateDatabase):
                    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        admin.close()


def fresh_database_url(tmp_path) -> str:
    """An empty database for one test: a new SQLite file, or the PostgreSQL test database with
    its schema dropped and made anew."""
    if not on_postgres():
        return f"sqlite:///{tmp_path / 'test.db'}"
    _pg_clean.clear()  # the next migrated_database_url() migrates again
    _pg_execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    return TEST_DATABASE_URL


# Migrating a database takes the suite's migrations one by one (21 of them, DDL each): a third
# of a second per test on SQLite and more on PostgreSQL, most of the suite's time when every
# test did it. Each test process migrates once; then every test still starts on a database of
# its own in exactly that state: a copy of the migrated SQLite file, or on PostgreSQL the one
# migrated schema with every table emptied and every sequence restarted, after checking that
# the previous test left the schema itself as the migrations made it (tests that drop a
# trigger or run old migrations do; the schema is then dropped and migrated anew).
_sqlite_template: list[str] = []
_pg_clean: dict[str, object] = {}

# Everything a test could change in the schema besides the rows: tables, columns, defaults,
# constraints, indexes, triggers (the foreign keys' own included, and whether each is enabled),
# functions, views, sequences (and their settings),
# and the migrations recorded as applied.
_PG_SCHEMA_FINGERPRINT = """
SELECT md5(string_agg(item, E'\\n' ORDER BY item)) FROM (
  SELECT format('rel %s %s %s', c.relname, c.relkind, pg_get_viewdef(c.oid))
    FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL
  SELECT format('col %s.%s %s %s %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT format('con %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT format('idx %s', indexdef) FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL
  SELECT format('trg %s %s %s', tgname, tgenabled,
                CASE WHEN tgisinternal THEN '' ELSE pg_get_triggerdef(oid) END)
    FROM pg_trigger
   WHERE tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
  UNION ALL
  SELECT format('seq %s %s %s %s %s', s.seqrelid::regclass, s.seqincrement, s.seqmin, s.seqmax,
                s.seqcycle)
    FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
   WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL
  SELECT format('fn %s %s', p.oid::regprocedure, md5(pg_get_functiondef(p.oid)))
    FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p')
  UNION ALL
  SELECT format('mig %s', name) FROM schema_migration
) AS schema_items (item)
"""


def _pg_execute(statement: str, fetch: bool = False):
    """Run one statement on the test database in its own autocommitted connection."""
    import psycopg2

    conn = psycopg2.connect(TEST_DATABASE_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall() if fetch else None
    finally:
        conn.close()


def _pg_fingerprint(cur) -> str | None:
    """The schema's fingerprint (None when there is no migrated schema to take one of)."""
    cur.execute("SELECT to_regclass('public.schema_migration') IS NOT NULL")
    if not cur.fetchone()[0]:
        return None
    cur.execute(_PG_SCHEMA_FINGERPRINT)
    return cur.fetchone()[0]


def _pg_migrate() -> None:
    """Drop the schema, migrate it anew and remember its fingerprint (and whether the migrations
    left rows anywhere: then emptying the tables would not bring that state back, and every
    test migrates instead)."""
    import psycopg2

    from core.db import make_database, upgrade
    from models import db

    fresh_database_url(None)
    db.initialize(make_database(TEST_DATABASE_URL))
    try:
        upgrade()
    finally:
        release_database()
    conn = psycopg2.connect(TEST_DATABASE_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace"
                " AND c.relkind = 'r' AND c.relname <> 'schema_migration'"
            )
            tables = [r[0] for r in cur.fetchall()]
            seeded = any(_has_rows(cur, t) for t in tables)
            fingerprint = _pg_fingerprint(cur)
    finally:
        conn.close()
    if not seeded:
        _pg_clean.update(fingerprint=fingerprint, tables=tables)


def _has_rows(cur, table: str) -> bool:
    from psycopg2 import sql

    cur.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table)))
    return cur.fetchone()[0]


def _pg_reset() -> bool:
    """Empty every table of the migrated schema and restart every sequence; False (nothing
    done) when the schema is no longer the one migrated."""
    import psycopg2
    from psycopg2 import sql

    if not _pg_clean:
        return False
    conn = psycopg2.connect(TEST_DATABASE_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            if _pg_fingerprint(cur) != _pg_clean["fingerprint"]:
                return False
            tables = sql.SQL(", ").join(sql.Identifier(t) for t in _pg_clean["tables"])
            cur.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(tables))
            cur.execute(
                "SELECT setval(s.seqrelid, s.seqstart, false) FROM pg_sequence s"
                " JOIN pg_class c ON c.oid = s.seqrelid"
                " WHERE c.relnamespace = 'public'::regnamespace"
            )
    finally:
        conn.close()
    return True


def migrated_database_url(tmp_path) -> str:
    """A database for one test in the state the migrations leave a new one in: its own copy of
    a SQLite file migrated once per test process, or the PostgreSQL test database with the
    migrated schema emptied (migrated anew when a test changed the schema)."""
    if on_postgres():
        if not _pg_reset():
            _pg_clean.clear()
            _pg_migrate()
        return TEST_DATABASE_URL
    if not _sqlite_template:
        _sqlite_template.append(_migrate_sqlite_template())
    path = tmp_path / "test.db"
    shutil.copyfile(_sqlite_template[0], path)
    return f"sqlite:///{path}"


def _migrate_sqlite_template() -> str:
    """Migrate a SQLite file once for this process (removed when it ends); returns its path."""
    import atexit
    import tempfile

    from core.db import make_database, upgrade
    from models import db

    folder = tempfile.mkdtemp(prefix="jg-template-")
    atexit.register(shutil.rmtree, folder, True)
    path = os.path.join(folder, "migrated.db")
    db.initialize(make_database(f"sqlite:///{path}"))
    try:
        upgrade()
    finally:
        release_database()  # the last connection closed: the WAL is checkpointed into the file
    for leftover in ("-wal", "-shm"):
        assert not os.path.exists(path + leftover), f"{path}{leftover} left after closing"
    return path


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


def wait_for(predicate, timeout: float = 90.0, what: str = ""):
    """Poll until `predicate()` is true (a server, a worker or a thread does the work in the
    background); a generous deadline, never a fixed sleep standing in for the condition."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.1)


def newest_code(sms_box, mobile: str) -> str:
    """The six digits of the newest text message to `mobile`."""
    texts = [m["text"] for m in sms_box.messages(keep=None) if m["mobile"] == mobile]
    assert texts, f"no message to {mobile}"
    return re.search(r"\d{6}", texts[0]).group(0)


def register(client, details: dict):
    """Both steps of a registration: the form, then the code its mobile number received (the
    development gateway's file of the client's application). Returns the second response."""
    from core.sms import DevGateway

    first = client.post("/register", data=details)
    assert first.status_code == 303, first.get_data(as_text=True)[:400]
    assert first.headers["Location"].endswith("/register/confirm")
    box = DevGateway(client.application.config["SMS_DEV_FILE"])
    return client.post("/register/confirm", data={"code": newest_code(box, details["mobile"])})
