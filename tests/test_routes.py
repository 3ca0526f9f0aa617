"""No URL disappears silently, and every page a role can open passes page()."""

import re

import pytest
from flask import url_for

from models import STAFF_ROLES

from .helpers import page

# Update deliberately when adding or removing a URL.
EXPECTED_ROUTES = {
    "GET /",
    "GET /account",
    "POST /account",
    "GET /account/mobile",
    "POST /account/mobile",
    "GET /account/mobile/confirm",
    "POST /account/mobile/confirm",
    # Proving one's identity
    "GET /account/identity",
    "POST /account/identity/sms",
    "POST /account/identity/code",
    "GET /staff/identity",
    "POST /staff/identity",
    "POST /staff/identity/activate",
    "GET /staff/identity/mobile",
    "POST /staff/identity/mobile",
    "POST /staff/identity/mobile/send",
    "POST /staff/identity/mobile/confirm",
    "GET /dev/sms",
    "GET /evidence/",
    "GET /evidence/cases/<int:case_id>",
    "GET /evidence/cases/<int:case_id>/facts",
    "POST /evidence/cases/<int:case_id>/facts",
    "GET /evidence/cases/<int:case_id>/items/<int:item_id>",
    "GET /evidence/cases/<int:case_id>/items/<int:item_id>/download",
    "GET /evidence/cases/<int:case_id>/items/<int:item_id>/view",
    "GET /evidence/cases/<int:case_id>/log",
    "GET /evidence/cases/<int:case_id>/log/<int:entry_id>/receipt",
    "GET /evidence/cases/<int:case_id>/log/<int:entry_id>/receipt.json",
    "GET /evidence/cases/new",
    "GET /evidence/open",
    "POST /evidence/cases/<int:case_id>/items",
    "POST /evidence/cases/<int:case_id>/items/<int:item_id>/release",
    "POST /evidence/cases/<int:case_id>/parties",
    "POST /evidence/cases/<int:case_id>/parties/<int:party_id>/notice",
    "POST /evidence/cases/<int:case_id>/parties/<int:party_id>/remove",
    "POST /evidence/cases/<int:case_id>/progress",
    "POST /evidence/cases/<int:case_id>/review",
    "POST /evidence/cases/<int:case_id>/reviews/<int:request_id>/withdraw",
    "GET /evidence/reviews",
    "POST /evidence/reviews/<int:request_id>/answer",
    "POST /evidence/cases/new",
    "POST /evidence/open",
    "GET /healthz",
    "GET /favicon.ico",
    "GET /audit/verify_receipt.py",
    "POST /lang",
    "GET /login",
    "POST /login",
    "GET /password/forgot",
    "POST /password/forgot",
    "GET /password/reset",
    "POST /password/reset",
    "GET /login/code",
    "POST /login/code",
    "GET /login/enrol",
    "POST /login/enrol",
    "GET /logout",
    "POST /logout",
    "GET /register",
    "POST /register",
    "GET /register/confirm",
    "POST /register/confirm",
    "POST /register/confirm/again",
    "GET /staff/",
    "GET /staff/accounts",
    "POST /staff/accounts",
    "GET /staff/accounts/<int:user_id>",
    "POST /staff/accounts/<int:user_id>",
    "POST /staff/accounts/<int:user_id>/<any(deactivate, activate, reset_totp):action>",
    "GET /staff/audit",
    "GET /staff/offices",
    "GET /static/<path:filename>",
    # Measure 3: truck passes
    "GET /p/<handle>",
    "GET /trucks/",
    "GET /trucks/apply",
    "POST /trucks/apply",
    "GET /trucks/documents/<int:doc_id>",
    "GET /trucks/passes/<int:pass_id>",
    "POST /trucks/passes/<int:pass_id>/withdraw",
    "GET /trucks/queue",
    "GET /trucks/review/<int:pass_id>",
    "POST /trucks/review/<int:pass_id>",
    "GET /trucks/rules",
    "POST /trucks/rules/<int:rule_id>/delete",
    "GET /trucks/rules/<int:rule_id>/edit",
    "POST /trucks/rules/<int:rule_id>/edit",
    "GET /trucks/zones",
    "GET /trucks/zones/<int:zone_id>",
    "POST /trucks/zones/<int:zone_id>",
    "GET /trucks/zones/<int:zone_id>/map",
    "POST /trucks/zones/<int:zone_id>/rules",
    "GET /trucks/zones/new",
    "POST /trucks/zones/new",
    "GET /verify/truck",
    # Measure 1: the e-licence and its records
    "GET /licence/",
    "POST /licence/apply",
    "GET /licence/card",
    "POST /licence/card/reveal",
    "GET /licence/photo",
    "GET /licence/code",
    "GET /licence/countdown.css",
    "GET /licence/checks",
    "GET /licence/checks/<int:entry_id>/receipt",
    "GET /licence/checks/<int:entry_id>/receipt.json",
    "GET /licence/reset-codes",
    "POST /licence/reset-codes",
    "GET /licence/share",
    "POST /licence/share",
    "POST /licence/share/<int:share_id>/cancel",
    "GET /licence/records",
    "POST /licence/records",
    "GET /licence/records/<int:record_id>",
    "POST /licence/records/<int:record_id>/status",
    "POST /licence/records/<int:record_id>/photo",
    "GET /licence/records/<int:record_id>/photo",
    "POST /licence/records/<int:record_id>/correct",
    "GET /licence/name-correction",
    "POST /licence/name-correction",
    "GET /licence/corrections",
    "POST /licence/corrections/<int:request_id>",
    # The verifier
    "GET /verify",
    "GET /verify/check",
    "POST /verify/photo",
    "GET /verify/share",
    "GET /v/<handle>/<code>",
    "GET /v/photo/<token>",
    "GET /api/v1/licence-check",
    "GET /transfer/",
    "GET /transfer/new",
    "POST /transfer/new",
    "GET /transfer/vehicles/<int:vehicle_id>",
    "GET /transfer/cases/<int:case_id>",
    "GET /transfer/cases/<int:case_id>/receipt/<int:entry_id>",
    "GET /transfer/cases/<int:case_id>/receipt/<int:entry_id>.json",
    "POST /transfer/cases/<int:case_id>/confirm",
    "POST /transfer/cases/<int:case_id>/decline",
    "POST /transfer/cases/<int:case_id>/permit",
    "POST /transfer/cases/<int:case_id>/plate",
    "GET /transfer/cases/<int:case_id>/photos/<int:photo_id>",
    "GET /transfer/cases/<int:case_id>/archive.json",
    "GET /transfer/outgoing",
    "GET /transfer/outgoing/<int:out_id>",
    "GET /transfer/outgoing/<int:out_id>/receipt/<int:entry_id>",
    "GET /transfer/outgoing/<int:out_id>/receipt/<int:entry_id>.json",
    "POST /transfer/outgoing/<int:out_id>/confirm",
    "POST /transfer/outgoing/<int:out_id>/decline",
    "POST /transfer/outgoing/<int:out_id>/withdraw",
    "POST /transfer/outgoing/<int:out_id>/archive/send",
    "POST /transfer/outgoing/<int:out_id>/archive/refuse",
    "POST /transfer/cases/<int:case_id>/inspect",
    "POST /transfer/cases/<int:case_id>/reinspect",
    "POST /transfer/cases/<int:case_id>/stop",
    "POST /transfer/cases/<int:case_id>/withdraw",
    "POST /transfer/cases/<int:case_id>/archive/send",
    "POST /transfer/cases/<int:case_id>/archive/refuse",
    "POST /transfer/cases/<int:case_id>/register",
    "GET /transfer/market",
    "GET /transfer/market/new",
    "POST /transfer/market/new",
    "GET /transfer/office",
    "GET /transfer/archives",
    # Statistics: the administrators' dashboard and its CSV files, the public report
    "GET /stats/",
    "GET /stats/export/<measure>/<any(day, hour, office):by>.csv",
    "GET /report",
    # The network of deployments
    "GET /.well-known/jiaoguan.json",
    "POST /network/inbox",
    "GET /network/peers",
    "POST /network/peers/fetch",
    "POST /network/peers/confirm",
    "GET /network/peers/<int:peer_id>/<any(suspend, resume, remove):action>",
    "POST /network/peers/<int:peer_id>/<any(suspend, resume, remove):action>",
    "GET /network/peers/<int:peer_id>/claims",
    "POST /network/peers/<int:peer_id>/claims",
    "GET /network/witness-alerts/<int:alert_id>/evidence.json",
    "POST /network/witness-alerts/<int:alert_id>/acknowledge",
    # Notices: the inbox and the choice of channels
    "GET /notices/",
    "POST /notices/<int:notice_id>/read",
    "POST /notices/read-all",
    "POST /notices/preferences",
}


def test_route_snapshot(app):
    routes = {
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == EXPECTED_ROUTES


PUBLIC = [
    "/",
    "/login",
    "/register",
    "/verify",
    "/verify/share",
    "/verify/truck",
    "/trucks/rules",
    "/report",
]
CITIZEN = [
    "/",
    "/account",
    "/account/identity",
    "/account/mobile",
    "/notices/",
    "/licence/",
    "/evidence/",
    "/evidence/open",
    "/transfer/",
    "/transfer/new",
    "/trucks/",
    "/trucks/apply",
]
# Measure 4: a case with a party and an item; {c} and {i} are filled in.
EVIDENCE_PARTY = ["/evidence/cases/{c}", "/evidence/cases/{c}/items/{i}", "/evidence/cases/{c}/log"]
EVIDENCE_OFFICER = ["/evidence/", "/evidence/cases/new", *EVIDENCE_PARTY]
ADMIN = [
    "/",
    "/account",
    "/staff/",
    "/staff/accounts",
    "/staff/offices",
    "/staff/audit",
    "/stats/",
    "/network/peers",
    "/notices/",
]
VEHICLE_CLERK = [
    "/staff/",
    "/transfer/office",
    "/transfer/archives",
    "/transfer/office?state=all",
    "/staff/identity",
    "/staff/identity/mobile",
]
MARKET_CLERK = ["/staff/", "/transfer/market", "/transfer/market/new"]
LICENCE_CLERK = [
    "/staff/",
    "/licence/records",
    "/licence/corrections",
    "/staff/identity",
    "/staff/identity/mobile",
]
TRUCKPASS_CLERK = ["/staff/", "/trucks/queue", "/trucks/zones", "/trucks/zones/new"]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_page_passes_page_checks(client, make, login, lang):
    headers = {"Accept-Language": lang}
    for url in PUBLIC:
        page(client.get(url, headers=headers))
    citizen = make.citizen()
    case = make.accident_case()
    make.party(case, citizen)
    item = make.evidence(case)
    login(citizen)
    for url in CITIZEN + EVIDENCE_PARTY:
        page(client.get(url.format(c=case.id, i=item.id), headers=headers))
    client.post("/logout", data={})
    make.login(client, case.officer)
    for url in EVIDENCE_OFFICER:
        page(client.get(url.format(c=case.id, i=item.id), headers=headers))
    client.post("/logout", data={})
    login(make.staff("admin"))
    for url in ADMIN:
        page(client.get(url, headers=headers))
    for role, urls in (
        ("vehicle_clerk", VEHICLE_CLERK),
        ("market_clerk", MARKET_CLERK),
        ("licence_clerk", LICENCE_CLERK),
        ("truckpass_clerk", TRUCKPASS_CLERK),
    ):
        client.post("/logout", data={})
        login(make.staff(role))
        for url in urls:
            page(client.get(url, headers=headers))


BAD_INPUT = [
    ("truckpass_clerk", "/trucks/queue?page=100000000000000000000"),
    ("licence_clerk", "/licence/records?page=100000000000000000000&q=x"),
    ("admin", "/staff/audit?page=2&endpoint=x&_external=1"),
    ("admin", "/stats/?until=0001-01-05"),
    ("vehicle_clerk", "/transfer/office?page=99999999999999999999"),
    # A case number as typed: superscript digits pass str.isdigit() but not int(); more digits
    # than an id has overflowed the query.
    ("vehicle_clerk", "/transfer/office?state=all&q=ZY%C2%B2"),
    ("vehicle_clerk", "/transfer/office?state=all&q=ZY" + "9" * 30),
    ("admin", "/staff/audit?object_id=ZY" + "9" * 30),
    (None, "/trucks/rules?zone=1&truck_class=heavy&emission=china6&at=0001-01-01T03:00"),
]


@pytest.mark.parametrize(("role", "url"), BAD_INPUT)
def test_bad_input_never_gives_a_500(client, make, login, role, url):
    make.zone({"windows": "22:00-06:00"})
    if role:
        login(make.staff(role))
    response = client.get(url)
    assert response.status_code in (200, 400, 422), response.status_code


def test_an_id_beyond_what_a_column_holds_is_no_page(app, client, make, login):
    """Every route's <int:...> past PostgreSQL's integer (and SQLite's 64 bits) is a 404 or a
    refusal, never the database's overflow as a 500: for staff of every role and a citizen."""
    from core.db import ID_MAX

    def urls(number: int) -> list[str]:
        return [
            re.sub(r"<[^>]+>", "x", re.sub(r"<int:\w+>", str(number), rule.rule))
            for rule in app.url_map.iter_rules()
            if "<int:" in rule.rule and "GET" in rule.methods
        ]

    assert len(urls(1)) > 25
    # One account per role (no one holds them all: an office's kind limits its roles).
    for user in [*(make.staff(role) for role in STAFF_ROLES), make.citizen()]:
        login(user)
        # Past PostgreSQL's integer (the first number beyond, and SQLite's 64 bits): no page.
        for number in (ID_MAX + 1, 2**63 + 1):
            answers = {url: client.get(url).status_code for url in urls(number)}
            assert {url: c for url, c in answers.items() if c not in (403, 404, 405)} == {}
        # The largest id a column holds is looked up like any other: nothing found, no 500.
        answers = {url: client.get(url).status_code for url in urls(ID_MAX)}
        assert {url: c for url, c in answers.items() if c >= 500} == {}
        client.post("/logout", data={})


def test_every_declared_link_and_card_opens_for_those_it_is_shown_to(app, client, make, login):
    """What the measures' declarations put in the navigation and on the cards opens, and passes
    page(), for a citizen (links without roles) and for a staff member of each role named."""
    citizen_urls, staff_urls = [], {}
    with app.test_request_context():
        for measure in app.extensions["measures"]:
            home = [measure.home_card] if measure.home_card else []
            for item in [*measure.links, *measure.staff_cards, *home]:
                url = url_for(item.endpoint)
                if not item.roles:
                    citizen_urls.append(url)
                for role in item.roles:
                    staff_urls.setdefault(role, []).append(url)
    assert citizen_urls and staff_urls
    login(make.citizen())
    for url in citizen_urls:
        page(client.get(url))
    for role, urls in staff_urls.items():
        client.post("/logout", data={})
        login(make.staff(role))
        for url in urls:
            page(client.get(url))
