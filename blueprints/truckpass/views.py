"""The applicant's pages: the step-by-step application, my passes, and a pass with its QR."""

import segno
from flask import abort, current_app, flash, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from core.access import get_or_404, login_required, role_required
from core.audit import audit
from core.confirm import confirmation_page, confirmed
from core.forms import choices
from core.htmx import is_htmx, redirect_to, render
from core.privacy import no_personal_data, nothing_to_audit, reads_personal_data
from core.steps import StepError, form_error
from core.uploads import remove_stored
from models import CITIZEN, TRUCKPASS_CLERK, TruckPass
from models.truckpass import APPROVED, RETURNED
from rules import truckrules
from rules.clock import beijing_now
from rules.validators import display_plate

from . import bp, service
from .forms import STEPS, ApplyForm
from .labels import CLASS_LABELS, TRUCK_LABELS, labels


@bp.context_processor
def _labels():
    return labels()


def prepare(form: ApplyForm) -> None:
    """Fill the choices that depend on the data; make every field ready to take errors."""
    for f in form:
        f.errors = []
    form.zone_names = {z.id: z.display_name(str(get_locale())) for z in service.active_zones()}
    form.zones.choices = choices(form.zone_names.items())
    form.allowed_classes = list(CLASS_LABELS)
    form.truck_class.choices = choices(TRUCK_LABELS.items())


def check_step(form: ApplyForm, step: int, state: dict) -> bool:
    """Check one step with the service, putting a refusal next to its field; fills `state` for
    later steps, and the form's choices that the vehicle decides."""
    actor = current_user._get_current_object()
    try:
        if step == 1:
            vehicle = service.step_vehicle(form.plate.data, actor)
            state["vehicle"] = vehicle
            allowed = service.CLASSES_BY_TYPE[vehicle.vehicle_type]
            form.allowed_classes = allowed
            form.truck_class.choices = choices((c, TRUCK_LABELS[c]) for c in allowed)
            if not form.truck_class.data or form.truck_class.data not in allowed:
                form.truck_class.data = allowed[0]
            if vehicle.emission_standard:
                # The registered standard decides, not what the applicant says.
                form.emission.data = vehicle.emission_standard
        elif step == 2:
            service.step_class(form.truck_class.data, form.emission.data, form.allowed_classes)
            # Step 3 offers only the zones where this truck needs a pass.
            needed = service.zones_needing_pass(form.truck_class.data, state["vehicle"])
            form.zones.choices = choices((z.id, form.zone_names[z.id]) for z in needed)
        elif step == 3:
            state["zone_ids"], state["rules"] = service.step_zones(
                form.zones.data,
                form.zone_names,
                form.truck_class.data,
                form.emission.data,
                state["vehicle"],
            )
        elif step == 4:
            state["windows"] = service.step_dates(
                form.start_date.data,
                form.end_date.data,
                form.windows.data,
                state["rules"],
                service.classes_of(form.truck_class.data, state["vehicle"]),
                form.emission.data,
                form.zone_names,
            )
            service.refuse_double_cover(
                state["vehicle"],
                state["zone_ids"],
                form.start_date.data,
                form.end_date.data,
                state["windows"],
                actor,
                form.zone_names,
            )
            # Carried on (hidden) and summed up as read: "09：00至16：00" becomes 09:00-16:00.
            form.windows.data = truckrules.format_windows(state["windows"])
        elif step == 5:
            state["documents"] = service.step_purpose(form.purpose.data, form.document.data)
        else:
            raise ValueError(step)
    except StepError as exc:
        form_error(form, exc)
        return False
    return True


def submit_or_clean_up(application: service.Application, applicant):
    """Submit; when that fails, remove the documents already stored (nothing half written)."""
    try:
        return service.submit(application, applicant)
    except Exception:
        for stored in application.documents:
            remove_stored(stored.relpath)
        raise


def prefill_hours(form: ApplyForm, state: dict) -> None:
    """On to the dates from the zones: the hours start as those the chosen zones restrict this
    truck, for the applicant to narrow, unless the hours given already meet each zone's (the
    zones changed, say, after going back)."""
    rules, truck_class = state["rules"], service.classes_of(form.truck_class.data, state["vehicle"])
    try:
        given = truckrules.parse_windows(form.windows.data or "")
    except ValueError:
        given = []
    if given and not truckrules.zones_missed(rules, truck_class, given):
        return
    restricted = truckrules.restricted_windows(rules, truck_class)
    form.windows.data = truckrules.format_windows(restricted[: truckrules.MAX_WINDOWS])


@bp.route("/apply", methods=["GET", "POST"])
@role_required(CITIZEN)
@no_personal_data
def apply():
    """The application, step by step: each step a fragment swapped by htmx, or a plain form."""
    form = ApplyForm()
    prepare(form)
    step, state = 1, {}
    if request.method == "GET" and request.args.get("plate"):
        form.plate.data = request.args["plate"]
    # CSRFProtect has checked the token already; the steps are checked here one by one (not with
    # form.validate(), which would judge the fields of the steps not reached yet).
    if request.method == "POST":
        wanted = max(1, min(STEPS, request.form.get("step", 1, type=int)))
        if "back" in request.form:
            step = max(1, wanted - 1)
            for s in range(1, step):
                check_step(form, s, state)
        elif "stay" in request.form:
            # The same step again (the language switched): the earlier steps checked, as
            # going on would, but this one drawn as it was, not judged yet.
            step = next((s for s in range(1, wanted) if not check_step(form, s, state)), wanted)
        else:
            step = next((s for s in range(1, wanted + 1) if not check_step(form, s, state)), None)
            if wanted == 3 and step is None:
                prefill_hours(form, state)
            if step is None and wanted == STEPS:
                try:
                    truck_pass = submit_or_clean_up(
                        service.Application(
                            vehicle=state["vehicle"],
                            truck_class=form.truck_class.data,
                            emission=form.emission.data,
                            zone_ids=state["zone_ids"],
                            start=form.start_date.data,
                            end=form.end_date.data,
                            windows=state["windows"],
                            purpose=form.purpose.data.strip(),
                            documents=state["documents"],
                            rules=state["rules"],
                            zone_names=form.zone_names,
                        ),
                        current_user._get_current_object(),
                    )
                except service.AlreadyApplied as same:
                    flash(_("You had sent this application already: here it is."), "ok")
                    truck_pass = same.truck_pass
                except StepError as exc:
                    # Another application for the same hours came first (two tabs, say): back
                    # to the dates, where the step says so.
                    form_error(form, exc)
                    truck_pass, step = None, 4
                if truck_pass is not None:
                    return redirect_to(url_for("truckpass.show", pass_id=truck_pass.id))
            step = step or wanted + 1
    has_errors = any(f.errors for f in form)
    form.step.data = str(step)
    return render(
        "truckpass/apply.html",
        "truckpass/_apply.html",
        422 if has_errors else 200,
        form=form,
        step=step,
        steps=STEPS,
        state=state,
        own_trucks=list(service.own_trucks(current_user._get_current_object())),
        # Only on a fresh page: the steps of an application being filled in say nothing of it.
        recent=(
            service.recent_application(current_user._get_current_object())
            if request.method == "GET" and not is_htmx()
            else None
        ),
    )


@bp.get("/")
@role_required(CITIZEN)
@no_personal_data
def index():
    """The applicant's passes and applications."""
    passes = (
        TruckPass.select()
        .where(TruckPass.applicant == current_user.id)
        .order_by(TruckPass.id.desc())
    )
    now = beijing_now()
    return render_template("truckpass/index.html", passes=list(passes), now=now)


def pass_or_404(pass_id: int) -> TruckPass:
    """A pass its applicant or a truck-pass clerk may see; anyone else gets 404."""
    truck_pass = get_or_404(TruckPass, TruckPass.id == pass_id)
    if truck_pass.applicant_id != current_user.id and not current_user.has_role(TRUCKPASS_CLERK):
        abort(404)
    return truck_pass


def pass_context(truck_pass: TruckPass) -> dict:
    """What the pass page shows: its QR, and its state at this moment."""
    now = beijing_now()
    verdict = truck_pass.verdict_at(now)
    url = f"{current_app.config['PUBLIC_BASE_URL']}/p/{truck_pass.handle}"
    colour = "#137333" if verdict == "valid" else "#6b7280"
    return {
        "truck_pass": truck_pass,
        "verdict": verdict,
        "zones": service.zones_of(truck_pass),
        "qr": segno.make(url, error="m").svg_inline(omitsize=True, border=2, dark=colour),
        "verify_url": url,
        "may_take_back": service.may_take_back(truck_pass, now),
    }


@bp.get("/passes/<int:pass_id>")
@login_required
@reads_personal_data("truck_pass.view")
def show(pass_id: int):
    """A pass on the applicant's phone: green while valid now, grey when not."""
    truck_pass = pass_or_404(pass_id)
    if truck_pass.applicant_id == current_user.id:
        nothing_to_audit()
    else:
        audit("truck_pass.view", truck_pass, detail={"page": "pass"})
    return render("truckpass/pass.html", "truckpass/_pass.html", **pass_context(truck_pass))


@bp.post("/passes/<int:pass_id>/withdraw")
@role_required(CITIZEN)
@no_personal_data
def withdraw(pass_id: int):
    """The applicant takes back an application waiting for review, or returns a pass they no
    longer need, after a confirmation (a pass's QR stops being valid at once)."""
    truck_pass = get_or_404(TruckPass, TruckPass.id == pass_id)
    if truck_pass.applicant_id != current_user.id:
        abort(404)
    back = url_for("truckpass.show", pass_id=truck_pass.id)
    if not service.may_take_back(truck_pass):
        ended = truck_pass.status == APPROVED
        flash(str(service.ENDED if ended else service.DECIDED_MEANWHILE), "warn")
        return redirect_to(back)
    if not confirmed():
        issued = truck_pass.status == APPROVED
        return confirmation_page(
            title=_("Return this pass?") if issued else _("Withdraw this application?"),
            message=(
                _(
                    "The pass for %(plate)s (%(start)s – %(end)s) stops being valid at once: a "
                    "check of its QR code will say it was returned. For these days again, you "
                    "would have to apply anew.",
                    plate=display_plate(truck_pass.plate),
                    start=truck_pass.start_date.isoformat(),
                    end=truck_pass.end_date.isoformat(),
                )
                if issued
                else _(
                    "The application for %(plate)s (%(start)s – %(end)s) leaves the clerks' "
                    "queue and will not be decided. You may apply again at any time.",
                    plate=display_plate(truck_pass.plate),
                    start=truck_pass.start_date.isoformat(),
                    end=truck_pass.end_date.isoformat(),
                )
            ),
            back=back,
            button=_("Yes, return the pass") if issued else _("Yes, withdraw it"),
        )
    try:
        service.withdraw(truck_pass, current_user._get_current_object())
    except StepError as exc:
        flash(str(exc.message), "warn")
    else:
        returned = truck_pass.status == RETURNED
        flash(_("The pass is returned.") if returned else _("The application is withdrawn."), "ok")
    return redirect_to(back)
