"""The access matrix of measure 4 over the demo city: every demo user against every case and
every item (page, view, download, log). Only the parties of a case and its brigade's accident
officers get anything but 404; parties never reach a withheld item or an unopened case's items.
"""

import pytest

from app import create_app
from core.db import upgrade
from core.demo import load_demo_city
from models import ACCIDENT_OFFICER, AccidentCase, CaseParty, EvidenceItem, User, db
from rules.clock import beijing_today

from .factories import Factory
from .helpers import CSRFClient, page, release_database


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One demo city for the whole module (loading it is the slow part)."""
    tmp = tmp_path_factory.mktemp("demo")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": f"sqlite:///{tmp / 'demo.db'}",
            "UPLOAD_FOLDER": str(tmp / "uploads"),
            "PASSWORD_HASH_METHOD": "scrypt:4096:8:1",
            "PUBLIC_BASE_URL": "https://jg.example.test",
        }
    )
    app.test_client_class = CSRFClient
    upgrade()
    with app.app_context(), db.connection_context():
        logins = load_demo_city(progress=lambda *a: None)
    factory = Factory(app)
    # An accident officer of another city: same role, different brigade, sees nothing.
    outsider = factory.staff(ACCIDENT_OFFICER, office=factory.office(code="370100X"))
    passwords = {s["username"]: s["password"] for s in logins["staff"]}
    clients = {}

    def client_for(user):
        """A client logged in as the user, made once (a staff TOTP step is good once only)."""
        if user.id not in clients:
            clients[user.id] = app.test_client()
            password = passwords.get(user.username, Factory.PASSWORD)
            if not user.is_staff:
                password = logins["citizen_password"]
            factory.login(clients[user.id], user, password)
        return clients[user.id]

    with db.connection_context():
        users = list(User.select().order_by(User.id))
        cases = list(AccidentCase.select().order_by(AccidentCase.id))
        items = list(EvidenceItem.select().order_by(EvidenceItem.id))
        parties = {c.id: {p.resident_id for p in c.parties} for c in cases}
    yield {
        "app": app,
        "factory": factory,
        "users": users,
        "cases": cases,
        "items": items,
        "parties": parties,
        "client_for": client_for,
        "outsider": outsider,
    }
    release_database()


def expected(user, case, parties, item=None) -> int:
    """What the rule says this user gets for this case (or item)."""
    officer = user.is_staff and case.office_id == user.office_id and user.has_role(ACCIDENT_OFFICER)
    party = not user.is_staff and user.resident_id in parties[case.id]
    if officer:
        return 200
    if not party:
        return 404
    if item is None:
        return 200
    return 200 if item.released and case.review_open(beijing_today()) else 404


def test_access_matrix_over_the_demo_city(demo):
    by_case = {c.id: c for c in demo["cases"]}
    checked = allowed = 0
    assert len(demo["users"]) >= 19 and len(demo["cases"]) == 4 and len(demo["items"]) >= 6
    for user in demo["users"]:
        client = demo["client_for"](user)
        with db.connection_context():
            user = User.get_by_id(user.id)
            user.roles  # noqa: B018  (load the roles while connected)
        for case in demo["cases"]:
            want = expected(user, case, demo["parties"])
            for url in (f"/evidence/cases/{case.id}", f"/evidence/cases/{case.id}/log"):
                response = client.get(url)
                assert response.status_code == want, (user.real_name, url)
                if want == 200:
                    page(response)
            checked += 2
        for item in demo["items"]:
            case = by_case[item.case_id]
            want = expected(user, case, demo["parties"], item)
            base = f"/evidence/cases/{case.id}/items/{item.id}"
            for url in (base, base + "/view", base + "/download"):
                response = client.get(url)
                assert response.status_code == want, (user.real_name, url, item.title)
                checked += 1
                allowed += want == 200
        # An id that does not exist answers exactly like one that is not yours.
        assert client.get("/evidence/cases/999999").status_code == 404
    assert checked > 500 and allowed > 20


def test_withheld_item_is_invisible_to_parties(demo):
    with db.connection_context():
        withheld = EvidenceItem.get(EvidenceItem.released == False)  # noqa: E712
        party = CaseParty.get(CaseParty.case == withheld.case_id)
        citizen = User.get(User.resident_id == party.resident_id)
    client = demo["client_for"](citizen)
    soup = page(client.get(f"/evidence/cases/{withheld.case_id}"))
    titles = [a.get_text() for a in soup.select("#items ~ .table-wrap a")]
    assert titles and withheld.title not in soup.get_text()
    assert f"/items/{withheld.id}" not in str(soup)


def test_other_staff_and_other_brigades_get_404_and_cannot_act(demo):
    case = demo["cases"][0]
    for user in (demo["outsider"], next(u for u in demo["users"] if u.username == "admin")):
        client = demo["client_for"](user)
        assert client.get(f"/evidence/cases/{case.id}").status_code == 404
        for url, data in [
            (f"/evidence/cases/{case.id}/progress", {"to": "closed"}),
            (f"/evidence/cases/{case.id}/parties", {"name": "x"}),
            (f"/evidence/cases/{case.id}/items", {"title": "x"}),
        ]:
            assert client.post(url, data=data).status_code == 404
    # The administrator has no accident role: the case list is refused outright (403).
    assert client.get("/evidence/").status_code == 403
