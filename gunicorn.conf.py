"""gunicorn settings read from the working directory by every gunicorn started here.

The access log never writes a query string or a referrer: some pages take identifiers (a
licence number is a resident ID number, share codes, search terms), and a log line is kept
and read far more widely than the database. `%(U)s` is the path alone.
"""

import gc
import os

from core.db import gunicorn_workers

# Sync workers (one request at a time each): one per core on SQLite, (2 x cores) + 1 on
# PostgreSQL, whose requests mostly wait on the network (core.db.gunicorn_workers,
# docs/DESIGN.md#workers). WEB_CONCURRENCY (gunicorn's own variable) or --workers overrides it.
workers = int(
    os.environ.get("WEB_CONCURRENCY")
    or gunicorn_workers(os.environ.get("DATABASE_URL", ""), os.cpu_count() or 1)
)

# gunicorn 27's control socket (~/.gunicorn/gunicorn.ctl) is one per user: two deployments on
# one machine would take it from each other, and a hardened unit cannot write there. Nothing
# here uses it.
control_socket_disable = True

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'


def when_ready(server):
    """Warn at start when PUBLIC_BASE_URL (what QR codes and notices carry) names this machine
    at another host or port than the one served (core.public_url)."""
    from core.public_url import bind_mismatch

    public = os.environ.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000"
    warning = bind_mismatch(public.rstrip("/"), list(server.cfg.bind))
    if warning:
        server.log.warning(warning)
    if public.startswith("https://") and os.environ.get("SMS_GATEWAY", "dev") == "dev":
        server.log.warning(SMS_NOT_SENT)


# Served to the public (https) with the development SMS gateway: no code reaches anyone, and
# the codes wait at /dev/sms, where an administrator could read them.
SMS_NOT_SENT = (
    "SMS_GATEWAY is 'dev': no text message is sent, and identity and registration codes are "
    "kept at /dev/sms. Set SMS_GATEWAY=http with SMS_GATEWAY_URL (README, Configuration)."
)


def post_worker_init(worker):
    """The worker has loaded the application: its modules, compiled templates, catalogues and
    compiled SQL live as long as the worker. gc.freeze() moves them out of the collector's
    generations, so a full collection walks only what requests left behind (with them, one
    took about 40 ms in the middle of a request, every few thousand requests)."""
    gc.freeze()
