"""Reasons shown to the parties and reviews (复核) of withheld evidence: the list of
withheld items with category and grounds, the next step, a request within the period, the
officers' queue and the answer reaching the party; removing a party asks first."""

import datetime as dt

import pytest

from blueprints.evidence import review
from blueprints.evidence.labels import NEXT_STEPS
from core.steps import StepError
from models import CASE_STATUSES, AccidentCase, AuditEvent, CaseParty, Notice, ReviewRequest

from .helpers import field_error, page

EN = {"Accept-Language": "en"}


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
    english = page(client.get(f"/evidence/cases/{case.id}", headers=EN)).get_text()
    assert "disagree with what was withheld" in english


def test_a_party_with_nothing_withheld_is_not_told_of_withheld_evidence(make, app):
    case = make.accident_case()
    citizen = make.citizen()
    make.party(case, citizen)
    make.evidence(case, title="现场勘查笔录")
    client = app.test_client()
    make.login(client, citizen)
    english = page(client.get(f"/evidence/cases/{case.id}", headers=EN)).get_text()
    assert "Nothing is withheld from you" in english
    assert "If you disagree with what was withheld, ask" not in english


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
    # A second request waits for the first answer: the page no longer offers the form, and a
    # second post (an older tab) is told so at the top of the case page.
    waiting = page(party.get(f"/evidence/cases/{case.id}"))
    assert not waiting.find(id="review-form") and waiting.find(id="review-waiting")
    again = party.post(url, data={"grounds": "再次申请"})
    assert again.status_code == 303
    told = page(party.get(again.location)).select_one(".flash-warn").get_text()
    assert "仍在等待答复" in told

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
    # Sent, it cannot be changed: the officer is asked first, with the answer shown.
    asked = page(desk.post(f"/evidence/reviews/{request.id}/answer", data=answer))
    assert "照片含第三人隐私，不予公开" in asked.get_text() and asked.find("form")
    with conn():
        assert (
            not AuditEvent.select().where(AuditEvent.action == "evidence.review_answered").exists()
        )
    # "No, change it" brings the answer back in its box, not an empty one.
    assert asked.find(id="confirm-revise")
    url = f"/evidence/reviews/{request.id}/answer"
    revised = page(desk.post(url, data={**answer, "confirmed": "no"}))
    box = revised.find("textarea", id=f"r{request.id}-answer")
    assert box.get_text().strip() == "照片含第三人隐私，不予公开"
    answer["confirmed"] = "yes"
    assert desk.post(f"/evidence/reviews/{request.id}/answer", data=answer).status_code == 303
    assert not page(desk.get("/evidence/reviews")).find(id=f"review-request-{request.id}")
    with conn():
        row = AuditEvent.get(AuditEvent.action == "evidence.review_answered")
        assert row.actor_id == officer.id

    seen = page(party.get(f"/evidence/cases/{case.id}")).find(id=f"review-{request.id}")
    assert "照片含第三人隐私，不予公开" in seen.select_one(".review-answer").get_text()
    assert "已答复" in seen.get_text()  # its state, not "time of answer"
    # Answered, the case still does not close while the parties may ask for a review...
    desk.post(f"/evidence/cases/{case.id}/progress", data=close)
    warned = page(desk.get(f"/evidence/cases/{case.id}")).select_one(".flash-warn").get_text()
    assert "当事人可在" in warned and "之后再结案" in warned
    with conn():
        assert AccidentCase.get_by_id(case.id).status == "open_for_review"
        # ... and once the period is over, it closes.
        earlier = dt.date.today() - dt.timedelta(days=10)
        AccidentCase.update(determination_delivered_on=earlier).where(
            AccidentCase.id == case.id
        ).execute()
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
    # The next step no longer offers the days that are over; it says when they ended.
    ended = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    next_step = soup.find(id="next-step").get_text()
    assert "内申请复核" not in next_step and ended in next_step
    assert soup.get_text().count("届满") == 1  # said once, by the next step
    assert soup.find(id="reviews") is None  # and no empty "Review" heading under it
    # Determined but never opened for review: no word of released evidence.
    unreleased = make.accident_case(
        status="determination_delivered",
        determination_delivered_on=dt.date.today() - dt.timedelta(days=4),
    )
    make.party(unreleased, citizen)
    said = page(client.get(f"/evidence/cases/{unreleased.id}")).find(id="next-step").get_text()
    assert ended in said and "已公开的证据" not in said
    assert "已公开的证据" in next_step  # the first case was open for review: released
    with app.test_request_context(), conn():
        access = review_access(case, citizen)
        with pytest.raises(StepError):
            review.request_review(access, "太晚了")
        # The period is a setting: a province with a longer one.
        app.config["EVIDENCE_REVIEW_DAYS"] = 5
        assert review.request_review(access, "在期限内").status == "pending"
        app.config["EVIDENCE_REVIEW_DAYS"] = 3
    # Its request waits past the period: it is not told it may ask again.
    waiting = page(client.get(f"/evidence/cases/{case.id}")).find(id="review-waiting").get_text()
    assert "再次申请" not in waiting and "不能再提出新的申请" in waiting


def a_party_logged_in(make, app):
    """A brigade's officer, their case, a party to it, and the party's logged-in client."""
    officer = make.staff("accident_officer", office=make.office(kind="police_brigade"))
    case = make.accident_case(officer)
    citizen = make.citizen()
    party_row = make.party(case, citizen)
    party = app.test_client()
    make.login(party, citizen)
    return officer, case, party_row, party


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


def test_a_waiting_request_is_withdrawn_after_a_confirmation(make, app, conn):
    officer = make.staff("accident_officer", office=make.office(kind="police_brigade"))
    case = make.accident_case(officer)
    citizen, other = make.citizen(), make.citizen()
    make.party(case, citizen)
    make.party(case, other)
    party = app.test_client()
    make.login(party, citizen)
    case_url = f"/evidence/cases/{case.id}"
    assert party.post(f"{case_url}/review", data={"grounds": "请公开照片"}).status_code == 303
    with conn():
        request = ReviewRequest.get(ReviewRequest.case == case.id)
    url = f"{case_url}/reviews/{request.id}/withdraw"
    # While it waits: no second form, the request with its withdrawal (a POST form).
    soup = page(party.get(case_url, headers=EN))
    assert not soup.find(id="review-form")
    button = soup.find(id=f"withdraw-review-{request.id}")
    assert button["action"] == url and button["method"] == "post"
    # Asked first; nothing changes yet.
    asked = page(party.post(url, data={}, headers=EN))
    assert asked.find(id="confirm-form")["action"] == url
    assert "ask for a review again until" in asked.find(id="confirm-box").get_text()
    with conn():
        assert ReviewRequest.get_by_id(request.id).status == "pending"
    # Another party of the case cannot withdraw it, nor can anyone without the token.
    stranger = app.test_client()
    make.login(stranger, other)
    assert stranger.post(url, data={"confirmed": "yes"}).status_code == 404
    assert party.post(url, data={"confirmed": "yes"}, csrf=False).status_code == 400
    assert party.post(url, data={"confirmed": "yes"}).status_code == 303
    with conn():
        assert ReviewRequest.get_by_id(request.id).status == "withdrawn"
        row = AuditEvent.get(AuditEvent.action == "evidence.review_withdrawn")
        assert row.actor_id == citizen.id and row.object_id == str(request.id)
    # Gone from the officers' queue, and the officer's notice of it is settled (read), with no
    # second message (they had not read of it); they can no longer answer it, and may close.
    with conn():
        assert Notice.unread_count(officer.id) == 0
        assert Notice.select().where(Notice.user == officer.id).count() == 1
    desk = app.test_client()
    make.login(desk, officer)
    assert not page(desk.get("/evidence/reviews")).find(id=f"review-request-{request.id}")
    with app.test_request_context(), conn():
        with pytest.raises(StepError) as refused:
            review.answer_review(request.id, officer, "答复")
        assert refused.value.message is review.WITHDRAWN_ALREADY
    # Shown as withdrawn; the party may ask again while the period runs.
    soup = page(party.get(case_url, headers=EN))
    assert "Withdrawn" in soup.find(id=f"review-{request.id}").get_text()
    assert soup.find(id="review-form")
    assert party.post(url, data={"confirmed": "yes"}).status_code == 303  # told, not changed
    assert party.post(f"{case_url}/review", data={"grounds": "再次申请"}).status_code == 303
    with conn():
        assert ReviewRequest.select().where(ReviewRequest.status == "pending").count() == 1


def test_a_blank_answer_is_refused_at_its_own_field(make, app, conn):
    officer = make.staff("accident_officer", office=make.office(kind="police_brigade"))
    case = make.accident_case(officer)
    requests = []
    with conn():
        for _ in range(2):
            citizen = make.citizen()
            party = make.party(case, citizen)
            requests.append(
                ReviewRequest.create(case=case.id, party=party.id, user=citizen.id, grounds="x")
            )
    first, second = requests
    desk = app.test_client()
    make.login(desk, officer)
    url = f"/evidence/reviews/{second.id}/answer"
    soup = page(desk.post(url, data={f"r{second.id}-answer": "   "}), 422)
    assert field_error(soup, f"r{second.id}-answer")
    assert not field_error(soup, f"r{first.id}-answer")
    assert not soup.select(".flash-bad")
    # What was typed stays (a too long answer, said at its field too).
    long = "不予公开" * 251
    soup = page(desk.post(url, data={f"r{second.id}-answer": long}), 422)
    assert field_error(soup, f"r{second.id}-answer")
    assert soup.find("textarea", id=f"r{second.id}-answer").get_text().strip() == long
    with conn():
        assert ReviewRequest.get_by_id(second.id).status == "pending"


def test_asking_and_withdrawing_in_a_loop_is_limited(make, app, conn):
    """Each request tells the officer (SMS, e-mail): a party may ask a few times a day, not
    loop request and withdrawal without end."""
    officer, case, party_row, party = a_party_logged_in(make, app)
    case_url = f"/evidence/cases/{case.id}"
    for _ in range(review.REVIEW_REQUESTS_PER_DAY):
        assert party.post(f"{case_url}/review", data={"grounds": "请公开照片"}).status_code == 303
        with conn():
            waiting = ReviewRequest.get(ReviewRequest.status == "pending")
        withdraw = f"{case_url}/reviews/{waiting.id}/withdraw"
        assert party.post(withdraw, data={"confirmed": "yes"}).status_code == 303
    refused = party.post(f"{case_url}/review", data={"grounds": "请公开照片"}, headers=EN)
    assert refused.status_code == 303
    assert "times today" in page(party.get(case_url, headers=EN)).get_text()
    with conn():
        assert ReviewRequest.select().count() == review.REVIEW_REQUESTS_PER_DAY
        assert Notice.select().where(Notice.user == officer.id).count() == 3


def test_a_party_whose_request_waits_is_not_removed(make, app, conn):
    """Removing a party would take their waiting request with them, unanswered: it is refused
    (before any question) until the request is answered or withdrawn."""
    officer, case, party_row, party = a_party_logged_in(make, app)
    case_url = f"/evidence/cases/{case.id}"
    assert party.post(f"{case_url}/review", data={"grounds": "请公开照片"}).status_code == 303
    desk = app.test_client()
    make.login(desk, officer)
    remove = f"{case_url}/parties/{party_row.id}/remove"
    for data in ({}, {"confirmed": "yes"}):
        assert desk.post(remove, data=data, headers=EN).status_code == 303
        assert "answer it first" in page(desk.get(case_url, headers=EN)).get_text()
        with conn():
            assert CaseParty.select().where(CaseParty.id == party_row.id).exists()
    with app.test_request_context(), conn():
        request = ReviewRequest.get(ReviewRequest.case == case.id)
        review.answer_review(request.id, officer, "已核实，维持不予公开")
    assert desk.post(remove, data={"confirmed": "yes"}).status_code == 303
    with conn():
        assert not CaseParty.select().where(CaseParty.id == party_row.id).exists()


def test_an_officer_who_read_of_a_request_is_told_it_was_withdrawn(make, app, conn):
    """The officer opened the request's notice (and may be writing an answer): a withdrawal
    reaches them as a notice of its own."""
    officer, case, party_row, party = a_party_logged_in(make, app)
    case_url = f"/evidence/cases/{case.id}"
    assert party.post(f"{case_url}/review", data={"grounds": "请公开照片"}).status_code == 303
    with conn():
        Notice.mark_read(officer.id)
        waiting = ReviewRequest.get(ReviewRequest.status == "pending")
    withdraw = f"{case_url}/reviews/{waiting.id}/withdraw"
    assert party.post(withdraw, data={"confirmed": "yes"}).status_code == 303
    with conn():
        told = Notice.select().where((Notice.user == officer.id) & Notice.read_at.is_null())
        assert [n.kind for n in told] == ["evidence.review_withdrawn"]


def test_no_close_button_while_the_parties_may_still_ask_for_a_review(make, app, conn):
    """While the review period runs, the officer is told when the case may be closed instead
    of being offered a button that asks "cannot be undone" and is then refused; a close sent
    from an older page is refused at once, with no question first."""
    officer = make.staff("accident_officer", office=make.office(kind="police_brigade"))
    case = make.accident_case(officer)  # open for review since yesterday: 3 days to ask
    client = app.test_client()
    make.login(client, officer)
    soup = page(client.get(f"/evidence/cases/{case.id}"))
    assert soup.select("#progress-form button[value=closed]") == []
    deadline = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert deadline in soup.find(id="close-later").get_text()
    sent = client.post(f"/evidence/cases/{case.id}/progress", data={"to": "closed"})
    assert sent.status_code == 303  # back to the case, never the confirmation page
    assert (
        deadline in page(client.get(sent.headers["Location"])).find(class_="flash-warn").get_text()
    )
    with conn():
        assert AccidentCase.get_by_id(case.id).status == "open_for_review"
    # Once the period is over, the button is there (and asks first).
    over = make.accident_case(
        officer, determination_delivered_on=dt.date.today() - dt.timedelta(days=5)
    )
    soup = page(client.get(f"/evidence/cases/{over.id}"))
    assert soup.select("#progress-form button[value=closed]") and not soup.find(id="close-later")
