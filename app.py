"""The application factory of jiaoguan (交管): settings, extensions, blueprints, CLI, errors."""

import datetime as dt
import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from core import cli, db, errors, i18n, security, session_auth, sms
from core.security import load_or_create_secret_key

# Every setting, its environment variable and its default (the README's table is made from this).
SETTINGS = {
    "DATABASE_URL": "sqlite:///{instance}/jiaoguan.db",
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    "SQLITE_SYNCHRONOUS": "normal",
    "UPLOAD_FOLDER": "{instance}/uploads",
    "MAX_CONTENT_LENGTH": str(10 * 1024 * 1024),
    "EVIDENCE_MAX_BYTES": str(8 * 1024 * 1024),
    "EVIDENCE_COPIES_PER_HOUR": "60",
    "PASSWORD_HASH_METHOD": "scrypt",
    "LOGIN_MAX_FAILURES": "10",
    "LOGIN_WINDOW_SECONDS": "900",
    "LOGIN_LOCK_SECONDS": "900",
    "TRUSTED_PROXIES": "0",
    "SESSION_IDLE_MINUTES": "120",
    "SMS_GATEWAY": "dev",
    "SMS_GATEWAY_URL": "",
    "SMS_GATEWAY_TOKEN": "",
}
INT_SETTINGS = {
    "MAX_CONTENT_LENGTH",
    "EVIDENCE_MAX_BYTES",
    "EVIDENCE_COPIES_PER_HOUR",
    "LOGIN_MAX_FAILURES",
    "LOGIN_WINDOW_SECONDS",
    "LOGIN_LOCK_SECONDS",
    "TRUSTED_PROXIES",
    "SESSION_IDLE_MINUTES",
}


def load_settings(instance_path: str, environ=os.environ) -> dict:
    """Settings from the environment, with the defaults above filled in."""
    config = {}
    for name, default in SETTINGS.items():
        value = environ.get(name) or default.format(instance=instance_path)
        config[name] = int(value) if name in INT_SETTINGS else value
    config["PUBLIC_BASE_URL"] = config["PUBLIC_BASE_URL"].rstrip("/")
    return config


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: settings, database, security, languages, blueprints, CLI."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)

    app.config.update(load_settings(app.instance_path))
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="jg_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        # Logged-in sessions end after this long without a request (the cookie is re-signed on
        # every request, so activity keeps it alive).
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=app.config["SESSION_IDLE_MINUTES"]),
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE=i18n.DEFAULT_LOCALE,
        BABEL_DEFAULT_TIMEZONE=i18n.TIMEZONE,
    )
    if test_config:
        app.config.update(test_config)
    if "SESSION_COOKIE_SECURE" not in (test_config or {}):
        # Cookies only over HTTPS once the deployment is served over HTTPS.
        app.config["SESSION_COOKIE_SECURE"] = app.config["PUBLIC_BASE_URL"].startswith("https://")
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    if not app.config.get("SECRET_KEY"):
        # Several nodes share one key through the environment; one node keeps its own.
        app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or load_or_create_secret_key(
            app.instance_path
        )
    os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)
    sms.check_settings(app.config)

    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    db.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    session_auth.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    register_blueprints(app)
    return app


def register_blueprints(app: Flask) -> None:
    """One blueprint per measure, plus the shared ones."""
    from blueprints import (
        auth,
        evidence,
        identity,
        licence,
        main,
        staff,
        stats,
        transfer,
        truckpass,
        verify,
    )

    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(identity.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(licence.bp)
    app.register_blueprint(verify.bp)
    app.register_blueprint(evidence.bp)
    app.register_blueprint(transfer.bp)
    app.register_blueprint(truckpass.bp)
    app.register_blueprint(stats.bp)
