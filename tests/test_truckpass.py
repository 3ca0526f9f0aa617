"""Truck passes through the pages: the public rules, the steps of an application, deciding,
the pass code and the verifier (with a controllable clock)."""

import dataclasses
import datetime as dt
import io
import os
import re

import pytest
from bs4 import BeautifulSoup

import rules.clock as app_clock
from models import AuditEvent, Notice, TruckPass, TruckPassDocument, Vehicle, ZoneRule, db
from models.truckpass import APPROVED, PENDING_REVIEW, RETURNED, REVOKED, WITHDRAWN
from rules.validators import display_plate

from .helpers import field_error, page, tiny_pdf, tiny_png

# Monday 2026-11-30 in Beijing; the default zone restricts heavy trucks 07-09 and 17-19 Mon-Fri.
MONDAY = dt.date(2026, 11, 30)


@pytest.fixture
def clock(monkeypatch):
    """Set the application's clock to a Beijing wall-clock time: clock("2026-11-30 08:00")."""

    def set_to(local: str):
        utc = app_clock.beijing_to_utc(dt.datetime.fromisoformat(local))
        monkeypatch.setattr(app_clock, "utc_now", lambda: utc)

    set_to("2026-11-27 10:00")  # the Friday before: applications for Monday are in the future
    return set_to


def verdict(response) -> str:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    return soup.find("meta", attrs={"name": "verification-result"})["content"]


def steps(
    client,
    plate,
    zone,
    klass="heavy",
    emission="china6",
    start=MONDAY,
    days=3,
    windows="07:00-09:00",
    purpose="钢材运输",
    document=None,
):
    """Walk the five steps with plain form posts; returns the last response."""
    data = {"step": "1", "plate": plate}
    response = client.post("/trucks/apply", data=data)
    if response.status_code != 200:
        return response
    for step, more in (
        (2, {"truck_class": klass, "emission": emission}),
        (3, {"zones": [str(zone.id)]}),
        (
            4,
            {
                "start_date": start.isoformat(),
                "end_date": (start + dt.timedelta(days=days - 1)).isoformat(),
                "windows": windows,
            },
        ),
        (5, {"purpose": purpose}),
    ):
        data = {**data, **more, "step": str(step)}
        if step == 5 and document is not None:
            data["document"] = document
            response = client.post("/trucks/apply", data=data, content_type="multipart/form-data")
        else:
            response = client.post("/trucks/apply", data=data)
        if response.status_code != 200:
            return response
        assert (
            f"第 {step + 1 if step < 5 else 5} 步" in response.get_data(as_text=True) or step == 5
        )
    return response


def created_pass() -> TruckPass:
    with db.connection_context():
        return TruckPass.select().order_by(TruckPass.id.desc()).get()


def test_public_rules_and_the_question(client, make, clock):
    zone = make.zone()
    soup = page(client.get("/trucks/rules"))
    assert "周一–周五" in soup.get_text() and "07:00-09:00" in soup.get_text()
    # In English the classes after the first are written inside the sentence, in lower case.
    english = page(client.get("/trucks/rules", headers={"Accept-Language": "en"})).get_text()
    assert "Medium trucks and heavy trucks may not enter" in english
    # A list ends with "and"; "China V" is a name, "new energy" is not.
    assert "Passes are issued to China V, China VI and new energy trucks" in english
    ask = "/trucks/rules?zone={}&truck_class={}&emission={}&at={}"
    cases = [
        ("heavy", "china6", "2026-11-30T08:00", "需持通行码"),
        ("heavy", "china4", "2026-11-30T08:00", "不能"),
        ("heavy", "china4", "2026-11-30T12:00", "可以"),
        ("light", "china3", "2026-11-30T08:00", "可以"),
    ]
    for klass, emission, at, expected in cases:
        soup = page(client.get(ask.format(zone.id, klass, emission, at)))
        assert expected in soup.select_one(".answer").get_text()
    # A heavy truck carrying hazardous goods is still a heavy truck: the heavy trucks' night
    # ban holds for it too.
    night = make.zone({"classes": "heavy", "days": "1234567", "windows": "22:00-06:00"})
    for carries in ("", "&hazardous=y"):
        url = ask.format(night.id, "heavy", "china4", "2026-11-30T23:00") + carries
        assert "不能" in page(client.get(url)).select_one(".answer").get_text()


def test_a_zone_issuing_no_pass_does_not_blame_the_emission_standard(client, make, clock):
    tunnel = make.zone(
        {
            "classes": "hazardous",
            "days": "1234567",
            "windows": "00:00-24:00",
            "emissions": "",
            "needs_review": True,
        },
        name="隧道",
    )
    rules = page(client.get("/trucks/rules")).get_text()
    told = rules[rules.index("隧道") :]
    assert "不办理通行码" in told and "审核" not in told
    ask = (
        f"/trucks/rules?zone={tunnel.id}&truck_class=medium&hazardous=y&emission=china6"
        "&at=2026-11-30T08:00"
    )
    answer = page(client.get(ask)).select_one(".answer").get_text()
    assert "不核发通行码" in answer and "排放" not in answer
    answer = page(client.get(ask, headers={"Accept-Language": "en"})).select_one(".answer")
    assert "no pass is issued" in answer.get_text() and "emission" not in answer.get_text()


def test_an_application_meeting_every_rule_is_approved_at_once(client, make, login, clock, conn):
    owner = make.citizen()
    truck, zone = make.truck(owner), make.zone()
    login(owner)
    response = steps(client, truck.plate, zone)
    assert response.status_code == 303
    truck_pass = created_pass()
    assert truck_pass.status == APPROVED and response.location.endswith(f"/passes/{truck_pass.id}")
    with conn():
        actions = [
            a.action
            for a in AuditEvent.select().order_by(AuditEvent.id)
            if a.action.startswith("truck_pass.")
        ]
        kinds = [n.kind for n in Notice.select()]
    assert actions == ["truck_pass.apply", "truck_pass.approved"]
    assert kinds == ["truckpass.approved"]  # the owner applied: told once, as the applicant
    # Inside its window the QR verifies "valid"; outside it, "not valid now".
    clock("2026-11-30 08:15")
    soup = page(client.get(f"/trucks/passes/{truck_pass.id}"))
    assert "is-valid" in soup.find(id="pass-panel")["class"]
    assert verdict(client.get(f"/p/{truck_pass.handle}")) == "valid"
    clock("2026-11-30 12:00")
    soup = page(client.get(f"/trucks/passes/{truck_pass.id}"))
    assert "is-idle" in soup.find(id="pass-panel")["class"]
    assert verdict(client.get(f"/p/{truck_pass.handle}")) == "outside-window"
    clock("2026-11-29 08:00")
    assert verdict(client.get(f"/p/{truck_pass.handle}")) == "not-yet-valid"
    clock("2026-12-03 08:00")
    assert verdict(client.get(f"/p/{truck_pass.handle}")) == "expired-pass"


def test_plate_lookup_gives_the_same_verdict_as_the_qr(client, make, login, clock):
    owner = make.citizen()
    truck, zone = make.truck(owner), make.zone()
    login(owner)
    steps(client, truck.plate, zone)
    truck_pass = created_pass()
    other_zone = make.zone(name="崂山")
    light_only = make.zone({"classes": "light"}, name="隧道")
    for moment in ("2026-11-30 08:30", "2026-11-30 13:00", "2026-12-05 08:00"):
        clock(moment)
        by_qr = verdict(client.get(f"/p/{truck_pass.handle}"))
        plate = truck.plate.replace("鲁B", "鲁b ")
        assert verdict(client.get(f"/verify/truck?plate={plate}&zone={zone.id}")) == by_qr
        # In no zone, a valid pass is no tick: it covers its own zones only.
        anywhere = "valid-in-its-zones" if by_qr == "valid" else by_qr
        assert verdict(client.get(f"/verify/truck?plate={truck.plate}")) == anywhere
    assert verdict(client.get(f"/verify/truck?plate={truck.plate}&zone={other_zone.id}")) == (
        "no-pass"
    )
    assert client.get("/verify/truck?plate=XX").status_code == 400
    for made_up in ("99999", "x"):  # a zone not on the list is said so, not taken for any zone
        refused = client.get(f"/verify/truck?plate={truck.plate}&zone={made_up}")
        assert refused.status_code == 400
        shown = page(refused, 400)
        assert "从列表中选择区域" in shown.find(id="zone-error").get_text()
        assert shown.find(id="zone")["aria-describedby"] == "zone-error"
        assert not shown.find(id="plate").get("aria-invalid")
    # The form asks for the zone the truck is in: chosen, not "any" (the browser holds an
    # empty choice back; an address without one is answered below).
    select = page(client.get("/verify/truck")).find(id="zone")
    assert select.has_attr("required") and select.option["value"] == ""
    # Asked in any zone, the answer says the pass covers its own zones, and asks again in one.
    clock("2026-11-30 08:30")  # in the pass's hours: valid, but only in its own zones
    anywhere = page(client.get(f"/verify/truck?plate={truck.plate}"))
    heading = anywhere.select_one("h1.verdict")
    assert "unknown" in heading["class"] and heading.span.get_text() == "?"
    again = anywhere.find(id="any-zone-zh")
    assert (
        again["action"] == "/verify/truck"
        and again.find("input", attrs={"name": "plate"})["value"] == truck.plate
    )
    offered = {option["value"] for option in again.find("select").find_all("option")}
    # Not the zone where heavy trucks need no pass: "no pass" would be no fault there.
    assert offered == {str(zone.id), str(other_zone.id)} and str(light_only.id) not in offered
    assert anywhere.find(id="any-zone-en")  # the English copy has its own
    asked = page(client.get(f"/verify/truck?plate={truck.plate}&zone={zone.id}"))
    assert asked.find(id="any-zone-zh") is None  # a zone was chosen


def test_blocked_vehicles_are_refused_at_the_first_step(client, make, login, clock):
    owner = make.citizen()
    zone = make.zone()
    login(owner)
    cases = [
        ({"status": "stolen"}, "被盗"),
        ({"status": "seized"}, "查封"),
        ({"status": "scrapped"}, "报废"),
        ({"inspection_valid_until": dt.date(2026, 1, 1)}, "检验已逾期"),
        ({"vehicle_type": "small_car"}, "不是货车"),
    ]
    for overrides, reason in cases:
        truck = make.truck(owner, **overrides)
        soup = page(steps(client, truck.plate, zone), 422)
        assert reason in field_error(soup, "plate"), reason
    soup = page(steps(client, "鲁I12345", zone), 422)
    assert field_error(soup, "plate")
    with db.connection_context():
        assert TruckPass.select().count() == 0


def test_the_rules_refuse_at_the_step_where_it_happens(client, make, login, clock):
    owner = make.citizen()
    zone = make.zone({"max_days": 7})
    login(owner)
    old = make.truck(owner, emission_standard="china4")
    soup = page(steps(client, old.plate, zone, emission="china4"), 422)
    assert "第 3 步" in soup.get_text() and "不能办理" in field_error(soup, "zones")
    truck = make.truck(owner)
    soup = page(steps(client, truck.plate, zone, days=10), 422)
    assert "第 4 步" in soup.get_text() and "最长 7 天" in field_error(soup, "end_date")
    soup = page(steps(client, truck.plate, zone, start=dt.date(2026, 11, 1)), 422)
    assert "不能早于今天" in field_error(soup, "start_date")
    soup = page(steps(client, truck.plate, zone, windows="7 to 9"), 422)
    assert field_error(soup, "windows")


def test_review_queue_decision_and_revocation(client, make, login, clock, conn, app):
    owner, other = make.citizen(), make.citizen()
    truck = make.truck(other)  # the applicant drives someone else's truck: a clerk decides
    zone = make.zone()
    login(owner)
    assert steps(client, truck.plate, zone).status_code == 303
    truck_pass = created_pass()
    assert truck_pass.status == PENDING_REVIEW and "not-owner" in truck_pass.reason
    soup = page(client.get(f"/trucks/passes/{truck_pass.id}"))
    assert "申请人不是登记车主" in soup.get_text()
    client.post("/logout", data={})
    clerk = make.staff("truckpass_clerk")
    login(clerk)
    soup = page(client.get("/trucks/queue"))
    assert display_plate(truck.plate) in soup.select_one("#queue").get_text()
    url = f"/trucks/review/{truck_pass.id}"
    soup = page(client.post(url, data={"action": "refuse", "reason": ""}), 422)
    assert field_error(soup, "reason")
    with conn():  # the page drawn again with its error is a read of the application, logged
        assert AuditEvent.get(AuditEvent.action == "truck_pass.view").object_id == str(
            truck_pass.id
        )
    assert (
        client.post(url, data={"action": "approve", "reason": "已核实租赁合同"}).status_code == 303
    )
    with conn():
        assert TruckPass.get_by_id(truck_pass.id).status == APPROVED
        # The truck's owner is told a pass was issued for it on another's application.
        told = {(n.user_id, n.kind) for n in Notice.select()}
        assert (other.id, "truckpass.issued_to_another") in told
        assert (owner.id, "truckpass.approved") in told
        assert (owner.id, "truckpass.issued_to_another") not in told
    # A second decision on the same application changes nothing.
    client.post(url, data={"action": "refuse", "reason": "迟到的决定", "confirmed": "yes"})
    with conn():
        assert TruckPass.get_by_id(truck_pass.id).status == APPROVED
    clock("2026-11-30 08:00")
    assert verdict(client.get(f"/p/{truck_pass.handle}")) == "valid"
    # Revoking is told to the holder at once and cannot be undone: it is asked first, with the
    # reason shown.
    asked = page(client.post(url, data={"action": "revoke", "reason": "违规通行"}))
    assert "违规通行" in asked.get_text() and asked.select_one("input[name=confirmed][value=yes]")
    with conn():
        assert TruckPass.get_by_id(truck_pass.id).status == APPROVED
    client.post(url, data={"action": "revoke", "reason": "违规通行", "confirmed": "yes"})
    with conn():
        assert TruckPass.get_by_id(truck_pass.id).status == REVOKED
        assert AuditEvent.get(AuditEvent.action == "truck_pass.revoked").actor_id == clerk.id
    assert verdict(client.get(f"/p/{truck_pass.handle}")) == "revoked"
    # Every row of the clerk's reading names the application: an act is audited as the act.
    page(client.get(url))
    with conn():
        reads = AuditEvent.select().where(AuditEvent.action == "truck_pass.view")
        assert reads.count() >= 1
        assert {row.object_id for row in reads} == {str(truck_pass.id)}


def test_documents_are_checked_and_send_the_application_to_review(app, client, make, login, clock):
    owner = make.citizen()
    truck, zone = make.truck(owner), make.zone()
    login(owner)
    html = (io.BytesIO(b"<html><script>alert(1)</script></html>"), "permit.pdf")
    soup = page(steps(client, truck.plate, zone, document=html), 422)
    assert "不接受" in field_error(soup, "document")
    pdf = (io.BytesIO(tiny_pdf()), "permit.pdf")
    assert steps(client, truck.plate, zone, document=pdf).status_code == 303
    truck_pass = created_pass()
    assert truck_pass.status == PENDING_REVIEW and "documents" in truck_pass.reason
    with db.connection_context():
        doc = TruckPassDocument.get(TruckPassDocument.truck_pass == truck_pass.id)
    assert doc.mime == "application/pdf" and "permit" not in doc.relpath
    # The applicant sees the document from the pass's page (what a refusal may be about), and
    # reading one's own is not audited; another citizen gets 404.
    link = f"/trucks/documents/{doc.id}"
    assert page(client.get(f"/trucks/passes/{truck_pass.id}")).find("a", href=link)
    mine = client.get(link)
    assert mine.status_code == 200 and mine.data == tiny_pdf()
    with db.connection_context():
        read = AuditEvent.select().where(AuditEvent.action == "truck_pass.document_read")
        assert not read.exists()
    stranger = app.test_client()
    make.login(stranger, make.citizen())
    assert stranger.get(link).status_code == 404


def test_hazardous_goods_always_go_to_review(client, make, login, clock):
    owner = make.citizen()
    truck = make.truck(owner)
    zone = make.zone(
        {
            "classes": "hazardous",
            "days": "1234567",
            "windows": "06:00-22:00",
            "emissions": "china6",
            "needs_review": True,
        }
    )
    login(owner)
    steps(client, truck.plate, zone, klass="hazardous")
    assert created_pass().status == PENDING_REVIEW


def test_a_heavy_truck_carrying_hazardous_goods_is_still_a_heavy_truck(client, make, login, clock):
    """Hazardous goods add to the truck's class, they do not replace it: a zone that bans heavy
    trucks at night needs a pass for a heavy truck carrying them too (it had been told no pass
    was needed), and its emission rule applies."""
    owner = make.citizen()
    truck = make.truck(owner)
    night = make.zone({"classes": "heavy", "days": "1234567", "windows": "22:00-06:00"})
    login(owner)
    assert (
        steps(client, truck.plate, night, klass="hazardous", windows="22:00-06:00").status_code
        == 303
    )
    applied = created_pass()
    assert (applied.truck_class, applied.status) == ("hazardous", PENDING_REVIEW)
    old = make.truck(owner, emission_standard="china4")
    refused = page(steps(client, old.plate, night, klass="hazardous"), 422)
    assert "国四" in field_error(refused, "zones")
    # A zone that issues no pass to a class says so, not that the emission standard is wrong;
    # and its rules do not also say that applications are reviewed.
    tunnel = make.zone(
        {"classes": "hazardous", "days": "1234567", "windows": "00:00-24:00", "emissions": ""},
        name="隧道",
    )
    closed = field_error(page(steps(client, truck.plate, tunnel, klass="hazardous"), 422), "zones")
    assert "不为这辆货车办理通行码：隧道" in closed and "国六" not in closed


def test_passes_are_private_and_clerk_pages_need_the_role(client, make, login, clock):
    owner = make.citizen()
    truck, zone = make.truck(owner), make.zone()
    login(owner)
    steps(client, truck.plate, zone)
    truck_pass = created_pass()
    client.post("/logout", data={})
    login(make.citizen())
    assert client.get(f"/trucks/passes/{truck_pass.id}").status_code == 404
    for url in ("/trucks/queue", "/trucks/zones", f"/trucks/review/{truck_pass.id}"):
        assert client.get(url).status_code == 403


def test_rule_editor_warns_below_six_hours_and_asks_before_removing(client, make, login, conn):
    zone = make.zone()
    login(make.staff("truckpass_clerk"))
    page(client.get(f"/trucks/zones/{zone.id}"))
    form = {
        "classes": ["heavy"],
        "days": [str(d) for d in range(1, 8)],
        "windows": "05:00-23:30",
        "emissions": ["china6"],
        "max_days": "10",
    }
    # The warning comes in the preview, before the rule is live; publishing needs a tick.
    preview = page(client.post(f"/trucks/zones/{zone.id}/rules", data=form))
    assert "少于 6 小时" in preview.select_one("#rule-warning").get_text()
    seen = preview.select_one("input[name=seen]")["value"]
    response = client.post(
        f"/trucks/zones/{zone.id}/rules",
        data={**form, "intent": "publish", "seen": seen, "confirm": "y"},
    )
    assert response.status_code == 303
    soup = page(client.get(f"/trucks/zones/{zone.id}"))
    assert "少于 6 小时" in soup.select_one(".form-error").get_text()
    assert "重型货车：周一" in soup.get_text()  # a full-width colon in Chinese
    bad = client.post(f"/trucks/zones/{zone.id}/rules", data={**form, "windows": "soon"})
    assert field_error(page(bad, 422), "windows")
    with conn():
        rule_id = ZoneRule.select().order_by(ZoneRule.id.desc()).get().id
    client.post(f"/trucks/rules/{rule_id}/delete", data={})
    with conn():
        assert ZoneRule.get_or_none(ZoneRule.id == rule_id) is not None
    client.post(f"/trucks/rules/{rule_id}/delete", data={"confirm": "on"})
    with conn():
        assert ZoneRule.get_or_none(ZoneRule.id == rule_id) is None
        assert AuditEvent.get(AuditEvent.action == "truck_rule.delete")


def test_new_zone_with_a_map(client, make, login, conn):
    login(make.staff("truckpass_clerk"))
    png = (io.BytesIO(tiny_png()), "map.png")
    response = client.post(
        "/trucks/zones/new",
        data={"name": "港区", "active": "y", "map_image": png},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    zone_id = int(re.search(r"/zones/(\d+)", response.location).group(1))
    assert client.get(f"/trucks/zones/{zone_id}/map").status_code == 200


def test_htmx_steps_swap_only_the_form(client, make, login, clock):
    owner = make.citizen()
    truck = make.truck(owner)
    login(owner)
    response = client.post(
        "/trucks/apply", data={"step": "1", "plate": truck.plate}, headers={"HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<form") and "第 2 步" in html and "<html" not in html


def test_the_registered_emission_standard_decides(client, make, login, clock):
    owner = make.citizen()
    truck = make.truck(owner, emission_standard="china3")
    login(owner)
    soup = page(steps(client, truck.plate, make.zone(), emission="china6"), 422)
    assert "国三货车不能办理" in field_error(soup, "zones")


def test_someone_elses_blocked_truck_is_not_described(client, make, login, clock, conn):
    """Whoever types the plate of someone else's stolen truck learns nothing of it, not even by
    a refusal: the application goes to a clerk like any for someone else's truck, and the clerk,
    who sees the status, cannot approve it."""
    stolen = make.truck(make.citizen(), status="stolen")
    fine = make.truck(make.citizen())
    zone = make.zone()
    login(make.citizen())
    shown = []
    for truck in (stolen, fine):
        assert steps(client, truck.plate, zone).status_code == 303
        applied = created_pass()
        assert (applied.status, applied.reason) == (PENDING_REVIEW, "not-owner")
        soup = page(client.get(f"/trucks/passes/{applied.id}"))
        shown.append(soup.find("main").get_text())
    assert "被盗" not in shown[0]
    with conn():
        waiting = TruckPass.get(TruckPass.plate == stolen.plate)
    client.post("/logout", data={})
    login(make.staff("truckpass_clerk"))
    url = f"/trucks/review/{waiting.id}"
    assert "被盗" in page(client.get(url)).get_text()
    client.post(url, data={"action": "approve", "reason": ""})
    with conn():
        assert TruckPass.get_by_id(waiting.id).status == PENDING_REVIEW


def test_no_pass_lasts_longer_than_the_city_limit(client, make, login, clock):
    owner = make.citizen()
    zone = make.zone({"max_days": 365})  # the zone's own limit is longer than the city's
    login(owner)
    soup = page(steps(client, make.truck(owner).plate, zone, days=120), 422)
    assert "最长 90 天" in field_error(soup, "end_date")


def test_review_actions_are_a_fixed_list(client, make, login):
    truck_pass = make.truck_pass(status="pending_review")
    login(make.staff("truckpass_clerk"))
    response = client.post(f"/trucks/review/{truck_pass.id}", data={"action": "other"})
    assert response.status_code == 400
    with db.connection_context():
        assert TruckPass.get_by_id(truck_pass.id).status == PENDING_REVIEW


def test_the_clerk_sees_a_lapsed_inspection_and_not_the_applicants_next_step(
    client, make, login, conn
):
    truck_pass = make.truck_pass(status="pending_review", reason="not-owner")
    with conn():
        Vehicle.update(inspection_valid_until=dt.date.today() - dt.timedelta(days=40)).where(
            Vehicle.id == truck_pass.vehicle_id
        ).execute()
    login(truck_pass.applicant)
    soup = page(client.get(f"/trucks/passes/{truck_pass.id}"))
    assert "您无需做任何事" in soup.select_one("#next-step").get_text()
    client.post("/logout", data={})
    login(make.staff("truckpass_clerk"))
    soup = page(client.get(f"/trucks/review/{truck_pass.id}"))
    assert soup.select_one("#next-step") is None  # the applicant's words, not the clerk's
    facts = soup.get_text(" ", strip=True)
    assert "检验有效期至" in facts and "已过期" in facts


def test_the_dates_step_says_every_fault_at_once(client, make, login, clock):
    owner = make.citizen()
    login(owner)
    last_week = MONDAY - dt.timedelta(days=7)
    soup = page(
        steps(client, make.truck(owner).plate, make.zone(), start=last_week, windows="早上"), 422
    )
    assert "不能早于今天" in field_error(soup, "start_date")
    assert "09:00-16:00" in field_error(soup, "windows")
    assert not field_error(soup, "end_date")


def test_a_pass_starts_within_the_lead_time_and_its_hours_are_joined(client, make, login, clock):
    """A first day years ahead is refused (the rules may change meanwhile); hours typed twice
    or overlapping are kept once; a zone posted twice is one zone, not an error page."""
    owner = make.citizen()
    truck, zone = make.truck(owner), make.zone()
    login(owner)
    far = page(steps(client, truck.plate, zone, start=dt.date(9999, 12, 30), days=2), 422)
    assert "最多可提前 60 天申请" in field_error(far, "start_date")
    today = dt.date(2026, 11, 27)  # the clock's Friday
    late = page(steps(client, truck.plate, zone, start=today + dt.timedelta(days=61)), 422)
    assert "最多可提前 60 天申请" in field_error(late, "start_date")
    assert steps(client, truck.plate, zone, start=today + dt.timedelta(days=60)).status_code == 303
    assert (
        steps(
            client, truck.plate, zone, windows="07:00-08:30, 08:00-09:00, 07:00-08:30"
        ).status_code
        == 303
    )
    assert created_pass().windows == "07:00-09:00"
    data = {"step": "3", "plate": truck.plate, "truck_class": "heavy", "emission": "china6"}
    twice = client.post("/trucks/apply", data={**data, "zones": [str(zone.id)] * 3})
    assert twice.status_code == 200 and "第 4 步" in page(twice).get_text()


def test_the_same_application_sent_twice_is_one_application(client, make, login, clock, app):
    """A double tap on "submit" (or the same application sent again): the second answer leads to
    the first application, nothing is added, and a document the second one carried is not kept.
    Other days are another application."""
    owner = make.citizen()
    truck, zone = make.truck(owner), make.zone()
    login(owner)
    first = steps(client, truck.plate, zone)
    assert first.status_code == 303

    def stored():
        return {name for _, _, names in os.walk(app.config["UPLOAD_FOLDER"]) for name in names}

    kept = stored()
    again = steps(client, truck.plate, zone, document=(io.BytesIO(tiny_pdf()), "permit.pdf"))
    assert again.status_code == 303 and again.location == first.location
    with db.connection_context():
        assert TruckPass.select().count() == 1
    assert stored() == kept
    assert "您已提交过这份申请" in page(client.get(again.location)).get_text()
    later = steps(client, truck.plate, zone, start=MONDAY + dt.timedelta(days=7))
    assert later.status_code == 303 and later.location != first.location


def test_one_truck_gets_one_pass_for_each_hour_of_a_zone(client, make, login, clock):
    """A second application covering hours of a zone that a standing pass or application of the
    same truck covers already is refused at the dates: the applicant's own is named, someone
    else's is not described. Other hours of the same days, or the same hours on other days, are
    another pass."""
    owner, driver = make.citizen(), make.citizen()
    truck, zone = make.truck(owner), make.zone()
    login(owner)
    assert steps(client, truck.plate, zone, days=3).status_code == 303
    first = created_pass()
    twice = steps(
        client, truck.plate, zone, start=MONDAY + dt.timedelta(days=1), windows="08:00-09:00"
    )
    assert twice.status_code == 422
    said = field_error(page(twice, 422), "start_date")
    assert "2026-11-30" in said and "2026-12-02" in said and "07:00-09:00" in said
    assert "老城区" in said and "交回" in said
    assert "第 4 步" in page(twice, 422).get_text()
    evening = steps(
        client, truck.plate, zone, start=MONDAY + dt.timedelta(days=1), windows="17:00-19:00"
    )
    assert evening.status_code == 303
    assert steps(client, truck.plate, zone, start=MONDAY + dt.timedelta(days=3)).status_code == 303
    with db.connection_context():
        assert TruckPass.select().count() == 3
    client.post("/logout", data={})
    login(driver)
    theirs = steps(client, truck.plate, zone, windows="08:00-08:30")
    assert theirs.status_code == 422
    said = field_error(page(theirs, 422), "start_date")
    assert "已有" in said and "2026-11-30" not in said and "07:00-09:00" not in said
    with db.connection_context():
        assert TruckPass.get_by_id(first.id).status == APPROVED
        assert TruckPass.select().count() == 3


def test_someone_elses_waiting_application_holds_nobody_up(client, make, login, clock, conn):
    """Anyone may apply for someone else's truck (it waits for a clerk): that does not keep the
    owner from getting their pass for the same hours, and a clerk cannot then issue the other
    one over it."""
    owner, stranger = make.citizen(), make.citizen()
    truck, zone = make.truck(owner), make.zone()
    login(stranger)
    assert steps(client, truck.plate, zone, days=3).status_code == 303
    waiting = created_pass()
    assert waiting.status == PENDING_REVIEW
    client.post("/logout", data={})
    login(owner)
    assert steps(client, truck.plate, zone, start=MONDAY + dt.timedelta(days=1)).status_code == 303
    assert created_pass().status == APPROVED
    client.post("/logout", data={})
    login(make.staff("truckpass_clerk"))
    url = f"/trucks/review/{waiting.id}"
    refused = client.post(url, data={"action": "approve", "reason": ""})
    assert refused.status_code == 303
    said = page(client.get(url)).select_one(".flash").get_text()
    assert "已有已核发的通行码" in said and "撤销" in said
    with conn():
        assert TruckPass.get_by_id(waiting.id).status == PENDING_REVIEW


def test_a_pass_sent_from_another_tab_first_sends_this_one_back_to_the_dates(
    client, make, login, clock
):
    """Two applications for the same hours filled in side by side: the one sent second is
    refused at its last step and goes back to the dates, not half written."""
    owner = make.citizen()
    truck, zone = make.truck(owner), make.zone()
    login(owner)
    data = {
        "plate": truck.plate,
        "truck_class": "heavy",
        "emission": "china6",
        "zones": [str(zone.id)],
        "start_date": MONDAY.isoformat(),
        "end_date": (MONDAY + dt.timedelta(days=1)).isoformat(),
        "windows": "07:00-08:00",
        "purpose": "钢材运输",
    }
    assert client.post("/trucks/apply", data={**data, "step": "4"}).status_code == 200
    assert steps(client, truck.plate, zone, windows="07:30-09:00").status_code == 303
    late = client.post("/trucks/apply", data={**data, "step": "5"})
    assert late.status_code == 422
    assert "第 4 步" in page(late, 422).get_text()
    assert "2026-11-30" in field_error(page(late, 422), "start_date")
    with db.connection_context():
        assert TruckPass.select().count() == 1


def test_the_last_step_refuses_a_double_cover_that_came_in_between(app, make, clock):
    """The check at the dates is repeated where the pass is written, under the truck's lock: an
    application that came in between is not covered twice."""
    from blueprints.truckpass import service
    from core.steps import StepError
    from rules.truckrules import parse_windows

    owner = make.citizen()
    truck, zone = make.truck(owner), make.zone()
    with app.test_request_context(), db.connection_context():
        application = service.Application(
            vehicle=truck,
            truck_class="heavy",
            emission="china6",
            zone_ids=[zone.id],
            start=MONDAY,
            end=MONDAY,
            windows=parse_windows("07:00-09:00"),
            purpose="钢材运输",
            zone_names={zone.id: "老城区"},
        )
        first = service.submit(application, owner)
        with pytest.raises(StepError) as refused:
            service.submit(
                dataclasses.replace(application, end=MONDAY + dt.timedelta(days=1)), owner
            )
        assert refused.value.field == "start_date" and "老城区" in str(refused.value.message)
        assert [p.id for p in TruckPass.select()] == [first.id]


def test_the_applicant_withdraws_an_application_or_returns_a_pass(client, make, login, clock, conn):
    """A slip is undone by the applicant: an application waiting for review leaves the clerks'
    queue, an issued pass stops being valid (its QR says so); each after a confirmation, and
    only by the applicant."""
    owner, other = make.citizen(), make.citizen()
    borrowed, own = make.truck(other), make.truck(owner)
    zone = make.zone()
    login(owner)
    assert steps(client, borrowed.plate, zone).status_code == 303
    waiting = created_pass()
    assert waiting.status == PENDING_REVIEW
    assert steps(client, own.plate, zone).status_code == 303
    issued = created_pass()
    assert issued.status == APPROVED
    for truck_pass, asked, outcome in (
        (waiting, "Withdraw this application?", WITHDRAWN),
        (issued, "Return this pass?", RETURNED),
    ):
        url = f"/trucks/passes/{truck_pass.id}/withdraw"
        soup = page(client.get(f"/trucks/passes/{truck_pass.id}"))
        assert soup.select_one(f"form[action='{url}']")
        shown = page(client.post(url, data={}, headers={"Accept-Language": "en"}))
        assert asked in shown.get_text() and display_plate(truck_pass.plate) in shown.get_text()
        with conn():
            assert TruckPass.get_by_id(truck_pass.id).status == truck_pass.status
        assert client.post(url, data={"confirmed": "yes"}).status_code == 303
        with conn():
            assert TruckPass.get_by_id(truck_pass.id).status == outcome
            # The newest notice says where it stands now (an older one said a clerk would
            # decide it, or that the pass was issued).
            newest = Notice.select().where(Notice.user == owner.id).order_by(Notice.id.desc())
            assert newest.first().kind == f"truckpass.{outcome}"
            assert (
                AuditEvent.get(
                    (AuditEvent.action == f"truck_pass.{outcome}")
                    & (AuditEvent.object_id == str(truck_pass.id))
                ).actor_id
                == owner.id
            )
    told = page(client.get("/notices/")).get_text()
    assert "申请已撤回" in told and "通行码已交回" in told
    # The verifier says so, by the QR and by the plate; an application withdrawn was never a pass.
    clock("2026-11-30 08:00")
    assert verdict(client.get(f"/p/{issued.handle}")) == "returned"
    assert verdict(client.get(f"/verify/truck?plate={own.plate}")) == "returned"
    assert verdict(client.get(f"/verify/truck?plate={borrowed.plate}")) == "no-pass"
    # Nothing more to take back, and the same days may be applied for again.
    assert not page(client.get(f"/trucks/passes/{issued.id}")).select_one("form[action$=withdraw]")
    assert steps(client, own.plate, zone).status_code == 303 and created_pass().id != issued.id
    # Nobody else may withdraw it.
    client.post("/logout", data={})
    login(other)
    assert (
        client.post(
            f"/trucks/passes/{created_pass().id}/withdraw", data={"confirmed": "yes"}
        ).status_code
        == 404
    )
    clerk = make.staff("truckpass_clerk")
    client.post("/logout", data={})
    login(clerk)
    soup = page(client.get("/trucks/queue"))
    assert borrowed.plate not in soup.select_one("#queue").get_text()


def test_the_purpose_says_its_limits(client, make, login, clock):
    """A short purpose ("运煤") is enough; a long one is told its length, not "say briefly"; the
    box itself stops at the limit; and the windows may be typed the Chinese way."""
    owner = make.citizen()
    truck, zone = make.truck(owner), make.zone()
    login(owner)
    long = steps(client, truck.plate, zone, purpose="钢" * 246)
    soup = page(long, 422)
    assert "246" in field_error(soup, "purpose") and "200" in field_error(soup, "purpose")
    assert soup.select_one("#purpose")["maxlength"] == "200"
    # The summary of the last step shows the windows as read.
    summary = page(steps(client, truck.plate, zone, purpose="", windows="07：00～09：00"), 422)
    assert "07:00-09:00" in summary.select_one(".summary").get_text()
    short = steps(client, truck.plate, zone, purpose="运煤", windows="07：00～09：00")
    assert short.status_code == 303
    assert created_pass().windows == "07:00-09:00"


def test_the_hours_start_as_the_zones_restricted_ones_and_free_hours_are_refused(
    client, make, login, clock
):
    """A pass is needed only when the zones restrict the truck: the hours are first filled with
    those (not with a fixed 09:00-16:00), and hours wholly outside them are refused, naming the
    restricted ones (a daytime pass for a zone closed to trucks at night would cover nothing)."""
    owner = make.citizen()
    truck = make.truck(owner)
    night = make.zone({"windows": "22:00-06:00"}, name="崂山风景区")
    login(owner)
    data = {"plate": truck.plate, "truck_class": "heavy", "emission": "china6"}
    client.post("/trucks/apply", data={**data, "step": "1"})
    client.post("/trucks/apply", data={**data, "step": "2"})
    at_dates = page(client.post("/trucks/apply", data={**data, "step": "3", "zones": [night.id]}))
    assert at_dates.select_one("#windows")["value"] == "22:00-06:00"
    soup = page(steps(client, truck.plate, night, windows="09:00-16:00"), 422)
    said = field_error(soup, "windows")
    assert "崂山风景区 周一–周五 22:00-06:00" in said  # zone by zone, with its days
    # Hours that meet the restriction, even across midnight, are taken.
    assert steps(client, truck.plate, night, windows="05:00-08:00").status_code == 303
    # With two zones, the hours must meet each one's: night hours cover nothing in the old town.
    town = make.zone(name="市南老城区")
    data = {**data, "step": "4", "zones": [night.id, town.id], "windows": "22:00-05:00"}
    data.update(start_date=MONDAY.isoformat(), end_date=MONDAY.isoformat())
    said = field_error(page(client.post("/trucks/apply", data=data), 422), "windows")
    assert "市南老城区" in said and "崂山风景区" not in said
    # A field emptied at the dates step is not quietly filled again: it is asked for.
    emptied = page(client.post("/trucks/apply", data={**data, "windows": ""}), 422)
    assert field_error(emptied, "windows")


def test_someone_elses_truck_is_said_to_go_to_a_clerk_from_the_second_step(
    client, make, login, clock
):
    owner, other = make.citizen(), make.citizen()
    theirs, own = make.truck(other), make.truck(owner)
    login(owner)
    said = page(client.post("/trucks/apply", data={"step": "1", "plate": theirs.plate}))
    assert said.find(id="not-own-truck")
    assert not page(client.post("/trucks/apply", data={"step": "1", "plate": own.plate})).find(
        id="not-own-truck"
    )


def test_reasons_are_joined_as_the_language_joins_them(client, make, login):
    """Why a clerk reviews a pass: clauses joined by "；" in Chinese and "; " in English; a
    clerk's refusal is shown as written, its commas kept."""
    applicant = make.citizen()
    waiting = make.truck_pass(applicant, status="pending_review", reason="zone-review,not-owner")
    refused = make.truck_pass(applicant, status="refused", reason="证件不全，请补齐, 再申请")
    login(applicant)
    zh = page(client.get(f"/trucks/passes/{waiting.id}")).get_text()
    assert "区域规则要求人工审核；申请人不是登记车主" in zh and "; " not in zh
    en = page(client.get(f"/trucks/passes/{waiting.id}", headers={"Accept-Language": "en"}))
    assert "a zone's rules ask for a clerk's review; the applicant is not" in en.get_text()
    assert "证件不全，请补齐, 再申请" in page(client.get(f"/trucks/passes/{refused.id}")).get_text()


def test_an_ended_pass_is_not_offered_for_return_nor_said_to_be_usable(client, make, login, conn):
    """A pass past its last day: the page says it has ended, offers no return, and a return
    posted anyway changes nothing."""
    applicant = make.citizen()
    ago = dt.date.today() - dt.timedelta(days=10)
    ended = make.truck_pass(applicant, start_date=ago, end_date=ago + dt.timedelta(days=2))
    login(applicant)
    soup = page(client.get(f"/trucks/passes/{ended.id}"))
    assert "到期结束" in soup.find(id="next-step").get_text()
    assert not soup.find("form", action=f"/trucks/passes/{ended.id}/withdraw")
    client.post(f"/trucks/passes/{ended.id}/withdraw", data={"confirmed": "yes"})
    with conn():
        assert TruckPass.get_by_id(ended.id).status == "approved"


def test_a_rules_times_are_listed_as_the_language_lists(client, make):
    make.zone({"windows": "07:00-09:00, 17:00-19:00"})
    assert "07:00-09:00、17:00-19:00" in page(client.get("/trucks/rules")).get_text()
    english = page(client.get("/trucks/rules", headers={"Accept-Language": "en"})).get_text()
    assert "07:00-09:00 and 17:00-19:00" in english


def test_a_stranger_walking_through_plates_is_stopped_and_an_inspector_is_not(
    app, client, make, login, conn
):
    """Plates without a pass, asked with nobody logged in, count as failed look-ups: after
    CLIENT_FAILURES of them the address is refused (and the audit log gains no row per plate).
    A logged-in inspector checks trucks on the road without such a limit."""
    from blueprints.licence.checks import CLIENT_FAILURES

    plates = [f"鲁B{n:05d}" for n in range(CLIENT_FAILURES + 5)]
    answers = [verdict(client.get(f"/verify/truck?plate={plate}")) for plate in plates]
    assert answers[:CLIENT_FAILURES] == ["no-pass"] * CLIENT_FAILURES
    assert set(answers[CLIENT_FAILURES:]) == {"throttled"}
    with conn():
        checks = AuditEvent.select().where(AuditEvent.action == "truck_pass.check").count()
    assert checks == CLIENT_FAILURES
    inspector = app.test_client()
    inspector.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    make.login(inspector, make.staff("police_inspector"))
    answers = [verdict(inspector.get(f"/verify/truck?plate={plate}")) for plate in plates]
    assert set(answers) == {"no-pass"}


def test_a_truck_no_zone_restricts_is_told_so_at_its_class(client, make, login, clock, conn):
    """A light truck where the zones restrict only medium and heavy ones needs no pass: said at
    the class step, not after choosing zones that all refuse it; once a zone does restrict
    light trucks, the zone step offers that zone only."""
    owner = make.citizen()
    truck = make.truck(owner, vehicle_type="light_truck")
    heavy_only = make.zone()  # medium and heavy trucks only
    login(owner)
    soup = page(steps(client, truck.plate, heavy_only, klass="light"), 422)
    assert "无需通行码" in field_error(soup, "truck_class")
    with conn():
        assert TruckPass.select().count() == 0
    rule = {"classes": "light", "days": "12345", "windows": "07:00-09:00", "emissions": "china6"}
    everyone = make.zone(rule)
    data = {"step": "2", "plate": truck.plate, "truck_class": "light", "emission": "china6"}
    offered = page(client.post("/trucks/apply", data=data)).select("#zones input")
    assert [box["value"] for box in offered] == [str(everyone.id)]
    assert str(heavy_only.id) not in {box["value"] for box in offered}


def test_the_form_opened_again_after_sending_links_the_application(client, make, login, clock):
    """Back from the pass (or another tab) opens the form afresh: it says the application was
    sent, and links it, so that it is not filled in again as if lost."""
    owner = make.citizen()
    truck, zone = make.truck(owner), make.zone()
    login(owner)
    assert page(client.get("/trucks/apply")).find(id="recent-application") is None
    sent = steps(client, truck.plate, zone)
    recent = page(client.get("/trucks/apply")).find(id="recent-application")
    assert display_plate(truck.plate) in recent.get_text() and sent.location.endswith(
        recent.a["href"]
    )
    # The steps of another application being filled in say nothing of it.
    step_two = page(client.post("/trucks/apply", data={"step": "1", "plate": truck.plate}))
    assert step_two.find(id="recent-application") is None
    # Returned since, it is gone: the form does not point to it any more.
    returned = sent.location.rstrip("/").split("/")[-1]
    client.post(f"/trucks/passes/{returned}/withdraw", data={"confirmed": "yes"})
    assert page(client.get("/trucks/apply")).find(id="recent-application") is None
    # Nobody else's form mentions it.
    client.post("/logout", data={})
    login(make.citizen())
    assert page(client.get("/trucks/apply")).find(id="recent-application") is None


def test_a_clerk_finds_an_issued_pass_by_its_plate_to_revoke_it(client, make, login, clock, conn):
    """An issued pass leaves the review queue: the clerk finds it (and the truck's other passes
    and applications) by plate, written as people write plates, and opens it; the search is a
    read of the applicants' data, audited."""
    owner = make.citizen()
    truck, zone = make.truck(owner), make.zone()
    login(owner)
    assert steps(client, truck.plate, zone).status_code == 303
    issued = created_pass()
    assert issued.status == APPROVED
    client.post("/logout", data={})
    login(make.staff("truckpass_clerk"))
    assert truck.plate not in page(client.get("/trucks/queue")).find(id="queue").get_text()
    typed = f" {truck.plate[:2].lower()}·{truck.plate[2:]} "
    found = page(client.get("/trucks/queue", query_string={"plate": typed}))
    rows = found.select("#plate-passes tbody tr")
    assert len(rows) == 1 and "尚未生效" in rows[0].get_text()
    link = rows[0].a["href"]
    assert link == f"/trucks/review/{issued.id}"
    assert page(client.get(link)).find("button", attrs={"value": "revoke"})
    with conn():
        searched = AuditEvent.select().where(AuditEvent.action == "truck_pass.queue_view")
        assert truck.plate in [e.detail_dict.get("plate") for e in searched]
    nothing = page(client.get("/trucks/queue", query_string={"plate": "鲁B00000"}))
    assert "没有这个号牌的通行码或申请" in nothing.find(id="plate-passes").get_text()
    wrong = page(client.get("/trucks/queue", query_string={"plate": "12345"}))
    assert wrong.find(id="plate-error") and not wrong.find(id="plate-passes")


def test_a_sold_trucks_pass_ends_with_its_registration(client, make, login, clock, conn):
    """A transfer registers the truck to its buyer under a new plate: the seller's pass ends
    with that registration (the verifier and the seller's page say so, and it is not offered
    for return), and it holds up neither the new owner's own application for the same hours
    nor a clerk's approval of it; the seller's application still waiting is not issued."""
    from models.transfer import REGISTERED

    # The transfer's invoice is dated by the real calendar: the app's clock is today's too.
    today = (dt.datetime.now(dt.UTC) + app_clock.BEIJING_OFFSET).date()
    clock(f"{today} 10:00")
    start = today + dt.timedelta(days=1)
    w = make.transfer_world()
    truck = make.vehicle(
        w.origin,
        w.seller,
        vehicle_type="heavy_truck",
        emission_standard="china6",
        gross_mass_kg=25000,
    )
    zone = make.zone()
    login(w.seller)
    assert steps(client, truck.plate, zone, start=start, days=3).status_code == 303
    sellers = created_pass()
    assert sellers.status == APPROVED
    pdf = (io.BytesIO(tiny_pdf()), "permit.pdf")
    later = steps(client, truck.plate, zone, start=start + dt.timedelta(days=7), document=pdf)
    assert later.status_code == 303
    waiting = created_pass()
    assert waiting.status == PENDING_REVIEW
    client.post("/logout", data={})
    case = make.transfer_case(w, until=REGISTERED, vehicle=truck)
    clock(f"{start} 08:00")
    assert verdict(client.get(f"/p/{sellers.handle}")) == "re-registered"

    login(w.seller)
    shown = page(client.get(f"/trucks/passes/{sellers.id}"))
    assert "新车主" in shown.select_one(".pass-state").get_text()
    assert "新车主" in shown.select_one("#next-step").get_text()
    assert not shown.select("form[action$='/withdraw']")
    client.post("/logout", data={})

    login(w.buyer)
    assert steps(client, case.new_plate, zone, start=start, days=3).status_code == 303
    buyers = created_pass()
    assert buyers.status == APPROVED and buyers.plate == case.new_plate
    assert verdict(client.get(f"/p/{buyers.handle}")) == "valid"
    client.post("/logout", data={})

    login(make.staff("truckpass_clerk"))
    url = f"/trucks/review/{waiting.id}"
    assert "新车主" in page(client.get(url)).select_one("#vehicle-block").get_text()
    client.post(url, data={"action": "approve", "reason": ""})
    with conn():
        assert TruckPass.get_by_id(waiting.id).status == PENDING_REVIEW


def test_a_pass_names_its_one_truck_and_keeps_the_standard_whole(client, make, login):
    """A pass is for one truck: "Heavy truck", not the rules' "Heavy trucks"; its emission
    standard (国六) never breaks across lines on a narrow card."""
    applicant = make.citizen()
    issued = make.truck_pass(applicant)
    login(applicant)
    en = page(client.get(f"/trucks/passes/{issued.id}", headers={"Accept-Language": "en"}))
    truck = en.find("dt", string="Truck").find_next_sibling("dd")
    assert "· Heavy truck ·" in truck.get_text(" ", strip=True)
    assert truck.select_one("span.term").get_text() == "China VI"
    zh = page(client.get(f"/trucks/passes/{issued.id}"))
    assert zh.select_one("dd span.term").get_text() == "国六"
    assert ".term { white-space: nowrap; }" in client.get("/static/css/app.css").get_data(
        as_text=True
    )


def test_an_unproven_owner_is_not_told_of_a_pass_for_the_truck(client, make, login, clock, conn):
    """The owner's notice names the truck's plate and dates: an account that has not proved
    the ID number the truck is registered under (anyone may register with any number) is
    told nothing of it."""
    applicant, owner = make.citizen(), make.citizen(proven=False)
    truck, zone = make.truck(owner), make.zone()
    login(applicant)
    assert steps(client, truck.plate, zone).status_code == 303
    truck_pass = created_pass()
    client.post("/logout", data={})
    login(make.staff("truckpass_clerk"))
    url = f"/trucks/review/{truck_pass.id}"
    assert client.post(url, data={"action": "approve", "reason": "租赁合同"}).status_code == 303
    with conn():
        assert TruckPass.get_by_id(truck_pass.id).status == APPROVED
        assert not Notice.select().where(Notice.user == owner.id).exists()
