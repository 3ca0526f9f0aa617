"""The application factory of jiaoguan (交管): settings, extensions, blueprints, CLI, errors."""

import datetime as dt
import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from blueprints.transfer import network_demo
from core import (
    cities,
    cli,
    db,
    errors,
    errorsummary,
    i18n,
    measures,
    notices,
    security,
    session_auth,
    sms,
    urlcache,
)
from core.network import cli as network_cli
from core.security import load_or_create_secret_key

# Every setting, its environment variable and its default. The README's table lists them by
# hand; tests/test_docs.py keeps the two in step (names and defaults).
SETTINGS = {
    "DATABASE_URL": "sqlite:///{instance}/jiaoguan.db",
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    "SQLITE_SYNCHRONOUS": "normal",
    # PostgreSQL connections pooled per process (core.db.make_database).
    "PG_POOL_MAX_CONNECTIONS": "20",
    "PG_POOL_STALE_SECONDS": "300",
    "UPLOAD_FOLDER": "{instance}/uploads",
    "MAX_CONTENT_LENGTH": str(10 * 1024 * 1024),
    "EVIDENCE_MAX_BYTES": str(8 * 1024 * 1024),
    "EVIDENCE_COPIES_PER_HOUR": "60",
    # Days a party has to ask for a review (复核) after the determination is delivered.
    "EVIDENCE_REVIEW_DAYS": "3",
    "PASSWORD_HASH_METHOD": "scrypt",
    "LOGIN_MAX_FAILURES": "10",
    "LOGIN_WINDOW_SECONDS": "900",
    "LOGIN_LOCK_SECONDS": "900",
    "LOGIN_ADDRESS_MAX_FAILURES": "50",
    "LOGIN_ACCOUNT_MAX_FAILURES": "100",
    "LOGIN_ACCOUNT_WINDOW_SECONDS": "86400",
    "IDCHECK_MAX_FAILURES": "5",
    "IDCHECK_WINDOW_SECONDS": "3600",
    "IDCHECK_LOCK_SECONDS": "3600",
    "IDCHECK_ADDRESS_MAX_FAILURES": "20",
    "IDCHECK_ACCOUNT_MAX_FAILURES": "10",
    "IDCHECK_ACCOUNT_WINDOW_SECONDS": "86400",
    # Registration codes sent an hour to one client network (an IPv4 address, an IPv6 /64).
    "REGISTER_SENDS_PER_NETWORK": "100",
    "TRUSTED_PROXIES": "0",
    "SESSION_IDLE_MINUTES": "120",
    # Earlier secret keys, comma-separated: sessions signed with one stay valid while the new
    # SECRET_KEY takes over (README, "Changing the secret key").
    "SECRET_KEY_FALLBACKS": "",
    "SMS_GATEWAY": "dev",
    "SMS_GATEWAY_URL": "",
    "SMS_GATEWAY_TOKEN": "",
    # Notices by e-mail (README, "Notices"): off while SMTP_HOST is empty.
    "SMTP_HOST": "",
    "SMTP_PORT": "587",
    "SMTP_TLS": "starttls",
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "SMTP_FROM": "",
    # The vehicle office's telephone number, given where people are told to call it at once.
    "HELP_PHONE": "",
    # The network of deployments (README, "Network"); name and city default to the offices'.
    "DEPLOYMENT_NAME": "",
    "DEPLOYMENT_CITY": "",
    "NETWORK_KEY_FOLDER": "{instance}/network",
    "NETWORK_KEY_DAYS": "730",
    "NETWORK_CLOCK_SKEW_SECONDS": "300",
    "NETWORK_TIMEOUT_SECONDS": "10",
    "NETWORK_ALERT_HOURS": "24",
    # Licence checks relayed to the issuing city (README, "Checks across cities").
    "LICENCE_KEY_PREFIX": "",
    "NETWORK_CHECK_TIMEOUT_SECONDS": "2",
    # How long the origin deployment's answer to a vehicle's checks counts as fresh for a step
    # of a cross-deployment transfer; older, the step asks the origin again.
    "NETWORK_CHECKS_FRESH_SECONDS": "300",
}
INT_SETTINGS = {
    "PG_POOL_MAX_CONNECTIONS",
    "PG_POOL_STALE_SECONDS",
    "MAX_CONTENT_LENGTH",
    "EVIDENCE_MAX_BYTES",
    "EVIDENCE_COPIES_PER_HOUR",
    "EVIDENCE_REVIEW_DAYS",
    "LOGIN_MAX_FAILURES",
    "LOGIN_WINDOW_SECONDS",
    "LOGIN_LOCK_SECONDS",
    "LOGIN_ADDRESS_MAX_FAILURES",
    "LOGIN_ACCOUNT_MAX_FAILURES",
    "LOGIN_ACCOUNT_WINDOW_SECONDS",
    "IDCHECK_MAX_FAILURES",
    "IDCHECK_WINDOW_SECONDS",
    "IDCHECK_LOCK_SECONDS",
    "IDCHECK_ADDRESS_MAX_FAILURES",
    "IDCHECK_ACCOUNT_MAX_FAILURES",
    "IDCHECK_ACCOUNT_WINDOW_SECONDS",
    "REGISTER_SENDS_PER_NETWORK",
    "TRUSTED_PROXIES",
    "SESSION_IDLE_MINUTES",
    "SMTP_PORT",
    "NETWORK_KEY_DAYS",
    "NETWORK_CLOCK_SKEW_SECONDS",
    "NETWORK_TIMEOUT_SECONDS",
    "NETWORK_ALERT_HOURS",
    "NETWORK_CHECK_TIMEOUT_SECONDS",
    "NETWORK_CHECKS_FRESH_SECONDS",
}


def load_settings(instance_path: str, environ=os.environ) -> dict:
    """Settings from the environment, with the defaults above filled in."""
    config = {}
    for name, default in SETTINGS.items():
        value = environ.get(name) or default.format(instance=instance_path)
        config[name] = int(value) if name in INT_SETTINGS else value
    config["PUBLIC_BASE_URL"] = config["PUBLIC_BASE_URL"].rstrip("/")
    config["SECRET_KEY_FALLBACKS"] = [
        key.strip() for key in config["SECRET_KEY_FALLBACKS"].split(",") if key.strip()
    ]
    return config


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: settings, database, security, languages, blueprints, CLI."""
    # INSTANCE_PATH gives a deployment an instance folder of its own (two cities' deployments
    # from one checkout, as the network's tests run them).
    app = Flask(
        __name__, instance_relative_config=True, instance_path=os.environ.get("INSTANCE_PATH")
    )
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
    notices.init_app(app)
    cities.init_app(app)
    errorsummary.init_app(app)
    urlcache.init_app(app)
    session_auth.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    network_cli.init_app(app)
    network_demo.init_app(app)
    register_blueprints(app)
    return app


def register_blueprints(app: Flask) -> None:
    """The shared blueprints, then the measures: the one place that lists them (core.measures)."""
    from blueprints import (
        auth,
        evidence,
        identity,
        licence,
        main,
        network,
        notices,
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
    app.register_blueprint(verify.bp)
    app.register_blueprint(stats.bp)
    app.register_blueprint(network.bp)
    app.register_blueprint(notices.bp)
    # The city's four measures (便民措施), in the order pages show them.
    measures.init_app(app, [licence.MEASURE, transfer.MEASURE, truckpass.MEASURE, evidence.MEASURE])
