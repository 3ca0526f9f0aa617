"""`flask network ...`: key rotation, peering by fingerprint, the worker, a ping."""

import signal

import click
from flask import Flask
from flask.cli import AppGroup

from models import PEER_ACTIVE, PEER_SUSPENDED, Peer, db, write_tx

from .keys import said_when_missing

network_cli = AppGroup("network", help="The network of city deployments.")


def _peer(url: str) -> Peer:
    """The peer at `url`, or a clear error for the administrator."""
    from .peers import normalise_url

    peer = Peer.get_or_none(Peer.base_url == normalise_url(url))
    if peer is None:
        raise click.ClickException(f"{url} is not a peer")
    return peer


@network_cli.command("show-key")
@said_when_missing
def show_key():
    """Print this deployment's key id and the fingerprint to read out to another city."""
    from .keys import fingerprint, signing_key

    key = signing_key()
    click.echo(f"key id:      {key.kid}")
    click.echo(f"fingerprint: {fingerprint(key.kid)}")


@network_cli.command("rotate-key")
@click.option(
    "--retire-old",
    is_flag=True,
    help="End the older keys within a day (one may have leaked), not at their own end.",
)
def rotate_key(retire_old):
    """Add a new signing key; the older keys stay published and verifiable until they expire
    (with --retire-old: within a day, long enough for the peers to take the new key)."""
    from .journal import record
    from .keys import fingerprint, rotate

    key = rotate(retire_old=retire_old)
    with db.connection_context(), write_tx():
        record(
            "network.key_rotated",
            peer_url="",
            message_id=key.kid,
            detail={"retired_old": True} if retire_old else None,
        )
    click.echo(f"new key {key.kid}\nfingerprint: {fingerprint(key.kid)}")


@network_cli.command("add-peer")
@click.argument("url")
def add_peer(url):
    """Fetch a deployment's document, show its fingerprint, and trust it once the fingerprint
    confirmed with the other city (by telephone, in person) is typed back."""
    from .peers import PeerError, add_peer, fetch_candidate

    try:
        with db.connection_context():  # its claims are compared with ours and our peers'
            candidate = fetch_candidate(url)
    except PeerError as exc:
        raise click.ClickException(str(exc)) from exc
    doc = candidate.document
    click.echo(f"deployment:  {doc.get('name')} ({doc.get('city')}) at {candidate.url}")
    offices = ", ".join(f"{o['code']} {o['plate_prefix']}" for o in doc.get("offices", []))
    click.echo(f"offices:     {offices or '-'}")
    click.echo(f"fingerprint: {candidate.fingerprint}")
    typed = click.prompt(
        "Type the fingerprint the other city confirmed to you", default="", show_default=False
    )
    with db.connection_context():
        try:
            peer = add_peer(candidate, typed, added_by="cli")
        except PeerError as exc:
            raise click.ClickException(f"not added: {exc}") from exc
    click.echo(f"added peer {peer.base_url}")


@network_cli.command("peers")
def list_peers():
    """List the peers, their status and last contact."""
    with db.connection_context():
        for p in Peer.select().order_by(Peer.base_url):
            click.echo(f"{p.base_url}\t{p.name}\t{p.status}\t{p.last_contact_at or '-'}")


@network_cli.command("suspend")
@click.argument("url")
def suspend(url):
    """Stop hearing from and sending to a peer (its messages wait)."""
    from .peers import set_status

    with db.connection_context():
        set_status(_peer(url), PEER_SUSPENDED)
    click.echo("suspended")


@network_cli.command("resume")
@click.argument("url")
def resume(url):
    """Trust a suspended peer again."""
    from .peers import set_status

    with db.connection_context():
        set_status(_peer(url), PEER_ACTIVE)
    click.echo("resumed")


@network_cli.command("remove-peer")
@click.argument("url")
@click.option(
    "--forget-witnessed",
    is_flag=True,
    help="Also forget the newest checkpoint of its log we cosigned: only for a peer that "
    "restored a backup and told us (its log went back); it is witnessed afresh once added again.",
)
@click.confirmation_option(prompt="Forget this peer and cancel its waiting messages?")
def remove(url, forget_witnessed):
    """Forget a peer; its undelivered messages are cancelled. What we cosigned of its log is
    kept (a peer removed and added again is held to it), unless --forget-witnessed."""
    from .peers import remove_peer

    with db.connection_context():
        cancelled = remove_peer(_peer(url), forget_witnessed=forget_witnessed)
    forgot = ", what we cosigned of its log forgotten" if forget_witnessed else ""
    click.echo(f"removed ({cancelled} waiting messages cancelled{forgot})")


@network_cli.command("ping")
@click.argument("url")
@click.option("--text", default="ping")
@said_when_missing
def ping(url, text):
    """Queue a ping for a peer (the worker delivers it)."""
    from .outbox import enqueue

    with db.connection_context(), write_tx():
        message = enqueue(_peer(url).base_url, "ping", {"text": text})
    click.echo(message.message_id)


@network_cli.command("retry")
@click.option("--peer", "url", default=None, help="Only the messages for this peer.")
def retry(url):
    """Make every waiting message due now (e.g. once a peer that was down is back)."""
    from .outbox import retry_now

    with db.connection_context():
        n = retry_now(_peer(url).base_url if url else None)
    click.echo(f"{n} messages due now")


@network_cli.command("worker")
@click.option("--once", is_flag=True, help="One round of deliveries, then exit.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between idle rounds.")
@said_when_missing
def worker(once, interval):
    """Deliver the outbox with retries and backoff until stopped (SIGTERM ends it cleanly)."""
    from .outbox import run_worker

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    run_worker(once=once, interval=interval, stop=lambda: bool(stopping))


def init_app(app: Flask) -> None:
    """Register `flask network`."""
    app.cli.add_command(network_cli)
