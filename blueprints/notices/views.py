"""The inbox: one's notices, newest first, read and unread; and the notice preferences.

Every logged-in account has one (citizens and staff alike); the navigation shows the number
unread. Marking read is a POST (a form with its own action, htmx on top).
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from core.access import login_required
from core.audit import audit
from core.i18n import DEFAULT_LOCALE
from core.notices import email_enabled, render
from core.paging import page_number
from core.privacy import no_personal_data
from models import Notice, User, write_tx

from .forms import NoticePreferencesForm

bp = Blueprint("notices", __name__, url_prefix="/notices")
PAGE = 30


@bp.route("/")
@login_required
@no_personal_data  # one's own notices and settings
def index():
    """The inbox, newest first, each notice put into words in the reader's language."""
    page = page_number()
    rows = list(Notice.of(current_user.id).paginate(page, PAGE + 1))
    # The inbox reads in the language the page is shown in (the reader is the one looking).
    locale = str(get_locale() or DEFAULT_LOCALE)
    notices = [(n, render(n, locale=locale)) for n in rows[:PAGE]]
    return render_template(
        "notices/index.html",
        notices=notices,
        page=page,
        more=len(rows) > PAGE,
        unread=Notice.unread_count(current_user.id),
    )


@bp.route("/<int:notice_id>/read", methods=["POST"])
@login_required
@no_personal_data  # one's own notices and settings
def mark_read(notice_id: int):
    """Mark one of one's own notices read (another's is not found)."""
    notice = Notice.get_or_none((Notice.id == notice_id) & (Notice.user == current_user.id))
    if notice is None:
        abort(404)
    with write_tx():
        Notice.mark_read(current_user.id, notice_id)
    return redirect(url_for("notices.index", page=request.args.get("page", 1, type=int)), code=303)


@bp.route("/read-all", methods=["POST"])
@login_required
@no_personal_data  # one's own notices and settings
def mark_all_read():
    """Mark every notice of one's own read."""
    with write_tx():
        Notice.mark_read(current_user.id)
    return redirect(url_for("notices.index"), code=303)


def preferences_form() -> NoticePreferencesForm:
    """The preferences form filled from the account (shown on the account page)."""
    form = NoticePreferencesForm(obj=current_user)
    if not email_enabled():
        # No e-mail is sent: neither the choice nor the address is asked for (an address kept
        # from before stays as it was).
        del form.notice_email
        del form.email
    return form


@bp.route("/preferences", methods=["POST"])
@login_required
@no_personal_data  # one's own notices and settings
def preferences():
    """Save how else one receives notices: SMS to one's mobile, e-mail to an address."""
    form = preferences_form()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for("auth.account") + "#notice-preferences", code=303)
    changes = {"notice_sms": bool(form.notice_sms.data) and bool(current_user.mobile)}
    if form.email is not None:
        email = (form.email.data or "").strip() or None
        changes["email"] = email
        changes["notice_email"] = bool(form.notice_email.data) and bool(email)
    with write_tx():
        User.update(**changes).where(User.id == current_user.id).execute()
        audit(
            "account.notice_preferences",
            current_user,
            detail={
                "sms": bool(form.notice_sms.data),
                "email": bool(form.notice_email and form.notice_email.data),
            },
        )
    flash(_("Your notice preferences have been saved."), "ok")
    return redirect(url_for("auth.account") + "#notice-preferences", code=303)
