"""Every view says whether it shows other people's personal data, and such reads are logged.

The route snapshot (app.url_map) is walked: a view without a core.privacy declaration fails,
so a new page has to say how its reads are audited before it can ship. Then the reads the
attack on the demo city found unlogged are each shown to write a row.
"""

import io

from bs4 import BeautifulSoup

from core.privacy import declaration
from models import AuditEvent, TruckPass

from .helpers import tiny_png


def test_every_view_declares_its_personal_data(app):
    """No endpoint of the route snapshot is left without a declaration (static files aside)."""
    missing = sorted(
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and declaration(app.view_functions[rule.endpoint]) is None
    )
    assert missing == []


def test_declared_actions_are_labelled(app):
    """Every action a declaration names has a person-readable label (not the raw name)."""
    from core.audit import action_label

    with app.test_request_context():
        for endpoint, view in app.view_functions.items():
            action = declaration(view)
            if action:
                assert action_label(action) != action, endpoint


def actions(conn, action: str) -> list:
    """The audit rows of one action, oldest first."""
    with conn():
        return list(AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id))


def test_staff_looking_at_a_licence_photo_is_logged(client, make, login, conn):
    record = make.licence_record()
    login(make.staff("licence_clerk"))
    png = tiny_png()
    upload = client.post(
        f"/licence/records/{record.id}/photo", data={"photo": (io.BytesIO(png), "p.png")}
    )
    assert upload.status_code in (302, 303)
    client.post("/logout", data={})
    viewer = make.staff("licence_clerk")
    login(viewer)
    assert client.get(f"/licence/records/{record.id}/photo").get_data() == png
    (row,) = actions(conn, "licence.photo_view")
    assert (row.actor_id, row.object_id) == (viewer.id, str(record.id))


def test_a_clerk_opening_a_citizens_truck_pass_is_logged_and_the_holder_is_not(
    client, make, login, conn
):
    holder = make.citizen()
    truck_pass = make.truck_pass(holder)
    login(holder)
    assert client.get(f"/trucks/passes/{truck_pass.id}").status_code == 200
    assert actions(conn, "truck_pass.view") == []
    client.post("/logout", data={})
    clerk = make.staff("truckpass_clerk")
    login(clerk)
    assert client.get(f"/trucks/passes/{truck_pass.id}").status_code == 200
    (row,) = actions(conn, "truck_pass.view")
    assert (row.actor_id, row.object_type, row.object_id) == (
        clerk.id,
        TruckPass.__name__,
        str(truck_pass.id),
    )


def test_lists_of_people_are_logged(client, make, login, conn):
    make.licence_record(name="张三丰")
    login(make.staff("licence_clerk"))
    assert client.get("/licence/records").status_code == 200
    (row,) = actions(conn, "licence.search")
    assert '"q": ""' in row.detail
    client.post("/logout", data={})
    login(make.staff("admin"))
    assert client.get("/staff/accounts").status_code == 200
    assert len(actions(conn, "staff.list")) == 1
    client.post("/logout", data={})
    case = make.accident_case()
    login(case.officer)
    assert client.get("/evidence/").status_code == 200
    assert len(actions(conn, "evidence.case_list")) == 1


def test_a_share_code_that_matches_nothing_is_logged(client, conn):
    response = client.get("/verify/share", query_string={"code": "ZZZZ-ZZZZ", "last6": "123456"})
    assert response.status_code == 200
    (row,) = actions(conn, "licence.check")
    assert row.result == "invalid" and '"via": "share"' in row.detail


def test_a_declared_view_that_forgets_its_row_gets_one_from_the_declaration(app, client, conn):
    """The safety net: a successful answer of a declared view without its row writes one."""
    from core.privacy import reads_personal_data

    @reads_personal_data("licence.record_view")
    def forgetful():
        return "someone's data"

    app.add_url_rule("/test-forgetful", "test_forgetful", forgetful)
    assert client.get("/test-forgetful").status_code == 200
    (row,) = actions(conn, "licence.record_view")
    assert "test_forgetful" in row.detail


def test_a_page_drawn_again_after_a_refused_form_is_a_logged_read(app, make, conn):
    """A staff member's form refused (here: sent empty) draws the object's page again, with
    someone's data on it: that is a read like the page's own, and it is logged as one."""
    from models.transfer import AWAITING_INSPECTION

    def refused(user, url, action):
        client = app.test_client()
        make.login(client, user)
        with conn():
            before = AuditEvent.select().where(AuditEvent.action == action).count()
        assert client.post(url, data={}).status_code == 422
        with conn():
            return AuditEvent.select().where(AuditEvent.action == action).count() - before

    record = make.licence_record()
    clerk = make.staff("licence_clerk")
    assert refused(clerk, f"/licence/records/{record.id}/status", "licence.record_view") == 1
    case = make.accident_case()
    make.party(case)
    assert refused(case.officer, f"/evidence/cases/{case.id}/parties", "evidence.case_view") == 1
    w = make.transfer_world()
    transfer = make.transfer_case(w, until=AWAITING_INSPECTION)
    url = f"/transfer/cases/{transfer.id}/inspect"
    assert refused(w.clerk, url, "transfer.case_view") == 1


ID_CLEARED = "为保护个人信息，身份证号码不再显示，请重新输入。"


def test_a_form_that_finds_someone_by_an_id_number_never_sends_it_back(client, make):
    """The login clears an ID number typed as the account (its note says why), mistyped or
    written with separators too, but not a mobile number or a user name."""
    holder = make.citizen()
    rid, mobile = holder.resident_id, holder.mobile
    typed = [
        (rid, ""),
        (rid[:-1], ""),  # one short
        (rid[:6] + "-" + rid[6:14] + "-" + rid[14:], ""),  # with hyphens
        (mobile, mobile),
        ("+86 " + mobile, "+86 " + mobile),
        ("staff12", "staff12"),
    ]
    for account, echoed in typed:
        sent = client.post("/login", data={"account": account, "password": "wrong-Password-1"})
        html = sent.get_data(as_text=True)
        soup = BeautifulSoup(html, "html.parser")
        assert (soup.select_one("#account").get("value") or "") == echoed
        note = soup.select_one("#account-note")
        assert (note.get_text() if note else "") == ("" if echoed else ID_CLEARED)
        assert rid[:-1] not in html
