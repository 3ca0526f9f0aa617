"""The application factory, configuration, security headers and error pages."""

import os
import time

import pytest
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import TimestampSigner

from app import load_settings
from core.security import load_or_create_secret_key

from .helpers import page


def test_factory_uses_test_config(app):
    assert app.testing and app.config["SECRET_KEY"] == "test-secret"


def test_settings_come_from_the_environment(tmp_path):
    env = {"PUBLIC_BASE_URL": "https://jg.city.example/", "LOGIN_MAX_FAILURES": "5"}
    settings = load_settings(str(tmp_path), env)
    assert settings["PUBLIC_BASE_URL"] == "https://jg.city.example"
    assert settings["LOGIN_MAX_FAILURES"] == 5
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path}/jiaoguan.db"
    assert settings["PASSWORD_HASH_METHOD"] == "scrypt"


def test_a_session_signed_with_the_previous_secret_key_stays_valid_while_it_is_a_fallback(
    app, client, tmp_path, make
):
    """Changing the secret key: with the old one in SECRET_KEY_FALLBACKS the people logged in
    stay logged in; without it, they log in again."""
    from app import create_app

    make.login(client, make.citizen())  # signed with the app's key, "test-secret"
    cookie = client.get_cookie("jg_session").value
    same = {k: app.config[k] for k in ("TESTING", "DATABASE_URL", "UPLOAD_FOLDER")}
    env = {"SECRET_KEY_FALLBACKS": " test-secret , even-older "}
    fallbacks = load_settings(str(tmp_path), env)["SECRET_KEY_FALLBACKS"]
    assert fallbacks == ["test-secret", "even-older"]
    for kept, code in ((fallbacks, 200), ([], 302)):
        new = create_app({**same, "SECRET_KEY": "new-secret", "SECRET_KEY_FALLBACKS": kept})
        fresh = new.test_client()
        fresh.set_cookie("jg_session", cookie)
        assert fresh.get("/account").status_code == code


def test_secret_key_is_generated_once_per_instance(tmp_path):
    keys = []
    for folder in ("a", "a", "b"):
        (tmp_path / folder).mkdir(exist_ok=True)
        keys.append(load_or_create_secret_key(str(tmp_path / folder)))
        assert oct(os.stat(tmp_path / folder / "secret_key").st_mode)[-3:] == "600"
    assert keys[0] == keys[1] != keys[2]
    assert len(keys[0]) >= 40


def test_processes_starting_at_once_all_read_the_one_key(tmp_path):
    """Eight processes create the key at the same moment (gunicorn's workers, parallel test
    workers): each reads the same whole key, none a file still being written."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with context.Pool(8) as pool:
        keys = pool.map(load_or_create_secret_key, [str(tmp_path)] * 8)
    assert len(set(keys)) == 1 and len(keys[0]) >= 40
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]


def test_an_empty_key_file_stops_the_start_instead_of_signing_with_nothing(tmp_path):
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(RuntimeError, match="empty"):
        load_or_create_secret_key(str(tmp_path))


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "HX-Request" in response.headers["Vary"]
    assert "no-store" in response.headers["Cache-Control"]


def test_a_views_own_headers_stay_and_the_defaults_fill_the_rest(app):
    from flask import Response

    @app.get("/_own_headers")
    def own_headers():
        return Response(
            "x",
            headers={
                "X-Frame-Options": "SAMEORIGIN",
                "Vary": "Cookie",
                "Cache-Control": "no-cache",
                "Strict-Transport-Security": "max-age=60",
            },
        )

    response = app.test_client().get("/_own_headers", base_url="https://localhost")
    h = response.headers
    assert h.get_all("X-Frame-Options") == ["SAMEORIGIN"]
    assert h.get_all("Strict-Transport-Security") == ["max-age=60"]
    assert h.get_all("Vary") == ["Cookie, HX-Request"]
    assert h.get_all("Cache-Control") == ["private, no-store"]
    assert h["Referrer-Policy"] == "same-origin" and h["X-Content-Type-Options"] == "nosniff"
    plain = app.test_client().get("/healthz", base_url="https://localhost").headers
    assert plain["Strict-Transport-Security"] == "max-age=31536000"
    # Served at an https address, HSTS is sent even to a request that looks plain here (TLS
    # ended at a proxy that TRUSTED_PROXIES does not name).
    proxied = app.test_client().get("/healthz", base_url="http://localhost").headers
    assert proxied["Strict-Transport-Security"] == "max-age=31536000"
    assert len(plain.get_all("Vary")) == 1 and "HX-Request" in plain["Vary"]


def test_session_cookie_is_httponly_lax_and_secure_on_https(client):
    response = client.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_session_cookies_are_signed_as_flasks_own_sign_them(app):
    """The session interface names SHA-1 directly for speed: cookies signed by Flask's own
    interface (sessions from before) still read, and its cookies read in Flask's."""
    ours = app.session_interface.get_signing_serializer(app)
    flasks = SecureCookieSessionInterface().get_signing_serializer(app)
    assert ours is app.session_interface.get_signing_serializer(app)  # made once
    session = {"_user_id": "7:token", "_flashes": [("ok", "已签发")]}
    assert ours.loads(flasks.dumps(session)) == session
    assert flasks.loads(ours.dumps(session)) == session


def test_pages_load_nothing_from_outside(client):
    soup = page(client.get("/"))
    for tag, attr in (("script", "src"), ("link", "href"), ("img", "src")):
        for el in soup.find_all(tag):
            url = el.get(attr) or ""
            assert not url.startswith(("http:", "https:", "//")), url


def test_404_is_friendly_and_translated(client):
    soup = page(client.get("/no/such/page"), 404)
    assert "页面不存在" in soup.get_text()
    soup = page(client.get("/no/such/page", headers={"Accept-Language": "en"}), 404)
    assert "Page not found" in soup.get_text()


def test_405_keeps_allow_header(client):
    # /lang is POST only (GET /logout now answers a confirmation page).
    response = client.get("/lang")
    page(response, 405)
    assert "POST" in response.headers["Allow"]


def test_a_step_asked_for_with_get_leads_to_its_page(client, make, login):
    """A confirmation reloaded or restored asks the step's own address with GET, which only
    POST answers: the page it belongs to, one level up, is shown instead of a 405. Without such
    a page (a POST-only address at the top: /lang) the 405 stays."""
    owner = make.citizen()
    truck_pass = make.truck_pass(applicant=owner)
    login(owner)
    response = client.get(f"/trucks/passes/{truck_pass.id}/withdraw")
    assert response.status_code == 303
    assert response.location.endswith(f"/trucks/passes/{truck_pass.id}")
    page(client.get("/lang"), 405)


def test_500_never_shows_a_stack_trace(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret internals" not in body and "Traceback" not in body
    assert "出错了" in body


def test_413_for_oversized_bodies(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/login", data={"account": "x" * 5000, "password": "y"})
    assert response.status_code == 413
    assert "文件过大" in response.get_data(as_text=True)


def test_csrf_missing_is_refused_with_a_message(client):
    response = client.post("/login", data={"account": "a", "password": "b"}, csrf=False)
    soup = page(response, 400)
    assert "表单已过期" in soup.get_text()


def test_htmx_requests_send_the_token_in_a_header(client):
    token = client.csrf_token()
    response = client.post(
        "/login",
        data={"account": "nobody", "password": "wrong-one"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
        csrf=False,
    )
    assert response.status_code == 422


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_the_icon_browsers_ask_for_is_there(client):
    assert client.get("/favicon.ico").status_code == 302  # not 301: browsers keep those for ever
    response = client.get("/favicon.ico", follow_redirects=True)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data


def test_htmx_is_vendored_with_its_checksum():
    root = os.path.dirname(os.path.dirname(__file__))
    folder = os.path.join(root, "static", "vendor", "htmx")
    import hashlib

    with open(os.path.join(folder, "htmx.min.js"), "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    with open(os.path.join(folder, "SHA256SUMS")) as fh:
        assert fh.read().split()[0] == digest
    assert os.path.exists(os.path.join(folder, "LICENSE"))


def test_database_gone_gives_a_logged_in_user_the_translated_503(app, make, client, monkeypatch):
    """The error page never loads the user: with the database gone, a logged-in page answers
    the same translated 503 as an anonymous one, not a bare 500."""
    import peewee

    from models import db

    make.login(client, make.citizen())

    def refused(*args, **kwargs):
        raise peewee.OperationalError("connection refused")

    monkeypatch.setattr(db.obj, "connect", refused)
    for path in ("/account", "/licence/", "/"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert "服务暂时不可用" in response.get_data(as_text=True)
        assert response.headers["Retry-After"] == "30"


def test_a_refreshing_panel_keeps_what_it_shows_when_the_server_is_in_trouble(
    app, make, client, monkeypatch
):
    """The code panel's own refresh (an htmx GET marked as a background refresh) meets a 503:
    it is answered 204, so the panel stays and asks again at its next turn; a person's own
    htmx request (no mark) gets the whole error page, which htmx puts in the page's place."""
    import peewee

    from models import db

    el = make.elicence()
    make.login(client, el.holder)
    panel = page(client.get("/licence/code")).find(id="code-panel")
    assert "every" in panel["data-hx-trigger"]  # it asks again even when a refresh failed
    # Its own requests carry the mark (static/js/refresh.js, on data-background-refresh).
    assert panel.has_attr("data-background-refresh")
    headers = {"HX-Request": "true", "X-Background-Refresh": "1"}

    def refused(*args, **kwargs):
        raise peewee.OperationalError("connection refused")

    monkeypatch.setattr(db.obj, "connect", refused)
    kept = client.get("/licence/code", headers=headers)
    assert kept.status_code == 204 and kept.data == b""
    asked = client.get("/licence/code", headers={"HX-Request": "true"})
    assert asked.status_code == 503 and "<html" in asked.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "field"), [("/login", "account"), ("/login", "password"), ("/register", "real_name")]
)
def test_a_file_sent_in_a_text_field_gets_a_message_not_a_500(client, path, field):
    import io

    data = {"account": "13800000000", "password": "x", "real_name": "张三", field: None}
    data[field] = (io.BytesIO(b"not text"), "x.txt")
    response = client.post(path, data=data, content_type="multipart/form-data")
    assert response.status_code == 422


def _cookie_signed(app, client, seconds_ago: int, monkeypatch) -> str:
    """The client's session cookie, signed again as if `seconds_ago` seconds ago."""
    serializer = app.session_interface.get_signing_serializer(app)
    data = serializer.loads(client.get_cookie("jg_session").value)
    with monkeypatch.context() as patch:
        then = int(time.time()) - seconds_ago
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: then)
        return serializer.dumps(data)


def test_an_unchanged_session_is_not_signed_again_on_every_request(client, make):
    make.login(client, make.citizen())
    client.get("/account")  # anything the first page after logging in still writes
    response = client.get("/account")
    assert response.status_code == 200
    assert "jg_session" not in response.headers.get("Set-Cookie", "")


def test_an_unchanged_session_a_minute_old_slides_its_expiry(app, client, make, monkeypatch):
    make.login(client, make.citizen())
    client.set_cookie("jg_session", _cookie_signed(app, client, 61, monkeypatch))
    response = client.get("/account")
    assert response.status_code == 200
    assert "jg_session=" in response.headers["Set-Cookie"]
    serializer = app.session_interface.get_signing_serializer(app)
    _, signed_at = serializer.loads(client.get_cookie("jg_session").value, return_timestamp=True)
    assert time.time() - signed_at.timestamp() < 30  # signed now: the idle clock starts again
    remaining = client.get_cookie("jg_session").expires.timestamp() - time.time()
    assert 119 * 60 < remaining <= 120 * 60 + 5


def test_a_session_idle_past_its_lifetime_is_logged_out(app, client, make, monkeypatch):
    make.login(client, make.citizen())
    client.set_cookie("jg_session", _cookie_signed(app, client, 120 * 60 + 1, monkeypatch))
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
