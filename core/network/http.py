"""The HTTP client of the network: small bodies, short timeouts, http(s) only."""

import json
import urllib.error
import urllib.request

from flask import current_app

MAX_ANSWER_BYTES = 1024 * 1024


class Unreachable(Exception):
    """The peer could not be reached or gave no readable answer (try again later)."""


def _check_scheme(url: str) -> None:
    """Only web addresses: a peer URL must never open a file or another scheme."""
    if not url.startswith(("https://", "http://")):
        raise Unreachable(f"not an http(s) URL: {url[:80]}")


def fetch_json(url: str) -> dict:
    """GET a JSON document (a peer's /.well-known/jiaoguan.json)."""
    _check_scheme(url)
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    timeout = current_app.config["NETWORK_TIMEOUT_SECONDS"]
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read(MAX_ANSWER_BYTES))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise Unreachable(str(exc)[:200]) from exc


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
        raise Unreachable(str(exc)[:200]) from exc
