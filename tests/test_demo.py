"""The demo city shows the screens a person trying it would look for: a failed inspection
waiting in inspection_failed for the vehicle clerk, a review request (复核) waiting for the
accident officer, a name-correction request waiting for a licence clerk; the logins say who
sees what, and loading it again with --if-empty changes nothing."""

import re

import pytest

from core.demo import CITIZENS, demo_logins
from models import (
    POLICE_INSPECTOR,
    AuditEvent,
    ELicence,
    Inspection,
    NameCorrection,
    Notice,
    ReviewRequest,
    TransferCase,
    TruckPass,
    User,
)


@pytest.fixture
def demo(runner, conn):
    """The demo city, loaded through the command, and its logins."""
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0, result.output
    with conn():
        return demo_logins()


def staff_login(make, client, conn, logins, username):
    """Log the client in as a demo staff account (its random password, its authenticator)."""
    password = next(s["password"] for s in logins["staff"] if s["username"] == username)
    with conn():
        user = User.get(User.username == username)
    make.login(client, user, password)


def test_a_failed_inspection_waits_for_the_vehicle_clerk(demo, conn, make, client):
    with conn():
        case = TransferCase.get(TransferCase.state == "inspection_failed")
        inspection = Inspection.get(Inspection.case == case)
        assert not inspection.passed and "大灯" in inspection.remarks
        assert (
            Notice.select()
            .where((Notice.user == case.buyer_id) & (Notice.kind == "transfer.inspection_failed"))
            .exists()
        )
    staff_login(make, client, conn, demo, "vehicle")
    page = client.get(f"/transfer/cases/{case.id}").get_data(as_text=True)
    assert "大灯" in page
    assert any(case.number in n and "inspection_failed" in n for n in demo["notes"])


def test_a_review_request_waits_for_the_officer(demo, conn, make, client):
    with conn():
        request = ReviewRequest.get(ReviewRequest.status == "pending")
        officer = User.get(User.username == "accident")
        assert request.case.officer_id == officer.id
        assert (
            Notice.select()
            .where((Notice.user == officer.id) & (Notice.kind == "evidence.review_requested"))
            .exists()
        )
    staff_login(make, client, conn, demo, "accident")
    queue = client.get("/evidence/reviews").get_data(as_text=True)
    assert "制动痕迹" in queue
    assert any("/evidence/reviews" in n and "复核" in n for n in demo["notes"])


def test_a_name_correction_waits_for_a_licence_clerk(demo, conn, make, client):
    with conn():
        request = NameCorrection.get(NameCorrection.status == "pending")
        assert request.new_name in CITIZENS and request.old_name not in CITIZENS
        assert User.get_by_id(request.user_id).real_name == request.old_name
    staff_login(make, client, conn, demo, "licence")
    queue = client.get("/licence/corrections").get_data(as_text=True)
    assert request.new_name in queue and request.old_name in queue
    assert any("/licence/corrections" in n for n in demo["notes"])


def test_a_truck_pass_waits_for_a_clerk_with_the_document_it_names(demo, conn, make, client):
    """The waiting application says a clerk is to read its document: the document is there."""
    with conn():
        waiting = TruckPass.get(TruckPass.status == "pending_review")
        assert waiting.reason == "documents" and waiting.documents.count() == 1
    staff_login(make, client, conn, demo, "truckpass")
    review = client.get(f"/trucks/review/{waiting.id}").get_data(as_text=True)
    document = re.search(r'href="(/trucks/documents/\d+)"', review).group(1)
    opened = client.get(document)
    assert opened.status_code == 200 and opened.data.startswith(b"%PDF")
    # Whatever the file holds runs no script on our origin, as evidence files do not.
    assert "default-src 'none'" in opened.headers["Content-Security-Policy"]


def counts(conn) -> tuple[int, ...]:
    """How many audit rows, review requests, name corrections and transfer cases there are."""
    with conn():
        return tuple(
            m.select().count() for m in (AuditEvent, ReviewRequest, NameCorrection, TransferCase)
        )


def test_loading_again_when_loaded_changes_nothing(demo, runner, conn):
    before = counts(conn)
    again = runner.invoke(args=["demo", "load", "--if-empty"])
    assert again.exit_code == 0 and "not empty" in again.output
    assert counts(conn) == before


def test_the_network_demos_qingdao_has_licences_for_jinans_inspector(app, runner, conn):
    app.config["LICENCE_KEY_PREFIX"] = "QD"
    result = runner.invoke(args=["network-demo", "load", "qingdao"])
    assert result.exit_code == 0, result.output
    with conn():
        keys = [e.typing_key for e in ELicence.select()]
        assert keys and all(k.startswith("QD") for k in keys)  # Jinan routes typed checks here
        assert all(e.record.standing() == "valid" for e in ELicence.select())
        assert User.get(User.username == "police").has_role(POLICE_INSPECTOR)


@pytest.mark.parametrize("load", [["demo", "load"], ["network-demo", "load", "jinan"]])
def test_every_demo_account_holds_roles_its_office_holds(app, runner, conn, load):
    """The demos keep the rule the administrator's page keeps (models.people.roles_refused)."""
    from models.people import roles_refused

    result = runner.invoke(args=load)
    assert result.exit_code == 0, result.output
    with conn():
        staff = list(User.select().where(User.is_staff == True))  # noqa: E712
        assert staff
        assert [u.username for u in staff if roles_refused(u.office.kind, u.roles)] == []
