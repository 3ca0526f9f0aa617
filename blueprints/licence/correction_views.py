"""Pages for corrections: the clerk's correction of a record field, the citizen's
name correction request and the licence clerks' queue of such requests. Views only translate
HTTP: form -> step (blueprints.licence.corrections) -> StepError into a form error."""

from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.access import role_required
from core.audit import audit
from core.confirm import confirmation_page, confirmed
from core.forms import choices
from core.htmx import redirect_to
from core.privacy import no_personal_data, nothing_to_audit, reads_personal_data
from core.steps import StepError, form_error
from models import CITIZEN, LICENCE_CLERK, LicenceRecord, NameCorrection
from models.licence import CORRECTION_PENDING

from . import bp, corrections
from .forms import CorrectionDecisionForm, NameCorrectionForm, RecordCorrectionForm
from .labels import CORRECTABLE_FIELDS
from .records import record_again, record_context, record_or_404


@bp.post("/records/<int:record_id>/correct")
@role_required(LICENCE_CLERK)
@no_personal_data
def record_correct(record_id: int):
    """Correct one field of a licence record, with a reason (audited; the holder is told)."""
    record = record_or_404(record_id)
    form = RecordCorrectionForm(prefix="correction")
    form.field.choices = choices([("", _l("Choose…")), *CORRECTABLE_FIELDS.items()])
    if form.validate_on_submit():
        try:
            corrections.correct_record(
                record.id,
                current_user._get_current_object(),
                field=form.field.data,
                value=form.value.data,
                reason=form.reason.data,
            )
        except StepError as exc:
            form_error(form, exc)
        else:
            flash(_("The record has been corrected."), "ok")
            return redirect_to(url_for("licence.record", record_id=record.id))
    return record_again(record, record_context(record, correction_form=form))


def my_requests():
    """The citizen's name correction requests, newest first."""
    return (
        NameCorrection.select()
        .where(NameCorrection.user == current_user.id)
        .order_by(NameCorrection.requested_at.desc(), NameCorrection.id.desc())
    )


@bp.route("/name-correction", methods=["GET", "POST"])
@role_required(CITIZEN)
@no_personal_data
def name_correction():
    """The citizen asks for the name on their account to be corrected; their requests and
    the clerks' answers are listed."""
    form = NameCorrectionForm()
    status = 200
    if form.validate_on_submit():
        try:
            corrections.request_name_correction(
                current_user._get_current_object(),
                new_name=form.new_name.data,
                note=form.note.data,
            )
        except StepError as exc:
            form_error(form, exc)
        else:
            flash(_("Your request has been sent. A licence clerk will check it."), "ok")
            return redirect_to(url_for("licence.name_correction"))
    if form.errors or form.form_errors:
        status = 422
    return (
        render_template(
            "licence/name_correction.html",
            form=form,
            requests=list(my_requests()),
            pending=corrections.pending_request(current_user),
        ),
        status,
    )


def queue_page(status: int = 200, answered=None):
    """The requests waiting, each beside the licence record's name (an audited read). With
    `answered` (a request id and its form), that request's form is the one drawn again with
    its errors."""
    rows = []
    for item in corrections.correction_queue():
        record = LicenceRecord.by_licence_no(item.user.resident_id or "")
        form = CorrectionDecisionForm(prefix=f"c{item.id}", formdata=None)
        if answered and answered[0] == item.id:
            form = answered[1]
        rows.append((item, record, form))
    # The rows name citizens with their (masked) ID numbers: reading them is logged.
    audit("licence.correction_queue_view", detail={"n": len(rows)})
    return render_template("licence/corrections.html", rows=rows), status


@bp.get("/corrections")
@role_required(LICENCE_CLERK)
@reads_personal_data("licence.correction_queue_view")
def correction_queue():
    """Name correction requests waiting for a clerk, each beside the licence record's name."""
    return queue_page()


@bp.post("/corrections/<int:request_id>")
@role_required(LICENCE_CLERK)
@reads_personal_data("licence.correction_queue_view")
def decide_correction(request_id: int):
    """Approve or refuse one request, with an answer the citizen reads. A refusal without a
    reason is drawn again with the error at its answer; approving a name that differs from
    the licence record's asks first."""
    form = CorrectionDecisionForm(prefix=f"c{request_id}")
    decision = request.form.get("decision")
    if decision not in ("approve", "refuse") or not form.validate_on_submit():
        abort(400)
    item = NameCorrection.get_or_none(NameCorrection.id == request_id)
    on_record = item and decision == "approve" and corrections.name_on_record(item)
    if on_record and not confirmed():
        audit("licence.correction_queue_view", item, detail={"asked": "approve"})
        return confirmation_page(
            title=_("Approve a name that differs from the licence record?"),
            message=_(
                "%(new)s is not the name on the licence record (%(record)s). Approve only "
                "when the citizen has shown an ID card with the new name at the counter.",
                new=item.new_name,
                record=on_record,
            ),
            back=url_for("licence.correction_queue"),
            button=_("Yes, approve"),
            irreversible=False,
        )
    try:
        corrections.decide_name_correction(
            request_id,
            current_user._get_current_object(),
            approve=decision == "approve",
            answer=form.answer.data,
            differing_confirmed=confirmed(),
        )
    except StepError as exc:
        if exc.field and item and item.status == CORRECTION_PENDING:
            # The refusal's missing reason, at its field on the queue drawn again.
            form_error(form, exc)
            return queue_page(422, (request_id, form))
        flash(str(exc.message), "bad")
    else:
        flash(
            _("Approved: the account's name is corrected.")
            if decision == "approve"
            else _("Refused. The citizen sees your answer."),
            "ok",
        )
    nothing_to_audit()  # what follows leads back to the queue
    return redirect_to(url_for("licence.correction_queue"))
