"""Truck-pass clerks: the review queue, decisions and revocations, and the rule book editor."""

from flask import abort, flash, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.access import get_or_404, role_required
from core.audit import audit
from core.confirm import confirmation_page, confirmed
from core.htmx import redirect_to, render
from core.paging import page_number
from core.privacy import no_personal_data, nothing_to_audit, reads_personal_data
from core.steps import StepError, form_error
from core.uploads import EXTENSIONS, FILE_CSP, absolute_path, store_upload
from models import (
    CITIZEN,
    TRUCKPASS_CLERK,
    RestrictedZone,
    TruckPass,
    TruckPassDocument,
    ZoneRule,
)
from models.truckpass import APPROVED, PENDING_REVIEW
from rules.clock import beijing_now
from rules.validators import ValidationError, display_plate, normalize_plate

from . import bp, rulebook, service
from .forms import DecisionForm, RuleForm, ZoneForm
from .labels import STATUS_LABELS
from .rulebook import zone_warnings
from .views import pass_context

QUEUE_PAGE = 30
PLATE_ROWS = 50
MAP_MAX_BYTES = 2 * 1024 * 1024


@bp.get("/queue")
@role_required(TRUCKPASS_CLERK)
@reads_personal_data("truck_pass.queue_view")
def queue():
    """Applications waiting for a clerk, oldest first (htmx refreshes the list); and, asked by
    plate, every pass and application of a truck, to open one (to revoke an issued pass)."""
    if "plate" in request.args:
        return by_plate(request.args["plate"])
    page = page_number()
    rows = list(
        TruckPass.select()
        .where(TruckPass.status == PENDING_REVIEW)
        .order_by(TruckPass.created_at)
        .paginate(page, QUEUE_PAGE + 1)
    )
    audit("truck_pass.queue_view", detail={"page": page})
    return render(
        "truckpass/queue.html",
        "truckpass/_queue.html",
        rows=rows[:QUEUE_PAGE],
        has_more=len(rows) > QUEUE_PAGE,
        page=page,
    )


def by_plate(typed: str):
    """The passes and applications of one plate, newest first (at most PLATE_ROWS)."""
    plate, error = "", None
    try:
        plate = normalize_plate(typed[:20])
    except ValidationError as exc:
        error = exc.message
    rows = service.passes_of_plate(plate, PLATE_ROWS) if plate else []
    audit("truck_pass.queue_view", detail={"plate": plate or typed[:20]})
    return render_template(
        "truckpass/queue.html",
        plate_rows=rows,
        plate=plate or typed[:20],
        plate_error=error,
        now=beijing_now(),
    )


@bp.route("/review/<int:pass_id>", methods=["GET", "POST"])
@role_required(TRUCKPASS_CLERK)
@reads_personal_data("truck_pass.view")
def review(pass_id: int):
    """One application or pass in full, with the decision or revocation form."""
    truck_pass = get_or_404(TruckPass, TruckPass.id == pass_id)
    form = DecisionForm()
    if form.validate_on_submit():
        # An act answered by its question or a redirect shows nothing new of the applicant (the
        # act itself is audited by the step); the page drawn again with an error is a read.
        action = request.form.get("action")
        if action not in service.CLERK_ACTIONS:
            abort(400)
        reason = (form.reason.data or "").strip()
        if action in ("refuse", "revoke") and reason and not confirmed():
            # The applicant is told at once, with this reason, and neither can be undone.
            nothing_to_audit()
            return confirmation_page(
                title=_("Refuse this application?")
                if action == "refuse"
                else _("Revoke this pass?"),
                message=_(
                    "%(plate)s: the applicant is told at once, with the reason below.",
                    plate=display_plate(truck_pass.plate),
                ),
                details=[reason],
                back=url_for("truckpass.review", pass_id=truck_pass.id),
                button=_("Yes, refuse it") if action == "refuse" else _("Yes, revoke it"),
            )
        try:
            service.clerk_act(
                truck_pass, action, form.reason.data or "", current_user._get_current_object()
            )
        except StepError as exc:
            if exc.field:
                form_error(form, exc)
            else:
                flash(str(exc.message), "warn")
                nothing_to_audit()
                return redirect_to(url_for("truckpass.review", pass_id=truck_pass.id))
        else:
            flash(
                _(
                    "Done: the application is now %(status)s.",
                    status=STATUS_LABELS[truck_pass.status],
                ),
                "ok",
            )
            nothing_to_audit()
            return redirect_to(url_for("truckpass.review", pass_id=truck_pass.id))
    audit("truck_pass.view", truck_pass)
    status = 422 if form.errors else 200
    return render_template(
        "truckpass/review.html",
        form=form,
        **pass_context(truck_pass),
        can_decide=truck_pass.status == PENDING_REVIEW,
        can_revoke=truck_pass.status == APPROVED,
        # Why the vehicle may have no pass (stolen, seized...): told to the clerk, never to an
        # applicant who is not its owner; an approval is refused while it stands.
        block=service.application_block(truck_pass),
        clerk=True,
    ), status


@bp.get("/documents/<int:doc_id>")
@role_required(TRUCKPASS_CLERK, CITIZEN)
@reads_personal_data("truck_pass.document_read")
def document(doc_id: int):
    """A document attached to an application: for the reviewing clerk (the read is audited),
    and for the applicant, who sees what a refusal is about (anyone else: 404)."""
    doc = get_or_404(TruckPassDocument, TruckPassDocument.id == doc_id)
    user = current_user._get_current_object()
    if user.has_role(TRUCKPASS_CLERK):
        audit("truck_pass.document_read", doc, detail={"pass": doc.truck_pass_id})
    elif doc.truck_pass.applicant_id == user.id:
        nothing_to_audit()
    else:
        abort(404)
    response = send_file(
        absolute_path(doc.relpath),
        mimetype=doc.mime,
        max_age=0,
        download_name=f"truck-pass-{doc.truck_pass_id}-{doc.id}{EXTENSIONS[doc.mime]}",
    )
    response.headers["Content-Security-Policy"] = FILE_CSP  # whatever the file holds
    return response


@bp.get("/zones")
@role_required(TRUCKPASS_CLERK)
@no_personal_data
def zones():
    """The rule book: every zone and its rules, with the 6-hour warning."""
    all_zones = list(RestrictedZone.select().order_by(RestrictedZone.id))
    return render_template("truckpass/zones.html", zones=all_zones, warnings=zone_warnings)


def save_map(form: ZoneForm) -> str | None:
    """Store an uploaded map image; None when none was sent."""
    upload = form.map_image.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    return store_upload(upload, "zones", {"image/png", "image/jpeg"}, MAP_MAX_BYTES).relpath


@bp.route("/zones/new", methods=["GET", "POST"])
@bp.route("/zones/<int:zone_id>", methods=["GET", "POST"])
@role_required(TRUCKPASS_CLERK)
@no_personal_data
def zone(zone_id: int | None = None):
    """Create or edit a zone; its rules are listed below with their own forms."""
    zone = RestrictedZone.get_or_none(RestrictedZone.id == zone_id) if zone_id else None
    if zone_id and zone is None:
        abort(404)
    form = ZoneForm(obj=zone)
    if form.validate_on_submit():
        try:
            map_path = save_map(form)
        except ValidationError as exc:
            form.map_image.errors.append(str(exc.message))
        else:
            try:
                zone = rulebook.save_zone(
                    zone,
                    name=form.name.data,
                    name_en=form.name_en.data,
                    description=form.description.data,
                    description_en=form.description_en.data,
                    active=form.active.data,
                    map_path=map_path,
                    boundary=form.boundary.data or "",
                    actor=current_user._get_current_object(),
                )
            except StepError as exc:
                form_error(form, exc)
            else:
                flash(_("The zone is saved."), "ok")
                return redirect_to(url_for("truckpass.zone", zone_id=zone.id))
    rules = list(zone.rules()) if zone else []
    status = 422 if form.errors else 200
    return render_template(
        "truckpass/zone.html",
        zone=zone,
        form=form,
        rules=rules,
        rule_form=RuleForm(formdata=None),
        warnings=zone_warnings(zone) if zone else [],
    ), status


@bp.post("/zones/<int:zone_id>/rules")
@role_required(TRUCKPASS_CLERK)
@no_personal_data
def add_rule(zone_id: int):
    """A new rule: previewed first (with the 6-hour warning), published on confirmation."""
    zone = get_or_404(RestrictedZone, RestrictedZone.id == zone_id)
    return rule_editor(zone, None, RuleForm())


@bp.route("/rules/<int:rule_id>/edit", methods=["GET", "POST"])
@role_required(TRUCKPASS_CLERK)
@no_personal_data
def edit_rule(rule_id: int):
    """Change a rule in place: the same preview, then published over the old one."""
    rule = get_or_404(ZoneRule, ZoneRule.id == rule_id)
    zone = RestrictedZone.get_by_id(rule.zone_id)
    if request.method == "GET":
        form = RuleForm(formdata=None)
        form.classes.data = rule.classes.split()
        form.days.data = [int(d) for d in rule.days]
        form.windows.data = rule.windows
        form.emissions.data = rule.emissions.split()
        form.max_days.data = rule.max_days
        form.needs_review.data = rule.needs_review
        return render_template("truckpass/rule.html", zone=zone, rule=rule, form=form)
    return rule_editor(zone, rule, RuleForm())


def rule_editor(zone: RestrictedZone, rule: ZoneRule | None, form: RuleForm):
    """Preview a rule as the public will read it, with the warnings it would bring; publish it
    only from a preview ("publish"), the warnings confirmed. Errors re-show the editor (422)."""
    draft, warnings = None, []
    if form.validate_on_submit():
        try:
            draft = rulebook.draft_rule(
                classes=form.classes.data,
                days=form.days.data,
                windows_text=form.windows.data,
                emissions=form.emissions.data,
                max_days=form.max_days.data,
                needs_review=form.needs_review.data,
            )
        except StepError as exc:
            form_error(form, exc)
    if draft is not None:
        warnings = rulebook.preview_warnings(zone, draft, rule)
        if request.form.get("intent") == "publish":
            accepted = (form.seen.data or "").split() if form.confirm.data else []
            try:
                rulebook.publish_rule(
                    zone,
                    draft,
                    actor=current_user._get_current_object(),
                    accepted=accepted,
                    replacing=rule,
                )
            except StepError as exc:
                form_error(form, exc)
            else:
                if warnings:
                    flash(
                        _(
                            "Published, although these rules leave trucks less than 6 hours a "
                            "day on some days, below the national requirement."
                        ),
                        "warn",
                    )
                else:
                    flash(_("The rule is published."), "ok")
                return redirect_to(url_for("truckpass.zone", zone_id=zone.id))
        # The confirmation holds only for the warnings shown now: it is asked again each time.
        form.seen.data = " ".join(rulebook.warning_keys(warnings))
        form.confirm.data = False
    status = 422 if form.errors or draft is None else 200
    return render_template(
        "truckpass/rule.html",
        zone=zone,
        rule=rule,
        form=form,
        draft=draft.as_rule(zone.id) if draft else None,
        warnings=warnings,
    ), status


@bp.post("/rules/<int:rule_id>/delete")
@role_required(TRUCKPASS_CLERK)
@no_personal_data
def delete_rule(rule_id: int):
    """Remove a rule (after the confirmation the form asks for)."""
    rule = get_or_404(ZoneRule, ZoneRule.id == rule_id)
    zone_id = rule.zone_id
    if not request.form.get("confirm"):
        flash(_("Tick the box to confirm that the rule is to be removed."), "warn")
        return redirect_to(url_for("truckpass.zone", zone_id=zone_id))
    rulebook.delete_rule(rule, current_user._get_current_object())
    flash(_("The rule is removed."), "ok")
    return redirect_to(url_for("truckpass.zone", zone_id=zone_id))
