"""Citizens' pages of the transfer measure, and the case page everyone in a case shares.

A case answers 404 to anyone who is not its buyer, seller, the market that invoiced it or a
clerk of one of its two offices: an outsider cannot even learn that it exists.
"""

from flask import abort, flash, make_response, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from core.access import login_required, role_required
from core.audit import audit
from core.htmx import is_htmx, redirect_to, render
from core.identity import identity_proven, proven_resident_id
from core.privacy import covered_by, no_personal_data, nothing_to_audit, reads_personal_data
from core.steps import form_error
from core.throttle import identity_gate, identity_refusal
from core.uploads import absolute_path
from models import (
    CITIZEN,
    ArchiveTransfer,
    Inspection,
    InspectionPhoto,
    Office,
    OutgoingTransfer,
    TrafficViolation,
    TransferCase,
    Vehicle,
)
from models.transfer import (
    ARCHIVE_SENT,
    AWAITING_ARCHIVE,
    AWAITING_CONFIRMATION,
    AWAITING_INSPECTION,
    STOPPED,
)
from models.vehicles import NORMAL
from rules.clock import beijing_today
from rules.validators import display_plate, format_plate

from . import bp, links, timeline_receipts
from .asking import DECLINE, WITHDRAW, ask_first, ask_to_confirm_sale
from .checks import run_checks, waits_for_permit
from .forms import (
    CaseForm,
    InspectionForm,
    PermitForm,
    PlateForm,
    RefuseArchiveForm,
    WithdrawForm,
)
from .labels import TEMPLATE_HELPERS, VEHICLE_NEXT_STEPS, fmt_price
from .office_service import WITHDRAWABLE, build_archive
from .service import (
    PLATE_STATES,
    StepError,
    case_roles,
    choose_plate,
    confirm,
    decline,
    give_residence_permit,
    offered_plates,
    open_case,
    vehicle_for_sale,
)

# One message for any mismatch: the form must not tell which of the three is wrong.
NO_MATCH = _l("The VIN, plate and seller's ID number do not match one registered vehicle.")


@bp.context_processor
def _labels():
    """The label helpers (states, reasons, plates) in this blueprint's templates."""
    return {**TEMPLATE_HELPERS, "VEHICLE_NEXT_STEPS": VEHICLE_NEXT_STEPS}


def load_case(case_id: int):
    """The case and the current user's roles in it; 404 when the user has none."""
    case = TransferCase.get_or_none(TransferCase.id == case_id)
    roles = case_roles(case, current_user) if case is not None else set()
    if not roles:
        abort(404)
    return case, roles


def case_context(case, roles, **forms) -> dict:
    """Everything the case panel shows, for the page and its htmx fragment alike."""
    archive = ArchiveTransfer.get_or_none(ArchiveTransfer.case == case)
    events = list(case.events())
    # The newest inspection in full; earlier (failed) ones stay listed on the timeline.
    inspection = (
        Inspection.select().where(Inspection.case == case).order_by(Inspection.id.desc()).first()
    )
    context = {
        "case": case,
        "roles": roles,
        "vehicle": case.vehicle,
        "checks": run_checks(case) if case.is_open else [],
        "events": events,
        # Each step's audit entry, for its receipt link (timeline_receipts).
        "entry_ids": timeline_receipts.entry_ids(events),
        "archive": archive,
        "inspection": inspection,
        "photos": list(inspection.photos) if inspection else [],
        # A case opened over the network: its origin deployment and the seller registered there.
        "link": links.link_of(case),
        "staff_view": bool(roles & {"market", "destination", "origin"}),
        # Opened inside a queue page (htmx): offer a link to the case's own page.
        "in_queue": is_htmx() and "/cases/" not in request.headers.get("HX-Current-URL", ""),
    }
    if "buyer" in roles and case.state in PLATE_STATES:
        form = forms.get("plate_form") or PlateForm()
        form.plate.choices = [
            SelectChoice(p.id, format_plate(p.plate)) for p in offered_plates(case)
        ]
        context["plate_form"] = form
    if "buyer" in roles and case.state == AWAITING_CONFIRMATION and waits_for_permit(case):
        context["permit_form"] = forms.get("permit_form") or PermitForm()
    if "destination" in roles and case.state == AWAITING_INSPECTION:
        context["inspection_form"] = forms.get("inspection_form") or InspectionForm()
    if "destination" in roles and case.state in WITHDRAWABLE:
        context["withdraw_form"] = forms.get("withdraw_form") or WithdrawForm()
    if "origin" in roles and case.state == AWAITING_ARCHIVE:
        context["refuse_form"] = forms.get("refuse_form") or RefuseArchiveForm()
        context["archive_preview"] = build_archive(case)
    if context["staff_view"]:
        context["history"] = list(case.vehicle.history())
    return context


def render_page(template: str, status: int = 200, **context):
    """A whole page (no fragment of its own)."""
    return render(template, template, status, **context)


def step_message(case, done, expect_stop: bool = False) -> tuple[str, str]:
    """What to tell the actor after a step: done, or that the checks stopped the case.

    `done` is the message, or a function of the case that makes it.
    """
    if case.state == STOPPED and not expect_stop:
        return "bad", _("The case was stopped. The reasons are shown on the case.")
    return "ok", done(case) if callable(done) else done


def respond(
    case_id: int, category: str, message: str, status: int = 200, draw: bool = False, **forms
):
    """After a step: the refreshed case panel in place (htmx), else a redirect to the case page.

    With form errors (422), or `draw`n again with a form's fields to change, the page or panel
    is drawn again with the errors next to the fields: a look at the case like any other,
    audited as the case page is.
    """
    if is_htmx() or status != 200 or draw:
        case, roles = load_case(case_id)
        if status != 200 or draw:
            audit("transfer.case_view", case, detail={"as": sorted(roles), "again": True})
        response = render(
            "transfer/case.html",
            "transfer/_case.html",
            status,
            notice=(category, message),
            **case_context(case, roles, **forms),
        )
        if status == 200:
            response.headers["HX-Trigger"] = "transfer-case-changed"
        return response
    flash(message, category)
    return redirect_to(url_for("transfer.case", case_id=case_id))


def run(case_id: int, step, done, expect_stop: bool = False, **forms):
    """Run a step and answer with its outcome."""
    try:
        case = step()
    except StepError as exc:
        return respond(case_id, "bad", str(exc.message))
    category, message = step_message(case, done, expect_stop)
    return respond(case_id, category, message, **forms)


def destination_choices() -> list[tuple[int, str]]:
    """This city's vehicle offices, where a bought vehicle can be registered."""
    offices = Office.select().where(
        (Office.kind == "vehicle_office") & (Office.is_local == True)  # noqa: E712
    )
    locale = str(get_locale())
    return [SelectChoice(o.id, o.display_name(locale)) for o in offices.order_by(Office.code)]


def open_from_form(form, buyer, market=None):
    """Open a case from a valid invoice form; None (with the error on the form) when refused."""
    # The seller's ID number is confirmed here: throttled like a password, and a refusal says
    # nothing of which field was wrong (core.throttle).
    attempt = identity_gate(current_user.id)
    verdict = attempt.check_and_count()
    if verdict.kind and not attempt.counted:
        form.form_errors.append(identity_refusal(verdict))
        return None
    try:
        # Registered in another city's deployment: its office is asked (a signed enquiry).
        vehicle, origin_answer = vehicle_for_sale(
            form.vin.data, form.plate.data, form.seller_resident_id.data
        )
    except StepError as exc:
        form.form_errors.append(str(exc.message))
        return None
    if vehicle is None:
        form.form_errors.append(str(NO_MATCH))
        return None
    attempt.forgive()
    try:
        return open_case(
            vehicle=vehicle,
            buyer=buyer,
            opened_by=current_user._get_current_object(),
            market=market,
            destination=Office.get_by_id(form.destination.data),
            invoice_no=form.invoice_no.data.strip(),
            invoice_date=form.invoice_date.data,
            price=form.price.data,
            residence_permit_no=(form.residence_permit_no.data or "").upper() or None,
            origin_answer=origin_answer,
        )
    except StepError as exc:
        form_error(form, exc)  # next to its field when it names one (the invoice date)
        return None


PROVE_FIRST = _l(
    "Prove your ID number first: the car is registered to the ID number your account proves."
)


def open_form_page(form, endpoint: str):
    """The invoice form again, with its errors (for the buyer's and the market's page)."""
    status = 422 if (form.errors or form.form_errors) else 200
    action = url_for(endpoint)
    return render(
        "transfer/open.html", "transfer/_open_form.html", status, form=form, action=action
    )


def opened(case):
    """Where to go after opening a case, with what to say."""
    if case.state == STOPPED:
        flash(_("The case was opened but stopped at once. The reasons are shown below."), "bad")
    else:
        flash(_("Case %(no)s opened. Seller and buyer now confirm it.", no=case.number), "ok")
    return redirect_to(url_for("transfer.case", case_id=case.id))


@bp.get("/")
@role_required(CITIZEN)
@no_personal_data
def index():
    """My vehicles and the transfers I buy or sell in (vehicles and sales once proven)."""
    rid = proven_resident_id(current_user)
    vehicles = Vehicle.select().where(Vehicle.owner_resident_id == rid) if rid else []
    mine = TransferCase.buyer == current_user.id
    if rid:
        mine = mine | (TransferCase.seller == current_user.id)
    cases = TransferCase.select().where(mine).order_by(TransferCase.updated_at.desc())
    # Sales of my vehicles to buyers in other cities: the case lives there, its record here.
    sales = (
        list(
            OutgoingTransfer.select(OutgoingTransfer, Vehicle)
            .join(Vehicle, on=(OutgoingTransfer.vehicle == Vehicle.id))
            .where(OutgoingTransfer.seller == current_user.id)
            .order_by(OutgoingTransfer.updated_at.desc())
        )
        if rid
        else []
    )
    return render_page(
        "transfer/index.html",
        vehicles=list(vehicles),
        cases=list(cases),
        sales=sales,
        sale_progress=OutgoingTransfer.progress_of(sales),
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(CITIZEN)
@no_personal_data
def new_case():
    """The buyer opens a case from the invoice of a car bought from another city's owner;
    once their account proved its ID number (the car is registered to it: anyone may make an
    account with a name and a number that are not theirs), else the page says how."""
    form = CaseForm()
    form.destination.choices = destination_choices()
    if not identity_proven(current_user._get_current_object()):
        form.form_errors.append(str(PROVE_FIRST))
        page = open_form_page(form, "transfer.new_case")
        if request.method == "GET":  # said at once, refused only when sent
            page.status_code = 200
        return page
    if form.validate_on_submit():
        case = open_from_form(form, current_user._get_current_object())
        if case is not None:
            return opened(case)
    return open_form_page(form, "transfer.new_case")


@bp.get("/vehicles/<int:vehicle_id>")
@role_required(CITIZEN)
@no_personal_data
def vehicle(vehicle_id: int):
    """One of my vehicles and its archive (earlier owners are not named)."""
    rid = proven_resident_id(current_user)
    found = rid and Vehicle.get_or_none(
        (Vehicle.id == vehicle_id) & (Vehicle.owner_resident_id == rid)
    )
    if found is None:
        abort(404)
    violations = list(found.unhandled_violations().order_by(TrafficViolation.occurred_on))
    attention = [] if found.status != NORMAL else vehicle_attention(found, violations)
    # A sale under way: its case here, or its record of a case in the buyer's city.
    open_case = TransferCase.get_or_none(TransferCase.open_vehicle == found.id)
    open_sale = OutgoingTransfer.get_or_none(OutgoingTransfer.open_vehicle == found.id)
    return render_page(
        "transfer/vehicle.html",
        vehicle=found,
        open_case=open_case,
        open_sale=open_sale,
        history=list(found.history()),
        violations=violations,
        inspection_ok=found.inspection_valid_on(beijing_today()),
        attention=attention,
    )


def vehicle_attention(vehicle, violations) -> list[str]:
    """Why a vehicle in normal standing still needs its owner's attention (a lapsed
    inspection, unhandled violations): the keys of labels.VEHICLE_NEXT_STEPS."""
    causes = []
    if not vehicle.inspection_valid_on(beijing_today()):
        causes.append("inspection")
    if violations:
        causes.append("violations")
    return causes


@bp.get("/cases/<int:case_id>")
@login_required
@reads_personal_data("transfer.case_view")
def case(case_id: int):
    """The case: parties, vehicle, checks, what the reader may do next, and the timeline."""
    found, roles = load_case(case_id)
    # Names and (masked) ID numbers of the other party are personal data: every read is logged.
    audit("transfer.case_view", found, detail={"as": sorted(roles)})
    return render("transfer/case.html", "transfer/_case.html", **case_context(found, roles))


def party_of(roles) -> str:
    """Seller or buyer; anyone else may not confirm or decline (403: they see the case)."""
    for party in ("seller", "buyer"):
        if party in roles:
            return party
    abort(403)


def other_party_name(case, party: str) -> str:
    """The name of the seller's or buyer's counterpart in the case (a seller registered in
    another city's deployment as the case's link names them)."""
    if party == "seller":
        return case.buyer.real_name
    if case.seller_id:
        return case.seller.real_name
    link = links.link_of(case)
    return link.seller_name if link else ""


@bp.post("/cases/<int:case_id>/confirm")
@login_required
@reads_personal_data("transfer.case_view")
def confirm_case(case_id: int):
    """The seller or buyer confirms the sale, asked first: it commits them to it (the question
    names the other party, whose name is a read of the case)."""
    found, roles = load_case(case_id)
    party = party_of(roles)
    confirmed_at = found.seller_confirmed_at if party == "seller" else found.buyer_confirmed_at
    if found.state == AWAITING_CONFIRMATION and confirmed_at is None:
        asked = ask_to_confirm_sale(
            party,
            found.number,
            url_for("transfer.case", case_id=case_id),
            plate=display_plate(found.vehicle.plate),
            price=fmt_price(found.price),
            other=other_party_name(found, party),
            # Until the other confirms, this party may withdraw (the case page offers it).
            final=(found.buyer_confirmed_at if party == "seller" else found.seller_confirmed_at)
            is not None,
        )
        if asked:
            audit("transfer.case_view", found, detail={"as": sorted(roles), "asked": "confirm"})
            return asked
    # Nothing to ask (the step is refused, or this post is the confirmed one): what follows
    # shows the party their own case, as the case page they came from did.
    nothing_to_audit()
    actor = current_user._get_current_object()
    return run(case_id, lambda: confirm(case_id, party, actor), _("Thank you: confirmed."))


@bp.post("/cases/<int:case_id>/decline")
@login_required
@no_personal_data
def decline_case(case_id: int):
    """The seller or buyer declines the sale: the case is cancelled, once they confirm it."""
    found, roles = load_case(case_id)
    party = party_of(roles)
    confirmed_at = found.seller_confirmed_at if party == "seller" else found.buyer_confirmed_at
    question = WITHDRAW if confirmed_at else DECLINE
    asked = ask_first(question, found.number, url_for("transfer.case", case_id=case_id))
    if asked:
        return asked
    actor = current_user._get_current_object()
    return run(case_id, lambda: decline(case_id, party, actor), _("The case is withdrawn."))


@bp.post("/cases/<int:case_id>/permit")
@login_required
@no_personal_data
def permit(case_id: int):
    """The buyer gives the residence permit number the case waits for."""
    _case, roles = load_case(case_id)
    if "buyer" not in roles:
        abort(403)
    form = PermitForm()
    if not form.validate_on_submit():
        return respond(case_id, "bad", _("Please correct the form."), 422, permit_form=form)
    actor = current_user._get_current_object()
    number = form.residence_permit_no.data.strip().upper()
    return run(
        case_id,
        lambda: give_residence_permit(case_id, actor, number),
        _("Thank you: the residence permit number is recorded."),
    )


@bp.post("/cases/<int:case_id>/plate")
@login_required
@no_personal_data
def plate(case_id: int):
    """The buyer chooses a plate from the few offered."""
    _case, roles = load_case(case_id)
    if "buyer" not in roles:
        abort(403)
    form = PlateForm()
    if not form.validate_on_submit():
        return respond(case_id, "bad", _("Choose one of the plates."), 422, plate_form=form)
    actor = current_user._get_current_object()
    return run(
        case_id,
        lambda: choose_plate(case_id, form.plate.data, actor),
        _("Plate chosen. It is yours once the vehicle is registered."),
    )


@bp.get("/cases/<int:case_id>/photos/<int:photo_id>")
@login_required
@covered_by("transfer.case_view")
def photo(case_id: int, photo_id: int):
    """An inspection photo, for the people in the case."""
    found, _roles = load_case(case_id)
    row = (
        InspectionPhoto.select()
        .join(Inspection)
        .where((InspectionPhoto.id == photo_id) & (Inspection.case == found))
        .first()
    )
    if row is None:
        abort(404)
    response = make_response(send_file(absolute_path(row.relpath), mimetype=row.mime))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/cases/<int:case_id>/archive.json")
@login_required
@reads_personal_data("transfer.archive_read")
def archive_json(case_id: int):
    """The archive document as it travelled, for the clerks of the two offices (audited)."""
    found, roles = load_case(case_id)
    archive = ArchiveTransfer.get_or_none(ArchiveTransfer.case == found)
    if not roles & {"origin", "destination"} or archive is None or archive.status != ARCHIVE_SENT:
        abort(404)
    audit("transfer.archive_read", found, detail={"sha256": archive.document_sha256})
    response = make_response(archive.document)
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = f'attachment; filename="archive-{found.number}.json"'
    response.headers["X-Archive-SHA256"] = archive.document_sha256
    response.headers["Cache-Control"] = "private, no-store"
    return response
