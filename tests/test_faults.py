"""Faults the system must survive, each against real server processes: kill -9 in the middle of
writes, a full disk, and the database going away and coming back."""

import http.client
import os
import subprocess
import sys
import threading
import time

import pytest

from app import create_app
from core.db import upgrade
from core.sms import DevGateway
from models import AuditEvent, User, db

from .factories import Factory
from .helpers import fresh_database_url, newest_code, on_postgres, wait_for
from .nodes import TOKEN_RE, Browser, Node, PgServer

# Every registration of these tests comes from 127.0.0.1: the per-network limit of codes sent
# (a deployment's setting) is lifted for their nodes, as the bench lifts the login one.
FROM_ONE_ADDRESS = {"REGISTER_SENDS_PER_NETWORK": 10**9}


def registration(n: int) -> dict:
    """A valid, distinct registration form."""
    make = Factory()
    make.rng.seed(n)
    from core.demo import fictional_resident_id

    rid = fictional_resident_id(make.rng, 1960 + n % 40, female=False)
    pw = "Lantern-Harbour-42"
    return {
        "real_name": "用户" + "".join("零一二三四五六七八九"[int(d)] for d in str(n)),
        "resident_id": rid,
        "mobile": f"137{n:08d}",
        "password": pw,
        "confirm": pw,
    }


def register_steps(base_url: str, instance: str, form: dict) -> tuple[int, str]:
    """Both steps of a registration (the form, then the code the node's development gateway
    wrote to `instance`): the status and body of the last step taken."""
    browser = Browser()
    _, _, html = browser.get(f"{base_url}/register")
    status, _, body = browser.request(
        f"{base_url}/register", {**form, "csrf_token": TOKEN_RE.search(html).group(1)}, timeout=30
    )
    if status != 303:
        return status, body
    code = newest_code(DevGateway(os.path.join(instance, "dev-sms.jsonl")), form["mobile"])
    status, _, html = browser.get(f"{base_url}/register/confirm")
    if status != 200:
        return status, html
    status, _, body = browser.request(
        f"{base_url}/register/confirm",
        {"code": code, "csrf_token": TOKEN_RE.search(html).group(1)},
        timeout=30,
    )
    return status, body


def register(base_url: str, instance: str, form: dict) -> int:
    """The status of the registration's last step: 303 when the account was made."""
    return register_steps(base_url, instance, form)[0]


def audit_rows_cover_every_user():
    """No state change without its audit row: every account has its registration row."""
    users = {str(u.id) for u in User.select(User.id)}
    audited = {
        a.object_id for a in AuditEvent.select().where(AuditEvent.action == "account.register")
    }
    return users == audited


def test_kill_9_during_writes_loses_no_acknowledged_write(tmp_path):
    url = fresh_database_url(tmp_path)
    create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "UPLOAD_FOLDER": str(tmp_path)})
    upgrade()
    instance = str(tmp_path)
    node = Node(url, instance, workers=2, **FROM_ONE_ADDRESS)
    acknowledged, stop = [], threading.Event()

    def writer(start):
        n = start
        while not stop.is_set():
            form = registration(n)
            try:
                if register(node.url, instance, form) == 303:
                    acknowledged.append(form["mobile"])
            except (OSError, http.client.HTTPException):
                # The server died under us, mid-answer maybe: this write was never acknowledged.
                return
            n += 4

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: len(acknowledged) >= 40, what="40 acknowledged registrations")
    node.kill()  # kill -9, in the middle of the stream of writes
    stop.set()
    for t in threads:
        t.join(timeout=30)
    node = Node(url, instance, workers=1, **FROM_ONE_ADDRESS)  # the same database
    try:
        with db.connection_context():
            if not on_postgres():
                assert db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
            stored = {u.mobile for u in User.select(User.mobile)}
            assert set(acknowledged) <= stored
            assert audit_rows_cover_every_user()
        result = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "flask"), "audit", "verify"],
            env={**os.environ, "DATABASE_URL": url, "FLASK_APP": "app:create_app"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert register(node.url, instance, registration(100000)) == 303  # it serves again
    finally:
        node.stop()


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB file system of its own (tmpfs; the tests run as root, as CI does)."""
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_gives_a_clear_page_and_service_comes_back(small_disk, tmp_path):
    """SQLite on a file system that fills up: 503 with a clear message, nothing half written,
    and normal service as soon as there is space again (no restart)."""
    url = f"sqlite:///{small_disk / 'jg.db'}"
    create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "UPLOAD_FOLDER": str(tmp_path)})
    upgrade()
    filler = small_disk / "filler"
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    filler.write_bytes(b"\0" * max(0, free - 96 * 1024))  # leave about 96 KB
    instance = str(tmp_path)
    node = Node(url, instance, workers=1, **FROM_ONE_ADDRESS)
    try:
        statuses, n = [], 0
        while 503 not in statuses and n < 400:
            status, body = register_steps(node.url, instance, registration(n))
            statuses.append(status)
            n += 1
        assert statuses[-1] == 503, statuses[-5:]
        assert "存储空间已满" in body and "没有保存" in body
        assert "Traceback" not in body
        with db.connection_context():
            assert audit_rows_cover_every_user()  # nothing half written
            assert db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
        filler.unlink()  # space is back
        assert register(node.url, instance, registration(n + 1)) == 303
    finally:
        node.stop()


def test_database_unreachable_gives_503_and_service_resumes(tmp_path):
    """PostgreSQL stopped under a running node: a 503 page within seconds; when it is back,
    the node serves again by itself."""
    try:
        server = PgServer()
    except RuntimeError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("PostgreSQL server binaries are not installed")
    try:
        app = create_app(
            {
                "DATABASE_URL": server.url,
                "SECRET_KEY": "x",
                "UPLOAD_FOLDER": str(tmp_path),
                "PASSWORD_HASH_METHOD": "scrypt:4096:8:1",
            }
        )
        upgrade()
        with app.app_context(), db.connection_context():
            citizen = Factory().citizen()
        node = Node(server.url, str(tmp_path), workers=1)
        browser, member = Browser(), Browser()
        assert browser.get(f"{node.url}/login")[0] == 200
        form = {"account": citizen.mobile, "password": Factory.PASSWORD}
        assert member.post(f"{node.url}/login", form)[0] == 303
        assert member.get(f"{node.url}/account")[0] == 200
        server.stop()
        started = time.monotonic()
        status, headers, body = browser.get(f"{node.url}/login")
        assert status == 503 and time.monotonic() - started < 15  # not the minutes of a hang
        assert "服务暂时不可用" in body and headers["Retry-After"] == "30"
        # Logged in: the same translated 503 (the error page never loads the user).
        status, headers, body = member.get(f"{node.url}/account")
        assert status == 503 and "服务暂时不可用" in body and headers["Retry-After"] == "30"
        server.start()
        deadline = time.monotonic() + 60
        while browser.get(f"{node.url}/login")[0] != 200:
            assert time.monotonic() < deadline, "service did not resume"
            time.sleep(0.2)
        node.stop()
    finally:
        server.destroy()
