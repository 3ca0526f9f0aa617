"""A forgotten password reset with a code sent by SMS to the account's mobile: the same answer
whether or not an account exists, the code good once and only for this, wrong codes and
sends throttled, every session of the account ended."""

import re

import pytest

from core.sms import DevGateway
from models import AuditEvent, User

from .helpers import field_error, page

NEW = "Harbour-Lantern-77"


@pytest.fixture
def sms_box(app, tmp_path):
    app.config["SMS_DEV_FILE"] = str(tmp_path / "sms.jsonl")
    return DevGateway(app.config["SMS_DEV_FILE"])


def code_sent_to(sms_box, mobile: str) -> str:
    texts = [m["text"] for m in sms_box.messages(keep=None) if m["mobile"] == mobile]
    return re.search(r"\d{6}", texts[0]).group(0)


def reset(client, account, code, password=NEW):
    data = {"account": account, "code": code, "password": password, "confirm": password}
    return client.post("/password/reset", data=data)


def test_a_citizen_resets_a_forgotten_password_and_other_sessions_end(
    app, client, make, conn, sms_box
):
    citizen = make.citizen()
    elsewhere = app.test_client()
    make.login(elsewhere, citizen)
    assert "/password/forgot" in page(client.get("/login")).find(id="forgot-link")["href"]
    asked = client.post("/password/forgot", data={"account": citizen.mobile})
    assert asked.status_code == 303 and "/password/reset" in asked.location
    code = code_sent_to(sms_box, citizen.mobile)
    wrong = page(reset(client, citizen.mobile, f"{(int(code) + 1) % 10**6:06d}"), 422)
    assert field_error(wrong, "code")
    assert reset(client, citizen.resident_id, code).status_code == 303  # by ID number too
    assert elsewhere.get("/account").status_code == 302  # that session ended
    assert make.login(client, citizen, password=NEW) is not None
    assert reset(client, citizen.mobile, code).status_code == 422  # the code was good once
    with conn():
        actions = [e.action for e in AuditEvent.select().where(AuditEvent.actor_id == citizen.id)]
        assert "account.password_reset_sent" in actions and "account.password_reset" in actions


def test_nobody_learns_whether_an_account_exists(client, make, sms_box):
    citizen = make.citizen()
    known = client.post("/password/forgot", data={"account": citizen.mobile})
    unknown = client.post("/password/forgot", data={"account": "13900000000"})
    assert known.status_code == unknown.status_code == 303
    assert (
        page(client.get(known.location)).find(id="code-sent").get_text()
        == page(client.get(unknown.location)).find(id="code-sent").get_text()
    )
    assert [m["mobile"] for m in sms_box.messages(keep=None)] == [citizen.mobile]


def test_a_staff_account_is_not_reset_here(client, make, sms_box):
    clerk = make.staff("licence_clerk", mobile="13700001234")
    assert client.post("/password/forgot", data={"account": clerk.username}).status_code == 303
    assert client.post("/password/forgot", data={"account": "13700001234"}).status_code == 303
    assert sms_box.messages(keep=None) == []


def test_wrong_codes_lock_the_step_and_an_identity_code_is_no_reset_code(
    app, client, make, conn, sms_box
):
    citizen = make.citizen()
    client.post("/password/forgot", data={"account": citizen.mobile})
    code = code_sent_to(sms_box, citizen.mobile)
    for i in range(5):
        wrong = f"{(int(code) + 1 + i) % 10**6:06d}"
        assert reset(client, citizen.mobile, wrong).status_code == 422
    locked = page(reset(client, citizen.mobile, code), 422)  # right, but locked now
    assert "Too many wrong codes" in locked.get_text() or "错误次数过多" in locked.get_text()
    with conn():
        assert User.get_by_id(citizen.id).password_hash == citizen.password_hash
