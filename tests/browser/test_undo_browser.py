"""Slips that can be undone and reasons shown, in a real headless Chromium: one test
per undo path (a decline taken back, a mistyped VIN asked about, a failed inspection inspected
again, a missing residence permit asked for, a record and a name corrected), and a review
request walked from a party to the officer and back. Some with JavaScript off, on a phone."""

import re

import pytest
from playwright.sync_api import expect

from models import ACCIDENT_OFFICER, LICENCE_CLERK, LicenceRecord, TransferCase, User, db
from models.transfer import AWAITING_INSPECTION
from tests.browser.pages import no_horizontal_scroll
from tests.browser.test_transfer_browser import person
from tests.factories import Factory

pytestmark = pytest.mark.browser


def state_of(case_id: int) -> str:
    """The case's state as stored."""
    with db.connection_context():
        return TransferCase.get_by_id(case_id).state


def test_a_decline_is_asked_and_can_be_taken_back(browser, live_app, base_url):
    w = Factory(live_app).transfer_world()
    case = Factory(live_app).transfer_case(w)
    case_url = f"{base_url}/transfer/cases/{case.id}"
    seller = person(browser, base_url, w.seller, javascript=False)
    seller.goto(case_url)
    seller.click("#decline-form button")
    seller.locator("#confirm-box").wait_for()
    assert no_horizontal_scroll(seller)
    seller.click("#confirm-back")  # a slip: back to the case, nothing changed
    seller.wait_for_url(case_url)
    assert seller.locator("#confirm-form").count() == 1  # the sale can still be confirmed
    assert state_of(case.id) == "awaiting_confirmation"
    seller.click("#decline-form button")
    seller.click("#confirm-form button")
    seller.wait_for_url(case_url)
    # Withdrawn (撤销), never the licence's word for deregistered (注销).
    assert "已注销" not in seller.locator(".case-title").inner_text()
    assert seller.locator(".case-title .state-cancelled").count() == 1
    assert state_of(case.id) == "cancelled"
    seller.context.close()


def test_back_after_confirming_a_sale_shows_the_case_not_a_resubmission(
    browser, live_app, base_url
):
    """The question is drawn in place of the page (htmx, no entry in the history): Back after
    the confirmed act leads to the case page as it was, not to a posted page the browser
    cannot show again without posting it (pages are never stored: ERR_CACHE_MISS)."""
    w = Factory(live_app).transfer_world()
    case = Factory(live_app).transfer_case(w)
    case_url = f"{base_url}/transfer/cases/{case.id}"
    buyer = person(browser, base_url, w.buyer)
    buyer.goto(f"{base_url}/transfer/")
    buyer.goto(case_url)
    buyer.click("#confirm-form button")
    buyer.locator("#confirm-box").wait_for()
    assert buyer.url == case_url  # asked in place
    with buyer.expect_navigation():
        buyer.click("#confirm-box ~ .actions #confirm-form button")
    assert buyer.url == case_url
    buyer.go_back()
    buyer.wait_for_load_state()
    assert buyer.url == case_url and not buyer.url.startswith("chrome-error")
    assert case.number in buyer.locator(".case-title").inner_text()
    with db.connection_context():
        assert TransferCase.get_by_id(case.id).buyer_confirmed_at is not None  # done once
    buyer.context.close()


def test_a_mistyped_vin_is_asked_about_and_typed_again(browser, live_app, base_url):
    make = Factory(live_app)
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    clerk = person(browser, base_url, w.clerk)
    clerk.goto(f"{base_url}/transfer/cases/{case.id}")
    clerk.fill("#vin_read", make.vin())  # a well-formed VIN, but not this car's
    clerk.fill("#plate_read", w.vehicle.plate)
    clerk.select_option("#result", "passed")
    clerk.click("#inspection-form button[type=submit]")  # htmx swaps the panel with the 422
    clerk.locator("#vin_read-error").wait_for()
    assert "与档案不符" in clerk.locator("#vin_read-error").inner_text()
    assert clerk.locator("#confirm_mismatch").is_visible()
    assert state_of(case.id) == AWAITING_INSPECTION  # nothing recorded
    clerk.fill("#vin_read", w.vehicle.vin)
    clerk.fill("#plate_read", w.vehicle.plate)
    clerk.click("#inspection-form button[type=submit]")
    clerk.locator("#case-panel .case-title").get_by_text("待转出地转递档案").wait_for()
    assert state_of(case.id) == "awaiting_archive"
    clerk.context.close()


def test_a_failed_inspection_is_inspected_again(browser, live_app, base_url):
    make = Factory(live_app)
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    case_url = f"{base_url}/transfer/cases/{case.id}"
    clerk = person(browser, base_url, w.clerk)
    clerk.goto(case_url)
    clerk.fill("#vin_read", w.vehicle.vin)
    clerk.fill("#plate_read", w.vehicle.plate)
    clerk.select_option("#result", "failed")
    clerk.fill("#remarks", "左前大灯不亮")
    clerk.click("#inspection-form button[type=submit]")
    clerk.locator("#reinspect-form").wait_for()
    assert state_of(case.id) == "inspection_failed"
    # The buyer reads what to do: bring the car back, to which office and where.
    buyer = person(browser, base_url, w.buyer)
    buyer.goto(case_url)
    step = buyer.locator("#next-step").inner_text()
    assert w.dest.name in step and w.dest.address in step
    buyer.context.close()
    clerk.click("#reinspect-form button")
    clerk.locator("#inspection-form").wait_for()
    clerk.fill("#vin_read", w.vehicle.vin)
    clerk.fill("#plate_read", w.vehicle.plate)
    clerk.select_option("#result", "passed")
    clerk.click("#inspection-form button[type=submit]")
    clerk.locator("#case-panel .case-title").get_by_text("待转出地转递档案").wait_for()
    assert state_of(case.id) == "awaiting_archive"
    clerk.context.close()


def test_a_missing_residence_permit_is_asked_for(browser, live_app, base_url):
    make = Factory(live_app)
    w = make.transfer_world()
    outsider = make.citizen(resident_id=make.resident_id(area="110105"))
    case = make.transfer_case(w, buyer=outsider, until=AWAITING_INSPECTION)
    assert case.state == "awaiting_confirmation"  # waiting, not stopped
    buyer = person(browser, base_url, outsider)
    buyer.goto(f"{base_url}/transfer/cases/{case.id}")
    assert "居住证" in buyer.locator("#next-step").inner_text()
    assert no_horizontal_scroll(buyer)
    buyer.fill("#residence_permit_no", "Q370200123456")
    buyer.click("#permit-form button[type=submit]")
    buyer.locator("#case-panel .case-title").get_by_text("待查验").wait_for()
    assert w.dest.address in buyer.locator("#next-step").inner_text()
    assert state_of(case.id) == AWAITING_INSPECTION
    buyer.context.close()


def test_a_record_and_a_name_are_corrected(browser, live_app, base_url):
    make = Factory(live_app)
    citizen = make.citizen(real_name="张三风")
    record = make.licence_record(citizen, name="张三丰", address="青岛市旧地址1号")
    clerk_user = make.staff(LICENCE_CLERK)
    # The citizen's application is refused for the name, and they ask for a correction.
    citizen_page = person(browser, base_url, citizen, javascript=False)
    citizen_page.goto(f"{base_url}/licence/")
    citizen_page.click("#apply-form button")
    citizen_page.click("#name-correction-link")
    citizen_page.fill("#new_name", "张三丰")
    citizen_page.click("#name-correction-form button")
    citizen_page.locator("#pending-request").wait_for()
    # A licence clerk corrects the record's address with a reason, then approves the name.
    clerk = person(browser, base_url, clerk_user, width=1280)
    clerk.goto(f"{base_url}/licence/records/{record.id}")
    clerk.select_option("#correction-field", "address")
    clerk.fill("#correction-value", "青岛市新地址2号")
    clerk.fill("#correction-reason", "登记时地址录入错误")
    clerk.click("#correction-form button")
    clerk.wait_for_url(re.compile(rf".*/licence/records/{record.id}$"))
    assert "青岛市新地址2号" in clerk.content()
    clerk.goto(f"{base_url}/licence/corrections")
    clerk.fill("textarea", "已核对身份证")
    clerk.click("button[value=approve]")
    clerk.wait_for_url(f"{base_url}/licence/corrections")
    clerk.context.close()
    # The answer reaches the citizen, whose application now succeeds.
    citizen_page.goto(f"{base_url}/licence/name-correction")
    assert "已核对身份证" in citizen_page.locator("#correction-requests").inner_text()
    citizen_page.goto(f"{base_url}/licence/")
    citizen_page.click("#apply-form button")
    citizen_page.wait_for_url(f"{base_url}/licence/card")
    with db.connection_context():
        assert User.get_by_id(citizen.id).real_name == "张三丰"
        assert LicenceRecord.get_by_id(record.id).address == "青岛市新地址2号"
    citizen_page.context.close()


def test_review_request_walked_from_party_to_officer_and_back(browser, live_app, base_url):
    make = Factory(live_app)
    officer = make.staff(ACCIDENT_OFFICER, office=make.office(kind="police_brigade"))
    case = make.accident_case(officer)
    citizen = make.citizen()
    make.party(case, citizen)
    make.evidence(case, title="现场勘查笔录")
    make.evidence(case, category="photo", released=False, withhold_reason="privacy")
    case_url = f"{base_url}/evidence/cases/{case.id}"
    party = person(browser, base_url, citizen)
    party.goto(case_url)
    withheld = party.locator("#withheld-items tbody tr")
    assert withheld.count() == 1 and "涉及他人隐私" in withheld.inner_text()
    assert no_horizontal_scroll(party)
    party.fill("#grounds", "请公开对方车辆的照片")
    party.click("#review-form button")
    party.wait_for_url(re.compile(r".*#reviews$"))
    assert "等待民警答复" in party.locator("#reviews ~ .review-request").first.inner_text()

    desk = person(browser, base_url, officer)
    desk.goto(f"{base_url}/evidence/")
    desk.click("#reviews-link")
    assert "请公开对方车辆的照片" in desk.locator("section.card").first.inner_text()
    desk.fill("section.card textarea", "照片含第三人隐私，不予公开")
    desk.click("section.card button")
    # Asked first, with the answer shown: sent, it cannot be changed.
    expect(desk.locator("main")).to_contain_text("照片含第三人隐私，不予公开")
    desk.get_by_role("button", name="是，发送答复").click()
    desk.wait_for_url(f"{base_url}/evidence/reviews")
    assert desk.locator("section.card").count() == 0
    desk.context.close()

    party.goto(case_url)
    answer = party.locator(".review-answer").inner_text()
    assert "照片含第三人隐私，不予公开" in answer
    party.context.close()


def test_switching_language_keeps_the_typed_invoice_but_never_the_id_number(
    browser, live_app, base_url
):
    """The buyer has typed the VIN, the invoice number and the seller's ID number, then
    switches to English: the page comes back in English with what was typed, except the ID
    number, which no page sends back."""
    w = Factory(live_app).transfer_world()
    buyer = person(browser, base_url, w.buyer)
    buyer.goto(f"{base_url}/transfer/new")
    buyer.fill("#vin", w.vehicle.vin)
    buyer.fill("#invoice_no", "12345678")
    buyer.fill("#seller_resident_id", w.seller.resident_id)
    with buyer.expect_navigation():
        buyer.click("form.lang button[value=en]")
    assert buyer.locator("html[lang=en]").count() == 1
    assert buyer.input_value("#vin") == w.vehicle.vin
    assert buyer.input_value("#invoice_no") == "12345678"
    assert buyer.input_value("#seller_resident_id") == ""
    kept = buyer.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('jg-keep:'))")
    assert kept == []  # kept only for the switch
    buyer.context.close()


def test_back_or_reload_after_a_posted_question_never_posts_again(browser, live_app, base_url):
    """A clerk is asked before approving a name the record does not have (a page answering a
    post, drawn without htmx) and approves: Back to the question, or a reload of it, asks the
    address with GET, which leads to the queue, instead of the browser's resend warning."""
    make = Factory(live_app)
    citizen = make.citizen(real_name="郑晓燕")
    make.licence_record(citizen, name="郑晓燕")
    clerk = make.staff(LICENCE_CLERK)
    with live_app.app_context(), db.connection_context():
        from blueprints.licence import corrections

        asked = corrections.request_name_correction(citizen, new_name="郑晓艳")
    desk = person(browser, base_url, clerk, width=1280)
    desk.goto(f"{base_url}/licence/corrections")
    with desk.expect_navigation():
        desk.click(f"#decide-{asked.id} button[value=approve]")
    desk.locator("#confirm-box").wait_for()
    desk.reload()  # asked with GET: the queue, the request still waiting
    assert desk.url == f"{base_url}/licence/corrections"
    assert desk.locator(f"#correction-{asked.id}").count() == 1
    desk.go_back()  # the question's entry: GET as well, never a resend
    desk.wait_for_load_state()
    assert not desk.url.startswith("chrome-error")
    with db.connection_context():
        assert User.get_by_id(citizen.id).real_name == "郑晓燕"  # nothing approved by it
    desk.context.close()


def test_switching_language_while_registering_keeps_the_name_but_not_the_id_number(
    browser, live_app, base_url
):
    context = browser.new_context(viewport={"width": 360, "height": 720}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base_url}/register")
    page.fill("#real_name", "王小明")
    page.fill("#resident_id", "370203198503211038")
    page.fill("#mobile", "13812345678")
    page.fill("#password", "Lantern-Harbour-42")
    with page.expect_navigation():
        page.click("form.lang button[value=en]")
    assert page.locator("html[lang=en]").count() == 1
    assert page.input_value("#real_name") == "王小明"
    assert page.input_value("#mobile") == "13812345678"
    assert page.input_value("#resident_id") == "" and page.input_value("#password") == ""
    context.close()
