"""Whether PUBLIC_BASE_URL points at the server being started.

QR codes and printed notices carry PUBLIC_BASE_URL. Started with `make run PORT=8080` and the
default (http://127.0.0.1:5000), every code pointed at a port nothing served. Behind
a proxy the public URL names another host on purpose, so only a URL naming this machine (a
loopback address, or the very host bound) is compared with the addresses bound.
"""

from urllib.parse import urlsplit

# Addresses compared, never bound: "all interfaces" counts as this machine.
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "::"}  # noqa: S104
ANY_HOST = {"0.0.0.0", "::", ""}  # noqa: S104


def split_bind(bind: str) -> tuple[str, int | None]:
    """gunicorn's "host:port" (or "[::1]:port", "unix:/path") as (host, port)."""
    if bind.startswith("unix:"):
        return bind, None
    host, _, port = bind.rpartition(":")
    return host.strip("[]"), int(port) if port.isdigit() else None


def bind_mismatch(public_base_url: str, binds: list[str]) -> str | None:
    """A warning when PUBLIC_BASE_URL names this machine at an address no bind serves, else
    None (a URL of another host is a proxy's, and is left alone)."""
    parts = urlsplit(public_base_url)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    served = [split_bind(b) for b in binds]
    if host not in LOCAL_HOSTS and host not in {h for h, _p in served}:
        return None
    for bound_host, bound_port in served:
        same_host = (
            bound_host in ANY_HOST
            or bound_host == host
            or (host in LOCAL_HOSTS and bound_host in LOCAL_HOSTS)
        )
        if same_host and bound_port == port:
            return None
    return (
        f"PUBLIC_BASE_URL is {public_base_url} but the server listens on {', '.join(binds)}: "
        "QR codes and printed notices will point where nothing answers. Set PUBLIC_BASE_URL "
        "to the address people reach this server at."
    )
