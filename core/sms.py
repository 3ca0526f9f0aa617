"""Sending text messages (短信) through a pluggable gateway chosen by the SMS_GATEWAY setting.

- `http`: the common form of an SMS provider's or a government messaging platform's API: POST
  JSON `{"mobile": ..., "text": ...}` to SMS_GATEWAY_URL with `Authorization: Bearer
  <SMS_GATEWAY_TOKEN>`; any 2xx is accepted. Nothing else is assumed about the provider, so a
  small relay in front of a particular one adapts it. A notice's message carries an
  `Idempotency-Key` header (the same on every attempt), so a gateway that keeps keys sends a
  repeat once only.
- `dev`: no message leaves the machine. It is written to the log and to a file in the instance
  folder, which the page /dev/sms shows while this gateway is active (so the demo can read the
  codes). A deployment that sends real messages sets SMS_GATEWAY=http.
"""

import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass

from flask import current_app

from models import utcnow

log = logging.getLogger("jiaoguan.sms")

DEV = "dev"
HTTP = "http"
GATEWAYS = (DEV, HTTP)
# The dev page shows the newest messages only.
DEV_KEEP = 50
HTTP_TIMEOUT_SECONDS = 10


class SmsError(Exception):
    """The message could not be handed to the gateway (the caller tells the person to retry)."""


@dataclass
class HttpGateway:
    """An HTTP gateway: POST JSON {mobile, text} with a bearer token."""

    url: str
    token: str
    timeout: float = HTTP_TIMEOUT_SECONDS

    def send(self, mobile: str, text: str, key: str | None = None) -> None:
        """Hand one message to the gateway; SmsError when it does not accept it."""
        if not self.url.startswith(("http://", "https://")):
            raise SmsError("the gateway URL must be http(s)")
        body = json.dumps({"mobile": mobile, "text": text}, ensure_ascii=False).encode()
        request = urllib.request.Request(  # noqa: S310  (scheme checked just above)
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {self.token}",
                **({"Idempotency-Key": key} if key else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            log.warning("SMS gateway refused a message: HTTP %s", exc.code)
            raise SmsError(f"gateway answered {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            log.warning("SMS gateway unreachable: %s", exc)
            raise SmsError("gateway unreachable") from None
        if not 200 <= status < 300:
            raise SmsError(f"gateway answered {status}")


@dataclass
class DevGateway:
    """Development: the message goes to the log and to a file the /dev/sms page reads."""

    path: str

    def send(self, mobile: str, text: str, key: str | None = None) -> None:
        """Record the message instead of sending it; a key already recorded is not recorded
        again (as a gateway that keeps idempotency keys would not send it twice)."""
        if key and any(m.get("key") == key for m in self.messages(keep=None)):
            log.info("SMS (dev gateway) %s already sent", key)
            return
        log.info("SMS (dev gateway) to %s: %s", mobile, text)
        entry = {"at": utcnow().isoformat(timespec="seconds"), "mobile": mobile, "text": text}
        if key:
            entry["key"] = key
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def messages(self, keep: int | None = DEV_KEEP) -> list[dict]:
        """The newest messages (`keep` of them, None for all), newest first."""
        if not os.path.exists(self.path):
            return []
        with open(self.path, encoding="utf-8") as f:
            lines = f.readlines()
        if keep is not None:
            lines = lines[-keep:]
        return [json.loads(line) for line in reversed(lines) if line.strip()]


def gateway():
    """The gateway the settings choose."""
    config = current_app.config
    if config["SMS_GATEWAY"] == HTTP:
        return HttpGateway(config["SMS_GATEWAY_URL"], config["SMS_GATEWAY_TOKEN"])
    # SMS_DEV_FILE (not an environment setting) lets each test keep its own messages.
    path = config.get("SMS_DEV_FILE") or os.path.join(current_app.instance_path, "dev-sms.jsonl")
    return DevGateway(path)


def dev_gateway_active() -> bool:
    """True when messages stay on this machine (the /dev/sms page exists only then)."""
    return current_app.config["SMS_GATEWAY"] == DEV


def send(mobile: str, text: str, key: str | None = None) -> None:
    """Send one message through the configured gateway (SmsError when it fails); `key`, when
    given, identifies it across attempts (the gateway's idempotency key)."""
    gateway().send(mobile, text, key)


def check_settings(config: dict) -> None:
    """Refuse to start with an unknown gateway or an HTTP gateway without its URL."""
    if config["SMS_GATEWAY"] not in GATEWAYS:
        raise RuntimeError(f"SMS_GATEWAY must be one of {', '.join(GATEWAYS)}")
    if config["SMS_GATEWAY"] == HTTP and not config["SMS_GATEWAY_URL"].startswith(
        ("http://", "https://")
    ):
        raise RuntimeError("SMS_GATEWAY=http needs an http(s) SMS_GATEWAY_URL")
