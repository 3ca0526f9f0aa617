"""Every page reads right in both languages: no raw audit action or role key, no "User 9", and
no sentence of the other language outside names and codes.

The demo city is loaded once per test; each role (every staff role and several citizens) logs in
once and walks the site from its starting pages by following links, one GET per route of the
snapshot (tests/test_routes.py) per role, in Chinese and in English. The verifier's result
pages carry a copy in the other language, marked with its own lang attribute.
"""

import re

import pytest
from bs4 import BeautifulSoup
from peewee import CharField, TextField

from core import measures
from core.access import ROLE_LABELS
from core.audit import ACTION_LABELS
from core.demo import demo_logins
from models import RestrictedZone, db

from .sitewalk import walk_city

LANGS = ["zh-CN", "en"]
# Every page is walked, the verifier's included (its result pages carry a copy in the other
# language, marked with its own lang attribute).
SKIPPED_PREFIXES = ()

CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
ENGLISH_SENTENCE = re.compile(r"[A-Za-z][a-z']*(?:[ ,]+[A-Za-z][a-z']*){2,}")
DOTTED_KEY = re.compile(r"(?<![\w./@-])([a-z][a-z_]*)((?:\.[a-z_]+)+)(?![\w/@-])")
USER_ID = re.compile(r"\bUser \d+\b")
# ASCII , : ; ? ! ( ) touching Chinese text (Chinese takes full-width ，：；？！（）).
ASCII_PUNCTUATION = re.compile(
    r"[\u3400-\u9fff\uff08\uff09\uff1a] ?[,:;?!()]|[,:;?!()] ?[\u3400-\u9fff\uff08\uff09]"
)
NOT_TEXT = ("script", "style", "noscript", "template", "textarea")


def action_prefixes(app) -> set[str]:
    """The first words of every audit action (login, truck_pass, ...): a dotted word starting
    with one of them in a page's text is a raw key."""
    with app.app_context():
        actions = set(ACTION_LABELS) | set(measures.audit_labels())
    return {a.split(".")[0] for a in actions if "." in a}


def known_data() -> str:
    """Every string stored in the database, joined: people's and offices' names, plates, case
    numbers, what officers and firms typed. They are data, shown as they were written; a run of
    Chinese inside one of them is not a missing translation. The zones' descriptions are left
    out: the city writes them in both languages (RestrictedZone.description_en)."""
    left_out = {RestrictedZone.description, RestrictedZone.name}
    values = []
    for model in _models():
        fields = [
            f
            for f in model._meta.sorted_fields
            if isinstance(f, CharField | TextField) and f not in left_out
        ]
        if fields:
            for row in model.select(*fields).tuples():
                values.extend(v for v in row if isinstance(v, str))
    return "\n".join(values)


def _models():
    """The tables of the app (peewee keeps no registry: the models' module lists them)."""
    import models

    return [
        m
        for m in vars(models).values()
        if isinstance(m, type) and issubclass(m, models.BaseModel) and m is not models.BaseModel
    ]


def texts(soup: BeautifulSoup):
    """The page's visible text nodes with the language they are marked in (nearest lang)."""
    for node in soup.find_all(string=True):
        if node.parent is None or node.parent.name in NOT_TEXT:
            continue
        if any(p.name in NOT_TEXT for p in node.parents):
            continue
        text = " ".join(node.split())
        if not text:
            continue
        marked = next((p.get("lang") for p in node.parents if p.get("lang")), "")
        yield text, marked


def wording_faults(html: str, lang: str, prefixes: set[str], data: str) -> list[str]:
    """What reads wrong on one page in `lang`."""
    soup = BeautifulSoup(html, "html.parser")
    body = soup  # the <title> too: it is read out and shown in the tab
    faults = []
    role_keys = set(ROLE_LABELS) | {"anonymous"}
    for text, marked in texts(body):
        for match in DOTTED_KEY.finditer(text):
            if match.group(1) in prefixes:
                faults.append(f"raw key {match.group(0)!r} in {text!r}")
        # "admin" alone is also the demo administrator's username (the audit log's actor).
        if all(part.strip() in role_keys for part in text.split(",")) and text != "admin":
            faults.append(f"raw role key {text!r}")
        if USER_ID.search(text):
            faults.append(f"{USER_ID.search(text).group(0)!r} in {text!r}")
        if lang == "en" and not marked.startswith("zh"):
            faults += [
                f"Chinese {run!r} in {text!r}" for run in CJK_RUN.findall(text) if run not in data
            ]
        if lang.startswith("zh") and not marked.startswith("en"):
            faults += [
                f"ASCII punctuation {m!r} in {text!r}"
                for m in ASCII_PUNCTUATION.findall(text)
                if m not in data
            ]
            faults += [
                f"English {m!r} in {text!r}"
                for m in ENGLISH_SENTENCE.findall(text)
                if m not in data
            ]
    return faults


@pytest.fixture
def demo_city(runner, app):
    """The demo city loaded, and its logins."""
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    with app.app_context(), db.connection_context():
        return demo_logins()


def test_wording_test_catches_what_it_should():
    """The checks themselves: each fault they are for is found, and names and codes pass."""
    prefixes = {"login", "truck_pass"}
    page = "<body><td>{}</td></body>"
    assert wording_faults(page.format("login.ok"), "zh-CN", prefixes, "")
    assert wording_faults(page.format("已核验 truck_pass.check"), "zh-CN", prefixes, "")
    assert wording_faults(page.format("citizen"), "en", prefixes, "")
    assert wording_faults(page.format("licence_clerk,admin"), "en", prefixes, "")
    assert wording_faults(page.format("User 9"), "en", prefixes, "")
    assert wording_faults(page.format("老城区的说明"), "en", prefixes, "")
    assert wording_faults(page.format("Not a valid date value."), "zh-CN", prefixes, "")
    assert wording_faults(page.format("张伟 (警察)"), "zh-CN", prefixes, "")
    assert not wording_faults(page.format("张伟 鲁B12345"), "en", prefixes, "张伟\n鲁B12345")
    assert not wording_faults('<body><p lang="zh-CN">老城区</p></body>', "en", prefixes, "")
    assert not wording_faults(page.format("jg.example.test archive.json"), "en", prefixes, "")
    assert not wording_faults(page.format("PDF、JPEG 或 PNG"), "zh-CN", prefixes, "")


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_reads_right_for_every_role(app, make, demo_city, lang):
    prefixes = action_prefixes(app)
    with app.app_context(), db.connection_context():
        data = known_data()
    pages, seen_by_role = walk_city(app, make, demo_city, lang, SKIPPED_PREFIXES)
    faults = {}
    for p in pages:
        found = wording_faults(p.html, lang, prefixes, data)
        if found:
            faults[f"{p.role} {p.url}"] = sorted(set(found))[:5]
    covered = set().union(*seen_by_role.values())
    # The walk reaches the site, not three pages of it (44 routes when this was written).
    assert len(covered) >= 40, sorted(covered)
    assert not faults, "\n".join(f"{k}: {v}" for k, v in faults.items())
