"""A walk through the demo city as each role: the pages of the route snapshot as people see them.

Each role (anonymous, several citizens, every staff role) gets a fresh client, logs in once and
walks the site from its starting pages by following links, one GET per route of the snapshot
(tests/test_routes.py) per role. The wording test reads the pages' words; the standards test
runs axe-core and the Nu HTML checker over them.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from bs4 import BeautifulSoup
from werkzeug.exceptions import HTTPException

from core.demo import STAFF
from models import User, db

# Where each walk starts (links lead on from there).
ANONYMOUS_START = ["/", "/login", "/register", "/trucks/rules", "/report", "/logout"]
CITIZEN_START = [
    "/",
    "/account",
    "/licence/",
    "/licence/share",
    "/licence/checks",
    "/evidence/",
    "/evidence/open",
    "/transfer/",
    "/trucks/",
    "/trucks/rules",
    "/report",
    "/logout",
]
STAFF_START = ["/", "/account", "/staff/", "/logout"]
# Demo citizens walked: enough to reach a licence, a transfer in each state and a pass.
CITIZENS_WALKED = 6
# Files that are not pages.
NOT_PAGES = {"static", "healthz"}


@dataclass
class Page:
    """One page as one role saw it."""

    role: str
    url: str
    html: str


def walk(app, client, starts, lang, seen_rules, skip_prefixes=()) -> dict[str, str]:
    """GET the start pages and, following links, one URL of every route not seen yet by this
    role: {url: html} of the pages."""
    adapter = app.url_map.bind("localhost")
    queue, pages, visited = list(starts), {}, set()
    while queue:
        url = queue.pop(0)
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost") or url in visited:
            continue
        visited.add(url)
        try:
            rule, _args = adapter.match(parts.path, method="GET", return_rule=True)
        except HTTPException:
            continue
        if rule.endpoint in NOT_PAGES or rule.endpoint.startswith(tuple(skip_prefixes)):
            continue
        if rule.rule in seen_rules and url not in starts:
            continue
        seen_rules.add(rule.rule)
        response = client.get(url, headers={"Accept-Language": lang})
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        pages[url] = html
        for a in BeautifulSoup(html, "html.parser").find_all("a", href=True):
            href = a["href"].split("#")[0]
            if href and not href.startswith(("mailto:", "tel:", "javascript:")):
                queue.append(href if href.startswith(("/", "http")) else f"/{href}")
    return pages


def walk_city(app, make, logins, lang, skip_prefixes=(), anonymous_start=ANONYMOUS_START):
    """Every role's walk through the loaded demo city (`logins`: core.demo.demo_logins()).

    Returns the pages and {role: routes seen}."""
    with app.app_context(), db.connection_context():
        citizens = list(
            User.select().where(User.is_staff == False).order_by(User.id)  # noqa: E712
        )[:CITIZENS_WALKED]
        staff = {u.username: u for u in User.select().where(User.is_staff == True)}  # noqa: E712
        roles = {u.id: ",".join(sorted(u.roles)) for u in staff.values()}
    passwords = {s["username"]: s["password"] for s in logins["staff"]}
    walks = [(None, None, anonymous_start)]
    walks += [(c, logins["citizen_password"], CITIZEN_START) for c in citizens]
    walks += [(staff[u], passwords[u], STAFF_START) for u, *_ in STAFF]
    pages, seen_by_role = [], {}
    for user, password, starts in walks:
        role = "anonymous" if user is None else roles.get(user.id, "citizen")
        client = app.test_client()  # a fresh session: a browser of its own
        if user is not None:
            make.login(client, user, password)
        seen = seen_by_role.setdefault(role, set())
        for url, html in walk(app, client, starts, lang, seen, skip_prefixes).items():
            pages.append(Page(role, url, html))
    return pages, seen_by_role
