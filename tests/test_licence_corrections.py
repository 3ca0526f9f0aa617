"""Licence corrections and reasons shown: the holder sees why and since when the
licence is suspended and that the e-licence cannot be used; refusals say what to do next; a
clerk corrects a record field with a reason (audited); a citizen's name correction request is
approved or refused by a clerk; cancelling a licence asks first."""

import json

import pytest

from blueprints.licence import corrections, service
from blueprints.licence.labels import NEXT_STEPS
from core.audit import reason_of
from core.steps import StepError
from models import AuditEvent, LicenceRecord, NameCorrection, User
from models.licence import RECORD_STATUSES
from rules.validators import birth_date_from_resident_id, sex_code, sex_from_resident_id

from .helpers import field_error, page


def test_every_bad_standing_has_a_next_step():
    assert set(RECORD_STATUSES) - {"valid"} == set(NEXT_STEPS)


def test_suspension_reason_and_date_reach_the_holder(make, client, conn):
    elicence = make.elicence()
    clerk = make.staff("licence_clerk")
    with conn():
        record = LicenceRecord.get_by_id(elicence.record_id)
        service.set_record_status(record, "suspended", "酒后驾驶，暂扣六个月", clerk)
        assert LicenceRecord.get_by_id(record.id).status_changed_at is not None
    make.login(client, elicence.holder)
    soup = page(client.get("/licence/"))
    standing = soup.find(id="licence-standing").get_text()
    assert "暂扣" in standing and "不能使用" in standing
    assert "酒后驾驶，暂扣六个月" in soup.find(id="standing-reason").get_text()
    assert "自" in soup.find(id="standing-reason").get_text()  # since when
    assert "暂扣期满" in soup.find(id="next-step").get_text()
    assert "全国有效" not in soup.get_text()  # no longer "valid nationwide"
    english = page(client.get("/licence/", headers={"Accept-Language": "en"}))
    standing = english.find(id="licence-standing").get_text(" ", strip=True)
    assert standing.count("Your licence is suspended") == 1 and "Suspended" not in standing
    card = page(client.get("/licence/card"))
    assert "不能使用" in card.find(id="card-standing").get_text()
    # The e-licence they hold works again once the licence is restored (said where they have one).
    for said in (standing, card.find(id="card-standing").get_text()):
        assert "无需重新申领" in said or "without a new application" in said


def test_a_holder_not_in_good_standing_is_told_before_applying(make, client, conn):
    holder = make.citizen()
    record = make.licence_record(holder)
    clerk = make.staff("licence_clerk")
    with conn():
        service.set_record_status(record, "suspended", "酒后驾驶，暂扣六个月", clerk)
    make.login(client, holder)
    soup = page(client.get("/licence/"))
    assert "暂扣期满" in soup.find(id="next-step").get_text()
    assert "酒后驾驶" in soup.find(id="standing-reason").get_text()
    assert soup.find(id="apply-form") is None and "立即申领" not in soup.get_text()
    # The e-licence's own words are not said to someone who has none.
    assert "电子驾驶证不能使用" not in soup.get_text()
    assert "电子驾驶证" not in soup.find(id="licence-standing").get_text()


def test_points_full_refusal_names_the_study_and_exam(make, client):
    holder = make.citizen()
    make.licence_record(holder, points=12)
    make.login(client, holder)
    soup = page(client.post("/licence/apply", data={}), 422)
    text = soup.select_one(".form-error").get_text()
    assert "满分学习" in text and "科目一" in text


def test_clerk_corrects_a_record_with_a_reason(make, app, conn):
    record = make.licence_record(address="青岛市旧地址1号")
    clerk = make.staff("licence_clerk")
    client = app.test_client()
    make.login(client, clerk)
    url = f"/licence/records/{record.id}/correct"
    soup = page(client.get(f"/licence/records/{record.id}"))
    assert soup.find(id="correction-form")
    no_reason = {"correction-field": "address", "correction-value": "青岛市新地址2号"}
    assert field_error(page(client.post(url, data=no_reason), 422), "correction-reason")
    data = {**no_reason, "correction-reason": "登记时地址录入错误"}
    assert client.post(url, data=data).status_code == 303
    with conn():
        assert LicenceRecord.get_by_id(record.id).address == "青岛市新地址2号"
        row = AuditEvent.get(AuditEvent.action == "licence.record_corrected")
    assert row.actor_id == clerk.id
    assert json.loads(row.detail) == {
        "field": "address",
        "old": "青岛市旧地址1号",
        "new": "青岛市新地址2号",
        "reason": "登记时地址录入错误",
    }
    bad_date = {"correction-field": "birth_date", "correction-value": "1990/1/1"}
    bad_date["correction-reason"] = "x"
    assert field_error(page(client.post(url, data=bad_date), 422), "correction-value")
    # A name is taken as ID cards print it, as the holder's own request is.
    for typed in ("A", "王5"):
        bad_name = {"correction-field": "name", "correction-value": typed, "correction-reason": "x"}
        assert field_error(page(client.post(url, data=bad_name), 422), "correction-value")
    name = {
        "correction-field": "name",
        "correction-value": " 艾力•买买提 ",
        "correction-reason": "x",
    }
    assert client.post(url, data=name).status_code == 303
    with conn():
        assert LicenceRecord.get_by_id(record.id).name == "艾力·买买提"


@pytest.mark.parametrize(
    "action, reason, words",
    [("cancelled", "本人申请注销", "注销"), ("revoked", "醉驾，依法吊销", "吊销")],
)
def test_cancelling_or_revoking_a_licence_asks_first(make, app, conn, action, reason, words):
    record = make.licence_record()
    clerk = make.staff("licence_clerk")
    client = app.test_client()
    make.login(client, clerk)
    url = f"/licence/records/{record.id}/status"
    data = {"action": action, "reason": reason}
    soup = page(client.post(url, data=data))
    assert soup.find(id="confirm-form") and reason in soup.get_text()
    assert words in soup.find("h1").get_text()
    with conn():
        assert LicenceRecord.get_by_id(record.id).status == "valid"
    assert client.post(url, data={**data, "confirmed": "yes"}).status_code == 303
    with conn():
        assert LicenceRecord.get_by_id(record.id).status == action


def test_a_revoked_licence_is_not_restored(make, app, conn):
    """A revocation (吊销) ends the licence: the clerk may cancel it in the end, never make it
    valid again (its holder applies anew once the ban is over)."""
    record = make.licence_record(status="revoked")
    client = app.test_client()
    make.login(client, make.staff("licence_clerk"))
    soup = page(client.get(f"/licence/records/{record.id}"))
    offered = {o["value"] for o in soup.select("select[name=action] option") if o["value"]}
    assert offered == {"cancelled"}
    undo = {"action": "valid", "reason": "误操作"}
    client.post(f"/licence/records/{record.id}/status", data=undo)
    with conn():
        assert LicenceRecord.get_by_id(record.id).status == "revoked"


def test_name_correction_walked_from_citizen_to_clerk_and_back(make, app, conn):
    citizen = make.citizen(real_name="张三风")
    make.licence_record(citizen, name="张三丰")
    person = app.test_client()
    make.login(person, citizen)
    refused = page(person.post("/licence/apply", data={}), 422)
    assert refused.find(id="name-correction-link")["href"] == "/licence/name-correction"
    # A name no ID card prints is refused at once, not left for the clerk to refuse.
    typo = page(person.post("/licence/name-correction", data={"new_name": "Xie123!"}), 422)
    assert "只能由文字组成" in field_error(typo, "new_name")
    assert person.post("/licence/name-correction", data={"new_name": "张三丰"}).status_code == 303
    soup = page(person.get("/licence/name-correction"))
    assert soup.find(id="pending-request") and not soup.find(id="name-correction-form")
    clerk = make.staff("licence_clerk")
    desk = app.test_client()
    make.login(desk, clerk)
    queue = page(desk.get("/licence/corrections"))
    with conn():
        request = NameCorrection.get(NameCorrection.user == citizen.id)
    entry = queue.find(id=f"correction-{request.id}").get_text()
    assert "张三风" in entry and "张三丰" in entry  # the account's, asked and recorded names
    done = desk.post(
        f"/licence/corrections/{request.id}",
        data={"decision": "approve", f"c{request.id}-answer": "已核对身份证"},
    )
    assert done.status_code == 303
    with conn():
        assert User.get_by_id(citizen.id).real_name == "张三丰"
        assert NameCorrection.get_by_id(request.id).status == "approved"
        assert AuditEvent.get(AuditEvent.action == "name_correction.approved").actor_id == clerk.id
    # The answer reaches the citizen, who now gets the e-licence.
    assert "已核对身份证" in page(person.get("/licence/name-correction")).get_text()
    assert person.post("/licence/apply", data={}).status_code == 303


def test_name_correction_refusals(make, conn):
    citizen = make.citizen(real_name="李四")
    unproven = make.citizen(proven=False)
    clerk = make.staff("licence_clerk")
    with conn():
        with pytest.raises(StepError):
            corrections.request_name_correction(unproven, new_name="王五")
        with pytest.raises(StepError):
            corrections.request_name_correction(citizen, new_name="李四")
        first = corrections.request_name_correction(citizen, new_name="李泗")
        with pytest.raises(StepError):  # one at a time
            corrections.request_name_correction(citizen, new_name="李思")
        corrections.decide_name_correction(first.id, clerk, approve=False, answer="与档案不符")
        with pytest.raises(StepError):  # decided once
            corrections.decide_name_correction(first.id, clerk, approve=True)
        assert User.get_by_id(citizen.id).real_name == "李四"


def test_a_correction_of_birth_date_or_sex_keeps_to_the_id_number(make, conn):
    """The licence number is the holder's ID number, which writes the date of birth and the sex:
    a record may be corrected into line with it (a typo), never against it; the sex is typed as
    people write it (男, 女, M, F)."""
    record = make.licence_record()
    born = birth_date_from_resident_id(record.licence_no)
    sex = sex_from_resident_id(record.licence_no)
    clerk = make.staff("licence_clerk")
    with conn():
        LicenceRecord.update(
            birth_date=born.replace(year=2030), sex="F" if sex == "M" else "M"
        ).where(LicenceRecord.id == record.id).execute()
        for field, value in (("birth_date", "2031-05-05"), ("sex", "F" if sex == "M" else "M")):
            with pytest.raises(StepError) as refused:
                corrections.correct_record(
                    record.id, clerk, field=field, value=value, reason="typo"
                )
            assert refused.value.field == "value"
        corrections.correct_record(
            record.id, clerk, field="birth_date", value=born.isoformat(), reason="typo"
        )
        corrections.correct_record(
            record.id, clerk, field="sex", value="男" if sex == "M" else "女", reason="typo"
        )
        corrected = LicenceRecord.get_by_id(record.id)
    assert (corrected.birth_date, corrected.sex) == (born, sex)


def test_sex_is_read_as_people_write_it():
    assert [sex_code(t) for t in ("男", "女", "m", " F ", "Ｍ", "x", "")] == [
        "M",
        "F",
        "M",
        "F",
        "M",
        None,
        None,
    ]


def test_the_clerk_is_asked_before_approving_a_name_the_record_does_not_have(make, app, conn):
    """郑晓燕 asks to be named 郑晓艳, the record says 郑晓燕: approving asks first; a refusal
    without a reason is drawn again with the error at its own answer field."""
    citizen = make.citizen(real_name="郑晓燕")
    make.licence_record(citizen, name="郑晓燕")
    with conn():
        asked = corrections.request_name_correction(citizen, new_name="郑晓艳")
    desk = app.test_client()
    make.login(desk, make.staff("licence_clerk"))
    url, answer = f"/licence/corrections/{asked.id}", f"c{asked.id}-answer"
    refused = page(desk.post(url, data={"decision": "refuse", answer: " "}), 422)
    assert refused.find(id=f"{answer}-error") and "error-summary" in str(refused)
    question = page(desk.post(url, data={"decision": "approve", answer: ""}))
    assert "郑晓艳" in question.find(id="confirm-box").get_text()
    with conn():
        assert User.get_by_id(citizen.id).real_name == "郑晓燕"  # nothing done yet
        with pytest.raises(StepError):  # the service asks for the confirmation too
            corrections.decide_name_correction(asked.id, make.staff("licence_clerk"), approve=True)
    done = desk.post(url, data={"decision": "approve", answer: "", "confirmed": "yes"})
    assert done.status_code == 303
    with conn():
        assert User.get_by_id(citizen.id).real_name == "郑晓艳"


def test_a_refused_name_correction_shows_its_reason_in_the_audit_log(app, make, conn):
    citizen = make.citizen(real_name="李四")
    with conn():
        asked = corrections.request_name_correction(citizen, new_name="李泗")
        corrections.decide_name_correction(
            asked.id, make.staff("licence_clerk"), approve=False, answer="与档案不符"
        )
        row = AuditEvent.get(AuditEvent.action == "name_correction.refused")
    with app.test_request_context():
        assert reason_of(row) == "与档案不符"
