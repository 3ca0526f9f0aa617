"""The clerks' rule book of truck passes: restricted zones and their rules. A rule is drafted,
previewed with the warnings it would raise (a class left under 6 free hours on a weekday), and
published or deleted, each audited; the application's steps and the verifier read what is
published.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from core.audit import audit
from core.steps import StepError
from models import RestrictedZone, ZoneRule, utcnow, write_tx
from rules import truckrules, zonegeo
from rules.validators import ValidationError


def save_zone(
    zone: RestrictedZone | None,
    *,
    name,
    name_en,
    description,
    active,
    map_path,
    actor,
    description_en="",
    boundary=None,
) -> RestrictedZone:
    """Create a zone or change one (a new map only when one was uploaded), audited.

    `boundary` is GeoJSON text: checked here (rules.zonegeo) and kept compact; "" removes the
    boundary, None leaves it as it is. A bad boundary is a StepError on its field.
    """
    geometry = None
    if boundary is not None:
        try:
            geometry = zonegeo.parse_boundary(boundary)
        except ValidationError as exc:
            raise StepError(exc.message, "boundary") from None
    with write_tx():
        zone = zone or RestrictedZone()
        zone.name, zone.name_en = name.strip(), (name_en or "").strip()
        zone.description, zone.active = description or "", active
        zone.description_en = (description_en or "").strip()
        if map_path:
            zone.map_image = map_path
        if boundary is not None:
            zone.boundary = zonegeo.dump_boundary(geometry)
        zone.save()
        audit(
            "truck_zone.save",
            zone,
            actor=actor,
            detail={"name": zone.name, "active": zone.active, "boundary": bool(zone.boundary)},
        )
    return zone


@dataclass(frozen=True)
class RuleDraft:
    """A rule as a clerk wrote it, checked but not yet published (what the preview shows)."""

    classes: tuple
    days: tuple
    windows: tuple
    emissions: tuple
    max_days: int
    needs_review: bool

    def as_rule(self, zone_id: int) -> truckrules.Rule:
        """The draft as the pure rule the engine works on."""
        return truckrules.Rule(
            zone_id=zone_id,
            classes=frozenset(self.classes),
            days=frozenset(self.days),
            windows=self.windows,
            emissions=frozenset(self.emissions),
            max_days=self.max_days,
            needs_review=self.needs_review,
        )

    def columns(self) -> dict:
        """The draft as ZoneRule's columns."""
        return {
            "classes": " ".join(self.classes),
            "days": "".join(str(d) for d in self.days),
            "windows": truckrules.format_windows(self.windows),
            "emissions": " ".join(self.emissions),
            "max_days": self.max_days,
            "needs_review": self.needs_review,
        }


def draft_rule(*, classes, days, windows_text, emissions, max_days, needs_review) -> RuleDraft:
    """Check a rule as written; StepError on the field at fault (the windows, classes or days)."""
    try:
        windows = truckrules.parse_windows(windows_text or "")
    except ValueError:
        raise StepError(
            _l("Write the windows as 07:00-09:00, separated by commas."), "windows"
        ) from None
    if not classes:
        raise StepError(_l("Choose at least one class."), "classes")
    if not days:
        raise StepError(_l("Choose at least one day."), "days")
    return RuleDraft(
        classes=tuple(c for c in truckrules.TRUCK_CLASSES if c in classes),
        days=tuple(sorted({int(d) for d in days})),
        windows=tuple(windows),
        emissions=tuple(e for e in truckrules.EMISSION_STANDARDS if e in (emissions or [])),
        max_days=max_days,
        needs_review=bool(needs_review),
    )


def preview_warnings(zone: RestrictedZone, draft: RuleDraft, replacing: ZoneRule | None = None):
    """(class, weekday) pairs on which the zone's rules would leave trucks under 6 free hours
    once this draft is live (in place of `replacing` when a rule is being changed)."""
    others = [r.as_rule() for r in zone.rules() if replacing is None or r.id != replacing.id]
    return truckrules.free_hours_warning([*others, draft.as_rule(zone.id)])


def warning_keys(warnings) -> list[str]:
    """Warnings as short keys ("heavy:1"), carried by the preview form and the audit row."""
    return [f"{cls}:{day}" for cls, day in warnings]


def publish_rule(
    zone: RestrictedZone, draft: RuleDraft, *, actor, accepted=(), replacing: ZoneRule | None = None
) -> ZoneRule:
    """Make a previewed rule live: a new rule, or `replacing` changed in place; audited.

    A rule book that leaves trucks under 6 free hours a day is allowed (the clerk may be
    entering a rule the city has really made), but only when the clerk has seen each of those
    warnings in the preview and confirmed them (`accepted`: their warning_keys); otherwise the
    step refuses on the "confirm" field. The warnings are computed inside the transaction,
    from the rules as they are then, so a warning the clerk never saw is never published.
    """
    with write_tx():
        warnings = preview_warnings(zone, draft, replacing)
        if not set(warning_keys(warnings)) <= set(accepted):
            raise StepError(
                _l(
                    "These rules would leave trucks less than 6 hours a day on some days. Tick "
                    "the box to publish anyway."
                ),
                "confirm",
            )
        detail = {"zone": zone.id, "rule": truckrules.format_windows(draft.windows)}
        if warnings:
            detail["below_six_hours"] = warning_keys(warnings)
        if replacing is None:
            rule = ZoneRule.create(zone=zone, updated_at=utcnow(), **draft.columns())
            audit("truck_rule.add", rule, actor=actor, detail=detail)
            return rule
        changed = (
            ZoneRule.update(updated_at=utcnow(), **draft.columns())
            .where((ZoneRule.id == replacing.id) & (ZoneRule.zone == zone.id))
            .execute()
        )
        if changed != 1:
            raise StepError(_l("This rule has been removed in the meantime."))
        detail["was"] = replacing.windows
        audit("truck_rule.edit", replacing, actor=actor, detail=detail)
    return ZoneRule.get_by_id(replacing.id)


def delete_rule(rule: ZoneRule, actor) -> None:
    """Remove a rule, audited (the row is gone, its audit row says what it was)."""
    with write_tx():
        audit(
            "truck_rule.delete",
            rule,
            actor=actor,
            detail={"zone": rule.zone_id, "windows": rule.windows},
        )
        rule.delete_instance()


def zone_warnings(zone: RestrictedZone) -> list:
    """(class, weekday) pairs on which this zone's rules leave trucks under 6 free hours."""
    return truckrules.free_hours_warning([r.as_rule() for r in zone.rules()])
