"""Clerks' pages of the transfer measure: the market's sales, the vehicle office's incoming
cases and the archive requests addressed to it (filtered, paged, refreshed with htmx), and the
offices' steps on a case, done in place on the case panel."""

import contextlib
import os

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.access import role_required
from core.audit import audit
from core.confirm import revising
from core.htmx import render
from core.identity import identity_proven
from core.paging import page_number
from core.privacy import no_personal_data, reads_personal_data
from core.steps import StepError, form_error
from core.throttle import identity_gate, identity_refusal
from core.uploads import absolute_path, store_upload
from models import (
    MARKET_CLERK,
    VEHICLE_CLERK,
    ArchiveTransfer,
    OutgoingTransfer,
    TransferCase,
    User,
    Vehicle,
)
from models.transfer import (
    ARCHIVE_RECEIVED,
    ARCHIVE_STATUSES,
    AWAITING_ARCHIVE,
    AWAITING_INSPECTION,
    CASE_STATES,
    INSPECTION_FAILED,
    OPEN_STATES,
)
from rules.validators import ValidationError, display_plate, normalize_plate

from . import bp
from .asking import REFUSE_ARCHIVE, REGISTER, SEND_ARCHIVE, STOP, Question, ask_first
from .forms import (
    PHOTO_MAX_BYTES,
    PHOTO_TYPES,
    InspectionForm,
    MarketCaseForm,
    RefuseArchiveForm,
    WithdrawForm,
)
from .labels import ARCHIVE_LABELS, STATE_LABELS
from .office_service import (
    WITHDRAWABLE,
    ReadingMismatch,
    inspect,
    refuse_archive,
    register,
    reinspect,
    send_archive,
    stop_after_failed_inspection,
    withdraw_at_request,
)
from .service import NOT_NOW
from .views import (
    destination_choices,
    load_case,
    open_form_page,
    open_from_form,
    opened,
    respond,
    run,
)

PAGE = 20
ACTION_STATES = (AWAITING_INSPECTION, INSPECTION_FAILED, ARCHIVE_RECEIVED)
CASE_FILTERS = [
    ("action", _l("Needs action")),
    ("open", _l("All open")),
    *STATE_LABELS.items(),
    ("all", _l("All")),
]
ARCHIVE_FILTERS = [*ARCHIVE_LABELS.items(), ("all", _l("All"))]


def search(query, text: str):
    """Cases whose number, invoice, VIN or plate (old or new) matches the search text."""
    text = "".join(text.split()).upper()
    if not text:
        return query
    cond = (TransferCase.invoice_no == text) | Vehicle.vin.startswith(text)
    case_id = TransferCase.id_numbered(text)
    if case_id is not None:
        cond |= TransferCase.id == case_id
    try:
        plate = normalize_plate(text)
        cond |= (Vehicle.plate == plate) | (TransferCase.new_plate == plate)
    except ValidationError:
        pass
    return query.where(cond)


def cases_query():
    """Cases with their vehicle (a case names two vehicle columns: join on the right one)."""
    return TransferCase.select(TransferCase, Vehicle).join(
        Vehicle, on=(TransferCase.vehicle == Vehicle.id)
    )


def queue(name: str, query, filters, selected: str, title, **extra):
    """Search, page and draw a queue: the whole page, or only its rows for htmx."""
    query = search(query, request.args.get("q", ""))
    page = page_number()
    rows = list(
        query.order_by(TransferCase.updated_at.desc(), TransferCase.id.desc()).paginate(
            page, PAGE + 1
        )
    )
    args = {k: v for k, v in request.args.items() if k in ("q", "state", "status") and v}
    # The rows name buyers and sellers: reading them is logged like any personal data.
    audit("transfer.queue_view", detail={"queue": name, **args, "page": page})
    return render(
        "transfer/queue.html",
        "transfer/_queue_rows.html",
        rows=rows[:PAGE],
        has_more=len(rows) > PAGE,
        page_no=page,
        args=args,
        endpoint=request.endpoint,
        filters=filters,
        selected=selected,
        title=title,
        **extra,
    )


def by_state(query, state: str):
    """Narrow a case query to a state filter value."""
    if state == "action":
        return query.where(TransferCase.state.in_(ACTION_STATES))
    if state == "open":
        return query.where(TransferCase.state.in_(OPEN_STATES))
    if state in CASE_STATES:
        return query.where(TransferCase.state == state)
    return query


@bp.get("/market")
@role_required(MARKET_CLERK)
@reads_personal_data("transfer.queue_view")
def market_queue():
    """The sales this market invoiced."""
    state = request.args.get("state") or "open"
    query = by_state(cases_query().where(TransferCase.market == current_user.office_id), state)
    return queue("market", query, CASE_FILTERS, state, _("Sales invoiced here"), market=True)


BUYER_NO_MATCH = _l(
    "This name and ID number are not those of a registered account: check them with the "
    "buyer's ID card (a buyer without an account registers first)."
)
# The buyer becomes the owner the vehicle is registered to: only an account that proved the ID
# number it was made with (anyone may register with a name and a number that are not theirs).
BUYER_UNPROVEN = _l(
    "The account with this name and ID number has not proved that the ID number is its holder's. "
    "The buyer proves it first: on the account's page by SMS, or at a vehicle office counter "
    "with the ID card. A buyer who never made that account shows the ID card at a counter."
)


@bp.route("/market/new", methods=["GET", "POST"])
@role_required(MARKET_CLERK)
@no_personal_data
def market_new():
    """The market issues the sale's invoice and opens the case for seller and buyer."""
    form = MarketCaseForm()
    form.destination.choices = destination_choices()
    if form.validate_on_submit():
        # Name and ID number of an account are confirmed here: throttled (core.throttle).
        attempt = identity_gate(current_user.id)
        verdict = attempt.check_and_count()
        buyer = None
        if verdict.kind and not attempt.counted:
            form.form_errors.append(identity_refusal(verdict))
        else:
            buyer = User.get_or_none(User.resident_id == form.buyer_resident_id.data)
            if buyer is None or buyer.real_name != form.buyer_name.data.strip():
                # One answer for both: a market's clerk learns neither whether an ID number
                # has an account nor, then, whose name it is.
                form.form_errors.append(str(BUYER_NO_MATCH))
                buyer = None
            else:
                attempt.forgive()
                if not identity_proven(buyer):
                    form.form_errors.append(str(BUYER_UNPROVEN))
                    buyer = None
        if buyer is not None:
            case = open_from_form(form, buyer, market=current_user.office)
            if case is not None:
                return opened(case)
    return open_form_page(form, "transfer.market_new")


@bp.get("/office")
@role_required(VEHICLE_CLERK)
@reads_personal_data("transfer.queue_view")
def office_queue():
    """Cases to be inspected and registered at this office."""
    state = request.args.get("state") or "action"
    query = cases_query().where(TransferCase.destination_office == current_user.office_id)
    return queue(
        "office", by_state(query, state), CASE_FILTERS, state, _("Transfers into this city")
    )


@bp.get("/archives")
@role_required(VEHICLE_CLERK)
@reads_personal_data("transfer.queue_view")
def archive_queue():
    """Requests for archives of vehicles registered at this office."""
    status = request.args.get("state") or "requested"
    query = (
        cases_query()
        .switch(TransferCase)
        .join(ArchiveTransfer)
        .where(ArchiveTransfer.from_office == current_user.office_id)
    )
    if status in ARCHIVE_STATUSES:
        query = query.where(ArchiveTransfer.status == status)
    return queue(
        "archives",
        query,
        ARCHIVE_FILTERS,
        status,
        _("Archive requests"),
        archives=True,
        # Requests of buyers' cities on other deployments wait on their own list (outgoing).
        archives_elsewhere=OutgoingTransfer.archive_requests_at(current_user.office_id),
    )


def clerk_of(case_id: int, role: str):
    """The case, when the current clerk is its `role` office; 403 when they only see it."""
    found, roles = load_case(case_id)
    if role not in roles:
        abort(403)
    return found


def confirmed_step(
    case, question: Question, step, done, expect_stop=False, details=(), revise=False
):
    """An irreversible office step on the case: asked first (asking.py), then run as the
    clerk, `step(actor)`, and answered with its outcome."""
    back = url_for("transfer.case", case_id=case.id)
    asked = ask_first(question, case.number, back, details, revise)
    if asked:
        return asked
    actor = current_user._get_current_object()
    return run(case.id, lambda: step(actor), done, expect_stop=expect_stop)


def remove_photos(photos) -> None:
    """Remove stored photos of an inspection that was not recorded."""
    for photo in photos:
        with contextlib.suppress(OSError):
            os.remove(absolute_path(photo.relpath))


@bp.post("/cases/<int:case_id>/inspect")
@role_required(VEHICLE_CLERK)
@no_personal_data
def inspect_case(case_id: int):
    """Record the inspection with its photos."""
    clerk_of(case_id, "destination")
    form = InspectionForm()
    if not form.validate_on_submit():
        return respond(case_id, "bad", _("Please correct the form."), 422, inspection_form=form)
    photos = []
    try:
        for upload in form.photos.data or []:
            if upload and upload.filename:
                photos.append(store_upload(upload, "inspections", PHOTO_TYPES, PHOTO_MAX_BYTES))
    except ValidationError as exc:
        form.photos.errors = [*form.photos.errors, str(exc.message)]
        return respond(case_id, "bad", _("Please correct the form."), 422, inspection_form=form)
    actor = current_user._get_current_object()
    try:
        case = inspect(
            case_id,
            actor,
            vin_read=form.vin_read.data,
            plate_read=form.plate_read.data,
            passed=form.result.data == "passed",
            remarks=(form.remarks.data or "").strip(),
            photos=photos,
            mismatch_confirmed=bool(form.confirm_mismatch.data),
        )
    except StepError as exc:
        # Nothing was recorded (a reading to check again, or another clerk was first): keep
        # no stray files. A reading to check goes next to its field, with the confirmation.
        remove_photos(photos)
        if exc.field:
            form.reading_differs = isinstance(exc, ReadingMismatch)
            form_error(form, exc)
            return respond(case_id, "bad", _("Please check the form."), 422, inspection_form=form)
        return respond(case_id, "bad", str(exc.message))
    except Exception:
        remove_photos(photos)
        raise
    if case.state == AWAITING_ARCHIVE:
        return respond(
            case_id,
            "ok",
            _("Inspection recorded. The archive has been requested from the registration office."),
        )
    if case.state == INSPECTION_FAILED:
        return respond(
            case_id, "bad", _("Inspection recorded as failed. The vehicle may be inspected again.")
        )
    return respond(case_id, "bad", _("The case was stopped. The reasons are shown on the case."))


@bp.post("/cases/<int:case_id>/reinspect")
@role_required(VEHICLE_CLERK)
@no_personal_data
def reinspect_case(case_id: int):
    """Open a new inspection after a failed one."""
    clerk_of(case_id, "destination")
    actor = current_user._get_current_object()
    return run(
        case_id,
        lambda: reinspect(case_id, actor),
        _("Inspect the vehicle again: the failed inspection stays on record."),
    )


@bp.post("/cases/<int:case_id>/stop")
@role_required(VEHICLE_CLERK)
@no_personal_data
def stop_case(case_id: int):
    """End a case whose vehicle failed inspection (after confirmation)."""
    return confirmed_step(
        clerk_of(case_id, "destination"),
        STOP,
        lambda actor: stop_after_failed_inspection(case_id, actor),
        _("The case is stopped."),
        expect_stop=True,
    )


@bp.post("/cases/<int:case_id>/withdraw")
@role_required(VEHICLE_CLERK)
@no_personal_data
def withdraw_case(case_id: int):
    """Stop a confirmed case at the parties' request, with what they said (after
    confirmation): once both confirmed, only the office can end it."""
    return reasoned_stop(
        case_id,
        "destination",
        WithdrawForm(),
        "withdraw_form",
        STOP,
        withdraw_at_request,
        _("The case is stopped. Buyer and seller see the reason."),
        WITHDRAWABLE,
    )


def reasoned_stop(case_id: int, side: str, form, form_name: str, question, step, done, states):
    """An office ends the case, in one of `states`, with a reason it types (`step(case_id,
    actor, reason)`): the reason at its field when missing, else asked first (showing it, with
    a way back to change it), then run."""
    found = clerk_of(case_id, side)
    if revising():
        if found.state not in states:
            # The case moved on meanwhile: there is no form to bring the reason back to.
            return respond(case_id, "bad", str(NOT_NOW))
        # Back from the question to change the reason: the case page with it in its form.
        return respond(
            case_id,
            "warn",
            _("Change the reason, then send it again."),
            draw=True,
            **{form_name: form},
        )
    if not form.validate_on_submit():
        return respond(case_id, "bad", _("Please give a reason."), 422, **{form_name: form})
    reason = form.reason.data.strip()
    return confirmed_step(
        found,
        question,
        lambda actor: step(case_id, actor, reason),
        done,
        expect_stop=True,
        details=[_("Reason: %(reason)s", reason=reason)],
        revise=True,
    )


@bp.post("/cases/<int:case_id>/archive/send")
@role_required(VEHICLE_CLERK)
@no_personal_data
def send_case_archive(case_id: int):
    """The origin office sends the archive (after confirmation: it transfers the car out)."""
    return confirmed_step(
        clerk_of(case_id, "origin"),
        SEND_ARCHIVE,
        lambda actor: send_archive(case_id, actor),
        _("Archive sent. The vehicle is now transferred out at your office."),
    )


@bp.post("/cases/<int:case_id>/archive/refuse")
@role_required(VEHICLE_CLERK)
@no_personal_data
def refuse_case_archive(case_id: int):
    """The origin office refuses to send the archive, with a reason (after confirmation)."""
    return reasoned_stop(
        case_id,
        "origin",
        RefuseArchiveForm(),
        "refuse_form",
        REFUSE_ARCHIVE,
        refuse_archive,
        _("Refused. Buyer and seller see your reason."),
        (AWAITING_ARCHIVE,),
    )


@bp.post("/cases/<int:case_id>/register")
@role_required(VEHICLE_CLERK)
@no_personal_data
def register_case(case_id: int):
    """Register the vehicle to the buyer under a plate of this city (after confirmation)."""
    return confirmed_step(
        clerk_of(case_id, "destination"),
        REGISTER,
        lambda actor: register(case_id, actor),
        lambda case: _(
            "Registered to the buyer: plate %(plate)s, certificate %(cert)s.",
            plate=display_plate(case.new_plate),
            cert=case.new_certificate_no,
        ),
    )
