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

# The lookup of an office's code, by what the event's object knows. Every counted event runs
# one: the SQL text of each is built once (models.base.compiled_sql), as building it costs
# more than running it.
OFFICE_CODE_BY = {
    "office": lambda: Office.select(Office.code).where(Office.id == 0),
    "record": lambda: Office.select(Office.code).join(LicenceRecord).where(LicenceRecord.id == 0),
    "licence-no": lambda: (
        Office.select(Office.code).join(LicenceRecord).where(LicenceRecord.licence_no == "")
    ),
    "vehicle": lambda: Office.select(Office.code).join(Vehicle).where(Vehicle.id == 0),
    "evidence-item": lambda: (
        Office.select(Office.code).join(AccidentCase).join(EvidenceItem).where(EvidenceItem.id == 0)
    ),
}


def _office(by: str, value) -> str:
    """The office code that the lookup `by` finds for `value` ('' when none)."""
    return compiled_scalar(f"office-code-by-{by}", OFFICE_CODE_BY[by], value) or ""


# The office an event is counted for, by the kind of object it was done to:
# an e-licence at the office that keeps its record, a citizen's refused application at the
# office that keeps their record (if any), a transfer at the office that registers it, accident
# evidence at the brigade that handles the case, a truck pass at the office where the truck is
# registered. Other objects count at the actor's office.
OFFICE_OF = {
    ELicence: lambda obj: _office("record", obj.record_id),
    User: lambda obj: _office("licence-no", obj.resident_id or ""),
    TransferCase: lambda obj: _office("office", obj.destination_office_id),
    AccidentCase: lambda obj: _office("office", obj.office_id),
    TruckPass: lambda obj: _office("vehicle", obj.vehicle_id),
    EvidenceItem: lambda obj: _office("evidence-item", obj.id),
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
