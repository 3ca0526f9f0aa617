"""The pages of a new mobile number (blueprints/auth/mobile.py): the number and the password,
then the code the new number received."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.access import role_required
from core.privacy import no_personal_data
from core.steps import form_error
from models import CITIZEN
from rules.validators import mask_mobile

from . import bp, mobile
from .forms import ChangeMobileForm, MobileCodeForm


@bp.route("/account/mobile", methods=["GET", "POST"])
@role_required(CITIZEN)
@no_personal_data
def change_mobile():
    """Ask for a new mobile number: the current password, and a code sent to the number."""
    form = ChangeMobileForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            masked = mobile.send_change_code(user, form.mobile.data, form.password.data)
        except mobile.MobileRefused as exc:
            form_error(form, exc)
        else:
            flash(
                _("A code was sent to %(mobile)s. It is valid for 10 minutes.", mobile=masked), "ok"
            )
            return redirect(url_for("auth.confirm_mobile"), code=303)
    status = 422 if (form.errors or form.form_errors) else 200
    return render_template("auth/mobile.html", form=form), status


@bp.route("/account/mobile/confirm", methods=["GET", "POST"])
@role_required(CITIZEN)
@no_personal_data
def confirm_mobile():
    """The code the new number received: the number becomes the account's."""
    user = current_user._get_current_object()
    pending = mobile.pending_mobile(user)
    if pending is None:
        flash(_("No code is waiting: give the new number again."), "bad")
        return redirect(url_for("auth.change_mobile"), code=303)
    form = MobileCodeForm()
    if form.validate_on_submit():
        try:
            changed = mobile.confirm_change(user, form.code.data)
        except mobile.MobileRefused as exc:
            form_error(form, exc)
        else:
            flash(
                _(
                    "Your account now uses the mobile number %(mobile)s.",
                    mobile=mask_mobile(changed.mobile),
                ),
                "ok",
            )
            return redirect(url_for("auth.account"), code=303)
    status = 422 if (form.errors or form.form_errors) else 200
    return render_template("auth/mobile_confirm.html", form=form, pending=pending), status
