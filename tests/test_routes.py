"""No URL disappears silently, and every page a role can open passes page()."""

import pytest

from .helpers import page

# Update deliberately when adding or removing a URL.
EXPECTED_ROUTES = {
    "GET /",
    "GET /account",
    "POST /account",
    "GET /healthz",
    "POST /lang",
    "GET /login",
    "POST /login",
    "GET /login/code",
    "POST /login/code",
    "GET /login/enrol",
    "POST /login/enrol",
    "POST /logout",
    "GET /register",
    "POST /register",
    "GET /staff/",
    "GET /staff/accounts",
    "POST /staff/accounts",
    "POST /staff/accounts/<int:user_id>/<any(deactivate, activate, reset_totp):action>",
    "GET /staff/audit",
    "GET /staff/offices",
    "GET /static/<path:filename>",
    # Measure 1: the e-licence and its records
    "GET /licence/",
    "POST /licence/apply",
    "GET /licence/card",
    "POST /licence/card/reveal",
    "GET /licence/photo",
    "GET /licence/code",
    "GET /licence/checks",
    "GET /licence/reset-codes",
    "POST /licence/reset-codes",
    "GET /licence/share",
    "POST /licence/share",
    "POST /licence/share/<int:share_id>/cancel",
    "GET /licence/records",
    "GET /licence/records/<int:record_id>",
    "POST /licence/records/<int:record_id>/status",
    "POST /licence/records/<int:record_id>/photo",
    "GET /licence/records/<int:record_id>/photo",
    # The verifier
    "GET /verify",
    "GET /verify/check",
    "GET /verify/share",
    "GET /v/<handle>/<code>",
    "GET /v/photo/<token>",
    "GET /api/v1/licence-check",
}


def test_route_snapshot(app):
    routes = {
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == EXPECTED_ROUTES


PUBLIC = ["/", "/login", "/register"]
CITIZEN = ["/", "/account"]
ADMIN = ["/", "/account", "/staff/", "/staff/accounts", "/staff/offices", "/staff/audit"]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_page_passes_page_checks(client, make, login, lang):
    headers = {"Accept-Language": lang}
    for url in PUBLIC:
        page(client.get(url, headers=headers))
    login(make.citizen())
    for url in CITIZEN:
        page(client.get(url, headers=headers))
    client.post("/logout", data={})
    login(make.staff("admin"))
    for url in ADMIN:
        page(client.get(url, headers=headers))
