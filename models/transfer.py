"""Cross-region second-hand vehicle transfer (二手车异地交易登记): the case and its steps.

A case starts with the sale's unified invoice (二手车销售统一发票), is confirmed by seller and
buyer, inspected (查验) at this city's vehicle office, waits for the vehicle's archive to be sent
online by the office where it is registered (档案网上转递), and ends with the registration to the
buyer under a new plate of this city (转移登记). The allowed moves are the table below; the
blueprint's service performs each one as a conditional update with its audit row.
"""

import json
import re

from peewee import (
    JOIN,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from .audit import AuditEvent
from .base import BaseModel, utcnow
from .people import Office, User
from .vehicles import PlateNumber, Vehicle

AWAITING_CONFIRMATION = "awaiting_confirmation"
AWAITING_INSPECTION = "awaiting_inspection"
INSPECTION_FAILED = "inspection_failed"
AWAITING_ARCHIVE = "awaiting_archive"
ARCHIVE_RECEIVED = "archive_received"
REGISTERED = "registered"
STOPPED = "stopped"
CANCELLED = "cancelled"

CASE_STATES = (
    AWAITING_CONFIRMATION,
    AWAITING_INSPECTION,
    INSPECTION_FAILED,
    AWAITING_ARCHIVE,
    ARCHIVE_RECEIVED,
    REGISTERED,
    STOPPED,
    CANCELLED,
)
CLOSED_STATES = frozenset({REGISTERED, STOPPED, CANCELLED})
OPEN_STATES = tuple(s for s in CASE_STATES if s not in CLOSED_STATES)

# Every allowed move. No step can be skipped (each state has one way forward) and none done
# twice (a closed state has no way out). A failed check stops the case at any open step.
# A failed inspection is not the end: the clerk may inspect the vehicle again (a slip at the
# counter, or a fault the owner has since repaired), or stop the case for good.
CASE_TRANSITIONS = {
    AWAITING_CONFIRMATION: {AWAITING_INSPECTION, STOPPED, CANCELLED},
    AWAITING_INSPECTION: {AWAITING_ARCHIVE, INSPECTION_FAILED, STOPPED},
    INSPECTION_FAILED: {AWAITING_INSPECTION, STOPPED},
    AWAITING_ARCHIVE: {ARCHIVE_RECEIVED, STOPPED},
    ARCHIVE_RECEIVED: {REGISTERED, STOPPED},
    REGISTERED: set(),
    STOPPED: set(),
    CANCELLED: set(),
}


# A case number as people type it: ZY and up to 12 digits (number_of pads to six).
NUMBER = re.compile(r"ZY([0-9]{1,12})")


class TransferCase(BaseModel):
    """One sale of a vehicle registered in another city to a buyer of this city."""

    state = CharField(max_length=30, default=AWAITING_CONFIRMATION, index=True)
    vehicle = ForeignKeyField(Vehicle, backref="transfer_cases", on_delete="RESTRICT")
    # Set to the vehicle while the case is open, cleared when it closes: the unique index makes
    # "one open case per vehicle" a rule of the database, not only of the code.
    open_vehicle = ForeignKeyField(
        Vehicle, null=True, unique=True, backref="open_case", on_delete="RESTRICT"
    )
    # None when the seller is a user of another deployment (a case opened over the network:
    # the seller confirms at the origin, TransferLink names them).
    seller = ForeignKeyField(User, null=True, backref="sales", on_delete="RESTRICT")
    buyer = ForeignKeyField(User, backref="purchases", on_delete="RESTRICT")
    # Where the invoice was issued: a used-car market, or None when the buyer opened the case.
    market = ForeignKeyField(Office, null=True, backref="market_cases", on_delete="RESTRICT")
    opened_by = ForeignKeyField(User, backref="opened_cases", on_delete="RESTRICT")
    opened_at = DateTimeField(default=utcnow)
    origin_office = ForeignKeyField(Office, backref="outgoing_cases", on_delete="RESTRICT")
    destination_office = ForeignKeyField(Office, backref="incoming_cases", on_delete="RESTRICT")
    # The unified invoice of the sale.
    invoice_no = CharField(max_length=20, index=True)
    invoice_date = DateField()
    price = DecimalField(max_digits=12, decimal_places=2)
    # A residence permit (居住证) of this city, for a buyer whose household is elsewhere.
    residence_permit_no = CharField(max_length=30, null=True)
    seller_confirmed_at = DateTimeField(null=True)
    buyer_confirmed_at = DateTimeField(null=True)
    # Why the case stopped: a JSON list of {"code": ..., ...} rendered in the reader's language.
    stop_reasons = TextField(null=True)
    chosen_plate = ForeignKeyField(
        PlateNumber, null=True, unique=True, backref="chosen_by", on_delete="SET NULL"
    )
    new_plate = CharField(max_length=8, null=True)
    new_certificate_no = CharField(max_length=20, null=True)
    # Indexed: the statistics read registrations by time (how long transfers took).
    registered_at = DateTimeField(null=True, index=True)
    registered_by = ForeignKeyField(
        User, null=True, backref="registered_cases", on_delete="RESTRICT"
    )
    updated_at = DateTimeField(default=utcnow, index=True)

    @property
    def number(self) -> str:
        """The case number people quote (e.g. ZY000042)."""
        return self.number_of(self.id)

    @staticmethod
    def number_of(case_id: int) -> str:
        """The number of the case with this id, without reading it."""
        return f"ZY{case_id:06d}"

    @staticmethod
    def id_numbered(typed: str) -> int | None:
        """The id of the case a typed number names (ZY000007, zy7: case 7), or None. ASCII
        digits only, and no more than an id can have (a longer one would overflow the query)."""
        found = NUMBER.fullmatch("".join(typed.split()).upper())
        return int(found.group(1)) if found else None

    @property
    def is_open(self) -> bool:
        """Not yet registered, stopped or cancelled."""
        return self.state not in CLOSED_STATES

    @property
    def reasons(self) -> list[dict]:
        """The stop reasons as a list of dicts."""
        return json.loads(self.stop_reasons) if self.stop_reasons else []

    def events(self):
        """The case's timeline, oldest first."""
        return (
            TransferEvent.select(TransferEvent, Office)
            .join(Office, JOIN.LEFT_OUTER, on=(TransferEvent.office == Office.id))
            .where(TransferEvent.case == self)
            .order_by(TransferEvent.at, TransferEvent.id)
        )


class Inspection(BaseModel):
    """The vehicle inspection (查验) at this city's office: identifiers read off the vehicle.

    A case may have several: a failed inspection is kept when the vehicle is inspected again.
    """

    case = ForeignKeyField(TransferCase, backref="inspections", on_delete="CASCADE")
    inspector = ForeignKeyField(User, on_delete="RESTRICT")
    office = ForeignKeyField(Office, on_delete="RESTRICT")
    at = DateTimeField(default=utcnow)
    vin_read = CharField(max_length=17)
    plate_read = CharField(max_length=8)
    vin_matches = BooleanField()
    plate_matches = BooleanField()
    passed = BooleanField()
    remarks = TextField(default="")


class InspectionPhoto(BaseModel):
    """A photo taken at the inspection, stored by core.uploads under a server-made name."""

    inspection = ForeignKeyField(Inspection, backref="photos", on_delete="CASCADE")
    relpath = CharField(max_length=200)
    sha256 = CharField(max_length=64)
    size = IntegerField()
    mime = CharField(max_length=40)
    uploaded_at = DateTimeField(default=utcnow)


ARCHIVE_REQUESTED = "requested"
ARCHIVE_SENT = "sent"
ARCHIVE_REFUSED = "refused"
ARCHIVE_WITHDRAWN = "withdrawn"  # the case stopped before the archive was sent
ARCHIVE_STATUSES = (ARCHIVE_REQUESTED, ARCHIVE_SENT, ARCHIVE_REFUSED, ARCHIVE_WITHDRAWN)


class ArchiveTransfer(BaseModel):
    """The request for a vehicle's archive and, once sent, the archive document itself.

    The document is a self-contained, versioned JSON text ("jiaoguan.vehicle-archive") with the
    SHA-256 of its canonical form, so it can later travel between two deployments unchanged.
    """

    case = ForeignKeyField(TransferCase, unique=True, backref="archive", on_delete="CASCADE")
    from_office = ForeignKeyField(Office, backref="archives_out", on_delete="RESTRICT")
    to_office = ForeignKeyField(Office, backref="archives_in", on_delete="RESTRICT")
    status = CharField(max_length=10, default=ARCHIVE_REQUESTED, index=True)
    requested_at = DateTimeField(default=utcnow)
    requested_by = ForeignKeyField(User, backref="archive_requests", on_delete="RESTRICT")
    reviewed_by = ForeignKeyField(User, null=True, backref="archive_reviews", on_delete="RESTRICT")
    reviewed_at = DateTimeField(null=True)
    refusal_reason = TextField(null=True)
    document = TextField(null=True)
    document_sha256 = CharField(max_length=64, null=True)
    format_version = IntegerField(null=True)
    received_at = DateTimeField(null=True)


class TransferEvent(BaseModel):
    """One step on a case's timeline, with its time and office, as buyer and seller follow it."""

    case = ForeignKeyField(TransferCase, backref="timeline", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    kind = CharField(max_length=30)
    office = ForeignKeyField(Office, null=True, on_delete="RESTRICT")
    actor = ForeignKeyField(User, null=True, on_delete="RESTRICT")
    detail = TextField(default="{}")
    # The audit entry written with this step, in its transaction: the step's receipt
    # (blueprints/transfer/timeline_receipts.py). Null for a step no entry records (the
    # archive arriving, a refusal logged by the stop that follows) and for steps written
    # before migration 0021.
    audit_event = ForeignKeyField(AuditEvent, null=True, backref="+", on_delete="RESTRICT")

    @property
    def detail_dict(self) -> dict:
        """The detail JSON as a dict."""
        return json.loads(self.detail or "{}")
