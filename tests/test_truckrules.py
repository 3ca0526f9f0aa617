"""The truck rule engine as pure functions: table tests."""

import contextlib
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.truckrules import (
    BARRED,
    CLOSED,
    FREE,
    PASS_NEEDED,
    Rule,
    Window,
    barred_zones,
    check_application,
    emission_barred,
    format_windows,
    free_hours_warning,
    may_enter,
    parse_windows,
    restricted_minutes,
    window_covers,
)

WEEKDAYS = frozenset(range(1, 6))
ALL_DAYS = frozenset(range(1, 8))


def rule(
    classes="medium heavy",
    days=WEEKDAYS,
    windows="07:00-09:00,17:00-19:00",
    emissions="china5 china6 nev",
    max_days=30,
    review=False,
    zone=1,
):
    return Rule(
        zone,
        frozenset(classes.split()),
        frozenset(days),
        tuple(parse_windows(windows)),
        frozenset(emissions.split()),
        max_days,
        review,
    )


def at(text: str) -> dt.datetime:
    """'2026-11-23 08:00' is a Monday."""
    return dt.datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("truck_class", "moment", "restricted"),
    [
        ("heavy", "2026-11-23 08:00", True),  # Monday morning peak
        ("heavy", "2026-11-23 06:59", False),  # just before the window
        ("heavy", "2026-11-23 07:00", True),  # window start is inside
        ("heavy", "2026-11-23 09:00", False),  # window end is outside
        ("heavy", "2026-11-23 18:30", True),
        ("light", "2026-11-23 08:00", False),  # class not restricted
        ("heavy", "2026-11-28 08:00", False),  # Saturday: not a rule day
    ],
)
def test_restricts_by_class_day_and_window(truck_class, moment, restricted):
    assert rule().restricts(truck_class, at(moment)) is restricted


@pytest.mark.parametrize(
    ("moment", "restricted"),
    [
        ("2026-11-27 22:00", True),  # Friday night: the window starts on a rule day
        ("2026-11-28 03:00", True),  # Saturday early morning: still Friday's window
        ("2026-11-28 06:00", False),  # ends at 06:00
        ("2026-11-28 23:00", False),  # Saturday night: not a rule day
        ("2026-11-23 03:00", False),  # Monday 03:00 comes from Sunday's window: not a rule day
        ("2026-11-24 03:00", True),  # Tuesday 03:00 comes from Monday's window
    ],
)
def test_windows_crossing_midnight_belong_to_their_start_day(moment, restricted):
    night = rule(windows="22:00-06:00")
    assert night.restricts("heavy", at(moment)) is restricted


def test_window_parsing():
    assert str(Window.parse(" 7:00 - 9:30 ")) == "07:00-09:30"
    assert Window.parse("22:00-06:00").crosses_midnight
    assert Window.parse("20:00-24:00").minutes() == [(0, 1200, 1440)]
    assert str(Window.parse("20:00-24:00")) == "20:00-24:00"
    whole_day = parse_windows("00:00-24:00")
    assert whole_day[0].minutes() == [(0, 0, 1440)]
    assert free_hours_warning([rule(classes="hazardous", days=ALL_DAYS, windows="00:00-24:00")])
    for bad in ("", "7-", "25:00-26:00", "08:00-08:00", "a-b"):
        with pytest.raises(ValueError):
            parse_windows(bad)


@pytest.mark.parametrize(
    ("emission", "moment", "answer"),
    [
        ("china6", "2026-11-23 08:00", PASS_NEEDED),
        ("china3", "2026-11-23 08:00", BARRED),
        ("china3", "2026-11-23 12:00", FREE),
        ("nev", "2026-11-23 17:30", PASS_NEEDED),
    ],
)
def test_may_enter(emission, moment, answer):
    assert may_enter([rule()], "heavy", emission, at(moment))[0] == answer


def test_a_zone_that_issues_no_pass_is_closed_whatever_the_emission_standard():
    tunnel = rule(classes="hazardous", days=ALL_DAYS, windows="00:00-24:00", emissions="")
    for emission in ("china6", "nev", "china3"):
        answer, rules = may_enter([tunnel], "hazardous", emission, at("2026-11-23 08:00"))
        assert answer == CLOSED and rules == [tunnel]
    assert may_enter([tunnel], "heavy", "china3", at("2026-11-23 08:00"))[0] == FREE


def test_six_hour_warning():
    # 06:00-22:00 every day leaves 8 hours: fine. 05:00-23:30 leaves 5.5: warned every day.
    assert free_hours_warning([rule(days=ALL_DAYS, windows="06:00-22:00")]) == []
    warned = free_hours_warning([rule(classes="heavy", days=ALL_DAYS, windows="05:00-23:30")])
    assert warned == [("heavy", d) for d in range(1, 8)]
    # Two rules that are fine alone can together leave too little.
    together = [
        rule(classes="heavy", windows="00:00-12:00"),
        rule(classes="heavy", windows="12:00-20:00"),
    ]
    assert ("heavy", 1) in free_hours_warning(together)
    assert free_hours_warning(together[:1]) == []
    # A night window's morning part counts on the next day.
    night = rule(classes="heavy", days={1}, windows="05:00-04:00")
    assert restricted_minutes([night], "heavy", 2) == 4 * 60
    assert free_hours_warning([night]) == [("heavy", 1)]


def test_check_application():
    rules = {1: [rule(max_days=30)], 2: [rule(zone=2, max_days=7, review=True)]}
    day = dt.date(2026, 12, 1)
    assert check_application({1: rules[1]}, "heavy", "china6", day, day) == ([], False)
    refusals, review = check_application(rules, "heavy", "china6", day, day + dt.timedelta(13))
    assert [(r.code, r.zone_id, r.limit) for r in refusals] == [("too-long", 2, 7)]
    assert review is True
    refusals, _ = check_application(rules, "heavy", "china4", day, day)
    assert {(r.code, r.zone_id) for r in refusals} == {("emission", 1), ("emission", 2)}
    assert check_application(rules, "light", "china3", day, day) == ([], False)
    assert check_application(rules, "heavy", "china6", day, day - dt.timedelta(1))[0][0].code == (
        "dates"
    )


def test_window_covers_dates_and_midnight():
    windows = parse_windows("22:00-02:00")
    first, last = dt.date(2026, 11, 23), dt.date(2026, 11, 24)
    assert window_covers(windows, at("2026-11-23 23:00"), first, last)
    assert window_covers(windows, at("2026-11-25 01:00"), first, last)  # the last night's tail
    assert not window_covers(windows, at("2026-11-23 01:00"), first, last)  # before the first
    assert not window_covers(windows, at("2026-11-25 23:00"), first, last)
    assert not window_covers(windows, at("2026-11-24 12:00"), first, last)


@given(st.integers(0, 23), st.integers(0, 59), st.integers(0, 23), st.integers(0, 59))
def test_restricted_minutes_match_restricts(h1, m1, h2, m2):
    """Counting minutes and asking minute by minute agree, for any window."""
    if (h1, m1) == (h2, m2):
        return
    r = rule(classes="heavy", days={3}, windows=f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}")
    for weekday, date in ((3, "2026-11-25"), (4, "2026-11-26")):
        counted = restricted_minutes([r], "heavy", weekday)
        start = at(f"{date} 00:00")
        asked = sum(
            r.restricts("heavy", start + dt.timedelta(minutes=i)) for i in range(0, 1440, 1)
        )
        assert counted == asked


def test_the_emission_rule_bars_only_restricted_classes():
    strict = rule(classes="heavy", emissions="china6 nev")
    assert emission_barred([strict], "heavy", "china5")
    assert not emission_barred([strict], "heavy", "china6")
    assert not emission_barred([strict], "light", "china3")  # light trucks are not restricted
    assert barred_zones({1: [strict], 2: [rule(zone=2)]}, "heavy", "china5") == [1]
    refusals, _review = check_application(
        {1: [strict]}, "heavy", "china5", dt.date(2025, 1, 1), dt.date(2025, 1, 2)
    )
    assert [(r.code, r.zone_id) for r in refusals] == [("emission", 1)]


@pytest.mark.parametrize(
    # Digits of other scripts (Arabic-Indic here), which int() reads but NFKC leaves alone, are
    # not times of day either (full-width ones are, once folded: see the test above).
    "text",
    ["99999999999999999999:00-10:00", "08:99999999999999999999-10:00", "٠٨:00-10:00"],
)
def test_absurd_times_are_a_value_error_not_an_overflow(text):
    with pytest.raises(ValueError):
        parse_windows(text)


@given(st.text(max_size=40))
def test_any_typed_windows_parse_or_raise_value_error(text):
    with contextlib.suppress(ValueError):
        parse_windows(text)


def test_the_suite_gives_hypothesis_no_deadline():
    """The property above asks 2,880 minutes per example: under load one example can take
    longer than Hypothesis's default 200 ms, which is not a failure (tests/conftest.py)."""
    assert settings().deadline is None


def test_windows_are_read_as_typed_in_chinese():
    """A Chinese input method types full-width colons, digits and commas, and people write
    ranges with 至 or ～ and lists with 、: all are the same windows."""
    for typed in (
        "07：00-09：00，17：00-19：00",
        "０７:００～０９:００，17:00至19:00",
        "07:00 - 09:00; 17:00—19:00",
        "07:00-09:00、17:00-19:00",
    ):
        assert format_windows(parse_windows(typed)) == "07:00-09:00, 17:00-19:00"
    with pytest.raises(ValueError):
        parse_windows("七点到九点")


def test_windows_meet_across_midnight_and_restricted_windows_per_class():
    from rules.truckrules import parse_windows, restricted_windows, windows_meet

    night = parse_windows("22:00-06:00")
    assert windows_meet(parse_windows("05:00-08:00"), night)
    assert windows_meet(parse_windows("23:30-23:45"), night)
    assert not windows_meet(parse_windows("09:00-16:00"), night)
    assert not windows_meet(parse_windows("06:00-22:00"), night)  # touching is not meeting
    rules = {
        1: [
            Rule(1, frozenset({"heavy"}), frozenset(range(1, 8)), tuple(night), frozenset(), 7),
            Rule(
                1,
                frozenset({"medium", "heavy"}),
                frozenset({1}),
                tuple(parse_windows("17:00-19:00, 07:00-09:00")),
                frozenset(),
                7,
            ),
        ]
    }
    assert [str(w) for w in restricted_windows(rules, "heavy")] == [
        "07:00-09:00",
        "17:00-19:00",
        "22:00-06:00",
    ]
    assert [str(w) for w in restricted_windows(rules, "medium")] == ["07:00-09:00", "17:00-19:00"]
    assert restricted_windows(rules, "light") == []


def test_passes_meet_only_when_they_share_a_minute_of_a_calendar_day():
    from rules.truckrules import passes_meet

    mon, tue, wed = dt.date(2026, 11, 30), dt.date(2026, 12, 1), dt.date(2026, 12, 2)
    morning, evening = parse_windows("07:00-09:00"), parse_windows("17:00-19:00")
    night, dawn = parse_windows("22:00-06:00"), parse_windows("05:00-07:00")
    assert passes_meet(mon, wed, morning, tue, tue, parse_windows("08:30-10:00"))
    assert not passes_meet(mon, wed, morning, mon, wed, evening)  # the same days, other hours
    assert not passes_meet(mon, mon, morning, tue, wed, morning)  # the same hours, other days
    # A night window's morning belongs to the next calendar day.
    assert passes_meet(mon, mon, night, tue, tue, dawn)
    assert not passes_meet(tue, tue, night, mon, mon, dawn)
    assert not passes_meet(mon, mon, night, tue, tue, night)  # Monday's night, Tuesday's night
    assert passes_meet(mon, tue, night, tue, tue, parse_windows("23:00-23:30"))


def test_repeated_and_overlapping_windows_are_joined():
    from rules.truckrules import merge_windows

    def joined(typed: str) -> str:
        return format_windows(merge_windows(parse_windows(typed)))

    assert joined(", ".join(["22:00-06:00"] * 6)) == "22:00-06:00"
    assert joined("23:00-01:00, 23:30-00:30") == "23:00-01:00"
    assert joined("17:00-19:00, 07:00-09:00, 09:00-10:00") == "07:00-10:00, 17:00-19:00"
    # Joined into more than a day from another hour: kept apart, each with its own hours.
    assert joined("06:00-18:00, 17:00-08:00") == "06:00-18:00, 17:00-08:00"
    assert joined("06:00-18:00, 18:00-06:00") == "06:00-18:00, 18:00-06:00"
    assert joined("00:00-12:00, 12:00-24:00") == "00:00-24:00"
    # A night window's morning belongs to the next day: not joined with this day's morning.
    assert joined("05:00-07:00, 22:00-06:00") == "05:00-07:00, 22:00-06:00"


def test_a_truck_counted_as_two_classes_meets_the_rules_of_both():
    from rules.truckrules import closed_zones, restricted_windows

    heavy = Rule(
        1,
        frozenset({"heavy"}),
        ALL_DAYS,
        tuple(parse_windows("22:00-06:00")),
        frozenset({"china6"}),
        7,
    )
    hazardous = Rule(
        1, frozenset({"hazardous"}), ALL_DAYS, tuple(parse_windows("07:00-19:00")), frozenset(), 7
    )
    rules = {1: [heavy, hazardous], 2: [heavy]}
    both = {"heavy", "hazardous"}
    assert [str(w) for w in restricted_windows(rules, both)] == ["07:00-19:00", "22:00-06:00"]
    assert [str(w) for w in restricted_windows(rules, "heavy")] == ["22:00-06:00"]
    assert closed_zones(rules, both) == [1] and closed_zones(rules, "heavy") == []
    assert barred_zones(rules, both, "china5") == [1, 2]
