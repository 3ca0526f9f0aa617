"""The HTTP client of the network: small bodies, short timeouts, http(s) only."""

import json
import socket
import urllib.error
import urllib.request

from flask import current_app

MAX_ANSWER_BYTES = 1024 * 1024


class Unreachable(Exception):
    """The peer could not be reached or gave no readable answer (try again later). `why` says
    which, for people: "scheme", "name", "refused", "timeout", "status" or "answer" (else
    "other")."""

    def __init__(self, detail: str, why: str = "other"):
        super().__init__(detail)
        self.why = why


def _why(exc: Exception) -> str:
    """What kept an answer away, in one word (Unreachable.why)."""
    reason = getattr(exc, "reason", exc)  # URLError wraps the socket's error
    if isinstance(exc, urllib.error.HTTPError):
        return "status"
    if isinstance(reason, socket.gaierror):
        return "name"
    if isinstance(reason, ConnectionRefusedError):
        return "refused"
    if isinstance(reason, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(exc, ValueError):
        return "answer"
    return "other"


def _check_scheme(url: str) -> None:
    """Only web addresses: a peer URL must never open a file or another scheme."""
    if not url.startswith(("https://", "http://")):
        raise Unreachable(f"not an http(s) URL: {url[:80]}", "scheme")


def fetch_json(url: str) -> dict:
    """GET a JSON document (a peer's /.well-known/jiaoguan.json)."""
    _check_scheme(url)
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    timeout = current_app.config["NETWORK_TIMEOUT_SECONDS"]
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read(MAX_ANSWER_BYTES))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise Unreachable(str(exc)[:200], _why(exc)) from exc


def post_jose(url: str, token: str, timeout: float | None = None) -> tuple[int, str]:
    """POST a compact JWS; returns (status, body) of any answer, refusals included. `timeout`
    (seconds) replaces NETWORK_TIMEOUT_SECONDS for a call someone waits on (a relayed check)."""
    _check_scheme(url)
    request = urllib.request.Request(  # noqa: S310
        url, data=token.encode(), method="POST", headers={"Content-Type": "application/jose"}
    )
    timeout = timeout or current_app.config["NETWORK_TIMEOUT_SECONDS"]
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read(MAX_ANSWER_BYTES).decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(MAX_ANSWER_BYTES).decode(errors="replace")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise Unreachable(str(exc)[:200], _why(exc)) from exc
