"""The vehicle transfer in a real headless Chromium: the whole path from invoice to new plate,
walked as the buyer, the seller and the clerks of both offices, on phone-sized screens, with
htmx acting in place and one party working with JavaScript off."""

import datetime as dt
import io
import re

import pytest
from PIL import Image

from models import TransferCase, Vehicle, VehicleRecord, db
from tests.browser.pages import no_horizontal_scroll
from tests.factories import Factory

pytestmark = pytest.mark.browser


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (40, 90, 160)).save(buffer, "PNG")
    return buffer.getvalue()


def person(browser, base_url, user, javascript=True, width=360):
    """A logged-in browser page of its own for one person."""
    context = browser.new_context(
        viewport={"width": width, "height": 720}, locale="zh-CN", java_script_enabled=javascript
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
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
    return page


def test_whole_transfer_path_in_the_browser(browser, live_app, base_url):
    w = Factory().transfer_world()
    buyer = person(browser, base_url, w.buyer)

    # The buyer opens the case from the invoice, on a phone.
    buyer.click("text=我的车辆与转移登记")
    buyer.click("text=外地二手车转入登记")
    assert no_horizontal_scroll(buyer)
    buyer.fill("#vin", w.vehicle.vin)
    buyer.fill("#plate", w.vehicle.plate)
    buyer.fill("#seller_resident_id", w.seller.resident_id)
    buyer.fill("#invoice_no", "37020021")
    buyer.fill("#invoice_date", (dt.date.today() - dt.timedelta(days=1)).isoformat())
    buyer.fill("#price", "86000")
    buyer.select_option("#destination", str(w.dest.id))
    buyer.click("#case-form button[type=submit]")
    buyer.wait_for_url(re.compile(r".*/transfer/cases/\d+$"))
    case_url = buyer.url
    case_id = int(case_url.rsplit("/", 1)[1])
    assert no_horizontal_scroll(buyer)
    # Confirming commits the buyer: it asks first, naming the plate, the price and the seller.
    buyer.click("#confirm-form button")
    buyer.locator("#confirm-box").wait_for()
    assert w.seller.real_name in buyer.locator("#confirm-box").inner_text()
    assert no_horizontal_scroll(buyer)
    buyer.click("#confirm-form button")
    buyer.locator("#confirm-action").get_by_text("您已确认交易").wait_for()
    assert buyer.url == case_url

    # The seller confirms with JavaScript off: real form posts and a redirect.
    seller = person(browser, base_url, w.seller, javascript=False)
    seller.goto(case_url)
    assert w.seller.resident_id not in seller.content()
    seller.click("#confirm-form button")
    seller.locator("#confirm-box").wait_for()
    seller.click("#confirm-form button")
    seller.wait_for_url(case_url)
    assert seller.locator("#no-withdrawal").is_visible()  # no way back now: whom to contact
    assert "待查验" in seller.locator(".case-title").inner_text()

    # This city's clerk works from the queue: the case opens and is inspected in place.
    clerk = person(browser, base_url, w.clerk)
    clerk.goto(f"{base_url}/transfer/office")
    assert no_horizontal_scroll(clerk)
    number = f"ZY{case_id:06d}"
    with clerk.expect_request(re.compile(rf".*/transfer/cases/{case_id}$")) as opened:
        clerk.click(f"#queue-rows >> text={number}")
    # A click inside the refreshing list is the clerk's own: not marked as a background refresh
    # (a server error then shows, rather than the click doing nothing).
    assert opened.value.headers.get("hx-request") == "true"
    assert "x-background-refresh" not in opened.value.headers
    clerk.locator("#inspection-form").wait_for()
    assert clerk.url.endswith("/transfer/office")
    clerk.fill("#vin_read", w.vehicle.vin)
    clerk.fill("#plate_read", w.vehicle.plate)
    clerk.select_option("#result", "passed")
    clerk.set_input_files(
        "#photos", files=[{"name": "front.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    clerk.click("#inspection-form button[type=submit]")
    clerk.locator("#case-panel .case-title").get_by_text("待转出地转递档案").wait_for()
    # The queue's rows refresh themselves: the case no longer needs this office's action.
    clerk.locator(f"#queue-rows >> text={number}").wait_for(state="detached")
    assert clerk.locator("#case-panel .photos img").count() == 1
    assert no_horizontal_scroll(clerk)

    # The origin office's clerk (Jinan) sends the archive.
    origin = person(browser, base_url, w.origin_clerk)
    origin.goto(f"{base_url}/transfer/archives")
    origin.click(f"#queue-rows >> text={number}")
    origin.locator("#send-archive-form").wait_for()
    origin.click("#send-archive-form button")
    origin.click("#confirm-form button")  # sending the archive is final: it asks first
    origin.locator("#case-panel .case-title").get_by_text("档案已接收，待办理登记").wait_for()
    assert no_horizontal_scroll(origin)

    # The buyer picks one of the few free plates offered.
    buyer.goto(case_url)
    buyer.check("#plate-0")
    chosen = buyer.locator("label[for=plate-0]").inner_text()
    buyer.click("#plate-form button[type=submit]")
    buyer.locator("#plate-action").get_by_text(f"您已选定 {chosen}").wait_for()

    # This city's clerk registers the vehicle to the buyer.
    clerk.goto(case_url)
    clerk.click("#register-form button")
    clerk.click("#confirm-form button")  # so is registering
    clerk.locator("#case-panel .case-title").get_by_text("已登记到买方名下").wait_for()

    # Each party has a confirmation; the seller is no longer the owner.
    seller.goto(case_url)
    assert seller.locator("#seller-confirmation").is_visible()
    seller.goto(f"{base_url}/transfer/")
    assert "您已不再是车主" in seller.content()
    buyer.goto(case_url)
    assert chosen in buyer.locator("#buyer-confirmation").inner_text()
    timeline = buyer.locator(".timeline > li")
    assert timeline.count() == 10
    assert "济南车管所" in buyer.locator(".timeline").inner_text()
    buyer.goto(f"{base_url}/transfer/")
    assert chosen in buyer.locator("table").first.inner_text()
    assert no_horizontal_scroll(buyer)

    with db.connection_context():
        case = TransferCase.get_by_id(case_id)
        vehicle = Vehicle.get_by_id(w.vehicle.id)
        assert case.state == "registered" and vehicle.owner_id == w.buyer.id
        assert vehicle.plate == case.new_plate and vehicle.plate.startswith("鲁B")
        assert vehicle.registration_office_id == w.dest.id
        assert VehicleRecord.get(VehicleRecord.kind == "transfer_out").office_id == w.origin.id
    for page in (buyer, seller, clerk, origin):
        page.context.close()
