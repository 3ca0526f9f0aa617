"""Which audit entry records each step on a transfer case's timeline, so the timeline can link
each step to its receipt (core.auditlog.receipts).

A step and its audit entry are written in the same transaction, by the same actor, but as two
rows: a timeline step (TransferEvent) says what buyer and seller follow, the audit entry what
the log holds. They are paired here by the action that records each kind of step, the actor
and the time (the same transaction: well within a few seconds), each entry used once, in order.
A step no entry records (the archive arriving, which is logged as its sending) has no receipt.
"""

import datetime as dt

from models import AuditEvent, TransferCase, TransferEvent

# The audit action that records each kind of timeline step.
KIND_ACTIONS = {
    "opened": "transfer.open",
    "confirmed": "transfer.confirm",
    "declined": "transfer.declined",
    "permit_given": "transfer.permit_given",
    "plate_chosen": "transfer.plate_chosen",
    "inspected": "transfer.inspect",
    "archive_requested": "transfer.inspected",
    "reinspection": "transfer.reinspect",
    "archive_sent": "transfer.archive_sent",
    "stopped": "transfer.stopped",
    "registered": "transfer.registered",
}
SAME_TRANSACTION = dt.timedelta(seconds=5)


def case_entries(case: TransferCase):
    """The audit entries of this case that record timeline steps, oldest first."""
    return (
        AuditEvent.select()
        .where(
            (AuditEvent.object_type == "TransferCase")
            & (AuditEvent.object_id == str(case.id))
            & AuditEvent.action.in_(sorted(set(KIND_ACTIONS.values())))
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )


def entry_ids(case: TransferCase, steps: list[TransferEvent]) -> dict[int, int]:
    """{timeline step id: audit entry id} for the steps an entry records."""
    entries = list(case_entries(case))
    used, found = set(), {}
    for step in steps:
        action = KIND_ACTIONS.get(step.kind)
        for entry in entries:
            if (
                entry.id not in used
                and entry.action == action
                and entry.actor_id == step.actor_id
                and abs(entry.at - step.at) <= SAME_TRANSACTION
            ):
                used.add(entry.id)
                found[step.id] = entry.id
                break
    return found


def step_entry(case: TransferCase, entry_id: int) -> AuditEvent | None:
    """The audit entry `entry_id` when it records a step of this case's timeline, else None."""
    paired = entry_ids(case, list(case.events()))
    if entry_id not in paired.values():
        return None
    return AuditEvent.get_by_id(entry_id)
