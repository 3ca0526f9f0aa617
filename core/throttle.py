"""Throttles for guessable things: logins and every form that confirms someone's identifier.

One attempt is judged by several counters at once (rows of the `throttle` table, so they
hold across processes and nodes):

- **pair** (account, client address): the quick lock. Ten wrong answers from one address lock
  that address out of that account, and nobody else.
- **address**: failures from one client address over all accounts, so one machine cannot
  spray a common password over many accounts (or many ID numbers over many cases).
- **account**: a slower limit over every address (NIST SP 800-63B section 5.2.2 asks for no
  more than 100 consecutive failures). For logins it closes the account only to addresses the
  owner has not logged in from before, so a stranger on other addresses can never lock the
  owner out of their own device's address (`Gate.trusted`).

Attempts are counted *before* the answer is checked, in one transaction with the lock read,
so a burst of parallel guesses cannot slip in under a limit. A right answer clears the pair
and account counters, and on the address's counter takes back only its own count: logging in
must not count against the people behind the same address (an office's or a carrier's shared
address), nor may logging into one's own account buy a sprayer new guesses.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from peewee import Case

from core.audit import client_addr
from core.i18n import localtime
from models import Throttle, write_tx


@dataclass(frozen=True)
class Rule:
    """One counter: its key, how many failures in how many seconds, and the lock's length."""

    kind: str  # "pair" | "address" | "account": which lock the user is told about
    key: str
    limit: int
    window: int
    lock: int | None = None  # seconds from the failure that reaches the limit; None: the window


@dataclass
class Verdict:
    """Whether an attempt may go on, and if not, which lock holds it and until when."""

    kind: str | None = None
    until: dt.datetime | None = None

    @property
    def allowed(self) -> bool:
        """True when no lock holds the attempt."""
        return self.until is None


@dataclass
class Gate:
    """The counters of one kind of attempt by one subject from one address."""

    rules: list[Rule]
    # When True (the owner's known address), the account-wide lock does not apply.
    trusted: bool = False
    counted: list[Rule] = field(default_factory=list)

    def _applies(self, rule: Rule) -> bool:
        return not (self.trusted and rule.kind == "account")

    def check_and_count(self) -> Verdict:
        """Refuse while any lock holds; else count this attempt as a failure in advance.

        One transaction with the throttle rows locked (PostgreSQL) or the database write lock
        (SQLite): parallel attempts queue, each sees the count of the ones before. The rows
        are made first when missing, else the first burst on a key would lock nothing and
        every attempt in it would be counted and tried past the limit.
        """
        with write_tx():
            Throttle.ensure(*(rule.key for rule in self.rules if self._applies(rule)))
            for rule in self.rules:
                if not self._applies(rule):
                    continue
                until = Throttle.locked_until_for(rule.key, lock=True)
                if until:
                    return Verdict(rule.kind, until)
            reached = Verdict()
            for rule in self.rules:
                until = Throttle.register_failure(
                    rule.key, limit=rule.limit, window=rule.window, lock=rule.lock
                )
                self.counted.append(rule)
                if until and self._applies(rule) and reached.until is None:
                    reached = Verdict(rule.kind, until)
        return reached

    def locked(self) -> Verdict:
        """The lock that holds now, without counting anything (to show a form as closed)."""
        for rule in self.rules:
            if self._applies(rule):
                until = Throttle.locked_until_for(rule.key)
                if until:
                    return Verdict(rule.kind, until)
        return Verdict()

    def success(self) -> None:
        """The answer was right: forget the pair's and the account's failures, and take back
        the address's count of this attempt."""
        with write_tx():
            for rule in self.rules:
                if rule.kind != "address":
                    Throttle.reset(rule.key)
            self._take_back(("address",))

    def forgive(self, kinds: tuple[str, ...] = ("pair", "address", "account")) -> None:
        """The answer was right: take back the failure counted in advance (on the counters of
        `kinds`), and nothing more.

        For identifier checks, where a right answer (one's own vehicle) must not buy new
        guesses at someone else's.
        """
        with write_tx():
            self._take_back(kinds)

    def _take_back(self, kinds: tuple[str, ...]) -> None:
        """Less one failure on each counter of `kinds` this attempt counted; a lock that this
        count made goes with it."""
        for rule in self.counted:
            if rule.kind not in kinds:
                continue
            Throttle.update(
                failures=Throttle.failures - 1,
                locked_until=Case(
                    None, [(Throttle.failures <= rule.limit, None)], Throttle.locked_until
                ),
            ).where((Throttle.key == rule.key) & (Throttle.failures > 0)).execute()


def hashed(value: str) -> str:
    """A short digest of what someone typed (it may be an ID number: never kept in clear)."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


def gate(
    scope: str,
    subject: str,
    *,
    trusted: bool = False,
    prefix: str = "",
    device: tuple[str, str] | None = None,
) -> Gate:
    """The pair, address and account counters of `scope` (a config prefix) for `subject`.

    Limits come from the settings `<PREFIX>_MAX_FAILURES` (pair), `<PREFIX>_ADDRESS_MAX_FAILURES`
    and `<PREFIX>_ACCOUNT_MAX_FAILURES`, with `<PREFIX>_WINDOW_SECONDS`,
    `<PREFIX>_ACCOUNT_WINDOW_SECONDS` and `<PREFIX>_LOCK_SECONDS`.

    `device`: a device cookie the subject's own login gave this browser, as (its group, its
    nonce) (core.devices: the group is the password's). Its attempts are held by that cookie's
    counter, with the pair's limit, and one counter of the group's cookies, with the account's:
    nothing a stranger without such a cookie can fill (no address's lock, nor the account's),
    and a new password starts both afresh. They are counted on the account's counter too, so a
    stolen cookie adds no guesses to a stranger's; once the group's counter is locked, the
    browser is judged as any other.
    """
    cfg = current_app.config
    p = prefix or scope.upper().replace("-", "_")
    window, lock = cfg[f"{p}_WINDOW_SECONDS"], cfg[f"{p}_LOCK_SECONDS"]
    account = (cfg[f"{p}_ACCOUNT_MAX_FAILURES"], cfg[f"{p}_ACCOUNT_WINDOW_SECONDS"])
    if device is not None:
        group, nonce = device
        devices_key = f"{scope}:{subject}#devices:{group}"
        if not Throttle.locked_until_for(devices_key):
            cookie_key = f"{scope}:{subject}#device:{group}:{nonce}"
            return Gate(
                [
                    Rule("pair", cookie_key, cfg[f"{p}_MAX_FAILURES"], window, lock),
                    Rule("devices", devices_key, *account),
                    # Counted as every attempt at the account is, its lock holding no device.
                    Rule("account", f"{scope}:{subject}", *account),
                ],
                trusted=True,
            )
        # The account's cookies are locked (one who holds one guessed too often): this browser
        # is judged as any other, so that a thief's cookie does not lock the owner's out.
    addr = client_addr()
    return Gate(
        [
            Rule("pair", f"{scope}:{subject}@{addr}", cfg[f"{p}_MAX_FAILURES"], window, lock),
            Rule("address", f"{scope}:addr:{addr}", cfg[f"{p}_ADDRESS_MAX_FAILURES"], window),
            Rule("account", f"{scope}:{subject}", *account),
        ],
        trusted=trusted,
    )


def identity_gate(actor_id: int) -> Gate:
    """The counters of a form that confirms someone else's identifier (an owner's ID number,
    an account's name): per (actor, address), per address and per actor over every address.

    Only the actor's own wrong answers count, so nobody can lock anyone else out.
    """
    return gate("idcheck", str(actor_id))


def identity_refusal(verdict: Verdict) -> str:
    """What a form that confirms identifiers says while a lock holds (it reveals nothing else)."""
    time = localtime(verdict.until, "HH:mm")
    if verdict.kind == "address":
        return _(
            "Too many checks that did not match came from this network address. Try again "
            "after %(time)s (Beijing time).",
            time=time,
        )
    return _(
        "You have made too many checks that did not match. Try again after %(time)s "
        "(Beijing time).",
        time=time,
    )
