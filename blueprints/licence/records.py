"""Licence clerks: search licence records, view them (audited), change their status, add photos."""

import re

from flask import abort, flash, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.access import get_or_404, role_required
from core.audit import audit
from core.filelimits import PHOTO
from core.forms import choices
from core.htmx import redirect_to, render
from core.paging import page_number
from core.states import StateMachine
from core.uploads import absolute_path, remove_stored, store_upload
from models import LICENCE_CLERK, POLICE_INSPECTOR, ELicence, LicenceRecord, utcnow, write_tx
from rules.validators import ValidationError, mask_id

from . import bp
from .forms import PhotoForm, StatusForm

PAGE = 25
LONG_NUMBER = re.compile(r"[0-9Xx]{11,}")
PHOTO_MAX_BYTES = 2 * 1024 * 1024

# The clerk's actions on a record's status (restore brings it back to good standing).
RECORD_STATUS = StateMachine(
    "licence_record",
    "status",
    {
        "valid": {"suspended", "revoked", "cancelled"},
        "suspended": {"valid", "revoked", "cancelled"},
        "revoked": {"valid", "cancelled"},
        "points_full": {"valid", "suspended", "revoked", "cancelled"},
        "overdue_review": {"valid", "suspended", "revoked", "cancelled"},
        "expired": {"valid", "cancelled"},
        "cancelled": set(),
    },
)
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
def records():
    """Search the licence records (htmx swaps the results).

    The form posts, so an ID number typed in it never lands in a URL (access logs, browser
    history); a GET ?q= still works for names and paging, and its query string is never
    written to the access log either (gunicorn.conf.py).
    """
    q = request.form.get("q", "") if request.method == "POST" else request.args.get("q", "")
    page = page_number()
    rows = list(search_query(q).paginate(page, PAGE + 1))
    if q:
        # The audit log is shown to administrators: never keep a full ID number in it (nor
        # a long run of its digits).
        shown = LONG_NUMBER.sub(lambda m: mask_id(m.group()), q.strip()[:40])
        audit("licence.search", detail={"q": shown, "found": min(len(rows), PAGE)})
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


def record_context(record: LicenceRecord, status_form=None, photo_form=None) -> dict:
    """What the record page shows."""
    status_form = status_form or StatusForm()
    targets = RECORD_STATUS.targets(record.status)
    status_form.action.choices = choices((k, v) for k, v in ACTIONS.items() if k in targets)
    return {
        "record": record,
        "status_form": status_form,
        "photo_form": photo_form or PhotoForm(),
        "elicence": ELicence.get_or_none(ELicence.record == record),
    }


@bp.get("/records/<int:record_id>")
@role_required(LICENCE_CLERK)
def record(record_id: int):
    """One licence record in full (a read of someone's personal data: audited)."""
    record = record_or_404(record_id)
    audit("licence.record_view", record)
    return render_template("licence/record.html", **record_context(record))


@bp.post("/records/<int:record_id>/status")
@role_required(LICENCE_CLERK)
def record_status(record_id: int):
    """Suspend, revoke, cancel or restore, with a reason; the next check shows it."""
    record = record_or_404(record_id)
    form = StatusForm()
    context = record_context(record, status_form=form)
    if form.validate_on_submit():
        done = RECORD_STATUS.apply(
            record,
            form.action.data,
            detail={"reason": form.reason.data},
            status_reason=form.reason.data.strip(),
            updated_at=utcnow(),
        )
        if done:
            flash(_("The licence is now: %(status)s.", status=ACTIONS[form.action.data]), "ok")
        else:
            flash(_("Someone else changed this licence meanwhile; nothing was done."), "warn")
        return redirect_to(url_for("licence.record", record_id=record.id))
    return render_template("licence/record.html", **context), 422


@bp.post("/records/<int:record_id>/photo")
@role_required(LICENCE_CLERK)
def record_photo(record_id: int):
    """Upload the holder's photo (type by content, size capped, server-made name)."""
    record = record_or_404(record_id)
    form = PhotoForm()
    if form.validate_on_submit():
        try:
            stored = store_upload(
                form.photo.data, "photos", {"image/jpeg", "image/png"}, PHOTO_MAX_BYTES, PHOTO
            )
        except ValidationError as exc:
            form.photo.errors.append(str(exc.message))
        else:
            try:
                with write_tx():
                    LicenceRecord.update(photo=stored.relpath, updated_at=utcnow()).where(
                        LicenceRecord.id == record.id
                    ).execute()
                    audit("licence.photo", record, detail={"sha256": stored.sha256})
            except Exception:
                remove_stored(stored.relpath)  # nothing half written: no file without its row
                raise
            remove_stored(record.photo)  # the photo it replaces
            flash(_("The photo has been saved."), "ok")
            return redirect_to(url_for("licence.record", record_id=record.id))
    return render_template("licence/record.html", **record_context(record, photo_form=form)), 422


@bp.get("/records/<int:record_id>/photo")
@role_required(LICENCE_CLERK, POLICE_INSPECTOR)
def record_photo_file(record_id: int):
    """The photo of a record, for staff."""
    record = record_or_404(record_id)
    if not record.photo:
        abort(404)
    return send_file(absolute_path(record.photo), max_age=0)
