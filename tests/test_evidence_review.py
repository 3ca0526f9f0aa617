"""Reasons shown to the parties and reviews (复核) of withheld evidence: the list of
withheld items with category and grounds, the next step, a request within the period, the
officers' queue and the answer reaching the party; removing a party asks first."""

import datetime as dt

import pytest

from blueprints.evidence import review
from blueprints.evidence.labels import NEXT_STEPS
from core.steps import StepError
from models import CASE_STATUSES, AccidentCase, AuditEvent, CaseParty, ReviewRequest

from .helpers import field_error, page


def test_every_status_has_a_next_step():
    assert set(CASE_STATUSES) <= set(NEXT_STEPS)


def test_party_sees_withheld_items_with_grounds_but_not_the_note(make, app):
    case = make.accident_case()
    citizen = make.citizen()
    make.party(case, citizen)
    make.evidence(case, title="现场勘查笔录")
    make.evidence(
        case,
        category="photo",
        title="证人照片",
        released=False,
        withhold_reason="witness",
        withhold_note="证人王某要求保护",
    )
    client = app.test_client()
    make.login(client, citizen)
    soup = page(client.get(f"/evidence/cases/{case.id}"))
    rows = soup.select("#withheld-items tbody tr")
    assert len(rows) == 1
    assert rows[0].get_text(" ", strip=True) == "照片 保护证人"
    assert "证人王某" not in soup.get_text() and "证人照片" not in soup.get_text()
    assert "复核" in soup.find(id="next-step").get_text()


def test_review_walked_from_party_to_officer_and_back(make, app, conn):
    officer = make.staff("accident_officer", office=make.office(kind="police_brigade"))
    case = make.accident_case(officer)
    citizen = make.citizen()
    make.party(case, citizen)
    make.evidence(case, released=False, withhold_reason="privacy")
    party = app.test_client()
    make.login(party, citizen)
    url = f"/evidence/cases/{case.id}/review"
    assert field_error(page(party.post(url, data={"grounds": ""}), 422), "grounds")
    assert party.post(url, data={"grounds": "请公开对方车辆的照片"}).status_code == 303
    # A second request waits for the first answer.
    again = page(party.post(url, data={"grounds": "再次申请"}), 422)
    assert "仍在等待答复" in again.get_text()

    desk = app.test_client()
    make.login(desk, officer)
    queue = page(desk.get("/evidence/reviews"))
    with conn():
        request = ReviewRequest.get(ReviewRequest.case == case.id)
    assert "请公开对方车辆的照片" in queue.find(id=f"review-request-{request.id}").get_text()
    # The case cannot be closed while the request waits for its answer.
    close = {"to": "closed", "confirmed": "yes"}
    desk.post(f"/evidence/cases/{case.id}/progress", data=close)
    warned = page(desk.get(f"/evidence/cases/{case.id}")).select_one(".flash-warn").get_text()
    assert "复核申请尚待答复" in warned
    answer = {f"r{request.id}-answer": "照片含第三人隐私，不予公开"}
    assert desk.post(f"/evidence/reviews/{request.id}/answer", data=answer).status_code == 303
    assert not page(desk.get("/evidence/reviews")).find(id=f"review-request-{request.id}")
    with conn():
        row = AuditEvent.get(AuditEvent.action == "evidence.review_answered")
        assert row.actor_id == officer.id

    seen = page(party.get(f"/evidence/cases/{case.id}")).find(id=f"review-{request.id}")
    assert "照片含第三人隐私，不予公开" in seen.select_one(".review-answer").get_text()
    # Answered: now it closes.
    desk.post(f"/evidence/cases/{case.id}/progress", data=close)
    with conn():
        assert AccidentCase.get_by_id(case.id).status == "closed"


def test_requests_only_within_the_period(make, app, conn):
    case = make.accident_case(determination_delivered_on=dt.date.today() - dt.timedelta(days=4))
    citizen = make.citizen()
    make.party(case, citizen)
    client = app.test_client()
    make.login(client, citizen)
    soup = page(client.get(f"/evidence/cases/{case.id}"))
    assert not soup.find(id="review-form")
    with app.test_request_context(), conn():
        access = review_access(case, citizen)
        with pytest.raises(StepError):
            review.request_review(access, "太晚了")
        # The period is a setting: a province with a longer one.
        app.config["EVIDENCE_REVIEW_DAYS"] = 5
        assert review.request_review(access, "在期限内").status == "pending"


def review_access(case, citizen):
    from blueprints.evidence.service import case_access

    return case_access(case.id, citizen)


def test_officers_of_another_brigade_cannot_answer(make, conn):
    case = make.accident_case()
    citizen = make.citizen()
    make.party(case, citizen)
    stranger = make.staff("accident_officer", office=make.office(kind="police_brigade"))
    with conn():
        from blueprints.evidence.service import case_access

        request = ReviewRequest.create(
            case=case.id,
            party=CaseParty.get(CaseParty.case == case.id).id,
            user=citizen.id,
            grounds="x",
        )
        assert case_access(case.id, citizen) is not None
        with pytest.raises(StepError):
            review.answer_review(request.id, stranger, "不行")


def test_removing_a_party_asks_first(make, app, conn):
    officer = make.staff("accident_officer", office=make.office(kind="police_brigade"))
    case = make.accident_case(officer)
    party = make.party(case)
    client = app.test_client()
    make.login(client, officer)
    url = f"/evidence/cases/{case.id}/parties/{party.id}/remove"
    assert page(client.post(url, data={})).find(id="confirm-form")["action"] == url
    with conn():
        assert CaseParty.get_or_none(CaseParty.id == party.id) is not None


def test_a_request_is_refused_when_the_case_closed_after_the_page_was_read(make, app, conn):
    """The case is read again under lock in the request's transaction (an officer closing it
    meanwhile wins, and no request waits on a closed case)."""
    case = make.accident_case()
    citizen = make.citizen()
    make.party(case, citizen)
    with app.test_request_context(), conn():
        access = review_access(case, citizen)  # read while the case was open
        AccidentCase.update(status="closed").where(AccidentCase.id == case.id).execute()
        with pytest.raises(StepError):
            review.request_review(access, "请复核")
        assert not ReviewRequest.select().where(ReviewRequest.case == case.id).exists()
