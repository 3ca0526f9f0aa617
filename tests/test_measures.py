"""The measures' declarations (core.measures): what each role sees, what the app registers, and
that the shared code reaches the measures only through the app."""

import ast
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask import Blueprint

from core import measures
from core.measures import Measure
from models import STAFF_ROLES
from rules import stats as rules

ROOT = Path(__file__).resolve().parent.parent

# The navigation each kind of user had before the measures declared themselves; the
# declarations must give exactly these (order within a role kept too). The notices are not
# among them: every account has them beside the brand (see nav_links).
NAV = {
    None: ["/licence/", "/transfer/", "/trucks/", "/evidence/", "/account"],
    "licence_clerk": ["/staff/", "/licence/records", "/account"],
    "market_clerk": ["/staff/", "/transfer/market", "/account"],
    "vehicle_clerk": ["/staff/", "/transfer/office", "/transfer/archives", "/account"],
    "truckpass_clerk": ["/staff/", "/trucks/queue", "/trucks/zones", "/account"],
    "admin": ["/staff/", "/staff/accounts", "/staff/audit", "/stats/", "/account"],
    "accident_officer": ["/staff/", "/evidence/", "/account"],
    "police_inspector": ["/staff/", "/account"],
}
# The cards of the staff landing page, per role (as before, and the network peers for admins).
CARDS = {
    "licence_clerk": ["/licence/records", "/staff/identity"],
    "police_inspector": ["/verify", "/verify/truck"],
    "market_clerk": ["/transfer/market"],
    "vehicle_clerk": ["/transfer/office", "/transfer/archives", "/staff/identity"],
    "truckpass_clerk": ["/trucks/queue", "/trucks/zones"],
    "admin": ["/staff/accounts", "/staff/offices", "/staff/audit", "/network/peers", "/stats/"],
    "accident_officer": ["/evidence/"],
}


def nav_links(html: str) -> list[str]:
    """The links of the main navigation (and the notices link every account has beside it)."""
    soup = BeautifulSoup(html, "html.parser")
    notices = soup.select_one("header.site > a#nav-notices")
    assert notices is None or notices["href"] == "/notices/"
    return [a["href"] for a in soup.select("nav.nav a")]


def card_links(html: str) -> list[str]:
    """The title links of the cards of a services list."""
    return [a["href"] for a in BeautifulSoup(html, "html.parser").select(".services h2 a")]


def test_every_role_sees_the_navigation_it_saw_before(client, make, login):
    assert set(NAV) - {None} == set(STAFF_ROLES)
    for role, expected in NAV.items():
        client.post("/logout", data={})
        login(make.staff(role) if role else make.citizen())
        html = client.get("/account").get_data(as_text=True)
        assert nav_links(html) == expected, role
        assert 'id="nav-notices"' in html, role


def test_the_queues_of_a_role_are_linked_from_its_card(client, make, login):
    """A licence clerk reaches the name corrections, an officer the review requests, from the
    work page (they had been linked only from inside another page)."""
    for role, queue in (
        ("licence_clerk", "/licence/corrections"),
        ("accident_officer", "/evidence/reviews"),
    ):
        client.post("/logout", data={})
        login(make.staff(role))
        soup = BeautifulSoup(client.get("/staff/").get_data(as_text=True), "html.parser")
        assert queue in [a["href"] for a in soup.select(".services .card p a")], role


def test_every_role_sees_the_cards_it_saw_before(client, make, login):
    for role, expected in CARDS.items():
        client.post("/logout", data={})
        login(make.staff(role))
        assert card_links(client.get("/staff/").get_data(as_text=True)) == expected, role


def test_a_staff_member_of_two_roles_sees_the_links_of_both(client, make, login):
    login(make.staff("licence_clerk", "truckpass_clerk"))
    links = nav_links(client.get("/staff/").get_data(as_text=True))
    assert links == [
        "/staff/",
        "/licence/records",
        "/trucks/queue",
        "/trucks/zones",
        "/account",
    ]


def test_the_home_page_has_one_card_per_measure(client):
    html = client.get("/").get_data(as_text=True)
    assert card_links(html) == ["/licence/", "/transfer/", "/trucks/", "/evidence/"]
    assert "/trucks/rules" in html
    assert nav_links(html) == ["/verify", "/login", "/register"]


def test_the_app_keeps_the_four_measures_in_order(app):
    registered = app.extensions["measures"]
    assert [m.name for m in registered] == ["licence", "transfer", "truckpass", "evidence"]
    for measure in registered:
        assert app.blueprints[measure.blueprint.name] is measure.blueprint


def test_every_declared_endpoint_exists(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    for measure in app.extensions["measures"]:
        cards = [*measure.staff_cards, *([measure.home_card] if measure.home_card else [])]
        declared = [link.endpoint for link in measure.links] + [c.endpoint for c in cards]
        declared += [endpoint for card in cards for endpoint, _ in card.more]
        assert set(declared) <= endpoints, measure.name


def test_staff_links_and_cards_name_real_roles(app):
    for measure in app.extensions["measures"]:
        for item in [*measure.links, *measure.staff_cards]:
            assert item.roles <= set(STAFF_ROLES), (measure.name, item.endpoint)
        assert all(card.roles for card in measure.staff_cards), measure.name


def test_the_measures_share_out_the_statistics(app):
    """Every statistic of rules.stats belongs to exactly one measure, and each counted action is
    one its measure labels (so a new measure's counters come with its declaration)."""
    owners = {key: m for m in app.extensions["measures"] for key in m.statistics}
    declared = [key for m in app.extensions["measures"] for key in m.statistics]
    assert sorted(declared) == sorted(rules.MEASURE_KEYS)
    for action, pairs in rules.ACTION_COUNTERS.items():
        for stat_key, _metric in pairs:
            assert action in owners[stat_key].audit_labels, action


def test_the_measures_labels_do_not_overlap(app):
    seen = {}
    for measure in app.extensions["measures"]:
        for action in measure.audit_labels:
            assert action not in seen, (action, seen.get(action), measure.name)
            seen[action] = measure.name


def test_two_measures_may_not_share_a_name(app):
    twin = Measure(name="licence", blueprint=Blueprint("twin", __name__))
    with pytest.raises(ValueError, match="share a name"):
        measures.init_app(app, [*app.extensions["measures"], twin])


def test_outside_an_app_there_are_no_measures():
    assert measures.registered() == ()
    assert measures.audit_labels() == {}


@pytest.mark.parametrize("layer", ["core", "models", "rules"])
def test_the_lower_layers_never_import_a_measure(layer):
    """core/demo.py once imported the measures' demo loaders (an import circle); now the
    shared layers reach the measures only through the app's declarations."""
    offenders = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "blueprints"]
    assert offenders == []
