"""The vehicle archive as it travels between vehicle offices (档案网上转递).

The archive is one self-contained JSON document: it names its format and version, both offices,
the vehicle, its owner, its violations and every entry of its history, so that the receiving
office needs nothing else. Its SHA-256 is taken over a canonical form (sorted keys, no spaces,
UTF-8), recorded when it is sent and verified when it is received. Both offices are in one
deployment today; the same document can be carried between two deployments later.
"""

import datetime as dt
import hashlib
import json

FORMAT = "jiaoguan.vehicle-archive"
VERSION = 1
REQUIRED_KEYS = (
    "format",
    "version",
    "issued_at",
    "from_office",
    "to_office",
    "vehicle",
    "owner",
    "history",
)


class ArchiveError(ValueError):
    """The document is not a valid archive of a version this code reads, or was altered."""


def canonical(document: dict) -> str:
    """The canonical text of a document: the form its checksum is taken over."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest(text: str) -> str:
    """SHA-256 of a canonical text, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _day(value: dt.date | None) -> str | None:
    """A date as ISO text (None stays None)."""
    return value.isoformat() if value else None


def _time(value: dt.datetime) -> str:
    """A UTC time as ISO text with Z, to the second."""
    return value.replace(microsecond=0).isoformat() + "Z"


def office_ref(office) -> dict:
    """An office as the document names it."""
    return {
        "code": office.code,
        "name": office.name,
        "name_en": office.name_en,
        "city": office.city,
        "plate_prefix": office.plate_prefix,
    }


def vehicle_ref(vehicle) -> dict:
    """A vehicle as documents between offices describe it (the archive adds its status; the
    answer to a destination's enquiry is this alone)."""
    return {
        "vin": vehicle.vin,
        "plate": vehicle.plate,
        "brand": vehicle.brand,
        "model": vehicle.model_name,
        "vehicle_type": vehicle.vehicle_type,
        "colour": vehicle.colour,
        "engine_no": vehicle.engine_no,
        "first_registered_on": _day(vehicle.first_registered_on),
        "gross_mass_kg": vehicle.gross_mass_kg,
        "certificate_no": vehicle.certificate_no,
        "inspection_valid_until": _day(vehicle.inspection_valid_until),
    }


def build(vehicle, history, violations, from_office, to_office, case, now: dt.datetime) -> dict:
    """The archive document of a vehicle as the origin office sends it for a transfer case."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "issued_at": _time(now),
        "from_office": office_ref(from_office),
        "to_office": office_ref(to_office),
        "transfer": {
            "case": case.number,
            "invoice_no": case.invoice_no,
            "invoice_date": _day(case.invoice_date),
        },
        "vehicle": {**vehicle_ref(vehicle), "status": vehicle.status},
        "owner": {"name": vehicle.owner_name, "resident_id": vehicle.owner_resident_id},
        "violations": [
            {
                "occurred_on": _day(v.occurred_on),
                "place": v.place,
                "description": v.description,
                "handled": v.handled,
            }
            for v in violations
        ],
        "history": [
            {
                "at": _time(r.at),
                "kind": r.kind,
                "office": r.office.code,
                "plate": r.plate,
                "owner_name": r.owner_name,
                "owner_resident_id": r.owner_resident_id,
                "certificate_no": r.certificate_no,
                "note": r.note,
            }
            for r in history
        ],
    }


def seal(document: dict) -> tuple[str, str]:
    """The canonical text of a document and its SHA-256, as stored and sent."""
    text = canonical(document)
    return text, digest(text)


def open_document(text: str, sha256: str) -> dict:
    """Verify a received archive and return it; raises ArchiveError when it cannot be trusted.

    The checksum must match the text exactly, the text must be the canonical form (so nothing
    was reformatted on the way), and the format and version must be ones this code reads.
    """
    if digest(text) != sha256:
        raise ArchiveError("checksum mismatch")
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ArchiveError("not JSON") from exc
    if not isinstance(document, dict) or canonical(document) != text:
        raise ArchiveError("not in canonical form")
    if document.get("format") != FORMAT:
        raise ArchiveError(f"unknown format {document.get('format')!r}")
    if document.get("version") != VERSION:
        raise ArchiveError(f"unsupported version {document.get('version')!r}")
    missing = [k for k in REQUIRED_KEYS if k not in document]
    if missing:
        raise ArchiveError(f"missing keys: {', '.join(missing)}")
    return document


def transfer_out_note(case_number: str, office) -> str:
    """The archive's 转出 entry: the case, and the office the archive went to by its name and
    code (an Office, or the dict of one a peer published), as the archive is written."""
    if isinstance(office, dict):
        name, code = str(office.get("name", "")), str(office.get("code", ""))
    else:
        name, code = office.name, office.code
    return f"{case_number} → {name}（{code}）" if name else f"{case_number} → {code}"
