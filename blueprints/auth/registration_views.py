"""The pages of a registration (blueprints/auth/registration.py): the details, then the code
the mobile number received."""

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import sms
from core.audit import client_net
from core.demo import is_loaded as demo_loaded
from core.htmx import redirect_to, render
from core.passwords import hash_password
from core.privacy import no_personal_data
from core.security import leave_session_cookie
from core.session_auth import start_session
from core.steps import form_error
from models import Throttle
from rules.validators import mask_mobile

from . import bp, registration
from .forms import MobileCodeForm, RegisterForm

REGISTER_TAKEN_LIMIT = 10  # registrations refused as taken, per client address per hour


@bp.route("/register", methods=["GET", "POST"])
@no_personal_data
def register():
    """A citizen gives real name, ID number, mobile and password; a code goes to the mobile."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    # "This ID number has an account" tells whether someone is registered: limit the asking.
    key = f"register:{client_net()}"
    locked = Throttle.locked_until_for(key)
    if locked and request.method == "POST":
        abort(429)
    if form.validate_on_submit():
        taken = registration.taken(form.resident_id.data, form.mobile.data)
        for name, words in taken:
            getattr(form, name).errors.append(words)
        if taken:
            Throttle.register_failure(key, limit=REGISTER_TAKEN_LIMIT, window=3600)
        else:
            hashed = hash_password(form.password.data)  # slow on purpose: outside the write lock
            try:
                masked = registration.start(
                    form.real_name.data.strip(), form.resident_id.data, form.mobile.data, hashed
                )
            except registration.RegistrationRefused as exc:
                form_error(form, exc)
            else:
                flash(
                    _("A code was sent to %(mobile)s. It is valid for 10 minutes.", mobile=masked),
                    "ok",
                )
                return redirect_to(url_for("auth.register_confirm"))
    status = 422 if (form.errors or form.form_errors) else 200
    return render("auth/register.html", "auth/_register_form.html", status, form=form)


@bp.route("/register/confirm", methods=["GET", "POST"])
@no_personal_data
def register_confirm():
    """Step two: the code the mobile number received; the account is made and logged in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    pending = registration.current()
    if pending is None:
        started = registration.SESSION_KEY in session
        flash(str(registration.GONE if started else registration.NOT_STARTED), "warn")
        return redirect(url_for("auth.register"), code=303)
    if pending.finished_at is not None:
        return finished_a_moment_ago()
    form = MobileCodeForm()
    if form.validate_on_submit():
        try:
            user = registration.confirm(pending, form.code.data)
        except registration.Finished:
            return finished_a_moment_ago()
        except registration.Taken as exc:
            # The first step's form again, as this person typed it, each taken field said.
            session.pop(registration.SESSION_KEY, None)
            typed = {k: getattr(pending, k) for k in ("real_name", "resident_id", "mobile")}
            again = RegisterForm(formdata=None, data=typed)
            for name, words in exc.fields:
                getattr(again, name).errors = [words]
            return render_template("auth/register.html", form=again), 422
        except registration.RegistrationRefused as exc:
            form_error(form, exc)
        else:
            start_session(user)
            flash(_("Welcome, %(name)s. Your account is ready.", name=user.real_name), "ok")
            # The next step of every service: proving that the ID number is the account's own.
            return redirect(url_for("identity.index"), code=303)
    status = 422 if (form.errors or form.form_errors) else 200
    return render_template(
        "auth/register_confirm.html",
        form=form,
        mobile=mask_mobile(pending.mobile),
        demo_sms=sms.dev_gateway_active() and demo_loaded(),
    ), status


def finished_a_moment_ago():
    """A second tap on the button: the first made the account and logged this browser in.
    The answer leaves the session cookie alone (core.security.leave_session_cookie), else
    this request's, from before the first answer, would log the new account out. Should the
    first answer have been lost, the login page says the account was made."""
    leave_session_cookie()
    return redirect(url_for("auth.login", made=1), code=303)


@bp.post("/register/confirm/again")
@no_personal_data
def register_send_again():
    """A new code for this browser's registration (the message was lost, or the code expired)."""
    pending = registration.current()
    if pending is None or pending.finished_at is not None:
        return redirect(url_for("auth.register_confirm"), code=303)
    try:
        masked = registration.send_again(pending)
    except registration.RegistrationRefused as exc:
        flash(exc.words(), "bad")
    else:
        flash(
            _("A new code was sent to %(mobile)s. The earlier one no longer works.", mobile=masked),
            "ok",
        )
    return redirect(url_for("auth.register_confirm"), code=303)
