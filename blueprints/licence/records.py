"""Licence clerks: search licence records, view them (audited), change their status, add photos."""

import re

from flask import abort, flash, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.access import get_or_404, role_required
from core.audit import audit
from core.confirm import confirmation_page, confirmed
from core.forms import choices
from core.htmx import redirect_to, render
from core.paging import page_number
from core.privacy import no_personal_data, reads_personal_data
from core.steps import StepError, form_error
from core.uploads import absolute_path
from models import LICENCE_CLERK, ELicence, LicenceRecord
from rules.validators import mask_id

from . import bp, service
from .forms import PhotoForm, RecordCorrectionForm, StatusForm
from .labels import CORRECTABLE_FIELDS, STATUS_LABELS

PAGE = 25
LONG_NUMBER = re.compile(r"[0-9Xx]{11,}")

# The statuses a record is never restored from (RECORD_STATUS): asked for confirmation first,
# with the words of each.
FINAL_ACTIONS = {
    "cancelled": (
        _l("Cancel the licence?"),
        _l(
            "Cancelling the licence of %(name)s is final: it can never be restored, and the "
            "holder must apply for a new licence to drive again."
        ),
        _l("Yes, cancel the licence"),
    ),
    "revoked": (
        _l("Revoke the licence?"),
        _l(
            "Revoking the licence of %(name)s cannot be undone here: it is never restored, and "
            "the holder may apply for a new licence only once the ban that the revocation "
            "carries is over."
        ),
        _l("Yes, revoke the licence"),
    ),
}
ACTIONS = {
    "suspended": _l("Suspend"),
    "revoked": _l("Revoke"),
    "cancelled": _l("Cancel the licence"),
    "valid": _l("Restore to valid"),
}


def search_query(q: str):
    """Records by licence number, file number or name (exact number, name prefix)."""
    query = LicenceRecord.select().order_by(LicenceRecord.name, LicenceRecord.id)
    q = (q or "").strip()
    if not q:
        return query
    if q[:17].isdigit():
        return query.where((LicenceRecord.licence_no == q.upper()) | (LicenceRecord.file_no == q))
    return query.where(LicenceRecord.name.startswith(q))


@bp.route("/records", methods=["GET", "POST"])
@role_required(LICENCE_CLERK)
@reads_personal_data("licence.search")
def records():
    """Search the licence records (htmx swaps the results).

    The form posts, so an ID number typed in it never lands in a URL (access logs, browser
    history); a GET ?q= still works for names and paging, and its query string is never
    written to the access log either (gunicorn.conf.py).
    """
    q = request.form.get("q", "") if request.method == "POST" else request.args.get("q", "")
    page = page_number()
    rows = list(search_query(q).paginate(page, PAGE + 1))
    # The unfiltered list names people too: it is a search with no words, and logged as one.
    # The audit log is shown to administrators: never keep a full ID number in it (nor a long
    # run of its digits).
    shown = LONG_NUMBER.sub(lambda m: mask_id(m.group()), q.strip()[:40])
    audit("licence.search", detail={"q": shown, "found": min(len(rows), PAGE), "page": page})
    return render(
        "licence/records.html",
        "licence/_records.html",
        rows=rows[:PAGE],
        has_more=len(rows) > PAGE,
        page=page,
        q=q,
    )


def record_or_404(record_id: int) -> LicenceRecord:
    """A record by id, or 404."""
    return get_or_404(LicenceRecord, LicenceRecord.id == record_id)


def record_context(
    record: LicenceRecord, status_form=None, photo_form=None, correction_form=None
) -> dict:
    """What the record page shows."""
    status_form = status_form or StatusForm()
    correction_form = correction_form or RecordCorrectionForm(prefix="correction")
    correction_form.field.choices = choices([("", _l("Choose…")), *CORRECTABLE_FIELDS.items()])
    targets = service.RECORD_STATUS.targets(record.status)
    actions = [(k, v) for k, v in ACTIONS.items() if k in targets]
    # An empty first option: the clerk chooses, nothing is suspended or revoked by default (none
    # at all when no change is possible: the page then shows no form).
    status_form.action.choices = choices([("", _l("Choose…")), *actions] if actions else [])
    return {
        "record": record,
        "status_form": status_form,
        "photo_form": photo_form or PhotoForm(),
        "correction_form": correction_form,
        "elicence": ELicence.get_or_none(ELicence.record == record),
    }


@bp.get("/records/<int:record_id>")
@role_required(LICENCE_CLERK)
@reads_personal_data("licence.record_view")
def record(record_id: int):
    """One licence record in full (a read of someone's personal data: audited)."""
    record = record_or_404(record_id)
    audit("licence.record_view", record)
    return render_template("licence/record.html", **record_context(record))


@bp.post("/records/<int:record_id>/status")
@role_required(LICENCE_CLERK)
@no_personal_data
def record_status(record_id: int):
    """Suspend, revoke, cancel or restore, with a reason; the next check shows it."""
    record = record_or_404(record_id)
    form = StatusForm()
    context = record_context(record, status_form=form)
    if form.validate_on_submit():
        if form.action.data in FINAL_ACTIONS and not confirmed():
            title, message, button = FINAL_ACTIONS[form.action.data]
            return confirmation_page(
                title=str(title),
                message=message % {"name": record.name},
                details=[_("Reason: %(reason)s", reason=form.reason.data.strip())],
                back=url_for("licence.record", record_id=record.id),
                button=str(button),
            )
        try:
            service.set_record_status(
                record, form.action.data, form.reason.data, current_user._get_current_object()
            )
        except StepError as exc:
            flash(str(exc.message), "warn")
        else:
            status = STATUS_LABELS[form.action.data]  # the state it is in, not the act's name
            flash(_("The licence is now: %(status)s.", status=status), "ok")
        return redirect_to(url_for("licence.record", record_id=record.id))
    return record_again(record, context)


@bp.post("/records/<int:record_id>/photo")
@role_required(LICENCE_CLERK)
@no_personal_data
def record_photo(record_id: int):
    """Upload the holder's photo (type by content, size capped, server-made name)."""
    record = record_or_404(record_id)
    form = PhotoForm()
    if form.validate_on_submit():
        try:
            service.set_record_photo(record, form.photo.data, current_user._get_current_object())
        except StepError as exc:
            form_error(form, exc)
        else:
            flash(_("The photo has been saved."), "ok")
            return redirect_to(url_for("licence.record", record_id=record.id))
    return record_again(record, record_context(record, photo_form=form))


def record_again(record: LicenceRecord, context: dict):
    """The record page drawn again with a refused form's errors: a read of the record like the
    page's own, audited as it is."""
    audit("licence.record_view", record, detail={"again": True})
    return render_template("licence/record.html", **context), 422


@bp.get("/records/<int:record_id>/photo")
@role_required(LICENCE_CLERK)
@reads_personal_data("licence.photo_view")
def record_photo_file(record_id: int):
    """The photo of a record, for the clerks who keep the records (a read of someone's personal
    data: audited). An inspector sees a holder's photo only through a check of their code
    (verify.photo, a token the check made), never by walking record ids."""
    record = record_or_404(record_id)
    if not record.photo:
        abort(404)
    audit("licence.photo_view", record)
    return send_file(absolute_path(record.photo), max_age=0)
