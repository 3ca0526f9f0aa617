"""Every form of the application, fuzzed as its rightful user: no input reaches a 5xx.

An attack on the demo city once found 500s from a file part sent in a text field and from a
huge number typed into a time. This test keeps looking for that class of bug. It builds a small city
(a citizen with an e-licence, a truck pass, an accident case and a transfer case, and a staff
member of every role), logs each person in, crawls the pages their links lead to, and parses
every form found there. Each form is then sent as the person whose page it was on, with
values Hypothesis generates per field: text in any script, empty strings, huge and odd
numbers, control characters, several values for one field and file parts in text fields
(and text in file fields). Every answer must be below 500.

Hypothesis runs derandomized with a few examples per form, so the test is repeatable and
stays well under a minute in CI; the crawl finds new forms without this file changing.
"""

import io
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import (
    ACCIDENT_OFFICER,
    ADMIN,
    LICENCE_CLERK,
    POLICE_INSPECTOR,
    TRUCKPASS_CLERK,
)
from models.truckpass import PENDING_REVIEW

from .factories import CASE_PATH

EXAMPLES_PER_FORM = 6
PAGES_PER_PERSON = 40
# Links not followed and forms not sent: leaving the session would end the crawl, and files
# and the statistics' CSV are not pages.
SKIP_PATHS = ("/logout", "/static/", "/stats/export/")
SKIP_SUFFIXES = ("/download", "/view", "/photo", "/map", ".json", ".csv")

ODD_VALUES = [
    "",
    " ",
    "0",
    "-1",
    "99999999999999999999",
    "-99999999999999999999",
    "1e308",
    "NaN",
    "inf",
    "\x00",
    "１２３",
    "2024-02-30",
    "99999-12-31",
    "99999999999999999999:00-10:00",
    "25:61-26:00",
    "鲁B" + "9" * 40,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "x" * 5000,
]


def file_part(draw_bytes: bytes, name: str) -> tuple:
    """A multipart file part, as a browser (or an attacker) would send one."""
    return (io.BytesIO(draw_bytes), name)


FILE_PARTS = st.builds(
    file_part,
    st.sampled_from([b"", b"%PDF-1.4\n", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"hello" * 10]),
    st.sampled_from(["a.pdf", "b.png", "../../etc/passwd", "", "照片.jpg"]),
)
SCALARS = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.text(max_size=40),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


def field_values(default: str):
    """What one field may receive: its own value (so the rest of the form gets checked),
    an odd scalar, a file part, or several values at once."""
    return st.one_of(
        st.just(default),
        SCALARS,
        FILE_PARTS,
        st.lists(SCALARS, min_size=2, max_size=3),
    )


def forms_of(html: str, url: str) -> list[dict]:
    """The forms of a page: method, action path and fields with their present values."""
    found = []
    for form in BeautifulSoup(html, "html.parser").find_all("form"):
        action = urlsplit(urljoin(url, form.get("action") or url))
        fields, csrf = {}, ""
        for tag in form.find_all(["input", "select", "textarea", "button"]):
            name = tag.get("name")
            if not name:
                continue
            if name == "csrf_token":
                csrf = tag.get("value", "")
                continue
            if tag.name == "select":
                option = tag.find("option", selected=True) or tag.find("option")
                value = option.get("value", option.get_text()) if option else ""
            elif tag.name == "textarea":
                value = tag.get_text()
            else:
                value = tag.get("value", "")
            fields.setdefault(name, value)
        found.append(
            {
                "method": (form.get("method") or "get").lower(),
                "path": action.path,
                "fields": fields,
                "csrf": csrf,
            }
        )
    return found


def followable(href: str | None) -> bool:
    """A same-site page link worth crawling."""
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "http")):
        return False
    path = urlsplit(href).path
    return not path.startswith(SKIP_PATHS) and not path.endswith(SKIP_SUFFIXES)


def crawl(client, start: list[str]) -> list[dict]:
    """The forms on the pages reachable from `start` by links (breadth first, bounded)."""
    queue, seen, forms = list(start), set(), []
    while queue and len(seen) < PAGES_PER_PERSON:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        if response.status_code != 200 or "html" not in (response.mimetype or ""):
            continue
        html = response.get_data(as_text=True)
        forms.extend(forms_of(html, url))
        for link in BeautifulSoup(html, "html.parser").find_all("a"):
            href = link.get("href")
            if followable(href):
                queue.append(urljoin(url, href))
    return forms


def the_city(make) -> dict:
    """Who logs in (None: an anonymous visitor) and where each of them starts."""
    citizen = make.citizen()
    make.elicence(citizen)
    make.truck_pass(citizen, status=PENDING_REVIEW)
    case = make.accident_case()
    make.party(case, citizen)
    make.evidence(case)
    world = make.transfer_world()
    vehicles = [world.vehicle] + [make.vehicle(world.origin, world.seller) for _ in range(3)]
    # A transfer case at each step, so each step's form is on some page.
    cases = [
        f"/transfer/cases/{make.transfer_case(world, until=s, buyer=citizen, vehicle=v).id}"
        for s, v in zip(CASE_PATH[:4], vehicles, strict=True)
    ]
    make.zone()
    make.licence_record(make.citizen())
    public = ["/", "/login", "/register", "/verify", "/verify/share", "/verify/truck"]
    mine = ["/licence/", "/licence/share", "/licence/reset-codes", "/trucks/", "/trucks/apply"]
    mine += ["/evidence/", "/evidence/open", "/transfer/", "/transfer/new", "/account"]
    return {
        "anonymous": (None, public + ["/trucks/rules", "/report"]),
        "citizen": (citizen, ["/", *mine, *cases]),
        "seller": (world.seller, ["/", "/transfer/", *cases]),
        "officer": (case.officer, ["/", "/evidence/", "/evidence/cases/new"]),
        "vehicle clerk": (world.clerk, ["/", "/transfer/office", "/transfer/archives", *cases]),
        "origin clerk": (world.origin_clerk, ["/", "/transfer/archives", *cases]),
        "market clerk": (world.market_clerk, ["/", "/transfer/market", "/transfer/market/new"]),
        "licence clerk": (make.staff(LICENCE_CLERK), ["/", "/licence/records"]),
        "truck-pass clerk": (make.staff(TRUCKPASS_CLERK), ["/", "/trucks/queue", "/trucks/zones"]),
        "inspector": (make.staff(POLICE_INSPECTOR), ["/", "/verify"]),
        # Last: its forms change other people's accounts.
        "admin": (make.staff(ADMIN, ACCIDENT_OFFICER), ["/", "/staff/accounts", "/stats/"]),
    }


def endpoint_of(app, form: dict) -> str:
    """The view a form is sent to (forms of two records of one kind are fuzzed once)."""
    adapter = app.url_map.bind("localhost")
    return adapter.match(form["path"], method=form["method"].upper())[0]


def fuzz(client, form: dict, who: str) -> None:
    """Send the form many times with generated values; no answer may be a 5xx."""
    names = sorted(form["fields"])

    @settings(
        max_examples=EXAMPLES_PER_FORM,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.fixed_dictionaries({n: field_values(form["fields"][n]) for n in names}))
    def send(values):
        if form["method"] == "post":
            data = {**values, "csrf_token": form["csrf"]}
            response = client.post(
                form["path"], data=data, content_type="multipart/form-data", csrf=False
            )
        else:
            args = {k: v for k, v in values.items() if not isinstance(v, tuple)}
            response = client.get(form["path"], query_string=args)
        assert response.status_code < 500, (who, form["method"], form["path"], values)

    send()


def test_no_form_answers_a_5xx_to_any_input(app, make):
    """Every form found by crawling each person's pages, fuzzed as that person."""
    done = set()
    for n, (who, (user, start)) in enumerate(the_city(make).items()):
        client = app.test_client()
        # Each person from their own address: the fuzzed login form must not lock the others
        # out through the per-address limit.
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
        if user is not None:
            make.login(client, user)
        for form in crawl(client, start):
            if not form["fields"] or form["path"].startswith(SKIP_PATHS):
                continue
            key = (form["method"], endpoint_of(app, form))
            if key in done:
                continue
            done.add(key)
            fuzz(client, form, who)
    # The crawl reached the forms of every measure, or it has silently stopped finding them.
    reached = {endpoint.split(".")[0] for _method, endpoint in done}
    assert {"auth", "licence", "truckpass", "evidence", "transfer", "staff", "verify"} <= reached
