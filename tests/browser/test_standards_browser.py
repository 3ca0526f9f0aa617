"""Every page of the route snapshot passes the standards' checkers, in Chinese and in English.

The demo city is walked as each role (tests/sitewalk.py), the verifier's pages included, and
every page is checked as it was served to that role:

- the Nu HTML checker (vnu.jar, from the npm package vnu-jar; scripts/ensure-vnu.sh installs it
  and Java) over all pages of both languages in one JVM, since its start-up is the slow part:
  no error;
- axe-core (vendored in tests/vendor/axe-core, injected by Playwright into Chromium; it is never
  served to users): no violation at all, whatever its impact. Pages of the same structure (the
  same elements, classes and attributes; only text and values differ) are checked once per
  language, which keeps the run well under a minute.

The browser loads each page's own HTML as captured (Playwright answers the document request),
and its style sheets, scripts and images from the live server, so a page with a one-time
meaning (a verifier result) is never requested twice.
"""

import hashlib
import json
import os
import subprocess
import threading
import urllib.request
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from werkzeug.serving import make_server

from app import create_app
from core.db import upgrade
from core.demo import demo_logins
from models import db

from ..factories import Factory
from ..helpers import CSRFClient, fresh_database_url, release_database
from ..sitewalk import ANONYMOUS_START, walk_city

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
VNU_JAR = Path(
    os.environ.get("VNU_JAR") or ROOT / ".cache/vnu/node_modules/vnu-jar/build/dist/vnu.jar"
)
LANGS = ["zh-CN", "en"]
# The anonymous walk also starts at the verifier's forms and at one (refused) typed check.
VERIFIER_START = ["/verify", "/verify/share", "/verify/truck", "/verify/check?key=ABCD2345&code=1"]
# Attributes whose values shape what axe sees (the rest, like href or value, are data).
STRUCTURAL = {"class", "role", "type", "tabindex", "for", "scope", "colspan", "rowspan", "lang"}
# Only the violations go back from the page: passes and incomplete results are large.
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))
  }));
}"""


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """A live server over the loaded demo city, and every role's pages in both languages:
    (base_url, {lang: [Page]})."""
    tmp_path = tmp_path_factory.mktemp("standards")
    app = create_app(
        {
            "SECRET_KEY": "standards-test",
            "DATABASE_URL": fresh_database_url(tmp_path),
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "NETWORK_KEY_FOLDER": str(tmp_path / "network"),
            "PASSWORD_HASH_METHOD": "scrypt:4096:8:1",
        }
    )
    app.test_client_class = CSRFClient
    upgrade()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = base_url
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    with app.app_context(), db.connection_context():
        logins = demo_logins()
    start = [*ANONYMOUS_START, *VERIFIER_START]
    make = Factory(app)
    pages = {lang: walk_city(app, make, logins, lang, anonymous_start=start)[0] for lang in LANGS}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base_url, pages
    server.shutdown()
    thread.join(timeout=5)
    release_database()


@pytest.fixture(scope="module")
def nu_errors(city, tmp_path_factory):
    """The Nu HTML checker's errors over every page of both languages, from one run:
    {lang: {"role url": [message]}}."""
    if not VNU_JAR.exists():
        pytest.fail(
            f"The Nu HTML checker is not at {VNU_JAR}: run scripts/ensure-vnu.sh (`make test` "
            "does), set VNU_JAR, or leave the browser tests out with SKIP_BROWSER=1"
        )
    _base_url, pages = city
    folder = tmp_path_factory.mktemp("pages")
    names = {}
    for lang, lang_pages in pages.items():
        for n, p in enumerate(lang_pages):
            path = folder / f"{lang}-{n:04d}.html"
            path.write_text(p.html, encoding="utf-8")
            names[path.name] = (lang, f"{p.role} {p.url}")
    run = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", "--exit-zero-always"]
        + sorted(str(folder / name) for name in os.listdir(folder)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(run.stderr)["messages"]
    errors = {lang: {} for lang in LANGS}
    for m in messages:
        lang, where = names.get(m.get("url", "").rsplit("/", 1)[-1], ("?", m.get("url")))
        line = f"{m['type']} line {m.get('lastLine')}: {m['message']}"
        errors.setdefault(lang, {}).setdefault(where, []).append(line)
    return errors


def structure(html: str) -> str:
    """What makes two pages the same to axe: the set of their element kinds (tag, attribute
    names, structural attribute values), without text, data or how many rows a table has."""
    soup = BeautifulSoup(html, "html.parser")
    shapes = set()
    for tag in soup.find_all(True):
        attrs = sorted(
            (k, (" ".join(v) if isinstance(v, list) else v) if k in STRUCTURAL else "")
            for k, v in tag.attrs.items()
        )
        shapes.add(f"{tag.name}{attrs}")
    return hashlib.sha256("\n".join(sorted(shapes)).encode()).hexdigest()


@pytest.fixture(scope="module")
def axe_violations(city, browser):
    """axe-core's violations on every page of distinct structure: ({lang: {"role url":
    [violation]}}, {lang: pages checked})."""
    base_url, pages = city
    # A phone's width, where tables scroll in their boxes; axe is in every page before its own
    # scripts run (an init script, parsed once per page: faster than a script tag).
    context = browser.new_context(viewport={"width": 360, "height": 640}, bypass_csp=True)
    context.set_default_timeout(10_000)
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    current = {}

    def serve(route):
        """The document as captured; its style sheets and scripts from the live server; no
        image (axe reads their alt text, not their pixels) and no request of a script (the
        page stays as it was served)."""
        request = route.request
        if request.is_navigation_request() and request.frame == page.main_frame:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=current["html"])
        elif request.resource_type in ("document", "stylesheet", "script", "font"):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", serve)
    violations, checked = {}, {}
    for lang, lang_pages in pages.items():
        seen = set()
        for p in lang_pages:
            shape = structure(p.html)
            if shape in seen:
                continue
            seen.add(shape)
            current["html"] = p.html
            page.goto(base_url + p.url, wait_until="load")
            found = page.evaluate(RUN_AXE)
            if found:
                violations.setdefault(lang, {})[f"{p.role} {p.url}"] = found
        checked[lang] = len(seen)
    context.close()
    return violations, checked


@pytest.mark.parametrize("lang", LANGS)
def test_the_walk_reaches_the_whole_site(city, lang):
    _base_url, pages = city
    routes = {p.url.split("?")[0] for p in pages[lang]}
    assert any(u.startswith("/verify") for u in routes)
    # 44 routes outside the verifier when the wording test was written.
    assert len(pages[lang]) >= 100, len(pages[lang])


def test_every_page_names_an_icon_that_exists(city):
    """Browsers ask for /favicon.ico (a 404 and a console error) unless the page names its icon:
    the verifier's pages have a frame of their own and must name it too."""
    base_url, pages = city
    icons = set()
    for p in pages["en"]:
        icon = BeautifulSoup(p.html, "html.parser").find("link", rel="icon")
        assert icon is not None, f"{p.role} {p.url} names no icon"
        icons.add(icon["href"])
    for href in icons:
        with urllib.request.urlopen(base_url + href, timeout=30) as response:  # noqa: S310
            assert response.status == 200


@pytest.mark.parametrize("lang", LANGS)
def test_the_nu_html_checker_finds_no_error(nu_errors, lang):
    found = nu_errors.get(lang, {})
    assert not found, "\n".join(f"{k}: {v[:5]}" for k, v in found.items())


@pytest.mark.parametrize("lang", LANGS)
def test_axe_finds_no_violation(axe_violations, lang):
    violations, checked = axe_violations
    assert checked[lang] >= 30, checked
    found = violations.get(lang, {})
    assert not found, "\n".join(f"{k}: {v}" for k, v in found.items())
