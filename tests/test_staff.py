"""Role checks, administration of staff accounts, and the audit search."""

import pytest

from blueprints.staff import ACTOR_NAMES
from core.audit import audit
from models import AuditEvent, Notice, TransferCase, User

from .factories import Factory
from .helpers import field_error, page

ADMIN_PAGES = ["/staff/accounts", "/staff/offices", "/staff/audit"]


@pytest.mark.parametrize("url", ["/staff/", *ADMIN_PAGES])
def test_anonymous_users_are_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("url", ["/staff/", *ADMIN_PAGES])
def test_citizens_are_refused(client, make, login, url):
    login(make.citizen())
    page(client.get(url), 403)


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_clerks_are_refused_admin_pages(client, make, login, url):
    login(make.staff("licence_clerk"))
    page(client.get("/staff/"))
    page(client.get(url), 403)


def test_admin_creates_staff_account(client, make, login, conn):
    admin = make.staff("admin")
    login(admin)
    english = page(client.get("/staff/accounts", headers={"Accept-Language": "en"}))
    offices = [o.get_text() for o in english.select("#office option")]
    assert admin.office.name_en in offices and admin.office.name not in offices
    response = client.post(
        "/staff/accounts",
        data={
            "username": "new.clerk",
            "real_name": "新同事",
            "office": str(admin.office.id),
            "roles": ["vehicle_clerk", "truckpass_clerk"],
            "password": "Granite-Ferry-31",
        },
    )
    assert response.status_code == 303
    with conn():
        user = User.get(User.username == "new.clerk")
        assert user.is_staff and user.roles == {"vehicle_clerk", "truckpass_clerk"}
        assert user.needs_totp_enrolment
        row = AuditEvent.get(AuditEvent.action == "staff.create")
        assert row.actor_id == admin.id and row.object_id == str(user.id)


def test_roles_fit_the_office_and_administration_keeps_off_the_counter(client, make, login, conn):
    """A market's staff issue invoices only; an administrator is never a counter clerk too
    (they could create the second clerk of their own counter acts)."""
    admin = make.staff("admin")
    market = make.office(kind="market", code="M9", name="二手车市场")
    login(admin)
    base = {"username": "new.one", "real_name": "新同事", "password": "Granite-Ferry-31"}
    for office, roles, said in (
        (market, ["market_clerk", "admin"], "系统管理员"),
        (admin.office, ["admin", "vehicle_clerk"], "管理员"),
        (admin.office, ["accident_officer"], "事故"),
    ):
        data = {**base, "office": str(office.id), "roles": roles}
        soup = page(client.post("/staff/accounts", data=data), 422)
        assert said in field_error(soup, "roles")
    with conn():
        assert not User.select().where(User.username == "new.one").exists()
    data = {**base, "office": str(market.id), "roles": ["market_clerk"]}
    assert client.post("/staff/accounts", data=data).status_code == 303
    with conn():
        row = AuditEvent.get(AuditEvent.action == "staff.create")
        assert row.detail_dict == {"roles": ["market_clerk"], "office": "M9"}


def test_an_administrator_changes_a_staff_members_office_and_roles(app, client, make, login, conn):
    """Staff change jobs: the administrator moves them (told, audited with before and after),
    never their own account."""
    admin = make.staff("admin")
    brigade = make.office(kind="police_brigade", code="370299", name="测试交警大队")
    clerk = make.staff("truckpass_clerk")
    login(admin)
    url = f"/staff/accounts/{clerk.id}"
    soup = page(client.get(url))
    ticked = {box["value"] for box in soup.select("#roles input[checked]")}
    assert ticked == {"truckpass_clerk"}
    refused = client.post(url, data={"office": str(brigade.id), "roles": ["licence_clerk"]})
    assert field_error(page(refused, 422), "roles")
    data = {"office": str(brigade.id), "roles": ["truckpass_clerk", "police_inspector"]}
    assert client.post(url, data=data).status_code == 303
    with conn():
        moved = User.get_by_id(clerk.id)
        assert moved.office_id == brigade.id
        assert moved.roles == {"truckpass_clerk", "police_inspector"}
        row = AuditEvent.get(AuditEvent.action == "staff.update")
        assert row.actor_id == admin.id and row.object_id == str(clerk.id)
        assert row.detail_dict["before"] == {
            "office": clerk.office.code,
            "roles": ["truckpass_clerk"],
        }
        assert row.detail_dict["after"]["office"] == "370299"
        told = Notice.get((Notice.user == clerk.id) & (Notice.kind == "staff.place_changed"))
    theirs = app.test_client()
    make.login(theirs, clerk)
    inbox = page(theirs.get("/notices/")).get_text()
    assert "测试交警大队" in inbox and "交警" in inbox and told
    own = client.post(f"/staff/accounts/{admin.id}", data={"office": str(brigade.id)})
    assert own.status_code == 303
    with conn():
        assert User.get_by_id(admin.id).office_id == admin.office_id


def test_admin_form_errors_are_shown(client, make, login):
    admin = make.staff("admin")
    login(admin)
    response = client.post(
        "/staff/accounts",
        data={"username": "X", "real_name": "", "office": str(admin.office.id), "password": "123"},
    )
    soup = page(response, 422)
    assert soup.find(id="username-error") and soup.find(id="password-error")


def test_a_new_account_is_placed_only_in_an_office_of_this_city(client, make, login):
    """Another city's office is listed for archive exchange, not staffed from here."""
    admin = make.staff("admin")
    elsewhere = make.office(code="370100", name="济南市车管所", city="济南", is_local=False)
    login(admin)
    options = page(client.get("/staff/accounts")).select("#office option")
    assert str(admin.office.id) in [o["value"] for o in options]
    assert str(elsewhere.id) not in [o["value"] for o in options]
    data = {"username": "newclerk", "real_name": "王芳", "office": str(elsewhere.id)}
    refused = page(client.post("/staff/accounts", data={**data, "password": "x" * 12}), 422)
    assert refused.find(id="office-error")


def test_deactivation_ends_sessions_and_blocks_login(app, make, login, conn):
    admin, clerk = make.staff("admin"), make.staff("licence_clerk")
    clerk_client = app.test_client()
    make.login(clerk_client, clerk)
    admin_client = app.test_client()
    make.login(admin_client, admin)
    # Asked first: nothing changes until the administrator confirms.
    asked = page(admin_client.post(f"/staff/accounts/{clerk.id}/deactivate", data={}))
    assert "停用账号" in asked.h1.get_text()
    assert f"{clerk.real_name}（{clerk.username}）" in asked.get_text()  # the person, by name
    assert "不可撤回" not in asked.get_text()  # activation undoes it
    assert clerk_client.get("/staff/").status_code == 200
    response = admin_client.post(
        f"/staff/accounts/{clerk.id}/deactivate", data={"confirmed": "yes"}
    )
    assert response.status_code == 303
    assert clerk_client.get("/staff/").status_code == 302
    flashed = page(admin_client.get("/staff/accounts")).select_one(".flash-ok").get_text()
    assert clerk.username in flashed and "已停用" in flashed
    response = app.test_client().post(
        "/login", data={"account": clerk.username, "password": Factory.PASSWORD}
    )
    # With the right password the holder is told why, and whom to ask (not to guess again);
    # a wrong one learns nothing of it.
    said = page(response, 422).select_one(".form-error, .error-summary, [role=alert]").get_text()
    assert "停用" in said and "管理员" in said
    wrong = app.test_client().post("/login", data={"account": clerk.username, "password": "x" * 9})
    assert "停用" not in page(wrong, 422).get_text()
    with conn():
        assert AuditEvent.get(AuditEvent.action == "staff.deactivate").object_id == str(clerk.id)
        refused = AuditEvent.get(AuditEvent.action == "login.failed")
        assert (refused.actor_id, refused.result) == (clerk.id, "deactivated")


def test_reset_totp_forces_new_enrolment(client, make, login, conn):
    admin, clerk = make.staff("admin"), make.staff("licence_clerk")
    login(admin)
    asked = page(client.post(f"/staff/accounts/{clerk.id}/reset_totp", data={}))
    assert "重置验证器" in asked.h1.get_text() and "不可撤回" in asked.get_text()
    with conn():
        assert not User.get_by_id(clerk.id).needs_totp_enrolment  # asked first
    client.post(f"/staff/accounts/{clerk.id}/reset_totp", data={"confirmed": "yes"})
    with conn():
        assert User.get_by_id(clerk.id).needs_totp_enrolment


def test_actions_on_unknown_accounts_are_404(client, make, login):
    login(make.staff("admin"))
    citizen = make.citizen()
    assert client.post("/staff/accounts/99999/deactivate", data={}).status_code == 404
    assert client.post(f"/staff/accounts/{citizen.id}/deactivate", data={}).status_code == 404


def test_audit_search_filters_and_is_itself_audited(client, make, login, conn):
    admin = make.staff("admin")
    citizen = make.citizen()
    client.post("/login", data={"account": citizen.mobile, "password": "wrong-one!"})
    login(admin)
    soup = page(client.get("/staff/audit?action=login.failed"))
    rows = soup.select("#audit-rows tbody tr")
    assert len(rows) == 1 and "账号或密码错误" in rows[0].get_text()
    with conn():
        assert (
            AuditEvent.get(AuditEvent.action == "audit.search").detail_dict["action"]
            == "login.failed"
        )
    fragment = client.get("/staff/audit?actor=nobody", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert html.startswith('<div id="audit-rows"') and "<html" not in html
    assert "HX-Request" in fragment.headers["Vary"]
    # Back to a search (htmx restores the address it pushed) draws the whole page again.
    restored = client.get(
        "/staff/audit?actor=nobody",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restored.get_data(as_text=True)
    assert page(restored).select_one("form.filters[action='/staff/audit']")


def test_audit_search_says_what_is_wrong_with_its_days(client, make, login):
    login(make.staff("admin"))
    for query, said in (
        ("since=abc", "请输入日期"),
        ("since=2026-12-05&until=2026-12-01", "截止日期早于起始日期"),
    ):
        soup = page(client.get(f"/staff/audit?{query}"))
        assert said in soup.find(id="audit-date-error").get_text(), query
        assert not soup.select("#audit-rows tbody tr td")  # nothing shown as if it were found
    assert page(client.get("/staff/audit?since=2026-12-01")).find(id="audit-date-error") is None


def test_audit_rows_name_people_roles_and_objects_in_words(app, client, make, login):
    """No 'User 9', no 'licence_clerk', no 'anonymous' in the audit search."""
    admin = make.staff("admin")
    login(admin)
    made = make.staff("licence_clerk", real_name="李秀英")
    client.post(f"/staff/accounts/{made.id}/deactivate", data={"confirmed": "yes"})
    # A stranger's failed login from another browser (the admin stays logged in: logging in
    # again would wait out the authenticator's used step).
    app.test_client().post("/login", data={"account": "nobody", "password": "wrong-password"})
    citizen = make.citizen(real_name="王小明")
    applicant = app.test_client()
    make.login(applicant, citizen)  # logs in: a row whose actor is the citizen
    applicant.post("/licence/apply", data={})  # refused: no licence record (a measure's result)
    soup = page(client.get("/staff/audit"))
    text = soup.get_text(" ")
    results = {td.get_text(strip=True) for td in soup.select("#audit-rows td:nth-of-type(7)")}
    assert f"User {made.id}" not in text and "李秀英" in text
    assert "管理员" in text and "未登录" in text
    assert {"成功", "未成功"} <= results and not {"ok", "failed"} & results  # in words
    assert "无驾驶证记录" in results and "no-record" not in results
    assert "anonymous" not in text and "admin" not in text.replace(admin.username, "")
    actors = {td.get_text(strip=True) for td in soup.select("#audit-rows td:nth-of-type(3)")}
    assert "王小明" in actors and citizen.mobile not in text  # named, not by the mobile number
    # Someone typing a clerk's user name with a wrong password is not the clerk: the row says
    # an attempt on her account. Entries not yet numbered into the signed log say why.
    app.test_client().post("/login", data={"account": made.username, "password": "wrong-pw-1"})
    soup = page(client.get("/staff/audit"))
    actors = [td.get_text(strip=True) for td in soup.select("#audit-rows td:nth-of-type(3)")]
    assert actors[0].startswith("对") and "李秀英" in actors[0] and actors[0].endswith("的尝试")
    assert soup.find(id="audit-unnumbered")  # no integrator runs in this test
    # The actor filter finds a citizen by the name the rows show.
    found = page(client.get("/staff/audit", query_string={"actor": "王小明"}))
    shown = {td.get_text(strip=True) for td in found.select("#audit-rows td:nth-of-type(3)")}
    assert shown == {"王小明"}


def test_staff_see_their_own_cards_on_the_home_page(client, make, login):
    """Citizens' cards lead staff to 403: a staff member's home page shows their roles' cards."""
    citizen_home = page(client.get("/")).select("ul.services a")
    assert any(a["href"] == "/licence/" for a in citizen_home)
    login(make.staff("licence_clerk"))
    links = [a["href"] for a in page(client.get("/")).select("ul.services a")]
    assert links and "/licence/" not in links
    for href in links:
        assert client.get(href).status_code == 200, href
    client.post("/logout", data={})
    login(make.staff("admin"))  # no measure's card: the home page leads to the work page
    soup = page(client.get("/"))
    assert not soup.select("ul.services") and soup.select_one('main a[href="/staff/"]')


def test_audit_search_finds_actions_by_their_words_and_staff_by_name(client, make, login, conn):
    """An administrator searches with what the rows show: the words of an action (in the
    page's language) and a staff member's name, which the rows show beside the user name."""
    admin = make.staff("admin")
    clerk = make.staff("licence_clerk", real_name="刘洋")
    with conn():
        audit("staff.deactivate", clerk, actor=admin)
        audit("staff.activate", clerk, actor=admin)
    login(admin)
    english = {"Accept-Language": "en"}
    for words, headers in (("deactivated", english), ("DEACTIVATED", english), ("staff.deact", {})):
        rows = page(client.get(f"/staff/audit?action={words}", headers=headers)).select(
            "#audit-rows tbody tr"
        )
        assert len(rows) == 1, words
    assert not page(client.get("/staff/audit?action=nothing-like-it")).select(
        "#audit-rows tbody tr td:nth-child(2)"
    )
    rows = page(client.get(f"/staff/audit?actor={admin.real_name}")).select("#audit-rows tbody tr")
    assert rows and all(admin.username in row.get_text() for row in rows)
    assert admin.real_name in rows[0].select("td")[2].get_text()


def test_audit_search_takes_actors_and_objects_as_the_rows_write_them(client, make, login, conn):
    """What the columns show can be pasted back: a staff member as "name (user name)" in
    either language's brackets, or the start of a name; an object as "Truck pass 9", which
    finds that pass and not the account or case of the same number."""
    admin = make.staff("admin", real_name="赵敏")
    clerk = make.staff("truckpass_clerk", real_name="刘洋")
    with conn():
        audit("staff.deactivate", clerk, actor=admin)
        audit("truck_pass.refused", actor=clerk, object_type="TruckPass", object_id=str(clerk.id))
    login(admin)
    english = {"Accept-Language": "en"}
    for typed in (f"刘洋 ({clerk.username})", f"刘洋（{clerk.username}）", "刘"):
        rows = page(client.get("/staff/audit", query_string={"actor": typed})).select(
            "#audit-rows tbody tr"
        )
        assert len(rows) == 1 and "刘洋" in rows[0].select("td")[2].get_text(), typed
    for typed, shown in (
        (f"Truck pass {clerk.id}", [f"Truck pass {clerk.id}"]),
        (f"Account {clerk.id}", ["刘洋"]),
        (str(clerk.id), [f"Truck pass {clerk.id}", "刘洋"]),
    ):
        query = {"object_id": typed}
        rows = page(client.get("/staff/audit", query_string=query, headers=english)).select(
            "#audit-rows tbody tr"
        )
        objects = sorted(row.select("td")[5].get_text(strip=True) for row in rows)
        assert objects == sorted(shown), typed
    # A whole name is found however many others start with it; a blank search is no search.
    with conn():
        for n in range(ACTOR_NAMES + 1):
            User.create(real_name=f"刘洋{n}", mobile=f"1370000{n:04d}", password_hash="x")
    rows = page(client.get("/staff/audit", query_string={"actor": "刘洋"})).select(
        "#audit-rows tbody tr td:nth-child(3)"
    )
    assert rows and all("刘洋" in row.get_text() for row in rows)
    blank = page(client.get("/staff/audit", query_string={"actor": "  "})).select(
        "#audit-rows tbody tr td:nth-child(3)"
    )
    assert {"赵敏", "刘洋"} <= {row.get_text().split("（")[0] for row in blank}


def test_audit_search_finds_a_clerk_decision_by_the_word_on_its_button(client, make, login, conn):
    """A clerk refuses a pass with 不予核发; the audit row of that act says the same words, so
    searching for them finds it (the row read 申请未通过 before)."""
    admin = make.staff("admin")
    clerk = make.staff("licence_clerk")
    with conn():
        audit("truck_pass.refused", clerk, actor=clerk)
    login(admin)
    rows = page(client.get("/staff/audit?action=不予核发")).select("#audit-rows tbody tr")
    assert len(rows) == 1 and "不予核发" in rows[0].get_text()


def test_audit_rows_show_the_reason_in_words(client, make, login, conn):
    """A refusal's or a withholding's reason shows under the action: a clerk's own words as
    written, a stored code in words, a stopped transfer's reasons as sentences."""
    admin = make.staff("admin")
    clerk = make.staff("licence_clerk")
    with conn():
        audit("truck_pass.refused", clerk, actor=clerk, detail={"reason": "行驶证已过期"})
        audit("evidence.item_withhold", clerk, actor=clerk, detail={"reason": "privacy"})
        reasons = [{"code": "violations", "n": 3}]
        audit("transfer.stopped", clerk, actor=clerk, detail={"reasons": reasons})
        audit("staff.deactivate", clerk, actor=admin, detail={"reason": "not shown"})
    login(admin)
    cells = page(client.get("/staff/audit")).select("#audit-rows tbody td:nth-child(5)")
    shown = [cell.get_text(" ", strip=True).replace(" ", "") for cell in cells]

    def cell(label):
        return next(text for text in shown if text.startswith(label))

    assert "原因" not in cell("已停用工作人员账号")  # an action that keeps no reason shows none
    assert "原因：有3条未处理的交通违法记录" in cell("转移登记业务终止")
    assert "原因：涉及他人隐私" in cell("证据材料不向当事人公开")
    assert "原因：行驶证已过期" in cell("货车通行码不予核发")


def test_the_offices_page_lists_the_offices_peers_publish(client, make, login, conn):
    """The card promises this city's offices and those of the cities archives go to and come
    from: the peers' published offices are listed before any transfer brought one here."""
    import json

    from models import Peer

    admin = make.staff("admin")
    with conn():
        Peer.create(
            base_url="https://jg.jinan.example",
            city="济南",
            fingerprint="x",
            document=json.dumps(
                {
                    "offices": [
                        {
                            "code": "370100",
                            "name": "济南市车管所",
                            "city": "济南",
                            "plate_prefix": "鲁A",
                        }
                    ]
                }
            ),
        )
    login(admin)
    rows = [
        r.get_text(" ", strip=True) for r in page(client.get("/staff/offices")).select("tbody tr")
    ]
    assert any(admin.office.code in row and "是" in row for row in rows)
    assert any("370100" in row and "济南市车管所" in row and "鲁A" in row for row in rows)


def test_audit_search_finds_a_case_by_the_number_people_quote(client, make, login, conn):
    """A transfer case by its ZY number, an accident case by its case file's number: the rows
    about it, whatever its id in this database (the outgoing record at the origin has its own),
    and not an account or anything else of the same id."""
    admin = make.staff("admin")
    w = make.transfer_world()
    case = make.transfer_case(w)
    accident = make.accident_case()
    with conn():
        number = TransferCase.get_by_id(case.id).number
        audit("evidence.case_view", accident, actor=admin)
        audit("staff.deactivate", admin, actor=admin)  # an object of another type
    login(admin)
    english = {"Accept-Language": "en"}
    for typed, shown in (
        (number, f"Transfer case {case.id}"),
        (accident.case_no, f"Accident case {accident.id}"),
    ):
        query = {"object_id": typed}
        rows = page(client.get("/staff/audit", query_string=query, headers=english))
        objects = {
            r.select("td")[5].get_text(strip=True) for r in rows.select("#audit-rows tbody tr")
        }
        assert objects == {shown}, typed
