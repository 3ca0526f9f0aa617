"""Who may see which case and item, the case's progress, storing evidence and logging looks.

The rule (事故证据查阅): a case is seen by its parties (a citizen whose verified ID number is on
it), its handling officer and the accident officers of the same brigade. Everyone else gets
404 for the case and for every item in it, whatever the URL. Parties see only released items,
and only once the case is open for review.

Steps follow the service convention (core.steps): an explicit actor (the CaseAccess carries
the user it was granted to), one write transaction, refusals as StepError. What a user may not
see is None here; the views answer it with 404.
"""

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from core.audit import audit, client_addr
from core.identity import may_see_case, name_on_record_differs
from core.states import InvalidTransition, StateMachine
from core.steps import StepError
from core.uploads import remove_stored, sniff_type, store_bytes
from models import (
    ACCIDENT_OFFICER,
    AccidentCase,
    AuditEvent,
    CaseParty,
    EvidenceAccess,
    EvidenceItem,
    ReviewRequest,
    User,
    UserRole,
    write_tx,
)
from rules.clock import BEIJING_OFFSET, beijing_to_utc, beijing_today
from rules.validators import ValidationError

from .files import check_structure
from .notices import (
    tell_added,
    tell_delivered,
    tell_opened,
    tell_parties,
    tell_released,
    tell_removed,
    tell_withheld,
)
from .period import review_deadline, review_period_runs

# The audit action of each kind of look (the access table has its own row too).
ACCESS_ACTIONS = {
    "case": "evidence.case_view",
    "view": "evidence.item_view",
    "download": "evidence.item_download",
}
ALLOWED_TYPES = {"application/pdf", "image/jpeg", "image/png"}
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
UPLOAD_SUBFOLDER = "evidence"

# Progress of a case (办案进度): each move is an officer's act, audited.
CASE_PROGRESS = StateMachine(
    "evidence.case",
    "status",
    {
        "opened": {"evidence_gathered"},
        "evidence_gathered": {"determination_delivered"},
        "determination_delivered": {"open_for_review", "closed"},
        "open_for_review": {"closed"},
        "closed": set(),
    },
)


@dataclass
class CaseAccess:
    """A case as one user may see it: as its officer, or as one of its parties."""

    case: AccidentCase
    party: CaseParty | None  # the user's party row, when they look as a party
    user: User | None = None  # whom the access was granted to (the actor of what they do)

    @property
    def is_officer(self) -> bool:
        """True for the handling officer and accident officers of the same brigade."""
        return self.party is None

    @property
    def review_open(self) -> bool:
        """May the parties see evidence today?"""
        return self.case.review_open(beijing_today())

    def visible_items(self):
        """The items this user may see: all for officers; released ones for parties, once open."""
        if self.is_officer:
            return EvidenceItem.of_case(self.case.id)
        if not self.review_open:
            return []
        return EvidenceItem.of_case(self.case.id, released_only=True)


def is_case_officer(user, case: AccidentCase) -> bool:
    """The handling officer, or an accident officer of the case's brigade."""
    return (
        user.is_authenticated
        and user.is_staff
        and user.has_role(ACCIDENT_OFFICER)
        and (case.officer_id == user.id or (user.office_id and case.office_id == user.office_id))
    )


def case_access(case_id: int, user) -> CaseAccess | None:
    """The case if `user` may see it; None otherwise (the view answers 404, never 403: no
    hint that the case exists).

    The case, its office, its officer's name and the party row of a citizen's ID number are
    one read (AccidentCase.for_access): every look at a case starts here."""
    if user is None or not user.is_authenticated:
        return None
    may_be_party = not user.is_staff and bool(user.resident_id)
    found = AccidentCase.for_access(case_id, user.resident_id if may_be_party else None)
    if found is None:
        return None
    case, party = found
    if is_case_officer(user, case):
        if user.office_id == case.office_id:
            user.keep_office(case.office)  # read with the case: no second read for the audit
        return CaseAccess(case, None, user)
    # A party by ID number sees the case once that number is proven, or once they opened
    # this very case with its notice's query code.
    if party is not None and may_see_case(user, case.id):
        return CaseAccess(case, party, user)
    return None


def officer_access(case_id: int, user) -> CaseAccess | None:
    """The case for officers' acts (upload, release, parties, progress); None for anyone else."""
    access = case_access(case_id, user)
    return access if access is not None and access.is_officer else None


def visible_item(access: CaseAccess, item_id: int) -> EvidenceItem | None:
    """An item of the case this access may see; withheld or unopened ones are None."""
    item = EvidenceItem.get_or_none(
        (EvidenceItem.id == item_id) & (EvidenceItem.case == access.case.id)
    )
    if item is None or (not access.is_officer and (not item.released or not access.review_open)):
        return None
    return item


def log_access(access: CaseAccess, kind: str, item: EvidenceItem | None = None) -> EvidenceAccess:
    """Record a look at the case (own table, for the officer and parties) and its audit row."""
    with write_tx():
        row = EvidenceAccess(
            case=access.case.id,
            item=item.id if item else None,
            user=access.user.id,
            kind=kind,
            as_party=not access.is_officer,
            client_addr=client_addr()[:64],
        )
        row.insert_new()
        audit(
            ACCESS_ACTIONS[kind],
            item or access.case,
            actor=access.user,
            detail={"case": access.case.case_no, "access": row.id, "as_party": row.as_party},
        )
    return row


def access_entry_ids(rows: list[EvidenceAccess]) -> dict[int, int]:
    """{access row id: audit entry id} of the access log's rows (each look wrote one entry,
    whose detail names its row): the log page links each row to its receipt."""
    if not rows:
        return {}
    ids = {row.id for row in rows}
    found = {}
    query = AuditEvent.select(AuditEvent.id, AuditEvent.detail).where(
        AuditEvent.action.in_(list(ACCESS_ACTIONS.values()))
        & (AuditEvent.actor_id.in_({row.user_id for row in rows}))
        & (AuditEvent.at >= min(row.at for row in rows))
    )
    for event in query:
        access_id = event.detail_dict.get("access")
        if access_id in ids:
            found[access_id] = event.id
    return found


# --- Officers' acts on a case ---------------------------------------------------------------


def open_case(
    *,
    case_no: str,
    officer_id: int,
    occurred_at,
    place: str,
    description: str,
    procedure: str,
    determination_delivered_on,
    actor: User,
) -> AccidentCase:
    """An officer opens a case in their brigade; `occurred_at` is Beijing wall-clock time.

    Refused (StepError on the field at fault) for a number already used, an accident or a
    delivery in the future, or a delivery before the day of the accident.
    """
    case_no = case_no.strip().upper()
    today = beijing_today()
    refuse_facts(case_no, occurred_at)
    if determination_delivered_on and determination_delivered_on > today:
        raise StepError(_l("This date cannot be in the future."), "determination_delivered_on")
    if determination_delivered_on and determination_delivered_on < occurred_at.date():
        raise StepError(BEFORE_ACCIDENT, "determination_delivered_on")
    with write_tx():
        case = AccidentCase.create(
            case_no=case_no,
            office=actor.office_id,
            officer=officer_id,
            occurred_at=beijing_to_utc(occurred_at),
            place=place.strip(),
            description=(description or "").strip(),
            procedure=procedure,
            determination_delivered_on=determination_delivered_on,
            created_by=actor.id,
        )
        audit("evidence.case_open", case, actor=actor, detail={"case_no": case_no})
    return case


# A determination is delivered on the day of the accident at the earliest.
BEFORE_ACCIDENT = _l("The delivery date cannot be before the day of the accident.")
AFTER_DELIVERY = _l("The accident cannot be after the day its determination was delivered.")
NUMBER_ON_NOTICES = _l(
    "Paper notices with this number were printed for the parties, who open the case with it: "
    "the number can no longer be changed."
)


def accident_day(case: AccidentCase):
    """The (Beijing) day of the case's accident (occurred_at is stored in UTC)."""
    return (case.occurred_at + BEIJING_OFFSET).date()


def check_delivery_day(case: AccidentCase, day) -> None:
    """Refuse (on `delivered_on`) a delivery day that is missing, in the future, or before the
    accident; the progress view asks this before it asks for a confirmation."""
    if day is None or day > beijing_today():
        raise StepError(_l("Enter the day it was delivered (not in the future)."), "delivered_on")
    if day < accident_day(case):
        raise StepError(BEFORE_ACCIDENT, "delivered_on")


# Closing is refused while a party's review request waits, and while the parties may still ask
# for one (move_case, with the case's row locked); the case page says why instead of offering
# the button, and the view says so before asking for a confirmation.
REVIEW_WAITING = _l("A party's review request waits for its answer: answer it first.")


def closing_refused(case: AccidentCase):
    """Why the case cannot be closed now (a review waits, or the parties may still ask for
    one: closing would end that right before its last day), or None."""
    if ReviewRequest.waiting_on_case(case.id):
        return REVIEW_WAITING
    if review_period_runs(case):
        return _l(
            "The parties may ask for a review until %(date)s: close the case after that day.",
            date=review_deadline(case).isoformat(),
        )
    return None


def refuse_facts(case_no: str, occurred_at, case_id: int | None = None) -> None:
    """StepError on its field for a number another case has (than `case_id`, when correcting
    one) or an accident in the future (`occurred_at` in Beijing time)."""
    taken = AccidentCase.select().where(AccidentCase.case_no == case_no)
    if case_id is not None:
        taken = taken.where(AccidentCase.id != case_id)
    if taken.exists():
        raise StepError(_l("A case with this number exists already."), "case_no")
    if occurred_at.date() > beijing_today():
        raise StepError(_l("The accident cannot be in the future."), "occurred_at")


def correct_facts(
    access: CaseAccess, *, case_no: str, occurred_at, place: str, description: str, reason: str
) -> list[str]:
    """The handling officer corrects a slip in the case's facts (`occurred_at` in Beijing
    time), saying why; returns the fields that changed (none: nothing is written). The old and
    new values go into the audit log and the parties are told. A closed case is not changed;
    a number already another case's, or printed on a party's notice, is refused on its field,
    as is a time in the future."""
    new = {
        "case_no": case_no.strip().upper(),
        "occurred_at": beijing_to_utc(occurred_at),
        "place": place.strip(),
        "description": (description or "").strip(),
    }
    with write_tx():
        case = AccidentCase.locked(access.case.id)
        if case.status == "closed":
            raise StepError(_l("A closed case is not changed."))
        refuse_facts(new["case_no"], occurred_at, case.id)
        delivered = case.determination_delivered_on
        if delivered and delivered < occurred_at.date():
            raise StepError(AFTER_DELIVERY, "occurred_at")
        # The form gives the time to the minute: the same minute is no change.
        now_held = {
            **case.__data__,
            "occurred_at": case.occurred_at.replace(second=0, microsecond=0),
        }
        changed = [field for field, value in new.items() if now_held[field] != value]
        if not changed:
            return []
        printed = CaseParty.select().where(
            (CaseParty.case == case.id) & CaseParty.query_code_hash.is_null(False)
        )
        if "case_no" in changed and printed.exists():
            # A party opens the case with the number and the code on their paper notice.
            raise StepError(NUMBER_ON_NOTICES, "case_no")
        AccidentCase.update(**{field: new[field] for field in changed}).where(
            AccidentCase.id == case.id
        ).execute()
        was = {field: str(getattr(case, field)) for field in changed if field != "description"}
        now = {field: str(new[field]) for field in changed if field != "description"}
        audit(
            "evidence.case_corrected",
            case,
            actor=access.user,
            detail={"fields": changed, "was": was, "now": now, "reason": reason[:200]},
        )
        corrected = AccidentCase.get_by_id(case.id)
        tell_parties(corrected, "evidence.facts_corrected", fields=changed, reason=reason[:200])
    return changed


def move_case(access: CaseAccess, to: str, delivered_on=None) -> AccidentCase:
    """Move the case one step on (the access's officer acts).

    Refused when a delivery day is missing, in the future or before the accident (on
    `delivered_on`), when the
    simple procedure would open a review, when the general procedure would close without one
    (the parties have a right to review) or before the review period's last day, while a
    party's review request waits for its answer, or when the case had already moved on.
    """
    case = access.case
    updates = {}
    if to == "determination_delivered":
        day = delivered_on or case.determination_delivered_on
        check_delivery_day(case, day)
        updates["determination_delivered_on"] = day
    if to == "open_for_review" and case.procedure != "general":
        raise StepError(_l("Under the simple procedure there is no evidence review."))
    if to == "closed" and case.procedure == "general" and case.status != "open_for_review":
        raise StepError(_l("Open the evidence to the parties before closing the case."))
    try:
        with write_tx():
            if to == "closed":
                # The row locked first: a party asking for a review meanwhile waits for this
                # step (review.request_review locks it too), then finds the case closed.
                AccidentCase.locked(case.id)
                refused = closing_refused(case)
                if refused:
                    raise StepError(refused)
            moved = CASE_PROGRESS.apply(
                case,
                to,
                action=f"evidence.case.{to}",
                actor=access.user,
                # What the step set (the delivery's day) is in its row, as the parties' notice.
                detail={
                    "case_no": case.case_no,
                    **{k: v.isoformat() for k, v in updates.items() if hasattr(v, "isoformat")},
                },
                **updates,
            )
            if moved and to == "open_for_review":
                tell_opened(case)
            elif moved and to == "determination_delivered" and case.procedure == "general":
                tell_delivered(case)  # the simple procedure has no review to ask for
    except InvalidTransition:
        moved = False
    if not moved:
        raise StepError(_l("The case had already moved on. Here is where it stands now."))
    return case


ANOTHER_NAME = _l(
    "This ID number is on record under another name: check the name and the number against "
    "the person's ID card."
)


def add_party(access: CaseAccess, *, name: str, resident_id: str, mobile, role) -> CaseParty:
    """Add a party to the case (the access's officer acts); refused on `resident_id` when
    this person is a party already, or when the number is on record under another name. The
    case's row is locked first: the notice the new party gets follows the case's status at
    that moment, and an officer opening the evidence meanwhile (move_case, which locks it too)
    either tells them or waits for them to be added."""
    with write_tx():
        case = AccidentCase.locked(access.case.id)
        taken = CaseParty.get_or_none(
            (CaseParty.case == case.id) & (CaseParty.resident_id == resident_id)
        )
        if taken:
            raise StepError(_l("This person is a party to the case already."), "resident_id")
        if name_on_record_differs(resident_id, name):
            # The case, its evidence and its notices would go to the number's holder.
            raise StepError(ANOTHER_NAME, "resident_id")
        party = CaseParty.create(
            case=access.case.id,
            name=name.strip(),
            resident_id=resident_id,
            mobile=mobile,
            role=role,
        )
        audit("evidence.party_add", party, actor=access.user, detail={"case_no": case.case_no})
        tell_added(case, party)
    return party


PARTY_REVIEW_WAITING = _l(
    "This party's review request waits for its answer: answer it first, then remove the party."
)


def remove_party(access: CaseAccess, party: CaseParty) -> None:
    """Take a wrongly added party off the case (the access's officer acts): their access
    ends at once, and they are told. Once: a second removal (a double tap, another officer)
    waits on the case's row and finds nobody to remove. StepError while a review request of
    theirs waits for its answer (it would go with them, unanswered)."""
    with write_tx():
        AccidentCase.locked(access.case.id)
        if not CaseParty.select().where(CaseParty.id == party.id).exists():
            return
        if ReviewRequest.waiting_of_party(party.id):
            raise StepError(PARTY_REVIEW_WAITING)
        tell_removed(access.case, party)  # while the party may still see the case
        CaseParty.delete().where(CaseParty.id == party.id).execute()
        audit(
            "evidence.party_remove",
            party,
            actor=access.user,
            detail={"case_no": access.case.case_no},
        )


# --- Uploads ---------------------------------------------------------------------------------


def max_upload_bytes() -> int:
    """The size cap of one evidence file (the EVIDENCE_MAX_BYTES setting)."""
    return int(current_app.config.get("EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


def check_filename(name: str) -> None:
    """Refuse names no browser sends: paths, parent references, control characters.

    The name is never used to store or serve the file; a name like this means a hand-made
    request, and the upload is refused rather than guessed at.
    """
    if (
        not name
        or "/" in name
        or "\\" in name
        or ".." in name
        or len(name) > 200
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
    ):
        raise ValidationError(_l("This file name is not accepted. Rename the file and try again."))


def store_evidence(file_storage):
    """Check an uploaded evidence file whole and store it; raises ValidationError.

    Everything is checked before a byte is written: name, emptiness, size, type by content,
    and that the file parses as that type (so it can be watermarked later).
    """
    check_filename(file_storage.filename or "")
    cap = max_upload_bytes()
    data = file_storage.stream.read(cap + 1)
    if not data:
        raise ValidationError(_l("The file is empty."))
    if len(data) > cap:
        raise ValidationError(_l("The file is larger than %(mb).1f MB.", mb=cap / 1024 / 1024))
    mime = sniff_type(data[:16])
    if mime not in ALLOWED_TYPES:
        raise ValidationError(_l("Only PDF, JPEG and PNG files are accepted."))
    check_structure(data, mime)
    return store_bytes(data, UPLOAD_SUBFOLDER, ALLOWED_TYPES, cap, limits=None)  # checked above


def add_item(access: CaseAccess, stored, *, category, title, released, reason, note):
    """The item row for a stored file, by the access's officer; the file is removed again if
    the row fails."""
    try:
        with write_tx():
            item = EvidenceItem.create(
                case=access.case.id,
                category=category,
                title=title,
                file_path=stored.relpath,
                sha256=stored.sha256,
                size=stored.size,
                mime=stored.mime,
                released=released,
                withhold_reason=None if released else reason,
                withhold_note="" if released else note,
                uploaded_by=access.user.id,
            )
            audit(
                "evidence.item_upload",
                item,
                actor=access.user,
                detail={
                    "case": access.case.case_no,
                    "sha256": stored.sha256,
                    "size": stored.size,
                    "released": released,
                },
            )
            if not released:
                tell_withheld(access.case, item)
    except Exception:
        remove_stored(stored.relpath)
        raise
    return item


def set_release(
    item: EvidenceItem, released: bool, reason: str | None, note: str, actor: User
) -> None:
    """Release an item to the parties or withhold it (with the reason), audited with what it
    was before; the parties are told of either once they can see the case's evidence."""
    with write_tx():
        EvidenceItem.update(
            released=released,
            withhold_reason=None if released else reason,
            withhold_note="" if released else note,
        ).where(EvidenceItem.id == item.id).execute()
        before = {"was": "released" if item.released else "withheld"}
        if not item.released:
            before["was_reason"] = item.withhold_reason or ""
        audit(
            "evidence.item_release" if released else "evidence.item_withhold",
            item,
            actor=actor,
            detail=before if released else {"reason": reason, **before},
        )
        now = EvidenceItem.get_by_id(item.id)
        if not released:
            tell_withheld(item.case, now)
        elif not item.released:
            tell_released(item.case, now)


def officers_of(office_id: int):
    """The accident officers of a brigade (candidates for handling officer)."""
    return (
        User.select()
        .join(UserRole)
        .where(
            (User.office == office_id)
            & (User.active == True)  # noqa: E712
            & (UserRole.role == ACCIDENT_OFFICER)
        )
        .order_by(User.real_name)
    )
