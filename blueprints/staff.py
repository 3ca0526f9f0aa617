"""Staff pages: the staff landing page and administration (accounts, offices, audit search)."""

import datetime as dt
import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from core.access import ROLE_LABELS, get_or_404, role_required
from core.audit import (
    ATTEMPT_ACTIONS,
    OBJECT_LABELS,
    actions_named,
    audit,
    note_of,
    object_label,
    reason_of,
)
from core.auditlog.witness import latest_cosigned
from core.confirm import confirmation_page, confirmed
from core.forms import REQUIRED, CheckboxesField, Form, StrongPassword, choices
from core.htmx import is_htmx, render
from core.i18n import aside
from core.identity import COUNTER_ROLES
from core.measures import objects_numbered
from core.notices import kind, notify
from core.paging import page_number
from core.passwords import hash_password
from core.privacy import no_personal_data, nothing_to_audit, reads_personal_data
from models import ADMIN, STAFF_ROLES, AuditEvent, Office, Peer, User, UserRole, write_tx
from models.people import OFFICE_ROLES, roles_refused
from rules.clock import BEIJING_OFFSET

bp = Blueprint("staff", __name__, url_prefix="/staff")

AUDIT_PAGE = 50
AUDIT_FILTERS = ("actor", "action", "object_id", "since", "until")
# An actor as the audit page writes a staff member: "name (user name)", in either language's
# brackets; and how many people whose names start with the words an actor search takes.
SHOWN_ACTOR = re.compile(r".*?[(（]\s*([^()（）]+?)\s*[)）]")
ACTOR_NAMES = 200


class PlaceForm(Form):
    """Where a staff member works and what they do: set at creation, changed later."""

    office = SelectField(_l("Office"), coerce=int)
    roles = CheckboxesField(_l("Roles"), validators=[DataRequired(REQUIRED)])

    def prepare(self) -> "PlaceForm":
        """This city's offices (another city's are listed for archive exchange, not staffed
        from here) and the roles, in the reader's language."""
        locale = str(get_locale() or "zh")
        local = Office.select().where(Office.is_local == True).order_by(Office.code)  # noqa: E712
        self.office.choices = choices((o.id, o.display_name(locale)) for o in local)
        self.roles.choices = choices((r, ROLE_LABELS[r]) for r in STAFF_ROLES)
        return self

    def validate_roles(self, field):
        """The roles the chosen office's kind holds, and never administration with a counter."""
        office = Office.get_or_none(Office.id == self.office.data)
        why = roles_refused(office.kind, field.data or ()) if office else None
        if why == "office":
            held = sorted(set(field.data) - OFFICE_ROLES.get(office.kind, frozenset()))
            raise ValidationError(
                _(
                    "Not held at this office: %(roles)s.",
                    roles=_(", ").join(str(ROLE_LABELS[r]) for r in held),
                )
            )
        if why == "admin":
            raise ValidationError(
                _(
                    "An administrator cannot also be a licence or vehicle clerk: one who creates "
                    "accounts would then confirm counter acts with a second clerk of their own "
                    "making."
                )
            )


class StaffForm(PlaceForm):
    """An administrator creates a staff account; its holder enrols 2FA at first login."""

    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(REQUIRED),
            Regexp(
                r"^[a-z][a-z0-9._-]{2,39}$", message=_l("3-40 lower-case letters, digits, . _ -")
            ),
        ],
    )
    real_name = StringField(_l("Real name"), validators=[DataRequired(REQUIRED), Length(2, 30)])
    password = PasswordField(
        _l("Initial password"), validators=[DataRequired(REQUIRED), StrongPassword("username")]
    )


def _place_words(params: dict) -> dict:
    """The office and the roles of a change, in the reader's language."""
    office = Office.get_or_none(Office.code == params.get("office_code"))
    locale = str(get_locale() or "zh")
    roles = [r for r in str(params.get("role_codes", "")).split(",") if r]
    return {
        **params,
        "office": office.display_name(locale) if office else params.get("office_code", ""),
        "roles": _(", ").join(str(ROLE_LABELS.get(r, r)) for r in roles),
    }


kind(
    "staff.place_changed",
    title=_l("Your office or roles were changed"),
    what=_l("An administrator changed your account: %(office)s; %(roles)s."),
    prepare=_place_words,
    next_step=_l(
        "The pages of your roles are on your work page; ask the administrator if this is not right."
    ),
    endpoint="staff.index",
)


@bp.get("/")
@role_required(*STAFF_ROLES)
@no_personal_data
def index():
    """Where staff land after login: the work their roles open to them."""
    return render_template("staff/index.html", role_labels=ROLE_LABELS, COUNTER_ROLES=COUNTER_ROLES)


@bp.route("/accounts", methods=["GET", "POST"])
@role_required(ADMIN)
@reads_personal_data("staff.list")
def accounts():
    """List staff accounts and create new ones."""
    form = StaffForm().prepare()
    if form.validate_on_submit():
        if User.get_or_none(User.username == form.username.data):
            form.username.errors.append(_("This username is taken."))
        else:
            with write_tx():
                user = User.create(
                    is_staff=True,
                    username=form.username.data,
                    real_name=form.real_name.data.strip(),
                    office=form.office.data,
                    password_hash=hash_password(form.password.data),
                )
                user.set_roles(form.roles.data)
                audit(
                    "staff.create",
                    user,
                    detail={"roles": sorted(form.roles.data), "office": user.office.code},
                )
            flash(
                _(
                    "Account %(u)s created. Its holder sets up an authenticator at first login.",
                    u=user.username,
                ),
                "ok",
            )
            return redirect(url_for("staff.accounts"), code=303)
    staff = (
        User.select(User, Office)
        .join(Office)
        .where(User.is_staff == True)  # noqa: E712
        .order_by(User.username)
    )
    roles = {}
    for row in UserRole.select().join(User).where(User.is_staff == True):  # noqa: E712
        roles.setdefault(row.user_id, []).append(str(ROLE_LABELS.get(row.role, row.role)))
    status = 422 if form.errors else 200
    audit("staff.list")
    return render_template("staff/accounts.html", form=form, staff=staff, roles=roles), status


@bp.route("/accounts/<int:user_id>", methods=["GET", "POST"])
@role_required(ADMIN)
@reads_personal_data("staff.view")
def account(user_id: int):
    """Change where a staff member works and what they do (not one's own: an administrator
    does not take their own administration away by a slip, nor give themselves a counter)."""
    user = get_or_404(User, (User.id == user_id) & (User.is_staff == True))  # noqa: E712
    if user.id == current_user.id:
        nothing_to_audit()
        flash(_("You cannot change your own account here."), "warn")
        return redirect(url_for("staff.accounts"), code=303)
    form = PlaceForm().prepare()
    if request.method == "GET":
        form.office.data, form.roles.data = user.office_id, sorted(user.roles)
    if form.validate_on_submit():
        before = {"office": user.office.code if user.office_id else "", "roles": sorted(user.roles)}
        with write_tx():
            User.update(office=form.office.data).where(User.id == user.id).execute()
            user.set_roles(form.roles.data)
            office = Office.get_by_id(form.office.data)
            after = {"office": office.code, "roles": sorted(form.roles.data)}
            if after != before:
                audit("staff.update", user, detail={"before": before, "after": after})
                notify(
                    user,
                    "staff.place_changed",
                    office_code=office.code,
                    role_codes=",".join(after["roles"]),
                )
        nothing_to_audit()  # the change is audited; nobody's data was shown
        flash(_("%(u)s's office and roles are saved.", u=user.username), "ok")
        return redirect(url_for("staff.accounts"), code=303)
    audit("staff.view", user)
    status = 422 if form.errors else 200
    return render_template("staff/account.html", form=form, user=user), status


@bp.post("/accounts/<int:user_id>/<any(deactivate, activate, reset_totp):action>")
@role_required(ADMIN)
@no_personal_data
def account_action(user_id: int, action: str):
    """Deactivate or reactivate a staff account, or reset its authenticator."""
    user = get_or_404(User, (User.id == user_id) & (User.is_staff == True))  # noqa: E712
    if user.id == current_user.id:
        flash(_("You cannot change your own account here."), "warn")
        return redirect(url_for("staff.accounts"), code=303)
    if action != "activate" and not confirmed():
        who = user.real_name + aside(user.username) if user.real_name else user.username
        question = {
            "deactivate": (
                _("Deactivate the account?"),
                _(
                    "%(u)s is logged out at once and cannot log in until the account is "
                    "activated again.",
                    u=who,
                ),
                _("Yes, deactivate"),
            ),
            "reset_totp": (
                _("Reset the authenticator?"),
                _(
                    "%(u)s is logged out at once, and sets up a new authenticator at the next "
                    "login: the codes of the old one stop working.",
                    u=who,
                ),
                _("Yes, reset the authenticator"),
            ),
        }[action]
        title, message, button = question
        return confirmation_page(
            title=title,
            message=message,
            back=url_for("staff.accounts"),
            button=button,
            irreversible=action == "reset_totp",  # activation undoes a deactivation
        )
    with write_tx():
        if action == "reset_totp":
            User.update(totp_secret=None, totp_enrolled_at=None, totp_last_step=None).where(
                User.id == user.id
            ).execute()
        else:
            User.update(active=(action == "activate")).where(User.id == user.id).execute()
        user.rotate_session_token()  # whatever changed, their open sessions end now
        audit(f"staff.{action}", user)
    done = {
        "deactivate": _("%(u)s is deactivated and logged out.", u=user.username),
        "activate": _("%(u)s can log in again.", u=user.username),
        "reset_totp": _("%(u)s sets up a new authenticator at the next login.", u=user.username),
    }
    flash(done[action], "ok")
    return redirect(url_for("staff.accounts"), code=303)


@bp.get("/offices")
@role_required(ADMIN)
@no_personal_data
def offices():
    """The offices of this deployment and of the other cities it exchanges archives with: those
    it keeps a copy of (from a transfer) and those its peers publish."""
    offices = list(Office.select())
    known = {o.code for o in offices}
    for peer in Peer.select():
        for ref in peer.doc.get("offices") or []:
            if isinstance(ref, dict) and str(ref.get("code", "")) not in known:
                offices.append(published_office(ref))
                known.add(offices[-1].code)
    offices.sort(key=lambda o: (not o.is_local, o.code))
    return render_template("staff/offices.html", offices=offices)


def published_office(ref: dict) -> Office:
    """An office as a peer's document publishes it, to be shown (never saved)."""
    fields = ("code", "name", "name_en", "kind", "city", "city_en", "plate_prefix")
    return Office(is_local=False, **{f: str(ref.get(f) or "")[:100] for f in fields})


def parse_day(value: str | None) -> dt.date | None:
    """A YYYY-MM-DD filter value, or None when empty or malformed."""
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def date_range_error(since: str | None, until: str | None) -> str | None:
    """What is wrong with the search's days, said rather than silently dropped (a malformed day
    would widen the search to the whole log, a reversed range find nothing)."""
    if (since and parse_day(since) is None) or (until and parse_day(until) is None):
        return _("Enter a date (YYYY-MM-DD).")
    if since and until and parse_day(until) < parse_day(since):
        return _("The end of the range is before its start.")
    return None


@bp.get("/audit")
@role_required(ADMIN)
@reads_personal_data("audit.search")
def audit_search():
    """Search the audit log by actor, action, object and day (Beijing days, stored UTC)."""
    args = request.args
    query = AuditEvent.select().order_by(AuditEvent.id.desc())
    date_error = date_range_error(args.get("since"), args.get("until"))
    if date_error:
        query = query.where(False)
    if actor := args.get("actor", "").strip()[:60]:
        # As the rows show actors: a person's name (or its start), a staff member's user name,
        # both as the column writes them ("刘洋 (truckpass)"), a peer's address. A name found
        # whole always counts; ACTOR_NAMES more whose names start with the words.
        if shown := SHOWN_ACTOR.fullmatch(actor):
            actor = shown.group(1).strip()
        named = User.select(User.id).where(User.real_name == actor)
        starting = User.select(User.id).where(User.real_name.startswith(actor)).limit(ACTOR_NAMES)
        query = query.where(
            (AuditEvent.actor == actor)
            | AuditEvent.actor_id.in_(named)
            | AuditEvent.actor_id.in_(starting)
        )
    if args.get("action"):
        # The words a row shows ("revoked", "撤销"), or the start of the stored code ("login.").
        action = args["action"].strip()
        query = query.where(
            AuditEvent.action.startswith(action) | AuditEvent.action.in_(actions_named(action))
        )
    if args.get("object_id"):
        # An id, or the object as the column writes it ("Truck pass 9", "通行码 9").
        wanted = args["object_id"].strip()[:80]
        kind, _sep, number = wanted.rpartition(" ")
        types = [
            t for t, label in OBJECT_LABELS.items() if str(label).casefold() == kind.casefold()
        ]
        if types:
            query = query.where(
                AuditEvent.object_type.in_(types) & (AuditEvent.object_id == number)
            )
        else:
            # An id as stored, or a number people quote (ZY000007, an accident case's number):
            # the rows about the objects it names, whatever their ids here.
            named = AuditEvent.object_id == wanted
            for object_type, object_id in objects_numbered(wanted):
                named |= (AuditEvent.object_type == object_type) & (
                    AuditEvent.object_id == object_id
                )
            query = query.where(named)
    china = BEIJING_OFFSET
    if day := parse_day(args.get("since")):
        query = query.where(AuditEvent.at >= dt.datetime.combine(day, dt.time()) - china)
    if day := parse_day(args.get("until")):
        query = query.where(
            AuditEvent.at < dt.datetime.combine(day + dt.timedelta(days=1), dt.time()) - china
        )
    page = page_number()
    rows = list(query.paginate(page, AUDIT_PAGE + 1))
    # The log names people and what was done to their data: reading it is itself audited.
    filters = {k: v[:60] for k, v in args.items() if k in AUDIT_FILTERS and v}
    audit("audit.search", detail={**filters, "page": page})
    # Accounts named by their holders (one query for the page), never as "User 9"; a citizen
    # acting is named too, not by the mobile number the row keeps (staff by their user name).
    user_ids = {int(e.object_id) for e in rows if e.object_type == "User" and e.object_id.isdigit()}
    user_ids |= {e.actor_id for e in rows if e.actor_id is not None}
    accounts = list(User.select().where(User.id.in_(user_ids))) if user_ids else []
    people = {str(u.id): u.real_name or u.username or u.mobile for u in accounts}
    # Staff by name with their user name (the row keeps the user name), citizens by name.
    actors = {
        u.id: u.real_name + aside(u.username) if u.is_staff else u.real_name
        for u in accounts
        if u.real_name
    }
    fragment = is_htmx()  # Back to a search asks for the whole page (a history restore)
    return render(
        "staff/audit.html",
        "staff/_audit_rows.html",
        **({} if fragment else latest_cosigned()),
        rows=rows[:AUDIT_PAGE],
        has_more=len(rows) > AUDIT_PAGE,
        page=page,
        args=args,
        filters=filters,
        people=people,
        actors=actors,
        attempts=ATTEMPT_ACTIONS,
        date_error=date_error,
        object_label=object_label,
        reason_of=reason_of,
        note_of=note_of,
    )
