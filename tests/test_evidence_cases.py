"""Accident cases: opening, parties, progress, the determination date gate, query codes,
release decisions. Officers act; parties see where their case stands."""

import datetime as dt
import re

import pytest

from blueprints.evidence.querycodes import CODE_MAX_FAILURES, hash_code
from models import (
    ACCIDENT_OFFICER,
    AccidentCase,
    AuditEvent,
    CaseParty,
    EvidenceItem,
    Notice,
    Throttle,
    User,
)
from rules.clock import beijing_today

from .helpers import field_error, page

EN = {"Accept-Language": "en"}


@pytest.fixture
def officer(make, login):
    """An accident officer of a brigade, logged in."""
    user = make.staff(ACCIDENT_OFFICER, office=make.office(kind="police_brigade"))
    login(user)
    return user


def case_form(**over):
    """A valid case form."""
    return {
        "case_no": "3702022021000555",
        "occurred_at": "2021-08-20T09:40",
        "place": "香港中路与燕儿岛路交叉口",
        "description": "两车碰撞",
        "procedure": "general",
        "officer": "",
        "determination_delivered_on": "",
        **over,
    }


def test_officer_opens_a_case(client, officer, conn):
    soup = page(client.get("/evidence/cases/new", headers=EN))
    assert soup.find("select", id="officer").find("option", selected=True)["value"] == str(
        officer.id
    )
    response = client.post("/evidence/cases/new", data=case_form(officer=officer.id))
    assert response.status_code == 303
    with conn():
        case = AccidentCase.get()
        assert case.status == "opened" and case.office_id == officer.office_id
        # 09:40 in Beijing is 01:40 UTC.
        assert case.occurred_at == dt.datetime(2021, 8, 20, 1, 40)
        assert AuditEvent.get(AuditEvent.action == "evidence.case_open").object_id == str(case.id)
    soup = page(client.get(response.location, headers=EN))
    assert "3702022021000555" in soup.h1.get_text()
    assert soup.select_one(".progress li.current").get_text(strip=True) == "Case opened"
    page(client.get("/evidence/", headers=EN))


def test_case_form_errors_are_next_to_the_fields(client, officer, make):
    make.accident_case(officer, case_no="3702022021000555")
    tomorrow = (beijing_today() + dt.timedelta(days=1)).isoformat()
    response = client.post(
        "/evidence/cases/new",
        data=case_form(officer=officer.id, determination_delivered_on=tomorrow),
        headers=EN,
    )
    soup = page(response, 422)
    assert "exists already" in field_error(soup, "case_no")
    response = client.post(
        "/evidence/cases/new",
        data=case_form(case_no="x/1", officer=officer.id, place=""),
        headers=EN,
    )
    soup = page(response, 422)
    assert field_error(soup, "case_no") and field_error(soup, "place")


def test_htmx_gets_the_fragment(client, officer):
    response = client.post(
        "/evidence/cases/new", data=case_form(place=""), headers={**EN, "HX-Request": "true"}
    )
    assert response.status_code == 422 and "<html" not in response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]


def test_a_party_under_a_number_on_record_with_another_name_is_refused(client, officer, make, conn):
    """A mistyped ID number that still passes its check digit could be someone else's: their
    account would be shown the case and sent its notices. A number the office keeps under
    another name with its licence record (copied from the ID card) is refused; an account's
    name decides nothing (its holder typed it, a slip included), nor a vehicle's (a transfer
    registers it under the buyer's account name), and a number nothing is kept under is
    taken."""
    case = make.accident_case(officer)
    holder = make.citizen(real_name="孙志强")
    make.licence_record(holder)
    record = make.licence_record(name="王芳")
    claimed = make.citizen(real_name="王玮")  # typed 王玮 at registration; the card may differ
    make.vehicle(make.office(), claimed)  # registered (by a transfer) under the typed name
    url = f"/evidence/cases/{case.id}/parties"

    def add(name, resident_id):
        data = {"name": name, "resident_id": resident_id, "mobile": "13800138000", "role": "driver"}
        return client.post(url, data=data, headers=EN)

    for name, resident_id in (("王伟", holder.resident_id), ("王伟", record.licence_no)):
        error = field_error(page(add(name, resident_id), 422), "resident_id")
        assert "on record under another name" in error
    for name, resident_id in (
        ("王 芳", record.licence_no),  # the record's name, typed with a space
        ("王伟", claimed.resident_id),
        ("王伟", make.resident_id()),
    ):
        assert add(name, resident_id).status_code == 303
    with conn():
        assert CaseParty.select().count() == 3


def test_officer_adds_and_removes_parties(client, officer, make, conn):
    case = make.accident_case(officer)
    citizen = make.citizen()
    url = f"/evidence/cases/{case.id}/parties"
    bad = {"name": "孙志强", "resident_id": "370202199001011234", "mobile": "1", "role": "driver"}
    soup = page(client.post(url, data=bad, headers=EN), 422)
    assert field_error(soup, "resident_id") and field_error(soup, "mobile")
    good = {
        "name": citizen.real_name,
        "resident_id": citizen.resident_id.lower(),
        "mobile": citizen.mobile,
        "role": "driver",
    }
    assert client.post(url, data=good).status_code == 303
    # The form finds someone by the ID number: drawn again, it does not carry it back.
    soup = page(client.post(url, data=good, headers=EN), 422)
    assert "already" in field_error(soup, "resident_id")
    assert not soup.select_one("#resident_id").get("value")
    assert "not shown again" in soup.select_one("#resident_id-note").get_text()
    soup = page(client.get(f"/evidence/cases/{case.id}"))  # the ID number shows masked only
    with conn():
        party = CaseParty.get()
        assert party.resident_id == citizen.resident_id
    assert (
        client.post(
            f"/evidence/cases/{case.id}/parties/{party.id}/remove", data={"confirmed": "yes"}
        ).status_code
        == 303
    )
    with conn():
        assert CaseParty.select().count() == 0
        assert AuditEvent.get(AuditEvent.action == "evidence.party_remove")


def test_removed_party_loses_access(client, make, login, conn):
    case = make.accident_case()
    citizen = make.citizen()
    party = make.party(case, citizen)
    login(citizen)
    assert client.get(f"/evidence/cases/{case.id}").status_code == 200
    with conn():
        CaseParty.delete().where(CaseParty.id == party.id).execute()
    assert client.get(f"/evidence/cases/{case.id}").status_code == 404


def test_progress_follows_the_table(client, officer, make, conn):
    case = make.accident_case(officer, status="opened", determination_delivered_on=None)
    url = f"/evidence/cases/{case.id}/progress"
    assert client.post(url, data={"to": "open_for_review"}).status_code == 303
    with conn():
        assert AccidentCase.get_by_id(case.id).status == "opened"  # not a move from here
    client.post(url, data={"to": "evidence_gathered"})
    future = (beijing_today() + dt.timedelta(days=1)).isoformat()
    soup = page(
        client.post(url, data={"to": "determination_delivered", "delivered_on": future}), 422
    )
    assert field_error(soup, "delivered_on")
    today = beijing_today().isoformat()
    # The day starts the parties' review period and is told to them: asked first.
    delivery = {"to": "determination_delivered", "delivered_on": today}
    asked = page(client.post(url, data=delivery))
    assert today in asked.find(id="confirm-box").get_text()
    with conn():
        assert AccidentCase.get_by_id(case.id).status == "evidence_gathered"
    client.post(url, data={**delivery, "confirmed": "yes"})
    # Opening the evidence tells every party at once and cannot be undone: asked first.
    asked = page(client.post(url, data={"to": "open_for_review"}, headers=EN))
    assert "0 released items" in asked.find(id="confirm-box").get_text()
    with conn():
        assert AccidentCase.get_by_id(case.id).status == "determination_delivered"
    client.post(url, data={"to": "open_for_review", "confirmed": "yes"})
    with conn():
        case = AccidentCase.get_by_id(case.id)
        assert (
            case.status == "open_for_review" and case.determination_delivered_on == beijing_today()
        )
        moves = [
            a.action
            for a in AuditEvent.select()
            .where(AuditEvent.action.startswith("evidence.case."))
            .order_by(AuditEvent.id)
        ]
        delivered = AuditEvent.get(AuditEvent.action == "evidence.case.determination_delivered")
    assert moves == [
        "evidence.case.evidence_gathered",
        "evidence.case.determination_delivered",
        "evidence.case.open_for_review",
    ]
    # The day the review period counts from is in its row, as in the parties' notice.
    assert delivered.detail_dict["determination_delivered_on"] == today
    assert client.post(url, data={"to": "bogus"}).status_code == 400


def test_simple_procedure_never_opens_for_review(client, officer, make, conn):
    case = make.accident_case(officer, procedure="simple", status="determination_delivered")
    client.post(f"/evidence/cases/{case.id}/progress", data={"to": "open_for_review"})
    with conn():
        assert AccidentCase.get_by_id(case.id).status == "determination_delivered"
    asked = page(client.post(f"/evidence/cases/{case.id}/progress", data={"to": "closed"}))
    assert "结案" in asked.h1.get_text() and case.case_no in asked.get_text()
    with conn():
        assert AccidentCase.get_by_id(case.id).status == "determination_delivered"
    client.post(f"/evidence/cases/{case.id}/progress", data={"to": "closed", "confirmed": "yes"})
    with conn():
        assert AccidentCase.get_by_id(case.id).status == "closed"


def test_general_procedure_cannot_close_around_the_review(client, officer, make, conn):
    case = make.accident_case(officer, status="determination_delivered")
    soup = page(client.get(f"/evidence/cases/{case.id}"))
    assert [b["value"] for b in soup.select("#progress-form button")] == ["open_for_review"]
    client.post(f"/evidence/cases/{case.id}/progress", data={"to": "closed", "confirmed": "yes"})
    with conn():
        assert AccidentCase.get_by_id(case.id).status == "determination_delivered"


@pytest.mark.parametrize("status", ["determination_delivered", "open_for_review"])
def test_before_the_delivery_date_parties_see_the_case_but_no_evidence(client, make, login, status):
    tomorrow = beijing_today() + dt.timedelta(days=1)
    case = make.accident_case(status=status, determination_delivered_on=tomorrow)
    item = make.evidence(case, title="现场勘查笔录")
    citizen = make.citizen()
    make.party(case, citizen)
    login(citizen)
    soup = page(client.get(f"/evidence/cases/{case.id}", headers=EN))
    assert "现场勘查笔录" not in soup.get_text()
    assert "once the accident determination has been delivered" in soup.get_text()
    assert soup.select_one(".progress li.current")
    base = f"/evidence/cases/{case.id}/items/{item.id}"
    for url in (base, base + "/view", base + "/download"):
        assert client.get(url).status_code == 404


def test_on_the_delivery_date_the_evidence_opens(client, make, login):
    case = make.accident_case(determination_delivered_on=beijing_today())
    item = make.evidence(case, title="现场勘查笔录")
    citizen = make.citizen()
    make.party(case, citizen)
    login(citizen)
    soup = page(client.get(f"/evidence/cases/{case.id}"))
    assert "现场勘查笔录" in soup.get_text()
    assert client.get(f"/evidence/cases/{case.id}/items/{item.id}/view").status_code == 200
    soup = page(client.get("/evidence/", headers=EN))
    assert case.case_no in soup.get_text()


def test_release_decision(client, officer, make, conn):
    case = make.accident_case(officer)
    item = make.evidence(case)
    url = f"/evidence/cases/{case.id}/items/{item.id}/release"
    page(client.get(f"/evidence/cases/{case.id}/items/{item.id}"))
    soup = page(client.post(url, data={"release": "withheld", "reason": ""}, headers=EN), 422)
    assert field_error(soup, "reason")
    # A reason chosen with "released" left on: the officer meant to withhold, nothing is
    # released on a guess.
    data = {"release": "released", "reason": "witness"}
    soup = page(client.post(url, data=data, headers=EN), 422)
    assert "Withheld" in field_error(soup, "reason")
    with conn():
        assert not AuditEvent.select().where(AuditEvent.action == "evidence.item_release").exists()
    client.post(url, data={"release": "withheld", "reason": "privacy", "note": "第三人隐私"})
    with conn():
        item = EvidenceItem.get_by_id(item.id)
        assert not item.released and item.withhold_reason == "privacy"
        assert AuditEvent.get(AuditEvent.action == "evidence.item_withhold")
    soup = page(client.get(f"/evidence/cases/{case.id}/items/{item.id}", headers=EN))
    assert "第三人隐私" in soup.get_text()  # the reason is shown to the officer
    assert "PDF document" in soup.get_text() and "application/pdf" not in soup.get_text()
    # Releasing it, with the form's reason (the item's own) still chosen: asked first.
    asked = page(client.post(url, data={"release": "released", "reason": "privacy"}))
    assert asked.find(id="confirm-form") and "隐私" in asked.get_text()
    with conn():
        assert not EvidenceItem.get_by_id(item.id).released
    done = client.post(url, data={"release": "released", "reason": "privacy", "confirmed": "yes"})
    assert done.status_code == 303
    with conn():
        item = EvidenceItem.get_by_id(item.id)
        assert item.released and item.withhold_reason is None
        row = AuditEvent.get(AuditEvent.action == "evidence.item_release")
        assert row.detail_dict == {"was": "withheld", "was_reason": "privacy"}


def test_a_released_item_is_told_to_the_parties(client, officer, make, login, conn):
    """Once the parties can see the evidence, an item released to them is told, as a withheld
    one is."""
    case = make.accident_case(officer, status="open_for_review")
    item = make.evidence(case, released=False, withhold_reason="witness")
    citizen = make.citizen()
    make.party(case, citizen)
    url = f"/evidence/cases/{case.id}/items/{item.id}/release"
    data = {"release": "released", "reason": "witness", "confirmed": "yes"}
    assert client.post(url, data=data).status_code == 303
    with conn():
        told = Notice.select().where(
            (Notice.user == citizen.id) & (Notice.kind == "evidence.released")
        )
        assert told.count() == 1 and item.title in told.get().params


# ASCII letters, digits and "-" as a Chinese input method in full-width mode types them.
FULL_WIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}


def print_notice(client, case, party, **confirmation) -> str:
    """The query code on a freshly printed notice."""
    url = f"/evidence/cases/{case.id}/parties/{party.id}/notice"
    soup = page(client.post(url, data=confirmation))
    return soup.select_one(".query-code").get_text(strip=True)


def test_query_code_opens_the_case_for_its_party_only(app, make, login, conn):
    officer_client, party_client, other_client = (app.test_client() for _ in range(3))
    case = make.accident_case()
    citizen, other = make.citizen(), make.citizen()
    party = make.party(case, citizen)
    with conn():
        officer = User.get_by_id(case.officer_id)
    make.login(officer_client, officer)
    code = print_notice(officer_client, case, party)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    # Someone else with the right number and code gets nothing, and the same message.
    make.login(other_client, other)
    response = other_client.post(
        "/evidence/open", data={"case_no": case.case_no, "code": code}, headers=EN
    )
    assert "No case matches" in page(response, 422).get_text()
    assert other_client.get(f"/evidence/cases/{case.id}").status_code == 404
    # The party, with the code in lower case and without the dash, gets in; and as a Chinese
    # input method types both, in full-width characters.
    make.login(party_client, citizen)
    page(party_client.get("/evidence/open"))
    for case_no, typed in (
        (case.case_no, code.replace("-", "").lower()),
        (
            case.case_no.translate(FULL_WIDTH),
            code.translate(FULL_WIDTH),
        ),
        # Copied in the groups the notice prints them in, with spaces.
        (
            " ".join(case.case_no[i : i + 4] for i in range(0, len(case.case_no), 4)),
            code.replace("-", " "),
        ),
    ):
        response = party_client.post("/evidence/open", data={"case_no": case_no, "code": typed})
        assert response.status_code == 303 and response.location.endswith(f"/cases/{case.id}")
    # A new notice makes the old code useless: the officer is asked first.
    url = f"/evidence/cases/{case.id}/parties/{party.id}/notice"
    asked = page(officer_client.post(url, data={}))
    assert "打印新的告知书" in asked.h1.get_text() and not asked.select_one(".query-code")
    print_notice(officer_client, case, party, confirmed="yes")
    response = party_client.post(
        "/evidence/open", data={"case_no": case.case_no, "code": code}, headers=EN
    )
    assert response.status_code == 422
    with conn():
        assert AuditEvent.select().where(AuditEvent.action == "evidence.code_failed").count() == 2


def test_query_code_guessing_is_throttled(client, make, login, conn):
    case = make.accident_case()
    citizen = make.citizen()
    party = make.party(case, citizen)
    with conn():
        CaseParty.update(query_code_hash=hash_code("RGHT-CODE")).where(
            CaseParty.id == party.id
        ).execute()
    login(citizen)
    for _ in range(CODE_MAX_FAILURES):
        response = client.post(
            "/evidence/open", data={"case_no": case.case_no, "code": "WRNG-CODE"}, headers=EN
        )
        assert "No case matches" in response.get_data(as_text=True)
    response = client.post(
        "/evidence/open", data={"case_no": case.case_no, "code": "RGHT-CODE"}, headers=EN
    )
    assert response.status_code == 422 and "Too many wrong codes" in page(response, 422).get_text()
    with conn():
        assert Throttle.get(Throttle.key == f"evidence-code:user:{citizen.id}").locked_until


def test_a_right_query_code_clears_the_users_count_and_only_its_own_on_the_network(
    client, make, login, conn
):
    """Counted before the code is checked (in the transaction that reads the lock); a right
    code then forgets the user's failures and takes back its own count on the network's."""
    case = make.accident_case()
    citizen = make.citizen()
    party = make.party(case, citizen)
    with conn():
        CaseParty.update(query_code_hash=hash_code("RGHT-CODE")).where(
            CaseParty.id == party.id
        ).execute()
    login(citizen)
    for code in ("WRNG-CODE", "WRNG-CODE", "RGHT-CODE"):
        client.post("/evidence/open", data={"case_no": case.case_no, "code": code})
    with conn():
        rows = Throttle.select().where(Throttle.key.startswith("evidence-code:"))
        counts = {t.key.split(":")[1]: t.failures for t in rows}
    assert counts.get("user", 0) == 0 and counts["net"] == 2


def test_case_list_of_a_citizen_shows_only_their_cases(client, make, login):
    mine, theirs = make.accident_case(), make.accident_case()
    citizen = make.citizen()
    make.party(mine, citizen)
    make.party(theirs)
    login(citizen)
    soup = page(client.get("/evidence/"))
    assert mine.case_no in soup.get_text() and theirs.case_no not in soup.get_text()
    assert soup.find("a", href="/evidence/")  # the nav link "My accident cases"


def test_an_item_is_reached_only_through_its_own_case(client, make, login):
    mine, theirs = make.accident_case(), make.accident_case()
    their_item = make.evidence(theirs)
    citizen = make.citizen()
    make.party(mine, citizen)
    login(citizen)
    base = f"/evidence/cases/{mine.id}/items/{their_item.id}"
    for url in (base, base + "/view", base + "/download"):
        assert client.get(url).status_code == 404


def test_the_access_log_does_not_name_withheld_items_to_parties(client, make, login):
    case = make.accident_case()
    citizen = make.citizen()
    make.party(case, citizen)
    secret = make.evidence(case, title="证人王五的证言", released=False)
    make.login(client, case.officer)
    assert client.get(f"/evidence/cases/{case.id}/items/{secret.id}/view").status_code == 200
    officer_log = client.get(f"/evidence/cases/{case.id}/log").get_data(as_text=True)
    assert "证人王五的证言" in officer_log
    client.post("/logout", data={})
    login(citizen)
    party_log = client.get(f"/evidence/cases/{case.id}/log").get_data(as_text=True)
    assert "证人王五的证言" not in party_log and "未向当事人公开的材料" in party_log


def test_a_delivery_before_the_accident_is_refused_at_its_field(client, officer, make, conn):
    # At opening: delivered the day before the accident.
    response = client.post(
        "/evidence/cases/new",
        data=case_form(officer=officer.id, determination_delivered_on="2021-08-19"),
        headers=EN,
    )
    soup = page(response, 422)
    assert field_error(soup, "determination_delivered_on") == (
        "The delivery date cannot be before the day of the accident."
    )
    # The day of the accident itself is fine.
    response = client.post(
        "/evidence/cases/new",
        data=case_form(officer=officer.id, determination_delivered_on="2021-08-20"),
    )
    assert response.status_code == 303
    # At the progress step: refused at the field before any confirmation is asked.
    occurred = dt.datetime(2026, 3, 9, 17, 0)  # UTC: 10 March, 01:00 in Beijing
    case = make.accident_case(officer, status="evidence_gathered", occurred_at=occurred)
    case.determination_delivered_on = None
    with conn():
        AccidentCase.update(determination_delivered_on=None).where(
            AccidentCase.id == case.id
        ).execute()
    url = f"/evidence/cases/{case.id}/progress"
    early = {"to": "determination_delivered", "delivered_on": "2026-03-09"}
    soup = page(client.post(url, data=early, headers=EN), 422)
    assert not soup.find(id="confirm-box")
    assert field_error(soup, "delivered_on") == (
        "The delivery date cannot be before the day of the accident."
    )
    # A confirmed post is refused the same way (the step checks it again).
    soup = page(client.post(url, data={**early, "confirmed": "yes"}, headers=EN), 422)
    assert field_error(soup, "delivered_on")
    with conn():
        assert AccidentCase.get_by_id(case.id).status == "evidence_gathered"
    on_the_day = {"to": "determination_delivered", "delivered_on": "2026-03-10"}
    assert page(client.post(url, data=on_the_day)).find(id="confirm-box")


def test_an_unproven_party_is_not_told_no_case_names_them(client, make, login):
    """Cases are found by the proven ID number: until it is proven the list cannot say that no
    case names the person (one may); it says how to prove it, and the notice's code opens one."""
    citizen = make.citizen(proven=False)
    make.party(make.accident_case(), citizen)
    login(citizen)
    soup = page(client.get("/evidence/", headers=EN))
    assert soup.find(id="prove-identity")
    assert "No accident case names you" not in soup.get_text()
    login_again = make.citizen()
    client.post("/logout", data={})
    login(login_again)
    assert "No accident case names you" in page(client.get("/evidence/", headers=EN)).get_text()


def test_the_officer_corrects_a_slip_in_the_facts_and_the_parties_are_told(
    client, officer, make, conn
):
    """A mistyped case number, time or place is corrected by the handling officer with a
    reason: old and new go into the audit log, the parties are told, and a closed case or a
    number another case has is refused."""
    case = make.accident_case(officer, case_no="37020220260001")
    other = make.accident_case(officer)
    citizen = make.citizen()
    make.party(case, citizen)
    url = f"/evidence/cases/{case.id}/facts"
    shown = page(client.get(url))
    assert shown.find(id="case_no")["value"] == "37020220260001"
    assert page(client.get(f"/evidence/cases/{case.id}")).find(id="correct-facts")
    base = {
        "case_no": "3702022026000123",
        "occurred_at": shown.find(id="occurred_at")["value"],
        "place": " 香港中路与燕儿岛路路口 ",
        "description": shown.find(id="description").get_text(),
        "reason": "案号少输了两位",
    }
    taken = page(client.post(url, data={**base, "case_no": other.case_no}, headers=EN), 422)
    assert "exists already" in field_error(taken, "case_no")
    assert page(client.post(url, data={**base, "reason": ""}), 422)
    assert client.post(url, data=base).status_code == 303
    with conn():
        fixed = AccidentCase.get_by_id(case.id)
        assert (fixed.case_no, fixed.place) == ("3702022026000123", "香港中路与燕儿岛路路口")
        row = AuditEvent.get(AuditEvent.action == "evidence.case_corrected")
        assert row.detail_dict["was"]["case_no"] == "37020220260001"
        assert set(row.detail_dict["fields"]) == {"case_no", "place"}
        told = Notice.get((Notice.user == citizen.id) & (Notice.kind == "evidence.facts_corrected"))
        assert "案号少输了两位" in told.params
    # Sent again unchanged: nothing written, and said so.
    again = client.post(url, data=base, headers=EN, follow_redirects=True)
    assert "Nothing was changed" in again.get_data(as_text=True)
    with conn():
        assert (
            AuditEvent.select().where(AuditEvent.action == "evidence.case_corrected").count() == 1
        )
        # Once a notice is printed its number is the party's way in: no longer changed.
        CaseParty.update(query_code_hash="x").where(CaseParty.case == case.id).execute()
    renumbered = {**base, "case_no": "3702022026000124"}
    refused = page(client.post(url, data=renumbered, headers=EN), 422)
    assert "notices with this number were printed" in field_error(refused, "case_no")
    with conn():
        AccidentCase.update(status="closed").where(AccidentCase.id == case.id).execute()
    assert client.get(url).status_code == 404
