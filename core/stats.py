"""Counting events for the statistics, called by the audit writer in the event's transaction.

Which counters an action adds to is the table in rules.stats; which office an event belongs to
is decided here from the object it was done to, because the actor's office says little: a
citizen has none, and a used-car market opens transfers that another office registers.
"""

from models import (
    AccidentCase,
    ELicence,
    EvidenceItem,
    StatCounter,
    TransferCase,
    TruckPass,
    User,
)
from models.stats import office_code_by
from rules.stats import bucket, counted

# The office an event is counted for, by the kind of object it was done to:
# an e-licence at the office that keeps its record, a citizen's refused application at the
# office that keeps their record (if any), a transfer at the office that registers it, accident
# evidence at the brigade that handles the case, a truck pass at the office where the truck is
# registered. Other objects count at the actor's office.
OFFICE_OF = {
    ELicence: lambda obj: office_code_by("record", obj.record_id),
    User: lambda obj: office_code_by("licence-no", obj.resident_id or ""),
    TransferCase: lambda obj: office_code_by("office", obj.destination_office_id),
    AccidentCase: lambda obj: office_code_by("office", obj.office_id),
    TruckPass: lambda obj: office_code_by("vehicle", obj.vehicle_id),
    EvidenceItem: lambda obj: office_code_by("evidence-item", obj.id),
}


def office_for(obj, actor_office: str) -> str:
    """The office code an event on `obj` counts for."""
    find = OFFICE_OF.get(type(obj))
    return find(obj) if find is not None else actor_office


def count_event(event, obj, detail: dict | None, office: str | None = None) -> None:
    """Add the event of an audit row just written to its counters, in the same transaction.
    `office` is the code office_for would find, when the caller read it already."""
    pairs = counted(event.action, event.result, detail)
    if not pairs:
        return
    day, hour = bucket(event.at)
    if office is None:
        office = office_for(obj, event.office)
    StatCounter.add(day, hour, office, pairs)
