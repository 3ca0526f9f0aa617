"""Which audit entry records each step on a transfer case's timeline, so the timeline can link
each step to its receipt (core.auditlog.receipts).

A step and its audit entry are two rows written in one transaction: a timeline step
(TransferEvent) says what buyer and seller follow, the audit entry what the log holds. The
step names its entry (`TransferEvent.audit_event`, migration 0021), set when both are written
(blueprints/transfer/service.py `event(..., entry=...)`), so the link never depends on times
or on who acted. A step without a link has no receipt: steps no entry records (the archive
arriving, which is logged as its sending; an archive refusal, logged by the stop that follows)
and steps written before migration 0021.

The origin's record of a sale to another city (OutgoingTransfer) keeps its own timeline, whose
steps name the entry of this city's log written with them the same way (migration 0022); the
steps the destination did are in the destination's log, so only those that moved our record
(and were logged here) have a receipt here.
"""

from models import AuditEvent, OutgoingEvent, OutgoingTransfer, TransferCase, TransferEvent


def entry_ids(steps: list[TransferEvent] | list[OutgoingEvent]) -> dict[int, int]:
    """{timeline step id: audit entry id} for the steps that name their entry."""
    return {step.id: step.audit_event_id for step in steps if step.audit_event_id is not None}


def step_entry(case: TransferCase, entry_id: int) -> AuditEvent | None:
    """The audit entry `entry_id` when a step of this case's timeline names it, else None."""
    return _named_entry(TransferEvent.case == case, TransferEvent, entry_id)


def outgoing_step_entry(out: OutgoingTransfer, entry_id: int) -> AuditEvent | None:
    """The audit entry `entry_id` when a step of this outgoing record's timeline names it."""
    return _named_entry(OutgoingEvent.outgoing == out, OutgoingEvent, entry_id)


def _named_entry(of_timeline, step_model, entry_id: int) -> AuditEvent | None:
    """The audit entry `entry_id` when a step (of `step_model`, on the timeline the condition
    `of_timeline` picks) names it, else None."""
    named = (
        step_model.select(step_model.id)
        .where(of_timeline & (step_model.audit_event == entry_id))
        .exists()
    )
    return AuditEvent.get_by_id(entry_id) if named else None
