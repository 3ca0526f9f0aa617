"""One transfer across two running deployments in a real headless Chromium: Jinan's market
clerk invoices a Qingdao car, the buyer confirms at Jinan, the seller at Qingdao, Jinan's clerk
inspects, Qingdao's clerk sends the archive, Jinan's clerk registers the car; buyer and seller
each read the whole timeline on their own city's site."""

import datetime as dt
import re

import pyotp
import pytest

from models import MARKET_CLERK, Office, TransferCase
from tests.factories import Factory
from tests.helpers import wait_for
from tests.transfer_network import network_pair, seed

pytestmark = pytest.mark.browser


def person(browser, deployment, user):
    """A logged-in browser page of one person on their own city's deployment."""
    context = browser.new_context(viewport={"width": 1000, "height": 800}, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    base = deployment.url
    page.goto(f"{base}/login")
    page.fill("#account", user.username if user.is_staff else user.mobile)
    page.fill("#password", Factory.PASSWORD)
    page.click("#login-form button[type=submit]")
    if user.is_staff:
        page.wait_for_url(f"{base}/login/code")
        page.fill("#code", pyotp.TOTP(user.totp_secret).now())
        page.click("#code-form button[type=submit]")
        page.wait_for_url(f"{base}/staff/")
    else:
        page.wait_for_url(f"{base}/")
    return page


def test_a_transfer_across_two_deployments_in_the_browser(browser, tmp_path):
    qingdao, jinan = network_pair(tmp_path)
    try:
        walk(browser, qingdao, jinan)
    finally:
        qingdao.stop()
        jinan.stop()


def walk(browser, qingdao, jinan):
    [t] = seed(qingdao, jinan, 1)
    from tests.transfer_network import user

    make = Factory()
    with jinan.act():
        market = make.office(
            code="370100M1", kind="market", city="济南", city_en="Jinan", plate_prefix="鲁A"
        )
        market_clerk = make.staff(MARKET_CLERK, office=market)
        buyer, j_clerk = user(t.buyer_id), user(t.j_clerk_id)
        destination = Office.get(Office.code == "370100")
    with qingdao.act():
        seller, q_clerk = user(t.seller_id), user(t.q_clerk_id)

    # Jinan's market clerk invoices the Qingdao car (the origin is asked about it).
    clerk = person(browser, jinan, market_clerk)
    clerk.goto(f"{jinan.url}/transfer/market/new")
    clerk.fill("#vin", t.car.vin)
    clerk.fill("#plate", t.car.plate)
    clerk.fill("#seller_resident_id", t.seller_rid)
    clerk.fill("#buyer_name", buyer.real_name)
    clerk.fill("#buyer_resident_id", buyer.resident_id)
    clerk.fill("#invoice_no", "37010099")
    clerk.fill("#invoice_date", (dt.date.today() - dt.timedelta(days=1)).isoformat())
    clerk.fill("#price", "72000")
    clerk.select_option("#destination", str(destination.id))
    clerk.click("#case-form button[type=submit]")
    clerk.wait_for_url(re.compile(r".*/transfer/cases/\d+$"))
    case_url = clerk.url
    t.case_id = int(case_url.rsplit("/", 1)[1])

    # The buyer confirms at Jinan.
    b = person(browser, jinan, buyer)
    b.goto(case_url)
    b.click("#confirm-form button")
    b.locator("#confirm-box").wait_for()  # confirming commits the buyer: it asks first
    b.click("#confirm-form button")
    b.locator("#confirm-action").get_by_text("您已确认交易").wait_for()

    # The seller confirms at Qingdao, where they and the car are registered.
    s = person(browser, qingdao, seller)
    s.goto(f"{qingdao.url}/transfer/outgoing")
    number = f"ZY{t.case_id:06d}"
    wait_for(lambda: s.reload() or number in s.content(), what="the case at Qingdao")
    s.click(f"text={number}")
    s.click("#confirm-form button")
    s.locator("#confirm-box").wait_for()  # and the seller too
    s.click("#confirm-form button")
    s.locator("#confirm-action").get_by_text("您已确认交易").wait_for()

    def state():
        with jinan.act():
            return TransferCase.get_by_id(t.case_id).state

    wait_for(lambda: state() == "awaiting_inspection", what="the seller's confirmation")

    # Jinan's vehicle clerk inspects the car.
    jc = person(browser, jinan, j_clerk)
    jc.goto(case_url)
    jc.fill("#vin_read", t.car.vin)
    jc.fill("#plate_read", t.car.plate)
    jc.select_option("#result", "passed")
    jc.click("#inspection-form button[type=submit]")
    jc.locator("#case-panel .case-title").get_by_text("待转出地转递档案").wait_for()

    # Qingdao's vehicle clerk sends the archive.
    qc = person(browser, qingdao, q_clerk)
    out_url = s.url
    wait_for(lambda: qc.goto(out_url) and qc.locator("#send-form").count() == 1, what="request")
    qc.click("#send-form button")
    qc.locator("#confirm-box").wait_for()  # a sent archive cannot be called back: it asks first
    qc.click("#confirm-form button")
    qc.get_by_text("档案已转递").first.wait_for()
    wait_for(lambda: state() == "archive_received", what="the archive at Jinan")

    # Jinan's clerk registers the car under a Jinan plate.
    jc.goto(case_url)
    jc.click("#register-form button")
    jc.locator("#confirm-box").wait_for()  # registering cannot be undone: it asks first
    jc.click("#confirm-form button")
    jc.locator("#case-panel .case-title").get_by_text("已登记到买方名下").wait_for()

    # One timeline on each side, naming the city of each step.
    b.goto(case_url)
    timeline = b.locator(".timeline").inner_text()
    assert "青岛" in timeline and "济南" in timeline
    wait_for(lambda: s.goto(out_url) and "已转出" in s.locator("h1").inner_text(), what="notice")
    seller_timeline = s.locator(".timeline").inner_text()
    assert "青岛" in seller_timeline and "济南" in seller_timeline
    for page in (clerk, b, s, jc, qc):
        page.context.close()
