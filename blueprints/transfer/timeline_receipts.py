"""Which audit entry records each step on a transfer case's timeline, so the timeline can link
each step to its receipt (core.auditlog.receipts).

A step and its audit entry are two rows written in one transaction: a timeline step
(TransferEvent) says what buyer and seller follow, the audit entry what the log holds. The
step names its entry (`TransferEvent.audit_event`, migration 0021), set when both are written
(blueprints/transfer/service.py `event(..., entry=...)`), so the link never depends on times
or on who acted. A step without a link has no receipt: steps no entry records (the archive
arriving, which is logged as its sending; an archive refusal, logged by the stop that follows)
and steps written before migration 0021.
"""

from models import AuditEvent, TransferCase, TransferEvent


def entry_ids(case: TransferCase, steps: list[TransferEvent]) -> dict[int, int]:
    """{timeline step id: audit entry id} for the steps of this case that name their entry."""
    return {
        step.id: step.audit_event_id
        for step in steps
        if step.audit_event_id is not None and step.case_id == case.id
    }


def step_entry(case: TransferCase, entry_id: int) -> AuditEvent | None:
    """The audit entry `entry_id` when a step of this case's timeline names it, else None."""
    named = (
        TransferEvent.select(TransferEvent.id)
        .where((TransferEvent.case == case) & (TransferEvent.audit_event == entry_id))
        .exists()
    )
    return AuditEvent.get_by_id(entry_id) if named else None
