"""Each step on a transfer case's timeline names the audit entry written with it
(blueprints/transfer/timeline_receipts.py, migration 0021): the link is stored, never guessed
from action, actor and time, so two steps by the same person in the same second (or written
under a skewed clock) each lead to their own entry's receipt."""

import datetime as dt
import json

from blueprints.transfer import service, timeline_receipts
from core.audit import audit
from models import AuditEvent, TransferCase, TransferEvent
from models.transfer import AWAITING_ARCHIVE, REGISTERED

# The audit action that records each kind of step; steps not listed name no entry.
STEP_ACTIONS = {
    "opened": "transfer.open",
    "confirmed": "transfer.confirm",
    "to_inspection": "transfer.confirmed",
    "inspected": "transfer.inspect",
    "archive_requested": "transfer.inspected",
    "archive_sent": "transfer.archive_sent",
    "registered": "transfer.registered",
}


def test_every_step_names_the_entry_written_with_it(app, make, conn):
    w = make.transfer_world()
    case = make.transfer_case(w, until=REGISTERED)
    with conn():
        steps = list(TransferCase.get_by_id(case.id).events())
        found = timeline_receipts.entry_ids(steps)
        for step in steps:
            if step.kind not in STEP_ACTIONS:
                # The archive arriving is logged as its sending: no receipt of its own.
                assert step.kind == "archive_received" and step.id not in found
                continue
            entry = AuditEvent.get_by_id(found[step.id])
            assert entry.action == STEP_ACTIONS[step.kind], step.kind
            assert entry.object_id == str(case.id) and entry.actor_id == step.actor_id
        # No two steps share an entry.
        assert len(set(found.values())) == len(found) == len(steps) - 1


def test_two_steps_by_one_person_in_one_second_each_link_their_own_entry(app, make, conn):
    """The buyer chooses a plate, then another, within the same second; the second step is
    even stamped earlier (a clock behind by half a second). Guessing by action, actor and
    time paired the first entry with whichever step came first; the stored link cannot."""
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_ARCHIVE)
    with conn():
        first, second = service.offered_plates(case)[:2]
        service.choose_plate(case.id, first.id, w.buyer)
        service.choose_plate(case.id, second.id, w.buyer)
        chose = list(
            TransferEvent.select()
            .where((TransferEvent.case == case.id) & (TransferEvent.kind == "plate_chosen"))
            .order_by(TransferEvent.id)
        )
        assert len(chose) == 2
        same_second = chose[0].at.replace(microsecond=600_000)
        TransferEvent.update(at=same_second).where(TransferEvent.id == chose[0].id).execute()
        skewed = same_second - dt.timedelta(milliseconds=500)
        TransferEvent.update(at=skewed).where(TransferEvent.id == chose[1].id).execute()

        steps = list(TransferCase.get_by_id(case.id).events())
        found = timeline_receipts.entry_ids(steps)
        for step, plate in zip(chose, (first, second), strict=True):
            entry = timeline_receipts.step_entry(case, found[step.id])
            assert entry.action == "transfer.plate_chosen" and entry.actor_id == w.buyer.id
            assert json.loads(entry.detail)["plate"] == plate.plate
        assert found[chose[0].id] != found[chose[1].id]


def test_a_step_without_a_link_has_no_receipt(app, make, conn):
    """Steps written before migration 0021 name no entry: no receipt link, and no entry of
    the case (not even one of a step's action, by the step's actor) is taken for theirs."""
    w = make.transfer_world()
    case = make.transfer_case(w)
    with conn():
        old = TransferEvent.create(case=case.id, kind="confirmed", actor=w.seller)
        stray = audit("transfer.confirm", case, actor=w.seller, detail={"party": "seller"})
        steps = list(TransferCase.get_by_id(case.id).events())
        assert old.id not in timeline_receipts.entry_ids(steps)
        assert timeline_receipts.step_entry(case, stray.id) is None
        # An entry a step of another case names is not this case's.
        other = make.transfer_case(make.transfer_world())
        opened = TransferEvent.get(
            (TransferEvent.case == other.id) & (TransferEvent.kind == "opened")
        )
        assert timeline_receipts.step_entry(other, opened.audit_event_id) is not None
        assert timeline_receipts.step_entry(case, opened.audit_event_id) is None


def test_a_plate_in_a_receipt_is_written_as_the_pages_write_it(app, client, make, login, conn):
    from rules.validators import display_plate

    from .helpers import page
    from .test_audit import integrate_now

    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_ARCHIVE)
    with conn():
        plate = service.offered_plates(case)[0]
        service.choose_plate(case.id, plate.id, w.buyer)
        step = TransferEvent.get(
            (TransferEvent.case == case.id) & (TransferEvent.kind == "plate_chosen")
        )
    integrate_now(app)
    login(w.buyer)
    shown = page(client.get(f"/transfer/cases/{case.id}/receipt/{step.audit_event_id}"))
    assert display_plate(plate.plate) in shown.find(id="receipt-entry").get_text()
