"""The clerks' rule book (blueprints/truckpass/clerk.py and rulebook.py): a rule is previewed,
with the 6-hour warning, before it goes live; publishing a warned rule needs a confirmation of
the warnings shown; rules change in place; zone boundaries are GeoJSON, drawn as SVG."""

import json

import pytest

from blueprints.truckpass import rulebook
from core.steps import StepError
from models import AuditEvent, RestrictedZone, TruckPassZone, ZoneRule
from models.truckpass import APPROVED

from .helpers import field_error, page

LONG_DAYS = {
    "classes": ["heavy"],
    "days": [str(d) for d in range(1, 8)],
    "windows": "05:00-23:30",  # leaves 5.5 hours: below the national 6
    "emissions": ["china6"],
    "max_days": "10",
}
SHORT_DAYS = {**LONG_DAYS, "windows": "07:00-09:00"}
SQUARE = [[120.30, 36.06], [120.33, 36.06], [120.33, 36.08], [120.30, 36.08], [120.30, 36.06]]


@pytest.fixture
def clerk(make, login):
    """A truck-pass clerk, logged in."""
    user = make.staff("truckpass_clerk")
    login(user)
    return user


def rule_count(conn, zone) -> int:
    with conn():
        return ZoneRule.select().where(ZoneRule.zone == zone.id).count()


def draft(**overrides):
    fields = {
        "classes": ["heavy"],
        "days": [1, 2, 3, 4, 5, 6, 7],
        "windows_text": "05:00-23:30",
        "emissions": ["china6"],
        "max_days": 10,
        "needs_review": False,
        **overrides,
    }
    return rulebook.draft_rule(**fields)


# --- The service ------------------------------------------------------------------------------


def test_publish_refuses_a_warned_rule_without_the_warnings_accepted(app, make, conn):
    zone = make.zone()
    clerk = make.staff("truckpass_clerk")
    with app.test_request_context(), conn():
        warned = draft()
        keys = rulebook.warning_keys(rulebook.preview_warnings(zone, warned))
        assert keys == [f"heavy:{d}" for d in range(1, 8)]
        with pytest.raises(StepError) as refused:
            rulebook.publish_rule(zone, warned, actor=clerk)
        assert refused.value.field == "confirm"
        # Accepting only some of the warnings is not accepting them.
        with pytest.raises(StepError):
            rulebook.publish_rule(zone, warned, actor=clerk, accepted=keys[:3])
        assert ZoneRule.select().where(ZoneRule.zone == zone.id).count() == 1
        rule = rulebook.publish_rule(zone, warned, actor=clerk, accepted=keys)
        assert rule.windows == "05:00-23:30"
        row = AuditEvent.get(AuditEvent.action == "truck_rule.add")
        assert row.detail_dict["below_six_hours"] == keys


def test_a_rule_without_warnings_needs_no_confirmation(app, make, conn):
    zone = make.zone()
    clerk = make.staff("truckpass_clerk")
    with app.test_request_context(), conn():
        rule = rulebook.publish_rule(zone, draft(windows_text="07:00-09:00"), actor=clerk)
        assert rule.id and "below_six_hours" not in AuditEvent.get().detail_dict


def test_a_rule_is_changed_in_place(app, make, conn):
    zone = make.zone()
    clerk = make.staff("truckpass_clerk")
    with app.test_request_context(), conn():
        rule = ZoneRule.get(ZoneRule.zone == zone.id)
        changed = rulebook.publish_rule(
            zone, draft(windows_text="10:00-12:00"), actor=clerk, replacing=rule
        )
        assert changed.id == rule.id and changed.windows == "10:00-12:00"
        assert ZoneRule.select().count() == 1
        row = AuditEvent.get(AuditEvent.action == "truck_rule.edit")
        assert row.detail_dict["was"] == "07:00-09:00, 17:00-19:00"


def test_editing_a_rule_warns_against_the_other_rules_not_the_old_self(app, make, conn):
    """The preview of a change counts the zone's other rules and the new version, not the
    version it replaces."""
    zone = make.zone({"classes": "heavy", "days": "1234567", "windows": "05:00-23:30"})
    with app.test_request_context(), conn():
        rule = ZoneRule.get(ZoneRule.zone == zone.id)
        assert rulebook.preview_warnings(zone, draft(windows_text="07:00-09:00"), rule) == []
        assert rulebook.preview_warnings(zone, draft(windows_text="07:00-09:00")) != []


def test_a_rule_removed_meanwhile_is_not_brought_back(app, make, conn):
    zone = make.zone()
    clerk = make.staff("truckpass_clerk")
    with app.test_request_context(), conn():
        rule = ZoneRule.get(ZoneRule.zone == zone.id)
        ZoneRule.delete().execute()
        with pytest.raises(StepError):
            rulebook.publish_rule(
                zone, draft(windows_text="07:00-09:00"), actor=clerk, replacing=rule
            )
        assert ZoneRule.select().count() == 0


def test_draft_names_the_field_at_fault(app):
    with app.test_request_context():
        for overrides, name in (
            ({"windows_text": "soon"}, "windows"),
            ({"classes": []}, "classes"),
            ({"days": []}, "days"),
        ):
            with pytest.raises(StepError) as refused:
                draft(**overrides)
            assert refused.value.field == name


# --- The pages --------------------------------------------------------------------------------


def test_the_warning_is_shown_before_the_rule_goes_live(client, make, conn, clerk):
    zone = make.zone()
    preview = page(client.post(f"/trucks/zones/{zone.id}/rules", data=LONG_DAYS))
    assert rule_count(conn, zone) == 1  # a preview publishes nothing
    assert "少于 6 小时" in preview.select_one("#rule-warning").get_text()
    assert "预览" in preview.select_one("#rule-preview h2").get_text()
    assert "05:00-23:30" in preview.select_one("#rule-preview blockquote").get_text()
    # The safe button first: Enter in a field previews again, it never publishes.
    buttons = preview.select("#rule-form button[type=submit]")
    assert [b["value"] for b in buttons] == ["preview", "publish"]
    seen = preview.select_one("input[name=seen]")["value"]
    unconfirmed = page(
        client.post(
            f"/trucks/zones/{zone.id}/rules", data={**LONG_DAYS, "intent": "publish", "seen": seen}
        ),
        422,
    )
    assert "勾选" in field_error(unconfirmed, "confirm")
    assert rule_count(conn, zone) == 1
    done = client.post(
        f"/trucks/zones/{zone.id}/rules",
        data={**LONG_DAYS, "intent": "publish", "seen": seen, "confirm": "y"},
    )
    assert done.status_code == 303 and rule_count(conn, zone) == 2


def test_a_confirmation_of_other_warnings_does_not_count(client, make, conn, clerk):
    """The clerk previewed a harmless rule, then changed it to a harmful one and pressed
    publish with the old (empty) list of warnings: refused, and the new warning shown."""
    zone = make.zone()
    response = client.post(
        f"/trucks/zones/{zone.id}/rules",
        data={**LONG_DAYS, "intent": "publish", "seen": "", "confirm": "y"},
    )
    soup = page(response, 422)
    assert soup.select_one("#rule-warning") and field_error(soup, "confirm")
    assert rule_count(conn, zone) == 1


def test_a_harmless_rule_is_published_from_its_preview(client, make, conn, clerk):
    zone = make.zone()
    preview = page(client.post(f"/trucks/zones/{zone.id}/rules", data=SHORT_DAYS))
    assert not preview.select("#rule-warning") and not preview.select("input[name=confirm]")
    done = client.post(f"/trucks/zones/{zone.id}/rules", data={**SHORT_DAYS, "intent": "publish"})
    assert done.status_code == 303 and rule_count(conn, zone) == 2
    assert "规则已发布" in page(client.get(done.headers["Location"])).get_text()


def test_a_rule_is_edited_in_place_through_the_pages(client, make, conn, clerk):
    zone = make.zone()
    with conn():
        rule = ZoneRule.get(ZoneRule.zone == zone.id)
    soup = page(client.get(f"/trucks/zones/{zone.id}"))
    assert soup.select_one(f'a[href="/trucks/rules/{rule.id}/edit"]')
    form = page(client.get(f"/trucks/rules/{rule.id}/edit"))
    assert form.select_one("input[name=windows]")["value"] == "07:00-09:00, 17:00-19:00"
    checked = {i["value"] for i in form.select("input[name=days][checked]")}
    assert checked == {"1", "2", "3", "4", "5"}
    fields = {**SHORT_DAYS, "windows": "10:00-11:00"}
    preview = page(client.post(f"/trucks/rules/{rule.id}/edit", data=fields))
    assert "10:00-11:00" in preview.select_one("#rule-preview").get_text()
    with conn():
        assert ZoneRule.get_by_id(rule.id).windows == "07:00-09:00, 17:00-19:00"
    done = client.post(f"/trucks/rules/{rule.id}/edit", data={**fields, "intent": "publish"})
    assert done.status_code == 303
    with conn():
        assert ZoneRule.get_by_id(rule.id).windows == "10:00-11:00"
        assert ZoneRule.select().count() == 1


def test_bad_rule_input_reshows_the_editor(client, make, clerk):
    zone = make.zone()
    soup = page(
        client.post(f"/trucks/zones/{zone.id}/rules", data={**LONG_DAYS, "windows": "x"}), 422
    )
    assert field_error(soup, "windows") and not soup.select("#rule-preview")


def test_the_zone_editor_keeps_a_geojson_boundary(client, make, conn, clerk):
    zone = make.zone()
    fields = {"name": "老城区", "name_en": "Old town", "active": "y"}
    bad = page(
        client.post(
            f"/trucks/zones/{zone.id}",
            data={
                **fields,
                "boundary": json.dumps({"type": "Polygon", "coordinates": [SQUARE[:-1]]}),
            },
        ),
        422,
    )
    assert "闭合" in field_error(bad, "boundary")
    swapped = [[lat, lon] for lon, lat in SQUARE]
    english = page(
        client.post(
            f"/trucks/zones/{zone.id}?hl=en",
            data={**fields, "boundary": json.dumps({"type": "Polygon", "coordinates": [swapped]})},
            headers={"Accept-Language": "en"},
        ),
        422,
    )
    assert "longitude first" in field_error(english, "boundary")
    good = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [SQUARE]}}
    saved = client.post(f"/trucks/zones/{zone.id}", data={**fields, "boundary": json.dumps(good)})
    assert saved.status_code == 303
    with conn():
        kept = json.loads(RestrictedZone.get_by_id(zone.id).boundary)
    assert kept == {"type": "Polygon", "coordinates": [SQUARE]}
    soup = page(client.get(f"/trucks/zones/{zone.id}"))
    assert soup.select_one(".zone-shape svg path")
    assert json.loads(soup.select_one("textarea[name=boundary]").get_text()) == kept
    cleared = client.post(f"/trucks/zones/{zone.id}", data={**fields, "boundary": ""})
    assert cleared.status_code == 303
    with conn():
        assert RestrictedZone.get_by_id(zone.id).boundary == ""


def test_the_public_rules_page_draws_each_zone(client, make, conn):
    zone = make.zone()
    with conn():
        RestrictedZone.update(
            boundary=json.dumps({"type": "Polygon", "coordinates": [SQUARE]})
        ).where(RestrictedZone.id == zone.id).execute()
    make.zone(name="无边界区")
    soup = page(client.get("/trucks/rules"))
    shapes = soup.select(".zone-shape svg")
    assert len(shapes) == 1  # the zone with no boundary draws nothing
    svg = shapes[0]
    assert svg["role"] == "img" and "老城区" in svg["aria-label"]
    path = svg.select_one("path")["d"]
    assert path.startswith("M") and path.endswith("Z") and path.count("L") == 3
    # Served from the page itself: nothing from outside (no tiles, no external href).
    assert not svg.select("image") and "http" not in str(svg).replace(
        "http://www.w3.org/2000/svg", ""
    )


def test_the_pass_shows_its_zones(client, make, conn, login):
    citizen = make.citizen()
    truck_pass = make.truck_pass(citizen, status=APPROVED)
    with conn():
        zone_id = TruckPassZone.get(TruckPassZone.truck_pass == truck_pass.id).zone_id
        RestrictedZone.update(
            boundary=json.dumps({"type": "Polygon", "coordinates": [SQUARE]})
        ).where(RestrictedZone.id == zone_id).execute()
    login(citizen)
    soup = page(client.get(f"/trucks/passes/{truck_pass.id}"))
    assert len(soup.select(".pass-zones .zone-shape svg path")) == 1
    # The panel that refreshes every minute is the pass itself; the drawing stays outside it.
    assert not soup.select("#pass-panel .zone-shape")
