"""Identity bound to the office's records: an account sees nothing kept under its ID number until
it proves that number by SMS to the recorded mobile, at a counter, or (one case) by query code."""

import datetime as dt
import re

import pytest

from models import AuditEvent, CaseParty, IdentityProof, SmsChallenge, User, Vehicle, db
from models.identity import COUNTER, QUERY_CODE, SMS

from .helpers import page
from .helpers import register as register_both_steps

EN = {"Accept-Language": "en"}


@pytest.fixture
def victim(make):
    """A real holder: account-less records kept under their ID number (licence with a recorded
    mobile, a car, a truck, two accident cases)."""
    rid = make.resident_id(1979)
    office = make.office(code="370200")
    record = make.licence_record(licence_no=rid, name="孙志强", mobile="13600001111")
    car = make.vehicle(
        office, owner_resident_id=rid, owner_name="孙志强", owner_mobile="13600002222"
    )
    cases = [make.accident_case(), make.accident_case()]
    for case in cases:
        make.party(case, make.citizen(), resident_id=rid, name="孙志强")
    return record, car, cases


def register(client, rid, name="孙志强", mobile="13812345678"):
    """Register through the real form (the person typing may be anyone, with their own phone)."""
    details = {
        "real_name": name,
        "resident_id": rid,
        "mobile": mobile,
        "password": "Lantern-Harbour-42",
        "confirm": "Lantern-Harbour-42",
    }
    response = register_both_steps(client, details)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    # The registration's own code is spent: these tests read the identity codes that follow.
    open(client.application.config["SMS_DEV_FILE"], "w").close()
    with db.connection_context():
        return User.get(User.resident_id == rid)


def assert_sees_nothing(client, victim):
    """No e-licence, no vehicles, no cases by ID number."""
    record, car, cases = victim
    assert client.post("/licence/apply", data={}, headers=EN).status_code == 422
    assert client.get("/licence/card").location == "/licence/"  # "you have no e-licence yet"
    soup = page(client.get("/transfer/", headers=EN))
    assert f"/transfer/vehicles/{car.id}" not in str(soup) and soup.select_one("#prove-identity")
    assert client.get(f"/transfer/vehicles/{car.id}").status_code == 404
    soup = page(client.get("/evidence/", headers=EN))
    assert not any(c.case_no in soup.get_text() for c in cases)
    for case in cases:
        assert client.get(f"/evidence/cases/{case.id}").status_code == 404


def test_a_stranger_registering_with_a_name_and_id_number_sees_nothing(client, victim):
    record, _car, _cases = victim
    register(client, record.licence_no)
    assert_sees_nothing(client, victim)
    soup = page(client.get("/licence/", headers=EN))
    assert soup.select_one("#prove-identity") and not soup.select_one("#apply-form")


def test_sms_goes_to_the_recorded_mobile_only_and_proves_the_account(client, victim, sms_box, conn):
    record, car, cases = victim
    user = register(client, record.licence_no, mobile="13812345678")
    soup = page(client.get("/account/identity", headers=EN))
    assert "136****1111" in soup.get_text() and "13600001111" not in soup.get_text()
    assert client.post("/account/identity/sms", data={}).status_code == 303
    (message,) = sms_box.messages()
    # The office's number, never the one the registrant typed.
    assert message["mobile"] == "13600001111"
    code = re.search(r"\b(\d{6})\b", message["text"]).group(1)
    with conn():
        challenge = SmsChallenge.get(SmsChallenge.user == user.id)
        assert code not in challenge.code_hash and len(challenge.code_hash) == 64
    # Typed as a Chinese input method types digits (full-width), it is the same code.
    wide = code.translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})
    assert client.post("/account/identity/code", data={"code": wide}).status_code == 303
    with conn():
        proof = IdentityProof.get(IdentityProof.user == user.id)
        assert (proof.method, proof.mobile) == (SMS, "13600001111")
        assert AuditEvent.select().where(AuditEvent.action == "identity.proven").exists()
    # The page leads on to what the proof opened.
    onward = [a["href"] for a in page(client.get("/account/identity")).select("#proven-next a")]
    assert onward[0] == "/licence/" and "/transfer/" in onward and "/evidence/" in onward
    # Now the records open: the e-licence, the car, both cases.
    assert client.post("/licence/apply", data={}).status_code == 303
    assert f"/transfer/vehicles/{car.id}" in str(page(client.get("/transfer/")))
    assert client.get(f"/transfer/vehicles/{car.id}").status_code == 200
    assert all(client.get(f"/evidence/cases/{c.id}").status_code == 200 for c in cases)


def test_a_vehicles_recorded_mobile_serves_when_there_is_no_licence(client, make, sms_box):
    office = make.office()
    rid = make.resident_id(1990)
    make.vehicle(office, owner_resident_id=rid, owner_name="周丽华", owner_mobile="13700003333")
    register(client, rid, name="周丽华")
    client.post("/account/identity/sms", data={})
    assert [m["mobile"] for m in sms_box.messages()] == ["13700003333"]


def test_no_recorded_mobile_means_no_sms(client, make, sms_box):
    rid = make.resident_id(1991)
    make.licence_record(licence_no=rid, name="孙志强")
    register(client, rid)
    response = client.post("/account/identity/sms", data={}, headers=EN)
    assert "no mobile number recorded" in page(response, 422).get_text()
    assert sms_box.messages() == []


def test_a_code_works_once_and_not_after_it_expires(client, victim, sms_box, conn):
    record = victim[0]
    user = register(client, record.licence_no)
    client.post("/account/identity/sms", data={})
    code = re.search(r"\d{6}", sms_box.messages()[0]["text"]).group()
    with conn():
        SmsChallenge.update(expires_at=dt.datetime(2000, 1, 1)).execute()
    response = client.post("/account/identity/code", data={"code": code}, headers=EN)
    assert "wrong, used or expired" in page(response, 422).get_text()
    # A new code replaces the old one; used once, it cannot prove again.
    client.post("/account/identity/sms", data={})
    fresh = re.search(r"\d{6}", sms_box.messages()[0]["text"]).group()
    assert client.post("/account/identity/code", data={"code": code}).status_code == 422
    assert client.post("/account/identity/code", data={"code": fresh}).status_code == 303
    with conn():
        assert SmsChallenge.select().where(SmsChallenge.used_at.is_null()).count() == 0
        assert IdentityProof.select().where(IdentityProof.user == user.id).count() == 1


def test_wrong_codes_are_throttled(client, victim, sms_box, conn):
    from core.identity import WRONG_PER_ACCOUNT

    user = register(client, victim[0].licence_no)
    client.post("/account/identity/sms", data={})
    code = re.search(r"\d{6}", sms_box.messages()[0]["text"]).group()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(WRONG_PER_ACCOUNT):
        assert client.post("/account/identity/code", data={"code": wrong}).status_code == 422
    response = client.post("/account/identity/code", data={"code": code}, headers=EN)
    assert "Too many wrong codes" in page(response, 429).get_text()
    with conn():
        assert not IdentityProof.select().where(IdentityProof.user == user.id).exists()


def test_sending_codes_is_throttled(client, victim, sms_box):
    from core.identity import SENDS_PER_ACCOUNT

    register(client, victim[0].licence_no)
    for _ in range(SENDS_PER_ACCOUNT):
        assert client.post("/account/identity/sms", data={}).status_code == 303
    response = client.post("/account/identity/sms", data={}, headers=EN)
    assert "Too many codes" in page(response, 429).get_text()
    assert len(sms_box.messages()) == SENDS_PER_ACCOUNT


def counter_reference(client) -> str:
    """The reference the citizen reads out at the counter (from their own identity page)."""
    return (
        page(client.get("/account/identity")).select_one("#counter-reference").get_text(strip=True)
    )


def test_a_clerk_activates_the_account_at_the_counter(app, client, make, victim, conn):
    record, car, _cases = victim
    user = register(client, record.licence_no)
    reference = counter_reference(client)
    clerk_client = app.test_client()
    clerk = make.staff("vehicle_clerk", real_name="张伟")
    make.login(clerk_client, clerk)
    # The clerk's work page leads to the counter.
    card = page(clerk_client.get("/staff/")).find(id="counter-card")
    assert card.find("a")["href"] == "/staff/identity"
    # A wrong reference finds nothing: knowing the ID number is not enough.
    response = clerk_client.post(
        "/staff/identity",
        data={"resident_id": record.licence_no, "reference": "AAAAAA"},
        headers=EN,
    )
    assert "No account has this ID number" in page(response, 422).get_text()
    soup = page(
        clerk_client.post(
            "/staff/identity",
            data={"resident_id": record.licence_no, "reference": reference.lower()},
        )
    )
    assert soup.select_one("#counter-account") and record.licence_no not in str(soup)
    # Without ticking "I have seen the ID card" nothing happens.
    data = {"activate-account": user.id, "activate-reference": reference}
    assert clerk_client.post("/staff/identity/activate", data=data).status_code == 422
    # Another account's id with this reference: 404.
    other = make.citizen(proven=False)
    response = clerk_client.post(
        "/staff/identity/activate",
        data={**data, "activate-account": other.id, "activate-seen_card": "y"},
    )
    assert response.status_code == 404
    # An account that is no id (digits str.isdigit() takes but int() does not, or more than a
    # column holds) is a bad request, not a 500.
    for account in ("²", "9" * 30):
        response = clerk_client.post(
            "/staff/identity/activate",
            data={**data, "activate-account": account, "activate-seen_card": "y"},
        )
        assert response.status_code == 400
    assert (
        clerk_client.post(
            "/staff/identity/activate",
            data={**data, "activate-seen_card": "y", **make.countersignature("activate-")},
        ).status_code
        == 303
    )
    with conn():
        proof = IdentityProof.get(IdentityProof.user == user.id)
        assert (proof.method, proof.clerk_id) == (COUNTER, clerk.id)
        event = AuditEvent.get(AuditEvent.action == "identity.counter_activated")
        assert event.actor_id == clerk.id and "张伟" in event.detail
    assert client.get(f"/transfer/vehicles/{car.id}").status_code == 200


@pytest.mark.parametrize("role", ["truckpass_clerk", "accident_officer", "admin"])
def test_only_licence_and_vehicle_clerks_activate(app, client, make, victim, role, conn):
    user = register(client, victim[0].licence_no)
    data = {
        "activate-account": user.id,
        "activate-reference": counter_reference(client),
        "activate-seen_card": "y",
    }
    staff_client = app.test_client()
    make.login(staff_client, make.staff(role))
    assert staff_client.get("/staff/identity").status_code == 403
    assert page(staff_client.get("/staff/")).find(id="counter-card") is None
    assert staff_client.post("/staff/identity/activate", data=data).status_code == 403
    # A citizen cannot activate anyone either.
    assert client.post("/staff/identity/activate", data=data).status_code == 403
    with conn():
        assert not IdentityProof.proves(user)


def test_a_query_code_opens_its_case_only(app, client, make, victim, conn):
    from blueprints.evidence.querycodes import hash_code

    record, car, (first, second) = victim
    with conn():
        CaseParty.update(query_code_hash=hash_code("RGHT-CODE")).where(
            (CaseParty.case == first.id) & (CaseParty.resident_id == record.licence_no)
        ).execute()
    user = register(client, record.licence_no)
    response = client.post("/evidence/open", data={"case_no": first.case_no, "code": "RGHT-CODE"})
    assert response.status_code == 303
    assert client.get(f"/evidence/cases/{first.id}").status_code == 200
    assert client.get(f"/evidence/cases/{second.id}").status_code == 404
    listed = page(client.get("/evidence/")).get_text()
    assert first.case_no in listed and second.case_no not in listed
    with conn():
        proof = IdentityProof.get(IdentityProof.user == user.id)
        assert (proof.method, proof.case_id) == (QUERY_CODE, first.id)
    # The query code proves nothing else.
    assert client.post("/licence/apply", data={}).status_code == 422
    assert client.get(f"/transfer/vehicles/{car.id}").status_code == 404


def test_an_unproven_seller_does_not_see_or_confirm_the_sale(make, login, client, conn):
    w = make.transfer_world()
    case = make.transfer_case(w)
    with conn():
        seller = User.get_by_id(case.seller_id)
        IdentityProof.delete().where(IdentityProof.user == seller.id).execute()
    login(seller)
    assert client.get(f"/transfer/cases/{case.id}").status_code == 404
    assert client.post(f"/transfer/cases/{case.id}/confirm", data={}).status_code == 404
    assert case.number not in page(client.get("/transfer/")).get_text()


def test_an_unproven_owner_gets_no_pass_at_once_for_their_truck(make, login, client):
    owner = make.citizen(proven=False)
    truck = make.truck(owner)
    login(owner)
    soup = page(client.get("/trucks/apply"))
    assert f"plate={truck.plate}" not in soup.get_text() and soup.select_one("#prove-identity")
    from blueprints.truckpass import service

    with db.connection_context():
        assert list(service.own_trucks(owner)) == []
        assert not service.is_owner(Vehicle.get_by_id(truck.id), owner)


def test_a_proof_binds_the_id_number_it_proved(make, conn):
    from core.identity import identity_proven

    user = make.citizen()
    with conn():
        assert identity_proven(User.get_by_id(user.id))
        User.update(resident_id=make.resident_id(1970)).where(User.id == user.id).execute()
        assert not identity_proven(User.get_by_id(user.id))


def test_an_unproven_citizen_is_shown_how_to_prove_the_id_number_on_the_home_page(
    client, make, login
):
    login(make.citizen(proven=False))
    assert page(client.get("/")).find(id="prove-identity")
    client.post("/logout", data={})
    login(make.citizen())
    assert not page(client.get("/")).find(id="prove-identity")
    client.post("/logout", data={})
    assert not page(client.get("/")).find(id="prove-identity")  # nobody logged in
