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
from rules.stats import bucket, counted

# The office an event is counted for, by the kind of object it was done to: an e-licence at
# the office that keeps its record, a citizen's refused application at the office that keeps
# their record (if any), a transfer at the office that registers it, accident evidence at the
# brigade that handles the case, a truck pass at the office where the truck is registered.
# Other objects count at the actor's office. Each is a lookup of models.stats.OFFICE_CODE_BY
# and its value, which the counter's upsert runs itself (one statement, not two:
# StatCounter.add_by), unless the caller read the office already (audit's count_office: a
# check reads it with the e-licence, an application with the record).
OFFICE_OF = {
    ELicence: lambda obj: ("record", obj.record_id),
    User: lambda obj: ("licence-no", obj.resident_id or ""),
    TransferCase: lambda obj: ("office", obj.destination_office_id),
    AccidentCase: lambda obj: ("office", obj.office_id),
    TruckPass: lambda obj: ("vehicle", obj.vehicle_id),
    EvidenceItem: lambda obj: ("evidence-item", obj.id),
}


def count_event(event, obj, detail: dict | None, office: str | None = None) -> None:
    """Add the event of an audit row just written to its counters, in the same transaction.
    `office` is the code OFFICE_OF's lookup would find, when the caller read it already."""
    pairs = counted(event.action, event.result, detail)
    if not pairs:
        return
    day, hour = bucket(event.at)
    if office is None:
        find = OFFICE_OF.get(type(obj))
        if find is not None:
            # The counter's upsert looks the office up itself (one statement, not two).
            StatCounter.add_by(day, hour, *find(obj), pairs)
            return
        office = event.office
    StatCounter.add(day, hour, office, pairs)
