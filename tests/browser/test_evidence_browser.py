"""Measure 4 in a real headless Chromium: the officer's and the party's pages on a phone, an
upload through the real form, and the notice's query code with JavaScript off."""

import os
import re

import pytest

from models import ACCIDENT_OFFICER
from tests.browser.pages import no_horizontal_scroll
from tests.factories import Factory, sample_image, sample_pdf

pytestmark = pytest.mark.browser

# Set EVIDENCE_SCREENSHOTS=/some/dir to keep screenshots of every page for a human look.
SHOTS = os.environ.get("EVIDENCE_SCREENSHOTS")


def fits(page, name: str) -> bool:
    """No sideways scrolling at this width, once loaded (and a screenshot when asked for)."""
    fitting = no_horizontal_scroll(page)
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)
    return fitting


@pytest.fixture
def scene(live_app):
    """A case open for review: an officer, a party, a picture and a PDF."""
    factory = Factory(live_app)
    officer = factory.staff(ACCIDENT_OFFICER, office=factory.office(kind="police_brigade"))
    case = factory.accident_case(officer)
    citizen = factory.citizen(real_name="孙志强")
    party = factory.party(case, citizen)
    picture = factory.evidence(
        case,
        sample_image("PNG", (900, 600)),
        mime="image/png",
        category="scene_diagram",
        title="现场图",
    )
    record = factory.evidence(case, sample_pdf(), title="现场勘查笔录")
    return {
        "officer": officer,
        "case": case,
        "citizen": citizen,
        "party": party,
        "picture": picture,
        "record": record,
    }


def log_in(page, base_url, user):
    """Log in through the real forms (staff also type their authenticator code)."""
    page.goto(f"{base_url}/login")
    page.fill("#account", user.username if user.is_staff else user.mobile)
    page.fill("#password", Factory.PASSWORD)
    page.click("#login-form button[type=submit]")
    if user.is_staff:
        page.wait_for_url(f"{base_url}/login/code")
        page.fill("#code", Factory.fresh_code(user))
        page.click("#code-form button[type=submit]")
        page.wait_for_url(f"{base_url}/staff/")
    else:
        page.wait_for_url(f"{base_url}/")


def test_officer_pages_fit_a_phone_and_upload_works(phone, base_url, scene, tmp_path):
    case = scene["case"]
    log_in(phone, base_url, scene["officer"])
    phone.click("nav a[href='/evidence/']")
    phone.wait_for_url(f"{base_url}/evidence/")
    assert fits(phone, "officer-list") and case.case_no in phone.locator("main").inner_text()
    phone.goto(f"{base_url}/evidence/cases/new")
    assert fits(phone, "officer-new")
    phone.goto(f"{base_url}/evidence/cases/{case.id}")
    assert fits(phone, "officer-case")
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(sample_pdf("Appraisal"))
    phone.select_option("#category", "appraisal")
    phone.fill("#title", "鉴定意见书")
    phone.set_input_files("#file", str(pdf))
    phone.click("#upload-form button[type=submit]")
    phone.locator(".flash-ok").wait_for()
    assert "鉴定意见书" in phone.locator("#items ~ .table-wrap").first.inner_text()
    phone.goto(f"{base_url}/evidence/cases/{case.id}/items/{scene['picture'].id}")
    assert fits(phone, "officer-item")
    phone.goto(f"{base_url}/evidence/cases/{case.id}/log")
    assert fits(phone, "officer-log")
    phone.goto(f"{base_url}/evidence/cases/{case.id}")
    phone.click("#parties ~ .table-wrap button:has-text('打印告知书')")
    code = phone.locator(".query-code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    assert fits(phone, "officer-notice")


def test_party_sees_a_watermarked_preview_on_a_phone(phone, base_url, scene):
    case, picture = scene["case"], scene["picture"]
    log_in(phone, base_url, scene["citizen"])
    phone.click("nav a[href='/evidence/']")
    phone.wait_for_url(f"{base_url}/evidence/")
    assert fits(phone, "party-list")
    phone.click(f"text={case.case_no}")
    phone.wait_for_url(f"{base_url}/evidence/cases/{case.id}")
    assert fits(phone, "party-case")
    assert phone.locator(".progress li.current").inner_text().strip() == "证据开放查阅"
    phone.goto(f"{base_url}/evidence/cases/{case.id}/items/{picture.id}")
    img = phone.locator(".evidence-preview img")
    img.wait_for()
    phone.wait_for_function("document.querySelector('.evidence-preview img').naturalWidth > 0")
    assert fits(phone, "party-item")
    phone.goto(f"{base_url}/evidence/cases/{case.id}/log")
    assert fits(phone, "party-log")
    assert "查看了" in phone.locator("main").inner_text()


def test_query_code_with_javascript_off(browser, live_app, base_url, scene):
    from blueprints.evidence.querycodes import hash_code
    from models import CaseParty, db

    with db.connection_context():
        CaseParty.update(query_code_hash=hash_code("K7QM-3XPA")).where(
            CaseParty.id == scene["party"].id
        ).execute()
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 360, "height": 640}, locale="zh-CN"
    )
    page = context.new_page()
    log_in(page, base_url, scene["citizen"])
    page.goto(f"{base_url}/evidence/open")
    page.fill("#case_no", scene["case"].case_no)
    page.fill("#code", "k7qm3xpa")
    page.click("#code-form button[type=submit]")
    page.wait_for_url(f"{base_url}/evidence/cases/{scene['case'].id}")
    assert scene["case"].case_no in page.locator("h1").inner_text()
    context.close()


def test_on_a_phone_in_english_the_actions_leave_the_titles_in_view(browser, base_url, scene):
    """On a phone each item is a card: its actions ("Download a copy" is long in English)
    come under its title, never over it, and the whole card is in view."""
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="en-GB")
    phone = context.new_page()
    log_in(phone, base_url, scene["citizen"])
    phone.goto(f"{base_url}/evidence/cases/{scene['case'].id}")
    assert fits(phone, "party-case-en")
    wrap = phone.locator("#items ~ .table-wrap").first.bounding_box()
    actions = phone.locator("#items ~ .table-wrap td.row-actions").first.bounding_box()
    title = phone.locator("#items ~ .table-wrap a", has_text="现场").first.bounding_box()
    assert title["x"] >= wrap["x"] and title["x"] + title["width"] <= wrap["x"] + wrap["width"]
    assert actions["y"] >= title["y"] + title["height"]
    assert actions["x"] + actions["width"] <= wrap["x"] + wrap["width"]
    context.close()
