"""Importing the city's licence records from CSV: every row checked, good rows imported in one
pass, rejected rows reported with the reason, and nothing imported twice on a second run.

An optional `mobile` column carries the mobile number recorded with the licence (identity codes
go only there). A second run may add or change the mobile of a record that is otherwise the
same; any other difference is still refused.
"""

import csv
import datetime as dt
from dataclasses import dataclass, field

from core.audit import audit
from models import LICENCE_CLASSES, RECORD_STATUSES, LicenceRecord, Office, write_tx
from models.licence import POINTS_PER_CYCLE
from rules.validators import (
    ValidationError,
    birth_date_from_resident_id,
    normalize_mobile,
    normalize_resident_id,
    sex_code,
    sex_from_resident_id,
)

COLUMNS = (
    "licence_no",
    "file_no",
    "name",
    "sex",
    "birth_date",
    "nationality",
    "address",
    "classes",
    "first_issue_date",
    "valid_from",
    "valid_until",
    "points",
    "status",
)
BATCH = 500


class RowError(Exception):
    """Why one row is rejected."""


@dataclass
class ImportReport:
    """What an import did."""

    imported: int = 0
    unchanged: int = 0
    mobiles_set: int = 0  # existing records whose recorded mobile the file added or changed
    rejected: list = field(default_factory=list)  # (line number, licence_no, reason)


def _date(row, name) -> dt.date:
    try:
        return dt.date.fromisoformat(row[name].strip())
    except (ValueError, AttributeError):
        raise RowError(f"{name}: not a date (YYYY-MM-DD)") from None


def parse_row(row: dict, office: Office) -> dict:
    """A CSV row as the fields of a LicenceRecord, or RowError with the reason."""
    missing = [c for c in COLUMNS if c not in ("nationality", "status") and not row.get(c)]
    if missing:
        raise RowError("missing: " + ", ".join(missing))
    try:
        licence_no = normalize_resident_id(row["licence_no"])
    except ValidationError as exc:
        raise RowError(f"bad ID number: {exc}") from None
    classes = row["classes"].replace(",", " ").upper().split()
    unknown = [c for c in classes if c not in LICENCE_CLASSES]
    if unknown:
        raise RowError("unknown class: " + " ".join(unknown))
    sex = sex_code(row["sex"])
    if sex != sex_from_resident_id(licence_no):
        raise RowError("sex does not match the ID number")
    birth = _date(row, "birth_date")
    if birth != birth_date_from_resident_id(licence_no):
        raise RowError("birth date does not match the ID number")
    valid_from, valid_until = _date(row, "valid_from"), _date(row, "valid_until")
    if valid_until <= valid_from:
        raise RowError("valid_until is not after valid_from")
    status = (row.get("status") or "valid").strip()
    if status not in RECORD_STATUSES:
        raise RowError(f"unknown status: {status}")
    try:
        points = int(row["points"])
    except ValueError:
        raise RowError("points: not a number") from None
    if not 0 <= points <= POINTS_PER_CYCLE:
        raise RowError(f"points out of range (0 to {POINTS_PER_CYCLE})")
    file_no = row["file_no"].strip()
    if not file_no.isdigit() or len(file_no) != 12:
        raise RowError("file_no: 12 digits expected")
    extra = {}
    if (row.get("mobile") or "").strip():
        try:
            extra["mobile"] = normalize_mobile(row["mobile"])
        except ValidationError as exc:
            raise RowError(f"bad mobile: {exc}") from None
    return extra | {
        "licence_no": licence_no,
        "file_no": file_no,
        "name": row["name"].strip(),
        "sex": sex,
        "birth_date": birth,
        "nationality": (row.get("nationality") or "中国").strip(),
        "address": row["address"].strip(),
        "classes": " ".join(sorted(set(classes), key=LICENCE_CLASSES.index)),
        "first_issue_date": _date(row, "first_issue_date"),
        "valid_from": valid_from,
        "valid_until": valid_until,
        "points": points,
        "status": status,
        "issuing_office": office.id,
    }


def same_record(existing: LicenceRecord, fields: dict) -> bool:
    """True when the stored record already says what the row says."""
    return all(
        getattr(existing, k if k != "issuing_office" else "issuing_office_id") == v
        for k, v in fields.items()
    )


def import_csv(fh, office: Office, progress=None) -> ImportReport:
    """Import records from an open CSV file; `progress` is called with each row's number."""
    report = ImportReport()
    reader = csv.DictReader(fh)
    lacking = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if lacking:
        raise ValueError("the CSV lacks the columns: " + ", ".join(lacking))
    seen_licences, seen_files, batch = {}, {}, []
    for line, row in enumerate(reader, start=2):
        if progress:
            progress(line)
        try:
            fields = parse_row(row, office)
            if fields["licence_no"] in seen_licences:
                raise RowError(f"duplicate of line {seen_licences[fields['licence_no']]}")
            if fields["file_no"] in seen_files:
                raise RowError(f"file_no duplicate of line {seen_files[fields['file_no']]}")
            existing = LicenceRecord.get_or_none(LicenceRecord.licence_no == fields["licence_no"])
            if existing is not None:
                without_mobile = {k: v for k, v in fields.items() if k != "mobile"}
                if not same_record(existing, without_mobile):
                    raise RowError("duplicate: a different record with this number exists")
                if fields.get("mobile", existing.mobile) != existing.mobile:
                    _set_mobile(existing, fields["mobile"])
                    report.mobiles_set += 1
                else:
                    report.unchanged += 1
                continue
            if LicenceRecord.select().where(LicenceRecord.file_no == fields["file_no"]).exists():
                raise RowError("duplicate: file_no belongs to another record")
        except RowError as exc:
            report.rejected.append((line, (row.get("licence_no") or "")[:18], str(exc)))
            continue
        seen_licences[fields["licence_no"]] = line
        seen_files[fields["file_no"]] = line
        batch.append(fields)
        if len(batch) >= BATCH:
            report.imported += _insert(batch)
            batch = []
    report.imported += _insert(batch)
    with write_tx():
        audit(
            "licence.import",
            office,
            detail={
                "imported": report.imported,
                "unchanged": report.unchanged,
                "mobiles_set": report.mobiles_set,
                "rejected": len(report.rejected),
            },
        )
    return report


def _insert(batch: list) -> int:
    """Insert a batch of checked rows in one transaction; returns how many."""
    if not batch:
        return 0
    # Rows with and without a mobile insert as one shape (insert_many takes the first's keys).
    rows = [{"mobile": None, **fields} for fields in batch]
    with write_tx():
        LicenceRecord.insert_many(rows).execute()
    return len(batch)


def _set_mobile(record: LicenceRecord, mobile: str) -> None:
    """Record the mobile the office's file gives for an existing record (audited)."""
    with write_tx():
        LicenceRecord.update(mobile=mobile).where(LicenceRecord.id == record.id).execute()
        audit("licence.mobile_set", record, detail={"via": "import"})
