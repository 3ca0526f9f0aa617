"""The cross-deployment transfer (跨城联网转移): what each side keeps of a case that lives
partly in another city's deployment.

The case itself (TransferCase) lives where the buyer registers, the destination. There a
TransferLink ties it to the origin deployment (the peer where the vehicle is registered) and
keeps the origin's last answer to the checks only it can run. The origin keeps an
OutgoingTransfer: the record its seller and vehicle clerks see, with its own timeline of the
whole case (OutgoingEvent), every event naming the city that did it.
"""

import json

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from .audit import AuditEvent
from .base import BaseModel, utcnow
from .people import User
from .transfer import TransferCase
from .vehicles import Vehicle


class TransferLink(BaseModel):
    """Destination side: the case's origin deployment and its last word on the vehicle."""

    case = ForeignKeyField(TransferCase, unique=True, backref="links", on_delete="CASCADE")
    peer_url = CharField(max_length=200, index=True)
    seller_name = CharField(max_length=50)
    seller_resident_id = CharField(max_length=18)
    # The failed checks the origin reported last (a JSON list of reasons; [] = all passed) and
    # when it ran them: a step uses them while fresh, else asks the origin again.
    origin_reasons = TextField(default="[]")
    checked_at = DateTimeField(default=utcnow)

    @property
    def reasons(self) -> list[dict]:
        """The origin's failed checks as a list of reason dicts."""
        return json.loads(self.origin_reasons or "[]")


OUT_OPEN = "open"
OUT_ARCHIVE_REQUESTED = "archive_requested"
OUT_ARCHIVE_SENT = "archive_sent"
OUT_TRANSFERRED = "transferred_out"
OUT_CLOSED = "closed"
OUTGOING_STATES = (OUT_OPEN, OUT_ARCHIVE_REQUESTED, OUT_ARCHIVE_SENT, OUT_TRANSFERRED, OUT_CLOSED)


# Steps of the buyer's city that come only once both confirmations were taken there (a peer of
# an older version sends no "to_inspection": a later one shows it too).
AFTER_CONFIRMATION = ("to_inspection", "archive_requested", "inspected", "reinspection")


class OutgoingTransfer(BaseModel):
    """Origin side: a vehicle of this city sold to a buyer registering it in another city."""

    peer_url = CharField(max_length=200)
    remote_case_id = IntegerField()
    case_number = CharField(max_length=20)
    vehicle = ForeignKeyField(Vehicle, backref="outgoing_transfers", on_delete="RESTRICT")
    # One open outgoing transfer per vehicle, a rule of the database (cleared when it closes).
    open_vehicle = ForeignKeyField(
        Vehicle, null=True, unique=True, backref="open_outgoing", on_delete="RESTRICT"
    )
    seller = ForeignKeyField(User, backref="outgoing_sales", on_delete="RESTRICT")
    buyer_name = CharField(max_length=50)
    destination = TextField()  # the destination office as its deployment names it (JSON)
    invoice_no = CharField(max_length=20)
    invoice_date = CharField(max_length=10)
    price = CharField(max_length=20)
    state = CharField(max_length=20, default=OUT_OPEN, index=True)
    seller_confirmed_at = DateTimeField(null=True)
    archive_sha256 = CharField(max_length=64, null=True)
    archive_sent_at = DateTimeField(null=True)
    archive_sent_by = ForeignKeyField(User, null=True, on_delete="RESTRICT")
    refusal_reason = TextField(null=True)
    new_plate = CharField(max_length=8, null=True)
    transferred_out_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        indexes = ((("peer_url", "remote_case_id"), True),)

    @property
    def destination_office(self) -> dict:
        """The destination office (code, name, name_en, city, plate_prefix)."""
        return json.loads(self.destination)

    @property
    def is_open(self) -> bool:
        """Neither transferred out nor closed."""
        return self.state not in (OUT_TRANSFERRED, OUT_CLOSED)

    def events(self):
        """The whole case's timeline as the origin knows it, oldest first."""
        return self.timeline.order_by(OutgoingEvent.at, OutgoingEvent.id)

    def progress(self, events) -> str:
        """Where the case stands, for the seller and the clerks here: the record's state, and
        while it is open (the case's early steps happen at the destination) how far the
        relayed timeline `events` (oldest first) says the case has come."""
        if self.state != OUT_OPEN:
            return self.state
        confirmed, inspection, taken = set(), None, False
        for event in events:
            if event.kind == "confirmed":
                confirmed.add(event.detail_dict.get("party"))
            taken = taken or event.kind in AFTER_CONFIRMATION
            if event.kind == "inspected":
                inspection = "inspected" if event.detail_dict.get("passed") else "inspection_failed"
            elif event.kind == "reinspection":
                inspection = None
        if inspection:
            return inspection
        if taken:
            return "awaiting_inspection"
        if confirmed >= {"seller", "buyer"}:
            # Both confirmed as far as we know, but the buyer's city has not taken the
            # seller's confirmation yet (a withdrawal of the buyer may be on its way).
            return "confirmation_sent"
        return {"seller": "awaiting_buyer", "buyer": "awaiting_seller"}.get(
            next(iter(confirmed), ""), OUT_OPEN
        )

    @classmethod
    def reached_origin_clerks(cls):
        """A condition on records: the seller confirmed the sale and the destination asked for
        the archive (now, or before the record closed). Until then the sale is the seller's
        and the buyer's; the origin's vehicle clerks see it from then on, as in the
        in-database path."""
        asked = OutgoingEvent.select(OutgoingEvent.outgoing).where(
            OutgoingEvent.kind == OUT_ARCHIVE_REQUESTED
        )
        return cls.seller_confirmed_at.is_null(False) & (
            cls.state.in_((OUT_ARCHIVE_REQUESTED, OUT_ARCHIVE_SENT, OUT_TRANSFERRED))
            | ((cls.state == OUT_CLOSED) & cls.id.in_(asked))
        )

    @classmethod
    def archive_requests_at(cls, office_id: int) -> int:
        """How many records of vehicles registered at this office wait for their archive."""
        return (
            cls.select()
            .join(Vehicle, on=(cls.vehicle == Vehicle.id))
            .where(
                (Vehicle.registration_office == office_id) & (cls.state == OUT_ARCHIVE_REQUESTED)
            )
            .count()
        )

    @classmethod
    def progress_of(cls, records: list) -> dict[int, str]:
        """`progress` of each record, by id, from one read of the open ones' timelines."""
        open_ids = [r.id for r in records if r.state == OUT_OPEN]
        timelines: dict[int, list] = {i: [] for i in open_ids}
        if open_ids:
            query = OutgoingEvent.select().where(OutgoingEvent.outgoing.in_(open_ids))
            for event in query.order_by(OutgoingEvent.at, OutgoingEvent.id):
                timelines[event.outgoing_id].append(event)
        return {r.id: r.progress(timelines.get(r.id, [])) for r in records}


class OutgoingEvent(BaseModel):
    """One event of an outgoing transfer's timeline: done here or relayed by the destination."""

    outgoing = ForeignKeyField(OutgoingTransfer, backref="timeline", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    kind = CharField(max_length=30)
    city = CharField(max_length=50)
    city_en = CharField(max_length=50, default="")
    actor = ForeignKeyField(User, null=True, on_delete="RESTRICT")
    detail = TextField(default="{}")
    # The entry this city's audit log holds for the step, its receipt (migration 0022); None
    # for a step our log does not record (a relayed step that moves nothing here).
    audit_event = ForeignKeyField(AuditEvent, null=True, backref="+", on_delete="RESTRICT")

    @property
    def detail_dict(self) -> dict:
        """The detail JSON as a dict."""
        return json.loads(self.detail or "{}")
