"""The identity pages: a citizen proves their ID number; a clerk activates an account at a counter.

Until proven, an account sees nothing kept under its ID number (core.identity); the pages that
would show it point here.
"""

import datetime as dt

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import identity, sms, templatehelpers
from core.access import role_required
from core.audit import audit
from core.db import id_or_none
from core.privacy import no_personal_data, nothing_to_audit, reads_personal_data
from core.steps import form_error
from models import ADMIN, CITIZEN, LICENCE_CLERK, VEHICLE_CLERK, User
from models.identity import IdentityProof, SmsChallenge
from rules.validators import mask_mobile

from . import bp
from .countersign import countersign
from .forms import CounterActivateForm, CounterLookupForm, SendCodeForm, SmsCodeForm

# The activation form's fields are prefixed: the look-up form on the same page has a reference.
ACTIVATE = "activate"


def _identity_proven() -> bool:
    """`identity_proven()` for templates: pages that depend on it show the way to prove it."""
    return identity.identity_proven(current_user._get_current_object())


templatehelpers.add_when_registered(bp, identity_proven=_identity_proven)


def identity_page(status: int = 200, error: str | None = None, code_form=None):
    """The citizen's identity page: standing and the three ways to prove it."""
    user = current_user._get_current_object()
    mobile = identity.recorded_mobile(user)
    return render_template(
        "identity/index.html",
        proven=identity.identity_proven(user),
        proof=IdentityProof.latest(user),
        recorded_mobile=mask_mobile(mobile),
        code_sent=SmsChallenge.live_for(user, identity.IDENTITY_SMS) is not None,
        reference=identity.counter_reference(user),
        send_form=SendCodeForm(),
        code_form=code_form or SmsCodeForm(),
        error=error,
    ), status


@bp.get("/account/identity")
@role_required(CITIZEN)
@no_personal_data
def index():
    """How the account stands, and the three ways to prove the ID number."""
    return identity_page()


@bp.post("/account/identity/sms")
@role_required(CITIZEN)
@no_personal_data
def send_code():
    """Send a code to the mobile number recorded at the office."""
    if not SendCodeForm().validate_on_submit():
        abort(400)
    try:
        masked = identity.send_code(current_user._get_current_object())
    except identity.IdentityRefused as exc:
        return identity_page(429 if exc.locked_until else 422, error=exc.words())
    flash(_("A code was sent to %(mobile)s. It is valid for 10 minutes.", mobile=masked), "ok")
    return redirect(url_for("identity.index"), code=303)


@bp.post("/account/identity/code")
@role_required(CITIZEN)
@no_personal_data
def confirm_code():
    """Prove the account with the code from the message."""
    form = SmsCodeForm()
    if not form.validate_on_submit():
        return identity_page(422, code_form=form)
    try:
        identity.confirm_code(current_user._get_current_object(), form.code.data)
    except identity.IdentityRefused as exc:
        return identity_page(429 if exc.locked_until else 422, error=exc.words())
    flash(_("Your identity is proven. Your records are now open to you."), "ok")
    return redirect(url_for("identity.index"), code=303)


# --- At the counter ------------------------------------------------------------------------


@bp.route("/staff/identity", methods=["GET", "POST"])
@role_required(LICENCE_CLERK, VEHICLE_CLERK)
@reads_personal_data("identity.counter_lookup")
def counter():
    """A clerk finds the account of the person at the counter (ID number and reference)."""
    form = CounterLookupForm()
    found = None
    if not form.is_submitted():
        nothing_to_audit()  # the empty look-up form
    if form.validate_on_submit():
        found = identity.find_for_counter(form.resident_id.data, form.reference.data)
        audit(
            "identity.counter_lookup",
            found.account if found else None,
            result="ok" if found else "not_found",
        )
        if found is None:
            form.form_errors.append(
                _("No account has this ID number with this reference. Check both with the person.")
            )
    # A full ID number is never sent back in a page (IdNumberField); once found, the look-up's
    # field is simply empty again, with no word of why.
    if found is not None:
        form.resident_id.raw_data, form.resident_id.data = [], ""
    activate = None
    if found is not None:
        activate = CounterActivateForm(
            formdata=None,
            prefix=ACTIVATE,
            account=found.account.id,
            reference=form.reference.data.upper(),
        )
    status = 422 if (form.errors or form.form_errors) else 200
    return render_template(
        "identity/counter.html", form=form, found=found, activate=activate
    ), status


@bp.post("/staff/identity/activate")
@role_required(LICENCE_CLERK, VEHICLE_CLERK)
@no_personal_data
def activate():
    """Activate the account after seeing the ID card, confirmed by a second clerk (countersign:
    both are named in the audit log)."""
    form = CounterActivateForm(prefix=ACTIVATE)
    account_id = id_or_none(form.account.data)
    if account_id is None:
        abort(400)
    account = User.get_or_none(User.id == account_id)
    if account is None or account.is_staff:
        abort(404)
    # The reference again: the activation cannot skip the look-up.
    if form.reference.data != identity.counter_reference(account):
        abort(404)
    if form.validate_on_submit():
        clerk = current_user._get_current_object()
        try:
            identity.activate_at_counter(
                clerk,
                account,
                lambda: countersign(
                    clerk, account, form.witness.data, form.witness_code.data, "activate"
                ),
            )
        except identity.IdentityRefused as exc:
            if exc.field is None:  # not the clerk's to put right here
                flash(str(exc.message), "bad")
                return redirect(url_for("identity.counter"), code=303)
            form_error(form, exc)
        else:
            flash(_("The account of %(name)s is activated.", name=account.real_name), "ok")
            return redirect(url_for("identity.counter"), code=303)
    found = identity.CounterLookup(account, identity.identity_proven(account))
    form.witness_code.raw_data, form.witness_code.data = [], ""  # a code serves once at most
    return render_template(
        "identity/counter.html",
        form=CounterLookupForm(formdata=None),
        found=found,
        activate=form,
    ), 422


# --- The development gateway's messages -----------------------------------------------------


@bp.get("/dev/sms")
@reads_personal_data("identity.dev_sms_view")
def dev_sms():
    """The messages the development gateway kept instead of sending (the demo reads codes here).

    Exists only while that gateway is active, and only for the demo city or an administrator:
    a deployment that sends real messages answers 404.
    """
    from core.demo import is_loaded

    if not sms.dev_gateway_active():
        abort(404)
    admin = current_user.is_authenticated and current_user.has_role(ADMIN)
    if not (is_loaded() or admin):
        abort(404)
    # Kept with UTC times (ISO 8601), shown in Beijing time as every other page.
    messages = [{**m, "at": dt.datetime.fromisoformat(m["at"])} for m in sms.gateway().messages()]
    return render_template("identity/dev_sms.html", messages=messages)
