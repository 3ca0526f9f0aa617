"""Measure 4: accident cases (事故案件), their parties (当事人), the evidence gathered
(证据材料) and the log of every look at it (查阅记录).

Who may see what is decided in blueprints.evidence.service; these models hold the data and the
queries the views need.
"""

import datetime as dt

from peewee import (
    JOIN,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from .base import BaseModel, compiled_get_joined, compiled_select, for_update, utcnow
from .people import Office, User

# Procedure (处理程序): only cases under the general procedure (一般程序) have evidence to review;
# the simple procedure (简易程序) settles on the spot.
PROCEDURES = ("general", "simple")

# Progress of a case, in order; the allowed moves are in blueprints.evidence.service.
CASE_STATUSES = (
    "opened",  # 立案
    "evidence_gathered",  # 证据收集完毕
    "determination_delivered",  # 事故认定书已送达
    "open_for_review",  # 证据开放查阅
    "closed",  # 结案
)

PARTY_ROLES = ("driver", "owner", "injured", "relative", "agent", "insurer")

EVIDENCE_CATEGORIES = (
    "scene_diagram",  # 现场图
    "survey_record",  # 现场勘查笔录
    "appraisal",  # 鉴定意见
    "photo",  # 现场照片
    "inspection_report",  # 检验报告
    "other",
)

# Why an item is withheld from the parties (不予公开的理由).
WITHHOLD_REASONS = ("state_secret", "privacy", "witness")

ACCESS_KINDS = ("case", "view", "download")


class AccidentCase(BaseModel):
    """A traffic accident handled by a police brigade, and the stage it has reached."""

    case_no = CharField(max_length=32, unique=True)
    office = ForeignKeyField(Office, backref="accident_cases", on_delete="RESTRICT")
    officer = ForeignKeyField(User, backref="handled_cases", on_delete="RESTRICT")
    occurred_at = DateTimeField()  # UTC
    place = CharField(max_length=200)
    description = TextField(default="")
    procedure = CharField(max_length=10, default="general")
    # The day the accident determination (事故认定书) was delivered, a Beijing calendar date.
    determination_delivered_on = DateField(null=True)
    status = CharField(max_length=30, default="opened", index=True)
    created_by = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    created_at = DateTimeField(default=utcnow)

    # The handling officer's name, when read with the case (for_access): the case page shows it.
    officer_name: str | None = None

    @classmethod
    def locked(cls, case_id: int) -> "AccidentCase":
        """The case read again inside the caller's write transaction, its row locked on
        PostgreSQL (SQLite's write transaction holds the whole database already)."""
        return for_update(cls.select().where(cls.id == case_id)).get()

    @classmethod
    def for_access(
        cls, case_id: int, resident_id: str | None
    ) -> "tuple[AccidentCase, CaseParty | None] | None":
        """(the case, the party row of `resident_id` on it or None), or None when there is no
        such case: every look at a case checks who may see it (blueprints.evidence.service),
        and the case page shows its brigade and handling officer, so the case comes with its
        office set on it and its officer's name (`officer_name`) in one statement, SQL text
        built once (compiled_get_joined). `resident_id` None asks for no party row (an
        officer's look)."""
        found = compiled_get_joined(
            (cls, Office, CaseParty),
            "accident-case-for-access",
            lambda: (
                cls.select(cls, Office, CaseParty, User.real_name)
                .join(Office, on=(cls.office == Office.id))
                .switch(cls)
                .join(User, on=(cls.officer == User.id))
                .switch(cls)
                .join(
                    CaseParty,
                    JOIN.LEFT_OUTER,
                    on=((CaseParty.case == cls.id) & (CaseParty.resident_id == "")),
                )
                .where(cls.id == 0)
            ),
            resident_id,
            case_id,
        )
        if found is None:
            return None
        case, office, party, officer_name = found
        case.office = office
        case._dirty.clear()  # the office it was read with: nothing to save
        case.officer_name = officer_name
        return case, (party if party.id is not None else None)

    def review_open(self, today: dt.date) -> bool:
        """True when the parties may see the evidence on `today` (a Beijing date).

        Only under the general procedure, only once the determination has been delivered
        (from its delivery date on), and only after the officer opened the evidence for review.
        """
        return (
            self.procedure == "general"
            and self.determination_delivered_on is not None
            and self.determination_delivered_on <= today
            and self.status in ("open_for_review", "closed")
        )

    @classmethod
    def for_party(cls, resident_id: str):
        """The cases where someone with this ID number is a party, newest first."""
        return (
            cls.select()
            .join(CaseParty)
            .where(CaseParty.resident_id == resident_id)
            .order_by(cls.occurred_at.desc())
            .distinct()
        )

    @classmethod
    def for_office(cls, office_id: int):
        """The cases of one brigade, newest first."""
        return (
            cls.select(cls, User)
            .join(User, on=(cls.officer == User.id))
            .where(cls.office == office_id)
            .order_by(cls.occurred_at.desc())
        )


class CaseParty(BaseModel):
    """A party to an accident, matched to a citizen's account by the resident ID number."""

    case = ForeignKeyField(AccidentCase, backref="parties", on_delete="CASCADE")
    name = CharField(max_length=50)
    resident_id = CharField(max_length=18, index=True)
    mobile = CharField(max_length=11)
    role = CharField(max_length=20)
    # SHA-256 of the query code on the paper notice (查询码); the code itself is shown once.
    query_code_hash = CharField(max_length=64, null=True)
    added_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("case", "resident_id"), True),)

    @classmethod
    def of_case(cls, case_id: int) -> list["CaseParty"]:
        """The parties of a case, in the order they were added (every view of the case page
        lists them: SQL text built once, compiled_select)."""
        return compiled_select(
            cls,
            "case-parties-of-case",
            lambda: cls.select().where(cls.case == 0).order_by(cls.id),
            case_id,
        )


class EvidenceItem(BaseModel):
    """One file of evidence: stored under a server-made name, released or withheld."""

    case = ForeignKeyField(AccidentCase, backref="items", on_delete="CASCADE")
    category = CharField(max_length=30)
    title = CharField(max_length=100)
    file_path = CharField(max_length=200)  # relative to UPLOAD_FOLDER, made by the server
    sha256 = CharField(max_length=64)
    size = IntegerField()
    mime = CharField(max_length=40)
    released = BooleanField(default=False)
    withhold_reason = CharField(max_length=20, null=True)
    withhold_note = TextField(default="")
    uploaded_by = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    uploaded_at = DateTimeField(default=utcnow)

    # The case page reads these on every view: SQL text built once (compiled_select).
    @classmethod
    def of_case(cls, case_id: int, released_only: bool = False) -> list["EvidenceItem"]:
        """The items of a case (only the released ones when `released_only`), by category,
        then in the order they were added."""
        if released_only:
            return compiled_select(
                cls,
                "evidence-items-released-of-case",
                lambda: (
                    cls.select()
                    .where((cls.case == 0) & (cls.released == True))  # noqa: E712
                    .order_by(cls.category, cls.id)
                ),
                case_id,
                True,
            )
        return compiled_select(
            cls,
            "evidence-items-of-case",
            lambda: cls.select().where(cls.case == 0).order_by(cls.category, cls.id),
            case_id,
        )

    @classmethod
    def withheld_of_case(cls, case_id: int) -> list["EvidenceItem"]:
        """The items of a case kept from the parties, with their id, category and grounds
        only (not the title, file or the officers' note): what a party may know of them."""
        return compiled_select(
            cls,
            "evidence-items-withheld-of-case",
            lambda: (
                cls.select(cls.id, cls.category, cls.withhold_reason)
                .where((cls.case == 0) & (cls.released == False))  # noqa: E712
                .order_by(cls.category, cls.id)
            ),
            case_id,
            False,
        )

    @property
    def is_image(self) -> bool:
        """JPEG or PNG (shown inline on the item's page)."""
        return self.mime.startswith("image/")


class EvidenceAccess(BaseModel):
    """One look at a case: its page opened, an item viewed, or a copy downloaded.

    A download's row id is printed in the copy's watermark, so a leaked copy leads here.
    """

    # RESTRICT: the log outlives nothing it describes; deleting a looked-at case must fail.
    case = ForeignKeyField(AccidentCase, backref="accesses", on_delete="RESTRICT")
    item = ForeignKeyField(EvidenceItem, null=True, backref="accesses", on_delete="RESTRICT")
    user = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    kind = CharField(max_length=10)
    as_party = BooleanField(default=False)
    at = DateTimeField(default=utcnow, index=True)
    client_addr = CharField(max_length=64, default="")

    @classmethod
    def of_case(cls, case_id: int):
        """Every look at a case, newest first, with the person and item."""
        return (
            cls.select(cls, User, EvidenceItem)
            .join(User, on=(cls.user == User.id))
            .switch(cls)
            .join(EvidenceItem, join_type=JOIN.LEFT_OUTER, on=(cls.item == EvidenceItem.id))
            .where(cls.case == case_id)
            .order_by(cls.id.desc())
        )


# A party's request for a review (复核) of the case's handling, here of withheld evidence.
REVIEW_PENDING = "pending"
REVIEW_ANSWERED = "answered"
# The party took the request back before its answer (the column is a plain varchar(10) with
# no CHECK: no migration; the moves are blueprints.evidence.review.REVIEW_MACHINE).
REVIEW_WITHDRAWN = "withdrawn"
REVIEW_STATUSES = (REVIEW_PENDING, REVIEW_ANSWERED, REVIEW_WITHDRAWN)


class ReviewRequest(BaseModel):
    """A party asks for a review (复核申请); the handling officer's answer reaches the party."""

    case = ForeignKeyField(AccidentCase, backref="review_requests", on_delete="CASCADE")
    party = ForeignKeyField(CaseParty, backref="review_requests", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    grounds = TextField()
    status = CharField(max_length=10, default=REVIEW_PENDING, index=True)
    requested_at = DateTimeField(default=utcnow)
    answered_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    answered_at = DateTimeField(null=True)
    answer = TextField(default="")

    @classmethod
    def waiting_on_case(cls, case_id: int) -> bool:
        """True while a request of any party of this case waits for its answer."""
        return cls.select().where((cls.case == case_id) & (cls.status == REVIEW_PENDING)).exists()

    @classmethod
    def waiting_of_party(cls, party_id: int) -> bool:
        """True while a request of this party waits for its answer."""
        return cls.select().where((cls.party == party_id) & (cls.status == REVIEW_PENDING)).exists()

    @classmethod
    def of_party(cls, party_id: int) -> list["ReviewRequest"]:
        """One party's requests, newest first (on every view of the case page by a party:
        SQL text built once, compiled_select)."""
        return compiled_select(
            cls,
            "review-requests-of-party",
            lambda: (
                cls.select().where(cls.party == 0).order_by(cls.requested_at.desc(), cls.id.desc())
            ),
            party_id,
        )
