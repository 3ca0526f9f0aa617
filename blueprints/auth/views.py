"""Views of the account pages."""

import base64
import datetime as dt
import hashlib

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from core.access import login_required
from core.audit import audit
from core.htmx import redirect_to, render
from core.i18n import localtime
from core.identity import CODE_TTL_SECONDS
from core.notices import notify
from core.passwords import hash_password, verify_password
from core.privacy import no_personal_data
from core.security import local_path
from core.session_auth import (
    clear_pending_2fa,
    clear_session,
    pending_2fa_user,
    set_pending_2fa,
    start_session,
)
from core.steps import form_error
from models import AuditEvent, User, utcnow, write_tx
from rules import totp
from rules.validators import ValidationError, mask_id, mask_mobile, normalize_mobile

from ..notices.views import preferences_form
from . import bp, reset
from .forms import (
    ChangePasswordForm,
    CodeForm,
    EnrolForm,
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
)
from .mobile import MobileRefused, check_current_password
from .service import check_code_step, check_password_step

ISSUER = "jiaoguan"


def safe_next(default: str) -> str:
    """The ?next= target when it is a local path, else the default."""
    return local_path(request.args.get("next")) or default


def lock_message(until: dt.datetime, kind: str | None = "pair") -> str:
    """Which lock holds and until when, in the user's language and Beijing time.

    Each lock has its own words (core.throttle): the owner must see that a lock caused by
    others does not close their own device.
    """
    time = localtime(until, "HH:mm:ss")
    if kind == "address":
        return _(
            "Too many failed logins from this network address. Logins from it are paused "
            "until %(time)s (Beijing time).",
            time=time,
        )
    if kind == "devices":
        return _("Too many failed attempts. Try again after %(time)s (Beijing time).", time=time)
    if kind == "account":
        return _(
            "This account has had many failed logins from elsewhere. Until %(time)s (Beijing "
            "time) it can be logged into only from a device that has logged into it before.",
            time=time,
        )
    return _(
        "Too many failed attempts. Logins to this account from this device or network are locked "
        "until %(time)s (Beijing time); other devices that have logged into it before are not.",
        time=time,
    )


@bp.route("/login", methods=["GET", "POST"])
@no_personal_data
def login():
    """Step one: account and password. Staff go on to their authenticator code."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        result = check_password_step(form.account.data, form.password.data)
        if result.user is not None:
            user = result.user
            if user.is_staff:
                set_pending_2fa(user)
                step = "auth.enrol" if user.needs_totp_enrolment else "auth.code"
                return redirect_to(url_for(step, next=safe_next("") or None))
            start_session(user)
            audit("login.ok", user, actor=user)
            return redirect_to(safe_next(url_for("main.home")))
        if result.error == "locked":
            error = lock_message(result.locked_until, result.lock)
        elif result.error == "deactivated":
            error = _(
                "This account has been deactivated. Staff ask their administrator to reactivate "
                "it; citizens ask at a vehicle office counter."
            )
        else:
            error = _("The account or password is not right.")
    status = 422 if (error or form.errors) else 200
    return render("auth/login.html", "auth/_login_form.html", status, form=form, error=error)


@bp.route("/login/code", methods=["GET", "POST"])
@no_personal_data
def code():
    """Step two for staff: the code of the enrolled authenticator app."""
    user = pending_2fa_user()
    if user is None:
        flash(_("Please log in again."), "warn")
        return redirect(url_for("auth.login"))
    if user.needs_totp_enrolment:
        return redirect(url_for("auth.enrol"))
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        result = check_code_step(user, form.code.data)
        if result.user is not None:
            clear_pending_2fa()
            start_session(user)
            audit("login.ok", user, actor=user, detail={"second_factor": "totp"})
            return redirect_to(safe_next(url_for("staff.index")))
        if result.error == "locked":
            error = lock_message(result.locked_until, result.lock)
        else:
            error = _(
                "This code is not right or has been used already. Type the code the app shows "
                "now; if it is the one just used, wait for the next."
            )
    status = 422 if (error or form.errors) else 200
    return render(
        "auth/code.html", "auth/_code_form.html", status, form=form, error=error, user=user
    )


@bp.route("/login/enrol", methods=["GET", "POST"])
@no_personal_data
def enrol():
    """First login of a staff member: scan the QR into an authenticator app, confirm a code."""
    user = pending_2fa_user()
    if user is None:
        flash(_("Please log in again."), "warn")
        return redirect(url_for("auth.login"))
    if not user.needs_totp_enrolment:
        return redirect(url_for("auth.code"))
    if not user.totp_secret:
        with write_tx():
            user.totp_secret = pyotp.random_base32()
            User.update(totp_secret=user.totp_secret).where(User.id == user.id).execute()
    form = EnrolForm()
    form.personal = [user.username or "", user.real_name or ""]
    error = None
    if form.validate_on_submit():
        result = None
        if verify_password(user.password_hash, form.password.data):
            # The administrator who made the account knows the password it was given: whoever
            # holds the account from now on sets a password only they know.
            form.password.errors.append(
                _("This is the password you were given: choose one of your own.")
            )
        else:
            result = check_code_step(user, form.code.data)
        if result is not None and result.user is not None:
            hashed = hash_password(form.password.data)  # slow on purpose: outside the write lock
            with write_tx():
                User.update(totp_enrolled_at=utcnow(), password_hash=hashed).where(
                    User.id == user.id
                ).execute()
                audit("account.totp_enrolled", user, actor=user, detail={"password_set": True})
            clear_pending_2fa()
            start_session(user)
            audit("login.ok", user, actor=user, detail={"second_factor": "totp"})
            flash(_("Your authenticator is set up. Use it at every login."), "ok")
            return redirect_to(url_for("staff.index"))
        error = result and (
            lock_message(result.locked_until, result.lock)
            if result.error == "locked"
            else _("This code is not right. Check the time on your phone and try the next one.")
        )
    uri = totp.provisioning_uri(user.totp_secret, user.username, ISSUER)
    qr_svg = segno.make(uri, error="m").svg_inline(scale=5, border=2)
    status = 422 if (error or form.errors) else 200
    return render(
        "auth/enrol.html",
        "auth/_code_form.html",
        status,
        form=form,
        error=error,
        qr_svg=qr_svg,
        secret=user.totp_secret,
    )


@bp.get("/logout")
@no_personal_data
def logout_confirm():
    """A typed or bookmarked /logout: a page with the log-out button (a GET never logs out, so
    a link or an image on another site cannot end the session)."""
    return render_template("auth/logout.html")


@bp.post("/logout")
@no_personal_data
def logout():
    """End this session."""
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        with write_tx():
            # Sessions are signed cookies: a new token is what makes a copied cookie useless.
            user.rotate_session_token()
            audit("logout", user)
    logout_user()
    # Nothing of the session outlives it (its permanence neither: a later cookie of this
    # browser would be signed again as a logged-in one's is), but the language chosen.
    clear_session()
    flash(_("You are logged out."), "ok")
    return redirect(url_for("main.home"), code=303)


@bp.route("/account", methods=["GET", "POST"])
@login_required
@no_personal_data
def account():
    """One's own account: masked identity, password change, recent logins."""
    form = ChangePasswordForm()
    form.personal = [current_user.resident_id or "", current_user.mobile or ""]
    if form.validate_on_submit():
        try:
            check_current_password(current_user, form.current.data, "current")
        except MobileRefused as exc:
            form_error(form, exc)
        else:
            if form.password.data == form.current.data:
                form.password.errors.append(
                    _("This is the password you have now: choose a new one.")
                )
                return account_page(form)
            with write_tx():
                user = User.get_by_id(current_user.id)
                user.password_hash = hash_password(form.password.data)
                user.save()
                user.rotate_session_token()
                audit("account.password_changed", user)
                notify(user, "account.password_changed")
            start_session(user)
            flash(_("Your password has been changed. Other sessions were logged out."), "ok")
            return redirect(url_for("auth.account"), code=303)
    return account_page(form)


def account_page(form):
    """The account page, with the password form as it stands."""
    logins = (
        AuditEvent.select()
        .where((AuditEvent.actor_id == current_user.id) & (AuditEvent.action.startswith("login.")))
        .order_by(AuditEvent.id.desc())
        .limit(10)
    )
    status = 422 if (form.errors or form.form_errors) else 200
    return render_template(
        "auth/account.html", form=form, logins=logins, prefs_form=preferences_form()
    ), status


# The account a reset was asked for, kept in the session between the two steps: in the URL an
# ID number would stay in the browser's history and the server's logs. Sealed (encrypted, as
# the session cookie is only signed) and good for the code's life: someone later at a shared
# browser reads nothing from it.
RESET_ACCOUNT = "reset_account"


def _sealer() -> Fernet:
    secret = current_app.config["SECRET_KEY"].encode()
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"reset-account:" + secret).digest()))


def remember_reset_account(account: str, nonce: str) -> None:
    """Keep the account step one named, and the nonce its code is bound to, sealed in the
    session."""
    session[RESET_ACCOUNT] = _sealer().encrypt(f"{nonce}:{account}".encode()).decode()


def remembered_reset_account() -> tuple[str, str] | tuple[None, None]:
    """The account step one named and this session's nonce, while its code can still come
    back; else (None, None)."""
    sealed = session.get(RESET_ACCOUNT)
    if not sealed:
        return None, None
    try:
        nonce, _sep, account = (
            _sealer().decrypt(sealed.encode(), ttl=CODE_TTL_SECONDS).decode().partition(":")
        )
    except InvalidToken:
        return None, None
    return (account, nonce) if account else (None, None)


@bp.route("/password/forgot", methods=["GET", "POST"])
@no_personal_data
def forgot_password():
    """Ask for a code to reset a forgotten password (a citizen's: mobile or ID number)."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        nonce = reset.new_nonce()
        try:
            reset.send_reset_code(form.account.data, nonce)
        except reset.ResetRefused as exc:
            form_error(form, exc)  # an ID number typed is not sent back (IdNumberField)
        else:
            # The same answer whether or not an account exists (nobody learns which do).
            remember_reset_account(form.account.data, nonce)
            return redirect(url_for("auth.reset_password"), code=303)
    status = 422 if (form.errors or form.form_errors) else 200
    return render_template("auth/forgot.html", form=form), status


@bp.route("/password/reset", methods=["GET", "POST"])
@no_personal_data
def reset_password():
    """The code from the SMS and a new password: every session of the account ends."""
    account, nonce = remembered_reset_account()
    if not account:
        return redirect(url_for("auth.forgot_password"), code=303)
    form = ResetPasswordForm()
    form.personal = [account]  # refused in a password whether or not the account exists
    if form.validate_on_submit():
        try:
            done = reset.reset_password(account, form.code.data, form.password.data, nonce)
        except reset.ResetRefused as exc:
            form_error(form, exc)
        else:
            session.pop(RESET_ACCOUNT, None)
            flash(_("Your password is set. Log in with it."), "ok")
            if done.proofs_withdrawn:
                flash(_("Then prove your identity again: see the notice in your account."), "ok")
            return redirect(url_for("auth.login"), code=303)
    status = 422 if (form.errors or form.form_errors) else 200
    return render_template("auth/reset.html", form=form, account=masked_account(account)), status


def masked_account(account: str) -> str:
    """What the reset page shows of the account it is for: a mobile or ID number, masked (as
    every page masks them), read as the login reads it (service.find_account: a mobile as
    normalize_mobile takes it, +86 and dashes too; else without its spaces)."""
    try:
        return mask_mobile(normalize_mobile(account))
    except ValidationError:
        return mask_id("".join(account.split()))
