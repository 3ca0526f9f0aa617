"""Notices (通知): every step that needs a person, or changes something of theirs, tells them.

`notify(user, kind, **params)` is called inside the step's write transaction. It writes the
inbox row (models.Notice) and, by the person's choice, a delivery per channel to the outbox
(core.network.outbox, channels "sms" and "email"), so a notice exists exactly when its cause was
committed, and the worker (`flask network worker`) delivers it with the outbox's retries and
backoff. Nothing is sent from inside a request.

A notice stores its kind and parameters; the words come from the kind (registered by each
measure with `kind()`) and are rendered in the reader's language (User.locale, else Chinese)
when shown or delivered. Each kind says what happened, what to do next, where and by when.

Delivery is at least once: the worker claims a delivery, sends it, then records it; a worker
killed between sending and recording sends it again once its claim lapses (outbox.LEASE). The
repeat carries the same identity, the outbox message id: as the e-mail's Message-ID header
(mail stores and clients recognise a second copy by it) and as the SMS gateway's idempotency
key, so the person sees one message. README, section "Notices".
"""

import datetime as dt
import json
import smtplib
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit

from flask import current_app, g, has_request_context, request, url_for
from flask_babel import force_locale, format_date
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from peewee import DatabaseError

from core import sms, templatehelpers
from core.htmx import is_htmx
from core.i18n import DEFAULT_LOCALE, LANGUAGES
from core.network.outbox import Outcome, channel, enqueue
from models import (
    OUTBOX_CANCELLED,
    OUTBOX_DELIVERED,
    OUTBOX_PENDING,
    OUTBOX_REFUSED,
    Notice,
    Office,
    OutboxMessage,
    User,
    db,
    utcnow,
    write_tx,
)
from models.identity import IdentityProof

SMS, EMAIL = "sms", "email"
TLS_MODES = ("none", "starttls", "ssl")
SMTP_TIMEOUT_SECONDS = 30
# The outbox type of a notice's delivery (its body names the notice).
OUTBOX_TYPE = "notice"
# Notices sent to one mobile number or e-mail address at most, in an hour and in a day; past
# them a notice stays in the inbox only. Anyone can register with someone else's number, or
# type someone else's address, and make notices happen (a truck pass applied for and taken
# back, over and over): the owner of the number is not to be flooded.
DELIVERIES_PER_HOUR = 6
DELIVERIES_PER_DAY = 30


@dataclass(frozen=True)
class NoticeKind:
    """The words of one kind of notice: lazy strings with %(name)s parameters.

    `prepare(params)` may add localised parameters (called in the reader's language);
    `endpoint` and `args` make the link to the page where the person acts. A `security`
    notice (the account's password changed) is also texted to the account's mobile whatever
    its preferences: one who took the account over would otherwise be the only one to read it.
    """

    name: str
    title: object
    what: object
    next_step: object
    endpoint: str | None = None
    args: tuple = ()
    prepare: Callable[[dict], dict] | None = None
    security: bool = False


@dataclass
class Rendered:
    """A notice put into words for one reader."""

    title: str
    what: str
    next_step: str
    url: str | None = None
    params: dict = field(default_factory=dict)

    def text(self) -> str:
        """Plain text of an SMS or an e-mail's body."""
        lines = [self.title, "", self.what, self.next_step]
        if self.url:
            lines += ["", self.url]
        return "\n".join(lines)


KINDS: dict[str, NoticeKind] = {}
# The kinds whose notices link to each endpoint (read_on_its_page looks here on every request).
KINDS_BY_ENDPOINT: dict[str, dict[str, NoticeKind]] = {}


def kind(
    name: str, *, title, what, next_step, endpoint=None, args=(), prepare=None, security=False
) -> None:
    """Register a kind of notice (each measure registers its own at import)."""
    spec = NoticeKind(name, title, what, next_step, endpoint, tuple(args), prepare, security)
    KINDS[name] = spec
    if endpoint:
        KINDS_BY_ENDPOINT.setdefault(endpoint, {})[name] = spec


# --- Writing --------------------------------------------------------------------------------


def email_enabled() -> bool:
    """True when an SMTP server is configured (else e-mail is not offered)."""
    return bool(current_app.config["SMTP_HOST"])


def _request_user():
    """The account this request's session logged in (None outside requests)."""
    if not has_request_context():
        return None
    return current_user._get_current_object()


def notify(user, kind_name: str, **params) -> Notice | None:
    """Tell `user` (a User or its id; None tells nobody) that `kind_name` happened.

    Runs inside the caller's write transaction: the inbox row and the chosen deliveries commit
    or roll back with the change that causes them.
    """
    if user is None:
        return None
    if not db.in_transaction():
        raise RuntimeError("notify() must run inside the write transaction of its cause")
    if kind_name not in KINDS:
        raise ValueError(f"no notice kind {kind_name!r}")
    # The account's notice preferences as they are now: the request's own logged-in account
    # was read at the start of this request (the user loader), any other is read afresh. The
    # notice is inserted with SQL text built once: an e-licence application, most of the
    # day's work, writes one.
    if isinstance(user, User) and user is _request_user():
        account = user
    else:
        user_id = user if isinstance(user, int) else user.id
        account = User.by_id(user_id)
        if account is None:
            raise User.DoesNotExist(f"no account {user_id}")
    notice = Notice(
        user=account.id,
        message_id=str(uuid.uuid4()),
        kind=kind_name,
        params=json.dumps(params, ensure_ascii=False, sort_keys=True, default=str),
    )
    notice.insert_new()
    body = {"notice": notice.message_id}
    # A security notice is texted whatever the person chose and whatever other notices used
    # of the number's budget (only the account's holder can cause one: a password change).
    security = KINDS[kind_name].security
    texted = security or (
        account.notice_sms and account.mobile and _may_deliver(account.mobile, SMS)
    )
    if texted and account.mobile:
        enqueue(account.mobile, OUTBOX_TYPE, body, channel=SMS)
    # E-mail is offered only while SMTP_HOST is set; a delivery written while it is not waits
    # for the server (the outbox retries it, and an overdue message alerts the administrator).
    if account.notice_email and account.email and _may_deliver(account.email, EMAIL):
        enqueue(account.email, OUTBOX_TYPE, body, channel=EMAIL)
    return notice


def settle(users, kinds: tuple[str, ...], **about) -> int:
    """Mark as read the unread notices of `kinds` to `users` (ids; None ignored) about one
    thing (`about`: params they carry, e.g. case_id=7) once what they asked for is done or no
    longer possible: a "confirm the sale" left new beside "the sale was withdrawn" asks for
    what cannot be done. In the write transaction of the change. Returns how many."""
    users = [u for u in users if u is not None]
    if not users:
        return 0
    unread = Notice.select().where(
        Notice.user.in_(users) & Notice.read_at.is_null() & Notice.kind.in_(kinds)
    )
    done = [
        n.id for n in unread if all(n.params_dict.get(key) == value for key, value in about.items())
    ]
    if done:
        Notice.update(read_at=utcnow()).where(Notice.id.in_(done)).execute()
    return len(done)


def _may_deliver(recipient: str, via: str) -> bool:
    """Whether one more notice may go to this number or address now (DELIVERIES_PER_HOUR,
    DELIVERIES_PER_DAY): one indexed read of at most a day's worth of its deliveries."""
    now = utcnow()
    recent = [
        at
        for (at,) in OutboxMessage.select(OutboxMessage.created_at)
        .where(
            (OutboxMessage.recipient == recipient)
            & (OutboxMessage.channel == via)
            & (OutboxMessage.type == OUTBOX_TYPE)
            & (OutboxMessage.created_at > now - dt.timedelta(days=1))
        )
        .limit(DELIVERIES_PER_DAY)
        .tuples()
    ]
    last_hour = sum(1 for at in recent if at > now - dt.timedelta(hours=1))
    return len(recent) < DELIVERIES_PER_DAY and last_hour < DELIVERIES_PER_HOUR


def notify_holder(resident_id: str | None, kind_name: str, **params) -> Notice | None:
    """Tell the citizen account kept under `resident_id`, only once it proved that number: an
    unproven account must learn nothing of the records kept under it (core.identity, whose
    predicate reads the same proofs)."""
    if not resident_id:
        return None
    account = User.get_or_none(
        (User.resident_id == resident_id) & (User.is_staff == False)  # noqa: E712
    )
    if account is None or not IdentityProof.proves(account):
        return None
    return notify(account, kind_name, **params)


# --- Rendering ------------------------------------------------------------------------------


def locale_of(user) -> str:
    """The language a person reads notices in: theirs when set, else Chinese."""
    return user.locale if user.locale in LANGUAGES else DEFAULT_LOCALE


def _localise(params: dict, locale: str) -> dict:
    """Common parameters in the reader's words: offices by name, ISO days as dates."""
    out = dict(params)
    for key, value in params.items():
        if key.endswith("office_id") and value:
            office = Office.get_or_none(Office.id == value)
            name = key[: -len("_id")]
            out[name] = office.display_name(locale) if office else ""
            out[name + "_city"] = (
                (office.city_en if locale == "en" else office.city) if office else ""
            )
            # Where to go: the street address when recorded, else the city.
            out[name + "_address"] = (office.display_address(locale) if office else "") or out[
                name + "_city"
            ]
        elif key.endswith("_on") and isinstance(value, str) and value:
            out[key] = format_date(dt.date.fromisoformat(value), "long")
    return out


def _url(spec: NoticeKind, params: dict, external: bool) -> str | None:
    """The page where the person acts on the notice."""
    if not spec.endpoint:
        return None
    values = {a: params[a] for a in spec.args if a in params}
    if external or not has_request_context():
        # Built from the URL map alone: a request context would close the worker's connection
        # when it ends (core.db).
        base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
        adapter = current_app.url_map.bind(
            base.netloc, script_name=base.path or "/", url_scheme=base.scheme
        )
        return adapter.build(spec.endpoint, values, force_external=True)
    return url_for(spec.endpoint, **values)


def render(notice: Notice, locale: str | None = None, external: bool = False) -> Rendered:
    """The notice in the reader's language (theirs unless `locale` is given)."""
    locale = locale or locale_of(notice.user)
    spec = KINDS.get(notice.kind)
    with force_locale(locale):
        if spec is None:  # a kind no longer registered: still shown, never lost
            return Rendered(str(_l("Notice")), notice.kind, "", None)
        params = _localise(notice.params_dict, locale)
        if spec.prepare:
            params = spec.prepare(params)
        return Rendered(
            str(spec.title) % params,
            str(spec.what) % params,
            str(spec.next_step) % params,
            _url(spec, notice.params_dict, external),
            params,
        )


# --- Delivery (the outbox's channels) ---------------------------------------------------------


def _notice_of(message: OutboxMessage) -> Notice | None:
    """The notice an outbox delivery carries (None when the account was deleted meanwhile)."""
    return Notice.get_or_none(Notice.message_id == message.body_dict.get("notice"))


@channel(SMS)
def deliver_sms(message: OutboxMessage) -> Outcome:
    """Send the notice as a text message; the outbox message id is the idempotency key."""
    notice = _notice_of(message)
    if notice is None:
        return Outcome(OUTBOX_CANCELLED, reason="notice_gone")
    rendered = render(notice, external=True)
    try:
        sms.send(message.recipient, rendered.text(), key=message.message_id)
    except sms.SmsError as exc:
        return Outcome(OUTBOX_PENDING, error=str(exc))
    return Outcome(OUTBOX_DELIVERED)


def sender_address() -> str:
    """SMTP_FROM, else noreply@ the public host name."""
    configured = current_app.config["SMTP_FROM"]
    if configured:
        return configured
    host = urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "localhost"
    return f"noreply@{host}"


def message_id_header(message: OutboxMessage) -> str:
    """The e-mail's Message-ID: the outbox message id, the same on every attempt."""
    domain = sender_address().rpartition("@")[2] or "localhost"
    return f"<{message.message_id}@{domain}>"


def build_email(message: OutboxMessage, notice: Notice) -> EmailMessage:
    """The e-mail of a notice, in its reader's language."""
    rendered = render(notice, external=True)
    mail = EmailMessage()
    mail["Subject"] = rendered.title
    mail["From"] = sender_address()
    mail["To"] = message.recipient
    mail["Date"] = format_datetime(message.created_at.replace(tzinfo=dt.UTC))
    mail["Message-ID"] = message_id_header(message)
    mail["Auto-Submitted"] = "auto-generated"
    with force_locale(locale_of(notice.user)):
        footer = str(
            _l("You receive this e-mail because you chose notices by e-mail on your account page.")
        )
    mail.set_content(f"{rendered.text()}\n\n-- \n{footer}\n")
    return mail


def smtp_connection() -> smtplib.SMTP:
    """A connection to SMTP_HOST as SMTP_TLS and SMTP_USER say."""
    config = current_app.config
    host, port, mode = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TLS"]
    if mode == "ssl":
        conn = smtplib.SMTP_SSL(
            host, port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        conn = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
        if mode == "starttls":
            conn.starttls(context=ssl.create_default_context())
    if config["SMTP_USER"]:
        conn.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
    return conn


@channel(EMAIL)
def deliver_email(message: OutboxMessage) -> Outcome:
    """Hand the notice's e-mail to the SMTP server: a 5xx answer is final (refused), anything
    else that fails is tried again with the outbox's backoff."""
    notice = _notice_of(message)
    if notice is None:
        return Outcome(OUTBOX_CANCELLED, reason="notice_gone")
    if not email_enabled():
        return Outcome(OUTBOX_PENDING, error="no SMTP_HOST configured")
    mail = build_email(message, notice)
    try:
        with smtp_connection() as conn:
            conn.send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:
        code = min(c for c, _ in exc.recipients.values())
        if code >= 500:
            return Outcome(OUTBOX_REFUSED, reason=f"smtp_{code}", error=str(exc)[:200])
        return Outcome(OUTBOX_PENDING, error=str(exc)[:200])
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError):
            return Outcome(OUTBOX_REFUSED, reason=f"smtp_{exc.smtp_code}", error=str(exc)[:200])
        return Outcome(OUTBOX_PENDING, error=str(exc)[:200])
    except (OSError, smtplib.SMTPException) as exc:
        return Outcome(OUTBOX_PENDING, error=f"{type(exc).__name__}: {exc}"[:200])
    return Outcome(OUTBOX_DELIVERED)


def check_settings(config: dict) -> None:
    """Refuse to start with an unknown SMTP_TLS."""
    if config["SMTP_TLS"] not in TLS_MODES:
        raise RuntimeError(f"SMTP_TLS must be one of {', '.join(TLS_MODES)}")


def unread_notices() -> int:
    """The logged-in account's unread notices (the navigation's count)."""
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return 0
    g.unread_notices = Notice.unread_count(user.id)  # read_on_its_page needs no look when 0
    return g.unread_notices


def read_on_its_page(response):
    """A notice is read once its person opens the page it links to (from the inbox, an SMS, an
    e-mail or by any other way): a page of that endpoint with the notice's own arguments, shown
    to them, marks it read. So a step the person has seen and acted on leaves nothing "new"
    behind.

    Runs after GET requests of the endpoints some kind links to (the rest cost a dict look-up)
    that answered the page itself: not a refusal or a redirect, and not an htmx request (a
    panel refreshing itself in a tab nobody may be looking at). One indexed read of the
    person's unread notices of those kinds (none when the page's navigation counted no unread
    notice), and a write only when one matches; a database that cannot take the write now costs
    the mark, never the page.
    """
    if request.method != "GET" or response.status_code != 200 or is_htmx():
        return response
    by_name = KINDS_BY_ENDPOINT.get(request.endpoint)
    if not by_name or g.get("unread_notices") == 0:  # the page's navigation counted none
        return response
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return response
    here = {name: str(value) for name, value in (request.view_args or {}).items()}
    seen = [
        notice.id
        for notice in Notice.unread_of(user.id, list(by_name))
        if all(str(notice.params_dict.get(a)) == here.get(a) for a in by_name[notice.kind].args)
    ]
    if seen:
        try:
            with write_tx():
                Notice.mark_read(user.id, seen)
        except DatabaseError:
            current_app.logger.warning("notices %s not marked read: database busy", seen)
    return response


def init_app(app) -> None:
    """`unread_notices()` in every template (called only where the navigation shows it), and
    notices read on their own page."""
    check_settings(app.config)
    templatehelpers.add(app, unread_notices=unread_notices)
    app.after_request(read_on_its_page)
