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
from rules.stats import bucket, counted


def _code(query) -> str:
    """The office code a one-value query finds ('' when none)."""
    return query.scalar() or ""


def _office_code(office_id) -> str:
    """The code of an office by its id."""
    return _code(Office.select(Office.code).where(Office.id == office_id))


def _licence_office(record_query) -> str:
    """The code of the office keeping the licence record the condition selects."""
    return _code(Office.select(Office.code).join(LicenceRecord).where(record_query))


# The office an event is counted for, by the kind of object it was done to:
# an e-licence at the office that keeps its record, a citizen's refused application at the
# office that keeps their record (if any), a transfer at the office that registers it, accident
# evidence at the brigade that handles the case, a truck pass at the truck's office. Other
# objects count at the actor's office.
OFFICE_OF = {
    ELicence: lambda obj: _licence_office(LicenceRecord.id == obj.record_id),
    User: lambda obj: _licence_office(LicenceRecord.licence_no == (obj.resident_id or "")),
    TransferCase: lambda obj: _office_code(obj.destination_office_id),
    AccidentCase: lambda obj: _office_code(obj.office_id),
    # A truck pass counts at the office where the truck is registered.
    TruckPass: lambda obj: _code(
        Office.select(Office.code).join(Vehicle).where(Vehicle.id == obj.vehicle_id)
    ),
    EvidenceItem: lambda obj: _code(
        Office.select(Office.code)
        .join(AccidentCase)
        .join(EvidenceItem)
        .where(EvidenceItem.id == obj.id)
    ),
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
