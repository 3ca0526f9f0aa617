"""The origin's side of a transfer opened in another city's deployment: the outgoing-transfer
record as its seller (who confirms the sale here, where they are registered) and this office's
vehicle clerks (who send the archive or refuse it) see it, with the whole case's timeline."""

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.access import login_required
from core.audit import audit
from core.htmx import redirect_to
from core.identity import identity_proven
from core.privacy import no_personal_data, nothing_to_audit, reads_personal_data
from core.steps import StepError
from models import VEHICLE_CLERK, OutgoingTransfer, Vehicle
from models.transfer_network import OUT_ARCHIVE_REQUESTED, OUT_OPEN
from rules.validators import display_plate

from . import bp, network_origin, timeline_receipts
from .asking import (
    DECLINE,
    REFUSE_ARCHIVE,
    SEND_ARCHIVE_AWAY,
    WITHDRAW_AWAY,
    Question,
    ask_first,
    ask_to_confirm_sale,
)
from .forms import RefuseArchiveForm
from .labels import fmt_price
from .views import render_page


def outgoing_roles(out: OutgoingTransfer, user) -> set[str]:
    """What the user is in this outgoing transfer: its seller, or a clerk of the vehicle's
    office (once the destination asked for the archive, as in the in-database path)."""
    roles = set()
    if not user.is_authenticated:
        return roles
    if user.id == out.seller_id and identity_proven(user):
        roles.add("seller")
    if (
        user.is_staff
        and user.has_role(VEHICLE_CLERK)
        and user.office_id == Vehicle.get_by_id(out.vehicle_id).registration_office_id
        and OutgoingTransfer.select()
        .where((OutgoingTransfer.id == out.id) & OutgoingTransfer.reached_origin_clerks())
        .exists()
    ):
        roles.add("origin")
    return roles


def mine():
    """The outgoing transfers the current user may see."""
    query = OutgoingTransfer.select().order_by(OutgoingTransfer.updated_at.desc())
    if current_user.is_staff and current_user.has_role(VEHICLE_CLERK):
        return query.join(Vehicle, on=(OutgoingTransfer.vehicle == Vehicle.id)).where(
            (Vehicle.registration_office == current_user.office_id)
            & OutgoingTransfer.reached_origin_clerks()
        )
    if identity_proven(current_user):
        return query.where(OutgoingTransfer.seller == current_user.id)
    return query.where(False)


@bp.get("/outgoing")
@login_required
@reads_personal_data("transfer.queue_view")
def outgoing_list():
    """Vehicles of this city sold to buyers registering them in another city; with
    ?state=archive_requested, those whose archive is asked for (the clerks' archive queue
    links there)."""
    query = mine()
    waiting = request.args.get("state") == OUT_ARCHIVE_REQUESTED
    if waiting:
        query = query.where(OutgoingTransfer.state == OUT_ARCHIVE_REQUESTED)
    rows = list(query.limit(200))
    if current_user.is_staff:
        audit("transfer.queue_view", detail={"queue": "outgoing"})
    else:
        nothing_to_audit()  # a seller's own sales
    return render_page(
        "transfer/outgoing_list.html",
        rows=rows,
        progress=OutgoingTransfer.progress_of(rows),
        waiting=waiting,
    )


def load_outgoing(out_id: int):
    """The record and the user's roles in it; 404 when the user has none."""
    out = OutgoingTransfer.get_or_none(OutgoingTransfer.id == out_id)
    roles = outgoing_roles(out, current_user) if out is not None else set()
    if not roles:
        abort(404)
    return out, roles


@bp.get("/outgoing/<int:out_id>")
@login_required
@reads_personal_data("transfer.case_view")
def outgoing_case(out_id: int):
    """One outgoing transfer: vehicle, buyer's city, what the reader may do, the timeline."""
    out, roles = load_outgoing(out_id)
    audit("transfer.case_view", out, detail={"as": sorted(roles), "outgoing": True})
    events = list(out.events())
    return render_page(
        "transfer/outgoing_case.html",
        out=out,
        roles=roles,
        vehicle=Vehicle.get_by_id(out.vehicle_id),
        events=events,
        progress=out.progress(events),
        # Each step our log records, for its receipt link (timeline_receipts).
        entry_ids=timeline_receipts.entry_ids(events),
        refuse_form=RefuseArchiveForm(),
        withdrawal_asked=network_origin.withdrawal_asked(events),
    )


def act(
    out_id: int,
    role: str,
    step,
    done: str,
    question: Question | None = None,
    details=(),
    loaded: tuple | None = None,
):
    """Run one step of the record as `role`, asked first when it cannot be undone (the same
    questions as the case pages, asking.py), then back to its page with what came of it.
    `loaded`: the record and roles when the view has them already (load_outgoing)."""
    out, roles = loaded or load_outgoing(out_id)
    if role not in roles:
        abort(403)
    back = url_for("transfer.outgoing_case", out_id=out_id)
    asked = question and ask_first(question, out.case_number, back, details)
    if asked:
        return asked
    try:
        step(current_user._get_current_object())
        flash(done, "ok")
    except StepError as exc:
        flash(str(exc.message), "bad")
    return redirect_to(back)


@bp.post("/outgoing/<int:out_id>/confirm")
@login_required
@reads_personal_data("transfer.case_view")
def outgoing_confirm(out_id: int):
    """The seller confirms the sale here, asked first (the question names the buyer, a read of
    the record); the buyer's city hears of it."""
    out, roles = load_outgoing(out_id)
    if "seller" not in roles:
        abort(403)
    if out.state == OUT_OPEN and out.seller_confirmed_at is None:
        asked = ask_to_confirm_sale(
            "seller",
            out.case_number,
            url_for("transfer.outgoing_case", out_id=out_id),
            plate=display_plate(Vehicle.get_by_id(out.vehicle_id).plate),
            price=fmt_price(out.price),
            other=out.buyer_name,
            # Final once the buyer has confirmed: until then the seller may still withdraw.
            final=network_origin.buyer_confirmed(out),
        )
        if asked:
            detail = {"as": sorted(roles), "outgoing": True, "asked": "confirm"}
            audit("transfer.case_view", out, detail=detail)
            return asked
    nothing_to_audit()  # the step itself answers with a redirect
    return act(
        out_id,
        "seller",
        lambda actor: network_origin.seller_confirm(out_id, actor),
        _("Thank you: confirmed."),
        loaded=(out, roles),
    )


@bp.post("/outgoing/<int:out_id>/decline")
@login_required
@no_personal_data
def outgoing_decline(out_id: int):
    """The seller declines the sale: the case is cancelled in the buyer's city."""
    return act(
        out_id,
        "seller",
        lambda actor: network_origin.seller_decline(out_id, actor),
        _("The case is withdrawn."),
        DECLINE,
    )


@bp.post("/outgoing/<int:out_id>/withdraw")
@login_required
@no_personal_data
def outgoing_withdraw(out_id: int):
    """The seller who confirmed withdraws while the buyer has not: asked first, as in the
    buyer's city; that city cancels the case unless the buyer confirmed first."""
    return act(
        out_id,
        "seller",
        lambda actor: network_origin.seller_withdraw(out_id, actor),
        _(
            "Your withdrawal is sent to the buyer's city, which cancels the case unless the "
            "buyer confirmed first."
        ),
        WITHDRAW_AWAY,
    )


@bp.post("/outgoing/<int:out_id>/archive/send")
@login_required
@no_personal_data
def outgoing_send(out_id: int):
    """The clerk sends the archive, signed by this deployment."""
    return act(
        out_id,
        "origin",
        lambda actor: network_origin.send_archive(out_id, actor),
        _("The archive is sent. The vehicle is transferred out once the other city registers it."),
        SEND_ARCHIVE_AWAY,
    )


@bp.post("/outgoing/<int:out_id>/archive/refuse")
@login_required
@no_personal_data
def outgoing_refuse(out_id: int):
    """The clerk refuses to send the archive, with a reason."""
    form = RefuseArchiveForm()
    if not form.validate_on_submit():
        _out, roles = load_outgoing(out_id)
        if "origin" not in roles:
            abort(403)
        flash(_("Give the reason for the refusal."), "bad")
        return redirect_to(url_for("transfer.outgoing_case", out_id=out_id))
    reason = form.reason.data.strip()
    return act(
        out_id,
        "origin",
        lambda actor: network_origin.refuse_archive(out_id, actor, reason),
        _("Refused. Buyer and seller see your reason."),
        REFUSE_ARCHIVE,
        details=[_("Reason: %(reason)s", reason=reason)],
    )
