"""A new mobile number set at an office counter, for a person who lost the phone or whose ID
number someone else registered: the clerk sees the ID card and types its number and the
person's number, a second clerk confirms (countersign), every session of the account ends, and
the person reads out the code the phone received. The account's password then stops working:
the person sets one with the new number, which the two clerks tied to them
(blueprints/auth/mobile.py says why)."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from blueprints.auth import mobile
from core.access import role_required
from core.audit import audit
from core.identity import CODE_TTL_SECONDS, IdentityRefused, identity_proven
from core.privacy import reads_personal_data
from core.steps import form_error
from models import LICENCE_CLERK, VEHICLE_CLERK, User
from rules.validators import mask_id, mask_mobile

from . import bp
from .countersign import countersign
from .forms import CounterMobileCodeForm, CounterMobileForm


def _tickets() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="counter-mobile")


def _ticket(ticket: str) -> tuple[User | None, User | None]:
    """The account a ticket of this clerk names, and the second clerk who confirmed, while its
    code can still come back; (None, None) otherwise."""
    try:
        data = _tickets().loads(ticket or "", max_age=CODE_TTL_SECONDS)
    except BadSignature:
        return None, None
    if not isinstance(data, dict) or data.get("clerk") != current_user.id:
        return None, None
    account = User.get_or_none((User.id == data.get("account")) & (User.is_staff == False))  # noqa: E712
    return account, User.get_or_none(User.id == data.get("witness"))


@bp.route("/staff/identity/mobile", methods=["GET", "POST"])
@role_required(LICENCE_CLERK, VEHICLE_CLERK)
@reads_personal_data("identity.counter_lookup")
def counter_mobile():
    """Step one: the ID card's number and the new number; a code is sent to the new number."""
    form = CounterMobileForm()
    clerk = current_user._get_current_object()
    if form.validate_on_submit():
        account = User.get_or_none(
            (User.resident_id == form.resident_id.data) & (User.is_staff == False)  # noqa: E712
        )
        audit(
            "identity.counter_lookup",
            account,
            result="ok" if account else "not_found",
            detail={"for": "mobile"},
        )
        if account is None:
            form.resident_id.errors = [_("No account has this ID number.")]
        else:
            try:
                mobile.check_counter_change(clerk, account, form.mobile.data)
                witness = countersign(
                    clerk,
                    account,
                    form.witness.data,
                    form.witness_code.data,
                    "mobile",
                    mobile=mask_mobile(form.mobile.data),
                )
                masked = mobile.send_counter_code(clerk, account, form.mobile.data, witness)
            except IdentityRefused as exc:
                form_error(form, exc)
            else:
                ticket = _tickets().dumps(
                    {"clerk": clerk.id, "account": account.id, "witness": witness.id}
                )
                flash(_("A code was sent to %(mobile)s.", mobile=masked), "ok")
                return redirect(url_for("identity.counter_mobile", ticket=ticket), code=303)
    # A full ID number is never sent back in a page, nor a code that can serve no more.
    form.resident_id.raw_data, form.resident_id.data = [], ""
    form.witness_code.raw_data, form.witness_code.data = [], ""
    account = _ticket(request.args.get("ticket", ""))[0] if request.method == "GET" else None
    code_form = None
    if account is not None:
        audit("identity.counter_lookup", account, detail={"for": "mobile"})
        code_form = CounterMobileCodeForm(formdata=None, ticket=request.args["ticket"])
    status = 422 if (form.errors or form.form_errors) else 200
    return render_template(
        "identity/counter_mobile.html",
        form=form,
        account=account,
        code_form=code_form,
        resident_id=mask_id(account.resident_id) if account else "",
    ), status


@bp.post("/staff/identity/mobile/confirm")
@role_required(LICENCE_CLERK, VEHICLE_CLERK)
@reads_personal_data("identity.counter_lookup")
def counter_mobile_confirm():
    """Step two: the code the person reads out; the number becomes the account's."""
    code_form = CounterMobileCodeForm()
    account, witness = _ticket(code_form.ticket.data)
    if account is None:
        abort(404)
    audit("identity.counter_lookup", account, detail={"for": "mobile"})
    if code_form.validate_on_submit():
        try:
            clerk = current_user._get_current_object()
            mobile.confirm_change(account, code_form.code.data, clerk=clerk, witness=witness)
        except mobile.MobileRefused as exc:
            form_error(code_form, exc)
        else:
            flash(
                _(
                    "The account of %(name)s now uses the new number; its password no longer "
                    "works and its sessions ended. The person now sets a password with "
                    "“Forgot your password?” and logs in.",
                    name=account.real_name,
                ),
                "ok",
            )
            if not identity_proven(account):
                flash(
                    _(
                        "The account's identity is not proven yet: once the person has logged "
                        "in, activate it at the counter with the reference on their identity "
                        "page."
                    ),
                    "ok",
                )
            return redirect(url_for("identity.counter_mobile"), code=303)
    return render_template(
        "identity/counter_mobile.html",
        form=CounterMobileForm(formdata=None),
        account=account,
        code_form=code_form,
        resident_id=mask_id(account.resident_id),
    ), 422
