"""`flask office`: this city's offices and the plate pool, what a new deployment sets up before
its first staff account (README, "Deploying for real")."""

import click
from flask.cli import AppGroup

from core.i18n import english
from core.network.claims import claims_of
from models import Office, Peer, PlateNumber, Vehicle, db, write_tx
from models.people import OFFICE_KINDS

office_cli = AppGroup("office", help="This city's offices and its plate pool.")


def vehicle_office(code: str | None) -> Office:
    """The vehicle office of this city named by `code`, or its only one when no code is given
    (the importers' --office); click.BadParameter saying what to do otherwise."""
    offices = Office.select().where(
        (Office.is_local == True) & (Office.kind == "vehicle_office")  # noqa: E712
    )
    if code is not None:
        offices = offices.where(Office.code == code)
    found = list(offices)
    if len(found) == 1:
        return found[0]
    if code is not None:
        why = f"no vehicle office {code} here"
    elif found:
        why = f"{len(found)} vehicle offices here: name one"
    else:
        why = "no vehicle office here yet: add one with `flask office create`"
    raise click.BadParameter(why, param_hint="--office")


@office_cli.command("create")
@click.option("--code", required=True, help="The office's code, e.g. 370600 (unique).")
@click.option("--kind", required=True, type=click.Choice(OFFICE_KINDS))
@click.option("--name", required=True, help="Its name in Chinese, e.g. 烟台市车辆管理所.")
@click.option("--name-en", required=True, help="Its name in English.")
@click.option("--city", required=True, help="The city in Chinese, e.g. 烟台.")
@click.option("--city-en", required=True, help="The city in English, e.g. Yantai.")
@click.option("--plate-prefix", required=True, help="The city's plate prefix, e.g. 鲁F.")
@click.option("--address", default="", help="Street address in Chinese (next-step sentences).")
@click.option("--address-en", default="", help="Street address in English.")
def office_create(code, kind, name, name_en, city, city_en, plate_prefix, address, address_en):
    """Add one of this city's offices (a vehicle office, a police brigade, a used-car market):
    the first step of a new deployment, before `flask staff create`."""
    from core.audit import audit
    from rules.validators import ValidationError, normalize_plate_prefix

    code = code.strip()
    if not (code.isascii() and code.isalnum() and len(code) <= 16):
        raise click.BadParameter("letters and digits, at most 16", param_hint="code")
    try:
        prefix = normalize_plate_prefix(plate_prefix)
    except ValidationError as exc:
        raise click.BadParameter(english(exc.message), param_hint="plate-prefix") from exc
    words = {"name": name, "name-en": name_en, "city": city, "city-en": city_en}
    for hint, text in words.items():
        if not text.strip() or len(text) > (50 if hint.startswith("city") else 100):
            raise click.BadParameter("empty or too long", param_hint=hint)
    with db.connection_context(), write_tx():
        if Office.get_or_none(Office.code == code):
            raise click.BadParameter(
                f"an office with code {code} exists already", param_hint="code"
            )
        _refuse_another_city(city.strip(), prefix, code)
        office = Office.create(
            code=code,
            kind=kind,
            name=name.strip(),
            name_en=name_en.strip(),
            city=city.strip(),
            city_en=city_en.strip(),
            plate_prefix=prefix,
            address=address.strip()[:200],
            address_en=address_en.strip()[:200],
        )
        audit("office.create", office, detail={"code": code, "kind": kind, "via": "cli"})
    click.echo(f"created {kind} {code} ({office.name}, {office.city} {prefix})")


def _refuse_another_city(city: str, prefix: str, code: str) -> None:
    """click.BadParameter for an office that is not of this deployment's city (one deployment
    serves one city: its offices share the city and the plate prefix), or whose code or plate
    prefix a peer publishes (our document would claim another city's: core.network.claims)."""
    local = Office.select().where(Office.is_local == True)  # noqa: E712
    same = local.where((Office.city == city) & (Office.plate_prefix == prefix))
    if local.exists() and not same.exists():
        first = local.first()
        raise click.BadParameter(
            f"this deployment's offices are in {first.city} ({first.plate_prefix}); "
            "one deployment serves one city",
            param_hint="city/plate-prefix",
        )
    for peer in Peer.select():
        claims = claims_of(peer.doc)
        if code in claims.office_codes or prefix in claims.plate_prefixes:
            raise click.BadParameter(
                f"the peer {peer.base_url} publishes this office code or plate prefix",
                param_hint="code/plate-prefix",
            )


@office_cli.command("list")
def office_list():
    """This city's offices, and the other cities' offices its peers published."""
    with db.connection_context():
        offices = list(Office.select().order_by(Office.is_local.desc(), Office.code))
    for office in offices:
        where = "" if office.is_local else "  (a peer's)"
        click.echo(f"{office.code}  {office.kind:<15} {office.plate_prefix}  {office.name}{where}")
    if not offices:
        click.echo("no office yet: add one with `flask office create`")


@office_cli.command("add-plates")
@click.argument("code")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def office_add_plates(code, path):
    """Add the plate numbers in PATH (one a line, as 鲁F12345 or 鲁F·12345) to the pool of the
    vehicle office CODE, free to be issued at transfers; plates of another city's prefix, and
    plates a registered vehicle carries (never free: issued, a registration would fail), are
    refused, and a plate the pool holds already is left as it is."""
    from core.audit import audit
    from rules.validators import ValidationError, normalize_plate

    plates, rejected = [], []
    with open(path, encoding="utf-8-sig") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                plates.append(normalize_plate(line))
            except ValidationError as exc:
                rejected.append(f"line {line_no}: {english(exc.message)}")
    with db.connection_context(), write_tx():
        office = Office.get_or_none((Office.code == code) & (Office.is_local == True))  # noqa: E712
        if office is None or office.kind != "vehicle_office":
            raise click.BadParameter(f"no vehicle office {code} here", param_hint="code")
        rejected += [
            f"{p}: not of {office.plate_prefix}" for p in plates if p[:2] != office.plate_prefix
        ]
        ours = sorted({p for p in plates if p[:2] == office.plate_prefix})
        chunks = [ours[i : i + 500] for i in range(0, len(ours), 500)]
        held = {
            row.plate
            for chunk in chunks
            for row in PlateNumber.select(PlateNumber.plate).where(PlateNumber.plate.in_(chunk))
        }
        carried = {
            row.plate
            for chunk in chunks
            for row in Vehicle.select(Vehicle.plate).where(Vehicle.plate.in_(chunk))
        }
        rejected += [f"{p}: carried by a registered vehicle" for p in sorted(carried - held)]
        new = [p for p in ours if p not in held and p not in carried]
        for i in range(0, len(new), 500):
            PlateNumber.insert_many(
                [{"plate": p, "office": office.id} for p in new[i : i + 500]]
            ).execute()
        audit("office.plates_added", office, detail={"added": len(new), "held": len(held)})
    click.echo(
        f"added {len(new)} plates, already in the pool {len(held)}, rejected {len(rejected)}"
    )
    for reason in rejected:
        click.echo(f"  {reason}")
    if rejected:
        raise SystemExit(1)


def run_import(path: str, office_code: str | None, import_csv):
    """An importer's run as the commands show it: the office (vehicle_office), a progress bar
    over the file's rows, the validators' messages in English (the command line's language);
    import_csv(file, office, progress) gives the report. A file the importer cannot read at
    all (missing columns) is said in one line."""
    from flask_babel import force_locale

    with open(path, encoding="utf-8-sig") as fh:
        total = max(0, sum(1 for _ in fh) - 1)
    with db.connection_context(), force_locale("en"):
        office = vehicle_office(office_code)
        with (
            open(path, encoding="utf-8-sig", newline="") as fh,
            click.progressbar(length=total, label="importing", show_pos=True) as bar,
        ):
            try:
                return import_csv(fh, office, progress=lambda _line: bar.update(1))
            except ValueError as exc:
                raise click.ClickException(str(exc)) from None
