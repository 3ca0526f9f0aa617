"""The standalone verifier (核验): what an inspector opens on a phone to check a licence code
or a truck pass.

Its own rules (docs/DESIGN.md#the-verifier): no script at all (CSP script-src 'none'), nothing
cached or indexed, no referrer, no session writes (its forms are GET forms, so no CSRF token and
no cookie is needed), a few kilobytes per page, and a machine-readable verdict in a meta tag.
"""

import io

from flask import Blueprint, abort, current_app, jsonify, render_template, request, send_file
from flask_babel import LazyString, force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup
from werkzeug.formparser import parse_form_data

from blueprints.licence import checks, relay, sharing
from blueprints.licence.labels import SHARE_VERDICT_LABELS, labels
from blueprints.truckpass import service as truckpass_service
from blueprints.truckpass.labels import labels as truckpass_labels
from core import fixedwords
from core.audit import audit, client_net
from core.i18n import DEFAULT_LOCALE, LANGUAGES, language_context
from core.privacy import covered_by, no_personal_data, nothing_to_audit, reads_personal_data
from core.qrphoto import PHOTO_MAX_BYTES, UnreadablePhoto, read_qr_texts
from core.security import csrf
from core.uploads import absolute_path
from models import (
    POLICE_INSPECTOR,
    LicenceRecord,
    RefusedCheck,
    Throttle,
    TruckPass,
    utcnow,
    write_tx,
)
from rules import totp
from rules.clock import beijing_now
from rules.validators import ValidationError, normalize_plate

bp = Blueprint("verify", __name__)

VERIFY_CSP = (
    "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PHOTO_TOKEN_SECONDS = 300


@bp.after_request
def _verifier_headers(response):
    response.headers["Content-Security-Policy"] = VERIFY_CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


# Verdicts that judge neither way: the check could not be made (yet), so neither tick nor cross.
# Nothing judged of the licence: a pause, an issuer that could not be asked, or a code that
# served already or ran out (the licence may well be valid: the driver shows the next code).
# A question mark, not a red cross, which at the roadside reads as a forged licence. So is a
# truck's pass valid now but asked of in no zone: it covers its own zones only.
UNSETTLED_VERDICTS = frozenset(
    {"throttled", "undetermined", "used-code", "expired-code", "valid-in-its-zones"}
)


def verdict_tone(verdict: str) -> str:
    """How a verdict looks: "ok" (a tick, green) only for a valid licence or pass, "unknown"
    (a question mark) when nothing was judged of it, else "bad" (a cross, red)."""
    if verdict == "valid":
        return "ok"
    return "unknown" if verdict in UNSETTLED_VERDICTS else "bad"


TONE_SYMBOLS = {"ok": "✓", "bad": "✗", "unknown": "?"}
# Filled with % (which escapes each value as Markup.format does, at two thirds of its time).
VERDICT_HEADING = Markup(
    '<h1 class="verdict %(tone)s"><span aria-hidden="true">%(symbol)s</span> %(label)s</h1>'
)


@bp.app_template_global()
def verdict_heading(verdict: str, label) -> Markup:
    """A verdict as the page's heading: a symbol as well as a colour (and words), so it reads
    the same in forced colours, in grey and to a screen reader (the label escaped).

    A template global rather than a macro: importing a macro made Jinja compare the page's
    globals with the macro template's on every render, which cost a verdict page as much as
    the rest of its verdict section, and the page is drawn twice (render_page)."""
    tone = verdict_tone(verdict)
    return VERDICT_HEADING % {"tone": tone, "symbol": TONE_SYMBOLS[tone], "label": label}


@bp.context_processor
def _labels():
    # `hl`: the language a page's links carry on, when the reader chose one (else None, and
    # the next page follows the browser's languages again); render_page sets it for a copy.
    chosen = request.args.get("hl")
    return {**labels(), **truckpass_labels(), "hl": chosen if chosen in LANGUAGES else None}


def render_page(template: str, **context) -> str:
    """A result page in the reader's language with a copy in the other one (#zh / #en).

    The language link of a result page moves to that copy inside the page: following a link
    that asked again would run the check again, and a once-only code would turn from "valid"
    to "already used" in front of the inspector.

    Both copies are rendered as Flask's render_template would, but the context processors run
    once: their helpers are the same in both languages, and the language's own names (the
    words, current_locale) are given again for the copy (core.i18n.language_context). Each copy
    is drawn by its language's environment, its fixed words already in the template's code
    (core.fixedwords), and with the label tables already in words (label_words). Flask's
    template signals are not sent for these pages (nothing listens to them).
    """
    here = str(get_locale() or DEFAULT_LOCALE)
    other = next(code for code in LANGUAGES if code != here)
    app = current_app._get_current_object()
    app.update_template_context(context)
    with force_locale(other):
        alt = _copy(app, other, template, context, body_only=True, hl=other, **language_context())
    # Markup: the copy is our own template's output, escaped as it was written.
    return _copy(app, here, template, context, alt=Markup(alt))  # noqa: S704


def _copy(app, locale: str, template: str, context: dict, **names) -> str:
    """One language's copy of a result page: the label tables given to it in that language's
    words (label_words), the rest as given."""
    words = label_words(app, locale)
    tables = {}
    for name in LABEL_TABLES:  # a view may give a table of its own under one of these names
        table = words.get(id(context.get(name)))
        if table is not None:
            tables[name] = table
    page = fixedwords.environment(app, locale).get_template(template)
    return page.render(context, **tables, **names)


def _is_label_table(value) -> bool:
    return isinstance(value, dict) and all(isinstance(v, LazyString) for v in value.values())


# The verifier's label tables (module constants, each the same object on every page), by the
# names the pages read them under.
LABEL_TABLES = {
    name: value
    for name, value in {**labels(), **truckpass_labels()}.items()
    if _is_label_table(value)
}


def label_words(app, locale: str) -> dict[int, dict]:
    """The verifier's label tables in `locale`'s words, by the identity of each table: put into
    words once per process rather than a lazy string at a time on every page (each one a
    catalogue lookup). A table made for one page is not among them and stays lazy."""
    made = app.extensions.setdefault("verify_label_words", {})
    words = made.get(locale)
    if words is None:
        with force_locale(locale):
            words = {
                id(table): {key: str(label) for key, label in table.items()}
                for table in (*LABEL_TABLES.values(), SHARE_VERDICT_LABELS)
            }
        made[locale] = words
    return words


def _photo_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="verify-photo")


def checker():
    """The logged-in staff member checking, or None for an anonymous phone."""
    user = current_user._get_current_object()
    return user if user.is_authenticated and user.is_staff else None


def is_inspector() -> bool:
    """A logged-in police inspector sees the full licence number and the points."""
    user = current_user._get_current_object()
    return user.is_authenticated and user.has_role(POLICE_INSPECTOR)


def _nothing_read_here(result) -> None:
    """A refusal shows nobody's data, and a relayed check is logged by relay.relay_check (as
    licence.check_relayed): neither owes a licence.check row here."""
    if getattr(result, "record", None) is None or isinstance(result, relay.RelayedResult):
        nothing_to_audit()


def show_result(result, via: str):
    """The verdict page: large verdict, and the licence's data when the code was genuine (for
    another city's licence, what its issuer sent; its photo stays there)."""
    _nothing_read_here(result)
    photo_url = None
    if result.genuine and result.record.photo and isinstance(result, checks.CheckResult):
        token = _photo_signer().dumps(result.record.id)
        photo_url = f"/v/photo/{token}"
    return render_page(
        "verify/result.html",
        result=result,
        record=result.record,
        via=via,
        inspector=is_inspector(),
        photo_url=photo_url,
        issuer=getattr(result, "issuer", None),
    )


def check_qr_target(target, via: str):
    """Check a licence QR link: ours here, a peer's at its issuer."""
    peer, handle, code = target
    if peer is not None:
        check = {"via": via, "handle": handle, "code": code}
        return show_result(relay.relay_check(peer, check, checker()), via)
    result = checks.check_code(handle=handle, code=code, via=via, checker=checker())
    return show_result(result, via)


@bp.get("/verify")
@no_personal_data
def form():
    """The form to type a licence key and code, or to photograph the QR (works in any phone or
    text browser, with no script)."""
    return render_template("verify/form.html", verdict=None)


@bp.get("/verify/check")
@reads_personal_data("licence.check")
def typed():
    """A typed check: the 8-character licence key and the 6-digit code; or a licence QR link
    pasted into the key field (of this city or another)."""
    key, code = request.args.get("key", ""), request.args.get("code", "")
    target = relay.qr_target(key)
    if target is not None:
        # The QR's own long code is checked: the holder's log says "QR scan", not "Typed code".
        return check_qr_target(target, "qr")
    if not key.strip() or not code.strip():
        return render_template("verify/form.html", verdict=None, missing=True), 400
    code = totp.typed_digits(code)  # "123 456" as the page shows it, or full-width digits
    if not totp.well_formed(code):
        # Not a code at all: said so, and no licence is looked up or counted.
        nothing_to_audit()
        return render_template("verify/form.html", verdict=None, malformed=True), 400
    issuer = relay.issuer_of_key(key)
    if issuer is not None:
        check = {"via": "typed", "key": key.strip()[:20], "code": code}
        return show_result(relay.relay_check(issuer, check, checker()), "typed")
    result = checks.check_code(typing_key=key, code=code, via="typed", checker=checker())
    return show_result(result, "typed")


PREFETCH_HEADERS = (("Sec-Purpose", "prefetch"), ("Purpose", "prefetch"), ("X-Moz", "prefetch"))


def is_prefetch() -> bool:
    """A HEAD request or a browser's prefetch: nobody is looking at the answer yet."""
    if request.method == "HEAD":
        return True
    return any(value in request.headers.get(name, "").lower() for name, value in PREFETCH_HEADERS)


# The verifier's addresses that check something: each use counts (a once-only code is used up,
# the holder's log and the audit log gain a row, the guessing counters move).
CHECKING_ENDPOINTS = frozenset(
    f"verify.{name}"
    for name in ("qr", "typed", "share", "truck_pass", "truck_by_plate", "api_check")
)


@bp.before_request
def _unseen_checks_nothing():
    """A HEAD request or a browser's prefetch (a link preview, a speculative load) of a checking
    address is answered with nothing, before the view: nobody is looking, so no code is used
    up and no log says that someone checked."""
    if request.endpoint in CHECKING_ENDPOINTS and is_prefetch():
        return "", 204
    return None


@bp.get("/v/<handle>/<code>")
@reads_personal_data("licence.check")
def qr(handle: str, code: str):
    """The QR's address: checks the code in it (once: a prefetch checks nothing, above)."""
    if len(handle) > 32 or len(code) > 32:
        abort(404)
    result = checks.check_code(handle=handle, code=code, via="qr", checker=checker())
    return show_result(result, "qr")


def _in_memory(*_args, **_kwargs):
    """Uploaded parts stay in memory (Werkzeug would spool big ones to a temporary file)."""
    return io.BytesIO()


# Photos decoded for one client network in PHOTO_WINDOW: a busy checkpoint photographs a few
# licences a minute; each decoding costs up to about a second of CPU, so a stranger posting
# photos in a loop is stopped before the workers inspectors rely on are all decoding.
PHOTOS_PER_NETWORK = 60
PHOTO_WINDOW = 600


def _photo_counted() -> bool:
    """Count one photo of this client network; False when its limit is reached."""
    key = f"verify-photo:{client_net()}"
    with write_tx():
        if Throttle.locked_until_for(key, lock=True):
            return False
        Throttle.register_failure(key, limit=PHOTOS_PER_NETWORK, window=PHOTO_WINDOW)
    return True


@bp.post("/verify/photo")
@csrf.exempt  # no session and no cookie here (see photo_check); SameSite=Lax guards the rest
@reads_personal_data("licence.check")
def photo_check():
    """A photo of the driver's QR, taken in the verifier page: decoded here and checked.

    Exempt from CSRF like the verifier's GET forms: the page may not set a cookie, so there is
    no session to bind a token to, and a cross-site post carries no login (SameSite=Lax) and
    can do no more than opening the QR's own URL. The photo is read into memory only, decoded
    and dropped: never stored and never logged.
    """
    if (request.content_length or 0) > PHOTO_MAX_BYTES + 8192:
        return render_template("verify/form.html", verdict=None, photo_error="too-large"), 413
    if not _photo_counted():
        return render_template("verify/form.html", verdict=None, photo_error="too-many"), 429
    _stream, _form, files = parse_form_data(
        request.environ,
        stream_factory=_in_memory,
        max_content_length=PHOTO_MAX_BYTES + 8192,
        silent=True,
    )
    upload = files.get("photo")
    data = upload.stream.getvalue() if upload else b""
    if not data:
        return render_template("verify/form.html", verdict=None, photo_error="missing"), 400
    try:
        texts = read_qr_texts(data)
    except UnreadablePhoto as exc:
        return render_template("verify/form.html", verdict=None, photo_error=exc.reason), 422
    for text in texts:
        target = relay.qr_target(text)
        if target is not None:
            return check_qr_target(target, "photo")
    return render_template("verify/form.html", verdict=None, photo_error="not-licence"), 422


@bp.get("/v/photo/<token>")
@covered_by("licence.check")
def photo(token: str):
    """The photo shown with a genuine verdict (a signed link that lasts a few minutes)."""
    try:
        record_id = _photo_signer().loads(token, max_age=PHOTO_TOKEN_SECONDS)
    except BadSignature:
        abort(404)
    record = LicenceRecord.get_or_none(LicenceRecord.id == record_id)
    if record is None or not record.photo:
        abort(404)
    return send_file(absolute_path(record.photo), max_age=0)


@bp.get("/verify/share")
@reads_personal_data("licence.check")
def share():
    """A firm's check with a share code and the last 6 characters of the licence number (a
    share code of another city is checked at its issuer)."""
    code, last6 = request.args.get("code", ""), request.args.get("last6", "")
    if not code.strip() or not last6.strip():
        nothing_to_audit()
        # Sent with a field left empty (not just opened): said so.
        missing = "code" in request.args or "last6" in request.args
        return render_template("verify/share.html", result=None, missing=missing), (
            400 if missing else 200
        )
    result = share_result(code, last6, request.args.get("firm", ""))
    _nothing_read_here(result)
    # The share code's own words for its verdicts (labels.SHARE_VERDICT_LABELS).
    return render_page(
        "verify/share.html",
        result=result,
        record=result.record,
        VERDICT_LABELS=SHARE_VERDICT_LABELS,
        issuer=getattr(result, "issuer", None),
    )


def share_result(code: str, last6: str, firm: str):
    """A share code's verdict: here, or at the peer that issued it."""
    issuer = relay.issuer_of_share(code)
    if issuer is not None:
        check = {"via": "share", "share": code.strip()[:20], "last6": last6[:20]}
        check["firm"] = firm[:100]
        return relay.relay_check(issuer, check, None)
    return sharing.check_share_code(code, last6, firm)


def show_pass(verdict: str, truck_pass, plate: str = "", zone=None, choose_zones=None):
    """The truck-pass verdict page: the same no-script rules and meta verdict. Asked by plate
    in any zone, a pass found comes with `choose_zones`, to ask again in the zone the truck
    is in (the pass covers its own zones only): those of them that restrict its class."""
    zones = truckpass_service.zones_of(truck_pass) if truck_pass else []
    audit(
        "truck_pass.check",
        truck_pass,
        result=verdict,
        detail={"plate": plate or (truck_pass.plate if truck_pass else "")},
    )
    return render_page(
        "verify/pass.html",
        verdict=verdict,
        truck_pass=truck_pass,
        zones=zones,
        plate=plate,
        zone=zone,
        choose_zones=(
            truckpass_service.zones_restricting(
                choose_zones,
                truckpass_service.classes_of(truck_pass.truck_class, truck_pass.vehicle),
            )
            if choose_zones and truck_pass is not None and zone is None
            else None
        ),
        checked_at=utcnow(),
    )


def refuse_pass(truck_pass, plate: str = ""):
    """A truck-pass check refused by the client address's lock (too many failed look-ups):
    nothing of the pass is shown, and the refusal is counted against the pass asked about
    (RefusedCheck, one upsert) rather than audited one row each; the window's first refusal
    is audited, so the log shows that refusals started."""
    nothing_to_audit()
    if truck_pass is not None:
        with write_tx():
            if RefusedCheck.count_one("truck_pass", truck_pass.id) == 1:
                audit(
                    "truck_pass.check",
                    truck_pass,
                    result="throttled",
                    detail={"plate": plate or truck_pass.plate},
                )
    return render_page(
        "verify/pass.html",
        verdict="throttled",
        lock="client",
        truck_pass=None,
        zones=[],
        plate="",
        zone=None,
        checked_at=utcnow(),
    )


@bp.get("/p/<handle>")
@reads_personal_data("truck_pass.check")
def truck_pass(handle: str):
    """A truck pass's QR address: is this pass valid at this moment? An unknown address counts
    as a failed look-up of this client (its handle is a secret: unknown ones are guesses)."""
    found = TruckPass.get_or_none(TruckPass.handle == handle[:32])
    if checks.client_locked():
        return refuse_pass(found)
    if found is None:
        if not checks.count_failed_lookup():
            return refuse_pass(None)
        return show_pass("invalid", None)
    return show_pass(found.verdict_at(beijing_now()), found)


@bp.get("/verify/truck")
@reads_personal_data("truck_pass.check")
def truck_by_plate():
    """ "Has truck 鲁B12345 a pass for zone Y now?", asked by plate (and optionally zone)."""
    zones = list(truckpass_service.active_zones())
    raw_plate = request.args.get("plate", "")
    if not raw_plate.strip():
        nothing_to_audit()
        if "plate" in request.args:  # sent empty, not just opened
            error = _("Enter the plate number.")
            return render_template("verify/truck.html", zones=zones, error=error), 400
        return render_template("verify/truck.html", zones=zones, error=None)
    try:
        plate = normalize_plate(raw_plate)
    except ValidationError as exc:
        return render_template("verify/truck.html", zones=zones, error=exc.message), 400
    zone = None
    if request.args.get("zone"):
        zone = next((z for z in zones if str(z.id) == request.args["zone"]), None)
        if zone is None:  # not a zone of the list (an address typed by hand, a zone ended)
            error = _("Choose the zone from the list.")
            page = render_template(
                "verify/truck.html", zones=zones, error=error, error_field="zone"
            )
            return page, 400
    verdict, found = truckpass_service.plate_verdict(
        plate, zone.id if zone else None, beijing_now()
    )
    if verdict == "valid" and zone is None:
        # A pass covers its own zones only: no tick before the zone the truck is in is known.
        verdict = "valid-in-its-zones"
    if checks.client_locked():
        return refuse_pass(found, plate)
    # A plate without a pass, asked by nobody logged in, counts as a failed look-up of this
    # client: a stranger walking through plates is stopped (and adds no row per plate to the
    # audit log); an inspector checking trucks on the road is not.
    if verdict == "no-pass" and checker() is None and not checks.count_failed_lookup():
        return refuse_pass(None, plate)
    return show_pass(verdict, found, plate=plate, zone=zone, choose_zones=zones)


@bp.get("/api/v1/licence-check")
@reads_personal_data("licence.check")
def api_check():
    """The same verdict for integrations, signed by the issuing deployment (README, "Checks
    across cities"): ?handle=&code=, ?key=&code=, ?url= (a QR link), or ?share=&last6=&firm=."""
    args = request.args
    if args.get("share"):
        result = share_result(args["share"], args.get("last6", ""), args.get("firm", ""))
        return _api_answer(result, "share")
    target = relay.qr_target(args.get("url", ""))
    if target is not None:
        peer, handle, code = target
        args = {"handle": handle, "code": code}
        if peer is not None:
            return _api_answer(relay.relay_check(peer, {"via": "json", **args}, checker()), "json")
    if not args.get("code") or not (args.get("handle") or args.get("key")):
        return jsonify(error="give code and handle, key or url; or share and last6"), 400
    issuer = relay.issuer_of_key(args["key"]) if args.get("key") else None
    if issuer is not None:
        check = {"via": "json", "key": args["key"][:20], "code": args["code"][:32]}
        return _api_answer(relay.relay_check(issuer, check, checker()), "json")
    result = checks.check_code(
        handle=args.get("handle"),
        typing_key=args.get("key"),
        code=args["code"],
        via="json",
        checker=checker(),
    )
    return _api_answer(result, "json")


def _api_answer(result, via: str):
    """The JSON answer, with the issuer's signed statement of it in the Jiaoguan-Statement
    header: a compact JWS a firm keeps as proof and verifies against the issuer's published
    keys (README, "Checks across cities")."""
    _nothing_read_here(result)
    if isinstance(result, relay.RelayedResult):
        response = jsonify(relay.api_body(result))
        if result.statement:
            response.headers[relay.STATEMENT_HEADER] = result.statement
        return response
    token, licence = relay.local_statement(result, via, checker() if via != "share" else None)
    body = {"verdict": result.verdict, "checked_at": result.checked_at.isoformat() + "Z"}
    if licence:
        body["licence"] = licence
    response = jsonify(body)
    response.headers[relay.STATEMENT_HEADER] = token
    return response
