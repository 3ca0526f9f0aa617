"""The verifier's own links and structure: language links that never run a check
again, the verdict as the page's heading with a symbol, errors announced, an icon that exists,
and styles for dark mode and forced colours."""

from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup

from models import LicenceCheck

from .helpers import page
from .test_verify import code_at, qr_code_at, qr_url, verdict


def language_link(soup: BeautifulSoup):
    """The header's link to the other language (of the copy the page opens on)."""
    return soup.header.select("nav a")[-1]


def test_a_result_holds_both_languages_and_its_link_stays_in_the_page(client, make, conn):
    el = make.elicence()
    soup = page(client.get(qr_url(el, qr_code_at(el))))
    link = language_link(soup)
    assert link["href"] == "#en" and link.get_text() == "English"
    assert soup.select_one("#zh h1.verdict").get_text(strip=True) == "✓驾驶证有效"
    english = soup.select_one("#en")
    assert english["lang"] == "en" and "alt" in english["class"]
    assert english.select_one("h1.verdict").get_text(strip=True) == "✓Valid licence"
    assert el.record.name in english.get_text()
    # The English copy has its header in English, with links that stay in English and one
    # back to the Chinese copy.
    assert english.header.strong.get_text() == "Licence check"
    new_check, back = english.header.select("nav a")
    assert (new_check.get_text(), new_check["href"]) == ("New check", "/verify?hl=en")
    assert (back.get_text(), back["href"]) == ("中文", "#zh")
    another = english.find("a", string="Check another code")
    assert another["href"] == "/verify?hl=en"
    with conn():
        assert LicenceCheck.select().where(LicenceCheck.elicence == el.id).count() == 1


def test_in_english_the_link_leads_to_the_chinese_copy(client, make):
    el = make.elicence()
    soup = page(client.get(qr_url(el, qr_code_at(el)) + "?hl=en"))
    assert language_link(soup)["href"] == "#zh"
    assert soup.select_one("#zh")["lang"] == "zh-CN"
    assert soup.select_one("#en h1.verdict").get_text(strip=True) == "✓Valid licence"


def test_the_verdict_is_the_heading_with_a_symbol_for_every_tone(client, make):
    el = make.elicence()
    code = qr_code_at(el)
    client.get(qr_url(el, code))
    # A code used already judges nothing of the licence (a reload by a phone nobody is logged
    # in on, say): a question mark, not the red cross of a forged or revoked licence.
    used = page(client.get(qr_url(el, code)))
    heading = used.select_one("#zh h1")
    assert "verdict" in heading["class"] and "unknown" in heading["class"]
    assert heading.find("span", attrs={"aria-hidden": "true"}).get_text() == "?"
    assert "不代表驾驶证有问题" in used.select_one("#zh").get_text()
    assert not used.find(class_="verdict", attrs={"role": "status"})
    forged = page(client.get(qr_url(el, "A" * len(code))))
    heading = forged.select_one("#zh h1")
    assert "bad" in heading["class"]
    assert heading.find("span", attrs={"aria-hidden": "true"}).get_text() == "✗"


def test_a_truck_pass_result_has_its_own_header_and_heading(client, make):
    truck_pass = make.truck_pass()
    soup = page(client.get(f"/p/{truck_pass.handle}"))
    assert soup.header.strong.get_text() == "货车通行码核验"
    assert soup.select_one("#zh h1.verdict")
    assert language_link(soup)["href"] == "#en"
    # Its "New check" leads to the truck check, in each copy (not to the licence check).
    new_checks = [nav.select("a")[0]["href"] for nav in soup.select("header nav")]
    assert new_checks == ["/verify/truck", "/verify/truck?hl=en"]
    form = page(client.get("/verify/truck"))
    assert form.header.select("nav a")[0]["href"] == "/verify/truck"


def test_a_share_check_result_leads_with_its_verdict(client, make):
    soup = page(client.get("/verify/share?code=NOPE1234&last6=123456"))
    heading = soup.select_one("#zh h1")
    assert "verdict" in heading["class"]
    assert soup.select_one("#en h1.verdict")
    assert len(soup.find_all("form")) == 1  # the next check's form, once


def test_a_typed_check_missing_its_code_keeps_its_key_and_is_announced(client):
    response = client.get("/verify/check?key=ABCD1234&code=&hl=en")
    soup = page(response, status=400)
    alert = soup.find(attrs={"role": "alert"})
    assert alert.get_text() == "Enter both the licence key and the code."
    assert soup.find(id="code")["aria-invalid"] == "true"
    assert soup.find(id="key").get("aria-invalid") is None
    assert soup.find(id="key")["value"] == "ABCD1234"
    # The language link goes to the form, so it cannot send a check.
    href = language_link(soup)["href"]
    assert urlsplit(href).path == "/verify" and parse_qs(urlsplit(href).query) == {"hl": ["zh"]}
    # The typed form keeps the language it is written in.
    assert soup.find("input", attrs={"type": "hidden", "name": "hl"})["value"] == "en"


def test_a_wrong_plate_is_announced_at_its_field(client):
    soup = page(client.get("/verify/truck?plate=12&hl=en"), status=400)
    alert = soup.find(attrs={"role": "alert"})
    plate = soup.find(id="plate")
    assert plate["aria-invalid"] == "true" and plate["aria-describedby"] == alert["id"]
    assert urlsplit(language_link(soup)["href"]).path == "/verify/truck"
    assert soup.header.strong.get_text() == "Truck pass check"


def test_the_form_pages_switch_language_with_a_plain_link(client):
    for url in ("/verify", "/verify/share", "/verify/truck"):
        href = language_link(page(client.get(url)))["href"]
        assert href == f"{url}?hl=en"


def test_the_icon_exists_and_every_page_links_it(client, make):
    el = make.elicence()
    for url in ("/verify", qr_url(el, qr_code_at(el)), "/verify/truck"):
        icon = page(client.get(url)).find("link", rel="icon")
        assert client.get(icon["href"]).status_code == 200


def test_the_styles_cover_dark_mode_and_forced_colours(client):
    css = client.get("/static/css/verify.css").get_data(as_text=True)
    assert "@media(prefers-color-scheme:dark)" in css
    assert "@media(forced-colors:active)" in css
    assert "min-height:44px" in css


def test_forms_sent_empty_or_with_no_code_say_what_is_missing(client, make, conn):
    assert "请输入号牌号码" in page(client.get("/verify/truck?plate=&zone="), status=400).text
    assert page(client.get("/verify/truck")).find(attrs={"role": "alert"}) is None  # opened
    # What was asked stays on the form sent back: the plate, and the zone chosen.
    zone = make.zone()
    again = page(client.get(f"/verify/truck?plate=12&zone={zone.id}"), status=400)
    assert again.find(id="plate")["value"] == "12"
    assert again.find(id="zone").find("option", selected=True)["value"] == str(zone.id)
    share = page(client.get("/verify/share?code=AB12CD34&last6=&firm="), status=400)
    assert "请输入分享码和驾驶证号后 6 位" in share.find(attrs={"role": "alert"}).get_text()
    assert share.find(id="share-code")["value"] == "AB12CD34"  # kept, the empty one marked
    assert share.find(id="last6")["aria-invalid"] == "true"
    assert page(client.get("/verify/share")).find(attrs={"role": "alert"}) is None
    el = make.elicence()
    for code in ("12", "abc!ef", "1234567"):
        soup = page(client.get(f"/verify/check?key={el.typing_key}&code={code}"), status=400)
        assert "6 位数字" in soup.find(attrs={"role": "alert"}).get_text()
        assert soup.find(id="code")["aria-invalid"] == "true"
    with conn():  # not a code: no licence was looked up, nothing counted against it
        assert LicenceCheck.select().where(LicenceCheck.elicence == el.id).count() == 0
    # As the holder's page shows it, "123 456", the code is read as six digits.
    code = code_at(el)
    spaced = client.get(f"/verify/check?key={el.typing_key}&code={code[:3]}+{code[3:]}")
    assert verdict(spaced) == "valid"
    # Full-width digits (a Chinese input method's) are the same digits; used now, so "used".
    wide = code.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    assert verdict(client.get(f"/verify/check?key={el.typing_key}&code={wide}")) == "used-code"


def test_a_logged_in_inspector_has_a_way_back_to_work_from_the_checks(client, make, login):
    """The verifier's pages stand alone (no script, anyone may open them); a logged-in
    inspector still finds the way back to the workbench (and logging out) in their header,
    which nobody else is shown."""
    anonymous = page(client.get("/verify/truck"))
    assert not anonymous.find("a", href="/staff/")
    login(make.staff("police_inspector"))
    for url in ("/verify", "/verify/truck"):
        assert page(client.get(url)).select_one("header nav").find("a", href="/staff/")
