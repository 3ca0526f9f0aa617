"""Command-line tools: `flask db`, `flask demo`, `flask staff`, `flask audit` (and `flask office`,
core.cli_offices)."""

import os

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from core.i18n import english
from core.network.keys import said_when_missing
from models import STAFF_ROLES, Office, User, db, write_tx
from models.people import OFFICE_ROLES, roles_refused

db_cli = AppGroup("db", help="Database schema.")
audit_cli = AppGroup("audit", help="The audit log.")
staff_cli = AppGroup("staff", help="Staff accounts.")
demo_cli = AppGroup("demo", help="The demo city.")


@db_cli.command("upgrade")
def db_upgrade():
    """Apply pending schema migrations."""
    from core.db import upgrade

    applied = upgrade()
    click.echo("applied: " + ", ".join(applied) if applied else "schema is up to date")


@db_cli.command("status")
def db_status():
    """List migrations and whether each is applied; exits 1 while any is pending."""
    from core.db import migration_runner

    with db.connection_context():
        rows = migration_runner().status()
    for m in rows:
        click.echo(f"[{'x' if m.applied else ' '}] {m.name}")
    if any(not m.applied for m in rows):
        raise SystemExit(1)


@db_cli.command("prune")
def db_prune():
    """Delete spent security counters: throttles whose window began a week ago and whose lock
    ended, and the peer inbox's counters of strangers after 30 days; the received messages
    kept for a while only, relayed licence checks after a day; and registrations whose code
    never came back, after an hour (deploy/jiaoguan-prune.timer runs this hourly)."""
    from core.network.inbox import prune_forgotten
    from models import PendingRegistration, RefusedCheck, Throttle

    with db.connection_context(), write_tx():
        throttles, strangers = Throttle.prune(), RefusedCheck.prune_strangers()
        messages = prune_forgotten()
        registrations = PendingRegistration.prune()
    click.echo(
        f"deleted {throttles} spent throttles, {strangers} strangers' counters, "
        f"{messages} received messages and {registrations} unfinished registrations"
    )


@db_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
def db_backup(path):
    """Write a consistent backup while the application keeps serving (readable by its owner
    alone); refused when the database has no schema (a mistyped INSTANCE_PATH or DATABASE_URL)."""
    from flask import current_app

    from core.backup import BackupError, backup

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise click.BadParameter(f"no folder {folder}", param_hint="path")
    try:
        applied = backup(current_app.config["DATABASE_URL"], path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup written to {path} (schema at {applied[-1]})")


@db_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask first.")
def db_restore(path, yes):
    """Replace the database's contents with a backup (says what it holds and asks first). Stop
    the service, its workers and timers first; run `flask db upgrade` after a backup made by an
    older version; a deployment with peers tells them first (README, "Restoring a backup")."""
    from flask import current_app

    from core.backup import BackupError, backup_migrations, restore
    from models import is_postgres

    if not is_postgres():
        try:
            applied = backup_migrations(path)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{path}: a backup with the schema at {applied[-1]}")
    if not yes:
        click.confirm("Replace every row of the database with this backup?", abort=True)
    restore(current_app.config["DATABASE_URL"], path)
    click.echo(f"restored from {path}")


@audit_cli.command("verify")
@said_when_missing
def audit_verify():
    """Recompute the Merkle tree from the entries and hold it to every signed checkpoint;
    exit 1 and name the first entry that differs."""
    from core.auditlog.verify import verify_log

    with db.connection_context():
        found = verify_log()
    if not found.intact:
        where = (
            f"row id={found.entry.id} seq={found.entry.seq}"
            if found.entry is not None
            else "checkpoints"
        )
        click.echo(
            f"BROKEN at {where}: {found.problem} ({found.entries} entries verified before it)",
            err=True,
        )
        raise SystemExit(1)
    waiting = f", {found.waiting} waiting for the integrator" if found.waiting else ""
    checkpoints = f"{found.checkpoints} signed checkpoints"
    click.echo(f"audit log intact: {found.entries} entries, {checkpoints}{waiting}")


@audit_cli.command("integrate")
@click.option("--once", is_flag=True, help="Integrate what waits now, then stop.")
@click.option("--interval", default=0.5, show_default=True, help="Seconds between batches.")
@click.option("--batch", default=5000, show_default=True, help="Entries per checkpoint at most.")
@said_when_missing
def audit_integrate(once, interval, batch):
    """Number the new audit entries, extend the Merkle tree and sign a checkpoint, in batches,
    until SIGTERM (one integrator at a time across nodes; more wait their turn)."""
    import signal
    import sys

    from core.auditlog.log import run_integrator

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    if not once:
        click.echo("integrator running (SIGTERM stops it after the batch in hand)", nl=True)
        sys.stdout.flush()
    with db.connection_context():
        size = run_integrator(
            interval=interval, stop=lambda: bool(stopping), once=once, batch=batch
        )
    click.echo(f"tree size {size}" if size else "nothing to integrate")


@audit_cli.command("witness")
@click.option("--once", is_flag=True, help="Ask every peer once, then stop.")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between rounds.")
@said_when_missing
def audit_witness(once, interval):
    """Ask every active peer to cosign the newest checkpoint (with a consistency proof from
    the last one it cosigned), until SIGTERM, and compare notes with them once a minute
    (`flask audit compare`); print what each peer answered."""
    import signal

    from core.auditlog.gossip import compare_round
    from core.auditlog.witness import run_witness

    stopping, said = [], {}

    def report(outcomes: dict[str, str]) -> None:
        """Print each peer's answer when it is not the one printed last (the journal shows
        every change, not a line per peer every ten seconds)."""
        _echo_outcomes({url: o for url, o in outcomes.items() if said.get(url) != o}, None)
        said.update(outcomes)

    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    with db.connection_context():
        outcomes = run_witness(
            interval=interval,
            stop=lambda: bool(stopping),
            once=once,
            compare=compare_round,
            report=report,
        )
    if not outcomes:
        click.echo("no active peer to witness the log")


@audit_cli.command("compare")
@said_when_missing
def audit_compare():
    """Ask every active peer for the checkpoints it cosigned and hold them against ours and
    against what was cosigned here (a split view, or a checkpoint signed with our key that we
    never made, raises an alert); print what came of each peer. `flask audit witness` does
    this every minute."""
    from core.auditlog.gossip import compare_round

    with db.connection_context():
        outcomes = compare_round()
    _echo_outcomes(outcomes, "no active peer to compare with")


def _echo_outcomes(outcomes: dict[str, str], none: str | None) -> None:
    """Print what came of each peer ("url: outcome"), or `none` when there was no peer."""
    for url, outcome in outcomes.items():
        click.echo(f"{url}: {outcome}")
    if not outcomes and none:
        click.echo(none)


@audit_cli.command("keys")
@click.option(
    "--witness",
    is_flag=True,
    help="This deployment's keys as a witness of other cities' logs (for --witness).",
)
@said_when_missing
def audit_keys(witness):
    """Print the log's verifier keys (C2SP form), for people checking receipts with
    docs/verify_receipt.py --key: publish them, or read them out. With --witness, the keys
    this deployment cosigns other cities' checkpoints with (verify_receipt.py --witness)."""
    from core.auditlog.cosign import cosigner_key, cosigner_name
    from core.auditlog.log import verifier_keys
    from core.auditlog.note import raw_public
    from core.network import keys

    if not witness:
        for key in verifier_keys():
            click.echo(key)
        return
    name = cosigner_name(current_app.config["PUBLIC_BASE_URL"])
    for key in keys.all_keys(expired=True):
        click.echo(cosigner_key(name, raw_public(key.key.public_key)))


@audit_cli.command("prove")
@click.argument("seq", type=int)
@said_when_missing
def audit_prove(seq):
    """Print entry SEQ's receipt as JSON: its leaf (every sealed field disclosed), audit path
    and the newest witnessed checkpoint it is in (check it offline with docs/verify_receipt.py)."""
    import json

    from core.auditlog.log import NotYetIntegrated
    from core.auditlog.receipts import receipt

    with db.connection_context():
        try:
            proof = receipt(seq)
        except NotYetIntegrated as exc:
            raise click.ClickException(
                f"entry {seq} is not in a signed checkpoint yet: run `flask audit integrate`"
            ) from exc
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(proof, ensure_ascii=False, indent=2))


@staff_cli.command("create")
@click.option("--username", required=True)
@click.option("--name", "real_name", required=True)
@click.option("--office", "office_code", required=True, help="Office code, e.g. 370200")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(STAFF_ROLES))
@click.password_option()
def staff_create(username, real_name, office_code, roles, password):
    """Create a staff account; its holder enrols an authenticator at first login."""
    from core.audit import audit
    from core.passwords import check_policy, hash_password
    from rules.validators import ValidationError

    try:
        check_policy(password, username)
    except ValidationError as exc:
        raise click.BadParameter(english(exc.message), param_hint="password") from exc
    with db.connection_context(), write_tx():
        office = Office.get_or_none(Office.code == office_code)
        if office is None:
            raise click.BadParameter(f"no office with code {office_code}", param_hint="office")
        if User.get_or_none(User.username == username):
            raise click.BadParameter(f"{username} exists already", param_hint="username")
        why = roles_refused(office.kind, roles)
        if why == "office":
            held = ", ".join(sorted(OFFICE_ROLES[office.kind]))
            raise click.BadParameter(f"a {office.kind} holds only {held}", param_hint="role")
        if why == "admin":
            raise click.BadParameter(
                "an administrator cannot also be a licence or vehicle clerk", param_hint="role"
            )
        user = User.create(
            is_staff=True,
            username=username,
            real_name=real_name,
            office=office,
            password_hash=hash_password(password),
        )
        user.set_roles(roles)
        audit(
            "staff.create",
            user,
            detail={"roles": sorted(roles), "office": office.code, "via": "cli"},
        )
    click.echo(f"created {username} ({', '.join(roles)}) at {office.name}")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database holds people.")
def demo_load(if_empty):
    """Load the demo city: offices, one staff account per role, a dozen citizens."""
    from core import demo

    with db.connection_context():
        if if_empty and User.select().exists():
            click.echo("database is not empty: demo city not loaded")
            return
        demo.load_demo_city(progress=click.echo)


@demo_cli.command("logins")
def demo_logins():
    """Print the demo logins (only while the demo city is loaded)."""
    from core import demo

    with db.connection_context():
        click.echo(demo.logins_text())


@demo_cli.command("code")
@click.argument("username")
def demo_code(username):
    """Print a demo staff account's current TOTP code."""
    from core import demo

    with db.connection_context():
        code = demo.current_code(username)
    if code is None:
        raise click.ClickException(f"{username} is not a demo staff account with an authenticator")
    click.echo(code)


def init_app(app: Flask) -> None:
    """Register the command groups."""
    from core.cli_offices import office_cli

    for group in (db_cli, audit_cli, office_cli, staff_cli, demo_cli):
        app.cli.add_command(group)
