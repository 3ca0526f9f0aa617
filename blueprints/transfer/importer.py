"""Importing the city's vehicle register from CSV (`flask transfer import-vehicles`): every row
checked, good rows imported with their first archive entry, rejected rows reported with the
reason, and nothing imported twice on a second run (a row the register holds already, word
for word, is counted as there; one that differs is refused, never overwritten).

A vehicle is kept under its owner's name and ID number, as on the registration certificate;
an account that proves that ID number sees it (transfer.views.index). An account that holds
the number already is linked as the owner (a truck's owner applies for its passes). A plate
the office's pool holds is marked as issued to the vehicle.
"""

import csv
import datetime as dt
from dataclasses import dataclass, field

from peewee import IntegrityError

from core.audit import audit
from models import Office, PlateNumber, User, Vehicle, write_tx
from models.vehicles import (
    PLATE_ASSIGNED,
    PLATE_FREE,
    TRANSFERRED_OUT,
    VEHICLE_STATUSES,
    VEHICLE_TYPES,
)
from rules.truckrules import EMISSION_STANDARDS
from rules.validators import (
    ValidationError,
    normalize_mobile,
    normalize_person_name,
    normalize_plate,
    normalize_resident_id,
    normalize_vin,
)

REQUIRED = (
    "vin",
    "plate",
    "brand",
    "model_name",
    "vehicle_type",
    "colour",
    "engine_no",
    "first_registered_on",
    "owner_name",
    "owner_resident_id",
    "certificate_no",
)
OPTIONAL = (
    "gross_mass_kg",
    "emission_standard",
    "owner_mobile",
    "inspection_valid_until",
    "status",
)
LENGTHS = {"brand": 40, "model_name": 60, "colour": 20, "engine_no": 30, "certificate_no": 20}


TAKEN_IN_POOL = "plate: the pool holds it for a transfer (reserved or issued)"


class RowError(Exception):
    """Why one row is rejected."""


@dataclass
class ImportReport:
    """What an import did."""

    imported: int = 0
    unchanged: int = 0
    rejected: list = field(default_factory=list)  # (line number, VIN, reason)


def _date(row: dict, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(row[name].strip())
    except (ValueError, AttributeError):
        raise RowError(f"{name}: not a date (YYYY-MM-DD)") from None


def _checked(name: str, check, value: str):
    try:
        return check(value)
    except ValidationError as exc:
        raise RowError(f"{name}: {exc}") from None


def parse_row(row: dict, office: Office) -> dict:
    """A CSV row as the fields of a Vehicle of `office`, or RowError with the reason."""
    missing = [c for c in REQUIRED if not (row.get(c) or "").strip()]
    if missing:
        raise RowError("missing: " + ", ".join(missing))
    plate = _checked("plate", normalize_plate, row["plate"])
    if plate[:2] != office.plate_prefix:
        raise RowError(f"plate: not of {office.plate_prefix}")
    vehicle_type = row["vehicle_type"].strip()
    if vehicle_type not in VEHICLE_TYPES:
        raise RowError(f"unknown vehicle_type: {vehicle_type} ({', '.join(VEHICLE_TYPES)})")
    status = (row.get("status") or "normal").strip()
    if status not in VEHICLE_STATUSES or status == TRANSFERRED_OUT:
        raise RowError(f"unknown status: {status}")
    emission = (row.get("emission_standard") or "").strip() or None
    if emission is not None and emission not in EMISSION_STANDARDS:
        raise RowError(f"unknown emission_standard: {emission}")
    mass = (row.get("gross_mass_kg") or "").strip()
    if mass and not (mass.isascii() and mass.isdigit() and 0 < int(mass) <= 100_000):
        raise RowError("gross_mass_kg: a whole number of kilograms expected")
    first = _date(row, "first_registered_on")
    inspection = _date(row, "inspection_valid_until") if row.get("inspection_valid_until") else None
    mobile = (row.get("owner_mobile") or "").strip()
    for name, limit in LENGTHS.items():
        if len(row[name].strip()) > limit:
            raise RowError(f"{name}: longer than {limit}")
    return {
        "vin": _checked("vin", normalize_vin, row["vin"]),
        "plate": plate,
        "brand": row["brand"].strip(),
        "model_name": row["model_name"].strip(),
        "vehicle_type": vehicle_type,
        "colour": row["colour"].strip(),
        "engine_no": row["engine_no"].strip().upper(),
        "first_registered_on": first,
        "gross_mass_kg": int(mass) if mass else None,
        "emission_standard": emission,
        "owner_name": _checked("owner_name", normalize_person_name, row["owner_name"]),
        "owner_resident_id": _checked(
            "owner_resident_id", normalize_resident_id, row["owner_resident_id"]
        ),
        "owner_mobile": _checked("owner_mobile", normalize_mobile, mobile) if mobile else None,
        "certificate_no": row["certificate_no"].strip(),
        "inspection_valid_until": inspection,
        "status": status,
    }


def same_vehicle(existing: Vehicle, fields: dict, office: Office) -> bool:
    """True when the register holds this row already, word for word, at this office."""
    return existing.registration_office_id == office.id and all(
        getattr(existing, k) == v for k, v in fields.items()
    )


def _refuse_clash(fields: dict, office: Office) -> None:
    """RowError when the row's plate or certificate is another vehicle's (an earlier row's
    too: each row is written before the next is read), or its plate is one the office's pool
    holds for someone else (reserved for a transfer, or another office's)."""
    taken = Vehicle.select().where(
        (Vehicle.vin != fields["vin"])
        & (
            (Vehicle.plate == fields["plate"])
            | (Vehicle.certificate_no == fields["certificate_no"])
        )
    )
    if taken.exists():
        raise RowError("plate or certificate_no belongs to another vehicle")
    pooled = PlateNumber.get_or_none(PlateNumber.plate == fields["plate"])
    if pooled is not None and pooled.office_id != office.id:
        raise RowError("plate: in the pool of another office")
    if pooled is not None and pooled.status != PLATE_FREE:
        raise RowError(TAKEN_IN_POOL)


def import_csv(fh, office: Office, progress=None) -> ImportReport:
    """Import vehicles of `office` from an open CSV file; `progress` is called with each row's
    line number. Each vehicle is written with its archive's first entry in one transaction."""
    report = ImportReport()
    reader = csv.DictReader(fh)
    lacking = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if lacking:
        raise ValueError("the CSV lacks the columns: " + ", ".join(lacking))
    try:
        for line, row in enumerate(reader, start=2):
            if progress:
                progress(line)
            try:
                if _import_row(row, office):
                    report.imported += 1
                else:
                    report.unchanged += 1
            except RowError as exc:
                report.rejected.append((line, (row.get("vin") or "")[:17], str(exc)))
    finally:  # an import cut short says how far it got
        with write_tx():
            audit(
                "transfer.vehicles_import",
                office,
                detail={
                    "imported": report.imported,
                    "unchanged": report.unchanged,
                    "rejected": len(report.rejected),
                },
            )
    return report


def _import_row(row: dict, office: Office) -> bool:
    """One row, checked and written in one transaction (a plate reserved meanwhile still
    refuses it: _insert): True when imported, False when the register holds it already;
    RowError otherwise."""
    fields = parse_row(row, office)
    try:
        with write_tx():
            existing = Vehicle.get_or_none(Vehicle.vin == fields["vin"])
            if existing is not None:
                if not same_vehicle(existing, fields, office):
                    raise RowError("duplicate: a different vehicle with this VIN is registered")
                return False
            _refuse_clash(fields, office)
            _insert(fields, office)
    except IntegrityError:  # written by someone else meanwhile
        raise RowError("plate, VIN or certificate_no was registered meanwhile") from None
    return True


def _insert(fields: dict, office: Office) -> None:
    """One checked vehicle, its first archive entry, its owner's account and its plate (in
    the caller's transaction)."""
    owner = User.get_or_none(
        (User.resident_id == fields["owner_resident_id"]) & (User.is_staff == False)  # noqa: E712
    )
    vehicle = Vehicle.create(**fields, owner=owner, registration_office=office)
    at = dt.datetime.combine(fields["first_registered_on"], dt.time(0, 0))
    vehicle.record("initial_registration", office, note="imported", at=at)
    taken = PlateNumber.update(status=PLATE_ASSIGNED, vehicle=vehicle, assigned_at=at).where(
        (PlateNumber.plate == fields["plate"]) & (PlateNumber.status == PLATE_FREE)
    )
    if (
        taken.execute() == 0
        and PlateNumber.select().where(PlateNumber.plate == fields["plate"]).exists()
    ):
        # Reserved for a transfer since it was read (PostgreSQL's read committed): the row's
        # transaction rolls back.
        raise RowError(TAKEN_IN_POOL)
