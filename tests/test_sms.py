"""The SMS gateways: the HTTP adapter's request and its failures, the development adapter's page."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from app import create_app
from core import sms
from core.i18n import BEIJING

from .helpers import page


class Gateway(BaseHTTPRequestHandler):
    """A provider's endpoint: records each request, answers with the class's status."""

    status = 200
    received: list = []
    keys: list = []

    def do_POST(self):  # noqa: N802  (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Gateway.received.append((self.headers["Authorization"], json.loads(body)))
        Gateway.keys.append(self.headers.get("Idempotency-Key"))
        self.send_response(Gateway.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def provider():
    """A local HTTP server standing in for the SMS provider."""
    Gateway.received, Gateway.keys, Gateway.status = [], [], 200
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/send"
    server.shutdown()
    thread.join(timeout=5)


def test_http_gateway_posts_json_with_a_bearer_token(provider):
    sms.HttpGateway(provider, "tok-123").send("13600001111", "验证码 123456")
    assert Gateway.received == [
        ("Bearer tok-123", {"mobile": "13600001111", "text": "验证码 123456"})
    ]


def test_a_notice_carries_its_idempotency_key(provider, tmp_path):
    sms.HttpGateway(provider, "t").send("13600001111", "x", key="msg-1")
    sms.HttpGateway(provider, "t").send("13600001111", "y")
    assert Gateway.keys == ["msg-1", None]
    # The dev gateway, like a gateway that keeps keys, records a repeated key once.
    dev = sms.DevGateway(str(tmp_path / "sms.jsonl"))
    for _ in range(2):
        dev.send("13600001111", "通知", key="msg-1")
    dev.send("13600001111", "验证码")
    assert [(m["text"], m.get("key")) for m in dev.messages()] == [
        ("验证码", None),
        ("通知", "msg-1"),
    ]


def test_http_gateway_failures_raise_sms_error(provider):
    Gateway.status = 503
    with pytest.raises(sms.SmsError):
        sms.HttpGateway(provider, "t").send("13600001111", "x")
    with pytest.raises(sms.SmsError):
        sms.HttpGateway("http://127.0.0.1:9/none", "t", timeout=2).send("13600001111", "x")


def test_a_failed_send_tells_the_citizen_and_leaves_no_live_code(app, client, make, provider):
    from models import SmsChallenge, db

    app.config.update(SMS_GATEWAY="http", SMS_GATEWAY_URL=provider, SMS_GATEWAY_TOKEN="t")
    Gateway.status = 500
    citizen = make.citizen(proven=False)
    make.licence_record(citizen, mobile="13600001111")
    make.login(client, citizen)
    response = client.post("/account/identity/sms", data={}, headers={"Accept-Language": "en"})
    assert response.status_code == 422 and b"could not be sent" in response.data
    with db.connection_context():
        assert SmsChallenge.live_for(citizen, "identity-sms") is None


def test_unknown_gateway_or_missing_url_refuses_to_start(tmp_path, monkeypatch):
    base = {
        "SECRET_KEY": "x",
        "DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
        "UPLOAD_FOLDER": str(tmp_path),
    }
    monkeypatch.setenv("SMS_GATEWAY", "carrier-pigeon")
    with pytest.raises(RuntimeError):
        create_app(base)
    monkeypatch.setenv("SMS_GATEWAY", "http")
    with pytest.raises(RuntimeError):
        create_app(base)


def test_dev_page_only_with_the_dev_gateway_and_for_admins_or_the_demo(app, client, make, login):
    citizen = make.citizen()
    login(citizen)
    assert client.get("/dev/sms").status_code == 404  # no demo city loaded
    client.post("/logout", data={})
    login(make.staff("admin"))
    with app.test_request_context():
        sms.gateway().send("13700000000", "测试短信")
        kept = sms.gateway().messages()[0]["at"]  # UTC, as kept
    row = page(client.get("/dev/sms")).select_one("#dev-sms tbody tr")
    shown = dt.datetime.fromisoformat(kept).replace(tzinfo=dt.UTC).astimezone(BEIJING)
    assert row.td.get_text() == shown.strftime("%Y-%m-%d %H:%M:%S")  # Beijing time
    app.config["SMS_GATEWAY"] = "http"
    assert client.get("/dev/sms").status_code == 404
