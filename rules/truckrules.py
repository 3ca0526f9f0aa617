"""The city's truck rules as pure functions (货车通行规则).

A rule of a restricted zone says: trucks of these classes may not enter on these days during
these time windows without a pass; passes can be had only by trucks of these emission
standards, for at most this many days. Outside its windows a rule restricts nothing. Times are
local (Asia/Shanghai) wall-clock times; a window whose end is not after its start crosses
midnight (22:00-06:00 runs into the next morning).

A truck counts as one class or as several (`counts_as`): a heavy truck carrying hazardous goods
is restricted by the rules for heavy trucks and by those for hazardous goods. Every function
taking `truck_class` takes either one class or a set of them.
"""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

TRUCK_CLASSES = ("light", "medium", "heavy", "hazardous")
EMISSION_STANDARDS = ("china3", "china4", "china5", "china6", "nev")
DAY_MINUTES = 24 * 60
MIN_FREE_HOURS = 6  # the national requirement that ended blanket 24-hour bans
MAX_PASS_DAYS = 90  # no pass lasts longer, whatever the zones allow
MAX_WINDOWS = 6  # daily windows of one rule or pass
MAX_LEAD_DAYS = 60  # how far ahead a pass may start (the rules may change meanwhile)


def counts_as(truck_class) -> frozenset:
    """The classes a truck counts as: one class ("heavy"), or a set of them."""
    return frozenset((truck_class,)) if isinstance(truck_class, str) else frozenset(truck_class)


@dataclass(frozen=True)
class Window:
    """A daily time window; crosses midnight when end <= start."""

    start: dt.time
    end: dt.time

    @classmethod
    def parse(cls, text: str) -> "Window":
        """'07:00-09:30' -> Window (ValueError when malformed; 24:00 means midnight)."""
        start_text, _, end_text = text.strip().partition("-")
        return cls(_parse_time(start_text), _parse_time(end_text))

    def __str__(self) -> str:
        end = "24:00" if self.end == dt.time(0, 0) else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}-{end}"

    @property
    def crosses_midnight(self) -> bool:
        """True when the window runs into the next day."""
        return self.end <= self.start

    def minutes(self) -> list[tuple[int, int, int]]:
        """The window as (day offset, from minute, to minute) pieces within days."""
        s, e = _minute(self.start), _minute(self.end)
        if e > s:
            return [(0, s, e)]
        return [(0, s, DAY_MINUTES), (1, 0, e)] if e else [(0, s, DAY_MINUTES)]


def _parse_time(text: str) -> dt.time:
    """'7:05' -> 07:05; ValueError for anything else (a citizen types these: a huge number
    would overflow dt.time's C integers with an OverflowError, a 500, not a message)."""
    text = text.strip()
    if text in ("24:00", "24:0"):
        return dt.time(0, 0)
    if not re.fullmatch(r"[0-9]{1,2}(:[0-9]{1,2})?", text):
        raise ValueError(f"not a time of day: {text[:20]!r}")
    hours, _, minutes = text.partition(":")
    return dt.time(int(hours), int(minutes or 0))


def _minute(t: dt.time) -> int:
    return t.hour * 60 + t.minute


# What people type between a window's ends, and between windows, besides "-" and ",": once
# NFKC has folded the full-width forms a Chinese input method types (：，－～ and digits).
RANGE_MARKS = re.compile(r"\s*(?:~|至|到|—|–|－)\s*")
LIST_MARKS = re.compile(r"[、;；]")


def parse_windows(text: str) -> list[Window]:
    """'07:00-09:00, 17:00-19:00' -> windows, also as typed in Chinese ('07：00～09：00，
    17:00至19:00'); ValueError on any malformed part."""
    text = RANGE_MARKS.sub("-", unicodedata.normalize("NFKC", text))
    parts = [part for part in LIST_MARKS.sub(",", text).split(",") if part.strip()]
    if not parts:
        raise ValueError("no time window")
    if len(parts) > MAX_WINDOWS:
        raise ValueError("too many time windows")
    windows = []
    for part in parts:
        window = Window.parse(part)
        # 00:00-24:00 is the whole day; any other window with equal ends is a typing mistake.
        if window.start == window.end and str(window) != "00:00-24:00":
            raise ValueError("a window must not be empty")
        windows.append(window)
    return windows


def merge_windows(windows) -> list[Window]:
    """The windows with repeats and overlaps joined, in order of their start: "22:00-06:00"
    typed twice is one window, "23:00-01:00, 23:30-00:30" is "23:00-01:00", windows that touch
    run on ("07:00-09:00, 09:00-10:00" is "07:00-10:00"), and windows that join into the whole
    day from midnight are 00:00-24:00. Each window keeps the hours it covers: windows that would
    join into more than a day from another hour are kept apart (a joined 06:00-06:00 would lose
    the morning after the last day), and a night window's morning is not joined with a morning
    window of the same pass (it belongs to the next day)."""
    spans = sorted(
        (s, e if e > s else e + DAY_MINUTES)
        for s, e in ((_minute(w.start), _minute(w.end)) for w in windows)
    )
    merged: list[list[int]] = []
    for start, end in spans:
        last = merged[-1] if merged else None
        joined = (last[0], max(last[1], end)) if last and start <= last[1] else None
        if joined and (joined[1] - joined[0] < DAY_MINUTES or joined == (0, DAY_MINUTES)):
            last[1] = joined[1]
        elif not (last and (start, end) == tuple(last)):
            merged.append([start, end])
    return [Window(_time_of(start), _time_of(end % DAY_MINUTES)) for start, end in merged]


def _time_of(minute: int) -> dt.time:
    """Minute of the day -> time of day."""
    return dt.time(minute // 60, minute % 60)


def format_windows(windows) -> str:
    """Windows back to their text form."""
    return ", ".join(str(w) for w in windows)


@dataclass(frozen=True)
class Rule:
    """One rule of one zone."""

    zone_id: int
    classes: frozenset  # of TRUCK_CLASSES
    days: frozenset  # ISO weekdays 1 (Monday) .. 7 (Sunday)
    windows: tuple  # of Window
    emissions: frozenset  # standards that may get a pass
    max_days: int
    needs_review: bool = False

    def restricts(self, truck_class: str, at: dt.datetime) -> bool:
        """True when this rule restricts a truck of this class at this local moment.

        A window that crosses midnight belongs to the day it starts on: a Friday 22:00-06:00
        window restricts Saturday 03:00 even when Saturday is not one of the rule's days.
        """
        if not self.classes & counts_as(truck_class):
            return False
        minute = _minute(at.time())
        for window in self.windows:
            for offset, start, end in window.minutes():
                day = (at - dt.timedelta(days=offset)).isoweekday()
                if day in self.days and start <= minute < end:
                    return True
        return False


def restricted_windows(rules_by_zone: dict, truck_class: str) -> list[Window]:
    """The daily windows in which the zones' rules restrict this truck class (in order, each
    once): when it needs a pass there."""
    found = {
        window
        for rules in rules_by_zone.values()
        for rule in rules
        if rule.classes & counts_as(truck_class)
        for window in rule.windows
    }
    return sorted(found, key=lambda w: (_minute(w.start), _minute(w.end)))


def unrestricted_zones(rules_by_zone: dict, truck_class: str) -> list:
    """The zones (ids, in the order asked) whose rules do not restrict this truck class at all:
    it needs no pass there."""
    return [z for z in rules_by_zone if not restricted_windows({z: rules_by_zone[z]}, truck_class)]


def windows_meet(these, those) -> bool:
    """Whether any window of `these` shares a minute of the day with any of `those` (a window
    crossing midnight counts on both sides of it)."""
    spans = [(s, e) for w in those for _offset, s, e in w.minutes()]
    return any(s < e2 and s2 < e for w in these for _o, s, e in w.minutes() for s2, e2 in spans)


def zones_missed(rules_by_zone: dict, truck_class: str, windows) -> list:
    """The zones (ids) that restrict this truck class at hours none of `windows` meets: a
    pass for them would cover nothing the truck needs there."""
    return [
        zone_id
        for zone_id, rules in rules_by_zone.items()
        if (restricted := restricted_windows({zone_id: rules}, truck_class))
        and not windows_meet(windows, restricted)
    ]


def restricted_minutes(rules, truck_class: str, weekday: int) -> int:
    """Minutes of a local weekday on which the rules together restrict a truck class.

    A window crossing midnight counts on the day it starts for its evening part and on the
    next day for its morning part.
    """
    covered = bytearray(DAY_MINUTES)
    yesterday = (weekday - 2) % 7 + 1
    for rule in rules:
        if not rule.classes & counts_as(truck_class):
            continue
        for window in rule.windows:
            for offset, start, end in window.minutes():
                if (weekday if offset == 0 else yesterday) in rule.days:
                    covered[start:end] = b"\1" * (end - start)
    return sum(covered)


def free_hours_warning(rules) -> list[tuple[str, int]]:
    """(class, weekday) pairs on which the rules leave trucks less than 6 free hours."""
    limit = DAY_MINUTES - MIN_FREE_HOURS * 60
    return [
        (truck_class, day)
        for truck_class in TRUCK_CLASSES
        for day in range(1, 8)
        if restricted_minutes(rules, truck_class, day) > limit
    ]


# Answers to "may truck X enter zone Y at time T?"
FREE = "free"  # no rule restricts it then: no pass needed
PASS_NEEDED = "pass-needed"  # noqa: S105 (restricted, but a pass can be had)
BARRED = "barred"  # restricted, and this truck's emission standard cannot get a pass for it
CLOSED = (
    "closed"  # restricted by a rule that issues no pass at all (e.g. hazardous goods in a tunnel)
)


def may_enter(rules, truck_class: str, emission: str, at: dt.datetime) -> tuple[str, list]:
    """The public question, answered from a zone's rules: (answer, the rules that restrict)."""
    restricting = [r for r in rules if r.restricts(truck_class, at)]
    if not restricting:
        return FREE, []
    if all(emission in r.emissions for r in restricting):
        return PASS_NEEDED, restricting
    closed = [r for r in restricting if not r.emissions]
    if closed:
        # No standard would do: the answer must not blame this truck's.
        return CLOSED, closed
    return BARRED, restricting


def emission_barred(rules, truck_class: str, emission: str) -> bool:
    """True when a rule that restricts this class gives no pass to this emission standard: a
    truck so barred cannot get a pass for the zone of these rules."""
    return any(r.classes & counts_as(truck_class) and emission not in r.emissions for r in rules)


def closed_zones(rules_by_zone: dict, truck_class) -> list:
    """The zones (ids, in the order asked) where a rule restricting this truck class gives a
    pass to no emission standard at all."""
    return [
        z
        for z, rules in rules_by_zone.items()
        if any(r.classes & counts_as(truck_class) and not r.emissions for r in rules)
    ]


def barred_zones(rules_by_zone: dict, truck_class: str, emission: str) -> list:
    """The zones (ids, in the order asked) for which this truck cannot get a pass at all."""
    return [
        z for z, rules in rules_by_zone.items() if emission_barred(rules, truck_class, emission)
    ]


@dataclass
class Refusal:
    """Why the rules refuse an application (a code for the message, and its parameters)."""

    code: str  # emission | too-long | class-not-restricted...
    zone_id: int | None = None
    limit: int | None = None


def check_application(
    rules_by_zone: dict, truck_class: str, emission: str, start: dt.date, end: dt.date
) -> tuple[list[Refusal], bool]:
    """Check an application against the rules of the zones it asks for.

    Returns (refusals, needs_review): any refusal refuses the application; with none, it is
    approved at once unless a rule asks for review.
    """
    refusals, review = [], False
    days = (end - start).days + 1
    if days < 1:
        return [Refusal("dates")], False
    if days > MAX_PASS_DAYS:
        refusals.append(Refusal("too-long", None, MAX_PASS_DAYS))
    for zone_id, rules in rules_by_zone.items():
        applying = [r for r in rules if r.classes & counts_as(truck_class)]
        if not applying:
            continue  # this class is not restricted in that zone: the pass covers it anyway
        for rule in applying:
            if emission_barred([rule], truck_class, emission):
                refusals.append(Refusal("emission", zone_id))
            if days > rule.max_days:
                refusals.append(Refusal("too-long", zone_id, rule.max_days))
            review = review or rule.needs_review
    return refusals, review


def passes_meet(first_a: dt.date, last_a: dt.date, windows_a, first_b, last_b, windows_b) -> bool:
    """Whether two passes' hours share a minute on some calendar day: pass A from `first_a` to
    `last_a` in `windows_a` and pass B likewise (a window crossing midnight covers the next
    morning of each of its dates)."""
    for offset_a, start_a, end_a in (p for w in windows_a for p in w.minutes()):
        for offset_b, start_b, end_b in (p for w in windows_b for p in w.minutes()):
            if not (start_a < end_b and start_b < end_a):
                continue
            shift_a, shift_b = dt.timedelta(days=offset_a), dt.timedelta(days=offset_b)
            if max(first_a + shift_a, first_b + shift_b) <= min(last_a + shift_a, last_b + shift_b):
                return True
    return False


def window_covers(windows, at: dt.datetime, first: dt.date, last: dt.date) -> bool:
    """True when a local moment falls in one of a pass's daily windows on one of its dates
    (a window crossing midnight belongs to the date it starts on)."""
    minute = _minute(at.time())
    for window in windows:
        for offset, start, end in window.minutes():
            day = at.date() - dt.timedelta(days=offset)
            if first <= day <= last and start <= minute < end:
                return True
    return False
