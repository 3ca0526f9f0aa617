"""Fixtures only: an app on a fresh SQLite file per test, clients, CLI runner, log-in helpers,
two cities' running deployments for the cross-city transfer tests; and the suite's Hypothesis
profile."""

import os
import threading

import pytest
from hypothesis import settings
from werkzeug.serving import make_server

from app import create_app
from core.db import upgrade
from core.sms import DevGateway
from models import db

from .factories import Factory
from .helpers import CSRFClient, ensure_worker_database, migrated_database_url, release_database
from .transfer_network import network_pair, seed

# No per-example deadline: on a loaded machine one slow example is not a failure (a property
# that is really slow shows as a slow suite instead). HYPOTHESIS_PROFILE=default restores it.
settings.register_profile("suite", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


def pytest_sessionstart(session):
    """Each pytest-xdist worker runs on a PostgreSQL database of its own (tests/helpers.py)."""
    ensure_worker_database()


@pytest.fixture
def app(tmp_path):
    """The application on a real, migrated database of its own (tests/helpers.py: a copy of
    the migrated SQLite file, or PostgreSQL's migrated schema emptied)."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": migrated_database_url(tmp_path),
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "NETWORK_KEY_FOLDER": str(tmp_path / "network"),
            # Still scrypt (memory-hard), with a smaller cost so the suite stays fast.
            "PASSWORD_HASH_METHOD": "scrypt:4096:8:1",
            "PUBLIC_BASE_URL": "https://jg.example.test",
            # The development gateway's messages, in this test's own file (sms_box).
            "SMS_DEV_FILE": str(tmp_path / "sms.jsonl"),
        }
    )
    app.test_client_class = CSRFClient
    upgrade()
    yield app
    release_database()


@pytest.fixture
def sms_box(app):
    """The text messages this test's application sent (the development gateway)."""
    return DevGateway(app.config["SMS_DEV_FILE"])


@pytest.fixture
def client(app):
    """A browser-like test client (cookies kept between requests)."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """Runs the app's CLI commands."""
    return app.test_cli_runner()


@pytest.fixture
def make(app):
    """The factory of test data (users, offices, ...); each call opens and closes a connection.

    No app context is held open here: requests must each get their own (and their own `g`).
    """
    return Factory(app)


@pytest.fixture
def conn(app):
    """An open database connection for assertions (closed before the next request is made)."""
    return db.connection_context


@pytest.fixture
def login(client, make):
    """Log the test client in as a citizen or staff member (staff pass their TOTP step)."""

    def _login(user, password=Factory.PASSWORD):
        return make.login(client, user, password)

    return _login


@pytest.fixture
def live_app(tmp_path):
    """The application on a fresh database, served by a real WSGI server in a thread."""
    app = create_app(
        {
            "SECRET_KEY": "browser-test",
            "DATABASE_URL": migrated_database_url(tmp_path),
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "NETWORK_KEY_FOLDER": str(tmp_path / "network"),
            "PASSWORD_HASH_METHOD": "scrypt:4096:8:1",
            "SMS_DEV_FILE": str(tmp_path / "sms.jsonl"),
        }
    )
    upgrade()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app
    server.shutdown()
    thread.join(timeout=5)
    release_database()


@pytest.fixture
def base_url(live_app):
    """Where the live server answers."""
    return live_app.config["PUBLIC_BASE_URL"]


@pytest.fixture(scope="module")
def net(request, tmp_path_factory):
    """Qingdao and Jinan (tests/transfer_network.py), peered, their workers running, and the
    sales a test module makes: its SALES (three unless it says), shared by its tests."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    qingdao, jinan = network_pair(tmp_path_factory.mktemp(name))
    try:
        sales = seed(qingdao, jinan, getattr(request.module, "SALES", 3))
        yield qingdao, jinan, sales
    finally:
        qingdao.stop()
        jinan.stop()
