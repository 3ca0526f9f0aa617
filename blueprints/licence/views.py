"""The holder's pages: apply, show the licence (亮证) and the code (亮码), checks, share codes."""

import time
from functools import lru_cache

import segno
from flask import abort, current_app, flash, g, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import qrdraw
from core.access import get_or_404, role_required
from core.confirm import confirmation_page, confirmed
from core.htmx import redirect_to, render
from core.identity import identity_proven
from core.privacy import no_personal_data
from core.steps import StepError, form_error
from core.uploads import absolute_path
from models import CITIZEN, ELicence, ShareCode, utcnow
from rules import licencecode

from . import bp, service, sharing
from .checks import check_log, typed_check_standing
from .forms import ShareCodeForm
from .labels import labels

CHECK_LOG_LIMIT = 200


@bp.context_processor
def _labels():
    return labels()


def my_elicence() -> ELicence | None:
    """The logged-in citizen's e-licence (looked up once per request); none until the account
    proved its ID number, even one issued before proofs existed."""
    if "elicence" not in g:
        g.elicence = None
        user = current_user._get_current_object()
        if identity_proven(user):
            g.elicence = ELicence.with_record_of_holder(user.id)
    return g.elicence


def require_elicence() -> ELicence:
    """The citizen's e-licence; without one (a bookmarked code page, say), to the e-licence
    home, which says how to apply."""
    elicence = my_elicence()
    if elicence is None:
        flash(_("You have no electronic driving licence yet: apply for it here."), "warn")
        abort(redirect_to(url_for("licence.index")))
    return elicence


@bp.get("/")
@role_required(CITIZEN)
@no_personal_data
def index():
    """The e-licence home: apply, or the ways to use it."""
    elicence = my_elicence()
    return render_template(
        "licence/index.html",
        elicence=elicence,
        held=None if elicence else service.held_record(current_user._get_current_object()),
    )


@bp.post("/apply")
@role_required(CITIZEN)
@no_personal_data
def apply():
    """Apply for the e-licence: issued at once when the record is in good standing."""
    try:
        service.apply_for_elicence(current_user._get_current_object())
    except StepError as exc:
        return (
            render_template(
                "licence/index.html",
                elicence=None,
                held=service.held_record(current_user._get_current_object()),
                refusal=exc.message,
                refusal_reason=getattr(exc, "reason", None),
            ),
            422,
        )
    flash(_("Your electronic driving licence has been issued."), "ok")
    return redirect_to(url_for("licence.card"))


@bp.route("/card", methods=["GET"])
@role_required(CITIZEN)
@no_personal_data
def card():
    """Showing the licence (亮证): front and back, number masked."""
    elicence = require_elicence()
    return render_template(
        "licence/card.html", elicence=elicence, record=elicence.record, reveal=False, now=utcnow()
    )


@bp.post("/card/reveal")
@role_required(CITIZEN)
@no_personal_data
def reveal():
    """Show the full licence number once, on request; the reveal is audited."""
    elicence = require_elicence()
    record = service.reveal_number(elicence, current_user._get_current_object())
    return render_template(
        "licence/card.html", elicence=elicence, record=record, reveal=True, now=utcnow()
    )


@bp.get("/photo")
@role_required(CITIZEN)
@no_personal_data
def photo():
    """The holder's own photo."""
    record = require_elicence().record
    if not record.photo:
        abort(404)
    return send_file(absolute_path(record.photo), max_age=0)


def qr_symbol(url: str) -> segno.QRCode:
    """The QR symbol of a verify URL (the tests photograph this same symbol): segno's symbol,
    drawn by core.qrdraw in about a tenth of segno's time (a new one every code step)."""
    return qrdraw.make(url, error="m")


@lru_cache(maxsize=4096)
def qr_svg(url: str, dark: str) -> str:
    """The QR of a verify URL as segno's inline SVG (written by core.qrdraw); cached, since it
    only changes with the code."""
    return qrdraw.svg_inline(qr_symbol(url), border=2, dark=dark, light="#fff")


def code_context() -> dict:
    """Everything the code page and its refreshing fragment show."""
    elicence = require_elicence()
    now = time.time()  # the typed code and the QR's code of the same step
    code, remaining = service.current_code(elicence, now)
    qr_code = service.current_qr_code(elicence, now)
    url = service.verify_url(current_app.config["PUBLIC_BASE_URL"], elicence, qr_code)
    locked_until, guesses, guessed_since = typed_check_standing(elicence)
    good = elicence.record.in_good_standing()
    return {
        "elicence": elicence,
        "record": elicence.record,
        "code": code,
        "remaining": remaining,
        "good": good,
        "qr": qr_svg(url, "#000" if good else "#c62828"),
        "typing_key": elicence.typing_key,
        "locked_until": locked_until,
        "typed_guesses": guesses,
        "guessed_since": guessed_since,
    }


@bp.get("/code")
@role_required(CITIZEN)
@no_personal_data
def code():
    """Showing the code (亮码): a QR of the verify URL and the same code to type."""
    return render("licence/code.html", "licence/_code.html", **code_context())


@bp.get("/countdown.css")
@no_personal_data
def countdown_css():
    """The code page's countdown, made from the licence code's step (about 1 KB; like every
    response but static files it is not cached, so a changed step shows at once)."""
    css = render_template("licence/countdown.css", step=licencecode.CODE_STEP_SECONDS)
    return current_app.response_class(css, mimetype="text/css")


@bp.get("/checks")
@role_required(CITIZEN)
@no_personal_data
def checks():
    """Every check of the holder's licence: when, by whom, with what verdict (a flood of
    refused attempts as one line per window, with its count)."""
    elicence = require_elicence()
    rows = check_log(elicence, CHECK_LOG_LIMIT)
    return render_template("licence/checks.html", elicence=elicence, checks=rows)


@bp.route("/reset-codes", methods=["GET", "POST"])
@role_required(CITIZEN)
@no_personal_data
def reset_codes():
    """Revoke all outstanding codes (new secret and QR address), after a confirmation."""
    elicence = require_elicence()
    if request.method == "POST":
        service.reset_codes(elicence, current_user._get_current_object())
        flash(_("All earlier codes are revoked. Show the new code from now on."), "ok")
        return redirect_to(url_for("licence.code"))
    return render_template("licence/reset.html", elicence=elicence)


@bp.route("/share", methods=["GET", "POST"])
@role_required(CITIZEN)
@no_personal_data
def share():
    """Share codes for firms: create, list, cancel."""
    elicence = require_elicence()
    form = ShareCodeForm()
    created = None
    if form.validate_on_submit():
        try:
            created = sharing.create_share_code(
                elicence,
                form.days.data,
                form.show_points.data,
                form.note.data or "",
                current_user._get_current_object(),
            )
        except StepError as exc:
            form_error(form, exc)
        else:
            form = ShareCodeForm(formdata=None)
    codes = (
        ShareCode.select()
        .where(ShareCode.elicence == elicence)
        .order_by(ShareCode.created_at.desc())
        .limit(50)  # the live ones (sharing.MAX_LIVE_SHARES) and the latest past ones
    )
    status = 422 if form.errors else 200
    return render(
        "licence/share.html",
        "licence/_share.html",
        status,
        form=form,
        codes=list(codes),
        created=created,
        elicence=elicence,
        now=utcnow(),
    )


@bp.post("/share/<int:share_id>/cancel")
@role_required(CITIZEN)
@no_personal_data
def cancel_share(share_id: int):
    """Cancel one of the holder's share codes (someone else's answers 404)."""
    elicence = require_elicence()
    share = get_or_404(ShareCode, (ShareCode.id == share_id) & (ShareCode.elicence == elicence))
    if not confirmed():
        return confirmation_page(
            title=_("Cancel the share code?"),
            message=_(
                "Whoever has the share code %(code)s can no longer check your licence with it. "
                "A cancelled code cannot be used again; you can make a new one.",
                code=share.display,
            ),
            back=url_for("licence.share"),
            button=_("Yes, cancel the share code"),
        )
    if sharing.cancel_share_code(share, current_user._get_current_object()):
        flash(_("The share code %(code)s is cancelled.", code=share.display), "ok")
    return redirect_to(url_for("licence.share"))
