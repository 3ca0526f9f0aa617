"""A new mobile number set at an office counter, for a person who lost the phone or whose ID
number someone else registered, in three steps:

1. the clerk types the number of the ID card in front of them and sees the account it finds
   (name, masked ID number, registration date): both clerks see whose account it is before
   anything changes;
2. the clerk ticks that the card was seen, types the person's new number, and a second clerk
   confirms (countersign); a code goes to the new number and every session of the account ends;
3. the person reads out the code. The account's password then stops working: the person sets
   one with the new number, which the two clerks tied to them (blueprints/auth/mobile.py says
   why).

Each step carries a ticket signed for this clerk, this account and its step: another clerk's
ticket, or one of another step, is refused with 404.
"""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from blueprints.auth import mobile
from core.access import role_required
from core.audit import audit
from core.identity import CODE_TTL_SECONDS, IdentityRefused, identity_proven
from core.privacy import nothing_to_audit, reads_personal_data
from core.steps import form_error
from models import LICENCE_CLERK, VEHICLE_CLERK, User
from rules.validators import mask_mobile

from . import bp
from .countersign import countersign
from .forms import CounterMobileCodeForm, CounterMobileForm, CounterMobileLookupForm

FOUND, SENT = "found", "sent"
# The steps a GET shows: (ticket's step, its query argument, the step's form, its name there).
SHOWN_STEPS = (
    (SENT, "ticket", CounterMobileCodeForm, "code_form"),
    (FOUND, "found", CounterMobileForm, "form"),
)


def _tickets() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="counter-mobile")


def _ticket_for(clerk: User, account: User, step: str, **extra) -> str:
    return _tickets().dumps({"clerk": clerk.id, "account": account.id, "step": step, **extra})


def _ticket(ticket: str, step: str) -> tuple[User | None, User | None]:
    """The account a ticket of this clerk and this step names, and the second clerk who
    confirmed (after the code was sent), while a code can still come back; (None, None)
    otherwise."""
    try:
        data = _tickets().loads(ticket or "", max_age=CODE_TTL_SECONDS)
    except BadSignature:
        return None, None
    if not isinstance(data, dict) or (data.get("clerk"), data.get("step")) != (
        current_user.id,
        step,
    ):
        return None, None
    account = User.get_or_none((User.id == data.get("account")) & (User.is_staff == False))  # noqa: E712
    witness = User.get_or_none(User.id == data.get("witness")) if step == SENT else None
    return account, witness


def _page(status: int = 200, **context):
    """The page at one of its steps: the look-up form alone, or the account with the form of
    its step (`form` to send a code, `code_form` to put the number on the account)."""
    return render_template(
        "identity/counter_mobile.html",
        lookup=context.pop("lookup", None) or CounterMobileLookupForm(formdata=None),
        **{"account": None, "form": None, "code_form": None, **context},
    ), status


@bp.route("/staff/identity/mobile", methods=["GET", "POST"])
@role_required(LICENCE_CLERK, VEHICLE_CLERK)
@reads_personal_data("identity.counter_lookup")
def counter_mobile():
    """Step one: the ID card's number finds the account (GET shows a ticket's step)."""
    clerk = current_user._get_current_object()
    if request.method == "POST":
        lookup = CounterMobileLookupForm()
        if lookup.validate_on_submit():
            account = User.get_or_none(
                (User.resident_id == lookup.resident_id.data) & (User.is_staff == False)  # noqa: E712
            )
            audit(
                "identity.counter_lookup",
                account,
                result="ok" if account else "not_found",
                detail={"for": "mobile"},
            )
            if account is not None:
                found = _ticket_for(clerk, account, FOUND)
                return redirect(url_for("identity.counter_mobile", found=found), code=303)
            lookup.resident_id.errors = [_("No account has this ID number.")]
        # A full ID number is never sent back in a page (IdNumberField, which says so).
        return _page(422, lookup=lookup)
    # A ticket's step: the account, with the form of that step.
    for step, arg, form_class, slot in SHOWN_STEPS:
        account = _ticket(request.args[arg], step)[0] if request.args.get(arg) else None
        if account is not None:
            audit("identity.counter_lookup", account, detail={"for": "mobile"})
            form = form_class(formdata=None, **{arg: request.args[arg]})
            return _page(account=account, **{slot: form})
    nothing_to_audit()  # the look-up form alone (or a ticket no longer good): nobody's data
    return _page()


@bp.post("/staff/identity/mobile/send")
@role_required(LICENCE_CLERK, VEHICLE_CLERK)
@reads_personal_data("identity.counter_lookup")
def counter_mobile_send():
    """Step two: the card seen, the new number and the second clerk's confirmation; a code is
    sent to the new number."""
    form = CounterMobileForm()
    account = _ticket(form.found.data, FOUND)[0]
    if account is None:
        abort(404)
    audit("identity.counter_lookup", account, detail={"for": "mobile"})
    clerk = current_user._get_current_object()
    if form.validate_on_submit():
        try:
            masked, witness = mobile.send_counter_code(
                clerk,
                account,
                form.mobile.data,
                lambda: countersign(
                    clerk,
                    account,
                    form.witness.data,
                    form.witness_code.data,
                    "mobile",
                    mobile=mask_mobile(form.mobile.data),
                ),
            )
        except IdentityRefused as exc:
            form_error(form, exc)
        else:
            ticket = _ticket_for(clerk, account, SENT, witness=witness.id)
            flash(_("A code was sent to %(mobile)s.", mobile=masked), "ok")
            return redirect(url_for("identity.counter_mobile", ticket=ticket), code=303)
    form.witness_code.raw_data, form.witness_code.data = [], ""  # a code serves once at most
    return _page(422, account=account, form=form)


@bp.post("/staff/identity/mobile/confirm")
@role_required(LICENCE_CLERK, VEHICLE_CLERK)
@reads_personal_data("identity.counter_lookup")
def counter_mobile_confirm():
    """Step three: the code the person reads out; the number becomes the account's."""
    code_form = CounterMobileCodeForm()
    account, witness = _ticket(code_form.ticket.data, SENT)
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
    return _page(422, account=account, code_form=code_form)
