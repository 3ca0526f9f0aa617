"""Counting events for the statistics, called by the audit writer in the event's transaction.

Which counters an action adds to is the table in rules.stats; which office an event belongs to
is decided here from the object it was done to, because the actor's office says little: a
citizen has none, and a used-car market opens transfers that another office registers.
"""

from models import (
    AccidentCase,
    ELicence,
    EvidenceItem,
    LicenceRecord,
    Office,
    StatCounter,
    TransferCase,
    TruckPass,
    User,
    Vehicle,
)
from models.base import compiled_scalar
from rules.stats import bucket, counted


# Every counted event looks up its office: the SQL text of each lookup is built once
# (models.base.compiled_sql), as each costs more to build than to run.
def _office_code(office_id) -> str:
    """The code of an office by its id."""
    return (
        compiled_scalar(
            "office-code", lambda: Office.select(Office.code).where(Office.id == 0), office_id
        )
        or ""
    )


def _office_of_record(column: str, value) -> str:
    """The code of the office keeping the licence record whose `column` is `value`."""
    return compiled_scalar(
        f"office-code-by-record-{column}",
        lambda: Office.select(Office.code).join(LicenceRecord)
        .where(getattr(LicenceRecord, column) == ""),
        value,
    ) or ""  # fmt: skip


def _office_of_vehicle(vehicle_id) -> str:
    """The code of the office where a vehicle is registered."""
    return (
        compiled_scalar(
            "office-code-by-vehicle",
            lambda: Office.select(Office.code).join(Vehicle).where(Vehicle.id == 0),
            vehicle_id,
        )
        or ""
    )


def _office_of_item(item_id) -> str:
    """The code of the brigade handling the case of an evidence item."""
    return compiled_scalar(
        "office-code-by-evidence-item",
        lambda: Office.select(Office.code).join(AccidentCase).join(EvidenceItem)
        .where(EvidenceItem.id == 0),
        item_id,
    ) or ""  # fmt: skip


# The office an event is counted for, by the kind of object it was done to:
# an e-licence at the office that keeps its record, a citizen's refused application at the
# office that keeps their record (if any), a transfer at the office that registers it, accident
# evidence at the brigade that handles the case, a truck pass at the office where the truck is
# registered. Other objects count at the actor's office.
OFFICE_OF = {
    ELicence: lambda obj: _office_of_record("id", obj.record_id),
    User: lambda obj: _office_of_record("licence_no", obj.resident_id or ""),
    TransferCase: lambda obj: _office_code(obj.destination_office_id),
    AccidentCase: lambda obj: _office_code(obj.office_id),
    TruckPass: lambda obj: _office_of_vehicle(obj.vehicle_id),
    EvidenceItem: lambda obj: _office_of_item(obj.id),
}


def office_for(obj, actor_office: str) -> str:
    """The office code an event on `obj` counts for."""
    find = OFFICE_OF.get(type(obj))
    return find(obj) if find is not None else actor_office


def count_event(event, obj, detail: dict | None) -> None:
    """Add the event of an audit row just written to its counters, in the same transaction."""
    pairs = counted(event.action, event.result, detail)
    if not pairs:
        return
    day, hour = bucket(event.at)
    StatCounter.add(day, hour, office_for(obj, event.office), pairs)
