"""The network's HTTP side: the signed published document, the inbox other deployments post
envelopes to, and the administrator's page of peers (城市间联网)."""

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from peewee import fn
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from core.access import get_or_404, role_required
from core.audit import audit
from core.auditlog import gossip, witness  # noqa: F401 - register their inbox handlers
from core.forms import REQUIRED, Form
from core.i18n import colon
from core.network import identity, inbox, outbox, peers
from core.network.claims import claims_of, overlap
from core.privacy import no_personal_data
from core.security import csrf
from models import (
    ADMIN,
    OUTBOX_PENDING,
    PEER_ACTIVE,
    PEER_SUSPENDED,
    OutboxMessage,
    Peer,
    WitnessAlert,
    utcnow,
    write_tx,
)

bp = Blueprint("network", __name__)

MAX_ENVELOPE_BYTES = 512 * 1024


@bp.get("/.well-known/jiaoguan.json")
@no_personal_data
def document():
    """Who this deployment is, signed by each of its keys (JWS, general JSON serialization)."""
    response = jsonify(identity.signed_document())
    response.headers["Access-Control-Allow-Origin"] = "*"  # public, and signed
    return response


@bp.post("/network/inbox")
@csrf.exempt
@no_personal_data
def receive():
    """An envelope from another deployment (a compact JWS): a signed acknowledgement or a signed
    refusal comes back. No session, no cookie, no CSRF token: the signature is the credential."""
    # Refused by its stated length before reading; a chunked body (which states none) is read
    # up to the limit only.
    too_large = (request.content_length or 0) > MAX_ENVELOPE_BYTES
    data = b"" if too_large else request.stream.read(MAX_ENVELOPE_BYTES + 1)
    if too_large or len(data) > MAX_ENVELOPE_BYTES:
        status, token = inbox.refuse("malformed", {}, "too large", stranger=True)
    else:
        status, token = inbox.receive(data.decode("utf-8", "replace").strip())
    return Response(token, status=status, mimetype="application/jose")


class FetchPeerForm(Form):
    """Step one of peering: the other deployment's address."""

    url = StringField(
        _l("Address of the other deployment"),
        validators=[
            DataRequired(REQUIRED),
            Length(max=200),
            Regexp(
                r"\s*https?://[^\s/]+",
                message=_l("Type the whole address, beginning with https://"),
            ),
        ],
        description=_l("Its public base URL, e.g. https://jg.jinan.example"),
    )


class ConfirmPeerForm(Form):
    """Step two: the fingerprint the other city read out, typed back."""

    url = HiddenField()
    kid = HiddenField()
    fingerprint = StringField(
        _l("Fingerprint confirmed with the other city"),
        validators=[DataRequired(REQUIRED), Length(max=120)],
        description=_l(
            "Have the other city's administrator read their fingerprint out to you "
            "(by telephone or in person) and type what you hear: it must be the one "
            "shown above."
        ),
    )


# Why a deployment cannot be added, in the administrator's language (PeerError's reasons);
# the technical detail follows in brackets where it helps (what could not be reached, and how).
PEER_REFUSALS = {
    "unreachable": _l("Its document could not be fetched from that address"),
    "refused": _l("Its document is not correctly signed"),
    "format": _l("Its document is of a format this deployment does not read"),
    "address": _l("Its document names another address than the one typed"),
    "itself": _l("This is this deployment's own address"),
    "claims": _l(
        "It publishes a key prefix, an office or a plate prefix that this deployment or another "
        "peer has, or an inbox away from its address"
    ),
    "fingerprint": _l("The fingerprint typed is not that of its key"),
    "already": _l("It is a peer already"),
    "key_changed": _l("Its key changed since it was shown: fetch its document again"),
    "nothing_pending": _l("No new claims wait"),
}
TECHNICAL = ("unreachable", "refused", "claims")
# Why a document could not be fetched (core.network.http.Unreachable.why), in words (an
# address without its scheme never gets this far: the form refuses it).
UNREACHABLE_WHY = {
    "name": _l("no computer has that name: check the address"),
    "refused": _l("nothing answers at that address: check it, and ask whether it is running"),
    "timeout": _l("it did not answer in time: try again later"),
    "status": _l("the address answered with an error: check it"),
    "answer": _l("what answered there is not a jiaoguan deployment"),
}


def peer_refusal(exc: peers.PeerError) -> str:
    """What to tell the administrator of a PeerError."""
    said = str(PEER_REFUSALS.get(exc.reason, exc.reason))
    if exc.reason == "unreachable" and exc.why in UNREACHABLE_WHY:
        return f"{said}{colon()}{UNREACHABLE_WHY[exc.why]}"
    return f"{said}{colon()}{exc.detail}" if exc.reason in TECHNICAL and exc.detail else said


def peers_context(fetch_form=None) -> dict:
    """What the peers page shows: each peer with its waiting messages, and the overdue alert."""
    waiting = dict(
        OutboxMessage.select(OutboxMessage.recipient, fn.COUNT(OutboxMessage.id))
        .where(OutboxMessage.status == OUTBOX_PENDING)
        .group_by(OutboxMessage.recipient)
        .tuples()
    )
    peers = list(Peer.select().order_by(Peer.base_url))
    active = [p for p in peers if p.is_active]
    own_prefix = (current_app.config.get("LICENCE_KEY_PREFIX") or "").strip().upper()
    prefixes = [claims_of(p.doc).key_prefix for p in active]
    return {
        "peers": peers,
        # Typed checks cross cities by the keys' prefixes (README, "Checks across cities"): a
        # side without one has its licences' typed checks judged where they are made.
        "own_prefix_missing": bool(peers) and not own_prefix,
        "no_prefix": [p for p in active if not p.doc.get("licence_key_prefix")],
        # A peer whose prefix overlaps ours or another peer's (peered before such documents
        # were refused, core.network.claims): its keys cannot be told apart.
        "prefix_clash": [
            p
            for p in active
            if (prefix := claims_of(p.doc).key_prefix)
            and (
                overlap(prefix, own_prefix) or sum(overlap(prefix, other) for other in prefixes) > 1
            )
        ],
        "waiting": waiting,
        # Peers whose newer documents claim otherwise: their claims wait for confirmation.
        "claims_pending": [p for p in peers if p.pending_document],
        "overdue": list(outbox.overdue().limit(50)),
        "witness_alerts": list(WitnessAlert.open().limit(50)),
        "fetch_form": fetch_form or FetchPeerForm(),
        "own_fingerprint": own_fingerprint(),
    }


def own_fingerprint() -> str:
    """This deployment's fingerprint, to read out to another city."""
    from core.network.keys import fingerprint, signing_key

    return fingerprint(signing_key().kid)


@bp.get("/network/peers")
@role_required(ADMIN)
@no_personal_data
def peer_list():
    """The peers, their last contact and waiting messages; alerts; the form to add one."""
    return render_template("network/peers.html", **peers_context())


@bp.post("/network/peers/fetch")
@role_required(ADMIN)
@no_personal_data
def peer_fetch():
    """Fetch a deployment's document and ask for its fingerprint."""
    form = FetchPeerForm()
    if not form.validate_on_submit():
        return render_template("network/peers.html", **peers_context(form)), 422
    try:
        candidate = peers.fetch_candidate(form.url.data)
    except peers.PeerError as exc:
        form.url.errors.append(peer_refusal(exc))
        return render_template("network/peers.html", **peers_context(form)), 422
    confirm = ConfirmPeerForm(formdata=None, url=candidate.url, kid=candidate.kid)
    return render_template("network/confirm_peer.html", candidate=candidate, form=confirm)


@bp.post("/network/peers/confirm")
@role_required(ADMIN)
@no_personal_data
def peer_confirm():
    """Add the peer when the typed fingerprint is its key's; the document is fetched again and
    must still be signed by the key that was shown."""
    form = ConfirmPeerForm()
    candidate = None
    if form.validate_on_submit():
        try:
            candidate = peers.fetch_candidate(form.url.data)
            if candidate.kid != form.kid.data:
                changed = "the deployment's key changed since it was shown"
                raise peers.PeerError("key_changed", changed)
            peers.add_peer(candidate, form.fingerprint.data, added_by=current_user.username)
        except peers.PeerError as exc:
            form.fingerprint.errors.append(_("Not added: %(why)s", why=peer_refusal(exc)))
        else:
            flash(_("%(url)s is now a peer.", url=candidate.url), "ok")
            return redirect(url_for("network.peer_list"), code=303)
    if candidate is None:
        return redirect(url_for("network.peer_list"), code=303)
    return render_template("network/confirm_peer.html", candidate=candidate, form=form), 422


ACTIONS = {
    "suspend": _l("Suspend exchange"),  # not "Suspend": in Chinese that is a licence's 暂扣
    "resume": _l("Resume"),
    "remove": _l("Remove"),
}


@bp.route(
    "/network/peers/<int:peer_id>/<any(suspend, resume, remove):action>", methods=["GET", "POST"]
)
@role_required(ADMIN)
@no_personal_data
def peer_action(peer_id: int, action: str):
    """Suspend, resume or remove a peer, after a confirmation page."""
    peer = get_or_404(Peer, Peer.id == peer_id)
    waiting = (
        OutboxMessage.select()
        .where(OutboxMessage.recipient == peer.base_url, OutboxMessage.status == OUTBOX_PENDING)
        .count()
    )
    form = Form()
    if request.method == "POST" and form.validate_on_submit():
        if action == "remove":
            peers.remove_peer(peer)
        else:
            peers.set_status(peer, PEER_SUSPENDED if action == "suspend" else PEER_ACTIVE)
        flash(_("Done: %(url)s.", url=peer.base_url), "ok")
        return redirect(url_for("network.peer_list"), code=303)
    return render_template(
        "network/peer_action.html",
        peer=peer,
        action=action,
        label=ACTIONS[action],
        waiting=waiting,
        form=form,
    )


@bp.route("/network/peers/<int:peer_id>/claims", methods=["GET", "POST"])
@role_required(ADMIN)
@no_personal_data
def peer_claims(peer_id: int):
    """A peer's new claims (key prefix, offices, inbox) beside the confirmed ones, and their
    confirmation: they route checks and sales to it, so they are taken as at peering."""
    peer = get_or_404(Peer, Peer.id == peer_id)
    form = Form()
    if peer.pending is None:
        flash(_("%(url)s publishes no new claims.", url=peer.base_url), "ok")
        return redirect(url_for("network.peer_list"), code=303)
    error = None
    if request.method == "POST" and form.validate_on_submit():
        try:
            peers.confirm_claims(peer, current_user._get_current_object())
        except peers.PeerError as exc:
            error = peer_refusal(exc)
        else:
            flash(_("The claims of %(url)s are confirmed.", url=peer.base_url), "ok")
            return redirect(url_for("network.peer_list"), code=303)
    rows = [
        (label, claim_text(field, peer.doc), claim_text(field, peer.pending))
        for field, label in CLAIM_LABELS.items()
    ]
    status = 422 if error else 200
    return render_template(
        "network/peer_claims.html", peer=peer, rows=rows, form=form, error=error
    ), status


CLAIM_LABELS = {
    "licence_key_prefix": _l("Key prefix"),
    "offices": _l("Offices and plate prefixes"),
    "inbox": _l("Inbox"),
}


def claim_text(field: str, document: dict) -> str:
    """One claim of a document as the confirmation page shows it."""
    value = document.get(field)
    if field == "offices":
        offices = [o for o in value or [] if isinstance(o, dict)]
        return _(", ").join(f"{o.get('code', '')} {o.get('plate_prefix', '')}" for o in offices)
    return str(value or "–")


@bp.get("/network/witness-alerts/<int:alert_id>/evidence.json")
@role_required(ADMIN)
@no_personal_data
def alert_evidence(alert_id: int):
    """The signed notes an alert rests on, as a file to hand to the other cities: they check
    it with docs/verify_receipt.py (served at /audit/verify_receipt.py) and the log's key."""
    alert = get_or_404(WitnessAlert, WitnessAlert.id == alert_id, WitnessAlert.evidence != "")
    response = Response(alert.evidence, mimetype="application/json")
    name = f"jiaoguan-evidence-{alert.id}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.post("/network/witness-alerts/<int:alert_id>/acknowledge")
@role_required(ADMIN)
@no_personal_data
def alert_acknowledge(alert_id: int):
    """Mark a witnessing alert as seen and handled (audited): it leaves the audit and peers
    pages. The same inconsistency seen again later raises a new one."""
    alert = get_or_404(WitnessAlert, WitnessAlert.id == alert_id)
    if Form().validate_on_submit():
        with write_tx():
            done = (
                WitnessAlert.update(acknowledged_at=utcnow())
                .where(WitnessAlert.id == alert.id, WitnessAlert.acknowledged_at.is_null())
                .execute()
            )
            if done:
                audit(
                    "audit.alert_acknowledged",
                    alert,
                    detail={"peer": alert.peer_url, "reason": alert.reason, "side": alert.side},
                )
        flash(_("Alert acknowledged."), "ok")
    back = "staff.audit_search" if request.form.get("back") == "audit" else "network.peer_list"
    return redirect(url_for(back), code=303)
