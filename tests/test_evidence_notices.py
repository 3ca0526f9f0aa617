"""The notices of an accident case's parties (blueprints/evidence/notices.py): a party added
late is told where the case stands then, a party removed is told and their notices of the case
stop waiting, and the English words count and write roles as English does."""

import datetime as dt

import pytest
from flask_babel import force_locale, format_date

from blueprints.evidence import service
from blueprints.evidence.period import deadline_after
from blueprints.evidence.service import CaseAccess
from core.notices import render
from models import ACCIDENT_OFFICER, AuditEvent, Notice, User, db
from rules.clock import beijing_today


def officer_of_brigade(make):
    """An accident officer of a brigade of their own."""
    return make.staff(ACCIDENT_OFFICER, office=make.office(kind="police_brigade"))


def add(app, officer, case, citizen, role="driver"):
    """The officer adds the citizen to the case as a party (the service step)."""
    with app.test_request_context(), db.connection_context():
        service.add_party(
            CaseAccess(case, None, User.get_by_id(officer.id)),
            name=citizen.real_name,
            resident_id=citizen.resident_id,
            mobile=citizen.mobile,
            role=role,
        )


def notices_of(app, user, locale="en"):
    """A user's notices as (kind, words in `locale`, read), oldest first."""
    with app.test_request_context(), db.connection_context():
        return [(n.kind, render(n, locale), n.read_at is not None) for n in Notice.of(user.id)][
            ::-1
        ]


def long_date(app, day: dt.date, review_by: bool = False) -> str:
    """A day as an English notice writes it (the last day to ask for a review of a
    determination delivered that day, when `review_by`)."""
    with app.test_request_context(), force_locale("en"):
        return format_date(deadline_after(day) if review_by else day, "long")


def test_a_party_added_to_a_case_open_for_review_is_told_it_is_open(app, make):
    officer = officer_of_brigade(make)
    delivered = beijing_today() - dt.timedelta(days=1)
    case = make.accident_case(officer, determination_delivered_on=delivered)
    make.evidence(case, title="现场图")
    make.evidence(case, title="证人证言", released=False, withhold_reason="witness")
    citizen = make.citizen()
    add(app, officer, case, citizen)
    ((kind, words, read),) = notices_of(app, citizen)
    assert kind == "evidence.party_added_open" and not read
    assert "Nothing to do yet" not in words.what + words.next_step
    assert "open to you online: 1 item released; 1 item withheld." in words.what
    # The review period runs: its last day is named.
    assert long_date(app, delivered, review_by=True) in words.next_step
    assert words.url == f"/evidence/cases/{case.id}"


def test_a_party_added_after_the_review_period_is_not_offered_a_review(app, make):
    officer = officer_of_brigade(make)
    case = make.accident_case(
        officer, determination_delivered_on=beijing_today() - dt.timedelta(days=10)
    )
    make.evidence(case)
    citizen = make.citizen()
    add(app, officer, case, citizen)
    ((kind, words, _read),) = notices_of(app, citizen)
    assert kind == "evidence.party_added_open_late"
    assert "1 item released; 0 items withheld." in words.what
    assert "has ended" in words.next_step and "by " not in words.next_step


def test_a_party_added_once_the_determination_is_delivered_learns_by_when_to_ask(app, make):
    officer = officer_of_brigade(make)
    delivered = beijing_today()
    case = make.accident_case(
        officer, status="determination_delivered", determination_delivered_on=delivered
    )
    citizen = make.citizen()
    add(app, officer, case, citizen)
    ((kind, words, _read),) = notices_of(app, citizen)
    assert kind == "evidence.party_added_delivered"
    assert long_date(app, delivered) in words.what
    assert long_date(app, delivered, review_by=True) in words.next_step
    assert "Nothing to do yet" not in words.next_step


@pytest.mark.parametrize("status", ["opened", "evidence_gathered"])
def test_a_party_added_before_the_determination_has_nothing_to_do_yet(app, make, status):
    officer = officer_of_brigade(make)
    case = make.accident_case(officer, status=status, determination_delivered_on=None)
    citizen = make.citizen()
    add(app, officer, case, citizen)
    ((kind, words, _read),) = notices_of(app, citizen)
    assert kind == "evidence.party_added" and "Nothing to do yet" in words.next_step


def test_english_notices_write_the_role_in_lower_case_and_count_in_plural(app, make):
    officer = officer_of_brigade(make)
    case = make.accident_case(officer, status="evidence_gathered", determination_delivered_on=None)
    driver, owner = make.citizen(), make.citizen()
    add(app, officer, case, driver)
    add(app, officer, case, owner, role="owner")
    make.evidence(case)
    with app.test_request_context(), db.connection_context():
        access = CaseAccess(case, None, User.get_by_id(officer.id))
        service.move_case(access, "determination_delivered", delivered_on=beijing_today())
        service.move_case(access, "open_for_review")
    (added, _delivered, opened) = notices_of(app, driver)
    assert "you are a party to it as driver." in added[1].what
    assert "as vehicle owner." in notices_of(app, owner)[0][1].what
    assert "online: 1 item released; 0 items withheld." in opened[1].what
    # Chinese has no case: the role's own word.
    assert "驾驶人" in notices_of(app, driver, "zh")[0][1].what


def test_a_removed_party_is_told_and_their_notices_of_the_case_leave_the_inbox(
    app, make, client, login, conn
):
    officer = officer_of_brigade(make)
    case = make.accident_case(officer)
    other_case = make.accident_case(officer)
    citizen = make.citizen()
    add(app, officer, case, citizen)
    add(app, officer, other_case, citizen)
    with conn():
        party = case.parties.get()
    login(officer)
    url = f"/evidence/cases/{case.id}/parties/{party.id}/remove"
    assert client.post(url, data={"confirmed": "yes"}).status_code == 303
    # A second tap (the party read before the first removal committed) removes nobody again:
    # no second notice, no second audit row.
    with app.test_request_context(), conn():
        service.remove_party(CaseAccess(case, None, User.get_by_id(officer.id)), party)
        assert AuditEvent.select().where(AuditEvent.action == "evidence.party_remove").count() == 1
    # The notice of the case they are no longer party to is gone (its link would open nothing);
    # the other case's still waits.
    other, removed = notices_of(app, citizen)
    assert other[0] == "evidence.party_added_open" and not other[2]
    assert other[1].url == f"/evidence/cases/{other_case.id}"
    kind, words, read = removed
    assert kind == "evidence.party_removed" and not read
    assert case.case_no in words.title and "removed you as a party" in words.what
    assert "mistake" in words.next_step and words.url == "/notices/"
    # Read once they open the notices page it links to.
    client.post("/logout", data={})
    login(citizen)
    assert client.get("/notices/").status_code == 200
    assert notices_of(app, citizen)[-1][2]


def test_an_unproven_account_is_not_told_of_its_removal(app, make, client, login, conn):
    officer = officer_of_brigade(make)
    case = make.accident_case(officer)
    citizen = make.citizen(proven=False)
    party = make.party(case, citizen)
    login(officer)
    client.post(f"/evidence/cases/{case.id}/parties/{party.id}/remove", data={"confirmed": "yes"})
    assert notices_of(app, citizen) == []
