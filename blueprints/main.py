"""The home page, the language switch, the health check and the receipt checker's script."""

from pathlib import Path

from flask import (
    Blueprint,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_login import current_user

from core import templatehelpers
from core.demo import is_loaded
from core.i18n import LANGUAGES
from core.privacy import no_personal_data
from core.security import local_path
from models import User, db

bp = Blueprint("main", __name__)


@bp.get("/")
@no_personal_data
def home():
    """The four services, introduced; staff see their work first."""
    return render_template("main/home.html")


@bp.post("/lang")
@no_personal_data
def set_language():
    """Switch the interface language (kept in the session; no account needed)."""
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
        if current_user.is_authenticated:
            User.update(locale=lang).where(User.id == current_user.id).execute()
    # Only local paths: an open redirect would let a phishing link borrow our name.
    return redirect(local_path(request.form.get("next")) or url_for("main.home"), code=303)


@bp.get("/healthz")
@no_personal_data
def healthz():
    """For load balancers: the database answers."""
    db.execute_sql("SELECT 1")
    return {"status": "ok"}


@bp.get("/favicon.ico")
@no_personal_data
def favicon():
    """Browsers ask for /favicon.ico where a page names no icon (a PDF, a downloaded receipt):
    the one icon there is, at its static address (which caches keep; this answer they do not,
    so the icon may move)."""
    return redirect(url_for("static", filename="img/favicon.svg"), code=302)


# The standalone receipt checker (standard library only), served by the deployment itself so
# that a person holding a receipt needs nothing from elsewhere to check it.
RECEIPT_SCRIPT = Path(__file__).resolve().parent.parent / "docs" / "verify_receipt.py"


@bp.get("/audit/verify_receipt.py")
@no_personal_data
def receipt_script():
    """docs/verify_receipt.py, as a download."""
    return send_file(RECEIPT_SCRIPT, mimetype="text/x-python", as_attachment=True, max_age=3600)


# Every page says "demo data" while the demo city is loaded (asked only by pages that show the
# banner, so an error page about the database does not touch the database).
templatehelpers.add_when_registered(bp, demo_mode=is_loaded)
