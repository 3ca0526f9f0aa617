"""Words for truck classes, emission standards, days, statuses and verdicts, and the rules put
into plain sentences, in the user's language."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.i18n import clauses, in_sentence, is_chinese, listing
from rules import truckrules

CLASS_LABELS = {
    "light": _l("Light trucks"),
    "medium": _l("Medium trucks"),
    "heavy": _l("Heavy trucks"),
    "hazardous": _l("Trucks carrying hazardous goods"),
}
# One truck's class, as its pass, its application and the queues name it (CLASS_LABELS are the
# classes a rule restricts: "heavy trucks").
TRUCK_LABELS = {
    "light": _l("Light truck"),
    "medium": _l("Medium truck"),
    "heavy": _l("Heavy truck"),
    "hazardous": _l("Truck carrying hazardous goods"),
}
EMISSION_LABELS = {
    "china3": _l("China III"),
    "china4": _l("China IV"),
    "china5": _l("China V"),
    "china6": _l("China VI"),
    "nev": _l("New energy"),
}
DAY_LABELS = {
    1: _l("Mon"),
    2: _l("Tue"),
    3: _l("Wed"),
    4: _l("Thu"),
    5: _l("Fri"),
    6: _l("Sat"),
    7: _l("Sun"),
}
STATUS_LABELS = {
    "submitted": _l("Submitted"),
    "pending_review": _l("Waiting for review"),
    "approved": _l("Approved"),
    "refused": _l("Refused"),
    "revoked": _l("Pass revoked"),
    "withdrawn": _l("Withdrawn by the applicant"),
    "returned": _l("Returned by the applicant"),
}
VERDICT_LABELS = {
    "valid": _l("Pass valid now"),
    "valid-in-its-zones": _l("Valid now in its own zones only: choose the zone"),
    "outside-window": _l("Not valid at this hour"),
    "not-yet-valid": _l("Not valid yet"),
    "expired-pass": _l("Pass expired"),
    "re-registered": _l("Pass ended: the truck is registered to a new owner"),
    "revoked": _l("Pass revoked"),
    "returned": _l("Pass returned by its holder"),
    "not-approved": _l("Not an issued pass"),
    "no-pass": _l("No pass for this truck"),
    "invalid": _l("Unknown pass"),
    "throttled": _l("Too many failed checks"),
}
BLOCK_REASONS = {
    "stolen": _l("The vehicle is reported stolen."),
    "seized": _l("The vehicle is seized."),
    "scrapped": _l("The vehicle is scrapped (cancelled)."),
    "transferred_out": _l("The vehicle is registered away from this office (cancelled here)."),
    "inspection-overdue": _l("The vehicle's safety inspection is overdue."),
    "re-registered": _l(
        "The truck has been registered to a new owner since this application, under another plate."
    ),
    "not-registered": _l("No vehicle with this plate is registered."),
    "not-a-truck": _l("This vehicle is not a truck: no pass is needed."),
    # Refusals by the rules (the form refuses these at their step; kept for the record).
    "emission": _l("Trucks of this emission standard cannot get a pass for a chosen zone."),
    "too-long": _l("The pass would last longer than a chosen zone allows."),
    "dates": _l("The dates are not valid."),
}
REVIEW_REASONS = {
    "zone-review": _l("a zone's rules ask for a clerk's review"),
    "hazardous": _l("hazardous goods"),
    "not-owner": _l("the applicant is not the registered owner"),
    "documents": _l("documents to be read"),
}
ANSWERS = {
    "free": _l("Yes: no restriction applies at that time."),
    "pass-needed": _l("Only with a pass: this truck can apply for one."),
    "barred": _l("No: the truck is restricted then and its emission standard cannot get a pass."),
    "closed": _l("No: the zone is closed to this truck then, and no pass is issued for it."),
}


def day_ranges(days) -> str:
    """{1,2,3,4,5} -> 'Mon–Fri'; {1,3,6} -> 'Mon, Wed, Sat'; all seven -> 'every day'."""
    days = sorted(days)
    if len(days) == 7:
        return _("every day")
    runs, start = [], None
    for i, d in enumerate(days):
        if start is None:
            start = d
        if i + 1 == len(days) or days[i + 1] != d + 1:
            if d - start >= 2:
                runs.append(f"{DAY_LABELS[start]}–{DAY_LABELS[d]}")
            else:
                runs.extend(str(DAY_LABELS[x]) for x in range(start, d + 1))
            start = None
    return join(runs)


def join(items) -> str:
    """A list in words, as the reader's language writes one ("a, b and c"; 、 in Chinese)."""
    return listing(items)


def restricted_hours(rules_by_zone: dict, truck_class: str, zone_names: dict) -> str:
    """When the chosen zones restrict this truck class, zone by zone: "市南老城区 周一至周五
    07:00-09:00、17:00-19:00；崂山风景区 每天 22:00-06:00"."""
    parts = [
        _(
            "%(zone)s %(days)s %(windows)s",
            zone=zone_names.get(zone_id, ""),
            days=day_ranges(rule.days),
            windows=join(rule.windows),
        )
        for zone_id, rules in rules_by_zone.items()
        for rule in rules
        if rule.classes & truckrules.counts_as(truck_class)
    ]
    return clauses(parts)


def describe_rule(rule) -> str:
    """A rule in plain words."""
    # The first class starts the sentence; the others are written inside it ("Medium trucks,
    # heavy trucks may not enter").
    ordered = sorted(rule.classes, key=list(CLASS_LABELS).index)
    classes = join(
        CLASS_LABELS[c] if n == 0 else in_sentence(CLASS_LABELS[c]) for n, c in enumerate(ordered)
    )
    windows = join(rule.windows)
    # "China V" is a name and keeps its capital; "new energy" is not.
    emissions = join(
        in_sentence(EMISSION_LABELS[e]) if e == "nev" else EMISSION_LABELS[e]
        for e in sorted(rule.emissions, key=list(EMISSION_LABELS).index)
    )
    text = _(
        "%(classes)s may not enter %(days)s %(windows)s without a pass.",
        classes=classes,
        days=day_ranges(rule.days),
        windows=windows,
    )
    if emissions:
        text += " " + _(
            "Passes are issued to %(emissions)s trucks, for at most %(n)d days.",
            emissions=emissions,
            n=rule.max_days,
        )
    else:
        return text + " " + _("No passes are issued.")  # so none is reviewed either
    if rule.needs_review:
        text += " " + _("Every application is reviewed by a clerk.")
    return text


# What happens next with an application and what the applicant can do, one sentence per
# status.
NEXT_STEPS = {
    "submitted": _l("Your application is being checked against the city's truck rules."),
    "pending_review": _l(
        "A truck-pass clerk reviews your application, usually within one working day; you see "
        "the decision here. You need do nothing meanwhile."
    ),
    "approved": _l(
        "Your pass is issued: show this page or its QR code at a check, within the zones, dates "
        "and daily times above."
    ),
    "ended": _l("This pass has ended. For more days, apply for a new pass."),
    "re-registered": _l(
        "This pass ended when the truck was registered to its new owner, who applies for a "
        "pass of their own."
    ),
    "refused": _l(
        "Your application was refused for the reason above. Deal with it (or choose other "
        "zones, dates or times) and apply again."
    ),
    "revoked": _l(
        "Your pass was revoked for the reason above and no longer allows entry; you may apply "
        "again once the reason is dealt with."
    ),
}


def reason_words(raw: str | None) -> str:
    """A pass's stored reason in the reader's language: its codes by their labels (reasons
    that block a vehicle are sentences; the reasons for a review, clauses of one), else a
    clerk's own words as written."""
    codes = [code for code in (raw or "").split(",") if code]
    if codes and all(code in BLOCK_REASONS for code in codes):
        return ("" if is_chinese() else " ").join(str(BLOCK_REASONS[code]) for code in codes)
    table = {**BLOCK_REASONS, **REVIEW_REASONS}
    if codes and all(code in table for code in codes):
        return clauses(table[code] for code in codes)
    return raw or ""


def labels() -> dict:
    """The label tables, for templates."""
    return {
        "reason_words": reason_words,
        "CLASS_LABELS": CLASS_LABELS,
        "TRUCK_LABELS": TRUCK_LABELS,
        "EMISSION_LABELS": EMISSION_LABELS,
        "PASS_STATUS_LABELS": STATUS_LABELS,
        "PASS_VERDICT_LABELS": VERDICT_LABELS,
        "BLOCK_REASONS": BLOCK_REASONS,
        "REVIEW_REASONS": REVIEW_REASONS,
        "PASS_NEXT_STEPS": NEXT_STEPS,
        "DAY_LABELS": DAY_LABELS,
        "ANSWERS": ANSWERS,
        "describe_rule": describe_rule,
    }
